/*-------------------------------------------------------------------------
 *
 * planner.c
 *	  The planner's help for protected tables: an expression index serves
 *	  a search, the wall goes where a check implies it, the checks become
 *	  index conditions and, in a bitmap heap scan, rechecks.
 *
 * Under row security PostgreSQL evaluates a query's own conditions only
 * after the policies, unless they are leakproof.  A search such as
 * "lower(reference) = 'abc'" is not (lower() is not marked leakproof), so
 * it cannot become an index condition, and an expression index on
 * lower(reference) goes unused: the query reads every row the identity may
 * see and filters them.  That is the cliff hand-written row security falls
 * off.
 *
 * The set_rel_pathlist hook lets such a clause serve as an index condition
 * ("promotes" it) when
 *
 *	- the clause is "expr OP constant" (either side) with a leakproof
 *	  operator and a constant side free of Vars and volatile functions,
 *	- expr is exactly an expression column of one of the table's btree
 *	  indexes whose first column is the administration column, and every
 *	  function in expr is built in,
 *	- the table carries the tenancy policies (a table of the query, or a
 *	  partition or inheritance child of one, scanned under an Append:
 *	  scans_one_table), and
 *	- the query level is a plain SELECT without FOR UPDATE/SHARE (no
 *	  EvalPlanQual recheck can happen to this relation, see below).
 *
 * The invariant (R24): a promoted clause is never evaluated on a heap row.
 * It is only ever compared with the values stored in the index.  Were it
 * evaluated on a row, it would run before the policies (an index condition
 * precedes the filter) and an error such as "invalid input syntax for type
 * integer: <value>" would show a value of a row the identity may not read.
 * An index condition is evaluated on a heap row in exactly three places of
 * the executor, and each is excluded by construction:
 *
 *	1. A bitmap heap scan rechecks its original index conditions on every
 *	   row of a lossy page (and on rows the index AM flags for recheck),
 *	   whatever their administration.  The promoted round therefore
 *	   builds no bitmap path at all: during it the relation's index list
 *	   holds only btree indexes (those of the promoted expressions), each
 *	   with amhasgetbitmap switched off, so create_index_paths() can only
 *	   produce plain and index-only scans (serial or parallel).  Bitmap
 *	   paths come only from the ordinary round, where the clause is not
 *	   leakproof and stays in the filter, after the policies.
 *	2. An index scan rechecks its conditions on the heap tuple when the
 *	   index AM says the match is lossy (xs_recheck).  btree never does:
 *	   only btree indexes take part.  A partial index yields only rows its
 *	   predicate admitted, and their indexed values were computed, without
 *	   error, when they were inserted.
 *	3. EvalPlanQual rechecks a scan's conditions on a row's newest version
 *	   (UPDATE, DELETE, MERGE, SELECT FOR UPDATE/SHARE).  That version was
 *	   written by someone else and may lie outside the identity's rights.
 *	   The promoted round runs only for plain SELECT levels, which have no
 *	   row marks and so never recheck.
 *
 * The mark is cleared again right after the round (PG_FINALLY), together
 * with the index list and the AM flags; no other path changes.
 *
 * Counts (R24, R6).  An index condition is evaluated on index entries of
 * every firm, and how many it matched shows: in EXPLAIN ANALYZE ("Rows
 * Removed by Filter", when the checks filter the matches) and in the
 * statistics counters anyone may read (pg_stat_get_xact_tuples_returned).
 * Over an index of the expression alone, ranges searched one character at a
 * time rebuilt another firm's values from those counts (1.3 review).  So
 * the promoted round uses only indexes led by the administration column,
 * and in it no path without a condition on that column: btree's
 * amoptionalkey is switched off, which makes build_index_paths() require
 * one.  That condition is the check's exact one, the identity's
 * administrations (row_support), so the scan meets no other firm's entry.
 *
 * The same hook drops the wall (row_in_scope) from a scan's quals when a
 * qual of its own, row_readable or row_writable on the same column, implies
 * it: the scope cache sets a right only on administrations inside the wall
 * (visibility.c).  Only a top-level qual counts: when a later permissive
 * policy is OR'ed with the tenancy policy, the wall stays.  The read qual is
 * then often the whole filter, served exactly by the index, so a scan of
 * three administrations evaluates nothing per row.
 *
 * The planner support function of row_in_scope, row_readable and
 * row_writable (row_support) lives here too: it turns a read or write check
 * into an exact index condition and estimates its selectivity from the
 * identity's rights (visibility.c counts them).
 *
 * An index scan then drops the check from its filter (the condition is
 * exact), but createplan.c keeps it in a bitmap heap scan's filter: there
 * it drops a clause only when the index conditions contain it literally or
 * provably imply it, and a stable function is never proven.  The filter
 * would call the check on every row the bitmap yields, although the bitmap
 * holds only rows of the administrations the exact condition admitted.  So
 * the planner hook, after planning, moves such a check to the front of the
 * scan's recheck conditions when the bitmap's own index scans carry its
 * exact condition (one index scan, or an arm of a BitmapAnd: every row of
 * the bitmap passed it; never under a BitmapOr).  The recheck runs on the
 * rows of a lossy page, on those of an exact page the bitmap flags for
 * recheck (an index AM's lossy match, a BitmapAnd with a lossy arm) and in
 * EvalPlanQual, each time before the filter, so the check still precedes
 * every clause of the query on any row it has not admitted
 * (move_checks_to_recheck).  On an exact page a row is then admitted by
 * the list computed when the scan starts, as in an index scan: the
 * policies fix the visible scope when the executor starts (session.c).
 *
 * A query that names one administration ("administration_id = $1") gets
 * no list: its own equality is the better index condition, and the check
 * stays in the filter, called on every row, although it can only answer
 * one way for all of them.  The hook then folds the check into that
 * equality: "col = x" becomes "col = visible_administration(x, right)",
 * the id where the identity holds the right and NULL (no row) elsewhere,
 * which the executor evaluates once when the scan starts or restarts (an
 * index scan, or the index scan of a bitmap, whose recheck takes the check
 * as above; under a BitmapOr, every arm that pins the column, the recheck
 * only when all do).  The folded scan meets no entry of another firm's
 * administration, whose count would otherwise show (EXPLAIN ANALYZE, the
 * statistics counters).  A plan this hook does not see (made while the
 * library was loading, or by code calling standard_planner itself) gets
 * the folded condition from the support function instead, beside the
 * query's own equality (support_index_condition).  EvalPlanQual
 * evaluates the rewritten original form, which
 * carries the check, and so does an index scan of an index whose matches
 * need a recheck (hash), on each row (fold_pinned_check).  An index-only
 * scan's filter, which tests index tuples, is folded the same way.  As
 * with the list, the answer is the one of the moment the scan starts: an
 * identity changed by a function halfway through a statement applies from
 * the scan's next start (a nested loop's next inner scan).
 *
 * All of them find tenancy's functions by OID.  The OIDs are looked up once per
 * backend and kept until a change of pg_proc (a syscache callback, which
 * only clears a flag): DROP and CREATE EXTENSION give the functions new
 * OIDs, and the next planning looks them up again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/stratnum.h"
#include "access/transam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "optimizer/planner.h"
#include "parser/parse_coerce.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "tenancy.h"

static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;
static planner_hook_type prev_planner_hook = NULL;

/*
 * plannings under way inside tenancy_planner, whose plans it will post-
 * process (support_index_condition leaves a pinned column to it then)
 */
static int	hook_planning = 0;

/* OIDs of tenancy's functions, InvalidOid when missing (see file header) */
typedef struct TenancyPlannerFunctions
{
	Oid			row_in_scope;
	Oid			row_readable;
	Oid			row_writable;
	Oid			visible_administrations;
	Oid			visible_administrations_at_scan;	/* InvalidOid before 1.3 */
	Oid			visible_administration; /* InvalidOid before 1.3 */
} TenancyPlannerFunctions;

/*
 * Up to this many administrations the index condition's list is one the
 * planner computes and estimates element by element (support_index_condition)
 */
#define ESTIMATED_LIST_MAX	32

static TenancyPlannerFunctions functions;
static bool functions_valid = false;

static void tenancy_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel,
									 Index rti, RangeTblEntry *rte);
static bool scans_one_table(RelOptInfo *rel, RangeTblEntry *rte);
static AttrNumber wall_column(RelOptInfo *rel);
static void drop_implied_wall(PlannerInfo *root, RelOptInfo *rel);
static bool checked_by_right(List *quals, Node *column, Index query_level);
static void functions_invalidate(Datum arg, int cacheid, uint32 hashvalue);
static const TenancyPlannerFunctions *tenancy_functions(void);
static Node *pinned_value(List *restrictinfo, Node *column, Oid opfamily);
static Node *support_index_condition(SupportRequestIndexCondition *req);
static double administrations_in_catalog(void);
static Node *support_selectivity(SupportRequestSelectivity *req);
static bool promotion_allowed(PlannerInfo *root);
static List *btree_indexes_serving(RelOptInfo *rel, Expr *clause,
								   AttrNumber administration_column);
static void create_promoted_index_paths(PlannerInfo *root, RelOptInfo *rel,
										List *promoted, List *indexes);
static bool only_builtin_functions(Node *node);
static bool builtin_walker(Node *node, void *context);
static bool builtin_oid(Oid func_id, void *context);
static PlannedStmt *tenancy_planner(Query *parse, const char *query_string,
									int cursorOptions, ParamListInfo boundParams);
static void take_checks_out_of_filters(Plan *plan, PlannedStmt *stmt);
static void fold_checks_into_index_scan(Plan *scan, List *indexqual,
										List *indexqualorig, Oid indexid,
										PlannedStmt *stmt);
static void move_checks_to_recheck(BitmapHeapScan *scan, PlannedStmt *stmt);
static bool is_check(Node *qual);
static bool has_check(List *quals);
static bool fold_pinned_check(FuncExpr *check, List *indexqual,
							  List *indexqualorig, Oid indexid);
static bool same_column(Node *a, Node *b);
static bool fold_into_bitmap(Plan *bitmap, FuncExpr *check);
static Oid	bigint_equality(OpExpr *cond, Oid indexid, AttrNumber column);
static Node *as_bigint(Node *value);
static FuncExpr *admitted_if_visible(Node *value, const char *right);
static bool is_admitted_condition(Node *node, FuncExpr *check, const char *right);
static OpExpr *equality(Oid eq_op, Node *left, Node *right);
static void depend_on_function(PlannedStmt *stmt, Oid funcid);
static List *exact_index_conditions(Plan *bitmap);
static bool carries_exact_condition(List *conditions, FuncExpr *check);

/*
 * tenancy_planner_init: install the hook (called from _PG_init)
 */
void
tenancy_planner_init(void)
{
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = tenancy_set_rel_pathlist;
	prev_planner_hook = planner_hook;
	planner_hook = tenancy_planner;
	CacheRegisterSyscacheCallback(PROCOID, functions_invalidate, (Datum) 0);
}

/* a change of pg_proc: look the functions up again at the next use */
static void
functions_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	functions_valid = false;
}

/* tenancy's functions, looked up after each change of pg_proc */
static const TenancyPlannerFunctions *
tenancy_functions(void)
{
	if (!functions_valid)
	{
		/* valid first: a callback during the lookups makes us look again */
		static const Oid bigint_arg[] = {INT8OID};
		static const Oid text_arg[] = {TEXTOID};
		static const Oid bigint_text_args[] = {INT8OID, TEXTOID};

		functions_valid = true;
		functions.row_in_scope = tenancy_catalog_function("row_in_scope", 1, bigint_arg);
		functions.row_readable = tenancy_catalog_function("row_readable", 1, bigint_arg);
		functions.row_writable = tenancy_catalog_function("row_writable", 1, bigint_arg);
		functions.visible_administrations =
			tenancy_catalog_function("visible_administrations", 1, text_arg);
		functions.visible_administrations_at_scan =
			tenancy_catalog_function("visible_administrations_at_scan", 1, text_arg);
		functions.visible_administration =
			tenancy_catalog_function("visible_administration", 2, bigint_text_args);
	}
	return &functions;
}

static void
tenancy_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
						 RangeTblEntry *rte)
{
	List	   *promoted = NIL;
	List	   *indexes = NIL;
	AttrNumber	administration_column;
	ListCell   *lc;

	if (prev_set_rel_pathlist_hook)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);

	if (!scans_one_table(rel, rte))
		return;
	administration_column = wall_column(rel);
	if (administration_column == InvalidAttrNumber)
		return;

	drop_implied_wall(root, rel);
	if (rel->indexlist == NIL || !promotion_allowed(root))
		return;

	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		List	   *serving;

		if (rinfo->leakproof || rinfo->pseudoconstant ||
			rinfo->security_level <= rel->baserestrict_min_security)
			continue;
		serving = btree_indexes_serving(rel, rinfo->clause, administration_column);
		if (serving != NIL)
		{
			promoted = lappend(promoted, rinfo);
			indexes = list_concat_unique_ptr(indexes, serving);
			list_free(serving);
		}
	}
	if (promoted != NIL)
		create_promoted_index_paths(root, rel, promoted, indexes);
	list_free(indexes);
	list_free(promoted);
}

/*
 * tenancy_planner: plan, then take the read and write checks out of the
 * filters of index and bitmap heap scans where the index conditions admit
 * only rows that pass them (see the file header)
 */
static PlannedStmt *
tenancy_planner(Query *parse, const char *query_string, int cursorOptions,
				ParamListInfo boundParams)
{
	PlannedStmt *stmt;
	ListCell   *lc;

	/* what a request left on the connection runs no code here (session.c) */
	tenancy_session_check_plan(parse, query_string);
	/*
	 * nothing for parallel workers while a materialized view is filled: a
	 * worker would run the plan's functions out of sight of the fill's
	 * guard (ddl.c), whatever the settings say
	 */
	if (tenancy_ddl_matview_filling())
		cursorOptions &= ~CURSOR_OPT_PARALLEL_OK;
	hook_planning++;
	PG_TRY();
	{
		if (prev_planner_hook)
			stmt = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
		else
			stmt = standard_planner(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		hook_planning--;
	}
	PG_END_TRY();
	take_checks_out_of_filters(stmt->planTree, stmt);
	foreach(lc, stmt->subplans)
		take_checks_out_of_filters((Plan *) lfirst(lc), stmt);
	return stmt;
}

/*
 * take_checks_out_of_filters: visit every index, index-only and bitmap
 * heap scan of a plan tree.  A node kind not walked here only keeps its
 * checks in the filter.
 */
static void
take_checks_out_of_filters(Plan *plan, PlannedStmt *stmt)
{
	ListCell   *lc;
	List	   *children = NIL;

	if (plan == NULL)
		return;
	check_stack_depth();
	if (IsA(plan, BitmapHeapScan))
		move_checks_to_recheck((BitmapHeapScan *) plan, stmt);
	else if (IsA(plan, IndexScan))
		fold_checks_into_index_scan(plan, ((IndexScan *) plan)->indexqual,
									((IndexScan *) plan)->indexqualorig,
									((IndexScan *) plan)->indexid, stmt);
	else if (IsA(plan, IndexOnlyScan))
		fold_checks_into_index_scan(plan, ((IndexOnlyScan *) plan)->indexqual,
									((IndexOnlyScan *) plan)->recheckqual,
									((IndexOnlyScan *) plan)->indexid, stmt);
	take_checks_out_of_filters(plan->lefttree, stmt);
	take_checks_out_of_filters(plan->righttree, stmt);
	if (IsA(plan, Append))
		children = ((Append *) plan)->appendplans;
	else if (IsA(plan, MergeAppend))
		children = ((MergeAppend *) plan)->mergeplans;
	else if (IsA(plan, SubqueryScan))
		take_checks_out_of_filters(((SubqueryScan *) plan)->subplan, stmt);
	else if (IsA(plan, CustomScan))
		children = ((CustomScan *) plan)->custom_plans;
	foreach(lc, children)
		take_checks_out_of_filters((Plan *) lfirst(lc), stmt);
}

/* is the qual a call of row_readable or row_writable (of one argument)? */
static bool
is_check(Node *qual)
{
	const TenancyPlannerFunctions *fn = tenancy_functions();
	FuncExpr   *f = (FuncExpr *) qual;

	return IsA(f, FuncExpr) && OidIsValid(f->funcid) &&
		(f->funcid == fn->row_readable || f->funcid == fn->row_writable) &&
		list_length(f->args) == 1;
}

/* does the filter call a check at its top level? */
static bool
has_check(List *quals)
{
	ListCell   *lc;

	foreach(lc, quals)
		if (is_check(lfirst(lc)))
			return true;
	return false;
}

/*
 * fold_checks_into_index_scan: a check of an index or index-only scan's
 * filter on a column its index condition pins to one value leaves the
 * filter; the condition takes it (fold_pinned_check).  indexqualorig is
 * the conditions in the form of the filter: the heap's columns for an
 * index scan, the index's for an index-only scan.
 */
static void
fold_checks_into_index_scan(Plan *scan, List *indexqual, List *indexqualorig,
							Oid indexid, PlannedStmt *stmt)
{
	Oid			function = tenancy_functions()->visible_administration;
	List	   *kept = NIL;
	bool		folded = false;
	ListCell   *lc;

	if (!OidIsValid(function) || !has_check(scan->qual))
		return;					/* a 1.2 catalog, or nothing to fold */
	foreach(lc, scan->qual)
	{
		Node	   *qual = (Node *) lfirst(lc);

		if (is_check(qual) &&
			fold_pinned_check((FuncExpr *) qual, indexqual,
							  indexqualorig, indexid))
			folded = true;
		else
			kept = lappend(kept, qual);
	}
	if (!folded)
	{
		list_free(kept);
		return;
	}
	scan->qual = kept;
	depend_on_function(stmt, function);
}

/*
 * move_checks_to_recheck: a read or write check of the scan's filter goes
 * to the front of the recheck conditions, in the filter's order, when the
 * bitmap carries its exact condition, or when the bitmap's index scan pins
 * the checked column to one value and takes the check into its condition
 * (fold_pinned_check)
 */
static void
move_checks_to_recheck(BitmapHeapScan *scan, PlannedStmt *stmt)
{
	Oid			function = tenancy_functions()->visible_administration;
	List	   *conditions;
	List	   *moved = NIL;
	List	   *kept = NIL;
	ListCell   *lc;

	if (!has_check(scan->scan.plan.qual))
		return;
	conditions = exact_index_conditions(scan->scan.plan.lefttree);
	foreach(lc, scan->scan.plan.qual)
	{
		Node	   *qual = (Node *) lfirst(lc);

		if (!is_check(qual))
			kept = lappend(kept, qual);
		else if (carries_exact_condition(conditions, (FuncExpr *) qual))
			moved = lappend(moved, qual);
		else if (OidIsValid(function) &&
				 fold_into_bitmap(scan->scan.plan.lefttree, (FuncExpr *) qual))
			moved = lappend(moved, qual);
		else
			kept = lappend(kept, qual);
	}
	list_free(conditions);
	/* an arm of a BitmapOr may be folded although the check stays */
	if (OidIsValid(function))
		depend_on_function(stmt, function);
	if (moved == NIL)
	{
		list_free(kept);
		return;
	}
	scan->bitmapqualorig = list_concat(moved, scan->bitmapqualorig);
	scan->scan.plan.qual = kept;
}

/*
 * fold_into_bitmap: fold the check into the condition of the bitmap's index
 * scan that pins the checked column; under a BitmapAnd into one such arm
 * (every row of the bitmap passed each arm), under a BitmapOr into every
 * arm that pins it.  True when every row of the bitmap passed a folded
 * condition: under a BitmapOr, only when every arm was folded.  Folding an
 * arm is right whatever the others do ("col = x AND check" admits exactly
 * the rows of "col = visible_administration(x)"), and it keeps the arm
 * from meeting another firm's entries of x (1.3 review: a query's own OR
 * made a BitmapOr whose arms counted them).
 */
static bool
fold_into_bitmap(Plan *bitmap, FuncExpr *check)
{
	ListCell   *lc;
	bool		all = true;

	if (bitmap == NULL)
		return false;
	if (IsA(bitmap, BitmapIndexScan))
	{
		BitmapIndexScan *arm = (BitmapIndexScan *) bitmap;

		return fold_pinned_check(check, arm->indexqual, arm->indexqualorig,
								 arm->indexid);
	}
	if (IsA(bitmap, BitmapAnd))
	{
		foreach(lc, ((BitmapAnd *) bitmap)->bitmapplans)
			if (fold_into_bitmap((Plan *) lfirst(lc), check))
				return true;
		return false;
	}
	if (IsA(bitmap, BitmapOr))
	{
		foreach(lc, ((BitmapOr *) bitmap)->bitmapplans)
			if (!fold_into_bitmap((Plan *) lfirst(lc), check))
				all = false;
		return all;
	}
	return false;
}

/*
 * fold_pinned_check: when an index condition pins the checked column to one
 * value x ("col = x", x free of the scan's own columns: a constant, a
 * parameter, an outer row's value), "col = x AND check(col)" holds for a
 * row exactly when "col = visible_administration(x, right)" does: the check
 * can only answer one way for the rows the condition admits.  Rewrite the
 * condition so (both forms, which setrefs.c keeps in step) and say so.  The
 * executor then evaluates the check once when the scan starts or restarts,
 * with x, instead of on every row; EvalPlanQual and a bitmap's recheck
 * evaluate the original form, which now carries the check.
 *
 * The column's equality must be bigint equality of the index column's
 * operator family (int8 = int8, int8 = int4, int8 = int2, the integer
 * family's); x is then compared as a bigint.
 */
static bool
fold_pinned_check(FuncExpr *check, List *indexqual,
				  List *indexqualorig, Oid indexid)
{
	/* before any lookup below, which may see pg_proc change */
	const char *right = check->funcid == tenancy_functions()->row_writable ?
		"write" : "read";
	Node	   *column = linitial(check->args);
	ListCell   *lc;
	ListCell   *lc2;

	forboth(lc, indexqual, lc2, indexqualorig)
	{
		OpExpr	   *cond = (OpExpr *) lfirst(lc);
		OpExpr	   *orig = (OpExpr *) lfirst(lc2);
		Var		   *indexcol;
		Node	   *value;
		Oid			eq_op;
		FuncExpr   *admitted;

		if (!IsA(cond, OpExpr) || !IsA(orig, OpExpr) ||
			list_length(cond->args) != 2 || list_length(orig->args) != 2 ||
			!IsA(linitial(cond->args), Var) ||
			(!same_column(linitial(orig->args), column) &&
			 !same_column(lsecond(orig->args), column)))
			continue;
		set_opfuncid(cond);
		if (cond->opfuncid != F_INT8EQ && cond->opfuncid != F_INT84EQ &&
			cond->opfuncid != F_INT82EQ)
			continue;
		indexcol = (Var *) linitial(cond->args);
		value = lsecond(cond->args);
		if (indexcol->varno != INDEX_VAR || contain_var_clause(value) ||
			contain_volatile_functions(value))
			continue;
		eq_op = bigint_equality(cond, indexid, indexcol->varattno);
		if (!OidIsValid(eq_op))
			continue;
		value = as_bigint(value);
		if (value == NULL)
			continue;
		admitted = admitted_if_visible(value, right);
		lfirst(lc) = equality(eq_op, (Node *) indexcol, (Node *) admitted);
		lfirst(lc2) = equality(eq_op, copyObject(column),
							   (Node *) copyObject(admitted));
		return true;
	}
	return false;
}

/*
 * admitted_if_visible: "visible_administration(value, right)", the value
 * (a bigint) where the identity holds the right, NULL elsewhere
 */
static FuncExpr *
admitted_if_visible(Node *value, const char *right)
{
	return makeFuncExpr(tenancy_functions()->visible_administration, INT8OID,
						list_make2(value,
								   makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
											 CStringGetTextDatum(right),
											 false, false)),
						InvalidOid, DEFAULT_COLLATION_OID,
						COERCE_EXPLICIT_CALL);
}

/*
 * bigint_equality: the bigint equality to compare the index column with a
 * bigint instead of the condition's own operator: the operator itself
 * when it is one (it is in the column's operator family, or it would not
 * be an index condition), otherwise the family's bigint member of the same
 * strategy; InvalidOid when the family has none
 */
static Oid
bigint_equality(OpExpr *cond, Oid indexid, AttrNumber column)
{
	Oid			opfamily;
	int			strategy;
	Oid			eq_op;

	if (cond->opfuncid == F_INT8EQ)
		return cond->opno;
	opfamily = get_opclass_family(get_index_column_opclass(indexid, column));
	strategy = get_op_opfamily_strategy(cond->opno, opfamily);
	eq_op = strategy == 0 ? InvalidOid :
		get_opfamily_member(opfamily, INT8OID, INT8OID, strategy);
	if (!OidIsValid(eq_op) || get_opcode(eq_op) != F_INT8EQ)
		return InvalidOid;
	return eq_op;
}

/*
 * as_bigint: a copy of an integer expression as a bigint (a constant cast
 * at once), or NULL
 */
static Node *
as_bigint(Node *value)
{
	Oid			type = exprType(value);

	if (type == INT8OID)
		return copyObject(value);
	if (IsA(value, Const) && (type == INT4OID || type == INT2OID))
	{
		Const	   *c = (Const *) value;
		int64		v = c->constisnull ? 0 :
			type == INT4OID ? DatumGetInt32(c->constvalue) : DatumGetInt16(c->constvalue);

		return (Node *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
								  Int64GetDatum(v), c->constisnull, FLOAT8PASSBYVAL);
	}
	return coerce_to_target_type(NULL, copyObject(value), type, INT8OID, -1,
								 COERCION_IMPLICIT, COERCE_IMPLICIT_CAST, -1);
}

/* "left = right" with the bigint equality eq_op (int8eq) */
static OpExpr *
equality(Oid eq_op, Node *left, Node *right)
{
	OpExpr	   *op = (OpExpr *) make_opclause(eq_op, BOOLOID, false,
											 (Expr *) left, (Expr *) right,
											 InvalidOid, InvalidOid);

	op->opfuncid = F_INT8EQ;
	return op;
}

/*
 * same_column: are the two expressions the same column?  Two Vars are when
 * they name the same relation's same attribute at the same level, whatever
 * the names they were written with (varnosyn and varattnosyn differ for a
 * column reached through a join's USING, and equal() compares them)
 */
static bool
same_column(Node *a, Node *b)
{
	if (IsA(a, Var) && IsA(b, Var))
		return ((Var *) a)->varno == ((Var *) b)->varno &&
			((Var *) a)->varattno == ((Var *) b)->varattno &&
			((Var *) a)->varlevelsup == ((Var *) b)->varlevelsup;
	return equal(a, b);
}

/*
 * depend_on_function: a plan that calls the function is planned again when
 * it changes (as setrefs.c records the functions a plan calls; this one
 * came after it)
 */
static void
depend_on_function(PlannedStmt *stmt, Oid funcid)
{
	uint32		hash = GetSysCacheHashValue1(PROCOID, ObjectIdGetDatum(funcid));
	PlanInvalItem *item;
	ListCell   *lc;

	foreach(lc, stmt->invalItems)
	{
		item = (PlanInvalItem *) lfirst(lc);
		if (item->cacheId == PROCOID && item->hashValue == hash)
			return;				/* once, not once per folded scan */
	}
	item = makeNode(PlanInvalItem);
	item->cacheId = PROCOID;
	item->hashValue = hash;
	stmt->invalItems = lappend(stmt->invalItems, item);
}

/*
 * exact_index_conditions: the conditions every row of the bitmap satisfies
 * (original form, Vars of the heap): those of a bitmap index scan, or of
 * the index scans that are arms of a BitmapAnd.  Nothing under a BitmapOr.
 */
static List *
exact_index_conditions(Plan *bitmap)
{
	List	   *conditions = NIL;
	ListCell   *lc;

	if (bitmap == NULL)
		return NIL;
	if (IsA(bitmap, BitmapIndexScan))
		return list_copy(((BitmapIndexScan *) bitmap)->indexqualorig);
	if (IsA(bitmap, BitmapAnd))
		foreach(lc, ((BitmapAnd *) bitmap)->bitmapplans)
		{
			Plan	   *arm = (Plan *) lfirst(lc);

			if (IsA(arm, BitmapIndexScan))
				conditions = list_concat(conditions,
										 ((BitmapIndexScan *) arm)->indexqualorig);
		}
	return conditions;
}

/*
 * is_admitted_condition: is node "col = visible_administration(x, right)",
 * with the check's own argument and right, as support_index_condition
 * builds it for a pinned column and fold_pinned_check folds it?
 */
static bool
is_admitted_condition(Node *node, FuncExpr *check, const char *right)
{
	OpExpr	   *op = (OpExpr *) node;
	FuncExpr   *admitted;
	Const	   *arg;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2)
		return false;
	set_opfuncid(op);
	if (op->opfuncid != F_INT8EQ ||
		!same_column(linitial(op->args), linitial(check->args)) ||
		!IsA(lsecond(op->args), FuncExpr))
		return false;
	admitted = (FuncExpr *) lsecond(op->args);
	if (admitted->funcid != tenancy_functions()->visible_administration ||
		!OidIsValid(admitted->funcid) || list_length(admitted->args) != 2 ||
		!IsA(lsecond(admitted->args), Const))
		return false;
	arg = (Const *) lsecond(admitted->args);
	return arg->consttype == TEXTOID && !arg->constisnull &&
		strcmp(TextDatumGetCString(arg->constvalue), right) == 0;
}

/*
 * carries_exact_condition: is a condition support_index_condition builds
 * for this check among the conditions?  "col = ANY (f(right))" with the
 * check's own argument, bigint equality, f one of the list functions and
 * right the check's, or "col = visible_administration(x, right)" for a
 * pinned column.
 */
static bool
carries_exact_condition(List *conditions, FuncExpr *check)
{
	const TenancyPlannerFunctions *fn = tenancy_functions();
	const char *right = check->funcid == fn->row_writable ? "write" : "read";
	ListCell   *lc;

	if (list_length(check->args) != 1)
		return false;
	foreach(lc, conditions)
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) lfirst(lc);
		FuncExpr   *list;
		Const	   *arg;

		if (is_admitted_condition((Node *) saop, check, right))
			return true;
		if (!IsA(saop, ScalarArrayOpExpr) || !saop->useOr ||
			saop->opfuncid != F_INT8EQ || list_length(saop->args) != 2 ||
			!same_column(linitial(saop->args), linitial(check->args)) ||
			!IsA(lsecond(saop->args), FuncExpr))
			continue;
		list = (FuncExpr *) lsecond(saop->args);
		if ((list->funcid != fn->visible_administrations &&
			 list->funcid != fn->visible_administrations_at_scan) ||
			!OidIsValid(list->funcid) || list_length(list->args) != 1 ||
			!IsA(linitial(list->args), Const))
			continue;
		arg = (Const *) linitial(list->args);
		if (arg->consttype == TEXTOID && !arg->constisnull &&
			strcmp(TextDatumGetCString(arg->constvalue), right) == 0)
			return true;
	}
	return false;
}

/*
 * scans_one_table: is the relation one table of the query, scanned by its
 * own paths?  A table named in the query, or a partition or inheritance
 * child of one, which the planner scans on its own under an Append: the
 * child carries the parent's policies (translated to its columns) as its
 * own quals, so the wall, the checks and the promotion apply to it as to
 * a table named alone.  Not the parent of an Append itself (its children
 * are visited), not a relation proven empty, and not a sampled one: a
 * TABLESAMPLE scan is its only path, and an index path added beside it
 * would return every matching row instead of a sample.
 */
static bool
scans_one_table(RelOptInfo *rel, RangeTblEntry *rte)
{
	if (rte->rtekind != RTE_RELATION || rte->inh ||
		rte->relkind != RELKIND_RELATION || rte->tablesample != NULL)
		return false;
	if (IS_DUMMY_REL(rel))
		return false;
	return rel->reloptkind == RELOPT_BASEREL ||
		rel->reloptkind == RELOPT_OTHER_MEMBER_REL;
}

/*
 * promotion_allowed: may this query level promote clauses at all?  Only a
 * plain SELECT without row marks: no EvalPlanQual recheck can evaluate an
 * index condition on a row version the policies have not passed (case 3 of
 * the file header).
 */
static bool
promotion_allowed(PlannerInfo *root)
{
	return root->parse->commandType == CMD_SELECT && root->rowMarks == NIL;
}

/*
 * create_promoted_index_paths: one more round of index paths with the
 * promoted clauses marked leakproof, over the btree indexes that have a
 * promoted clause's expression as a key column, with bitmap scans switched
 * off (cases 1 and 2 of the file header).  Only those: a promoted clause can
 * be an index condition on no other index, so there the round would only
 * build the ordinary round's plain and index-only paths again, for add_path
 * to discard (the cost of estimating their conditions once more, ~50,000
 * instructions for a search on a table of four indexes).  Every change to
 * the planner's structures is undone before returning.
 */
static void
create_promoted_index_paths(PlannerInfo *root, RelOptInfo *rel, List *promoted,
							List *btree_indexes)
{
	List	   *all_indexes = rel->indexlist;
	bool	   *had_bitmap = palloc(sizeof(bool) * list_length(btree_indexes));
	bool	   *had_optionalkey = palloc(sizeof(bool) * list_length(btree_indexes));
	ListCell   *lc;

	foreach(lc, btree_indexes)
	{
		had_bitmap[foreach_current_index(lc)] =
			((IndexOptInfo *) lfirst(lc))->amhasgetbitmap;
		had_optionalkey[foreach_current_index(lc)] =
			((IndexOptInfo *) lfirst(lc))->amoptionalkey;
	}
	PG_TRY();
	{
		/*
		 * No bitmap paths (case 1 of the file header), and no path without
		 * a condition on the first column, the administration column (see
		 * btree_indexes_serving): btree's amoptionalkey is true, and false
		 * makes build_index_paths() require one.
		 */
		foreach(lc, btree_indexes)
		{
			((IndexOptInfo *) lfirst(lc))->amhasgetbitmap = false;
			((IndexOptInfo *) lfirst(lc))->amoptionalkey = false;
		}
		foreach(lc, promoted)
			((RestrictInfo *) lfirst(lc))->leakproof = true;
		rel->indexlist = btree_indexes;
		create_index_paths(root, rel);
	}
	PG_FINALLY();
	{
		rel->indexlist = all_indexes;
		foreach(lc, btree_indexes)
		{
			((IndexOptInfo *) lfirst(lc))->amhasgetbitmap =
				had_bitmap[foreach_current_index(lc)];
			((IndexOptInfo *) lfirst(lc))->amoptionalkey =
				had_optionalkey[foreach_current_index(lc)];
		}
		foreach(lc, promoted)
			((RestrictInfo *) lfirst(lc))->leakproof = false;
	}
	PG_END_TRY();
	pfree(had_bitmap);
	pfree(had_optionalkey);
}

/*
 * drop_implied_wall: remove the wall qual when a top-level read or write
 * qual on the same column implies it (see the file header)
 */
static void
drop_implied_wall(PlannerInfo *root, RelOptInfo *rel)
{
	const TenancyPlannerFunctions *fn = tenancy_functions();
	RestrictInfo *wall_rinfo = NULL;
	Oid			wall = fn->row_in_scope;
	Node	   *column;
	List	   *quals;
	ListCell   *lc;

	if (rel->baserestrictinfo == NIL || rel->baserestrict_min_security == UINT_MAX)
		return;
	if (!OidIsValid(wall))
		return;
	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (IsA(rinfo->clause, FuncExpr) &&
			((FuncExpr *) rinfo->clause)->funcid == wall)
			wall_rinfo = rinfo;
	}
	if (wall_rinfo == NULL)
		return;
	column = linitial(((FuncExpr *) wall_rinfo->clause)->args);
	if (!checked_by_right(rel->baserestrictinfo, column, root->qual_security_level))
		return;
	quals = rel->baserestrictinfo;
	rel->baserestrictinfo = list_delete_ptr(quals, wall_rinfo);

	/*
	 * A scan of a partial index takes its quals from the index's own list
	 * (the relation's less those its predicate implies, see
	 * check_index_predicates), not from the relation's: drop the wall there
	 * too.  An index without a predicate shares the relation's list.
	 */
	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *index = lfirst_node(IndexOptInfo, lc);

		if (index->indrestrictinfo == quals)
			index->indrestrictinfo = rel->baserestrictinfo;
		else if (checked_by_right(index->indrestrictinfo, column,
								  root->qual_security_level))
			index->indrestrictinfo = list_delete_ptr(index->indrestrictinfo,
													 wall_rinfo);
	}
}

/*
 * checked_by_right: does a top-level qual of the list (a relation's or an
 * index's restriction clauses), row_readable or row_writable, check the
 * column as a policy, below the query's own security level?  Then it
 * implies the wall on the column.  The same call written in the query
 * itself runs at the query's level, after the policies, and implies
 * nothing about what they let through.
 */
static bool
checked_by_right(List *quals, Node *column, Index query_level)
{
	const TenancyPlannerFunctions *fn = tenancy_functions();
	ListCell   *lc;

	foreach(lc, quals)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		FuncExpr   *f = (FuncExpr *) rinfo->clause;

		if (rinfo->security_level < query_level && IsA(f, FuncExpr) &&
			(f->funcid == fn->row_readable || f->funcid == fn->row_writable) &&
			same_column(linitial(f->args), column))
			return true;
	}
	return false;
}

/*
 * wall_column: the column of the tenancy wall among the relation's security
 * quals (the administration column), or InvalidAttrNumber when it carries
 * no wall
 */
static AttrNumber
wall_column(RelOptInfo *rel)
{
	Oid			wall = tenancy_functions()->row_in_scope;
	ListCell   *lc;

	if (!OidIsValid(wall))
		return InvalidAttrNumber;
	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (rinfo->security_level == rel->baserestrict_min_security &&
			IsA(rinfo->clause, FuncExpr) &&
			((FuncExpr *) rinfo->clause)->funcid == wall)
		{
			Node	   *arg = linitial(((FuncExpr *) rinfo->clause)->args);

			return IsA(arg, Var) ? ((Var *) arg)->varattno : InvalidAttrNumber;
		}
	}
	return InvalidAttrNumber;
}

/*
 * btree_indexes_serving: when the clause is "expr OP constant" with a
 * leakproof operator and expr is built of built-in functions only, the
 * relation's btree indexes (with amgettuple) led by the administration
 * column that have exactly expr as a later expression key column (see
 * "Counts" in the file header); NIL when there is none or the clause is not
 * such
 */
static List *
btree_indexes_serving(RelOptInfo *rel, Expr *clause, AttrNumber administration_column)
{
	List	   *serving = NIL;
	OpExpr	   *op;
	Node	   *left;
	Node	   *right;
	Node	   *indexed;
	Node	   *constant;
	ListCell   *lc;

	if (!IsA(clause, OpExpr) || list_length(((OpExpr *) clause)->args) != 2)
		return NIL;
	op = (OpExpr *) clause;
	set_opfuncid(op);
	if (!get_func_leakproof(op->opfuncid))
		return NIL;

	left = linitial(op->args);
	right = lsecond(op->args);
	if (!contain_var_clause(right))
	{
		indexed = left;
		constant = right;
	}
	else if (!contain_var_clause(left))
	{
		indexed = right;
		constant = left;
	}
	else
		return NIL;
	if (contain_volatile_functions(constant) || !only_builtin_functions(indexed))
		return NIL;

	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *index = lfirst_node(IndexOptInfo, lc);
		int			col;

		if (index->relam != BTREE_AM_OID || !index->amhasgettuple ||
			index->indexkeys[0] != administration_column)
			continue;
		for (col = 1; col < index->nkeycolumns; col++)
			if (index->indexkeys[col] == 0 &&
				match_index_to_operand(indexed, col, index))
			{
				serving = lappend(serving, index);
				break;
			}
	}
	return serving;
}

static bool
builtin_oid(Oid func_id, void *context)
{
	return func_id >= FirstNormalObjectId;	/* true means "not allowed" */
}

static bool
builtin_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, builtin_oid, context))
		return true;
	return expression_tree_walker(node, builtin_walker, context);
}

static bool
only_builtin_functions(Node *node)
{
	return !builtin_walker(node, NULL);
}

/*
 * pinned_value: the value a restriction among restrictinfo (a relation's, or
 * those an index may use) compares the column with for equality (in the
 * index's operator family, or with any equality operator for InvalidOid),
 * when it is constant during the scan; NULL when none pins the column
 */
static Node *
pinned_value(List *restrictinfo, Node *column, Oid opfamily)
{
	ListCell   *lc;

	foreach(lc, restrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		OpExpr	   *op = (OpExpr *) rinfo->clause;
		Node	   *left;
		Node	   *right;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2)
			continue;
		/* an equality: of the index's family (btree, hash, ...), or any */
		if ((OidIsValid(opfamily) && !op_in_opfamily(op->opno, opfamily)) ||
			get_oprrest(op->opno) != F_EQSEL)
			continue;
		left = strip_implicit_coercions(linitial(op->args));
		right = strip_implicit_coercions(lsecond(op->args));
		if (same_column(left, column) && !contain_var_clause(right) &&
			!contain_volatile_functions(right))
			return lsecond(op->args);
		if (same_column(right, column) && !contain_var_clause(left) &&
			!contain_volatile_functions(left))
			return linitial(op->args);
	}
	return NULL;
}

/*
 * support_index_condition: "f(col)" as "col = ANY (visible_administrations(r))"
 * for the read and write checks, or NULL.
 *
 * The planner estimates "col = ANY (array)" element by element, after
 * evaluating a stable function to get the array: planning a statement
 * would cost time in proportion to the identity's administrations (27 ms
 * for 20,000, 0.03 ms for 3).  Beyond ESTIMATED_LIST_MAX administrations the
 * condition takes the list from visible_administrations_at_scan, the same
 * function marked VOLATILE, which the planner leaves alone and estimates as
 * ten elements: the index scan is then costed as if for ten
 * administrations, which keeps it the choice it is for a list that long,
 * while the rows the scan returns are estimated from the check's own
 * selectivity (support_selectivity), which counts the rights without
 * listing them.  The executor computes the list once per index scan either
 * way, for whoever runs the plan.  Before 1.3 the stable function is used.
 */
static Node *
support_index_condition(SupportRequestIndexCondition *req)
{
	const TenancyPlannerFunctions *fn = tenancy_functions();
	FuncExpr   *fexpr = (FuncExpr *) req->node;
	const char *right;
	FuncExpr   *array_expr;
	ScalarArrayOpExpr *saop;
	Oid			eq_op;
	int			bit;
	Oid			list_function;
	Node	   *pinned;

	if (!IsA(fexpr, FuncExpr) || req->indexarg != 0 ||
		list_length(fexpr->args) != 1 ||
		exprType(linitial(fexpr->args)) != INT8OID)
		return NULL;

	/* the wall (row_in_scope) gives no index condition: it is wide */
	if (fexpr->funcid == fn->row_writable)
	{
		right = "write";
		bit = TENANCY_RIGHT_WRITE;
	}
	else if (fexpr->funcid == fn->row_readable)
	{
		right = "read";
		bit = TENANCY_RIGHT_READ;
	}
	else
		return NULL;

	/*
	 * A query that names one administration ("col = x") needs no list: with
	 * it the plan cache would judge the generic plan too costly and plan
	 * every execution anew.  Its own equality is the index condition, and
	 * after planning the planner hook folds the check into it: "col =
	 * visible_administration(x, right)", x where the identity holds the
	 * right and NULL (no entry) elsewhere (fold_pinned_check), so that the
	 * scan meets no entry of another firm's administration x, whose count
	 * would show in EXPLAIN ANALYZE and the statistics counters.
	 *
	 * A plan the hook will not see (one made while the library was being
	 * loaded, the first statement of a backend, or by code that calls
	 * standard_planner itself) gets that folded condition here, beside its
	 * own equality, so that it is as safe without the hook; so does the
	 * scan of a partial index whose predicate implies the equality, which
	 * then is no condition of the scan for the hook to fold into (1.3
	 * review: "WHERE administration_id = 5" on an index of one firm's
	 * administration).  Not otherwise: the planner would count the two
	 * equalities' selectivities twice.  Before 1.3 (no
	 * visible_administration) the check stays a filter.
	 */
	pinned = pinned_value(req->index->rel->baserestrictinfo, linitial(fexpr->args),
						  req->opfamily);
	if (pinned != NULL)
	{
		Node	   *value;

		if ((hook_planning > 0 &&
			 pinned_value(req->index->indrestrictinfo, linitial(fexpr->args),
						  req->opfamily) != NULL) ||
			!OidIsValid(fn->visible_administration) ||
			(value = as_bigint(pinned)) == NULL)
			return NULL;
		/*
		 * bigint equality (int8 = int8, the type's own), in the family of an
		 * index of any AM: btree, hash, btree_gist
		 */
		eq_op = lookup_type_cache(INT8OID, TYPECACHE_EQ_OPR)->eq_opr;
		if (!OidIsValid(eq_op) || !op_in_opfamily(eq_op, req->opfamily))
			return NULL;
		req->lossy = false;
		return (Node *) list_make1(equality(eq_op, copyObject(linitial(fexpr->args)),
										   (Node *) admitted_if_visible(value, right)));
	}

	/*
	 * Our condition is "col = ANY(list)".  indxpath.c keeps a
	 * ScalarArrayOpExpr out of plain and index-only scans of an access method
	 * without amsearcharray only when it is the clause itself, not a
	 * condition a support function derived from it, and the executor then
	 * fails on it (a GiST index of btree_gist, say, which has an equality at
	 * btree's strategy number).  Such indexes get no condition from us.
	 */
	if (!req->index->amsearcharray)
		return NULL;
	/* a btree family with bigint equality, such as integer_ops */
	eq_op = get_opfamily_member(req->opfamily, INT8OID, INT8OID,
								BTEqualStrategyNumber);
	if (!OidIsValid(eq_op))
		return NULL;

	if (!OidIsValid(fn->visible_administrations))
		return NULL;
	list_function = fn->visible_administrations;
	if (OidIsValid(fn->visible_administrations_at_scan) &&
		tenancy_visibility_count(bit) > ESTIMATED_LIST_MAX)
		list_function = fn->visible_administrations_at_scan;

	array_expr = makeFuncExpr(list_function, INT8ARRAYOID,
							  list_make1(makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
												   CStringGetTextDatum(right),
												   false, false)),
							  InvalidOid, DEFAULT_COLLATION_OID,
							  COERCE_EXPLICIT_CALL);
	saop = makeNode(ScalarArrayOpExpr);
	saop->opno = eq_op;
	saop->opfuncid = get_opcode(eq_op);
	saop->useOr = true;
	saop->inputcollid = InvalidOid;
	saop->args = list_make2(copyObject(linitial(fexpr->args)), array_expr);
	saop->location = -1;

	req->lossy = false;
	return (Node *) list_make1(saop);
}

/*
 * how many administrations the catalog has, as of its last VACUUM or
 * ANALYZE (-1 or 0 when never counted)
 */
static double
administrations_in_catalog(void)
{
	Oid			relid = tenancy_catalog_relid("administration");
	HeapTuple	tuple;
	double		reltuples = 0;

	if (!OidIsValid(relid))
		return 0;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tuple))
	{
		reltuples = ((Form_pg_class) GETSTRUCT(tuple))->reltuples;
		ReleaseSysCache(tuple);
	}
	return reltuples;
}

/*
 * support_selectivity: the share of the column's distinct values that the
 * identity may see, or NULL when the column has no statistics
 */
static Node *
support_selectivity(SupportRequestSelectivity *req)
{
	const TenancyPlannerFunctions *fn = tenancy_functions();
	VariableStatData vardata;
	bool		isdefault;
	double		ndistinct;
	double		nvisible;
	double		nadministrations;
	int			bit;
	Node	   *arg;
	RelOptInfo *rel = NULL;

	if (req->is_join || list_length(req->args) != 1)
		return NULL;

	/*
	 * A query that names one administration ("col = $1") reads all of its
	 * rows or none, whoever asks: the identity's count would say nothing
	 * about which, and counting would load a new identity complete at
	 * every planning of such a query.  The wall beside a read or write
	 * check on the same column filters nothing more (the check implies it,
	 * see drop_implied_wall): counted twice, a user reading 400,000 rows
	 * was estimated at 66,667.
	 */
	arg = linitial(req->args);
	if (req->root != NULL && IsA(arg, Var) && ((Var *) arg)->varlevelsup == 0 &&
		((Var *) arg)->varno < req->root->simple_rel_array_size)
		rel = req->root->simple_rel_array[((Var *) arg)->varno];
	if (rel != NULL &&
		(pinned_value(rel->baserestrictinfo, arg, InvalidOid) != NULL ||
		 (req->funcid == fn->row_in_scope &&
		  checked_by_right(rel->baserestrictinfo, arg, req->root->qual_security_level))))
	{
		req->selectivity = 1.0;
		return (Node *) req;
	}

	if (req->funcid == fn->row_writable)
		bit = TENANCY_RIGHT_WRITE;
	else if (req->funcid == fn->row_in_scope)
		bit = TENANCY_IN_SCOPE;
	else
		bit = TENANCY_RIGHT_READ;
	nvisible = tenancy_visibility_count(bit);

	examine_variable(req->root, arg, req->varRelid, &vardata);
	ndistinct = get_variable_numdistinct(&vardata, &isdefault);
	ReleaseVariableStats(vardata);
	if (isdefault || ndistinct < 1)
		return NULL;

	/*
	 * The column holds administration ids: never more distinct values than
	 * the catalog has administrations.  ANALYZE's sample overestimates a
	 * column with many values of few rows each (20 rows per administration:
	 * 746,000 estimated for 120,000), and the share seen with it.
	 */
	nadministrations = administrations_in_catalog();
	if (nadministrations >= 1)
		ndistinct = Min(ndistinct, nadministrations);

	req->selectivity = Min(1.0, Max(nvisible, 0.5) / ndistinct);
	return (Node *) req;
}

/*
 * row_support(internal) RETURNS internal: planner support for row_in_scope,
 * row_readable and row_writable.
 *
 * Index condition: "f(col)" becomes "col = ANY (visible_administrations(r))",
 * exact (not lossy): the array holds precisely the ids for which f is true.
 * The array is computed once per index scan, so a user with three
 * administrations reads three index ranges, whatever the table's size; for
 * a long list the planner does not compute it (support_index_condition).
 *
 * Selectivity: the share of the column's distinct values that the identity
 * may see, so the planner costs a scan for three administrations and one
 * for a thousand differently; 1 where the query names one administration.
 */
PG_FUNCTION_INFO_V1(tenancy_row_support);
Datum
tenancy_row_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);

	if (IsA(rawreq, SupportRequestIndexCondition))
		PG_RETURN_POINTER(support_index_condition((SupportRequestIndexCondition *) rawreq));
	if (IsA(rawreq, SupportRequestSelectivity))
		PG_RETURN_POINTER(support_selectivity((SupportRequestSelectivity *) rawreq));
	PG_RETURN_POINTER(NULL);
}
