/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every PG_VERSION_NUM branch of tenancy, and nowhere else.
 *
 * tenancy targets PostgreSQL 15 and keeps to APIs that are the same from
 * 13 to 17; where they differ, a macro here gives the rest of the code one
 * spelling.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANCY_COMPAT_H
#define TENANCY_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 130000
#error "tenancy needs PostgreSQL 13 or later"
#endif

/* ProcessUtility_hook gained the readOnlyTree argument in 14 */
#if PG_VERSION_NUM >= 140000
#define TENANCY_UTILITY_ARGS \
	PlannedStmt *pstmt, const char *queryString, bool readOnlyTree, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define TENANCY_UTILITY_PASS \
	pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc
#else
#define TENANCY_UTILITY_ARGS \
	PlannedStmt *pstmt, const char *queryString, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define TENANCY_UTILITY_PASS \
	pstmt, queryString, context, params, queryEnv, dest, qc
#endif

/* MarkGUCPrefixReserved appeared in 15; EmitWarningsOnPlaceholders before */
#if PG_VERSION_NUM >= 150000
#define TENANCY_RESERVE_GUC_PREFIX(p) MarkGUCPrefixReserved(p)
#else
#define TENANCY_RESERVE_GUC_PREFIX(p) EmitWarningsOnPlaceholders(p)
#endif

/* a ModifyTable's subplans: a list until 13, its lefttree from 14 */
#if PG_VERSION_NUM >= 140000
#define TENANCY_MODIFY_TABLE_PLANS(mt)	NIL
#else
#define TENANCY_MODIFY_TABLE_PLANS(mt)	((mt)->plans)
#endif

/*
 * an index-only scan's index conditions in the form of its filter
 * (recheckqual): a field of the plan in 15, and in 13 and 14 only from the
 * minor releases that fixed index-only scans (13.6, 14.2); before 15 the
 * planner hook leaves index-only scans alone, so that a build against an
 * older minor release compiles
 */
#if PG_VERSION_NUM >= 150000
#define TENANCY_INDEX_ONLY_RECHECKQUAL(ios)	((ios)->recheckqual)
#else
#define TENANCY_INDEX_ONLY_RECHECKQUAL(ios)	NIL
#endif

/* HASH_STRINGS appeared in 14; string keys were hash_create's default in 13 */
#if PG_VERSION_NUM < 140000
#define HASH_STRINGS 0
#endif

/* strtoi64 (c.h) appeared in 15 */
#if PG_VERSION_NUM < 150000
#define strtoi64(str, endptr, base) ((int64) strtoll((str), (endptr), (base)))
#endif

/* GUC "extra" memory: malloc'd up to 15, guc_malloc'd (a context) from 16 */
#if PG_VERSION_NUM >= 160000
#define TENANCY_GUC_MALLOC(sz)	guc_malloc(LOG, (sz))
#define TENANCY_GUC_FREE(p)		guc_free(p)
#else
#define TENANCY_GUC_MALLOC(sz)	malloc(sz)
#define TENANCY_GUC_FREE(p)		free(p)
#endif

/* pg_hmac (common/hmac.h) appeared in 14: tenancy tokens need it */
#if PG_VERSION_NUM >= 140000
#define TENANCY_HAVE_HMAC 1
#endif

/* the backend's local transaction id moved into MyProc->vxid in 17 */
#if PG_VERSION_NUM >= 170000
#define TENANCY_MY_LXID (MyProc->vxid.lxid)
#else
#define TENANCY_MY_LXID (MyProc->lxid)
#endif

/* raw_parser gained a mode argument in 14 */
#if PG_VERSION_NUM >= 140000
#define TENANCY_RAW_PARSE(str)	raw_parser((str), RAW_PARSE_DEFAULT)
#else
#define TENANCY_RAW_PARSE(str)	raw_parser(str)
#endif

/* ownership checks were unified into object_ownercheck in 16 */
#if PG_VERSION_NUM >= 160000
#define TENANCY_REL_OWNERCHECK(relid, userid) \
	object_ownercheck(RelationRelationId, (relid), (userid))
#else
#define TENANCY_REL_OWNERCHECK(relid, userid) \
	pg_class_ownercheck((relid), (userid))
#endif

/* ExecutorCheckPerms_hook gained the RTEPermissionInfo list in 16 */
#if PG_VERSION_NUM >= 160000
#define TENANCY_CHECK_PERMS_ARGS \
	List *rangeTable, List *rtePermInfos, bool ereport_on_violation
#define TENANCY_CHECK_PERMS_PASS rangeTable, rtePermInfos, ereport_on_violation
#else
#define TENANCY_CHECK_PERMS_ARGS List *rangeTable, bool ereport_on_violation
#define TENANCY_CHECK_PERMS_PASS rangeTable, ereport_on_violation
#endif

/* post_parse_analyze_hook gained the JumbleState argument in 14 */
#if PG_VERSION_NUM >= 140000
#define TENANCY_POST_PARSE_ARGS \
	ParseState *pstate, Query *query, JumbleState *jstate
#define TENANCY_POST_PARSE_PASS pstate, query, jstate
#else
#define TENANCY_POST_PARSE_ARGS ParseState *pstate, Query *query
#define TENANCY_POST_PARSE_PASS pstate, query
#endif

/* MERGE appeared in 15 */
#define TENANCY_HAS_MERGE	(PG_VERSION_NUM >= 150000)

/*
 * A range table entry's required privileges: in the RTE until 15, in its
 * RTEPermissionInfo (the query's or plan's list) from 16
 */
#if PG_VERSION_NUM >= 160000
#define TENANCY_REQUIRED_PERMS(perminfos, rte) \
	(getRTEPermissionInfo((perminfos), (rte))->requiredPerms)
#define TENANCY_QUERY_PERMINFOS(query)	((query)->rteperminfos)
#define TENANCY_PLAN_PERMINFOS(stmt)	((stmt)->permInfos)
#else
#define TENANCY_REQUIRED_PERMS(perminfos, rte)	((rte)->requiredPerms)
#define TENANCY_QUERY_PERMINFOS(query)	NIL
#define TENANCY_PLAN_PERMINFOS(stmt)	NIL
#endif

/*
 * InitMaterializedSRF and timingsafe_bcmp appeared in 15 (the former first
 * as SetSingleFuncCall, which 15 keeps as an alias); before, a small copy
 * of each gives the code one spelling.
 */
#if PG_VERSION_NUM >= 150000
#define TENANCY_INIT_MATERIALIZED_SRF(fcinfo, flags) \
	InitMaterializedSRF((fcinfo), (flags))
#else
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/tuplestore.h"

#define MAT_SRF_USE_EXPECTED_DESC	0x01
#define MAT_SRF_BLESS				0x02

static inline void
tenancy_init_materialized_srf(FunctionCallInfo fcinfo, bits32 flags)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;
	TupleDesc	desc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize) ||
		((flags & MAT_SRF_USE_EXPECTED_DESC) && rsinfo->expectedDesc == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (flags & MAT_SRF_USE_EXPECTED_DESC)
		desc = CreateTupleDescCopy(rsinfo->expectedDesc);
	else if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (flags & MAT_SRF_BLESS)
		BlessTupleDesc(desc);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = desc;
	MemoryContextSwitchTo(old);
}
#define TENANCY_INIT_MATERIALIZED_SRF(fcinfo, flags) \
	tenancy_init_materialized_srf((fcinfo), (flags))

static inline int
timingsafe_bcmp(const void *b1, const void *b2, size_t n)
{
	const unsigned char *p1 = b1;
	const unsigned char *p2 = b2;
	int			ret = 0;

	for (; n > 0; n--)
		ret |= *p1++ ^ *p2++;
	return (ret != 0);
}
#endif

#endif							/* TENANCY_COMPAT_H */
