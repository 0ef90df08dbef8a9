/*-------------------------------------------------------------------------
 *
 * token.c
 *	  The signed identity token that carries an identity to other nodes of a
 *	  Citus cluster (R25, R2, R3).
 *
 * Citus sends a coordinator's session state to its worker connections in
 * one way only: the SET LOCAL statements of a transaction block (with
 * citus.propagate_set_commands = 'local').  The identity itself
 * (tenancy.identity) cannot travel that way: only identity.c may write it.
 * So a node that holds an identity issues a token, a string any node can
 * verify and no role can forge:
 *
 *		v1.<user>/<compartment>/<account>/<lock>/<expiry>/<nonce>/<role>.<mac>
 *
 * lock is the hex SHA-256 of the identity's lock key or "-", expiry the
 * Unix time after which no node accepts it, nonce 8 random bytes in hex
 * (two tokens are never equal), role the name of the database role it is
 * issued to (by name: the nodes of a cluster give one role different
 * OIDs), and mac the hex HMAC-SHA256 of everything before the last dot, a
 * newline and the name of the database (a token is valid in the database
 * it was issued in only; Citus gives it the same name on every node),
 * keyed with the cluster secret: the contents of the file named by
 * tenancy.cluster_secret_file, the same on every node, readable only by
 * the server (like PostgreSQL's SSL key: owned by the server's user, no
 * group or other permission).  Without that setting no token is issued or
 * accepted, and a single node behaves as before.
 *
 * The token is the value of the setting tenancy.token, which any role may
 * set; its check hook accepts a value only
 *
 *	- inside a transaction block and outside any subtransaction (Citus
 *	  replays a transaction's top-level SET LOCALs before its savepoints,
 *	  and forgets those of a subtransaction at RELEASE);
 *	- with a valid signature (compared with timingsafe_bcmp), before its
 *	  expiry;
 *	- when the session has no identity of its own (a received token never
 *	  overrides act_as, so it cannot lift a lock, R5).
 *
 * A token issued to another role than the current one is taken, as the
 * empty value (so that parallel workers, which restore the value and not
 * this decision, take no identity either), and carries no identity (fail
 * closed, R2), without an error:
 * Citus sends every SET LOCAL of a block to every connection of that
 * block, also to the ones it opens as another role (the owner of a
 * SECURITY DEFINER function, the extension's owner for tenancy's own
 * catalog writes), and those must keep working without the identity.
 *
 * The empty value (RESET, SET LOCAL tenancy.token = '') is always
 * accepted: it only drops an identity.  An accepted token becomes the
 * session's identity for the rest of the transaction (identity.c asks
 * tenancy_token_received()), whether it was set with SET LOCAL or SET:
 * a transaction callback clears the setting before every commit (but not
 * the commit in which a parallel worker restores its leader's settings),
 * so no token outlives its transaction; the setting is GUC_NO_RESET_ALL
 * like tenancy.identity.  Once accepted, a received token is taken out of
 * the backend's pg_stat_activity text, where Citus's statements carry it.
 *
 * Issuing.  On a node where the Citus library is loaded, the citus
 * extension exists and a secret is configured, every identity that a
 * transaction block uses is given to the workers: act_as_local (and
 * act_as, reset) inside a block issue at once, a session-level act_as at
 * the first statement of each block (the ExecutorStart hook of session.c
 * calls tenancy_token_before_query), again when the role changed or half
 * of the token's life has passed; never for a statement run under a
 * changed user id (tenancy's elevated catalog queries, a SECURITY DEFINER
 * function), whose token Citus would also send to the application's
 * connections, and never to a role that is not a member of tenancy_app
 * (after SET ROLE to such a role, its worker connections act without an
 * identity: a token would let that role act as the user elsewhere).
 * Issuing runs SET LOCAL tenancy.token = '...' through SPI, so that
 * Citus's utility hook records it and sends it to the worker connections
 * already open and to those opened later; it first sets
 * citus.propagate_set_commands to 'local' for the transaction.  The node's own check hook accepts the token it issues
 * without the checks above (issuing is set around the SPI call): its
 * identity is the one in tenancy.identity already.
 *
 * A statement that reaches the workers (its plan has a Citus custom scan)
 * and reads or writes a protected Citus table (one in both
 * tenancy.protected_table and pg_dist_partition, named in the plan's range
 * table, which Citus keeps for the permission checks and which holds the
 * tables under a view too) outside a transaction block, under an identity
 * that is not carried by a token, is refused: Citus would run it on the
 * workers without the identity, and they would return no rows (R2) where
 * the user expects its rows.  A statement on unprotected distributed
 * tables only (a shared lookup table) runs: it needs no identity.  So
 * does a statement on a protected Citus table run as a bound reporting
 * login that is not the session's login (SET ROLE, SECURITY DEFINER): the
 * workers, to which Citus connects as the current role, would apply its
 * binding, which this node does not (R1, R14).
 *
 * check() asks secret_problems() whether every node of the cluster has the
 * same usable secret, comparing fingerprints (cluster_secret_state()).
 *
 * Replay.  A token is bound to its role and database and expires after
 * tenancy.token_lifetime seconds (60 by default); another role, and a
 * session whose login may not act as a user (not a member of tenancy_app)
 * that became the token's role, get no identity from it.  The same role can use it again until it expires, on
 * any node: that role is a
 * member of tenancy_app on the issuing node, which may act as any user
 * anyway (README, "Scale-out with Citus").
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/genam.h"
#include "access/parallel.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "common/cryptohash.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/plannodes.h"
#include "pgtime.h"
#include "storage/fd.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "tenancy.h"

#include "common/hmac.h"

#define TENANCY_TOKEN_GUC		"tenancy.token"
#define CITUS_PROPAGATE_GUC		"citus.propagate_set_commands"
#define TOKEN_PREFIX			"v1."
#define TOKEN_NONCE_BYTES		8
#define TOKEN_LOCKED			"locked"	/* never the key's hash (see verify) */
#define TOKEN_STATEMENT_TEXT	"<statement under a tenancy token>"
#define TOKEN_MAX_LENGTH		TENANCY_TOKEN_MAX_LENGTH
#define SECRET_MIN_LENGTH		32
#define SECRET_MAX_LENGTH		1024
#define FINGERPRINT_PREFIX		"fingerprint "
#define SECRET_HINT \
	"Set \"tenancy.cluster_secret_file\" on every node to a file with the same secret of at least 32 bytes, owned by the server's operating system user with mode 0600."

/* the parsed value of tenancy.token: its GUC "extra" */
typedef struct TenancyTokenState
{
	TenancyIdentity identity;	/* user_id == 0: no token */
	bool		issued_here;	/* by this backend, for its own identity */
	Oid			role;			/* the role it was accepted for */
	int64		expires;		/* Unix time */
} TenancyTokenState;

/* the cluster secret, as last read, and what the file looked like */
typedef struct TenancySecret
{
	bool		valid;
	char		path[MAXPGPATH];
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	time_t		mtime;
	int			length;
	uint8		key[SECRET_MAX_LENGTH];
} TenancySecret;

static char *secret_file_setting = NULL;
static int	token_lifetime = 60;
static char *token_setting = NULL;
static TenancyTokenState current_token;
static TenancySecret secret;
static bool issuing = false;
static TenancyTokenListener token_listener = NULL;
static LocalTransactionId citus_checked_lxid = InvalidLocalTransactionId;
static bool citus_present = false;

static bool citus_library_loaded(void);
static bool check_token(char **newval, void **extra, GucSource source);
static void redact_activity(const char *value);
static void assign_token(const char *newval, void *extra);
static bool load_secret(const char **why);
static void sign(const char *data, size_t len, bool in_database, char *hex);
static bool verify(const char *value, TenancyTokenState *state,
				   int *errcode, const char **msg, const char **detail);
static bool tokens_configured(void);
static bool reaches_workers(Plan *plan);
static bool plan_reaches_workers(PlannedStmt *stmt);
static bool bound_other_login(Oid role);
static void require_own_binding(PlannedStmt *stmt);
static bool touches_protected_citus_table(List *rtable);
static void issue(const TenancyIdentity *ident);
static void require_top_level(void);
static void token_xact_callback(XactEvent event, void *arg);

/*
 * tenancy_token_init: define the settings (called from _PG_init before the
 * prefix is reserved, so that values read from postgresql.conf before the
 * library was loaded are kept)
 */
void
tenancy_token_init(void)
{
	memset(&current_token, 0, sizeof(current_token));
	memset(&secret, 0, sizeof(secret));

	/*
	 * Superuser-only: whoever names the secret file decides which tokens
	 * this node accepts.  Set in postgresql.conf on every node.
	 */
	DefineCustomStringVariable("tenancy.cluster_secret_file",
							   "File holding the cluster secret that signs and verifies tenancy tokens (empty: no tokens).",
							   "The file must be owned by the server's operating system user, with no group or other permissions, and hold at least 32 bytes.",
							   &secret_file_setting,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);

	/*
	 * Superuser-only: a longer life makes a leaked token usable for longer
	 * by its own role.  Read by the issuing node only.
	 */
	DefineCustomIntVariable("tenancy.token_lifetime",
							"How long a tenancy token issued by this node stays valid.",
							"A transaction that opens a worker connection later than this after its token was issued fails.",
							&token_lifetime,
							60, 1, 86400,
							PGC_SUSET,
							GUC_UNIT_S | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);

	/*
	 * Any role may set it (Citus sends it as the connecting role); the
	 * check hook accepts only a token that verifies.  Never read from a
	 * file, hidden from SHOW ALL, untouched by RESET ALL.
	 */
	DefineCustomStringVariable(TENANCY_TOKEN_GUC,
							   "A signed tenancy identity, set by the coordinator of a Citus cluster for the current transaction.",
							   NULL,
							   &token_setting,
							   "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE |
							   GUC_NO_RESET_ALL | GUC_DISALLOW_IN_FILE |
							   GUC_DISALLOW_IN_AUTO_FILE,
							   check_token,
							   assign_token,
							   NULL);

	RegisterXactCallback(token_xact_callback, NULL);
}

/*
 * tenancy_token_listen: have listener called with the received identity
 * (NULL: none) whenever tenancy.token changes value; it runs inside commit
 * and abort too, and may only take note
 */
void
tenancy_token_listen(TenancyTokenListener listener)
{
	token_listener = listener;
}

/*
 * tenancy_token_received: the identity carried by a token that this
 * backend received (not one it issued), or NULL
 */
const TenancyIdentity *
tenancy_token_received(void)
{
	if (current_token.identity.user_id == 0 || current_token.issued_here)
		return NULL;
	return &current_token.identity;
}

/* ----------------------------------------------------------------
 * The secret and the signature
 * ----------------------------------------------------------------
 */

/*
 * load_secret: read the cluster secret, again when the file changed.  On
 * failure *why is a sentence for the client that does not name the file
 * (the server log gets the path).
 */
static bool
load_secret(const char **why)
{
	struct stat st;
	int			fd;
	char		buf[SECRET_MAX_LENGTH + 1];
	ssize_t		len;

	if (secret_file_setting == NULL || secret_file_setting[0] == '\0')
	{
		*why = "Setting \"tenancy.cluster_secret_file\" is empty on this node.";
		return false;
	}
	if (stat(secret_file_setting, &st) != 0)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not stat tenancy cluster secret file \"%s\": %m",
						secret_file_setting)));
		*why = "The cluster secret file cannot be read.";
		secret.valid = false;
		return false;
	}
	if (secret.valid && strcmp(secret.path, secret_file_setting) == 0 &&
		secret.dev == st.st_dev && secret.ino == st.st_ino &&
		secret.size == st.st_size && secret.mtime == st.st_mtime)
		return true;

	secret.valid = false;
	if (!S_ISREG(st.st_mode))
		*why = "The cluster secret file is not a regular file.";
	else if (st.st_uid != geteuid())
		*why = "The cluster secret file is not owned by the database server's operating system user.";
	else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		*why = "The cluster secret file has group or other permissions: it must be u=rw (0600) or less.";
	else
		*why = NULL;
	if (*why != NULL)
	{
		ereport(LOG,
				(errmsg("tenancy cluster secret file \"%s\" is not usable", secret_file_setting),
				 errdetail_internal("%s", *why)));
		return false;
	}

	fd = OpenTransientFile(secret_file_setting, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not open tenancy cluster secret file \"%s\": %m",
						secret_file_setting)));
		*why = "The cluster secret file cannot be read.";
		return false;
	}
	len = read(fd, buf, sizeof(buf));
	CloseTransientFile(fd);
	/* one trailing newline (echo, openssl rand -hex) is not part of it */
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len < SECRET_MIN_LENGTH || len > SECRET_MAX_LENGTH)
	{
		explicit_bzero(buf, sizeof(buf));
		*why = "The cluster secret file must hold between 32 and 1024 bytes.";
		return false;
	}
	memcpy(secret.key, buf, len);
	explicit_bzero(buf, sizeof(buf));
	secret.length = (int) len;
	strlcpy(secret.path, secret_file_setting, sizeof(secret.path));
	secret.dev = st.st_dev;
	secret.ino = st.st_ino;
	secret.size = st.st_size;
	secret.mtime = st.st_mtime;
	secret.valid = true;
	return true;
}

/*
 * hex HMAC-SHA256 of data with the loaded secret, into hex[65]; a token's
 * (in_database) is bound to the current database: the data is followed by
 * a newline and its name, which Citus keeps the same on every node
 */
static void
sign(const char *data, size_t len, bool in_database, char *hex)
{
	uint8		mac[PG_SHA256_DIGEST_LENGTH];
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
	char	   *database = in_database ? get_database_name(MyDatabaseId) : NULL;

	if (in_database && database == NULL)
		elog(ERROR, "cache lookup failed for database %u", MyDatabaseId);
	if (ctx == NULL ||
		pg_hmac_init(ctx, secret.key, secret.length) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) data, len) < 0 ||
		(in_database &&
		 (pg_hmac_update(ctx, (const uint8 *) "\n", 1) < 0 ||
		  pg_hmac_update(ctx, (const uint8 *) database, strlen(database)) < 0)) ||
		pg_hmac_final(ctx, mac, sizeof(mac)) < 0)
	{
		pg_hmac_free(ctx);
		elog(ERROR, "could not compute the HMAC of a tenancy token");
	}
	pg_hmac_free(ctx);
	hex[hex_encode((const char *) mac, sizeof(mac), hex)] = '\0';
}

/*
 * verify: check value's form and signature and parse it into state.  On
 * failure, *errcode, *msg and *detail say why, naming nothing the token
 * carries (its user, compartment or role).
 */
static bool
verify(const char *value, TenancyTokenState *state, int *errcode,
	   const char **msg, const char **detail)
{
	const char *dot = strrchr(value, '.');
	char		mac[PG_SHA256_DIGEST_LENGTH * 2 + 1];
	const char *why;
	long long	uid,
				cid,
				aid,
				expires;
	char		lock[PG_SHA256_DIGEST_STRING_LENGTH];
	char		role[NAMEDATALEN];
	int			role_at = 0;

	*errcode = ERRCODE_INVALID_PARAMETER_VALUE;
	*msg = "malformed tenancy token";
	*detail = "A token is issued by tenancy on a node of the cluster and is set unchanged.";
	if (strlen(value) > TOKEN_MAX_LENGTH ||
		strncmp(value, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0 ||
		dot == NULL || strlen(dot + 1) != PG_SHA256_DIGEST_LENGTH * 2 ||
		strspn(dot + 1, "0123456789abcdef") != PG_SHA256_DIGEST_LENGTH * 2)
		return false;

	if (!load_secret(&why))
	{
		*errcode = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
		*msg = "tenancy tokens are not accepted on this node";
		*detail = why;
		return false;
	}
	sign(value, dot - value, true, mac);
	if (timingsafe_bcmp(mac, dot + 1, sizeof(mac) - 1) != 0)
	{
		*errcode = ERRCODE_INSUFFICIENT_PRIVILEGE;
		*msg = "tenancy token is not valid";
		*detail = "Its signature does not match the cluster secret of this node and the current database.";
		return false;
	}

	/* authentic: its payload was written by issue() on a node of the cluster */
	if (sscanf(value + strlen(TOKEN_PREFIX), "%lld/%lld/%lld/%64[^/]/%lld/%*16[0-9a-f]/%n",
			   &uid, &cid, &aid, lock, &expires, &role_at) != 5 ||
		role_at == 0 || uid <= 0 || cid <= 0 || aid <= 0)
		return false;

	memset(state, 0, sizeof(*state));
	state->identity.user_id = uid;
	state->identity.compartment_id = cid;
	state->identity.account_id = aid;
	state->identity.local = true;
	/*
	 * Locked or not; no key.  A worker never needs the key (act_as and
	 * reset are refused under a token), and the token is readable by the
	 * session it is issued to: a hash of the key there could be tried
	 * offline by a statement injected into the locked session (1.3
	 * attack).  A token of before 1.3's last change, with the hash, is
	 * read the same way.
	 */
	state->identity.locked = strcmp(lock, "-") != 0;
	state->expires = expires;
	if ((pg_time_t) expires <= timestamptz_to_time_t(GetCurrentTimestamp()))
	{
		*errcode = ERRCODE_INSUFFICIENT_PRIVILEGE;
		*msg = "tenancy token has expired";
		*detail = "A token is valid for \"tenancy.token_lifetime\" seconds after the coordinator issued it.";
		return false;
	}
	/* the role's name runs from role_at up to the last dot */
	role_at += strlen(TOKEN_PREFIX);
	if (dot - value - role_at <= 0 || dot - value - role_at >= NAMEDATALEN)
		return false;
	memcpy(role, value + role_at, dot - value - role_at);
	role[dot - value - role_at] = '\0';
	state->role = get_role_oid(role, true);
	return true;
}

/* ----------------------------------------------------------------
 * The setting tenancy.token
 * ----------------------------------------------------------------
 */

static bool
check_token(char **newval, void **extra, GucSource source)
{
	TenancyTokenState state;
	TenancyTokenState *parsed;
	const char *value = *newval ? *newval : "";
	int			code;
	const char *msg;
	const char *detail;
	const char *identity;

	memset(&state, 0, sizeof(state));
	if (value[0] != '\0' && !InitializingParallelWorker)
	{
		if (source != PGC_S_SESSION)
		{
			GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
			GUC_check_errmsg("tenancy token can only be set inside the transaction it is for");
			GUC_check_errdetail("A token is never a default of a role, a database, a function or a connection.");
			GUC_check_errhint("Run SET LOCAL tenancy.token inside BEGIN ... COMMIT.");
			return false;
		}
		if (!IsTransactionBlock())
		{
			GUC_check_errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
			GUC_check_errmsg("tenancy token can only be set inside a transaction block");
			GUC_check_errdetail("A token carries an identity for one transaction.");
			GUC_check_errhint("Run it inside BEGIN ... COMMIT.");
			return false;
		}
		if (GetCurrentTransactionNestLevel() > 1)
		{
			GUC_check_errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
			GUC_check_errmsg("tenancy token cannot be set inside a subtransaction");
			GUC_check_errdetail("Citus forgets a setting made inside a subtransaction when the savepoint is released, and the nodes would then act as different users.");
			GUC_check_errhint("Set it before the first SAVEPOINT of the transaction.");
			return false;
		}
		if (!verify(value, &state, &code, &msg, &detail))
		{
			GUC_check_errcode(code);
			GUC_check_errmsg("%s", msg);
			GUC_check_errdetail("%s", detail);
			return false;
		}
		if (!issuing)
			redact_activity(value);
		if (issuing)
			state.issued_here = true;
		else if (state.role != GetUserId() ||
				 !tenancy_catalog_has_role(GetSessionUserId(), TENANCY_APP_ROLE))
		{
			char	   *empty;

			/*
			 * Issued to another role: no identity for this one.  Not an
			 * error: Citus sends every SET LOCAL of a block to every
			 * connection of the block, also to those it opens as another
			 * role (a SECURITY DEFINER function's owner, tenancy's own
			 * catalog writes as the extension's owner).  The value becomes
			 * empty, so that the parallel workers, which get the value and
			 * not this decision, take no identity either.  Likewise when
			 * the session's login is not a member of tenancy_app, as
			 * act_as asks of both the current role and the login
			 * (identity.c, require_app_role): a login that may not act as
			 * a user (a plain or reporting login, a member that does not
			 * inherit tenancy_app) and reached the token's role by SET
			 * ROLE or through a SECURITY DEFINER function of that role
			 * gets no identity from its token; a worker's connection logs
			 * in as the token's role.
			 */
			empty = (char *) TENANCY_GUC_MALLOC(1);
			if (empty == NULL)
				return false;
			empty[0] = '\0';
			TENANCY_GUC_FREE(*newval);
			*newval = empty;
			memset(&state, 0, sizeof(state));
		}
		else
		{
			identity = GetConfigOption("tenancy.identity", true, false);
			if (identity != NULL && identity[0] != '\0')
			{
				GUC_check_errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
				GUC_check_errmsg("cannot set a tenancy token while the session acts as a user");
				GUC_check_errdetail("A token never replaces an identity set by tenancy.act_as() or tenancy.act_as_local().");
				GUC_check_errhint("Set the token in a session without an identity.");
				return false;
			}
		}
	}
	else if (value[0] != '\0')
	{
		/*
		 * A parallel worker restoring its leader's value, accepted there
		 * for the leader's role (a token of another role is empty there).
		 * It may have expired since: the leader's transaction goes on.
		 */
		if (!verify(value, &state, &code, &msg, &detail) && state.identity.user_id == 0)
			return false;
		state.issued_here = current_token.issued_here;
	}

	parsed = (TenancyTokenState *) TENANCY_GUC_MALLOC(sizeof(TenancyTokenState));
	if (parsed == NULL)
		return false;
	*parsed = state;
	*extra = parsed;
	return true;
}

/*
 * tenancy_token_hide_statement: under a received token, replace this
 * backend's statement text in pg_stat_activity, at the first look of the
 * parser's and the executor's hooks at each statement.  Citus writes a
 * request's parameters into the shard queries as literals: on a worker
 * every request's values stood in pg_stat_activity for every session of
 * the role, whatever firm it serves, and for code that reads it where the
 * planner hook's refusal cannot see the call (a CHECK constraint, a
 * domain, an aggregate's final function) (1.3 attack).  The statement is
 * in the coordinator's pg_stat_activity, with its parameters as $n.
 */
void
tenancy_token_hide_statement(void)
{
	if (tenancy_token_received() == NULL || MyBEEntry == NULL ||
		!pgstat_track_activities)
		return;
	/* once a statement: this backend is the only writer of its own entry */
	if (strcmp((const char *) MyBEEntry->st_activity_raw, TOKEN_STATEMENT_TEXT) == 0)
		return;
	pgstat_report_activity(STATE_RUNNING, TOKEN_STATEMENT_TEXT);
}

/*
 * redact_activity: take a received token out of this backend's query text
 * in pg_stat_activity.  Citus sends it inside the text of its statements
 * ("SET LOCAL tenancy.token = '...'"), which every session of the same
 * role may read there and replay until it expires.  A text cut short by
 * track_activity_query_size loses the token's visible beginning too.
 */
static void
redact_activity(const char *value)
{
	volatile PgBackendStatus *entry = MyBEEntry;
	size_t		prefix = strlen(TOKEN_PREFIX);
	size_t		vlen = strlen(value);
	char	   *text;
	const char *p;
	StringInfoData redacted;
	bool		changed = false;

	if (entry == NULL || !pgstat_track_activities)
		return;
	/* this backend is the only writer of its own entry */
	text = pnstrdup((const char *) entry->st_activity_raw,
					pgstat_track_activity_query_size - 1);
	initStringInfo(&redacted);
	for (p = text; *p != '\0';)
	{
		size_t		m = 0;

		while (m < vlen && p[m] != '\0' && p[m] == value[m])
			m++;
		if (m > prefix && (m == vlen || p[m] == '\0'))
		{
			appendStringInfoString(&redacted, "...");
			p += m;
			changed = true;
		}
		else
			appendStringInfoChar(&redacted, *p++);
	}
	if (changed)
		pgstat_report_activity(STATE_RUNNING, redacted.data);
	pfree(redacted.data);
	pfree(text);
}

static void
assign_token(const char *newval, void *extra)
{
	if (extra != NULL)
		current_token = *(TenancyTokenState *) extra;
	else
		memset(&current_token, 0, sizeof(current_token));
	if (token_listener != NULL)
		token_listener(tenancy_token_received());
}

/*
 * token_xact_callback: no token outlives its transaction, even one set
 * with SET rather than SET LOCAL
 */
static void
token_xact_callback(XactEvent event, void *arg)
{
	/*
	 * A parallel worker restores its leader's settings inside a
	 * transaction of its own, committed before it runs the leader's plan.
	 */
	if ((event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE) &&
		!InitializingParallelWorker &&
		token_setting != NULL && token_setting[0] != '\0')
		(void) set_config_option(TENANCY_TOKEN_GUC, "", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SET, true, ERROR, false);
}

/* ----------------------------------------------------------------
 * Issuing
 * ----------------------------------------------------------------
 */

/*
 * citus_library_loaded: is Citus's library loaded (its settings exist)?
 * Citus loads only from shared_preload_libraries, so a backend's first look
 * holds for its life, and the name is looked up once, not at every
 * statement (a placeholder a session sets later is not Citus).
 */
static bool
citus_library_loaded(void)
{
	static int	loaded = -1;

	if (loaded < 0)
		loaded = GetConfigOption(CITUS_PROPAGATE_GUC, true, false) != NULL;
	return loaded != 0;
}

/*
 * tokens_configured: does this node give its identities to Citus workers?
 * The Citus library is loaded (its settings exist), the extension exists in
 * this database (looked up once per transaction), a secret is set.
 */
static bool
tokens_configured(void)
{
	if (secret_file_setting == NULL || secret_file_setting[0] == '\0' ||
		!citus_library_loaded() || !IsTransactionState())
		return false;
	if (citus_checked_lxid != TENANCY_MY_LXID)
	{
		citus_present = OidIsValid(get_extension_oid("citus", true));
		citus_checked_lxid = TENANCY_MY_LXID;
	}
	return citus_present;
}

/*
 * tenancy_token_make: a token for ident, issued to the current role, into
 * buf[TOKEN_MAX_LENGTH + 1]
 */
void
tenancy_token_make(const TenancyIdentity *ident, char *buf)
{
	uint8		nonce[TOKEN_NONCE_BYTES];
	char		nonce_hex[TOKEN_NONCE_BYTES * 2 + 1];
	char		mac[PG_SHA256_DIGEST_LENGTH * 2 + 1];
	const char *why;
	int			len;

	if (!load_secret(&why))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("tenancy tokens are not issued on this node"),
				 errdetail("%s", why),
				 errhint("A superuser sets \"tenancy.cluster_secret_file\" to a file only the server can read, the same on every node.")));
	if (!pg_strong_random(nonce, sizeof(nonce)))
		elog(ERROR, "could not generate a random nonce");
	nonce_hex[hex_encode((const char *) nonce, sizeof(nonce), nonce_hex)] = '\0';
	len = snprintf(buf, TOKEN_MAX_LENGTH + 1, TOKEN_PREFIX "%lld/%lld/%lld/%s/%lld/%s/%s",
				   (long long) ident->user_id, (long long) ident->compartment_id,
				   (long long) ident->account_id,
				   ident->locked ? TOKEN_LOCKED : "-",
				   (long long) (timestamptz_to_time_t(GetCurrentTimestamp()) + token_lifetime),
				   nonce_hex, GetUserNameFromId(GetUserId(), false));
	sign(buf, len, true, mac);
	if (len + 1 + strlen(mac) > TOKEN_MAX_LENGTH)
		elog(ERROR, "tenancy token too long");
	snprintf(buf + len, TOKEN_MAX_LENGTH + 1 - len, ".%s", mac);
}

/*
 * issue: SET LOCAL tenancy.token to a token for ident (or to '' when ident
 * is NULL), through SPI so that Citus sends it to the workers
 */
static void
issue(const TenancyIdentity *ident)
{
	char		token[TOKEN_MAX_LENGTH + 1];
	const char *propagate = GetConfigOption(CITUS_PROPAGATE_GUC, true, false);
	char	   *sql;

	/*
	 * A role that may not act as users gets no token: after SET ROLE to
	 * such a role its worker connections act without an identity (R3).
	 */
	if (ident != NULL && !tenancy_catalog_has_role(GetUserId(), TENANCY_APP_ROLE))
		return;
	if (ident != NULL)
		tenancy_token_make(ident, token);
	else
		token[0] = '\0';
	if (propagate != NULL && strcmp(propagate, "local") != 0)
		(void) set_config_option(CITUS_PROPAGATE_GUC, "local", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, ERROR,
								 false);
	sql = psprintf("SET LOCAL " TENANCY_TOKEN_GUC " = %s", quote_literal_cstr(token));
	SPI_connect();
	issuing = true;
	PG_TRY();
	{
		if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not set tenancy.token");
	}
	PG_FINALLY();
	{
		issuing = false;
	}
	PG_END_TRY();
	SPI_finish();
	explicit_bzero(token, sizeof(token));
}

/* can an identity change of this backend be given to the workers? */
static void
require_top_level(void)
{
	if (GetCurrentTransactionNestLevel() > 1)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("cannot change the tenancy identity inside a subtransaction on a Citus node"),
				 errdetail("Citus forgets what a subtransaction sent to the workers when the savepoint is released, and the nodes would then act as different users."),
				 errhint("Change the identity before the first SAVEPOINT of the transaction, or outside the function's EXCEPTION block.")));
}

/*
 * tenancy_token_check_change: refuse a change of identity that the workers
 * could not follow (called by identity.c before it writes the identity)
 */
void
tenancy_token_check_change(void)
{
	if (IsTransactionBlock() && tokens_configured())
		require_top_level();
}

/*
 * tenancy_token_follow: give the identity just written (user_id 0: none)
 * to the workers, when this node gives identities to workers and the
 * transaction block can carry it
 */
void
tenancy_token_follow(const TenancyIdentity *ident)
{
	if (!IsTransactionBlock() || !tokens_configured())
		return;
	if (ident->user_id != 0)
		issue(ident);
	else if (current_token.identity.user_id != 0 && current_token.issued_here)
		issue(NULL);
}

/*
 * does a plan (or one of its subplans) run a Citus distributed scan?  Citus
 * names its scans "Citus Adaptive", "Citus INSERT ... SELECT", "Citus
 * MERGE INTO ..." (and "Citus Delayed Error", which reaches no node).
 */
static bool
reaches_workers(Plan *plan)
{
	if (plan == NULL)
		return false;
	if (IsA(plan, CustomScan))
	{
		const char *name = ((CustomScan *) plan)->methods->CustomName;

		if (strncmp(name, "Citus ", 6) == 0 &&
			strcmp(name, "Citus Delayed Error") != 0)
			return true;
	}
	return reaches_workers(plan->lefttree) || reaches_workers(plan->righttree);
}

/* does a planned statement run a Citus distributed scan anywhere? */
static bool
plan_reaches_workers(PlannedStmt *stmt)
{
	ListCell   *lc;

	if (reaches_workers(stmt->planTree))
		return true;
	foreach(lc, stmt->subplans)
		if (reaches_workers((Plan *) lfirst(lc)))
			return true;
	return false;
}

/*
 * bound_other_login: is role, the current one, a bound reporting login
 * that is not the session's login?
 */
static bool
bound_other_login(Oid role)
{
	return role != GetSessionUserId() && tenancy_probe_available() &&
		tenancy_probe_binding(role) != 0;
}

/*
 * require_own_binding: refuse a statement on a protected Citus table run
 * as a reporting login that is not the session's login (after SET ROLE,
 * or in a SECURITY DEFINER function it owns).  This node applies a
 * binding to the session's login only (R1, R14), but Citus connects to
 * the workers as the current role, which is their session's login: they
 * would apply its binding.
 */
static void
require_own_binding(PlannedStmt *stmt)
{
	Oid			role = GetUserId();

	if (role == GetSessionUserId() || !plan_reaches_workers(stmt) ||
		!touches_protected_citus_table(stmt->rtable) ||
		!bound_other_login(role))
		return;
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("permission denied to read protected distributed tables as reporting login \"%s\"",
					GetUserNameFromId(role, false)),
			 errdetail("The session's login is \"%s\": a binding applies only to the login itself, but the workers would apply it to this role.",
					   GetUserNameFromId(GetSessionUserId(), false)),
			 errhint("Connect as the reporting login itself.")));
}

/*
 * touches_protected_citus_table: does a plan's range table name a table
 * that tenancy protects and Citus distributes?  Citus keeps the original
 * range table in its plans (for the permission checks), and the range
 * table of a planned statement holds the relations of its views and
 * subqueries too.  Asked of the walls too (tenancy_ddl_is_protected): on
 * a worker the registry of protected tables is empty, and a login that
 * became a bound reporting login by SET ROLE read the login's scope
 * through the distributed table there (1.3 attack).
 */
static bool
touches_protected_citus_table(List *rtable)
{
	Oid			nsp = tenancy_catalog_namespace();
	ListCell   *lc;

	if (!OidIsValid(nsp))
		return false;
	foreach(lc, rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_RELATION &&
			(rte->relkind == RELKIND_RELATION ||
			 rte->relkind == RELKIND_PARTITIONED_TABLE) &&
			tenancy_distribute_is_citus_table(rte->relid) &&
			tenancy_ddl_is_protected(rte->relid))
			return true;
	}
	return false;
}

/*
 * tenancy_token_before_query: at the start of every statement (the
 * ExecutorStart hook of session.c), give the workers the identity ident of
 * a session-level act_as once per transaction block (again after a change
 * of role, or when half of the token's life has passed), and refuse a
 * statement on a protected distributed table that would reach the workers
 * without it.
 */
void
tenancy_token_before_query(const TenancyIdentity *ident, PlannedStmt *stmt)
{
	bool		current;
	bool		reaches;

	if (!citus_library_loaded() || IsParallelWorker() || !IsTransactionState())
		return;
	require_own_binding(stmt);

	if (secret_file_setting == NULL || secret_file_setting[0] == '\0' ||
		ident->user_id == 0 || tenancy_token_received() != NULL ||
		InLocalUserIdChange() || InSecurityRestrictedOperation() ||
		!tokens_configured())
		return;

	current = current_token.issued_here &&
		current_token.identity.user_id == ident->user_id &&
		current_token.identity.compartment_id == ident->compartment_id &&
		current_token.identity.locked == ident->locked &&
		current_token.role == GetUserId() &&
		current_token.expires - token_lifetime / 2 >
		timestamptz_to_time_t(GetCurrentTimestamp());
	if (current)
		return;

	reaches = plan_reaches_workers(stmt);

	if (!IsTransactionBlock())
	{
		if (reaches && touches_protected_citus_table(stmt->rtable))
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_BAD_STATE),
					 errmsg("a statement on protected distributed tables needs a transaction block to carry the tenancy identity"),
					 errdetail("Citus gives the workers the identity only inside a transaction block; outside, they would see no rows."),
					 errhint("Run it inside BEGIN ... COMMIT.")));
		return;
	}
	if (GetCurrentTransactionNestLevel() > 1)
	{
		if (reaches)
			require_top_level();
		return;
	}
	issue(ident);
}

/* ----------------------------------------------------------------
 * check(): the cluster secret of a coordinator and its workers
 * ----------------------------------------------------------------
 */

/*
 * cluster_secret_state() RETURNS text (and secret_state): "fingerprint <hex>" when this node
 * has a usable cluster secret, else the sentence saying why not.  The
 * fingerprint is the first 64 bits of the HMAC of a fixed text that no
 * token signs (tokens start with "v1."): equal fingerprints mean equal
 * secrets, and it reveals nothing of the secret or of any token's MAC.
 */
static char *
secret_state(void)
{
	static const char label[] = "tenancy cluster secret fingerprint";
	char		mac[PG_SHA256_DIGEST_LENGTH * 2 + 1];
	const char *why;

	if (!load_secret(&why))
		return pstrdup(why);
	sign(label, strlen(label), false, mac);
	mac[16] = '\0';
	return psprintf(FINGERPRINT_PREFIX "%s", mac);
}

PG_FUNCTION_INFO_V1(tenancy_cluster_secret_state);
Datum
tenancy_cluster_secret_state(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(secret_state()));
}

/* one row of secret_problems() */
static void
secret_problem(ReturnSetInfo *rsinfo, const char *object, const char *problem,
			   const char *hint)
{
	Datum		row[3];
	bool		nulls[3] = {false, false, false};

	row[0] = CStringGetTextDatum(object);
	row[1] = CStringGetTextDatum(problem);
	row[2] = CStringGetTextDatum(hint);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
}

/*
 * secret_problems() RETURNS TABLE (object text, problem text, hint text):
 * for check() on a Citus coordinator with distributed protected tables,
 * a coordinator or a worker without a usable cluster secret (the workers
 * then act without an identity: every protected query returns no rows)
 * and a worker whose secret differs from the coordinator's (it refuses
 * every token).  Compares fingerprints (cluster_secret_state), never the
 * secret; nothing without Citus.
 */
PG_FUNCTION_INFO_V1(tenancy_secret_problems);
Datum
tenancy_secret_problems(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *own_state;
	bool		own_usable;
	bool		isnull;
	uint64		i;

	InitMaterializedSRF(fcinfo, 0);
	if (!OidIsValid(get_extension_oid("citus", true)))
		return (Datum) 0;

	SPI_connect();
	if (SPI_execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p"
					"  JOIN tenancy.protected_table t ON t.relid = p.logicalrelid)"
					" AND (SELECT groupid = 0 FROM pg_catalog.pg_dist_local_group)",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "lookup of distributed protected tables failed");
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) ||
		isnull)
	{
		SPI_finish();
		return (Datum) 0;
	}

	own_state = secret_state();
	own_usable = strncmp(own_state, FINGERPRINT_PREFIX, strlen(FINGERPRINT_PREFIX)) == 0;
	if (!own_usable)
		secret_problem(rsinfo, "tenancy.cluster_secret_file",
					   "the coordinator has no usable cluster secret: its workers act without an identity and return no rows of protected tables",
					   psprintf("%s " SECRET_HINT, own_state));

	if (SPI_execute("SELECT nodename || ':' || nodeport, success, result"
					"  FROM pg_catalog.run_command_on_workers("
					"       'SELECT tenancy.cluster_secret_state()')"
					" ORDER BY nodename, nodeport", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading the cluster secret state of the workers failed");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *object = psprintf("worker %s", SPI_getvalue(tuple, desc, 1));
		char	   *success = SPI_getvalue(tuple, desc, 2);
		char	   *result = SPI_getvalue(tuple, desc, 3);

		if (result == NULL)
			result = "";
		if (success == NULL || strcmp(success, "t") != 0)
			secret_problem(rsinfo, object,
						   psprintf("the cluster secret of the worker could not be inspected: %s", result),
						   "Make sure the worker is reachable and has the same version of tenancy.");
		else if (strncmp(result, FINGERPRINT_PREFIX, strlen(FINGERPRINT_PREFIX)) != 0)
			secret_problem(rsinfo, object,
						   "the worker has no usable cluster secret: it accepts no token and returns no rows of protected tables",
						   psprintf("%s " SECRET_HINT, result));
		else if (own_usable && strcmp(result, own_state) != 0)
			secret_problem(rsinfo, object,
						   "the worker has another cluster secret than the coordinator: it refuses every token and returns no rows of protected tables",
						   "Copy the coordinator's secret file to the worker (the same contents on every node) and reload its configuration.");
	}
	SPI_finish();
	return (Datum) 0;
}
