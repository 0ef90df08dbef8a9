/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  The audit log (R22): one hash-chained entry per catalog change, and
 *	  the checks of the chain.
 *
 * audit_change is an AFTER ROW trigger on every catalog table.  It records
 * who (the login, that is the session user, and the database role outside
 * any elevation, and the tenancy account and user the session acts as),
 * what (action, object type and id, the row before and after as jsonb),
 * when, and the compartment the entry belongs to, which is what the view
 * tenancy.audit_log filters on.  A change that concerns two compartments
 * (a delegation) names a second compartment column and is logged once for
 * each.
 *
 * Chain.  Each entry stores the previous entry's hash and its own.  Entries
 * written from 1.3 on (hash_version 2) hash tenancy.audit_hash_v2(): a
 * canonical jsonb array of every field, the entry's id and the previous
 * hash included, with explicit nulls, so that no two different entries
 * encode alike.  Entries written by 1.0 to 1.2 keep hash_version 1 and
 * verify with the old formula (tenancy.audit_hash); the version never
 * decreases along the chain.
 *
 * Order and time.  Writers take a SHARE ROW EXCLUSIVE lock on
 * tenancy.audit_entry (it conflicts with itself, not with readers), held to
 * commit, so audited catalog changes commit one after another.  Under the
 * lock the writer reads the chain's head with a fresh snapshot (in
 * REPEATABLE READ too, the transaction's snapshot would miss the entries
 * committed while it waited and fork the chain), draws the entry's id from
 * the sequence, and stamps it with the clock at the change, or the head's
 * time if the clock is behind it: id order is chain order, and times never
 * decrease along it.
 *
 * Anchor.  Whoever can write the table as a superuser can rewrite the
 * whole chain consistently; only a head published outside the database
 * (tenancy.audit_head()) catches that, and the end of the log cut back.
 * verify_audit(expected_head_id, expected_hash) checks the chain against
 * such a head.
 *
 * audit_append_only refuses UPDATE, DELETE and TRUNCATE of the log, for the
 * owner and superusers too.
 *
 * Cost per row.  What the trigger needs of a catalog table (the columns it
 * reads, and its INSERT prepared once with the table's row type as the type
 * of the before and after parameters) is kept per backend in a hash table
 * keyed by the table's OID, as is tenancy.audit_entry's OID and format.  A
 * relcache invalidation of the table marks its entry stale, one of
 * tenancy.audit_entry (the 1.3 update adds hash_version) or a reset marks
 * every entry stale; the callback only sets flags, the next row rebuilds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "tenancy.h"

/* the format of the entries this version writes (see audit_hash_v2) */
#define TENANCY_AUDIT_HASH_VERSION	2

/* number of parameters of audit_insert_sql */
#define AUDIT_NARGS		15

/* the chain's last entry, as the next entry links to it */
typedef struct TenancyAuditHead
{
	Datum		hash;			/* bytea, valid while SPI is connected */
	bool		empty;			/* no entry yet */
	TimestampTz at;
} TenancyAuditHead;

static const char *audit_head_sql =
"SELECT e.hash, e.at FROM tenancy.audit_entry e ORDER BY e.id DESC LIMIT 1";

/*
 * An entry's fields as the row v, from the parameters $1 to $12 (time,
 * role, login, account, user, compartment, action, object type and id,
 * the rows before and after, the previous hash); $13 is the format, $14
 * the columns this copy of the entry leaves out of the rows (text[]), $15
 * those it leaves out of the row before only (a row that came from another
 * compartment).
 */
#define AUDIT_FIELDS \
"   FROM (SELECT pg_catalog.nextval('tenancy.audit_entry_id_seq'::pg_catalog.regclass) AS id," \
"                $1::timestamptz AS at, $2::name AS db_role, $3::name AS login," \
"                $4::bigint AS account_id, $5::bigint AS user_id," \
"                $6::bigint AS compartment_id, $7::text AS action," \
"                $8::text AS object_type, $9::text AS object_id," \
"                to_jsonb($10) OPERATOR(pg_catalog.-) $14::text[] OPERATOR(pg_catalog.-) $15::text[] AS before," \
"                to_jsonb($11) OPERATOR(pg_catalog.-) $14::text[] AS after," \
"                $12::bytea AS prev_hash, $13::smallint AS hash_version) v" \
" RETURNING hash, at"

static const char *audit_insert_sql =
"INSERT INTO tenancy.audit_entry (id, at, db_role, login, account_id, user_id,"
"       compartment_id, action, object_type, object_id, before, after,"
"       prev_hash, hash_version, hash)"
" SELECT v.*,"
"        tenancy.audit_hash_v2(v.id, v.prev_hash, v.at, v.db_role, v.login,"
"                              v.account_id, v.user_id, v.compartment_id,"
"                              v.action, v.object_type, v.object_id,"
"                              v.before, v.after)"
AUDIT_FIELDS;

/*
 * The same for a catalog not yet updated to 1.3 (no login, no
 * hash_version): the library is installed before ALTER EXTENSION UPDATE
 * runs, and the entries it writes meanwhile keep the old format.
 */
static const char *audit_insert_v1_sql =
"INSERT INTO tenancy.audit_entry (id, at, db_role, account_id, user_id,"
"       compartment_id, action, object_type, object_id, before, after,"
"       prev_hash, hash)"
" SELECT v.id, v.at, v.db_role, v.account_id, v.user_id, v.compartment_id,"
"        v.action, v.object_type, v.object_id, v.before, v.after, v.prev_hash,"
"        tenancy.audit_hash(v.prev_hash, v.at, v.db_role, v.account_id, v.user_id,"
"                           v.compartment_id, v.action, v.object_type,"
"                           v.object_id, v.before, v.after)"
AUDIT_FIELDS;

/* what the trigger keeps of one audited table (see the file header) */
typedef struct TenancyAuditTable
{
	Oid			relid;			/* hash key */
	bool		valid;			/* false: rebuild before use */
	int			id_att;			/* attribute numbers, or <= 0 when absent */
	int			user_att;
	int			administration_att;
	int			relid_att;
	int			compartment_att[2]; /* of the trigger's second and third
									 * arguments */
	char		compartment_col[2][NAMEDATALEN];
	SPIPlanPtr	insert_plan;	/* audit_insert_sql or audit_insert_v1_sql */
} TenancyAuditTable;

static HTAB *audit_tables = NULL;
static Oid	audit_entry_relid = InvalidOid;	/* InvalidOid: look up again */
static bool audit_entry_v1 = false; /* no hash_version column yet */

static void audit_relcache_callback(Datum arg, Oid relid);
static TenancyAuditTable *audit_table(Relation rel, char **args, int nargs);
static void head_from_result(TenancyAuditHead *head);
static void read_head(TenancyAuditHead *head);
static void append_entry(TenancyAuditHead *head, TenancyAuditTable *table,
						 Oid *argtypes, Datum *values, char *nulls);
static HeapTuple entry_fields(TriggerData *trigdata, TenancyAuditTable *table,
							  TimestampTz changed_at, Oid *argtypes,
							  Datum *values, char *nulls);

/* tenancy_audit_init: the invalidation callback (called from _PG_init) */
void
tenancy_audit_init(void)
{
	CacheRegisterRelcacheCallback(audit_relcache_callback, (Datum) 0);
}

/* mark what depends on the table stale; only flags, no catalog access */
static void
audit_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	TenancyAuditTable *table;

	if (audit_tables == NULL)
		return;
	if (relid != InvalidOid && relid != audit_entry_relid)
	{
		table = hash_search(audit_tables, &relid, HASH_FIND, NULL);
		if (table != NULL)
			table->valid = false;
		return;
	}
	audit_entry_relid = InvalidOid;
	hash_seq_init(&seq, audit_tables);
	while ((table = hash_seq_search(&seq)) != NULL)
		table->valid = false;
}

/* attribute number of a column of the trigger's argument, or 0 */
static int
argument_column(TupleDesc desc, char **args, int nargs, int argno,
				char *name)
{
	int			attnum;

	name[0] = '\0';
	if (argno >= nargs || args[argno][0] == '\0')
		return 0;
	strlcpy(name, args[argno], NAMEDATALEN);
	attnum = SPI_fnumber(desc, name);
	return attnum > 0 ? attnum : 0;
}

/*
 * audit_table: the cached entry of the trigger's table, rebuilt when stale.
 * Runs inside the trigger's SPI connection (a stale plan is freed there).
 */
static TenancyAuditTable *
audit_table(Relation rel, char **args, int nargs)
{
	Oid			relid = RelationGetRelid(rel);
	TupleDesc	desc = RelationGetDescr(rel);
	TenancyAuditTable *table;
	bool		found;

	if (audit_tables == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(TenancyAuditTable);
		audit_tables = hash_create("tenancy audit tables", 16, &ctl,
								   HASH_ELEM | HASH_BLOBS);
	}
	if (!OidIsValid(audit_entry_relid))
	{
		Oid			entry_relid = tenancy_catalog_relid("audit_entry");

		audit_entry_v1 = get_attnum(entry_relid, "hash_version") == InvalidAttrNumber;
		audit_entry_relid = entry_relid;
	}
	table = hash_search(audit_tables, &relid, HASH_ENTER, &found);
	if (!found)
	{
		table->valid = false;
		table->insert_plan = NULL;
	}
	/* the same table under another trigger's arguments: rebuild */
	if (table->valid &&
		(strcmp(table->compartment_col[0], nargs > 1 ? args[1] : "") != 0 ||
		 strcmp(table->compartment_col[1], nargs > 2 ? args[2] : "") != 0))
		table->valid = false;
	if (table->valid)
		return table;

	if (table->insert_plan != NULL)
	{
		SPI_freeplan(table->insert_plan);
		table->insert_plan = NULL;
	}
	table->id_att = SPI_fnumber(desc, "id");
	table->user_att = SPI_fnumber(desc, "user_id");
	table->administration_att = SPI_fnumber(desc, "administration_id");
	table->relid_att = SPI_fnumber(desc, "relid");
	table->compartment_att[0] = argument_column(desc, args, nargs, 1,
												table->compartment_col[0]);
	table->compartment_att[1] = argument_column(desc, args, nargs, 2,
												table->compartment_col[1]);
	table->valid = true;
	return table;
}

/* the object's id as text: "id", or "user_id/administration_id" */
static char *
object_id_text(TenancyAuditTable *table, HeapTuple tuple, TupleDesc desc)
{
	if (table->id_att > 0)
		return SPI_getvalue(tuple, desc, table->id_att);
	if (table->user_att > 0 && table->administration_att > 0)
		return psprintf("%s/%s",
						SPI_getvalue(tuple, desc, table->user_att),
						SPI_getvalue(tuple, desc, table->administration_att));
	if (table->relid_att > 0)
		return SPI_getvalue(tuple, desc, table->relid_att);
	return NULL;
}

/* the row's compartment from column attnum; false when none */
static bool
row_compartment(HeapTuple row, TupleDesc desc, int attnum, Datum *value)
{
	bool		isnull = true;

	if (attnum > 0)
		*value = SPI_getbinval(row, desc, attnum, &isnull);
	return !isnull;
}

/* the head from the first row (hash, at) of the last SPI result */
static void
head_from_result(TenancyAuditHead *head)
{
	bool		isnull;

	head->empty = false;
	head->hash = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	head->at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 2, &isnull));
}

/*
 * read_head: the chain's last entry, read with a fresh snapshot.  The
 * caller holds the audit lock, so no other writer is half-way.
 */
static void
read_head(TenancyAuditHead *head)
{
	static SPIPlanPtr plan = NULL;

	head->empty = true;
	if (tenancy_catalog_exec_latest(&plan, audit_head_sql, 0, NULL, NULL, NULL) > 0)
		head_from_result(head);
}

/*
 * append_entry: one entry after the head, which then moves to it.  values
 * hold the fields $1 to $11 of audit_insert_sql; this fills in the link
 * and the format.  The time ($1) is the change's, moved up to the head's
 * when the clock is behind it.
 */
static void
append_entry(TenancyAuditHead *head, TenancyAuditTable *table, Oid *argtypes,
			 Datum *values, char *nulls)
{
	if (!head->empty && DatumGetTimestampTz(values[0]) < head->at)
		values[0] = TimestampTzGetDatum(head->at);
	argtypes[11] = BYTEAOID;
	if (head->empty)
		nulls[11] = 'n';
	else
	{
		values[11] = head->hash;
		nulls[11] = ' ';
	}
	argtypes[12] = INT2OID;
	values[12] = Int16GetDatum(TENANCY_AUDIT_HASH_VERSION);
	/* prepared per table: the row type of before and after is the table's */
	if (tenancy_catalog_exec(&table->insert_plan,
							 audit_entry_v1 ? audit_insert_v1_sql : audit_insert_sql,
							 AUDIT_NARGS, argtypes, values, nulls, false) != 1)
		elog(ERROR, "audit entry was not appended");
	head_from_result(head);
}

/*
 * entry_fields: the fields $1 to $11 of an entry for the change the
 * trigger reports; returns the row it concerns (the new one, or the old
 * one of a delete)
 */
static HeapTuple
entry_fields(TriggerData *trigdata, TenancyAuditTable *table,
			 TimestampTz changed_at, Oid *argtypes, Datum *values, char *nulls)
{
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	Oid			rowtype = trigdata->tg_relation->rd_rel->reltype;
	const TenancyIdentity *ident = tenancy_identity_current();
	HeapTuple	oldtuple = NULL;
	HeapTuple	newtuple = NULL;
	HeapTuple	row;
	const char *action;
	char	   *object_id;

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

	memset(nulls, ' ', AUDIT_NARGS);
	argtypes[0] = TIMESTAMPTZOID;
	values[0] = TimestampTzGetDatum(changed_at);
	/* who: the role outside any elevation, and the login */
	argtypes[1] = NAMEOID;
	values[1] = DirectFunctionCall1(namein,
									CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false)));
	argtypes[2] = NAMEOID;
	values[2] = DirectFunctionCall1(namein,
									CStringGetDatum(GetUserNameFromId(GetSessionUserId(), false)));
	argtypes[3] = INT8OID;
	argtypes[4] = INT8OID;
	if (ident->user_id != 0)
	{
		values[3] = Int64GetDatum(ident->account_id);
		values[4] = Int64GetDatum(ident->user_id);
	}
	else
		nulls[3] = nulls[4] = 'n';
	argtypes[5] = INT8OID;
	nulls[5] = row_compartment(row, desc, table->compartment_att[0], &values[5]) ? ' ' : 'n';
	argtypes[6] = TEXTOID;
	values[6] = CStringGetTextDatum(action);
	argtypes[7] = TEXTOID;
	values[7] = CStringGetTextDatum(trigdata->tg_trigger->tgargs[0]);
	argtypes[8] = TEXTOID;
	object_id = object_id_text(table, row, desc);
	if (object_id)
		values[8] = CStringGetTextDatum(object_id);
	else
		nulls[8] = 'n';
	/* the prepared plan of the table has these parameter types */
	argtypes[9] = rowtype;
	argtypes[10] = rowtype;
	if (oldtuple)
		values[9] = heap_copy_tuple_as_datum(oldtuple, desc);
	else
		nulls[9] = 'n';
	if (newtuple)
		values[10] = heap_copy_tuple_as_datum(newtuple, desc);
	else
		nulls[10] = 'n';
	return row;
}

/* what audit_change appends, for append_entries */
typedef struct AuditChange
{
	TenancyAuditTable *table;
	TupleDesc	desc;
	HeapTuple	row;
	Oid		   *argtypes;
	Datum	   *values;
	char	   *nulls;
	Oid			audit_relid;
	Datum		withheld[2];	/* text[]: columns each copy leaves out */
	Datum		withheld_before;	/* text[]: and out of the row before */
	int64		actor_compartment;	/* the acting user's, 0 without one */
} AuditChange;

/*
 * name_actor: the acting user and account ($4, $5) stay in a copy of the
 * entry only for the log of the actor's own compartment (or the log no
 * firm reads, compartment NULL): account and user ids are platform-wide,
 * and another firm's copy would tell it who acted there (the client's user
 * who approved a migration, seen across migrations, links the dossiers of
 * one client)
 */
static void
name_actor(const AuditChange *c, Datum account, Datum user)
{
	bool		named = c->actor_compartment != 0 &&
		(c->nulls[5] == 'n' || DatumGetInt64(c->values[5]) == c->actor_compartment);

	c->values[3] = account;
	c->values[4] = user;
	c->nulls[3] = c->nulls[4] = named ? ' ' : 'n';
}

/*
 * withheld_columns: the trigger's argument argno, a comma-separated list of
 * columns, as a text[] (empty when absent).  A copy of an entry leaves out
 * what the log's compartment may not see (R16, R20): both copies of a
 * migration who requested it, the target's also the source's client and
 * whether that client had an approver; the owner's copy of a delegation
 * the delegate's compartment.
 */
static Datum
withheld_columns(TupleDesc desc, char **args, int nargs, int argno)
{
	List	   *names = NIL;
	Datum	   *elems;
	ListCell   *lc;
	int			n = 0;

	if (argno < nargs && args[argno][0] != '\0' &&
		!SplitIdentifierString(pstrdup(args[argno]), ',', &names))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("invalid list of columns in argument %d of function \"audit_change\": \"%s\"",
						argno + 1, args[argno])));
	elems = palloc(sizeof(Datum) * Max(list_length(names), 1));
	foreach(lc, names)
	{
		char	   *name = (char *) lfirst(lc);

		/* a misspelt name would withhold nothing, silently */
		if (SPI_fnumber(desc, name) <= 0)
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_TRIGGER),
					 errmsg("column \"%s\" in argument %d of function \"audit_change\" does not exist",
							name, argno + 1)));
		elems[n++] = CStringGetTextDatum(name);
	}
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * moved_compartment: does the UPDATE the trigger reports move the row from
 * one compartment to another?
 */
static bool
moved_compartment(TriggerData *trigdata, const TenancyAuditTable *table)
{
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	Datum		before;
	Datum		after;

	return TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) &&
		row_compartment(trigdata->tg_trigtuple, desc, table->compartment_att[0], &before) &&
		row_compartment(trigdata->tg_newtuple, desc, table->compartment_att[0], &after) &&
		DatumGetInt64(before) != DatumGetInt64(after);
}

/*
 * append_entries: audit_change's statements, inside one elevated SPI
 * connection: the chain's lock, its head, the entry, and the second entry
 * of a change between two compartments
 */
static void
append_entries(void *arg)
{
	AuditChange *c = (AuditChange *) arg;
	TenancyAuditHead head;
	Datum	   *values = c->values;
	char	   *nulls = c->nulls;
	Datum		account = values[3];
	Datum		user = values[4];

	/* one writer at a time appends to the chain, until commit */
	LockRelationOid(c->audit_relid, ShareRowExclusiveLock);
	read_head(&head);
	c->argtypes[13] = TEXTARRAYOID;
	values[13] = c->withheld[0];
	nulls[13] = ' ';
	c->argtypes[14] = TEXTARRAYOID;
	values[14] = c->withheld_before;
	nulls[14] = ' ';
	name_actor(c, account, user);
	append_entry(&head, c->table, c->argtypes, values, nulls);

	/* a change between two compartments goes into both logs */
	if (c->table->compartment_att[1] > 0)
	{
		Datum		first = values[5];
		bool		first_null = (nulls[5] == 'n');

		if (row_compartment(c->row, c->desc, c->table->compartment_att[1], &values[5]) &&
			(first_null || DatumGetInt64(values[5]) != DatumGetInt64(first)))
		{
			nulls[5] = ' ';
			values[13] = c->withheld[1];
			name_actor(c, account, user);
			append_entry(&head, c->table, c->argtypes, values, nulls);
		}
	}
}

/*
 * audit_change(object_type, compartment_column [, second_compartment_column
 *				[, withheld_from_first, withheld_from_second
 *				[, withheld_from_moved]]]) RETURNS trigger
 *
 * withheld_from_moved: the columns an UPDATE that moves the row into
 * another compartment (compartment_column changes) leaves out of the row
 * before, in the log of the compartment it moved to: they name objects of
 * the compartment it left (an administration's client, R16: the target's
 * copy of a migration does not name the source's client either; 1.3
 * attack: the archive's move showed it).
 */
PG_FUNCTION_INFO_V1(tenancy_audit_change);
Datum
tenancy_audit_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TimestampTz changed_at = GetCurrentTimestamp();
	TupleDesc	desc;
	HeapTuple	row;
	TenancyAuditTable *table;
	Oid			argtypes[AUDIT_NARGS];
	Datum		values[AUDIT_NARGS];
	char		nulls[AUDIT_NARGS];
	AuditChange entry;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		trigdata->tg_trigger->tgnargs < 2 || trigdata->tg_trigger->tgnargs > 6)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"audit_change\" must be fired AFTER ... FOR EACH ROW with two to six arguments")));
	tenancy_trigger_require_relation(trigdata, "audit_change", NULL);
	/* every write to the catalog passes here: none on a Citus worker */
	tenancy_catalog_require_coordinator("change tenancy's catalog");

	desc = RelationGetDescr(trigdata->tg_relation);
	table = audit_table(trigdata->tg_relation, trigdata->tg_trigger->tgargs,
						trigdata->tg_trigger->tgnargs);
	row = entry_fields(trigdata, table, changed_at, argtypes, values, nulls);

	entry.table = table;
	entry.desc = desc;
	entry.row = row;
	entry.argtypes = argtypes;
	entry.values = values;
	entry.nulls = nulls;
	entry.audit_relid = audit_entry_relid;
	entry.withheld[0] = withheld_columns(desc, trigdata->tg_trigger->tgargs,
										 trigdata->tg_trigger->tgnargs, 3);
	entry.withheld[1] = withheld_columns(desc, trigdata->tg_trigger->tgargs,
										 trigdata->tg_trigger->tgnargs, 4);
	entry.withheld_before = withheld_columns(desc, trigdata->tg_trigger->tgargs,
											 moved_compartment(trigdata, table) ?
											 trigdata->tg_trigger->tgnargs : 0, 5);
	entry.actor_compartment = tenancy_identity_current()->user_id != 0 ?
		tenancy_identity_current()->compartment_id : 0;
	tenancy_catalog_within(append_entries, &entry);

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

/*
 * The chain walk: the first entry whose hash does not match its fields
 * (by the formula of its hash_version), whose link does not match the
 * previous entry's hash, or whose format is older than the previous
 * entry's; and the hash of entry $1 (the published head), if it exists.
 */
static const char *verify_sql =
"SELECT (SELECT min(x.id) FROM ("
"          SELECT e.id,"
"                 coalesce(e.hash = CASE e.hash_version"
"                   WHEN 1 THEN tenancy.audit_hash(e.prev_hash, e.at, e.db_role,"
"                                 e.account_id, e.user_id, e.compartment_id, e.action,"
"                                 e.object_type, e.object_id, e.before, e.after)"
"                   WHEN 2 THEN tenancy.audit_hash_v2(e.id, e.prev_hash, e.at, e.db_role,"
"                                 e.login, e.account_id, e.user_id, e.compartment_id,"
"                                 e.action, e.object_type, e.object_id, e.before, e.after)"
"                   END"
"                   AND e.prev_hash IS NOT DISTINCT FROM pg_catalog.lag(e.hash) OVER w"
"                   AND e.hash_version >= coalesce(pg_catalog.lag(e.hash_version) OVER w, 1),"
"                   false) AS ok"
"            FROM tenancy.audit_entry e WINDOW w AS (ORDER BY e.id)) x"
"         WHERE NOT x.ok),"
"       (SELECT pg_catalog.encode(h.hash, 'hex') FROM tenancy.audit_entry h"
"         WHERE h.id = $1)";

/* refuse a published hash that is not 64 hexadecimal digits */
static void
require_hash_text(const char *hash)
{
	const char *p;

	for (p = hash; *p; p++)
		if (!isxdigit((unsigned char) *p))
			break;
	if (*p != '\0' || p - hash != PG_SHA256_DIGEST_STRING_LENGTH - 1)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid audit hash \"%s\"", hash),
				 errhint("Pass the hash as tenancy.audit_head() returned it: 64 hexadecimal digits.")));
}

/*
 * verify_audit() RETURNS text
 * verify_audit(expected_head_id bigint, expected_hash text) RETURNS text
 *
 * 'ok', or the first broken entry; with a published head, also whether the
 * log still reaches that entry and whether it still has that hash.
 */
PG_FUNCTION_INFO_V1(tenancy_verify_audit);
Datum
tenancy_verify_audit(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	bool		anchored = PG_NARGS() == 2;
	int64		head_id = 0;
	char	   *expected = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	char		nulls[1] = {'n'};
	int64		broken = 0;
	char	   *head_hash = NULL;

	if (anchored)
	{
		tenancy_catalog_require_arg(fcinfo, 0, "expected_head_id");
		head_id = PG_GETARG_INT64(0);
		if (head_id <= 0)
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
					 errmsg("expected_head_id must be positive"),
					 errhint("Pass the id and hash of an entry published from tenancy.audit_head().")));
		expected = tenancy_catalog_text_arg(fcinfo, 1, "expected_hash");
		require_hash_text(expected);
		values[0] = Int64GetDatum(head_id);
		nulls[0] = ' ';
	}
	tenancy_catalog_query(&plan, verify_sql, 1, argtypes, values, nulls,
						  &broken, 1, &head_hash, 1);
	if (broken != 0)
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("broken at entry %lld",
												  (long long) broken)));
	if (anchored && (head_hash == NULL || pg_strcasecmp(head_hash, expected) != 0))
	{
		/*
		 * Only an operator, who reads the head anyway (audit_head), is told
		 * which: "missing" or "differs" for any id would tell anyone else
		 * where the log ends, and so how many changes all firms make.
		 */
		if (!tenancy_catalog_is_operator())
			PG_RETURN_TEXT_P(cstring_to_text(psprintf("the log does not match published head entry %lld: it was cut back or rewritten",
													  (long long) head_id)));
		if (head_hash == NULL)
			PG_RETURN_TEXT_P(cstring_to_text(psprintf("published head entry %lld is missing: the log was cut back",
													  (long long) head_id)));
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("entry %lld differs from the published head: the log was rewritten",
												  (long long) head_id)));
	}
	PG_RETURN_TEXT_P(cstring_to_text("ok"));
}
