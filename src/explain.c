/*-------------------------------------------------------------------------
 *
 * explain.c
 *	  explain_access (R23): why a user can or cannot see and change an
 *	  administration, as a chain of reasons an operator can read.
 *
 * It walks the same facts the scope cache uses (visibility.c), for any
 * user rather than the current identity: the user (compartment, kind,
 * client, disabled), the administration (compartment, client, state), the
 * permission, the delegations, and ends with a verdict line per right.
 * Callers: platform operators; administrators of the compartment when the
 * user and the administration both belong to it; across compartments, an
 * administrator of either side only while a delegation in force links the
 * two (a revoked or ended one no longer shows either side the other's
 * user or administration).
 *
 * Memory: the facts and the delegation lines are read inside one SPI
 * connection and used after SPI_finish(), so they are built in the
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
	int			permission;		/* rights bits, or -1 for none */
	int64		user_id;
	int64		administration_id;
	int			delegated;		/* rights of the delegations in force */
	int			live_delegations;
	List	   *deleg_lines;	/* text of every delegation */
} ExplainFacts;

static void add_line(Tuplestorestate *store, TupleDesc desc, const char *line);
static char *rights_text(int mask);
static void read_facts(int64 user_id, int64 administration_id, ExplainFacts *f);
static void read_delegations(Datum *values, ExplainFacts *f,
							 MemoryContext caller_context);
static void require_explainer(bool is_operator, const ExplainFacts *f,
							  int64 user_id, int64 administration_id);
static int	explain_rights(ReturnSetInfo *rsinfo, const ExplainFacts *f);
static void explain_state(ReturnSetInfo *rsinfo, const ExplainFacts *f,
						  int *effective);

static void
add_line(Tuplestorestate *store, TupleDesc desc, const char *line)
{
	Datum		value = CStringGetTextDatum(line);
	bool		isnull = false;

	tuplestore_putvalues(store, desc, &value, &isnull);
}

static char *
rights_text(int mask)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (mask & TENANCY_RIGHT_READ)
		appendStringInfoString(&buf, ", read");
	if (mask & TENANCY_RIGHT_WRITE)
		appendStringInfoString(&buf, ", write");
	if (mask & TENANCY_RIGHT_SUBMIT)
		appendStringInfoString(&buf, ", submit");
	if (mask & TENANCY_RIGHT_MANAGE)
		appendStringInfoString(&buf, ", manage");
	return buf.len > 0 ? buf.data + 2 : "none";
}

/*
 * read_facts: the user, the administration, the permission and the
 * delegations, in one SPI connection; everything is copied into the
 * caller's memory
 */
static void
read_facts(int64 user_id, int64 administration_id, ExplainFacts *f)
{
	static SPIPlanPtr facts_plan = NULL;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		values[3];
	TenancyElevation save;
	MemoryContext caller_context = CurrentMemoryContext;

	memset(f, 0, sizeof(*f));
	f->permission = -1;
	f->user_id = user_id;
	f->administration_id = administration_id;
	values[0] = Int64GetDatum(user_id);
	values[1] = Int64GetDatum(administration_id);
	values[2] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());

	SPI_connect();
	tenancy_catalog_elevate(&save);
	if (tenancy_catalog_exec(&facts_plan,
							 "SELECT u.id IS NOT NULL, u.compartment_id, uc.code, u.kind,"
							 "       u.client_id, u.disabled, acc.email,"
							 "       a.id IS NOT NULL, a.compartment_id, ac.code, a.client_id,"
							 "       a.code, a.state,"
							 "       p.user_id IS NOT NULL, p.can_read, p.can_write,"
							 "       p.can_submit, p.can_manage"
							 "  FROM (SELECT 1) one"
							 "  LEFT JOIN tenancy.users u ON u.id = $1"
							 "  LEFT JOIN tenancy.compartment uc ON uc.id = u.compartment_id"
							 "  LEFT JOIN tenancy.account acc ON acc.id = u.account_id"
							 "  LEFT JOIN tenancy.administration a ON a.id = $2"
							 "  LEFT JOIN tenancy.compartment ac ON ac.id = a.compartment_id"
							 "  LEFT JOIN tenancy.permission p"
							 "    ON p.user_id = u.id AND p.administration_id = a.id",
							 2, argtypes, values, NULL, true) == 1)
	{
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
		if (tenancy_catalog_get_bool(0, 13))
			f->permission = tenancy_catalog_get_rights(0, 14);
	}
	if (f->user_found && f->admin_found &&
		OidIsValid(tenancy_catalog_relid("delegation")))
		read_delegations(values, f, caller_context);
	tenancy_catalog_restore(&save);
	SPI_finish();
}

/*
 * read_delegations: the delegations of the administration to the user
 * (values: user, administration, now), inside read_facts' SPI connection.
 * The lines outlive SPI_finish(): they are built in the caller's memory.
 */
static void
read_delegations(Datum *values, ExplainFacts *f, MemoryContext caller_context)
{
	static SPIPlanPtr deleg_plan = NULL;
	Oid			argtypes[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};
	int			n;
	int			i;

	n = tenancy_catalog_exec(&deleg_plan,
							 "SELECT d.id, d.can_read, d.can_write, d.can_submit,"
							 "       d.can_manage, d.revoked_at IS NULL AND d.valid_until > $3,"
							 "       d.valid_until::text, d.revoked_at IS NOT NULL"
							 "  FROM tenancy.delegation d"
							 " WHERE d.to_user_id = $1 AND d.administration_id = $2"
							 " ORDER BY d.id",
							 3, argtypes, values, NULL, true);
	for (i = 0; i < n; i++)
	{
		int64		did;
		int			mask;
		bool		live = tenancy_catalog_get_bool(i, 5);
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		tenancy_catalog_get_int64(i, 0, &did);
		mask = tenancy_catalog_get_rights(i, 1);
		if (live)
		{
			f->delegated |= mask;
			f->live_delegations++;
		}
		old = MemoryContextSwitchTo(caller_context);
		f->deleg_lines = lappend(f->deleg_lines,
								 psprintf("delegation %lld gives %s: %s %s",
										  (long long) did, rights_text(mask),
										  live ? "in force until" :
										  tenancy_catalog_get_bool(i, 7) ? "revoked, was to run until" : "ended at",
										  tenancy_catalog_get_text(i, 6)));
		MemoryContextSwitchTo(old);
	}
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
		  (tenancy_catalog_is_manager(false, f->admin_compartment) ||
		   tenancy_catalog_is_manager(false, f->user_compartment)))))
		return;
	if (is_operator)
		tenancy_catalog_error_unknown(f->user_found ? "administration" : "user",
									  f->user_found ? administration_id : user_id,
									  NULL,
									  "Check the id against the tenancy catalog tables.");
	if (!tenancy_identity_is_set())
		tenancy_catalog_error_no_identity("Access is explained to an administrator of the compartment.",
										  "Call tenancy.act_as() first, or connect as a member of tenancy_admin.");
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("user %lld or administration %lld does not exist or is not accessible",
					(long long) user_id, (long long) administration_id),
			 errhint("Act as an administrator of the user's or the administration's compartment, or connect as a member of tenancy_admin.")));
}

/*
 * explain_rights: who the user is, where the administration lies, and what
 * the wall, the permission and the delegations give; returns those rights
 */
static int
explain_rights(ReturnSetInfo *rsinfo, const ExplainFacts *f)
{
	Tuplestorestate *store = rsinfo->setResult;
	TupleDesc	desc = rsinfo->setDesc;
	int			effective = 0;
	ListCell   *lc;

	if (strcmp(f->kind, "external") == 0)
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
		if (f->permission >= 0)
		{
			add_line(store, desc, psprintf("permission: %s", rights_text(f->permission)));
			effective = f->permission;
		}
		else
			add_line(store, desc, "no permission on the administration");
		if (strcmp(f->kind, "external") == 0 && f->user_client != f->admin_client)
			add_line(store, desc, "the administration belongs to another client than the external user's: no right can be granted (R8)");
	}
	else
		add_line(store, desc, "other compartment: the compartment wall keeps the user out unless a delegation opens it");
	foreach(lc, f->deleg_lines)
		add_line(store, desc, (char *) lfirst(lc));
	return effective | f->delegated;
}

/*
 * explain_state: what the user's and the administration's state take away
 * from the rights
 */
static void
explain_state(ReturnSetInfo *rsinfo, const ExplainFacts *f, int *effective)
{
	Tuplestorestate *store = rsinfo->setResult;
	TupleDesc	desc = rsinfo->setDesc;

	if (f->disabled)
	{
		add_line(store, desc, "the user is disabled: no access at all");
		*effective = 0;
	}
	if (strcmp(f->state, "archived") == 0)
	{
		add_line(store, desc, "the administration is archived: read-only for everyone (R12)");
		*effective &= (TENANCY_RIGHT_READ | TENANCY_RIGHT_MANAGE);
	}
	else if (strcmp(f->state, "deleted") == 0)
	{
		add_line(store, desc, "the administration is deleted: its rows are gone");
		*effective = 0;
	}
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

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("user_id and administration_id must not be null"),
				 errhint("Name the user and the administration to explain.")));
	TENANCY_INIT_MATERIALIZED_SRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	read_facts(PG_GETARG_INT64(0), PG_GETARG_INT64(1), &f);
	require_explainer(is_operator, &f, PG_GETARG_INT64(0), PG_GETARG_INT64(1));
	effective = explain_rights(rsinfo, &f);
	explain_state(rsinfo, &f, &effective);
	add_line(rsinfo->setResult, rsinfo->setDesc,
			 psprintf("verdict: %s", effective ? rights_text(effective) : "no access"));
	return (Datum) 0;
}
