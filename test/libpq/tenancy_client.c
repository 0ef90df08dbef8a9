/*-------------------------------------------------------------------------
 *
 * tenancy_client.c
 *	  libpq tests of the tenancy extension: what psql cannot do.
 *
 * This program owns the client-side tests of the identity rules (R1-R5)
 * and of read visibility (R2, R6, R7) as an application server sees them:
 * one pooled connection reused by many identities over the simple and the
 * extended protocol, prepared statements whose cached (generic) plans
 * outlive identity switches, pipeline mode, failed transactions, DISCARD
 * ALL, forged identities, and several connections at once; and the
 * reporting logins (R14, R15) as a reporting tool sees them, connected as
 * itself and never acting as anyone.
 *
 * Usage:
 *	  tenancy_client tests					list the scenarios
 *	  tenancy_client CONNINFO [SCENARIO]	run all scenarios, or one
 *
 * CONNINFO must reach the database as a superuser.  The program installs
 * the extension when it is missing and builds its own fixture in that
 * database, in one transaction, the first time it runs there: two
 * compartments (codes regress_libpq_a and regress_libpq_b), four clients,
 * eight administrations, 50 users with read on one or two administrations
 * each, and the protected table public.regress_libpq_ledger whose rows are
 * labelled "<administration code>/<n>".  Later runs find that fixture and
 * reuse it; the scenarios only read it (every write they try is rolled
 * back).  Roles regress_libpq_app (member of tenancy_app) and
 * regress_libpq_plain (not a member) are created when missing and left in
 * place, roles being cluster-wide.  So are the reporting logins
 * regress_libpq_bi_firm and regress_libpq_bi_client; when the installed
 * extension has tenancy.bind_reporting_login() (1.1 and later), every run
 * binds them again to their scopes (see FixtureLogin), which also undoes
 * an unbinding left behind by an interrupted run.
 *
 * Each scenario runs on a fresh connection as regress_libpq_app and prints
 * TAP: "ok N - name" or "not ok N - name", with "# " diagnostics for the
 * first few failures of each test, and the plan "1..N" at the end.  The
 * exit status is 0 when every test passed, 1 when one failed, 2 when the
 * program had to bail out (no server, no fixture).
 *
 * The expectations come from the fixture tables below, never from what
 * the extension answers: a returned row is right when its administration
 * is one the user was granted read on and its label names that
 * administration, and every such administration must show all its rows.
 *
 * IDENTIFICATION
 *	  test/libpq/tenancy_client.c
 *
 *-------------------------------------------------------------------------
 */

#include "postgres_fe.h"

#include <stdarg.h>

#include "catalog/pg_type_d.h"
#include "libpq-fe.h"

#define LEDGER			"public.regress_libpq_ledger"
#define APP_ROLE		"regress_libpq_app"
#define PLAIN_ROLE		"regress_libpq_plain"
#define BI_FIRM_ROLE	"regress_libpq_bi_firm"
#define BI_CLIENT_ROLE	"regress_libpq_bi_client"
#define LOCK_KEY		"regress-libpq-lock-key"

#define NADMINS			8		/* administrations in the fixture */
#define NUSERS			50		/* users in the fixture */
#define NREQUESTS		1000	/* requests of the connection reuse tests */
#define NCONNS			8		/* connections of the concurrent test */
#define NLOGINS			2		/* reporting logins in the fixture */
#define NROUNDS			60		/* rounds of the concurrent test */
#define MAX_DIAG		8		/* diagnostics printed per failing test */

static const char *const progname = "tenancy_client";

/* every row of the ledger, in an order that does not depend on the plan */
static const char *const rows_sql =
"SELECT administration_id, label FROM " LEDGER
" ORDER BY administration_id, id";

/* the same, with a parameter, so that plan caching has something to do */
static const char *const rows_param_sql =
"SELECT administration_id, label FROM " LEDGER
" WHERE amount >= $1 ORDER BY administration_id, id";

/* who the session is, and how much it sees */
static const char *const whoami_sql =
"SELECT tenancy.current_user_id(), (SELECT count(*) FROM " LEDGER ")";

/*
 * The fixture.  Administrations are listed with their compartment and
 * client; administration j holds 10 + 3 * j rows, so that mixing up two
 * administrations always changes a count.
 */
typedef struct FixtureAdmin
{
	int			compartment;	/* index into compartment_codes[] */
	const char *client;			/* client code */
	const char *code;			/* administration code */
	int			nrows;			/* rows in the ledger */
	int64		id;				/* set by load_fixture() */
} FixtureAdmin;

static const char *const compartment_codes[2] = {
	"regress_libpq_a", "regress_libpq_b"
};

static FixtureAdmin admins[NADMINS] = {
	{0, "c1", "a1", 10, 0},
	{0, "c1", "a2", 13, 0},
	{0, "c1", "a3", 16, 0},
	{0, "c2", "a4", 19, 0},
	{0, "c2", "a5", 22, 0},
	{1, "d1", "b1", 25, 0},
	{1, "d1", "b2", 28, 0},
	{1, "d2", "b3", 31, 0},
};

/*
 * Users 0..29 belong to compartment A, 30..49 to compartment B.  Each
 * reads one administration of its compartment, every third one a second
 * one too; some of the one-administration users are external users of
 * that administration's client (R8 allows exactly that).
 */
typedef struct FixtureUser
{
	char		email[64];
	int			compartment;
	bool		external;
	int			nadmins;
	int			admins[2];		/* indexes into admins[] */
	int64		id;				/* set by load_fixture() */
	char		idstr[32];		/* id as text, for SQL and parameters */
} FixtureUser;

static FixtureUser users[NUSERS];

/*
 * Reporting logins (R14, R15): login roles bound to a read-only scope.
 * The firm-wide one reads all of compartment B; the other one reads client
 * c1 of compartment A, and of that client only the codes listed: a1 and
 * a3, not a2.  The firm-wide one holds every row privilege on the ledger,
 * as a careless DBA would grant, so that its writes must be refused by the
 * extension and not by the grants; the other one holds SELECT only, and
 * may SET ROLE to the plain login (which must not widen its scope).
 */
typedef struct FixtureLogin
{
	const char *role;
	int			compartment;	/* index into compartment_codes[] */
	const char *client;			/* client code, or NULL: every client */
	const char *codes[NADMINS]; /* administration codes, NULL-terminated;
								 * none: every administration */
	const char *privileges;		/* granted on the ledger */
} FixtureLogin;

static const FixtureLogin logins[NLOGINS] = {
	{BI_FIRM_ROLE, 1, NULL, {NULL}, "SELECT, INSERT, UPDATE, DELETE"},
	{BI_CLIENT_ROLE, 0, "c1", {"a1", "a3", NULL}, "SELECT"},
};

/* does the installed extension have reporting logins (1.1 and later)? */
static bool have_reporting = false;

/* the conninfo given on the command line (reaches a superuser) */
static const char *base_conninfo;

/* one TAP test: a name and the failures seen while it ran */
typedef struct Check
{
	const char *name;
	int			failures;
	int			diag_left;
} Check;

static int	tests_run = 0;
static int	tests_failed = 0;

typedef struct Scenario
{
	const char *name;
	void		(*run) (PGconn *conn);
	const char *summary;
} Scenario;

static void test_reuse_simple(PGconn *conn);
static void test_reuse_extended(PGconn *conn);
static void test_prepared(PGconn *conn);
static void test_replaced_statement(PGconn *conn);
static void test_pipeline(PGconn *conn);
static void test_failed_transaction(PGconn *conn);
static void test_discard_all(PGconn *conn);
static void test_forged_identity(PGconn *conn);
static void test_concurrent(PGconn *conn);
static void test_reporting(PGconn *conn);

static const Scenario scenarios[] = {
	{"reuse_simple", test_reuse_simple,
	"one connection, 1000 requests by 50 identities, simple protocol"},
	{"reuse_extended", test_reuse_extended,
	"one connection, 1000 requests by 50 identities, extended protocol"},
	{"prepared", test_prepared,
	"prepared statements re-executed across identity switches"},
	{"replaced_statement", test_replaced_statement,
	"a driver's statement replaced by one request's SQL PREPARE is not run by the next"},
	{"pipeline", test_pipeline,
	"pipeline mode, one transaction per identity"},
	{"failed_transaction", test_failed_transaction,
	"an error after act_as_local leaves no identity behind"},
	{"discard_all", test_discard_all,
	"DISCARD ALL clears a locked session identity"},
	{"forged_identity", test_forged_identity,
	"SET, set_config, RESET and the connection string cannot forge an identity"},
	{"concurrent", test_concurrent,
	"8 connections at once, each acting as other users"},
	{"reporting", test_reporting,
	"reporting logins read exactly their scope without act_as, and write nothing"},
	{NULL, NULL, NULL}
};


/* ----------------------------------------------------------------
 * TAP output
 * ----------------------------------------------------------------
 */

static void
check_init(Check *c, const char *name)
{
	c->name = name;
	c->failures = 0;
	c->diag_left = MAX_DIAG;
}

static void
check_fail(Check *c, const char *fmt,...)
pg_attribute_printf(2, 3);

/*
 * Record a failure of a test and print a diagnostic line, as long as the
 * test's budget of diagnostics lasts.
 */
static void
check_fail(Check *c, const char *fmt,...)
{
	va_list		args;
	char		buf[1024];
	char	   *p;

	c->failures++;
	if (c->diag_left <= 0)
		return;
	if (--c->diag_left == 0)
	{
		printf("# (%s: further failures not shown)\n", c->name);
		return;
	}
	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	/* one diagnostic, one line */
	for (p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	printf("# %s\n", buf);
}

static void
check_report(Check *c)
{
	tests_run++;
	if (c->failures == 0)
		printf("ok %d - %s\n", tests_run, c->name);
	else
	{
		tests_failed++;
		printf("not ok %d - %s\n", tests_run, c->name);
		printf("#   %d failure(s)\n", c->failures);
	}
	fflush(stdout);
}

/* Report a test that could not run here, as TAP's SKIP. */
static void
check_skip(Check *c, const char *reason)
{
	tests_run++;
	printf("ok %d - %s # SKIP %s\n", tests_run, c->name, reason);
	fflush(stdout);
}

static void
bail(const char *fmt,...)
pg_attribute_printf(1, 2) pg_attribute_noreturn();

/*
 * Give up: the fixture or the server is not there, so no test can say
 * anything.
 */
static void
bail(const char *fmt,...)
{
	va_list		args;
	char		buf[1024];
	char	   *p;

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	for (p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	printf("Bail out! %s\n", buf);
	fflush(stdout);
	exit(2);
}


/* ----------------------------------------------------------------
 * Connections and statements
 * ----------------------------------------------------------------
 */

/*
 * Notices go to stderr, each distinct one once: the scenarios provoke the
 * same warning many times over.
 */
static void
notice_once(void *arg, const char *message)
{
	static char *seen[32];
	static int	nseen = 0;
	int			i;

	for (i = 0; i < nseen; i++)
		if (strcmp(seen[i], message) == 0)
			return;
	if (nseen < lengthof(seen))
		seen[nseen++] = pg_strdup(message);
	fprintf(stderr, "%s", message);
}

/*
 * Connect with the command line's conninfo, overriding the user and adding
 * server options when given.  Returns the connection even when it failed;
 * the caller looks at PQstatus().
 */
static PGconn *
connect_as(const char *user, const char *options)
{
	const char *keywords[5];
	const char *values[5];
	int			n = 0;
	PGconn	   *conn;

	keywords[n] = "dbname";
	values[n++] = base_conninfo;
	keywords[n] = "fallback_application_name";
	values[n++] = progname;
	if (user)
	{
		keywords[n] = "user";
		values[n++] = user;
	}
	if (options)
	{
		keywords[n] = "options";
		values[n++] = options;
	}
	keywords[n] = NULL;
	values[n] = NULL;

	conn = PQconnectdbParams(keywords, values, 1);
	PQsetNoticeProcessor(conn, notice_once, NULL);
	return conn;
}

static PGconn *
connect_or_bail(const char *user)
{
	PGconn	   *conn = connect_as(user, NULL);

	if (PQstatus(conn) != CONNECTION_OK)
		bail("could not connect as %s: %s",
			 user ? user : "the given user", PQerrorMessage(conn));
	return conn;
}

/* Run a statement that must succeed, for the fixture. */
static void
exec_or_bail(PGconn *conn, const char *sql)
{
	PGresult   *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		PQresultStatus(res) != PGRES_TUPLES_OK)
		bail("fixture statement failed: %s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
}

/* Run a query with parameters that must return one value, for the fixture. */
static char *
value_or_bail(PGconn *conn, const char *sql, int nparams,
			  const char *const *params)
{
	PGresult   *res;
	char	   *value;

	res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		bail("fixture query failed: %s: %s", sql, PQerrorMessage(conn));
	value = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return value;
}

/*
 * Check a result's status.  On a mismatch, record the failure and return
 * NULL (the result is freed); otherwise return the result.
 */
static PGresult *
expect_status(Check *c, PGconn *conn, PGresult *res, ExecStatusType expect,
			  const char *what, const char *context)
{
	if (res == NULL)
	{
		check_fail(c, "%s: %s: no result: %s", context, what,
				   PQerrorMessage(conn));
		return NULL;
	}
	if (PQresultStatus(res) != expect)
	{
		check_fail(c, "%s: %s: %s instead of %s: %s", context, what,
				   PQresStatus(PQresultStatus(res)), PQresStatus(expect),
				   PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Run a simple-protocol statement that must succeed with this status. */
static PGresult *
run(Check *c, PGconn *conn, const char *sql, ExecStatusType expect,
	const char *context)
{
	return expect_status(c, conn, PQexec(conn, sql), expect, sql, context);
}

/* The same for statements whose result does not matter beyond success. */
static void
run_ok(Check *c, PGconn *conn, const char *sql, const char *context)
{
	PGresult   *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		PQresultStatus(res) != PGRES_TUPLES_OK)
		check_fail(c, "%s: \"%s\" failed: %s", context, sql,
				   PQresultErrorMessage(res));
	PQclear(res);
}

/* Extended protocol: one statement with text parameters, types inferred. */
static PGresult *
run_params(Check *c, PGconn *conn, const char *sql, int nparams,
		   const char *const *params, ExecStatusType expect,
		   const char *context)
{
	return expect_status(c, conn,
						 PQexecParams(conn, sql, nparams, NULL, params,
									  NULL, NULL, 0),
						 expect, sql, context);
}

/*
 * Run a statement that must fail.  With sqlstate, it must fail with that
 * SQLSTATE.  Returns true when it failed.
 */
static bool
expect_error(Check *c, PGconn *conn, const char *sql, const char *sqlstate,
			 const char *context)
{
	PGresult   *res = PQexec(conn, sql);
	bool		failed = false;

	if (PQresultStatus(res) != PGRES_FATAL_ERROR)
		check_fail(c, "%s: \"%s\" succeeded (%s); it must fail", context, sql,
				   PQresStatus(PQresultStatus(res)));
	else
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		failed = true;
		if (sqlstate && (state == NULL || strcmp(state, sqlstate) != 0))
			check_fail(c, "%s: \"%s\" failed with SQLSTATE %s, expected %s: %s",
					   context, sql, state ? state : "(none)", sqlstate,
					   PQresultErrorMessage(res));
	}
	PQclear(res);
	return failed;
}

/* The SQLSTATE of a failed result, or "" for any other result. */
static const char *
sqlstate_of(const PGresult *res)
{
	const char *state;

	if (PQresultStatus(res) != PGRES_FATAL_ERROR)
		return "";
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	return state ? state : "";
}

/* Leave a transaction block the session may have been left in. */
static void
rollback_if_needed(PGconn *conn)
{
	PGTransactionStatusType ts = PQtransactionStatus(conn);

	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
		PQclear(PQexec(conn, "ROLLBACK"));
}


/* ----------------------------------------------------------------
 * What a user must see
 * ----------------------------------------------------------------
 */

static int
admin_index(int64 id)
{
	int			j;

	for (j = 0; j < NADMINS; j++)
		if (admins[j].id == id)
			return j;
	return -1;
}

static bool
user_reads(const FixtureUser *u, int j)
{
	int			k;

	for (k = 0; k < u->nadmins; k++)
		if (u->admins[k] == j)
			return true;
	return false;
}

static int
user_rows(const FixtureUser *u)
{
	int			k;
	int			n = 0;

	for (k = 0; k < u->nadmins; k++)
		n += admins[u->admins[k]].nrows;
	return n;
}

/* Is admins[j] in the scope of reporting login l? */
static bool
login_reads(const FixtureLogin *l, int j)
{
	int			k;

	if (admins[j].compartment != l->compartment)
		return false;
	if (l->client && strcmp(admins[j].client, l->client) != 0)
		return false;
	if (l->codes[0] == NULL)
		return true;
	for (k = 0; l->codes[k]; k++)
		if (strcmp(admins[j].code, l->codes[k]) == 0)
			return true;
	return false;
}

static int
login_rows(const FixtureLogin *l)
{
	int			j;
	int			n = 0;

	for (j = 0; j < NADMINS; j++)
		if (login_reads(l, j))
			n += admins[j].nrows;
	return n;
}

/*
 * A result of rows_sql (administration_id, label) must hold exactly the
 * rows of the administrations that who reads (reads[j] for admins[j]): no
 * row of another administration, labels that name the row's
 * administration, and every row of each administration it reads.
 */
static void
check_rows_of(Check *c, PGresult *res, const char *who, const bool *reads,
			  const char *context)
{
	int			seen[NADMINS];
	int			i;
	int			k;
	int			outside = 0;

	if (res == NULL)
		return;					/* the failure is already recorded */
	if (PQnfields(res) != 2)
	{
		check_fail(c, "%s: %d columns, expected 2", context, PQnfields(res));
		return;
	}
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < PQntuples(res); i++)
	{
		int64		adm = (int64) strtoll(PQgetvalue(res, i, 0), NULL, 10);
		const char *label = PQgetvalue(res, i, 1);
		int			j = admin_index(adm);

		if (j < 0 || !reads[j])
		{
			if (outside++ == 0)
				check_fail(c, "%s: %s sees row \"%s\" of administration "
						   INT64_FORMAT ", outside its rights",
						   context, who, label, adm);
			continue;
		}
		if (strncmp(label, admins[j].code, strlen(admins[j].code)) != 0 ||
			label[strlen(admins[j].code)] != '/')
			check_fail(c, "%s: row \"%s\" is labelled for another administration than %s",
					   context, label, admins[j].code);
		seen[j]++;
	}
	if (outside > 1)
		check_fail(c, "%s: %d rows outside the rights of %s in all",
				   context, outside, who);
	for (k = 0; k < NADMINS; k++)
	{
		if (reads[k] && seen[k] != admins[k].nrows)
			check_fail(c, "%s: %s sees %d rows of administration %s, expected %d",
					   context, who, seen[k], admins[k].code,
					   admins[k].nrows);
	}
}

/* check_rows_of for a user of the fixture */
static void
check_rows(Check *c, PGresult *res, const FixtureUser *u, const char *context)
{
	bool		reads[NADMINS];
	int			j;

	for (j = 0; j < NADMINS; j++)
		reads[j] = user_reads(u, j);
	check_rows_of(c, res, u->email, reads, context);
}

/*
 * A result of whoami_sql must say: no identity and no rows (u == NULL), or
 * u's identity and u's row count.
 */
static void
check_whoami(Check *c, PGresult *res, const FixtureUser *u,
			 const char *context)
{
	const char *count;

	if (res == NULL)
		return;
	if (PQntuples(res) != 1 || PQnfields(res) != 2)
	{
		check_fail(c, "%s: whoami returned %d rows, %d columns", context,
				   PQntuples(res), PQnfields(res));
		return;
	}
	count = PQgetvalue(res, 0, 1);
	if (u == NULL)
	{
		if (!PQgetisnull(res, 0, 0))
			check_fail(c, "%s: current_user_id() is %s, expected NULL",
					   context, PQgetvalue(res, 0, 0));
		if (strcmp(count, "0") != 0)
			check_fail(c, "%s: %s rows visible without an identity, expected 0",
					   context, count);
	}
	else
	{
		if (PQgetisnull(res, 0, 0) ||
			strcmp(PQgetvalue(res, 0, 0), u->idstr) != 0)
			check_fail(c, "%s: current_user_id() is %s, expected %s (%s)",
					   context,
					   PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0),
					   u->idstr, u->email);
		if (atoi(count) != user_rows(u))
			check_fail(c, "%s: %s rows visible to %s, expected %d",
					   context, count, u->email, user_rows(u));
	}
}

/* Ask the session who it is; u == NULL expects no identity. */
static void
check_identity(Check *c, PGconn *conn, const FixtureUser *u,
			   const char *context)
{
	PGresult   *res = run(c, conn, whoami_sql, PGRES_TUPLES_OK, context);

	check_whoami(c, res, u, context);
	PQclear(res);
}

/* Act as u through act_as_local, act_as, or act_as with the lock key. */
static bool
act(Check *c, PGconn *conn, const char *func, const FixtureUser *u,
	const char *key, const char *context)
{
	char		sql[128];
	PGresult   *res;

	if (key)
		snprintf(sql, sizeof(sql), "SELECT tenancy.%s(%s, '%s')",
				 func, u->idstr, key);
	else
		snprintf(sql, sizeof(sql), "SELECT tenancy.%s(%s)", func, u->idstr);
	res = run(c, conn, sql, PGRES_TUPLES_OK, context);
	PQclear(res);
	return res != NULL;
}


/* ----------------------------------------------------------------
 * The fixture
 * ----------------------------------------------------------------
 */

/* Who gets what: see the comment over FixtureUser. */
static void
plan_users(void)
{
	int			k;

	for (k = 0; k < NUSERS; k++)
	{
		FixtureUser *u = &users[k];
		int			comp = k < 30 ? 0 : 1;
		int			local = comp == 0 ? k : k - 30;
		int			base = comp == 0 ? 0 : 5;
		int			n = comp == 0 ? 5 : 3;

		snprintf(u->email, sizeof(u->email),
				 "lpq-user-%02d@regress-libpq.example", k);
		u->compartment = comp;
		u->admins[0] = base + local % n;
		u->nadmins = 1;
		if (local % 3 == 1)
		{
			u->admins[1] = base + (local + 1) % n;
			u->nadmins = 2;
		}
		u->external = (u->nadmins == 1 && local % 7 == 6);
	}
}

/*
 * Create the catalog objects, the ledger and its rows, then protect it.
 * The rows go in before protect(), as the table's owner loading data
 * would; afterwards only identities with write may add rows.
 */
static void
build_fixture(PGconn *conn)
{
	char	   *sub;
	char	   *compartment_ids[2];
	const char *client_codes[NADMINS];
	char	   *client_ids[NADMINS];
	int			nclients = 0;
	char	   *admin_ids[NADMINS];
	int			i;
	int			j;

	sub = value_or_bail(conn,
						"SELECT tenancy.create_subscription('regress libpq')",
						0, NULL);
	for (i = 0; i < 2; i++)
	{
		const char *params[3];
		char		name[64];

		snprintf(name, sizeof(name), "libpq tests %c", 'A' + i);
		params[0] = sub;
		params[1] = compartment_codes[i];
		params[2] = name;
		compartment_ids[i] = value_or_bail(conn,
										   "SELECT tenancy.create_compartment($1, $2, $3)",
										   3, params);
	}

	for (j = 0; j < NADMINS; j++)
	{
		const char *params[3];
		char		name[64];
		int			k;

		for (k = 0; k < nclients; k++)
			if (strcmp(client_codes[k], admins[j].client) == 0)
				break;
		if (k == nclients)
		{
			snprintf(name, sizeof(name), "client %s", admins[j].client);
			params[0] = compartment_ids[admins[j].compartment];
			params[1] = admins[j].client;
			params[2] = name;
			client_codes[k] = admins[j].client;
			client_ids[k] = value_or_bail(conn,
										  "SELECT tenancy.create_client($1, $2, $3)",
										  3, params);
			nclients++;
		}
		snprintf(name, sizeof(name), "books %s", admins[j].code);
		params[0] = client_ids[k];
		params[1] = admins[j].code;
		params[2] = name;
		admin_ids[j] = value_or_bail(conn,
									 "SELECT tenancy.create_administration($1, $2, $3)",
									 3, params);
	}

	exec_or_bail(conn,
				 "CREATE TABLE " LEDGER " ("
				 " administration_id bigint NOT NULL,"
				 " id integer GENERATED ALWAYS AS IDENTITY,"
				 " label text NOT NULL,"
				 " amount integer NOT NULL,"
				 " PRIMARY KEY (administration_id, id))");
	for (j = 0; j < NADMINS; j++)
	{
		const char *params[3];
		char		nrows[16];
		PGresult   *res;

		snprintf(nrows, sizeof(nrows), "%d", admins[j].nrows);
		params[0] = admin_ids[j];
		params[1] = admins[j].code;
		params[2] = nrows;
		res = PQexecParams(conn,
						   "INSERT INTO " LEDGER " (administration_id, label, amount)"
						   " SELECT $1::bigint, $2 || '/' || g, g"
						   " FROM pg_catalog.generate_series(1, $3::integer) g",
						   3, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			bail("could not fill the ledger: %s", PQerrorMessage(conn));
		PQclear(res);
	}
	exec_or_bail(conn, "SELECT tenancy.protect('" LEDGER "')");

	for (i = 0; i < NUSERS; i++)
	{
		FixtureUser *u = &users[i];
		const char *params[4];
		char	   *user_id;
		char	   *client_id = NULL;
		int			k;

		if (u->external)
		{
			for (k = 0; k < nclients; k++)
				if (strcmp(client_codes[k], admins[u->admins[0]].client) == 0)
					client_id = client_ids[k];
		}
		params[0] = compartment_ids[u->compartment];
		params[1] = u->email;
		params[2] = u->external ? "external" : "internal";
		params[3] = client_id;
		user_id = value_or_bail(conn,
								"SELECT tenancy.add_user($1, $2, $3, $4)",
								4, params);
		for (k = 0; k < u->nadmins; k++)
		{
			const char *gparams[2];

			gparams[0] = user_id;
			gparams[1] = admin_ids[u->admins[k]];
			pg_free(value_or_bail(conn,
								  "SELECT tenancy.grant_rights($1, $2, '{read}')",
								  2, gparams));
		}
		pg_free(user_id);
	}
}

/*
 * Read the ids of the fixture back from the catalog and check, as the
 * superuser (who bypasses row security), that it is the fixture this
 * program builds.
 */
static void
load_fixture(PGconn *conn)
{
	int			i;
	int			j;

	for (j = 0; j < NADMINS; j++)
	{
		const char *params[3];
		char	   *value;

		params[0] = compartment_codes[admins[j].compartment];
		params[1] = admins[j].code;
		params[2] = admins[j].client;
		value = value_or_bail(conn,
							  "SELECT a.id FROM tenancy.administration a"
							  " JOIN tenancy.compartment k ON k.id = a.compartment_id"
							  " JOIN tenancy.client c ON c.id = a.client_id"
							  " WHERE k.code = $1 AND a.code = $2 AND c.code = $3",
							  3, params);
		admins[j].id = (int64) strtoll(value, NULL, 10);
		pg_free(value);
	}

	for (j = 0; j < NADMINS; j++)
	{
		char		idstr[32];
		const char *params[1];
		char	   *value;

		snprintf(idstr, sizeof(idstr), INT64_FORMAT, admins[j].id);
		params[0] = idstr;
		value = value_or_bail(conn,
							  "SELECT count(*) FROM " LEDGER
							  " WHERE administration_id = $1",
							  1, params);
		if (atoi(value) != admins[j].nrows)
			bail("the ledger holds %s rows of administration %s, expected %d;"
				 " drop the fixture (DROP TABLE " LEDGER "; DROP EXTENSION tenancy CASCADE)"
				 " and run again", value, admins[j].code, admins[j].nrows);
		pg_free(value);
	}

	for (i = 0; i < NUSERS; i++)
	{
		FixtureUser *u = &users[i];
		const char *params[2];
		char	   *value;

		params[0] = compartment_codes[u->compartment];
		params[1] = u->email;
		value = value_or_bail(conn,
							  "SELECT u.id FROM tenancy.users u"
							  " JOIN tenancy.compartment k ON k.id = u.compartment_id"
							  " JOIN tenancy.account a ON a.id = u.account_id"
							  " WHERE k.code = $1 AND lower(a.email) = lower($2)",
							  2, params);
		u->id = (int64) strtoll(value, NULL, 10);
		snprintf(u->idstr, sizeof(u->idstr), INT64_FORMAT, u->id);
		pg_free(value);

		params[0] = u->idstr;
		value = value_or_bail(conn,
							  "SELECT count(*) FILTER (WHERE can_read) ||"
							  " '/' || count(*) FROM tenancy.permission"
							  " WHERE user_id = $1",
							  1, params);
		{
			char		expect[16];

			snprintf(expect, sizeof(expect), "%d/%d", u->nadmins, u->nadmins);
			if (strcmp(value, expect) != 0)
				bail("user %s holds rights on %s administrations, expected %s",
					 u->email, value, expect);
		}
		pg_free(value);
	}
}

/*
 * Bind reporting login l to its scope, named by codes; binding again
 * replaces the binding.  Returns the result, for the caller to check.
 */
static PGresult *
bind_login(PGconn *conn, const FixtureLogin *l)
{
	const char *params[4];
	char		codes[128] = "";
	int			k;

	params[0] = l->role;
	params[1] = compartment_codes[l->compartment];
	params[2] = l->client;
	params[3] = NULL;
	if (l->codes[0])
	{
		strlcpy(codes, "{", sizeof(codes));
		for (k = 0; l->codes[k]; k++)
		{
			if (k > 0)
				strlcat(codes, ",", sizeof(codes));
			strlcat(codes, l->codes[k], sizeof(codes));
		}
		strlcat(codes, "}", sizeof(codes));
		params[3] = codes;
	}
	return PQexecParams(conn,
						"SELECT tenancy.bind_reporting_login($1::regrole, k.id, c.id, $4::text[])"
						" FROM tenancy.compartment k"
						" LEFT JOIN tenancy.client c ON c.compartment_id = k.id AND c.code = $3"
						" WHERE k.code = $2",
						4, NULL, params, NULL, NULL, 0);
}

/*
 * Install the extension, the roles and, unless it is there already, the
 * fixture; then load the fixture's ids.
 */
static void
setup_fixture(PGconn *conn)
{
	PGresult   *res;
	bool		have_catalog;
	bool		have_table;

	exec_or_bail(conn, "SET client_min_messages = warning");
	exec_or_bail(conn, "CREATE EXTENSION IF NOT EXISTS tenancy");
	exec_or_bail(conn,
				 "DO $$\n"
				 "BEGIN\n"
				 "	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '" APP_ROLE "') THEN\n"
				 "		CREATE ROLE " APP_ROLE " LOGIN;\n"
				 "	END IF;\n"
				 "	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '" PLAIN_ROLE "') THEN\n"
				 "		CREATE ROLE " PLAIN_ROLE " LOGIN;\n"
				 "	END IF;\n"
				 "	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '" BI_FIRM_ROLE "') THEN\n"
				 "		CREATE ROLE " BI_FIRM_ROLE " LOGIN;\n"
				 "	END IF;\n"
				 "	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '" BI_CLIENT_ROLE "') THEN\n"
				 "		CREATE ROLE " BI_CLIENT_ROLE " LOGIN;\n"
				 "	END IF;\n"
				 "END\n"
				 "$$");
	exec_or_bail(conn, "GRANT tenancy_app TO " APP_ROLE);

	exec_or_bail(conn, "BEGIN");
	res = PQexec(conn,
				 "SELECT EXISTS (SELECT FROM tenancy.compartment"
				 "				 WHERE code = 'regress_libpq_a'),"
				 "		pg_catalog.to_regclass('" LEDGER "') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		bail("could not look for the fixture: %s", PQerrorMessage(conn));
	have_catalog = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	have_table = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	if (have_catalog != have_table)
		bail("half a fixture found (compartment %s, table %s); drop it"
			 " (DROP TABLE IF EXISTS " LEDGER "; DROP EXTENSION tenancy CASCADE)"
			 " and run again",
			 have_catalog ? "present" : "missing",
			 have_table ? "present" : "missing");
	if (!have_catalog)
		build_fixture(conn);

	/* the application server reads and writes the ledger */
	exec_or_bail(conn, "GRANT SELECT, INSERT ON " LEDGER " TO " APP_ROLE);
	/* a login outside tenancy_app may read it too: it must see nothing */
	exec_or_bail(conn, "GRANT SELECT ON " LEDGER " TO " PLAIN_ROLE);

	/*
	 * Two SECURITY DEFINER functions of someone else (R3): one of the
	 * superuser that sets the identity setting directly, one of the
	 * application role that calls act_as for whoever calls it.
	 */
	exec_or_bail(conn,
				 "CREATE OR REPLACE FUNCTION public.regress_libpq_set_identity(value text)"
				 " RETURNS text LANGUAGE sql SECURITY DEFINER"
				 " AS $$ SELECT pg_catalog.set_config('tenancy.identity', value, false) $$");
	exec_or_bail(conn, "REVOKE ALL ON FUNCTION public.regress_libpq_set_identity(text) FROM PUBLIC");
	exec_or_bail(conn, "GRANT EXECUTE ON FUNCTION public.regress_libpq_set_identity(text) TO " APP_ROLE);
	exec_or_bail(conn,
				 "CREATE OR REPLACE FUNCTION public.regress_libpq_act_as(user_id bigint)"
				 " RETURNS void LANGUAGE sql SECURITY DEFINER"
				 " AS $$ SELECT tenancy.act_as(user_id) $$");
	exec_or_bail(conn, "ALTER FUNCTION public.regress_libpq_act_as(bigint) OWNER TO " APP_ROLE);
	exec_or_bail(conn, "REVOKE ALL ON FUNCTION public.regress_libpq_act_as(bigint) FROM PUBLIC");
	exec_or_bail(conn, "GRANT EXECUTE ON FUNCTION public.regress_libpq_act_as(bigint) TO " PLAIN_ROLE);

	/*
	 * The reporting logins (R14, R15), bound on every run: a run that was
	 * interrupted between its unbinding and its binding again leaves the
	 * login unbound.
	 */
	res = PQexec(conn,
				 "SELECT pg_catalog.to_regprocedure("
				 "'tenancy.bind_reporting_login(regrole, bigint, bigint, text[])') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		bail("could not look for bind_reporting_login: %s", PQerrorMessage(conn));
	have_reporting = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (have_reporting)
	{
		int			i;

		for (i = 0; i < NLOGINS; i++)
		{
			char		sql[256];

			snprintf(sql, sizeof(sql), "REVOKE ALL ON " LEDGER " FROM %s",
					 logins[i].role);
			exec_or_bail(conn, sql);
			snprintf(sql, sizeof(sql), "GRANT %s ON " LEDGER " TO %s",
					 logins[i].privileges, logins[i].role);
			exec_or_bail(conn, sql);
		}
		/* a plain role a reporting login may SET ROLE to */
		exec_or_bail(conn, "GRANT " PLAIN_ROLE " TO " BI_CLIENT_ROLE);
		for (i = 0; i < NLOGINS; i++)
		{
			res = bind_login(conn, &logins[i]);
			if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
				bail("could not bind reporting login %s: %s", logins[i].role,
					 PQerrorMessage(conn));
			PQclear(res);
		}
	}
	exec_or_bail(conn, "COMMIT");

	load_fixture(conn);
}


/* ----------------------------------------------------------------
 * Scenarios
 * ----------------------------------------------------------------
 */

/*
 * reuse_simple (R1, R4, R7): a pooled connection serves 1000 requests in
 * turn for 50 users, each request BEGIN; act_as_local; SELECT; COMMIT.
 * Each request sees exactly its user's rows; after each COMMIT the
 * session has no identity and sees nothing.
 */
static void
test_reuse_simple(PGconn *conn)
{
	Check		rows;
	Check		cleared;
	int			i;

	check_init(&rows, "reuse_simple: 1000 requests on one connection each see exactly their user's rows");
	check_init(&cleared, "reuse_simple: no identity and no rows after each COMMIT");

	check_identity(&cleared, conn, NULL, "before the first request");
	for (i = 0; i < NREQUESTS && PQstatus(conn) == CONNECTION_OK; i++)
	{
		const FixtureUser *u = &users[(i * 7) % NUSERS];
		char		context[96];
		PGresult   *res;

		snprintf(context, sizeof(context), "request %d (%s)", i + 1, u->email);
		run_ok(&rows, conn, "BEGIN", context);
		act(&rows, conn, "act_as_local", u, NULL, context);
		res = run(&rows, conn, rows_sql, PGRES_TUPLES_OK, context);
		check_rows(&rows, res, u, context);
		PQclear(res);
		run_ok(&rows, conn, "COMMIT", context);
		rollback_if_needed(conn);
		check_identity(&cleared, conn, NULL, context);
	}
	if (i < NREQUESTS)
		check_fail(&rows, "connection lost after %d requests: %s", i,
				   PQerrorMessage(conn));

	check_report(&rows);
	check_report(&cleared);
}

/*
 * reuse_extended (R1, R4, R7): the same over the extended protocol, the
 * user id bound as a parameter.  Also: act_as_local outside a transaction
 * block lives at most until the Sync that ends the implicit transaction.
 */
static void
test_reuse_extended(PGconn *conn)
{
	Check		rows;
	Check		cleared;
	Check		implicit;
	const char *zero[1] = {"0"};
	int			i;

	check_init(&rows, "reuse_extended: 1000 parameterised requests on one connection each see exactly their user's rows");
	check_init(&cleared, "reuse_extended: no identity and no rows after each COMMIT");
	check_init(&implicit, "reuse_extended: act_as_local in an implicit transaction ends at its Sync");

	for (i = 0; i < NREQUESTS && PQstatus(conn) == CONNECTION_OK; i++)
	{
		const FixtureUser *u = &users[(i * 7) % NUSERS];
		const char *uid[1];
		char		context[96];
		PGresult   *res;

		uid[0] = u->idstr;
		snprintf(context, sizeof(context), "request %d (%s)", i + 1, u->email);
		PQclear(run_params(&rows, conn, "BEGIN", 0, NULL,
						   PGRES_COMMAND_OK, context));
		PQclear(run_params(&rows, conn,
						   "SELECT tenancy.act_as_local($1::bigint)", 1, uid,
						   PGRES_TUPLES_OK, context));
		res = run_params(&rows, conn, rows_param_sql, 1, zero,
						 PGRES_TUPLES_OK, context);
		check_rows(&rows, res, u, context);
		PQclear(res);
		PQclear(run_params(&rows, conn, "COMMIT", 0, NULL,
						   PGRES_COMMAND_OK, context));
		rollback_if_needed(conn);
		res = run_params(&cleared, conn, whoami_sql, 0, NULL,
						 PGRES_TUPLES_OK, context);
		check_whoami(&cleared, res, NULL, context);
		PQclear(res);
	}
	if (i < NREQUESTS)
		check_fail(&rows, "connection lost after %d requests: %s", i,
				   PQerrorMessage(conn));

	/*
	 * Without BEGIN each PQexecParams is its own implicit transaction.
	 * Whether act_as_local accepts or refuses that does not matter here;
	 * the next message must find no identity.
	 */
	for (i = 0; i < NUSERS; i++)
	{
		const FixtureUser *u = &users[i];
		const char *uid[1];
		char		context[96];
		PGresult   *res;

		uid[0] = u->idstr;
		snprintf(context, sizeof(context), "implicit transaction %d (%s)",
				 i + 1, u->email);
		res = PQexecParams(conn, "SELECT tenancy.act_as_local($1::bigint)",
						   1, NULL, uid, NULL, NULL, 0);
		if (i == 0)
			printf("# act_as_local outside a transaction block: %s %s\n",
				   PQresStatus(PQresultStatus(res)),
				   sqlstate_of(res));
		PQclear(res);
		res = run_params(&implicit, conn, whoami_sql, 0, NULL,
						 PGRES_TUPLES_OK, context);
		check_whoami(&implicit, res, NULL, context);
		PQclear(res);
	}

	check_report(&rows);
	check_report(&cleared);
	check_report(&implicit);
}

/*
 * prepared (R4, R7): statements prepared once, with no identity or under
 * another user's identity, and re-executed across identity switches
 * return the rows of the identity in force at execution, with custom
 * plans, with the plan cache's own switch to a generic plan, and with
 * plan_cache_mode = force_generic_plan; with act_as_local per transaction
 * and with act_as per session.
 */
static void
test_prepared(PGconn *conn)
{
	Check		rows;
	Check		cleared;
	Check		generic;
	Oid			int8type[1] = {INT8OID};
	Oid			int4type[1] = {INT4OID};
	const char *zero[1] = {"0"};
	static const char *const row_stmts[] = {"lpq_rows", "lpq_rows_param", "lpq_rows_u0"};
	int			pass;
	int			i;
	int			s;
	PGresult   *res;

	check_init(&rows, "prepared: statements re-executed across identity switches return the new identity's rows");
	check_init(&cleared, "prepared: no identity and no rows after each COMMIT and after reset");
	check_init(&generic, "prepared: the generic plans were used");

	PQclear(expect_status(&rows, conn,
						  PQprepare(conn, "lpq_act_local",
									"SELECT tenancy.act_as_local($1)", 1, int8type),
						  PGRES_COMMAND_OK, "PREPARE lpq_act_local", "setup"));
	PQclear(expect_status(&rows, conn,
						  PQprepare(conn, "lpq_act",
									"SELECT tenancy.act_as($1)", 1, int8type),
						  PGRES_COMMAND_OK, "PREPARE lpq_act", "setup"));
	PQclear(expect_status(&rows, conn,
						  PQprepare(conn, "lpq_reset",
									"SELECT tenancy.reset()", 0, NULL),
						  PGRES_COMMAND_OK, "PREPARE lpq_reset", "setup"));
	PQclear(expect_status(&rows, conn,
						  PQprepare(conn, "lpq_rows", rows_sql, 0, NULL),
						  PGRES_COMMAND_OK, "PREPARE lpq_rows", "setup"));
	PQclear(expect_status(&rows, conn,
						  PQprepare(conn, "lpq_rows_param", rows_param_sql,
									1, int4type),
						  PGRES_COMMAND_OK, "PREPARE lpq_rows_param", "setup"));
	PQclear(expect_status(&rows, conn,
						  PQprepare(conn, "lpq_whoami", whoami_sql, 0, NULL),
						  PGRES_COMMAND_OK, "PREPARE lpq_whoami", "setup"));

	/* one statement prepared, and first planned, under user 0's identity */
	run_ok(&rows, conn, "BEGIN", "setup");
	act(&rows, conn, "act_as_local", &users[0], NULL, "setup");
	PQclear(expect_status(&rows, conn,
						  PQprepare(conn, "lpq_rows_u0", rows_sql, 0, NULL),
						  PGRES_COMMAND_OK, "PREPARE lpq_rows_u0", "setup"));
	res = expect_status(&rows, conn,
						PQexecPrepared(conn, "lpq_rows_u0", 0, NULL, NULL, NULL, 0),
						PGRES_TUPLES_OK, "EXECUTE lpq_rows_u0", "setup");
	check_rows(&rows, res, &users[0], "first execution under user 0");
	PQclear(res);
	run_ok(&rows, conn, "COMMIT", "setup");

	/*
	 * Pass 0: plan_cache_mode auto (custom plans, then generic).  Pass 1:
	 * force_generic_plan.  Pass 2: session identities switched by act_as
	 * with no reset in between.
	 */
	for (pass = 0; pass < 3; pass++)
	{
		if (pass == 1)
			run_ok(&rows, conn, "SET plan_cache_mode = force_generic_plan", "pass 1");
		for (i = 0; i < NUSERS; i++)
		{
			const FixtureUser *u = &users[(i * 7 + 1) % NUSERS];
			const char *uid[1];
			char		context[96];

			uid[0] = u->idstr;
			snprintf(context, sizeof(context), "pass %d, execution %d (%s)",
					 pass, i + 1, u->email);
			if (pass < 2)
				run_ok(&rows, conn, "BEGIN", context);
			PQclear(expect_status(&rows, conn,
								  PQexecPrepared(conn,
												 pass < 2 ? "lpq_act_local" : "lpq_act",
												 1, uid, NULL, NULL, 0),
								  PGRES_TUPLES_OK, "EXECUTE act", context));
			for (s = 0; s < lengthof(row_stmts); s++)
			{
				bool		param = strcmp(row_stmts[s], "lpq_rows_param") == 0;

				res = expect_status(&rows, conn,
									PQexecPrepared(conn, row_stmts[s],
												   param ? 1 : 0,
												   param ? zero : NULL,
												   NULL, NULL, 0),
									PGRES_TUPLES_OK, row_stmts[s], context);
				check_rows(&rows, res, u, context);
				PQclear(res);
			}
			if (pass < 2)
			{
				run_ok(&rows, conn, "COMMIT", context);
				rollback_if_needed(conn);
				res = expect_status(&cleared, conn,
									PQexecPrepared(conn, "lpq_whoami", 0,
												   NULL, NULL, NULL, 0),
									PGRES_TUPLES_OK, "EXECUTE lpq_whoami", context);
				check_whoami(&cleared, res, NULL, context);
				PQclear(res);
			}
		}
	}
	PQclear(expect_status(&cleared, conn,
						  PQexecPrepared(conn, "lpq_reset", 0, NULL, NULL, NULL, 0),
						  PGRES_TUPLES_OK, "EXECUTE lpq_reset", "after pass 2"));
	for (s = 0; s < lengthof(row_stmts); s++)
	{
		bool		param = strcmp(row_stmts[s], "lpq_rows_param") == 0;

		res = expect_status(&cleared, conn,
							PQexecPrepared(conn, row_stmts[s],
										   param ? 1 : 0, param ? zero : NULL,
										   NULL, NULL, 0),
							PGRES_TUPLES_OK, row_stmts[s], "after reset");
		if (res && PQntuples(res) != 0)
			check_fail(&cleared, "after reset: %s returned %d rows, expected 0",
					   row_stmts[s], PQntuples(res));
		PQclear(res);
	}
	check_identity(&cleared, conn, NULL, "after reset");

	res = run(&generic, conn,
			  "SELECT name, generic_plans, custom_plans"
			  " FROM pg_catalog.pg_prepared_statements"
			  " WHERE name LIKE 'lpq\\_rows%' ORDER BY name COLLATE \"C\"",
			  PGRES_TUPLES_OK, "plan counts");
	if (res)
	{
		if (PQntuples(res) != lengthof(row_stmts))
			check_fail(&generic, "%d statements in pg_prepared_statements, expected %d",
					   PQntuples(res), (int) lengthof(row_stmts));
		for (i = 0; i < PQntuples(res); i++)
		{
			printf("# %s: %s generic, %s custom plans\n", PQgetvalue(res, i, 0),
				   PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
			if (atoi(PQgetvalue(res, i, 1)) == 0)
				check_fail(&generic, "%s never ran with a generic plan",
						   PQgetvalue(res, i, 0));
		}
		PQclear(res);
	}

	check_report(&rows);
	check_report(&cleared);
	check_report(&generic);
}

/*
 * R4, R24: a driver binds its named statements again in later requests on
 * the same connection.  A request that runs SQL of its own can drop such a
 * statement (DEALLOCATE) and prepare its own SQL under the same name; the
 * next request, under another identity, must not run it.  Before 1.3's
 * last attack it did, and the replaced statement read and wrote that
 * identity's rows for the request that planted it.  A statement prepared
 * with SQL runs only under the identity it was prepared under; the
 * driver's own protocol statements stay usable by every identity (the
 * "prepared" scenario).
 */
static void
test_replaced_statement(PGconn *conn)
{
	Check		refused;
	Check		owner;
	PGresult   *res;
	const FixtureUser *victim = &users[0];
	const FixtureUser *planter = &users[1];

	check_init(&refused, "replaced_statement: a statement replaced with SQL PREPARE by another identity is refused with 42501 at the driver's Bind");
	check_init(&owner, "replaced_statement: the identity that prepared it runs it, with its own rows");

	/* the victim's request: the driver prepares with the protocol */
	run_ok(&refused, conn, "BEGIN", "victim's first request");
	act(&refused, conn, "act_as_local", victim, NULL, "victim's first request");
	PQclear(expect_status(&refused, conn,
						  PQprepare(conn, "lpq_victim", rows_sql, 0, NULL),
						  PGRES_COMMAND_OK, "PREPARE lpq_victim", "victim's first request"));
	run_ok(&refused, conn, "COMMIT", "victim's first request");

	/*
	 * The planter's request replaces it with SQL whose planning runs the
	 * planter's code (an immutable function is folded while the statement
	 * is planned, before any executor hook; it counts the rows it sees into
	 * a temporary sequence, which the next identity could read back)
	 */
	run_ok(&refused, conn, "BEGIN", "planter's request");
	act(&refused, conn, "act_as_local", planter, NULL, "planter's request");
	run_ok(&refused, conn, "DEALLOCATE lpq_victim", "planter's request");
	run_ok(&refused, conn, "CREATE TEMP SEQUENCE lpq_trap", "planter's request");
	run_ok(&refused, conn,
		   "CREATE FUNCTION pg_temp.lpq_trap(t text) RETURNS text IMMUTABLE LANGUAGE plpgsql"
		   " AS $$ BEGIN PERFORM setval('pg_temp.lpq_trap', 1 + (SELECT count(*) FROM " LEDGER "));"
		   " RETURN t; END $$", "planter's request");
	run_ok(&refused, conn,
		   "PREPARE lpq_victim AS SELECT administration_id, label FROM " LEDGER
		   " WHERE pg_temp.lpq_trap('x') IS NOT NULL ORDER BY administration_id, id",
		   "planter's request");
	run_ok(&refused, conn, "COMMIT", "planter's request");

	/* the victim's next request binds the name again: planned for the first time */
	run_ok(&refused, conn, "BEGIN", "victim's next request");
	act(&refused, conn, "act_as_local", victim, NULL, "victim's next request");
	res = expect_status(&refused, conn,
						PQexecPrepared(conn, "lpq_victim", 0, NULL, NULL, NULL, 0),
						PGRES_FATAL_ERROR, "EXECUTE lpq_victim", "victim's next request");
	if (res && strcmp(sqlstate_of(res), "42501") != 0)
		check_fail(&refused, "victim's next request: SQLSTATE %s, expected 42501: %s",
				   sqlstate_of(res), PQresultErrorMessage(res));
	PQclear(res);
	rollback_if_needed(conn);
	res = run(&refused, conn, "SELECT last_value, is_called FROM pg_temp.lpq_trap",
			  PGRES_TUPLES_OK, "after the victim's request");
	if (res && (strcmp(PQgetvalue(res, 0, 0), "1") != 0 || strcmp(PQgetvalue(res, 0, 1), "f") != 0))
		check_fail(&refused, "after the victim's request: the planter's function ran (it saw %s rows)",
				   PQgetvalue(res, 0, 0));
	PQclear(res);
	expect_error(&refused, conn, "EXECUTE lpq_victim", "42501", "no identity");

	/* the planter runs its own statement, with its own rows */
	run_ok(&owner, conn, "BEGIN", "planter's next request");
	act(&owner, conn, "act_as_local", planter, NULL, "planter's next request");
	res = expect_status(&owner, conn,
						PQexecPrepared(conn, "lpq_victim", 0, NULL, NULL, NULL, 0),
						PGRES_TUPLES_OK, "EXECUTE lpq_victim", "planter's next request");
	check_rows(&owner, res, planter, "planter's next request");
	PQclear(res);
	run_ok(&owner, conn, "COMMIT", "planter's next request");
	run_ok(&refused, conn, "DEALLOCATE lpq_victim", "cleanup");
	run_ok(&refused, conn, "DISCARD TEMP", "cleanup");

	check_report(&refused);
	check_report(&owner);
}

/*
 * Read the next result of a pipeline and check its status; for anything
 * but a sync point, also read the NULL that ends the command's results.
 * Returns the result when its status is the expected one, else NULL.
 */
static PGresult *
pipeline_result(Check *c, PGconn *conn, ExecStatusType expect,
				const char *what, const char *context)
{
	PGresult   *res = PQgetResult(conn);

	if (res != NULL && PQresultStatus(res) != PGRES_PIPELINE_SYNC)
	{
		PGresult   *end = PQgetResult(conn);

		if (end != NULL)
		{
			check_fail(c, "%s: %s: unexpected extra result %s", context, what,
					   PQresStatus(PQresultStatus(end)));
			PQclear(end);
		}
	}
	return expect_status(c, conn, res, expect, what, context);
}

static void
pipeline_send(Check *c, PGconn *conn, const char *sql, int nparams,
			  const char *const *params, const char *context)
{
	if (PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0) != 1)
		check_fail(c, "%s: could not send \"%s\": %s", context, sql,
				   PQerrorMessage(conn));
}

static void
pipeline_sync(Check *c, PGconn *conn, const char *context)
{
	if (PQpipelineSync(conn) != 1)
		check_fail(c, "%s: could not send a sync: %s", context,
				   PQerrorMessage(conn));
}

/*
 * pipeline (R4, R7): many identities in one pipeline.  Round 1: one
 * implicit transaction per identity, ended by its own Sync; the next
 * identity's first query finds no identity.  Round 2: explicit
 * BEGIN/act_as_local/SELECT/COMMIT per identity, ten of them before one
 * Sync.  Round 3: a transaction that fails after act_as_local, in an
 * explicit and in an implicit transaction; what follows finds no identity.
 */
static void
test_pipeline(PGconn *conn)
{
	Check		rows;
	Check		cleared;
	const char *zero[1] = {"0"};
	int			g;
	char		context[96];
	PGresult   *res;

#define PIPE_GROUPS 10
#define PIPE_USER(round, g) (&users[((g) * 5 + (round) * 3) % NUSERS])

	check_init(&rows, "pipeline: each transaction of a pipeline sees exactly its user's rows");
	check_init(&cleared, "pipeline: no identity after each Sync, COMMIT and failed transaction");

	if (PQenterPipelineMode(conn) != 1)
	{
		check_fail(&rows, "could not enter pipeline mode: %s", PQerrorMessage(conn));
		check_report(&rows);
		check_report(&cleared);
		return;
	}

	/* round 1: implicit transactions, one Sync each */
	for (g = 0; g < PIPE_GROUPS; g++)
	{
		const char *uid[1];

		uid[0] = PIPE_USER(1, g)->idstr;
		snprintf(context, sizeof(context), "round 1, group %d", g + 1);
		pipeline_send(&cleared, conn, whoami_sql, 0, NULL, context);
		pipeline_send(&rows, conn, "SELECT tenancy.act_as_local($1::bigint)",
					  1, uid, context);
		pipeline_send(&rows, conn, rows_param_sql, 1, zero, context);
		pipeline_sync(&rows, conn, context);
	}
	for (g = 0; g < PIPE_GROUPS; g++)
	{
		const FixtureUser *u = PIPE_USER(1, g);

		snprintf(context, sizeof(context), "round 1, group %d (%s)", g + 1, u->email);
		res = pipeline_result(&cleared, conn, PGRES_TUPLES_OK, "whoami", context);
		check_whoami(&cleared, res, NULL, context);
		PQclear(res);
		PQclear(pipeline_result(&rows, conn, PGRES_TUPLES_OK, "act_as_local", context));
		res = pipeline_result(&rows, conn, PGRES_TUPLES_OK, "rows", context);
		check_rows(&rows, res, u, context);
		PQclear(res);
		PQclear(pipeline_result(&rows, conn, PGRES_PIPELINE_SYNC, "sync", context));
	}

	/* round 2: explicit transactions, one Sync for all */
	for (g = 0; g < PIPE_GROUPS; g++)
	{
		const char *uid[1];

		uid[0] = PIPE_USER(2, g)->idstr;
		snprintf(context, sizeof(context), "round 2, group %d", g + 1);
		pipeline_send(&rows, conn, "BEGIN", 0, NULL, context);
		pipeline_send(&rows, conn, "SELECT tenancy.act_as_local($1::bigint)",
					  1, uid, context);
		pipeline_send(&rows, conn, rows_param_sql, 1, zero, context);
		pipeline_send(&rows, conn, "COMMIT", 0, NULL, context);
		pipeline_send(&cleared, conn, whoami_sql, 0, NULL, context);
	}
	pipeline_sync(&rows, conn, "round 2");
	for (g = 0; g < PIPE_GROUPS; g++)
	{
		const FixtureUser *u = PIPE_USER(2, g);

		snprintf(context, sizeof(context), "round 2, group %d (%s)", g + 1, u->email);
		PQclear(pipeline_result(&rows, conn, PGRES_COMMAND_OK, "BEGIN", context));
		PQclear(pipeline_result(&rows, conn, PGRES_TUPLES_OK, "act_as_local", context));
		res = pipeline_result(&rows, conn, PGRES_TUPLES_OK, "rows", context);
		check_rows(&rows, res, u, context);
		PQclear(res);
		PQclear(pipeline_result(&rows, conn, PGRES_COMMAND_OK, "COMMIT", context));
		res = pipeline_result(&cleared, conn, PGRES_TUPLES_OK, "whoami", context);
		check_whoami(&cleared, res, NULL, context);
		PQclear(res);
	}
	PQclear(pipeline_result(&rows, conn, PGRES_PIPELINE_SYNC, "sync", "round 2"));

	/* round 3: failures after act_as_local */
	{
		const char *uid[1];

		uid[0] = PIPE_USER(3, 0)->idstr;
		strcpy(context, "round 3, explicit transaction");
		pipeline_send(&rows, conn, "BEGIN", 0, NULL, context);
		pipeline_send(&rows, conn, "SELECT tenancy.act_as_local($1::bigint)",
					  1, uid, context);
		pipeline_send(&rows, conn, "SELECT 1 / 0", 0, NULL, context);
		pipeline_send(&rows, conn, rows_sql, 0, NULL, context);
		pipeline_send(&rows, conn, "COMMIT", 0, NULL, context);
		pipeline_sync(&rows, conn, context);
		/* the failed block stays open past the Sync until ROLLBACK */
		pipeline_send(&rows, conn, "ROLLBACK", 0, NULL, context);
		pipeline_send(&cleared, conn, whoami_sql, 0, NULL, context);
		pipeline_sync(&rows, conn, context);

		uid[0] = PIPE_USER(3, 1)->idstr;
		pipeline_send(&rows, conn, "SELECT tenancy.act_as_local($1::bigint)",
					  1, uid, "round 3, implicit transaction");
		pipeline_send(&rows, conn, "SELECT 1 / 0", 0, NULL,
					  "round 3, implicit transaction");
		pipeline_sync(&rows, conn, "round 3, implicit transaction");
		pipeline_send(&cleared, conn, whoami_sql, 0, NULL,
					  "round 3, implicit transaction");
		pipeline_sync(&rows, conn, "round 3, implicit transaction");

		PQclear(pipeline_result(&rows, conn, PGRES_COMMAND_OK, "BEGIN", context));
		PQclear(pipeline_result(&rows, conn, PGRES_TUPLES_OK, "act_as_local", context));
		PQclear(pipeline_result(&rows, conn, PGRES_FATAL_ERROR, "1 / 0", context));
		PQclear(pipeline_result(&rows, conn, PGRES_PIPELINE_ABORTED, "rows", context));
		PQclear(pipeline_result(&rows, conn, PGRES_PIPELINE_ABORTED, "COMMIT", context));
		PQclear(pipeline_result(&rows, conn, PGRES_PIPELINE_SYNC, "sync", context));
		PQclear(pipeline_result(&rows, conn, PGRES_COMMAND_OK, "ROLLBACK", context));
		res = pipeline_result(&cleared, conn, PGRES_TUPLES_OK, "whoami", context);
		check_whoami(&cleared, res, NULL, context);
		PQclear(res);
		PQclear(pipeline_result(&rows, conn, PGRES_PIPELINE_SYNC, "sync", context));

		strcpy(context, "round 3, implicit transaction");
		PQclear(pipeline_result(&rows, conn, PGRES_TUPLES_OK, "act_as_local", context));
		PQclear(pipeline_result(&rows, conn, PGRES_FATAL_ERROR, "1 / 0", context));
		PQclear(pipeline_result(&rows, conn, PGRES_PIPELINE_SYNC, "sync", context));
		res = pipeline_result(&cleared, conn, PGRES_TUPLES_OK, "whoami", context);
		check_whoami(&cleared, res, NULL, context);
		PQclear(res);
		PQclear(pipeline_result(&rows, conn, PGRES_PIPELINE_SYNC, "sync", context));
	}

	if (PQexitPipelineMode(conn) != 1)
		check_fail(&rows, "could not leave pipeline mode: %s", PQerrorMessage(conn));
	else
		check_identity(&cleared, conn, NULL, "after the pipeline");

	check_report(&rows);
	check_report(&cleared);
}

/*
 * failed_transaction (R4, R7): an error after act_as_local, whether the
 * transaction ends in ROLLBACK or in a COMMIT that rolls back, leaves no
 * identity; an insert without the write right is refused; ROLLBACK TO
 * SAVEPOINT undoes an act_as_local made after the savepoint; a failed
 * transaction-local identity gives way to the session identity again; and
 * an act_as made in a transaction that rolls back does not survive it.
 */
static void
test_failed_transaction(PGconn *conn)
{
	Check		rolled;
	Check		insert;
	Check		savepoint;
	Check		fallback;
	Check		session;
	const FixtureUser *u = &users[3];
	const FixtureUser *v = &users[34];
	char		sql[256];

	check_init(&rolled, "failed_transaction: an error after act_as_local leaves no identity (ROLLBACK, COMMIT)");
	check_init(&insert, "failed_transaction: an insert without the write right is refused with 42501 and leaves no identity");
	check_init(&savepoint, "failed_transaction: ROLLBACK TO SAVEPOINT undoes act_as_local");
	check_init(&fallback, "failed_transaction: after a failed act_as_local transaction the session identity is back");
	check_init(&session, "failed_transaction: act_as in a transaction that rolls back does not survive it");

	/* an error, then ROLLBACK */
	run_ok(&rolled, conn, "BEGIN", "error then ROLLBACK");
	act(&rolled, conn, "act_as_local", u, NULL, "error then ROLLBACK");
	expect_error(&rolled, conn, "SELECT 1 / 0", "22012", "error then ROLLBACK");
	run_ok(&rolled, conn, "ROLLBACK", "error then ROLLBACK");
	check_identity(&rolled, conn, NULL, "after error then ROLLBACK");

	/* an error, then COMMIT (which rolls back) */
	run_ok(&rolled, conn, "BEGIN", "error then COMMIT");
	act(&rolled, conn, "act_as_local", u, NULL, "error then COMMIT");
	expect_error(&rolled, conn, "SELECT 1 / 0", "22012", "error then COMMIT");
	run_ok(&rolled, conn, "COMMIT", "error then COMMIT");
	check_identity(&rolled, conn, NULL, "after error then COMMIT");

	/* an insert into an administration u may read but not write */
	run_ok(&insert, conn, "BEGIN", "insert");
	act(&insert, conn, "act_as_local", u, NULL, "insert");
	snprintf(sql, sizeof(sql),
			 "INSERT INTO " LEDGER " (administration_id, label, amount)"
			 " VALUES (" INT64_FORMAT ", '%s/forged', 1)",
			 admins[u->admins[0]].id, admins[u->admins[0]].code);
	expect_error(&insert, conn, sql, "42501", "insert without write");
	run_ok(&insert, conn, "ROLLBACK", "insert");
	check_identity(&insert, conn, NULL, "after the refused insert");

	/* a savepoint rolled back over act_as_local */
	run_ok(&savepoint, conn, "BEGIN", "savepoint");
	run_ok(&savepoint, conn, "SAVEPOINT before_identity", "savepoint");
	act(&savepoint, conn, "act_as_local", u, NULL, "savepoint");
	check_identity(&savepoint, conn, u, "after act_as_local in the savepoint");
	run_ok(&savepoint, conn, "ROLLBACK TO SAVEPOINT before_identity", "savepoint");
	check_identity(&savepoint, conn, NULL, "after ROLLBACK TO SAVEPOINT");
	run_ok(&savepoint, conn, "COMMIT", "savepoint");
	rollback_if_needed(conn);
	check_identity(&savepoint, conn, NULL, "after COMMIT");

	/* a session identity under a failed transaction-local one */
	act(&fallback, conn, "act_as", v, NULL, "session identity");
	run_ok(&fallback, conn, "BEGIN", "local over session");
	act(&fallback, conn, "act_as_local", u, NULL, "local over session");
	check_identity(&fallback, conn, u, "inside the transaction");
	expect_error(&fallback, conn, "SELECT 1 / 0", "22012", "local over session");
	run_ok(&fallback, conn, "ROLLBACK", "local over session");
	check_identity(&fallback, conn, v, "after ROLLBACK");
	run_ok(&fallback, conn, "SELECT tenancy.reset()", "reset");
	check_identity(&fallback, conn, NULL, "after reset");

	/* act_as inside a transaction that fails */
	run_ok(&session, conn, "BEGIN", "act_as in a failed transaction");
	act(&session, conn, "act_as", u, NULL, "act_as in a failed transaction");
	expect_error(&session, conn, "SELECT 1 / 0", "22012", "act_as in a failed transaction");
	run_ok(&session, conn, "ROLLBACK", "act_as in a failed transaction");
	check_identity(&session, conn, NULL, "after ROLLBACK");
	rollback_if_needed(conn);
	PQclear(PQexec(conn, "SELECT tenancy.reset()"));

	check_report(&rolled);
	check_report(&insert);
	check_report(&savepoint);
	check_report(&fallback);
	check_report(&session);
}

/*
 * discard_all (R4, R5): a session identity locked with a key can be
 * neither switched nor reset without the key, nor overridden with
 * act_as_local; DISCARD ALL, a pool's reset, clears identity and lock
 * (and is itself refused inside a transaction block, changing nothing);
 * with the key, act_as switches and reset clears.
 */
static void
test_discard_all(PGconn *conn)
{
	Check		locked;
	Check		discard;
	Check		keyed;
	const FixtureUser *u = &users[8];
	const FixtureUser *v = &users[41];
	char		sql[128];

	check_init(&locked, "discard_all: a locked identity can be neither switched nor reset without its key");
	check_init(&discard, "discard_all: DISCARD ALL clears a locked session identity and its lock");
	check_init(&keyed, "discard_all: act_as and reset with the key switch and clear a locked identity");

	act(&locked, conn, "act_as", u, LOCK_KEY, "lock");
	check_identity(&locked, conn, u, "after act_as with a key");
	snprintf(sql, sizeof(sql), "SELECT tenancy.act_as(%s)", v->idstr);
	expect_error(&locked, conn, sql, NULL, "switch without key");
	snprintf(sql, sizeof(sql), "SELECT tenancy.act_as(%s, 'wrong key')", v->idstr);
	expect_error(&locked, conn, sql, NULL, "switch with a wrong key");
	expect_error(&locked, conn, "SELECT tenancy.reset()", NULL, "reset without key");
	expect_error(&locked, conn, "SELECT tenancy.reset('wrong key')", NULL,
				 "reset with a wrong key");
	run_ok(&locked, conn, "BEGIN", "act_as_local without key");
	snprintf(sql, sizeof(sql), "SELECT tenancy.act_as_local(%s)", v->idstr);
	expect_error(&locked, conn, sql, NULL, "act_as_local without key");
	run_ok(&locked, conn, "ROLLBACK", "act_as_local without key");
	check_identity(&locked, conn, u, "after the refused attempts");

	/* DISCARD ALL cannot run in a transaction block; nothing changes */
	run_ok(&discard, conn, "BEGIN", "DISCARD ALL in a block");
	expect_error(&discard, conn, "DISCARD ALL", "25001", "DISCARD ALL in a block");
	run_ok(&discard, conn, "ROLLBACK", "DISCARD ALL in a block");
	check_identity(&discard, conn, u, "after the refused DISCARD ALL");

	run_ok(&discard, conn, "DISCARD ALL", "pool reset");
	check_identity(&discard, conn, NULL, "after DISCARD ALL");
	/* the next client of the pool acts as someone else, without the key */
	act(&discard, conn, "act_as", v, NULL, "next client");
	check_identity(&discard, conn, v, "next client");
	run_ok(&discard, conn, "DISCARD ALL", "pool reset");
	check_identity(&discard, conn, NULL, "after the second DISCARD ALL");

	act(&keyed, conn, "act_as", u, LOCK_KEY, "lock");
	act(&keyed, conn, "act_as", v, LOCK_KEY, "switch with the key");
	check_identity(&keyed, conn, v, "after the switch with the key");
	run_ok(&keyed, conn, "SELECT tenancy.reset('" LOCK_KEY "')", "reset with the key");
	check_identity(&keyed, conn, NULL, "after reset with the key");
	act(&keyed, conn, "act_as", u, NULL, "unlocked afterwards");
	run_ok(&keyed, conn, "SELECT tenancy.reset()", "reset of an unlocked identity");
	check_identity(&keyed, conn, NULL, "after reset");

	check_report(&locked);
	check_report(&discard);
	check_report(&keyed);
}

/*
 * Try to set the identity setting to value with SET, SET LOCAL and
 * set_config: every form must fail with 42501 and leave the identity as
 * it was (expect).
 */
static void
forge_setting(Check *c, PGconn *conn, const char *value,
			  const FixtureUser *expect, const char *context)
{
	char	   *literal = PQescapeLiteral(conn, value, strlen(value));
	char		sql[1024];
	const char *params[1];
	PGresult   *res;

	if (literal == NULL)
	{
		check_fail(c, "%s: could not quote the value", context);
		return;
	}
	snprintf(sql, sizeof(sql), "SET tenancy.identity = %s", literal);
	expect_error(c, conn, sql, "42501", context);
	snprintf(sql, sizeof(sql), "SET SESSION tenancy.identity TO %s", literal);
	expect_error(c, conn, sql, "42501", context);
	run_ok(c, conn, "BEGIN", context);
	snprintf(sql, sizeof(sql), "SET LOCAL tenancy.identity = %s", literal);
	expect_error(c, conn, sql, "42501", context);
	run_ok(c, conn, "ROLLBACK", context);
	snprintf(sql, sizeof(sql),
			 "SELECT pg_catalog.set_config('tenancy.identity', %s, false)",
			 literal);
	expect_error(c, conn, sql, "42501", context);
	run_ok(c, conn, "BEGIN", context);
	snprintf(sql, sizeof(sql),
			 "SELECT pg_catalog.set_config('tenancy.identity', %s, true)",
			 literal);
	expect_error(c, conn, sql, "42501", context);
	run_ok(c, conn, "ROLLBACK", context);

	/* the extended protocol, value bound as a parameter */
	params[0] = value;
	res = PQexecParams(conn,
					   "SELECT pg_catalog.set_config('tenancy.identity', $1, false)",
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_FATAL_ERROR)
		check_fail(c, "%s: set_config with a bound value succeeded", context);
	PQclear(res);

	check_identity(c, conn, expect, context);
	PQfreemem(literal);
}

/* Backslash-escape spaces and backslashes for the "options" keyword. */
static void
escape_option(char *dst, size_t size, const char *src)
{
	size_t		n = 0;

	for (; *src && n + 2 < size; src++)
	{
		if (*src == ' ' || *src == '\\')
			dst[n++] = '\\';
		dst[n++] = *src;
	}
	dst[n] = '\0';
}

/*
 * forged_identity (R3): an identity cannot be set or changed from SQL
 * except through the extension's functions.
 */
static void
test_forged_identity(PGconn *conn)
{
	Check		forged;
	Check		replay;
	Check		resetall;
	Check		definer;
	Check		conninfo;
	Check		preload;
	Check		outsider;
	const FixtureUser *u = &users[12];
	const FixtureUser *v = &users[45];
	char		captured[512] = "";
	char		sql[1024];
	char		options[1200];
	PGconn	   *admin;
	PGconn	   *other;
	PGresult   *res;
	const char *params[1];

	check_init(&forged, "forged_identity: SET, SET LOCAL and set_config of tenancy.identity are refused with 42501");
	check_init(&replay, "forged_identity: a captured identity value replayed with SET or set_config is refused");
	check_init(&resetall, "forged_identity: RESET tenancy.identity and RESET ALL neither clear nor change the identity");
	check_init(&definer, "forged_identity: SECURITY DEFINER functions of someone else give no identity");
	check_init(&conninfo, "forged_identity: tenancy.identity in the connection string gives no identity");
	check_init(&preload, "forged_identity: SET before the library is loaded gives no identity");
	check_init(&outsider, "forged_identity: a login outside tenancy_app can call neither act_as nor act_as_local");

	/*
	 * Capture the value the extension itself writes for u, as the superuser
	 * (who passes every check) sees it, to replay it below.  When the
	 * identity does not live in the setting, the user id stands in.
	 */
	admin = connect_or_bail(NULL);
	PQclear(PQexec(admin, "SET client_min_messages = warning"));
	snprintf(sql, sizeof(sql), "SELECT tenancy.act_as(%s)", u->idstr);
	PQclear(PQexec(admin, sql));
	res = PQexec(admin, "SELECT pg_catalog.current_setting('tenancy.identity', true)");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && !PQgetisnull(res, 0, 0))
		strlcpy(captured, PQgetvalue(res, 0, 0), sizeof(captured));
	PQclear(res);
	PQfinish(admin);
	if (captured[0] == '\0')
		strlcpy(captured, u->idstr, sizeof(captured));
	printf("# replaying a captured identity value of %d bytes\n",
		   (int) strlen(captured));

	/* load the library in this backend, then forge */
	check_identity(&forged, conn, NULL, "start");
	forge_setting(&forged, conn, u->idstr, NULL, "user id as value");
	forge_setting(&forged, conn, "1", NULL, "\"1\" as value");
	forge_setting(&replay, conn, captured, NULL, "captured value, no identity");

	/* with an identity in place, forging must not change it */
	act(&replay, conn, "act_as", v, NULL, "identity in place");
	forge_setting(&replay, conn, captured, v, "captured value over another identity");

	/* RESET: neither the setting alone nor RESET ALL touch the identity */
	res = PQexec(conn, "RESET tenancy.identity");
	printf("# RESET tenancy.identity: %s %s\n", PQresStatus(PQresultStatus(res)),
		   sqlstate_of(res));
	PQclear(res);
	check_identity(&resetall, conn, v, "after RESET tenancy.identity");
	run_ok(&resetall, conn, "RESET ALL", "RESET ALL");
	check_identity(&resetall, conn, v, "after RESET ALL");
	run_ok(&resetall, conn, "SELECT tenancy.reset()", "reset");
	check_identity(&resetall, conn, NULL, "after reset");

	/* a SECURITY DEFINER function of the superuser writing the setting */
	params[0] = captured;
	res = PQexecParams(conn, "SELECT public.regress_libpq_set_identity($1)",
					   1, NULL, params, NULL, NULL, 0);
	printf("# superuser's SECURITY DEFINER set_config: %s %s\n",
		   PQresStatus(PQresultStatus(res)),
		   sqlstate_of(res));
	PQclear(res);
	check_identity(&definer, conn, NULL, "after the superuser's SECURITY DEFINER function");

	/* options=-c tenancy.identity=... in the connection string */
	{
		char		escaped[1100];

		escape_option(escaped, sizeof(escaped), captured);
		snprintf(options, sizeof(options), "-c tenancy.identity=%s", escaped);
	}
	other = connect_as(APP_ROLE, options);
	if (PQstatus(other) != CONNECTION_OK)
		printf("# connection with tenancy.identity in options refused: %s",
			   PQerrorMessage(other));
	else
	{
		check_identity(&conninfo, other, NULL, "connection string setting");
		check_identity(&conninfo, other, NULL, "connection string setting, again");
	}
	PQfinish(other);

	/* a fresh backend: SET before any function of the library ran */
	other = connect_as(APP_ROLE, NULL);
	if (PQstatus(other) != CONNECTION_OK)
		check_fail(&preload, "could not connect: %s", PQerrorMessage(other));
	else
	{
		char	   *literal = PQescapeLiteral(other, captured, strlen(captured));

		snprintf(sql, sizeof(sql), "SET tenancy.identity = %s",
				 literal ? literal : "''");
		res = PQexec(other, sql);
		printf("# SET before the library is loaded: %s %s\n",
			   PQresStatus(PQresultStatus(res)),
			   sqlstate_of(res));
		PQclear(res);
		check_identity(&preload, other, NULL, "after SET before the library loaded");
		check_identity(&preload, other, NULL, "next statement");
		if (literal)
			PQfreemem(literal);
	}
	PQfinish(other);

	/* a login that is not a member of tenancy_app */
	other = connect_as(PLAIN_ROLE, NULL);
	if (PQstatus(other) != CONNECTION_OK)
		check_fail(&outsider, "could not connect as " PLAIN_ROLE ": %s",
				   PQerrorMessage(other));
	else
	{
		snprintf(sql, sizeof(sql), "SELECT tenancy.act_as(%s)", u->idstr);
		expect_error(&outsider, other, sql, "42501", PLAIN_ROLE);
		run_ok(&outsider, other, "BEGIN", PLAIN_ROLE);
		snprintf(sql, sizeof(sql), "SELECT tenancy.act_as_local(%s)", u->idstr);
		expect_error(&outsider, other, sql, "42501", PLAIN_ROLE);
		run_ok(&outsider, other, "ROLLBACK", PLAIN_ROLE);
		check_identity(&outsider, other, NULL, PLAIN_ROLE);

		/* through a SECURITY DEFINER function owned by the application role */
		snprintf(sql, sizeof(sql), "SELECT public.regress_libpq_act_as(%s)", u->idstr);
		res = PQexec(other, sql);
		printf("# the application role's SECURITY DEFINER act_as, called by "
			   PLAIN_ROLE ": %s %s\n",
			   PQresStatus(PQresultStatus(res)),
			   sqlstate_of(res));
		PQclear(res);
		check_identity(&definer, other, NULL,
					   PLAIN_ROLE " after the application role's SECURITY DEFINER act_as");
	}
	PQfinish(other);

	check_report(&forged);
	check_report(&replay);
	check_report(&resetall);
	check_report(&definer);
	check_report(&conninfo);
	check_report(&preload);
	check_report(&outsider);
}

/*
 * concurrent (R1, R4, R6, R7): 8 connections work at once, round after
 * round, each acting as another user every round: the even ones with
 * act_as_local in a transaction, the odd ones with act_as switched from
 * one user to the next.  All 8 requests of a round are sent before any
 * result is read, so the server runs them side by side.
 */
static void
test_concurrent(PGconn *conn)
{
	Check		rows;
	Check		identity;
	PGconn	   *conns[NCONNS];
	int			c;
	int			r;
	char		context[96];

	check_init(&rows, "concurrent: 8 connections x 60 rounds each see exactly their user's rows");
	check_init(&identity, "concurrent: transaction identities end at COMMIT, session identities hold until switched");

	/* conn is the first of the eight */
	conns[0] = conn;
	for (c = 1; c < NCONNS; c++)
		conns[c] = connect_or_bail(APP_ROLE);

	for (r = 0; r < NROUNDS; r++)
	{
		for (c = 0; c < NCONNS; c++)
		{
			const FixtureUser *u = &users[(c * 6 + r * 7) % NUSERS];
			char		sql[512];

			if (c % 2 == 0)
				snprintf(sql, sizeof(sql),
						 "BEGIN; SELECT tenancy.act_as_local(%s); %s; COMMIT; %s",
						 u->idstr, rows_sql, whoami_sql);
			else
				snprintf(sql, sizeof(sql),
						 "SELECT tenancy.act_as(%s); %s; %s",
						 u->idstr, rows_sql, whoami_sql);
			if (PQsendQuery(conns[c], sql) != 1)
				check_fail(&rows, "round %d, connection %d: could not send: %s",
						   r + 1, c + 1, PQerrorMessage(conns[c]));
		}
		for (c = 0; c < NCONNS; c++)
		{
			const FixtureUser *u = &users[(c * 6 + r * 7) % NUSERS];
			PGresult   *results[8];
			PGresult   *res;
			int			n = 0;
			int			expect = c % 2 == 0 ? 5 : 3;
			int			i;

			while ((res = PQgetResult(conns[c])) != NULL)
			{
				if (n < lengthof(results))
					results[n++] = res;
				else
					PQclear(res);
			}
			snprintf(context, sizeof(context), "round %d, connection %d (%s)",
					 r + 1, c + 1, u->email);
			for (i = 0; i < n; i++)
				if (PQresultStatus(results[i]) == PGRES_FATAL_ERROR)
					check_fail(&rows, "%s: %s", context,
							   PQresultErrorMessage(results[i]));
			if (n != expect)
				check_fail(&rows, "%s: %d results, expected %d", context, n, expect);
			else if (c % 2 == 0)
			{
				check_rows(&rows, results[2], u, context);
				check_whoami(&identity, results[4], NULL, context);
			}
			else
			{
				check_rows(&rows, results[1], u, context);
				check_whoami(&identity, results[2], u, context);
			}
			for (i = 0; i < n; i++)
				PQclear(results[i]);
			rollback_if_needed(conns[c]);
		}
	}

	for (c = 0; c < NCONNS; c++)
	{
		snprintf(context, sizeof(context), "connection %d at the end", c + 1);
		run_ok(&identity, conns[c], "SELECT tenancy.reset()", context);
		check_identity(&identity, conns[c], NULL, context);
		if (c > 0)
			PQfinish(conns[c]);
	}

	check_report(&rows);
	check_report(&identity);
}

/* ----------------------------------------------------------------
 * Reporting logins
 * ----------------------------------------------------------------
 */

/* what a session says its scope is, with codes to compare */
static const char *const scope_sql =
"SELECT m.administration_id, m.code, m.client_code, m.compartment_code,"
" m.rights::text FROM tenancy.my_administrations m"
" ORDER BY m.administration_id";

/* The rows of rows_sql that l must see: its scope's, or none when unbound. */
static void
check_scope_rows(Check *c, PGresult *res, const FixtureLogin *l, bool bound,
				 const char *context)
{
	bool		reads[NADMINS];
	int			j;

	for (j = 0; j < NADMINS; j++)
		reads[j] = bound && login_reads(l, j);
	check_rows_of(c, res, l->role, reads, context);
}

/*
 * Read the ledger on reporting login l's connection, with no identity:
 * over the simple protocol, over the extended protocol, and through the
 * connection's prepared statements lpq_bi_rows and lpq_bi_rows_param, six
 * times each so that the plan cache moves on to generic plans.  Each
 * statement is its own transaction.  Everything must show exactly l's
 * scope when it is bound, and nothing when it is not.
 */
static void
read_scope(Check *c, PGconn *conn, const FixtureLogin *l, bool bound,
		   const char *context)
{
	const char *zero[1] = {"0"};
	char		ctx[192];
	PGresult   *res;
	int			expect = bound ? login_rows(l) : 0;
	int			i;

	snprintf(ctx, sizeof(ctx), "%s, simple protocol", context);
	res = run(c, conn, rows_sql, PGRES_TUPLES_OK, ctx);
	check_scope_rows(c, res, l, bound, ctx);
	PQclear(res);

	/* a reporting login never has an act-as identity */
	res = run(c, conn, whoami_sql, PGRES_TUPLES_OK, ctx);
	if (res && PQntuples(res) == 1)
	{
		if (!PQgetisnull(res, 0, 0))
			check_fail(c, "%s: current_user_id() is %s, expected NULL", ctx,
					   PQgetvalue(res, 0, 0));
		if (atoi(PQgetvalue(res, 0, 1)) != expect)
			check_fail(c, "%s: count(*) is %s, expected %d", ctx,
					   PQgetvalue(res, 0, 1), expect);
	}
	PQclear(res);

	snprintf(ctx, sizeof(ctx), "%s, extended protocol", context);
	res = run_params(c, conn, rows_param_sql, 1, zero, PGRES_TUPLES_OK, ctx);
	check_scope_rows(c, res, l, bound, ctx);
	PQclear(res);

	for (i = 0; i < 6; i++)
	{
		snprintf(ctx, sizeof(ctx), "%s, prepared statement, execution %d",
				 context, i + 1);
		res = expect_status(c, conn,
							PQexecPrepared(conn, "lpq_bi_rows", 0, NULL,
										   NULL, NULL, 0),
							PGRES_TUPLES_OK, "EXECUTE lpq_bi_rows", ctx);
		check_scope_rows(c, res, l, bound, ctx);
		PQclear(res);
		res = expect_status(c, conn,
							PQexecPrepared(conn, "lpq_bi_rows_param", 1, zero,
										   NULL, NULL, 0),
							PGRES_TUPLES_OK, "EXECUTE lpq_bi_rows_param", ctx);
		check_scope_rows(c, res, l, bound, ctx);
		PQclear(res);
	}
}

/*
 * tenancy.my_administrations must list exactly l's scope (nothing when
 * unbound), with the fixture's codes and read alone; visible_administrations
 * must agree, and give nothing for write.
 */
static void
check_listed(Check *c, PGconn *conn, const FixtureLogin *l, bool bound,
			 const char *context)
{
	bool		listed[NADMINS];
	int64		ids[NADMINS];
	int			nids = 0;
	char		expect[256];
	const char *rights[1];
	PGresult   *res;
	int			i;
	int			j;

	memset(listed, 0, sizeof(listed));
	res = run(c, conn, scope_sql, PGRES_TUPLES_OK, context);
	for (i = 0; res && i < PQntuples(res); i++)
	{
		int64		adm = (int64) strtoll(PQgetvalue(res, i, 0), NULL, 10);

		j = admin_index(adm);
		if (j < 0 || !bound || !login_reads(l, j))
		{
			check_fail(c, "%s: my_administrations lists administration %s (%s),"
					   " outside the scope of %s", context,
					   PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), l->role);
			continue;
		}
		if (listed[j])
			check_fail(c, "%s: my_administrations lists %s twice", context,
					   admins[j].code);
		listed[j] = true;
		if (strcmp(PQgetvalue(res, i, 1), admins[j].code) != 0 ||
			strcmp(PQgetvalue(res, i, 2), admins[j].client) != 0 ||
			strcmp(PQgetvalue(res, i, 3),
				   compartment_codes[admins[j].compartment]) != 0)
			check_fail(c, "%s: my_administrations says %s/%s/%s for %s/%s/%s",
					   context, PQgetvalue(res, i, 3), PQgetvalue(res, i, 2),
					   PQgetvalue(res, i, 1),
					   compartment_codes[admins[j].compartment],
					   admins[j].client, admins[j].code);
		if (strcmp(PQgetvalue(res, i, 4), "{read}") != 0)
			check_fail(c, "%s: my_administrations gives %s rights %s, expected {read}",
					   context, l->role, PQgetvalue(res, i, 4));
	}
	PQclear(res);
	for (j = 0; j < NADMINS; j++)
		if (bound && login_reads(l, j) && !listed[j])
			check_fail(c, "%s: my_administrations does not list %s of the scope of %s",
					   context, admins[j].code, l->role);

	/* the same scope as ids, ascending, over the extended protocol */
	for (j = 0; j < NADMINS; j++)
	{
		if (bound && login_reads(l, j))
		{
			for (i = nids; i > 0 && ids[i - 1] > admins[j].id; i--)
				ids[i] = ids[i - 1];
			ids[i] = admins[j].id;
			nids++;
		}
	}
	strlcpy(expect, "{", sizeof(expect));
	for (i = 0; i < nids; i++)
	{
		char		id[32];

		snprintf(id, sizeof(id), i > 0 ? "," INT64_FORMAT : INT64_FORMAT, ids[i]);
		strlcat(expect, id, sizeof(expect));
	}
	strlcat(expect, "}", sizeof(expect));

	rights[0] = "read";
	res = run_params(c, conn, "SELECT tenancy.visible_administrations($1)",
					 1, rights, PGRES_TUPLES_OK, context);
	if (res && (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
				strcmp(PQgetvalue(res, 0, 0), expect) != 0))
		check_fail(c, "%s: visible_administrations('read') is %s, expected %s",
				   context,
				   PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ?
				   PQgetvalue(res, 0, 0) : "NULL", expect);
	PQclear(res);
	rights[0] = "write";
	res = run_params(c, conn, "SELECT tenancy.visible_administrations($1)",
					 1, rights, PGRES_TUPLES_OK, context);
	if (res && (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
				strcmp(PQgetvalue(res, 0, 0), "{}") != 0))
		check_fail(c, "%s: visible_administrations('write') is %s, expected {}",
				   context,
				   PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ?
				   PQgetvalue(res, 0, 0) : "NULL");
	PQclear(res);
}

/*
 * Try a write in a transaction that is rolled back whatever happens.  With
 * sqlstate, it must fail with that SQLSTATE; without, it must fail or
 * touch no row.  With param, over the extended protocol with that one
 * parameter.  show prints the outcome as a diagnostic.
 */
static void
try_write(Check *c, PGconn *conn, const char *sql, const char *param,
		  const char *sqlstate, bool show, const char *context)
{
	PGresult   *res;

	run_ok(c, conn, "BEGIN", context);
	if (param)
		res = PQexecParams(conn, sql, 1, NULL, &param, NULL, NULL, 0);
	else
		res = PQexec(conn, sql);
	if (show)
		printf("# %s: %s: %s %s %s", context, sql,
			   PQresStatus(PQresultStatus(res)),
			   PQresultStatus(res) == PGRES_FATAL_ERROR ?
			   sqlstate_of(res) : PQcmdTuples(res),
			   PQresultStatus(res) == PGRES_FATAL_ERROR ?
			   PQresultErrorMessage(res) : "rows\n");
	if (PQresultStatus(res) == PGRES_FATAL_ERROR)
	{
		if (sqlstate && strcmp(sqlstate_of(res), sqlstate) != 0)
			check_fail(c, "%s: \"%s\" failed with SQLSTATE %s, expected %s: %s",
					   context, sql, sqlstate_of(res), sqlstate,
					   PQresultErrorMessage(res));
	}
	else if (sqlstate)
		check_fail(c, "%s: \"%s\" succeeded (%s, %s rows); it must fail with %s",
				   context, sql, PQresStatus(PQresultStatus(res)),
				   PQcmdTuples(res), sqlstate);
	else if (PQresultStatus(res) != PGRES_COMMAND_OK)
		check_fail(c, "%s: \"%s\": %s", context, sql,
				   PQresStatus(PQresultStatus(res)));
	else if (strcmp(PQcmdTuples(res), "0") != 0)
		check_fail(c, "%s: \"%s\" wrote %s rows; it must write none",
				   context, sql, PQcmdTuples(res));
	PQclear(res);
	run_ok(c, conn, "ROLLBACK", context);
}

/*
 * Every kind of write reporting login l may try, on its connection: INSERT
 * (refused with 42501 while bound; refused some way when unbound), UPDATE
 * and DELETE (refused with 42501 or touching no row), over both protocols.
 */
static void
try_writes(Check *c, PGconn *conn, const FixtureLogin *l, bool bound,
		   const char *context)
{
	int			in = -1;
	int			out = -1;
	int			j;
	char		sql[512];
	char		in_id[32];
	char		ctx[160];

	/* one administration of the scope, one outside, nearby if possible */
	for (j = 0; j < NADMINS; j++)
	{
		if (login_reads(l, j))
		{
			if (in < 0)
				in = j;
		}
		else if (out < 0 || (admins[out].compartment != l->compartment &&
							 admins[j].compartment == l->compartment))
			out = j;
	}
	snprintf(in_id, sizeof(in_id), INT64_FORMAT, admins[in].id);

	snprintf(ctx, sizeof(ctx), "%s, INSERT into %s", context, admins[in].code);
	snprintf(sql, sizeof(sql),
			 "INSERT INTO " LEDGER " (administration_id, label, amount)"
			 " VALUES (" INT64_FORMAT ", '%s/reporting', 1)",
			 admins[in].id, admins[in].code);
	try_write(c, conn, sql, NULL, bound ? "42501" : NULL, true, ctx);
	try_write(c, conn,
			  "INSERT INTO " LEDGER " (administration_id, label, amount)"
			  " VALUES ($1::bigint, 'reporting', 1)",
			  in_id, bound ? "42501" : NULL, false, ctx);
	try_write(c, conn,
			  "INSERT INTO " LEDGER " (administration_id, label, amount)"
			  " SELECT administration_id, label, amount FROM " LEDGER,
			  NULL, bound ? "42501" : NULL, false, ctx);

	snprintf(ctx, sizeof(ctx), "%s, INSERT into %s", context, admins[out].code);
	snprintf(sql, sizeof(sql),
			 "INSERT INTO " LEDGER " (administration_id, label, amount)"
			 " VALUES (" INT64_FORMAT ", '%s/reporting', 1)",
			 admins[out].id, admins[out].code);
	try_write(c, conn, sql, NULL, bound ? "42501" : NULL, false, ctx);

	snprintf(ctx, sizeof(ctx), "%s, UPDATE", context);
	try_write(c, conn, "UPDATE " LEDGER " SET amount = amount + 1",
			  NULL, NULL, true, ctx);
	try_write(c, conn, "UPDATE " LEDGER " SET amount = amount + 1"
			  " WHERE administration_id = $1::bigint",
			  in_id, NULL, false, ctx);
	snprintf(sql, sizeof(sql),
			 "UPDATE " LEDGER " SET administration_id = " INT64_FORMAT
			 " WHERE administration_id = $1::bigint", admins[out].id);
	try_write(c, conn, sql, in_id, NULL, false, ctx);

	snprintf(ctx, sizeof(ctx), "%s, DELETE", context);
	try_write(c, conn, "DELETE FROM " LEDGER, NULL, NULL, true, ctx);
	try_write(c, conn, "DELETE FROM " LEDGER " WHERE administration_id = $1::bigint",
			  in_id, NULL, false, ctx);
}

/*
 * One request of the application server: act as u for a transaction; it
 * must see exactly u's rows, and nothing after COMMIT.
 */
static void
app_request(Check *c, PGconn *conn, const FixtureUser *u, const char *context)
{
	char		ctx[160];
	PGresult   *res;

	snprintf(ctx, sizeof(ctx), "%s, application server as %s", context, u->email);
	check_identity(c, conn, NULL, ctx);
	run_ok(c, conn, "BEGIN", ctx);
	act(c, conn, "act_as_local", u, NULL, ctx);
	res = run(c, conn, rows_sql, PGRES_TUPLES_OK, ctx);
	check_rows(c, res, u, ctx);
	PQclear(res);
	check_identity(c, conn, u, ctx);
	run_ok(c, conn, "COMMIT", ctx);
	rollback_if_needed(conn);
	check_identity(c, conn, NULL, ctx);
}

/* The ledger as the superuser sees it: all its rows, none changed. */
static void
check_ledger_intact(Check *c, PGconn *admin, const char *context)
{
	PGresult   *res;
	int			nrows = 0;
	int64		sum = 0;
	int			j;

	for (j = 0; j < NADMINS; j++)
	{
		nrows += admins[j].nrows;
		sum += (int64) admins[j].nrows * (admins[j].nrows + 1) / 2;
	}
	res = run(c, admin, "SELECT count(*), sum(amount) FROM " LEDGER,
			  PGRES_TUPLES_OK, context);
	if (res && (atoi(PQgetvalue(res, 0, 0)) != nrows ||
				strtoll(PQgetvalue(res, 0, 1), NULL, 10) != sum))
		check_fail(c, "%s: the ledger holds %s rows summing to %s, expected %d and "
				   INT64_FORMAT, context, PQgetvalue(res, 0, 0),
				   PQgetvalue(res, 0, 1), nrows, sum);
	PQclear(res);
}

/*
 * reporting (R14, R15): the reporting logins connect as themselves and,
 * without any act_as, read exactly their scope over the simple and the
 * extended protocol and through prepared statements; they write nothing;
 * SET ROLE does not move the scope; unbinding empties it from the login's
 * next transaction and binding again restores it, on the same connection;
 * the application server (conn) acting as users meanwhile is unaffected,
 * and cannot be bound itself.
 */
static void
test_reporting(PGconn *conn)
{
	Check		rows;
	Check		listed;
	Check		readonly;
	Check		session;
	Check		unbind;
	Check		rebind;
	Check		app;
	Check		refused;
	PGconn	   *bi[NLOGINS];
	PGconn	   *admin;
	PGconn	   *other;
	PGresult   *res;
	Oid			int4type[1] = {INT4OID};
	char		context[160];
	char		sql[512];
	int			i;

	check_init(&rows, "reporting: a bound login sees exactly its scope's rows with no act_as (simple, extended, prepared)");
	check_init(&listed, "reporting: my_administrations and visible_administrations give exactly the login's scope, read only");
	check_init(&readonly, "reporting: INSERT is refused with 42501, UPDATE and DELETE are refused or touch no row, act_as is refused");
	check_init(&session, "reporting: the scope follows the session user: SET ROLE keeps it, SET SESSION AUTHORIZATION changes it");
	check_init(&unbind, "reporting: after unbind_reporting_login the login's next transaction sees nothing");
	check_init(&rebind, "reporting: binding again restores the scope on the same connection");
	check_init(&app, "reporting: an application server acting with act_as_local in the same run is unaffected");
	check_init(&refused, "reporting: binding is refused with 42501 for the application role and for a superuser");

	if (!have_reporting)
	{
		const char *why = "tenancy.bind_reporting_login() is not installed (extension before 1.1)";

		check_skip(&rows, why);
		check_skip(&listed, why);
		check_skip(&readonly, why);
		check_skip(&session, why);
		check_skip(&unbind, why);
		check_skip(&rebind, why);
		check_skip(&app, why);
		check_skip(&refused, why);
		return;
	}

	admin = connect_or_bail(NULL);
	PQclear(PQexec(admin, "SET client_min_messages = warning"));
	for (i = 0; i < NLOGINS; i++)
	{
		bi[i] = connect_or_bail(logins[i].role);
		PQclear(expect_status(&rows, bi[i],
							  PQprepare(bi[i], "lpq_bi_rows", rows_sql, 0, NULL),
							  PGRES_COMMAND_OK, "PREPARE lpq_bi_rows", logins[i].role));
		PQclear(expect_status(&rows, bi[i],
							  PQprepare(bi[i], "lpq_bi_rows_param", rows_param_sql,
										1, int4type),
							  PGRES_COMMAND_OK, "PREPARE lpq_bi_rows_param",
							  logins[i].role));
	}

	/* both logins at once, each in its own scope; the application meanwhile */
	app_request(&app, conn, &users[3], "before the reporting logins read");
	for (i = 0; i < NLOGINS; i++)
	{
		const FixtureLogin *l = &logins[i];

		printf("# %s: %d rows in scope\n", l->role, login_rows(l));
		snprintf(context, sizeof(context), "%s, bound", l->role);
		read_scope(&rows, bi[i], l, true, context);
		check_listed(&listed, bi[i], l, true, context);
		app_request(&app, conn, &users[30 + i * 7], context);

		/* in an explicit transaction block too */
		snprintf(context, sizeof(context), "%s, bound, in a transaction block", l->role);
		run_ok(&rows, bi[i], "BEGIN", context);
		res = run(&rows, bi[i], rows_sql, PGRES_TUPLES_OK, context);
		check_scope_rows(&rows, res, l, true, context);
		PQclear(res);
		res = run(&rows, bi[i], rows_sql, PGRES_TUPLES_OK, context);
		check_scope_rows(&rows, res, l, true, context);
		PQclear(res);
		run_ok(&rows, bi[i], "COMMIT", context);
		rollback_if_needed(bi[i]);
	}

	/* writes */
	for (i = 0; i < NLOGINS; i++)
	{
		const FixtureLogin *l = &logins[i];
		const FixtureUser *u = &users[l->compartment == 0 ? 0 : 30];

		snprintf(context, sizeof(context), "%s, bound", l->role);
		try_writes(&readonly, bi[i], l, true, context);
		snprintf(sql, sizeof(sql), "SELECT tenancy.act_as(%s)", u->idstr);
		expect_error(&readonly, bi[i], sql, "42501", context);
		run_ok(&readonly, bi[i], "BEGIN", context);
		snprintf(sql, sizeof(sql), "SELECT tenancy.act_as_local(%s)", u->idstr);
		expect_error(&readonly, bi[i], sql, "42501", context);
		run_ok(&readonly, bi[i], "ROLLBACK", context);
		read_scope(&readonly, bi[i], l, true, "after the writes");
	}
	check_ledger_intact(&readonly, admin, "after the reporting logins' writes");

	/*
	 * The scope is the session user's: SET ROLE to the plain login keeps
	 * bi_client's scope (the plain login alone sees nothing), and a
	 * superuser's SET SESSION AUTHORIZATION takes the scope of the login
	 * it becomes.
	 */
	snprintf(context, sizeof(context), "%s after SET ROLE " PLAIN_ROLE,
			 BI_CLIENT_ROLE);
	run_ok(&session, bi[1], "SET ROLE " PLAIN_ROLE, context);
	res = run(&session, bi[1], "SELECT current_user", PGRES_TUPLES_OK, context);
	if (res && strcmp(PQgetvalue(res, 0, 0), PLAIN_ROLE) != 0)
		check_fail(&session, "%s: current_user is %s", context, PQgetvalue(res, 0, 0));
	PQclear(res);
	res = run(&session, bi[1], rows_sql, PGRES_TUPLES_OK, context);
	check_scope_rows(&session, res, &logins[1], true, context);
	PQclear(res);
	check_listed(&session, bi[1], &logins[1], true, context);
	try_write(&session, bi[1],
			  "INSERT INTO " LEDGER " (administration_id, label, amount)"
			  " SELECT administration_id, label, amount FROM " LEDGER,
			  NULL, "42501", false, context);
	run_ok(&session, bi[1], "RESET ROLE", context);

	other = connect_or_bail(NULL);
	for (i = 0; i < NLOGINS; i++)
	{
		snprintf(context, sizeof(context),
				 "superuser after SET SESSION AUTHORIZATION %s", logins[i].role);
		snprintf(sql, sizeof(sql), "SET SESSION AUTHORIZATION %s", logins[i].role);
		run_ok(&session, other, sql, context);
		res = run(&session, other, rows_sql, PGRES_TUPLES_OK, context);
		check_scope_rows(&session, res, &logins[i], true, context);
		PQclear(res);
		check_listed(&session, other, &logins[i], true, context);
	}
	run_ok(&session, other, "RESET SESSION AUTHORIZATION", "superuser");
	PQfinish(other);

	/* unbind each login in turn, then bind it again */
	for (i = 0; i < NLOGINS; i++)
	{
		const FixtureLogin *l = &logins[i];
		const FixtureLogin *m = &logins[(i + 1) % NLOGINS];
		const char *role[1];

		role[0] = l->role;

		/* a transaction of the login that is open across the unbinding */
		snprintf(context, sizeof(context), "%s, transaction open across the unbinding",
				 l->role);
		run_ok(&unbind, bi[i], "BEGIN", context);
		res = run(&unbind, bi[i], rows_sql, PGRES_TUPLES_OK, context);
		check_scope_rows(&unbind, res, l, true, context);
		PQclear(res);

		PQclear(run_params(&unbind, admin,
						   "SELECT tenancy.unbind_reporting_login($1::regrole)",
						   1, role, PGRES_TUPLES_OK, "unbind"));

		res = run(&unbind, bi[i], rows_sql, PGRES_TUPLES_OK, context);
		if (res)
			printf("# %s: %d of %d rows in the transaction open across the unbinding\n",
				   l->role, PQntuples(res), login_rows(l));
		PQclear(res);
		run_ok(&unbind, bi[i], "COMMIT", context);
		rollback_if_needed(bi[i]);

		/* its next transactions see nothing, on every path */
		snprintf(context, sizeof(context), "%s, unbound", l->role);
		read_scope(&unbind, bi[i], l, false, context);
		check_listed(&unbind, bi[i], l, false, context);
		try_writes(&unbind, bi[i], l, false, context);

		/* nor does a new connection */
		snprintf(context, sizeof(context), "%s, unbound, new connection", l->role);
		other = connect_as(l->role, NULL);
		if (PQstatus(other) != CONNECTION_OK)
			check_fail(&unbind, "%s: could not connect: %s", context,
					   PQerrorMessage(other));
		else
		{
			res = run(&unbind, other, rows_sql, PGRES_TUPLES_OK, context);
			check_scope_rows(&unbind, res, l, false, context);
			PQclear(res);
			check_listed(&unbind, other, l, false, context);
		}
		PQfinish(other);

		/* the other login and the application server go on as before */
		snprintf(context, sizeof(context), "%s while %s is unbound", m->role, l->role);
		read_scope(&unbind, bi[(i + 1) % NLOGINS], m, true, context);
		app_request(&app, conn, &users[l->compartment == 0 ? 1 : 31], context);
		app_request(&app, conn, &users[l->compartment == 0 ? 33 : 4], context);

		/* bound again: the same connection's next transaction sees its scope */
		res = bind_login(admin, l);
		PQclear(expect_status(&rebind, admin, res, PGRES_TUPLES_OK,
							  "bind_reporting_login", l->role));
		snprintf(context, sizeof(context), "%s, bound again", l->role);
		read_scope(&rebind, bi[i], l, true, context);
		check_listed(&rebind, bi[i], l, true, context);
		try_write(&rebind, bi[i],
				  "INSERT INTO " LEDGER " (administration_id, label, amount)"
				  " SELECT administration_id, label, amount FROM " LEDGER,
				  NULL, "42501", false, context);

		snprintf(context, sizeof(context), "%s, bound again, new connection", l->role);
		other = connect_as(l->role, NULL);
		if (PQstatus(other) != CONNECTION_OK)
			check_fail(&rebind, "%s: could not connect: %s", context,
					   PQerrorMessage(other));
		else
		{
			res = run(&rebind, other, rows_sql, PGRES_TUPLES_OK, context);
			check_scope_rows(&rebind, res, l, true, context);
			PQclear(res);
		}
		PQfinish(other);
	}

	/* the application role and a superuser cannot be bound */
	res = PQexec(admin, "SELECT id FROM tenancy.compartment"
				 " WHERE code = 'regress_libpq_a'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		check_fail(&refused, "could not find compartment regress_libpq_a: %s",
				   PQerrorMessage(admin));
	else
	{
		char		comp[32];

		strlcpy(comp, PQgetvalue(res, 0, 0), sizeof(comp));
		run_ok(&refused, admin, "BEGIN", "binding");
		snprintf(sql, sizeof(sql),
				 "SELECT tenancy.bind_reporting_login('" APP_ROLE "', %s)", comp);
		expect_error(&refused, admin, sql, "42501", APP_ROLE);
		run_ok(&refused, admin, "ROLLBACK", "binding");
		run_ok(&refused, admin, "BEGIN", "binding");
		snprintf(sql, sizeof(sql),
				 "SELECT tenancy.bind_reporting_login(session_user::regrole, %s)", comp);
		expect_error(&refused, admin, sql, "42501", "the superuser");
		run_ok(&refused, admin, "ROLLBACK", "binding");
	}
	PQclear(res);
	app_request(&app, conn, &users[5], "at the end");
	app_request(&app, conn, &users[40], "at the end");

	res = run(&rows, bi[0],
			  "SELECT name, generic_plans, custom_plans"
			  " FROM pg_catalog.pg_prepared_statements"
			  " WHERE name LIKE 'lpq\\_bi\\_%' ORDER BY name COLLATE \"C\"",
			  PGRES_TUPLES_OK, "plan counts");
	for (i = 0; res && i < PQntuples(res); i++)
		printf("# %s on " BI_FIRM_ROLE ": %s generic, %s custom plans\n",
			   PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	PQclear(res);

	for (i = 0; i < NLOGINS; i++)
		PQfinish(bi[i]);
	PQfinish(admin);

	check_report(&rows);
	check_report(&listed);
	check_report(&readonly);
	check_report(&session);
	check_report(&unbind);
	check_report(&rebind);
	check_report(&app);
	check_report(&refused);
}


/* ----------------------------------------------------------------
 * Main
 * ----------------------------------------------------------------
 */

static void
usage(void)
{
	fprintf(stderr, "%s tests the tenancy extension through libpq.\n\n", progname);
	fprintf(stderr, "Usage:\n");
	fprintf(stderr, "  %s tests                  list the scenarios\n", progname);
	fprintf(stderr, "  %s CONNINFO [SCENARIO]    run all scenarios, or one\n\n", progname);
	fprintf(stderr, "CONNINFO must reach the database as a superuser.\n");
}

int
main(int argc, char **argv)
{
	const char *only = NULL;
	const Scenario *s;
	PGconn	   *admin;

	if (argc < 2 || argc > 3 ||
		strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0)
	{
		usage();
		exit(argc == 2 ? 0 : 2);
	}
	if (strcmp(argv[1], "tests") == 0)
	{
		for (s = scenarios; s->name; s++)
			printf("%s\n", s->name);
		exit(0);
	}
	base_conninfo = argv[1];
	if (argc == 3)
	{
		only = argv[2];
		for (s = scenarios; s->name; s++)
			if (strcmp(s->name, only) == 0)
				break;
		if (s->name == NULL)
		{
			fprintf(stderr, "%s: unknown scenario \"%s\"; \"%s tests\" lists them\n",
					progname, only, progname);
			exit(2);
		}
	}

	/* stdout carries TAP; keep it in order with the diagnostics */
	setvbuf(stdout, NULL, _IOLBF, 0);

	plan_users();
	admin = connect_or_bail(NULL);
	setup_fixture(admin);

	for (s = scenarios; s->name; s++)
	{
		PGconn	   *conn;

		if (only && strcmp(s->name, only) != 0)
			continue;
		printf("# %s: %s\n", s->name, s->summary);
		conn = connect_or_bail(APP_ROLE);
		s->run(conn);
		PQfinish(conn);
	}

	PQfinish(admin);
	printf("1..%d\n", tests_run);
	if (tests_failed > 0)
		printf("# %d of %d tests failed\n", tests_failed, tests_run);
	return tests_failed > 0 ? 1 : 0;
}
