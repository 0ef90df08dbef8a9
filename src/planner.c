/*-------------------------------------------------------------------------
 *
 * planner.c
 *	  Let an expression index serve a query on a protected table.
 *
 * Under row security PostgreSQL evaluates a query's own conditions only
 * after the policies, unless they are leakproof.  A search such as
 * "lower(reference) = 'abc'" is not (lower() is not marked leakproof), so
 * it cannot become an index condition, and an expression index on
 * lower(reference) goes unused: the query reads every row the identity may
 * see and filters them.  That is the cliff hand-written row security falls
 * off.
 *
 * Used as an index condition, such a clause never runs its function on a
 * row: the index holds the computed values, and only the operator compares
 * them with the constant.  So when
 *
 *	- the clause is "expr OP constant" (either side) with a leakproof
 *	  operator and a constant side free of Vars and volatile functions,
 *	- expr is exactly an expression column of one of the table's indexes,
 *	- every function in expr is built in (no user code that could raise a
 *	  notice with the value, should a lossy bitmap page make the executor
 *	  recheck the expression; a built-in immutable function recomputes what
 *	  index maintenance already computed without error), and
 *	- the table carries the tenancy policies,
 *
 * the set_rel_pathlist hook marks the clause leakproof for one more round
 * of index path generation, then clears the mark.  The index scan that
 * results applies the clause inside the index and the policies to every
 * row it fetches; no other path changes.
 *
 * The same hook drops the wall (row_in_scope) from a scan's quals when a
 * qual of its own, row_readable or row_writable on the same column, implies
 * it: the scope cache sets a right only on administrations inside the wall
 * (visibility.c).  Only a top-level qual counts: when a later permissive
 * policy is OR'ed with the tenancy policy, the wall stays.  The read qual is
 * then often the whole filter, served exactly by the index, so a scan of
 * three administrations evaluates nothing per row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "parser/parse_func.h"
#include "utils/lsyscache.h"
#include <limits.h>

#include "tenancy.h"

static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;

static void tenancy_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel,
									 Index rti, RangeTblEntry *rte);
static bool has_tenancy_wall(RelOptInfo *rel);
static void drop_implied_wall(RelOptInfo *rel);
static Oid	tenancy_function(const char *name);
static bool served_by_expression_index(RelOptInfo *rel, Expr *clause);
static bool only_builtin_functions(Node *node);
static bool builtin_walker(Node *node, void *context);
static bool builtin_oid(Oid func_id, void *context);

/*
 * tenancy_planner_init: install the hook (called from _PG_init)
 */
void
tenancy_planner_init(void)
{
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = tenancy_set_rel_pathlist;
}

static void
tenancy_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
						 RangeTblEntry *rte)
{
	List	   *promoted = NIL;
	ListCell   *lc;

	if (prev_set_rel_pathlist_hook)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);

	if (rel->reloptkind != RELOPT_BASEREL || rte->rtekind != RTE_RELATION ||
		!has_tenancy_wall(rel))
		return;

	drop_implied_wall(rel);
	if (rel->indexlist == NIL)
		return;

	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (rinfo->leakproof || rinfo->pseudoconstant ||
			rinfo->security_level <= rel->baserestrict_min_security)
			continue;
		if (served_by_expression_index(rel, rinfo->clause))
			promoted = lappend(promoted, rinfo);
	}
	if (promoted == NIL)
		return;

	foreach(lc, promoted)
		((RestrictInfo *) lfirst(lc))->leakproof = true;
	PG_TRY();
	{
		create_index_paths(root, rel);
	}
	PG_FINALLY();
	{
		foreach(lc, promoted)
			((RestrictInfo *) lfirst(lc))->leakproof = false;
	}
	PG_END_TRY();
}

/* OID of tenancy.<name>(bigint), or InvalidOid */
static Oid
tenancy_function(const char *name)
{
	Oid			argtypes[1] = {INT8OID};

	return LookupFuncName(list_make2(makeString("tenancy"), makeString((char *) name)),
						  1, argtypes, true);
}

/*
 * drop_implied_wall: remove the wall qual when a top-level read or write
 * qual on the same column implies it (see the file header)
 */
static void
drop_implied_wall(RelOptInfo *rel)
{
	RestrictInfo *wall_rinfo = NULL;
	Oid			wall;
	Oid			readable;
	Oid			writable;
	ListCell   *lc;

	if (rel->baserestrictinfo == NIL || rel->baserestrict_min_security == UINT_MAX)
		return;
	wall = tenancy_function("row_in_scope");
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

	readable = tenancy_function("row_readable");
	writable = tenancy_function("row_writable");
	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		FuncExpr   *f = (FuncExpr *) rinfo->clause;

		if (IsA(f, FuncExpr) &&
			(f->funcid == readable || f->funcid == writable) &&
			equal(linitial(f->args), linitial(((FuncExpr *) wall_rinfo->clause)->args)))
		{
			rel->baserestrictinfo = list_delete_ptr(rel->baserestrictinfo, wall_rinfo);
			return;
		}
	}
}

/* does the relation carry the tenancy wall among its security quals? */
static bool
has_tenancy_wall(RelOptInfo *rel)
{
	Oid			wall = tenancy_function("row_in_scope");
	ListCell   *lc;

	if (!OidIsValid(wall))
		return false;
	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (rinfo->security_level == rel->baserestrict_min_security &&
			IsA(rinfo->clause, FuncExpr) &&
			((FuncExpr *) rinfo->clause)->funcid == wall)
			return true;
	}
	return false;
}

static bool
served_by_expression_index(RelOptInfo *rel, Expr *clause)
{
	OpExpr	   *op;
	Node	   *left;
	Node	   *right;
	Node	   *indexed;
	Node	   *constant;
	ListCell   *lc;

	if (!IsA(clause, OpExpr) || list_length(((OpExpr *) clause)->args) != 2)
		return false;
	op = (OpExpr *) clause;
	set_opfuncid(op);
	if (!get_func_leakproof(op->opfuncid))
		return false;

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
		return false;
	if (contain_volatile_functions(constant) || !only_builtin_functions(indexed))
		return false;

	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *index = lfirst_node(IndexOptInfo, lc);
		int			col;

		for (col = 0; col < index->nkeycolumns; col++)
			if (index->indexkeys[col] == 0 &&
				match_index_to_operand(indexed, col, index))
				return true;
	}
	return false;
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
