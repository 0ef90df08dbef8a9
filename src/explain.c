/*-------------------------------------------------------------------------
 *
 * explain.c
 *	  explain_access (R23): why a user can or cannot see and change an
 *	  administration, as a chain of reasons an operator can read.
 *
 * It describes the user (compartment, kind, client, disabled) and the
 * administration (compartment, client, state), then asks rights.c, the
 * module the visibility cache asks too, where the user's rights come from
 * (permission, archive rule, delegations in force) and what they amount
 * to: the verdict is tenancy_rights_effective's, so it cannot drift from
 * what the walls do.  Every delegation of the pair, in force or not, is
 * listed for the record.
 * Callers: platform operators; administrators of the compartment when the
 * user and the administration both belong to it; across compartments, an
 * administrator of either side only while a delegation in force links the
 * two (a revoked or ended one no longer shows either side the other's
 * user or administration).
 *
 * Memory: the facts and the delegation lines are read by the catalog
 * helper's readers and used after SPI_finish(), so they are built in the
 * caller's memory context (texts through SPI_palloc), never in SPI's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "tenancy.h"

typedef struct ExplainFacts
{
	bool		user_found;
	int64		user_compartment;
	char	   *user_compartment_code;
	char	   *kind;
	int64		user_client;
	bool		disabled;
	char	   *email;
	bool		admin_found;
	int64		admin_compartment;
	char	   *admin_compartment_code;
	int64		admin_client;
	char	   *admin_code;
	char	   *state;
	int64		user_id;
	int64		administration_id;
	int			live_delegations;
	List	   *deleg_lines;	/* text of every delegation */
	MemoryContext caller_context;
	TenancyRightsSources sources;	/* rights.c: where rights come from */
} ExplainFacts;

static void add_line(Tuplestorestate *store, TupleDesc desc, const char *line);
static void read_facts(int64 user_id, int64 administration_id, ExplainFacts *f);
static void copy_facts(int n, void *arg);
static void copy_delegations(int n, void *arg);
static void require_explainer(bool is_operator, const ExplainFacts *f,
							  int64 user_id, int64 administration_id);
static void explain_rights(ReturnSetInfo *rsinfo, const ExplainFacts *f,
						   bool sees_user);
static void explain_state(ReturnSetInfo *rsinfo, const ExplainFacts *f,
						  bool sees_user);

static void
add_line(Tuplestorestate *store, TupleDesc desc, const char *line)
{
	Datum		value = CStringGetTextDatum(line);
	bool		isnull = false;

	tuplestore_putvalues(store, desc, &value, &isnull);
}

/* read_facts' reader: the user and the administration */
static void
copy_facts(int n, void *arg)
{
	ExplainFacts *f = (ExplainFacts *) arg;

	if (n != 1)
		return;
	f->user_found = tenancy_catalog_get_bool(0, 0);
	tenancy_catalog_get_int64(0, 1, &f->user_compartment);
	f->user_compartment_code = tenancy_catalog_get_text(0, 2);
	f->kind = tenancy_catalog_get_text(0, 3);
	tenancy_catalog_get_int64(0, 4, &f->user_client);
	f->disabled = tenancy_catalog_get_bool(0, 5);
	f->email = tenancy_catalog_get_text(0, 6);
	f->admin_found = tenancy_catalog_get_bool(0, 7);
	tenancy_catalog_get_int64(0, 8, &f->admin_compartment);
	f->admin_compartment_code = tenancy_catalog_get_text(0, 9);
	tenancy_catalog_get_int64(0, 10, &f->admin_client);
	f->admin_code = tenancy_catalog_get_text(0, 11);
	f->state = tenancy_catalog_get_text(0, 12);
}

/*
 * read_facts' reader of the delegations of the administration to the user
 * (columns: id, rights, in force, end, revoked).  The lines outlive
 * SPI_finish(): they are built in the caller's memory.
 */
static void
copy_delegations(int n, void *arg)
{
	ExplainFacts *f = (ExplainFacts *) arg;
	int			i;

	for (i = 0; i < n; i++)
	{
		int64		did;
		bool		live = tenancy_catalog_get_bool(i, 5);
		char	   *end = tenancy_catalog_get_text(i, 6);
		int			mask = tenancy_catalog_get_rights(i, 1);
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		tenancy_catalog_get_int64(i, 0, &did);
		if (live)
			f->live_delegations++;
		old = MemoryContextSwitchTo(f->caller_context);
		f->deleg_lines = lappend(f->deleg_lines,
								 psprintf("delegation %lld gives %s: %s %s",
										  (long long) did, tenancy_rights_text(mask),
										  live ? "in force until" :
										  tenancy_catalog_get_bool(i, 7) ? "revoked, was to run until" : "ended at",
										  end));
		MemoryContextSwitchTo(old);
	}
}

/*
 * read_facts: the user, the administration and every delegation of the
 * pair, copied into the caller's memory
 */
static void
read_facts(int64 user_id, int64 administration_id, ExplainFacts *f)
{
	static SPIPlanPtr facts_plan = NULL;
	static SPIPlanPtr deleg_plan = NULL;
	Oid			argtypes[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};
	Datum		values[3];

	memset(f, 0, sizeof(*f));
	f->user_id = user_id;
	f->administration_id = administration_id;
	f->caller_context = CurrentMemoryContext;
	values[0] = Int64GetDatum(user_id);
	values[1] = Int64GetDatum(administration_id);
	values[2] = TimestampTzGetDatum(tenancy_rights_now());

	tenancy_catalog_read(&facts_plan,
						 "SELECT u.id IS NOT NULL, u.compartment_id, uc.code, u.kind,"
						 "       u.client_id, u.disabled, acc.email,"
						 "       a.id IS NOT NULL, a.compartment_id, ac.code, a.client_id,"
						 "       a.code, a.state"
						 "  FROM (SELECT 1) one"
						 "  LEFT JOIN tenancy.users u ON u.id = $1"
						 "  LEFT JOIN tenancy.compartment uc ON uc.id = u.compartment_id"
						 "  LEFT JOIN tenancy.account acc ON acc.id = u.account_id"
						 "  LEFT JOIN tenancy.administration a ON a.id = $2"
						 "  LEFT JOIN tenancy.compartment ac ON ac.id = a.compartment_id",
						 2, argtypes, values, copy_facts, f);
	if (f->user_found && f->admin_found &&
		OidIsValid(tenancy_catalog_relid("delegation")))
		tenancy_catalog_read(&deleg_plan,
							 "SELECT d.id, d.can_read, d.can_write, d.can_submit,"
							 "       d.can_manage, d.revoked_at IS NULL AND d.valid_until > $3,"
							 "       d.valid_until::text, d.revoked_at IS NOT NULL"
							 "  FROM tenancy.delegation d"
							 " WHERE d.to_user_id = $1 AND d.administration_id = $2"
							 " ORDER BY d.id",
							 3, argtypes, values, copy_delegations, f);
}

/*
 * require_explainer: operators; administrators of the compartment when user
 * and administration both belong to it; across compartments, an
 * administrator of either side only while a delegation in force links the
 * two (the owner named the user, the delegate sees the administration).
 */
static void
require_explainer(bool is_operator, const ExplainFacts *f, int64 user_id,
				  int64 administration_id)
{
	if (f->user_found && f->admin_found &&
		(is_operator ||
		 ((f->user_compartment == f->admin_compartment || f->live_delegations > 0) &&
		  (tenancy_rights_is_manager(false, f->admin_compartment) ||
		   tenancy_rights_is_manager(false, f->user_compartment)))))
		return;
	if (is_operator)
		tenancy_catalog_error_unknown(f->user_found ? "administration" : "user",
									  f->user_found ? administration_id : user_id,
									  NULL,
									  "Check the id against the tenancy catalog tables.");
	if (!tenancy_identity_is_set())
		tenancy_catalog_error_no_identity("Access is explained to an administrator of the compartment.",
										  "Call tenancy.act_as_local() or tenancy.act_as() first, or connect as a member of tenancy_admin.");
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("user %lld or administration %lld does not exist or is not accessible",
					(long long) user_id, (long long) administration_id),
			 errhint("Act as an administrator of the user's or the administration's compartment, or connect as a member of tenancy_admin.")));
}

/*
 * explain_rights: who the user is, where the administration lies, and what
 * the wall, the permission, the archive rule and the delegations give.
 * Without sees_user (an administrator of the administration's compartment
 * asking about a delegate of another compartment) the user is only its
 * id: its address, kind, client and compartment are that compartment's to
 * tell, and a delegation, which the delegator makes (and can roll back)
 * alone, would otherwise list another firm's users (1.3 review).
 */
static void
explain_rights(ReturnSetInfo *rsinfo, const ExplainFacts *f, bool sees_user)
{
	Tuplestorestate *store = rsinfo->setResult;
	TupleDesc	desc = rsinfo->setDesc;
	TenancyUserFacts user = {0};
	ListCell   *lc;

	user.user_id = f->user_id;
	user.compartment_id = f->user_compartment;
	user.client_id = f->user_client;
	user.internal = strcmp(f->kind, "internal") == 0;
	if (!sees_user)
		add_line(store, desc, psprintf("user %lld is a user of another compartment",
									   (long long) f->user_id));
	else if (!user.internal)
		add_line(store, desc, psprintf("user %lld (%s) is an external user of client %lld in compartment %lld (%s)",
				 (long long) f->user_id, f->email, (long long) f->user_client,
				 (long long) f->user_compartment, f->user_compartment_code));
	else
		add_line(store, desc, psprintf("user %lld (%s) is an internal user of compartment %lld (%s)",
				 (long long) f->user_id, f->email, (long long) f->user_compartment,
				 f->user_compartment_code));
	add_line(store, desc, psprintf("administration %lld (%s) belongs to client %lld in compartment %lld (%s) and is %s",
			 (long long) f->administration_id, f->admin_code, (long long) f->admin_client,
			 (long long) f->admin_compartment, f->admin_compartment_code, f->state));

	if (f->user_compartment == f->admin_compartment)
	{
		add_line(store, desc, "same compartment: the compartment wall lets the user in");
		if (f->sources.permission != 0)
			add_line(store, desc, psprintf("permission: %s",
										   tenancy_rights_text(f->sources.permission)));
		else
			add_line(store, desc, "no permission on the administration");
		if (f->sources.archive_read)
			add_line(store, desc, "archive rule: the user holds a right on the successor of this archived administration, so it reads the archive (R18)");
		if (!tenancy_rights_may_hold(&user, f->admin_compartment, f->admin_client))
			add_line(store, desc, "the administration belongs to another client than the external user's: no right can be granted (R8)");
	}
	else
		add_line(store, desc, "other compartment: the compartment wall keeps the user out unless a delegation opens it");
	foreach(lc, f->deleg_lines)
		add_line(store, desc, (char *) lfirst(lc));
}

/*
 * explain_state: what the user's and the administration's state take away
 * from the rights (the rule itself is rights.c's)
 */
static void
explain_state(ReturnSetInfo *rsinfo, const ExplainFacts *f, bool sees_user)
{
	Tuplestorestate *store = rsinfo->setResult;
	TupleDesc	desc = rsinfo->setDesc;
	char		state = tenancy_rights_state_code(f->state);

	/* whether another compartment disabled its user is its own business */
	if (f->disabled && sees_user)
		add_line(store, desc, "the user is disabled: no access at all");
	if (state == 'r')
		add_line(store, desc, "the administration is archived: read-only for everyone (R12)");
	else if (state == 'd')
		add_line(store, desc, "the administration is deleted: its rows are gone");
}

/* explain_access(user_id bigint, administration_id bigint) RETURNS SETOF text */
PG_FUNCTION_INFO_V1(tenancy_explain_access);
Datum
tenancy_explain_access(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		is_operator = tenancy_catalog_is_operator();
	ExplainFacts f;
	int			effective;
	bool		sees_user;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("user_id and administration_id must not be null"),
				 errhint("Name the user and the administration to explain.")));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	read_facts(PG_GETARG_INT64(0), PG_GETARG_INT64(1), &f);
	require_explainer(is_operator, &f, PG_GETARG_INT64(0), PG_GETARG_INT64(1));

	/* the same sources and the same rule as the visibility cache */
	tenancy_rights_sources(f.user_id, f.user_compartment, f.administration_id,
						   f.admin_compartment, tenancy_rights_now(),
						   true, true, TENANCY_PERMISSION_UNREAD, &f.sources);
	sees_user = is_operator || f.user_compartment == f.admin_compartment ||
		tenancy_rights_is_manager(false, f.user_compartment);

	/*
	 * Without sees_user the verdict is what this side gives: whether the
	 * user's own compartment disabled it is not this side's to learn, and a
	 * verdict that turned to "no access" would tell it.
	 */
	effective = tenancy_rights_effective(!f.disabled || !sees_user, f.user_compartment,
										 f.admin_compartment,
										 tenancy_rights_state_code(f.state),
										 &f.sources) & TENANCY_RIGHTS_ALL;
	explain_rights(rsinfo, &f, sees_user);
	explain_state(rsinfo, &f, sees_user);
	add_line(rsinfo->setResult, rsinfo->setDesc,
			 psprintf(sees_user ? "verdict: %s" : "verdict: %s, as far as this compartment decides",
					  effective ? tenancy_rights_text(effective) : "no access"));
	return (Datum) 0;
}
