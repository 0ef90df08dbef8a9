/*-------------------------------------------------------------------------
 *
 * uninstall.c
 *	  A clean way out: DROP EXTENSION tenancy is refused while tables are
 *	  protected.
 *
 * protect() enables and forces row security on an application table and
 * installs tenancy's policies and triggers.  DROP EXTENSION tenancy CASCADE
 * would drop the policies and triggers with the extension's functions but
 * leave row security forced: the application would then see no row at all
 * while a superuser still sees every row, and nothing would say why.
 *
 * An event trigger on ddl_command_start, a member of the extension, looks
 * at DROP EXTENSION and DROP SCHEMA statements before anything is dropped.
 * When they name tenancy (or its schema) without CASCADE while
 * tenancy.protected_table still lists tables, it refuses with the list and
 * the way out: unprotect each table (which restores the table as it was
 * before protect), then drop the extension.  (PostgreSQL alone would refuse
 * too, listing every policy and trigger that depends on the extension.)
 * CASCADE is left alone: it is the explicit request to drop the policies
 * too, and leaves the tables failing closed (row security forced, no
 * policy: no row for anyone but superusers and the BYPASSRLS roles); test
 * suites rely on it to start afresh.  The tables themselves and their rows
 * are never touched.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/event_trigger.h"
#include "nodes/parsenodes.h"
#include "nodes/value.h"

#include "tenancy.h"

static bool names_tenancy(DropStmt *stmt);

/* does the DROP statement name the extension or its schema? */
static bool
names_tenancy(DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->removeType != OBJECT_EXTENSION &&
		stmt->removeType != OBJECT_SCHEMA)
		return false;
	foreach(lc, stmt->objects)
	{
		Node	   *object = (Node *) lfirst(lc);

		if (IsA(object, String) && strcmp(strVal(object), "tenancy") == 0)
			return true;
	}
	return false;
}

/* drop_extension_guard() RETURNS event_trigger */
PG_FUNCTION_INFO_V1(tenancy_drop_extension_guard);
Datum
tenancy_drop_extension_guard(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	int64		count = 0;
	char	   *tables = NULL;
	static SPIPlanPtr plan = NULL;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"drop_extension_guard\" was not called by the event trigger manager")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (trigdata->parsetree == NULL || !IsA(trigdata->parsetree, DropStmt) ||
		!names_tenancy((DropStmt *) trigdata->parsetree))
		PG_RETURN_VOID();
	/* CASCADE is the explicit request to take the policies along */
	if (((DropStmt *) trigdata->parsetree)->behavior == DROP_CASCADE)
		PG_RETURN_VOID();

	if (tenancy_catalog_query(&plan,
							  "SELECT count(*),"
							  "       string_agg(p.relid::text, ', ' ORDER BY p.relid::text)"
							  "  FROM tenancy.protected_table p"
							  /* a temporary table dropped at its session's end fires no event trigger */
							  " WHERE EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = p.relid::oid)",
							  0, NULL, NULL, NULL,
							  &count, 1, &tables, 1) != 1 || count == 0)
		PG_RETURN_VOID();

	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_BAD_STATE),
			 errmsg("cannot drop extension tenancy while tables are protected"),
			 errdetail_plural("%lld table is protected: %s. Dropping the extension would leave it with row security forced and no policy.",
							  "%lld tables are protected: %s. Dropping the extension would leave them with row security forced and no policy.",
							  (unsigned long) count,
							  (long long) count, tables),
			 errhint("Run tenancy.unprotect() on each protected table that has no protected parent (a parent takes its partitions and children along), then drop the extension.")));
	PG_RETURN_VOID();
}
