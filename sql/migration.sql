--
-- migration: R16, R17, R18, R19, R21, R22 -- an administration changes firm
-- through an approved, audited state machine
--
\i test/fixture.sql
-- after each refusal, :st prints its SQLSTATE
\set st '\\echo SQLSTATE :LAST_ERROR_SQLSTATE'
\set SHOW_CONTEXT never

-- setup: a second administrator at Bakker (bert), Anna also administers the
-- other firm (one person, one account, two users), a client "vries" at the
-- other firm, Piet may manage the holding's books, and a table of bank links
-- that a migration does not carry (R18)
SELECT tenancy.add_user(:c_cli, 'bert@bakker.nl', 'internal', NULL, true) AS u_bert \gset
SELECT tenancy.add_user(:c_other, 'anna@bakker.nl', 'internal', NULL, true) AS u_anna_other \gset
SELECT tenancy.create_client(:c_other, 'vries', 'de Vries Holding') AS cl_other_vries \gset
SELECT tenancy.grant_rights(:u_piet, :a_hold, '{manage}') \gset
SET client_min_messages = warning;
DROP TABLE IF EXISTS public.bank_link;
RESET client_min_messages;
SET ROLE regress_owner;
CREATE TABLE public.bank_link (
	id bigserial PRIMARY KEY,
	administration_id bigint NOT NULL,
	iban text NOT NULL
);
CREATE INDEX bank_link_administration_idx ON public.bank_link (administration_id);
SELECT tenancy.protect('public.bank_link', carry_on_migration => false) \gset
GRANT SELECT, INSERT, UPDATE, DELETE ON public.bank_link TO regress_app;
RESET ROLE;
INSERT INTO public.bank_link (administration_id, iban)
SELECT a.id, 'NL00BANK' || a.id || g FROM tenancy.administration a, generate_series(1, 2) g;

-- what one user sees of the holding's books and bank links
CREATE FUNCTION pg_temp.sees(user_id bigint, administration_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	j bigint;
	b bigint;
BEGIN
	PERFORM tenancy.act_as(user_id);
	SELECT count(*) INTO j FROM public.journal l WHERE l.administration_id = sees.administration_id;
	SELECT count(*) INTO b FROM public.bank_link l WHERE l.administration_id = sees.administration_id;
	PERFORM tenancy.reset();
	RETURN j || ' journal lines, ' || b || ' bank links';
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.sees(bigint, bigint) TO regress_app;

-- 1. R16: a migration is requested by an administrator of the source or the
-- target compartment, for one active administration, with a scenario
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
-- ok: source
SELECT tenancy.request_migration(:a_hold, :c_other, 'archive_and_transfer') AS m1 \gset
SELECT :m1 AS m1;
SELECT tenancy.request_migration(:a_hold, :c_other, 'archive_and_transfer');	-- fails: already open
:st
SELECT tenancy.request_migration(:a_ops1, :c_other, 'move_everything');	-- fails: scenario
:st
SELECT tenancy.request_migration(:a_ops1, :c_cli, 'export_and_delete');	-- fails: target is source
:st
SELECT tenancy.request_migration(:a_ops1, 999999, 'export_and_delete');	-- fails: unknown target
:st
SELECT tenancy.request_migration(999999, :c_other, 'export_and_delete');	-- fails: unknown administration
:st
SELECT tenancy.request_migration(:a_x, :c_noext, 'export_and_delete');	-- fails: no party (same words)
:st
SELECT tenancy.request_migration(NULL, :c_other, 'export_and_delete');	-- fails: null
:st
SELECT tenancy.act_as(:u_staff) \gset
SELECT tenancy.request_migration(:a_ops1, :c_other, 'export_and_delete');	-- fails: not an administrator
:st
SELECT tenancy.act_as(:u_other_admin) \gset
-- ok: target
SELECT tenancy.request_migration(:a_jansen, :c_other, 'export_and_delete') AS m2 \gset
SELECT tenancy.reset() \gset
SELECT tenancy.request_migration(:a_ops1, :c_other, 'export_and_delete');	-- fails: no identity
:st
RESET ROLE;

-- 2. who sees which migration: the parties' compartments; external users
-- only their own client's; the target learns the administration's code and
-- name once the source has approved
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT migration_id, administration_code, scenario, state, my_side, approvals, awaiting, next_steps
  FROM tenancy.migrations ORDER BY migration_id;							-- ok: Anna (source) sees both
SELECT tenancy.act_as(:u_other) \gset
SELECT migration_id, administration_code, state, my_side FROM tenancy.migrations ORDER BY migration_id;	-- ok: target, codes hidden
SELECT tenancy.act_as(:u_piet) \gset
SELECT migration_id, administration_code, state FROM tenancy.migrations ORDER BY migration_id;	-- ok: Piet sees his client's only
SELECT tenancy.act_as(:u_own_admin) \gset
SELECT count(*) AS bk_own_sees FROM tenancy.migrations;						-- ok: 0, no party
SELECT tenancy.approve_migration(:m1);										-- fails: no party (same words as unknown)
:st
SELECT tenancy.approve_migration(999999);									-- fails: unknown
:st
RESET ROLE;

-- 3. R17: three approvals, the party derived from the identity
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan) \gset
SELECT tenancy.approve_migration(:m2);										-- fails: Jan holds no manage
:st
SELECT tenancy.act_as(:u_staff) \gset
SELECT tenancy.approve_migration(:m1);										-- fails: staff is no party
:st
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.approve_migration(:m1);										-- ok: source
SELECT tenancy.approve_migration(:m1);										-- fails: source approved already
:st
SELECT tenancy.act_as(:u_anna_other) \gset
SELECT tenancy.approve_migration(:m1);										-- fails: Anna's account approved for the source
:st
SELECT tenancy.act_as(:u_bert) \gset
SELECT tenancy.approve_migration(:m1, 'letter 2026-03-01');				-- fails: the client has a user who approves
:st
SELECT tenancy.act_as(:u_piet) \gset
SELECT tenancy.approve_migration(:m1, 'my letter');						-- fails: the client's user gives no reference
:st
SELECT tenancy.approve_migration(:m1);										-- ok: client, through Piet (manage)
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.approve_migration(:m1, 'ref');								-- fails: the target gives no reference
:st
SELECT migration_id, administration_code, state, approvals, awaiting FROM tenancy.migrations
 WHERE migration_id = :m1;													-- ok: the target now knows what moves
SELECT tenancy.approve_migration(:m1);										-- ok: target; approved
SELECT tenancy.approve_migration(:m1);										-- fails: approved is no state to approve in
:st
-- the client of m2 (Jansen) has no user holding manage: a source
-- administrator records its written consent, with a reference
SELECT tenancy.approve_migration(:m2);										-- ok: target
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.approve_migration(:m2);										-- ok: source
SELECT tenancy.act_as(:u_bert) \gset
SELECT tenancy.approve_migration(:m2);										-- fails: the reference is required
:st
SELECT tenancy.approve_migration(:m2, '   ');								-- fails: empty reference
:st
SELECT tenancy.approve_migration(:m2, 'letter Jansen BV 2026-03-02');		-- ok: client, by consent
SELECT tenancy.act_as(:u_admin) \gset
SELECT migration_id, state, approvals, awaiting, consent_reference, next_steps
  FROM tenancy.migrations ORDER BY migration_id;
RESET ROLE;

-- 4. R21: state, approvals and history change only through the functions,
-- not even for the superuser who owns the tables
UPDATE tenancy.migration SET state = 'completed' WHERE id = :m1;			-- fails
:st
DELETE FROM tenancy.migration_approval WHERE migration_id = :m1;			-- fails
:st
UPDATE tenancy.migration_history SET step = 'x';							-- fails
:st
DELETE FROM tenancy.migration_history;										-- fails
:st
TRUNCATE tenancy.migration_approval;										-- fails
:st
SET ROLE regress_app;
INSERT INTO tenancy.migration_approval (migration_id, party, compartment_id, user_id, account_id)
VALUES (:m1, 'client', :c_cli, :u_piet, 1);									-- fails: no privilege
:st
RESET ROLE;
SELECT m.id, m.state, count(p.*) AS approvals FROM tenancy.migration m
  LEFT JOIN tenancy.migration_approval p ON p.migration_id = m.id
 GROUP BY m.id ORDER BY m.id;												-- unchanged

-- 5. R18: archive_and_transfer
-- before: Bakker's staff and Piet see the holding's books, the other firm nothing
SET ROLE regress_app;
SELECT pg_temp.sees(:u_staff, :a_hold) AS sam_before, pg_temp.sees(:u_piet, :a_hold) AS piet_before,
	   pg_temp.sees(:u_other, :a_hold) AS otto_before;
RESET ROLE;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.transfer_migration(:m1, :cl_vries, 'dvh');					-- fails: the target transfers
:st
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.transfer_migration(:m1, :cl_vries, 'dvh');					-- fails: client of the source
:st
SELECT tenancy.transfer_migration(:m1, :cl_other_vries, 'x');				-- fails: code in use
:st
SELECT tenancy.transfer_migration(:m1, :cl_other_vries, 'bad code');		-- fails: invalid code
:st
SELECT tenancy.transfer_migration(:m2, :cl_other_vries, 'jansen');			-- fails: export_and_delete
:st
SELECT tenancy.transfer_migration(:m1, NULL, 'dvh');						-- fails: null
:st
-- ok
SELECT tenancy.transfer_migration(:m1, :cl_other_vries, 'vries-hold') AS a_successor \gset
SELECT migration_id, administration_code, state, next_steps,
	   successor_administration_id = :a_successor AS linked, report
  FROM tenancy.migrations WHERE migration_id = :m1;
SELECT tenancy.cancel_migration(:m1);										-- fails: completed is final
:st
RESET ROLE;
SELECT id, compartment_id = :c_other AS at_other, client_id = :cl_other_vries AS under_vries,
	   code, state FROM tenancy.administration WHERE id IN (:a_hold, :a_successor) ORDER BY id;
-- the client's external user is carried over: same account, user of the
-- target client, same rights on the archive and on the successor
SELECT u.kind, u.client_id = :cl_other_vries AS target_client, p.administration_id = :a_hold AS archive,
	   p.can_read, p.can_write, p.can_submit, p.can_manage
  FROM tenancy.users u JOIN tenancy.permission p ON p.user_id = u.id
 WHERE u.compartment_id = :c_other
   AND u.account_id = (SELECT account_id FROM tenancy.users WHERE id = :u_piet)
 ORDER BY p.administration_id;
SELECT u.id AS u_piet_other FROM tenancy.users u
 WHERE u.compartment_id = :c_other
   AND u.account_id = (SELECT account_id FROM tenancy.users WHERE id = :u_piet) \gset
SELECT count(*) AS source_permissions_left FROM tenancy.permission p
  JOIN tenancy.users u ON u.id = p.user_id
 WHERE p.administration_id = :a_hold AND u.compartment_id = :c_cli;
-- after: Bakker sees nothing of it; Piet, at the other firm, reads the
-- archive; its bank links were not carried
SET ROLE regress_app;
SELECT pg_temp.sees(:u_staff, :a_hold) AS sam_after, pg_temp.sees(:u_piet, :a_hold) AS piet_old_user,
	   pg_temp.sees(:u_piet_other, :a_hold) AS piet_at_target;
RESET ROLE;
SELECT count(*) AS bank_links_left FROM public.bank_link WHERE administration_id = :a_hold;
SELECT count(*) AS journal_lines_kept FROM public.journal WHERE administration_id = :a_hold;
-- R12: the archive is read-only, for Piet's write right too
SET ROLE regress_app;
SELECT tenancy.act_as(:u_piet_other) \gset
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
VALUES (:a_hold, '2026-04-01', 1, 'late');									-- fails: archived
:st
SELECT tenancy.act_as(:u_piet) \gset
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
VALUES (:a_hold, '2026-04-01', 1, 'late');									-- fails: gone from Bakker
:st
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.request_migration(:a_hold, :c_cli, 'archive_and_transfer');	-- fails: archived
:st
-- the target firm's users with rights on the successor read the archive
SELECT tenancy.grant_rights(:u_other, :a_successor, '{read,write}') \gset
RESET ROLE;
SET ROLE regress_app;
SELECT pg_temp.sees(:u_other, :a_hold) AS otto_reads_archive;
-- a complete load gives the same (R18, R12): otto's permissions merged from
-- the index scans, the archive he reads by the rule appended; Piet's own
-- permission on the archive and the rule's read of it make one entry
SELECT tenancy.act_as(:u_other) \gset
SELECT tenancy.visible_administrations('read') = ARRAY[:a_hold, :a_x, :a_successor]::bigint[] AS otto_reads,	-- ok: t
	   tenancy.visible_administrations('write') = ARRAY[:a_x, :a_successor]::bigint[] AS otto_writes;		-- ok: t, not the archive
SELECT tenancy.act_as(:u_piet_other) \gset
SELECT administration_id = :a_hold AS archive, rights FROM tenancy.my_rights() ORDER BY administration_id;	-- ok: archive read only, successor
SELECT tenancy.reset() \gset
RESET ROLE;

-- 6. R19: export_and_delete: export, delete at the source, only then activate
SET ROLE regress_app;
SELECT pg_temp.sees(:u_jan, :a_jansen) AS jan_before;
RESET ROLE;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.activate_at_target(:m2, :cl_x, 'jansen');					-- fails: not deleted yet
:st
SELECT tenancy.confirm_export(:m2);											-- fails: the source confirms
:st
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.delete_at_source(:m2);										-- fails: not exported yet
:st
SELECT tenancy.confirm_export(:m2);											-- ok
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.activate_at_target(:m2, :cl_x, 'jansen');					-- fails: still not deleted
:st
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.delete_at_source(:m2);										-- ok
SELECT state, report FROM tenancy.migrations WHERE migration_id = :m2;
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.activate_at_target(:m2, :cl_x, 'x');							-- fails: code in use
:st
SELECT tenancy.activate_at_target(:m2, :cl_jansen, 'jansen');				-- fails: client of the source
:st
-- ok
SELECT tenancy.activate_at_target(:m2, :cl_x, 'jansen') AS a_jansen_new \gset
SELECT state, next_steps, successor_administration_id = :a_jansen_new AS linked
  FROM tenancy.migrations WHERE migration_id = :m2;
RESET ROLE;
SELECT id = :a_jansen AS old, compartment_id = :c_cli AS at_bakker, state
  FROM tenancy.administration WHERE id IN (:a_jansen, :a_jansen_new) ORDER BY id;
SELECT count(*) AS jansen_rows_left FROM public.journal WHERE administration_id = :a_jansen;
SET ROLE regress_app;
SELECT pg_temp.sees(:u_jan, :a_jansen) AS jan_after;
RESET ROLE;

-- 7. R17: reject (any party, with a reason) and cancel (the requester's side)
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.request_migration(:a_ops1, :c_other, 'archive_and_transfer') AS m3 \gset
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.cancel_migration(:m3);										-- fails: not the requester's side
:st
SELECT tenancy.reject_migration(:m3, ' ');									-- fails: empty reason
:st
SELECT tenancy.act_as(:u_other) \gset
SELECT tenancy.reject_migration(:m3, 'no');									-- fails: staff is no party
:st
SELECT tenancy.act_as(:u_piet) \gset
SELECT tenancy.reject_migration(:m3, 'we stay');							-- fails: Piet holds no manage on ops1
:st
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.reject_migration(:m3, 'we do not take this client');		-- ok: target rejects
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.approve_migration(:m3);										-- fails: rejected is final
:st
-- ok: the last one is closed
SELECT tenancy.request_migration(:a_ops1, :c_other, 'export_and_delete') AS m4 \gset
SELECT tenancy.approve_migration(:m4) \gset
SELECT tenancy.act_as(:u_bert) \gset
SELECT tenancy.cancel_migration(:m4);										-- ok: administrator of the requesting compartment
SELECT migration_id, state, reason, next_steps FROM tenancy.migrations
 WHERE migration_id IN (:m3, :m4) ORDER BY migration_id;
RESET ROLE;

-- 8. R21, R22: every step is in the history and in both firms' audit logs
SET ROLE regress_app;
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT migration_id, step, from_state, to_state, party FROM tenancy.migration_steps
 ORDER BY step_no;
SELECT object_type, action, count(*) FROM tenancy.audit_log
 WHERE object_type LIKE 'migration%' GROUP BY 1, 2 ORDER BY object_type COLLATE "C", action COLLATE "C";
SELECT tenancy.act_as(:u_own_admin) \gset
SELECT count(*) AS bk_own_migration_entries FROM tenancy.audit_log WHERE object_type LIKE 'migration%';
RESET ROLE;
SELECT tenancy.verify_audit();
-- operators see every migration, but take no step: they are no party
SET ROLE regress_operator;
SELECT count(*) AS operator_sees FROM tenancy.migrations;
RESET ROLE;
SELECT tenancy.migration_next_steps('approved', 'archive_and_transfer') AS from_approved,
	   tenancy.migration_next_steps('exported', 'export_and_delete') AS from_exported,
	   tenancy.migration_next_steps('completed', 'export_and_delete') AS from_completed;
SELECT tenancy.migration_next_steps('bogus', 'export_and_delete');		-- fails: no such state
SELECT tenancy.migration_next_steps('approved', 'bogus');				-- fails: no such scenario

-- 9. R17: the source cannot take the client's voice by first revoking the
-- right of the client's own approver
SELECT tenancy.grant_rights(:u_piet, :a_ops2, '{manage}') \gset
SET ROLE regress_app;
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.request_migration(:a_ops2, :c_other, 'export_and_delete') AS m5 \gset
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.revoke_rights(:u_piet, :a_ops2, '{manage}') \gset
SELECT tenancy.approve_migration(:m5) \gset
SELECT tenancy.act_as(:u_bert) \gset
SELECT tenancy.approve_migration(:m5, 'letter of our own');				-- fails: the client had an approver
:st
RESET ROLE;

-- 10. R6, R7, R22: a migration removes rows as each table's owner with row
-- security standing aside; a trigger of the owner's that the removal fires
-- would run so too, reading and writing every firm's rows outside the
-- audit log (before 1.3's last attack it did).  It is refused at the
-- request (and again before the removal); disabled, it does not fire.
SET ROLE regress_owner;
CREATE TABLE public.loot (n bigint);
CREATE FUNCTION public.bank_link_spy() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN INSERT INTO public.loot SELECT count(*) FROM public.journal; RETURN NULL; END $$;
CREATE TRIGGER bank_link_spy AFTER DELETE ON public.bank_link
	FOR EACH STATEMENT EXECUTE FUNCTION public.bank_link_spy();
RESET ROLE;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.request_migration(:a_ops1, :c_other, 'archive_and_transfer');	-- fails: the owner's trigger
:st
RESET ROLE;
SET ROLE regress_owner;
ALTER TABLE public.bank_link DISABLE TRIGGER bank_link_spy;
RESET ROLE;
-- a row trigger on a partition fires for the DELETE on its table too
SET ROLE regress_owner;
CREATE TABLE public.bank_card (administration_id bigint NOT NULL, card text)
	PARTITION BY LIST (administration_id);
CREATE TABLE public.bank_card_rest PARTITION OF public.bank_card DEFAULT;
SELECT tenancy.protect('public.bank_card', carry_on_migration => false) \gset
CREATE TRIGGER bank_card_spy AFTER DELETE ON public.bank_card_rest
	FOR EACH ROW EXECUTE FUNCTION public.bank_link_spy();
RESET ROLE;
SET ROLE regress_app;
SELECT tenancy.request_migration(:a_ops1, :c_other, 'archive_and_transfer');	-- fails: the partition's trigger
:st
RESET ROLE;
SET ROLE regress_owner;
DROP TABLE public.bank_card;
-- and so does a trigger on a table that a foreign key's ON DELETE CASCADE
-- reaches from a removed table: PostgreSQL runs the cascade as that table's
-- owner with row security off too (found by the review of the fix)
ALTER TABLE public.bank_link ADD UNIQUE (administration_id, id);
CREATE TABLE public.bank_note (administration_id bigint NOT NULL, link_id bigint, note text);
SELECT tenancy.protect('public.bank_note') \gset
ALTER TABLE public.bank_note ADD FOREIGN KEY (administration_id, link_id)
	REFERENCES public.bank_link (administration_id, id) ON DELETE CASCADE;
CREATE TRIGGER bank_note_spy AFTER DELETE ON public.bank_note
	FOR EACH STATEMENT EXECUTE FUNCTION public.bank_link_spy();
RESET ROLE;
SET ROLE regress_app;
SELECT tenancy.request_migration(:a_ops1, :c_other, 'archive_and_transfer');	-- fails: the cascade's trigger
:st
RESET ROLE;
SET ROLE regress_owner;
DROP TABLE public.bank_note;
RESET ROLE;
SET ROLE regress_app;
SELECT tenancy.request_migration(:a_ops1, :c_other, 'archive_and_transfer') IS NOT NULL AS requested;	-- ok: disabled
SELECT tenancy.cancel_migration(migration_id) FROM tenancy.migrations
 WHERE administration_id = :a_ops1 AND state = 'requested';
RESET ROLE;
SELECT count(*) AS loot_rows FROM public.loot;
DROP TABLE public.loot;

-- 11. R18, R10: the client's external users (piet holds rights on ops1) cannot
-- be carried into a compartment that forbids them: refused at the target's
-- approval, not after all three parties have signed (1.3 attack); the
-- source's request is accepted, since its refusal would tell the source
-- how another firm's compartment is set (1.3 review)
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.request_migration(:a_ops1, :c_noext, 'archive_and_transfer') AS m_noext \gset
RESET ROLE;
SELECT tenancy.add_user(:c_noext, 'boss@noext.example', 'internal', NULL, true) AS u_noext_admin \gset
SET ROLE regress_app;
SELECT tenancy.act_as(:u_noext_admin) \gset
SELECT tenancy.approve_migration(:m_noext);							-- fails: external users
:st
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.cancel_migration(:m_noext);								-- ok
RESET ROLE;

-- cleanup
DROP TABLE public.bank_link;
DROP FUNCTION public.bank_link_spy();
