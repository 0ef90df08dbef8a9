/*-------------------------------------------------------------------------
 *
 * rights.c
 *	  The one module that turns catalog facts into rights and roles, for
 *	  any user.
 *
 * Every question "what may this user do" is answered here, and only here:
 * the visibility cache (visibility.c) asks these functions on a miss and
 * stores the answers; explain_access (explain.c), the migration parties
 * (migration.c) and the management functions' authorisation (manage.c,
 * delegation.c, reporting.c, directory.c) ask them directly.  So the cache,
 * the explanation and the functions cannot disagree.
 *
 * The rules it owns (numbers of the specification):
 *
 *	R2	 a user that is disabled, gone, or not of the compartment it is
 *		 acted as in holds no right (tenancy_rights_user_active,
 *		 tenancy_rights_effective).
 *	R6	 no right outside the user's compartment, except through R20.
 *	R7	 inside its compartment a user holds the rights of its permission.
 *	R8	 an internal user may hold rights on any administration of its
 *		 compartment, an external user only on its client's
 *		 (tenancy_rights_may_hold).
 *	R12	 what a state allows: active every right, archived read and manage
 *		 (read-only), deleted none (tenancy_rights_state_allows).
 *	R13	 an enabled internal administrator of a compartment manages it;
 *		 platform operators (tenancy_admin) manage every compartment
 *		 (tenancy_rights_is_administrator, tenancy_rights_is_manager,
 *		 tenancy_rights_require_manager).
 *	R14	 a reporting login reads, and only reads, the administrations of
 *	R15	 its binding's scope: its compartment, client and codes
 *		 (tenancy_rights_load_reporting).
 *	R17	 who is a migration party: an administrator of the source or the
 *		 target compartment, an external user of the client holding manage
 *		 (tenancy_rights_is_administrator, tenancy_rights_is_client_user,
 *		 tenancy_rights_permission); who sees a migration
 *		 (tenancy_rights_sees_migration).
 *	R18	 the archive rule: a user holding any right on the successor of an
 *		 administration that an archive_and_transfer brought into its
 *		 compartment reads the archive.
 *	R20	 a delegation in force (not revoked, not ended at
 *		 tenancy_rights_now) gives its rights, across the wall too.
 *	R23	 explain_access reads the sources below (tenancy_rights_sources)
 *		 and the verdict of tenancy_rights_effective, as the cache does.
 *
 *	and the spelling of rights: bit <-> name (read, write, submit, manage).
 *
 * Layering: rights.c stands on the catalog helper (catalog.c: SPI and
 * elevation), the index probes (probe.c) and the identity (identity.c); it
 * knows nothing of the cache.  The facts are read by index probes where the
 * catalog is 1.3 or later, by SPI for older catalogs (an extension not yet
 * updated); both read under the snapshot the cache's loads use.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "tenancy.h"

static const char *const rights_names[] = {"read", "write", "submit", "manage"};

/* ------------------------------------------------------------------
 * Rights by name
 * ------------------------------------------------------------------ */

/* the position of one right's bit (0 read .. 3 manage) */
int
tenancy_rights_index(int bit)
{
	int			i;

	for (i = 0; i < lengthof(rights_names); i++)
		if (bit == (1 << i))
			return i;
	elog(ERROR, "invalid right bit %d", bit);
	return 0;					/* keep compiler quiet */
}

/* one right by name, as its bit; an unknown name is refused */
int
tenancy_rights_parse_one(const char *name)
{
	int			i;

	for (i = 0; i < lengthof(rights_names); i++)
		if (strcmp(name, rights_names[i]) == 0)
			return 1 << i;
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
			 errmsg("unrecognized right \"%s\"", name),
			 errhint("Rights are read, write, submit and manage.")));
	return 0;					/* keep compiler quiet */
}

/*
 * tenancy_rights_parse: a text[] of rights as a bit mask.  Refuses NULL
 * elements, unknown names and an empty array.
 */
int
tenancy_rights_parse(ArrayType *rights, const char *argname)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	int			mask = 0;

	tenancy_catalog_require_list(rights, argname, "Rights are read, write, submit and manage.");
	deconstruct_array(rights, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (i = 0; i < n; i++)
		mask |= tenancy_rights_parse_one(TextDatumGetCString(elems[i]));
	if (mask == 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("%s must name at least one right", argname),
				 errhint("Rights are read, write, submit and manage.")));
	return mask;
}

/* the rights of a mask as a text[], in the canonical order */
ArrayType *
tenancy_rights_array(int mask)
{
	Datum		elems[lengthof(rights_names)];
	int			n = 0;
	int			i;

	for (i = 0; i < lengthof(rights_names); i++)
		if (mask & (1 << i))
			elems[n++] = CStringGetTextDatum(rights_names[i]);
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/* the rights of a mask as "read, write", or "none" */
char *
tenancy_rights_text(int mask)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < lengthof(rights_names); i++)
		if (mask & (1 << i))
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", rights_names[i]);
	return buf.len > 0 ? buf.data : "none";
}

/* ------------------------------------------------------------------
 * States (R12)
 * ------------------------------------------------------------------ */

/* an administration's state as its one-letter code: 'a', 'r', 'd', or 0 */
char
tenancy_rights_state_code(const char *state)
{
	if (state == NULL)
		return 0;
	if (strcmp(state, "active") == 0)
		return 'a';
	if (strcmp(state, "archived") == 0)
		return 'r';
	return 'd';
}

/*
 * tenancy_rights_state_allows: the rights an administration in this state
 * leaves (R12): every right while active; read and manage once archived
 * (read-only for everyone); none once deleted or unknown
 */
int
tenancy_rights_state_allows(char state)
{
	switch (state)
	{
		case 'a':
			return TENANCY_RIGHTS_ALL;
		case 'r':
			return TENANCY_RIGHT_READ | TENANCY_RIGHT_MANAGE;
		default:
			return 0;
	}
}

/* ------------------------------------------------------------------
 * Users and their roles (R2, R13, R17)
 * ------------------------------------------------------------------ */

/*
 * tenancy_rights_user: the facts of one user that rights and roles depend
 * on; false when there is no such user
 */
bool
tenancy_rights_user(int64 user_id, TenancyUserFacts *user)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int64		ints[6];

	memset(user, 0, sizeof(TenancyUserFacts));
	values[0] = Int64GetDatum(user_id);
	if (tenancy_catalog_query(&plan,
							  "SELECT u.compartment_id, u.account_id, u.client_id,"
							  "       u.is_admin::int, u.disabled::int,"
							  "       (u.kind = 'internal')::int"
							  "  FROM tenancy.users u WHERE u.id = $1",
							  1, argtypes, values, NULL, ints, 6, NULL, 0) != 1)
		return false;
	user->user_id = user_id;
	user->compartment_id = ints[0];
	user->account_id = ints[1];
	user->client_id = ints[2];
	user->is_admin = ints[3] != 0;
	user->disabled = ints[4] != 0;
	user->internal = ints[5] != 0;
	return true;
}

/*
 * tenancy_rights_identity_user: the facts of the user the identity in force
 * acts as; false when there is none, or its row is gone, in another
 * compartment, or another person's (the identity names the account it was
 * set for: a catalog made anew gives the user id to someone else)
 */
bool
tenancy_rights_identity_user(TenancyUserFacts *user)
{
	const TenancyIdentity *ident = tenancy_identity_current();

	return ident->user_id != 0 && tenancy_rights_user(ident->user_id, user) &&
		user->compartment_id == ident->compartment_id &&
		user->account_id == ident->account_id;
}

/*
 * tenancy_rights_user_active: does the user exist, enabled, in the
 * compartment, and (account_id not 0) as a user of that account (R2)?
 * Without it the user holds no right at all.
 */
bool
tenancy_rights_user_active(int64 user_id, int64 compartment_id, int64 account_id)
{
	TenancyUserFacts user;

	if (tenancy_probe_available())
		return tenancy_probe_user(user_id, compartment_id, account_id);
	return tenancy_rights_user(user_id, &user) && !user.disabled &&
		user.compartment_id == compartment_id &&
		(account_id == 0 || user.account_id == account_id);
}

/*
 * tenancy_rights_is_administrator: is the user an enabled internal
 * administrator of the compartment (R13)?
 */
bool
tenancy_rights_is_administrator(const TenancyUserFacts *user,
								int64 compartment_id)
{
	return user->user_id != 0 && compartment_id != 0 &&
		user->compartment_id == compartment_id &&
		user->internal && user->is_admin && !user->disabled;
}

/*
 * tenancy_rights_may_hold: may the user hold rights on an administration of
 * this compartment and client (R6, R8)?  An internal user on any
 * administration of its compartment, an external user only on those of its
 * own client.
 */
bool
tenancy_rights_may_hold(const TenancyUserFacts *user, int64 admin_compartment,
						int64 admin_client)
{
	return user->user_id != 0 && admin_compartment == user->compartment_id &&
		(user->internal || admin_client == user->client_id);
}

/*
 * tenancy_rights_is_client_user: is the user an external user of the
 * client in the compartment (R17: who speaks for the client of a
 * migration, given manage on the administration)?
 */
bool
tenancy_rights_is_client_user(const TenancyUserFacts *user,
							  int64 compartment_id, int64 client_id)
{
	return user->user_id != 0 && !user->internal && !user->disabled &&
		user->compartment_id == compartment_id && client_id != 0 &&
		user->client_id == client_id;
}

/*
 * tenancy_rights_sees_migration: is the user's compartment a party to a
 * migration (R17)?  Internal users of the source or the target compartment
 * are; external users only for their own client (the administration's
 * client at the source, the chosen client at the target, 0 until chosen).
 */
bool
tenancy_rights_sees_migration(const TenancyUserFacts *user,
							  int64 source_compartment, int64 source_client,
							  int64 target_compartment, int64 target_client)
{
	if (user->compartment_id == source_compartment)
		return user->internal ||
			tenancy_rights_is_client_user(user, source_compartment, source_client);
	if (user->compartment_id == target_compartment)
		return user->internal ||
			tenancy_rights_is_client_user(user, target_compartment, target_client);
	return false;
}

/*
 * tenancy_rights_is_manager: may the caller manage this compartment?
 *
 * Platform operators (tenancy_admin) manage every compartment; otherwise the
 * session must act as an enabled internal administrator of the compartment
 * (R13).  is_operator must be computed before elevating.
 */
bool
tenancy_rights_is_manager(bool is_operator, int64 compartment_id)
{
	const TenancyIdentity *ident = tenancy_identity_current();
	TenancyUserFacts user;

	if (is_operator)
		return true;
	if (compartment_id == 0 || ident->user_id == 0 ||
		ident->compartment_id != compartment_id)
		return false;
	return tenancy_rights_identity_user(&user) &&
		tenancy_rights_is_administrator(&user, compartment_id);
}

/*
 * tenancy_rights_require_manager: refuse a caller who may not manage the
 * compartment.
 *
 * compartment_id 0 means the object the caller named was not found:
 * operators are told so, others get the same refusal as for an object they
 * may not manage, so that the error does not reveal whether it exists.
 */
void
tenancy_rights_require_manager(bool is_operator, int64 compartment_id,
							   const char *objkind, int64 objid)
{
	const TenancyIdentity *ident = tenancy_identity_current();
	TenancyUserFacts user;

	tenancy_catalog_require_coordinator("change tenancy's catalog");
	if (is_operator && compartment_id == 0)
		tenancy_catalog_error_unknown(objkind, objid, NULL,
									  "Check the id against the tenancy catalog tables.");
	if (tenancy_rights_is_manager(is_operator, compartment_id))
		return;
	if (ident->user_id == 0)
		tenancy_catalog_error_no_identity("Management functions run on behalf of an administrator of the compartment.",
										  "Call tenancy.act_as_local() or tenancy.act_as() first, or connect as a member of tenancy_admin.");

	/*
	 * An external user, a client's, manages nothing anywhere: it gets one
	 * answer whatever the object, its own or another client's, existing or
	 * not, and so learns nothing of other clients' clients, users and
	 * administrations (R8, R13)
	 */
	if (!tenancy_rights_identity_user(&user))
		user.user_id = 0;
	if (user.user_id != 0 && !user.internal)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to manage %s %lld", objkind, (long long) objid),
				 errdetail("User %lld is an external user; only a compartment's administrators manage its clients, users and administrations.",
						   (long long) ident->user_id),
				 errhint("Act as an administrator of the compartment, or connect as a member of tenancy_admin.")));

	/* inside its own compartment the firm's staff may know the object exists */
	if (compartment_id != 0 && ident->compartment_id == compartment_id &&
		user.user_id != 0)
	{
		if (user.disabled)
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_DENIED),
					 errmsg("permission denied to manage compartment %lld",
							(long long) compartment_id),
					 errdetail("User %lld is disabled.", (long long) ident->user_id),
					 errhint("Ask another administrator of the compartment, or a member of tenancy_admin, to enable it with tenancy.enable_user().")));
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to manage compartment %lld",
						(long long) compartment_id),
				 errdetail("User %lld is not an administrator of the compartment.",
						   (long long) ident->user_id),
				 errhint("Act as an administrator of the compartment, or connect as a member of tenancy_admin.")));
	}

	/*
	 * The object is unknown or lies in another compartment.  An
	 * administrator acting in its own compartment is told to check the id;
	 * anyone else, to act as an administrator.
	 */
	if (tenancy_rights_is_manager(false, ident->compartment_id))
		tenancy_catalog_error_inaccessible(objkind, objid, false,
										   "Objects outside the caller's compartment are reported this way, whether they exist or not.",
										   psprintf("Check the %s id: an administrator manages only its own compartment.",
													objkind));
	tenancy_catalog_error_inaccessible(objkind, objid, false, "",
									   "Act as an administrator of the compartment, or connect as a member of tenancy_admin.");
}

/*
 * tenancy_rights_require_compartment_manager: refuse a caller who may not
 * manage the compartment named by id, whether it exists or not
 */
void
tenancy_rights_require_compartment_manager(bool is_operator,
										   int64 compartment_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int64		found_id = 0;

	tenancy_catalog_require_coordinator("change tenancy's catalog");
	values[0] = Int64GetDatum(compartment_id);
	if (tenancy_catalog_query(&plan,
							  "SELECT c.id FROM tenancy.compartment c WHERE c.id = $1",
							  1, argtypes, values, NULL, &found_id, 1, NULL, 0) != 1)
		found_id = 0;
	tenancy_rights_require_manager(is_operator, found_id, "compartment",
								   compartment_id);
}

/* ------------------------------------------------------------------
 * Rights on administrations (R6, R7, R12, R18, R20)
 * ------------------------------------------------------------------ */

/* what read_rights reads: rights in columns 0-3, an end in column 4 */
typedef struct RightsRead
{
	int			rights;
	TimestampTz until;
} RightsRead;

/* reader of one row: read, write, submit, manage [, the first end] */
static void
read_rights(int n, void *arg)
{
	RightsRead *r = (RightsRead *) arg;
	bool		isnull;
	Datum		until;

	if (n == 0)
		return;
	r->rights = tenancy_catalog_get_rights(0, 0);
	if (SPI_tuptable->tupdesc->natts < 5)
		return;
	until = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull);
	if (!isnull)
		r->until = DatumGetTimestampTz(until);
}

/*
 * tenancy_rights_permission: the rights of the user's permission on the
 * administration, 0 without one (R7); where compartment_id is not NULL, the
 * administration's compartment as the permission's row names it (see
 * tenancy_probe_permission), or 0 when there is no row or the catalog
 * cannot tell by a probe (an older catalog, a Citus worker)
 */
int
tenancy_rights_permission(int64 user_id, int64 administration_id,
						  int64 *compartment_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		values[2];
	RightsRead	r = {0, 0};

	if (tenancy_probe_available())
		return tenancy_probe_permission(user_id, administration_id, compartment_id);
	if (compartment_id != NULL)
		*compartment_id = 0;
	values[0] = Int64GetDatum(user_id);
	values[1] = Int64GetDatum(administration_id);
	tenancy_catalog_read(&plan,
						 "SELECT p.can_read, p.can_write, p.can_submit, p.can_manage"
						 "  FROM tenancy.permission p"
						 " WHERE p.user_id = $1 AND p.administration_id = $2",
						 2, argtypes, values, read_rights, &r);
	return r.rights;
}

/*
 * tenancy_rights_now: the moment a delegation's end is judged at (R20).
 * The statement's start, so that every row and every check of a statement
 * gets the same answer; but a procedure that commits (CALL ... COMMIT)
 * starts new transactions inside one statement, and each new transaction
 * must find a delegation that ended meanwhile ended: PostgreSQL gives such
 * a transaction its own start time, so the later of the two.
 */
TimestampTz
tenancy_rights_now(void)
{
	return Max(GetCurrentStatementStartTimestamp(),
			   GetCurrentTransactionStartTimestamp());
}

/*
 * tenancy_rights_sources: where a user's rights on one administration come
 * from: its permission (R7), the archive rule (R18: only inside the user's
 * compartment) and the delegations in force at now (R20).  user_compartment
 * is the compartment the user is acted as in, admin_compartment the
 * administration's (0 when it does not exist).  A caller that knows the
 * catalog holds no migration (no delegation) at all passes false for
 * any_migration (any_delegation) to skip that probe: it cannot give a right.
 * permission is the permission's rights where the caller has read them
 * (tenancy_rights_permission, under the same snapshot), otherwise
 * TENANCY_PERMISSION_UNREAD.
 */
void
tenancy_rights_sources(int64 user_id, int64 user_compartment,
					   int64 administration_id, int64 admin_compartment,
					   TimestampTz now, bool any_migration, bool any_delegation,
					   int permission, TenancyRightsSources *src)
{
	memset(src, 0, sizeof(TenancyRightsSources));
	if (admin_compartment == 0)
		return;
	src->permission = permission != TENANCY_PERMISSION_UNREAD ? permission :
		tenancy_rights_permission(user_id, administration_id, NULL);
	if (tenancy_probe_available())
	{
		src->archive_read = any_migration && admin_compartment == user_compartment &&
			tenancy_probe_archive_read(user_id, administration_id, user_compartment);
		if (any_delegation)
			src->delegated = tenancy_probe_delegation(user_id, administration_id, now,
													  &src->delegated_until);
		return;
	}

	/* an older catalog: the same questions through SPI */
	if (admin_compartment == user_compartment &&
		OidIsValid(tenancy_catalog_relid("migration")))
	{
		static SPIPlanPtr archive_plan = NULL;
		Oid			argtypes[3] = {INT8OID, INT8OID, INT8OID};
		Datum		values[3];

		values[0] = Int64GetDatum(user_id);
		values[1] = Int64GetDatum(administration_id);
		values[2] = Int64GetDatum(user_compartment);
		src->archive_read =
			tenancy_catalog_query(&archive_plan,
								  "SELECT 1 FROM tenancy.migration m"
								  "  JOIN tenancy.permission s ON s.administration_id = m.successor_id"
								  " WHERE m.administration_id = $2 AND s.user_id = $1"
								  "   AND m.target_compartment_id = $3 AND m.state = 'completed'"
								  "   AND m.scenario = 'archive_and_transfer'",
								  3, argtypes, values, NULL, NULL, 0, NULL, 0) > 0;
	}
	if (OidIsValid(tenancy_catalog_relid("delegation")))
	{
		static SPIPlanPtr delegation_plan = NULL;
		Oid			argtypes[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};
		Datum		values[3];
		RightsRead	r = {0, 0};

		values[0] = Int64GetDatum(user_id);
		values[1] = Int64GetDatum(administration_id);
		values[2] = TimestampTzGetDatum(now);
		tenancy_catalog_read(&delegation_plan,
							 "SELECT bool_or(d.can_read), bool_or(d.can_write),"
							 "       bool_or(d.can_submit), bool_or(d.can_manage),"
							 "       min(d.valid_until)"
							 "  FROM tenancy.delegation d"
							 " WHERE d.to_user_id = $1 AND d.administration_id = $2"
							 "   AND d.revoked_at IS NULL AND d.valid_until > $3",
							 3, argtypes, values, read_rights, &r);
		src->delegated = r.rights;
		src->delegated_until = r.until;
	}
}

/*
 * tenancy_rights_effective: the rule that turns the sources into rights.
 *
 * A user that is not active holds nothing (R2).  Inside its compartment it
 * holds its permission and, by the archive rule, read (R7, R18); anywhere,
 * the delegations in force (R20); outside, nothing else (R6).  The
 * administration's state then takes away what it does not allow (R12).
 * The result carries TENANCY_IN_SCOPE when any right is held; 0 otherwise
 * (whether an administration without rights lies inside the wall is the
 * caller's question: its compartment against the user's).
 */
int
tenancy_rights_effective(bool user_active, int64 user_compartment,
						 int64 admin_compartment, char state,
						 const TenancyRightsSources *src)
{
	int			mask = src->delegated;

	if (!user_active || admin_compartment == 0)
		return 0;
	if (admin_compartment == user_compartment)
		mask |= src->permission | (src->archive_read ? TENANCY_RIGHT_READ : 0);
	if (mask == 0)
		return 0;
	return TENANCY_IN_SCOPE | (mask & tenancy_rights_state_allows(state));
}

/*
 * tenancy_rights_committed: what a user (acted as in user_compartment, for
 * account_id) may do on one administration as committed by now, whatever
 * the transaction's snapshot shows; -1 when the catalog has no probes (an
 * older catalog) to tell.  The guard's question for a write under
 * REPEATABLE READ or SERIALIZABLE: the rows and the cache keep the
 * snapshot's rights, but a right revoked, a user disabled or a delegation
 * ended since must not let a write through (R7, R2, R20; 1.3 attack: a
 * revoked delegate wrote another firm's rows).
 */
int
tenancy_rights_committed(int64 user_id, int64 user_compartment, int64 account_id,
						 int64 administration_id)
{
	int64		admin_compartment = 0;
	int64		client_id = 0;
	const char *state = NULL;
	TenancyRightsSources src;
	int			rights = 0;
	bool		previous;

	if (!tenancy_probe_available())
		return -1;
	previous = tenancy_probe_latest(true);
	PG_TRY();
	{
		if (tenancy_probe_user(user_id, user_compartment, account_id) &&
			tenancy_probe_administration(administration_id, &admin_compartment,
										 &client_id, &state))
		{
			tenancy_rights_sources(user_id, user_compartment, administration_id,
								   admin_compartment, tenancy_rights_now(), true, true,
								   TENANCY_PERMISSION_UNREAD, &src);
			rights = tenancy_rights_effective(true, user_compartment, admin_compartment,
											  tenancy_rights_state_code(state), &src);
		}
	}
	PG_FINALLY();
	{
		tenancy_probe_latest(previous);
	}
	PG_END_TRY();
	return rights;
}

/* ------------------------------------------------------------------
 * Every right of one identity, for the cache's complete loads
 * ------------------------------------------------------------------ */

typedef struct RightsLoad
{
	TenancyRightsRow *rows;
	int			nrows;
	int			capacity;
	bool		with_rights;	/* columns 4-7 are rights, 8 an end */
	int			fixed;			/* else: these rights on every row */
	uint8		source;
} RightsLoad;

/* append the n rows of a load to load->rows (columns: see RightsLoad) */
static void
collect_rows(int n, void *arg)
{
	RightsLoad *load = (RightsLoad *) arg;
	int			i;

	if (load->nrows + n > load->capacity)
	{
		load->capacity = Max(load->nrows + n, 2 * load->capacity);
		/* in the caller's memory (SPI_palloc): the rows outlive SPI_finish */
		load->rows = load->rows == NULL ?
			SPI_palloc(sizeof(TenancyRightsRow) * Max(load->capacity, 1)) :
			repalloc(load->rows, sizeof(TenancyRightsRow) * load->capacity);
	}
	for (i = 0; i < n; i++)
	{
		TenancyRightsRow *row = &load->rows[load->nrows++];
		char	   *state = tenancy_catalog_get_text(i, 3);

		CHECK_FOR_INTERRUPTS();
		memset(row, 0, sizeof(TenancyRightsRow));
		tenancy_catalog_get_int64(i, 0, &row->administration_id);
		tenancy_catalog_get_int64(i, 1, &row->compartment_id);
		tenancy_catalog_get_int64(i, 2, &row->client_id);
		row->state = tenancy_rights_state_code(state);
		if (state != NULL)
			pfree(state);
		row->source = load->source;
		row->rights = load->with_rights ? tenancy_catalog_get_rights(i, 4) : load->fixed;
		if (load->source == TENANCY_RIGHTS_FROM_DELEGATION)
		{
			bool		isnull;
			Datum		until = SPI_getbinval(SPI_tuptable->vals[i],
											  SPI_tuptable->tupdesc, 9, &isnull);

			row->until = isnull ? 0 : DatumGetTimestampTz(until);
		}
	}
}

/*
 * tenancy_rights_load_user: every right the user holds (permissions sorted
 * by administration, then the archives it reads (R18), then its delegations
 * in force (R20)), each row with the administration's facts.  The rights
 * are the sources, not yet masked by the state: tenancy_rights_row_effective
 * does that.  The rows are allocated in the caller's memory.
 */
TenancyRightsRow *
tenancy_rights_load_user(int64 user_id, int64 compartment_id, int *nrows,
						 int *npermissions)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr archive_plan = NULL;
	static SPIPlanPtr delegation_plan = NULL;
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Oid			delegation_argtypes[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		values[2];
	RightsLoad	load = {0};

	values[0] = Int64GetDatum(user_id);
	values[1] = Int64GetDatum(compartment_id);
	load.with_rights = true;
	load.source = TENANCY_RIGHTS_FROM_PERMISSION;
	/* by a merge of two index scans where the catalog allows (probe.c) */
	load.rows = tenancy_probe_user_permissions(user_id, compartment_id, &load.nrows);
	load.capacity = load.nrows;
	if (load.rows == NULL)
		tenancy_rights_read(&plan,
							 "SELECT a.id, a.compartment_id, a.client_id, a.state,"
							 "       p.can_read, p.can_write, p.can_submit, p.can_manage"
							 "  FROM tenancy.permission p"
							 "  JOIN tenancy.administration a ON a.id = p.administration_id"
							 " WHERE p.user_id = $1 AND a.compartment_id = $2"
							 " ORDER BY a.id",
							 2, argtypes, values, collect_rows, &load);
	*npermissions = load.nrows;

	if (OidIsValid(tenancy_catalog_relid("migration")))
	{
		load.with_rights = false;
		load.fixed = TENANCY_RIGHT_READ;
		load.source = TENANCY_RIGHTS_FROM_ARCHIVE;
		tenancy_rights_read(&archive_plan,
							 "SELECT a.id, a.compartment_id, a.client_id, a.state"
							 "  FROM tenancy.migration m"
							 "  JOIN tenancy.permission s ON s.administration_id = m.successor_id"
							 "  JOIN tenancy.administration a ON a.id = m.administration_id"
							 " WHERE s.user_id = $1 AND m.target_compartment_id = $2"
							 "   AND a.compartment_id = $2 AND m.state = 'completed'"
							 "   AND m.scenario = 'archive_and_transfer'",
							 2, argtypes, values, collect_rows, &load);
	}

	if (OidIsValid(tenancy_catalog_relid("delegation")))
	{
		load.with_rights = true;
		load.source = TENANCY_RIGHTS_FROM_DELEGATION;
		values[1] = TimestampTzGetDatum(tenancy_rights_now());
		tenancy_rights_read(&delegation_plan,
							 "SELECT a.id, a.compartment_id, a.client_id, a.state,"
							 "       d.can_read, d.can_write, d.can_submit, d.can_manage,"
							 "       d.valid_until"
							 "  FROM tenancy.delegation d"
							 "  JOIN tenancy.administration a ON a.id = d.administration_id"
							 " WHERE d.to_user_id = $1 AND d.revoked_at IS NULL"
							 "   AND d.valid_until > $2",
							 2, delegation_argtypes, values, collect_rows, &load);
	}
	*nrows = load.nrows;
	return load.rows;
}

/*
 * tenancy_rights_load_reporting: read, and nothing else, on the
 * administrations of a reporting login's binding (R14, R15), sorted; none
 * when the login is not bound
 */
TenancyRightsRow *
tenancy_rights_load_reporting(Oid role, int *nrows)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	RightsLoad	load = {0};

	values[0] = ObjectIdGetDatum(role);
	load.fixed = TENANCY_RIGHT_READ;
	load.source = TENANCY_RIGHTS_FROM_BINDING;
	tenancy_rights_read(&plan,
						 "SELECT a.id, a.compartment_id, a.client_id, a.state"
						 "  FROM tenancy.reporting_login r"
						 "  JOIN tenancy.administration a"
						 "    ON a.compartment_id = r.compartment_id"
						 "   AND (r.client_id IS NULL OR a.client_id = r.client_id)"
						 "   AND (r.administration_codes IS NULL"
						 "        OR a.code = ANY (r.administration_codes))"
						 /* by name: a Citus worker's replica holds names */
						 " WHERE r.role::pg_catalog.text = $1::pg_catalog.regrole::pg_catalog.text"
						 " ORDER BY a.id",
						 1, argtypes, values, collect_rows, &load);
	*nrows = load.nrows;
	return load.rows;
}

/*
 * tenancy_rights_binding: the compartment a reporting login is bound to, or
 * 0 (R14, R15)
 */
int64
tenancy_rights_binding(Oid role)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	int64		compartment_id = 0;

	if (tenancy_probe_replica())
		return tenancy_probe_binding(role);	/* a Citus worker: the replica */
	if (!OidIsValid(tenancy_catalog_relid("reporting_login")))
		return 0;
	values[0] = ObjectIdGetDatum(role);
	tenancy_catalog_query_statement(&plan,
									"SELECT r.compartment_id FROM tenancy.reporting_login r"
									" WHERE r.role::oid = $1",
									1, argtypes, values, NULL, &compartment_id, 1, NULL, 0);
	return compartment_id;
}

/*
 * tenancy_rights_row_effective: the rights one loaded row gives an identity
 * of the compartment, by the rule of tenancy_rights_effective (a reporting
 * binding's rows are inside its compartment by construction)
 */
int
tenancy_rights_row_effective(const TenancyRightsRow *row, int64 compartment_id)
{
	TenancyRightsSources src = {0};

	switch (row->source)
	{
		case TENANCY_RIGHTS_FROM_DELEGATION:
			src.delegated = row->rights;
			break;
		case TENANCY_RIGHTS_FROM_ARCHIVE:
			src.archive_read = true;
			break;
		default:
			src.permission = row->rights;
			break;
	}
	return tenancy_rights_effective(true, compartment_id, row->compartment_id,
									row->state, &src);
}

/* ------------------------------------------------------------------
 * Reading the catalog on a Citus worker
 * ------------------------------------------------------------------ */

/*
 * On a Citus worker the catalog tables are empty: the coordinator's
 * catalog is copied into reference tables (distribute.c), and the reads
 * below run the same query texts with each catalog table replaced by its
 * replica's local placement (probe.c rewrites them), with a plan of their
 * own per query text, kept while the placements stay the same relations.
 */
typedef struct RightsReplicaPlan
{
	const char *sql;			/* the caller's query text (a literal) */
	char	   *replica_sql;	/* rewritten, in TopMemoryContext */
	SPIPlanPtr	plan;
} RightsReplicaPlan;

static RightsReplicaPlan replica_plans[16];

/*
 * replica_plan: on a Citus worker, the plan slot and the rewritten text for
 * sql (in *replica_sql); NULL elsewhere
 */
static SPIPlanPtr *
replica_plan(const char *sql, const char **replica_sql)
{
	char	   *rewritten = tenancy_probe_replica_sql(sql);
	RightsReplicaPlan *rp;

	if (rewritten == NULL)
		return NULL;
	for (rp = replica_plans; rp < replica_plans + lengthof(replica_plans); rp++)
		if (rp->sql == sql || rp->sql == NULL)
			break;
	if (rp == replica_plans + lengthof(replica_plans))
		elog(ERROR, "too many distinct catalog queries on a Citus worker");
	if (rp->sql == NULL || strcmp(rp->replica_sql, rewritten) != 0)
	{
		if (rp->plan != NULL)
			SPI_freeplan(rp->plan);
		if (rp->replica_sql != NULL)
			pfree(rp->replica_sql);
		rp->sql = sql;
		rp->plan = NULL;
		rp->replica_sql = MemoryContextStrdup(TopMemoryContext, rewritten);
	}
	pfree(rewritten);
	*replica_sql = rp->replica_sql;
	return &rp->plan;
}

/*
 * tenancy_rights_read: a load of the rights' facts, under the statement's
 * snapshot (tenancy_catalog_read_statement); on a Citus worker, of the
 * replicas
 */
int
tenancy_rights_read(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes,
					Datum *values, TenancyCatalogReader reader, void *arg)
{
	const char *replica_sql;
	SPIPlanPtr *rplan = replica_plan(sql, &replica_sql);

	if (rplan != NULL)
		return tenancy_catalog_read_statement(rplan, replica_sql, nargs, argtypes,
											  values, reader, arg);
	return tenancy_catalog_read_statement(plan, sql, nargs, argtypes, values,
										  reader, arg);
}

/*
 * tenancy_rights_query: tenancy_catalog_query_statement of bigint columns,
 * which on a Citus worker reads the replicas
 */
int
tenancy_rights_query(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes,
					 Datum *values, int64 *ints, int nints)
{
	const char *replica_sql;
	SPIPlanPtr *rplan = replica_plan(sql, &replica_sql);

	if (rplan != NULL)
		return tenancy_catalog_query_statement(rplan, replica_sql, nargs, argtypes,
											   values, NULL, ints, nints, NULL, 0);
	return tenancy_catalog_query_statement(plan, sql, nargs, argtypes, values, NULL,
										   ints, nints, NULL, 0);
}
