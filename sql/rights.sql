--
-- rights: R6, R7, R11, R12 -- what each user reads and writes in a
-- protected table
--
\i test/fixture.sql

-- 1. R7: reads follow the read right; R6: nothing across the wall
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;	-- ok: hold, ops1
SELECT tenancy.act_as(:u_piet);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;	-- ok: hold, ops1, ops2
SELECT tenancy.act_as(:u_jan);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;	-- ok: jansen only
SELECT tenancy.act_as(:u_other);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;	-- ok: x only, no Bakker row
SELECT count(*) FROM journal WHERE administration_id = :a_hold;		-- ok: 0, other firm
SELECT tenancy.act_as(:u_admin);
SELECT count(*) FROM journal;										-- ok: 0, admin without rights
SELECT tenancy.visible_administrations() AS admin_sees;
SELECT tenancy.act_as(:u_piet);
SELECT tenancy.visible_administrations('read') AS reads,
	   tenancy.visible_administrations('write') AS writes,
	   tenancy.visible_administrations('submit') AS submits;
SELECT tenancy.can(:a_ops1, 'submit') AS ops1_submit, tenancy.can(:a_hold, 'write') AS hold_write,
	   tenancy.can(:a_x) AS other_firm, tenancy.can(NULL) AS no_admin;
SELECT tenancy.can(:a_ops1, 'delete');								-- fails: unknown right
-- the right named by a PL/pgSQL variable: every call reads its own value (a
-- stable argument is not a constant one; until 1.3's review the right first
-- asked at a call site answered for every later one: manage came out true)
SELECT set_config('regress.a_ops1', :'a_ops1', false) IS NOT NULL AS noted;
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['submit', 'manage', 'read', 'write', 'manage'] LOOP
		RAISE NOTICE 'can(ops1, %) = %, in visible_administrations(%): %', r,
			tenancy.can(current_setting('regress.a_ops1')::bigint, r), r,
			current_setting('regress.a_ops1')::bigint = ANY (tenancy.visible_administrations(r));
	END LOOP;
END
$$;
SELECT tenancy.visible_administrations(NULL);						-- fails: null right
SELECT administration_id, code, client_code, compartment_code, rights
  FROM tenancy.my_administrations ORDER BY administration_id;
SELECT code, compartment_code FROM tenancy.my_clients ORDER BY code COLLATE "C";

-- 2. R7: writes follow the write right
INSERT INTO journal (administration_id, booked_on, amount, reference)
	VALUES (:a_ops1, '2026-03-01', 5, 'piet-1') RETURNING administration_id, reference;	-- ok
INSERT INTO journal (administration_id, booked_on, amount, reference)
	VALUES (:a_hold, '2026-03-01', 5, 'piet-2');					-- fails: read only
INSERT INTO journal (administration_id, booked_on, amount, reference)
	VALUES (:a_jansen, '2026-03-01', 5, 'piet-3');					-- fails: other client
INSERT INTO journal (administration_id, booked_on, amount, reference)
	VALUES (:a_x, '2026-03-01', 5, 'piet-4');						-- fails: other firm
UPDATE journal SET amount = amount + 1 WHERE administration_id = :a_hold;	-- ok: 0 rows, read only
UPDATE journal SET amount = amount + 1 WHERE administration_id = :a_ops2
	RETURNING administration_id, reference;							-- ok: 3 rows
DELETE FROM journal WHERE administration_id IN (:a_hold, :a_jansen, :a_x);	-- ok: 0 rows
DELETE FROM journal WHERE reference = 'piet-1' RETURNING reference;	-- ok: 1 row
-- RETURNING never shows rows the statement could not touch
UPDATE journal SET amount = amount RETURNING administration_id;		-- ok: only ops1, ops2 rows
SELECT tenancy.reset();
RESET ROLE;
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;	-- superuser: nothing else moved

-- 3. R11: rows move only within a client, with write on both
SELECT tenancy.grant_rights(:u_staff, :a_ops1, '{write}');
SELECT tenancy.grant_rights(:u_staff, :a_jansen, '{read,write}');
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff);
UPDATE journal SET administration_id = :a_ops1 WHERE reference = 'vries-hold-1'
	RETURNING administration_id = :a_ops1 AS moved;					-- ok: same client
UPDATE journal SET administration_id = :a_jansen WHERE reference = 'vries-hold-2';	-- fails: other client
UPDATE journal SET administration_id = :a_ops2 WHERE reference = 'vries-hold-3';	-- fails: no write on ops2
UPDATE journal SET administration_id = :a_x WHERE reference = 'vries-hold-3';	-- fails: other firm
SELECT tenancy.reset();
RESET ROLE;

-- 4. R12: an archived administration is read-only for everyone
UPDATE tenancy.administration SET state = 'archived' WHERE id = :a_ops2;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_piet);
SELECT count(*) FROM journal WHERE administration_id = :a_ops2;		-- ok: still readable
SELECT tenancy.can(:a_ops2, 'write') AS can_write_archived;			-- ok: false
INSERT INTO journal (administration_id, booked_on, amount, reference)
	VALUES (:a_ops2, '2026-03-01', 5, 'late');						-- fails: archived
UPDATE journal SET amount = 0 WHERE administration_id = :a_ops2;	-- ok: 0 rows
DELETE FROM journal WHERE administration_id = :a_ops2;				-- ok: 0 rows
UPDATE journal SET administration_id = :a_ops2 WHERE administration_id = :a_ops1;	-- fails: into archive
SELECT tenancy.reset();
RESET ROLE;
UPDATE tenancy.administration SET state = 'active' WHERE id = :a_ops2;

-- 5. a revoked right is gone at the next statement
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
SELECT count(*) FROM journal;										-- ok: 3
RESET ROLE;
SELECT tenancy.revoke_rights(:u_jan, :a_jansen, '{read}');
SET ROLE regress_app;
SELECT count(*) FROM journal;										-- ok: 0, write only
SELECT tenancy.can(:a_jansen, 'write') AS still_writes;
SELECT tenancy.reset();
RESET ROLE;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
