/*-------------------------------------------------------------------------
 *
 * ddl.c
 *	  DDL around protected tables: derived objects and walls changed only
 *	  by tenancy (R24, R11).
 *
 * Row security guards a table's rows only where PostgreSQL applies it:
 * to the table itself, read by a role that does not bypass row security.
 * Every other way to reach the rows is an object derived from the table,
 * made by DDL.  Three event triggers (created by the 1.3 script, functions
 * in this file) watch that DDL:
 *
 *	tenancy_ddl_start	ddl_command_start, from the parse tree: refuses the
 *		statements that would change the walls of a protected table:
 *		ALTER TABLE ... DISABLE / NO FORCE ROW LEVEL SECURITY, DISABLE
 *		TRIGGER (by name, ALL or USER) and ENABLE REPLICA / ALWAYS TRIGGER
 *		of tenancy's triggers, ALTER POLICY of tenancy's policies, CREATE
 *		POLICY on a protected table (a permissive policy widens the wall; a
 *		restrictive one may call a function that sees every row), and
 *		renaming tenancy's policies, triggers or the administration column.
 *		The table is looked up as the command will look it up, with the
 *		command's lock and after its ownership check (named_relation):
 *		looked up without a lock, a concurrent rename could point the name
 *		at a harmless table for the check and at the protected one for the
 *		command (1.3 review).  It also refuses to rename the extension's
 *		schema, to give it to a role that is not a superuser, or to grant
 *		CREATE on it: the library finds its catalog there by name, and the
 *		update script refuses a schema owned by anyone else (R24).
 *	tenancy_ddl_end		ddl_command_end, from pg_event_trigger_ddl_commands():
 *		- a partition or inheritance child of a protected table (CREATE
 *		  TABLE ... PARTITION OF / INHERITS, CREATE FOREIGN TABLE ...
 *		  PARTITION OF, ALTER TABLE ... ATTACH PARTITION / INHERIT) is
 *		  protected at once, by protect() itself, with its parent's column:
 *		  read directly, a child has only its own policies, and a row moved
 *		  through the parent meets only the child's triggers (R11).  We
 *		  protect rather than refuse, so that partitioned tables keep
 *		  working (monthly partitions, pg_partman); what protect() refuses
 *		  (a foreign table, an owner outside tenancy_admin) refuses the DDL.
 *		- views, materialized views and rules (CREATE [OR REPLACE] VIEW,
 *		  CREATE MATERIALIZED VIEW, CREATE RULE, ALTER ... OWNER TO, ALTER
 *		  VIEW ... SET / RESET (security_invoker)) on the relations the
 *		  command touched, and on every relation whose rules read those,
 *		  directly or through views, are refused when they read a protected
 *		  table past its walls; a rule on a protected table itself is
 *		  refused whoever owns it: its actions see every row any firm
 *		  writes (NEW, OLD) and can copy it out or replace the write;
 *		  foreign keys (CREATE TABLE ... REFERENCES,
 *		  ALTER TABLE ... ADD FOREIGN KEY) into or out of a protected table
 *		  that would act as an oracle are refused;
 *		- a trigger on a protected table by another role than its owner,
 *		  and one under a name of tenancy's unless it is protect()'s
 *		  (require_created_triggers), also inside CREATE SCHEMA.
 *	tenancy_ddl_shard_policy	ddl_command_end of CREATE POLICY, same
 *		function: a policy created on a Citus shard of a protected table
 *		is a copy of its table's (see Citus below).
 *	tenancy_ddl_drop	sql_drop: refuses dropping tenancy's policies and
 *		triggers of a protected table without the table itself: DROP
 *		POLICY, DROP TRIGGER, and a DROP COLUMN ... CASCADE that takes them
 *		along.  Dropping the table, its schema, or the extension is fine;
 *		a dropped table's registration as protected goes with it
 *		(tenancy_protect_forget_dropped).
 *
 * Why this covers every derived object that can read protected rows:
 * a relation's rows are read by another object only through a query
 * stored in the catalogs, and PostgreSQL stores those in pg_rewrite (views,
 * materialized views, rules), in an inheritance link (pg_inherits:
 * partitions and children, which the parent's queries scan), or checks them
 * as a constraint (pg_constraint: foreign keys, checked without row
 * security).  Each of these is created or changed only by the statements
 * above, and the decision is taken from the catalogs after the statement,
 * so every spelling of the statement is covered.  A view runs with its
 * owner's rights unless it is security_invoker, and its owner's rights
 * include row security unless the owner is a superuser or has BYPASSRLS;
 * a rule on any relation acts with the relation owner's rights; a
 * materialized view stores rows and shows them without row security.
 * Functions do not count: a view calls them with its caller's rights.
 *
 * Which objects break the rules is decided in one place, the SQL query
 * tenancy.derived_problems(relids): the event trigger asks it for what a
 * command touched, protect() for the tables it protects, and check() for
 * the whole database, so the three can never disagree.  The event trigger
 * asks about the relations the command created or altered (and the views
 * above a view it changed), walking pg_depend by its indexes with one kept
 * generic plan, so a command pays about a millisecond whatever the size of
 * the catalog.  A foreign key that came in past the triggers (see below)
 * keeps refusing DDL on its two tables until it is fixed.
 *
 * protect() and unprotect() change the walls themselves: they bracket their
 * DDL with tenancy_ddl_own_begin/end, naming the tables it is for, and the
 * triggers stand aside while that is under way, but for one question: did
 * the DDL, which names its tables, reach only those (require_own_targets)?
 * A transaction or subtransaction abort resets it.
 *
 * Citus (R25).  A shard of a distributed protected table is a table of its
 * own, on a worker, named <table>_<shardid>, with copies of the table's
 * policies (same names) and triggers (names with the suffix _<shardid>);
 * row security guards the shard only through those, and the owner or a
 * superuser connected to the worker reaches the shard directly.  The
 * coordinator's catalog lists the tables, not their shards, and a worker's
 * catalog is empty.  So a relation also counts as protected here when it
 * is a Citus table (on a worker: the shell Citus keeps of a distributed
 * table) or a shard of one, and that table carries tenancy's guard
 * trigger, which only protect() creates and this guard keeps; the same
 * statements are refused on it, with the same messages.  Citus creates a
 * new shard's policies itself (distribution, shard moves, splits, tenant
 * isolation, the rebalancer) by CREATE POLICY on the shard, from a backend
 * that nothing distinguishes safely from a user's (anyone may set
 * application_name, and Citus's worker_apply_shard_ddl_command() is open to
 * the table's owner).  Such a CREATE POLICY passes when it names a tenancy
 * policy of the table that the shard does not have, and the event trigger
 * tenancy_ddl_shard_policy checks at the end of the command that it is the
 * table's policy (command, kind, roles, expressions): a copy of one of the
 * table's policies cannot widen the shard's walls.  A shard that a split
 * creates before Citus's metadata on the worker lists it is not recognised
 * until then; check() on the coordinator compares every shard with its
 * table.
 *
 * What event triggers do not see, and check() therefore still reports: a
 * superuser may disable them (ALTER EVENT TRIGGER ... DISABLE), and they do
 * not fire with session_replication_role = replica (which a restore uses,
 * so that pg_restore can recreate policies and triggers), in single-user
 * mode, for REASSIGN OWNED, nor for role changes (ALTER ROLE ... SUPERUSER
 * or BYPASSRLS of a view's owner).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "commands/policy.h"
#include "commands/tablecmds.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"


#include "tenancy.h"

/* protect() or unprotect() is running its own DDL */
static int	own_ddl_depth = 0;
/* the relations that DDL was run for (TopTransactionContext) */
static List *own_ddl_relids = NIL;
static bool callbacks_registered = false;

static void require_event_trigger(FunctionCallInfo fcinfo, const char *fname);
static void reset_on_abort(XactEvent event, void *arg);
static void reset_on_subabort(SubXactEvent event, SubTransactionId mySubid,
							  SubTransactionId parentSubid, void *arg);
static Oid	shard_table(Oid relid);
static Oid	citus_protected(Oid relid, char **column);
static bool is_own_guard(Form_pg_trigger trigger);
static bool is_protected(Oid relid);
static bool is_tenancy_trigger(const char *name);
static bool is_tenancy_policy(const char *name);
static void refuse_wall_change(Oid relid, const char *what);
static Oid	named_relation(RangeVar *relation, LOCKMODE lockmode, bool tables_only);
static void named_relation_callback(const RangeVar *relation, Oid relid,
									Oid oldrelid, void *arg);
static void check_alter_table(AlterTableStmt *stmt);
static void refuse_schema_change(const char *schema, const char *what,
								 const char *suffix);
static void check_schema_grant(GrantStmt *stmt);
static void refuse_extensions_in_schema(void);
static void refuse_typed_table_rename(Oid typrelid, const char *attribute);
static List *protected_typed_tables(Oid typrelid);
static Oid	dropped_object_relation(bool policy, Oid objid);
static void require_own_targets(List *relids);
static int	first_problem(SPIPlanPtr *plan, const char *function, const char *sql,
						  ArrayType *relids, char **texts, int ncolumns);
static void require_sound(ArrayType *relids);
static void refuse_value_conversion(Oid relid, AlterTableCmd *cmd);
static bool converts_values(Oid relid, AlterTableCmd *cmd);
static void require_walls(ArrayType *relids);
static bool first_wall_problem(ArrayType *relids, char **texts);
static List *wall_relations(void);
static ArrayType *oid_array(List *oids);
static List *event_relations(const char *sql, List **names);
static List *touched_relations(void);
static void require_shard_policy_copies(void);
static void child_error_context(void *arg);
static Oid	first_with_rows(Oid relid);
static bool protect_one_child(List **touched);

static void
require_event_trigger(FunctionCallInfo fcinfo, const char *fname)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_TRIGGER),
				 errmsg("function \"%s\" was not called by the event trigger manager", fname)));
}

/*
 * Materialized views filled through functions (R24).  derived_problems()
 * follows a materialized view's definition through the views it reads,
 * but not into the functions it calls: a function's body is text (only a
 * BEGIN ATOMIC body has dependencies), and a materialized view over a
 * function that reads a protected table stored every row its refresher
 * could see, to be shown to every reader (1.3's last attack).  So while a
 * materialized view is filled (CREATE MATERIALIZED VIEW with data,
 * REFRESH, EXPLAIN ANALYZE of the former), every statement that starts or
 * is read (a cursor opened before) is refused when it reads a protected
 * table, a function's included, and nothing is planned for parallel
 * workers, which would run a function's statements out of this backend's
 * sight (planner.c).
 *
 * The utility hook marks a fill around the statement (session.c).  In a
 * session's first statement the library is loaded only by the statement's
 * own event trigger ddl_start, after the statement passed the hook: then
 * ddl_start marks the fill ("late"), and the ddl_end of the same statement
 * ends it, or an abort of its (sub)transaction does.
 */
static int	matview_fills = 0;
static char matview_filled[2 * NAMEDATALEN + 8];
static SubTransactionId late_fill_subxact = InvalidSubTransactionId;
static Node *late_fill_stmt = NULL;

static void
end_late_fill(void)
{
	late_fill_subxact = InvalidSubTransactionId;
	late_fill_stmt = NULL;
	if (matview_fills > 0)
		matview_fills--;
}

static void
register_callbacks(void)
{
	if (callbacks_registered)
		return;
	RegisterXactCallback(reset_on_abort, NULL);
	RegisterSubXactCallback(reset_on_subabort, NULL);
	callbacks_registered = true;
}

static void
reset_on_abort(XactEvent event, void *arg)
{
	/* the list lives in the transaction's memory */
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
	{
		own_ddl_depth = 0;
		own_ddl_relids = NIL;
		if (late_fill_subxact != InvalidSubTransactionId)
			end_late_fill();
	}
}

static void
reset_on_subabort(SubXactEvent event, SubTransactionId mySubid,
				  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		own_ddl_depth = 0;
		own_ddl_relids = NIL;
		if (late_fill_subxact == mySubid)
			end_late_fill();
	}
}

/*
 * tenancy_ddl_own_begin / tenancy_ddl_own_end: bracket the DDL by which
 * protect() and unprotect() change a table's walls.
 */
void
tenancy_ddl_own_begin(List *relids)
{
	MemoryContext old;

	register_callbacks();
	old = MemoryContextSwitchTo(TopTransactionContext);
	own_ddl_relids = list_concat_unique_oid(own_ddl_relids, relids);
	MemoryContextSwitchTo(old);
	own_ddl_depth++;
}

void
tenancy_ddl_own_end(void)
{
	if (own_ddl_depth > 0)
		own_ddl_depth--;
	if (own_ddl_depth == 0)
		own_ddl_relids = NIL;
}

/*
 * require_own_targets: tenancy's own DDL (protect, unprotect) names its
 * tables, and a name can lead elsewhere when another session renames a
 * schema or table meanwhile (1.3 review: unprotect() of one family stripped
 * the walls of a protected table of another, whose schema had taken the
 * first one's name).  What the DDL touched must be among the tables it was
 * run for.
 */
static void
require_own_targets(List *relids)
{
	ListCell   *lc;

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);

		/* Citus runs the DDL of a distributed table on its local shards too */
		if (OidIsValid(relid) && !list_member_oid(own_ddl_relids, relid) &&
			!list_member_oid(own_ddl_relids, shard_table(relid)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("tenancy's own DDL reached relation \"%s\", which it was not run for",
							get_rel_name(relid)),
					 errdetail("A schema or table was renamed by another session while tenancy.protect() or tenancy.unprotect() ran."),
					 errhint("Run the command again.")));
	}
}

/*
 * shard_table: the Citus table of which relid is a shard (a relation named
 * <table>_<shardid> in its table's schema, the shard id in Citus's
 * pg_dist_shard), or InvalidOid.  Citus shortens a name that would be
 * too long with a hash; there the schema and the suffix decide.
 */
static Oid
shard_table(Oid relid)
{
	Oid			catalog = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	char	   *name;
	char	   *suffix;
	char	   *end;
	int64		shardid;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	Oid			table = InvalidOid;

	if (!OidIsValid(catalog) || (name = get_rel_name(relid)) == NULL ||
		(suffix = strrchr(name, '_')) == NULL || !isdigit((unsigned char) suffix[1]))
		return InvalidOid;
	errno = 0;
	shardid = strtoi64(suffix + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return InvalidOid;

	rel = table_open(catalog, AccessShareLock);
	ScanKeyInit(&key, 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(shardid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	if (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, 1, RelationGetDescr(rel), &isnull);

		if (!isnull && get_rel_namespace(DatumGetObjectId(d)) == get_rel_namespace(relid))
		{
			char	   *expected = psprintf("%s_" INT64_FORMAT,
											get_rel_name(DatumGetObjectId(d)), shardid);

			if (strlen(expected) >= NAMEDATALEN || strcmp(expected, name) == 0)
				table = DatumGetObjectId(d);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return table;
}

/*
 * citus_protected: the Citus table that relid is, or is a shard of, when
 * that table carries tenancy's guard trigger (see the header); else
 * InvalidOid.  With column: the administration column, the guard's
 * argument.  Without Citus: InvalidOid, at the price of a cache lookup.
 */
static Oid
citus_protected(Oid relid, char **column)
{
	Oid			table;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData keys[2];
	HeapTuple	tuple;
	bool		found = false;

	if (!OidIsValid(relid))
		return InvalidOid;
	table = tenancy_distribute_is_citus_table(relid) ? relid : shard_table(relid);
	if (!OidIsValid(table))
		return InvalidOid;

	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&keys[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(table));
	ScanKeyInit(&keys[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("tenancy_guard"));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 2, keys);
	if (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_trigger trigger = (Form_pg_trigger) GETSTRUCT(tuple);

		found = is_own_guard(trigger);
		if (found && column != NULL && trigger->tgnargs > 0)
		{
			bool		isnull;
			Datum		args = heap_getattr(tuple, Anum_pg_trigger_tgargs,
											RelationGetDescr(rel), &isnull);

			/* tgargs: the arguments one after the other, each ending in \0 */
			if (!isnull)
				*column = pstrdup(VARDATA_ANY(DatumGetByteaPP(args)));
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found ? table : InvalidOid;
}

/* a trigger tenancy made: not internal, its function in tenancy's schema */
static bool
is_own_guard(Form_pg_trigger trigger)
{
	return !trigger->tgisinternal &&
		get_func_namespace(trigger->tgfoid) == tenancy_catalog_namespace();
}

/*
 * carries_walls: does relid carry tenancy's walls itself: a guard trigger
 * of tenancy's own (tenancy_guard, or tenancy_guard_<shardid> on a Citus
 * shard), or a policy of tenancy's?  A shard keeps them when Citus's
 * metadata about it is gone: the tables' owner could take the shard out of
 * pg_dist_shard (Citus's internal metadata functions trust any session
 * that names itself citus_internal) or drop the shell table on a worker,
 * after which shard_table() no longer knew the shard, and lower its walls
 * (1.3 attack).  Either mark keeps the other: dropping the trigger leaves
 * the policies, dropping a policy leaves the trigger.
 */
static bool
carries_walls(Oid relid)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	bool		found = false;

	rel = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_policy_polrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, PolicyPolrelidPolnameIndexId, true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tuple = systable_getnext(scan)))
		found = is_tenancy_policy(NameStr(((Form_pg_policy) GETSTRUCT(tuple))->polname));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (found)
		return true;

	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_trigger trigger = (Form_pg_trigger) GETSTRUCT(tuple);

		found = strncmp(NameStr(trigger->tgname), "tenancy_guard", 13) == 0 &&
			is_tenancy_trigger(NameStr(trigger->tgname)) && is_own_guard(trigger);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * a protected table, or a Citus shard or shell of one, or a relation that
 * carries tenancy's walls (for the changes that lower them)
 */
static bool
is_protected(Oid relid)
{
	return tenancy_protected_column(relid) != NULL ||
		OidIsValid(citus_protected(relid, NULL)) || carries_walls(relid);
}

/*
 * tenancy_ddl_is_protected: is_protected for the other modules: also true
 * on a Citus worker, whose tenancy.protected_table is empty, for the shell
 * and the shards of a protected table, which carry its walls
 */
bool
tenancy_ddl_is_protected(Oid relid)
{
	return is_protected(relid);
}

/* a Citus shard (not the table or its shell) of a protected table */
static bool
is_citus_shard(Oid relid)
{
	Oid			table = citus_protected(relid, NULL);

	return OidIsValid(table) && table != relid;
}

/* tenancy's triggers: on a Citus shard with the suffix _<shardid> */
static bool
is_tenancy_trigger(const char *name)
{
	const char *rest;

	if (name == NULL)
		return false;
	if (strncmp(name, "tenancy_guard", 13) == 0)
		rest = name + 13;
	else if (strncmp(name, "tenancy_no_truncate", 19) == 0)
		rest = name + 19;
	else
		return false;
	if (*rest == '\0')
		return true;
	if (*rest++ != '_' || *rest == '\0')
		return false;
	for (; *rest; rest++)
		if (!isdigit((unsigned char) *rest))
			return false;
	return true;
}

static bool
is_tenancy_policy(const char *name)
{
	return name != NULL && strncmp(name, "tenancy_", 8) == 0;
}

static void
refuse_wall_change(Oid relid, const char *what)
{
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("cannot %s of protected table \"%s\"", what, get_rel_name(relid)),
			 errdetail("The walls of a protected table change only through tenancy.protect() and tenancy.unprotect(), for superusers and owners too."),
			 errhint("Call tenancy.unprotect() first, as the table's owner and a member of role \"%s\".",
					 TENANCY_ADMIN_ROLE)));
}

/*
 * named_relation: the relation a command names, as the command itself will
 * find it: locked in the command's own mode, after the same ownership check
 * (a role that may not alter the table gets the command's own error, and
 * cannot make us wait for a lock on a table it does not own).  Holding the
 * lock from here on, the name cannot move to another table before the
 * command runs.  InvalidOid when there is no such relation.
 */
static Oid
named_relation(RangeVar *relation, LOCKMODE lockmode, bool tables_only)
{
	return RangeVarGetRelidExtended(relation, lockmode, RVR_MISSING_OK,
									named_relation_callback, &tables_only);
}

/*
 * named_relation's lookup callback: the command's own checks before its
 * lock: ownership (and no system catalog), and for a policy PostgreSQL's
 * "is not a table", in its order (policy.c), so that a policy on a view
 * fails at once instead of waiting for the view's lock
 */
static void
named_relation_callback(const RangeVar *relation, Oid relid, Oid oldrelid, void *arg)
{
	char		relkind;

	RangeVarCallbackOwnsRelation(relation, relid, oldrelid, NULL);
	if (!*(bool *) arg || !OidIsValid(relid))
		return;
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", relation->relname)));
}

static void
check_alter_table(AlterTableStmt *stmt)
{
	Oid			relid = named_relation(stmt->relation,
									   AlterTableGetLockLevel(stmt->cmds), false);
	ListCell   *lc;

	/* ALTER TYPE ... ALTER ATTRIBUTE ... CASCADE: the typed tables too */
	if (stmt->objtype == OBJECT_TYPE)
	{
		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
			ListCell   *lt;

			if (cmd->subtype != AT_AlterColumnType)
				continue;
			foreach(lt, protected_typed_tables(relid))
				refuse_value_conversion(lfirst_oid(lt), cmd);
		}
		return;
	}
	if (!is_protected(relid))
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

		switch (cmd->subtype)
		{
			case AT_DisableRowSecurity:
				refuse_wall_change(relid, "disable row level security");
				break;
			case AT_NoForceRowSecurity:
				refuse_wall_change(relid, "stop forcing row level security");
				break;
			case AT_DisableTrigAll:
			case AT_DisableTrigUser:
				refuse_wall_change(relid, "disable the triggers");
				break;
			case AT_DisableTrig:
			case AT_EnableAlwaysTrig:
			case AT_EnableReplicaTrig:
				if (is_tenancy_trigger(cmd->name))
					refuse_wall_change(relid, psprintf("change trigger %s", cmd->name));
				break;
			case AT_AlterColumnType:
				refuse_value_conversion(relid, cmd);
				break;
			default:
				break;
		}
	}
}

/* refuse an ALTER COLUMN ... TYPE of a protected table that converts values */
static void
refuse_value_conversion(Oid relid, AlterTableCmd *cmd)
{
	if (converts_values(relid, cmd))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("cannot convert the values of column \"%s\" of protected table \"%s\"",
						cmd->name, get_rel_name(relid)),
				 errdetail("The conversion would rewrite the rows of every firm, those of archived administrations too, which are read-only for everyone (R12), and its errors would show values of any firm."),
				 errhint("Unprotect the table, change the column and protect it again: the audit log records both steps.  A change that keeps every value as it is (varchar(50) to varchar(100), varchar to text) needs neither.")));
}

/*
 * converts_values: does ALTER COLUMN ... TYPE change the stored values or
 * what they mean?  With USING, always; without, unless the new type is the
 * old one or both are strings, and the assignment cast reduces to the
 * column itself, as PostgreSQL decides that a table need not be rewritten
 * (a longer varchar: the length function's support simplifies it away).
 * A binary-coercible cast between other types keeps the bytes but not the
 * value (integer to oid reads -1 as 4294967295: 1.3 attack).
 */
static bool
converts_values(Oid relid, AlterTableCmd *cmd)
{
	ColumnDef  *def = castNode(ColumnDef, cmd->def);
	AttrNumber	attnum = get_attnum(relid, cmd->name);
	Oid			old_type;
	int32		old_typmod;
	Oid			old_collation;
	Oid			new_type;
	int32		new_typmod;
	Node	   *expr;

	if (def->raw_default != NULL)
		return true;
	if (attnum <= 0)
		return false;			/* PostgreSQL reports a missing or system column */
	get_atttypetypmodcoll(relid, attnum, &old_type, &old_typmod, &old_collation);
	typenameTypeIdAndMod(NULL, def->typeName, &new_type, &new_typmod);
	expr = (Node *) makeVar(1, attnum, old_type, old_typmod, old_collation, 0);
	expr = coerce_to_target_type(NULL, expr, old_type, new_type, new_typmod,
								 COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
	if (expr == NULL)
		return false;			/* no cast: PostgreSQL refuses the command */
	expr = eval_const_expressions(NULL, expr);
	while (IsA(expr, RelabelType))
		expr = (Node *) ((RelabelType *) expr)->arg;
	if (!IsA(expr, Var))
		return true;
	return new_type != old_type &&
		!(TypeCategory(old_type) == TYPCATEGORY_STRING &&
		  TypeCategory(new_type) == TYPCATEGORY_STRING);
}

/*
 * refuse a change of the extension's schema (see the header): "cannot
 * <what> schema "tenancy" of extension "tenancy"<suffix>"
 */
static void
refuse_schema_change(const char *schema, const char *what, const char *suffix)
{
	Oid			nsp = tenancy_catalog_namespace();

	if (schema == NULL || !OidIsValid(nsp) ||
		get_namespace_oid(schema, true) != nsp)
		return;
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("cannot %s schema \"%s\" of extension \"tenancy\"%s", what, schema, suffix),
			 errdetail("The library finds its catalog in this schema by name: a role that owns it, or may create objects in it, could replace the catalog or the functions that tenancy.check() runs as a superuser."),
			 errhint("The schema stays owned by a superuser and closed to other roles while the extension is installed.")));
}

/*
 * refuse_extensions_in_schema: at the end of CREATE or ALTER EXTENSION, no
 * extension but tenancy may have its objects in tenancy's schema.  The
 * SCHEMA clause is refused at the start; this catches the rest: an
 * extension installed without one lands in the first schema of the
 * search_path, and CASCADE installs others the same way (1.3 review).
 */
static void
refuse_extensions_in_schema(void)
{
	Oid			nsp = tenancy_catalog_namespace();
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;

	if (!OidIsValid(nsp))
		return;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_extension ext = (Form_pg_extension) GETSTRUCT(tuple);

		if (ext->extnamespace == nsp && strcmp(NameStr(ext->extname), "tenancy") != 0)
			refuse_schema_change(get_namespace_name(nsp), "install extensions in",
								 psprintf(": extension \"%s\" would be installed there",
										  NameStr(ext->extname)));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* GRANT CREATE (or ALL) ON SCHEMA of the extension's schema */
static void
check_schema_grant(GrantStmt *stmt)
{
	ListCell   *lc;
	bool		create = stmt->privileges == NIL;

	if (!stmt->is_grant || stmt->targtype != ACL_TARGET_OBJECT ||
		stmt->objtype != OBJECT_SCHEMA)
		return;
	foreach(lc, stmt->privileges)
	{
		AccessPriv *priv = (AccessPriv *) lfirst(lc);

		if (priv->priv_name == NULL || strcmp(priv->priv_name, "create") == 0)
			create = true;
	}
	if (!create)
		return;
	foreach(lc, stmt->objects)
		refuse_schema_change(strVal(lfirst(lc)), "grant CREATE on", "");
}

/*
 * refuse_typed_table_rename: ALTER TYPE of a composite type renames the
 * attribute in the tables of that type too (CASCADE); refuse when one of
 * them is protected by that column
 */
static void
refuse_typed_table_rename(Oid typrelid, const char *attribute)
{
	ListCell   *lc;

	if (attribute == NULL)
		return;
	foreach(lc, protected_typed_tables(typrelid))
	{
		char	   *column = tenancy_protected_column(lfirst_oid(lc));

		if (column != NULL && strcmp(column, attribute) == 0)
			refuse_wall_change(lfirst_oid(lc), psprintf("rename %s", attribute));
	}
}

/*
 * protected_typed_tables: the protected tables of a composite type (CREATE
 * TABLE ... OF), which ALTER TYPE ... CASCADE changes with it
 */
static List *
protected_typed_tables(Oid typrelid)
{
	Oid			rowtype = OidIsValid(typrelid) ? get_rel_type_id(typrelid) : InvalidOid;
	List	   *tables = NIL;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;

	if (!OidIsValid(rowtype) || get_rel_relkind(typrelid) != RELKIND_COMPOSITE_TYPE)
		return NIL;
	rel = table_open(RelationRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);

		if (form->reloftype == rowtype && tenancy_protected_column(form->oid) != NULL)
			tables = lappend_oid(tables, form->oid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return tables;
}

/* a policy created on a protected table or a Citus shard of one (see the header) */
static void
check_create_policy(CreatePolicyStmt *stmt)
{
	Oid			relid = named_relation(stmt->table, AccessExclusiveLock, true);
	Oid			table;

	if (tenancy_protected_column(relid) != NULL)
		refuse_wall_change(relid, psprintf("create policy %s", stmt->policy_name));
	/* a shard: only a copy of a policy of its table (see the header) */
	table = citus_protected(relid, NULL);
	if (OidIsValid(table) &&
		(table == relid || !is_tenancy_policy(stmt->policy_name) ||
		 !OidIsValid(get_relation_policy_oid(table, stmt->policy_name, true)) ||
		 OidIsValid(get_relation_policy_oid(relid, stmt->policy_name, true))))
		refuse_wall_change(relid, psprintf("create policy %s", stmt->policy_name));
}

/* one of tenancy's policies altered on a protected table */
static void
check_alter_policy(AlterPolicyStmt *stmt)
{
	Oid			relid = named_relation(stmt->table, AccessExclusiveLock, true);

	if (is_tenancy_policy(stmt->policy_name) && is_protected(relid))
		refuse_wall_change(relid, psprintf("alter policy %s", stmt->policy_name));
}

/*
 * a rename of tenancy's schema, of a shard, or of a protected table's
 * policy, trigger or administration column
 */
static void
check_rename(RenameStmt *stmt)
{
	Oid			relid;
	char	   *column;
	bool		renames_relation;

	if (stmt->renameType == OBJECT_SCHEMA)
		refuse_schema_change(stmt->subname, "rename", "");
	/* a relation renamed under any spelling (ALTER INDEX renames a table) */
	renames_relation = stmt->renameType == OBJECT_TABLE ||
		stmt->renameType == OBJECT_INDEX || stmt->renameType == OBJECT_VIEW ||
		stmt->renameType == OBJECT_MATVIEW ||
		stmt->renameType == OBJECT_FOREIGN_TABLE;
	if (stmt->relation == NULL ||
		(!renames_relation && stmt->renameType != OBJECT_POLICY &&
		 stmt->renameType != OBJECT_TRIGGER && stmt->renameType != OBJECT_COLUMN &&
		 stmt->renameType != OBJECT_ATTRIBUTE))
		return;

	/*
	 * the lock renameatt, RenameRelation, rename_policy and renametrig take:
	 * ShareUpdateExclusiveLock for ALTER INDEX (RenameRelation takes more
	 * only when the name is a table's, which it then locks itself)
	 */
	relid = named_relation(stmt->relation,
						   stmt->renameType == OBJECT_INDEX ?
						   ShareUpdateExclusiveLock : AccessExclusiveLock,
						   false);
	/* ALTER TYPE ... RENAME ATTRIBUTE ... CASCADE: the typed tables too */
	if (stmt->renameType == OBJECT_ATTRIBUTE)
		refuse_typed_table_rename(relid, stmt->subname);
	column = tenancy_protected_column(relid);
	if (column == NULL && !OidIsValid(citus_protected(relid, &column)))
		return;
	/* a shard renamed away could be replaced by a table without walls */
	if (renames_relation && is_citus_shard(relid))
		refuse_wall_change(relid, "rename a shard");
	if ((stmt->renameType == OBJECT_POLICY && is_tenancy_policy(stmt->subname)) ||
		(stmt->renameType == OBJECT_TRIGGER && is_tenancy_trigger(stmt->subname)) ||
		((stmt->renameType == OBJECT_COLUMN || stmt->renameType == OBJECT_ATTRIBUTE) &&
		 stmt->subname != NULL && column != NULL && strcmp(stmt->subname, column) == 0))
		refuse_wall_change(relid, psprintf("rename %s", stmt->subname));
}

/* objects moved into tenancy's schema, a shard moved to another schema */
static void
check_alter_object_schema(AlterObjectSchemaStmt *stmt)
{
	Oid			relid;

	refuse_schema_change(stmt->newschema, "move objects into", "");
	if (stmt->objectType != OBJECT_TABLE || stmt->relation == NULL)
		return;
	relid = named_relation(stmt->relation, AccessExclusiveLock, false);
	if (is_citus_shard(relid))
		refuse_wall_change(relid, "move a shard to another schema");
}

/* tenancy's schema given to a role that is not a superuser */
static void
check_alter_owner(AlterOwnerStmt *stmt)
{
	Oid			owner;

	if (stmt->objectType != OBJECT_SCHEMA)
		return;
	owner = get_rolespec_oid(stmt->newowner, false);
	if (!superuser_arg(owner))
		refuse_schema_change(strVal(stmt->object), "give",
							 psprintf(" to role \"%s\", which is not a superuser",
									  GetUserNameFromId(owner, false)));
}

/* an extension created in tenancy's schema: its objects would join it */
static void
check_create_extension(CreateExtensionStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *option = (DefElem *) lfirst(lc);

		if (strcmp(option->defname, "schema") == 0 &&
			strcmp(stmt->extname, "tenancy") != 0)
			refuse_schema_change(defGetString(option), "create extensions in", "");
	}
}

/*
 * ALTER TRIGGER tenancy_guard ON t DEPENDS ON EXTENSION x: dropping x would
 * then drop the guard, or be refused
 */
static void
check_alter_object_depends(AlterObjectDependsStmt *stmt)
{
	Oid			relid;

	if (stmt->objectType != OBJECT_TRIGGER || stmt->relation == NULL ||
		!IsA(stmt->object, List) ||
		!is_tenancy_trigger(strVal(llast((List *) stmt->object))))
		return;
	relid = named_relation(stmt->relation, AccessExclusiveLock, false);
	if (is_protected(relid))
		refuse_wall_change(relid, psprintf("make trigger %s depend on an extension",
										  strVal(llast((List *) stmt->object))));
}

/* tenancy_ddl_start() RETURNS event_trigger */
PG_FUNCTION_INFO_V1(tenancy_ddl_start);
Datum
tenancy_ddl_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = (EventTriggerData *) fcinfo->context;
	Node	   *parsetree;

	require_event_trigger(fcinfo, "ddl_start");
	parsetree = trigdata->parsetree;
	if (matview_fills == 0 && late_fill_stmt == NULL)
	{
		register_callbacks();
		if (tenancy_ddl_matview_fill_begin(parsetree))
		{
			late_fill_subxact = GetCurrentSubTransactionId();
			late_fill_stmt = parsetree;
		}
	}
	if (own_ddl_depth > 0)
		PG_RETURN_VOID();

	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			check_alter_table((AlterTableStmt *) parsetree);
			break;
		case T_CreatePolicyStmt:
			check_create_policy((CreatePolicyStmt *) parsetree);
			break;
		case T_AlterPolicyStmt:
			check_alter_policy((AlterPolicyStmt *) parsetree);
			break;
		case T_RenameStmt:
			check_rename((RenameStmt *) parsetree);
			break;
		case T_AlterObjectSchemaStmt:
			check_alter_object_schema((AlterObjectSchemaStmt *) parsetree);
			break;
		case T_AlterOwnerStmt:
			check_alter_owner((AlterOwnerStmt *) parsetree);
			break;
		case T_GrantStmt:
			check_schema_grant((GrantStmt *) parsetree);
			break;
		case T_CreateExtensionStmt:
			check_create_extension((CreateExtensionStmt *) parsetree);
			break;
		case T_AlterObjectDependsStmt:
			check_alter_object_depends((AlterObjectDependsStmt *) parsetree);
			break;
		default:
			break;
	}
	PG_RETURN_VOID();
}

/* a List of OIDs as an oid[] */
static ArrayType *
oid_array(List *oids)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(oids), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, oids)
		elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	return construct_array(elems, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT);
}

/*
 * first_problem: the first row (object, problem, detail or hint, ...) of a
 * query of tenancy's SQL rules about relids, or 0 rows.  function names the
 * rule (derived_problems, wall_problems): a catalog older than 1.3 (the
 * library installed, ALTER EXTENSION UPDATE not run yet) has none, and
 * then nothing is asked; its rules arrive with the update, which checks
 * every protected table then (check()).
 *
 * One generic plan per query, kept: a custom plan for each command would
 * cost more to plan than to run (the query is the same for any relids).
 * Its estimate counts the branches for relids NULL (check()), which a
 * one-time filter skips for a command; on a large catalog that estimate
 * passes JIT's thresholds, and compiling the plan cost seconds per command
 * (1.3 review).  No JIT for it.
 */
static int
first_problem(SPIPlanPtr *plan, const char *function, const char *sql,
			  ArrayType *relids, char **texts, int ncolumns)
{
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		values[1];
	int			nestlevel;
	int			n;

	if (!OidIsValid(tenancy_catalog_function(function, 1, argtypes)))
		return 0;
	nestlevel = NewGUCNestLevel();
	tenancy_catalog_save_setting("plan_cache_mode", "force_generic_plan");
	tenancy_catalog_save_setting("jit", "off");
	values[0] = PointerGetDatum(relids);
	n = tenancy_catalog_query(plan, sql, 1, argtypes, values, NULL, NULL, 0,
							  texts, ncolumns);
	AtEOXact_GUC(true, nestlevel);
	return n;
}

/*
 * refuse_derived_problem: refuse (the whole statement) with the first row
 * of sql, a query of derived_problems() about the relations $1
 */
static void
refuse_derived_problem(SPIPlanPtr *plan, const char *sql, ArrayType *relids)
{
	char	   *texts[4] = {NULL, NULL, NULL, NULL};

	if (first_problem(plan, "derived_problems", sql, relids, texts, 4) > 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("%s", texts[1]),
				 errdetail("%s", texts[2]),
				 errhint("%s", texts[3])));
}

/*
 * require_sound: refuse (the whole statement) when derived_problems() finds
 * a view, rule, materialized view or foreign key among relids, or reading
 * them, that breaks R24.
 */
static void
require_sound(ArrayType *relids)
{
	static SPIPlanPtr plan = NULL;

	refuse_derived_problem(&plan,
						   "SELECT d.object, d.problem, d.detail, d.hint"
						   "  FROM tenancy.derived_problems($1) d"
						   " ORDER BY d.object COLLATE \"C\", d.problem COLLATE \"C\" LIMIT 1",
						   relids);
}

/*
 * require_walls: refuse (the whole statement) when wall_problems() finds a
 * protected table among relids whose walls the statement left off or
 * altered.  Decided from the catalogs after the statement, whatever name,
 * search_path or statement spelling reached the table: ddl_start's checks
 * of the parse tree are a first, earlier answer, not the only one.
 */
static void
require_walls(ArrayType *relids)
{
	char	   *texts[3] = {NULL, NULL, NULL};

	if (first_wall_problem(relids, texts))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("cannot leave protected table %s this way: %s", texts[0], texts[1]),
				 errdetail("The walls of a protected table change only through tenancy.protect() and tenancy.unprotect(), for superusers and owners too; DDL on a table whose walls are off waits until they are restored."),
				 errhint("%s", texts[2])));
}

/* the first row wall_problems() gives for relids, into texts[0..2] */
static bool
first_wall_problem(ArrayType *relids, char **texts)
{
	static SPIPlanPtr plan = NULL;

	return first_problem(&plan, "wall_problems",
						 "SELECT w.object, w.problem, w.hint"
						 "  FROM tenancy.wall_problems($1) w"
						 " ORDER BY w.object COLLATE \"C\", w.problem COLLATE \"C\" LIMIT 1",
						 relids, texts, 3) > 0;
}

/*
 * tenancy_ddl_require_walls: protect()'s last question, for the tables it
 * has just protected: what their walls hold that protect() did not make
 * (a trigger of the owner's that fires after the guard)
 */
void
tenancy_ddl_require_walls(List *relids)
{
	char	   *texts[3] = {NULL, NULL, NULL};

	if (first_wall_problem(oid_array(relids), texts))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot protect table %s: %s", texts[0], texts[1]),
				 errhint("%s", texts[2])));
}

/*
 * tenancy_ddl_matview_fill_begin: does the utility statement fill a
 * materialized view (CREATE MATERIALIZED VIEW with data, REFRESH, also
 * under EXPLAIN ANALYZE)?  Then its fill begins, and the caller ends it
 * with tenancy_ddl_matview_fill_end() however the statement ends.
 */
bool
tenancy_ddl_matview_fill_begin(Node *parsetree)
{
	RangeVar   *rv = NULL;

	if (parsetree != NULL && IsA(parsetree, ExplainStmt) &&
		IsA(((ExplainStmt *) parsetree)->query, Query) &&
		((Query *) ((ExplainStmt *) parsetree)->query)->commandType == CMD_UTILITY)
		parsetree = ((Query *) ((ExplainStmt *) parsetree)->query)->utilityStmt;
	if (parsetree == NULL)
		return false;
	if (IsA(parsetree, RefreshMatViewStmt))
		rv = ((RefreshMatViewStmt *) parsetree)->relation;
	else if (IsA(parsetree, CreateTableAsStmt) &&
			 ((CreateTableAsStmt *) parsetree)->objtype == OBJECT_MATVIEW &&
			 !((CreateTableAsStmt *) parsetree)->into->skipData)
		rv = ((CreateTableAsStmt *) parsetree)->into->rel;
	if (rv == NULL)
		return false;

	/* for the message only, as written: the statement resolves the name */
	if (matview_fills == 0)
		strlcpy(matview_filled, quote_qualified_identifier(rv->schemaname, rv->relname),
				sizeof(matview_filled));
	matview_fills++;
	return true;
}

/* tenancy_ddl_matview_fill_end: the fill tenancy_ddl_matview_fill_begin began ends */
void
tenancy_ddl_matview_fill_end(void)
{
	Assert(matview_fills > 0);
	matview_fills--;
}

/*
 * tenancy_ddl_matview_fill_plan: the plan to start inside a fill.  One
 * made for parallel workers before the fill (a function's cached generic
 * plan; the planner makes none during it, planner.c) runs as a copy that
 * needs no parallel mode: its Gather then runs in this backend alone,
 * where the guard sees every statement its functions run.
 */
PlannedStmt *
tenancy_ddl_matview_fill_plan(PlannedStmt *stmt)
{
	PlannedStmt *serial;

	if (matview_fills == 0 || stmt == NULL || !stmt->parallelModeNeeded)
		return stmt;
	serial = copyObject(stmt);
	serial->parallelModeNeeded = false;
	return serial;
}

/* tenancy_ddl_matview_filling: is a materialized view being filled? */
bool
tenancy_ddl_matview_filling(void)
{
	return matview_fills > 0;
}

/*
 * tenancy_ddl_check_matview_fill: refuse a statement about to run inside a
 * materialized view's fill when it reads a protected table
 */
void
tenancy_ddl_check_matview_fill(PlannedStmt *stmt)
{
	ListCell   *lc;

	if (matview_fills == 0 || stmt == NULL)
		return;
	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind != RTE_RELATION || !carries_walls(rte->relid))
			continue;
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("cannot fill materialized view %s from protected table %s",
						matview_filled,
						tenancy_catalog_relation_name(rte->relid)),
				 errdetail("A materialized view keeps the rows its refresher could see and shows them to every reader without row security."),
				 errhint("Use a view made with tenancy.create_secured_view() instead.")));
	}
}

/*
 * tenancy_ddl_require_sound: protect()'s question for the tables it is
 * about to protect (registered already, in its transaction), also when
 * protection comes to a new child (protect_one_child).  Besides what
 * require_sound asks, the relations whose rules already read the tables:
 * a view, materialized view or rule made before the table was protected
 * was checked against nothing, and read by a role that bypasses row
 * security it would serve every firm's rows from now on (1.3's last
 * attack: a superuser's view over a table protected later).
 * derived_problems() walks on from a view to the views above it.
 */
void
tenancy_ddl_require_sound(List *relids)
{
	static SPIPlanPtr plan = NULL;

	refuse_derived_problem(&plan,
						   "SELECT d.object, d.problem, d.detail, d.hint"
						   "  FROM tenancy.derived_problems(pg_catalog.array_cat($1, ARRAY("
						   "    SELECT rw.ev_class FROM pg_catalog.pg_depend dep"
						   "      JOIN pg_catalog.pg_rewrite rw ON rw.oid = dep.objid"
						   "     WHERE dep.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
						   "       AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
						   "       AND dep.refobjid = ANY ($1)))) d"
						   " ORDER BY d.object COLLATE \"C\", d.problem COLLATE \"C\" LIMIT 1",
						   oid_array(relids));
}

/* what event_relations asks and collects */
typedef struct EventRelations
{
	const char *sql;
	MemoryContext caller;
	List	   *relids;
	List	   *names;			/* with want_names: the second column */
	bool		want_names;
} EventRelations;

/* event_relations' body, inside the catalog's SPI block */
static void
collect_event_relations(void *arg)
{
	EventRelations *er = (EventRelations *) arg;
	int			n;
	int			i;

	/* not read-only: see the command's own catalog rows */
	n = tenancy_catalog_exec(NULL, er->sql, 0, NULL, NULL, NULL, false);
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			MemoryContext old = MemoryContextSwitchTo(er->caller);

			er->relids = lappend_oid(er->relids, DatumGetObjectId(d));
			if (er->want_names)
				er->names = lappend(er->names, SPI_getvalue(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc, 2));
			MemoryContextSwitchTo(old);
		}
	}
}

/*
 * event_relations: the relations (first column, oid) of an event trigger's
 * query; with names, its second column (text) too, in the same order.
 *
 * An event trigger fires in the session of whoever runs the DDL, a
 * superuser's included, under that session's search_path, where a schema
 * the DDL's author does not control (public) may hold an operator or
 * function that matches a comparison more exactly than pg_catalog's (an
 * "=(oid, regclass)", say).  So the query runs like every other catalog
 * query of the extension: in tenancy_catalog_within, with search_path
 * pinned to "pg_catalog, pg_temp" (sql/ddl_search_path.sql attacks it).
 */
static List *
event_relations(const char *sql, List **names)
{
	EventRelations er = {sql, CurrentMemoryContext, NIL, NIL, names != NULL};

	tenancy_catalog_within(collect_event_relations, &er);
	if (names != NULL)
		*names = er.names;
	return er.relids;
}

/* the relations the current command created or altered (rules: their relation) */
static List *
touched_relations(void)
{
	return event_relations("SELECT DISTINCT CASE WHEN c.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
						   "  THEN (SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.oid = c.objid)"
						   "  ELSE c.objid END"
						   "  FROM pg_catalog.pg_event_trigger_ddl_commands() c"
						   " WHERE c.classid IN ('pg_catalog.pg_class'::pg_catalog.regclass,"
						   "                     'pg_catalog.pg_rewrite'::pg_catalog.regclass)",
						   NULL);
}

/*
 * wall_relations: the relations whose walls the current command may have
 * changed: the relations it altered, and those of the policies and
 * triggers it created or altered
 */
static List *
wall_relations(void)
{
	return list_concat_unique_oid(touched_relations(),
								  event_relations("SELECT p.polrelid"
												  "  FROM pg_catalog.pg_event_trigger_ddl_commands() c"
												  "  JOIN pg_catalog.pg_policy p ON p.oid = c.objid"
												  " WHERE c.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass"
												  " UNION "
												  "SELECT t.tgrelid"
												  "  FROM pg_catalog.pg_event_trigger_ddl_commands() c"
												  "  JOIN pg_catalog.pg_trigger t ON t.oid = c.objid"
												  " WHERE c.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass"
												  " UNION "
												  /* ALTER TYPE ... CASCADE: the tables of the type */
												  "SELECT r.oid"
												  "  FROM pg_catalog.pg_event_trigger_ddl_commands() c"
												  "  JOIN pg_catalog.pg_type t ON t.oid = c.objid"
												  "    OR t.typrelid = c.objid"
												  "  JOIN pg_catalog.pg_class r ON r.reloftype = t.oid"
												  " WHERE c.classid IN ('pg_catalog.pg_type'::pg_catalog.regclass,"
												  "                     'pg_catalog.pg_class'::pg_catalog.regclass)",
												  NULL));
}

/*
 * created_objects: the objects of a catalog with a relation and a name
 * (pg_policy, pg_trigger) that the current command created or replaced:
 * their relations, and their names in *names
 */
static List *
created_objects(const char *catalog, const char *relation_column,
				const char *name_column, List **names)
{
	return event_relations(psprintf("SELECT o.%s, o.%s::text"
									"  FROM pg_catalog.pg_event_trigger_ddl_commands() c"
									"  JOIN pg_catalog.%s o ON o.oid = c.objid"
									" WHERE c.classid = 'pg_catalog.%s'::pg_catalog.regclass",
									relation_column, name_column, catalog, catalog),
						   names);
}

/*
 * require_shard_policy_copies: a policy the command created on a Citus
 * shard of a protected table is the same as its table's policy of that
 * name (ddl_start let only such a name through; see the header)
 */
static void
require_shard_policy_copies(void)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[3] = {OIDOID, OIDOID, TEXTOID};
	Datum		values[3];
	List	   *names = NIL;
	List	   *relids;
	ListCell   *lr;
	ListCell   *ln;

	relids = created_objects("pg_policy", "polrelid", "polname", &names);
	forboth(lr, relids, ln, names)
	{
		Oid			relid = lfirst_oid(lr);
		Oid			table = citus_protected(relid, NULL);

		if (!OidIsValid(table) || table == relid)
			continue;
		values[0] = ObjectIdGetDatum(relid);
		values[1] = ObjectIdGetDatum(table);
		values[2] = CStringGetTextDatum((char *) lfirst(ln));
		if (tenancy_catalog_query(&plan,
								  "SELECT 1 FROM pg_catalog.pg_policy s"
								  "  JOIN pg_catalog.pg_policy t ON t.polrelid = $2 AND t.polname = s.polname"
								  " WHERE s.polrelid = $1 AND s.polname = $3::name"
								  "   AND t.polcmd = s.polcmd AND t.polpermissive = s.polpermissive"
								  "   AND t.polroles = s.polroles"
								  "   AND pg_catalog.pg_get_expr(t.polqual, t.polrelid)"
								  "       IS NOT DISTINCT FROM pg_catalog.pg_get_expr(s.polqual, s.polrelid)"
								  "   AND pg_catalog.pg_get_expr(t.polwithcheck, t.polrelid)"
								  "       IS NOT DISTINCT FROM pg_catalog.pg_get_expr(s.polwithcheck, s.polrelid)",
								  3, argtypes, values, NULL, NULL, 0, NULL, 0) == 0)
			refuse_wall_change(relid, psprintf("create policy %s", (char *) lfirst(ln)));
	}
}

/* error context of protect() run on a new child: names[] = child, parent */
static void
child_error_context(void *arg)
{
	char	  **names = (char **) arg;

	errcontext("protecting \"%s\", a new partition or inheritance child of protected table \"%s\"",
			   names[0], names[1]);
}

/*
 * first_with_rows: the table, or a table below it, that holds a row,
 * committed or the command's own; InvalidOid when none does.  Read with a
 * latest snapshot, past row security, once protect() has locked out every
 * writer; the scan stops at the first live row (a heap of dead rows is read
 * through, under the lock the DDL holds anyway).
 */
static Oid
first_with_rows(Oid relid)
{
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	List	   *rels = find_all_inheritors(relid, AccessShareLock, NULL);
	ListCell   *lc;
	Oid			found = InvalidOid;

	foreach(lc, rels)
	{
		Relation	rel;
		TableScanDesc scan;
		TupleTableSlot *slot;
		bool		any;

		if (!RELKIND_HAS_STORAGE(get_rel_relkind(lfirst_oid(lc))))
			continue;
		rel = table_open(lfirst_oid(lc), AccessShareLock);
		slot = table_slot_create(rel, NULL);
		scan = table_beginscan(rel, snapshot, 0, NULL);
		any = table_scan_getnextslot(scan, ForwardScanDirection, slot);
		table_endscan(scan);
		ExecDropSingleTupleTableSlot(slot);
		table_close(rel, AccessShareLock);
		if (any)
		{
			found = lfirst_oid(lc);
			break;
		}
	}
	UnregisterSnapshot(snapshot);
	return found;
}

/*
 * protect_one_child: protect one unprotected partition or inheritance child
 * of a protected table, where either is among the touched relations; adds
 * it to them.  Returns false when there is none left.
 *
 * A child that arrives with rows (ALTER TABLE ... ATTACH PARTITION or
 * INHERIT of a filled table) is refused: its rows would enter the protected
 * table without the guard's checks, in any firm's administration or in one
 * that does not exist (R6, R12; 1.3 review).  protect() of the table first
 * is the one door for rows written before protection: it is explicit and in
 * the audit log.
 */
static bool
protect_one_child(List **touched)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		values[1];
	int64		ints[2];
	char	   *texts[2] = {NULL, NULL};
	char	   *names[2];
	NameData	column;
	ErrorContextCallback callback;
	Oid			filled;

	values[0] = PointerGetDatum(oid_array(*touched));
	if (tenancy_catalog_query(&plan,
							  "SELECT i.inhrelid::bigint, i.inhparent::bigint,"
							  "       p.administration_column::text, p.carry_on_migration::text"
							  "  FROM (SELECT c.inhrelid, c.inhparent FROM unnest($1) r"
							  "          JOIN pg_inherits c ON c.inhparent = r"
							  "        UNION"
							  "        SELECT c.inhrelid, c.inhparent FROM unnest($1) r"
							  "          JOIN pg_inherits c ON c.inhrelid = r) i"
							  "  JOIN tenancy.protected_table p ON p.relid::oid = i.inhparent"
							  " WHERE NOT EXISTS (SELECT 1 FROM tenancy.protected_table q"
							  "                    WHERE q.relid::oid = i.inhrelid)"
							  " ORDER BY i.inhrelid LIMIT 1",
							  1, argtypes, values, NULL, ints, 2, texts, 2) == 0)
		return false;

	namestrcpy(&column, texts[0]);
	names[0] = get_rel_name((Oid) ints[0]);
	names[1] = get_rel_name((Oid) ints[1]);
	callback.callback = child_error_context;
	callback.arg = names;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	DirectFunctionCall3(tenancy_protect,
						ObjectIdGetDatum((Oid) ints[0]),
						NameGetDatum(&column),
						BoolGetDatum(strcmp(texts[1], "true") == 0));
	filled = first_with_rows((Oid) ints[0]);
	if (OidIsValid(filled))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot attach table \"%s\" to protected table \"%s\"",
						names[0], names[1]),
				 errdetail("Table \"%s\" holds rows that would come in without tenancy's checks.",
						   get_rel_name(filled)),
				 errhint("Protect \"%s\" first with tenancy.protect(), which takes its rows in and records that in the audit log, then attach it; or attach it empty and write the rows through \"%s\".",
						 names[0], names[1])));
	error_context_stack = callback.previous;
	*touched = lappend_oid(*touched, (Oid) ints[0]);
	return true;
}

/*
 * require_created_triggers: a trigger the command created or replaced on a
 * protected table (CREATE [OR REPLACE] TRIGGER, also inside CREATE SCHEMA).
 *
 * A trigger on a protected table runs in the session of every writer and
 * sees every row written through it, of any firm (NEW, OLD); it can copy
 * them out (NOTIFY, another table) or change them.  PostgreSQL lets any
 * holder of the TRIGGER privilege create one; on a protected table only its
 * owner may.  A trigger under a name of tenancy's (on a Citus shard with
 * the suffix _<shardid>) must be the one protect() creates: CREATE OR
 * REPLACE TRIGGER would otherwise swap the guard for one WHEN (false) or
 * with another function, for owners and superusers too; Citus's copy on a
 * shard and tenancy's update script, which re-create it as it is, pass.
 * Decided at the end of the command, on the triggers as created (their
 * table by OID): a check of the statement's table name before it ran could
 * be answered for another table than the one the name then found.
 */
static void
require_created_triggers(void)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[4] = {OIDOID, TEXTOID, TEXTOID, BOOLOID};
	Datum		values[4];
	List	   *names = NIL;
	List	   *relids;
	ListCell   *lr;
	ListCell   *ln;

	relids = created_objects("pg_trigger", "tgrelid", "tgname", &names);
	forboth(lr, relids, ln, names)
	{
		Oid			relid = lfirst_oid(lr);
		char	   *name = (char *) lfirst(ln);
		char	   *column = tenancy_protected_column(relid);

		if (column == NULL && !OidIsValid(citus_protected(relid, &column)))
			continue;
		if (!is_tenancy_trigger(name))
		{
			if (!TENANCY_REL_OWNERCHECK(relid, GetUserId()))
				ereport(ERROR,
						(errcode(TENANCY_ERRCODE_DENIED),
						 errmsg("cannot create trigger \"%s\" on protected table \"%s\"",
								name, get_rel_name(relid)),
						 errdetail("A trigger on a protected table runs in every writer's session and sees the rows of every firm written through it; only the table's owner creates one."),
						 errhint("Ask the table's owner, and revoke TRIGGER on the table from application roles.")));
			continue;
		}
		values[0] = ObjectIdGetDatum(relid);
		values[1] = CStringGetTextDatum(name);
		values[2] = CStringGetTextDatum(column);
		values[3] = BoolGetDatum(strncmp(name, "tenancy_guard", 13) == 0);
		if (tenancy_catalog_query(&plan,
								  "SELECT 1 FROM pg_catalog.pg_trigger g"
								  " WHERE g.tgrelid = $1 AND g.tgname = $2::name"
								  "   AND g.tgenabled = 'O' AND g.tgqual IS NULL AND g.tgattr = ''"
								  "   AND g.tgconstraint = 0 AND g.tgoldtable IS NULL AND g.tgnewtable IS NULL"
								  "   AND CASE WHEN $4"
								  "        THEN g.tgtype = 31 AND g.tgfoid = 'tenancy.guard_row()'::pg_catalog.regprocedure"
								  "             AND g.tgargs = pg_catalog.convert_to($3, pg_catalog.getdatabaseencoding())"
								  "                            OPERATOR(pg_catalog.||) '\\x00'::bytea"
								  "        ELSE g.tgtype = 34 AND g.tgfoid = 'tenancy.guard_truncate()'::pg_catalog.regprocedure"
								  "             AND g.tgargs = '\\x'::bytea END",
								  4, argtypes, values, NULL, NULL, 0, NULL, 0) != 1)
			refuse_wall_change(relid, psprintf("replace trigger %s", name));
	}
}

/* tenancy_ddl_end() RETURNS event_trigger */
PG_FUNCTION_INFO_V1(tenancy_ddl_end);
Datum
tenancy_ddl_end(PG_FUNCTION_ARGS)
{
	CommandTag	tag;
	List	   *touched;

	require_event_trigger(fcinfo, "ddl_end");
	if (late_fill_stmt != NULL &&
		((EventTriggerData *) fcinfo->context)->parsetree == late_fill_stmt &&
		GetCurrentSubTransactionId() == late_fill_subxact)
		end_late_fill();
	if (!OidIsValid(tenancy_catalog_relid("protected_table")))
		PG_RETURN_VOID();
	if (own_ddl_depth > 0)
	{
		require_own_targets(wall_relations());
		PG_RETURN_VOID();
	}

	tag = ((EventTriggerData *) fcinfo->context)->tag;
	if (tag == CMDTAG_CREATE_EXTENSION || tag == CMDTAG_ALTER_EXTENSION)
	{
		refuse_extensions_in_schema();
		PG_RETURN_VOID();
	}
	if (tag == CMDTAG_CREATE_POLICY)
	{
		require_shard_policy_copies();
		require_walls(oid_array(wall_relations()));
		PG_RETURN_VOID();
	}
	if (tag == CMDTAG_CREATE_TRIGGER || tag == CMDTAG_CREATE_SCHEMA)
		require_created_triggers();
	if (tag == CMDTAG_CREATE_TRIGGER)
	{
		/* a trigger that fires after the guard (wall_problems) */
		require_walls(oid_array(wall_relations()));
		PG_RETURN_VOID();
	}
	if (tag == CMDTAG_ALTER_POLICY || tag == CMDTAG_ALTER_TRIGGER ||
		tag == CMDTAG_ALTER_TYPE)
	{
		require_walls(oid_array(wall_relations()));
		PG_RETURN_VOID();
	}
	touched = touched_relations();
	if (touched == NIL)
		PG_RETURN_VOID();

	/* children first: protect() on them registers them, then the rest */
	while (protect_one_child(&touched))
		CHECK_FOR_INTERRUPTS();
	require_sound(oid_array(touched));
	if (tag == CMDTAG_ALTER_TABLE || tag == CMDTAG_ALTER_FOREIGN_TABLE ||
		tag == CMDTAG_ALTER_VIEW || tag == CMDTAG_ALTER_MATERIALIZED_VIEW ||
		tag == CMDTAG_ALTER_INDEX)
		require_walls(oid_array(wall_relations()));
	PG_RETURN_VOID();
}

/*
 * dropped_object_relation: the table of a policy (or trigger) the current
 * transaction has dropped, from its deleted catalog row, or InvalidOid
 */
static Oid
dropped_object_relation(bool policy, Oid objid)
{
	Relation	rel = table_open(policy ? PolicyRelationId : TriggerRelationId,
								 AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			relid = InvalidOid;

	ScanKeyInit(&key, policy ? Anum_pg_policy_oid : Anum_pg_trigger_oid,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(objid));
	scan = systable_beginscan(rel, policy ? PolicyOidIndexId : TriggerOidIndexId,
							  true, SnapshotAny, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		relid = policy ? ((Form_pg_policy) GETSTRUCT(tuple))->polrelid :
			((Form_pg_trigger) GETSTRUCT(tuple))->tgrelid;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return relid;
}

/*
 * refuse_rebuilt_drop: while a Citus table rebuilder runs
 * (alter_distributed_table, undistribute_table, ...), the drop of a
 * protected table is refused: the rebuilder moved its rows as the caller,
 * under row security, so none moved, and drops the original (see
 * citus_guard.c)
 */
static void
refuse_rebuilt_drop(void)
{
	static SPIPlanPtr plan = NULL;
	char	   *dropped = NULL;

	tenancy_catalog_query(&plan,
						  "SELECT d.object_identity FROM tenancy.protected_table p"
						  "  JOIN pg_catalog.pg_event_trigger_dropped_objects() d"
						  "    ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
						  "   AND d.objsubid = 0 AND d.objid = p.relid::pg_catalog.oid"
						  " ORDER BY 1 LIMIT 1",
						  0, NULL, NULL, NULL, NULL, 0, &dropped, 1);
	if (dropped != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to rebuild protected table %s with Citus", dropped),
				 errdetail("Citus would move its rows as the calling role, under row security, and drop the protected table: every firm's rows would be lost."),
				 errhint("Keep tables that Citus may rebuild in another colocation group than protected tables (colocate_with => 'none').")));
}

/* tenancy_ddl_drop() RETURNS event_trigger */
PG_FUNCTION_INFO_V1(tenancy_ddl_drop);
Datum
tenancy_ddl_drop(PG_FUNCTION_ARGS)
{
	List	   *names = NIL;
	List	   *objids;
	ListCell   *lr;
	ListCell   *ln;

	require_event_trigger(fcinfo, "ddl_drop");
	if (!OidIsValid(tenancy_catalog_relid("protected_table")))
		PG_RETURN_VOID();

	/*
	 * The table of each dropped policy or trigger of tenancy's name, by OID:
	 * the deleted catalog row is still there for this transaction (read with
	 * SnapshotAny).  Its address names the table's schema as the command saw
	 * it; looked up by that name again, a schema renamed by another session
	 * meanwhile led nowhere, and the drop passed (1.3 review).  Triggers on a
	 * Citus shard carry the shard's suffix.  A table dropped by the same
	 * statement is gone from the catalog and counts no more.
	 */
	objids = event_relations("SELECT d.objid, d.object_type || ' ' || d.address_names[3]"
							 "  FROM pg_catalog.pg_event_trigger_dropped_objects() d"
							 " WHERE (d.object_type = 'policy' AND d.address_names[3] LIKE 'tenancy\\_%')"
							 "    OR (d.object_type = 'trigger'"
							 "        AND d.address_names[3] ~ '^tenancy_(guard|no_truncate)(_[0-9]+)?$')"
							 " ORDER BY 2, 1",
							 &names);
	forboth(lr, objids, ln, names)
	{
		const char *what = (const char *) lfirst(ln);
		Oid			relid = dropped_object_relation(strncmp(what, "policy ", 7) == 0,
													lfirst_oid(lr));

		if (!OidIsValid(relid) || !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
			continue;
		if (own_ddl_depth > 0)
			require_own_targets(list_make1_oid(relid));
		else if (is_protected(relid))
			refuse_wall_change(relid, psprintf("drop %s", what));
	}
	if (tenancy_citus_guard_rebuilding())
		refuse_rebuilt_drop();
	tenancy_protect_forget_dropped();
	PG_RETURN_VOID();
}
