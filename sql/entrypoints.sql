--
-- entrypoints: R12 for everyone, R10, R13, R14, R20 -- every entry point
-- survives invalid OIDs and NULLs, refuses with one answer what the caller
-- may not tell apart, and says what happened and what to do
--
\i test/fixture.sql
CREATE ROLE regress_ep_bi LOGIN;
CREATE ROLE regress_ep_unbound LOGIN;

-- 1. invalid OIDs and NULLs reach protect() and unprotect() as errors, not
-- as a crash of the server
SELECT tenancy.unprotect(0::regclass);									-- fails: no such relation
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT tenancy.protect(0::regclass);									-- fails: no such relation
SELECT tenancy.protect(4294967295::oid::regclass);						-- fails: no such relation
SELECT tenancy.unprotect('pg_catalog.pg_class');						-- fails: system catalog
SELECT tenancy.unprotect('pg_catalog.pg_proc_oid_index');				-- fails: an index
SELECT tenancy.unprotect(NULL);											-- fails: null
SELECT tenancy.bind_reporting_login(0::regrole, :c_cli);				-- fails: no such role
SELECT tenancy.unbind_reporting_login(4294967295::oid::regrole);		-- fails: no such role
SELECT 1 AS still_connected;
-- an optional flag given as NULL is refused (22023), not taken for its
-- default, and nothing is made (1.3 attack: create_compartment stored
-- allow_external_users = true for NULL)
SELECT (SELECT count(*) FROM tenancy.compartment) AS compartments_before,
	   (SELECT count(*) FROM tenancy.users) AS users_before \gset
SELECT tenancy.create_compartment(1, 'nullflag', 'Null flag', NULL);		-- fails: null
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT tenancy.add_user(:c_cli, 'nullflag@example.com', 'internal', NULL, NULL);	-- fails: null
SELECT tenancy.move_administration(:a_jansen, :cl_jansen, NULL);		-- fails: null
CREATE TABLE public.nullflag (administration_id bigint NOT NULL);
SELECT tenancy.protect('public.nullflag', 'administration_id', NULL);	-- fails: null
SELECT count(*) - :compartments_before AS compartments_made,
	   (SELECT count(*) FROM tenancy.users) - :users_before AS users_made,
	   (SELECT count(*) FROM tenancy.protected_table WHERE relid = 'public.nullflag'::regclass) AS protected
  FROM tenancy.compartment;												-- ok: 0, 0, 0
DROP TABLE public.nullflag;

-- 2. R12 for everyone: the superuser (row security does not apply to it)
-- writes no row into an archived, deleted or unknown administration, with
-- INSERT, COPY or UPDATE, and deletes none of an archived one
UPDATE tenancy.administration SET state = 'archived' WHERE id = :a_ops2;
UPDATE tenancy.administration SET state = 'deleted' WHERE id = :a_jansen;
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
	VALUES (:a_ops2, '2026-02-01', 1, 'SU-ARCHIVED');					-- fails: archived
\echo sqlstate :LAST_ERROR_SQLSTATE
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
	VALUES (:a_jansen, '2026-02-01', 1, 'SU-DELETED');					-- fails: deleted
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
	VALUES (999, '2026-02-01', 1, 'SU-999');							-- fails: does not exist
\echo sqlstate :LAST_ERROR_SQLSTATE
COPY public.journal (administration_id, booked_on, amount, reference) FROM stdin;	-- fails: archived
3	2026-02-01	1	SU-COPY-ARCHIVED
\.
COPY public.journal (administration_id, booked_on, amount, reference) FROM stdin;	-- fails: does not exist
999	2026-02-01	1	SU-COPY-999
\.
UPDATE public.journal SET reference = reference || '!'
 WHERE administration_id = :a_ops2;									-- fails: archived
UPDATE public.journal SET administration_id = :a_hold
 WHERE administration_id = :a_ops2;									-- fails: moved out of the archive
UPDATE public.journal SET administration_id = :a_ops2
 WHERE administration_id = :a_hold;									-- fails: moved into the archive
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
	VALUES (:a_hold, '2026-02-01', 1, 'SU-ACTIVE') RETURNING reference;	-- ok: active
-- only a restore in replica mode writes them (the triggers do not fire)
SET session_replication_role = replica;
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
	VALUES (:a_ops2, '2026-02-01', 1, 'RESTORED') RETURNING reference;	-- ok: a restore
RESET session_replication_role;
SELECT reference FROM public.journal WHERE reference LIKE 'SU-%' OR reference = 'RESTORED'
 ORDER BY reference COLLATE "C";
-- nor does the superuser delete rows of the archive
DELETE FROM public.journal WHERE reference = 'RESTORED';				-- fails: archived
DELETE FROM public.journal WHERE reference = 'SU-ACTIVE';				-- ok: active
SET session_replication_role = replica;
DELETE FROM public.journal WHERE reference = 'RESTORED';				-- ok: replica mode
RESET session_replication_role;
UPDATE tenancy.administration SET state = 'active' WHERE id IN (:a_ops2, :a_jansen);

-- 3. R13: an administrator cannot disable itself; enable_user undoes
-- disable_user, for the same callers
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
SELECT tenancy.disable_user(:u_admin);									-- fails: itself
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT tenancy.disable_user(:u_staff);									-- ok
SELECT tenancy.act_as(:u_staff);										-- fails: disabled, hint names enable_user
SELECT tenancy.act_as(:u_admin);
SELECT tenancy.enable_user(:u_staff);									-- ok
SELECT tenancy.enable_user(:u_other);									-- fails: another firm's user
SELECT tenancy.enable_user(NULL);										-- fails: null
SELECT tenancy.act_as(:u_staff);										-- ok: enabled again
SELECT tenancy.enable_user(:u_staff);									-- fails: not an administrator
SELECT tenancy.reset();
RESET ROLE;
SET ROLE regress_plain;
SELECT tenancy.enable_user(:u_staff);									-- fails: not granted
RESET ROLE;
SET ROLE regress_operator;
SELECT tenancy.disable_user(:u_admin);									-- ok: an operator may
SELECT tenancy.enable_user(:u_admin);									-- ok
RESET ROLE;
SELECT id, disabled FROM tenancy.users WHERE id IN (:u_admin, :u_staff) ORDER BY id;

-- 4. a disabled administrator is told it is disabled, not that it is no
-- administrator
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
RESET ROLE;
UPDATE tenancy.users SET disabled = true WHERE id = :u_admin;
SET ROLE regress_app;
SELECT tenancy.delegate(:a_hold, :u_other, '{read}', now() + interval '1 month');	-- fails: disabled
SELECT tenancy.create_client(:c_cli, 'z', 'Z');						-- fails: disabled
SELECT tenancy.reset();
RESET ROLE;
UPDATE tenancy.users SET disabled = false WHERE id = :u_admin;

-- 5. an administrator passing a wrong id is told that the object does not
-- exist or is not accessible, and to check the id
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
SELECT tenancy.grant_rights(999999, :a_hold, '{read}');				-- fails: no such user
SELECT tenancy.create_administration(:cl_x, 'z', 'Z');					-- fails: another firm's client
-- an explicit NULL: which argument, and that it needs a value
SELECT tenancy.add_user(:c_cli, NULL, 'internal');						-- fails: null e-mail
SELECT tenancy.grant_rights(:u_staff, NULL, '{read}');				-- fails: null administration

-- 6. R10: codes are unique case-insensitively in their scope
SELECT tenancy.create_client(:c_cli, 'VRIES', 'look-alike');			-- fails: beside vries
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT tenancy.create_administration(:cl_jansen, 'Vries-Hold', 'look-alike');	-- fails: beside vries-hold
SELECT tenancy.create_client(:c_cli, 'K1', 'K one') AS cl_k1 \gset
SELECT tenancy.create_client(:c_cli, 'k1', 'k one');					-- fails: beside K1
SELECT tenancy.reset();
RESET ROLE;
SELECT tenancy.create_compartment(:sub_bakker, 'BK-OWN', 'look-alike');	-- fails: beside bk-own
SELECT tenancy.create_client(:c_other, 'VRIES', 'another firm') > 0 AS created;	-- ok: another compartment
-- the unique indexes hold for the owner's plain INSERT too
INSERT INTO tenancy.client (compartment_id, code, name) VALUES (:c_cli, 'Jansen', 'x');	-- fails
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS definition
  FROM pg_index WHERE indexrelid::regclass::text LIKE '%code_lower_key'
 ORDER BY 1::text COLLATE "C";

-- 7. R10: e-mail addresses are ASCII after trimming, and one address
SELECT count(*) AS accounts_before FROM tenancy.account \gset
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
SELECT tenancy.add_user(:c_cli, 'jp@example.nl;', 'internal');			-- fails: ";"
SELECT tenancy.add_user(:c_cli, 'аnna@bakker.nl', 'internal');			-- fails: Cyrillic "а"
SELECT tenancy.add_user(:c_cli, 'a@b.nl, c@d.nl', 'internal');			-- fails: two addresses
SELECT tenancy.add_user(:c_cli, '<jp@example.nl>', 'internal');		-- fails: angle brackets
SELECT tenancy.add_user(:c_cli, 'jp.@example.nl', 'internal');			-- fails: dot at the end of the local part
SELECT tenancy.add_user(:c_cli, 'jp@-example.nl', 'internal');			-- fails: label starts with a hyphen
SELECT tenancy.add_user(:c_cli, 'jp@localhost', 'internal');			-- fails: one label
SELECT tenancy.add_user(:c_cli, '  J.P+books@Example-Firm.NL ', 'internal') > 0 AS added;	-- ok
SELECT tenancy.reset();
RESET ROLE;
SELECT count(*) - :accounts_before AS accounts_added FROM tenancy.account;
SELECT tenancy.email_is_valid(e) AS valid, e
  FROM unnest(ARRAY['jp@example.nl;', 'jp@example.nl', 'o''brien@x.ie', 'a..b@x.nl',
					'a@x..nl', 'a@x.nl.']) e ORDER BY e COLLATE "C";

-- 8. R14: unbind_reporting_login gives one answer for a role that is not
-- bound and for one bound in another firm's compartment
SELECT tenancy.bind_reporting_login('regress_ep_bi', :c_other);
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
SELECT tenancy.unbind_reporting_login('regress_ep_bi');				-- fails: bound in another firm
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT tenancy.unbind_reporting_login('regress_ep_unbound');			-- fails: not bound, same answer
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT tenancy.bind_reporting_login('regress_ep_bi', :c_cli);			-- fails: bound in another firm
SELECT tenancy.reset();
RESET ROLE;
-- an operator sees everything, and is told which
SET ROLE regress_operator;
SELECT tenancy.unbind_reporting_login('regress_ep_unbound');			-- fails: not a reporting login
SELECT tenancy.unbind_reporting_login('regress_ep_bi');				-- ok
RESET ROLE;

-- 9. R20: delegate gives one answer for an unknown user, a disabled user
-- and a user of the administration's own compartment
UPDATE tenancy.users SET disabled = true WHERE id = :u_other;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
SELECT tenancy.delegate(:a_hold, 999999, '{read}', now() + interval '1 month');	-- fails: unknown
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT tenancy.delegate(:a_hold, :u_other, '{read}', now() + interval '1 month');	-- fails: disabled, same answer
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT tenancy.delegate(:a_hold, :u_staff, '{read}', now() + interval '1 month');	-- fails: own compartment, same answer
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT tenancy.delegate(:a_hold, :u_other_admin, '{read}', now() + interval '1 month') > 0 AS delegated;	-- ok
SELECT tenancy.reset();
RESET ROLE;
UPDATE tenancy.users SET disabled = false WHERE id = :u_other;

SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
RESET client_min_messages;

-- 10. R10 on update: a 1.2 catalog holding codes that differ only in case,
-- or an address that 1.3 refuses (written while the library still took
-- it: here by dropping the CHECK), stops the update to 1.3 before anything
-- changed, and says what to correct
CREATE EXTENSION tenancy VERSION '1.2';
SELECT tenancy.create_subscription('S') AS sub \gset
SELECT tenancy.create_compartment(:sub, 'cmp', 'C') AS cmp \gset
SELECT tenancy.create_client(:cmp, 'K1', 'K one') > 0 AS created;
INSERT INTO tenancy.client (compartment_id, code, name) VALUES (:cmp, 'k1', 'k one');	-- ok: 1.2 allowed it
ALTER TABLE tenancy.account DROP CONSTRAINT account_email_check;
INSERT INTO tenancy.account (email) VALUES ('jp@example.nl;');
ALTER EXTENSION tenancy UPDATE TO '1.3';								-- fails: look-alikes, bad address
SELECT extversion FROM pg_extension WHERE extname = 'tenancy';
UPDATE tenancy.client SET code = 'k1-b' WHERE code = 'k1';
UPDATE tenancy.account SET email = 'jp@example.nl' WHERE email = 'jp@example.nl;';
ALTER EXTENSION tenancy UPDATE TO '1.3';								-- ok
SELECT extversion FROM pg_extension WHERE extname = 'tenancy';

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP ROLE regress_ep_bi, regress_ep_unbound;
