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
-- Nothing in SQL: the setting tenancy.local_identity_only and the checks
-- of cursors and temporary tables (session.c) live in the library.

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

-- who: the login (session user) beside the role; the format of each
-- entry's hash: 1 for the entries 1.0 to 1.2 wrote (they keep verifying
-- with audit_hash), 2 from this version on (audit_hash_v2); the writer
-- (audit.c) always names it
ALTER TABLE @extschema@.audit_entry
	ADD COLUMN login name,
	ADD COLUMN hash_version smallint NOT NULL DEFAULT 1
		CONSTRAINT audit_entry_hash_version_check CHECK (hash_version IN (1, 2)),
	ADD CONSTRAINT audit_entry_login_check CHECK (hash_version = 1 OR login IS NOT NULL);
ALTER TABLE @extschema@.audit_entry ALTER COLUMN hash_version DROP DEFAULT;
COMMENT ON COLUMN @extschema@.audit_entry.at IS
	'when the change was made (clock time, not the transaction''s start); never earlier than the previous entry''s';
COMMENT ON COLUMN @extschema@.audit_entry.db_role IS
	'the current role outside the extension''s elevation (after SET ROLE, the role set)';
COMMENT ON COLUMN @extschema@.audit_entry.login IS
	'the session user: the login that connected (NULL in entries written before 1.3)';
COMMENT ON COLUMN @extschema@.audit_entry.hash_version IS
	'the formula of hash: 1 = audit_hash (entries written by 1.0 to 1.2), 2 = audit_hash_v2';

CREATE FUNCTION @extschema@.audit_hash_v2(id bigint, prev_hash bytea, at timestamptz,
	db_role name, login name, account_id bigint, user_id bigint, compartment_id bigint,
	action text, object_type text, object_id text, before jsonb, after jsonb) RETURNS bytea
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	-- one JSON array of every field: strings escaped, NULL spelled null, the
	-- time in UTC whatever the session's TimeZone, before and after as
	-- their canonical jsonb text (so that SQL NULL and JSON null differ).
	-- IMMUTABLE although jsonb_build_array and to_char are only STABLE:
	-- every argument reaches them as text or bigint, and the time through a
	-- fixed pattern, so no setting changes the result.
	SELECT pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_array(
		'tenancy audit entry v2', $1, pg_catalog.encode($2, 'hex'),
		pg_catalog.to_char($3 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		$4::text, $5::text, $6, $7, $8, $9, $10, $11, $12::text, $13::text)::text, 'UTF8'))
$$;
COMMENT ON FUNCTION @extschema@.audit_hash_v2(bigint, bytea, timestamptz, name, name, bigint, bigint, bigint, text, text, text, jsonb, jsonb) IS
	'hash of one audit entry (format 2): every field, its id and the previous entry''s hash, unambiguously encoded (R22)';

-- the view shows the login too (a new last column)
CREATE OR REPLACE VIEW @extschema@.audit_log WITH (security_barrier) AS
	SELECT e.id, e.at, e.db_role, e.account_id, e.user_id, e.compartment_id,
		   e.action, e.object_type, e.object_id, e.before, e.after, e.login
	  FROM @extschema@.audit_entry e
	 WHERE pg_catalog.pg_has_role(CURRENT_USER, 'tenancy_admin', 'MEMBER')
		OR (e.compartment_id OPERATOR(pg_catalog.=) @extschema@.current_compartment_id()
			-- the firm's own staff: an external user does not read other clients' changes
			AND EXISTS (SELECT 1 FROM @extschema@.users u
						 WHERE u.id OPERATOR(pg_catalog.=) @extschema@.current_user_id()
						   AND u.kind OPERATOR(pg_catalog.=) 'internal'));

-- the walk of the chain moves to C (audit.c), with one formula per format
CREATE OR REPLACE FUNCTION @extschema@.verify_audit() RETURNS text
	AS 'MODULE_PATHNAME', 'tenancy_verify_audit'
	LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.verify_audit() IS
	'walks the audit chain; returns ok, or names the first entry whose hash or link is broken (R22)';

CREATE FUNCTION @extschema@.verify_audit(expected_head_id bigint, expected_hash text) RETURNS text
	AS 'MODULE_PATHNAME', 'tenancy_verify_audit'
	LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.verify_audit(bigint, text) IS
	'walks the audit chain and checks it against a head published earlier by audit_head(): finds a log cut back or rewritten (R22)';
-- anyone may check the chain; the answer names at most an entry number
REVOKE ALL ON FUNCTION @extschema@.verify_audit(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.verify_audit(bigint, text) TO PUBLIC;

CREATE FUNCTION @extschema@.audit_head(OUT id bigint, OUT hash text, OUT entries bigint)
	RETURNS record
	LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT h.id, pg_catalog.encode(h.hash, 'hex'),
		   (SELECT pg_catalog.count(*) FROM @extschema@.audit_entry)
	  FROM (SELECT 1) one
	  LEFT JOIN LATERAL (SELECT e.id, e.hash FROM @extschema@.audit_entry e
						  ORDER BY e.id DESC LIMIT 1) h ON true
$$;
COMMENT ON FUNCTION @extschema@.audit_head() IS
	'the audit chain''s last entry (id, hash) and its number of entries, to publish outside the database and check later with verify_audit(id, hash) (R22)';
-- platform operators publish the head; nobody else reads the whole log
REVOKE ALL ON FUNCTION @extschema@.audit_head() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.audit_head() TO tenancy_admin;

/* ------------------------------------------------------------------
 * Application developers and DBAs: find_user, compartment_users,
 * comments (R10, R13)
 * ------------------------------------------------------------------ */
