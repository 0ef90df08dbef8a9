/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  The audit log (R22): one hash-chained entry per catalog change.
 *
 * audit_change is an AFTER ROW trigger on every catalog table.  It records
 * who (the database role outside any elevation, and the tenancy account and
 * user the session acts as), what (action, object type and id, the row
 * before and after as jsonb), when, and the compartment the entry belongs
 * to, which is what the view tenancy.audit_log filters on.  A change that
 * concerns two compartments (a delegation) names a second compartment
 * column and is logged once for each.
 *
 * Chain.  Each entry stores the previous entry's hash and its own,
 * tenancy.audit_hash(prev_hash, fields...).  To keep the chain linear,
 * writers take a SHARE ROW EXCLUSIVE lock on tenancy.audit_entry (it
 * conflicts with itself, not with readers) before reading the last hash;
 * the lock is held to commit, so audited catalog changes commit one after
 * another.  Entry ids come from a sequence drawn under that lock, so id
 * order is chain order; verify_audit() walks it.
 *
 * audit_append_only refuses UPDATE, DELETE and TRUNCATE of the log, for the
 * owner and superusers too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "tenancy.h"

static const char *audit_insert_sql =
"INSERT INTO tenancy.audit_entry (at, db_role, account_id, user_id,"
"       compartment_id, action, object_type, object_id, before, after,"
"       prev_hash, hash)"
" SELECT v.at, v.db_role, v.account_id, v.user_id, v.compartment_id,"
"        v.action, v.object_type, v.object_id, v.before, v.after, p.h,"
"        tenancy.audit_hash(p.h, v.at, v.db_role, v.account_id, v.user_id,"
"                           v.compartment_id, v.action, v.object_type,"
"                           v.object_id, v.before, v.after)"
"   FROM (SELECT now() AS at, $1::name AS db_role, $2::bigint AS account_id,"
"                $3::bigint AS user_id, $4::bigint AS compartment_id,"
"                $5::text AS action, $6::text AS object_type,"
"                $7::text AS object_id, to_jsonb($8) AS before,"
"                to_jsonb($9) AS after) v"
"   LEFT JOIN LATERAL (SELECT e.hash AS h FROM tenancy.audit_entry e"
"                       ORDER BY e.id DESC LIMIT 1) p ON true";

/* the object's id as text: "id", or "user_id/administration_id" */
static char *
object_id_text(HeapTuple tuple, TupleDesc desc)
{
	int			idcol = SPI_fnumber(desc, "id");

	if (idcol > 0)
		return SPI_getvalue(tuple, desc, idcol);
	if (SPI_fnumber(desc, "user_id") > 0 && SPI_fnumber(desc, "administration_id") > 0)
		return psprintf("%s/%s",
						SPI_getvalue(tuple, desc, SPI_fnumber(desc, "user_id")),
						SPI_getvalue(tuple, desc, SPI_fnumber(desc, "administration_id")));
	if (SPI_fnumber(desc, "relid") > 0)
		return SPI_getvalue(tuple, desc, SPI_fnumber(desc, "relid"));
	return NULL;
}

/* the row's compartment from the named column; false when none */
static bool
row_compartment(HeapTuple row, TupleDesc desc, const char *column, Datum *value)
{
	int			attnum;
	bool		isnull = true;

	if (column[0] == '\0')
		return false;
	attnum = SPI_fnumber(desc, column);
	if (attnum > 0)
		*value = SPI_getbinval(row, desc, attnum, &isnull);
	return !isnull;
}

/*
 * audit_change(object_type, compartment_column [, second_compartment_column])
 * RETURNS trigger
 */
PG_FUNCTION_INFO_V1(tenancy_audit_change);
Datum
tenancy_audit_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	oldtuple = NULL;
	HeapTuple	newtuple = NULL;
	HeapTuple	row;
	const char *action;
	char	  **args;
	Oid			rowtype;
	Oid			argtypes[9];
	Datum		values[9];
	char		nulls[9];
	const TenancyIdentity *ident = tenancy_identity_current();
	char	   *object_id;
	TenancyElevation save;
	Oid			audit_relid;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		trigdata->tg_trigger->tgnargs < 2 || trigdata->tg_trigger->tgnargs > 3)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"audit_change\" must be fired AFTER ... FOR EACH ROW with two or three arguments")));

	tenancy_trigger_require_relation(trigdata, "audit_change", NULL);
	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	rowtype = rel->rd_rel->reltype;
	args = trigdata->tg_trigger->tgargs;

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		action = "insert";
		newtuple = trigdata->tg_trigtuple;
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		action = "update";
		oldtuple = trigdata->tg_trigtuple;
		newtuple = trigdata->tg_newtuple;
	}
	else
	{
		action = "delete";
		oldtuple = trigdata->tg_trigtuple;
	}
	row = newtuple ? newtuple : oldtuple;

	memset(nulls, ' ', sizeof(nulls));
	argtypes[0] = NAMEOID;
	values[0] = CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false));
	values[0] = DirectFunctionCall1(namein, values[0]);
	argtypes[1] = INT8OID;
	argtypes[2] = INT8OID;
	if (ident->user_id != 0)
	{
		values[1] = Int64GetDatum(ident->account_id);
		values[2] = Int64GetDatum(ident->user_id);
	}
	else
		nulls[1] = nulls[2] = 'n';
	argtypes[3] = INT8OID;
	nulls[3] = row_compartment(row, desc, args[1], &values[3]) ? ' ' : 'n';
	argtypes[4] = TEXTOID;
	values[4] = CStringGetTextDatum(action);
	argtypes[5] = TEXTOID;
	values[5] = CStringGetTextDatum(args[0]);
	argtypes[6] = TEXTOID;
	object_id = object_id_text(row, desc);
	if (object_id)
		values[6] = CStringGetTextDatum(object_id);
	else
		nulls[6] = 'n';
	argtypes[7] = rowtype;
	argtypes[8] = rowtype;
	if (oldtuple)
		values[7] = heap_copy_tuple_as_datum(oldtuple, desc);
	else
		nulls[7] = 'n';
	if (newtuple)
		values[8] = heap_copy_tuple_as_datum(newtuple, desc);
	else
		nulls[8] = 'n';

	audit_relid = tenancy_catalog_relid("audit_entry");
	SPI_connect();
	tenancy_catalog_elevate(&save);
	/* one writer at a time appends to the chain, until commit */
	LockRelationOid(audit_relid, ShareRowExclusiveLock);
	tenancy_catalog_exec(NULL, audit_insert_sql, 9, argtypes, values, nulls, false);

	/* a change between two compartments goes into both logs */
	if (trigdata->tg_trigger->tgnargs == 3)
	{
		Datum		first = values[3];
		bool		first_null = (nulls[3] == 'n');

		if (row_compartment(row, desc, args[2], &values[3]) &&
			(first_null || DatumGetInt64(values[3]) != DatumGetInt64(first)))
		{
			nulls[3] = ' ';
			tenancy_catalog_exec(NULL, audit_insert_sql, 9, argtypes, values, nulls, false);
		}
	}
	tenancy_catalog_restore(&save);
	SPI_finish();

	return PointerGetDatum(NULL);
}

/* audit_append_only() RETURNS trigger */
PG_FUNCTION_INFO_V1(tenancy_audit_append_only);
Datum
tenancy_audit_append_only(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *what = "modify";

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"audit_append_only\" was not called by trigger manager")));
	tenancy_trigger_require_relation(trigdata, "audit_append_only", "audit_entry");
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		what = "update";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		what = "delete from";
	else if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		what = "truncate";
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("cannot %s the tenancy audit log", what),
			 errdetail("The audit log is append-only."),
			 errhint("Entries are added by the tenancy functions; check the chain with tenancy.verify_audit().")));
	PG_RETURN_NULL();
}
