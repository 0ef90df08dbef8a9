/*-------------------------------------------------------------------------
 *
 * triggers.c
 *	  Invariant triggers on the catalog tables: what the constraints of
 *	  tenancy--1.0.sql cannot say by themselves.
 *
 *	permission_derive	BEFORE INSERT/UPDATE on permission: copies the
 *						user's compartment and client into the row, so the
 *						composite foreign keys enforce R6 (same compartment)
 *						and R8 (an external user only on its client's
 *						administrations), whatever the writer supplied.
 *	users_check			BEFORE INSERT/UPDATE on users: no external user in a
 *						compartment that forbids them (R10).  Locks the
 *						compartment row FOR SHARE, so it serialises with
 *						compartment_check.
 *	compartment_check	BEFORE UPDATE on compartment: forbidding external
 *						users is refused while the compartment has some.
 *	migration_guard,	BEFORE row on the migration tables and on
 *	delegation_guard	delegation: a migration's and a delegation's state
 *						change only through tenancy's functions, which
 *						write them with tenancy_catalog_state_write; every
 *						other INSERT, UPDATE or DELETE is refused, the
 *						table owner's and a superuser's included, but a
 *						superuser's INSERT (pg_restore) and, for a
 *						delegation, the cascade of its user's or
 *						administration's deletion (R21).
 *	invalidate_scope	AFTER statement on administration, users,
 *						permission, delegation, migration and
 *						reporting_login: a relcache invalidation that
 *						reaches every backend's visibility cache at commit,
 *						and this backend's cache learns that its transaction
 *						changed them (flushed if that is rolled back).
 *						Refuses TRUNCATE, which the audit log would not
 *						show (R22).
 *
 * They fire for every writer, the table owner and superusers included, so
 * the invariants hold for a plain INSERT as well as through the functions.
 * Catalog reads are elevated to the owner with a pinned search_path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/rel.h"

#include "tenancy.h"

static TriggerData *trigger_data(FunctionCallInfo fcinfo, const char *name,
								 bool row, bool before);
static int64 row_int64(HeapTuple tuple, TupleDesc desc, const char *column,
					   bool *isnull);

/*
 * tenancy_trigger_require_relation: refuse to run on a table that is not the
 * catalog table the trigger function was written for (relname), or, with
 * relname NULL, not a table of schema tenancy.  Trigger functions run with
 * the extension owner's rights inside; attached to another table, they
 * would act on rows an attacker shaped.
 */
void
tenancy_trigger_require_relation(TriggerData *trigdata, const char *fname,
								 const char *relname)
{
	Relation	rel = trigdata->tg_relation;
	Oid			nsp = tenancy_catalog_namespace();

	if (RelationGetNamespace(rel) != nsp ||
		(relname != NULL && strcmp(RelationGetRelationName(rel), relname) != 0))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"%s\" must be fired on %s%s", fname,
						relname ? "table tenancy." : "a table of schema tenancy",
						relname ? relname : ""),
				 errdetail("Table \"%s\" is not one of the tables it guards.",
						   RelationGetRelationName(rel))));
}

/* check that we were called as the trigger we were declared as */
static TriggerData *
trigger_data(FunctionCallInfo fcinfo, const char *name, bool row, bool before)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"%s\" was not called by trigger manager", name)));
	if ((row && !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event)) ||
		(!row && !TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event)) ||
		(before && !TRIGGER_FIRED_BEFORE(trigdata->tg_event)) ||
		(!before && !TRIGGER_FIRED_AFTER(trigdata->tg_event)))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"%s\" must be fired %s %s", name,
						before ? "BEFORE" : "AFTER",
						row ? "FOR EACH ROW" : "FOR EACH STATEMENT")));
	return trigdata;
}

static int64
row_int64(HeapTuple tuple, TupleDesc desc, const char *column, bool *isnull)
{
	int			attnum = SPI_fnumber(desc, column);
	Datum		d;

	if (attnum <= 0)
		elog(ERROR, "column \"%s\" not found", column);
	d = SPI_getbinval(tuple, desc, attnum, isnull);
	return *isnull ? 0 : DatumGetInt64(d);
}

/* permission_derive() RETURNS trigger */
PG_FUNCTION_INFO_V1(tenancy_permission_derive);
Datum
tenancy_permission_derive(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "permission_derive", true, true);
	HeapTuple	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	bool		isnull;
	int64		user_id;
	TenancyUserFacts user;
	int			cols[2];
	Datum		newvals[2];
	bool		newnulls[2] = {false, false};

	tenancy_trigger_require_relation(trigdata, "permission_derive", "permission");
	user_id = row_int64(tuple, desc, "user_id", &isnull);
	if (isnull)
		return PointerGetDatum(tuple);	/* NOT NULL refuses it */

	if (!tenancy_rights_user(user_id, &user))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("user %lld does not exist", (long long) user_id),
				 errdetail("A permission must name an existing user.")));
	newvals[0] = Int64GetDatum(user.compartment_id);
	newvals[1] = Int64GetDatum(user.client_id);
	newnulls[1] = user.client_id == 0;	/* an internal user has no client */

	cols[0] = SPI_fnumber(desc, "compartment_id");
	cols[1] = SPI_fnumber(desc, "user_client_id");
	return PointerGetDatum(heap_modify_tuple_by_cols(tuple, desc, 2, cols,
													 newvals, newnulls));
}

/* users_check() RETURNS trigger */
PG_FUNCTION_INFO_V1(tenancy_users_check);
Datum
tenancy_users_check(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "users_check", true, true);
	HeapTuple	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	bool		isnull;
	int64		compartment_id;
	char	   *kind;
	int64		allowed = 1;

	tenancy_trigger_require_relation(trigdata, "users_check", "users");
	kind = SPI_getvalue(tuple, desc, SPI_fnumber(desc, "kind"));
	compartment_id = row_int64(tuple, desc, "compartment_id", &isnull);
	if (kind == NULL || strcmp(kind, "external") != 0 || isnull)
		return PointerGetDatum(tuple);

	/* FOR SHARE: a concurrent compartment_check waits for us, and we for it */
	values[0] = Int64GetDatum(compartment_id);
	tenancy_catalog_query(&plan,
						  "SELECT c.allow_external_users::int FROM tenancy.compartment c"
						  " WHERE c.id = $1 FOR SHARE",
						  1, argtypes, values, NULL, &allowed, 1, NULL, 0);

	if (!allowed)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_INVARIANT),
				 errmsg("compartment %lld does not allow external users",
						(long long) compartment_id),
				 errdetail("The compartment was created with allow_external_users = false."),
				 errhint("Add the person as an internal user, or use a compartment that allows external users.")));
	return PointerGetDatum(tuple);
}

/* compartment_check() RETURNS trigger */
PG_FUNCTION_INFO_V1(tenancy_compartment_check);
Datum
tenancy_compartment_check(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "compartment_check", true, true);
	HeapTuple	newtuple = trigdata->tg_newtuple;
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	int			attnum = SPI_fnumber(desc, "allow_external_users");
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	bool		isnull;
	bool		allow;
	int64		id;
	int			n;

	tenancy_trigger_require_relation(trigdata, "compartment_check", "compartment");
	allow = DatumGetBool(SPI_getbinval(newtuple, desc, attnum, &isnull));
	if (isnull || allow)
		return PointerGetDatum(newtuple);

	id = row_int64(newtuple, desc, "id", &isnull);
	values[0] = Int64GetDatum(id);
	n = tenancy_catalog_query(&plan,
							  "SELECT 1 FROM tenancy.users u"
							  " WHERE u.compartment_id = $1 AND u.kind = 'external'"
							  " LIMIT 1",
							  1, argtypes, values, NULL, NULL, 0, NULL, 0);

	if (n > 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_INVARIANT),
				 errmsg("compartment %lld has external users", (long long) id),
				 errdetail("External users cannot be forbidden while the compartment has some."),
				 errhint("Remove the external users first.")));
	return PointerGetDatum(newtuple);
}

/* invalidate_scope() RETURNS trigger */
PG_FUNCTION_INFO_V1(tenancy_invalidate_scope);
Datum
tenancy_invalidate_scope(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "invalidate_scope", false, false);
	Oid			relid;

	tenancy_trigger_require_relation(trigdata, "invalidate_scope", NULL);

	/*
	 * TRUNCATE writes no audit entry, and the caches learn what changed from
	 * the entries (visibility.c): a backend that read another change's entry
	 * meanwhile would keep the truncated rights
	 */
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("cannot truncate table \"%s\"",
						RelationGetRelationName(trigdata->tg_relation)),
				 errdetail("Every change of who may see what is written to the audit log row by row (R22); TRUNCATE writes nothing there."),
				 errhint("Use DELETE, or the tenancy functions.")));
	relid = tenancy_catalog_relid("permission");
	if (OidIsValid(relid))
		CacheInvalidateRelcacheByRelid(relid);
	tenancy_visibility_catalog_written();
	return PointerGetDatum(NULL);
}

/*
 * state_guard: the body of migration_guard and delegation_guard (see the
 * file header); detail and hint name the functions that change the table.
 * With cascade_ok, a DELETE that a foreign key's ON DELETE CASCADE runs
 * passes: ri_triggers.c runs it as the referenced table's owner with
 * SECURITY_NOFORCE_RLS, which no SQL can set (a delegation goes with its
 * user or administration, deleted by a superuser; the audit log shows it)
 */
static Datum
state_guard(FunctionCallInfo fcinfo, const char *fname, bool cascade_ok,
			const char *detail, const char *hint)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"%s\" must be fired BEFORE", fname)));
	tenancy_trigger_require_relation(trigdata, fname, NULL);
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		what = "truncate";
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		what = "update";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		what = "delete from";
	else
		what = "insert into";

	if (TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) &&
		(tenancy_catalog_state_writing() ||
		 (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) && superuser()) ||
		 (cascade_ok && TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) &&
		  InNoForceRLSOperation())))
		return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
							   trigdata->tg_newtuple : trigdata->tg_trigtuple);
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("cannot %s table \"%s\" directly", what,
					RelationGetRelationName(trigdata->tg_relation)),
			 errdetail("%s", detail),
			 errhint("%s", hint)));
	PG_RETURN_NULL();			/* keep compiler quiet */
}

/*
 * migration_guard() RETURNS trigger: BEFORE INSERT/UPDATE/DELETE row and
 * BEFORE TRUNCATE statement trigger on the migration tables
 */
PG_FUNCTION_INFO_V1(tenancy_migration_guard);
Datum
tenancy_migration_guard(PG_FUNCTION_ARGS)
{
	return state_guard(fcinfo, "migration_guard", false,
					   "A migration's state, approvals and history change only through the migration functions (R21).",
					   "Use tenancy.approve_migration(), reject_migration(), cancel_migration() or the scenario's next step.");
}

/* delegation_guard() RETURNS trigger: BEFORE INSERT/UPDATE/DELETE row on delegation */
PG_FUNCTION_INFO_V1(tenancy_delegation_guard);
Datum
tenancy_delegation_guard(PG_FUNCTION_ARGS)
{
	return state_guard(fcinfo, "delegation_guard", true,
					   "A delegation is given, revoked and ended only through the delegation functions (R20, R21).",
					   "Use tenancy.delegate() or tenancy.revoke_delegation().");
}
