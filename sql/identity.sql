--
-- identity: R1, R2, R3, R4, R5 -- who a session acts as, and that nobody
-- can forge or keep it
--
\i test/fixture.sql

-- 1. R2: without an identity, nothing
SET ROLE regress_app;
SELECT tenancy.current_user_id(), tenancy.current_compartment_id();	-- ok: NULL
SELECT count(*) FROM journal;										-- ok: 0 rows, fail closed
INSERT INTO journal (administration_id, booked_on, amount, reference)
	VALUES (:a_hold, '2026-02-01', 1, 'x');							-- fails: no identity
UPDATE journal SET amount = 0;										-- ok: touches 0 rows
DELETE FROM journal;												-- ok: touches 0 rows
RESET ROLE;

-- 2. R1: one identity at a time; act_as only for tenancy_app
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff);
SELECT tenancy.current_user_id() = :u_staff AS is_staff,
	   tenancy.current_compartment_id() = :c_cli AS in_clients;		-- ok
SELECT tenancy.act_as(:u_piet);
SELECT tenancy.current_user_id() = :u_piet AS is_piet;				-- ok: replaced, not added
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;	-- ok: piet's three
SELECT tenancy.act_as(NULL);										-- fails: null user
SELECT tenancy.act_as(999999);										-- fails: no such user
SELECT tenancy.reset();
RESET ROLE;
SET ROLE regress_plain;
SELECT tenancy.act_as(:u_staff);									-- fails: not tenancy_app
SELECT tenancy.act_as_local(:u_staff);								-- fails: not tenancy_app
RESET ROLE;

-- 3. R3: the setting cannot be forged
SET ROLE regress_app;
SET tenancy.identity = '2/2/2/-';									-- fails
SET LOCAL tenancy.identity = '2/2/2/-';								-- fails
SELECT set_config('tenancy.identity', '2/2/2/-', false);			-- fails
UPDATE pg_settings SET setting = '2/2/2/-' WHERE name = 'tenancy.identity';	-- fails
SHOW tenancy.identity;												-- fails: superuser only
RESET tenancy.identity;												-- fails
RESET ALL;															-- ok, but changes nothing
SELECT count(*) FROM journal;										-- ok: still 0
RESET ROLE;
-- not even a superuser can write it by hand
SET tenancy.identity = '2/2/2/-';									-- fails
SELECT set_config('tenancy.identity', '2/2/2/-', true);				-- fails
ALTER ROLE regress_app SET tenancy.identity = '2/2/2/-';			-- fails
ALTER DATABASE contrib_regression SET tenancy.identity = '2/2/2/-';	-- fails
CREATE FUNCTION forge() RETURNS bigint LANGUAGE sql
	SET tenancy.identity = '2/2/2/-' AS 'SELECT tenancy.current_user_id()';	-- fails
-- a SECURITY DEFINER function of an application role does not lend its
-- right to act to another login
CREATE FUNCTION public.lend_identity(bigint) RETURNS bigint LANGUAGE sql SECURITY DEFINER
	AS 'SELECT tenancy.act_as($1); SELECT tenancy.current_user_id()';
ALTER FUNCTION public.lend_identity(bigint) OWNER TO regress_app;
SET SESSION AUTHORIZATION regress_plain;
SELECT public.lend_identity(:u_staff);								-- fails: session user is not tenancy_app
SELECT tenancy.current_user_id();									-- ok: NULL
RESET SESSION AUTHORIZATION;
DROP FUNCTION public.lend_identity(bigint);

-- 4. R4: identity follows transactions
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as(:u_staff);
SELECT tenancy.current_user_id() = :u_staff AS set_in_xact;
ROLLBACK;
SELECT tenancy.current_user_id();									-- ok: NULL, rolled back
BEGIN;
SELECT tenancy.act_as(:u_staff);
SAVEPOINT s1;
SELECT tenancy.act_as(:u_piet);
ROLLBACK TO SAVEPOINT s1;
SELECT tenancy.current_user_id() = :u_staff AS back_to_staff;		-- ok
COMMIT;
SELECT tenancy.current_user_id() = :u_staff AS kept_after_commit;	-- ok: session identity
BEGIN;
SELECT tenancy.act_as_local(:u_piet);
SELECT tenancy.current_user_id() = :u_piet AS local_piet;			-- ok
SELECT count(*) FROM journal;										-- ok: piet's 9 rows
COMMIT;
SELECT tenancy.current_user_id() = :u_staff AS staff_again;			-- ok: local one ended
SELECT tenancy.reset();
BEGIN;
SELECT tenancy.act_as_local(:u_piet);
SELECT 1 / 0;														-- fails: the transaction aborts
ROLLBACK;
SELECT tenancy.current_user_id();									-- ok: NULL
-- a pool's reset query clears the session identity
SELECT tenancy.act_as(:u_staff);
DISCARD ALL;														-- also resets the role
SET ROLE regress_app;
SELECT tenancy.current_user_id();									-- ok: NULL
SELECT count(*) FROM journal;										-- ok: 0
RESET ROLE;

-- 5. R5: a locked identity
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff, 'secret-key');
SELECT tenancy.act_as(:u_piet);										-- fails: locked
SELECT tenancy.act_as(:u_piet, 'wrong-key');						-- fails: locked
SELECT tenancy.act_as(:u_piet, '');									-- fails: empty key
SELECT tenancy.reset('');											-- fails: empty key
SELECT tenancy.act_as(:u_piet, E' \t');								-- fails: blank key
BEGIN;
SELECT tenancy.act_as_local(:u_piet);								-- fails: locked
ROLLBACK;
SELECT tenancy.reset();												-- fails: locked
SELECT tenancy.reset('wrong-key');									-- fails: locked
SELECT tenancy.current_user_id() = :u_staff AS still_staff;			-- ok
SELECT tenancy.act_as(:u_piet, 'secret-key');						-- ok: same key
SELECT tenancy.current_user_id() = :u_piet AS now_piet;
SELECT tenancy.reset('secret-key');									-- ok
SELECT tenancy.act_as(:u_staff, 'secret-key');
DISCARD ALL;														-- ok: clears identity and lock
SET ROLE regress_app;
SELECT tenancy.act_as(:u_piet);										-- ok: no lock left
SELECT tenancy.reset();
-- R5 behind a pool in transaction mode: act_as_local with a key locks the
-- transaction's identity, until the transaction ends (1.3 review: the key
-- was accepted and ignored, and an injected act_as_local switched firms)
BEGIN;
SELECT tenancy.act_as_local(:u_staff, 'request-key');
SELECT tenancy.act_as_local(:u_piet);								-- fails: locked
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_staff, '');							-- fails: an empty key is no lock
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_staff, 'request-key');
SAVEPOINT s;
SELECT tenancy.act_as(:u_piet);										-- fails: locked
ROLLBACK TO SAVEPOINT s;
SELECT tenancy.reset();												-- fails: locked
ROLLBACK TO SAVEPOINT s;
SELECT tenancy.act_as_local(:u_piet, 'wrong-key');					-- fails: locked
ROLLBACK TO SAVEPOINT s;
SELECT tenancy.current_user_id() = :u_staff AS still_staff;			-- ok
SELECT tenancy.act_as_local(:u_piet, 'request-key');				-- ok: same key
SELECT tenancy.current_user_id() = :u_piet AS now_piet;
COMMIT;
SELECT tenancy.current_user_id() IS NULL AS no_identity;			-- ok: ended with the transaction
SELECT tenancy.act_as_local(:u_piet);								-- ok: no lock left (outside a block: warns)
RESET ROLE;

-- 6. a disabled user cannot be acted as, and its sessions lose their rows
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
SELECT count(*) FROM journal;										-- ok: 3
RESET ROLE;
SELECT tenancy.disable_user(:u_jan);
SET ROLE regress_app;
SELECT count(*) FROM journal;										-- ok: 0 at the next statement
SELECT tenancy.current_user_id() = :u_jan AS identity_kept;
SELECT tenancy.act_as(:u_jan);										-- fails: disabled
SELECT tenancy.reset();
RESET ROLE;

-- 7. parallel workers see the same identity
SET ROLE regress_app;
SELECT tenancy.act_as(:u_piet);
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT administration_id, count(*) FROM journal GROUP BY 1;
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;	-- ok: piet's three
RESET ALL;
SELECT tenancy.reset();
RESET ROLE;

-- 8. R2: an identity left in a session while the catalog is made anew
-- (DROP EXTENSION, CREATE EXTENSION: ids start again) is not passed on to
-- whoever holds its user id now; the identity names the person (account)
-- it was set for (found by an outside attack: the new holder's rows were
-- read and written under the old identity)
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff);
RESET ROLE;
SELECT account_id AS staff_account FROM tenancy.users WHERE id = :u_staff \gset
SELECT tenancy.unprotect('public.journal');
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
CREATE EXTENSION tenancy;
RESET client_min_messages;
SELECT tenancy.create_subscription('Anew') AS sub_anew \gset
SELECT tenancy.create_compartment(:sub_anew, 'anew-1', 'Anew 1') AS c_anew1 \gset
SELECT tenancy.create_compartment(:sub_anew, 'anew-2', 'Anew 2') AS c_anew2 \gset
SELECT tenancy.create_administration(tenancy.create_client(:c_anew2, 'c', 'C'), 'a', 'A') AS a_anew \gset
-- one person, two users: user ids run ahead of account ids
SELECT tenancy.add_user(:c_anew1, 'pia@anew.example', 'internal') AS u_pia1 \gset
SELECT tenancy.add_user(:c_anew2, 'pia@anew.example', 'internal', NULL, true) AS u_pia2 \gset
SELECT tenancy.grant_rights(:u_pia2, :a_anew, '{read,write}');
SELECT :u_pia2 = :u_staff AS same_user_id, :c_anew2 = :c_cli AS same_compartment_id,
	   account_id <> :staff_account AS another_person
  FROM tenancy.users WHERE id = :u_pia2;
SET ROLE regress_app;
SELECT tenancy.current_user_id() = :u_staff AS identity_left;				-- ok: t
SELECT tenancy.visible_administrations() AS reads,							-- ok: {}, not pia's
	   tenancy.can(:a_anew, 'write') AS writes;								-- ok: f
-- nor does it manage pia's firm (R13), pia being its administrator
SELECT tenancy.grant_rights(:u_pia2, :a_anew, '{manage}');				-- fails
SELECT count(*) AS users_listed FROM tenancy.compartment_users;				-- ok: 0
SELECT tenancy.reset();
RESET ROLE;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
