/*-------------------------------------------------------------------------
 *
 * migration.c
 *	  Dossier migration: the approved, audited state machine that moves an
 *	  administration from one compartment (the source) to another (the
 *	  target) (R16-R19, R21).
 *
 * States and steps.  The transition table below (migration_transitions) is
 * the one place that says which step leads from which state to which:
 * every step function asks it for its next state (next_state), which
 * refuses a step the table does not allow from the migration's state, and
 * writes the state it answers; the view tenancy.migrations shows the steps
 * it allows (migration_next_steps), and a migration is open while its
 * state allows a step (open_migration).
 *
 * ---------------------------------------------------------------------
 *
 *	 request_migration
 *			|
 *			v
 *	 +-----------+  approve_migration (x3: source, client, target)
 *	 | requested |------------------------------+
 *	 +-----------+                              |
 *		|  |  reject_migration (any party)      v
 *		|  +---------------------------+  +----------+
 *		|     cancel_migration         |  | approved |---- reject / cancel --+
 *		|     (requester's side)       |  +----------+                       |
 *		v                              v     |                |             |
 *	 +-----------+  +----------+          |                |             |
 *	 | cancelled |  | rejected |<---------|----------------|-------------+
 *	 +-----------+  +----------+          |                |
 *		 ^                                 |                |
 *		 +---------------------------------+                |
 *	                archive_and_transfer:    export_and_delete:
 *	                transfer_migration       confirm_export
 *	                (target admin)           (source admin)
 *	                      |                        v
 *	                      |                  +----------+
 *	                      |                  | exported |
 *	                      |                  +----------+
 *	                      |                        | delete_at_source (source admin)
 *	                      |                        v
 *	                      |              +-------------------+
 *	                      |              | deleted_at_source |
 *	                      |              +-------------------+
 *	                      |                        | activate_at_target (target admin)
 *	                      v                        v
 *	                 +-------------------------------+
 *	                 |           completed           |
 *	                 +-------------------------------+
 *
 *	 rejected, cancelled and completed are final.
 *
 * ---------------------------------------------------------------------
 *
 * Parties (R17).  The party a caller acts for is derived from its
 * identity, never passed in: an enabled internal administrator of the
 * source compartment is the source, one of the target compartment the
 * target, an enabled external user of the administration's client holding
 * manage on it is the client.  Where the client has no such user, a source
 * administrator records the client's written consent by passing
 * consent_reference.  A unique key (migration, account) makes sure one
 * account never approves for two parties, another (migration, party) that a
 * party approves once.
 *
 * Client.  The client's approval belongs to the client the administration
 * has at the request, so the administration keeps that client while the
 * migration is open: move_administration (manage.c) asks
 * tenancy_migration_require_none_open() under the administration's row
 * lock, which every request takes too.
 *
 * Refusals.  request_migration tells why it refuses only to an
 * administrator of the administration's compartment; a target's
 * administrator naming another firm's dossier gets the refusal of an
 * unknown id for every state but "active without an open migration"
 * (R16).
 *
 * Writes.  The migration tables are written only here: their guard
 * trigger (triggers.c) refuses any other write (R21); the functions write
 * them with tenancy_catalog_state_write (catalog.c), which the guard lets
 * through.
 * Every step appends a row to migration_history and updates the migration
 * row, and the audit triggers copy both into the audit log (R22).  Each
 * step runs in its caller's transaction: an error undoes all of it.
 *
 * Lock order, in every step that takes them:
 *	1. the administration row, FOR UPDATE (transfer, delete_at_source) or
 *	   FOR NO KEY UPDATE (request);
 *	2. the migration row, FOR UPDATE (every step after request): two steps
 *	   on one migration run one after the other, and the second reads the
 *	   first one's result (approvals, state) before it decides;
 *	3. tenancy.audit_entry in SHARE ROW EXCLUSIVE mode, the lock every
 *	   audited catalog change takes (audit.c);
 *	4. transfer and delete_at_source only: the freeze, every protected
 *	   table in SHARE ROW EXCLUSIVE mode (tenancy_protect_freeze, protect.c),
 *	   which waits for the transactions writing them and holds new writers
 *	   back until commit;
 *	5. the catalog rows the step writes.
 * An ordinary writer of protected tables takes only ROW EXCLUSIVE on its
 * tables and locks on its own rows; it never waits for the administration,
 * migration or audit locks, so a cycle would need the step to wait for the
 * writer while holding a protected-table lock the writer waits for.  The
 * freeze never does that: it waits for a table's lock only while holding
 * none of the others (protect.c explains how, without polling).  Whoever
 * writes after the freeze waits for the step's commit, then acquires its
 * table lock, which makes it read the invalidation the step's commit sent:
 * its scope cache is rebuilt and the write is refused (the administration
 * is archived, or no longer in its compartment).  Whoever wrote before
 * committed before the freeze, and its rows move with the administration
 * (rows carry the administration id, which does not change).
 *
 * Transfer (R18).  Everything that may refuse runs before the freeze and
 * the first write.  The client's users are carried from SQL to SQL: their
 * users at the target and their rights on the successor are inserted from
 * the source permissions, before those are removed (the composite foreign
 * keys of permission allow the archive to move only then), and the rights
 * on the moved archive are copied from the successor's.  The rows the
 * migration does not carry are removed by protect.c, which owns the
 * protected tables.
 *
 * Loops.  The loops of this file are short and do no work of their own
 * (the constant tables of states and steps, a string, the list of tables
 * in a report); the ones that wait or write per protected table (the
 * freeze, the row removal) are protect.c's and check for interrupts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/rel.h"

#include "tenancy.h"

typedef enum TenancyMigrationState
{
	MS_REQUESTED,
	MS_APPROVED,
	MS_EXPORTED,
	MS_DELETED_AT_SOURCE,
	MS_COMPLETED,
	MS_REJECTED,
	MS_CANCELLED,
	MS_COUNT
} TenancyMigrationState;

static const char *const state_names[MS_COUNT] = {
	"requested", "approved", "exported", "deleted_at_source",
	"completed", "rejected", "cancelled"
};

/* scenarios, as bits so that a transition can name both */
#define SCENARIO_ARCHIVE	0x01
#define SCENARIO_EXPORT		0x02
#define SCENARIO_ANY		(SCENARIO_ARCHIVE | SCENARIO_EXPORT)

typedef enum TenancyMigrationStep
{
	STEP_APPROVE,
	STEP_REJECT,
	STEP_CANCEL,
	STEP_TRANSFER,
	STEP_CONFIRM_EXPORT,
	STEP_DELETE_AT_SOURCE,
	STEP_ACTIVATE,
	STEP_COUNT
} TenancyMigrationStep;

/* the SQL function of each step, and the verb its errors use */
static const char *const step_functions[STEP_COUNT] = {
	"approve_migration", "reject_migration", "cancel_migration",
	"transfer_migration", "confirm_export", "delete_at_source",
	"activate_at_target"
};
static const char *const step_verbs[STEP_COUNT] = {
	"approve", "reject", "cancel", "transfer", "confirm the export of",
	"delete at source", "activate"
};

typedef struct TenancyMigrationTransition
{
	TenancyMigrationStep step;
	TenancyMigrationState from;
	TenancyMigrationState to;
	int			scenarios;
} TenancyMigrationTransition;

/*
 * The transition table: the only place that says which step leads from
 * which state to which.  approve_migration reaches its "to" state with the
 * third party's approval; before that it stays in its "from" state.
 */
static const TenancyMigrationTransition migration_transitions[] = {
	{STEP_APPROVE, MS_REQUESTED, MS_APPROVED, SCENARIO_ANY},
	{STEP_REJECT, MS_REQUESTED, MS_REJECTED, SCENARIO_ANY},
	{STEP_CANCEL, MS_REQUESTED, MS_CANCELLED, SCENARIO_ANY},
	{STEP_TRANSFER, MS_APPROVED, MS_COMPLETED, SCENARIO_ARCHIVE},
	{STEP_CONFIRM_EXPORT, MS_APPROVED, MS_EXPORTED, SCENARIO_EXPORT},
	{STEP_REJECT, MS_APPROVED, MS_REJECTED, SCENARIO_ANY},
	{STEP_CANCEL, MS_APPROVED, MS_CANCELLED, SCENARIO_ANY},
	{STEP_DELETE_AT_SOURCE, MS_EXPORTED, MS_DELETED_AT_SOURCE, SCENARIO_EXPORT},
	{STEP_ACTIVATE, MS_DELETED_AT_SOURCE, MS_COMPLETED, SCENARIO_EXPORT},
};

/* one migration row */
typedef struct TenancyMigration
{
	int64		id;
	int64		administration_id;
	int64		source_compartment_id;
	int64		source_client_id;
	int64		target_compartment_id;
	int64		target_client_id;
	int64		requested_by;
	int64		requesting_compartment_id;
	TenancyMigrationState state;
	int			scenario;
	char	   *scenario_name;
} TenancyMigration;

/* who calls: the user the session acts as */
typedef struct TenancyMigrationCaller
{
	int64		user_id;
	int64		compartment_id;
	int64		account_id;
	TenancyUserFacts user;		/* rights.c: kind, client, administrator */
	char	   *db_role;
} TenancyMigrationCaller;

/* what a step writes besides its new state (set_state, append_history) */
typedef struct TenancyStepOutcome
{
	const char *reason;			/* reject: the reason */
	const char *report;			/* the migration's report, jsonb text */
	int64		target_client_id;	/* or 0 */
	int64		successor_id;	/* or 0 */
	const char *detail;			/* the history row's detail, jsonb text */
} TenancyStepOutcome;

/* what transfer_migration did, for its report */
typedef struct TenancyTransfer
{
	char	   *original_code;	/* the administration's code at the source */
	char	   *archived_code;	/* its code at the target */
	char	   *successor_code;
	int64		successor_id;
	int64		carried;		/* rights of the client's users carried */
	int64		users_created;
	int64		rights_granted;
	int64		permissions_removed;
	int64		delegations_removed;
	int64		rows_removed;
	List	   *removed;		/* of TenancyRemovedRows */
} TenancyTransfer;

static TenancyMigrationState find_state(const char *name);
static TenancyMigrationState parse_state(const char *name);
static int	parse_scenario(const char *name, bool missing_ok);
static const TenancyMigrationTransition *find_transition(TenancyMigrationStep step,
														 TenancyMigrationState from,
														 int scenario);
static int	allowed_steps(TenancyMigrationState state, int scenario,
						  const char **names);
static char *next_steps_text(TenancyMigrationState state, int scenario);
static TenancyMigrationState next_state(const TenancyMigration *m,
										TenancyMigrationStep step);
static void load_caller(TenancyMigrationCaller *caller);
static bool fetch_migration(int64 id, bool lock, TenancyMigration *m);
static bool caller_sees(const TenancyMigrationCaller *c, const TenancyMigration *m);
static bool is_source_admin(const TenancyMigrationCaller *c, const TenancyMigration *m);
static bool is_target_admin(const TenancyMigrationCaller *c, const TenancyMigration *m);
static bool is_client_user(const TenancyMigrationCaller *c, const TenancyMigration *m);
static bool holds_manage(int64 user_id, int64 administration_id);
static int64 client_manage_users(const TenancyMigration *m);
static bool client_approver_at_request(int64 migration_id);
static void load_visible_migration(int64 id, const TenancyMigrationCaller *caller,
								   TenancyMigration *m);
static void lock_step(const TenancyMigration *m, bool lock_administration,
					  TenancyMigration *locked);
static void refuse_role(const TenancyMigration *m, TenancyMigrationStep step,
						const TenancyMigrationCaller *c,
						const char *who) pg_attribute_noreturn();
static void set_state(const TenancyMigration *m, TenancyMigrationState to,
					  const char *reason, const char *report,
					  int64 target_client_id, int64 successor_id);
static void append_history(int64 migration_id, const char *step,
						   const char *from_state, const char *to_state,
						   const char *party, const TenancyMigrationCaller *c,
						   const char *detail);
static void record_step(const TenancyMigration *locked, TenancyMigrationStep step,
						TenancyMigrationState to, const char *party,
						const TenancyMigrationCaller *c,
						const TenancyStepOutcome *outcome);
static void require_target_client(const TenancyMigration *m, int64 client_id);
static int64 create_administration(const TenancyMigration *m, int64 client_id,
								   const char *code);
static ArrayType *open_states(void);
static bool open_migration(int64 administration_id, int64 *id, char **state);
static void refuse_request(int64 administration_id) pg_attribute_noreturn();
static void require_requester(const TenancyMigrationCaller *caller);
static void check_request(int64 administration_id, int64 target_compartment_id,
						  const TenancyMigrationCaller *caller);
static int64 lock_requested(int64 administration_id, int64 target_compartment_id,
							const TenancyMigrationCaller *caller);
static int64 insert_migration(int64 administration_id, const char *scenario,
							  int64 target_compartment_id,
							  const TenancyMigrationCaller *caller);
static const char *approving_party(const TenancyMigrationCaller *caller,
								   const TenancyMigration *m, const char *consent);
static int64 approver_of(int64 migration_id, const char *party);
static void require_new_approval(const TenancyMigration *m, const char *party,
								 const TenancyMigrationCaller *caller);
static void require_paper_route(const TenancyMigration *m);
static int64 insert_approval(const TenancyMigration *m, const char *party,
							 const TenancyMigrationCaller *caller, const char *consent);
static const char *rejecting_party(const TenancyMigrationCaller *c,
								   const TenancyMigration *m);
static TenancyMigrationState begin_admin_step(int64 migration_id,
											  TenancyMigrationStep step, bool target,
											  bool lock_administration,
											  TenancyMigrationCaller *caller,
											  TenancyMigration *locked);
static void require_successor(const TenancyMigration *m, int64 client_id,
							  const char *code);
static char *require_active_code(const TenancyMigration *m);
static int64 check_carry(const TenancyMigration *m, int64 target_client_id);
static int64 carried_rights(int64 administration_id);
static void require_carry_allowed(int64 administration_id, int64 target_compartment_id,
								  int64 carried);
static char *archive_code(const TenancyMigration *m, const char *successor_code);
static void carry_client_users(const TenancyMigration *m, int64 target_client_id,
							   int64 successor_id, TenancyTransfer *t);
static void detach_from_source(const TenancyMigration *m, TenancyTransfer *t);
static void move_archive(const TenancyMigration *m, int64 target_client_id,
						 int64 successor_id, TenancyTransfer *t);
static char *removed_json(List *removed);
static char *transfer_report(const TenancyMigration *m, int64 target_client_id,
							 const TenancyTransfer *t);

/* ------------------------------------------------------------------
 * The state machine
 * ------------------------------------------------------------------ */

/* the state of that name, or MS_COUNT */
static TenancyMigrationState
find_state(const char *name)
{
	int			i;

	for (i = 0; i < MS_COUNT; i++)
		if (strcmp(name, state_names[i]) == 0)
			break;
	return (TenancyMigrationState) i;
}

/* the state of a migration row (the table's CHECK allows no other) */
static TenancyMigrationState
parse_state(const char *name)
{
	TenancyMigrationState state = find_state(name);

	if (state == MS_COUNT)
		elog(ERROR, "unknown migration state \"%s\"", name);
	return state;
}

static int
parse_scenario(const char *name, bool missing_ok)
{
	if (strcmp(name, "archive_and_transfer") == 0)
		return SCENARIO_ARCHIVE;
	if (strcmp(name, "export_and_delete") == 0)
		return SCENARIO_EXPORT;
	if (!missing_ok)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid migration scenario \"%s\"", name),
				 errhint("A scenario is \"archive_and_transfer\" or \"export_and_delete\".")));
	return 0;
}

static const TenancyMigrationTransition *
find_transition(TenancyMigrationStep step, TenancyMigrationState from, int scenario)
{
	int			i;

	for (i = 0; i < lengthof(migration_transitions); i++)
	{
		const TenancyMigrationTransition *t = &migration_transitions[i];

		if (t->step == step && t->from == from && (t->scenarios & scenario))
			return t;
	}
	return NULL;
}

/*
 * allowed_steps: the SQL functions of the steps the table allows from a
 * state, in step order, into names[STEP_COUNT]; returns how many
 */
static int
allowed_steps(TenancyMigrationState state, int scenario, const char **names)
{
	int			n = 0;
	int			step;

	for (step = 0; step < STEP_COUNT; step++)
		if (find_transition((TenancyMigrationStep) step, state, scenario))
			names[n++] = step_functions[step];
	return n;
}

/* the steps allowed from a state, as "a, b, c", or NULL when final */
static char *
next_steps_text(TenancyMigrationState state, int scenario)
{
	const char *names[STEP_COUNT];
	StringInfoData buf;
	int			n = allowed_steps(state, scenario, names);
	int			i;

	if (n == 0)
		return NULL;
	initStringInfo(&buf);
	for (i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", names[i]);
	return buf.data;
}

/*
 * next_state: the state the step leads to from the migration's state, as
 * the transition table says.  A step the table does not allow from that
 * state is refused with 55000, naming the state and the steps allowed
 * from it (R21).
 */
static TenancyMigrationState
next_state(const TenancyMigration *m, TenancyMigrationStep step)
{
	const TenancyMigrationTransition *t = find_transition(step, m->state, m->scenario);
	char	   *allowed;

	if (t != NULL)
		return t->to;
	allowed = next_steps_text(m->state, m->scenario);
	if (allowed == NULL)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("cannot %s migration %lld in state \"%s\"",
						step_verbs[step], (long long) m->id, state_names[m->state]),
				 errdetail("State \"%s\" is final: no step is allowed from it.",
						   state_names[m->state]),
				 errhint("Request a new migration if the administration must still move.")));
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_BAD_STATE),
			 errmsg("cannot %s migration %lld in state \"%s\"",
					step_verbs[step], (long long) m->id, state_names[m->state]),
			 errdetail("Steps allowed from state \"%s\" of an %s migration: %s.",
					   state_names[m->state], m->scenario_name, allowed),
			 (step == STEP_ACTIVATE && m->scenario == SCENARIO_EXPORT) ?
			 errhint("The source must confirm the export and delete the administration first.") :
			 (m->state == MS_REQUESTED) ?
			 errhint("All three parties (source, client, target) must approve first.") : 0));
	return m->state;			/* keep compiler quiet */
}

/* ------------------------------------------------------------------
 * Arguments and catalog access
 * ------------------------------------------------------------------ */

/*
 * load_caller: the user the session acts as.  Every step is taken on
 * behalf of a party, so an identity is required; platform operators without
 * one are no party.
 */
static void
load_caller(TenancyMigrationCaller *caller)
{
	const TenancyIdentity *ident = tenancy_identity_current();

	memset(caller, 0, sizeof(TenancyMigrationCaller));
	caller->db_role = GetUserNameFromId(GetUserId(), false);
	if (ident->user_id == 0)
		tenancy_catalog_error_no_identity("Migration steps are taken on behalf of a party: an administrator of the source or target compartment, or a user of the client.",
										  NULL);
	if (!tenancy_rights_identity_user(&caller->user) || caller->user.disabled)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("user %lld is disabled or does not exist", (long long) ident->user_id),
				 errhint("Act as an enabled user.")));
	caller->user_id = ident->user_id;
	caller->compartment_id = ident->compartment_id;
	caller->account_id = ident->account_id;
}

/* fetch_migration: one migration row, optionally locked FOR UPDATE */
static bool
fetch_migration(int64 id, bool lock, TenancyMigration *m)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr lock_plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int64		ints[8];
	char	   *texts[2];
	const char *sql_base =
		"SELECT m.administration_id, m.source_compartment_id, m.source_client_id,"
		"       m.target_compartment_id, m.target_client_id, m.requested_by,"
		"       m.requesting_compartment_id, m.id, m.state, m.scenario"
		"  FROM tenancy.migration m WHERE m.id = $1";
	const char *sql_lock =
		"SELECT m.administration_id, m.source_compartment_id, m.source_client_id,"
		"       m.target_compartment_id, m.target_client_id, m.requested_by,"
		"       m.requesting_compartment_id, m.id, m.state, m.scenario"
		"  FROM tenancy.migration m WHERE m.id = $1 FOR UPDATE";

	values[0] = Int64GetDatum(id);
	if (tenancy_catalog_query(lock ? &lock_plan : &plan, lock ? sql_lock : sql_base,
					  1, argtypes, values, NULL, ints, 8, texts, 2) != 1)
		return false;
	m->administration_id = ints[0];
	m->source_compartment_id = ints[1];
	m->source_client_id = ints[2];
	m->target_compartment_id = ints[3];
	m->target_client_id = ints[4];
	m->requested_by = ints[5];
	m->requesting_compartment_id = ints[6];
	m->id = ints[7];
	m->state = parse_state(texts[0]);
	m->scenario_name = texts[1];
	m->scenario = parse_scenario(texts[1], false);
	return true;
}

/*
 * caller_sees: is the caller's compartment a party to the migration?
 * (rights.c decides, R17)
 */
static bool
caller_sees(const TenancyMigrationCaller *c, const TenancyMigration *m)
{
	return tenancy_rights_sees_migration(&c->user, m->source_compartment_id,
										 m->source_client_id,
										 m->target_compartment_id,
										 m->target_client_id);
}

static bool
is_source_admin(const TenancyMigrationCaller *c, const TenancyMigration *m)
{
	return tenancy_rights_is_administrator(&c->user, m->source_compartment_id);
}

static bool
is_target_admin(const TenancyMigrationCaller *c, const TenancyMigration *m)
{
	return tenancy_rights_is_administrator(&c->user, m->target_compartment_id);
}

/* an external user of the administration's client, at the source */
static bool
is_client_user(const TenancyMigrationCaller *c, const TenancyMigration *m)
{
	return tenancy_rights_is_client_user(&c->user, m->source_compartment_id,
										 m->source_client_id);
}

static bool
holds_manage(int64 user_id, int64 administration_id)
{
	return (tenancy_rights_permission(user_id, administration_id, NULL) &
			TENANCY_RIGHT_MANAGE) != 0;
}

/* whether the client had a user able to approve when the migration was requested */
static bool
client_approver_at_request(int64 migration_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int64		flag = 0;

	values[0] = Int64GetDatum(migration_id);
	tenancy_catalog_query(&plan,
						  "SELECT m.client_approver_at_request::int FROM tenancy.migration m"
						  " WHERE m.id = $1",
						  1, argtypes, values, NULL, &flag, 1, NULL, 0);
	return flag != 0;
}

/* how many enabled external users of the client hold manage on it */
static int64
client_manage_users(const TenancyMigration *m)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		values[2];
	int64		n = 0;

	values[0] = Int64GetDatum(m->administration_id);
	values[1] = Int64GetDatum(m->source_client_id);
	tenancy_catalog_query(&plan,
				  "SELECT count(*) FROM tenancy.permission p"
				  "  JOIN tenancy.users u ON u.id = p.user_id"
				  " WHERE p.administration_id = $1 AND p.can_manage"
				  "   AND u.kind = 'external' AND u.client_id = $2 AND NOT u.disabled",
				  2, argtypes, values, NULL, &n, 1, NULL, 0);
	return n;
}

/*
 * load_visible_migration: the migration, if the caller's compartment is a
 * party to it; otherwise the same refusal whether it exists or not.
 */
static void
load_visible_migration(int64 id, const TenancyMigrationCaller *caller,
					   TenancyMigration *m)
{
	if (!fetch_migration(id, false, m) || !caller_sees(caller, m))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("migration %lld does not exist or is not accessible", (long long) id),
				 errdetail("Objects the caller may not see are reported this way, whether they exist or not.")));
}

/*
 * lock_step: take the step's locks in the order of the file banner (1, 2,
 * 3) and read the migration again under its lock.
 */
static void
lock_step(const TenancyMigration *m, bool lock_administration, TenancyMigration *locked)
{
	static SPIPlanPtr admin_plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];

	if (lock_administration)
	{
		values[0] = Int64GetDatum(m->administration_id);
		tenancy_catalog_query(&admin_plan,
					  "SELECT 1 FROM tenancy.administration a WHERE a.id = $1 FOR UPDATE",
					  1, argtypes, values, NULL, NULL, 0, NULL, 0);
	}
	if (!fetch_migration(m->id, true, locked))
		elog(ERROR, "migration %lld vanished", (long long) m->id);
	LockRelationOid(tenancy_catalog_relid("audit_entry"), ShareRowExclusiveLock);
}

static void
refuse_role(const TenancyMigration *m, TenancyMigrationStep step,
			const TenancyMigrationCaller *c, const char *who)
{
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("permission denied to %s migration %lld",
					step_verbs[step], (long long) m->id),
			 errdetail("User %lld is not %s.", (long long) c->user_id, who),
			 errhint("Act as %s.", who)));
}

/* set_state: the migration's new state, and what the step adds to it */
static void
set_state(const TenancyMigration *m, TenancyMigrationState to, const char *reason,
		  const char *report, int64 target_client_id, int64 successor_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[6] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(m->id);
	values[1] = CStringGetTextDatum(state_names[to]);
	if (reason)
		values[2] = CStringGetTextDatum(reason);
	else
		nulls[2] = 'n';
	if (report)
		values[3] = CStringGetTextDatum(report);
	else
		nulls[3] = 'n';
	values[4] = Int64GetDatum(target_client_id);
	if (target_client_id == 0)
		nulls[4] = 'n';
	values[5] = Int64GetDatum(successor_id);
	if (successor_id == 0)
		nulls[5] = 'n';
	tenancy_catalog_state_write(&plan,
								"UPDATE tenancy.migration"
								"   SET state = $2,"
								"       reason = coalesce($3, reason),"
								"       report = coalesce($4::jsonb, report),"
								"       target_client_id = coalesce($5, target_client_id),"
								"       successor_id = coalesce($6, successor_id),"
								"       updated_at = statement_timestamp()"
								" WHERE id = $1",
								6, argtypes, values, nulls);
}

/* append_history: one step of the migration's history */
static void
append_history(int64 migration_id, const char *step, const char *from_state,
			   const char *to_state, const char *party,
			   const TenancyMigrationCaller *c, const char *detail)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[10] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	INT8OID, INT8OID, INT8OID, TEXTOID, TEXTOID};
	Datum		values[10];
	char		nulls[10] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(migration_id);
	values[1] = CStringGetTextDatum(step);
	if (from_state)
		values[2] = CStringGetTextDatum(from_state);
	else
		nulls[2] = 'n';
	values[3] = CStringGetTextDatum(to_state);
	if (party)
		values[4] = CStringGetTextDatum(party);
	else
		nulls[4] = 'n';
	values[5] = Int64GetDatum(c->compartment_id);
	values[6] = Int64GetDatum(c->user_id);
	values[7] = Int64GetDatum(c->account_id);
	values[8] = CStringGetTextDatum(c->db_role);
	if (detail)
		values[9] = CStringGetTextDatum(detail);
	else
		nulls[9] = 'n';
	tenancy_catalog_state_write(&plan,
								"INSERT INTO tenancy.migration_history"
								" (migration_id, step, from_state, to_state, party, compartment_id,"
								"  user_id, account_id, db_role, detail)"
								" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::name, $10::jsonb)",
								10, argtypes, values, nulls);
}

/* the client chosen at the target must be a client of the target compartment */
static void
require_target_client(const TenancyMigration *m, int64 client_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int64		compartment_id = 0;

	values[0] = Int64GetDatum(client_id);
	if (tenancy_catalog_query(&plan, "SELECT c.compartment_id FROM tenancy.client c WHERE c.id = $1",
					  1, argtypes, values, NULL, &compartment_id, 1, NULL, 0) != 1 ||
		compartment_id != m->target_compartment_id)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("client %lld does not exist or is not accessible", (long long) client_id),
				 errdetail("The administration moves under a client of the target compartment %lld.",
						   (long long) m->target_compartment_id),
				 errhint("Create the client there first with tenancy.create_client().")));
}

/* a new active administration at the target, with the archive's name */
static int64
create_administration(const TenancyMigration *m, int64 client_id, const char *code)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[4] = {INT8OID, INT8OID, TEXTOID, INT8OID};
	Datum		values[4];

	values[0] = Int64GetDatum(m->target_compartment_id);
	values[1] = Int64GetDatum(client_id);
	values[2] = CStringGetTextDatum(code);
	values[3] = Int64GetDatum(m->administration_id);
	return tenancy_catalog_write_first(&plan,
									   "INSERT INTO tenancy.administration (compartment_id, client_id, code, name)"
									   " SELECT $1, $2, $3, a.name FROM tenancy.administration a WHERE a.id = $4"
									   " RETURNING id",
									   4, argtypes, values, NULL);
}

/*
 * open_states: the states the transition table allows a step from (those
 * of an open migration), as a text[]
 */
static ArrayType *
open_states(void)
{
	Datum		elems[MS_COUNT];
	int			n = 0;
	int			state;
	int			i;

	for (state = 0; state < MS_COUNT; state++)
		for (i = 0; i < lengthof(migration_transitions); i++)
			if (migration_transitions[i].from == (TenancyMigrationState) state)
			{
				elems[n++] = CStringGetTextDatum(state_names[state]);
				break;
			}
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * open_migration: the administration's migration that is not final yet,
 * if any (at most one: request_migration refuses a second).  Read with a
 * fresh snapshot: the caller holds the administration's row lock, which
 * every request takes too, so a request that committed while the caller
 * waited is seen, in REPEATABLE READ as well.
 */
static bool
open_migration(int64 administration_id, int64 *id, char **state)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {INT8OID, TEXTARRAYOID};
	Datum		values[2];
	char	   *texts[1] = {NULL};

	values[0] = Int64GetDatum(administration_id);
	values[1] = PointerGetDatum(open_states());
	if (tenancy_catalog_query_latest(&plan,
									 "SELECT m.id, m.state FROM tenancy.migration m"
									 " WHERE m.administration_id = $1"
									 "   AND m.state = ANY ($2)",
									 2, argtypes, values, NULL, id, 1, texts, 1) == 0)
		return false;
	*state = texts[0];
	return true;
}

/*
 * refuse_request: the one refusal of request_migration to a caller who may
 * not learn anything of the administration, whether it exists or not, and
 * whatever its state (R16)
 */
static void
refuse_request(int64 administration_id)
{
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("administration %lld does not exist or is not accessible",
					(long long) administration_id),
			 errdetail("Objects the caller may not see are reported this way, whether they exist or not."),
			 errhint("A migration is requested by an administrator of the administration's compartment or of the target compartment.")));
}

/*
 * tenancy_migration_require_none_open: refuse a change to an administration
 * while a migration of it is open, for what the parties approved:
 *
 *	TENANCY_MIGRATION_CLIENT: its client (R17).  The client's approval was
 *		given by, or for, the client it had at the request; moving it to
 *		another client would carry that consent over to a client that never
 *		gave it and that cannot see the migration.  The caller holds the
 *		administration row FOR UPDATE (lock order 1).
 *	TENANCY_MIGRATION_CARRIED_RIGHTS: a new right of an external user on it
 *		(R17, R18).  A transfer carries the client's external users and their
 *		rights into the target firm; one granted after the approvals, by the
 *		source alone, would enter the target firm with rights nobody there
 *		agreed to (1.3 review: a mailbox of the source firm's, with manage on
 *		the successor).  Revoking stays open.  The caller holds the row FOR
 *		SHARE.
 *
 * Either lock conflicts with the request's FOR NO KEY UPDATE: it waits for a
 * request in progress, or the request for it; the open migration is read
 * with a fresh snapshot, which sees a request that committed meanwhile.
 */
void
tenancy_migration_require_none_open(int64 administration_id,
									TenancyMigrationChange change)
{
	int64		id = 0;
	char	   *state = NULL;

	if (!OidIsValid(tenancy_catalog_relid("migration")))
		return;					/* catalog older than 1.2 */
	if (!open_migration(administration_id, &id, &state))
		return;
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_BAD_STATE),
			 errmsg("administration %lld has an open migration",
					(long long) administration_id),
			 change == TENANCY_MIGRATION_CLIENT ?
			 errdetail("Migration %lld is in state \"%s\"; its client's approval belongs to the administration's present client.",
					   (long long) id, state) :
			 errdetail("Migration %lld is in state \"%s\"; a transfer carries the client's external users and their rights into the target firm as the parties approved them.",
					   (long long) id, state),
			 change == TENANCY_MIGRATION_CLIENT ?
			 errhint("Cancel or reject migration %lld, or let it complete, before moving the administration to another client.",
					 (long long) id) :
			 errhint("Grant the right after migration %lld completes, or cancel it and request it again.",
					 (long long) id)));
}

/* ------------------------------------------------------------------
 * The steps
 * ------------------------------------------------------------------ */

/*
 * record_step: the migration's new state, as next_state() answered, and the
 * step's row in its history (the audit triggers copy both, R22)
 */
static void
record_step(const TenancyMigration *locked, TenancyMigrationStep step,
			TenancyMigrationState to, const char *party,
			const TenancyMigrationCaller *c, const TenancyStepOutcome *outcome)
{
	set_state(locked, to, outcome->reason, outcome->report,
			  outcome->target_client_id, outcome->successor_id);
	append_history(locked->id, step_functions[step], state_names[locked->state],
				   state_names[to], party, c, outcome->detail);
}

/* request_migration: only an administrator of a compartment requests */
static void
require_requester(const TenancyMigrationCaller *caller)
{
	if (!tenancy_rights_is_administrator(&caller->user, caller->compartment_id))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to request a migration"),
				 errdetail("User %lld is not an administrator of a compartment.",
						   (long long) caller->user_id),
				 errhint("Act as an administrator of the source or the target compartment.")));
}

/*
 * check_request: the arguments of request_migration against the catalog,
 * before any lock: the caller belongs to the administration's compartment
 * or to the target, the target is another compartment, and it exists
 */
static void
check_request(int64 administration_id, int64 target_compartment_id,
			  const TenancyMigrationCaller *caller)
{
	static SPIPlanPtr admin_plan = NULL;
	static SPIPlanPtr comp_plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int64		admin[2] = {0, 0};	/* compartment, client */
	char	   *admin_text[1] = {NULL};	/* state */

	values[0] = Int64GetDatum(administration_id);
	if (tenancy_catalog_query(&admin_plan,
							  "SELECT a.compartment_id, a.client_id, a.state"
							  "  FROM tenancy.administration a WHERE a.id = $1",
							  1, argtypes, values, NULL, admin, 2, admin_text, 1) != 1 ||
		(admin[0] != caller->compartment_id && target_compartment_id != caller->compartment_id))
		refuse_request(administration_id);
	if (admin[0] == target_compartment_id)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("target compartment %lld is the administration's own compartment",
						(long long) target_compartment_id),
				 errdetail("A migration moves an administration to another compartment."),
				 errhint("To move it to another client of the same compartment, use tenancy.move_administration().")));
	values[0] = Int64GetDatum(target_compartment_id);
	if (tenancy_catalog_query(&comp_plan, "SELECT 1 FROM tenancy.compartment c WHERE c.id = $1",
							  1, argtypes, values, NULL, NULL, 0, NULL, 0) != 1)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_UNKNOWN),
				 errmsg("target compartment %lld does not exist", (long long) target_compartment_id),
				 errhint("Ask the new firm for the id of its compartment.")));
}

/*
 * refuse_unless_requestable: the refusal of an unknown id, unless the
 * caller is an administrator of the administration's compartment (who is
 * told why later), or of the target and the administration is active,
 * without an open migration, and not in the target already (R16)
 */
static void
refuse_unless_requestable(int64 administration_id, int64 compartment_id,
						  const char *state, int64 target_compartment_id,
						  const TenancyMigrationCaller *caller)
{
	int64		open_id = 0;
	char	   *open_state = NULL;

	if (compartment_id == target_compartment_id ||
		(compartment_id != caller->compartment_id &&
		 target_compartment_id != caller->compartment_id))
		refuse_request(administration_id);
	if (compartment_id != caller->compartment_id &&
		(strcmp(state, "active") != 0 ||
		 open_migration(administration_id, &open_id, &open_state)))
		refuse_request(administration_id);
}

/*
 * lock_requested: lock order 1, the administration row, so that two
 * requests for it run one after the other; then what it shows under the
 * lock.  That is told only to an administrator of its compartment; a
 * target's administrator (who may name another firm's dossier) gets the
 * refusal of an unknown id for anything but an active dossier without an
 * open migration (R16).  Returns the administration's compartment.
 */
static int64
lock_requested(int64 administration_id, int64 target_compartment_id,
			   const TenancyMigrationCaller *caller)
{
	int64		admin[2] = {0, 0};	/* compartment, client */
	char	   *state = NULL;
	int64		open_id = 0;
	char	   *open_state = NULL;

	/*
	 * First without a lock: a caller who is to learn nothing of the
	 * administration is refused before it could wait on the row, since the
	 * wait would tell that it exists and is being changed.  A target's
	 * administrator who waits after that has named an active dossier
	 * without an open migration, which the request's success tells anyway;
	 * the wait tells besides that its firm is changing it just then.
	 */
	if (!tenancy_catalog_administration(administration_id, TENANCY_LOCK_NONE, admin, &state))
		refuse_request(administration_id);
	refuse_unless_requestable(administration_id, admin[0], state,
							  target_compartment_id, caller);
	if (!tenancy_catalog_administration(administration_id, TENANCY_LOCK_NO_KEY_UPDATE,
										admin, &state))
		refuse_request(administration_id);
	/* it may have moved meanwhile */
	refuse_unless_requestable(administration_id, admin[0], state,
							  target_compartment_id, caller);
	if (strcmp(state, "active") != 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("administration %lld is %s", (long long) administration_id, state),
				 errdetail("Only an active administration migrates; an archived one is read-only and a deleted one is kept for the record only.")));
	if (open_migration(administration_id, &open_id, &open_state))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("administration %lld already has an open migration",
						(long long) administration_id),
				 errdetail("Migration %lld is in state \"%s\".", (long long) open_id, open_state),
				 errhint("Complete, reject or cancel that migration first.")));
	return admin[0];
}

/*
 * insert_migration: the new migration row, in state "requested" (lock
 * order 2-3: the audit lock comes with it); returns its id
 */
static int64
insert_migration(int64 administration_id, const char *scenario,
				 int64 target_compartment_id, const TenancyMigrationCaller *caller)
{
	static SPIPlanPtr ins_plan = NULL;
	Oid			argtypes[5] = {INT8OID, TEXTOID, INT8OID, INT8OID, INT8OID};
	Datum		values[5];

	values[0] = Int64GetDatum(administration_id);
	values[1] = CStringGetTextDatum(scenario);
	values[2] = Int64GetDatum(target_compartment_id);
	values[3] = Int64GetDatum(caller->user_id);
	values[4] = Int64GetDatum(caller->compartment_id);
	return tenancy_catalog_state_write(&ins_plan,
									   "INSERT INTO tenancy.migration"
									   " (administration_id, scenario, source_compartment_id, source_client_id,"
									   "  target_compartment_id, requested_by, requesting_compartment_id,"
									   "  client_approver_at_request)"
									   " SELECT a.id, $2, a.compartment_id, a.client_id, $3, $4, $5,"
									   "        EXISTS (SELECT 1 FROM tenancy.permission p"
									   "                  JOIN tenancy.users u ON u.id = p.user_id"
									   "                 WHERE p.administration_id = a.id AND p.can_manage"
									   "                   AND u.kind = 'external' AND u.client_id = a.client_id"
									   "                   AND NOT u.disabled)"
									   "   FROM tenancy.administration a WHERE a.id = $1"
									   " RETURNING id",
									   5, argtypes, values, NULL);
}

/* request_migration(administration_id bigint, target_compartment_id bigint,
 *					 scenario text) RETURNS bigint */
PG_FUNCTION_INFO_V1(tenancy_request_migration);
Datum
tenancy_request_migration(PG_FUNCTION_ARGS)
{
	TenancyMigrationCaller caller;
	int64		administration_id;
	int64		target_compartment_id;
	char	   *scenario;
	int64		source_compartment_id;
	int64		id;
	const char *party;

	tenancy_catalog_require_arg(fcinfo, 0, "administration_id");
	tenancy_catalog_require_arg(fcinfo, 1, "target_compartment_id");
	administration_id = PG_GETARG_INT64(0);
	target_compartment_id = PG_GETARG_INT64(1);
	scenario = tenancy_catalog_text_arg(fcinfo, 2, "scenario");
	/* the arguments first: their errors must not depend on the dossier */
	(void) parse_scenario(scenario, false);
	load_caller(&caller);
	require_requester(&caller);
	check_request(administration_id, target_compartment_id, &caller);
	source_compartment_id = lock_requested(administration_id, target_compartment_id, &caller);
	tenancy_protect_require_removable(parse_scenario(scenario, false) == SCENARIO_EXPORT);

	id = insert_migration(administration_id, scenario, target_compartment_id, &caller);
	party = caller.compartment_id == source_compartment_id ? "source" : "target";
	append_history(id, "request_migration", NULL, state_names[MS_REQUESTED], party, &caller,
				   psprintf("{\"scenario\": \"%s\", \"requested_by\": \"%s\"}", scenario, party));
	PG_RETURN_INT64(id);
}

/*
 * approving_party: the party the caller approves for, from its identity
 * (R17), and whether it may pass consent_reference: only a source
 * administrator does, for the client, and not with a blank reference
 */
static const char *
approving_party(const TenancyMigrationCaller *caller, const TenancyMigration *m,
				const char *consent)
{
	const char *party;

	if (is_target_admin(caller, m))
		party = "target";
	else if (is_source_admin(caller, m))
		party = consent ? "client" : "source";
	else if (is_client_user(caller, m))
	{
		party = "client";
		if (!holds_manage(caller->user_id, m->administration_id))
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_DENIED),
					 errmsg("permission denied to approve migration %lld", (long long) m->id),
					 errdetail("User %lld holds no manage right on administration %lld.",
							   (long long) caller->user_id, (long long) m->administration_id),
					 errhint("The client approves through one of its users holding manage on the administration.")));
	}
	else
		refuse_role(m, STEP_APPROVE, caller,
					"an administrator of the source or target compartment, or a user of the client holding manage");
	if (consent == NULL)
		return party;
	if (strcmp(party, "client") != 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("consent_reference is recorded only by an administrator of the source compartment"),
				 errdetail("It stands for the client's written consent where the client has no user who can approve."),
				 errhint("Call approve_migration(%lld) without consent_reference.", (long long) m->id)));
	if (is_client_user(caller, m))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("consent_reference is recorded only by an administrator of the source compartment"),
				 errdetail("A user of the client approves for the client directly."),
				 errhint("Call approve_migration(%lld) without consent_reference.", (long long) m->id)));
	if (tenancy_catalog_is_blank(consent))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("consent_reference must not be empty"),
				 errhint("Pass the reference of the client's written consent, such as the letter's date and number.")));
	return party;
}

/* the user who approved the migration for a party, or 0 */
static int64
approver_of(int64 migration_id, const char *party)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	int64		user_id = 0;

	values[0] = Int64GetDatum(migration_id);
	values[1] = CStringGetTextDatum(party);
	tenancy_catalog_query(&plan,
						  "SELECT p.user_id FROM tenancy.migration_approval p"
						  " WHERE p.migration_id = $1 AND p.party = $2",
						  2, argtypes, values, NULL, &user_id, 1, NULL, 0);
	return user_id;
}

/*
 * require_new_approval: under the migration's lock, the party has not
 * approved yet, and the caller's account has approved for no other party
 * (R17).  A second source administrator who finds the source approved is
 * told to pass the client's consent where that is the way left.
 */
static void
require_new_approval(const TenancyMigration *m, const char *party,
					 const TenancyMigrationCaller *caller)
{
	static SPIPlanPtr account_plan = NULL;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		values[2];
	int64		approver = approver_of(m->id, party);
	char	   *other_party[1] = {NULL};

	if (approver != 0)
	{
		if (strcmp(party, "source") == 0 && approver != caller->user_id &&
			approver_of(m->id, "client") == 0 && client_manage_users(m) == 0)
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
					 errmsg("consent_reference is required to approve migration %lld for the client",
							(long long) m->id),
					 errdetail("The source compartment has approved already, and client %lld has no user holding manage on administration %lld.",
							   (long long) m->source_client_id, (long long) m->administration_id),
					 errhint("Pass the reference of the client's written consent: approve_migration(%lld, 'reference').",
							 (long long) m->id)));
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("the %s party has already approved migration %lld", party, (long long) m->id),
				 errdetail("User %lld approved for it.", (long long) approver),
				 errhint("Each party approves once.")));
	}
	values[0] = Int64GetDatum(m->id);
	values[1] = Int64GetDatum(caller->account_id);
	if (tenancy_catalog_query(&account_plan,
							  "SELECT p.party FROM tenancy.migration_approval p"
							  " WHERE p.migration_id = $1 AND p.account_id = $2",
							  2, argtypes, values, NULL, NULL, 0, other_party, 1) > 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("account %lld has already approved migration %lld for the %s party",
						(long long) caller->account_id, (long long) m->id, other_party[0]),
				 errdetail("One account never approves for two parties (R17)."),
				 errhint("Another person must approve for the %s party.", party)));
}

/*
 * require_paper_route: a source administrator speaks for the client only
 * where no user of it can, now or when the migration was requested:
 * revoking the client's manage right afterwards does not open the paper
 * route (R17)
 */
static void
require_paper_route(const TenancyMigration *m)
{
	if (client_manage_users(m) > 0 || client_approver_at_request(m->id))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to record consent for client %lld", (long long) m->source_client_id),
				 errdetail("The client has, or had when the migration was requested, a user holding manage on administration %lld, who approves for it.",
						   (long long) m->administration_id),
				 errhint("Ask that user to approve the migration.")));
}

/* insert_approval: the party's approval; returns the approvals so far */
static int64
insert_approval(const TenancyMigration *m, const char *party,
				const TenancyMigrationCaller *caller, const char *consent)
{
	static SPIPlanPtr ins_plan = NULL;
	Oid			argtypes[6] = {INT8OID, TEXTOID, INT8OID, INT8OID, INT8OID, TEXTOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(m->id);
	values[1] = CStringGetTextDatum(party);
	values[2] = Int64GetDatum(caller->compartment_id);
	values[3] = Int64GetDatum(caller->user_id);
	values[4] = Int64GetDatum(caller->account_id);
	if (consent)
		values[5] = CStringGetTextDatum(consent);
	else
		nulls[5] = 'n';
	return tenancy_catalog_state_write(&ins_plan,
									   "WITH ins AS ("
									   "  INSERT INTO tenancy.migration_approval"
									   "   (migration_id, party, compartment_id, user_id, account_id, consent_reference)"
									   "  VALUES ($1, $2, $3, $4, $5, $6) RETURNING 1)"
									   " SELECT (SELECT count(*) FROM tenancy.migration_approval p"
									   "          WHERE p.migration_id = $1) + (SELECT count(*) FROM ins)",
									   6, argtypes, values, nulls);
}

/* approve_migration(migration_id bigint, consent_reference text DEFAULT NULL) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_approve_migration);
Datum
tenancy_approve_migration(PG_FUNCTION_ARGS)
{
	TenancyMigrationCaller caller;
	TenancyMigration m;
	TenancyMigration locked;
	TenancyStepOutcome outcome = {0};
	char	   *consent = NULL;
	const char *party;
	int64		count;
	StringInfoData detail;
	TenancyMigrationState to;

	tenancy_catalog_require_arg(fcinfo, 0, "migration_id");
	if (!PG_ARGISNULL(1))
		consent = text_to_cstring(PG_GETARG_TEXT_PP(1));
	load_caller(&caller);
	load_visible_migration(PG_GETARG_INT64(0), &caller, &m);
	party = approving_party(&caller, &m, consent);

	lock_step(&m, false, &locked);
	to = next_state(&locked, STEP_APPROVE);
	require_new_approval(&locked, party, &caller);
	if (strcmp(party, "target") == 0 && (locked.scenario & SCENARIO_ARCHIVE))
		require_carry_allowed(locked.administration_id, locked.target_compartment_id,
							  carried_rights(locked.administration_id));
	if (consent)
		require_paper_route(&locked);
	count = insert_approval(&locked, party, &caller, consent);
	if (count < 3)
		to = locked.state;		/* the third approval takes the step */

	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"party\": \"%s\", \"approvals\": %lld", party, (long long) count);
	if (consent)
	{
		appendStringInfoString(&detail, ", \"consent_reference\": ");
		escape_json(&detail, consent);
	}
	appendStringInfoChar(&detail, '}');
	outcome.detail = detail.data;
	record_step(&locked, STEP_APPROVE, to, party, &caller, &outcome);
	PG_RETURN_VOID();
}

/* the party a caller speaks for when rejecting, or NULL */
static const char *
rejecting_party(const TenancyMigrationCaller *c, const TenancyMigration *m)
{
	if (is_source_admin(c, m))
		return "source";
	if (is_target_admin(c, m))
		return "target";
	if (is_client_user(c, m) && holds_manage(c->user_id, m->administration_id))
		return "client";
	return NULL;
}

/* reject_migration(migration_id bigint, reason text) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_reject_migration);
Datum
tenancy_reject_migration(PG_FUNCTION_ARGS)
{
	TenancyMigrationCaller caller;
	TenancyMigration m;
	TenancyMigration locked;
	TenancyStepOutcome outcome = {0};
	char	   *reason;
	const char *party;
	StringInfoData detail;

	tenancy_catalog_require_arg(fcinfo, 0, "migration_id");
	load_caller(&caller);
	load_visible_migration(PG_GETARG_INT64(0), &caller, &m);
	party = rejecting_party(&caller, &m);
	if (party == NULL)
		refuse_role(&m, STEP_REJECT, &caller,
					"an administrator of the source or target compartment, or a user of the client holding manage");
	reason = tenancy_catalog_text_arg(fcinfo, 1, "reason");
	if (tenancy_catalog_is_blank(reason))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("reason must not be empty"),
				 errhint("Say why the migration is rejected; the other parties read it.")));

	lock_step(&m, false, &locked);
	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"reason\": ");
	escape_json(&detail, reason);
	appendStringInfoChar(&detail, '}');
	outcome.reason = reason;
	outcome.detail = detail.data;
	record_step(&locked, STEP_REJECT, next_state(&locked, STEP_REJECT), party,
				&caller, &outcome);
	PG_RETURN_VOID();
}

/* cancel_migration(migration_id bigint) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_cancel_migration);
Datum
tenancy_cancel_migration(PG_FUNCTION_ARGS)
{
	TenancyMigrationCaller caller;
	TenancyMigration m;
	TenancyMigration locked;
	TenancyStepOutcome outcome = {0};
	const char *party;

	tenancy_catalog_require_arg(fcinfo, 0, "migration_id");
	load_caller(&caller);
	load_visible_migration(PG_GETARG_INT64(0), &caller, &m);
	if (caller.user_id != m.requested_by &&
		!tenancy_rights_is_administrator(&caller.user, m.requesting_compartment_id))
		refuse_role(&m, STEP_CANCEL, &caller,
					"the requester or an administrator of the requesting compartment");
	party = caller.compartment_id == m.source_compartment_id ? "source" : "target";

	lock_step(&m, false, &locked);
	record_step(&locked, STEP_CANCEL, next_state(&locked, STEP_CANCEL), party,
				&caller, &outcome);
	PG_RETURN_VOID();
}

/*
 * begin_admin_step: the start of a step that an administrator of one side
 * takes (transfer, activate: the target; confirm_export, delete_at_source:
 * the source): the caller, the migration as the caller may see it, the
 * caller's role, the locks (lock_step), and the state the step leads to
 */
static TenancyMigrationState
begin_admin_step(int64 migration_id, TenancyMigrationStep step, bool target,
				 bool lock_administration, TenancyMigrationCaller *caller,
				 TenancyMigration *locked)
{
	TenancyMigration m;

	load_caller(caller);
	load_visible_migration(migration_id, caller, &m);
	if (target ? !is_target_admin(caller, &m) : !is_source_admin(caller, &m))
		refuse_role(&m, step, caller, target ?
					"an administrator of the target compartment" :
					"an administrator of the source compartment");
	lock_step(&m, lock_administration, locked);
	return next_state(locked, step);
}

/*
 * require_successor: the client and code of the new administration at the
 * target: a client of the target compartment, a valid code not in use there
 */
static void
require_successor(const TenancyMigration *m, int64 client_id, const char *code)
{
	require_target_client(m, client_id);
	tenancy_catalog_require_code(code, "administration");
	tenancy_catalog_require_free_code(TENANCY_CODE_ADMINISTRATION,
									  m->target_compartment_id, code,
									  "Choose another code for the new administration.");
}

/*
 * require_active_code: the administration must still be active (the
 * caller holds its row lock); returns its code
 */
static char *
require_active_code(const TenancyMigration *m)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	char	   *admin_text[2] = {NULL, NULL};	/* state, code */

	values[0] = Int64GetDatum(m->administration_id);
	tenancy_catalog_query(&plan,
						  "SELECT a.state, a.code FROM tenancy.administration a WHERE a.id = $1",
						  1, argtypes, values, NULL, NULL, 0, admin_text, 2);
	if (strcmp(admin_text[0], "active") != 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("administration %lld is %s", (long long) m->administration_id, admin_text[0]),
				 errdetail("Only an active administration is transferred.")));
	return admin_text[1];
}

/*
 * check_carry (R18): the client's external users and their rights can be
 * carried over to the target client: no account of them is a user of
 * another client there, and the target compartment allows external users
 * if there are any.  Returns how many rights will be carried.
 */
static int64
check_carry(const TenancyMigration *m, int64 target_client_id)
{
	static SPIPlanPtr conflict_plan = NULL;
	Oid			argtypes[3] = {INT8OID, INT8OID, INT8OID};
	Datum		values[3];
	int64		carried = 0;
	int64		conflict[2] = {0, 0};
	char	   *conflict_kind[1] = {NULL};

	values[0] = Int64GetDatum(m->administration_id);
	values[1] = Int64GetDatum(m->target_compartment_id);
	values[2] = Int64GetDatum(target_client_id);
	carried = carried_rights(m->administration_id);
	/*
	 * The person may be a user of the target compartment already: only as
	 * an external user of the target client does it take the carried rights.
	 * An internal user there would be given rights the source chose (a
	 * source's external user made with a target employee's address, 1.3
	 * review); an external user of another client could not hold them.
	 */
	if (tenancy_catalog_query(&conflict_plan,
							  "SELECT t.id, coalesce(t.client_id, 0), t.kind FROM tenancy.permission p"
							  "  JOIN tenancy.users s ON s.id = p.user_id AND s.kind = 'external'"
							  "  JOIN tenancy.users t ON t.account_id = s.account_id AND t.compartment_id = $2"
							  " WHERE p.administration_id = $1"
							  "   AND NOT (t.kind = 'external' AND t.client_id = $3)"
							  " ORDER BY t.id LIMIT 1",
							  3, argtypes, values, NULL, conflict, 2, conflict_kind, 1) > 0 &&
		strcmp(conflict_kind[0], "internal") == 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("cannot carry the client's users over to client %lld", (long long) target_client_id),
				 errdetail("User %lld of compartment %lld is the same person as an external user of the client, but an internal user there; a transfer does not give the source's rights to a target firm's own staff.",
						   (long long) conflict[0], (long long) m->target_compartment_id),
				 errhint("Reject the migration, or have the source revoke that external user's rights on administration %lld first.",
						 (long long) m->administration_id)));
	else if (conflict[0] != 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("cannot carry the client's users over to client %lld", (long long) target_client_id),
				 errdetail("User %lld of compartment %lld is the same person but belongs to client %lld; one account has one user per compartment.",
						   (long long) conflict[0], (long long) m->target_compartment_id,
						   (long long) conflict[1]),
				 errhint("Transfer the administration under client %lld instead.", (long long) conflict[1])));
	require_carry_allowed(m->administration_id, m->target_compartment_id, carried);
	return carried;
}

/* carried_rights (R18): the rights of the client's external users on it */
static int64
carried_rights(int64 administration_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int64		carried = 0;

	values[0] = Int64GetDatum(administration_id);
	tenancy_catalog_query(&plan,
						  "SELECT count(*) FROM tenancy.permission p"
						  "  JOIN tenancy.users u ON u.id = p.user_id"
						  " WHERE p.administration_id = $1 AND u.kind = 'external'",
						  1, argtypes, values, NULL, &carried, 1, NULL, 0);
	return carried;
}

/*
 * require_carry_allowed (R18, R10): the client's external users, carried
 * over with carried rights on the administration, may be users of the
 * target compartment.  Asked at the transfer (check_carry), and already at
 * the target's approval, so that a migration that cannot be carried out is
 * refused before every party has signed.  Not at the source's request or
 * approval: the answer would tell the source whether another firm's
 * compartment allows external users (1.3 review); the target knows its
 * own, and learns the carried rights at the transfer anyway.
 */
static void
require_carry_allowed(int64 administration_id, int64 target_compartment_id,
					  int64 carried)
{
	static SPIPlanPtr allow_plan = NULL;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		values[2];
	int64		allowed = 1;

	values[0] = Int64GetDatum(administration_id);
	values[1] = Int64GetDatum(target_compartment_id);
	if (carried == 0)
		return;
	tenancy_catalog_query(&allow_plan,
						  "SELECT c.allow_external_users::int FROM tenancy.compartment c WHERE c.id = $2",
						  2, argtypes, values, NULL, &allowed, 1, NULL, 0);
	if (allowed == 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("compartment %lld does not allow external users",
						(long long) target_compartment_id),
				 errdetail("%lld right(s) of the client's users on administration %lld would be carried over (R18).",
						   (long long) carried, (long long) administration_id),
				 errhint("The source can revoke the client's external users' rights on administration %lld first; otherwise reject or cancel the migration.",
						 (long long) administration_id)));
}

/*
 * archive_code: the code the archive keeps at the target: its own, unless
 * the target compartment uses it or the successor takes it; then the first
 * free of "<code>.archived-<migration>", "<code>.archived-<migration>-2",
 * ... (the target may use the first already: a unique violation from the
 * catalog's own UPDATE was the answer before, 1.3 review)
 */
static char *
archive_code(const TenancyMigration *m, const char *successor_code)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[4] = {INT8OID, INT8OID, TEXTOID, INT8OID};
	Datum		values[4];
	char	   *code[1] = {NULL};

	values[0] = Int64GetDatum(m->administration_id);
	values[1] = Int64GetDatum(m->target_compartment_id);
	values[2] = CStringGetTextDatum(successor_code);
	values[3] = Int64GetDatum(m->id);
	tenancy_catalog_query(&plan,
						  "SELECT c.code"
						  "  FROM tenancy.administration a,"
						  "       LATERAL (SELECT 0 AS n, a.code"
						  "                UNION ALL"
						  "                SELECT n, left(a.code, 64 - length(x.suffix)) || x.suffix"
						  "                  FROM generate_series(1, 1000) n,"
						  "                       LATERAL (SELECT '.archived-' || $4::text"
						  "                                       || CASE WHEN n > 1 THEN '-' || n::text ELSE '' END"
						  "                                       AS suffix) x) c"
						  " WHERE a.id = $1 AND lower(c.code) <> lower($3)"
						  "   AND NOT EXISTS (SELECT 1 FROM tenancy.administration o"
						  "                    WHERE o.compartment_id = $2 AND lower(o.code) = lower(c.code))"
						  " ORDER BY c.n LIMIT 1",
						  4, argtypes, values, NULL, NULL, 0, code, 1);
	if (code[0] == NULL)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("no code is free for the archive of administration %lld in compartment %lld",
						(long long) m->administration_id, (long long) m->target_compartment_id),
				 errdetail("The target compartment uses the administration's code and its first 1000 archive codes."),
				 errhint("Choose the successor's code so that the archive keeps its own.")));
	return code[0];
}

/*
 * carry_client_users (R18): the client's external users become users of
 * the target client (same accounts), and get their rights on the
 * successor.  Read from the source permissions, SQL to SQL, before they
 * are removed (detach_from_source).
 */
static void
carry_client_users(const TenancyMigration *m, int64 target_client_id,
				   int64 successor_id, TenancyTransfer *t)
{
	static SPIPlanPtr users_plan = NULL;
	static SPIPlanPtr grant_plan = NULL;
	Oid			argtypes[4] = {INT8OID, INT8OID, INT8OID, INT8OID};
	Datum		values[4];

	values[0] = Int64GetDatum(m->administration_id);
	values[1] = Int64GetDatum(m->target_compartment_id);
	values[2] = Int64GetDatum(target_client_id);
	values[3] = Int64GetDatum(target_client_id);
	t->users_created =
		tenancy_catalog_write_first(&users_plan,
									"INSERT INTO tenancy.users (compartment_id, account_id, kind, client_id, disabled)"
									" SELECT DISTINCT ON (u.account_id) $2, u.account_id, 'external', $3, u.disabled"
									"   FROM tenancy.permission p JOIN tenancy.users u ON u.id = p.user_id"
									"  WHERE p.administration_id = $1 AND u.kind = 'external'"
									"    AND NOT EXISTS (SELECT 1 FROM tenancy.users t"
									"                     WHERE t.compartment_id = $2 AND t.account_id = u.account_id)"
									"  ORDER BY u.account_id",
									3, argtypes, values, NULL);
	values[2] = Int64GetDatum(successor_id);
	t->rights_granted =
		tenancy_catalog_write_first(&grant_plan,
									"INSERT INTO tenancy.permission"
									" (user_id, administration_id, can_read, can_write, can_submit, can_manage)"
									" SELECT t.id, $3, p.can_read, p.can_write, p.can_submit, p.can_manage"
									"   FROM tenancy.permission p"
									"   JOIN tenancy.users s ON s.id = p.user_id AND s.kind = 'external'"
									"   JOIN tenancy.users t ON t.account_id = s.account_id AND t.compartment_id = $2"
									"                       AND t.kind = 'external' AND t.client_id = $4"
									"  WHERE p.administration_id = $1"
									"  ORDER BY t.id",
									4, argtypes, values, NULL);
}

/*
 * detach_from_source (R18): the administration is archived, and the
 * source's permissions and delegations on it are gone
 */
static void
detach_from_source(const TenancyMigration *m, TenancyTransfer *t)
{
	static SPIPlanPtr freeze_plan = NULL;
	static SPIPlanPtr perm_plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];

	values[0] = Int64GetDatum(m->administration_id);
	tenancy_catalog_write_first(&freeze_plan,
								"UPDATE tenancy.administration SET state = 'archived' WHERE id = $1",
								1, argtypes, values, NULL);
	t->permissions_removed =
		tenancy_catalog_write_first(&perm_plan,
									"DELETE FROM tenancy.permission WHERE administration_id = $1",
									1, argtypes, values, NULL);
	t->delegations_removed = tenancy_delegation_remove_all(m->administration_id);
}

/*
 * move_archive (R18): the archive moves under the target client, with its
 * code at the target, and the carried users get the same rights on it as
 * on the successor (SQL to SQL)
 */
static void
move_archive(const TenancyMigration *m, int64 target_client_id,
			 int64 successor_id, TenancyTransfer *t)
{
	static SPIPlanPtr move_plan = NULL;
	static SPIPlanPtr grant_plan = NULL;
	Oid			argtypes[4] = {INT8OID, INT8OID, INT8OID, TEXTOID};
	Datum		values[4];

	values[0] = Int64GetDatum(m->administration_id);
	values[1] = Int64GetDatum(m->target_compartment_id);
	values[2] = Int64GetDatum(target_client_id);
	values[3] = CStringGetTextDatum(t->archived_code);
	tenancy_catalog_write_first(&move_plan,
								"UPDATE tenancy.administration"
								"   SET compartment_id = $2, client_id = $3, code = $4"
								" WHERE id = $1",
								4, argtypes, values, NULL);
	values[1] = Int64GetDatum(successor_id);
	t->rights_granted +=
		tenancy_catalog_write_first(&grant_plan,
									"INSERT INTO tenancy.permission"
									" (user_id, administration_id, can_read, can_write, can_submit, can_manage)"
									" SELECT p.user_id, $1, p.can_read, p.can_write, p.can_submit, p.can_manage"
									"   FROM tenancy.permission p WHERE p.administration_id = $2"
									"  ORDER BY p.user_id",
									2, argtypes, values, NULL);
}

/* the rows removed, as the report's jsonb array text */
static char *
removed_json(List *removed)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, removed)
	{
		TenancyRemovedRows *r = (TenancyRemovedRows *) lfirst(lc);

		if (foreach_current_index(lc) > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"table\": ");
		escape_json(&buf, r->table);
		appendStringInfo(&buf, ", \"rows\": " UINT64_FORMAT "}", r->rows);
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/* transfer_report: what transfer_migration did, as the migration's report */
static char *
transfer_report(const TenancyMigration *m, int64 target_client_id,
				const TenancyTransfer *t)
{
	StringInfoData report;

	initStringInfo(&report);
	appendStringInfo(&report,
					 "{\"archived_administration_id\": %lld, \"archived_code\": ",
					 (long long) m->administration_id);
	escape_json(&report, t->archived_code);
	if (strcmp(t->archived_code, t->original_code) != 0)
	{
		appendStringInfoString(&report, ", \"code_renamed_from\": ");
		escape_json(&report, t->original_code);
	}
	appendStringInfo(&report,
					 ", \"successor_administration_id\": %lld, \"successor_code\": ",
					 (long long) t->successor_id);
	escape_json(&report, t->successor_code);
	appendStringInfo(&report,
					 ", \"target_client_id\": %lld, \"carried_users\": %lld,"
					 " \"users_created\": %lld, \"rights_granted\": %lld,"
					 " \"source_permissions_removed\": %lld,"
					 " \"source_delegations_removed\": %lld,"
					 " \"rows_removed\": %lld, \"removed\": %s}",
					 (long long) target_client_id, (long long) t->carried,
					 (long long) t->users_created, (long long) t->rights_granted,
					 (long long) t->permissions_removed, (long long) t->delegations_removed,
					 (long long) t->rows_removed, removed_json(t->removed));
	return report.data;
}

/*
 * require_no_concurrent_rights: in transfer_migration's PG_CATCH, turn the
 * foreign key violation of a transaction snapshot into 40001.  Under
 * REPEATABLE READ or SERIALIZABLE the transfer moves the permissions and
 * delegations its snapshot shows; one granted and committed after the
 * snapshot stays behind and fails the administration's move with the
 * foreign key's 23503, which names a constraint of the catalog and tells
 * the caller nothing it can act on.  It is a concurrent change, which a
 * retry under a new snapshot carries along.
 */
static void
require_no_concurrent_rights(int64 administration_id)
{
	if (!IsolationUsesXactSnapshot() || geterrcode() != ERRCODE_FOREIGN_KEY_VIOLATION)
		return;
	FlushErrorState();
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not serialize access due to a concurrent change of the rights on administration %lld",
					(long long) administration_id),
			 errdetail("A permission or delegation on the administration was committed after this transaction's snapshot."),
			 errhint("Retry the transfer in a new transaction.")));
}

/* transfer_migration(migration_id bigint, target_client_id bigint,
 *					  successor_code text) RETURNS bigint */
PG_FUNCTION_INFO_V1(tenancy_transfer_migration);
Datum
tenancy_transfer_migration(PG_FUNCTION_ARGS)
{
	TenancyMigrationCaller caller;
	TenancyMigration locked;
	TenancyMigrationState to;
	TenancyStepOutcome outcome = {0};
	TenancyTransfer t = {0};
	int64		target_client_id;

	tenancy_catalog_require_arg(fcinfo, 0, "migration_id");
	tenancy_catalog_require_arg(fcinfo, 1, "target_client_id");
	target_client_id = PG_GETARG_INT64(1);
	t.successor_code = tenancy_catalog_text_arg(fcinfo, 2, "successor_code");

	/* 1-3. the locks, then everything that may refuse, before any write */
	to = begin_admin_step(PG_GETARG_INT64(0), STEP_TRANSFER, true, true,
						  &caller, &locked);
	require_successor(&locked, target_client_id, t.successor_code);
	t.original_code = require_active_code(&locked);
	t.carried = check_carry(&locked, target_client_id);

	/* 4. the freeze: no writer is in the middle of a write, none can start */
	tenancy_protect_freeze();

	/*
	 * rows the migration does not carry (bank links, certificates, ...),
	 * removed while the administration is still active: on a Citus worker
	 * the guard refuses to delete rows of an archived one (protect.c)
	 */
	t.removed = tenancy_protect_delete_rows(locked.administration_id, false, &t.rows_removed);

	/* 5. the catalog: successor, users carried, archived, detached, moved */
	PG_TRY();
	{
		t.archived_code = archive_code(&locked, t.successor_code);
		t.successor_id = create_administration(&locked, target_client_id, t.successor_code);
		carry_client_users(&locked, target_client_id, t.successor_id, &t);
		detach_from_source(&locked, &t);
		move_archive(&locked, target_client_id, t.successor_id, &t);
	}
	PG_CATCH();
	{
		require_no_concurrent_rights(locked.administration_id);
		PG_RE_THROW();
	}
	PG_END_TRY();

	outcome.report = transfer_report(&locked, target_client_id, &t);
	outcome.detail = outcome.report;
	outcome.target_client_id = target_client_id;
	outcome.successor_id = t.successor_id;
	record_step(&locked, STEP_TRANSFER, to, "target", &caller, &outcome);
	PG_RETURN_INT64(t.successor_id);
}

/* confirm_export(migration_id bigint) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_confirm_export);
Datum
tenancy_confirm_export(PG_FUNCTION_ARGS)
{
	TenancyMigrationCaller caller;
	TenancyMigration locked;
	TenancyMigrationState to;
	TenancyStepOutcome outcome = {0};

	tenancy_catalog_require_arg(fcinfo, 0, "migration_id");
	to = begin_admin_step(PG_GETARG_INT64(0), STEP_CONFIRM_EXPORT, false, false,
						  &caller, &locked);
	record_step(&locked, STEP_CONFIRM_EXPORT, to, "source", &caller, &outcome);
	PG_RETURN_VOID();
}

/* delete_at_source(migration_id bigint) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_delete_at_source);
Datum
tenancy_delete_at_source(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr state_plan = NULL;
	TenancyMigrationCaller caller;
	TenancyMigration locked;
	TenancyMigrationState to;
	TenancyStepOutcome outcome = {0};
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int64		rows_deleted;
	List	   *deleted;

	tenancy_catalog_require_arg(fcinfo, 0, "migration_id");
	to = begin_admin_step(PG_GETARG_INT64(0), STEP_DELETE_AT_SOURCE, false, true,
						  &caller, &locked);

	/* the freeze, then every row of the administration goes (R19) */
	tenancy_protect_freeze();
	deleted = tenancy_protect_delete_rows(locked.administration_id, true, &rows_deleted);
	values[0] = Int64GetDatum(locked.administration_id);
	tenancy_catalog_write_first(&state_plan,
								"UPDATE tenancy.administration SET state = 'deleted' WHERE id = $1",
								1, argtypes, values, NULL);
	outcome.report = psprintf("{\"rows_deleted\": %lld, \"deleted\": %s}",
							  (long long) rows_deleted, removed_json(deleted));
	outcome.detail = outcome.report;
	record_step(&locked, STEP_DELETE_AT_SOURCE, to, "source", &caller, &outcome);
	PG_RETURN_VOID();
}

/* activate_at_target(migration_id bigint, target_client_id bigint, code text)
 *					  RETURNS bigint */
PG_FUNCTION_INFO_V1(tenancy_activate_at_target);
Datum
tenancy_activate_at_target(PG_FUNCTION_ARGS)
{
	TenancyMigrationCaller caller;
	TenancyMigration locked;
	TenancyMigrationState to;
	TenancyStepOutcome outcome = {0};
	int64		target_client_id;
	char	   *code;
	int64		successor_id;
	StringInfoData detail;

	tenancy_catalog_require_arg(fcinfo, 0, "migration_id");
	tenancy_catalog_require_arg(fcinfo, 1, "target_client_id");
	target_client_id = PG_GETARG_INT64(1);
	code = tenancy_catalog_text_arg(fcinfo, 2, "code");
	to = begin_admin_step(PG_GETARG_INT64(0), STEP_ACTIVATE, true, false,
						  &caller, &locked);
	require_successor(&locked, target_client_id, code);

	successor_id = create_administration(&locked, target_client_id, code);
	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"successor_administration_id\": %lld, \"successor_code\": ",
					 (long long) successor_id);
	escape_json(&detail, code);
	appendStringInfo(&detail, ", \"target_client_id\": %lld}", (long long) target_client_id);
	/* the report of delete_at_source stays; the step's own goes to history */
	outcome.detail = detail.data;
	outcome.target_client_id = target_client_id;
	outcome.successor_id = successor_id;
	record_step(&locked, STEP_ACTIVATE, to, "target", &caller, &outcome);
	PG_RETURN_INT64(successor_id);
}

/* ------------------------------------------------------------------
 * Guard, views' helpers
 * ------------------------------------------------------------------ */

/* migration_next_steps(state text, scenario text) RETURNS text[] */
PG_FUNCTION_INFO_V1(tenancy_migration_next_steps);
Datum
tenancy_migration_next_steps(PG_FUNCTION_ARGS)
{
	char	   *state_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TenancyMigrationState state = find_state(state_name);
	int			scenario = parse_scenario(text_to_cstring(PG_GETARG_TEXT_PP(1)), false);
	const char *names[STEP_COUNT];
	Datum		elems[STEP_COUNT];
	int			n;
	int			i;

	if (state == MS_COUNT)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid migration state \"%s\"", state_name),
				 errhint("Pass the state column of tenancy.migrations.")));
	n = allowed_steps(state, scenario, names);
	for (i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(names[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* what migration_party remembers of the caller, per query */
typedef struct TenancyVisibleCache
{
	int64		user_id;
	bool		is_operator;
	TenancyMigrationCaller caller;
	bool		enabled;
} TenancyVisibleCache;

/* migration_party(source_compartment_id bigint, source_client_id bigint,
 *				   target_compartment_id bigint, target_client_id bigint)
 *				   RETURNS text: 'source', 'target', 'operator' or NULL */
PG_FUNCTION_INFO_V1(tenancy_migration_party);
Datum
tenancy_migration_party(PG_FUNCTION_ARGS)
{
	TenancyVisibleCache *cache = (TenancyVisibleCache *) fcinfo->flinfo->fn_extra;
	const TenancyIdentity *ident = tenancy_identity_current();
	TenancyMigration m;

	if (cache == NULL || cache->user_id != ident->user_id)
	{
		if (cache == NULL)
			cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TenancyVisibleCache));
		cache->user_id = ident->user_id;
		cache->is_operator = tenancy_catalog_is_operator();
		cache->enabled = false;
		if (ident->user_id != 0)
		{
			TenancyUserFacts user;

			if (tenancy_rights_identity_user(&user) && !user.disabled)
			{
				cache->enabled = true;
				cache->caller.user_id = ident->user_id;
				cache->caller.compartment_id = ident->compartment_id;
				cache->caller.user = user;
			}
		}
		fcinfo->flinfo->fn_extra = cache;
	}
	if (cache->is_operator)
		PG_RETURN_TEXT_P(cstring_to_text("operator"));
	if (!cache->enabled || PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	memset(&m, 0, sizeof(m));
	m.source_compartment_id = PG_GETARG_INT64(0);
	m.source_client_id = PG_GETARG_INT64(1);
	m.target_compartment_id = PG_GETARG_INT64(2);
	m.target_client_id = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT64(3);
	if (!caller_sees(&cache->caller, &m))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(cache->caller.compartment_id == m.source_compartment_id ?
									 "source" : "target"));
}
