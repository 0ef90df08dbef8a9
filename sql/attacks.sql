--
-- attacks: R2, R3, R6, R7 -- what an attacker with a database login would
-- try against a protected table, and that it fails
--
\i test/fixture.sql

-- 1. a leaky function in WHERE sees only the rows it may see
CREATE FUNCTION public.leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001
	AS $$ BEGIN RAISE NOTICE 'leaked %', $1; RETURN true; END $$;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
SELECT count(*) FROM journal WHERE leak(reference);					-- ok: notices for jansen only
-- tenancy's own functions in WHERE are no way around it.  A function
-- whose error depends on its arguments leaks them if it runs before the
-- policies, so only the policies' own checks are LEAKPROOF (R24): not the
-- planner's visible_administration() ("rights must not be null",
-- "unrecognized right"), not can(), whose rights argument could be made
-- of another firm's column.
SELECT p.oid::regprocedure AS leakproof_function
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'tenancy')
   AND p.proleakproof
 ORDER BY 1::text;													-- ok: the three checks only
SELECT tenancy.reset();
SELECT count(*) FROM journal WHERE leak(reference);					-- ok: no notice at all
RESET ROLE;

-- 2. a view and a SECURITY DEFINER function of the table owner see the
-- identity's rows, not the owner's
SET ROLE regress_owner;
CREATE VIEW public.journal_all AS SELECT administration_id, reference FROM public.journal;
CREATE FUNCTION public.journal_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER
	AS 'SELECT count(*) FROM public.journal';
GRANT SELECT ON public.journal_all TO regress_app;
RESET ROLE;
SET ROLE regress_app;
SELECT count(*) FROM journal_all;									-- ok: 0 without identity
SELECT public.journal_count();										-- ok: 0 without identity
SELECT tenancy.act_as(:u_jan);
SELECT administration_id, count(*) FROM journal_all GROUP BY 1 ORDER BY 1;	-- ok: jansen only
SELECT public.journal_count();										-- ok: 3
SELECT tenancy.reset();
RESET ROLE;

-- 3. prepared statements: one prepared with SQL runs only under the
-- identity it was prepared under, its custom and generic plans alike (a
-- request's PREPARE must not run as the next request: sql/pooling.sql
-- section 14); one a driver prepared with the protocol runs under each
-- execution's identity (test/libpq, scenario "prepared")
SET ROLE regress_app;
SELECT tenancy.act_as(:u_piet);
PREPARE q AS SELECT array_agg(DISTINCT administration_id ORDER BY administration_id) FROM journal;
EXECUTE q;
EXECUTE q;
EXECUTE q;
EXECUTE q;
EXECUTE q;
EXECUTE q;															-- ok: piet's, from a generic plan by now
SELECT tenancy.act_as(:u_jan);
EXECUTE q;															-- fails: prepared under piet
SET plan_cache_mode = force_generic_plan;
PREPARE g(bigint) AS SELECT count(*) FROM journal WHERE administration_id = $1;
EXECUTE g(:a_jansen);												-- ok: 3
SELECT tenancy.act_as(:u_other);
EXECUTE g(:a_jansen);												-- fails: prepared under jan
SELECT tenancy.act_as(:u_jan);
EXECUTE g(:a_jansen);												-- ok: 3, jan's again
RESET plan_cache_mode;
DEALLOCATE ALL;
SELECT tenancy.reset();
RESET ROLE;

-- 4. INSERT ... ON CONFLICT cannot overwrite, nor reveal, another firm's row
SELECT min(id) AS jansen_row FROM journal WHERE administration_id = :a_jansen \gset
SET ROLE regress_app;
SELECT tenancy.act_as(:u_other);
-- the refusal tells that the key exists: a unique key without the
-- administration column is such an oracle (see the README's caveats)
INSERT INTO journal (id, administration_id, booked_on, amount, reference)
	VALUES (:jansen_row, :a_x, '2026-04-01', 1, 'steal')
	ON CONFLICT (id) DO UPDATE SET amount = 0 RETURNING *;			-- fails: cannot update it
INSERT INTO journal (id, administration_id, booked_on, amount, reference)
	VALUES (:jansen_row, :a_x, '2026-04-01', 1, 'steal')
	ON CONFLICT (id) DO NOTHING RETURNING *;						-- ok: nothing, nothing shown
SELECT tenancy.reset();
RESET ROLE;
SELECT amount, reference FROM journal WHERE id = :jansen_row;		-- untouched

-- 5. COPY: out shows only visible rows; in is refused under row security
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
COPY journal (administration_id, reference) TO STDOUT;				-- ok: jansen only
COPY (SELECT reference FROM journal ORDER BY 1) TO STDOUT;			-- ok: jansen only
-- (\copy from a file, so that no psql version reads data lines as SQL)
\copy journal (administration_id, booked_on, amount, reference) FROM '/dev/null'	-- fails
SELECT tenancy.reset();
-- switching row security off does not open the table: it errors instead
SET row_security = off;
SELECT count(*) FROM journal;										-- fails
RESET row_security;
RESET ROLE;

-- 6. a cursor opened under one identity and read under another (R24: it
-- is closed when the identity changes; sql/pooling.sql has every variant)
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
DECLARE c CURSOR FOR SELECT administration_id FROM journal ORDER BY id;
FETCH 1 FROM c;
SELECT tenancy.act_as_local(:u_other);
FETCH ALL FROM c;													-- fails: closed with jan's identity
ROLLBACK;
RESET ROLE;

-- 7. the planner uses the index on the administration column
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
SELECT a.id, date '2025-01-01' + (g % 365), g, a.code || '-bulk-' || g
  FROM tenancy.administration a, generate_series(1, 3000) g;
ANALYZE public.journal;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
EXPLAIN (COSTS OFF) SELECT * FROM journal;
EXPLAIN (COSTS OFF) SELECT sum(amount) FROM journal
 WHERE administration_id = :a_jansen AND booked_on >= '2025-03-01' AND booked_on < '2025-04-01';
SELECT count(*) FROM journal;										-- ok: 3003
-- an expression index of the search alone does not serve a search that is
-- not leakproof: its matches in other firms would be counted (planner.c,
-- R24); the policies apply first
EXPLAIN (COSTS OFF) SELECT * FROM journal WHERE lower(reference) = 'jansen-bulk-7';
SELECT administration_id, reference FROM journal WHERE lower(reference) = 'jansen-bulk-7';	-- ok: 1 row
SELECT count(*) FROM journal WHERE lower(reference) = 'x-bulk-7';	-- ok: 0, other firm
-- a user function is not trusted that way, even with an index on it
RESET ROLE;
CREATE FUNCTION public.shout(text) RETURNS text LANGUAGE plpgsql IMMUTABLE
	AS $$ BEGIN RAISE NOTICE 'shout %', $1; RETURN upper($1); END $$;
SET client_min_messages = warning;
CREATE INDEX journal_shout_idx ON public.journal (public.shout(reference));
RESET client_min_messages;
SET ROLE regress_app;
EXPLAIN (COSTS OFF) SELECT * FROM journal WHERE public.shout(reference) = 'X-1';
SELECT tenancy.reset();
RESET ROLE;
DROP INDEX public.journal_shout_idx;
DROP FUNCTION public.shout(text);

-- 8. the extension's trigger functions run as its owner inside: nobody may
-- attach them to a table of their own, and they refuse any other table
SET ROLE regress_plain;
CREATE TEMP TABLE fake_permission (user_id bigint, compartment_id text, user_client_id bigint);
CREATE TRIGGER d BEFORE INSERT ON fake_permission FOR EACH ROW
	EXECUTE FUNCTION tenancy.permission_derive();					-- fails: no privilege
CREATE TRIGGER a AFTER INSERT ON fake_permission FOR EACH ROW
	EXECUTE FUNCTION tenancy.audit_change('permission', 'compartment_id');	-- fails: no privilege
RESET ROLE;
CREATE TABLE public.fake_audit (id bigint, compartment_id bigint);
CREATE TRIGGER a AFTER INSERT ON public.fake_audit FOR EACH ROW
	EXECUTE FUNCTION tenancy.audit_change('permission', 'compartment_id');
INSERT INTO public.fake_audit VALUES (1, :c_other);					-- fails: not a tenancy table
DROP TABLE public.fake_audit;

-- 9. MERGE reads its target through the read policy (R6, R7).  PostgreSQL
-- filters a MERGE's target by the SELECT policies only when the statement
-- reads a target column; "ON true" with an UPDATE or DELETE action joined
-- every firm's rows, which an action condition with a side effect counted
-- and an action reaching one told of (1.3 attack).  tenancy makes every
-- MERGE into a protected table need SELECT, so the filter is always there.
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
SELECT count(*) AS jan_sees FROM journal \gset
CREATE TEMP SEQUENCE merge_count;
MERGE INTO journal USING (SELECT 1) s ON true
	WHEN MATCHED AND nextval('merge_count') < 0 THEN DELETE;		-- ok: meets jan's rows only
SELECT currval('merge_count') = :jan_sees AS met_only_visible_rows;
MERGE INTO journal USING (SELECT 1) s ON true
	WHEN MATCHED THEN UPDATE SET amount = amount;					-- ok: jan's rows, writable
DROP SEQUENCE merge_count;
SELECT tenancy.reset();
RESET ROLE;
-- a partitioned target: the statement's target carries the privilege, its
-- partitions none (they were refused when the leaves were checked)
SET ROLE regress_owner;
CREATE TABLE public.merge_parts (administration_id bigint NOT NULL, n int)
	PARTITION BY LIST (administration_id);
CREATE TABLE public.merge_parts_jansen PARTITION OF public.merge_parts FOR VALUES IN (:a_jansen);
CREATE TABLE public.merge_parts_rest PARTITION OF public.merge_parts DEFAULT;
SELECT tenancy.protect('public.merge_parts');
GRANT SELECT, UPDATE ON public.merge_parts TO regress_app;
RESET ROLE;
INSERT INTO public.merge_parts VALUES (:a_jansen, 1), (:a_x, 2);
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
MERGE INTO public.merge_parts t USING (SELECT 1) s ON true
	WHEN MATCHED THEN UPDATE SET n = t.n + 10;						-- ok: jan's row only
SELECT n FROM public.merge_parts;									-- ok: 11
SELECT tenancy.reset();
RESET ROLE;
SELECT administration_id = :a_x AS other_firm, n FROM public.merge_parts ORDER BY n;	-- 2 untouched
SET ROLE regress_owner;
SELECT tenancy.unprotect('public.merge_parts');
DROP TABLE public.merge_parts;
RESET ROLE;
-- a role that may write but not read the table: no MERGE at all
CREATE ROLE regress_merge_writer IN ROLE tenancy_app;
GRANT UPDATE, DELETE ON public.journal TO regress_merge_writer;
SET ROLE regress_merge_writer;
SELECT tenancy.act_as(:u_jan);
MERGE INTO journal USING (SELECT 1) s ON true WHEN MATCHED THEN DELETE;	-- fails: needs SELECT
SELECT tenancy.reset();
RESET ROLE;
REVOKE ALL ON public.journal FROM regress_merge_writer;
DROP ROLE regress_merge_writer;
-- a MERGE that reads no column, analysed without tenancy's hook (the
-- stored body of a BEGIN ATOMIC function), is refused when it runs; one
-- that names a column of the target reads through the filter anyway
SET ROLE regress_owner;
CREATE TABLE public.merge_later (administration_id bigint NOT NULL, n int);
CREATE FUNCTION public.merge_later_all() RETURNS void LANGUAGE sql
	BEGIN ATOMIC
		MERGE INTO public.merge_later USING (SELECT 1) s ON true WHEN MATCHED THEN DELETE;
	END;
SELECT tenancy.protect('public.merge_later');
SELECT public.merge_later_all();									-- fails: planned without the filter
CREATE OR REPLACE FUNCTION public.merge_later_all() RETURNS void LANGUAGE sql
	BEGIN ATOMIC
		MERGE INTO public.merge_later m USING (SELECT 1 AS a) s ON m.administration_id = s.a
			WHEN MATCHED THEN DELETE;
	END;
SELECT public.merge_later_all();									-- ok: names a column
SELECT tenancy.unprotect('public.merge_later');
DROP FUNCTION public.merge_later_all();
DROP TABLE public.merge_later;
RESET ROLE;

-- 10. R6, R14, R15: tenancy's own views of the catalog (my_administrations,
-- my_clients, migrations) answer a condition of the caller's only from the
-- rows they show.  PostgreSQL pushes a leakproof condition (=, >=, <) into
-- the scans of a security_barrier view's tables; these views narrow their
-- rows by a join, so the condition ran over every firm's rows and EXPLAIN
-- ANALYZE's counts told whether another firm has a client, administration
-- or compartment of that name or code, to any login (1.3 attack: a plain
-- login rebuilt firm Other's client names one character at a time).  The
-- counts for another firm's name and for a name nobody uses are the same.
CREATE FUNCTION pg_temp.plan_counts(q text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
	line text;
	counts text[] := '{}';
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
		counts := counts || ARRAY(SELECT m[1] FROM regexp_matches(line, '(rows=[0-9]+|Removed by [A-Za-z ]+: [0-9]+)', 'g') m);
	END LOOP;
	RETURN counts;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.plan_counts(text) TO PUBLIC;
SET ROLE regress_plain;
SELECT pg_temp.plan_counts($$SELECT * FROM tenancy.my_clients WHERE name = 'X BV'$$)
	 = pg_temp.plan_counts($$SELECT * FROM tenancy.my_clients WHERE name = 'Y BV'$$) AS client_name_hidden,		-- ok: t
	   pg_temp.plan_counts($$SELECT * FROM tenancy.my_clients WHERE compartment_code = 'other'$$)
	 = pg_temp.plan_counts($$SELECT * FROM tenancy.my_clients WHERE compartment_code = 'nope'$$) AS firm_code_hidden,	-- ok: t
	   pg_temp.plan_counts($$SELECT * FROM tenancy.migrations WHERE source_compartment_code = 'other'$$)
	 = pg_temp.plan_counts($$SELECT * FROM tenancy.migrations WHERE source_compartment_code = 'nope'$$) AS migration_code_hidden,	-- ok: t
	   pg_temp.plan_counts(format('SELECT * FROM tenancy.audit_log WHERE compartment_id = %s', :c_other))
	 = pg_temp.plan_counts('SELECT * FROM tenancy.audit_log WHERE compartment_id = 999999') AS audit_volume_hidden;	-- ok: t
RESET ROLE;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan) \gset
SELECT pg_temp.plan_counts($$SELECT * FROM tenancy.my_administrations WHERE client_name = 'X BV'$$)
	 = pg_temp.plan_counts($$SELECT * FROM tenancy.my_administrations WHERE client_name = 'Y BV'$$) AS jan_sees_no_count,	-- ok: t
	   pg_temp.plan_counts($$SELECT * FROM tenancy.my_administrations WHERE name >= 'X' AND name < 'Y'$$)
	 = pg_temp.plan_counts($$SELECT * FROM tenancy.my_administrations WHERE name >= 'Y' AND name < 'Z'$$) AS admin_name_hidden,	-- ok: t
	   (SELECT count(*) FROM tenancy.my_administrations) AS jan_administrations;	-- ok: 1, its own
SELECT tenancy.reset() \gset
RESET ROLE;
-- operators still read every firm's entries, and their conditions use the index
SET ROLE regress_operator;
SELECT count(*) > 0 AS operator_reads_other_firm FROM tenancy.audit_log WHERE compartment_id = :c_other;	-- ok: t
RESET ROLE;

-- 11. R6, R23: PostgreSQL reads an index in its order (ORDER BY, min/max)
-- with the policies as a filter, and counts every entry the scan passed.
-- Over an index not led by the administration column those are every
-- firm's: 1.3's last attack placed a row of its own at a chosen value,
-- read its rank from EXPLAIN ANALYZE or pg_stat_get_xact_tuples_returned()
-- under ORDER BY lower(reference), and rebuilt another firm's references
-- one character at a time.  PostgreSQL's plan, not tenancy's: check()
-- names every such index, and one led by the administration column is
-- scanned for the identity's administrations alone.
SET ROLE regress_operator;
SELECT severity, object, problem FROM tenancy.check()
 WHERE object IN ('public.journal_reference_idx', 'public.journal_administration_idx');	-- ok: the first only
RESET ROLE;
-- no dead entries, which a scan passes too
VACUUM public.journal;
SELECT count(*) AS all_rows FROM public.journal \gset
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan) \gset
-- the counters are read in one transaction block, where nothing flushes them
BEGIN;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_sort = off;
SELECT pg_stat_get_xact_tuples_returned('journal_reference_idx'::regclass) AS by_reference,
	   pg_stat_get_xact_tuples_returned('journal_administration_idx'::regclass) AS by_administration \gset
EXPLAIN (COSTS OFF) SELECT reference FROM journal ORDER BY lower(reference);
SELECT count(*) AS jan_rows FROM (SELECT reference FROM journal ORDER BY lower(reference)) s;	-- ok: 3003
SELECT pg_stat_get_xact_tuples_returned('journal_reference_idx'::regclass) - :by_reference
	   = :all_rows AS every_firms_entries_passed;						-- ok: t, what check() warns of
EXPLAIN (COSTS OFF) SELECT booked_on FROM journal ORDER BY administration_id, booked_on;
SELECT count(*) AS jan_rows FROM (SELECT booked_on FROM journal ORDER BY administration_id, booked_on) s;	-- ok: 3003
SELECT pg_stat_get_xact_tuples_returned('journal_administration_idx'::regclass) - :by_administration
	   AS entries_passed;												-- ok: 3003, jan's alone
ROLLBACK;
SELECT tenancy.reset() \gset
RESET ROLE;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP VIEW public.journal_all;
DROP TABLE public.journal;
DROP FUNCTION public.leak(text);
DROP FUNCTION public.journal_count();
