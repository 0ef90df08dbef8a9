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
 * The visibility cache holds many identities (visibility.c)
 * ------------------------------------------------------------------ */

-- the archive rule probes completed migrations by administration
CREATE INDEX migration_administration_idx ON @extschema@.migration (administration_id);

CREATE FUNCTION @extschema@.cache_statistics(
	OUT identities bigint, OUT complete_identities bigint, OUT entries bigint,
	OUT administrations bigint, OUT probes bigint, OUT complete_loads bigint,
	OUT compartments_forgotten bigint, OUT flushes bigint)
	AS 'MODULE_PATHNAME', 'tenancy_cache_statistics'
	LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.cache_statistics() IS
'this backend''s visibility cache: identities held (complete ones hold every right), rights entries, administrations known, and since the backend started: one-administration probes, complete loads, compartments forgotten after a change, whole flushes';
REVOKE ALL ON FUNCTION @extschema@.cache_statistics() FROM PUBLIC;
-- operators size tenancy.cache_entries with it
GRANT EXECUTE ON FUNCTION @extschema@.cache_statistics() TO tenancy_admin;

/* ------------------------------------------------------------------
 * Audit log: who, when, order, anchor (R22), audit.c
 * ------------------------------------------------------------------ */

/* ------------------------------------------------------------------
 * Application developers and DBAs: find_user, compartment_users,
 * comments (R10, R13)
 * ------------------------------------------------------------------ */
