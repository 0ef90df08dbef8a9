/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Access to tenancy's own tables: lookups, elevation, SPI plumbing,
 *	  and the caller checks shared by the management functions.
 *
 * Nobody but the extension's owner holds privileges on the catalog tables;
 * the C code reads and writes them through SPI with parameters, elevated
 * to the owner only around the SPI block that needs it
 * (tenancy_catalog_elevate / tenancy_catalog_restore).  Elevation also
 * pins search_path to "pg_catalog, pg_temp", so that no object of the
 * caller's can be picked up by the owner's statements.
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
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "tenancy.h"

static const char *const rights_names[] = {"read", "write", "submit", "manage"};

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
 * tenancy_catalog_elevate: become the catalog owner with a safe search_path.
 *
 * Must be paired with tenancy_catalog_restore.  On error, transaction abort
 * restores both the user id and the GUC nest level.
 */
void
tenancy_catalog_elevate(TenancyElevation *save)
{
	GetUserIdAndSecContext(&save->saved_userid, &save->saved_sec_context);
	SetUserIdAndSecContext(tenancy_catalog_owner(),
						   save->saved_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	save->guc_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
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

/* one right by name, as its bit; an unknown name is refused */
int
tenancy_catalog_parse_right(const char *name)
{
	int			i;

	for (i = 0; i < lengthof(rights_names); i++)
		if (strcmp(name, rights_names[i]) == 0)
			return 1 << i;
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
			 errmsg("unrecognized right \"%s\"", name),
			 errhint("Rights are read, write, submit and manage.")));
	return 0;					/* keep compiler quiet */
}

/*
 * tenancy_catalog_parse_rights: a text[] of rights as a bit mask.  Refuses
 * NULL elements, unknown names and an empty array.
 */
int
tenancy_catalog_parse_rights(ArrayType *rights, const char *argname)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	int			mask = 0;

	if (ARR_NDIM(rights) > 1)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("%s must be a one-dimensional array", argname)));
	deconstruct_array(rights, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		char	   *name;

		if (nulls[i])
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
					 errmsg("%s must not contain null elements", argname),
					 errhint("Rights are read, write, submit and manage.")));
		name = TextDatumGetCString(elems[i]);
		mask |= tenancy_catalog_parse_right(name);
	}
	if (mask == 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("%s must name at least one right", argname),
				 errhint("Rights are read, write, submit and manage.")));
	return mask;
}

/* the rights of a mask as a text[], in the canonical order */
ArrayType *
tenancy_catalog_rights_array(int mask)
{
	Datum		elems[lengthof(rights_names)];
	int			n = 0;
	int			i;

	for (i = 0; i < lengthof(rights_names); i++)
		if (mask & (1 << i))
			elems[n++] = CStringGetTextDatum(rights_names[i]);
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * tenancy_catalog_is_manager: may the caller manage this compartment?
 *
 * Platform operators (tenancy_admin) manage every compartment; otherwise the
 * session must act as an enabled internal administrator of the compartment
 * (R13).  is_operator must be computed before elevating.
 */
bool
tenancy_catalog_is_manager(bool is_operator, int64 compartment_id)
{
	const TenancyIdentity *ident = tenancy_identity_current();
	TenancyElevation save;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		values[2];
	static SPIPlanPtr plan = NULL;
	bool		ok = false;

	if (is_operator)
		return true;
	if (compartment_id == 0 || ident->user_id == 0 ||
		ident->compartment_id != compartment_id)
		return false;

	values[0] = Int64GetDatum(ident->user_id);
	values[1] = Int64GetDatum(compartment_id);
	SPI_connect();
	tenancy_catalog_elevate(&save);
	ok = tenancy_catalog_exec(&plan,
							  "SELECT 1 FROM tenancy.users u"
							  " WHERE u.id = $1 AND u.compartment_id = $2"
							  "   AND u.kind = 'internal' AND u.is_admin"
							  "   AND NOT u.disabled",
							  2, argtypes, values, NULL, true) == 1;
	tenancy_catalog_restore(&save);
	SPI_finish();
	return ok;
}

/*
 * tenancy_catalog_require_manager: refuse a caller who may not manage the
 * compartment.
 *
 * compartment_id 0 means the object the caller named was not found:
 * operators are told so, others get the same refusal as for an object they
 * may not manage, so that the error does not reveal whether it exists.
 */
void
tenancy_catalog_require_manager(bool is_operator, int64 compartment_id,
								const char *objkind, int64 objid)
{
	const TenancyIdentity *ident = tenancy_identity_current();

	tenancy_catalog_require_coordinator("change tenancy's catalog");
	if (is_operator && compartment_id == 0)
		tenancy_catalog_error_unknown(objkind, objid, NULL,
									  "Check the id against the tenancy catalog tables.");
	if (tenancy_catalog_is_manager(is_operator, compartment_id))
		return;
	if (ident->user_id == 0)
		tenancy_catalog_error_no_identity("Management functions run on behalf of an administrator of the compartment.",
										  "Call tenancy.act_as() first, or connect as a member of tenancy_admin.");

	/* inside its own compartment the caller may know the object exists */
	if (compartment_id != 0 && ident->user_id != 0 &&
		ident->compartment_id == compartment_id)
	{
		static SPIPlanPtr plan = NULL;
		Oid			argtypes[1] = {INT8OID};
		Datum		values[1];
		int64		disabled = 0;

		values[0] = Int64GetDatum(ident->user_id);
		tenancy_catalog_query(&plan,
							  "SELECT u.disabled::int FROM tenancy.users u WHERE u.id = $1",
							  1, argtypes, values, NULL, &disabled, 1, NULL, 0);
		if (disabled)
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_DENIED),
					 errmsg("permission denied to manage compartment %lld",
							(long long) compartment_id),
					 errdetail("User %lld is disabled.", (long long) ident->user_id),
					 errhint("Ask another administrator of the compartment, or a member of tenancy_admin, to enable it with tenancy.enable_user().")));
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to manage compartment %lld",
						(long long) compartment_id),
				 errdetail("User %lld is not an administrator of the compartment.",
						   (long long) ident->user_id),
				 errhint("Act as an administrator of the compartment, or connect as a member of tenancy_admin.")));
	}

	/*
	 * The object is unknown or lies in another compartment.  An
	 * administrator acting in its own compartment is told to check the id;
	 * anyone else, to act as an administrator.
	 */
	if (tenancy_catalog_is_manager(false, ident->compartment_id))
		tenancy_catalog_error_inaccessible(objkind, objid, false,
										   "Objects outside the caller's compartment are reported this way, whether they exist or not.",
										   psprintf("Check the %s id: an administrator manages only its own compartment.",
													objkind));
	tenancy_catalog_error_inaccessible(objkind, objid, false, "",
									   "Act as an administrator of the compartment, or connect as a member of tenancy_admin.");
}

/*
 * tenancy_catalog_require_compartment_manager: refuse a caller who may not
 * manage the compartment named by id, whether it exists or not
 */
void
tenancy_catalog_require_compartment_manager(bool is_operator,
											int64 compartment_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int64		found_id = 0;

	tenancy_catalog_require_coordinator("change tenancy's catalog");
	values[0] = Int64GetDatum(compartment_id);
	if (tenancy_catalog_query(&plan,
							  "SELECT c.id FROM tenancy.compartment c WHERE c.id = $1",
							  1, argtypes, values, NULL, &found_id, 1, NULL, 0) != 1)
		found_id = 0;
	tenancy_catalog_require_manager(is_operator, found_id, "compartment",
									compartment_id);
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
			 errhint("%s", hint ? hint : "Call tenancy.act_as() first.")));
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
 * catalog_query: one catalog statement, elevated to the owner with a pinned
 * search_path, under the active snapshot or, with latest, under a fresh
 * snapshot of what has been committed by now (even in a REPEATABLE READ
 * transaction, the way ri_triggers.c checks a key).  Copies the first
 * row's first nints columns as bigint (0 for NULL) and the next ntexts
 * columns as text (NULL for NULL) into the caller's memory; returns the
 * number of rows processed.
 */
static int
catalog_query(SPIPlanPtr *plan, const char *sql, int nargs,
			  Oid *argtypes, Datum *values, const char *nulls,
			  int64 *ints, int nints, char **texts, int ntexts, bool latest)
{
	TenancyElevation save;
	int			n;
	int			i;

	SPI_connect();
	tenancy_catalog_elevate(&save);
	if (latest)
		n = tenancy_catalog_exec_latest(plan, sql, nargs, argtypes, values, nulls);
	else
		/* in parallel mode under the statement's snapshot, else a fresh one */
		n = tenancy_catalog_exec(plan, sql, nargs, argtypes, values, nulls,
								 IsInParallelMode());
	if (n > 0 && SPI_tuptable != NULL)
	{
		for (i = 0; i < nints; i++)
			if (!tenancy_catalog_get_int64(0, i, &ints[i]))
				ints[i] = 0;
		for (i = 0; i < ntexts; i++)
			texts[i] = tenancy_catalog_get_text(0, nints + i);
	}
	tenancy_catalog_restore(&save);
	SPI_finish();
	return n;
}

/* tenancy_catalog_query: catalog_query under the active snapshot */
int
tenancy_catalog_query(SPIPlanPtr *plan, const char *sql, int nargs,
					  Oid *argtypes, Datum *values, const char *nulls,
					  int64 *ints, int nints, char **texts, int ntexts)
{
	return catalog_query(plan, sql, nargs, argtypes, values, nulls,
						 ints, nints, texts, ntexts, false);
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
						 ints, nints, texts, ntexts, true);
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
