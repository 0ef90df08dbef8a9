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

/* GUC "extra" memory: malloc'd up to 15, guc_malloc'd (a context) from 16 */
#if PG_VERSION_NUM >= 160000
#define TENANCY_GUC_MALLOC(sz)	guc_malloc(LOG, (sz))
#define TENANCY_GUC_FREE(p)		guc_free(p)
#else
#define TENANCY_GUC_MALLOC(sz)	malloc(sz)
#define TENANCY_GUC_FREE(p)		free(p)
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

#endif							/* TENANCY_COMPAT_H */
