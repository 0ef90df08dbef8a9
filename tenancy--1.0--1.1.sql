/* tenancy--1.0--1.1.sql -- reporting logins, secured views, delegation, operator tools (R14, R15, R20, R23) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenancy UPDATE TO '1.1'" to load this file. \quit

/* ------------------------------------------------------------------
 * Reporting logins (R14, R15), reporting.c
 *
 * A login role bound to a read-only scope: one compartment, optionally one
 * client, optionally a list of administration codes.  The scope is decided
 * from the session user, so SET ROLE cannot leave it.
 * ------------------------------------------------------------------ */

CREATE TABLE @extschema@.reporting_login (
	role		regrole PRIMARY KEY,
	compartment_id bigint NOT NULL REFERENCES @extschema@.compartment,
	client_id	bigint,
	administration_codes text[],
	FOREIGN KEY (compartment_id, client_id)
		REFERENCES @extschema@.client (compartment_id, id),
	CHECK (administration_codes IS NULL OR pg_catalog.cardinality(administration_codes) > 0)
);
COMMENT ON TABLE @extschema@.reporting_login IS
	'login roles bound to a read-only scope: a compartment, optionally a client and a list of administration codes (R14, R15)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.reporting_login', '');
REVOKE ALL ON @extschema@.reporting_login FROM PUBLIC;

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.reporting_login
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('reporting_login', 'compartment_id');
CREATE TRIGGER invalidate_scope AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON @extschema@.reporting_login FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.invalidate_scope();

CREATE FUNCTION @extschema@.bind_reporting_login(role regrole, compartment_id bigint,
	client_id bigint DEFAULT NULL, administration_codes text[] DEFAULT NULL) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_bind_reporting_login' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.bind_reporting_login(regrole, bigint, bigint, text[]) IS
	'bind a login role to a read-only scope; refused for superusers, BYPASSRLS roles, members of tenancy_app or tenancy_admin and owners of protected tables (R14, R15)';

CREATE FUNCTION @extschema@.unbind_reporting_login(role regrole) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_unbind_reporting_login' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.unbind_reporting_login(regrole) IS
	'end a reporting login''s binding; its connections see nothing from their next transaction';

CREATE FUNCTION @extschema@.create_secured_view(name text, definition text) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_create_secured_view' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.create_secured_view(text, text) IS
	'create a security_invoker, security_barrier view; refused when it reads an unprotected table that carries an administration column';

/* ------------------------------------------------------------------
 * Delegation (R20), delegation.c
 * ------------------------------------------------------------------ */

CREATE TABLE @extschema@.delegation (
	id			bigserial PRIMARY KEY,
	administration_id bigint NOT NULL,
	compartment_id bigint NOT NULL,
	to_user_id	bigint NOT NULL,
	to_compartment_id bigint NOT NULL,
	can_read	boolean NOT NULL DEFAULT false,
	can_write	boolean NOT NULL DEFAULT false,
	can_submit	boolean NOT NULL DEFAULT false,
	can_manage	boolean NOT NULL DEFAULT false,
	valid_until timestamptz NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
	revoked_at	timestamptz,
	CONSTRAINT delegation_some_right CHECK (can_read OR can_write OR can_submit OR can_manage),
	CONSTRAINT delegation_other_compartment CHECK (compartment_id <> to_compartment_id),
	CONSTRAINT delegation_at_most_12_months
		CHECK (valid_until > created_at AND valid_until <= created_at + interval '12 months'),
	FOREIGN KEY (compartment_id, administration_id)
		REFERENCES @extschema@.administration (compartment_id, id) ON DELETE CASCADE,
	FOREIGN KEY (to_compartment_id, to_user_id)
		REFERENCES @extschema@.users (compartment_id, id) ON DELETE CASCADE
);
CREATE INDEX delegation_to_user_idx ON @extschema@.delegation (to_user_id);
CREATE INDEX delegation_administration_idx ON @extschema@.delegation (administration_id);
COMMENT ON TABLE @extschema@.delegation IS
	'rights that the compartment owning an administration gives a user of another compartment, until an end date at most 12 months ahead (R20)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.delegation', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.delegation_id_seq', '');
REVOKE ALL ON @extschema@.delegation FROM PUBLIC;
REVOKE ALL ON @extschema@.delegation_id_seq FROM PUBLIC;

-- audited in both compartments' logs
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.delegation
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('delegation', 'compartment_id', 'to_compartment_id');
CREATE TRIGGER invalidate_scope AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON @extschema@.delegation FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.invalidate_scope();

CREATE FUNCTION @extschema@.delegate(administration_id bigint, to_user_id bigint, rights text[],
	valid_until timestamptz) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_delegate' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.delegate(bigint, bigint, text[], timestamptz) IS
	'give a user of another compartment rights on an administration until valid_until, at most 12 months ahead (R20)';

CREATE FUNCTION @extschema@.revoke_delegation(delegation_id bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_revoke_delegation' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.revoke_delegation(bigint) IS
	'end a delegation now; every session loses it at its next transaction (R20)';

/* ------------------------------------------------------------------
 * Operator tools (R23), explain.c and check()
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.explain_access(user_id bigint, administration_id bigint) RETURNS SETOF text
	AS 'MODULE_PATHNAME', 'tenancy_explain_access' LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.explain_access(bigint, bigint) IS
	'the chain of reasons why a user can or cannot see and change an administration (R23)';

DO $grants$
DECLARE
	f text;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		'bind_reporting_login(regrole, bigint, bigint, text[])',
		'unbind_reporting_login(regrole)',
		'delegate(bigint, bigint, text[], timestamptz)',
		'revoke_delegation(bigint)',
		'explain_access(bigint, bigint)']
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION @extschema@.%s FROM PUBLIC', f);
		-- operators manage every compartment
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION @extschema@.%s TO tenancy_admin', f);
		-- application servers call them for a compartment administrator they act as
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION @extschema@.%s TO tenancy_app', f);
	END LOOP;
END
$grants$;
REVOKE ALL ON FUNCTION @extschema@.create_secured_view(text, text) FROM PUBLIC;
-- table owners who are platform operators create secured views
GRANT EXECUTE ON FUNCTION @extschema@.create_secured_view(text, text) TO tenancy_admin;

CREATE FUNCTION @extschema@.check()
	RETURNS TABLE (severity text, object text, problem text, hint text)
	LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $check$
WITH protected AS (
	SELECT p.relid::oid AS relid, p.administration_column AS col, c.relkind
	  FROM @extschema@.protected_table p JOIN pg_catalog.pg_class c ON c.oid = p.relid::oid
),
app_role AS (
	-- roles the application or reporting tools log in as
	SELECT m.member AS roleid FROM pg_catalog.pg_auth_members m
	 WHERE m.roleid = 'tenancy_app'::regrole
	UNION
	SELECT r.role::oid FROM @extschema@.reporting_login r
),
expected_policy (polname, polcmd, permissive, qual_fn, check_fn) AS (
	VALUES ('tenancy_wall', '*', false, 'row_in_scope', 'row_in_scope'),
		   ('tenancy_read', 'r', true, 'row_readable', NULL),
		   ('tenancy_insert', 'a', true, NULL, 'row_writable'),
		   ('tenancy_update', 'w', true, 'row_writable', 'row_writable'),
		   ('tenancy_delete', 'd', true, 'row_writable', NULL)
)
-- application tables that carry an administration column but are not protected
SELECT 'warning', c.oid::regclass::text,
	   pg_catalog.format('column %s holds administration ids but the table is not protected', a.attname),
	   'Protect it with tenancy.protect(), or rename the column if it holds no administration id.'
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace,
							  '@extschema@'::regnamespace)
   AND c.relnamespace::regnamespace::text NOT LIKE 'pg\_%'
   AND (a.attname = 'administration_id' OR a.attname IN (SELECT col FROM protected))
   AND NOT EXISTS (SELECT 1 FROM protected p WHERE p.relid = c.oid)
UNION ALL
-- partitions of protected tables left unprotected
SELECT 'error', t.relid::regclass::text, 'partition of protected table ' || p.relid::regclass::text || ' is not protected',
	   'Run tenancy.protect() on the partitioned table again; it protects every partition.'
  FROM protected p, pg_catalog.pg_partition_tree(p.relid) t
 WHERE p.relkind = 'p' AND t.relid <> p.relid
   AND NOT EXISTS (SELECT 1 FROM protected q WHERE q.relid = t.relid)
UNION ALL
-- row security switched off or not forced
SELECT 'error', p.relid::regclass::text, 'row security is disabled',
	   'Run tenancy.protect() on the table again.'
  FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid WHERE NOT c.relrowsecurity
UNION ALL
SELECT 'error', p.relid::regclass::text, 'row security is not forced: the owner bypasses it',
	   'Run tenancy.protect() on the table again.'
  FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid WHERE NOT c.relforcerowsecurity
UNION ALL
-- tenancy policies dropped or altered
SELECT 'error', p.relid::regclass::text, pg_catalog.format('policy %s is missing or altered', e.polname),
	   'Run tenancy.protect() on the table again to restore its policies.'
  FROM protected p CROSS JOIN expected_policy e
 WHERE NOT EXISTS (
	SELECT 1 FROM pg_catalog.pg_policy pol
	 WHERE pol.polrelid = p.relid AND pol.polname = e.polname
	   AND pol.polcmd = e.polcmd AND pol.polpermissive = e.permissive
	   AND pol.polroles = '{0}'
	   AND pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) IS NOT DISTINCT FROM
		   ('@extschema@.' || e.qual_fn || '(' || pg_catalog.quote_ident(p.col) || ')')
	   AND pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) IS NOT DISTINCT FROM
		   ('@extschema@.' || e.check_fn || '(' || pg_catalog.quote_ident(p.col) || ')'))
UNION ALL
-- other permissive policies widen what a compartment's users see
SELECT 'warning', p.relid::regclass::text, pg_catalog.format('extra policy %s may widen the rows visible inside a compartment', pol.polname),
	   'Drop it, or make it RESTRICTIVE; the compartment wall still holds.'
  FROM protected p JOIN pg_catalog.pg_policy pol ON pol.polrelid = p.relid
 WHERE pol.polname NOT IN (SELECT polname FROM expected_policy) AND pol.polpermissive
UNION ALL
-- guard triggers dropped or disabled
SELECT 'error', p.relid::regclass::text, pg_catalog.format('trigger %s is missing or disabled', t.tgname),
	   'Run tenancy.protect() on the table again, or ALTER TABLE ... ENABLE TRIGGER.'
  FROM protected p
  CROSS JOIN LATERAL (VALUES ('tenancy_guard'), ('tenancy_no_truncate')) t(tgname)
 WHERE (t.tgname <> 'tenancy_guard' OR p.relkind = 'r')
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
					WHERE g.tgrelid = p.relid AND g.tgname = t.tgname AND g.tgenabled <> 'D')
UNION ALL
-- the extension's own invariant triggers disabled
SELECT 'error', g.tgrelid::regclass::text, pg_catalog.format('trigger %s is disabled', g.tgname),
	   'ALTER TABLE ... ENABLE TRIGGER; the catalog invariants and the audit depend on it.'
  FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid
 WHERE c.relnamespace = '@extschema@'::regnamespace AND NOT g.tgisinternal AND g.tgenabled = 'D'
UNION ALL
-- roles that bypass row security but log in as application or reporting roles
SELECT 'error', r.rolname::text,
	   CASE WHEN r.rolsuper THEN 'a superuser is bound as reporting login or is a member of tenancy_app'
			ELSE 'a BYPASSRLS role is bound as reporting login or is a member of tenancy_app' END,
	   'Use a plain role: row security does not apply to superusers and BYPASSRLS roles.'
  FROM pg_catalog.pg_roles r JOIN app_role a ON a.roleid = r.oid
 WHERE r.rolsuper OR r.rolbypassrls
UNION ALL
-- application roles that own protected tables
SELECT 'error', p.relid::regclass::text, pg_catalog.format('owned by application role %s', c.relowner::regrole),
	   'Give the table to a separate owner role: an owner can drop the policies.'
  FROM protected p JOIN pg_catalog.pg_class c ON c.oid = p.relid
 WHERE c.relowner IN (SELECT roleid FROM app_role)
UNION ALL
-- application roles holding TRUNCATE or REFERENCES
SELECT 'warning', p.relid::regclass::text,
	   pg_catalog.format('application role %s holds %s', a.roleid::regrole, x.priv),
	   CASE x.priv WHEN 'TRUNCATE' THEN 'REVOKE TRUNCATE: it ignores row security (the guard trigger refuses it).'
			ELSE 'REVOKE REFERENCES: a foreign key reveals which keys exist in other firms.' END
  FROM protected p CROSS JOIN app_role a
  CROSS JOIN (VALUES ('TRUNCATE'), ('REFERENCES')) x(priv)
  JOIN pg_catalog.pg_roles r ON r.oid = a.roleid
 WHERE NOT r.rolsuper AND pg_catalog.has_table_privilege(a.roleid, p.relid, x.priv)
UNION ALL
-- unique indexes without the administration column
SELECT 'warning', i.indexrelid::regclass::text,
	   'unique index on ' || p.relid::regclass::text || ' does not include the administration column',
	   'Its errors (and INSERT ... ON CONFLICT) reveal keys of other firms; include the administration column.'
  FROM protected p JOIN pg_catalog.pg_index i ON i.indrelid = p.relid
 WHERE i.indisunique
   AND NOT ((SELECT a.attnum FROM pg_catalog.pg_attribute a
			  WHERE a.attrelid = p.relid AND a.attname = p.col) = ANY (i.indkey::int2[]))
UNION ALL
-- views and materialized views over protected tables that do not run as the caller
SELECT 'warning', v.oid::regclass::text,
	   CASE v.relkind WHEN 'm' THEN 'materialized view over protected table ' || p.relid::regclass::text
			ELSE 'view over protected table ' || p.relid::regclass::text || ' runs with its owner''s rights' END,
	   CASE v.relkind WHEN 'm' THEN 'A materialized view stores the rows its refresher saw; drop it or protect a table instead.'
			ELSE 'Recreate it with tenancy.create_secured_view().' END
  FROM protected p
  JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = p.relid
	   AND d.classid = 'pg_rewrite'::regclass
  JOIN pg_catalog.pg_rewrite rw ON rw.oid = d.objid
  JOIN pg_catalog.pg_class v ON v.oid = rw.ev_class
 WHERE v.oid <> p.relid
   AND (v.relkind = 'm' OR (v.relkind = 'v' AND NOT coalesce(
		pg_catalog.array_to_string(v.reloptions, ',') ~ 'security_invoker=(true|on|yes|1)', false)))
 GROUP BY v.oid, v.relkind, p.relid
 ORDER BY 1, 2, 3
$check$;
COMMENT ON FUNCTION @extschema@.check() IS
	'holes in the protection: unprotected tables and partitions, altered policies and triggers, risky roles, leaking indexes and views (R23)';
REVOKE ALL ON FUNCTION @extschema@.check() FROM PUBLIC;
-- platform operators audit the database
GRANT EXECUTE ON FUNCTION @extschema@.check() TO tenancy_admin;
