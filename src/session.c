/*-------------------------------------------------------------------------
 *
 * session.c
 *	  What a request leaves on a pooled connection: cursors and temporary
 *	  relations never cross from one identity to another (R4, R24).
 *
 * Behind a connection pool in transaction mode one server backend serves
 * request after request, each under its own identity.  Two kinds of
 * objects outlive a statement and hold rows read under the identity in
 * force when they were filled: portals (cursors, PL/pgSQL refcursors,
 * extended-protocol portals, held cursors materialised at COMMIT) and
 * temporary relations.  This file keeps both tied to the identity that
 * produced their rows.
 *
 * Portals.  Every portal is tagged, when its own query starts (the
 * ExecutorStart hook, or the utility hook for a utility statement run as
 * a portal, with ActivePortal being that portal and the statement one of
 * its own), with the user id in force (0: none).  That is the identity its
 * rows are computed under: the policies fix the visible scope when the
 * executor starts.  The tag lives in the portal's own memory context; a
 * reset callback on that context unlinks it, so the list never holds a
 * dropped portal.  The rule is
 *
 *		a portal that is not running carries the identity in force.
 *
 * It is kept by a sweep that drops every portal tagged with another
 * identity.  The identity changes in exactly these ways, and each is
 * followed by a sweep before any portal can be read again:
 *
 *	- act_as, act_as_local and reset: identity.c calls the listener this
 *	  file registers, settled, right after its write, inside the
 *	  statement, so the very next fetch already finds the cursor gone;
 *	- the end of a transaction whose identity was transaction-local
 *	  (act_as_local): portals that survive a commit are the holdable ones,
 *	  materialised by PreCommit_Portals before the XACT_EVENT_PRE_COMMIT
 *	  callback; that callback drops them when the identity in force ends
 *	  with the transaction.  This must happen before the commit: in the
 *	  next transaction an extended-protocol Execute of the cursor by name,
 *	  or PL/pgSQL's SPI_cursor_find, reaches it without passing any hook;
 *	- ROLLBACK and ROLLBACK TO SAVEPOINT: the identity returns to the one
 *	  in force before the change that is undone; every portal opened since
 *	  that change was created in the aborted (sub)transaction and is dropped
 *	  by PostgreSQL itself, and the portals of the restored identity were
 *	  dropped when the change happened;
 *	- DISCARD ALL closes every portal (PostgreSQL's CLOSE ALL);
 *	- anything else (a superuser's RESET tenancy.identity, a SET clause of
 *	  a superuser's function): the assign hook calls the listener
 *	  unsettled, which only raises a flag, as it runs inside commit and
 *	  abort too and may do no work there; the sweep runs at the next
 *	  utility statement, executor start or pre-commit.
 *
 * Why this is complete: every way to read a portal (FETCH and MOVE,
 * SPI_cursor_find and SPI_cursor_fetch of the procedural languages, the
 * protocol's Execute) finds it by name in the portal table, and a dropped
 * portal is not there; so only the portals the sweep keeps can be read,
 * and those carry the identity in force.  The sweep runs before any of
 * those paths can run after a change: in the same call for the act-as
 * functions, before the commit for the end of a local identity.
 *
 * A portal that is running when the identity changes (the statement that
 * calls act_as, a cursor whose own query calls it) cannot be dropped; its
 * later fetches through the executor are refused by the ExecutorRun hook,
 * and FETCH and MOVE check the tag too.  Rows such a statement has already
 * materialised (a RETURNING list, a FETCH run as a protocol portal) go to
 * the client that ran it: the statement itself changed the identity.  A
 * pinned portal (a PL/pgSQL FOR loop reading a cursor) cannot be dropped
 * either: the change is refused instead, as is a COMMIT in a procedure
 * that would end the identity under such a loop.
 *
 * Portals that exist when this library is loaded (a cursor declared
 * before the session's first call of tenancy, whose query read a protected
 * table only through a function, so that nothing of tenancy ran before its
 * executor started) passed no hook.  No identity can have been in force
 * before the library was loaded, so they are tagged as opened under no
 * identity, by the session user, when it loads (tenancy_session_adopt),
 * and the first act_as sweeps them like any other (1.3 review).
 *
 * Temporary relations.  A temporary relation belongs to the identity in
 * force when it was created (the object access hook, OAT_POST_CREATE;
 * relations created before this library was loaded belong to "no
 * identity", the only identity a session can have before it).  Under any
 * other identity, "no identity" included, every use through the executor
 * (SELECT, INSERT, UPDATE, DELETE, MERGE, CREATE TABLE AS, views, SQL and
 * PL functions, triggers) and COPY is refused: both run the permission
 * check hook on their range table.  DDL that evaluates expressions over
 * the existing rows (CREATE INDEX, ALTER TABLE, CLUSTER, REINDEX, CREATE
 * STATISTICS, VACUUM and ANALYZE, and their forms without a table while
 * such a relation exists; ALTER TABLE ... ATTACH PARTITION of it under a
 * table of one's own and CREATE TABLE ... PARTITION OF or INHERITS it,
 * which validate rows and so answer whether a value is there) is refused
 * the same way.  The statistics an ANALYZE stored are its values too:
 * reading pg_statistic or pg_statistic_ext_data (pg_stats, pg_stats_ext)
 * through the executor is refused while such a relation exists.  So is
 * DDL that attaches code to it or copies its code (CREATE TRIGGER, RULE,
 * POLICY, OR REPLACE VIEW, CREATE TABLE ... LIKE, ALTER TABLE ... INHERIT)
 * and TRUNCATE, which fires its triggers: the application's login owns
 * every temporary relation of the session, and such code ran under the
 * identity that used the relation next (1.3 attack).  DROP and DISCARD
 * TEMP are allowed, they show no row and run no code.  Why not drop
 * them at the change: the change may happen inside COMMIT or ABORT,
 * where no catalog work is allowed.  The owner map is keyed by relation OID
 * in a backend hash; an entry of a dropped relation is removed at the
 * commit that makes the drop final (a rolled-back DROP brings the
 * relation back with its owner; DISCARD ALL and DISCARD TEMP drop too),
 * and one of a relation whose creation rolled back is removed when its
 * subtransaction's rollback is known for good (at the commit) or at its
 * transaction's abort: the map holds the relations that exist.
 *
 * Temporary types.  A type in the session's temporary schema takes the
 * place of a type of the same name for every later statement of the
 * session: PostgreSQL looks types up in pg_temp first (functions and
 * operators never).  A request that created a domain pg_temp.text with a
 * CHECK calling its own code ran that code in every later request's
 * '...'::text, under their identities, and kept their rows in a setting
 * for itself (1.3 attack, through pgbouncer in transaction mode).  Rows
 * in a temporary table can be fenced; a type's code cannot.  So the
 * object access hook refuses every temporary type but the row type of a
 * temporary table or view and the array types of allowed types
 * (temporary_type_allowed; such a row type holds no code, and shadows a
 * type only to make a cast fail), and those under the name of a built-in
 * type, created or renamed (ALTER TABLE ... RENAME renames the row type,
 * OAT_POST_ALTER).  CREATE DOMAIN and CREATE TYPE fire
 * tenancy's DDL event trigger, which loads this library before the type
 * exists; a type created with event triggers off (a superuser's
 * session_replication_role = replica) before the library was loaded passed
 * no hook: the session's first act_as or act_as_local after the load looks
 * for such types, and refuses to act while one exists.
 *
 * Prepared statements.  A statement prepared with SQL (PREPARE, also run
 * through SPI) belongs to the identity and login in force when it was
 * prepared; EXECUTE of it (also inside EXPLAIN and CREATE TABLE AS) and a
 * protocol Bind of it under any other are refused.  A driver keeps its
 * named protocol statements on the connection and binds them again in
 * later requests: a request that ran SQL of its own dropped such a
 * statement (DEALLOCATE) and prepared its own SQL under the same name, and
 * the next request ran it under its identity, reading and writing its
 * firm's rows for the first (1.3 attack).  Statements the driver prepared
 * with the protocol (Parse) carry no owner and stay usable by every
 * identity: SQL cannot make one.  The owners are kept in a backend hash by
 * name; DEALLOCATE and DISCARD ALL remove them.  Statements prepared with
 * SQL before the library was loaded (a session's first statements, a
 * pool's connect query) passed no hook: they are noted as prepared under
 * no identity, by the session user, when it loads (tenancy_session_adopt),
 * as portals are.
 *
 * Before planning.  Planning runs code: it folds immutable functions and
 * evaluates stable ones for its estimates (a temporary view's expression,
 * a temporary table's default, a planted statement calling a function of
 * the request's own, or query_to_xml()).  A protocol Bind plans its
 * statement before any executor hook runs, and a query naming a temporary
 * view is planned before its permissions are checked: the code ran under
 * the next identity before the refusal (1.3 attack).  So the planner hook
 * (planner.c) asks tenancy_session_check_plan first, which refuses a
 * temporary relation of another identity anywhere in the query and a
 * statement prepared with SQL under another identity, before planning.
 * The planner parses more while it plans: the body of a SQL function it
 * inlines (one returning a set, not volatile, without a SET clause; a
 * scalar one may name no relation).  Its unqualified names are looked up
 * then, under the next identity's statement, and found another identity's
 * temporary view, whose immutable function the planner folded (1.3
 * attack).  The post-parse-analysis hook gives every parsed query the same
 * look at its relations, before it is rewritten or planned.
 *
 * Parallel workers run none of these checks: the leader made them before
 * it started the workers, and temporary relations are never read in a
 * worker.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_cast.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_statistic_ext_data.h"
#include "catalog/pg_type.h"
#include "commands/prepare.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "tenancy.h"

/*
 * the identity and the session user one portal was opened under (two
 * reporting logins, or a reporting login and an application login with no
 * identity, share user 0); lives in the portal's context
 */
typedef struct TenancyPortalTag
{
	dlist_node	node;
	Portal		portal;
	int64		user_id;
	Oid			login;
	MemoryContextCallback callback;
} TenancyPortalTag;

/* the identity and login a statement prepared with SQL belongs to */
typedef struct TenancyPreparedOwner
{
	char		name[NAMEDATALEN];	/* hash key, as prepare.c keys them */
	int64		user_id;
	Oid			login;
	const char *source;			/* its plan source's query_string: an address
								 * to compare, read only while it exists */
} TenancyPreparedOwner;

/* the identity one temporary relation belongs to */
typedef struct TenancyTempOwner
{
	Oid			relid;			/* hash key */
	int64		user_id;
} TenancyTempOwner;

static dlist_head portal_tags = DLIST_STATIC_INIT(portal_tags);

/*
 * tenancy_statement_number: counts the statements the client sent, each
 * one as its portal starts it (a query at ExecutorStart, a utility command
 * such as FETCH or CALL in the utility hook), not the statements functions
 * run inside them, nor the cursors they open (those start while the
 * executor or a utility command runs: nesting_level, kept the way
 * pg_stat_statements keeps its own).  The statement's start time cannot
 * tell the client's statements apart: one simple-Query message of several
 * shares it.  visibility.c reads invalidations once a statement by it (R7:
 * the next statement reads with the new rights).
 */
uint64		tenancy_statement_number = 1;
static int	nesting_level = 0;

/*
 * the session user the portals were last swept for: a change of session
 * user (SET SESSION AUTHORIZATION, a pool or tool switching logins) closes
 * the portals of the login before right after the command, or (set_config
 * inside a query) at the next statement, as a change of identity does (a
 * held cursor read from its store, by a PL/pgSQL FETCH or a protocol
 * Execute, passes no hook that could refuse it later)
 */
static Oid	swept_login = InvalidOid;
static HTAB *temp_owners = NULL;
static List *created_temp = NIL;	/* in TopTransactionContext */
static List *dropped_temp = NIL;	/* in TopTransactionContext */
static bool identity_moved = false;
static bool temp_types_checked = false;	/* those from before the load */
static HTAB *prepared_owners = NULL;

/*
 * A statement prepared with SQL and closed with the protocol's Close leaves
 * its owner behind (no hook sees a Close); note_prepared() drops those when
 * the table reaches this many entries, then again at twice the entries
 * left, so that the table stays within twice the statements that exist.
 */
#define PREPARED_OWNERS_SWEEP_MIN	64
static long prepared_owners_sweep_at = PREPARED_OWNERS_SWEEP_MIN;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;
static ExecutorCheckPerms_hook_type prev_ExecutorCheckPerms = NULL;
static object_access_hook_type prev_object_access = NULL;

static int64 current_uid(void);
static TenancyPortalTag *find_tag(Portal portal);
static void forget_tag(void *arg);
static void tag_portal(Portal portal, int64 user_id);
static bool tag_fits(const TenancyPortalTag *tag);
static bool is_own_statement(Portal portal, PlannedStmt *stmt);
static void sweep_portals(bool all);
static void note_login(void);
static void identity_changed(bool settled);
static void session_utility(TENANCY_UTILITY_ARGS);
static void check_utility(PlannedStmt *pstmt);
static void session_executor_start(QueryDesc *queryDesc, int eflags);
static void session_executor_run(QueryDesc *queryDesc, ScanDirection direction,
								 uint64 count, bool execute_once);
static void session_executor_finish(QueryDesc *queryDesc);
static bool session_check_perms(TENANCY_CHECK_PERMS_ARGS);
static void session_object_access(ObjectAccessType access, Oid classId,
								  Oid objectId, int subId, void *arg);
static void session_xact_callback(XactEvent event, void *arg);
static void check_temp_relation(Oid relid);
static void check_temp_rangevar(RangeVar *rv);
static void check_all_temp(void);
static bool is_fenced(char relpersistence, char relkind);
static bool session_has_temp_schema(void);
static void session_post_parse_analyze(TENANCY_POST_PARSE_ARGS);
static void check_new_type(Oid typid);
static void check_new_cast(Oid castid);
static void check_prepared(const char *name);
static const char *executed_name(Node *query);
static void note_prepared(Node *parsetree);
static void note_prepared_owner(const char *name, int64 user_id, const char *source);
static void check_existing_types(void);

/*
 * tenancy_session_init: install the hooks (called from _PG_init)
 */
void
tenancy_session_init(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = session_executor_start;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = session_executor_run;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = session_executor_finish;
	prev_ExecutorCheckPerms = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = session_check_perms;
	prev_object_access = object_access_hook;
	object_access_hook = session_object_access;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = session_utility;
	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = session_post_parse_analyze;
	RegisterXactCallback(session_xact_callback, NULL);
	tenancy_identity_listen(identity_changed);
}

/*
 * each_listed_name: call each(name) for every row of a listing function of
 * pg_catalog whose first column is a name (pg_cursor, pg_prepared_statement:
 * PostgreSQL keeps its portal and prepared statement tables to itself),
 * called here as the executor would call it
 */
static void
each_listed_name(Oid function, void (*each) (const char *name))
{
	LOCAL_FCINFO(fcinfo, 0);
	FmgrInfo	flinfo;
	ReturnSetInfo rsinfo;
	ExprContext *econtext;
	TupleTableSlot *slot;

	econtext = CreateStandaloneExprContext();
	MemSet(&rsinfo, 0, sizeof(rsinfo));
	rsinfo.type = T_ReturnSetInfo;
	rsinfo.econtext = econtext;
	rsinfo.allowedModes = SFRM_Materialize;
	rsinfo.returnMode = SFRM_Materialize;
	fmgr_info(function, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 0, InvalidOid, NULL, (Node *) &rsinfo);
	(void) FunctionCallInvoke(fcinfo);
	if (rsinfo.setResult != NULL)
	{
		slot = MakeSingleTupleTableSlot(rsinfo.setDesc, &TTSOpsMinimalTuple);
		while (tuplestore_gettupleslot(rsinfo.setResult, true, false, slot))
		{
			bool		isnull;
			Datum		name = slot_getattr(slot, 1, &isnull);

			if (!isnull)
				each(TextDatumGetCString(name));
		}
		ExecDropSingleTupleTableSlot(slot);
		tuplestore_end(rsinfo.setResult);
	}
	FreeExprContext(econtext, true);
}

/* a portal from before the load: opened under no identity */
static void
adopt_portal(const char *name)
{
	Portal		portal = GetPortalByName(name);

	if (PortalIsValid(portal))
		tag_portal(portal, 0);
}

/* a statement prepared with SQL before the load: under no identity */
static void
adopt_prepared(const char *name)
{
	PreparedStatement *statement = FetchPreparedStatement(name, false);

	if (statement != NULL && statement->from_sql)
		note_prepared_owner(name, 0, statement->plansource->query_string);
}

/*
 * tenancy_session_adopt: tag the portals, and note the statements prepared
 * with SQL, that exist when the library is loaded as opened and prepared
 * under no identity by the session user (see the header; called first in
 * _PG_init, before any hook or setting exists).  pg_cursor() lists every
 * portal a query can reach by name (cursors of DECLARE, of the protocol's
 * Bind and of SPI).  A library loaded outside a transaction (at session
 * start) finds none.
 */
void
tenancy_session_adopt(void)
{
	if (!IsTransactionState() || IsParallelWorker())
		return;
	each_listed_name(F_PG_CURSOR, adopt_portal);
	each_listed_name(F_PG_PREPARED_STATEMENT, adopt_prepared);
}

static int64
current_uid(void)
{
	return tenancy_identity_current()->user_id;
}

/* ----------------------------------------------------------------
 * Portals
 * ----------------------------------------------------------------
 */

static TenancyPortalTag *
find_tag(Portal portal)
{
	dlist_iter	iter;

	dlist_foreach(iter, &portal_tags)
	{
		TenancyPortalTag *tag = dlist_container(TenancyPortalTag, node, iter.cur);

		if (tag->portal == portal)
			return tag;
	}
	return NULL;
}

/* reset callback of a portal's context: the portal is gone */
static void
forget_tag(void *arg)
{
	dlist_delete(&((TenancyPortalTag *) arg)->node);
}

/* tag a portal as opened under the identity user_id, by the session user */
static void
tag_portal(Portal portal, int64 user_id)
{
	TenancyPortalTag *tag;

	if (find_tag(portal) != NULL)
		return;
	tag = MemoryContextAlloc(portal->portalContext, sizeof(TenancyPortalTag));
	tag->portal = portal;
	tag->user_id = user_id;
	tag->login = GetSessionUserId();
	tag->callback.func = forget_tag;
	tag->callback.arg = tag;
	MemoryContextRegisterResetCallback(portal->portalContext, &tag->callback);
	dlist_push_tail(&portal_tags, &tag->node);
}

/*
 * may the tagged portal be read now: under the identity and by the session
 * user it was opened under?  (After SET SESSION AUTHORIZATION another login
 * would read rows of the login before.)
 */
static bool
tag_fits(const TenancyPortalTag *tag)
{
	return tag->user_id == current_uid() && tag->login == GetSessionUserId();
}

/* is stmt the portal's own statement (not one run by a function inside)? */
static bool
is_own_statement(Portal portal, PlannedStmt *stmt)
{
	return portal != NULL && !IsParallelWorker() &&
		list_member_ptr(portal->stmts, stmt);
}

/*
 * sweep_portals: drop the portals that may not be read under the identity
 * in force: those tagged with another identity or login, or, with all, every one
 * (the identity ends with the transaction being committed).  A running
 * portal is left alone (see the banner); a pinned one makes the caller's
 * change fail.  Nothing is dropped when something must fail.
 */
static void
sweep_portals(bool all)
{
	dlist_mutable_iter iter;

	/* a failed transaction reads nothing; its end cleans its portals up */
	if (!IsTransactionState())
		return;
	identity_moved = false;
	dlist_foreach_modify(iter, &portal_tags)
	{
		TenancyPortalTag *tag = dlist_container(TenancyPortalTag, node, iter.cur);

		if ((all || !tag_fits(tag)) &&
			tag->portal->status != PORTAL_ACTIVE &&
			tag->portal->status != PORTAL_FAILED && tag->portal->portalPinned)
		{
			if (all)
				ereport(ERROR,
						(errcode(TENANCY_ERRCODE_BAD_STATE),
						 errmsg("cannot commit while a loop reads a cursor opened under a transaction-local identity"),
						 errdetail("The identity ends with the transaction, and a cursor is never read under another identity."),
						 errhint("Commit after the loop, or act as the user for the whole session.")));
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_BAD_STATE),
					 errmsg("cannot change the tenancy identity while a loop reads a cursor opened under another identity"),
					 errdetail("A cursor is never read under another identity than the one it was opened under."),
					 errhint("Change the identity outside the loop.")));
		}
	}
	dlist_foreach_modify(iter, &portal_tags)
	{
		TenancyPortalTag *tag = dlist_container(TenancyPortalTag, node, iter.cur);

		/* PortalDrop deletes the context, whose callback unlinks the tag */
		if ((all || !tag_fits(tag)) &&
			tag->portal->status != PORTAL_ACTIVE)
			PortalDrop(tag->portal, false);
	}
}

/* a change of session user moves the identity in force (see swept_login) */
static void
note_login(void)
{
	if (GetSessionUserId() != swept_login)
	{
		swept_login = GetSessionUserId();
		identity_moved = true;
	}
}

/*
 * identity_changed: the listener of identity changes (identity.c).
 * Settled: the act-as functions changed it inside a statement; drop what
 * belongs to the identity before.  Unsettled: the setting changed value,
 * maybe inside commit or abort; only take note.
 */
static void
identity_changed(bool settled)
{
	identity_moved = true;
	if (settled)
	{
		sweep_portals(false);
		/* reset ends an identity: nothing to fear from the types then */
		if (!temp_types_checked && current_uid() != 0)
			check_existing_types();
	}
}

static void
session_executor_start(QueryDesc *queryDesc, int eflags)
{
	/* a worker's statement under a token stays out of pg_stat_activity */
	tenancy_token_hide_statement();
	/* on a Citus node, the workers get the identity first (token.c) */
	tenancy_token_before_query(tenancy_identity_current(), queryDesc->plannedstmt);
	note_login();
	if (identity_moved && !IsParallelWorker())
		sweep_portals(false);
	if (is_own_statement(ActivePortal, queryDesc->plannedstmt))
	{
		if (nesting_level == 0)
			tenancy_statement_number++;
		tag_portal(ActivePortal, current_uid());
		/* a protocol Bind names its prepared statement in the portal */
		if (prepared_owners != NULL && ActivePortal->prepStmtName != NULL)
			check_prepared(ActivePortal->prepStmtName);
	}

	/* a materialized view is not filled from a protected table (R24) */
	tenancy_ddl_check_matview_fill(queryDesc->plannedstmt);
	queryDesc->plannedstmt = tenancy_ddl_matview_fill_plan(queryDesc->plannedstmt);

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/* a portal whose identity changed while it ran is read no further */
static void
session_executor_run(QueryDesc *queryDesc, ScanDirection direction,
					 uint64 count, bool execute_once)
{
	if (is_own_statement(ActivePortal, queryDesc->plannedstmt))
	{
		TenancyPortalTag *tag = find_tag(ActivePortal);

		if (tag != NULL && !tag_fits(tag))
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_DENIED),
					 errmsg("cursor \"%s\" was opened under another tenancy identity",
							ActivePortal->name),
					 errdetail("A cursor is read only under the identity it was opened under."),
					 errhint("Open the cursor again under the current identity.")));
	}

	/*
	 * a portal opened before a materialized view's fill and fetched inside
	 * it is refused like a statement started inside it (ddl.c)
	 */
	tenancy_ddl_check_matview_fill(queryDesc->plannedstmt);

	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();
}

/* what runs while a statement finishes (AFTER triggers) is inside it */
static void
session_executor_finish(QueryDesc *queryDesc)
{
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();
}

/* ----------------------------------------------------------------
 * Temporary relations
 * ----------------------------------------------------------------
 */

/*
 * is_fenced: does a relation belong to an identity?  Temporary tables and
 * views; their indexes and TOAST tables go with them, and a sequence holds
 * no row of anyone's.
 */
static bool
is_fenced(char relpersistence, char relkind)
{
	return relpersistence == RELPERSISTENCE_TEMP &&
		(relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
		 relkind == RELKIND_VIEW);
}

/* refuse a temporary relation that belongs to another identity */
static void
check_temp_relation(Oid relid)
{
	TenancyTempOwner *owner;
	int64		owner_uid = 0;
	HeapTuple	tuple;
	Form_pg_class form;
	bool		fenced;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return;
	form = (Form_pg_class) GETSTRUCT(tuple);
	fenced = is_fenced(form->relpersistence, form->relkind);
	ReleaseSysCache(tuple);
	if (!fenced)
		return;
	if (temp_owners != NULL)
	{
		owner = hash_search(temp_owners, &relid, HASH_FIND, NULL);
		if (owner != NULL)
			owner_uid = owner->user_id;
	}
	if (owner_uid != current_uid())
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("temporary table \"%s\" was created under another tenancy identity",
						get_rel_name(relid)),
				 errdetail("A temporary table is used only under the identity in force when it was created, so that rows read by one request never reach the next one on a pooled connection."),
				 errhint("Create the temporary table again under the current identity, or drop it.")));
}

static void
check_temp_rangevar(RangeVar *rv)
{
	Oid			relid;

	if (rv == NULL)
		return;
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (OidIsValid(relid))
		check_temp_relation(relid);
}

/*
 * check_all_temp: refuse a command that works on every table it finds
 * (ANALYZE, VACUUM, CLUSTER without a table; REINDEX SCHEMA, DATABASE,
 * SYSTEM) while a temporary relation of another identity exists
 */
static void
check_all_temp(void)
{
	HASH_SEQ_STATUS status;
	TenancyTempOwner *owner;
	int64		uid = current_uid();
	Oid			first = InvalidOid;

	if (temp_owners == NULL)
		return;
	/* the oldest such table is named, whatever the hash table's order */
	hash_seq_init(&status, temp_owners);
	while ((owner = hash_seq_search(&status)) != NULL)
	{
		if (owner->user_id != uid &&
			(!OidIsValid(first) || owner->relid < first) &&
			SearchSysCacheExists1(RELOID, ObjectIdGetDatum(owner->relid)))
			first = owner->relid;
	}
	if (OidIsValid(first))
		check_temp_relation(first);
}

/* has the session a temporary schema (has it ever made a temporary object)? */
static bool
session_has_temp_schema(void)
{
	Oid			temp_nsp;
	Oid			temp_toast_nsp;

	GetTempNamespaceState(&temp_nsp, &temp_toast_nsp);
	return OidIsValid(temp_nsp);
}

/*
 * session_check_perms: the executor's and COPY's permission check of a
 * range table; refuses temporary relations of another identity.
 */
static bool
session_check_perms(TENANCY_CHECK_PERMS_ARGS)
{
	ListCell   *lc;

	if (prev_ExecutorCheckPerms &&
		!prev_ExecutorCheckPerms(TENANCY_CHECK_PERMS_PASS))
		return false;
	if (IsParallelWorker() || !session_has_temp_schema())
		return true;

	foreach(lc, rangeTable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind != RTE_RELATION)
			continue;
		/* statistics hold a temporary table's values (pg_stats) */
		if (rte->relid == StatisticRelationId ||
			rte->relid == StatisticExtDataRelationId)
			check_all_temp();
		else
			check_temp_relation(rte->relid);
	}
	return true;
}

/* ----------------------------------------------------------------
 * Prepared statements
 * ----------------------------------------------------------------
 */

/*
 * executed_name: the prepared statement that EXPLAIN or CREATE TABLE AS
 * runs (their query, analysed, is a utility Query of an ExecuteStmt, or of
 * another of them), or NULL
 */
static const char *
executed_name(Node *query)
{
	/* EXPLAIN ANALYZE CREATE TABLE AS EXECUTE nests them */
	while (query != NULL)
	{
		if (IsA(query, Query) && ((Query *) query)->commandType == CMD_UTILITY)
			query = ((Query *) query)->utilityStmt;
		else if (IsA(query, ExplainStmt))
			query = ((ExplainStmt *) query)->query;
		else if (IsA(query, CreateTableAsStmt))
			query = ((CreateTableAsStmt *) query)->query;
		else if (IsA(query, ExecuteStmt))
			return ((ExecuteStmt *) query)->name;
		else
			return NULL;
	}
	return NULL;
}

/* refuse a statement prepared with SQL under another identity or login */
static void
check_prepared(const char *name)
{
	TenancyPreparedOwner *owner;
	PreparedStatement *statement;

	if (prepared_owners == NULL || name == NULL || name[0] == '\0')
		return;
	owner = hash_search(prepared_owners, name, HASH_FIND, NULL);
	if (owner == NULL)
		return;
	/* closed with the protocol's Close and made again by a Parse: no owner */
	statement = FetchPreparedStatement(name, false);
	if (statement == NULL || !statement->from_sql)
	{
		(void) hash_search(prepared_owners, name, HASH_REMOVE, NULL);
		return;
	}
	if (owner->user_id != current_uid() || owner->login != GetSessionUserId())
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("prepared statement \"%s\" was prepared under another tenancy identity",
						name),
				 errdetail("A statement prepared with SQL runs only under the identity it was prepared under, so that one request's SQL never runs as the next one on a pooled connection."),
				 errhint("Prepare the statement again under the current identity (DEALLOCATE, then PREPARE).")));
}

/* is the owner's statement gone (closed with the protocol's Close)? */
static bool
prepared_owner_closed(TenancyPreparedOwner *owner)
{
	PreparedStatement *statement = FetchPreparedStatement(owner->name, false);

	return statement == NULL || !statement->from_sql ||
		statement->plansource->query_string != owner->source;
}

/* drop the owners of statements that no longer exist (see above) */
static void
sweep_prepared_owners(void)
{
	HASH_SEQ_STATUS status;
	TenancyPreparedOwner *owner;

	hash_seq_init(&status, prepared_owners);
	while ((owner = hash_seq_search(&status)) != NULL)
	{
		if (prepared_owner_closed(owner))
			(void) hash_search(prepared_owners, owner->name, HASH_REMOVE, NULL);
	}
	prepared_owners_sweep_at = Max(PREPARED_OWNERS_SWEEP_MIN,
								   2 * hash_get_num_entries(prepared_owners));
}

/* note_prepared_owner: statement name was prepared by user_id and the login */
static void
note_prepared_owner(const char *name, int64 user_id, const char *source)
{
	TenancyPreparedOwner *owner;

	if (prepared_owners == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(TenancyPreparedOwner);
		prepared_owners = hash_create("tenancy prepared statement owners", 16,
									  &ctl, HASH_ELEM | HASH_STRINGS);
	}
	else if (hash_get_num_entries(prepared_owners) >= prepared_owners_sweep_at)
		sweep_prepared_owners();
	owner = hash_search(prepared_owners, name, HASH_ENTER, NULL);
	owner->user_id = user_id;
	owner->login = GetSessionUserId();
	owner->source = source;
}

/*
 * note_prepared: after a utility statement succeeded, the owner of what
 * PREPARE made, and the owners DEALLOCATE and DISCARD ALL removed
 */
static void
note_prepared(Node *parsetree)
{
	if (IsA(parsetree, PrepareStmt))
	{
		const char *name = ((PrepareStmt *) parsetree)->name;
		PreparedStatement *statement = FetchPreparedStatement(name, false);

		note_prepared_owner(name, current_uid(),
							statement != NULL ? statement->plansource->query_string : NULL);
	}
	else if (prepared_owners != NULL &&
			 ((IsA(parsetree, DeallocateStmt) && ((DeallocateStmt *) parsetree)->name == NULL) ||
			  (IsA(parsetree, DiscardStmt) && ((DiscardStmt *) parsetree)->target == DISCARD_ALL)))
	{
		hash_destroy(prepared_owners);
		prepared_owners = NULL;
		prepared_owners_sweep_at = PREPARED_OWNERS_SWEEP_MIN;
	}
	else if (prepared_owners != NULL && IsA(parsetree, DeallocateStmt))
		(void) hash_search(prepared_owners, ((DeallocateStmt *) parsetree)->name,
						   HASH_REMOVE, NULL);
}

/* ----------------------------------------------------------------
 * Before planning
 * ----------------------------------------------------------------
 */

/* every relation the query names, a view's too, checked as a temporary one */
static bool
temp_relations_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		/* a view expanded by the rewriter keeps its OID on some versions */
		if ((rte->rtekind == RTE_RELATION || rte->rtekind == RTE_SUBQUERY) &&
			OidIsValid(rte->relid))
			check_temp_relation(rte->relid);
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, temp_relations_walker, context,
								 QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, temp_relations_walker, context);
}

/* the statement prepared with SQL whose plan source query_string is, if any */
static void
check_prepared_source(const char *query_string)
{
	HASH_SEQ_STATUS status;
	TenancyPreparedOwner *owner;

	hash_seq_init(&status, prepared_owners);
	while ((owner = hash_seq_search(&status)) != NULL)
	{
		PreparedStatement *statement;

		if (owner->source != query_string)
			continue;
		statement = FetchPreparedStatement(owner->name, false);
		if (statement != NULL && statement->from_sql &&
			statement->plansource->query_string == query_string)
		{
			hash_seq_term(&status);
			check_prepared(owner->name);
			return;
		}
	}
}

/*
 * tenancy_session_check_plan: the planner hook's first question, before
 * anything of the query is evaluated (see the file header)
 */
void
tenancy_session_check_plan(Query *parse, const char *query_string)
{
	if (IsParallelWorker())
		return;
	if (prepared_owners != NULL && query_string != NULL)
		check_prepared_source(query_string);
	if (session_has_temp_schema())
		(void) temp_relations_walker((Node *) parse, NULL);
}

/*
 * session_post_parse_analyze: the same look at the relations of a query
 * parsed while another is planned: the body of a SQL function the planner
 * inlines (see the file header)
 */
static void
session_post_parse_analyze(TENANCY_POST_PARSE_ARGS)
{
	if (prev_post_parse_analyze)
		prev_post_parse_analyze(TENANCY_POST_PARSE_PASS);
	tenancy_token_hide_statement();
	if (!IsParallelWorker() && session_has_temp_schema())
		(void) temp_relations_walker((Node *) query, NULL);
}

/* ----------------------------------------------------------------
 * Temporary types
 * ----------------------------------------------------------------
 */

/*
 * created_row: a copy of the row of catalog whose OID column oid_attnum
 * (indexed by index) is oid, or NULL.  Read with SnapshotSelf: an object
 * being created is not in the syscache yet, nor the row type an array type
 * is created for in the same command.
 */
static HeapTuple
created_row(Oid catalog, Oid index, AttrNumber oid_attnum, Oid oid)
{
	Relation	rel = table_open(catalog, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	ScanKeyInit(&key, oid_attnum, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(oid));
	scan = systable_beginscan(rel, index, true, SnapshotSelf, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		tuple = heap_copytuple(tuple);
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return tuple;
}

/* the pg_type row of typid (see created_row) */
static HeapTuple
type_tuple(Oid typid)
{
	return created_row(TypeRelationId, TypeOidIndexId, Anum_pg_type_oid, typid);
}

/*
 * temporary_type_allowed: the row type of a temporary table or view (a
 * relation that is not a standalone composite type), or an array of one
 */
static bool
temporary_type_allowed(Form_pg_type form)
{
	if (OidIsValid(form->typrelid))
	{
		Relation	rel = RelationIdGetRelation(form->typrelid);
		bool		allowed;

		if (rel == NULL)
			return false;
		allowed = rel->rd_rel->relkind != RELKIND_COMPOSITE_TYPE;
		RelationClose(rel);
		return allowed;
	}
	if (OidIsValid(form->typelem) && form->typcategory == TYPCATEGORY_ARRAY)
	{
		HeapTuple	elem = type_tuple(form->typelem);
		bool		allowed;

		if (elem == NULL)
			return false;
		allowed = OidIsValid(((Form_pg_type) GETSTRUCT(elem))->typrelid) &&
			temporary_type_allowed((Form_pg_type) GETSTRUCT(elem));
		heap_freetuple(elem);
		return allowed;
	}
	return false;
}

static void
refuse_temporary_type(const char *name, bool existing)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 existing ?
			 errmsg("cannot act as a tenancy user while temporary type \"%s\" exists", name) :
			 errmsg("cannot create temporary type \"%s\"", name),
			 errdetail("A temporary type outlives the request that creates it and takes the place of a type of the same name in every later statement of the session, under every identity; a domain's CHECK would run its code there."),
			 existing ?
			 errhint("Drop it (DISCARD TEMP drops every temporary object), then act again.") :
			 errhint("Create the type in a permanent schema, as a deployment step; temporary tables may use it.")));
}

/*
 * takes_builtin_name: would a temporary type take the place of a built-in
 * type of the same name?  (The row type of a temporary table named "text"
 * turns every later '...'::text into a record's input.)
 */
static bool
takes_builtin_name(Form_pg_type form)
{
	return OidIsValid(GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									  NameGetDatum(&form->typname),
									  ObjectIdGetDatum(PG_CATALOG_NAMESPACE)));
}

/*
 * check_new_type: the object access hook's check of a type created, or
 * renamed with its table or view (see the file header)
 */
static void
check_new_type(Oid typid)
{
	HeapTuple	tuple = type_tuple(typid);
	Form_pg_type form;

	if (tuple == NULL)
		return;
	form = (Form_pg_type) GETSTRUCT(tuple);
	if (isTempNamespace(form->typnamespace))
	{
		if (!temporary_type_allowed(form))
			refuse_temporary_type(NameStr(form->typname), false);
		if (takes_builtin_name(form))
			ereport(ERROR,
					(errcode(ERRCODE_RESERVED_NAME),
					 errmsg("a temporary table or view cannot be named \"%s\"",
							NameStr(form->typname)),
					 errdetail("Its row type would take the place of built-in type %s in every later statement of the session, under every identity.",
							   NameStr(form->typname)),
					 errhint("Choose another name.")));
	}
	heap_freetuple(tuple);
}

/*
 * check_new_cast: refuse a cast from or to a temporary type.  PostgreSQL
 * finds a cast by its two types, not by schema: a temporary table named
 * "text", whose row type takes the place of pg_catalog.text in later
 * statements, with a cast from text to it and an implicit one back, ran the
 * request's function in every later request's ::text, under that identity
 * (1.3 attack).  (The table is refused by that name now too.)
 */
static void
check_new_cast(Oid castid)
{
	HeapTuple	tuple = created_row(CastRelationId, CastOidIndexId, Anum_pg_cast_oid, castid);
	Oid			types[2] = {InvalidOid, InvalidOid};
	int			i;

	if (tuple != NULL)
	{
		types[0] = ((Form_pg_cast) GETSTRUCT(tuple))->castsource;
		types[1] = ((Form_pg_cast) GETSTRUCT(tuple))->casttarget;
		heap_freetuple(tuple);
	}
	for (i = 0; i < lengthof(types); i++)
	{
		HeapTuple	type = OidIsValid(types[i]) ? type_tuple(types[i]) : NULL;
		bool		temporary;

		if (type == NULL)
			continue;
		temporary = isTempNamespace(((Form_pg_type) GETSTRUCT(type))->typnamespace);
		heap_freetuple(type);
		if (temporary)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot create a cast from or to temporary type %s",
							format_type_be(types[i])),
					 errdetail("A cast is found by its two types in every later statement of the session, under every identity."),
					 errhint("Create the cast on a permanent type, as a deployment step.")));
	}
}

/*
 * check_existing_types: the temporary types created before this library
 * was loaded, once per session (a scan of pg_type by namespace); refuse to
 * act while one that would be refused now exists
 */
static void
check_existing_types(void)
{
	Oid			temp_namespace;
	Oid			temp_toast_namespace;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *refused = NULL;

	GetTempNamespaceState(&temp_namespace, &temp_toast_namespace);
	if (OidIsValid(temp_namespace))
	{
		rel = table_open(TypeRelationId, AccessShareLock);
		ScanKeyInit(&key, Anum_pg_type_typnamespace, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(temp_namespace));
		scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
		while (refused == NULL && HeapTupleIsValid(tuple = systable_getnext(scan)))
		{
			Form_pg_type form = (Form_pg_type) GETSTRUCT(tuple);

			CHECK_FOR_INTERRUPTS();
			if (!temporary_type_allowed(form) || takes_builtin_name(form))
				refused = pstrdup(NameStr(form->typname));
		}
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
	}
	if (refused != NULL)
		refuse_temporary_type(refused, true);
	temp_types_checked = true;
}

static void
session_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					  int subId, void *arg)
{
	if (prev_object_access)
		prev_object_access(access, classId, objectId, subId, arg);

	/* ALTER TABLE or VIEW ... RENAME renames the row type: OAT_POST_ALTER */
	if (classId == TypeRelationId &&
		(access == OAT_POST_CREATE || access == OAT_POST_ALTER) &&
		!IsParallelWorker())
		check_new_type(objectId);
	if (classId == CastRelationId && access == OAT_POST_CREATE &&
		!IsParallelWorker())
		check_new_cast(objectId);
	if (classId != RelationRelationId || subId != 0 || IsParallelWorker())
		return;

	if (access == OAT_POST_CREATE)
	{
		/* the new relation is in the relcache, not yet in the syscache */
		Relation	rel = RelationIdGetRelation(objectId);
		bool		temp;
		TenancyTempOwner *owner;
		MemoryContext old;

		if (rel == NULL)
			return;
		temp = is_fenced(rel->rd_rel->relpersistence, rel->rd_rel->relkind);
		RelationClose(rel);
		if (!temp)
			return;
		if (temp_owners == NULL)
		{
			HASHCTL		ctl;

			ctl.keysize = sizeof(Oid);
			ctl.entrysize = sizeof(TenancyTempOwner);
			temp_owners = hash_create("tenancy temporary relation owners", 64,
									  &ctl, HASH_ELEM | HASH_BLOBS);
		}
		owner = hash_search(temp_owners, &objectId, HASH_ENTER, NULL);
		owner->user_id = current_uid();
		/* forgotten again if its transaction or subtransaction rolls back */
		old = MemoryContextSwitchTo(TopTransactionContext);
		created_temp = lappend_oid(created_temp, objectId);
		MemoryContextSwitchTo(old);
	}
	else if (access == OAT_DROP && temp_owners != NULL &&
			 hash_search(temp_owners, &objectId, HASH_FIND, NULL) != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		dropped_temp = lappend_oid(dropped_temp, objectId);
		MemoryContextSwitchTo(old);
	}
}

/*
 * session_utility: the utility hook.  DISCARD ALL and DISCARD TEMP drop
 * every temporary relation through the object access hook's OAT_DROP, so
 * their owners are forgotten when the drop commits, like any other drop.
 */
static void
session_utility(TENANCY_UTILITY_ARGS)
{
	Node	   *parsetree = pstmt->utilityStmt;
	bool		fills_matview;

	check_utility(pstmt);
	fills_matview = tenancy_ddl_matview_fill_begin(parsetree);
	nesting_level++;
	PG_TRY();
	{
		(prev_ProcessUtility ? prev_ProcessUtility : standard_ProcessUtility)
			(TENANCY_UTILITY_PASS);
	}
	PG_FINALLY();
	{
		nesting_level--;
		if (fills_matview)
			tenancy_ddl_matview_fill_end();
	}
	PG_END_TRY();

	/* first, before anything below can fail: PREPARE is not transactional */
	if (!IsParallelWorker())
		note_prepared(parsetree);

	/*
	 * SET SESSION AUTHORIZATION (or DISCARD ALL) may have changed the login:
	 * close the cursors of the login before now, not at the next statement
	 * (a protocol Execute of a held cursor would come first)
	 */
	if (!IsParallelWorker())
	{
		note_login();
		if (identity_moved)
			sweep_portals(false);
	}
}

/* FETCH or MOVE of a cursor opened under another identity */
static void
check_fetch(FetchStmt *stmt)
{
	Portal		portal = stmt->portalname ? GetPortalByName(stmt->portalname) : NULL;
	TenancyPortalTag *tag = portal ? find_tag(portal) : NULL;

	if (tag != NULL && !tag_fits(tag))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("cursor \"%s\" was opened under another tenancy identity",
						portal->name),
				 errdetail("A cursor is read only under the identity it was opened under."),
				 errhint("Open the cursor again under the current identity.")));
}

/*
 * check_temp_utility: utility statements that would use a temporary
 * relation of another identity (see the header, Temporary relations)
 */
static void
check_temp_utility(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			check_temp_rangevar(((IndexStmt *) parsetree)->relation);
			break;
		case T_AlterTableStmt:
			{
				ListCell   *lc;

				check_temp_rangevar(((AlterTableStmt *) parsetree)->relation);
				/* attaching a partition validates its rows */
				foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_AttachPartition)
						check_temp_rangevar(((PartitionCmd *) cmd->def)->name);
					/* a new parent's defaults and constraints reach the child */
					if (cmd->subtype == AT_AddInherit)
						check_temp_rangevar((RangeVar *) cmd->def);
				}
				break;
			}
		case T_CreateStmt:
			{
				ListCell   *lc;

				/* a new partition validates the rows of its default sibling */
				foreach(lc, ((CreateStmt *) parsetree)->inhRelations)
					check_temp_rangevar(lfirst_node(RangeVar, lc));
				/* LIKE ... INCLUDING DEFAULTS copies another identity's code */
				foreach(lc, ((CreateStmt *) parsetree)->tableElts)
					if (IsA(lfirst(lc), TableLikeClause))
						check_temp_rangevar(((TableLikeClause *) lfirst(lc))->relation);
				break;
			}
		/*
		 * Code attached to another identity's temporary relation would run
		 * under that identity at its next use (a trigger, a rule, a view
		 * replaced, a policy); TRUNCATE fires its triggers here (1.3 attack)
		 */
		case T_CreateTrigStmt:
			check_temp_rangevar(((CreateTrigStmt *) parsetree)->relation);
			break;
		case T_RuleStmt:
			check_temp_rangevar(((RuleStmt *) parsetree)->relation);
			break;
		case T_ViewStmt:
			if (((ViewStmt *) parsetree)->replace)
				check_temp_rangevar(((ViewStmt *) parsetree)->view);
			break;
		case T_CreatePolicyStmt:
			check_temp_rangevar(((CreatePolicyStmt *) parsetree)->table);
			break;
		case T_AlterPolicyStmt:
			check_temp_rangevar(((AlterPolicyStmt *) parsetree)->table);
			break;
		case T_TruncateStmt:
			{
				ListCell   *lc;

				foreach(lc, ((TruncateStmt *) parsetree)->relations)
					check_temp_rangevar(lfirst_node(RangeVar, lc));
				break;
			}
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->relation != NULL)
				check_temp_rangevar(((RenameStmt *) parsetree)->relation);
			break;
		case T_ClusterStmt:
			if (((ClusterStmt *) parsetree)->relation == NULL)
				check_all_temp();
			check_temp_rangevar(((ClusterStmt *) parsetree)->relation);
			break;
		case T_ReindexStmt:
			if (((ReindexStmt *) parsetree)->relation == NULL)
				check_all_temp();
			check_temp_rangevar(((ReindexStmt *) parsetree)->relation);
			break;
		case T_CreateStatsStmt:
			{
				ListCell   *lc;

				foreach(lc, ((CreateStatsStmt *) parsetree)->relations)
					if (IsA(lfirst(lc), RangeVar))
						check_temp_rangevar((RangeVar *) lfirst(lc));
				break;
			}
		case T_VacuumStmt:
			{
				ListCell   *lc;

				if (((VacuumStmt *) parsetree)->rels == NIL)
					check_all_temp();
				foreach(lc, ((VacuumStmt *) parsetree)->rels)
					check_temp_rangevar(lfirst_node(VacuumRelation, lc)->relation);
				break;
			}
		default:
			break;
	}
}

/*
 * check_utility: before a utility statement, tag a portal that runs it as
 * its own statement, sweep after an identity change, refuse FETCH and MOVE
 * of a portal of another identity and DDL that reads a temporary relation
 * of another identity.
 */
static void
check_utility(PlannedStmt *pstmt)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsParallelWorker())
		return;
	note_login();
	if (identity_moved)
		sweep_portals(false);
	if (is_own_statement(ActivePortal, pstmt))
	{
		if (nesting_level == 0)
			tenancy_statement_number++;
		tag_portal(ActivePortal, current_uid());
	}

	switch (nodeTag(parsetree))
	{
		case T_FetchStmt:
			check_fetch((FetchStmt *) parsetree);
			break;
		case T_ExecuteStmt:
			check_prepared(((ExecuteStmt *) parsetree)->name);
			break;
		case T_ExplainStmt:
			check_prepared(executed_name(((ExplainStmt *) parsetree)->query));
			break;
		case T_CreateTableAsStmt:
			check_prepared(executed_name(((CreateTableAsStmt *) parsetree)->query));
			break;
		default:
			break;
	}

	if (session_has_temp_schema())
		check_temp_utility(parsetree);
}

/* ----------------------------------------------------------------
 * Transaction end
 * ----------------------------------------------------------------
 */

/*
 * forget_owners: remove the owners of relations that are gone.  Called at
 * COMMIT and ABORT, where catalog work is over: a backend hash's removal
 * only, which cannot fail.
 */
static void
forget_owners(List *relids)
{
	ListCell   *lc;

	if (temp_owners == NULL)
		return;
	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);

		(void) hash_search(temp_owners, &relid, HASH_REMOVE, NULL);
	}
}

static void
session_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			{
				ListCell   *lc;
				List	   *gone;
				MemoryContext old;

				/* holdable portals must not outlive a transaction-local identity */
				if (tenancy_identity_current()->local)
					sweep_portals(true);
				else if (identity_moved)
					sweep_portals(false);

				/*
				 * the temporary relations gone for good: dropped (a
				 * rolled-back subtransaction brought some back), or created
				 * by a subtransaction that rolled back.  Their owners are
				 * forgotten at the commit itself, as the steps of the commit
				 * after this callback may still fail and bring a dropped one
				 * back (1.3 attack).
				 */
				old = MemoryContextSwitchTo(TopTransactionContext);
				gone = NIL;
				foreach(lc, list_concat_copy(dropped_temp, created_temp))
				{
					Oid			relid = lfirst_oid(lc);

					if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
						gone = lappend_oid(gone, relid);
				}
				MemoryContextSwitchTo(old);
				dropped_temp = gone;
				/* kept: a step of the commit after this may still fail */
				break;
			}
		case XACT_EVENT_COMMIT:
			forget_owners(dropped_temp);
			dropped_temp = NIL;
			created_temp = NIL;
			break;
		case XACT_EVENT_ABORT:
			/* what the transaction created is gone (also after PRE_COMMIT) */
			forget_owners(created_temp);
			dropped_temp = NIL;
			created_temp = NIL;
			break;
		case XACT_EVENT_PREPARE:
			/* PostgreSQL refuses to prepare one that used temporary objects */
			dropped_temp = NIL;
			created_temp = NIL;
			break;
		default:
			break;
	}
}
