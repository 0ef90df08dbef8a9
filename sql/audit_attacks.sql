--
-- audit_attacks: R22 -- the audit log holds against an attacker: it says who
-- (the login as well as the role), when (the time of the change, never
-- decreasing along the chain), its hash covers every field unambiguously
-- (the entry's id included), and a head published outside the database
-- finds a log cut back or rewritten.  Entries written before 1.3 keep
-- verifying after the update.  The attacker is a superuser who disables the
-- append-only trigger; every attack is rolled back.
--
\i test/fixture.sql
-- after each refusal, :st prints its SQLSTATE
\set st '\\echo SQLSTATE :LAST_ERROR_SQLSTATE'
\set SHOW_CONTEXT never

-- the last entry's id, and whether times ever go back along the chain
CREATE FUNCTION pg_temp.last_entry() RETURNS bigint
LANGUAGE sql AS 'SELECT max(id) FROM tenancy.audit_entry';
-- the attacker: a superuser who switches the append-only trigger off for
-- one statement; returns what verify_audit() says afterwards
-- ($1 in the statement is the entry's id)
CREATE FUNCTION pg_temp.tamper(stmt text, entry bigint) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	ALTER TABLE tenancy.audit_entry DISABLE TRIGGER audit_append_only;
	EXECUTE stmt USING entry;
	ALTER TABLE tenancy.audit_entry ENABLE TRIGGER audit_append_only;
	RETURN tenancy.verify_audit();
END
$$;
CREATE FUNCTION pg_temp.time_goes_back() RETURNS boolean
LANGUAGE sql AS $$
	SELECT coalesce(bool_or(x.at < x.prev_at), false)
	  FROM (SELECT e.at, lag(e.at) OVER (ORDER BY e.id) AS prev_at
			  FROM tenancy.audit_entry e) x
$$;

-- 1. who: an operator login that switched to tenancy_admin is recorded as
-- both; the application's login as well as the user it acts as
SET SESSION AUTHORIZATION regress_operator;
SET ROLE tenancy_admin;
SELECT tenancy.create_client(:c_other, 'who', 'Who BV') AS cl_who \gset
RESET ROLE;
RESET SESSION AUTHORIZATION;
SELECT db_role, login, account_id IS NULL AS no_account
  FROM tenancy.audit_log
 WHERE object_type = 'client' AND object_id = :'cl_who';			-- tenancy_admin, regress_operator
SET SESSION AUTHORIZATION regress_app;
SELECT tenancy.act_as(:u_admin) \gset
-- ok
SELECT tenancy.grant_rights(:u_staff, :a_ops2, '{read}') \gset
SELECT tenancy.reset() \gset
RESET SESSION AUTHORIZATION;
SELECT db_role, login, user_id = :u_admin AS acting_as_admin
  FROM tenancy.audit_log WHERE id = pg_temp.last_entry();			-- regress_app twice, anna
-- the login is in the view, for the firm's administrator too
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT login FROM tenancy.audit_log
 WHERE object_type = 'permission' AND object_id = :u_staff || '/' || :a_ops2;	-- ok: regress_app
SELECT tenancy.reset() \gset
RESET ROLE;

-- 2. when: an entry carries the time of the change, not of its
-- transaction's start (pg_sleep stands for a slow application)
BEGIN;
SELECT pg_sleep(0.3);
SELECT tenancy.revoke_rights(:u_staff, :a_ops2);
SELECT at - now() >= interval '0.3 s' AS stamped_at_the_change,
	   at <= clock_timestamp() AS not_in_the_future
  FROM tenancy.audit_entry WHERE id = pg_temp.last_entry();		-- true, true
COMMIT;
SELECT pg_temp.time_goes_back();									-- false
-- (two sessions, an entry committed after a later-started one:
-- test/isolation/specs/audit_order.spec)

-- 3. the hash covers every field, unambiguously
SELECT tenancy.verify_audit();										-- ok
SELECT id AS victim FROM tenancy.audit_entry
 WHERE object_type = 'client' AND object_id = :'cl_who' \gset
SELECT account_id IS NULL AND compartment_id = :c_other AS in_other_firms_log
  FROM tenancy.audit_entry WHERE id = :victim;						-- true
-- 3a. the attack of 1.2: move compartment_id into account_id; 1.2's formula
-- (concat_ws drops NULLs) hashed both rows alike, this one does not
SELECT tenancy.audit_hash(prev_hash, at, db_role, compartment_id, NULL, NULL, action,
						  object_type, object_id, before, after)
	   = tenancy.audit_hash(prev_hash, at, db_role, NULL, NULL, compartment_id, action,
							object_type, object_id, before, after) AS old_formula_blind,
	   tenancy.audit_hash_v2(id, prev_hash, at, db_role, login, compartment_id, NULL, NULL,
							 action, object_type, object_id, before, after)
	   = tenancy.audit_hash_v2(id, prev_hash, at, db_role, login, NULL, NULL, compartment_id,
							   action, object_type, object_id, before, after) AS new_formula_blind
  FROM tenancy.audit_entry WHERE id = :victim;						-- true, false
BEGIN;
SELECT pg_temp.tamper($$UPDATE tenancy.audit_entry
						  SET account_id = compartment_id, compartment_id = NULL
						WHERE id = $1$$, :victim)
	   = 'broken at entry ' || :victim AS found;						-- true
ROLLBACK;
-- 3b. the login is chained
BEGIN;
SELECT pg_temp.tamper($$UPDATE tenancy.audit_entry SET login = 'regress_plain'
						WHERE id = $1$$, :victim)
	   = 'broken at entry ' || :victim AS found;						-- true
ROLLBACK;
-- 3c. the id is chained: renumbering the last entry is found
SELECT pg_temp.last_entry() AS last \gset
BEGIN;
SELECT pg_temp.tamper($$UPDATE tenancy.audit_entry SET id = id + 100 WHERE id = $1$$, :last)
	   = 'broken at entry ' || :last + 100 AS found;					-- true
ROLLBACK;
-- 3d. SQL NULL and JSON null differ: an insert's "before" set to 'null'
BEGIN;
SELECT pg_temp.tamper($$UPDATE tenancy.audit_entry SET before = 'null' WHERE id = $1$$, :victim)
	   = 'broken at entry ' || :victim AS found;						-- true
ROLLBACK;
-- 3e. a text field cannot borrow from its neighbour: "permission" + "5/1"
-- and "permissio" + "n5/1" encode differently
SELECT tenancy.audit_hash_v2(1, NULL, now(), 'r', 'r', NULL, NULL, NULL, 'insert',
							 'permission', '5/1', NULL, NULL)
	   = tenancy.audit_hash_v2(1, NULL, now(), 'r', 'r', NULL, NULL, NULL, 'insert',
							   'permissio', 'n5/1', NULL, NULL) AS ambiguous;	-- false
SELECT tenancy.verify_audit();										-- ok: all rolled back

-- 4. the anchor: audit_head() for operators, verify_audit(id, hash)
SET ROLE regress_operator;
-- ok
SELECT id AS head_id, hash AS head_hash, entries AS head_entries
  FROM tenancy.audit_head() \gset
RESET ROLE;
SELECT :head_id = max(id) AS head_is_last, :head_entries = count(*) AS counts_all,
	   length(:'head_hash') AS hash_digits
  FROM tenancy.audit_entry;											-- true, true, 64
SET ROLE regress_plain;
SELECT * FROM tenancy.audit_head();									-- fails: operators only
:st
RESET ROLE;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT * FROM tenancy.audit_head();									-- fails: a firm's administrator neither
:st
SELECT tenancy.verify_audit(:head_id, :'head_hash');				-- ok: anyone may check
SELECT tenancy.reset() \gset
RESET ROLE;
-- anyone but an operator gets one answer for an id past the end and an id
-- with another hash: else guessing ids with a wrong hash would find where
-- the log ends (before: "missing" past it, "differs" before it), and so
-- how many changes all firms make (R22)
SET ROLE regress_plain;
SELECT n - :head_id AS from_head,
	   replace(tenancy.verify_audit(n, repeat('0', 64)), n::text, 'N') =
	   replace(tenancy.verify_audit(n + 1000, repeat('0', 64)), (n + 1000)::text, 'N') AS alike
  FROM (VALUES (:head_id - 1), (:head_id)) v(n);						-- ok: true, true
SELECT replace(tenancy.verify_audit(:head_id, repeat('0', 64)), :head_id::text, 'N') AS answer;
RESET ROLE;
-- the log grows past the published head: still ok
SELECT tenancy.grant_rights(:u_staff, :a_ops2, '{read}') \gset
SELECT tenancy.verify_audit(:head_id, :'head_hash');				-- ok
SELECT tenancy.verify_audit(:head_id, upper(:'head_hash'));			-- ok: hex in any case
-- 4a. the tail cut back, the head with it: the chain alone looks fine,
-- the published head does not
BEGIN;
SELECT pg_temp.tamper($$DELETE FROM tenancy.audit_entry WHERE id >= $1 - 2$$, :head_id);	-- ok: nothing links past the cut
SELECT tenancy.verify_audit(:head_id, :'head_hash') =
	   'published head entry ' || :head_id || ' is missing: the log was cut back' AS found;	-- true
ROLLBACK;
-- 4b. the whole chain rewritten consistently after a change in an old
-- entry (a superuser can recompute every hash): only the head finds it
BEGIN;
SELECT pg_temp.tamper($$UPDATE tenancy.audit_entry
						  SET account_id = compartment_id, compartment_id = NULL
						WHERE id = $1$$, :victim)
	   = 'broken at entry ' || :victim AS found;						-- true
ALTER TABLE tenancy.audit_entry DISABLE TRIGGER audit_append_only;
DO $$
DECLARE
	e record;
	prev bytea;
BEGIN
	FOR e IN SELECT * FROM tenancy.audit_entry ORDER BY id LOOP
		UPDATE tenancy.audit_entry x
		   SET prev_hash = prev,
			   hash = tenancy.audit_hash_v2(x.id, prev, x.at, x.db_role, x.login, x.account_id,
											x.user_id, x.compartment_id, x.action, x.object_type,
											x.object_id, x.before, x.after)
		 WHERE x.id = e.id
		RETURNING x.hash INTO prev;
	END LOOP;
END
$$;
SELECT tenancy.verify_audit();										-- ok: consistent
SELECT tenancy.verify_audit(:head_id, :'head_hash') =
	   'entry ' || :head_id || ' differs from the published head: the log was rewritten' AS found;	-- true
ROLLBACK;
-- 4c. bad input
SELECT tenancy.verify_audit(NULL, :'head_hash');					-- fails: no id
:st
SELECT tenancy.verify_audit(:head_id, NULL);						-- fails: no hash
:st
SELECT tenancy.verify_audit(:head_id, 'abc');						-- fails: not a hash
:st
SELECT tenancy.verify_audit(:head_id, repeat('0', 63) || 'g');	-- fails: not a hash
:st
SELECT tenancy.verify_audit(-1, :'head_hash');						-- fails: no entry has such an id
SELECT tenancy.verify_audit();										-- ok: nothing changed

-- 5. entries written before 1.3 keep verifying after the update, with
-- their own formula; the format never goes back along the chain
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
RESET client_min_messages;
CREATE EXTENSION tenancy VERSION '1.2';
SELECT tenancy.create_subscription('Before') AS sub_before \gset
SELECT tenancy.create_compartment(:sub_before, 'before', 'Before 1.3') AS c_before \gset
SELECT tenancy.create_client(:c_before, 'old', 'Old client') \gset
ALTER EXTENSION tenancy UPDATE TO '1.3';
SELECT tenancy.create_client(:c_before, 'new', 'New client') \gset
SELECT tenancy.create_administration(
	(SELECT id FROM tenancy.client WHERE code = 'new'), 'books', 'Books') \gset
SELECT hash_version, count(*) AS entries, bool_and(login IS NULL) AS without_login
  FROM tenancy.audit_entry GROUP BY hash_version ORDER BY hash_version;	-- 1: 3 without login; 2: 2 with
SELECT tenancy.verify_audit();										-- ok: both formulas, one chain
SELECT id AS old_entry FROM tenancy.audit_entry
 WHERE hash_version = 1 ORDER BY id LIMIT 1 OFFSET 1 \gset
SELECT id AS new_entry FROM tenancy.audit_entry
 WHERE hash_version = 2 ORDER BY id DESC LIMIT 1 \gset
-- 5a. an old entry tampered with is found by the old formula
BEGIN;
SELECT pg_temp.tamper($$UPDATE tenancy.audit_entry SET object_id = '999' WHERE id = $1$$, :old_entry)
	   = 'broken at entry ' || :old_entry AS found;					-- true
ROLLBACK;
-- 5b. a new entry rehashed with the old formula (a downgrade) is found
BEGIN;
SELECT pg_temp.tamper($$UPDATE tenancy.audit_entry
						  SET hash_version = 1,
							  hash = tenancy.audit_hash(prev_hash, at, db_role, account_id,
														user_id, compartment_id, action,
														object_type, object_id, before, after)
						WHERE id = $1$$, :new_entry)
	   = 'broken at entry ' || :new_entry AS found;					-- true
ROLLBACK;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
