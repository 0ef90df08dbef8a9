/*-------------------------------------------------------------------------
 *
 * delegation.c
 *	  Delegation (R20): the one explicit door through a compartment wall.
 *
 * An administrator of the compartment that owns an administration gives a
 * named user of another compartment rights on it, until an end date at most
 * 12 months ahead.  visibility.c adds the delegated administrations to that
 * user's scope while the delegation is neither revoked nor past its end; the
 * scope cache expires by itself at the first end date, so no job has to run.
 * A revocation reaches every session at its next transaction through the
 * cache invalidation of tenancy.delegation.  Each change is audited in both
 * compartments' logs.
 *
 * The user delegated to is named by id only: an unknown id, a disabled user
 * and a user of the administration's own compartment get one answer, so that
 * delegate() is no oracle for which user ids exist.
 *
 * The 12-month limit and "another compartment" are also CHECK constraints
 * of tenancy.delegation.  The table is written only here, with
 * tenancy_catalog_state_write: its guard trigger (triggers.c) refuses any
 * other INSERT, UPDATE or DELETE, the table owner's included, so that
 * nobody revives a revoked delegation, moves its end past the limit or
 * makes one without the functions' checks (R21; a superuser's INSERT
 * passes, for pg_restore).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "tenancy.h"

#define MAX_DELEGATION_MONTHS	12

/* delegate(administration_id bigint, to_user_id bigint, rights text[],
 *			valid_until timestamptz) RETURNS bigint */
PG_FUNCTION_INFO_V1(tenancy_delegate);
Datum
tenancy_delegate(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr ins_plan = NULL;
	bool		is_operator = tenancy_catalog_is_operator();
	int64		administration_id;
	int64		to_user_id;
	int			mask;
	TimestampTz valid_until;
	TimestampTz now = GetCurrentStatementStartTimestamp();
	int64		admin[2] = {0, 0};	/* compartment, client */
	int64		admin_compartment = 0;
	TenancyUserFacts user;
	char	   *state = NULL;
	Oid			argtypes[9] = {INT8OID, INT8OID, INT8OID, INT8OID, BOOLOID, BOOLOID,
	BOOLOID, BOOLOID, TIMESTAMPTZOID};
	Datum		values[9];
	Interval	limit;
	int64		id = 0;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("administration_id, to_user_id, rights and valid_until must not be null"),
				 errhint("A delegation names the administration, the user, the rights and an end date.")));
	administration_id = PG_GETARG_INT64(0);
	to_user_id = PG_GETARG_INT64(1);
	valid_until = PG_GETARG_TIMESTAMPTZ(3);

	/*
	 * The caller must manage the administration: asked first of the row
	 * read without a lock, so that nobody waits on another firm's row (the
	 * wait would tell that it exists and is being changed, R13); then asked
	 * again of the row locked (it may have moved meanwhile).
	 */
	if (!tenancy_catalog_administration(administration_id, TENANCY_LOCK_NONE, admin, NULL))
		admin[0] = 0;
	tenancy_rights_require_manager(is_operator, admin[0],
								   "administration", administration_id);
	if (!tenancy_catalog_administration(administration_id, TENANCY_LOCK_KEY_SHARE,
										admin, &state))
		admin[0] = 0;
	admin_compartment = admin[0];
	tenancy_rights_require_manager(is_operator, admin_compartment,
								   "administration", administration_id);

	mask = tenancy_rights_parse(PG_GETARG_ARRAYTYPE_P(2), "rights");
	if (strcmp(state, "active") != 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("administration %lld is %s", (long long) administration_id, state),
				 errdetail("Only an active administration can be delegated.")));

	/*
	 * The user: an enabled user of another compartment.  An unknown id, a
	 * disabled user and a user of the administration's own compartment get
	 * one answer, so that the call does not tell which ids exist.
	 */
	if (!tenancy_rights_user(to_user_id, &user) || user.disabled ||
		user.compartment_id == admin_compartment)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("user %lld does not exist or cannot receive a delegation",
						(long long) to_user_id),
				 errdetail("A delegation goes to an enabled user of another compartment; other ids are reported this way, whether they exist or not."),
				 errhint("Ask the other firm for the id of its user; give a user of your own compartment rights with tenancy.grant_rights().")));

	memset(&limit, 0, sizeof(limit));
	limit.month = MAX_DELEGATION_MONTHS;
	if (valid_until <= now)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("valid_until must lie in the future"),
				 errhint("A delegation ends at valid_until; pass a later date.")));
	if (valid_until > DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
															   TimestampTzGetDatum(now),
															   PointerGetDatum(&limit))))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("valid_until lies more than %d months ahead", MAX_DELEGATION_MONTHS),
				 errhint("Delegate for at most %d months, and renew the delegation when it ends.",
						 MAX_DELEGATION_MONTHS)));

	values[0] = Int64GetDatum(administration_id);
	values[1] = Int64GetDatum(admin_compartment);
	values[2] = Int64GetDatum(to_user_id);
	values[3] = Int64GetDatum(user.compartment_id);
	values[4] = BoolGetDatum((mask & TENANCY_RIGHT_READ) != 0);
	values[5] = BoolGetDatum((mask & TENANCY_RIGHT_WRITE) != 0);
	values[6] = BoolGetDatum((mask & TENANCY_RIGHT_SUBMIT) != 0);
	values[7] = BoolGetDatum((mask & TENANCY_RIGHT_MANAGE) != 0);
	values[8] = TimestampTzGetDatum(valid_until);
	id = tenancy_catalog_state_write(&ins_plan,
									 "INSERT INTO tenancy.delegation"
									 " (administration_id, compartment_id, to_user_id, to_compartment_id,"
									 "  can_read, can_write, can_submit, can_manage, valid_until)"
									 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
									 9, argtypes, values, NULL);
	PG_RETURN_INT64(id);
}

/* revoke_delegation(delegation_id bigint) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_revoke_delegation);
Datum
tenancy_revoke_delegation(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr find_plan = NULL;
	static SPIPlanPtr lock_plan = NULL;
	static SPIPlanPtr upd_plan = NULL;
	bool		is_operator = tenancy_catalog_is_operator();
	int64		delegation_id;
	int64		found[2] = {0, 0};	/* compartment, revoked */
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("delegation_id must not be null"),
				 errhint("Name the delegation to revoke.")));
	delegation_id = PG_GETARG_INT64(0);
	values[0] = Int64GetDatum(delegation_id);

	/*
	 * Read first without a lock and refused there when the caller may not
	 * manage it: a lock would wait for another firm's transaction, and the
	 * wait would tell that the delegation exists and is being changed.
	 * Then locked and read again (it may have gone meanwhile, with its
	 * administration's migration).
	 */
	tenancy_catalog_query(&find_plan,
						  "SELECT d.compartment_id, (d.revoked_at IS NOT NULL)::int"
						  "  FROM tenancy.delegation d WHERE d.id = $1",
						  1, argtypes, values, NULL, found, 2, NULL, 0);
	tenancy_rights_require_manager(is_operator, found[0], "delegation", delegation_id);
	found[0] = found[1] = 0;
	tenancy_catalog_query(&lock_plan,
						  "SELECT d.compartment_id, (d.revoked_at IS NOT NULL)::int"
						  "  FROM tenancy.delegation d WHERE d.id = $1 FOR UPDATE",
						  1, argtypes, values, NULL, found, 2, NULL, 0);
	tenancy_rights_require_manager(is_operator, found[0], "delegation", delegation_id);
	if (found[1] != 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_STATE),
				 errmsg("delegation %lld is already revoked", (long long) delegation_id),
				 errhint("Create a new delegation with tenancy.delegate().")));

	(void) tenancy_catalog_state_write(&upd_plan,
									   "UPDATE tenancy.delegation SET revoked_at = statement_timestamp()"
									   " WHERE id = $1",
									   1, argtypes, values, NULL);
	PG_RETURN_VOID();
}

/*
 * tenancy_delegation_remove_all: delete every delegation of an
 * administration (its transfer to another compartment, R18: the source
 * loses all access, and what it delegated goes with it); how many
 */
int64
tenancy_delegation_remove_all(int64 administration_id)
{
	static SPIPlanPtr del_plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];

	if (!OidIsValid(tenancy_catalog_relid("delegation")))
		return 0;
	values[0] = Int64GetDatum(administration_id);
	return tenancy_catalog_state_write(&del_plan,
									   "WITH d AS (DELETE FROM tenancy.delegation"
									   "            WHERE administration_id = $1 RETURNING 1)"
									   "SELECT count(*) FROM d",
									   1, argtypes, values, NULL);
}
