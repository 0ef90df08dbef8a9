--
-- explain_agrees: R23 with R7, R12, R18, R20 -- explain_access tells what
-- the walls actually do.  For every pair of a user and an administration of
-- the fixture (internal, external, administrators, a delegate, a disabled
-- user, a successor's user on an archived administration, a deleted
-- administration), its verdict line equals what the user really reads and
-- writes in a protected table, so that the two can never drift apart
-- (both ask the one module that decides rights).
--
\i test/fixture.sql
\set SHOW_CONTEXT never

-- setup
-- (a) R18: the holding's books move to the other firm (archive_and_transfer);
-- Otto of the other firm gets read on the successor, and so reads the archive
SELECT tenancy.create_client(:c_other, 'vries', 'de Vries Holding') AS cl_other_vries \gset
SELECT tenancy.grant_rights(:u_piet, :a_hold, '{manage}') \gset
SELECT tenancy.add_user(:c_cli, 'bert@bakker.nl', 'internal', NULL, true) AS u_bert \gset
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.request_migration(:a_hold, :c_other, 'archive_and_transfer') AS m1 \gset
SELECT tenancy.approve_migration(:m1) \gset
SELECT tenancy.act_as(:u_piet) \gset
SELECT tenancy.approve_migration(:m1) \gset
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.approve_migration(:m1) \gset
SELECT tenancy.transfer_migration(:m1, :cl_other_vries, 'dvh') AS a_successor \gset
SELECT tenancy.grant_rights(:u_other, :a_successor, '{read}') \gset
-- (b) R19: Jansen's books are exported and deleted at the source
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.request_migration(:a_jansen, :c_other, 'export_and_delete') AS m2 \gset
SELECT tenancy.approve_migration(:m2) \gset
SELECT tenancy.act_as(:u_bert) \gset
SELECT tenancy.approve_migration(:m2, 'letter Jansen BV') \gset
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT tenancy.approve_migration(:m2) \gset
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.confirm_export(:m2) \gset
SELECT tenancy.delete_at_source(:m2) \gset
-- (c) R20: Bakker delegates read and write on ops1 to Otto
SELECT tenancy.delegate(:a_ops1, :u_other, '{read,write}', now() + interval '1 month') \gset
-- (d) Sam is disabled
SELECT tenancy.disable_user(:u_staff) \gset
SELECT tenancy.reset() \gset
RESET ROLE;
-- the successor's first rows
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
VALUES (:a_successor, date '2026-04-01', 10, 'dvh-1');

-- what a user really does to one administration's rows: reads them, and
-- updates them (rolled back); the other rights as can() reports them
CREATE FUNCTION pg_temp.actual(user_id bigint, administration_id bigint)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	rights text[] := '{}';
	n bigint;
BEGIN
	BEGIN
		PERFORM tenancy.act_as(user_id);
	EXCEPTION WHEN OTHERS THEN
		RETURN 'no access';		-- nobody can act as this user
	END;
	SELECT count(*) INTO n FROM public.journal j WHERE j.administration_id = actual.administration_id;
	IF n > 0 THEN
		rights := rights || 'read'::text;
	END IF;
	BEGIN
		UPDATE public.journal j SET amount = j.amount
		 WHERE j.administration_id = actual.administration_id;
		GET DIAGNOSTICS n = ROW_COUNT;
		RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = n::text;
	EXCEPTION WHEN raise_exception THEN
		IF SQLERRM::bigint > 0 THEN
			rights := rights || 'write'::text;
		END IF;
	WHEN OTHERS THEN
		NULL;					-- the guard refused the write
	END;
	IF tenancy.can(administration_id, 'submit') THEN
		rights := rights || 'submit'::text;
	END IF;
	IF tenancy.can(administration_id, 'manage') THEN
		rights := rights || 'manage'::text;
	END IF;
	PERFORM tenancy.reset();
	RETURN coalesce(nullif(array_to_string(rights, ', '), ''), 'no access');
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.actual(bigint, bigint) TO regress_app;

-- every pair, with explain_access's verdict, asked by the superuser
CREATE TABLE public.verdicts AS
SELECT u.id AS uid, a.id AS aid,
	   (SELECT substr(r, length('verdict: ') + 1)
		  FROM tenancy.explain_access(u.id, a.id) r
		 WHERE r LIKE 'verdict: %') AS explained
  FROM tenancy.users u, tenancy.administration a;
GRANT SELECT ON public.verdicts TO regress_app;

-- 1. R18, R23: the archive a successor's user reads is explained as read
SELECT r FROM tenancy.explain_access(:u_other, :a_hold) r;			-- ok: read, by the archive rule
SET ROLE regress_app;
SELECT pg_temp.actual(:u_other, :a_hold) AS otto_on_archive;		-- ok: read
RESET ROLE;

-- 2. R7, R12, R18, R20, R23: explain_access and the walls agree on every
-- pair of the fixture
SET ROLE regress_app;
SELECT count(*) AS pairs,
	   count(*) FILTER (WHERE v.explained IS DISTINCT FROM pg_temp.actual(v.uid, v.aid)) AS disagree
  FROM public.verdicts v;
-- the disagreements, if any
SELECT v.uid, v.aid, v.explained, pg_temp.actual(v.uid, v.aid) AS actual
  FROM public.verdicts v
 WHERE v.explained IS DISTINCT FROM pg_temp.actual(v.uid, v.aid)
 ORDER BY v.uid, v.aid;
RESET ROLE;
-- the comparison covers every kind of verdict (it cannot pass by seeing nothing)
SELECT v.explained COLLATE "C" AS verdict, count(*) AS pairs
  FROM public.verdicts v GROUP BY 1 ORDER BY 1;

-- 3. the cases that drifted or could drift, by name: a delegate across
-- the wall (R20), a successor's user on the archive and on the successor
-- (R18), an administrator without permission (R7), a disabled user (R2), a deleted
-- administration (R12)
SELECT w.who, v.explained
  FROM public.verdicts v
  JOIN (VALUES ('otto on ops1, delegated', :u_other, :a_ops1),
			   ('otto on the archive', :u_other, :a_hold),
			   ('otto on the successor', :u_other, :a_successor),
			   ('sam (disabled) on ops1', :u_staff, :a_ops1),
			   ('jan on his deleted books', :u_jan, :a_jansen),
			   ('anna (admin, no permission) on ops1', :u_admin, :a_ops1))
	   AS w(who, uid, aid) ON (w.uid, w.aid) = (v.uid, v.aid)
 ORDER BY w.who COLLATE "C";

-- cleanup
SET client_min_messages = warning;
DROP TABLE public.verdicts;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
