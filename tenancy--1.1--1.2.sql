/* tenancy--1.1--1.2.sql -- dossier migration between compartments (R16-R19, R21) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenancy UPDATE TO '1.2'" to load this file. \quit

/* ------------------------------------------------------------------
 * Migrations (R16-R19, R21), migration.c
 *
 * A migration moves one administration from its compartment (the source)
 * to another (the target).  Its state, approvals and history are written
 * only by the C functions below; the trigger migration_guard refuses every
 * other UPDATE, DELETE or TRUNCATE, the table owner's and superusers'
 * included, and every INSERT except a superuser's (so that pg_restore can
 * load the rows back).  The state machine and its transition table are in
 * migration.c.
 * ------------------------------------------------------------------ */

CREATE TABLE @extschema@.migration (
	id			bigserial PRIMARY KEY,
	administration_id bigint NOT NULL REFERENCES @extschema@.administration (id),
	scenario	text NOT NULL
				CHECK (scenario IN ('archive_and_transfer', 'export_and_delete')),
	state		text NOT NULL DEFAULT 'requested'
				CHECK (state IN ('requested', 'approved', 'exported', 'deleted_at_source',
								 'completed', 'rejected', 'cancelled')),
	source_compartment_id bigint NOT NULL REFERENCES @extschema@.compartment,
	source_client_id bigint NOT NULL REFERENCES @extschema@.client,
	target_compartment_id bigint NOT NULL REFERENCES @extschema@.compartment,
	target_client_id bigint REFERENCES @extschema@.client,
	successor_id bigint REFERENCES @extschema@.administration (id),
	requested_by bigint NOT NULL REFERENCES @extschema@.users,
	requesting_compartment_id bigint NOT NULL REFERENCES @extschema@.compartment,
	reason		text,
	report		jsonb,
	-- did the client have a user who could approve, when it was requested?
	-- then consent on paper is refused for good (R17)
	client_approver_at_request boolean NOT NULL DEFAULT false,
	requested_at timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
	CONSTRAINT migration_other_compartment CHECK (source_compartment_id <> target_compartment_id),
	CONSTRAINT migration_requester_is_party CHECK (
		requesting_compartment_id IN (source_compartment_id, target_compartment_id))
);
-- at most one open migration per administration, also when two requests race
CREATE UNIQUE INDEX migration_one_open ON @extschema@.migration (administration_id)
	WHERE state IN ('requested', 'approved', 'exported', 'deleted_at_source');
CREATE INDEX migration_source_idx ON @extschema@.migration (source_compartment_id);
CREATE INDEX migration_target_idx ON @extschema@.migration (target_compartment_id);
COMMENT ON TABLE @extschema@.migration IS
	'migrations of an administration from its compartment to another (R16-R19); written only by the migration functions (R21)';

CREATE TABLE @extschema@.migration_approval (
	id			bigserial PRIMARY KEY,
	migration_id bigint NOT NULL REFERENCES @extschema@.migration,
	party		text NOT NULL CHECK (party IN ('source', 'client', 'target')),
	compartment_id bigint NOT NULL REFERENCES @extschema@.compartment,
	user_id		bigint NOT NULL REFERENCES @extschema@.users,
	account_id	bigint NOT NULL REFERENCES @extschema@.account,
	consent_reference text,
	approved_at timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
	-- one approval per party
	UNIQUE (migration_id, party),
	-- one account never approves for two parties (R17)
	UNIQUE (migration_id, account_id),
	CONSTRAINT migration_approval_consent CHECK (
		consent_reference IS NULL OR (party = 'client' AND pg_catalog.btrim(consent_reference) <> ''))
);
COMMENT ON TABLE @extschema@.migration_approval IS
	'one approval per party of a migration: source, client (its external user with manage, or a source administrator recording written consent) and target (R17)';

CREATE TABLE @extschema@.migration_history (
	id			bigserial PRIMARY KEY,
	migration_id bigint NOT NULL REFERENCES @extschema@.migration,
	step		text NOT NULL,
	from_state	text,
	to_state	text NOT NULL,
	party		text,
	compartment_id bigint,
	user_id		bigint,
	account_id	bigint,
	db_role		name NOT NULL,
	detail		jsonb,
	at			timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp()
);
CREATE INDEX migration_history_migration_idx ON @extschema@.migration_history (migration_id);
COMMENT ON TABLE @extschema@.migration_history IS
	'every step taken on a migration, in order; append-only (R21)';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.migration', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migration_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migration_approval', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migration_approval_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migration_history', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migration_history_id_seq', '');

-- nobody reads or writes them directly: the functions and views below do
REVOKE ALL ON @extschema@.migration, @extschema@.migration_approval,
	@extschema@.migration_history FROM PUBLIC;
REVOKE ALL ON SEQUENCE @extschema@.migration_id_seq, @extschema@.migration_approval_id_seq,
	@extschema@.migration_history_id_seq FROM PUBLIC;

CREATE FUNCTION @extschema@.migration_guard() RETURNS trigger
	AS 'MODULE_PATHNAME', 'tenancy_migration_guard' LANGUAGE C;
-- a trigger function is nobody's to attach elsewhere
REVOKE ALL ON FUNCTION @extschema@.migration_guard() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migration_guard() IS
	'trigger: refuses any write of a migration''s state, approvals or history that does not come from the migration functions (R21)';
CREATE TRIGGER migration_guard BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.migration
	FOR EACH ROW EXECUTE FUNCTION @extschema@.migration_guard();
CREATE TRIGGER migration_guard BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.migration_approval
	FOR EACH ROW EXECUTE FUNCTION @extschema@.migration_guard();
CREATE TRIGGER migration_guard BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.migration_history
	FOR EACH ROW EXECUTE FUNCTION @extschema@.migration_guard();
CREATE TRIGGER migration_no_truncate BEFORE TRUNCATE ON @extschema@.migration
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.migration_guard();
CREATE TRIGGER migration_no_truncate BEFORE TRUNCATE ON @extschema@.migration_approval
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.migration_guard();
CREATE TRIGGER migration_no_truncate BEFORE TRUNCATE ON @extschema@.migration_history
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.migration_guard();

-- audited (R22): a migration in both compartments' logs, an approval and a
-- step in the log of the compartment of the user who took it
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.migration
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('migration', 'source_compartment_id');
CREATE TRIGGER audit_target AFTER INSERT OR UPDATE OR DELETE ON @extschema@.migration
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('migration', 'target_compartment_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.migration_approval
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('migration_approval', 'compartment_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.migration_history
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_change('migration_step', 'compartment_id');
-- a completed archive_and_transfer lets the successor's users read the
-- archive: the scope caches must hear of it
CREATE TRIGGER invalidate_scope AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON @extschema@.migration FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.invalidate_scope();

/*
 * The steps.  Not SECURITY DEFINER and not STRICT: the C code derives the
 * party from the session's identity, elevates only around its own catalog
 * statements, and refuses a NULL argument with an error.
 */
CREATE FUNCTION @extschema@.request_migration(administration_id bigint,
	target_compartment_id bigint, scenario text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_request_migration' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.request_migration(bigint, bigint, text) IS
	'request the migration of an administration to another compartment, scenario archive_and_transfer or export_and_delete (administrator of the source or target compartment; R16)';

CREATE FUNCTION @extschema@.approve_migration(migration_id bigint,
	consent_reference text DEFAULT NULL) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_approve_migration' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.approve_migration(bigint, text) IS
	'approve a migration for the caller''s party; a source administrator passes consent_reference to record the client''s written consent (R17)';

CREATE FUNCTION @extschema@.reject_migration(migration_id bigint, reason text) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_reject_migration' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reject_migration(bigint, text) IS
	'reject a requested or approved migration, with a reason (any party; R17)';

CREATE FUNCTION @extschema@.cancel_migration(migration_id bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_cancel_migration' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.cancel_migration(bigint) IS
	'cancel a requested or approved migration (the requester, or an administrator of the requesting compartment; R17)';

CREATE FUNCTION @extschema@.transfer_migration(migration_id bigint, target_client_id bigint,
	successor_code text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_transfer_migration' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.transfer_migration(bigint, bigint, text) IS
	'archive_and_transfer: freeze the administration, move it under a client of the target compartment and link it to a new active administration; returns the new administration''s id (administrator of the target compartment; R18)';

CREATE FUNCTION @extschema@.confirm_export(migration_id bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_confirm_export' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.confirm_export(bigint) IS
	'export_and_delete: the source confirms the export was delivered (administrator of the source compartment; R19)';

CREATE FUNCTION @extschema@.delete_at_source(migration_id bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'tenancy_delete_at_source' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.delete_at_source(bigint) IS
	'export_and_delete: delete the administration''s rows from every protected table and mark it deleted (administrator of the source compartment; R19)';

CREATE FUNCTION @extschema@.activate_at_target(migration_id bigint, target_client_id bigint,
	code text) RETURNS bigint
	AS 'MODULE_PATHNAME', 'tenancy_activate_at_target' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.activate_at_target(bigint, bigint, text) IS
	'export_and_delete: create the new active administration at the target, once the source has deleted its rows (administrator of the target compartment; R19)';

DO $grants$
DECLARE
	f text;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		'request_migration(bigint, bigint, text)',
		'approve_migration(bigint, text)',
		'reject_migration(bigint, text)',
		'cancel_migration(bigint)',
		'transfer_migration(bigint, bigint, text)',
		'confirm_export(bigint)',
		'delete_at_source(bigint)',
		'activate_at_target(bigint, bigint, text)']
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION @extschema@.%s FROM PUBLIC', f);
		-- application servers call them for the party they act as; the
		-- party is derived from that identity (operators are no party)
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION @extschema@.%s TO tenancy_app', f);
	END LOOP;
END
$grants$;

CREATE FUNCTION @extschema@.migration_next_steps(state text, scenario text) RETURNS text[]
	AS 'MODULE_PATHNAME', 'tenancy_migration_next_steps'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.migration_next_steps(text, text) IS
	'the steps (function names) that the transition table allows from a state, for a scenario';
-- a pure function of its arguments: the transition table is public knowledge
GRANT EXECUTE ON FUNCTION @extschema@.migration_next_steps(text, text) TO PUBLIC;

CREATE FUNCTION @extschema@.migration_party(source_compartment_id bigint,
	source_client_id bigint, target_compartment_id bigint, target_client_id bigint) RETURNS text
	AS 'MODULE_PATHNAME', 'tenancy_migration_party'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.migration_party(bigint, bigint, bigint, bigint) IS
	'the side (source or target) through which the current identity''s compartment is a party to a migration with these compartments and clients; operator for platform operators; NULL for anyone else';
-- answers only for the caller's own identity
GRANT EXECUTE ON FUNCTION @extschema@.migration_party(bigint, bigint, bigint, bigint) TO PUBLIC;

/*
 * The target side learns the administration's code and name once the source
 * has approved: until then a target administrator who requested a migration
 * of an id of another firm learns nothing about it.
 */
CREATE VIEW @extschema@.migrations WITH (security_barrier) AS
	SELECT m.id AS migration_id, m.administration_id,
		   CASE WHEN s.side OPERATOR(pg_catalog.<>) 'target' OR src.approved THEN a.code END
			   AS administration_code,
		   CASE WHEN s.side OPERATOR(pg_catalog.<>) 'target' OR src.approved THEN a.name END
			   AS administration_name,
		   m.scenario, m.state, s.side AS my_side,
		   m.source_compartment_id, sc.code AS source_compartment_code,
		   m.target_compartment_id, tc.code AS target_compartment_code,
		   ARRAY(SELECT p.party FROM @extschema@.migration_approval p
				  WHERE p.migration_id OPERATOR(pg_catalog.=) m.id
				  ORDER BY pg_catalog.array_position(ARRAY['source', 'client', 'target'], p.party)) AS approvals,
		   ARRAY(SELECT x.party FROM pg_catalog.unnest(ARRAY['source', 'client', 'target']) x(party)
				  WHERE m.state OPERATOR(pg_catalog.=) 'requested'
					AND NOT EXISTS (SELECT FROM @extschema@.migration_approval p
									 WHERE p.migration_id OPERATOR(pg_catalog.=) m.id
									   AND p.party OPERATOR(pg_catalog.=) x.party)) AS awaiting,
		   (SELECT p.consent_reference FROM @extschema@.migration_approval p
			 WHERE p.migration_id OPERATOR(pg_catalog.=) m.id
			   AND p.party OPERATOR(pg_catalog.=) 'client') AS consent_reference,
		   @extschema@.migration_next_steps(m.state, m.scenario) AS next_steps,
		   m.target_client_id, m.successor_id AS successor_administration_id,
		   m.reason, m.report, m.requested_at, m.updated_at
	  FROM @extschema@.migration m
	 CROSS JOIN LATERAL (SELECT @extschema@.migration_party(m.source_compartment_id,
				m.source_client_id, m.target_compartment_id, m.target_client_id) AS side) s
	 CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM @extschema@.migration_approval p
				 WHERE p.migration_id OPERATOR(pg_catalog.=) m.id
				   AND p.party OPERATOR(pg_catalog.=) 'source') AS approved) src
	  JOIN @extschema@.administration a ON a.id OPERATOR(pg_catalog.=) m.administration_id
	  JOIN @extschema@.compartment sc ON sc.id OPERATOR(pg_catalog.=) m.source_compartment_id
	  JOIN @extschema@.compartment tc ON tc.id OPERATOR(pg_catalog.=) m.target_compartment_id
	 WHERE s.side IS NOT NULL;
COMMENT ON VIEW @extschema@.migrations IS
	'each migration the caller''s compartment is a party to, with its state, approvals, next allowed steps and report (operators: all)';
-- the view filters by caller
GRANT SELECT ON @extschema@.migrations TO PUBLIC;

CREATE VIEW @extschema@.migration_steps WITH (security_barrier) AS
	SELECT h.migration_id, h.id AS step_no, h.step, h.from_state, h.to_state, h.party,
		   h.detail, h.at
	  FROM @extschema@.migration_history h
	  JOIN @extschema@.migration m ON m.id OPERATOR(pg_catalog.=) h.migration_id
	 WHERE @extschema@.migration_party(m.source_compartment_id, m.source_client_id,
									   m.target_compartment_id, m.target_client_id) IS NOT NULL;
COMMENT ON VIEW @extschema@.migration_steps IS
	'the history of each migration the caller''s compartment is a party to, step by step (operators: all)';
-- the view filters by caller
GRANT SELECT ON @extschema@.migration_steps TO PUBLIC;
