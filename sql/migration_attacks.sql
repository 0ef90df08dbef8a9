--
-- migration_attacks: R16, R17 -- a migration against an attacker: a firm
-- that names another firm's dossier learns nothing of it from the refusal,
-- whatever the dossier's state (R16); a dossier does not change client
-- while its migration is open, so that the client's approval stays the
-- approval of the client that gave it (R17)
--
\i test/fixture.sql
-- after each refusal, :st prints its SQLSTATE
\set st '\\echo SQLSTATE :LAST_ERROR_SQLSTATE'
\set SHOW_CONTEXT never

-- setup: a third firm with its administrator Tom; in the other firm an
-- archived and a deleted dossier beside the active one (x); Piet may manage
-- vries-ops2 (he approves for the client)
SELECT tenancy.create_compartment(tenancy.create_subscription('Third'), 'third', 'Third firm') AS c_third \gset
SELECT tenancy.add_user(:c_third, 'tom@third.nl', 'internal', NULL, true) AS u_tom \gset
SELECT tenancy.create_administration(:cl_x, 'x-archived', 'X archive') AS a_x_archived \gset
SELECT tenancy.create_administration(:cl_x, 'x-deleted', 'X deleted') AS a_x_deleted \gset
UPDATE tenancy.administration SET state = 'archived' WHERE id = :a_x_archived;
UPDATE tenancy.administration SET state = 'deleted' WHERE id = :a_x_deleted;
SELECT tenancy.grant_rights(:u_piet, :a_ops2, '{manage}') \gset

-- a refusal of request_migration as the caller sees it: SQLSTATE, message,
-- detail and hint, with the administration's id written as N
CREATE FUNCTION pg_temp.refusal(administration_id bigint, target bigint, scenario text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text;
	msg text;
	det text;
	hnt text;
BEGIN
	PERFORM tenancy.request_migration(administration_id, target, scenario);
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
	RETURN st || ': ' || replace(msg, administration_id::text, 'N') || ' / ' || det || ' / ' || hnt;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.refusal(bigint, bigint, text) TO regress_app;

-- 1. R16: the other firm requests the migration of its own dossier x to
-- Bakker; its own administrator learns why a second request is refused
SET ROLE regress_app;
SELECT tenancy.act_as(:u_other_admin) \gset
-- ok: source
SELECT tenancy.request_migration(:a_x, :c_cli, 'archive_and_transfer') AS m_x \gset
SELECT tenancy.request_migration(:a_x, :c_cli, 'archive_and_transfer');			-- fails: already open (its own)
:st
SELECT tenancy.request_migration(:a_x_archived, :c_cli, 'archive_and_transfer');	-- fails: archived (its own)
:st

-- 1a. a third firm's administrator names the other firm's dossiers as the
-- target (which the SPEC allows it to): every refusal is the refusal of an
-- unknown id, whether the dossier has an open migration, is archived or
-- deleted; only an active dossier without one could be asked for
SELECT tenancy.act_as(:u_tom) \gset
SELECT tenancy.request_migration(:a_x, :c_third, 'archive_and_transfer');			-- fails: not accessible
:st
SELECT dossier, pg_temp.refusal(id, :c_third, 'archive_and_transfer') AS refusal
  FROM (VALUES ('unknown id', 999999), ('open migration', :a_x),
			   ('archived', :a_x_archived), ('deleted', :a_x_deleted)) d(dossier, id)
 ORDER BY dossier COLLATE "C";											-- fails: four times the same 42501
-- a bad argument is refused before the dossier is looked at
SELECT dossier, pg_temp.refusal(id, :c_third, 'steal_it') AS refusal
  FROM (VALUES ('unknown id', 999999), ('open migration', :a_x)) d(dossier, id)
 ORDER BY dossier COLLATE "C";											-- fails: twice the same 22023
-- a firm that is neither source nor target: the same words
SELECT pg_temp.refusal(:a_x, :c_own, 'archive_and_transfer') AS refusal;	-- fails: 42501
SELECT tenancy.reset() \gset
RESET ROLE;
SELECT count(*) AS tom_requested FROM tenancy.migration WHERE requested_by = :u_tom;	-- 0

-- 2. R17: a dossier with an open migration does not move to another client
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
-- ok: source requests, approves, and the client (Piet, manage) approves
SELECT tenancy.request_migration(:a_ops2, :c_other, 'archive_and_transfer') AS m_ops2 \gset
SELECT tenancy.approve_migration(:m_ops2) \gset
SELECT tenancy.act_as(:u_piet) \gset
SELECT tenancy.approve_migration(:m_ops2) \gset
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.move_administration(:a_ops2, :cl_jansen, true);		-- fails: migration open
:st
SELECT tenancy.move_administration(:a_ops2, :cl_vries);				-- ok: its own client, nothing moves
RESET ROLE;
SELECT tenancy.move_administration(:a_ops2, :cl_jansen, true);		-- fails: for an operator too
:st
SELECT a.client_id = :cl_vries AS still_vries,
	   (SELECT count(*) FROM tenancy.permission p
		 WHERE p.administration_id = :a_ops2 AND p.user_id = :u_piet) AS piet_keeps_rights,
	   (SELECT state FROM tenancy.migration WHERE id = :m_ops2) AS migration
  FROM tenancy.administration a WHERE a.id = :a_ops2;					-- unchanged
-- once the migration is closed, the dossier moves
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.cancel_migration(:m_ops2) \gset
SELECT tenancy.move_administration(:a_ops2, :cl_jansen, true);		-- ok
SELECT tenancy.reset() \gset
RESET ROLE;
SELECT a.client_id = :cl_jansen AS moved_to_jansen FROM tenancy.administration a
 WHERE a.id = :a_ops2;

-- 3. R17, R18: a transfer carries the client's external users and their
-- rights into the target firm as the parties approved them (1.3 review).
-- Bakker's administrator makes a user of client vries with the address of
-- Otto, the other firm's own staff, and the migration is approved
SELECT tenancy.grant_rights(:u_piet, :a_ops1, '{manage}') \gset
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.add_user(:c_cli, 'otto@other.nl', 'external', :cl_vries) AS u_shadow \gset
SELECT tenancy.grant_rights(:u_shadow, :a_ops1, '{read,write,manage}') \gset
SELECT tenancy.request_migration(:a_ops1, :c_other, 'archive_and_transfer') AS m_ops1 \gset
SELECT tenancy.approve_migration(:m_ops1) \gset
SELECT tenancy.act_as(:u_piet) \gset
SELECT tenancy.approve_migration(:m_ops1) \gset
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.approve_migration(:m_ops1) \gset
-- approved: the source may not add a mailbox of its own to what moves;
-- internal staff, who are not carried, may still get rights
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.add_user(:c_cli, 'spy@bakker.nl', 'external', :cl_vries) AS u_spy \gset
SELECT tenancy.grant_rights(:u_spy, :a_ops1, '{read,write,manage}');	-- fails: migration open
:st
-- ok: internal staff are not carried
SELECT tenancy.grant_rights(:u_staff, :a_ops1, '{write}') \gset
-- the transfer gives the source's rights to no member of the target
-- firm's own staff: Otto would have held manage on the successor
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.transfer_migration(:m_ops1, :cl_x, 'ops1-new');		-- fails: Otto is staff there
:st
-- revoking stays open; then the transfer carries Piet alone.  The target
-- uses the dossier's code and its first archive code already: the archive
-- takes the next free one (a bare unique violation before)
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.revoke_rights(:u_shadow, :a_ops1) \gset
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.create_administration(:cl_x, 'vries-ops1', 'look-alike') \gset
SELECT tenancy.create_administration(:cl_x, 'vries-ops1.archived-' || :m_ops1, 'look-alike') \gset
SELECT tenancy.transfer_migration(:m_ops1, :cl_x, 'ops1-new') AS a_ops1_new \gset
SELECT tenancy.act_as(:u_other) \gset
SELECT count(*) AS otto_rights_on_successor FROM tenancy.my_rights() r
 WHERE r.administration_id = :a_ops1_new;								-- ok: 0
SELECT tenancy.reset() \gset
RESET ROLE;
SELECT code = 'vries-ops1.archived-' || :m_ops1 || '-2' AS archive_code_free
  FROM tenancy.administration WHERE id = :a_ops1;
SELECT u.kind, u.client_id = :cl_x AS under_x, p.can_manage
  FROM tenancy.permission p JOIN tenancy.users u ON u.id = p.user_id
 WHERE p.administration_id = :a_ops1_new ORDER BY u.id;				-- Piet alone, external under x
SELECT tenancy.verify_audit();

-- 4. R16, R20, R22: the other party's copy of an audit entry shows what
-- that party may see.  The target's copy of a migration leaves out the
-- source's client, whether that client had a user able to approve, and who
-- requested it at the source (the migrations view shows none of them to the
-- target; before, walking ids told Tom which of a firm's dossiers share a
-- client); the owner's copy of a delegation leaves out the delegate's
-- compartment (R20: the owner learns the delegate's id only); a copy for
-- another firm than the actor's does not name the acting user or account
-- (a client user approving several migrations linked their dossiers)
SELECT tenancy.create_administration(:cl_jansen, 'jansen-audit', 'Jansen audit') AS a_ja \gset
SET ROLE regress_app;
SELECT tenancy.act_as(:u_tom) \gset
SELECT tenancy.request_migration(:a_ja, :c_third, 'archive_and_transfer') > 0 AS requested;
SELECT e.action, e.user_id = :u_tom AS actor_named, e.after ? 'administration_id' AS dossier_shown,
	   e.after ? 'source_client_id' AS client_shown,							-- ok: f
	   e.after ? 'client_approver_at_request' AS approver_shown,				-- ok: f
	   e.after ? 'requested_by' AS requester_shown								-- ok: f
  FROM tenancy.audit_log e WHERE e.object_type = 'migration'
   AND (e.after ->> 'administration_id')::bigint = :a_ja;
SELECT tenancy.act_as(:u_admin) \gset
SELECT e.after ? 'source_client_id' AS client_shown,							-- ok: t, the source's own
	   e.after ? 'requested_by' AS requester_shown,								-- ok: f, in neither copy
	   e.user_id IS NULL AND e.account_id IS NULL AS actor_withheld				-- ok: t, Tom is of another firm
  FROM tenancy.audit_log e WHERE e.object_type = 'migration'
   AND (e.after ->> 'administration_id')::bigint = :a_ja;
-- the archive's move into the target firm (section 3): the target's log
-- shows the row before without the source's client (1.3 attack: it did)
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT e.before ? 'client_id' AS source_client_shown,					-- ok: f
	   (e.after ->> 'client_id')::bigint = :cl_x AS target_client_shown,	-- ok: t
	   (e.before ->> 'compartment_id')::bigint = :c_cli AS came_from_source	-- ok: t
  FROM tenancy.audit_log e
 WHERE e.object_type = 'administration' AND e.action = 'update'
   AND e.object_id = :'a_ops1' AND e.after ->> 'state' = 'archived'
   AND e.compartment_id = :c_other;
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.delegate(:a_hold, :u_tom, '{read}', now() + interval '1 month') > 0 AS delegated;
SELECT e.after ? 'to_user_id' AS delegate_shown,								-- ok: t
	   e.after ? 'to_compartment_id' AS delegate_firm_shown,					-- ok: f
	   e.user_id = :u_admin AS actor_named										-- ok: t
  FROM tenancy.audit_log e WHERE e.object_type = 'delegation';
SELECT tenancy.act_as(:u_tom) \gset
SELECT e.after ? 'to_compartment_id' AS own_firm_shown,						-- ok: t, the delegate's own
	   e.user_id IS NULL AND e.account_id IS NULL AS actor_withheld				-- ok: t, Anna is of another firm
  FROM tenancy.audit_log e WHERE e.object_type = 'delegation';
SELECT tenancy.reset() \gset
RESET ROLE;
SELECT tenancy.verify_audit();

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
