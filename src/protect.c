/*-------------------------------------------------------------------------
 *
 * protect.c
 *	  Protected tables: protect() and unprotect(), and the triggers they
 *	  install (R2, R6, R7, R11, R12).
 *
 * protect() enables and forces row security on an application table and
 * creates, at run time, five policies and two triggers:
 *
 *	tenancy_wall	RESTRICTIVE, all commands: the row's administration lies
 *					inside the identity's compartment wall (R6).  Being
 *					restrictive, no permissive policy added later widens it.
 *	tenancy_read	SELECT: the identity holds read (R7).
 *	tenancy_insert	INSERT: write.
 *	tenancy_update	UPDATE: write on the old and the new row.
 *	tenancy_delete	DELETE: write.
 *	tenancy_guard	BEFORE INSERT, UPDATE or DELETE row trigger: refuses with a
 *					precise error a write without identity (R2), without
 *					write right (R7), into an archived administration (R12),
 *					and a row moved to an administration of another client
 *					(R11: a policy cannot compare old and new rows).  For
 *					roles that row security does not apply to (superusers,
 *					BYPASSRLS) it still refuses rows written into or moved
 *					out of an archived, deleted or unknown administration,
 *					and rows deleted from an archived one (R12 for
 *					everyone), except in tenancy's own row removals of a
 *					migration (run as the owner with SECURITY_NOFORCE_RLS).
 *
 * Snapshots (R6, R12, R18).  The identity's scope is read under the
 * transaction's snapshot; under REPEATABLE READ or SERIALIZABLE that can
 * predate a transfer_migration or delete_at_source that has committed
 * since.  The guard therefore also reads the written administration's state
 * and client as committed by now (a latest snapshot, as ri_triggers.c
 * does), once per administration and statement, and fails with 40001 when
 * they differ from what the scope saw; the retry sees the change and is
 * refused.  A transfer that commits after the guard's check cannot slip in:
 * the writer holds ROW EXCLUSIVE on the table from the start of its
 * statement, and the migration's freeze waits for it.
 *	tenancy_no_truncate  BEFORE TRUNCATE: TRUNCATE ignores row security.
 *
 * The policies call tenancy.row_in_scope/row_readable/row_writable, which
 * answer from the identity (not current_user), so owner views and SECURITY
 * DEFINER functions see only the identity's rows, and without identity
 * nothing at all.  A table is protected, and unprotected, with all its
 * partitions and inheritance children, since a child read directly uses
 * only its own policies and its parent reads the child's rows with the
 * parent's; unprotect() of a child under a protected parent is refused.
 * The row trigger goes on the tables that hold rows, where row triggers
 * fire.
 *
 * A table that already carries a policy of its own is refused: a
 * permissive one would be OR'ed with tenancy_read and the write policies,
 * and open rows inside the wall that the identity holds no right on.  This
 * matters most for a table attached as a partition or child, which the
 * event trigger protects with this function (1.3 review).
 *
 * The DDL runs as the caller, who must own the table and be a member of
 * tenancy_admin, with search_path pinned; the registration in
 * tenancy.protected_table is written elevated.
 *
 * Migrations (migration.c) ask this module for what they do to protected
 * tables.  tenancy_protect_freeze() is the freeze: every protected table in
 * SHARE ROW EXCLUSIVE mode until commit.  Deadlock-free because it never
 * waits for one table's lock while holding another's: a round takes every
 * lock without waiting, or releases them all and queues for the busy
 * table's lock alone (a real lock wait, not a retry loop that polls; see
 * the function).  tenancy_protect_delete_rows() deletes an administration's
 * rows as each table's owner with SECURITY_NOFORCE_RLS, or, on a table
 * distributed by Citus, as the extension owner (see delete_as_owner).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/indexing.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "tenancy.h"

/* how many rounds the freeze waits for busy tables before it gives up */
#define TENANCY_FREEZE_ROUNDS		1000

static const char *const policy_names[] = {
	"tenancy_wall", "tenancy_read", "tenancy_insert", "tenancy_update", "tenancy_delete"
};

/*
 * per-trigger cache: the administration column's number, and whether row
 * security applies to the relation for the current user (neither changes
 * within a statement for a given relation and user)
 */
typedef struct GuardState
{
	int64		administration_id;	/* hash key */
	int64		client_id;
	char		state;			/* 'a'ctive, a'r'chived, 'd'eleted, 0: none */
	int64		writer;			/* the user writer_rights are of, 0: none yet */
	int			writer_rights;	/* its rights now (writer_rights_now) */
} GuardState;

typedef struct GuardCache
{
	Oid			relid;
	AttrNumber	attnum;
	Oid			rls_userid;
	bool		rls_enabled;
	/* administrations as committed by now, by id (per query), or NULL */
	HTAB	   *states;
	MemoryContext mcxt;			/* where states lives: the trigger's fn_mcxt */
} GuardCache;

static List *relation_and_descendants(Oid relid);
static Oid	protected_parent(Oid relid, List *besides);
static void child_context(void *arg);
static void require_table_arg(Oid relid, const char *action);
static void require_table_owner(Oid relid, const char *action);
static void require_no_own_policy(Oid relid);
static void protect_one(Oid relid, const char *column, bool leaf);
static void unprotect_one(Oid relid);
static int	pin_ddl_settings(void);
static bool admin_now(GuardCache *cache, int64 administration_id, GuardState *out);
static int	writer_rights_now(GuardCache *cache, int64 administration_id);
static void refuse_archived(int64 administration_id);
static void require_writable_now(GuardCache *cache, int64 administration_id);
static void require_snapshot_current(GuardCache *cache, int64 administration_id,
									 const TenancyScopeInfo *seen);
static void guard_delete(GuardCache *cache, struct TriggerData *trigdata);
static List *protected_relids(void);
static Oid	lock_all_or_none(List *relids, Oid held);
static uint64 delete_as_owner(Oid relid, Oid owner, const char *column,
							  int64 administration_id);
static GuardCache *guard_cache(FunctionCallInfo fcinfo, struct TriggerData *trigdata);
static void require_writer(GuardCache *cache, Relation rel);
static int64 row_administration(GuardCache *cache, struct TriggerData *trigdata,
								HeapTuple tuple);
static void refuse_write(int64 id, const TenancyScopeInfo *info) pg_attribute_noreturn();

/*
 * relation_and_descendants: the table and every partition and inheritance
 * child below it, locked.  A child read directly uses only its own
 * policies, and its parent reads its rows with the parent's: the two are
 * protected, and unprotected, together (1.3 review: unprotect() of an
 * inheritance parent left its children's rows open through it).
 */
static List *
relation_and_descendants(Oid relid)
{
	return find_all_inheritors(relid, AccessExclusiveLock, NULL);
}

/*
 * protected_parent: a protected table that relid is a partition or
 * inheritance child of, other than those in besides, or InvalidOid
 */
static Oid
protected_parent(Oid relid, List *besides)
{
	Relation	inherits = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			parent = InvalidOid;

	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(inherits, InheritsRelidSeqnoIndexId, true,
							  NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Oid			candidate = ((Form_pg_inherits) GETSTRUCT(tuple))->inhparent;

		if (!list_member_oid(besides, candidate) &&
			tenancy_protected_column(candidate) != NULL)
		{
			parent = candidate;
			break;
		}
	}
	systable_endscan(scan);
	table_close(inherits, AccessShareLock);
	return parent;
}

/* error context of protect() and unprotect() on a child: names[] = child, table */
static void
child_context(void *arg)
{
	char	  **names = (char **) arg;

	errcontext("\"%s\" is a partition or inheritance child of \"%s\", which takes it along",
			   names[0], names[1]);
}

/*
 * require_table_arg: the tbl argument of protect() and unprotect() names an
 * existing table or partitioned table outside the system catalogs.  Locks
 * it, then checks again, so that it cannot be dropped under us.
 */
static void
require_table_arg(Oid relid, const char *action)
{
	char		relkind;

	if (!OidIsValid(relid) || !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errhint("Name the table to %s, for example 'public.journal'.", action)));
	LockRelationOid(relid, AccessExclusiveLock);
	relkind = get_rel_relkind(relid);
	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errdetail("It was dropped while %s waited for its lock.", action),
				 errhint("Name the table to %s, for example 'public.journal'.", action)));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid)),
				 errhint("Only tables and partitioned tables can be protected.")));
	if (IsCatalogRelationOid(relid))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to %s system catalog \"%s\"",
						action, get_rel_name(relid)),
				 errhint("Only application tables can be protected.")));
}

static void
require_table_owner(Oid relid, const char *action)
{
	if (!tenancy_catalog_is_operator())
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to %s table \"%s\"", action, get_rel_name(relid)),
				 errhint("Only the table's owner, as a member of role \"%s\", may %s it.",
						 TENANCY_ADMIN_ROLE, action)));
	if (!TENANCY_REL_OWNERCHECK(relid, GetUserId()))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("must be owner of table \"%s\"", get_rel_name(relid)),
				 errhint("Only the table's owner, as a member of role \"%s\", may %s it.",
						 TENANCY_ADMIN_ROLE, action)));
}

/*
 * require_no_own_policy: refuse a table with a policy that tenancy does not
 * install (see the file header)
 */
static void
require_no_own_policy(Oid relid)
{
	Relation	catalog = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	ScanKeyInit(&key, Anum_pg_policy_polrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(catalog, PolicyPolrelidPolnameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		const char *name = NameStr(((Form_pg_policy) GETSTRUCT(tuple))->polname);
		int			i;

		for (i = 0; i < lengthof(policy_names); i++)
			if (strcmp(name, policy_names[i]) == 0)
				break;
		if (i == lengthof(policy_names))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" has policy \"%s\", which tenancy does not install",
							get_rel_name(relid), name),
					 errdetail("A policy of the table's own would widen the wall: a permissive one opens rows the identity holds no right on."),
					 errhint("Drop the policy with DROP POLICY %s ON %s, then protect the table.",
							 quote_identifier(name),
							 tenancy_catalog_relation_name(relid))));
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
}

/*
 * pin_ddl_settings: a GUC nest level with a safe search_path and without the
 * "does not exist, skipping" notices of the DROP ... IF EXISTS statements.
 * Undone with AtEOXact_GUC(true, level).
 */
static int
pin_ddl_settings(void)
{
	int			level = tenancy_catalog_pin_search_path();

	tenancy_catalog_save_setting("client_min_messages", "warning");
	return level;
}

static void
protect_one(Oid relid, const char *column, bool leaf)
{
	char	   *rel = tenancy_catalog_relation_name(relid);
	const char *col = quote_identifier(column);
	int			i;

	require_table_owner(relid, "protect");
	tenancy_catalog_run("ALTER TABLE %s ENABLE ROW LEVEL SECURITY", rel);
	tenancy_catalog_run("ALTER TABLE %s FORCE ROW LEVEL SECURITY", rel);
	for (i = 0; i < lengthof(policy_names); i++)
		tenancy_catalog_run("DROP POLICY IF EXISTS %s ON %s", policy_names[i], rel);
	tenancy_catalog_run("CREATE POLICY tenancy_wall ON %s AS RESTRICTIVE FOR ALL TO PUBLIC"
			" USING (tenancy.row_in_scope(%s)) WITH CHECK (tenancy.row_in_scope(%s))",
			rel, col, col);
	tenancy_catalog_run("CREATE POLICY tenancy_read ON %s FOR SELECT TO PUBLIC"
			" USING (tenancy.row_readable(%s))", rel, col);
	tenancy_catalog_run("CREATE POLICY tenancy_insert ON %s FOR INSERT TO PUBLIC"
			" WITH CHECK (tenancy.row_writable(%s))", rel, col);
	tenancy_catalog_run("CREATE POLICY tenancy_update ON %s FOR UPDATE TO PUBLIC"
			" USING (tenancy.row_writable(%s)) WITH CHECK (tenancy.row_writable(%s))",
			rel, col, col);
	tenancy_catalog_run("CREATE POLICY tenancy_delete ON %s FOR DELETE TO PUBLIC"
			" USING (tenancy.row_writable(%s))", rel, col);
	tenancy_catalog_run("DROP TRIGGER IF EXISTS tenancy_guard ON %s", rel);
	if (leaf)
		tenancy_catalog_run("CREATE TRIGGER tenancy_guard BEFORE INSERT OR UPDATE OR DELETE ON %s"
				" FOR EACH ROW EXECUTE FUNCTION tenancy.guard_row(%s)",
				rel, quote_literal_cstr(column));
	tenancy_catalog_run("DROP TRIGGER IF EXISTS tenancy_no_truncate ON %s", rel);
	tenancy_catalog_run("CREATE TRIGGER tenancy_no_truncate BEFORE TRUNCATE ON %s"
			" FOR EACH STATEMENT EXECUTE FUNCTION tenancy.guard_truncate()", rel);
}

static void
unprotect_one(Oid relid)
{
	char	   *rel = tenancy_catalog_relation_name(relid);
	int			i;

	require_table_owner(relid, "unprotect");
	for (i = 0; i < lengthof(policy_names); i++)
		tenancy_catalog_run("DROP POLICY IF EXISTS %s ON %s", policy_names[i], rel);
	tenancy_catalog_run("DROP TRIGGER IF EXISTS tenancy_guard ON %s", rel);
	tenancy_catalog_run("DROP TRIGGER IF EXISTS tenancy_no_truncate ON %s", rel);
	tenancy_catalog_run("ALTER TABLE %s NO FORCE ROW LEVEL SECURITY", rel);
	tenancy_catalog_run("ALTER TABLE %s DISABLE ROW LEVEL SECURITY", rel);
}

/* protect(tbl regclass, administration_column name DEFAULT 'administration_id',
 *		   carry_on_migration boolean DEFAULT true) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_protect);
Datum
tenancy_protect(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr reg_plan = NULL;
	Oid			relid;
	char	   *column;
	bool		carry;
	List	   *rels;
	ListCell   *lc;
	int			nestlevel;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("tbl and administration_column must not be null"),
				 errhint("Name the table and the column that holds the administration id.")));
	relid = PG_GETARG_OID(0);
	column = NameStr(*PG_GETARG_NAME(1));
	carry = tenancy_catalog_bool_arg(fcinfo, 2, "carry_on_migration");

	require_table_arg(relid, "protect");
	require_table_owner(relid, "protect");
	if (tenancy_distribute_is_citus_table(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is already a Citus table", get_rel_name(relid)),
				 errdetail("Citus would re-create the wall on its shards as a permissive policy."),
				 errhint("Turn it back into a local table with undistribute_table(), then call tenancy.distribute().")));

	rels = relation_and_descendants(relid);
	foreach(lc, rels)
	{
		Oid			r = lfirst_oid(lc);
		AttrNumber	attnum = get_attnum(r, column);
		char		relkind = get_rel_relkind(r);

		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("cannot protect table \"%s\" with its child \"%s\"",
							get_rel_name(relid), get_rel_name(r)),
					 errdetail("\"%s\" is not a table: it cannot have row security, and read directly it would show every firm's rows.",
							   get_rel_name(r)),
					 errhint("Detach it first (ALTER TABLE ... NO INHERIT or DETACH PARTITION).")));
		if (attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist",
							column, get_rel_name(r)),
					 errhint("Name the column that holds the administration id with administration_column.")));
		if (get_atttype(r, attnum) != INT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of relation \"%s\" must be of type bigint",
							column, get_rel_name(r)),
					 errdetail("Administration ids are bigint."),
					 errhint("Change the column's type with ALTER TABLE ... ALTER COLUMN ... TYPE bigint.")));
		if (get_attgenerated(r, attnum) != '\0')
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" of relation \"%s\" is a generated column",
							column, get_rel_name(r)),
					 errdetail("PostgreSQL computes a generated column after the guard trigger has checked the row, which would find no administration."),
					 errhint("Keep the administration id in a plain bigint column.")));

		/*
		 * A temporary table's registration would outlive its session (a
		 * backend's exit drops it without an event trigger), and a migration
		 * could not reach its rows from another session.
		 */
		if (get_rel_persistence(r) == RELPERSISTENCE_TEMP)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("cannot protect temporary table \"%s\"", get_rel_name(r)),
					 errdetail("A migration removes and freezes an administration's rows in every protected table, from another session than the one that owns a temporary table."),
					 errhint("Keep rows of administrations in permanent tables.")));
		require_no_own_policy(r);
	}

	SPI_connect();
	nestlevel = pin_ddl_settings();
	tenancy_ddl_own_begin(rels);
	foreach(lc, rels)
	{
		Oid			r = lfirst_oid(lc);
		char	   *names[2] = {get_rel_name(r), get_rel_name(relid)};
		ErrorContextCallback callback = {error_context_stack, child_context, names};

		CHECK_FOR_INTERRUPTS();
		if (r != relid)
			error_context_stack = &callback;
		protect_one(r, column, get_rel_relkind(r) == RELKIND_RELATION);
		error_context_stack = callback.previous;
	}
	tenancy_ddl_own_end();
	AtEOXact_GUC(true, nestlevel);

	foreach(lc, rels)
	{
		Oid			argtypes[3] = {OIDOID, NAMEOID, BOOLOID};
		Datum		values[3];

		values[0] = ObjectIdGetDatum(lfirst_oid(lc));
		values[1] = PG_GETARG_DATUM(1);
		values[2] = BoolGetDatum(carry);
		tenancy_catalog_write(&reg_plan,
							  "INSERT INTO tenancy.protected_table AS t"
							  " (relid, administration_column, carry_on_migration)"
							  " VALUES ($1::regclass, $2, $3)"
							  " ON CONFLICT (relid) DO UPDATE"
							  " SET administration_column = excluded.administration_column,"
							  "     carry_on_migration = excluded.carry_on_migration"
							  " WHERE (t.administration_column, t.carry_on_migration) IS DISTINCT FROM"
							  "       (excluded.administration_column, excluded.carry_on_migration)",
							  3, argtypes, values, NULL, NULL, NULL);
	}
	/* R24: no view, rule or foreign key may read them past the walls */
	tenancy_ddl_require_sound(rels);
	/* R11, R12: nothing of the owner's changes a row after the guard */
	tenancy_ddl_require_walls(rels);
	SPI_finish();
	PG_RETURN_VOID();
}

/* unprotect(tbl regclass) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_unprotect);
Datum
tenancy_unprotect(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr del_plan = NULL;
	Oid			relid;
	List	   *rels;
	ListCell   *lc;
	int			nestlevel;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("tbl must not be null"),
				 errhint("Name the table to unprotect.")));
	relid = PG_GETARG_OID(0);
	require_table_arg(relid, "unprotect");
	require_table_owner(relid, "unprotect");
	rels = relation_and_descendants(relid);

	/*
	 * No table taken along may keep a protected parent outside them (a
	 * child of two protected parents, 1.3 review): read directly, it would
	 * have no policy, and that parent would show its rows to nobody.
	 */
	foreach(lc, rels)
	{
		Oid			r = lfirst_oid(lc);
		Oid			parent = protected_parent(r, rels);

		if (OidIsValid(parent))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" is a partition or inheritance child of protected table \"%s\"",
							get_rel_name(r), get_rel_name(parent)),
					 errdetail("A child read directly has only its own policies: unprotected, its rows would be open to every firm."),
					 errhint("Unprotect \"%s\", which unprotects its children with it, or detach the child first.",
							 get_rel_name(parent))));
	}

	SPI_connect();
	nestlevel = pin_ddl_settings();
	tenancy_ddl_own_begin(rels);
	foreach(lc, rels)
	{
		Oid			r = lfirst_oid(lc);
		char	   *names[2] = {get_rel_name(r), get_rel_name(relid)};
		ErrorContextCallback callback = {error_context_stack, child_context, names};

		CHECK_FOR_INTERRUPTS();
		if (r != relid)
			error_context_stack = &callback;
		unprotect_one(r);
		error_context_stack = callback.previous;
	}
	tenancy_ddl_own_end();
	AtEOXact_GUC(true, nestlevel);

	foreach(lc, rels)
	{
		Oid			argtypes[1] = {OIDOID};
		Datum		values[1];

		values[0] = ObjectIdGetDatum(lfirst_oid(lc));
		tenancy_catalog_write(&del_plan,
							  "DELETE FROM tenancy.protected_table WHERE relid = $1::regclass",
							  1, argtypes, values, NULL, NULL, NULL);
	}
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * admin_now: state and client of an administration as committed by now
 * (latest snapshot), through a per-query hash table in the GuardCache
 * (fn_mcxt): one catalog query per administration and statement, not per
 * row, however the rows interleave.  Returns false when the administration
 * does not exist.
 */
static bool
admin_now(GuardCache *cache, int64 administration_id, GuardState *out)
{
	static SPIPlanPtr plan = NULL;
	GuardState *slot;
	bool		found;

	if (cache->states == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(GuardState);
		ctl.hcxt = cache->mcxt;
		cache->states = hash_create("tenancy guard administrations", 64, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	slot = hash_search(cache->states, &administration_id, HASH_FIND, NULL);
	if (slot == NULL)
	{
		Oid			argtypes[1] = {INT8OID};
		Datum		values[1];
		int64		client_id = 0;
		char	   *state = NULL;

		values[0] = Int64GetDatum(administration_id);
		if (tenancy_probe_replica())
		{
			/* a Citus worker: the coordinator's replica (probe.c) */
			const char *now_state;

			if (tenancy_probe_administration_now(administration_id, &client_id, &now_state))
				state = pstrdup(now_state);
		}
		else if (tenancy_catalog_query_latest(&plan,
										 "SELECT a.client_id, a.state"
										 "  FROM tenancy.administration a WHERE a.id = $1",
										 1, argtypes, values, NULL,
										 &client_id, 1, &state, 1) != 1)
			state = NULL;
		slot = hash_search(cache->states, &administration_id, HASH_ENTER, &found);
		slot->state = tenancy_rights_state_code(state);
		slot->client_id = client_id;
		slot->writer = 0;
	}
	*out = *slot;
	return out->state != 0;
}

/* R12 for everyone: the refusal of a write into an archived administration */
static void
refuse_archived(int64 administration_id)
{
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_BAD_STATE),
			 errmsg("administration %lld is archived", (long long) administration_id),
			 errdetail("An archived administration is read-only for everyone, superusers and table owners included."),
			 errhint("Only a restore with session_replication_role = replica writes its rows.")));
}

/*
 * require_writable_now (R12, for everyone): the administration exists and
 * is active now.  Used where row security does not apply (superusers,
 * BYPASSRLS), which see every administration, so it may be named.
 */
static void
require_writable_now(GuardCache *cache, int64 administration_id)
{
	GuardState	now;

	if (!admin_now(cache, administration_id, &now))
		tenancy_catalog_error_unknown("administration", administration_id,
									  "Every row of a protected table belongs to an existing administration, for every role.",
									  "Create the administration with tenancy.create_administration() first.");
	if (now.state == 'r')
		refuse_archived(administration_id);
	if (now.state == 'd')
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("administration %lld is deleted", (long long) administration_id),
				 errdetail("A deleted administration is kept for the record only; nobody writes its rows."),
				 errhint("Write the rows into an active administration.")));
}

/*
 * require_snapshot_current (R6, R12, R18): in a transaction that reads under
 * one snapshot (REPEATABLE READ, SERIALIZABLE), the identity's scope was
 * built from that snapshot.  When the administration has changed since
 * (archived and transferred, deleted at the source, moved to another
 * client), the write would land in a dossier that has left: fail with a
 * serialization failure, so that the application retries, and the retry,
 * under a new snapshot, is refused by the rules.
 */
static void
require_snapshot_current(GuardCache *cache, int64 administration_id,
						 const TenancyScopeInfo *seen)
{
	GuardState	now;

	/*
	 * Only where the snapshot gave a right: a write into an administration
	 * the identity could neither read nor write is refused by the rules
	 * below, whatever happened to it since; a 40001 there told an external
	 * user that another client's administration had just changed (1.3
	 * attack)
	 */
	if (!IsolationUsesXactSnapshot() ||
		!(seen->rights & (TENANCY_RIGHT_READ | TENANCY_RIGHT_WRITE)))
		return;
	if (!admin_now(cache, administration_id, &now) ||
		now.state != seen->state || now.client_id != seen->client_id)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent change of administration %lld",
						(long long) administration_id),
				 errdetail("The administration was archived, deleted or moved after this transaction's snapshot was taken."),
				 errhint("Retry the transaction.")));
	/*
	 * A right the snapshot showed and that is gone now; a write the
	 * snapshot did not allow either is refused by the rules below, not sent
	 * to retry (1.3 attack: a retry loop met 40001 for ever)
	 */
	if ((seen->rights & TENANCY_RIGHT_WRITE) &&
		!(writer_rights_now(cache, administration_id) & TENANCY_RIGHT_WRITE))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent change of the rights on administration %lld",
						(long long) administration_id),
				 errdetail("The right to write its rows was revoked, its delegation ended or the user disabled after this transaction's snapshot was taken."),
				 errhint("Retry the transaction.")));
}

/*
 * writer_rights_now: the acting user's rights on the administration as
 * committed by now (tenancy_rights_committed), once per administration and
 * statement (the slot admin_now made); all rights when there is no user to
 * ask about (a token's identity is a user too; row security keeps the
 * rest out) or no probe to ask with
 */
static int
writer_rights_now(GuardCache *cache, int64 administration_id)
{
	const TenancyIdentity *ident = tenancy_identity_current();
	GuardState *slot = hash_search(cache->states, &administration_id, HASH_FIND, NULL);
	int			rights;

	if (ident->user_id == 0 || slot == NULL)
		return TENANCY_RIGHT_WRITE;
	if (slot->writer != ident->user_id)
	{
		slot->writer_rights = tenancy_rights_committed(ident->user_id, ident->compartment_id,
													   ident->account_id, administration_id);
		slot->writer = ident->user_id;
	}
	rights = slot->writer_rights;
	return rights < 0 ? TENANCY_RIGHT_WRITE : rights;
}

/*
 * guard_delete: the DELETE half of the guard.  The policies have already
 * chosen the rows a session with row security may delete; under a
 * transaction snapshot the administration must not have changed since
 * (require_snapshot_current).  Where row security does not apply, rows of
 * an archived administration are not deleted (R12), except by tenancy's
 * own removals during a migration, which run as the table's owner with
 * SECURITY_NOFORCE_RLS (tenancy_protect_delete_rows; on a Citus worker
 * they run as the superuser and come before the archiving).  Rows of a
 * deleted or unknown administration may be cleaned up.
 */
static void
guard_delete(GuardCache *cache, TriggerData *trigdata)
{
	Relation	rel = trigdata->tg_relation;
	bool		isnull;
	int64		id;
	GuardState	now;
	TenancyScopeInfo info;

	id = DatumGetInt64(heap_getattr(trigdata->tg_trigtuple, cache->attnum,
									RelationGetDescr(rel), &isnull));
	if (isnull)
		return;
	if (cache->rls_enabled)
	{
		tenancy_visibility_lookup(id, &info);
		require_snapshot_current(cache, id, &info);
		return;
	}
	if (!InNoForceRLSOperation() && admin_now(cache, id, &now) && now.state == 'r')
		refuse_archived(id);
}

/*
 * guard_cache: the trigger's state for this relation and query: the
 * column's number, looked up once, and whether row security applies to
 * the current user
 */
static GuardCache *
guard_cache(FunctionCallInfo fcinfo, TriggerData *trigdata)
{
	Relation	rel = trigdata->tg_relation;
	GuardCache *cache = (GuardCache *) fcinfo->flinfo->fn_extra;

	if (cache == NULL || cache->relid != RelationGetRelid(rel))
	{
		if (cache == NULL)
		{
			cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(GuardCache));
			cache->mcxt = fcinfo->flinfo->fn_mcxt;
		}
		cache->relid = RelationGetRelid(rel);
		cache->rls_userid = InvalidOid;
		cache->attnum = SPI_fnumber(RelationGetDescr(rel), trigdata->tg_trigger->tgargs[0]);
		if (cache->attnum <= 0 ||
			TupleDescAttr(RelationGetDescr(rel), cache->attnum - 1)->atttypid != INT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist or is not of type bigint",
							trigdata->tg_trigger->tgargs[0], RelationGetRelationName(rel)),
					 errhint("Protect the table again with tenancy.protect().")));
		fcinfo->flinfo->fn_extra = cache;
	}
	if (cache->rls_userid != GetUserId())
	{
		cache->rls_enabled =
			check_enable_rls(RelationGetRelid(rel), InvalidOid, true) == RLS_ENABLED;
		cache->rls_userid = GetUserId();
	}
	return cache;
}

/*
 * require_writer: under row security, only an identity writes (R2); a
 * reporting login writes nothing (R14)
 */
static void
require_writer(GuardCache *cache, Relation rel)
{
	if (!cache->rls_enabled || tenancy_identity_is_set())
		return;
	if (tenancy_visibility_reporting())
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("reporting login \"%s\" is read-only",
						GetUserNameFromId(GetSessionUserId(), false)),
				 errdetail("A login bound with tenancy.bind_reporting_login() reads its scope and writes nothing.")));
	tenancy_catalog_error_no_identity(psprintf("Rows of protected table \"%s\" are written only on behalf of a tenancy user.",
											   RelationGetRelationName(rel)),
									  NULL);
}

/*
 * row_administration: the administration column of a row; NULL is refused
 */
static int64
row_administration(GuardCache *cache, TriggerData *trigdata, HeapTuple tuple)
{
	Relation	rel = trigdata->tg_relation;
	bool		isnull;
	int64		id;

	id = DatumGetInt64(heap_getattr(tuple, cache->attnum,
									RelationGetDescr(rel), &isnull));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("column \"%s\" of protected table \"%s\" must not be null",
						trigdata->tg_trigger->tgargs[0], RelationGetRelationName(rel)),
				 errdetail("Every row of a protected table belongs to an administration.")));
	return id;
}

/*
 * refuse_write: why the identity may not write a row of administration id
 * (info: what the scope cache knows of it); never returns
 */
static void
refuse_write(int64 id, const TenancyScopeInfo *info)
{
	if (!(info->rights & TENANCY_RIGHT_READ))
		tenancy_catalog_error_inaccessible("administration", id, false,
										   NULL, NULL);
	if (info->state == 'r')
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("administration %lld is archived", (long long) id),
				 errdetail("An archived administration is read-only for everyone.")));
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("permission denied to write rows of administration %lld", (long long) id),
			 errdetail("The user holds no write right on it."),
			 errhint("Ask an administrator of the compartment to grant \"write\".")));
}

/* guard_row() RETURNS trigger, with the administration column as argument */
PG_FUNCTION_INFO_V1(tenancy_guard_row);
Datum
tenancy_guard_row(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	GuardCache *cache;
	HeapTuple	newtuple;
	int64		new_id;
	int64		old_id;
	TenancyScopeInfo info;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		trigdata->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"guard_row\" must be fired BEFORE ... FOR EACH ROW with one argument")));
	cache = guard_cache(fcinfo, trigdata);

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		guard_delete(cache, trigdata);
		return PointerGetDatum(trigdata->tg_trigtuple);
	}
	require_writer(cache, trigdata->tg_relation);

	newtuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	new_id = row_administration(cache, trigdata, newtuple);
	old_id = new_id;
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		old_id = row_administration(cache, trigdata, trigdata->tg_trigtuple);

	/*
	 * Where PostgreSQL does not apply row security (superusers, BYPASSRLS
	 * roles: see the README's caveats), R12 still holds: no row is written
	 * into, or moved out of, an administration that is archived, deleted or
	 * does not exist.  Nothing else is checked, so that a DBA can load
	 * data; check() lists such roles.  A restore in replica mode does not
	 * fire this trigger.
	 */
	if (!cache->rls_enabled)
	{
		require_writable_now(cache, new_id);
		if (old_id != new_id)
			require_writable_now(cache, old_id);
		return PointerGetDatum(newtuple);
	}

	if (old_id != new_id)
	{
		TenancyScopeInfo old_info;

		tenancy_visibility_lookup(old_id, &old_info);
		tenancy_visibility_lookup(new_id, &info);
		require_snapshot_current(cache, old_id, &old_info);
		require_snapshot_current(cache, new_id, &info);
		if ((info.rights & TENANCY_RIGHT_WRITE) && (old_info.rights & TENANCY_RIGHT_WRITE) &&
			info.client_id != old_info.client_id)
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_DENIED),
					 errmsg("cannot move a row from administration %lld to administration %lld",
							(long long) old_id, (long long) new_id),
					 errdetail("Rows move only between administrations of the same client.")));
	}
	else
	{
		tenancy_visibility_lookup(new_id, &info);
		require_snapshot_current(cache, new_id, &info);
		/* an update inside one administration: the policies decide */
		if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
			return PointerGetDatum(newtuple);
	}

	if (!(info.rights & TENANCY_RIGHT_WRITE))
		refuse_write(new_id, &info);
	return PointerGetDatum(newtuple);
}

/* guard_truncate() RETURNS trigger */
PG_FUNCTION_INFO_V1(tenancy_guard_truncate);
Datum
tenancy_guard_truncate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"guard_truncate\" was not called by trigger manager")));
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("cannot truncate protected table \"%s\"",
					RelationGetRelationName(trigdata->tg_relation)),
			 errdetail("TRUNCATE ignores row security."),
			 errhint("Delete rows with DELETE, which row security filters, or call tenancy.unprotect() first.")));
	PG_RETURN_NULL();
}

/* ------------------------------------------------------------------
 * The freeze, and the removal of an administration's rows (migration.c)
 * ------------------------------------------------------------------ */

/* a list of OIDs built by a reader, in the memory of the reader's caller */
typedef struct RelidList
{
	List	   *relids;
	MemoryContext context;
} RelidList;

/* protected_relids' reader */
static void
collect_relids(int n, void *arg)
{
	RelidList  *list = (RelidList *) arg;
	MemoryContext old = MemoryContextSwitchTo(list->context);
	int			i;

	for (i = 0; i < n; i++)
	{
		bool		isnull;

		list->relids = lappend_oid(list->relids,
								   DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																  SPI_tuptable->tupdesc,
																  1, &isnull)));
	}
	MemoryContextSwitchTo(old);
}

/* every protected table, by OID (the lock order), in the caller's memory */
static List *
protected_relids(void)
{
	static SPIPlanPtr plan = NULL;
	RelidList	list = {NIL, CurrentMemoryContext};

	tenancy_catalog_write(&plan,
						  "SELECT c.oid FROM tenancy.protected_table t"
						  "  JOIN pg_catalog.pg_class c ON c.oid = t.relid"
						  " ORDER BY c.oid",
						  0, NULL, NULL, NULL, collect_relids, &list);
	return list.relids;
}

/*
 * lock_all_or_none: SHARE ROW EXCLUSIVE on every table of relids without
 * waiting; held, if valid, is locked already.  Returns InvalidOid when all
 * are locked.  Otherwise it releases what it took, and held, and returns
 * the first table it could not lock.
 */
static Oid
lock_all_or_none(List *relids, Oid held)
{
	List	   *taken = NIL;
	Oid			busy = InvalidOid;
	ListCell   *lc;

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);

		if (relid == held)
			continue;
		if (!ConditionalLockRelationOid(relid, ShareRowExclusiveLock))
		{
			busy = relid;
			break;
		}
		taken = lappend_oid(taken, relid);
	}
	if (OidIsValid(busy))
	{
		foreach(lc, taken)
			UnlockRelationOid(lfirst_oid(lc), ShareRowExclusiveLock);
		if (OidIsValid(held))
			UnlockRelationOid(held, ShareRowExclusiveLock);
	}
	list_free(taken);
	return busy;
}

/*
 * tenancy_protect_freeze: the freeze of a migration step (R18, R19).  Every
 * protected table in SHARE ROW EXCLUSIVE mode, held to commit: the step
 * waits for the transactions writing them and holds new writers back.
 *
 * It never waits for a lock while holding one of these: a round takes all
 * of them without waiting or, when one is busy, releases every one and
 * queues for the busy table's lock holding none, which it keeps for the
 * next round.  Writers of protected tables wait for nothing else the step
 * holds (see the lock order in migration.c), so no cycle can form through
 * the freeze.  The wait is an ordinary lock wait: it sleeps in the lock
 * queue, new writers of that table queue behind it, an autovacuum in the
 * way is cancelled, and lock_timeout, statement_timeout and cancel requests
 * end it.  Each round ends only when a writer of some table has finished,
 * so the loop never spins; should writers keep overlapping on different
 * tables for TENANCY_FREEZE_ROUNDS rounds, the step fails with 40001 and
 * may be retried.
 */
void
tenancy_protect_freeze(void)
{
	List	   *relids = protected_relids();
	Oid			held = InvalidOid;
	Oid			busy;
	int			round;

	for (round = 0;; round++)
	{
		CHECK_FOR_INTERRUPTS();
		busy = lock_all_or_none(relids, held);
		if (!OidIsValid(busy))
			break;
		if (round >= TENANCY_FREEZE_ROUNDS)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not freeze the administration: protected table \"%s\" stays busy",
							get_rel_name(busy)),
					 errdetail("The step waited %d times for the writers of protected tables to finish.",
							   TENANCY_FREEZE_ROUNDS),
					 errhint("Retry the step when the application writes less.")));
		LockRelationOid(busy, ShareRowExclusiveLock);
		held = busy;
	}
	list_free(relids);
}

/* one DELETE of delete_as_owner, what it deleted and what it left */
typedef struct OwnerDelete
{
	const char *sql;
	const char *left_sql;		/* count of the rows left, or NULL */
	Datum		administration_id;
	uint64		rows;
	int64		left;
} OwnerDelete;

static void
delete_rows_body(void *arg)
{
	OwnerDelete *d = (OwnerDelete *) arg;
	Oid			argtypes[1] = {INT8OID};

	if (SPI_execute_with_args(d->sql, 1, argtypes, &d->administration_id, NULL,
							  false, 0) != SPI_OK_DELETE)
		elog(ERROR, "SPI failed for \"%s\"", d->sql);
	d->rows = SPI_processed;
	if (d->left_sql == NULL)
		return;
	if (SPI_execute_with_args(d->left_sql, 1, argtypes, &d->administration_id, NULL,
							  false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI failed for \"%s\"", d->left_sql);
	(void) tenancy_catalog_get_int64(0, 0, &d->left);
}

/*
 * delete_as_owner: DELETE the administration's rows from one table as its
 * owner with SECURITY_NOFORCE_RLS, the way PostgreSQL runs referential
 * integrity checks: row security and the guard trigger stand aside, and any
 * trigger of the application's runs with the owner's rights, not the
 * extension owner's.  Returns the number of rows deleted.
 *
 * A table distributed by Citus is different: SECURITY_NOFORCE_RLS is a flag
 * of this backend only, and Citus sends the DELETE to the workers over
 * connections logged in as the current role, where row security applies to
 * the owner again and no identity is set: nothing would be deleted.  There
 * the DELETE runs as the extension owner, a superuser, for whom the workers
 * apply no row security (the guard on the shards lets a superuser delete
 * rows of an administration that is not archived: the caller deletes before
 * it archives), and who is the role replicate() writes the reference tables
 * as in the same transaction (Citus refuses two roles on one placement).
 * Tables that carry triggers of the application's are refused beforehand
 * (tenancy_protect_require_removable).  The rows left are counted, as that
 * role, and must be none: the rows reported removed are all there were.
 */
static uint64
delete_as_owner(Oid relid, Oid owner, const char *column, int64 administration_id)
{
	OwnerDelete d = {0};
	char	   *rel;

	rel = tenancy_catalog_relation_name(relid);
	d.sql = psprintf("DELETE FROM %s WHERE %s = $1", rel, quote_identifier(column));
	d.administration_id = Int64GetDatum(administration_id);
	if (!tenancy_distribute_is_citus_table(relid))
	{
		tenancy_catalog_within_as(owner, SECURITY_NOFORCE_RLS, delete_rows_body, &d);
		return d.rows;
	}
	d.left_sql = psprintf("SELECT count(*) FROM %s WHERE %s = $1", rel,
						  quote_identifier(column));
	tenancy_catalog_within(delete_rows_body, &d);
	if (d.left != 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("could not remove the rows of administration %lld from table %s",
						(long long) administration_id, rel),
				 errdetail("%lld rows are left on the Citus workers after the removal.",
						   (long long) d.left),
				 errhint("Run SELECT tenancy.check() on the coordinator.")));
	return d.rows;
}

/* the protected tables tenancy_protect_delete_rows reads, in its memory */
typedef struct ProtectedTables
{
	Oid		   *relids;
	Oid		   *owners;
	char	  **columns;
	char	  **names;
} ProtectedTables;

/* tenancy_protect_delete_rows' reader: SPI_palloc, so it outlives SPI_finish */
static void
collect_tables(int n, void *arg)
{
	ProtectedTables *t = (ProtectedTables *) arg;
	int			i;

	t->relids = SPI_palloc(sizeof(Oid) * Max(n, 1));
	t->owners = SPI_palloc(sizeof(Oid) * Max(n, 1));
	t->columns = SPI_palloc(sizeof(char *) * Max(n, 1));
	t->names = SPI_palloc(sizeof(char *) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		t->relids[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc, 1, &isnull));
		t->owners[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc, 2, &isnull));
		t->columns[i] = tenancy_catalog_get_text(i, 2);
		t->names[i] = tenancy_catalog_get_text(i, 3);
	}
}

/*
 * removed_tables: the protected tables a migration removes rows from: all
 * of them, or only those registered with carry_on_migration => false.  A
 * partition whose partitioned table is registered too is reached through
 * it.  Returns how many, in *tables.
 */
static int
removed_tables(bool all_tables, ProtectedTables *tables)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {BOOLOID};
	Datum		values[1];

	values[0] = BoolGetDatum(all_tables);
	return tenancy_catalog_write(&plan,
								 "SELECT c.oid, c.relowner, t.administration_column::text,"
								 "       c.oid::regclass::text"
								 "  FROM tenancy.protected_table t"
								 "  JOIN pg_catalog.pg_class c ON c.oid = t.relid"
								 " WHERE ($1 OR NOT t.carry_on_migration)"
								 "   AND NOT (c.relispartition AND EXISTS ("
								 "        SELECT 1 FROM pg_catalog.pg_partition_ancestors(c.oid) x"
								 "          JOIN tenancy.protected_table p ON p.relid = x.relid"
								 "         WHERE x.relid <> c.oid))"
								 " ORDER BY c.oid::regclass::text COLLATE \"C\"",
								 1, argtypes, values, NULL, collect_tables, tables);
}

/*
 * foreign_trigger: a trigger of the application's on the table, not one
 * of tenancy's (guard_row, guard_truncate) nor an internal one; with
 * events (TRIGGER_TYPE_DELETE, _UPDATE), only an enabled one that such a
 * statement fires; NULL if none
 */
static const char *
foreign_trigger(Oid relid, int16 events)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TriggerDesc *trigdesc = rel->trigdesc;
	const char *found = NULL;
	int			i;

	for (i = 0; trigdesc != NULL && i < trigdesc->numtriggers && found == NULL; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];
		char	   *func = get_func_name(trigger->tgfoid);

		if (trigger->tgisinternal)
			continue;
		if (events != 0 && (trigger->tgenabled == TRIGGER_DISABLED ||
							(trigger->tgtype & events) == 0))
			continue;
		if (get_func_namespace(trigger->tgfoid) == get_namespace_oid("tenancy", true) &&
			func != NULL &&
			(strcmp(func, "guard_row") == 0 || strcmp(func, "guard_truncate") == 0))
			continue;
		found = pstrdup(trigger->tgname);
	}
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * cascading_keys: the tables whose foreign keys into relid act ON DELETE
 * (CASCADE, SET NULL, SET DEFAULT): a DELETE on relid deletes or updates
 * their rows, as their owner with row security standing aside (PostgreSQL's
 * referential actions), firing their triggers
 */
static List *
cascading_keys(Oid relid)
{
	Relation	rel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *referencing = NIL;

	/* no index on confrelid: PostgreSQL's heap_truncate_find_FKs scans too */
	ScanKeyInit(&key, Anum_pg_constraint_confrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);

		if (con->contype == CONSTRAINT_FOREIGN &&
			(con->confdeltype == FKCONSTR_ACTION_CASCADE ||
			 con->confdeltype == FKCONSTR_ACTION_SETNULL ||
			 con->confdeltype == FKCONSTR_ACTION_SETDEFAULT))
			referencing = list_append_unique_oid(referencing, con->conrelid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return referencing;
}

/*
 * require_no_owner_code: refuse (0A000) a table whose migration DELETE
 * would fire a trigger of the application's: on the table, its partitions
 * and children (the DELETE reaches them), and on every table a foreign
 * key's ON DELETE action reaches from them, transitively (a cascade, or
 * SET NULL and SET DEFAULT, which update).  Each would run as its table's
 * owner with row security off (see delete_as_owner).
 */
static void
require_no_owner_code(Oid relid, const char *name)
{
	List	   *removed = find_all_inheritors(relid, AccessShareLock, NULL);
	List	   *reached = list_copy(removed);
	int			i;

	/* reached grows as the walk finds more */
	for (i = 0; i < list_length(reached); i++)
	{
		Oid			reached_relid = list_nth_oid(reached, i);
		bool		by_key = !list_member_oid(removed, reached_relid);
		const char *trigger;
		List	   *referencing;
		ListCell   *k;

		CHECK_FOR_INTERRUPTS();
		trigger = foreign_trigger(reached_relid, by_key ?
								  TRIGGER_TYPE_DELETE | TRIGGER_TYPE_UPDATE :
								  TRIGGER_TYPE_DELETE);
		if (trigger != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot remove the rows of table %s in a migration", name),
					 by_key ?
					 errdetail("Trigger \"%s\" on %s fires when a foreign key's ON DELETE action carries the removal to that table, and would run as the table's owner with row security off.",
							   trigger, tenancy_catalog_relation_name(reached_relid)) :
					 errdetail("Trigger \"%s\" on %s fires on the removal's DELETE and would run as the table's owner with row security off.",
							   trigger, tenancy_catalog_relation_name(reached_relid)),
					 errhint("Disable the trigger for the migration (ALTER TABLE ... DISABLE TRIGGER), or drop it.")));
		referencing = cascading_keys(reached_relid);
		foreach(k, referencing)
		{
			List	   *tree = find_all_inheritors(lfirst_oid(k), AccessShareLock, NULL);
			ListCell   *child;

			foreach(child, tree)
				reached = list_append_unique_oid(reached, lfirst_oid(child));
			list_free(tree);
		}
		list_free(referencing);
	}
	list_free(removed);
	list_free(reached);
}

/*
 * tenancy_protect_require_removable: refuse (0A000), before anything is
 * written, a migration whose row removal would run code of the
 * application's with more than its rights, or cannot be done on Citus.
 * On one node the DELETE runs as the table's owner with row security
 * standing aside (see delete_as_owner), and so would a trigger of the
 * owner's that the DELETE fires: it would read and write every firm's rows
 * of the owner's tables, outside the audit log (1.3 attack).  Such a
 * trigger is refused; disabled for the migration, it does not fire.  On
 * Citus: a distributed table with any trigger of the application's (it
 * would run as the extension owner on the workers), or an extension owner
 * to whom the workers apply row security.  Called when a migration is
 * requested and again before the rows are removed.
 */
void
tenancy_protect_require_removable(bool all_tables)
{
	ProtectedTables tables = {0};
	int			n = removed_tables(all_tables, &tables);
	int			i;

	for (i = 0; i < n; i++)
	{
		const char *trigger;

		if (!tenancy_distribute_is_citus_table(tables.relids[i]))
		{
			require_no_owner_code(tables.relids[i], tables.names[i]);
			continue;
		}
		if (!superuser_arg(tenancy_catalog_owner()) &&
			!has_bypassrls_privilege(tenancy_catalog_owner()))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot remove the rows of distributed table %s in a migration",
							tables.names[i]),
					 errdetail("The owner of extension tenancy is neither a superuser nor a role with BYPASSRLS, so the Citus workers would apply row security to its removal."),
					 errhint("Make the extension owner a superuser again.")));
		trigger = foreign_trigger(tables.relids[i], 0);
		if (trigger != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot remove the rows of distributed table %s in a migration",
							tables.names[i]),
					 errdetail("Trigger \"%s\" would run as the extension owner on the Citus workers.",
							   trigger),
					 errhint("Drop the trigger before the migration.")));
	}
}

/*
 * tenancy_protect_delete_rows: delete an administration's rows from the
 * tables of removed_tables().  Returns one TenancyRemovedRows per table,
 * by name, in the caller's memory, and the total in *total.  The caller
 * holds the freeze.
 */
List *
tenancy_protect_delete_rows(int64 administration_id, bool all_tables, int64 *total)
{
	List	   *removed = NIL;
	ProtectedTables tables = {0};
	int			n;
	int			i;

	tenancy_protect_require_removable(all_tables);
	n = removed_tables(all_tables, &tables);
	*total = 0;
	for (i = 0; i < n; i++)
	{
		TenancyRemovedRows *r = palloc(sizeof(TenancyRemovedRows));

		CHECK_FOR_INTERRUPTS();
		r->table = tables.names[i];
		r->rows = delete_as_owner(tables.relids[i], tables.owners[i],
								  tables.columns[i], administration_id);
		*total += (int64) r->rows;
		removed = lappend(removed, r);
	}
	pfree(tables.relids);
	pfree(tables.owners);
	pfree(tables.columns);
	return removed;
}

/* the administration column of a protected table, or NULL */
char *
tenancy_protected_column(Oid relid)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	char	   *column = NULL;

	if (!OidIsValid(relid) || !OidIsValid(tenancy_catalog_relid("protected_table")))
		return NULL;
	values[0] = ObjectIdGetDatum(relid);
	if (tenancy_catalog_query(&plan,
							  "SELECT p.administration_column::text FROM tenancy.protected_table p"
							  " WHERE p.relid::oid = $1",
							  1, argtypes, values, NULL, NULL, 0, &column, 1) == 0)
		return NULL;
	return column;
}

/*
 * tenancy_protect_forget_dropped: remove the registration of each protected
 * table the current command dropped (DROP TABLE, DROP SCHEMA ... CASCADE,
 * DROP OWNED); called from the sql_drop event trigger, whose
 * pg_event_trigger_dropped_objects() names them.  A registration left
 * behind names an OID that the next relation given it would inherit, taken
 * for protected with its walls missing (every DDL on it refused), and that
 * pg_dump writes as a bare number, which a restore resolves to whatever
 * relation holds that OID in the new database.
 */
void
tenancy_protect_forget_dropped(void)
{
	static SPIPlanPtr plan = NULL;

	tenancy_catalog_write(&plan,
						  "DELETE FROM tenancy.protected_table p"
						  " USING pg_catalog.pg_event_trigger_dropped_objects() d"
						  " WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
						  "   AND d.objsubid = 0 AND p.relid::pg_catalog.oid = d.objid",
						  0, NULL, NULL, NULL, NULL, NULL);
}
