/*-------------------------------------------------------------------------
 *
 * tenancy.c
 *	  Module entry point: PG_MODULE_MAGIC and _PG_init.
 *
 * _PG_init only calls each module's init, in order: the token settings
 * (token.c) and the identity setting first (everything else reads it),
 * then the visibility cache's invalidation callbacks, then the utility
 * hook that clears the identity on DISCARD ALL, then the planner hook that
 * lets expression indexes serve queries on protected tables, then the
 * hooks that make a MERGE read its target through the read policy
 * (merge.c), then the executor, utility, object access and transaction hooks that keep cursors
 * and temporary tables of one identity from the next (session.c), then the
 * log hook that names the acting user in the server log, then the hooks
 * that refuse Citus functions stepping around the walls (citus_guard.c).
 * The library may be loaded late (at the first call of one of its
 * functions); nothing here depends on shared_preload_libraries.
 *
 * Last, the prefix "tenancy" is reserved: from then on an unknown
 * tenancy.* setting is an error.  Only last: reserving it removes every
 * placeholder of the prefix not yet defined, so a setting defined after it
 * would lose the value a DBA gave it before the library was loaded (ALTER
 * ROLE or DATABASE ... SET, postgresql.conf).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "tenancy.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	/*
	 * First, before any hook or setting exists: were it to fail, the next
	 * load would run _PG_init again from a clean state.
	 */
	tenancy_session_adopt();
	tenancy_token_init();
	tenancy_identity_init();
	tenancy_catalog_init();
	tenancy_audit_init();
	tenancy_visibility_init();
	tenancy_utility_init();
	tenancy_planner_init();
	tenancy_merge_init();
	tenancy_session_init();
	tenancy_logging_init();
	tenancy_citus_guard_init();
	MarkGUCPrefixReserved("tenancy");
}
