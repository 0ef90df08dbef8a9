/*-------------------------------------------------------------------------
 *
 * citus_guard.c
 *	  Refuse the Citus functions that would step around tenancy's walls
 *	  (R5, R24, R25).
 *
 * Citus gives every login functions that tenancy's walls do not see:
 *
 *	- Connection openers.  run_command_on_workers, _on_coordinator,
 *	  _on_all_nodes, _on_shards, _on_placements, _on_colocated_placements
 *	  and master_run_on_worker run SQL in NEW sessions, logged in as the
 *	  current role; create_distributed_function makes later calls of a
 *	  function run on a worker the same way.  A new session is neither
 *	  locked nor bound: an injected statement in a session locked to one
 *	  user could act_as anyone there (R5), and a role reached by SET ROLE
 *	  would log in as a reporting login with that login's scope (R1, R14).
 *	  While the session has a tenancy identity, or its current role is a
 *	  bound reporting login, a call of one of them is refused.  The check
 *	  runs when the function is called (the fmgr hook; needs_fmgr_hook
 *	  marks just these functions), so it holds for calls from DO blocks,
 *	  PL/pgSQL, SQL functions, views and cached plans alike.  Under an
 *	  identity, the planner hook also refuses "SELECT f(...)" of a function
 *	  distributed earlier with a distribution argument: Citus would run it
 *	  on a worker in such a session (only that statement shape is
 *	  delegated).
 *	- Table (re)builders.  create_distributed_table(_concurrently),
 *	  create_reference_table and citus_add_local_table_to_metadata copy a
 *	  table's policies to its shards as PERMISSIVE ones (the wall opens,
 *	  R7); undistribute_table, alter_distributed_table and
 *	  alter_table_set_access_method rebuild the table, moving its rows as
 *	  the caller under row security (no rows move) and dropping the old
 *	  one with its registration (R24).  A call naming a protected table is
 *	  refused when the call is planned (the planner hook walks the Query,
 *	  as every DO block, PL/pgSQL and SPI statement is planned), except the
 *	  one tenancy.distribute() makes for the table it distributes (a
 *	  backend-local mark, never a setting).  A table that is not a
 *	  constant at planning time cannot be checked and is refused too.
 *	  While a rebuilder runs (the fmgr hook counts its calls), the drop of
 *	  a protected table is refused (ddl.c, sql_drop): a statement that
 *	  moved a table into a protected table's colocation group before
 *	  rebuilding it with cascade_to_colocated passed the planning-time
 *	  check (1.3 attack).
 *	- A transaction joiner.  assign_distributed_transaction_id makes the
 *	  calling session part of the distributed transaction whose number it
 *	  is given (get_all_active_transactions() lists them).  Citus keeps a
 *	  transaction's intermediate results (materialised CTEs, subqueries
 *	  with LIMIT, repartitioned data) in files named after the role and
 *	  that number, read by read_intermediate_result(): a statement injected
 *	  into a session locked to one user took the number of another
 *	  request's transaction, running under another identity of the same
 *	  application role, and read its rows, already filtered for that
 *	  identity (1.3 attack).  Citus calls the function only on its own
 *	  worker connections, which carry an identity only by a token; a call
 *	  under an identity set by act_as or act_as_local is refused when it
 *	  starts (the fmgr hook).
 *	- Shard transfers.  citus_move_shard_placement, _copy_, the split, tenant
 *	  isolation, the rebalancer, replicate_table_shards, the node drain and
 *	  citus_schema_move copy a shard's rows as the calling role, under row
 *	  security: as a table's owner (not a superuser) they copied no row of
 *	  a protected table, reported success and dropped the old shards, and
 *	  the rows were gone (1.3 attack).  In a database where a protected
 *	  table is distributed, a call by a role that is neither a superuser nor
 *	  BYPASSRLS is refused when it starts (the fmgr hook).
 *	- Other sessions' statements, under an identity carried by a token (a
 *	  worker's share of a request): pg_stat_get_activity (pg_stat_activity)
 *	  and pg_stat_get_backend_activity.  Citus writes a statement's
 *	  parameters into the shard queries as literals, so a worker's
 *	  pg_stat_activity shows every request's values, whatever firm it
 *	  serves; an expression that Citus pushed down to the shards read it
 *	  from a locked session on the coordinator and returned it in an error
 *	  (1.3 attack).  Built-in functions pass no fmgr hook: the planner hook
 *	  refuses a query that calls one of them, by OID, as the table
 *	  builders above (a shard query is planned on the worker each time).
 *	- COPY of a protected distributed table TO a file or the client, under
 *	  an identity (the utility hook): Citus copies the shards over
 *	  connections that need not carry the transaction's token, and the
 *	  workers returned no rows, without an error, or all of them where an
 *	  earlier statement had opened connections with the token.  COPY
 *	  (SELECT ...) TO runs as a query and is carried like one.
 *	- ALTER TABLE ... SET SCHEMA of a protected table into or out of a
 *	  distributed schema of Citus (the utility hook, before Citus's own):
 *	  Citus distributes or undistributes it there.
 *	- ALTER ROLE ... RENAME of a bound reporting login or a member of
 *	  tenancy_app, in a database with Citus (the utility hook).  Citus does
 *	  not rename roles on the workers and connects to them by name: the
 *	  workers would apply the binding, or accept the tokens, of the old
 *	  name for whichever role carries it there.
 *
 * The functions are found by name in pg_catalog, and only those that
 * belong to extension citus (pg_depend) count: a function of the same name
 * elsewhere is not Citus's.  Their OIDs are looked up once per backend and
 * kept until a change of pg_proc (CREATE, ALTER or DROP EXTENSION citus
 * change it); without Citus the list is empty and each check is one test
 * of a cached flag.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "tenancy.h"

/* what a guarded function is */
typedef enum CitusGuardKind
{
	CITUS_OPENS_SESSION,		/* runs SQL in a new session */
	CITUS_DISTRIBUTES_TABLE,	/* makes its first argument a Citus table */
	CITUS_REBUILDS_TABLE,		/* rebuilds its first argument, a table */
	CITUS_REBUILDS_COLOCATED,	/* the same, and the tables colocated with it */
	CITUS_CONVERTS_SCHEMA,		/* (un)distributes its first argument's tables */
	CITUS_JOINS_TRANSACTION,	/* takes another distributed transaction's id */
	CITUS_TRANSFERS_SHARDS		/* copies shards' rows as the caller */
} CitusGuardKind;

typedef struct CitusGuardName
{
	const char *name;
	CitusGuardKind kind;
} CitusGuardName;

static const CitusGuardName guarded_names[] = {
	{"run_command_on_workers", CITUS_OPENS_SESSION},
	{"run_command_on_coordinator", CITUS_OPENS_SESSION},
	{"run_command_on_all_nodes", CITUS_OPENS_SESSION},
	{"run_command_on_shards", CITUS_OPENS_SESSION},
	{"run_command_on_placements", CITUS_OPENS_SESSION},
	{"run_command_on_colocated_placements", CITUS_OPENS_SESSION},
	{"master_run_on_worker", CITUS_OPENS_SESSION},
	{"create_distributed_function", CITUS_OPENS_SESSION},
	{"create_distributed_table", CITUS_DISTRIBUTES_TABLE},
	{"create_distributed_table_concurrently", CITUS_DISTRIBUTES_TABLE},
	{"create_reference_table", CITUS_DISTRIBUTES_TABLE},
	{"citus_add_local_table_to_metadata", CITUS_DISTRIBUTES_TABLE},
	{"undistribute_table", CITUS_REBUILDS_COLOCATED},
	{"alter_distributed_table", CITUS_REBUILDS_COLOCATED},
	{"citus_schema_distribute", CITUS_CONVERTS_SCHEMA},
	{"citus_schema_undistribute", CITUS_CONVERTS_SCHEMA},
	{"alter_table_set_access_method", CITUS_REBUILDS_TABLE},
	{"assign_distributed_transaction_id", CITUS_JOINS_TRANSACTION},
	{"citus_move_shard_placement", CITUS_TRANSFERS_SHARDS},
	{"master_move_shard_placement", CITUS_TRANSFERS_SHARDS},
	{"citus_copy_shard_placement", CITUS_TRANSFERS_SHARDS},
	{"master_copy_shard_placement", CITUS_TRANSFERS_SHARDS},
	{"citus_split_shard_by_split_points", CITUS_TRANSFERS_SHARDS},
	{"isolate_tenant_to_new_shard", CITUS_TRANSFERS_SHARDS},
	{"rebalance_table_shards", CITUS_TRANSFERS_SHARDS},
	{"citus_rebalance_start", CITUS_TRANSFERS_SHARDS},
	{"replicate_table_shards", CITUS_TRANSFERS_SHARDS},
	{"citus_drain_node", CITUS_TRANSFERS_SHARDS},
	{"master_drain_node", CITUS_TRANSFERS_SHARDS},
	{"citus_schema_move", CITUS_TRANSFERS_SHARDS},
};

#define MAX_GUARDED_FUNCTIONS 128

typedef struct CitusGuardFunction
{
	Oid			oid;
	const char *name;
	CitusGuardKind kind;
} CitusGuardFunction;

static CitusGuardFunction guarded[MAX_GUARDED_FUNCTIONS];
static int	nguarded = 0;
static bool guarded_valid = false;

/* the table tenancy.distribute() is distributing, or InvalidOid */
static Oid	distributing_relid = InvalidOid;

/*
 * calls of table rebuilders running now (the fmgr hook counts them in and
 * out): the planner hook's check sees the catalog as it was when the
 * statement was planned, and a statement that first moved a table into a
 * protected table's colocation group (update_distributed_table_colocation,
 * create_distributed_table with its default colocation) then rebuilt it
 * with cascade_to_colocated got past it (1.3 attack); ddl.c's sql_drop
 * trigger refuses the drop of a protected table while one runs
 */
static int	rebuilding = 0;

static planner_hook_type prev_planner_hook = NULL;
static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;

static void guarded_invalidate(Datum arg, int cacheid, uint32 hashvalue);
static const CitusGuardFunction *guarded_function(Oid fn_oid);
static bool citus_present(void);
static PlannedStmt *citus_guard_planner(Query *parse, const char *query_string,
										int cursorOptions, ParamListInfo boundParams);
static bool rebuild_walker(Node *node, void *context);
static void refuse_delegated(Oid funcid);
static void require_not_delegated(Query *parse);
static void require_unprotected(const CitusGuardFunction *f, Node *arg);
static bool reads_activity(Oid fn_oid);
static void refuse_activity(void);
static bool citus_guard_needs_fmgr_hook(Oid fn_oid);
static void citus_guard_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo,
								  Datum *private);

/*
 * tenancy_citus_guard_init: install the hooks (called from _PG_init)
 */
void
tenancy_citus_guard_init(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = citus_guard_planner;
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = citus_guard_needs_fmgr_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = citus_guard_fmgr_hook;
	CacheRegisterSyscacheCallback(PROCOID, guarded_invalidate, (Datum) 0);
}

static void
guarded_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	guarded_valid = false;
}

/* fill guarded[] with the functions of guarded_names that extension citus owns */
static void
collect_guarded(Oid citus)
{
	int			i;

	for (i = 0; OidIsValid(citus) && i < lengthof(guarded_names); i++)
	{
		CatCList   *list = SearchSysCacheList1(PROCNAMEARGSNSP,
											   CStringGetDatum(guarded_names[i].name));
		int			j;

		for (j = 0; j < list->n_members; j++)
		{
			Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(&list->members[j]->tuple);

			if (proc->pronamespace != PG_CATALOG_NAMESPACE ||
				getExtensionOfObject(ProcedureRelationId, proc->oid) != citus)
				continue;
			/* a function left out would go unguarded: fail instead */
			if (nguarded == MAX_GUARDED_FUNCTIONS)
				elog(ERROR, "more than %d Citus functions to guard", MAX_GUARDED_FUNCTIONS);
			guarded[nguarded].oid = proc->oid;
			guarded[nguarded].name = guarded_names[i].name;
			guarded[nguarded].kind = guarded_names[i].kind;
			nguarded++;
		}
		ReleaseSysCacheList(list);
	}
}

/*
 * guarded_function: the guarded Citus function fn_oid, or NULL.  Loads the
 * list on first use after an invalidation (see the file header).
 */
static const CitusGuardFunction *
guarded_function(Oid fn_oid)
{
	int			i;

	/*
	 * Valid first: the lookups open catalogs and so take in invalidations,
	 * and a callback during them makes us build the list again.  An error
	 * half-way leaves it invalid, never a partial list taken for whole.
	 */
	while (!guarded_valid)
	{
		guarded_valid = true;
		nguarded = 0;
		PG_TRY();
		{
			collect_guarded(get_extension_oid("citus", true));
		}
		PG_CATCH();
		{
			guarded_valid = false;
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	for (i = 0; i < nguarded; i++)
		if (guarded[i].oid == fn_oid)
			return &guarded[i];
	return NULL;
}

/* is extension citus installed in this database? */
static bool
citus_present(void)
{
	(void) guarded_function(InvalidOid);
	return nguarded > 0;
}

/*
 * tenancy_citus_guard_distribute_begin / _end: bracket distribute()'s own
 * create_distributed_table() of relid (end it in PG_FINALLY)
 */
void
tenancy_citus_guard_distribute_begin(Oid relid)
{
	distributing_relid = relid;
}

void
tenancy_citus_guard_distribute_end(void)
{
	distributing_relid = InvalidOid;
}

/*
 * citus_guard_planner: refuse a call of a table (re)builder on a protected
 * table, then plan as before
 */
static PlannedStmt *
citus_guard_planner(Query *parse, const char *query_string,
					int cursorOptions, ParamListInfo boundParams)
{
	if (citus_present())
	{
		(void) query_tree_walker(parse, rebuild_walker, NULL, 0);
		require_not_delegated(parse);
	}
	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/* does f take the table or schema it works on as its first argument? */
static bool
names_table(const CitusGuardFunction *f)
{
	return f->kind == CITUS_DISTRIBUTES_TABLE || f->kind == CITUS_REBUILDS_TABLE ||
		f->kind == CITUS_REBUILDS_COLOCATED || f->kind == CITUS_CONVERTS_SCHEMA;
}

/*
 * protected_table_with: a protected table in schema nsp (in_schema), or
 * colocated with Citus table relid, or InvalidOid
 */
static Oid
protected_table_with(Oid oid, bool in_schema)
{
	static SPIPlanPtr schema_plan = NULL;
	static SPIPlanPtr colocated_plan = NULL;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(oid)};
	int64		found = 0;

	if (in_schema)
		tenancy_catalog_query(&schema_plan,
							  "SELECT min(t.relid::pg_catalog.oid)::pg_catalog.int8"
							  "  FROM tenancy.protected_table t"
							  "  JOIN pg_catalog.pg_class c ON c.oid = t.relid"
							  " WHERE c.relnamespace = $1",
							  1, argtypes, values, NULL, &found, 1, NULL, 0);
	else
		tenancy_catalog_query(&colocated_plan,
							  "SELECT min(t.relid::pg_catalog.oid)::pg_catalog.int8"
							  "  FROM pg_catalog.pg_dist_partition a"
							  "  JOIN pg_catalog.pg_dist_partition b"
							  "    ON b.colocationid = a.colocationid AND a.colocationid <> 0"
							  "  JOIN tenancy.protected_table t ON t.relid = b.logicalrelid"
							  " WHERE a.logicalrelid = $1",
							  1, argtypes, values, NULL, &found, 1, NULL, 0);
	return (Oid) found;
}

static bool
rebuild_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, rebuild_walker, context, 0);
	if (IsA(node, FuncExpr))
	{
		FuncExpr   *call = (FuncExpr *) node;
		const CitusGuardFunction *f = guarded_function(call->funcid);

		if (reads_activity(call->funcid))
			refuse_activity();
		if (f != NULL && names_table(f) && call->args != NIL)
			require_unprotected(f, (Node *) linitial(call->args));
	}
	/* an operator made over one of them (CREATE OPERATOR ... FUNCTION =) */
	if (IsA(node, OpExpr) || IsA(node, DistinctExpr) || IsA(node, NullIfExpr))
	{
		OpExpr	   *op = (OpExpr *) node;
		const CitusGuardFunction *f;

		set_opfuncid(op);
		if (reads_activity(op->opfuncid))
			refuse_activity();
		f = guarded_function(op->opfuncid);
		if (f != NULL && names_table(f) && op->args != NIL)
			require_unprotected(f, (Node *) linitial(op->args));
	}
	return expression_tree_walker(node, rebuild_walker, context);
}

/*
 * require_not_delegated: under an identity, refuse a statement that Citus
 * would send to a worker as a call of a distributed function (see the file
 * header).  tenancy's own functions are never distributed.
 */
static void
require_not_delegated(Query *parse)
{
	TargetEntry *tle;

	if (parse->commandType != CMD_SELECT || parse->jointree == NULL ||
		parse->jointree->fromlist != NIL || list_length(parse->targetList) != 1 ||
		!tenancy_identity_is_set())
		return;
	tle = linitial_node(TargetEntry, parse->targetList);
	if (!IsA(tle->expr, FuncExpr))
		return;
	refuse_delegated(((FuncExpr *) tle->expr)->funcid);
}

/*
 * refuse_delegated: refuse, under an identity, a call of funcid when Citus
 * distributed it with a distribution argument (it would run on a worker)
 */
static void
refuse_delegated(Oid funcid)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];

	if (funcid < FirstNormalObjectId ||
		get_func_namespace(funcid) == tenancy_catalog_namespace())
		return;
	values[0] = ObjectIdGetDatum(funcid);
	if (tenancy_catalog_query(&plan,
							  "SELECT 1 FROM pg_catalog.pg_dist_object o"
							  " WHERE o.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass"
							  "   AND o.objid = $1 AND o.distribution_argument_index IS NOT NULL",
							  1, argtypes, values, NULL, NULL, 0, NULL, 0) == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to call distributed function %s() in a session with a tenancy identity",
					get_func_name(funcid)),
			 errdetail("Citus would run the call on a worker in a new session of the current role, which carries neither this session's identity nor its lock."),
			 errhint("Call it from a session without a tenancy identity.")));
}

/*
 * require_unprotected: refuse the (re)builder f on a protected table, or
 * on a table that cannot be known before the call
 */
static void
require_unprotected(const CitusGuardFunction *f, Node *arg)
{
	Node	   *value = eval_const_expressions(NULL, (Node *) copyObject(arg));
	Oid			relid;

	if (!IsA(value, Const))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to call %s() with a table that is not a constant", f->name),
				 errdetail("tenancy refuses %s() on protected tables and cannot tell which table this call names.", f->name),
				 errhint("Name the table as a constant, for example with EXECUTE format().")));
	if (((Const *) value)->constisnull)
		return;
	relid = DatumGetObjectId(((Const *) value)->constvalue);
	if (f->kind == CITUS_CONVERTS_SCHEMA)
	{
		Oid			inside = protected_table_with(relid, true);

		if (OidIsValid(inside))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to call %s() on schema \"%s\", which holds protected table \"%s\"",
							f->name, get_namespace_name(relid), get_rel_name(inside)),
					 errdetail("Citus would distribute or rebuild every table of the schema: the wall would turn permissive on the shards, or the rows would move under row security and the protected table be dropped."),
					 errhint("Use tenancy.distribute() for each protected table, and keep protected tables out of schemas distributed with Citus.")));
		return;
	}
	if (relid == distributing_relid)
		return;
	if (tenancy_protected_column(relid) == NULL)
	{
		Oid			colocated;

		if (f->kind != CITUS_REBUILDS_COLOCATED ||
			!OidIsValid(colocated = protected_table_with(relid, false)))
			return;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to call %s() on table \"%s\", which is colocated with protected table \"%s\"",
						f->name, get_rel_name(relid), get_rel_name(colocated)),
				 errdetail("With cascade_to_colocated or cascade_via_foreign_keys, Citus rebuilds the colocated tables too, moving their rows under row security and dropping the protected originals."),
				 errhint("Keep tables that Citus may rebuild in another colocation group (colocate_with => 'none').")));
	}
	if (f->kind == CITUS_DISTRIBUTES_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to call %s() on protected table \"%s\"",
						f->name, get_rel_name(relid)),
				 errdetail("Citus would copy the table's policies to its shards as permissive policies, which opens the compartment wall."),
				 errhint("Use tenancy.distribute() to distribute a protected table.")));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to call %s() on protected table \"%s\"",
					f->name, get_rel_name(relid)),
			 errdetail("Citus would rebuild the table, moving its rows under row security and dropping the protected table."),
			 errhint("Copy the rows into a new table instead.")));
}

/* does f rebuild (drop and re-create) tables? */
static bool
rebuilds(const CitusGuardFunction *f)
{
	return f->kind == CITUS_REBUILDS_TABLE || f->kind == CITUS_REBUILDS_COLOCATED ||
		f->kind == CITUS_CONVERTS_SCHEMA;
}

/* tenancy_citus_guard_rebuilding: is a Citus table rebuilder running? */
bool
tenancy_citus_guard_rebuilding(void)
{
	return rebuilding > 0;
}

/*
 * citus_guard_needs_fmgr_hook: route the calls of the connection openers,
 * transaction joiners, shard transfers and table rebuilders through
 * citus_guard_fmgr_hook
 */
static bool
citus_guard_needs_fmgr_hook(Oid fn_oid)
{
	const CitusGuardFunction *f = guarded_function(fn_oid);

	if (f != NULL &&
		(f->kind == CITUS_OPENS_SESSION || f->kind == CITUS_JOINS_TRANSACTION ||
		 f->kind == CITUS_TRANSFERS_SHARDS || rebuilds(f)))
		return true;
	return prev_needs_fmgr_hook ? prev_needs_fmgr_hook(fn_oid) : false;
}

/*
 * refuse_joining: refuse a transaction joiner under an identity that
 * act_as or act_as_local set (a token's, on a worker connection, is
 * Citus's own)
 */
static void
refuse_joining(const CitusGuardFunction *f)
{
	if (!tenancy_identity_is_set() || !OidIsValid(tenancy_identity_current()->login))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to call %s() in a session with a tenancy identity", f->name),
			 errdetail("It would make this session part of another session's distributed transaction, whose intermediate results hold rows read under that session's identity."),
			 errhint("Citus calls it on its own worker connections; a session with a tenancy identity has no use for it.")));
}

/* does fn_oid show other sessions' statements? */
static bool
reads_activity(Oid fn_oid)
{
	return fn_oid == F_PG_STAT_GET_ACTIVITY || fn_oid == F_PG_STAT_GET_BACKEND_ACTIVITY;
}

/*
 * refuse_activity: refuse to show other sessions' statements under an
 * identity carried by a token (see the file header)
 */
static void
refuse_activity(void)
{
	if (!tenancy_identity_is_set() || OidIsValid(tenancy_identity_current()->login))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to read the statements of other sessions under a tenancy token"),
			 errdetail("Citus sends every request's statements to the workers with their parameters written in, whatever firm they serve."),
			 errhint("Read pg_stat_activity on a worker from a session without a tenancy identity.")));
}

/*
 * refuse_transfer: refuse a shard transfer to a role under row security in
 * a database where a protected table is distributed (see the file header)
 */
static void
refuse_transfer(const CitusGuardFunction *f)
{
	static SPIPlanPtr plan = NULL;
	int64		distributed = 0;

	if (superuser() || has_bypassrls_privilege(GetUserId()) ||
		!OidIsValid(tenancy_catalog_namespace()))
		return;
	tenancy_catalog_query(&plan,
						  "SELECT count(*) FROM tenancy.protected_table t"
						  "  JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid = t.relid",
						  0, NULL, NULL, NULL, &distributed, 1, NULL, 0);
	if (distributed == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to call %s() in a database with protected distributed tables", f->name),
			 errdetail("Citus copies the shards' rows as the calling role, under row security: no row of a protected table would be copied, and the old shards would be dropped."),
			 errhint("Move, copy, split, isolate and rebalance shards as a superuser.")));
}

/*
 * citus_guard_fmgr_hook: at the start of a call of a connection opener,
 * refuse it while the session has an identity or its current role is a
 * bound reporting login; of a transaction joiner, see refuse_joining; of a
 * shard transfer, see refuse_transfer
 */
static void
citus_guard_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	const CitusGuardFunction *f = guarded_function(flinfo->fn_oid);

	if (f != NULL && rebuilds(f))
	{
		if (event == FHET_START)
			rebuilding++;
		else if (rebuilding > 0)
			rebuilding--;		/* FHET_END, FHET_ABORT */
	}
	if (event != FHET_START)
		f = NULL;
	if (f != NULL && f->kind == CITUS_JOINS_TRANSACTION)
		refuse_joining(f);
	else if (f != NULL && f->kind == CITUS_TRANSFERS_SHARDS)
		refuse_transfer(f);
	else if (f != NULL && f->kind == CITUS_OPENS_SESSION)
	{
		if (tenancy_identity_is_set())
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to call %s() in a session with a tenancy identity", f->name),
					 errdetail("The function runs SQL in new sessions of the current role, which carry neither this session's identity nor its lock."),
					 errhint("Call it from a session without a tenancy identity.")));
		if (tenancy_rights_binding(GetUserId()) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to call %s() as reporting login \"%s\"",
							f->name, GetUserNameFromId(GetUserId(), false)),
					 errdetail("The function runs SQL in new sessions logged in as the current role, which a reporting binding applies to."),
					 errhint("Call it from a role that is not a bound reporting login.")));
	}
	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);
}

/*
 * refuse_copy_to: under an identity, COPY of a protected distributed
 * table TO a file or the client (see the file header)
 */
static void
refuse_copy_to(CopyStmt *copy)
{
	Oid			relid;

	if (copy->is_from || copy->relation == NULL || !tenancy_identity_is_set() ||
		!citus_present())
		return;
	relid = RangeVarGetRelid(copy->relation, NoLock, true);
	if (!OidIsValid(relid) || !tenancy_distribute_is_citus_table(relid) ||
		tenancy_protected_column(relid) == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("COPY of protected distributed table \"%s\" TO is not supported under a tenancy identity",
					copy->relation->relname),
			 errdetail("Citus copies the shards over connections that need not carry the identity; the workers would return no rows."),
			 errhint("Use COPY (SELECT ... FROM %s) TO inside a transaction block.",
					 copy->relation->relname)));
}

/* is nsp a distributed schema of Citus (schema-based sharding)? */
static bool
citus_schema(Oid nsp)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(nsp)};

	if (!OidIsValid(nsp) ||
		!OidIsValid(get_relname_relid("pg_dist_schema", PG_CATALOG_NAMESPACE)))
		return false;
	return tenancy_catalog_query(&plan,
								 "SELECT 1 FROM pg_catalog.pg_dist_schema s WHERE s.schemaid = $1",
								 1, argtypes, values, NULL, NULL, 0, NULL, 0) > 0;
}

/*
 * refuse_distributed_schema_move: ALTER TABLE ... SET SCHEMA of a protected
 * table into or out of a distributed schema of Citus.  Citus distributes a
 * table moved in (as a single-shard table whose shards carry its policies
 * as permissive ones: the wall opens, R7) and undistributes one moved out
 * (moving its rows as the caller under row security, so none move, and
 * dropping the original), from its own utility hook, which runs after this
 * one and calls no function the fmgr hook would see (1.3 attack)
 */
static void
refuse_distributed_schema_move(AlterObjectSchemaStmt *stmt)
{
	Oid			relid;

	if (stmt->relation == NULL || !citus_present() ||
		!OidIsValid(tenancy_catalog_namespace()))
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || !tenancy_ddl_is_protected(relid))
		return;
	if (!citus_schema(get_rel_namespace(relid)) &&
		!citus_schema(get_namespace_oid(stmt->newschema, true)))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to move protected table \"%s\" into or out of a distributed schema",
					get_rel_name(relid)),
			 errdetail("Citus would distribute the table with its policies turned permissive, or undistribute it, moving its rows under row security and dropping the protected table."),
			 errhint("Keep protected tables out of schemas distributed with Citus; distribute them with tenancy.distribute().")));
}

/*
 * tenancy_citus_guard_utility: refuse ALTER ROLE ... RENAME of a bound
 * reporting login or a member of tenancy_app in a database with Citus, and
 * under an identity a CALL of a distributed procedure and COPY of a
 * protected distributed table TO (from the utility hook, before the
 * statement runs)
 */
void
tenancy_citus_guard_utility(Node *parsetree)
{
	RenameStmt *stmt;
	Oid			role;

	if (IsA(parsetree, CopyStmt))
		refuse_copy_to((CopyStmt *) parsetree);

	if (IsA(parsetree, AlterObjectSchemaStmt))
		refuse_distributed_schema_move((AlterObjectSchemaStmt *) parsetree);

	/* CALL of a distributed procedure: Citus delegates it like a SELECT f() */
	if (IsA(parsetree, CallStmt) && ((CallStmt *) parsetree)->funcexpr != NULL &&
		tenancy_identity_is_set() && citus_present())
		refuse_delegated(((CallStmt *) parsetree)->funcexpr->funcid);
	if (!IsA(parsetree, RenameStmt) ||
		((RenameStmt *) parsetree)->renameType != OBJECT_ROLE)
		return;
	stmt = (RenameStmt *) parsetree;
	if (!citus_present())
		return;
	role = get_role_oid(stmt->subname, true);
	if (!OidIsValid(role) || !OidIsValid(tenancy_catalog_namespace()))
		return;
	if (tenancy_rights_binding(role) == 0 &&
		!(tenancy_catalog_has_role(role, "tenancy_app") && !superuser_arg(role)))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot rename role \"%s\" in a database with Citus", stmt->subname),
			 errdetail("Citus does not rename roles on its workers and connects to them by name: they would apply the role's reporting binding or accept its tokens for another role."),
			 errhint("Unbind the reporting login or revoke tenancy_app from the role first, or create a new role.")));
}
