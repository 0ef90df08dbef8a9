/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Access to tenancy's own tables: lookups, elevation, SPI plumbing,
 *	  argument checks and the error helpers.
 *
 * Nobody but the extension's owner holds privileges on the catalog tables;
 * the C code reads and writes them through SPI with parameters, elevated
 * to the owner only around the SPI block that needs it
 * (tenancy_catalog_elevate / tenancy_catalog_restore).  Elevation also
 * pins search_path to "pg_catalog, pg_temp", so that no object of the
 * caller's can be picked up by the owner's statements.  The connect,
 * elevate, restore, finish sequence is written once, in
 * tenancy_catalog_within_as(); one statement goes through tenancy_catalog_read,
 * tenancy_catalog_write or tenancy_catalog_query, several that belong
 * together (under one lock) through tenancy_catalog_within with a body.
 * Readers and bodies copy out what they keep before SPI_finish().
 *
 * This is the lowest module: it calls no other module of the extension
 * (identity.c, rights.c and the rest stand on it).
 *
 * Plans of statements run often (the identity lookup, the visibility
 * cache) are prepared once per backend and kept with SPI_keepplan; the
 * plan cache revalidates them after DDL.  They are generic: every one is
 * a handful of index probes whose shape does not depend on the values, so
 * planning them anew for each identity (what the plan cache does when a
 * custom plan looks cheaper) would only cost time.
 *
 * The schema's OID and the owner are asked for on every elevation and by
 * every trigger, so they are kept per backend: forgotten at any change of
 * pg_namespace (DROP and CREATE EXTENSION) and at a relcache invalidation
 * of the table the owner is read from (ALTER ... OWNER); the callbacks only
 * clear the values.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "tenancy.h"

/* kept per backend, InvalidOid when unknown (see the file header) */
static Oid	namespace_oid = InvalidOid;
static Oid	owner_oid = InvalidOid;
static Oid	owner_relid = InvalidOid;

static void
catalog_syscache_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	namespace_oid = InvalidOid;
	owner_oid = InvalidOid;
}

static void
catalog_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == owner_relid)
		owner_oid = InvalidOid;
}

/*
 * tenancy_catalog_init: the invalidation callbacks of the cached OIDs
 * (called from _PG_init)
 */
void
tenancy_catalog_init(void)
{
	CacheRegisterSyscacheCallback(NAMESPACEOID, catalog_syscache_callback,
								  (Datum) 0);
	CacheRegisterRelcacheCallback(catalog_relcache_callback, (Datum) 0);
}

/* OID of schema tenancy, or InvalidOid when the extension is not installed */
Oid
tenancy_catalog_namespace(void)
{
	if (!OidIsValid(namespace_oid))
		namespace_oid = get_namespace_oid("tenancy", true);
	return namespace_oid;
}

/* OID of one of tenancy's tables, or InvalidOid */
Oid
tenancy_catalog_relid(const char *relname)
{
	Oid			nsp = tenancy_catalog_namespace();

	if (!OidIsValid(nsp))
		return InvalidOid;
	return get_relname_relid(relname, nsp);
}

/* tenancy_catalog_relation_name: relid's schema-qualified, quoted name */
char *
tenancy_catalog_relation_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * tenancy_catalog_function: OID of function tenancy.<name>(argtypes), or
 * InvalidOid: one the catalog lacks (an older version, the library
 * installed and ALTER EXTENSION UPDATE not run yet)
 */
Oid
tenancy_catalog_function(const char *name, int nargs, const Oid *argtypes)
{
	return LookupFuncName(list_make2(makeString("tenancy"), makeString((char *) name)),
						  nargs, argtypes, true);
}

/* the role that owns the catalog tables (the extension's owner) */
Oid
tenancy_catalog_owner(void)
{
	Oid			relid;
	HeapTuple	tuple;
	Oid			owner;

	if (OidIsValid(owner_oid))
		return owner_oid;
	relid = tenancy_catalog_relid("compartment");
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"tenancy\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION tenancy.")));
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	owner_relid = relid;
	owner_oid = owner;
	return owner;
}

/*
 * tenancy_catalog_save_setting: set a setting for the GUC nest level the
 * caller opened with NewGUCNestLevel(); AtEOXact_GUC(true, level) puts the
 * value before it back, and a transaction's or subtransaction's abort does
 * too
 */
void
tenancy_catalog_save_setting(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * tenancy_catalog_pin_search_path: a new GUC nest level whose search_path
 * is "pg_catalog, pg_temp", so that SQL the extension runs or parses
 * cannot pick up an operator, function or table of a schema on the
 * caller's path (operators and functions are never looked up in pg_temp).
 * Returns the level; undo it with AtEOXact_GUC(true, level), which a
 * transaction abort does too.
 */
int
tenancy_catalog_pin_search_path(void)
{
	int			level = NewGUCNestLevel();

	tenancy_catalog_save_setting("search_path", "pg_catalog, pg_temp");
	return level;
}

/*
 * elevate_to: become role, with extra security-context flags, and a safe
 * search_path.  Paired with tenancy_catalog_restore.  On error,
 * transaction abort restores both the user id and the GUC nest level.
 */
static void
elevate_to(Oid role, int sec_flags, TenancyElevation *save)
{
	GetUserIdAndSecContext(&save->saved_userid, &save->saved_sec_context);
	SetUserIdAndSecContext(role, save->saved_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE | sec_flags);
	save->guc_nestlevel = tenancy_catalog_pin_search_path();
}

/*
 * tenancy_catalog_elevate: become the catalog owner with a safe search_path.
 *
 * Must be paired with tenancy_catalog_restore.
 */
void
tenancy_catalog_elevate(TenancyElevation *save)
{
	elevate_to(tenancy_catalog_owner(), 0, save);
}

void
tenancy_catalog_restore(TenancyElevation *save)
{
	AtEOXact_GUC(true, save->guc_nestlevel);
	SetUserIdAndSecContext(save->saved_userid, save->saved_sec_context);
}

/* is roleid a member (with privileges) of the named role? */
bool
tenancy_catalog_has_role(Oid roleid, const char *rolename)
{
	Oid			target = get_role_oid(rolename, true);

	if (!OidIsValid(target))
		return superuser_arg(roleid);
	return has_privs_of_role(roleid, target);
}

/*
 * tenancy_catalog_is_operator: is the caller a platform operator?
 *
 * Call it before elevating: it asks about the current user.
 */
bool
tenancy_catalog_is_operator(void)
{
	return tenancy_catalog_has_role(GetUserId(), TENANCY_ADMIN_ROLE);
}

/* prepare a statement once per backend and keep its (generic) plan */
static void
keep_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	p;

	if (*plan != NULL)
		return;
	p = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (p == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	SPI_keepplan(p);
	*plan = p;
}

/*
 * tenancy_catalog_exec: run one catalog statement through SPI.
 *
 * With plan != NULL the statement is prepared once and kept.  Returns the
 * number of rows processed; any SPI failure is an internal error.
 */
int
tenancy_catalog_exec(SPIPlanPtr *plan, const char *sql, int nargs,
					 Oid *argtypes, Datum *values, const char *nulls,
					 bool read_only)
{
	int			rc;

	/* a read inside a statement uses its snapshot (works in parallel mode) */
	if (read_only && !ActiveSnapshotSet())
		read_only = false;

	if (plan != NULL)
	{
		keep_plan(plan, sql, nargs, argtypes);
		rc = SPI_execute_plan(*plan, values, nulls, read_only, 0);
	}
	else
		rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls,
								   read_only, 0);
	if (rc < 0)
		elog(ERROR, "SPI failed for \"%s\": %s", sql, SPI_result_code_string(rc));
	return (int) SPI_processed;
}

/* value of column col (0-based) of result row, false when NULL */
bool
tenancy_catalog_get_int64(int row, int col, int64 *value)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
								  col + 1, &isnull);

	if (!isnull)
		*value = DatumGetInt64(d);
	return !isnull;
}

bool
tenancy_catalog_get_bool(int row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
								  col + 1, &isnull);

	return !isnull && DatumGetBool(d);
}

/*
 * rights mask of four boolean columns read, write, submit, manage starting
 * at column col of a result row (the layout of permission and delegation)
 */
int
tenancy_catalog_get_rights(int row, int col)
{
	return (tenancy_catalog_get_bool(row, col) ? TENANCY_RIGHT_READ : 0) |
		(tenancy_catalog_get_bool(row, col + 1) ? TENANCY_RIGHT_WRITE : 0) |
		(tenancy_catalog_get_bool(row, col + 2) ? TENANCY_RIGHT_SUBMIT : 0) |
		(tenancy_catalog_get_bool(row, col + 3) ? TENANCY_RIGHT_MANAGE : 0);
}

/* text of column col, copied to the caller's context (survives SPI_finish) */
char *
tenancy_catalog_get_text(int row, int col)
{
	char	   *s = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
								 col + 1);
	char	   *copy;

	if (s == NULL)
		return NULL;
	copy = SPI_palloc(strlen(s) + 1);
	strcpy(copy, s);
	return copy;
}

/*
 * Errors: one helper per situation, so that every module refuses the same
 * situation with the same SQLSTATE and the same words (the map is in
 * tenancy.h).  detail and hint may be NULL for the usual text; "" leaves
 * the field out.
 */

/*
 * tenancy_catalog_require_coordinator: refuse, on a Citus worker, what
 * writes the catalog or takes an identity from it (R25).  A worker's own
 * catalog is empty and nobody reads it there: the rights come from the
 * coordinator's replicas (probe.c) and the identity from a token the
 * coordinator signed (token.c).  Written there, it would be a second,
 * unaudited catalog whose ids collide with the coordinator's.  The audit
 * trigger calls it for every write to a catalog table, whoever makes it;
 * the management functions' permission checks and act_as call it first,
 * so that they say why.  An extension script (CREATE or ALTER EXTENSION,
 * which Citus runs on every node) passes.
 */
void
tenancy_catalog_require_coordinator(const char *action)
{
	if (!creating_extension && tenancy_probe_replica())
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("cannot %s on a Citus worker", action),
				 errdetail("On a worker, tenancy's catalog is the coordinator's, read through its replicas, and the identity comes only from a token signed by the coordinator."),
				 errhint("Run it on the coordinator.")));
}

/* a call that needs an identity, without one (R2): 55000 */
void
tenancy_catalog_error_no_identity(const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_BAD_STATE),
			 errmsg("no tenancy identity is set"),
			 (detail && detail[0]) ? errdetail_internal("%s", detail) : 0,
			 errhint("%s", hint ? hint : "Call tenancy.act_as_local() or tenancy.act_as() first.")));
	pg_unreachable();
}

/*
 * an object named by id that does not exist, told to a caller who may know
 * it (an operator, or a role that sees every row): 42704
 */
void
tenancy_catalog_error_unknown(const char *kind, int64 id, const char *detail,
							  const char *hint)
{
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_UNKNOWN),
			 errmsg("%s %lld does not exist", kind, (long long) id),
			 (detail && detail[0]) ? errdetail_internal("%s", detail) : 0,
			 (hint && hint[0]) ? errhint("%s", hint) : 0));
	pg_unreachable();
}

/*
 * an object that does not exist or that the caller may not see, in words
 * that do not tell which: 42501, or 42704 for an operator (who sees every
 * object, so for whom it does not exist)
 */
void
tenancy_catalog_error_inaccessible(const char *kind, int64 id, bool is_operator,
								   const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(is_operator ? TENANCY_ERRCODE_UNKNOWN : TENANCY_ERRCODE_DENIED),
			 errmsg("%s %lld does not exist or is not accessible",
					kind, (long long) id),
			 (detail == NULL || detail[0]) ?
			 errdetail_internal("%s", detail ? detail :
								"Objects the caller may not see are reported this way, whether they exist or not.") : 0,
			 (hint && hint[0]) ? errhint("%s", hint) : 0));
	pg_unreachable();
}

/*
 * an object found in another compartment than the one the call needs it
 * in: for an operator, who sees every compartment, that is what it is
 * (22023, with operator_detail and operator_hint); for anyone else, the
 * very words tenancy_catalog_error_inaccessible gives for an object that
 * does not exist (with detail), so that the answer tells nothing
 */
void
tenancy_catalog_error_elsewhere(const char *kind, int64 id, bool is_operator,
								const char *detail, const char *operator_detail,
								const char *operator_hint)
{
	if (!is_operator)
		tenancy_catalog_error_inaccessible(kind, id, false, detail, NULL);
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
			 errmsg("%s %lld belongs to another compartment", kind, (long long) id),
			 errdetail_internal("%s", operator_detail),
			 errhint("%s", operator_hint)));
	pg_unreachable();
}

/* one statement of run_elevated, and its row count */
typedef struct OneStatement
{
	SPIPlanPtr *plan;
	const char *sql;
	int			nargs;
	Oid		   *argtypes;
	Datum	   *values;
	const char *nulls;
	bool		latest;
	bool		read_only;
	TenancyCatalogReader reader;
	void	   *arg;
	int			n;
} OneStatement;

/* the body of run_elevated, inside tenancy_catalog_within */
static void
one_statement(void *arg)
{
	OneStatement *st = (OneStatement *) arg;

	if (st->latest)
		st->n = tenancy_catalog_exec_latest(st->plan, st->sql, st->nargs,
											st->argtypes, st->values, st->nulls);
	else
		st->n = tenancy_catalog_exec(st->plan, st->sql, st->nargs, st->argtypes,
									 st->values, st->nulls, st->read_only);
	if (st->reader != NULL)
		st->reader(SPI_tuptable != NULL ? st->n : 0, st->arg);
}

/*
 * run_elevated: one statement inside tenancy_catalog_within, under the
 * active snapshot (in parallel mode, the statement's) or, with latest,
 * under a fresh snapshot of what has been committed by now (even in a
 * REPEATABLE READ transaction, the way ri_triggers.c checks a key); hands
 * the rows to reader inside the connection.  Returns the number of rows
 * processed.
 */
static int
run_elevated(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes,
			 Datum *values, const char *nulls, bool latest, bool read_only,
			 TenancyCatalogReader reader, void *arg)
{
	OneStatement st = {plan, sql, nargs, argtypes, values, nulls, latest,
	read_only, reader, arg, 0};

	tenancy_catalog_within(one_statement, &st);
	return st.n;
}

/*
 * tenancy_catalog_within_as: the one SPI block of the extension.  Connects,
 * becomes role (with the extra security-context flags sec_flags) with a
 * pinned search_path, runs body (which runs its statements through SPI and
 * reads their rows with tenancy_catalog_get_*), then restores and
 * finishes.  What body keeps must be copied to the caller's memory
 * (SPI_palloc, or a context saved before): SPI's is gone when this
 * returns.  On error, transaction abort restores the user id, the settings
 * and SPI.
 */
void
tenancy_catalog_within_as(Oid role, int sec_flags, TenancyCatalogBody body,
						  void *arg)
{
	TenancyElevation save;

	SPI_connect();
	elevate_to(role, sec_flags, &save);
	body(arg);
	tenancy_catalog_restore(&save);
	SPI_finish();
}

/* tenancy_catalog_within: body as the catalog owner */
void
tenancy_catalog_within(TenancyCatalogBody body, void *arg)
{
	tenancy_catalog_within_as(tenancy_catalog_owner(), 0, body, arg);
}

/*
 * tenancy_catalog_read: one catalog statement that reads, elevated, under
 * the active snapshot in parallel mode and a fresh one otherwise; reader
 * (may be NULL) sees its n rows through tenancy_catalog_get_* inside the
 * SPI connection and copies out what it keeps: SPI's memory is gone when
 * this returns.
 */
int
tenancy_catalog_read(SPIPlanPtr *plan, const char *sql, int nargs,
					 Oid *argtypes, Datum *values,
					 TenancyCatalogReader reader, void *arg)
{
	return run_elevated(plan, sql, nargs, argtypes, values, NULL, false,
						IsInParallelMode(), reader, arg);
}

/*
 * tenancy_catalog_read_latest: tenancy_catalog_read under a snapshot taken
 * now, also in REPEATABLE READ and SERIALIZABLE, for what must see every
 * commit whose invalidation has arrived; in parallel mode, where no
 * snapshot can be taken, under the active one (the caller must allow for
 * that)
 */
int
tenancy_catalog_read_latest(SPIPlanPtr *plan, const char *sql, int nargs,
							Oid *argtypes, Datum *values,
							TenancyCatalogReader reader, void *arg)
{
	return run_elevated(plan, sql, nargs, argtypes, values, NULL,
						!IsInParallelMode(), IsInParallelMode(), reader, arg);
}

/*
 * tenancy_catalog_write: one catalog statement that may write, elevated;
 * reader as for tenancy_catalog_read
 */
int
tenancy_catalog_write(SPIPlanPtr *plan, const char *sql, int nargs,
					  Oid *argtypes, Datum *values, const char *nulls,
					  TenancyCatalogReader reader, void *arg)
{
	return run_elevated(plan, sql, nargs, argtypes, values, nulls, false,
						false, reader, arg);
}

/* set only around tenancy_catalog_state_write's statement */
static bool state_writing = false;

/* the first column of the first row a write returned, if it returned rows */
typedef struct WriteResult
{
	bool		returned;
	int64		first;
} WriteResult;

static void
write_first_column(int n, void *arg)
{
	WriteResult *result = (WriteResult *) arg;

	if (n > 0)
	{
		result->returned = true;
		(void) tenancy_catalog_get_int64(0, 0, &result->first);
	}
}

/*
 * tenancy_catalog_write_first: tenancy_catalog_write, giving the first
 * column of the first row the statement returned, or the count of rows it
 * wrote when it returns none
 */
int64
tenancy_catalog_write_first(SPIPlanPtr *plan, const char *sql, int nargs,
							Oid *argtypes, Datum *values, const char *nulls)
{
	WriteResult result = {false, 0};
	int			n;

	n = tenancy_catalog_write(plan, sql, nargs, argtypes, values, nulls,
							  write_first_column, &result);
	return result.returned ? result.first : n;
}

/*
 * tenancy_catalog_state_write: tenancy_catalog_write_first of a table whose
 * rows change only through tenancy's functions (R21: the migration tables
 * and tenancy.delegation).  Their guard trigger (triggers.c, state_guard)
 * lets the rows of this statement through and refuses every other write,
 * the table owner's and a superuser's included.  Only around a statement
 * on those tables, never around one that may run someone else's trigger.
 */
int64
tenancy_catalog_state_write(SPIPlanPtr *plan, const char *sql, int nargs,
							Oid *argtypes, Datum *values, const char *nulls)
{
	int64		first;

	state_writing = true;
	PG_TRY();
	{
		first = tenancy_catalog_write_first(plan, sql, nargs, argtypes, values, nulls);
	}
	PG_FINALLY();
	{
		state_writing = false;
	}
	PG_END_TRY();
	return first;
}

/* is tenancy_catalog_state_write's statement running? */
bool
tenancy_catalog_state_writing(void)
{
	return state_writing;
}

/* where catalog_query copies the first row to */
typedef struct FirstRow
{
	int64	   *ints;
	int			nints;
	char	  **texts;
	int			ntexts;
} FirstRow;

/*
 * copy_first_row: the first row's first nints columns as bigint (0 for
 * NULL) and the next ntexts columns as text (NULL for NULL), into the
 * caller's memory
 */
static void
copy_first_row(int n, void *arg)
{
	FirstRow   *first = (FirstRow *) arg;
	int			i;

	if (n == 0)
		return;
	for (i = 0; i < first->nints; i++)
		if (!tenancy_catalog_get_int64(0, i, &first->ints[i]))
			first->ints[i] = 0;
	for (i = 0; i < first->ntexts; i++)
		first->texts[i] = tenancy_catalog_get_text(0, first->nints + i);
}

/* one statement, its first row copied out (see copy_first_row) */
static int
catalog_query(SPIPlanPtr *plan, const char *sql, int nargs,
			  Oid *argtypes, Datum *values, const char *nulls,
			  int64 *ints, int nints, char **texts, int ntexts, bool latest,
			  bool read_only)
{
	FirstRow	first = {ints, nints, texts, ntexts};

	return run_elevated(plan, sql, nargs, argtypes, values, nulls, latest,
						read_only, copy_first_row, &first);
}

/*
 * tenancy_catalog_query: catalog_query under a fresh snapshot (the active
 * one in parallel mode)
 */
int
tenancy_catalog_query(SPIPlanPtr *plan, const char *sql, int nargs,
					  Oid *argtypes, Datum *values, const char *nulls,
					  int64 *ints, int nints, char **texts, int ntexts)
{
	return catalog_query(plan, sql, nargs, argtypes, values, nulls,
						 ints, nints, texts, ntexts, false, IsInParallelMode());
}

/*
 * tenancy_catalog_read_statement, tenancy_catalog_query_statement:
 * tenancy_catalog_read and _query under the snapshot of the statement being
 * run (the active one; a fresh one outside a statement), for the loads of
 * the visibility cache: the rights that judge a statement's rows are those
 * of the snapshot the rows are read under (see visibility.c)
 */
int
tenancy_catalog_read_statement(SPIPlanPtr *plan, const char *sql, int nargs,
							   Oid *argtypes, Datum *values,
							   TenancyCatalogReader reader, void *arg)
{
	return run_elevated(plan, sql, nargs, argtypes, values, NULL, false,
						ActiveSnapshotSet(), reader, arg);
}

int
tenancy_catalog_query_statement(SPIPlanPtr *plan, const char *sql, int nargs,
								Oid *argtypes, Datum *values, const char *nulls,
								int64 *ints, int nints, char **texts, int ntexts)
{
	return catalog_query(plan, sql, nargs, argtypes, values, nulls,
						 ints, nints, texts, ntexts, false, ActiveSnapshotSet());
}

/*
 * tenancy_catalog_administration: one administration's compartment and
 * client (admin[0], admin[1]) and state, read under the given row lock;
 * false when there is no such administration.  The callers that lock read
 * it without a lock first and refuse one outside the caller's view there
 * (R13), so that nobody waits on another firm's row; then lock it and look
 * again, since it may have moved meanwhile.
 */
bool
tenancy_catalog_administration(int64 administration_id, TenancyRowLock lock,
							   int64 *admin, char **state)
{
#define ADMINISTRATION_ROW \
	"SELECT a.compartment_id, a.client_id, a.state" \
	"  FROM tenancy.administration a WHERE a.id = $1"
	static SPIPlanPtr plans[TENANCY_LOCK_UPDATE + 1];
	static const char *const queries[TENANCY_LOCK_UPDATE + 1] = {
		ADMINISTRATION_ROW,
		ADMINISTRATION_ROW " FOR KEY SHARE",
		ADMINISTRATION_ROW " FOR SHARE",
		ADMINISTRATION_ROW " FOR NO KEY UPDATE",
		ADMINISTRATION_ROW " FOR UPDATE"
	};
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	char	   *text = NULL;
	bool		found;

	values[0] = Int64GetDatum(administration_id);
	found = tenancy_catalog_query(&plans[lock], queries[lock], 1, argtypes, values,
								  NULL, admin, 2, &text, 1) == 1;
	if (state != NULL)
		*state = text;
	return found;
}

/*
 * tenancy_catalog_query_latest: catalog_query under the latest snapshot
 * (plan must not be NULL)
 */
int
tenancy_catalog_query_latest(SPIPlanPtr *plan, const char *sql, int nargs,
							 Oid *argtypes, Datum *values, const char *nulls,
							 int64 *ints, int nints, char **texts, int ntexts)
{
	return catalog_query(plan, sql, nargs, argtypes, values, nulls,
						 ints, nints, texts, ntexts, true, IsInParallelMode());
}

/* refuse a NULL for a required argument */
void
tenancy_catalog_require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("%s must not be null", name),
				 errhint("Pass a value for %s; this argument may not be NULL.", name)));
}

/* a required text argument as a C string */
char *
tenancy_catalog_text_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	tenancy_catalog_require_arg(fcinfo, argno, name);
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * a required boolean argument: an optional flag with a default, given as
 * NULL, is refused rather than taken for its default
 */
bool
tenancy_catalog_bool_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	tenancy_catalog_require_arg(fcinfo, argno, name);
	return PG_GETARG_BOOL(argno);
}

/* is a text argument empty or white space only? */
bool
tenancy_catalog_is_blank(const char *str)
{
	const char *p;

	for (p = str; *p; p++)
		if (!isspace((unsigned char) *p))
			return false;
	return true;
}

/*
 * tenancy_catalog_require_list: an array argument is a plain list: one
 * dimension (or empty), no NULL element.  hint says what the list holds.
 */
void
tenancy_catalog_require_list(ArrayType *list, const char *name, const char *hint)
{
	if (ARR_NDIM(list) > 1)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("%s must be a one-dimensional array", name),
				 errhint("%s", hint)));
	if (array_contains_nulls(list))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("%s must not contain null elements", name),
				 errhint("%s", hint)));
}

/*
 * tenancy_catalog_code_valid: 1 to 64 letters, digits, "_", "-" or ".",
 * starting with a letter or digit (also the CHECK of every code column)
 */
bool
tenancy_catalog_code_valid(const char *code)
{
	const char *p;
	size_t		len = strlen(code);

	if (len == 0 || len > TENANCY_MAX_CODE_LENGTH || !isalnum((unsigned char) code[0]))
		return false;
	for (p = code; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '-' || *p == '.'))
			return false;
	return true;
}

/* refuse an invalid code of a compartment, client or administration */
void
tenancy_catalog_require_code(const char *code, const char *what)
{
	if (!tenancy_catalog_code_valid(code))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid %s code \"%s\"", what, code),
				 errhint("A code has 1 to %d letters, digits, \"_\", \"-\" or \".\", and starts with a letter or digit.",
						 TENANCY_MAX_CODE_LENGTH)));
}

/*
 * tenancy_catalog_require_free_code: refuse a code already in use, where
 * the catalog keeps codes unique (its unique indexes on lower(code)):
 * a compartment's in the database, a client's and an administration's in
 * their compartment.  Asked before the write, so that the error names the
 * code and the rule instead of an index; the index still decides when two
 * transactions write the same code at once.
 */
void
tenancy_catalog_require_free_code(TenancyCodeKind kind, int64 compartment_id,
								  const char *code, const char *hint)
{
	static SPIPlanPtr plans[TENANCY_CODE_ADMINISTRATION + 1];
	static const char *const queries[TENANCY_CODE_ADMINISTRATION + 1] = {
		[TENANCY_CODE_COMPARTMENT] =
		"SELECT 1 FROM tenancy.compartment c WHERE lower(c.code) = lower($2)",
		[TENANCY_CODE_CLIENT] =
		"SELECT 1 FROM tenancy.client c"
		" WHERE c.compartment_id = $1 AND lower(c.code) = lower($2)",
		[TENANCY_CODE_ADMINISTRATION] =
		"SELECT 1 FROM tenancy.administration a"
		" WHERE a.compartment_id = $1 AND lower(a.code) = lower($2)",
	};
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2];

	if ((int) kind < 0 || kind > TENANCY_CODE_ADMINISTRATION)
		elog(ERROR, "unrecognized code kind: %d", (int) kind);
	values[0] = Int64GetDatum(compartment_id);
	values[1] = CStringGetTextDatum(code);
	if (tenancy_catalog_query(&plans[kind], queries[kind], 2, argtypes, values,
							  NULL, NULL, 0, NULL, 0) == 0)
		return;
	if (kind == TENANCY_CODE_COMPARTMENT)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DUPLICATE),
				 errmsg("compartment code \"%s\" is already in use", code),
				 errdetail("Compartment codes are unique in the database, compared case-insensitively."),
				 errhint("%s", hint)));
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DUPLICATE),
			 kind == TENANCY_CODE_CLIENT ?
			 errmsg("client code \"%s\" is already in use in compartment %lld",
					code, (long long) compartment_id) :
			 errmsg("administration code \"%s\" is already in use in compartment %lld",
					code, (long long) compartment_id),
			 kind == TENANCY_CODE_CLIENT ?
			 errdetail("Client codes are unique in their compartment, compared case-insensitively.") :
			 errdetail("Administration codes are unique in their compartment, compared case-insensitively."),
			 errhint("%s", hint)));
}

/*
 * tenancy_catalog_exec_latest: like tenancy_catalog_exec with a kept plan,
 * but the statement reads with a snapshot taken now instead of the
 * transaction's, the way ri_triggers.c checks keys.  For a read made
 * under a lock that serialises the writers of what it reads: it then sees
 * what committed while the caller waited, in REPEATABLE READ and
 * SERIALIZABLE too.
 */
int
tenancy_catalog_exec_latest(SPIPlanPtr *plan, const char *sql, int nargs,
							Oid *argtypes, Datum *values, const char *nulls)
{
	int			rc;

	keep_plan(plan, sql, nargs, argtypes);
	rc = SPI_execute_snapshot(*plan, values, nulls, GetLatestSnapshot(),
							  InvalidSnapshot, false, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI failed for \"%s\": %s", sql, SPI_result_code_string(rc));
	return (int) SPI_processed;
}

/*
 * tenancy_catalog_run: one statement, formatted, through SPI (connected by
 * the caller, with the caller's rights); its errors are the caller's
 */
void
tenancy_catalog_run(const char *fmt,...)
{
	StringInfoData buf;
	va_list		args;
	int			rc;

	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	rc = SPI_execute(buf.data, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", buf.data, SPI_result_code_string(rc));
	pfree(buf.data);
}
