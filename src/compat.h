/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every PG_VERSION_NUM branch of tenancy, and nowhere else.
 *
 * tenancy targets PostgreSQL 15 and keeps to APIs that are the same from
 * 15 to 17; where they differ, a macro here gives the rest of the code one
 * spelling.  Not 13 or 14: secured views are security_invoker views, MERGE
 * is guarded, and the 1.3 update script uses CREATE OR REPLACE TRIGGER, all
 * of PostgreSQL 15 (a build against 13.23 compiled with small changes, but
 * the reporting views, the quick start and the update from 1.2 failed).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANCY_COMPAT_H
#define TENANCY_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "tenancy needs PostgreSQL 15 or later"
#endif

/* the hooks' argument lists, spelled once */
#define TENANCY_UTILITY_ARGS \
	PlannedStmt *pstmt, const char *queryString, bool readOnlyTree, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define TENANCY_UTILITY_PASS \
	pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc
#define TENANCY_POST_PARSE_ARGS \
	ParseState *pstate, Query *query, JumbleState *jstate
#define TENANCY_POST_PARSE_PASS pstate, query, jstate

/* GUC "extra" memory: malloc'd up to 15, guc_malloc'd (a context) from 16 */
#if PG_VERSION_NUM >= 160000
#define TENANCY_GUC_MALLOC(sz)	guc_malloc(LOG, (sz))
#define TENANCY_GUC_FREE(p)		guc_free(p)
#else
#define TENANCY_GUC_MALLOC(sz)	malloc(sz)
#define TENANCY_GUC_FREE(p)		free(p)
#endif

/* the backend's local transaction id moved into MyProc->vxid in 17 */
#if PG_VERSION_NUM >= 170000
#define TENANCY_MY_LXID (MyProc->vxid.lxid)
#else
#define TENANCY_MY_LXID (MyProc->lxid)
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

/* stringToQualifiedNameList gained a soft-error context in 16 */
#if PG_VERSION_NUM >= 160000
#define TENANCY_QUALIFIED_NAME_LIST(str)	stringToQualifiedNameList((str), NULL)
#else
#define TENANCY_QUALIFIED_NAME_LIST(str)	stringToQualifiedNameList(str)
#endif

/*
 * timingsafe_bcmp came to every supported branch in a minor release (port.h
 * declares it where pg_config.h defines HAVE_DECL_TIMINGSAFE_BCMP); a
 * build against an older minor release gets this copy
 */
#ifndef HAVE_DECL_TIMINGSAFE_BCMP
static inline int
tenancy_timingsafe_bcmp(const void *b1, const void *b2, size_t n)
{
	const unsigned char *p1 = b1;
	const unsigned char *p2 = b2;
	int			ret = 0;

	for (; n > 0; n--)
		ret |= *p1++ ^ *p2++;
	return (ret != 0);
}
#define timingsafe_bcmp(b1, b2, n) tenancy_timingsafe_bcmp((b1), (b2), (n))
#endif

#endif							/* TENANCY_COMPAT_H */
