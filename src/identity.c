/*-------------------------------------------------------------------------
 *
 * identity.c
 *	  The session identity: who the session acts as (R1-R5).
 *
 * The identity is kept in the setting tenancy.identity, which only the C
 * code of this file can write:
 *
 *	- its check hook refuses every value unless this file has raised
 *	  identity_write_allowed around its own set_config_option() call, so
 *	  SET, SET LOCAL, set_config(), ALTER ROLE/DATABASE ... SET, PGOPTIONS,
 *	  function SET clauses and UPDATE pg_settings all fail, for superusers
 *	  too (a parallel worker restoring the leader's settings is the one
 *	  other writer allowed);
 *	- it is PGC_SUSET and GUC_SUPERUSER_ONLY, so only a superuser may even
 *	  read it or RESET it (RESET can only clear it: it restores the boot
 *	  value, which is "no identity");
 *	- GUC_NO_RESET_ALL keeps RESET ALL from touching it; DISCARD ALL,
 *	  which a connection pool sends between clients, clears it through the
 *	  utility hook below.
 *
 * Keeping it in a setting, rather than in a static, gives it the
 * transaction semantics of SET for free: act_as (GUC_ACTION_SET) is
 * undone by the rollback of its transaction or savepoint, act_as_local
 * (GUC_ACTION_LOCAL) ends with its transaction.  And parallel workers
 * receive it with the leader's other settings, so the visibility checks
 * give the same answer in a worker as in the leader.
 *
 * The value is "user/compartment/account/login/lock/scope", where login
 * is the OID of the session user that set it, lock is the hex SHA-256 of
 * the lock key, or "-", and scope is "S" (act_as) or "L" (act_as_local:
 * the identity ends with the transaction).  An identity is in force only
 * for the session user that set it: after SET SESSION AUTHORIZATION
 * another login (a reporting login, whose scope is its binding) meets no
 * identity, not the one left behind (tenancy_identity_current).  A pooled server
 * writes it, and the check hook parses it, on every request: both are done
 * by hand (format_identity, parse_identity), since snprintf() and sscanf()
 * cost more than the rest of the write together.  Keeping the
 * scope in the value gives it the same transaction semantics as the
 * identity itself, so after a ROLLBACK TO SAVEPOINT it still tells
 * whether the identity in force ends at COMMIT.  The parsed form is the
 * GUC "extra"; the assign hook copies it to current_identity, which is
 * what every other module reads through tenancy_identity_current().
 *
 * Pooled connections (R4, R24).  Every change of identity is told to the
 * listener that session.c registers (tenancy_identity_listen), which
 * closes the cursors of the identity before (see its banner): settled,
 * right after the write of act_as, act_as_local and reset; unsettled,
 * from the assign hook, for changes made by commit and abort, where no
 * work may be done.  Behind a pool in transaction mode a
 * session-level identity reaches the next client of the server
 * connection; the superuser-only setting tenancy.local_identity_only, put
 * on the application's role with ALTER ROLE ... SET, makes act_as refuse
 * it.  act_as reads the setting both from the session and from the
 * login's own role settings in pg_db_role_setting: the library may be
 * loaded after the login's settings were applied, and a client could then
 * override the placeholder's value in its connection string.  A login
 * bound as a reporting login never acts as a user (its scope is its
 * binding), even if it was later made a member of tenancy_app.
 *
 * Citus (R25).  On a node of a Citus cluster the identity reaches the
 * workers as a signed token (token.c): every change of identity made here
 * inside a transaction block is handed to tenancy_token_follow(), and
 * refused inside a subtransaction (tenancy_token_check_change()).  A token
 * received from a coordinator (tenancy.token) is the identity of its
 * transaction: a token is never accepted over an identity of
 * tenancy.identity (token.c), so current_identity is tenancy.identity's
 * when there is one (also in a parallel worker of the node that issued the
 * token, which restores both), else the token's.  Under a received token
 * the act-as functions and reset refuse to run, so a token can neither be
 * changed nor be turned into a session identity.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"

#include "tenancy.h"

#define TENANCY_IDENTITY_GUC	"tenancy.identity"
/* room for the longest value: four ids of up to 20 characters, the lock */
#define IDENTITY_VALUE_SIZE		160

static char *identity_setting = NULL;
static bool local_identity_only = false;
static TenancyIdentity session_identity;	/* tenancy.identity's value */
static TenancyIdentity token_identity;	/* a received token's, or none */
static TenancyIdentity current_identity;	/* the one in force */
static bool identity_write_allowed = false;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static TenancyIdentityListener identity_listener = NULL;

/* how many times an identity was put in force (install_identity) */
uint64		tenancy_identity_installs = 0;

static bool check_identity(char **newval, void **extra, GucSource source);
static bool parse_identity_id(const char **p, int64 *id);
static bool parse_identity(const char *value, TenancyIdentity *parsed);
static void format_identity(char *value, int64 user_id, int64 compartment_id,
							int64 account_id, Oid login, const char *lock, bool local);
static void assign_identity(const char *newval, void *extra);
static void write_identity(const char *value, bool local);
static void require_app_role(void);
static void hash_lock_key(const char *key, char *hex);
static bool lock_key_matches(const char *key);
static void require_lock_key(const char *key, const char *action);
static void act_as_common(FunctionCallInfo fcinfo, bool local);
static void identity_settled(void);
static void install_identity(void);
static void token_received(const TenancyIdentity *received);
static void require_no_token(void);
static void tenancy_utility(TENANCY_UTILITY_ARGS);

/*
 * tenancy_identity_init: define tenancy.identity (called from _PG_init)
 */
void
tenancy_identity_init(void)
{
	memset(&session_identity, 0, sizeof(session_identity));
	memset(&token_identity, 0, sizeof(token_identity));
	memset(&current_identity, 0, sizeof(current_identity));
	tenancy_token_listen(token_received);

	/*
	 * Superuser-only, hidden, untouched by RESET ALL, and never taken from a
	 * configuration file: the check hook refuses any value this file did not
	 * write itself.
	 */
	DefineCustomStringVariable(TENANCY_IDENTITY_GUC,
							   "The tenancy user this session acts as (written by tenancy.act_as only).",
							   NULL,
							   &identity_setting,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL |
							   GUC_NOT_IN_SAMPLE | GUC_NO_RESET_ALL |
							   GUC_DISALLOW_IN_FILE | GUC_DISALLOW_IN_AUTO_FILE,
							   check_identity,
							   assign_identity,
							   NULL);

	/*
	 * Superuser-only, so that an application role it is set on (ALTER ROLE
	 * ... SET) cannot switch it off again: only the platform's DBA decides
	 * that a role runs behind transaction pooling.
	 */
	DefineCustomBoolVariable("tenancy.local_identity_only",
							 "Refuses tenancy.act_as(): only transaction-local identities (for roles behind transaction pooling).",
							 NULL,
							 &local_identity_only,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
}

/*
 * check_identity: accept a value only from this file or a parallel worker's
 * restore, and parse it into a TenancyIdentity "extra".
 */
static bool
check_identity(char **newval, void **extra, GucSource source)
{
	TenancyIdentity *parsed;
	const char *value = *newval ? *newval : "";

	if (!identity_write_allowed && !InitializingParallelWorker &&
		source != PGC_S_DEFAULT && value[0] != '\0')
	{
		GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
		GUC_check_errmsg("parameter \"%s\" can only be set by the tenancy functions",
						 TENANCY_IDENTITY_GUC);
		GUC_check_errhint("Call tenancy.act_as() or tenancy.act_as_local() as a member of tenancy_app.");
		return false;
	}

	/* Clearing is allowed to whoever may set a PGC_SUSET parameter. */
	parsed = (TenancyIdentity *) TENANCY_GUC_MALLOC(sizeof(TenancyIdentity));
	if (parsed == NULL)
		return false;
	memset(parsed, 0, sizeof(TenancyIdentity));

	if (value[0] != '\0' && !parse_identity(value, parsed))
	{
		TENANCY_GUC_FREE(parsed);
		GUC_check_errmsg("malformed value for parameter \"%s\"", TENANCY_IDENTITY_GUC);
		return false;
	}
	*extra = parsed;
	return true;
}

/* one id of the value: digits, a positive int64, then '/'; advances *p */
static bool
parse_identity_id(const char **p, int64 *id)
{
	char	   *end;

	if (!isdigit((unsigned char) **p))
		return false;
	errno = 0;
	*id = strtoi64(*p, &end, 10);
	if (errno != 0 || *id <= 0 || *end != '/')
		return false;
	*p = end + 1;
	return true;
}

/*
 * parse_identity: "user/compartment/account/login/lock/scope" (see the file
 * header) into *parsed; false for anything else, trailing characters too
 */
static bool
parse_identity(const char *value, TenancyIdentity *parsed)
{
	const char *p = value;
	const char *slash;
	size_t		lock_len;
	int64		login;

	if (!parse_identity_id(&p, &parsed->user_id) ||
		!parse_identity_id(&p, &parsed->compartment_id) ||
		!parse_identity_id(&p, &parsed->account_id) ||
		!parse_identity_id(&p, &login) || login > PG_UINT32_MAX)
		return false;
	parsed->login = (Oid) login;
	slash = strchr(p, '/');
	lock_len = slash != NULL ? slash - p : 0;
	if (lock_len == 0 || lock_len >= sizeof(parsed->lock_hash) ||
		(slash[1] != 'S' && slash[1] != 'L') || slash[2] != '\0')
		return false;
	parsed->local = (slash[1] == 'L');
	if (lock_len != 1 || p[0] != '-')
	{
		parsed->locked = true;
		memcpy(parsed->lock_hash, p, lock_len);
		parsed->lock_hash[lock_len] = '\0';
	}
	return true;
}

/* the value of an identity (see the file header), into value[IDENTITY_VALUE_SIZE] */
static void
format_identity(char *value, int64 user_id, int64 compartment_id,
				int64 account_id, Oid login, const char *lock, bool local)
{
	char	   *p = value;
	size_t		lock_len = strlen(lock);
	int64		ids[4] = {user_id, compartment_id, account_id, login};
	int			i;

	StaticAssertStmt(IDENTITY_VALUE_SIZE >= 4 * (20 + 1) +
					 PG_SHA256_DIGEST_STRING_LENGTH + 2,
					 "IDENTITY_VALUE_SIZE too small");
	Assert(lock_len < PG_SHA256_DIGEST_STRING_LENGTH);
	for (i = 0; i < 4; i++)
	{
		pg_lltoa(ids[i], p);
		p += strlen(p);
		*p++ = '/';
	}
	memcpy(p, lock, lock_len);
	p += lock_len;
	*p++ = '/';
	*p++ = local ? 'L' : 'S';
	*p = '\0';
}

/*
 * assign_identity: install the parsed value.  This runs inside commit and
 * abort too, so a change of user is only flagged to session.c here.
 */
static void
assign_identity(const char *newval, void *extra)
{
	if (extra != NULL)
		session_identity = *(TenancyIdentity *) extra;
	else
		memset(&session_identity, 0, sizeof(session_identity));
	install_identity();
}

/*
 * token_received: the listener of tenancy.token (token.c), called from its
 * assign hook, so inside commit and abort too
 */
static void
token_received(const TenancyIdentity *received)
{
	if (received != NULL)
		token_identity = *received;
	else
		memset(&token_identity, 0, sizeof(token_identity));
	install_identity();
}

/*
 * install_identity: the identity in force is tenancy.identity's, else a
 * received token's (a node never accepts a token over an identity; in a
 * parallel worker of the node that issued the token both are restored, and
 * the identity, which names its login, decides); a change of user is only
 * flagged to session.c here.  Every install is counted: the visibility
 * cache's per-row answers hold only while the count stays the same
 * (visibility.c, fast_answer_holds).
 */
static void
install_identity(void)
{
	int64		before = current_identity.user_id;

	current_identity = session_identity.user_id != 0 ? session_identity : token_identity;
	tenancy_identity_installs++;
	if (current_identity.user_id != before && identity_listener != NULL)
		identity_listener(false);
}

/* the act-as functions never run under a received token */
static void
require_no_token(void)
{
	if (tenancy_token_received() != NULL)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("cannot change the tenancy identity carried by a token"),
				 errdetail("The transaction acts as the user of the token set in \"tenancy.token\", which ends with the transaction."),
				 errhint("Change the identity on the node that issued the token.")));
}

/*
 * tenancy_identity_listen: have listener called at every change of user:
 * with settled = false from the assign hook (inside commit or abort too:
 * the listener may only take note), with settled = true right after the
 * act-as functions' own write (inside a statement: it may act).
 */
void
tenancy_identity_listen(TenancyIdentityListener listener)
{
	identity_listener = listener;
}

/* tell the listener that the act-as functions changed the identity */
static void
identity_settled(void)
{
	if (identity_listener != NULL)
		identity_listener(true);
}

/*
 * tenancy_identity_current: the one accessor of the identity in force:
 * none while the session user is not the one that set it (see the file
 * header; parallel workers run as their leader's session user)
 */
const TenancyIdentity *
tenancy_identity_current(void)
{
	static const TenancyIdentity none;

	if (current_identity.login != InvalidOid &&
		current_identity.login != GetSessionUserId())
		return &none;
	return &current_identity;
}

bool
tenancy_identity_is_set(void)
{
	return tenancy_identity_current()->user_id != 0;
}

/*
 * write_identity: the only writer of tenancy.identity
 */
static void
write_identity(const char *value, bool local)
{
	identity_write_allowed = true;
	PG_TRY();
	{
		(void) set_config_option(TENANCY_IDENTITY_GUC, value,
								 PGC_SUSET, PGC_S_SESSION,
								 local ? GUC_ACTION_LOCAL : GUC_ACTION_SET,
								 true, ERROR, false);
	}
	PG_FINALLY();
	{
		identity_write_allowed = false;
	}
	PG_END_TRY();
}

/*
 * require_app_role: only members of tenancy_app act as users (R3).
 *
 * Both the current role and the session's login role must be members, so
 * that a SECURITY DEFINER function owned by an application role cannot be
 * used by another login to pick an identity.
 */
static void
require_app_role(void)
{
	if (!tenancy_catalog_has_role(GetUserId(), TENANCY_APP_ROLE) ||
		!tenancy_catalog_has_role(GetSessionUserId(), TENANCY_APP_ROLE))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to act as a tenancy user"),
				 errdetail("Only members of role \"%s\" may act as a user, and both the session user and the current user must be.",
						   TENANCY_APP_ROLE),
				 errhint("Grant \"%s\" to the login of the application server.",
						 TENANCY_APP_ROLE)));
}

/* hex SHA-256 of a lock key, into hex[PG_SHA256_DIGEST_STRING_LENGTH] */
static void
hash_lock_key(const char *key, char *hex)
{
	bytea	   *digest;
	uint64		len;

	digest = DatumGetByteaPP(DirectFunctionCall1(sha256_bytea,
												 PointerGetDatum(cstring_to_text(key))));
	len = hex_encode(VARDATA_ANY(digest), VARSIZE_ANY_EXHDR(digest), hex);
	hex[len] = '\0';
}

/* constant-time comparison of the key's hash with the lock's */
static bool
lock_key_matches(const char *key)
{
	char		hex[PG_SHA256_DIGEST_STRING_LENGTH];

	if (key == NULL)
		return false;
	hash_lock_key(key, hex);
	return timingsafe_bcmp(hex, current_identity.lock_hash,
						   PG_SHA256_DIGEST_STRING_LENGTH - 1) == 0;
}

static void
require_lock_key(const char *key, const char *action)
{
	if (current_identity.locked && !lock_key_matches(key))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("cannot %s: the tenancy identity is locked", action),
				 current_identity.local ?
				 errdetail("The identity was locked with a key by tenancy.act_as_local() for this transaction, or by tenancy.act_as() for the session.") :
				 errdetail("The identity was locked with a key by tenancy.act_as()."),
				 current_identity.local ?
				 errhint("Pass the same lock key; a lock given to tenancy.act_as_local() ends with the transaction.") :
				 errhint("Pass the same lock key, or end the session's identity with DISCARD ALL.")));
}

/*
 * act_as_common: act_as and act_as_local
 *
 * One catalog query finds the user, whether the session's login is bound
 * as a reporting login, and, for a session-level identity only, the
 * login's own tenancy.local_identity_only (the most specific of ALTER ROLE
 * ... IN DATABASE, ALTER ROLE, ALTER DATABASE and ALTER ROLE ALL, as
 * PostgreSQL applies them, else the configuration files' value, see
 * file_local_identity_only).  act_as_local, called on every request of a
 * pooled server, does not pay for that part, and asks the visibility cache
 * (no query for a user it holds) or index probes instead.
 */
#define ACT_AS_USER_AND_BINDING \
	"SELECT u.compartment_id, u.account_id, u.disabled::int," \
	"       EXISTS (SELECT 1 FROM tenancy.reporting_login r" \
	"                WHERE r.role::oid = $2)::int"
#define ACT_AS_FROM \
	"  FROM (SELECT) one LEFT JOIN tenancy.users u ON u.id = $1"
/* the login's tenancy.local_identity_only as PostgreSQL ranks its stored values, or NULL */
#define ACT_AS_ROLE_SETTING \
	"(SELECT split_part(c, '=', 2)::boolean::int" \
	"   FROM pg_db_role_setting s, unnest(s.setconfig) c" \
	"  WHERE s.setrole IN (0, $2) AND s.setdatabase IN (0, $3)" \
	"    AND lower(split_part(c, '=', 1)) = 'tenancy.local_identity_only'" \
	"  ORDER BY s.setrole <> 0 DESC, s.setdatabase <> 0 DESC" \
	"  LIMIT 1)"

/* what act_as reads of the user it is asked to act as */
typedef struct ActAsUser
{
	bool		found;
	int64		compartment_id;
	int64		account_id;
	bool		disabled;
	bool		bound;			/* the session's login is a reporting login */
	bool		role_local_only;	/* tenancy.local_identity_only for the login */
} ActAsUser;

/*
 * file_local_identity_only: tenancy.local_identity_only as the configuration
 * files set it (postgresql.conf, ALTER SYSTEM), 1 or 0, for a login that
 * has no value of its own in pg_db_role_setting.  When the library loads
 * after the login's connection options were applied, a client's own value
 * is refused there and leaves the session at the default, not at the
 * files' value (1.3 attack: ALTER SYSTEM SET tenancy.local_identity_only =
 * on was undone by PGOPTIONS).  Read from pg_file_settings, which parses
 * the files (some milliseconds) and which only a superuser reads: once per
 * backend, where the extension's owner is one.  A value switched off in the
 * files later holds for the backends that start after it.
 */
static int64
file_local_identity_only(void)
{
	static SPIPlanPtr plan = NULL;
	static int64 value = -1;	/* not read yet */

	if (value < 0)
	{
		int64		row[1] = {0};

		if (superuser_arg(tenancy_catalog_owner()))
			(void) tenancy_catalog_query(&plan,
										 "SELECT f.setting::boolean::int"
										 "  FROM pg_catalog.pg_file_settings f"
										 " WHERE lower(f.name) = 'tenancy.local_identity_only'"
										 "   AND f.error IS NULL"
										 " ORDER BY f.seqno DESC LIMIT 1",
										 0, NULL, NULL, NULL, row, 1, NULL, 0);
		value = row[0];
	}
	return value;
}

/*
 * read_act_as_user: the user, and what the session's login may do.  The
 * request path of a pooled server (act_as_local) asks the visibility cache,
 * which holds recently seen users and else probes the index: no SPI.
 * act_as, and a catalog the probes cannot read, use SQL.
 */
static void
read_act_as_user(int64 user_id, bool local, ActAsUser *user)
{
	Oid			argtypes[3] = {INT8OID, OIDOID, OIDOID};
	Datum		values[3];
	int64		row[5] = {0, 0, 0, 0, 0};
	static SPIPlanPtr local_plan = NULL;
	static SPIPlanPtr session_plan = NULL;

	if (local && tenancy_probe_available())
	{
		user->found = tenancy_visibility_user(user_id, GetSessionUserId(),
											  &user->compartment_id,
											  &user->account_id,
											  &user->disabled, &user->bound);
		user->role_local_only = false;
		return;
	}

	values[0] = Int64GetDatum(user_id);
	values[1] = ObjectIdGetDatum(GetSessionUserId());
	values[2] = ObjectIdGetDatum(MyDatabaseId);
	if (local)
		(void) tenancy_catalog_query(&local_plan,
									 ACT_AS_USER_AND_BINDING ", 0"
									 ACT_AS_FROM,
									 3, argtypes, values, NULL, row, 5, NULL, 0);
	else
	{
		(void) tenancy_catalog_query(&session_plan,
									 ACT_AS_USER_AND_BINDING ","
									 "       coalesce(" ACT_AS_ROLE_SETTING ", -1)"
									 ACT_AS_FROM,
									 3, argtypes, values, NULL, row, 5, NULL, 0);
		if (row[4] < 0)
			row[4] = file_local_identity_only();
	}
	/* compartment ids start at 1: 0 is "no such user" */
	user->compartment_id = row[0];
	user->found = row[0] != 0;
	user->account_id = row[1];
	user->disabled = row[2] != 0;
	user->bound = row[3] != 0;
	user->role_local_only = row[4] != 0;
}

/*
 * require_actable: refuse a reporting login, a session-level identity where
 * the login allows only local ones, an unknown user and a disabled one
 */
static void
require_actable(int64 user_id, bool local, const ActAsUser *user)
{
	if (user->bound)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to act as a tenancy user"),
				 errdetail("The session's login \"%s\" is bound as a reporting login, which reads its bound scope and never acts as a user.",
						   GetUserNameFromId(GetSessionUserId(), false)),
				 errhint("Connect with the application server's own login, or unbind the reporting login with tenancy.unbind_reporting_login().")));
	if (!local && (local_identity_only || user->role_local_only))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to set a session-level tenancy identity"),
				 errdetail("Setting \"tenancy.local_identity_only\" is on for login \"%s\", which runs behind a connection pool in transaction mode, where a session-level identity would reach the next client.",
						   GetUserNameFromId(GetSessionUserId(), false)),
				 errhint("Call tenancy.act_as_local() inside the request's transaction instead.")));
	if (!user->found)
		tenancy_catalog_error_unknown("user", user_id, NULL,
									  "Look the user up with tenancy.find_user(compartment_id, email); a removed user cannot be acted as.");
	if (user->disabled)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("user %lld is disabled", (long long) user_id),
				 errdetail("A disabled user can no longer be acted as."),
				 errhint("Ask an administrator of the compartment to enable it with tenancy.enable_user().")));
}

/* the lock_key argument at argno: NULL for none, never empty (R5) */
static char *
lock_key_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *key;

	if (PG_ARGISNULL(argno))
		return NULL;
	key = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (tenancy_catalog_is_blank(key))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("lock_key must not be empty"),
				 errdetail("An empty or blank key is one that any injected statement can guess."),
				 errhint("Pass a random secret of the request (16 bytes or more) as lock_key, or NULL for no lock.")));
	return key;
}

static void
act_as_common(FunctionCallInfo fcinfo, bool local)
{
	int64		user_id;
	char	   *key;
	char		value[IDENTITY_VALUE_SIZE];
	char		lock[PG_SHA256_DIGEST_STRING_LENGTH];
	ActAsUser	user = {0};

	require_app_role();
	tenancy_catalog_require_coordinator("act as a tenancy user");
	require_no_token();

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("user_id must not be null"),
				 errhint("To drop the identity, call tenancy.reset().")));
	user_id = PG_GETARG_INT64(0);
	key = lock_key_arg(fcinfo, 1);

	require_lock_key(key, "change the identity");
	read_act_as_user(user_id, local, &user);
	require_actable(user_id, local, &user);

	/*
	 * The lock (R5): a key given to act_as locks (or keeps locked) the
	 * session identity; a key given to act_as_local locks the identity of
	 * the transaction, which is what a server behind a pool in transaction
	 * mode can lock, and ends with it (the session's identity and lock come
	 * back, as any SET LOCAL's value does).  Without a key, act_as_local
	 * carries the session's lock unchanged.
	 */
	if (key != NULL)
		hash_lock_key(key, lock);
	else if (current_identity.locked)
		strlcpy(lock, current_identity.lock_hash, sizeof(lock));
	else
		strlcpy(lock, "-", sizeof(lock));

	format_identity(value, user_id, user.compartment_id, user.account_id,
					GetSessionUserId(), lock, local);
	tenancy_token_check_change();
	write_identity(value, local);
	tenancy_token_follow(tenancy_identity_current());
	identity_settled();
}

/* act_as(user_id bigint, lock_key text DEFAULT NULL) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_act_as);
Datum
tenancy_act_as(PG_FUNCTION_ARGS)
{
	act_as_common(fcinfo, false);
	PG_RETURN_VOID();
}

/* act_as_local(user_id bigint, lock_key text DEFAULT NULL) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_act_as_local);
Datum
tenancy_act_as_local(PG_FUNCTION_ARGS)
{
	if (!IsTransactionBlock())
		ereport(WARNING,
				(errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
				 errmsg("tenancy.act_as_local() can only be used in transaction blocks"),
				 errdetail("The identity ends with the current statement.")));
	act_as_common(fcinfo, true);
	PG_RETURN_VOID();
}

/* reset(lock_key text DEFAULT NULL) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_reset);
Datum
tenancy_reset(PG_FUNCTION_ARGS)
{
	char	   *key = lock_key_arg(fcinfo, 0);

	require_no_token();
	require_lock_key(key, "reset the identity");
	tenancy_token_check_change();
	write_identity("", false);
	tenancy_token_follow(tenancy_identity_current());
	identity_settled();
	PG_RETURN_VOID();
}

/*
 * identity_token() RETURNS text
 *
 * A token of the session's identity, issued to the current role, for
 * another node of the cluster (token.c).  Only for an identity of act_as
 * or act_as_local: a token received from a coordinator is never renewed
 * (its life would have no end).
 */
PG_FUNCTION_INFO_V1(tenancy_identity_token);
Datum
tenancy_identity_token(PG_FUNCTION_ARGS)
{
	char		token[TENANCY_TOKEN_MAX_LENGTH + 1];

	require_app_role();
	require_no_token();
	/* with no token received, the identity in force is tenancy.identity's */
	if (!tenancy_identity_is_set())
		tenancy_catalog_error_no_identity("A token carries the identity set by tenancy.act_as() or tenancy.act_as_local().",
										  "Call tenancy.act_as_local() or tenancy.act_as() first.");
	tenancy_token_make(tenancy_identity_current(), token);
	PG_RETURN_TEXT_P(cstring_to_text(token));
}

/* current_user_id() RETURNS bigint */
PG_FUNCTION_INFO_V1(tenancy_current_user_id);
Datum
tenancy_current_user_id(PG_FUNCTION_ARGS)
{
	if (!tenancy_identity_is_set())
		PG_RETURN_NULL();
	PG_RETURN_INT64(tenancy_identity_current()->user_id);
}

/* current_compartment_id() RETURNS bigint */
PG_FUNCTION_INFO_V1(tenancy_current_compartment_id);
Datum
tenancy_current_compartment_id(PG_FUNCTION_ARGS)
{
	if (!tenancy_identity_is_set())
		PG_RETURN_NULL();
	PG_RETURN_INT64(tenancy_identity_current()->compartment_id);
}

/*
 * tenancy_utility_init: install the utility hook (called from _PG_init)
 */
void
tenancy_utility_init(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = tenancy_utility;
}

/*
 * tenancy_utility: DISCARD ALL also drops the identity and its lock (R4,
 * R5), whichever login set it (DISCARD ALL has made the session user the
 * authenticated one again by now).  DISCARD ALL cannot run in a
 * transaction block, so the cleared value is committed with it.
 */
static void
tenancy_utility(TENANCY_UTILITY_ARGS)
{
	Node	   *parsetree = pstmt->utilityStmt;

	tenancy_citus_guard_utility(parsetree);
	if (prev_ProcessUtility)
		prev_ProcessUtility(TENANCY_UTILITY_PASS);
	else
		standard_ProcessUtility(TENANCY_UTILITY_PASS);

	if (IsA(parsetree, DiscardStmt) &&
		((DiscardStmt *) parsetree)->target == DISCARD_ALL &&
		session_identity.user_id != 0)
		write_identity("", false);
}
