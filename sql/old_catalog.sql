--
-- old_catalog: R7, R8, R20, R23 -- between installing the new library and
-- ALTER EXTENSION UPDATE, the catalog is 1.2: rights.c reads a user's
-- rights through SPI instead of index probes.  The walls, explain_access
-- and the functions give the same answers before and after the update.
--
\set SHOW_CONTEXT never

-- setup: a 1.2 catalog with two firms, a permission and a delegation
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS tenancy CASCADE;
DROP TABLE IF EXISTS public.old_books;
RESET client_min_messages;
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_app') THEN
		CREATE ROLE regress_app LOGIN IN ROLE tenancy_app;
	END IF;
END
$$;
CREATE EXTENSION tenancy VERSION '1.2';
SELECT tenancy.create_subscription('Old') AS s \gset
SELECT tenancy.create_compartment(:s, 'old-k1', 'Old firm 1') AS k1 \gset
SELECT tenancy.create_compartment(:s, 'old-k2', 'Old firm 2') AS k2 \gset
SELECT tenancy.create_client(:k1, 'c1', 'Client 1') AS c1 \gset
SELECT tenancy.create_client(:k1, 'c2', 'Client 2') AS c2 \gset
SELECT tenancy.create_client(:k2, 'c3', 'Client 3') AS c3 \gset
SELECT tenancy.create_administration(:c1, 'a1', 'Books 1') AS a1 \gset
SELECT tenancy.create_administration(:c2, 'a2', 'Books 2') AS a2 \gset
SELECT tenancy.create_administration(:c3, 'b1', 'Books 3') AS b1 \gset
SELECT tenancy.add_user(:k1, 'admin@old.example', 'internal', NULL, true) AS u_admin \gset
SELECT tenancy.add_user(:k1, 'staff@old.example', 'internal') AS u_staff \gset
SELECT tenancy.add_user(:k1, 'client@old.example', 'external', :c1) AS u_client \gset
SELECT tenancy.add_user(:k2, 'other@old.example', 'internal') AS u_other \gset
SELECT tenancy.grant_rights(:u_staff, :a1, '{read,write}') \gset
SELECT tenancy.grant_rights(:u_client, :a1, '{read,submit}') \gset
CREATE TABLE public.old_books (administration_id bigint NOT NULL, amount int NOT NULL);
SELECT tenancy.protect('public.old_books') \gset
INSERT INTO public.old_books VALUES (:a1, 1), (:a2, 2), (:b1, 3);
GRANT SELECT ON public.old_books TO regress_app;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.delegate(:a2, :u_other, '{read}', now() + interval '1 month') \gset
SELECT tenancy.reset() \gset
RESET ROLE;

-- what each user reads and may do, as the walls and as explain_access say
CREATE FUNCTION pg_temp.scope(user_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	seen text;
BEGIN
	PERFORM tenancy.act_as(user_id);
	SELECT string_agg(b.administration_id::text, ',' ORDER BY b.administration_id)
	  INTO seen FROM public.old_books b;
	seen := coalesce(seen, '-') || ' / writes ' ||
		array_to_string(tenancy.visible_administrations('write'), ',') ||
		' / submits ' || array_to_string(tenancy.visible_administrations('submit'), ',');
	PERFORM tenancy.reset();
	RETURN seen;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.scope(bigint) TO regress_app;
CREATE TEMP VIEW verdicts AS
SELECT u.id - :u_admin AS user_no, a.code,
	   (SELECT r FROM tenancy.explain_access(u.id, a.id) r WHERE r LIKE 'verdict:%') AS explained
  FROM tenancy.users u, tenancy.administration a;
CREATE TEMP TABLE before_update AS SELECT * FROM verdicts;

-- 1. R7, R8, R20 on the 1.2 catalog: each user's scope
SET ROLE regress_app;
SELECT pg_temp.scope(:u_staff) AS staff,						-- ok: a1, writes a1
	   pg_temp.scope(:u_client) AS client,						-- ok: a1, submits a1
	   pg_temp.scope(:u_other) AS other,						-- ok: a2, by the delegation (R20)
	   pg_temp.scope(:u_admin) AS admin;						-- ok: nothing, an administrator without permission
RESET ROLE;

-- 2. R23 on the 1.2 catalog: explain_access's verdicts
SELECT user_no, code COLLATE "C", explained FROM before_update
 WHERE explained <> 'verdict: no access' ORDER BY 1, 2;

-- 3. after ALTER EXTENSION UPDATE (index probes): the same scopes and verdicts
ALTER EXTENSION tenancy UPDATE TO '1.3';
SET ROLE regress_app;
SELECT pg_temp.scope(:u_staff) AS staff, pg_temp.scope(:u_client) AS client,
	   pg_temp.scope(:u_other) AS other, pg_temp.scope(:u_admin) AS admin;
RESET ROLE;
SELECT count(*) AS verdicts, count(*) FILTER (WHERE b.explained IS DISTINCT FROM v.explained) AS changed
  FROM before_update b JOIN verdicts v USING (user_no, code);

-- 4. R7 on a 1.2 catalog, which has no visible_administrations_at_scan: a
-- user of 40 administrations reads through an index condition on
-- visible_administrations; after ALTER EXTENSION UPDATE, in the same
-- session, the planner finds the twin and the same rows are read
SET client_min_messages = warning;
DROP VIEW verdicts;
DROP TABLE before_update;
DROP TABLE public.old_books;
DROP EXTENSION tenancy CASCADE;
CREATE EXTENSION tenancy VERSION '1.2';
SELECT tenancy.create_client(tenancy.create_compartment(tenancy.create_subscription('Old'),
		'old-big', 'Old big firm'), 'c', 'Client') AS c_big \gset
SELECT tenancy.add_user(compartment_id, 'many@old.example', 'internal') AS u_many
  FROM tenancy.client WHERE id = :c_big \gset
CREATE TABLE public.old_books (administration_id bigint NOT NULL, amount int NOT NULL);
CREATE INDEX old_books_administration_idx ON public.old_books (administration_id);
SELECT tenancy.protect('public.old_books') \gset
INSERT INTO public.old_books
SELECT tenancy.create_administration(:c_big, 'a' || g, 'Books ' || g), g FROM generate_series(1, 45) g;
SELECT count(tenancy.grant_rights(:u_many, administration_id, '{read}')) AS granted
  FROM public.old_books WHERE amount <= 40;
ANALYZE public.old_books;
GRANT SELECT ON public.old_books TO regress_app;
RESET client_min_messages;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_many);
EXPLAIN (COSTS OFF) SELECT count(*) FROM public.old_books;
SELECT count(*), max(amount) FROM public.old_books;				-- ok: 40, not 41..45
SELECT tenancy.reset();
RESET ROLE;
RESET enable_seqscan;
RESET enable_bitmapscan;
ALTER EXTENSION tenancy UPDATE TO '1.3';
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_many);
EXPLAIN (COSTS OFF) SELECT count(*) FROM public.old_books;
SELECT count(*), max(amount) FROM public.old_books;				-- ok: 40, the same
SELECT tenancy.reset();
RESET ROLE;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- cleanup
SET client_min_messages = warning;
DROP TABLE public.old_books;
DROP EXTENSION tenancy CASCADE;
