/*-------------------------------------------------------------------------
 *
 * restore.c
 *	  A restore of the catalog without session_replication_role = replica
 *	  fails loudly instead of logging itself into the audit log.
 *
 * pg_dump saves tenancy's catalog tables (pg_extension_config_dump) and
 * pg_restore, or psql for a plain dump, loads them back with COPY ... FROM.
 * Run in the default session_replication_role, every copied row would fire
 * the catalog's triggers: the audit trigger would append one entry per
 * restored row, with ids that then collide with the dumped audit log when
 * it is copied back (a duplicate key), and the new database would hold the
 * restore's own entries in place of the original chain.
 *
 * A BEFORE INSERT statement trigger on each catalog table refuses a COPY
 * into it, with the way to do it right.  In replica mode (the prescribed
 * restore) ordinary triggers do not fire, so this one stands aside too.
 * Only COPY is refused: the extension's functions and a superuser's plain
 * INSERT write the catalog as before, audited.  The statement is
 * recognised by the command tag of the portal being run (a COPY is run as
 * a utility statement of its own portal; statements that the extension's
 * functions run through SPI belong to their caller's portal).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "tcop/pquery.h"
#include "utils/portal.h"
#include "utils/rel.h"

#include "tenancy.h"

/* restore_guard() RETURNS trigger */
PG_FUNCTION_INFO_V1(tenancy_restore_guard);
Datum
tenancy_restore_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"restore_guard\" must be fired BEFORE INSERT FOR EACH STATEMENT")));
	tenancy_trigger_require_relation(trigdata, "restore_guard", NULL);

	if (ActivePortal != NULL && ActivePortal->commandTag == CMDTAG_COPY)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("restoring table tenancy.%s requires session_replication_role = replica",
						RelationGetRelationName(trigdata->tg_relation)),
				 errdetail("Otherwise the catalog's triggers would log the restore itself into the audit log, where it would collide with the restored entries."),
				 errhint("Drop the new database and restore into a fresh one with PGOPTIONS='-c session_replication_role=replica' in the environment of pg_restore or psql.")));
	return PointerGetDatum(NULL);
}
