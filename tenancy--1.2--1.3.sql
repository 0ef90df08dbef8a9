/* tenancy--1.2--1.3.sql -- walls that survive an outside attacker (R24, R12, R22) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenancy UPDATE TO '1.3'" to load this file. \quit

/* ------------------------------------------------------------------
 * Derived objects: views, materialized views, partitions, inheritance
 * children and foreign keys of protected tables (R24, R11), ddl.c
 * ------------------------------------------------------------------ */

/* ------------------------------------------------------------------
 * Pooled connections: cursors, temporary tables and session-level
 * act_as behind transaction pooling (R4, R24), identity.c
 * ------------------------------------------------------------------ */

/* ------------------------------------------------------------------
 * Entry points, users and reporting logins (R3, R12, R13, R14)
 * ------------------------------------------------------------------ */

/* ------------------------------------------------------------------
 * Audit log: who, when, order, anchor (R22), audit.c
 * ------------------------------------------------------------------ */

/* ------------------------------------------------------------------
 * Application developers and DBAs: find_user, compartment_users,
 * comments (R10, R13)
 * ------------------------------------------------------------------ */

-- find_user: how an application server maps its logged-in person to the
-- user id it passes to act_as (directory.c)
CREATE FUNCTION @extschema@.find_user(compartment_id bigint, email text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_find_user'
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.find_user(bigint, text) IS
	'the id of the user with that e-mail address (trimmed, case-insensitive) in that compartment, or NULL; for tenancy_app, tenancy_admin and the compartment''s administrators (R10, R13)';
REVOKE ALL ON FUNCTION @extschema@.find_user(bigint, text) FROM PUBLIC;
-- the function checks its caller (tenancy_app, tenancy_admin, or a session
-- acting as an administrator of that compartment) before it looks anything up
GRANT EXECUTE ON FUNCTION @extschema@.find_user(bigint, text) TO PUBLIC;

CREATE FUNCTION @extschema@.compartment_users_rows()
	RETURNS TABLE (user_id bigint, compartment_id bigint, email text, kind text,
				   client_id bigint, client_code text, is_admin boolean,
				   disabled boolean)
	AS 'MODULE_PATHNAME', 'tenancy_compartment_users'
	LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 100;
COMMENT ON FUNCTION @extschema@.compartment_users_rows() IS
	'the rows of view tenancy.compartment_users: the acting administrator''s compartment, every compartment for tenancy_admin, nothing for anyone else (R13)';
-- it answers for its caller only
GRANT EXECUTE ON FUNCTION @extschema@.compartment_users_rows() TO PUBLIC;

CREATE VIEW @extschema@.compartment_users WITH (security_barrier) AS
	SELECT r.user_id, r.compartment_id, r.email, r.kind, r.client_id,
		   r.client_code, r.is_admin, r.disabled
	  FROM @extschema@.compartment_users_rows() r;
COMMENT ON VIEW @extschema@.compartment_users IS
	'the users of the acting administrator''s compartment (all compartments for tenancy_admin): for an administrator''s screen (R13)';
-- the view answers for its caller only
GRANT SELECT ON @extschema@.compartment_users TO PUBLIC;

-- A clean way out: DROP EXTENSION (or DROP SCHEMA tenancy) is refused while
-- tables are protected, since it would leave them with row security forced
-- and no policy (uninstall.c)
CREATE FUNCTION @extschema@.drop_extension_guard() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'tenancy_drop_extension_guard'
	LANGUAGE C;
COMMENT ON FUNCTION @extschema@.drop_extension_guard() IS
	'event trigger: refuses DROP EXTENSION tenancy while tables are protected; unprotect them first';
REVOKE ALL ON FUNCTION @extschema@.drop_extension_guard() FROM PUBLIC;
CREATE EVENT TRIGGER tenancy_drop_extension_guard ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
	EXECUTE FUNCTION @extschema@.drop_extension_guard();
COMMENT ON EVENT TRIGGER tenancy_drop_extension_guard IS
	'refuses DROP EXTENSION tenancy while tables are protected';
