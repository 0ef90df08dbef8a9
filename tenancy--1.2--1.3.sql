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
-- only these can get rows from it: application servers acting as an
-- administrator, and platform operators; nobody else (a reporting login,
-- say) is offered a view that is always empty
GRANT SELECT ON @extschema@.compartment_users TO tenancy_app, tenancy_admin;

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

-- A restore without session_replication_role = replica fails loudly: a COPY
-- into a catalog table is refused, instead of logging the restore into the
-- audit log and colliding with the restored entries (restore.c)
CREATE FUNCTION @extschema@.restore_guard() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_restore_guard'
	LANGUAGE C;
COMMENT ON FUNCTION @extschema@.restore_guard() IS
	'trigger on the catalog tables: refuses COPY into them outside session_replication_role = replica (a restore that would audit itself)';
-- nobody attaches it to a table of their own (it checks its table, too)
REVOKE ALL ON FUNCTION @extschema@.restore_guard() FROM PUBLIC;
DO $guard$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['subscription', 'compartment', 'client',
		'administration', 'account', 'users', 'permission', 'protected_table',
		'audit_entry', 'reporting_login', 'delegation', 'migration',
		'migration_approval', 'migration_history']
	LOOP
		EXECUTE pg_catalog.format(
			'CREATE TRIGGER restore_guard BEFORE INSERT ON @extschema@.%I'
			' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.restore_guard()', t);
	END LOOP;
END
$guard$;



-- \d+ in psql: a comment on every column of the extension's tables and
-- views and on every sequence
COMMENT ON COLUMN @extschema@.subscription.id IS 'subscription id';
COMMENT ON COLUMN @extschema@.subscription.name IS 'the firm''s name on the contract';
COMMENT ON COLUMN @extschema@.compartment.id IS 'compartment id';
COMMENT ON COLUMN @extschema@.compartment.subscription_id IS 'the subscription it belongs to';
COMMENT ON COLUMN @extschema@.compartment.code IS 'code, unique in the database (letters, digits, "_", "-", ".")';
COMMENT ON COLUMN @extschema@.compartment.name IS 'display name';
COMMENT ON COLUMN @extschema@.compartment.allow_external_users IS 'false: no external (client) users may be added to it (R10)';
COMMENT ON COLUMN @extschema@.client.id IS 'client id';
COMMENT ON COLUMN @extschema@.client.compartment_id IS 'the compartment it belongs to';
COMMENT ON COLUMN @extschema@.client.code IS 'code, unique in its compartment';
COMMENT ON COLUMN @extschema@.client.name IS 'display name';
COMMENT ON COLUMN @extschema@.administration.id IS 'administration id: the value protected tables carry in their administration column';
COMMENT ON COLUMN @extschema@.administration.compartment_id IS 'the compartment it belongs to (R6)';
COMMENT ON COLUMN @extschema@.administration.client_id IS 'the client it belongs to (R8, R9, R11)';
COMMENT ON COLUMN @extschema@.administration.code IS 'code, unique in its compartment';
COMMENT ON COLUMN @extschema@.administration.name IS 'display name';
COMMENT ON COLUMN @extschema@.administration.state IS 'active, archived (read-only, R12) or deleted (its rows are gone)';
COMMENT ON COLUMN @extschema@.account.id IS 'account id: one person';
COMMENT ON COLUMN @extschema@.account.email IS 'e-mail address, trimmed; unique case-insensitively (R10)';
COMMENT ON COLUMN @extschema@.users.id IS 'user id: what act_as and act_as_local take';
COMMENT ON COLUMN @extschema@.users.compartment_id IS 'the compartment of this membership';
COMMENT ON COLUMN @extschema@.users.account_id IS 'the person (one user per account and compartment, R10)';
COMMENT ON COLUMN @extschema@.users.kind IS 'internal (staff of the firm) or external (belongs to client_id)';
COMMENT ON COLUMN @extschema@.users.client_id IS 'for an external user, its client (R8); NULL for internal users';
COMMENT ON COLUMN @extschema@.users.is_admin IS 'administrator of the compartment (internal users only, R13)';
COMMENT ON COLUMN @extschema@.users.disabled IS 'cannot be acted as; its sessions see no rows';
COMMENT ON COLUMN @extschema@.permission.user_id IS 'the user holding the rights';
COMMENT ON COLUMN @extschema@.permission.administration_id IS 'the administration they apply to';
COMMENT ON COLUMN @extschema@.permission.compartment_id IS 'derived: the compartment of both user and administration (R6)';
COMMENT ON COLUMN @extschema@.permission.user_client_id IS 'derived: the external user''s client, tying the administration to it (R8)';
COMMENT ON COLUMN @extschema@.permission.can_read IS 'right read: see the administration''s rows (R7)';
COMMENT ON COLUMN @extschema@.permission.can_write IS 'right write: insert, update and delete its rows (R7)';
COMMENT ON COLUMN @extschema@.permission.can_submit IS 'right submit: send documents in';
COMMENT ON COLUMN @extschema@.permission.can_manage IS 'right manage: approve a migration for the client (R17)';
COMMENT ON COLUMN @extschema@.protected_table.relid IS 'the protected application table';
COMMENT ON COLUMN @extschema@.protected_table.administration_column IS 'its column holding the administration id';
COMMENT ON COLUMN @extschema@.protected_table.carry_on_migration IS 'false: its rows of an administration are removed when it migrates (R18)';
COMMENT ON COLUMN @extschema@.protected_table.protected_at IS 'when protect() was last called on it';
COMMENT ON COLUMN @extschema@.audit_entry.id IS 'entry number, ascending in the chain';
COMMENT ON COLUMN @extschema@.audit_entry.account_id IS 'the account acted as, if any';
COMMENT ON COLUMN @extschema@.audit_entry.user_id IS 'the user acted as, if any';
COMMENT ON COLUMN @extschema@.audit_entry.compartment_id IS 'the compartment the change belongs to (who may read the entry, R22)';
COMMENT ON COLUMN @extschema@.audit_entry.action IS 'insert, update or delete';
COMMENT ON COLUMN @extschema@.audit_entry.object_type IS 'the catalog table changed';
COMMENT ON COLUMN @extschema@.audit_entry.object_id IS 'the key of the changed row';
COMMENT ON COLUMN @extschema@.audit_entry.before IS 'the row before the change (jsonb), NULL for an insert';
COMMENT ON COLUMN @extschema@.audit_entry.after IS 'the row after the change (jsonb), NULL for a delete';
COMMENT ON COLUMN @extschema@.audit_entry.prev_hash IS 'the hash of the previous entry (the chain''s link)';
COMMENT ON COLUMN @extschema@.audit_entry.hash IS 'sha256 over this entry and prev_hash, in the formula hash_version names (verify_audit recomputes it)';
COMMENT ON COLUMN @extschema@.reporting_login.role IS 'the bound login role (R14)';
COMMENT ON COLUMN @extschema@.reporting_login.compartment_id IS 'its compartment; alone, a firm-wide scope (R15)';
COMMENT ON COLUMN @extschema@.reporting_login.client_id IS 'optionally, the one client it sees';
COMMENT ON COLUMN @extschema@.reporting_login.administration_codes IS 'optionally, the codes of the administrations it sees';
COMMENT ON COLUMN @extschema@.delegation.id IS 'delegation id (revoke_delegation takes it)';
COMMENT ON COLUMN @extschema@.delegation.administration_id IS 'the delegated administration';
COMMENT ON COLUMN @extschema@.delegation.compartment_id IS 'the compartment that owns it and delegates (R20)';
COMMENT ON COLUMN @extschema@.delegation.to_user_id IS 'the user of another compartment who receives the rights';
COMMENT ON COLUMN @extschema@.delegation.to_compartment_id IS 'that user''s compartment';
COMMENT ON COLUMN @extschema@.delegation.can_read IS 'delegated right read';
COMMENT ON COLUMN @extschema@.delegation.can_write IS 'delegated right write';
COMMENT ON COLUMN @extschema@.delegation.can_submit IS 'delegated right submit';
COMMENT ON COLUMN @extschema@.delegation.can_manage IS 'delegated right manage';
COMMENT ON COLUMN @extschema@.delegation.valid_until IS 'end of the delegation, at most 12 months after created_at';
COMMENT ON COLUMN @extschema@.delegation.created_at IS 'when it was given';
COMMENT ON COLUMN @extschema@.delegation.revoked_at IS 'when it was revoked, or NULL';
COMMENT ON COLUMN @extschema@.migration.id IS 'migration id';
COMMENT ON COLUMN @extschema@.migration.administration_id IS 'the administration that changes firm (R16)';
COMMENT ON COLUMN @extschema@.migration.scenario IS 'archive_and_transfer (R18) or export_and_delete (R19)';
COMMENT ON COLUMN @extschema@.migration.state IS 'requested, approved, exported, deleted_at_source, completed, rejected or cancelled';
COMMENT ON COLUMN @extschema@.migration.source_compartment_id IS 'the compartment it leaves';
COMMENT ON COLUMN @extschema@.migration.source_client_id IS 'its client at the source';
COMMENT ON COLUMN @extschema@.migration.target_compartment_id IS 'the compartment it goes to';
COMMENT ON COLUMN @extschema@.migration.target_client_id IS 'its client at the target, once chosen';
COMMENT ON COLUMN @extschema@.migration.successor_id IS 'the new active administration at the target';
COMMENT ON COLUMN @extschema@.migration.requested_by IS 'the user who requested it';
COMMENT ON COLUMN @extschema@.migration.requesting_compartment_id IS 'the requester''s compartment (source or target)';
COMMENT ON COLUMN @extschema@.migration.reason IS 'why it was rejected';
COMMENT ON COLUMN @extschema@.migration.report IS 'what the transfer or deletion did (rows removed per table, renamed code)';
COMMENT ON COLUMN @extschema@.migration.client_approver_at_request IS 'the client had a user able to approve when it was requested: consent on paper is then refused (R17)';
COMMENT ON COLUMN @extschema@.migration.requested_at IS 'when it was requested';
COMMENT ON COLUMN @extschema@.migration.updated_at IS 'when its state last changed';
COMMENT ON COLUMN @extschema@.migration_approval.id IS 'approval id';
COMMENT ON COLUMN @extschema@.migration_approval.migration_id IS 'the migration approved';
COMMENT ON COLUMN @extschema@.migration_approval.party IS 'source, client or target (R17)';
COMMENT ON COLUMN @extschema@.migration_approval.compartment_id IS 'the approver''s compartment';
COMMENT ON COLUMN @extschema@.migration_approval.user_id IS 'the approving user';
COMMENT ON COLUMN @extschema@.migration_approval.account_id IS 'the approving person (one account never approves for two parties)';
COMMENT ON COLUMN @extschema@.migration_approval.consent_reference IS 'for the client party without a user: the reference of its written consent';
COMMENT ON COLUMN @extschema@.migration_approval.approved_at IS 'when it was approved';
COMMENT ON COLUMN @extschema@.migration_history.id IS 'history entry id';
COMMENT ON COLUMN @extschema@.migration_history.migration_id IS 'the migration';
COMMENT ON COLUMN @extschema@.migration_history.step IS 'the function that took the step';
COMMENT ON COLUMN @extschema@.migration_history.from_state IS 'the state before the step';
COMMENT ON COLUMN @extschema@.migration_history.to_state IS 'the state after the step';
COMMENT ON COLUMN @extschema@.migration_history.party IS 'the party that took it';
COMMENT ON COLUMN @extschema@.migration_history.compartment_id IS 'the compartment of the user who took it';
COMMENT ON COLUMN @extschema@.migration_history.user_id IS 'the user who took it';
COMMENT ON COLUMN @extschema@.migration_history.account_id IS 'the person who took it';
COMMENT ON COLUMN @extschema@.migration_history.db_role IS 'the database role that took it';
COMMENT ON COLUMN @extschema@.migration_history.detail IS 'details of the step (jsonb)';
COMMENT ON COLUMN @extschema@.migration_history.at IS 'when it was taken';
COMMENT ON COLUMN @extschema@.audit_log.id IS 'entry number, ascending in the chain';
COMMENT ON COLUMN @extschema@.audit_log.at IS 'when the change was made (the clock at the change, never earlier than the previous entry)';
COMMENT ON COLUMN @extschema@.audit_log.db_role IS 'the current role that made it, outside the extension''s own elevation';
COMMENT ON COLUMN @extschema@.audit_log.login IS 'the session user: the login that connected (NULL in entries written before 1.3)';
COMMENT ON COLUMN @extschema@.audit_log.account_id IS 'the account acted as, if any';
COMMENT ON COLUMN @extschema@.audit_log.user_id IS 'the user acted as, if any';
COMMENT ON COLUMN @extschema@.audit_log.compartment_id IS 'the compartment the change belongs to (who may read the entry, R22)';
COMMENT ON COLUMN @extschema@.audit_log.action IS 'insert, update or delete';
COMMENT ON COLUMN @extschema@.audit_log.object_type IS 'the catalog table changed';
COMMENT ON COLUMN @extschema@.audit_log.object_id IS 'the key of the changed row';
COMMENT ON COLUMN @extschema@.audit_log.before IS 'the row before the change (jsonb), NULL for an insert';
COMMENT ON COLUMN @extschema@.audit_log.after IS 'the row after the change (jsonb), NULL for a delete';
COMMENT ON COLUMN @extschema@.compartment_users.user_id IS 'user id (for act_as_local)';
COMMENT ON COLUMN @extschema@.compartment_users.compartment_id IS 'the user''s compartment';
COMMENT ON COLUMN @extschema@.compartment_users.email IS 'the account''s e-mail address';
COMMENT ON COLUMN @extschema@.compartment_users.kind IS 'internal or external';
COMMENT ON COLUMN @extschema@.compartment_users.client_id IS 'an external user''s client';
COMMENT ON COLUMN @extschema@.compartment_users.client_code IS 'that client''s code';
COMMENT ON COLUMN @extschema@.compartment_users.is_admin IS 'administrator of the compartment';
COMMENT ON COLUMN @extschema@.compartment_users.disabled IS 'cannot be acted as';
COMMENT ON COLUMN @extschema@.migration_steps.migration_id IS 'the migration';
COMMENT ON COLUMN @extschema@.migration_steps.step_no IS 'the step''s number in this migration';
COMMENT ON COLUMN @extschema@.migration_steps.step IS 'the function that took the step';
COMMENT ON COLUMN @extschema@.migration_steps.from_state IS 'the state before';
COMMENT ON COLUMN @extschema@.migration_steps.to_state IS 'the state after';
COMMENT ON COLUMN @extschema@.migration_steps.party IS 'the party that took it';
COMMENT ON COLUMN @extschema@.migration_steps.detail IS 'details of the step';
COMMENT ON COLUMN @extschema@.migration_steps.at IS 'when it was taken';
COMMENT ON COLUMN @extschema@.migrations.migration_id IS 'migration id';
COMMENT ON COLUMN @extschema@.migrations.administration_id IS 'the administration that changes firm';
COMMENT ON COLUMN @extschema@.migrations.administration_code IS 'its code (for the target, once the source approved)';
COMMENT ON COLUMN @extschema@.migrations.administration_name IS 'its name (idem)';
COMMENT ON COLUMN @extschema@.migrations.scenario IS 'archive_and_transfer or export_and_delete';
COMMENT ON COLUMN @extschema@.migrations.state IS 'the current state';
COMMENT ON COLUMN @extschema@.migrations.my_side IS 'which party the caller''s compartment is: source, target or client';
COMMENT ON COLUMN @extschema@.migrations.source_compartment_id IS 'the compartment it leaves';
COMMENT ON COLUMN @extschema@.migrations.source_compartment_code IS 'its code';
COMMENT ON COLUMN @extschema@.migrations.target_compartment_id IS 'the compartment it goes to';
COMMENT ON COLUMN @extschema@.migrations.target_compartment_code IS 'its code';
COMMENT ON COLUMN @extschema@.migrations.approvals IS 'the parties that approved';
COMMENT ON COLUMN @extschema@.migrations.awaiting IS 'the parties whose approval is missing';
COMMENT ON COLUMN @extschema@.migrations.consent_reference IS 'the client''s written consent reference, if recorded';
COMMENT ON COLUMN @extschema@.migrations.next_steps IS 'the steps allowed from the current state';
COMMENT ON COLUMN @extschema@.migrations.target_client_id IS 'the client at the target, once chosen';
COMMENT ON COLUMN @extschema@.migrations.successor_administration_id IS 'the new active administration at the target';
COMMENT ON COLUMN @extschema@.migrations.reason IS 'why it was rejected';
COMMENT ON COLUMN @extschema@.migrations.report IS 'what the transfer or deletion did';
COMMENT ON COLUMN @extschema@.migrations.requested_at IS 'when it was requested';
COMMENT ON COLUMN @extschema@.migrations.updated_at IS 'when its state last changed';
COMMENT ON COLUMN @extschema@.my_administrations.administration_id IS 'an administration the identity holds rights on';
COMMENT ON COLUMN @extschema@.my_administrations.code IS 'its code';
COMMENT ON COLUMN @extschema@.my_administrations.name IS 'its name';
COMMENT ON COLUMN @extschema@.my_administrations.state IS 'active, archived or deleted';
COMMENT ON COLUMN @extschema@.my_administrations.client_id IS 'its client';
COMMENT ON COLUMN @extschema@.my_administrations.client_code IS 'the client''s code';
COMMENT ON COLUMN @extschema@.my_administrations.client_name IS 'the client''s name';
COMMENT ON COLUMN @extschema@.my_administrations.compartment_id IS 'its compartment (another one for a delegation)';
COMMENT ON COLUMN @extschema@.my_administrations.compartment_code IS 'the compartment''s code';
COMMENT ON COLUMN @extschema@.my_administrations.compartment_name IS 'the compartment''s name';
COMMENT ON COLUMN @extschema@.my_administrations.rights IS 'the identity''s rights on it: read, write, submit, manage';
COMMENT ON COLUMN @extschema@.my_clients.client_id IS 'a client of the administrations the identity holds rights on';
COMMENT ON COLUMN @extschema@.my_clients.code IS 'its code';
COMMENT ON COLUMN @extschema@.my_clients.name IS 'its name';
COMMENT ON COLUMN @extschema@.my_clients.compartment_id IS 'its compartment';
COMMENT ON COLUMN @extschema@.my_clients.compartment_code IS 'the compartment''s code';
COMMENT ON COLUMN @extschema@.my_clients.compartment_name IS 'the compartment''s name';
COMMENT ON SEQUENCE @extschema@.subscription_id_seq IS 'ids of tenancy.subscription';
COMMENT ON SEQUENCE @extschema@.compartment_id_seq IS 'ids of tenancy.compartment';
COMMENT ON SEQUENCE @extschema@.client_id_seq IS 'ids of tenancy.client';
COMMENT ON SEQUENCE @extschema@.administration_id_seq IS 'ids of tenancy.administration';
COMMENT ON SEQUENCE @extschema@.account_id_seq IS 'ids of tenancy.account';
COMMENT ON SEQUENCE @extschema@.users_id_seq IS 'ids of tenancy.users';
COMMENT ON SEQUENCE @extschema@.audit_entry_id_seq IS 'entry numbers of tenancy.audit_entry';
COMMENT ON SEQUENCE @extschema@.delegation_id_seq IS 'ids of tenancy.delegation';
COMMENT ON SEQUENCE @extschema@.migration_id_seq IS 'ids of tenancy.migration';
COMMENT ON SEQUENCE @extschema@.migration_approval_id_seq IS 'ids of tenancy.migration_approval';
COMMENT ON SEQUENCE @extschema@.migration_history_id_seq IS 'ids of tenancy.migration_history';
