/*-------------------------------------------------------------------------
 *
 * directory.c
 *	  Looking users up: find_user() and the rows of view compartment_users
 *	  (R10, R13).
 *
 * An application server knows its logged-in person by e-mail address; the
 * act-as functions want a tenancy user id.  find_user() maps one to the
 * other, for one compartment at a time, and only for the callers that need
 * it: application servers (tenancy_app), platform operators
 * (tenancy_admin) and the compartment's own administrators.  Everyone else
 * is refused before anything is looked up, so the function cannot be used
 * to probe which e-mail addresses have an account.
 *
 * compartment_users() lists the users of one compartment for an
 * administrator's screen: a session acting as an administrator of its
 * compartment gets that compartment's users, a platform operator gets all
 * of them, anyone else gets no row (like my_administrations, the view
 * answers for its caller and shows nothing to a caller with no claim).
 *
 * Both read the catalog elevated to the extension's owner through the
 * helpers of catalog.c; the e-mail address is compared the way the
 * catalog's unique index compares it (trimmed, lower case, R10).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "tenancy.h"

#define COMPARTMENT_USERS_COLS	8

/*
 * find_user(compartment_id bigint, email text) RETURNS bigint
 *
 * STRICT: a NULL argument gives NULL, as an unknown e-mail does.
 */
PG_FUNCTION_INFO_V1(tenancy_find_user);
Datum
tenancy_find_user(PG_FUNCTION_ARGS)
{
	int64		compartment_id = PG_GETARG_INT64(0);
	text	   *email = PG_GETARG_TEXT_PP(1);
	bool		is_operator = tenancy_catalog_is_operator();
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	int64		user_id = 0;
	static SPIPlanPtr plan = NULL;

	if (!is_operator &&
		!tenancy_catalog_has_role(GetUserId(), TENANCY_APP_ROLE) &&
		!tenancy_rights_is_manager(false, compartment_id))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to look up users of compartment %lld",
						(long long) compartment_id),
				 errdetail("Only application servers, platform operators and the compartment's administrators may look up its users."),
				 errhint("Grant role \"%s\" to the application server's login, or act as an administrator of the compartment.",
						 TENANCY_APP_ROLE)));

	values[0] = Int64GetDatum(compartment_id);
	values[1] = PointerGetDatum(email);
	if (tenancy_catalog_query(&plan,
							  "SELECT u.id FROM tenancy.users u"
							  "  JOIN tenancy.account a ON a.id = u.account_id"
							  " WHERE u.compartment_id = $1"
							  "   AND lower(a.email) = lower(btrim($2))",
							  2, argtypes, values, NULL,
							  &user_id, 1, NULL, 0) != 1)
		PG_RETURN_NULL();
	PG_RETURN_INT64(user_id);
}

/* compartment_users' reader: each row into the tuplestore */
static void
put_users(int n, void *arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	int			row;

	for (row = 0; row < n; row++)
	{
		Datum		out[COMPARTMENT_USERS_COLS];
		bool		nulls[COMPARTMENT_USERS_COLS];
		int			col;

		CHECK_FOR_INTERRUPTS();
		/* the tuplestore copies the values into its own memory */
		for (col = 0; col < COMPARTMENT_USERS_COLS; col++)
			out[col] = SPI_getbinval(SPI_tuptable->vals[row],
									 SPI_tuptable->tupdesc, col + 1,
									 &nulls[col]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
	}
}

/*
 * compartment_users() RETURNS TABLE (user_id bigint, compartment_id bigint,
 *   email text, kind text, client_id bigint, client_code text,
 *   is_admin boolean, disabled boolean)
 */
PG_FUNCTION_INFO_V1(tenancy_compartment_users);
Datum
tenancy_compartment_users(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const TenancyIdentity *ident = tenancy_identity_current();
	bool		is_operator = tenancy_catalog_is_operator();
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	static SPIPlanPtr plan = NULL;

	InitMaterializedSRF(fcinfo, 0);

	/* an administrator (acting) sees its compartment, an operator all */
	if (!is_operator &&
		!tenancy_rights_is_manager(false, ident->compartment_id))
		return (Datum) 0;

	/* 0 stands for "every compartment" */
	values[0] = Int64GetDatum(is_operator ? 0 : ident->compartment_id);
	tenancy_catalog_read(&plan,
						 "SELECT u.id, u.compartment_id, a.email, u.kind,"
						 "       u.client_id, c.code, u.is_admin, u.disabled"
						 "  FROM tenancy.users u"
						 "  JOIN tenancy.account a ON a.id = u.account_id"
						 "  LEFT JOIN tenancy.client c ON c.id = u.client_id"
						 " WHERE $1 = 0 OR u.compartment_id = $1",
						 1, argtypes, values, put_users, rsinfo);
	return (Datum) 0;
}
