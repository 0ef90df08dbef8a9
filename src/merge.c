/*-------------------------------------------------------------------------
 *
 * merge.c
 *	  MERGE reads its target through the read policy (R6, R7).
 *
 * PostgreSQL applies row security to a MERGE's target in two ways: the
 * USING expressions of the UPDATE and DELETE policies as checks of the
 * rows an action touches (an error, not a filter), and the SELECT
 * policies as a filter of the target's scan, but the latter only when the
 * statement needs SELECT on the target, that is when it reads one of its
 * columns.  A MERGE whose join condition names no column of the target
 * ("ON true") and whose actions are UPDATE or DELETE therefore joins every
 * row of every firm, walls included (the wall is a policy for all commands,
 * applied the same way): an action condition with a side effect
 * ("WHEN MATCHED AND nextval('n') < 0") counted another firm's rows, and
 * an action that reached one failed, which told that it exists (1.3
 * attack).
 *
 * So a MERGE into a protected table needs SELECT on it, as if it read a
 * column: the post-parse-analysis hook marks the target, and the rewriter
 * then adds the read and wall policies as the scan's filter, exactly as
 * for a MERGE that names a column.  A role without SELECT on the table gets
 * PostgreSQL's "permission denied" for MERGE (an application role has it;
 * a MERGE into rows it cannot read was never possible anyway).  A MERGE
 * analysed where the hook did not run and that reads no column of the
 * target is refused when it starts, by the executor hook: one analysed
 * before the library was loaded in the backend (accepted once prepared
 * again), and the stored body of a BEGIN ATOMIC function, which
 * PostgreSQL analyses without the hook (accepted once it names a column
 * of the target, or written as a string body).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "parser/parse_relation.h"
#include "parser/parsetree.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"

#include "tenancy.h"

static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;

static void merge_post_parse_analyze(TENANCY_POST_PARSE_ARGS);
static void mark_merge_targets(Query *query);
static void merge_executor_start(QueryDesc *queryDesc, int eflags);

/* the MERGE's target when it is a protected table, else NULL */
static RangeTblEntry *
protected_merge_target(CmdType command, Index result, List *rtable)
{
	RangeTblEntry *rte;

	if (command != CMD_MERGE || result == 0)
		return NULL;
	rte = rt_fetch(result, rtable);
	if (rte->rtekind != RTE_RELATION || tenancy_protected_column(rte->relid) == NULL)
		return NULL;
	return rte;
}

/* the MERGE statements of a query (EXPLAIN's, a WITH clause's too) need SELECT */
static void
mark_merge_targets(Query *query)
{
	RangeTblEntry *rte;
	ListCell   *lc;

	if (query->commandType == CMD_UTILITY && query->utilityStmt != NULL &&
		IsA(query->utilityStmt, ExplainStmt) &&
		IsA(((ExplainStmt *) query->utilityStmt)->query, Query))
		mark_merge_targets((Query *) ((ExplainStmt *) query->utilityStmt)->query);
	foreach(lc, query->cteList)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

		if (IsA(cte->ctequery, Query))
			mark_merge_targets((Query *) cte->ctequery);
	}
	rte = protected_merge_target(query->commandType, query->resultRelation, query->rtable);
	if (rte != NULL)
		TENANCY_REQUIRED_PERMS(TENANCY_QUERY_PERMINFOS(query), rte) |= ACL_SELECT;
}

static void
merge_post_parse_analyze(TENANCY_POST_PARSE_ARGS)
{
	if (prev_post_parse_analyze)
		prev_post_parse_analyze(TENANCY_POST_PARSE_PASS);
	mark_merge_targets(query);
}

/*
 * refuse a MERGE into a protected table planned without the filter.  The
 * statement's own target is the ModifyTable's nominal relation: a
 * partitioned table or an inheritance parent expands into result
 * relations that carry no privileges of their own (1.3 attack: every MERGE
 * into a partitioned table was refused when the leaves were checked).
 */
static void
merge_executor_start(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;

	if (stmt->commandType == CMD_MERGE && stmt->planTree != NULL &&
		IsA(stmt->planTree, ModifyTable))
	{
		RangeTblEntry *rte =
			protected_merge_target(CMD_MERGE,
								   ((ModifyTable *) stmt->planTree)->nominalRelation,
								   stmt->rtable);

		if (rte != NULL &&
			!(TENANCY_REQUIRED_PERMS(TENANCY_PLAN_PERMINFOS(stmt), rte) & ACL_SELECT))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("MERGE into protected table \"%s\" was planned without its read policy",
							get_rel_name(rte->relid)),
					 errdetail("It names no column of the table, and was analysed before tenancy was loaded in this session or as the body of a BEGIN ATOMIC function."),
					 errhint("Prepare the statement again; in a BEGIN ATOMIC function, name a column of the table in the join condition, or write the body as a string.")));
	}
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/* tenancy_merge_init: install the hooks (called from _PG_init) */
void
tenancy_merge_init(void)
{
	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = merge_post_parse_analyze;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = merge_executor_start;
}
