--
-- delegation: R20 -- the one explicit door through a compartment wall
--
\i test/fixture.sql

-- 1. the owning compartment's administrator delegates to another firm's user
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
SELECT tenancy.delegate(:a_hold, :u_other, '{read}', now() + interval '3 months') AS d_read \gset
SELECT tenancy.delegate(:a_ops1, :u_other, '{read,write}', now() + interval '1 month') AS d_write \gset
-- bad input changes nothing
SELECT tenancy.delegate(:a_hold, :u_staff, '{read}', now() + interval '1 month');	-- fails: same compartment
SELECT tenancy.delegate(:a_hold, :u_other, '{read}', now() + interval '13 months');	-- fails: too long
SELECT tenancy.delegate(:a_hold, :u_other, '{read}', now() - interval '1 day');	-- fails: past
SELECT tenancy.delegate(:a_hold, :u_other, '{read}', NULL);					-- fails: null
SELECT tenancy.delegate(:a_hold, :u_other, '{steal}', now() + interval '1 month');	-- fails: unknown right
SELECT tenancy.delegate(:a_hold, 999999, '{read}', now() + interval '1 month');	-- fails: unknown user
SELECT tenancy.delegate(:a_x, :u_staff, '{read}', now() + interval '1 month');	-- fails: not its administration
-- only the owning side delegates: a staff member is refused
SELECT tenancy.act_as(:u_staff);
SELECT tenancy.delegate(:a_hold, :u_other, '{read}', now() + interval '1 month');	-- fails
SELECT tenancy.reset();
RESET ROLE;
SELECT count(*) AS delegations FROM tenancy.delegation;					-- ok: 2
-- the 12-month limit holds for a plain INSERT too
INSERT INTO tenancy.delegation (administration_id, compartment_id, to_user_id, to_compartment_id,
	can_read, created_at, valid_until)
	VALUES (:a_hold, :c_cli, :u_other, :c_other, true, '2027-01-01', '2029-01-01');	-- fails
INSERT INTO tenancy.delegation (administration_id, compartment_id, to_user_id, to_compartment_id,
	can_read, created_at, valid_until)
	VALUES (:a_hold, :c_cli, :u_staff, :c_cli, true, '2027-01-01', '2027-02-01');	-- fails: same compartment

-- 2. the delegate sees the delegated rows, and only those, across the wall
SET ROLE regress_app;
SELECT tenancy.act_as(:u_other);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;	-- ok: x, hold, ops1
SELECT code, compartment_code, rights FROM tenancy.my_administrations ORDER BY code COLLATE "C";
INSERT INTO journal (administration_id, booked_on, amount, reference)
	VALUES (:a_ops1, '2026-07-01', 1, 'delegated write') RETURNING reference;	-- ok: write delegated
INSERT INTO journal (administration_id, booked_on, amount, reference)
	VALUES (:a_hold, '2026-07-01', 1, 'no');								-- fails: read only
SELECT count(*) FROM journal WHERE administration_id IN (:a_ops2, :a_jansen);	-- ok: 0, not delegated
-- the other users of that firm see nothing of it
SELECT tenancy.act_as(:u_other_admin);
SELECT count(*) FROM journal WHERE administration_id IN (:a_hold, :a_ops1);	-- ok: 0
SELECT tenancy.reset();
RESET ROLE;

-- 3. revoking takes effect at once; a delegation ends by itself
SELECT tenancy.revoke_delegation(:d_write);
SELECT tenancy.revoke_delegation(:d_write);								-- fails: already revoked
SET ROLE regress_app;
SELECT tenancy.act_as(:u_other);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;	-- ok: x, hold
RESET ROLE;
-- a delegation of two seconds: seen, then gone when it ends, with no
-- catalog change and no job
SELECT tenancy.revoke_delegation(:d_read);
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
SELECT tenancy.delegate(:a_ops2, :u_other, '{read}', statement_timestamp() + interval '2 seconds') AS d_short \gset
SELECT tenancy.act_as(:u_other);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;	-- ok: x, ops2
SELECT pg_sleep(2.2);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;	-- ok: x only
SELECT tenancy.reset();
RESET ROLE;
-- the same in a procedure that commits: a CALL is one statement, and each
-- transaction it starts judges the end anew (until 1.3's review the
-- delegation stayed in force for every transaction of the CALL)
CREATE PROCEDURE public.read_across(administration_id bigint, until timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'before the end: % rows',
		(SELECT count(*) FROM journal j WHERE j.administration_id = read_across.administration_id);
	COMMIT;
	WHILE clock_timestamp() <= until LOOP
		PERFORM pg_sleep(0.05);
	END LOOP;
	COMMIT;
	RAISE NOTICE 'after the end: % rows',
		(SELECT count(*) FROM journal j WHERE j.administration_id = read_across.administration_id);
END
$$;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
SELECT statement_timestamp() + interval '2 seconds' AS d_call_until \gset
SELECT tenancy.delegate(:a_ops2, :u_other, '{read}', :'d_call_until') AS d_call \gset
SELECT tenancy.act_as(:u_other);
CALL public.read_across(:a_ops2, :'d_call_until');					-- ok: rows, then 0
SELECT tenancy.reset();
RESET ROLE;
DROP PROCEDURE public.read_across(bigint, timestamptz);

-- 4. audited in both compartments' logs
SELECT compartment_id = :c_cli AS owner_log, compartment_id = :c_other AS delegate_log,
	   action, count(*)
  FROM tenancy.audit_log WHERE object_type = 'delegation'
 GROUP BY 1, 2, 3 ORDER BY owner_log, delegate_log, action COLLATE "C";

-- 5. R21, R20: a delegation changes only through the functions.  The table
-- owner (here the superuser) cannot revive a revoked one, move its end
-- past the limit or delete it (1.3 attack: a revoked delegation came back
-- with UPDATE ... SET revoked_at = NULL); only a superuser's INSERT passes,
-- for pg_restore
SELECT count(*) AS audit_before FROM tenancy.audit_log WHERE object_type = 'delegation' \gset
UPDATE tenancy.delegation SET revoked_at = NULL WHERE id = :d_read;				-- fails
UPDATE tenancy.delegation SET created_at = now() + interval '5 years',
	valid_until = now() + interval '5 years 11 months' WHERE id = :d_read;	-- fails
DELETE FROM tenancy.delegation WHERE id = :d_read;								-- fails
SELECT revoked_at IS NOT NULL AS still_revoked FROM tenancy.delegation WHERE id = :d_read;	-- ok: t
SELECT count(*) - :audit_before AS new_audit_entries
  FROM tenancy.audit_log WHERE object_type = 'delegation';					-- ok: 0
SET ROLE regress_app;
SELECT tenancy.act_as(:u_other);
SELECT count(*) FROM journal WHERE administration_id = :a_hold;					-- ok: 0, still revoked
SELECT tenancy.reset();
RESET ROLE;
-- a delegation still goes with its user when a superuser deletes the user
-- (the foreign key's ON DELETE CASCADE, not a direct write)
SET ROLE regress_app;
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.add_user(:c_other, 'leaving@other.example', 'internal') AS u_leaving \gset
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.delegate(:a_hold, :u_leaving, '{read}', now() + interval '1 month') AS d_leaving \gset
SELECT tenancy.reset() \gset
RESET ROLE;
DELETE FROM tenancy.users WHERE id = :u_leaving;								-- ok: cascades
SELECT count(*) AS delegations_left FROM tenancy.delegation WHERE id = :d_leaving;	-- ok: 0

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
