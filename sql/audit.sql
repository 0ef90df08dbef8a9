--
-- audit: R22 -- every catalog change is logged, the log is append-only and
-- hash-chained, and a compartment sees only its own entries
--
\i test/fixture.sql

-- 1. every change is there, with who and before/after
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
SELECT tenancy.grant_rights(:u_staff, :a_ops2, '{read}');
SELECT tenancy.revoke_rights(:u_staff, :a_ops2);
SELECT tenancy.reset();
RESET ROLE;
SELECT object_type, action, count(*) FROM tenancy.audit_log
 GROUP BY 1, 2 ORDER BY object_type COLLATE "C", action COLLATE "C";
SELECT action, db_role, user_id = :u_admin AS by_admin, compartment_id = :c_cli AS in_clients,
	   before ->> 'can_read' AS read_before, after ->> 'can_read' AS read_after
  FROM tenancy.audit_log
 WHERE object_type = 'permission' AND object_id = :u_staff || '/' || :a_ops2
 ORDER BY id;
SELECT tenancy.verify_audit();										-- ok

-- 2. append-only, for the owner too
UPDATE tenancy.audit_entry SET action = 'nothing' WHERE id = 1;		-- fails
DELETE FROM tenancy.audit_entry WHERE id = 1;						-- fails
TRUNCATE tenancy.audit_entry;										-- fails
SET ROLE regress_operator;
DELETE FROM tenancy.audit_entry;									-- fails: no privilege
SELECT count(*) > 0 AS operator_reads_all FROM tenancy.audit_log;	-- ok
RESET ROLE;

-- 3. a compartment's users see only their compartment's entries
SET ROLE regress_app;
SELECT tenancy.act_as(:u_other);
SELECT DISTINCT compartment_id = :c_other AS own_only FROM tenancy.audit_log;	-- ok: only true
-- an external user does not read the firm's log (other clients' changes)
SELECT tenancy.act_as(:u_piet);
SELECT count(*) FROM tenancy.audit_log;								-- ok: 0
-- a disabled user's session keeps its identity, and reads no more of the
-- log than of the tables (R2): otto is disabled while his session acts as
-- him (the catalog row changed as disable_user in another session would)
SELECT tenancy.act_as(:u_other);
SELECT count(*) > 0 AS otto_reads FROM tenancy.audit_log;			-- ok: t
RESET ROLE;
UPDATE tenancy.users SET disabled = true WHERE id = :u_other;
SET ROLE regress_app;
SELECT count(*) FROM tenancy.audit_log;								-- ok: 0, disabled
RESET ROLE;
UPDATE tenancy.users SET disabled = false WHERE id = :u_other;
SET ROLE regress_app;
SELECT tenancy.reset();
SELECT count(*) FROM tenancy.audit_log;								-- ok: 0 without identity
RESET ROLE;
SET ROLE regress_plain;
SELECT count(*) FROM tenancy.audit_log;								-- ok: 0
SELECT tenancy.verify_audit();										-- ok: anyone may check
RESET ROLE;

-- 4. tampering is found: the first broken entry is named
ALTER TABLE tenancy.audit_entry DISABLE TRIGGER audit_append_only;
UPDATE tenancy.audit_entry SET after = '{"can_read": true}' WHERE id = 5;
ALTER TABLE tenancy.audit_entry ENABLE TRIGGER audit_append_only;
SELECT tenancy.verify_audit();										-- broken at entry 5
ALTER TABLE tenancy.audit_entry DISABLE TRIGGER audit_append_only;
DELETE FROM tenancy.audit_entry WHERE id = 3;
ALTER TABLE tenancy.audit_entry ENABLE TRIGGER audit_append_only;
SELECT tenancy.verify_audit();										-- broken at entry 4: link gone

-- 5. R22: the trigger prepares its statement once per table; a change of
-- the table's definition reaches it within the same session, and no change
-- goes unlogged
SET ROLE regress_operator;
SELECT tenancy.create_client(:c_other, 'y1', 'Y1 BV') IS NOT NULL AS created;		-- ok: logged
RESET ROLE;
ALTER TABLE tenancy.client ADD COLUMN regress_note text DEFAULT 'noted';
SET ROLE regress_operator;
SELECT tenancy.create_client(:c_other, 'y2', 'Y2 BV') IS NOT NULL AS created;		-- ok: logged with the new column
RESET ROLE;
ALTER TABLE tenancy.client DROP COLUMN regress_note;
SET ROLE regress_operator;
SELECT tenancy.create_client(:c_other, 'y3', 'Y3 BV') IS NOT NULL AS created;		-- ok: logged without it
RESET ROLE;
SELECT e.action, e.after ->> 'code' AS code, e.after ->> 'regress_note' AS note
  FROM tenancy.audit_entry e
 WHERE e.object_type = 'client' AND e.after ->> 'code' IN ('y1', 'y2', 'y3')
 ORDER BY e.id;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
