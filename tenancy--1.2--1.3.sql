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

-- enable_user: undoes disable_user; same callers (manage.c)
CREATE FUNCTION @extschema@.enable_user(user_id bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_enable_user' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.enable_user(bigint) IS
	'undo disable_user: the user can be acted as again (platform operators, administrators of the compartment)';
REVOKE ALL ON FUNCTION @extschema@.enable_user(bigint) FROM PUBLIC;
-- operators manage every compartment
GRANT EXECUTE ON FUNCTION @extschema@.enable_user(bigint) TO tenancy_admin;
-- application servers call it for a compartment administrator they act as
GRANT EXECUTE ON FUNCTION @extschema@.enable_user(bigint) TO tenancy_app;

COMMENT ON FUNCTION @extschema@.disable_user(bigint) IS
	'the user can no longer be acted as, and its sessions lose their rows at the next statement; an administrator cannot disable itself; undone by enable_user';

/*
 * The guard trigger of protected tables fires on DELETE too (R12 for
 * everyone, and a REPEATABLE READ deleter whose snapshot predates a
 * transfer, R6): tables protected before 1.3 get the trigger as protect()
 * now creates it, on the leaves where row triggers fire.
 */
DO $guard$
DECLARE
	t record;
BEGIN
	FOR t IN
		SELECT p.relid, p.administration_column
		  FROM @extschema@.protected_table p
		  JOIN pg_catalog.pg_trigger g ON g.tgrelid OPERATOR(pg_catalog.=) p.relid
		   AND g.tgname OPERATOR(pg_catalog.=) 'tenancy_guard'
		 ORDER BY p.relid
	LOOP
		EXECUTE pg_catalog.format(
			'CREATE OR REPLACE TRIGGER tenancy_guard BEFORE INSERT OR UPDATE OR DELETE ON %s'
			' FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_row(%L)',
			t.relid::pg_catalog.regclass, t.administration_column);
	END LOOP;
END
$guard$;

/*
 * Codes are unique case-insensitively within their scope (R10): "k1" beside
 * "K1" reads as the same client.  Existing look-alikes would make the
 * unique indexes fail half-way; they are listed first, with addresses that
 * the stricter e-mail check refuses, and the update stops before anything
 * changed.
 */
DO $codes$
DECLARE
	dup text;
BEGIN
	SELECT pg_catalog.string_agg(x.what, '; ' ORDER BY x.what COLLATE "C") INTO dup
	  FROM (SELECT 'compartments ' || pg_catalog.string_agg(c.code, ', ' ORDER BY c.code COLLATE "C") AS what
			  FROM @extschema@.compartment c
			 GROUP BY pg_catalog.lower(c.code) HAVING pg_catalog.count(*) > 1
			UNION ALL
			SELECT 'clients of compartment ' || c.compartment_id || ': '
				   || pg_catalog.string_agg(c.code, ', ' ORDER BY c.code COLLATE "C")
			  FROM @extschema@.client c
			 GROUP BY c.compartment_id, pg_catalog.lower(c.code) HAVING pg_catalog.count(*) > 1
			UNION ALL
			SELECT 'administrations of compartment ' || a.compartment_id || ': '
				   || pg_catalog.string_agg(a.code, ', ' ORDER BY a.code COLLATE "C")
			  FROM @extschema@.administration a
			 GROUP BY a.compartment_id, pg_catalog.lower(a.code) HAVING pg_catalog.count(*) > 1
			UNION ALL
			-- e-mail addresses that 1.3 refuses (not ASCII, not one address):
			-- the CHECK of account.email would refuse them at the next
			-- restore of a dump
			SELECT 'e-mail addresses ' || pg_catalog.string_agg(e.email, ', ' ORDER BY e.email COLLATE "C")
			  FROM @extschema@.account e
			 WHERE NOT @extschema@.email_is_valid(e.email)
			HAVING pg_catalog.count(*) > 0) x;
	IF dup IS NOT NULL THEN
		RAISE EXCEPTION 'look-alike codes or invalid e-mail addresses: %', dup
			USING ERRCODE = '23505',
				  DETAIL = 'From 1.3 on, codes are unique case-insensitively within their scope, and e-mail addresses are one plain ASCII address.',
				  HINT = 'Change one code of each pair and correct the addresses (UPDATE ... SET ...) as the extension owner, then run ALTER EXTENSION tenancy UPDATE again.';
	END IF;
END
$codes$;
CREATE UNIQUE INDEX compartment_code_lower_key
	ON @extschema@.compartment (pg_catalog.lower(code));
COMMENT ON INDEX @extschema@.compartment_code_lower_key IS
	'compartment codes are unique in the database, case-insensitively (R10)';
CREATE UNIQUE INDEX client_code_lower_key
	ON @extschema@.client (compartment_id, pg_catalog.lower(code));
COMMENT ON INDEX @extschema@.client_code_lower_key IS
	'client codes are unique in their compartment, case-insensitively (R10)';
CREATE UNIQUE INDEX administration_code_lower_key
	ON @extschema@.administration (compartment_id, pg_catalog.lower(code));
COMMENT ON INDEX @extschema@.administration_code_lower_key IS
	'administration codes are unique in their compartment, case-insensitively (R10)';

/* ------------------------------------------------------------------
 * Audit log: who, when, order, anchor (R22), audit.c
 * ------------------------------------------------------------------ */

/* ------------------------------------------------------------------
 * Application developers and DBAs: find_user, compartment_users,
 * comments (R10, R13)
 * ------------------------------------------------------------------ */
