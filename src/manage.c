/*-------------------------------------------------------------------------
 *
 * manage.c
 *	  The management functions: subscriptions, compartments, clients,
 *	  administrations, users and rights (R8-R10, R13).
 *
 * Each function first decides who the caller is (a platform operator, or
 * a session acting as an administrator of the compartment concerned), then
 * validates its arguments, then writes the catalog elevated to its owner.
 * Everything a caller can get wrong is refused before the first write, and
 * the constraints and triggers of the catalog are the backstop: a race
 * that slips past a check still ends in their error, never in a broken
 * invariant.  Each function runs in its caller's transaction, so a refusal
 * leaves nothing behind.
 *
 * Look-alikes (R10).  Codes are unique case-insensitively in their scope
 * (the functions compare lower(code), and unique indexes on lower(code)
 * hold for a plain INSERT too); e-mail addresses are trimmed, plain ASCII
 * and a single address, so that a Cyrillic letter or a trailing ";" cannot
 * make a second account that reads like the first.  An administrator
 * cannot disable the user it acts as; enable_user undoes disable_user.
 *
 * Lock order (R8, R9, R17): grant_rights locks the administration FOR KEY
 * SHARE (FOR SHARE for an external user) before it checks the client;
 * move_administration locks it FOR UPDATE before it counts the external
 * rights, request_migration FOR NO KEY UPDATE.  Whichever comes second
 * waits for the first and then sees its result.  Each reads the row without
 * a lock first and refuses one outside the caller's view there, so that no
 * caller waits on another firm's row (R13).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/string.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "tenancy.h"

#define MAX_EMAIL_LENGTH	254

static void require_operator(const char *action);
static void require_name(const char *name, const char *what);
static bool lookup(SPIPlanPtr *plan, const char *sql, int64 id,
				   int64 *out, int nout, char **text_out);
static int64 write_catalog(SPIPlanPtr *plan, const char *sql, int nargs,
						   Oid *argtypes, Datum *values, const char *nulls);
static bool email_valid(const char *email);
static char *normalized_email(const char *raw_email);
static bool kind_is_external(const char *kind);
static int64 user_client(FunctionCallInfo fcinfo, bool is_operator,
						 int64 compartment_id, bool external, bool is_admin);
static int64 account_for_email(const char *email, int64 compartment_id);
static void set_user_disabled(FunctionCallInfo fcinfo, bool disable);

static void
require_operator(const char *action)
{
	tenancy_catalog_require_coordinator(action);
	if (!tenancy_catalog_is_operator())
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to %s", action),
				 errhint("Only members of role \"%s\" may %s.",
						 TENANCY_ADMIN_ROLE, action)));
}

static void
require_name(const char *name, const char *what)
{
	if (!tenancy_catalog_is_blank(name))
		return;
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
			 errmsg("%s name must not be empty", what),
			 errhint("Pass the name people know the %s by; it shows in every listing.", what)));
}

/*
 * lookup: one catalog row by id.  Fills out[0..nout-1] with its first bigint
 * columns (0 for NULL) and *text_out with the next column.
 */
static bool
lookup(SPIPlanPtr *plan, const char *sql, int64 id, int64 *out, int nout,
	   char **text_out)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];

	values[0] = Int64GetDatum(id);
	return tenancy_catalog_query(plan, sql, 1, argtypes, values, NULL,
								 out, nout, text_out, text_out ? 1 : 0) == 1;
}

/* one catalog write, elevated; returns the first column of the first row */
static int64
write_catalog(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes,
			  Datum *values, const char *nulls)
{
	int64		result = 0;

	tenancy_catalog_query(plan, sql, nargs, argtypes, values, nulls, &result, 1, NULL, 0);
	return result;
}

/* create_subscription(name text) RETURNS bigint */
PG_FUNCTION_INFO_V1(tenancy_create_subscription);
Datum
tenancy_create_subscription(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	char	   *name;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	require_operator("create a subscription");
	name = tenancy_catalog_text_arg(fcinfo, 0, "name");
	require_name(name, "subscription");

	values[0] = CStringGetTextDatum(name);
	PG_RETURN_INT64(write_catalog(&plan,
								  "INSERT INTO tenancy.subscription (name)"
								  " VALUES ($1) RETURNING id",
								  1, argtypes, values, NULL));
}

/* create_compartment(subscription_id bigint, code text, name text,
 *					  allow_external_users boolean DEFAULT true) RETURNS bigint */
PG_FUNCTION_INFO_V1(tenancy_create_compartment);
Datum
tenancy_create_compartment(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr sub_plan = NULL;
	static SPIPlanPtr ins_plan = NULL;
	int64		subscription_id;
	char	   *code;
	char	   *name;
	bool		allow_external;
	int64		dummy;
	Oid			argtypes[4] = {INT8OID, TEXTOID, TEXTOID, BOOLOID};
	Datum		values[4];

	require_operator("create a compartment");
	tenancy_catalog_require_arg(fcinfo, 0, "subscription_id");
	subscription_id = PG_GETARG_INT64(0);
	code = tenancy_catalog_text_arg(fcinfo, 1, "code");
	name = tenancy_catalog_text_arg(fcinfo, 2, "name");
	allow_external = tenancy_catalog_bool_arg(fcinfo, 3, "allow_external_users");
	tenancy_catalog_require_code(code, "compartment");
	require_name(name, "compartment");

	if (!lookup(&sub_plan, "SELECT s.id FROM tenancy.subscription s WHERE s.id = $1",
				subscription_id, &dummy, 1, NULL))
		tenancy_catalog_error_unknown("subscription", subscription_id, NULL,
									  "Create it with tenancy.create_subscription().");

	tenancy_catalog_require_free_code(TENANCY_CODE_COMPARTMENT, 0, code,
									  "Choose another code.");

	values[0] = Int64GetDatum(subscription_id);
	values[1] = CStringGetTextDatum(code);
	values[2] = CStringGetTextDatum(name);
	values[3] = BoolGetDatum(allow_external);
	PG_RETURN_INT64(write_catalog(&ins_plan,
								  "INSERT INTO tenancy.compartment"
								  " (subscription_id, code, name, allow_external_users)"
								  " VALUES ($1, $2, $3, $4) RETURNING id",
								  4, argtypes, values, NULL));
}

/* create_client(compartment_id bigint, code text, name text) RETURNS bigint */
PG_FUNCTION_INFO_V1(tenancy_create_client);
Datum
tenancy_create_client(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr ins_plan = NULL;
	bool		is_operator = tenancy_catalog_is_operator();
	int64		compartment_id;
	char	   *code;
	char	   *name;
	Oid			argtypes[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3];

	tenancy_catalog_require_arg(fcinfo, 0, "compartment_id");
	compartment_id = PG_GETARG_INT64(0);
	tenancy_rights_require_compartment_manager(is_operator, compartment_id);

	code = tenancy_catalog_text_arg(fcinfo, 1, "code");
	name = tenancy_catalog_text_arg(fcinfo, 2, "name");
	tenancy_catalog_require_code(code, "client");
	require_name(name, "client");

	tenancy_catalog_require_free_code(TENANCY_CODE_CLIENT, compartment_id, code,
									  "Choose another code.");

	values[0] = Int64GetDatum(compartment_id);
	values[1] = CStringGetTextDatum(code);
	values[2] = CStringGetTextDatum(name);
	PG_RETURN_INT64(write_catalog(&ins_plan,
								  "INSERT INTO tenancy.client (compartment_id, code, name)"
								  " VALUES ($1, $2, $3) RETURNING id",
								  3, argtypes, values, NULL));
}

/* create_administration(client_id bigint, code text, name text) RETURNS bigint */
PG_FUNCTION_INFO_V1(tenancy_create_administration);
Datum
tenancy_create_administration(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr client_plan = NULL;
	static SPIPlanPtr ins_plan = NULL;
	bool		is_operator = tenancy_catalog_is_operator();
	int64		client_id;
	int64		compartment_id = 0;
	char	   *code;
	char	   *name;
	Oid			argtypes[4] = {INT8OID, TEXTOID, TEXTOID, INT8OID};
	Datum		values[4];

	tenancy_catalog_require_arg(fcinfo, 0, "client_id");
	client_id = PG_GETARG_INT64(0);
	if (!lookup(&client_plan, "SELECT c.compartment_id FROM tenancy.client c WHERE c.id = $1",
				client_id, &compartment_id, 1, NULL))
		compartment_id = 0;
	tenancy_rights_require_manager(is_operator, compartment_id, "client", client_id);

	code = tenancy_catalog_text_arg(fcinfo, 1, "code");
	name = tenancy_catalog_text_arg(fcinfo, 2, "name");
	tenancy_catalog_require_code(code, "administration");
	require_name(name, "administration");

	tenancy_catalog_require_free_code(TENANCY_CODE_ADMINISTRATION, compartment_id,
									  code, "Choose another code.");

	values[0] = Int64GetDatum(compartment_id);
	values[1] = CStringGetTextDatum(code);
	values[2] = CStringGetTextDatum(name);
	values[3] = Int64GetDatum(client_id);
	PG_RETURN_INT64(write_catalog(&ins_plan,
								  "INSERT INTO tenancy.administration"
								  " (compartment_id, code, name, client_id)"
								  " VALUES ($1, $2, $3, $4) RETURNING id",
								  4, argtypes, values, NULL));
}

/* move_administration(administration_id bigint, client_id bigint,
 *					   revoke_external boolean DEFAULT false) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_move_administration);
Datum
tenancy_move_administration(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr client_plan = NULL;
	static SPIPlanPtr count_plan = NULL;
	static SPIPlanPtr revoke_plan = NULL;
	static SPIPlanPtr move_plan = NULL;
	bool		is_operator = tenancy_catalog_is_operator();
	int64		administration_id;
	int64		client_id;
	bool		revoke_external;
	int64		admin[2] = {0, 0};	/* compartment, client */
	int64		target_compartment = 0;
	char	   *state = NULL;
	int64		external_rights = 0;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		values[2];

	tenancy_catalog_require_arg(fcinfo, 0, "administration_id");
	tenancy_catalog_require_arg(fcinfo, 1, "client_id");
	administration_id = PG_GETARG_INT64(0);
	client_id = PG_GETARG_INT64(1);
	revoke_external = tenancy_catalog_bool_arg(fcinfo, 2, "revoke_external");

	if (!tenancy_catalog_administration(administration_id, TENANCY_LOCK_NONE, admin, NULL))
		admin[0] = 0;
	tenancy_rights_require_manager(is_operator, admin[0], "administration",
								   administration_id);
	/* FOR UPDATE: a concurrent grant_rights waits, or we wait for it */
	if (!tenancy_catalog_administration(administration_id, TENANCY_LOCK_UPDATE, admin, &state))
		admin[0] = 0;
	/* it may have changed compartment (a migration) while we waited */
	tenancy_rights_require_manager(is_operator, admin[0], "administration",
								   administration_id);

	if (!lookup(&client_plan, "SELECT c.compartment_id FROM tenancy.client c WHERE c.id = $1",
				client_id, &target_compartment, 1, NULL))
		tenancy_catalog_error_inaccessible("client", client_id, is_operator,
										   NULL, NULL);
	if (target_compartment != admin[0])
		tenancy_catalog_error_elsewhere("client", client_id, is_operator, NULL,
										"move_administration moves an administration between clients of one compartment.",
										"An administration changes compartment only through a migration.");
	if (strcmp(state, "deleted") == 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("administration %lld is deleted", (long long) administration_id),
				 errdetail("A deleted administration is kept for the record only.")));
	if (admin[1] == client_id)
		PG_RETURN_VOID();
	tenancy_migration_require_none_open(administration_id, TENANCY_MIGRATION_CLIENT);

	lookup(&count_plan,
		   "SELECT count(*) FROM tenancy.permission p"
		   " WHERE p.administration_id = $1 AND p.user_client_id IS NOT NULL",
		   administration_id, &external_rights, 1, NULL);
	values[0] = Int64GetDatum(administration_id);
	values[1] = Int64GetDatum(client_id);
	if (external_rights > 0)
	{
		if (!revoke_external)
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_BAD_STATE),
					 errmsg("administration %lld cannot move while external users of its client hold rights on it",
							(long long) administration_id),
					 errdetail_plural("%lld external user of client %lld holds rights on it.",
									  "%lld external users of client %lld hold rights on it.",
									  (unsigned long) external_rights,
									  (long long) external_rights, (long long) admin[1]),
					 errhint("Revoke those rights first, or pass revoke_external => true.")));
		write_catalog(&revoke_plan,
					  "DELETE FROM tenancy.permission p"
					  " WHERE p.administration_id = $1 AND p.user_client_id IS NOT NULL",
					  1, argtypes, values, NULL);
	}
	write_catalog(&move_plan,
				  "UPDATE tenancy.administration SET client_id = $2 WHERE id = $1",
				  2, argtypes, values, NULL);
	PG_RETURN_VOID();
}

/*
 * normalized_email: the address trimmed and checked (R10); an address that
 * is not plain ASCII or not of the form local@domain is refused
 */
static char *
normalized_email(const char *raw_email)
{
	char	   *email;

	email = TextDatumGetCString(DirectFunctionCall1(btrim1,
													CStringGetTextDatum(raw_email)));
	if (!pg_is_ascii(email))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid e-mail address \"%s\"", raw_email),
				 errdetail("The address contains characters outside ASCII."),
				 errhint("Type the address in plain ASCII letters, digits and punctuation: letters that only look like ASCII ones would make a second account that reads like the first.")));
	if (!email_valid(email))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid e-mail address \"%s\"", raw_email),
				 errdetail("An address is a local part, \"@\" and a domain of dot-separated letters, digits and hyphens, without spaces or characters such as \";\", \",\" or \"<\"."),
				 errhint("Pass one address, like name@example.com.")));
	return email;
}

/* is the kind "external" (true) or "internal" (false)?  Else refused */
static bool
kind_is_external(const char *kind)
{
	if (strcmp(kind, "internal") == 0)
		return false;
	if (strcmp(kind, "external") != 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("invalid user kind \"%s\"", kind),
				 errhint("A user is \"internal\" (staff of the firm) or \"external\" (belongs to one client).")));
	return true;
}

/*
 * user_client: the client of a new user (argument client_id), or 0 for an
 * internal one.  An external user belongs to a client of the compartment
 * and administers nothing (R8); an internal user belongs to no client.
 */
static int64
user_client(FunctionCallInfo fcinfo, bool is_operator, int64 compartment_id,
			bool external, bool is_admin)
{
	static SPIPlanPtr client_plan = NULL;
	int64		client_id;
	int64		client_compartment = 0;

	if (!external && !PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("an internal user belongs to no client"),
				 errhint("Pass client_id => NULL, or add the user as external.")));
	if (!external)
		return 0;
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("an external user must belong to a client"),
				 errhint("Pass the client_id of the user's client.")));
	if (is_admin)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("an external user cannot be an administrator of the compartment"),
				 errhint("Only internal users administer a compartment.")));
	client_id = PG_GETARG_INT64(3);
	if (!lookup(&client_plan, "SELECT c.compartment_id FROM tenancy.client c WHERE c.id = $1",
				client_id, &client_compartment, 1, NULL))
		tenancy_catalog_error_inaccessible("client", client_id, is_operator,
										   "An external user belongs to a client of the same compartment.",
										   NULL);
	if (client_compartment != compartment_id)
		tenancy_catalog_error_elsewhere("client", client_id, is_operator,
										"An external user belongs to a client of the same compartment.",
										"An external user belongs to a client of the same compartment.",
										"Add the user to the client's compartment.");
	return client_id;
}

/*
 * account_for_email: the account of the address, found case-insensitively
 * or created when new (R10); refuses a second user of the account in the
 * compartment
 */
static int64
account_for_email(const char *email, int64 compartment_id)
{
	static SPIPlanPtr account_plan = NULL;
	static SPIPlanPtr member_plan = NULL;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Oid			texttype = TEXTOID;
	Datum		values[2];
	Datum		email_datum = CStringGetTextDatum(email);
	int64		account_id = 0;
	int64		existing = 0;

	if (tenancy_catalog_query(&account_plan,
							  "WITH ins AS ("
							  "  INSERT INTO tenancy.account (email) VALUES ($1)"
							  "  ON CONFLICT ((lower(email))) DO NOTHING RETURNING id)"
							  " SELECT id FROM ins"
							  " UNION ALL"
							  " SELECT a.id FROM tenancy.account a"
							  "  WHERE lower(a.email) = lower($1)",
							  1, &texttype, &email_datum, NULL,
							  &account_id, 1, NULL, 0) < 1 || account_id == 0)
		elog(ERROR, "account for \"%s\" not found after insert", email);
	values[0] = Int64GetDatum(compartment_id);
	values[1] = Int64GetDatum(account_id);
	tenancy_catalog_query(&member_plan,
						  "SELECT u.id FROM tenancy.users u"
						  " WHERE u.compartment_id = $1 AND u.account_id = $2",
						  2, argtypes, values, NULL, &existing, 1, NULL, 0);

	if (existing != 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DUPLICATE),
				 errmsg("account \"%s\" already has a user in compartment %lld",
						email, (long long) compartment_id),
				 errdetail("One account has at most one user per compartment; it is user %lld.",
						   (long long) existing)));
	return account_id;
}

/* add_user(compartment_id bigint, email text, kind text, client_id bigint
 *			DEFAULT NULL, is_admin boolean DEFAULT false) RETURNS bigint */
PG_FUNCTION_INFO_V1(tenancy_add_user);
Datum
tenancy_add_user(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr ins_plan = NULL;
	bool		is_operator = tenancy_catalog_is_operator();
	int64		compartment_id;
	char	   *email;
	char	   *kind;
	bool		external;
	int64		client_id;
	bool		is_admin;
	Oid			argtypes[5] = {INT8OID, INT8OID, TEXTOID, INT8OID, BOOLOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	tenancy_catalog_require_arg(fcinfo, 0, "compartment_id");
	compartment_id = PG_GETARG_INT64(0);
	tenancy_rights_require_compartment_manager(is_operator, compartment_id);

	email = tenancy_catalog_text_arg(fcinfo, 1, "email");
	kind = tenancy_catalog_text_arg(fcinfo, 2, "kind");
	is_admin = tenancy_catalog_bool_arg(fcinfo, 4, "is_admin");
	email = normalized_email(email);
	external = kind_is_external(kind);
	client_id = user_client(fcinfo, is_operator, compartment_id, external, is_admin);

	values[0] = Int64GetDatum(compartment_id);
	values[1] = Int64GetDatum(account_for_email(email, compartment_id));
	values[2] = CStringGetTextDatum(kind);
	values[3] = Int64GetDatum(client_id);
	if (!external)
		nulls[3] = 'n';
	values[4] = BoolGetDatum(is_admin);
	PG_RETURN_INT64(write_catalog(&ins_plan,
								  "INSERT INTO tenancy.users"
								  " (compartment_id, account_id, kind, client_id, is_admin)"
								  " VALUES ($1, $2, $3, $4, $5) RETURNING id",
								  5, argtypes, values, nulls));
}

/*
 * require_caller_enabled: lock the row of the user the session acts as
 * (FOR SHARE) and refuse if it is disabled by now.  Two administrators
 * disabling each other at once would otherwise both pass their checks and
 * leave the compartment with no enabled administrator: the second now waits
 * for the first's update of its own row and reads it (READ COMMITTED), or
 * fails with 40001 (a transaction snapshot); a crossed wait is a deadlock
 * that PostgreSQL breaks.
 */
static void
require_caller_enabled(void)
{
	static SPIPlanPtr plan = NULL;
	const TenancyIdentity *ident = tenancy_identity_current();
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int64		disabled = 1;

	values[0] = Int64GetDatum(ident->user_id);
	tenancy_catalog_query(&plan,
						  "SELECT u.disabled::int FROM tenancy.users u WHERE u.id = $1 FOR SHARE",
						  1, argtypes, values, NULL, &disabled, 1, NULL, 0);
	if (disabled != 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("user %lld is disabled", (long long) ident->user_id),
				 errdetail("The user this session acts as was disabled by a transaction that committed meanwhile."),
				 errhint("Ask another administrator of the compartment, or a member of tenancy_admin.")));
}

/*
 * set_user_disabled: the body of disable_user and enable_user.  The caller
 * manages the user's compartment; an administrator cannot disable the user
 * it acts as (it would lock itself out, and could leave the compartment
 * without an administrator).
 */
static void
set_user_disabled(FunctionCallInfo fcinfo, bool disable)
{
	static SPIPlanPtr upd_plan = NULL;
	bool		is_operator = tenancy_catalog_is_operator();
	int64		user_id;
	TenancyUserFacts user;
	Oid			argtypes[2] = {INT8OID, BOOLOID};
	Datum		values[2];

	tenancy_catalog_require_arg(fcinfo, 0, "user_id");
	user_id = PG_GETARG_INT64(0);
	(void) tenancy_rights_user(user_id, &user);
	tenancy_rights_require_manager(is_operator, user.compartment_id, "user", user_id);
	if (disable && !is_operator && tenancy_identity_current()->user_id == user_id)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("an administrator cannot disable itself"),
				 errdetail("User %lld is the user this session acts as.", (long long) user_id),
				 errhint("Ask another administrator of the compartment, or a member of tenancy_admin, to disable it.")));
	if (disable && !is_operator)
		require_caller_enabled();

	values[0] = Int64GetDatum(user_id);
	values[1] = BoolGetDatum(disable);
	write_catalog(&upd_plan,
				  "UPDATE tenancy.users SET disabled = $2"
				  " WHERE id = $1 AND disabled IS DISTINCT FROM $2",
				  2, argtypes, values, NULL);
}

/* disable_user(user_id bigint) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_disable_user);
Datum
tenancy_disable_user(PG_FUNCTION_ARGS)
{
	set_user_disabled(fcinfo, true);
	PG_RETURN_VOID();
}

/* enable_user(user_id bigint) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_enable_user);
Datum
tenancy_enable_user(PG_FUNCTION_ARGS)
{
	set_user_disabled(fcinfo, false);
	PG_RETURN_VOID();
}

/*
 * user_administration: the administration that grant_rights or
 * revoke_rights names for a user, locked: its compartment and client in
 * admin[], its state returned.  One answer for an administration that does
 * not exist and one of another compartment (R13); an operator, who sees
 * every compartment, is told that it is not the user's.
 *
 * It is read first without a lock and refused there when it lies outside
 * the caller's view: a lock would wait for another firm's transaction, and
 * the wait would tell that the administration exists and is being changed.
 * Then it is locked and read again (it may have moved meanwhile).  The lock
 * is FOR KEY SHARE (a concurrent move_administration, FOR UPDATE, waits, or
 * we wait for it), and FOR SHARE for a new right of an external user
 * (share_with_request): that also conflicts with request_migration's FOR
 * NO KEY UPDATE, so the grant and the request run one after the other and
 * the second sees the first (R17: no new right of an external user while a
 * migration is open).
 */
static char *
user_administration(int64 administration_id, const TenancyUserFacts *user,
					int64 user_id, bool is_operator, bool share_with_request,
					int64 *admin)
{
	char	   *state = NULL;
	bool		found;

	found = tenancy_catalog_administration(administration_id, TENANCY_LOCK_NONE,
										   admin, &state) &&
		(admin[0] == user->compartment_id || is_operator);
	if (found)
		found = tenancy_catalog_administration(administration_id,
											   share_with_request ? TENANCY_LOCK_SHARE :
											   TENANCY_LOCK_KEY_SHARE,
											   admin, &state);
	/* it may have moved meanwhile */
	if (!found || (admin[0] != user->compartment_id && !is_operator))
		tenancy_catalog_error_inaccessible("administration", administration_id,
										   is_operator, NULL, NULL);
	if (admin[0] != user->compartment_id)
		tenancy_catalog_error_elsewhere("administration", administration_id, is_operator, NULL,
										psprintf("Rights are held only inside the compartment of the user, %lld.",
												 (long long) user_id),
										"To give a user of another compartment access, use a delegation.");
	return state;
}

/* grant_rights(user_id bigint, administration_id bigint, rights text[]) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_grant_rights);
Datum
tenancy_grant_rights(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr ins_plan = NULL;
	bool		is_operator = tenancy_catalog_is_operator();
	int64		user_id;
	int64		administration_id;
	int			mask;
	TenancyUserFacts user;
	int64		admin[2] = {0, 0};	/* compartment, client */
	char	   *state = NULL;
	Oid			argtypes[6] = {INT8OID, INT8OID, BOOLOID, BOOLOID, BOOLOID, BOOLOID};
	Datum		values[6];

	tenancy_catalog_require_arg(fcinfo, 0, "user_id");
	tenancy_catalog_require_arg(fcinfo, 1, "administration_id");
	user_id = PG_GETARG_INT64(0);
	administration_id = PG_GETARG_INT64(1);
	(void) tenancy_rights_user(user_id, &user);
	tenancy_rights_require_manager(is_operator, user.compartment_id, "user", user_id);

	tenancy_catalog_require_arg(fcinfo, 2, "rights");
	mask = tenancy_rights_parse(PG_GETARG_ARRAYTYPE_P(2), "rights");

	state = user_administration(administration_id, &user, user_id, is_operator,
								!user.internal, admin);
	if (!user.internal)
		tenancy_migration_require_none_open(administration_id,
											TENANCY_MIGRATION_CARRIED_RIGHTS);
	if (strcmp(state, "deleted") == 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("administration %lld is deleted", (long long) administration_id),
				 errdetail("A deleted administration is kept for the record only.")));
	if (!tenancy_rights_may_hold(&user, admin[0], admin[1]))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_INVARIANT),
				 errmsg("cannot grant rights on administration %lld to external user %lld",
						(long long) administration_id, (long long) user_id),
				 errdetail("External user %lld belongs to client %lld; the administration belongs to client %lld.",
						   (long long) user_id, (long long) user.client_id, (long long) admin[1]),
				 errhint("An external user holds rights only on administrations of its own client.")));

	values[0] = Int64GetDatum(user_id);
	values[1] = Int64GetDatum(administration_id);
	values[2] = BoolGetDatum((mask & TENANCY_RIGHT_READ) != 0);
	values[3] = BoolGetDatum((mask & TENANCY_RIGHT_WRITE) != 0);
	values[4] = BoolGetDatum((mask & TENANCY_RIGHT_SUBMIT) != 0);
	values[5] = BoolGetDatum((mask & TENANCY_RIGHT_MANAGE) != 0);
	write_catalog(&ins_plan,
				  "INSERT INTO tenancy.permission AS p"
				  " (user_id, administration_id, can_read, can_write, can_submit, can_manage)"
				  " VALUES ($1, $2, $3, $4, $5, $6)"
				  " ON CONFLICT (user_id, administration_id) DO UPDATE"
				  " SET can_read = p.can_read OR excluded.can_read,"
				  "     can_write = p.can_write OR excluded.can_write,"
				  "     can_submit = p.can_submit OR excluded.can_submit,"
				  "     can_manage = p.can_manage OR excluded.can_manage"
				  " WHERE (p.can_read, p.can_write, p.can_submit, p.can_manage) IS DISTINCT FROM"
				  "       (p.can_read OR excluded.can_read, p.can_write OR excluded.can_write,"
				  "        p.can_submit OR excluded.can_submit, p.can_manage OR excluded.can_manage)",
				  6, argtypes, values, NULL);
	PG_RETURN_VOID();
}

/* revoke_rights(user_id bigint, administration_id bigint, rights text[]
 *				 DEFAULT NULL) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_revoke_rights);
Datum
tenancy_revoke_rights(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr del_plan = NULL;
	static SPIPlanPtr upd_plan = NULL;
	bool		is_operator = tenancy_catalog_is_operator();
	int64		user_id;
	int64		administration_id;
	TenancyUserFacts user;
	int			mask = TENANCY_RIGHTS_ALL;
	int64		admin[2] = {0, 0};	/* compartment, client */
	Oid			argtypes[6] = {INT8OID, INT8OID, BOOLOID, BOOLOID, BOOLOID, BOOLOID};
	Datum		values[6];

	tenancy_catalog_require_arg(fcinfo, 0, "user_id");
	tenancy_catalog_require_arg(fcinfo, 1, "administration_id");
	user_id = PG_GETARG_INT64(0);
	administration_id = PG_GETARG_INT64(1);
	(void) tenancy_rights_user(user_id, &user);
	tenancy_rights_require_manager(is_operator, user.compartment_id, "user", user_id);
	if (!PG_ARGISNULL(2))
		mask = tenancy_rights_parse(PG_GETARG_ARRAYTYPE_P(2), "rights");
	/* the same answers as grant_rights for an administration not of the user's */
	(void) user_administration(administration_id, &user, user_id, is_operator,
							   false, admin);

	values[0] = Int64GetDatum(user_id);
	values[1] = Int64GetDatum(administration_id);
	values[2] = BoolGetDatum((mask & TENANCY_RIGHT_READ) != 0);
	values[3] = BoolGetDatum((mask & TENANCY_RIGHT_WRITE) != 0);
	values[4] = BoolGetDatum((mask & TENANCY_RIGHT_SUBMIT) != 0);
	values[5] = BoolGetDatum((mask & TENANCY_RIGHT_MANAGE) != 0);
	/*
	 * Rows left with no right go; the others lose the named rights.  The
	 * update takes only rows that keep a right: a grant committed between
	 * the two statements (its row new to the second) stands, as if it came
	 * after the revoke, instead of failing the check that a permission
	 * holds a right.
	 */
	write_catalog(&del_plan,
				  "DELETE FROM tenancy.permission p"
				  " WHERE p.user_id = $1 AND p.administration_id = $2"
				  "   AND NOT ((p.can_read AND NOT $3) OR (p.can_write AND NOT $4)"
				  "         OR (p.can_submit AND NOT $5) OR (p.can_manage AND NOT $6))",
				  6, argtypes, values, NULL);
	write_catalog(&upd_plan,
				  "UPDATE tenancy.permission p"
				  "   SET can_read = p.can_read AND NOT $3,"
				  "       can_write = p.can_write AND NOT $4,"
				  "       can_submit = p.can_submit AND NOT $5,"
				  "       can_manage = p.can_manage AND NOT $6"
				  " WHERE p.user_id = $1 AND p.administration_id = $2"
				  "   AND ((p.can_read AND $3) OR (p.can_write AND $4)"
				  "     OR (p.can_submit AND $5) OR (p.can_manage AND $6))"
				  "   AND ((p.can_read AND NOT $3) OR (p.can_write AND NOT $4)"
				  "     OR (p.can_submit AND NOT $5) OR (p.can_manage AND NOT $6))",
				  6, argtypes, values, NULL);
	PG_RETURN_VOID();
}

/*
 * email_valid: trimmed, at most 254 ASCII characters, one "@"; a local part
 * of letters, digits and the characters of RFC 5322's dot-atom
 * (!#$%&'*+/=?^_`{|}~-), dots only between them; a domain of at least two
 * labels of letters, digits and inner hyphens.  Deliberately strict: the
 * address is a login, not a mailbox proof, and "a@b.nl;" or a list of
 * addresses must not pass for one.
 */
static bool
email_valid(const char *email)
{
	const char *at = strchr(email, '@');
	const char *p;
	size_t		len = strlen(email);
	size_t		label = 0;
	int			labels = 0;

	if (len == 0 || len > MAX_EMAIL_LENGTH || at == NULL || at == email ||
		strchr(at + 1, '@') != NULL || !pg_is_ascii(email))
		return false;
	/* local part */
	if (email[0] == '.' || at[-1] == '.')
		return false;
	for (p = email; p < at; p++)
	{
		if (*p == '.' && p[1] == '.')
			return false;
		if (!isalnum((unsigned char) *p) && strchr(".!#$%&'*+/=?^_`{|}~-", *p) == NULL)
			return false;
	}
	/* domain: labels of letters, digits and inner hyphens */
	for (p = at + 1;; p++)
	{
		if (*p == '.' || *p == '\0')
		{
			if (label == 0 || label > 63 || p[-1] == '-')
				return false;
			labels++;
			label = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (!isalnum((unsigned char) *p) && !(*p == '-' && label > 0))
			return false;
		label++;
	}
	return labels >= 2;
}

/* email_is_valid(email text) RETURNS boolean */
PG_FUNCTION_INFO_V1(tenancy_email_is_valid);
Datum
tenancy_email_is_valid(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(email_valid(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/* code_is_valid(code text) RETURNS boolean */
PG_FUNCTION_INFO_V1(tenancy_code_is_valid);
Datum
tenancy_code_is_valid(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(tenancy_catalog_code_valid(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}
