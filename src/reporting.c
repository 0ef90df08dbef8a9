/*-------------------------------------------------------------------------
 *
 * reporting.c
 *	  What reporting tools meet: reporting logins bound to a read-only
 *	  scope (R14, R15) and secured views.
 *
 * A reporting login is an ordinary PostgreSQL login role with a row in
 * tenancy.reporting_login.  It needs no act-as call: when a session has no
 * identity, visibility.c looks up the binding of the session user (not the
 * current role, so SET ROLE cannot leave the scope) and grants read on the
 * administrations of the scope, and nothing else.  The guard trigger on
 * protected tables refuses its writes.
 *
 * One answer: a role that is not a reporting login and one bound in a
 * compartment the caller does not manage are refused alike (42501,
 * refuse_login_elsewhere), so that unbinding or rebinding never tells a
 * caller where another firm's logins are bound.  Operators, who see every
 * compartment, are told that a role is not bound.
 *
 * Binding is refused for roles that could step around row security: a
 * superuser or BYPASSRLS role, a REPLICATION role (it copies and decodes
 * the data files), a member of pg_execute_server_program,
 * pg_read_server_files or pg_write_server_files, a member of tenancy_app
 * (it could act as anyone) or tenancy_admin, the owner of a protected
 * table, and a login that is a member of any such role (it could SET ROLE
 * to it); login_risks() in SQL is the one coding of that list.
 *
 * create_secured_view checks that the definition is one SELECT, creates, as
 * its caller, a view WITH (security_invoker, security_barrier), then follows
 * the view's dependencies through other views and refuses it (the error
 * undoes the CREATE) when it reads an application table that carries an
 * administration column but is not protected.  The view runs as each of
 * its readers, the application's login included, so it is also refused
 * when it, or a view it reads, calls a function or operator, uses a type
 * other than an enum, or reads a table or view of a role its creator does
 * not trust, or runs a query given as text (query_to_xml)
 * (require_trusted_code): an operator that someone planted in a schema on
 * the creator's path (a ">(numeric, integer)" in public matches better
 * than pg_catalog's numeric > numeric) would otherwise be stored in it, and
 * a table of that role's would run its row security policies as each
 * reader.  The definition is
 * parsed under the creator's own search_path, as CREATE VIEW would, so
 * that an extension's types and operators keep their meaning.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "parser/parser.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "tenancy.h"

static const char *role_risk(Oid role);
static char *require_role(Oid role);
static void refuse_login_elsewhere(const char *rolename);
static void require_bindable(Oid role, const char *rolename);
static void require_scope_client(int64 client_id, int64 compartment_id,
								 bool is_operator);
static void require_scope_codes(ArrayType *codes, Oid *argtypes, Datum *values,
								const char *nulls);

/* the name of an existing role; an invalid OID is refused */
static char *
require_role(Oid role)
{
	HeapTuple	tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(role));
	char	   *name;

	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_UNKNOWN),
				 errmsg("role with OID %u does not exist", role),
				 errhint("Name the login role, for example 'bi_firm'::regrole.")));
	name = pstrdup(NameStr(((Form_pg_authid) GETSTRUCT(tuple))->rolname));
	ReleaseSysCache(tuple);
	return name;
}

/*
 * refuse_login_elsewhere: one answer for a role that is not a reporting
 * login and for one bound in a compartment the caller does not manage, so
 * that nobody learns where another firm's logins are bound.
 */
static void
refuse_login_elsewhere(const char *rolename)
{
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("reporting login \"%s\" does not exist or is not accessible", rolename),
			 errdetail("Roles that are not reporting logins, and logins bound in a compartment the caller does not manage, are reported this way."),
			 errhint("Act as an administrator of the login's compartment, or connect as a member of tenancy_admin.")));
}

/*
 * role_risk: why a login may not be bound, or NULL: the first of
 * login_risks() (tenancy--1.2--1.3.sql), the rule check() reports by too.
 * Looks at the login and every role it is a member of.
 */
static const char *
role_risk(Oid role)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	char	   *risk = NULL;

	/* the library installed before ALTER EXTENSION UPDATE: no rule to ask */
	if (!OidIsValid(tenancy_catalog_function("login_risks", 2,
											 (Oid[]) {OIDOID, BOOLOID})))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("reporting logins cannot be bound until the extension is updated"),
				 errdetail("The catalog of tenancy is older than its library and lacks the rule a login is checked by."),
				 errhint("Run ALTER EXTENSION tenancy UPDATE.")));
	values[0] = ObjectIdGetDatum(role);
	tenancy_catalog_query(&plan,
						  "SELECT k.risk FROM tenancy.login_risks($1, false) k"
						  " ORDER BY k.rank, k.risk LIMIT 1",
						  1, argtypes, values, NULL, NULL, 0, &risk, 1);
	return risk;
}

/*
 * require_bindable: the role is a login, and neither privileged nor the
 * owner of a protected table (it would read past its scope)
 */
static void
require_bindable(Oid role, const char *rolename)
{
	HeapTuple	tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(role));
	bool		canlogin;
	const char *risk;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for role %u", role);
	canlogin = ((Form_pg_authid) GETSTRUCT(tuple))->rolcanlogin;
	ReleaseSysCache(tuple);
	if (!canlogin)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("role \"%s\" is not a login", rolename),
				 errdetail("A reporting login is the role a reporting tool connects as."),
				 errhint("Create it with CREATE ROLE ... LOGIN.")));
	risk = role_risk(role);
	if (risk != NULL)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("role \"%s\" cannot be a reporting login", rolename),
				 errdetail("The role %s, so it could read past its scope.", risk),
				 errhint("Bind a plain login role that is a member of no privileged role.")));
}

/* the client of a scope belongs to the scope's compartment */
static void
require_scope_client(int64 client_id, int64 compartment_id, bool is_operator)
{
	static SPIPlanPtr client_plan = NULL;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int64		client_compartment = 0;

	values[0] = Int64GetDatum(client_id);
	if (tenancy_catalog_query(&client_plan,
							  "SELECT c.compartment_id FROM tenancy.client c WHERE c.id = $1",
							  1, argtypes, values, NULL,
							  &client_compartment, 1, NULL, 0) != 1)
		tenancy_catalog_error_inaccessible("client", client_id, is_operator,
										   "The client of a reporting scope belongs to its compartment.",
										   NULL);
	if (client_compartment != compartment_id)
		tenancy_catalog_error_elsewhere("client", client_id, is_operator,
										"The client of a reporting scope belongs to its compartment.",
										"The client of a reporting scope belongs to its compartment.",
										"Bind the login to the client's compartment.");
}

/*
 * require_scope_codes: administration_codes ($4 of the binding's
 * parameters) is not empty and every code names an administration of the
 * compartment ($2) and, when given, of the client ($3), compared without
 * case as the catalog keeps codes unique (R10); the binding stores each
 * code as the administration carries it
 */
static void
require_scope_codes(ArrayType *codes, Oid *argtypes, Datum *values,
					const char *nulls)
{
	static SPIPlanPtr codes_plan = NULL;
	char	   *missing = NULL;

	tenancy_catalog_require_list(codes, "administration_codes",
								 "List the codes of the administrations, or leave administration_codes NULL for the whole scope.");
	if (ArrayGetNItems(ARR_NDIM(codes), ARR_DIMS(codes)) == 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("administration_codes must not be empty"),
				 errhint("Leave administration_codes NULL for the whole scope.")));
	/* every code names an administration of the scope */
	tenancy_catalog_query(&codes_plan,
						  "SELECT x.code FROM unnest($4::text[]) x(code)"
						  " WHERE NOT EXISTS (SELECT 1 FROM tenancy.administration a"
						  "                    WHERE a.compartment_id = $2 AND lower(a.code) = lower(x.code)"
						  "                      AND ($3::bigint IS NULL OR a.client_id = $3))"
						  " LIMIT 1",
						  4, argtypes, values, nulls, NULL, 0, &missing, 1);
	if (missing != NULL)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("administration code \"%s\" is not in the scope", missing),
				 errdetail("Each code must name an administration of the compartment%s.",
						   nulls[2] == 'n' ? "" : " and of the client"),
				 errhint("Leave administration_codes NULL for the whole scope.")));
}

/* bind_reporting_login(role regrole, compartment_id bigint, client_id bigint
 *		DEFAULT NULL, administration_codes text[] DEFAULT NULL) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_bind_reporting_login);
Datum
tenancy_bind_reporting_login(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr bind_plan = NULL;
	bool		is_operator = tenancy_catalog_is_operator();
	Oid			role;
	char	   *rolename;
	int64		compartment_id;
	Oid			argtypes[4] = {OIDOID, INT8OID, INT8OID, TEXTARRAYOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	int64		existing;
	int64		bound = 0;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("role and compartment_id must not be null"),
				 errhint("Name the login role and the compartment it reports on.")));
	role = PG_GETARG_OID(0);
	compartment_id = PG_GETARG_INT64(1);

	values[1] = Int64GetDatum(compartment_id);
	tenancy_rights_require_compartment_manager(is_operator, compartment_id);

	/* a login rebound elsewhere is taken from its old compartment too */
	rolename = require_role(role);
	existing = tenancy_rights_binding(role);
	if (existing != 0 && existing != compartment_id &&
		!tenancy_rights_is_manager(is_operator, existing))
		refuse_login_elsewhere(rolename);
	require_bindable(role, rolename);

	values[0] = ObjectIdGetDatum(role);
	if (PG_ARGISNULL(2))
		nulls[2] = 'n';
	else
	{
		values[2] = PG_GETARG_DATUM(2);
		require_scope_client(PG_GETARG_INT64(2), compartment_id, is_operator);
	}
	if (PG_ARGISNULL(3))
		nulls[3] = 'n';
	else
	{
		values[3] = PG_GETARG_DATUM(3);
		require_scope_codes(PG_GETARG_ARRAYTYPE_P(3), argtypes, values, nulls);
	}

	/*
	 * The codes are resolved again here, as the administrations carry them,
	 * and the binding is written only when every one still resolves: an
	 * administration moved out of the scope by a transaction that
	 * committed since require_scope_codes looked would otherwise leave
	 * array_agg() with nothing, and NULL codes mean the whole scope (1.3
	 * review)
	 */
	(void) tenancy_catalog_query(&bind_plan,
								 "INSERT INTO tenancy.reporting_login AS r"
								 " (role, compartment_id, client_id, administration_codes)"
								 "SELECT $1::regrole, $2, $3, s.codes"
								 "  FROM (SELECT CASE WHEN $4::text[] IS NOT NULL"
								 "                    THEN array_agg(a.code ORDER BY x.n) END AS codes,"
								 "               count(a.code) AS found"
								 "          FROM unnest(coalesce($4::text[], '{}')) WITH ORDINALITY x(code, n)"
								 "          LEFT JOIN tenancy.administration a"
								 "            ON a.compartment_id = $2 AND lower(a.code) = lower(x.code)"
								 "           AND ($3::bigint IS NULL OR a.client_id = $3)) s"
								 " WHERE $4::text[] IS NULL OR s.found = cardinality($4::text[])"
								 " ON CONFLICT (role) DO UPDATE"
								 " SET compartment_id = excluded.compartment_id,"
								 "     client_id = excluded.client_id,"
								 "     administration_codes = excluded.administration_codes"
								 " RETURNING 1",
								 4, argtypes, values, nulls, &bound, 1, NULL, 0);
	if (bound == 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not bind reporting login \"%s\": an administration of its codes left the scope meanwhile",
						rolename),
				 errdetail("A transaction that committed during the binding moved an administration the codes name."),
				 errhint("Bind the login again.")));
	PG_RETURN_VOID();
}

/* unbind_reporting_login(role regrole) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_unbind_reporting_login);
Datum
tenancy_unbind_reporting_login(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr del_plan = NULL;
	bool		is_operator = tenancy_catalog_is_operator();
	Oid			role;
	char	   *rolename;
	int64		compartment_id;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("role must not be null"),
				 errhint("Name the reporting login to unbind.")));
	role = PG_GETARG_OID(0);
	compartment_id = tenancy_rights_binding(role);
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)))
	{
		/*
		 * A binding outlives its role (DROP ROLE knows nothing of it): the
		 * manager of its compartment unbinds it by OID; anyone else gets
		 * the answer of a role that never was bound
		 */
		if (compartment_id == 0 || !tenancy_rights_is_manager(is_operator, compartment_id))
			(void) require_role(role);
		rolename = psprintf("%u", role);
	}
	else
		rolename = require_role(role);
	if (compartment_id == 0 && is_operator)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_UNKNOWN),
				 errmsg("role \"%s\" is not a reporting login", rolename),
				 errhint("Bind it first with tenancy.bind_reporting_login().")));
	if (compartment_id == 0 || !tenancy_rights_is_manager(is_operator, compartment_id))
		refuse_login_elsewhere(rolename);

	values[0] = ObjectIdGetDatum(role);
	tenancy_catalog_write(&del_plan,
						  "DELETE FROM tenancy.reporting_login r WHERE r.role::oid = $1",
						  1, argtypes, values, NULL, NULL, NULL);
	PG_RETURN_VOID();
}

/*
 * Whom a secured view may trust, as an SQL condition on the owner of an
 * object: its creator ($2), a superuser, and for a creator that is no
 * superuser ($3 false) the roles whose privileges it has, except the roles
 * every creator and many others share (tenancy_admin, tenancy_app and the
 * predefined pg_* roles), whose objects any of their members may have made
 */
#define TRUSTED_OWNER(owner) \
	"(" owner " = $2 OR EXISTS (SELECT 1 FROM pg_roles a WHERE a.oid = " owner " AND a.rolsuper)" \
	" OR (NOT $3 AND pg_has_role($2, " owner ", 'USAGE')" \
	"     AND NOT EXISTS (SELECT 1 FROM pg_roles g WHERE g.oid = " owner \
	"                      AND (g.rolname IN ('" TENANCY_ADMIN_ROLE "', '" TENANCY_APP_ROLE "')" \
	"                           OR g.rolname LIKE 'pg\\_%'))))"

/*
 * What the rules of view $1 and of every view it reads (recursively, through
 * views of the relkinds given) depend on: CTE views(relid) and CTE
 * deps(refclassid, refobjid).  Both checks of create_secured_view start
 * from it: through materialized views too for the tables read, through
 * plain views only for the code run as the reader.
 */
#define VIEW_RULE_DEPENDENCIES(relkinds) \
	"WITH RECURSIVE views(relid) AS (" \
	"  SELECT $1" \
	"  UNION" \
	"  SELECT d.refobjid FROM views x" \
	"    JOIN pg_rewrite r ON r.ev_class = x.relid" \
	"    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass" \
	"     AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass" \
	"    JOIN pg_class v ON v.oid = d.refobjid AND v.relkind IN (" relkinds ")" \
	"   WHERE d.refobjid <> x.relid)," \
	"deps AS (" \
	"  SELECT DISTINCT d.refclassid, d.refobjid FROM views x" \
	"    JOIN pg_rewrite r ON r.ev_class = x.relid" \
	"    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass" \
	"     AND d.objid = r.oid AND d.deptype = 'n' AND d.refobjid <> x.relid)"

/*
 * require_trusted_code: refuse a secured view that, through its own rule or
 * the rule of a view it reads, calls a function or operator, uses a type
 * other than an enum (a domain's CHECK and a range's functions run, also
 * inside an array, composite or multirange type), or reads a table or view
 * that belongs to a role the view's creator (the current user) does not
 * trust (TRUSTED_OWNER), unless the object belongs to an extension owned by
 * a trusted role or, for a relation and its row type, is protected by
 * tenancy (see the file header).  A table counts because a reader runs its
 * row security policies, and a view its functions; enums, sequences and
 * materialized views run nothing of their owner's as the reader.  Also
 * refused: pg_catalog's functions that run a query given as text
 * (query_to_xml and the like), which is parsed when the view is read,
 * under the reader's search_path, where this check does not reach.
 * PostgreSQL records no dependency on pg_catalog's own objects, so those
 * are found by name in the views' definitions (a function of the same name
 * elsewhere is refused too).  And refused, whoever owns it: a SECURITY
 * DEFINER function of a role that bypasses row security (a superuser,
 * BYPASSRLS), tenancy's own excepted, called by the view, behind an
 * operator it uses or as a support function of an aggregate it uses, which
 * would read every firm's rows for each reader.  One called from the body
 * of another function or from a domain's CHECK is not followed (a body
 * given as text); check() reports each such function wherever it is.
 */
static void
require_trusted_code(Oid viewid, const char *qualified)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[3] = {OIDOID, OIDOID, BOOLOID};
	Datum		values[3];
	char	   *found[3] = {NULL, NULL, NULL};

	values[0] = ObjectIdGetDatum(viewid);
	values[1] = ObjectIdGetDatum(GetUserId());
	values[2] = BoolGetDatum(superuser());
	tenancy_catalog_query(&plan,
						  VIEW_RULE_DEPENDENCIES("'v'")
						  "SELECT pg_describe_object(d.refclassid, d.refobjid, 0),"
						  "       pg_get_userbyid(o.owner)::text, 'owner'"
						  "  FROM deps d"
						  "  CROSS JOIN LATERAL ("
						  "        SELECT p.proowner FROM pg_proc p"
						  "         WHERE d.refclassid = 'pg_proc'::regclass AND p.oid = d.refobjid"
						  "        UNION ALL"
						  "        SELECT o.oprowner FROM pg_operator o"
						  "         WHERE d.refclassid = 'pg_operator'::regclass AND o.oid = d.refobjid"
						  "        UNION ALL"
						  "        SELECT t.typowner FROM pg_type t"
						  "         WHERE d.refclassid = 'pg_type'::regclass AND t.oid = d.refobjid"
						  "           AND t.typtype <> 'e'"
						  "           AND NOT EXISTS (SELECT 1 FROM tenancy.protected_table pt"
						  "                            WHERE pt.relid = t.typrelid)"
						  "        UNION ALL"
						  "        SELECT c.relowner FROM pg_class c"
						  "         WHERE d.refclassid = 'pg_class'::regclass AND c.oid = d.refobjid"
						  "           AND c.relkind IN ('r', 'p', 'v', 'f')"
						  "           AND NOT EXISTS (SELECT 1 FROM tenancy.protected_table pt"
						  "                            WHERE pt.relid = c.oid)) o(owner)"
						  " WHERE NOT " TRUSTED_OWNER("o.owner")
						  "   AND NOT EXISTS (SELECT 1 FROM pg_depend e"
						  "                     JOIN pg_extension x ON x.oid = e.refobjid"
						  "                    WHERE e.classid = d.refclassid AND e.objid = d.refobjid"
						  "                      AND e.refclassid = 'pg_extension'::regclass"
						  "                      AND e.deptype = 'e' AND " TRUSTED_OWNER("x.extowner") ")"
						  " UNION ALL "
						  "SELECT pg_describe_object('pg_proc'::regclass, p.oid, 0),"
						  "       pg_get_userbyid(p.proowner)::text, 'definer'"
						  "  FROM deps d"
						  "  JOIN pg_proc p ON (d.refclassid = 'pg_proc'::regclass AND p.oid = d.refobjid)"
						  "    OR (d.refclassid = 'pg_operator'::regclass"
						  "        AND p.oid = (SELECT o.oprcode FROM pg_operator o WHERE o.oid = d.refobjid))"
						  "    OR (d.refclassid = 'pg_proc'::regclass"
						  "        AND p.oid IN (SELECT f FROM pg_aggregate g,"
						  "                        unnest(ARRAY[g.aggtransfn::oid, g.aggfinalfn, g.aggcombinefn,"
						  "                                     g.aggserialfn, g.aggdeserialfn, g.aggmtransfn,"
						  "                                     g.aggminvtransfn, g.aggmfinalfn]) f"
						  "                       WHERE g.aggfnoid = d.refobjid))"
						  "  JOIN pg_roles o ON o.oid = p.proowner"
						  " WHERE p.prosecdef AND (o.rolsuper OR o.rolbypassrls)"
						  "   AND p.pronamespace <> 'tenancy'::regnamespace"
						  " UNION ALL "
						  "SELECT 'function pg_catalog.' || m[1], NULL, 'query'"
						  "  FROM views x,"
						  "       regexp_match(pg_get_viewdef(x.relid),"
						  "                    '\\m((query|schema|database|cursor)_to_xml(schema|_and_xmlschema)?"
						  "|ts_stat|ts_rewrite)\\s*\\(') m"
						  " ORDER BY 1 LIMIT 1",
						  3, argtypes, values, NULL, NULL, 0, found, 3);
	if (found[0] == NULL)
		return;
	if (strcmp(found[2], "query") == 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("secured view %s would use %s, which runs a query given as text",
						qualified, found[0]),
				 errdetail("That query is parsed when the view is read, as each reader and under the reader's search_path, where the checks of a secured view's definition do not reach."),
				 errhint("Write the query into the view's definition instead.")));
	if (strcmp(found[2], "definer") == 0)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("secured view %s would call %s, a SECURITY DEFINER function of role \"%s\", which bypasses row security",
						qualified, found[0], found[1]),
				 errdetail("Such a function runs as its owner, to whom row security does not apply, so each reader would get every row it reads."),
				 errhint("Read the protected tables in the view's definition itself, or make the function SECURITY INVOKER.")));
	ereport(ERROR,
			(errcode(TENANCY_ERRCODE_DENIED),
			 errmsg("secured view %s would use %s of role \"%s\"",
					qualified, found[0], found[1]),
			 errdetail("A secured view runs as each of its readers, so it may use only the functions, operators, types (enums excepted), tables and views of its creator, of roles whose privileges its creator has, of a superuser, of an extension owned by one of those, and tables protected by tenancy."),
			 errhint("Create the view as the role that owns what it uses, or use objects of your own or of pg_catalog (name pg_catalog's operators with their schema, e.g. OPERATOR(pg_catalog.=)).")));
}

/* create_secured_view(name text, definition text) RETURNS void */
PG_FUNCTION_INFO_V1(tenancy_create_secured_view);
Datum
tenancy_create_secured_view(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr deps_plan = NULL;
	List	   *names;
	RangeVar   *rv;
	char	   *qualified;
	char	   *definition;
	Oid			viewid;
	Oid			namespace;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	char	   *unprotected = NULL;
	int			rc;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
				 errmsg("name and definition must not be null"),
				 errhint("Pass the view's name and its SELECT statement.")));
	if (!tenancy_catalog_is_operator())
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("permission denied to create a secured view"),
				 errhint("Only members of role \"%s\" may create secured views.",
						 TENANCY_ADMIN_ROLE)));
	names = TENANCY_QUALIFIED_NAME_LIST(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	rv = makeRangeVarFromNameList(names);
	qualified = rv->schemaname ?
		quote_qualified_identifier(rv->schemaname, rv->relname) :
		(char *) quote_identifier(rv->relname);
	definition = text_to_cstring(PG_GETARG_TEXT_PP(1));
	{
		/* exactly one SELECT: nothing else may ride along in the DDL */
		List	   *stmts = raw_parser(definition, RAW_PARSE_DEFAULT);

		if (list_length(stmts) != 1 ||
			!IsA(((RawStmt *) linitial(stmts))->stmt, SelectStmt))
			ereport(ERROR,
					(errcode(TENANCY_ERRCODE_BAD_ARGUMENT),
					 errmsg("the definition of a secured view must be a single SELECT statement"),
					 errhint("Pass the query only, without a semicolon and further statements.")));
	}

	/*
	 * The schema the view goes into, named in the DDL and in the lookup
	 * after it: an unqualified name looked up again would find a temporary
	 * view of the same name first (pg_temp leads the path for relations),
	 * and the checks below would judge that one (1.3 review).
	 */
	namespace = RangeVarGetCreationNamespace(rv);

	/* as the caller: the view is the caller's, and so is its definition */
	SPI_connect();
	rc = SPI_execute(psprintf("CREATE VIEW %s WITH (security_invoker = true, security_barrier = true)"
							  " AS %s",
							  quote_qualified_identifier(get_namespace_name(namespace),
														 rv->relname),
							  definition), false, 0);
	if (rc != SPI_OK_UTILITY)
		elog(ERROR, "CREATE VIEW failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	CommandCounterIncrement();

	viewid = get_relname_relid(rv->relname, namespace);
	if (!OidIsValid(viewid))
		elog(ERROR, "view \"%s\" was not created", qualified);
	values[0] = ObjectIdGetDatum(viewid);
	tenancy_catalog_query(&deps_plan,
						  VIEW_RULE_DEPENDENCIES("'v', 'm'")
						  "SELECT c.oid::regclass::text"
						  "  FROM deps d"
						  "  JOIN pg_class c ON d.refclassid = 'pg_class'::regclass AND c.oid = d.refobjid"
						  "  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
						  "   AND NOT a.attisdropped"
						  " WHERE c.relkind IN ('r', 'p', 'f', 'm')"
						  "   AND (a.attname = 'administration_id'"
						  "        OR a.attname IN (SELECT p.administration_column"
						  "                           FROM tenancy.protected_table p))"
						  "   AND NOT EXISTS (SELECT 1 FROM tenancy.protected_table p"
						  "                    WHERE p.relid = c.oid)"
						  " ORDER BY 1 LIMIT 1",
						  1, argtypes, values, NULL, NULL, 0, &unprotected, 1);

	if (unprotected != NULL)
		ereport(ERROR,
				(errcode(TENANCY_ERRCODE_DENIED),
				 errmsg("secured view %s would read unprotected table %s", qualified, unprotected),
				 errdetail("Table %s carries an administration column but is not protected.",
						   unprotected),
				 errhint("Protect it with tenancy.protect() first.")));
	require_trusted_code(viewid, qualified);
	PG_RETURN_VOID();
}
