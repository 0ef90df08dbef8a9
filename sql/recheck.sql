--
-- recheck: R24, R6, R7 -- an error message never shows a value of a row the
-- identity cannot read, also when a clause serves as an index condition
-- (planner.c) and the executor rechecks it on a lossy bitmap page, in an
-- index scan, an index-only scan or a parallel scan.
--
-- Firm "Other" holds references such as 'BSECRET-2' that no cast accepts;
-- jansen's references are numbers, dates or JSON.  Every query below runs as
-- jan (jansen only) under settings that push the planner to each scan type,
-- with work_mem so small that bitmaps go lossy.  Evaluating the cast on one
-- of firm Other's rows before the policies would fail with "invalid input
-- syntax for type integer: "BSECRET-2"" (it did in 1.2).
--
\i test/fixture.sql

-- setup: 20,000 rows on the same pages, alternately firm Other's secrets and
-- jansen's numbers, and three rows of each other format; fillfactor 10 so
-- that the rows spread over some 2,000 pages and a bitmap of 64kB goes lossy
\set QUIET on
SET client_min_messages = warning;
SET ROLE regress_owner;
ALTER TABLE public.journal SET (fillfactor = 10);
RESET ROLE;
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
SELECT CASE WHEN g % 2 = 0 THEN :a_x ELSE :a_jansen END, date '2026-01-01', 1,
	   CASE WHEN g % 2 = 0 THEN 'BSECRET-' || g ELSE g::text END
  FROM generate_series(1, 20000) g;
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
VALUES (:a_jansen, '2026-02-01', 1, '2026-02-01'),
	   (:a_jansen, '2026-02-02', 1, '{"k": 1}'),
	   (:a_x, '2026-02-03', 1, 'BSECRET-DATE'),
	   (:a_x, '2026-02-04', 1, '{BSECRET-JSON');
-- the table owner's ordinary partial expression indexes, led by the
-- administration column (the planner serves a search only from such an
-- index, R24): each admits only the rows its expression can compute (::date and to_date() are not
-- immutable and cannot be indexed; their searches are checked all the same)
SET ROLE regress_owner;
CREATE INDEX journal_int_idx ON public.journal (administration_id, (reference::int))
	INCLUDE (reference) WHERE reference ~ '^[0-9]+$';
CREATE INDEX journal_num_idx ON public.journal (administration_id, (reference::numeric))
	WHERE reference ~ '^[0-9]+$';
CREATE INDEX journal_json_idx ON public.journal (administration_id, ((reference::json ->> 'k')))
	WHERE reference LIKE '{"%';
CREATE INDEX journal_substr_idx ON public.journal (administration_id, (substring(reference from '^([0-9]+)$')::int))
	WHERE reference ~ '^[0-9]+$';
RESET ROLE;
VACUUM (FREEZE, ANALYZE) public.journal;
-- lossy heap blocks of a query's bitmap heap scans, from EXPLAIN ANALYZE
CREATE OR REPLACE FUNCTION public.lossy_heap_blocks(query text) RETURNS bigint
	LANGUAGE plpgsql AS $$
DECLARE
	plan jsonb;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, FORMAT JSON) ' || query INTO plan;
	RETURN (SELECT sum(v::text::bigint)
			  FROM jsonb_path_query(plan, 'strict $.**."Lossy Heap Blocks"') v);
END $$;
RESET client_min_messages;
\set QUIET off
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
SET work_mem = '64kB';
SET max_parallel_workers_per_gather = 0;

-- 1. bitmap scans only, lossy: the cast runs in the Filter, after the
-- policies, never in the Recheck Cond
SET enable_seqscan = off;
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;
SELECT count(*) FROM journal WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;	-- ok: 10000, no error
SELECT count(*) FROM journal WHERE reference ~ '^[0-9]+$' AND reference::numeric >= 0;	-- ok: 10000
SELECT count(*) FROM journal WHERE reference ~ '^\d{4}-\d\d-\d\d$'
   AND reference::date >= '2026-01-01';												-- ok: 1
SELECT count(*) FROM journal WHERE reference ~ '^\d{4}-\d\d-\d\d$'
   AND to_date(reference, 'YYYY-MM-DD') >= '2026-01-01';							-- ok: 1
SELECT count(*) FROM journal WHERE reference LIKE '{"%' AND reference::json ->> 'k' = '1';	-- ok: 1
SELECT count(*) FROM journal WHERE reference ~ '^[0-9]+$'
   AND substring(reference from '^([0-9]+)$')::int > 9990;							-- ok: 5005
-- the proof that the bitmap went lossy: the executor's own count
SELECT public.lossy_heap_blocks($$SELECT count(*) FROM journal
 WHERE reference ~ '^[0-9]+$' AND reference::int >= 0$$) > 0 AS went_lossy;		-- ok: true
-- without the identity's scope the casts would have failed on firm Other's rows
RESET ROLE;
SELECT count(*) FROM journal WHERE administration_id = :a_x AND reference::int >= 0;	-- fails as superuser: shows the value, which is why it must never run before the policies

-- 2. plain index scans: the cast is the index condition, compared with the
-- values the index holds; the policies filter what it finds
SET ROLE regress_app;
RESET enable_indexscan;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;
SELECT count(*) FROM journal WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;	-- ok: 10000
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal WHERE reference ~ '^\d{4}-\d\d-\d\d$'
   AND to_date(reference, 'YYYY-MM-DD') >= '2026-01-01';
SELECT count(*) FROM journal WHERE reference ~ '^\d{4}-\d\d-\d\d$'
   AND to_date(reference, 'YYYY-MM-DD') >= '2026-01-01';							-- ok: 1
SELECT count(*) FROM journal WHERE reference LIKE '{"%' AND reference::json ->> 'k' = '1';	-- ok: 1

-- 3. an index-only scan (the integer index covers every column it needs)
SET enable_indexscan = off;
RESET enable_indexonlyscan;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal WHERE reference ~ '^[0-9]+$' AND reference::int < 101;
SELECT count(*) FROM journal WHERE reference ~ '^[0-9]+$' AND reference::int < 101;	-- ok: 50
RESET enable_indexscan;

-- 4. parallel scans: bitmap (lossy) and index, the policies in the workers
-- (the index search meets only the identity's own entries: too few for
-- workers here, the leader scans them; with parallel_setup_cost 0 as
-- well, serial and parallel plans of it cost about the same, and which
-- one the planner took changed from run to run)
SET min_parallel_table_scan_size = 0;
SET min_parallel_index_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;
SELECT count(*) FROM journal WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;	-- ok: 10000
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
-- the lossy bitmap heap scan run by a worker
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
RESET enable_bitmapscan;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;
SELECT count(*) FROM journal WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;	-- ok: 10000
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET min_parallel_index_scan_size;
SET max_parallel_workers_per_gather = 0;
RESET enable_indexscan;
RESET enable_indexonlyscan;

-- 5. no promotion where EvalPlanQual could recheck a newer row version:
-- UPDATE, DELETE and SELECT FOR UPDATE keep the cast in the filter
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
UPDATE journal SET amount = amount WHERE reference ~ '^[0-9]+$' AND reference::int = 7;
UPDATE journal SET amount = amount WHERE reference ~ '^[0-9]+$' AND reference::int = 7;	-- ok: UPDATE 1
EXPLAIN (COSTS OFF)
SELECT id FROM journal WHERE reference ~ '^[0-9]+$' AND reference::int = 7 FOR UPDATE;
SELECT count(*) FROM (SELECT id FROM journal
  WHERE reference ~ '^[0-9]+$' AND reference::int = 7 FOR UPDATE) l;				-- ok: 1
DELETE FROM journal WHERE reference ~ '^[0-9]+$' AND reference::int = 9;			-- ok: DELETE 1
RESET enable_bitmapscan;

-- 6. R24, R6: a search is served only by an expression index led by the
-- administration column, with the identity's administrations as its first
-- condition: the index then meets no other firm's entry.  An index of the
-- expression alone would match other firms' entries too, and how many it
-- matched shows in EXPLAIN ANALYZE ("Rows Removed by Filter") and in the
-- statistics counters anyone may read: searching by ranges, one character
-- at a time, rebuilt another firm's values (before: the fixture's
-- journal_reference_idx on lower(reference) alone served this search).
-- Firm Other's 'BSECRET-2' is searched for: it must count nowhere.
-- (the counters count what the backend has not yet sent to the statistics
-- system, which may include a moment of earlier transactions: each test
-- takes the difference across its query)
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal WHERE lower(reference) = 'jansen-1';
BEGIN;
SELECT pg_stat_get_xact_tuples_returned('public.journal_reference_idx'::regclass)
	AS returned_before \gset
SELECT count(*) FROM journal WHERE lower(reference) >= 'bsecret-2' AND lower(reference) < 'bsecret-3';	-- ok: 0
SELECT pg_stat_get_xact_tuples_returned('public.journal_reference_idx'::regclass) - :returned_before
	AS other_firms_counted;														-- ok: 0
COMMIT;
RESET ROLE;
SET ROLE regress_owner;
CREATE INDEX journal_adm_reference_idx ON public.journal (administration_id, lower(reference));
RESET ROLE;
ANALYZE public.journal;
SET ROLE regress_app;
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal WHERE lower(reference) = 'jansen-1';
BEGIN;
SELECT count(*) FROM journal WHERE lower(reference) = 'jansen-1';					-- ok: 1
SELECT count(*) FROM journal WHERE lower(reference) >= 'bsecret-2' AND lower(reference) < 'bsecret-3';	-- ok: 0
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM journal WHERE lower(reference) >= 'bsecret-2' AND lower(reference) < 'bsecret-3';	-- nothing removed by a filter
SELECT pg_stat_get_xact_tuples_returned('public.journal_adm_reference_idx'::regclass)
	AS entries_counted;															-- ok: 1, jansen-1's own
COMMIT;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal WHERE lower(reference) = 'jansen-1';
SELECT count(*) FROM journal WHERE lower(reference) = 'jansen-1';					-- ok: 1
RESET enable_indexscan;
RESET ROLE;
SET ROLE regress_owner;
DROP INDEX public.journal_adm_reference_idx;
RESET ROLE;
SET ROLE regress_app;

-- 7. R7, R6: a bitmap heap scan over the identity's administrations moves
-- the read check from its Filter to the front of its Recheck Cond
-- (planner.c, move_checks_to_recheck): every row of the bitmap passed the
-- exact condition "administration_id = ANY (visible_administrations('read'))",
-- so on an exact page nothing is evaluated per row for the policies.  The
-- pages are lossy here: their rows of firm Other are rechecked and dropped
-- before public.leaks(), which fails on any of them, sees a row.
SET ROLE regress_owner;
CREATE FUNCTION public.leaks(reference text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
	IF reference LIKE 'BSECRET%' THEN
		RAISE EXCEPTION 'leaked %', reference;
	END IF;
	RETURN true;
END $$;
GRANT EXECUTE ON FUNCTION public.leaks(text) TO PUBLIC;
SET ROLE regress_app;
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal WHERE public.leaks(reference);
SELECT count(*) FROM journal WHERE public.leaks(reference);						-- ok: 10004, no error
SELECT public.lossy_heap_blocks($$SELECT count(*) FROM journal
 WHERE public.leaks(reference)$$) > 0 AS went_lossy;							-- ok: true
-- the rows as jan reads them through an index scan, which never had the
-- check in its filter: the same
RESET enable_indexscan;
SET enable_bitmapscan = off;
SELECT count(*) FROM journal WHERE public.leaks(reference);						-- ok: 10004
RESET enable_bitmapscan;
-- a query that names one administration gets no list: its equality is the
-- index condition and takes the check (section 9); the check moves to the
-- Recheck Cond all the same
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal WHERE administration_id = :a_x;
SELECT count(*) FROM journal WHERE administration_id = :a_x;						-- ok: 0 (R6)
-- R7 for writes: an UPDATE through a bitmap moves the write check the same
-- way, and EvalPlanQual rechecks it (the Recheck Cond)
EXPLAIN (COSTS OFF) UPDATE journal SET amount = amount WHERE booked_on = '2026-02-01';
UPDATE journal SET amount = amount WHERE booked_on = '2026-02-01';				-- ok: UPDATE 1
RESET enable_indexscan;
RESET enable_indexonlyscan;

-- 8. R24, R6, R7 on a partitioned table: the planner hook treats each
-- partition scanned under the Append as the table it is (planner.c,
-- scans_one_table): the wall leaves the Filter where the read check
-- implies it, a partition's expression index serves the search, and a
-- bitmap heap scan checks in its Recheck Cond.  The journal's rows three
-- times, both firms on the same pages of each partition (hash of the id,
-- fillfactor 10), with the same partial expression indexes, under each
-- scan type: no cast and no leaks() ever sees a row of firm Other.
RESET ROLE;
SET client_min_messages = warning;
SET ROLE regress_owner;
CREATE TABLE public.parted (id bigint NOT NULL, administration_id bigint NOT NULL,
							reference text NOT NULL) PARTITION BY HASH (id);
CREATE TABLE public.parted_0 PARTITION OF public.parted
	FOR VALUES WITH (MODULUS 2, REMAINDER 0) WITH (fillfactor = 10);
CREATE TABLE public.parted_1 PARTITION OF public.parted
	FOR VALUES WITH (MODULUS 2, REMAINDER 1) WITH (fillfactor = 10);
CREATE INDEX parted_adm_idx ON public.parted (administration_id);
CREATE INDEX parted_lower_idx ON public.parted (administration_id, lower(reference));
CREATE INDEX parted_int_idx ON public.parted (administration_id, (reference::int)) WHERE reference ~ '^[0-9]+$';
SELECT tenancy.protect('public.parted', carry_on_migration => false) AS protected \gset
GRANT SELECT ON public.parted TO regress_app;
RESET ROLE;
INSERT INTO public.parted SELECT id + k * 1000000, administration_id, reference
  FROM public.journal, generate_series(0, 2) k;
VACUUM (FREEZE, ANALYZE) public.parted;
RESET client_min_messages;
SET ROLE regress_app;
-- index scans: each partition's index serves the cast and the search
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM parted WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;
SELECT count(*) FROM parted WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;	-- ok: 29997 (3 x 9,999)
EXPLAIN (COSTS OFF) SELECT count(*) FROM parted WHERE lower(reference) = 'jansen-1';
SELECT count(*) FROM parted WHERE lower(reference) = 'jansen-1';					-- ok: 3
SELECT count(*) FROM parted WHERE lower(reference) = 'bsecret-2';					-- ok: 0 (R6)
-- a sampled table keeps its sample scan: no index path is added beside it
-- (it would return every matching row instead of a sample)
EXPLAIN (COSTS OFF)
SELECT count(*) FROM parted TABLESAMPLE SYSTEM (50) REPEATABLE (7) WHERE lower(reference) = 'jansen-1';
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal TABLESAMPLE SYSTEM (50) REPEATABLE (7) WHERE lower(reference) = 'jansen-1';
RESET enable_bitmapscan;
-- bitmap scans only, lossy: the check in each Recheck Cond, the cast and
-- leaks() in the Filter after it
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM parted WHERE public.leaks(reference);
SELECT count(*) FROM parted WHERE public.leaks(reference);						-- ok: 30012 (3 x 10,004), no error
SELECT count(*) FROM parted WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;	-- ok: 29997, no error
SELECT public.lossy_heap_blocks($$SELECT count(*) FROM parted
 WHERE public.leaks(reference)$$) > 0 AS went_lossy;							-- ok: true
RESET enable_indexscan;
RESET enable_indexonlyscan;
-- an inheritance child whose columns lie elsewhere (a dropped column, the
-- rest in another order): the parent's policies and the query, translated
-- to the child's columns, are checked and promoted there the same way
RESET ROLE;
SET client_min_messages = warning;
SET ROLE regress_owner;
CREATE TABLE public.inh (administration_id bigint NOT NULL, reference text NOT NULL);
CREATE TABLE public.inh_child (dropped int, reference text NOT NULL, administration_id bigint NOT NULL);
ALTER TABLE public.inh_child DROP COLUMN dropped;
ALTER TABLE public.inh_child INHERIT public.inh;
CREATE INDEX inh_child_int_idx ON public.inh_child (administration_id, (reference::int)) WHERE reference ~ '^[0-9]+$';
CREATE INDEX inh_child_adm_idx ON public.inh_child (administration_id);
SELECT tenancy.protect('public.inh', carry_on_migration => false) AS protected \gset
GRANT SELECT ON public.inh TO regress_app;
RESET ROLE;
INSERT INTO public.inh_child (reference, administration_id)
SELECT reference, administration_id FROM public.journal;
VACUUM (FREEZE, ANALYZE) public.inh_child;
RESET client_min_messages;
SET ROLE regress_app;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM inh WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;
SELECT count(*) FROM inh WHERE reference ~ '^[0-9]+$' AND reference::int >= 0;	-- ok: 9999, no error
RESET enable_bitmapscan;

-- 9. R6, R7: a query that names one administration gets the check in its
-- index condition (planner.c, fold_pinned_check): "administration_id = x"
-- becomes "administration_id = tenancy.visible_administration(x, 'read')",
-- which the executor evaluates once when the scan starts: the id, or NULL
-- (no row) when the identity lacks the right.  No row of firm Other ever
-- reaches public.leaks(): under an index scan, a lossy bitmap, a nested
-- loop's parameterized scan, on partitions, and in a generic plan that
-- another identity executes.
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal WHERE administration_id = :a_x AND public.leaks(reference);
SELECT count(*) FROM journal WHERE administration_id = :a_x AND public.leaks(reference);		-- ok: 0, no error (R6)
SELECT count(*) FROM journal WHERE :a_jansen = administration_id AND public.leaks(reference);	-- ok: 10004
SELECT count(*) FROM journal WHERE administration_id = :a_x::smallint;						-- ok: 0 (R6)
SELECT count(*) FROM parted WHERE administration_id = :a_x AND public.leaks(reference);		-- ok: 0 (R6)
SELECT count(*) FROM parted WHERE administration_id = :a_jansen AND public.leaks(reference);	-- ok: 30012 (3 x 10,004)
-- an index-only scan, whose filter tests index tuples: folded the same way
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal WHERE administration_id = :a_x;
SELECT count(*) FROM journal WHERE administration_id = :a_x;							-- ok: 0 (R6)
SELECT count(*) FROM journal WHERE administration_id = :a_jansen;						-- ok: 10004
RESET enable_bitmapscan;
-- lossy bitmaps: the bitmap index scan takes the check, the Recheck Cond
-- keeps it for the rows of lossy pages
SET enable_indexscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal WHERE administration_id = :a_jansen AND public.leaks(reference);
SELECT count(*) FROM journal WHERE administration_id = :a_jansen AND public.leaks(reference);	-- ok: 10004
SELECT public.lossy_heap_blocks($$SELECT count(*) FROM journal
 WHERE administration_id = $$ || :a_jansen || $$ AND public.leaks(reference)$$) > 0 AS went_lossy;	-- ok: true
SELECT count(*) FROM journal WHERE administration_id = :a_x AND public.leaks(reference);		-- ok: 0, no error (R6)
RESET enable_indexscan;
-- a lateral subquery: the scan's value comes from the outer row (an
-- integer here, compared as a bigint), the check runs once per outer row
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT v.a = :a_jansen AS jansen, c.n FROM (VALUES (:a_x), (:a_jansen)) v(a),
  LATERAL (SELECT count(*) AS n FROM journal j
			WHERE j.administration_id = v.a AND public.leaks(j.reference)) c;
SELECT v.a = :a_jansen AS jansen, c.n FROM (VALUES (:a_x), (:a_jansen)) v(a),
  LATERAL (SELECT count(*) AS n FROM journal j
			WHERE j.administration_id = v.a AND public.leaks(j.reference)) c;	-- ok: f 0, t 10004, no error
-- a generic plan: the check is asked at each execution, for the identity
-- of that moment (R4: a prepared statement across identities)
SET plan_cache_mode = force_generic_plan;
PREPARE pinned(bigint) AS
SELECT count(*) FROM journal WHERE administration_id = $1 AND public.leaks(reference);
EXPLAIN (COSTS OFF) EXECUTE pinned(:a_jansen);
EXECUTE pinned(:a_jansen);															-- ok: 10004
EXECUTE pinned(:a_x);																-- ok: 0, no error (R6)
EXECUTE pinned(NULL);																-- ok: 0
-- the same generic plan kept across identities: a PL/pgSQL function's (a
-- statement prepared with SQL runs only under the identity that prepared
-- it, sql/pooling.sql section 14)
CREATE FUNCTION pg_temp.pinned(a bigint) RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RETURN (SELECT count(*) FROM journal WHERE administration_id = a AND public.leaks(reference)); END $$;
SELECT pg_temp.pinned(:a_jansen);													-- ok: 10004
SELECT tenancy.act_as(:u_staff);
SELECT pg_temp.pinned(:a_jansen);													-- ok: 0 (R7: sam has no right on it)
EXECUTE pinned(:a_jansen);															-- fails: prepared under jan
SELECT tenancy.act_as(:u_jan);
SELECT pg_temp.pinned(:a_jansen);													-- ok: 10004
DEALLOCATE pinned;
DROP FUNCTION pg_temp.pinned(bigint);
RESET plan_cache_mode;
-- R7 for writes: an UPDATE naming one administration takes both of its
-- policies' checks into the index condition; sam reads vries-ops1 and may
-- not write it
RESET ROLE;
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
SELECT :a_ops1, date '2026-03-01', 1, 'ops-' || g FROM generate_series(1, 3) g;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff);
EXPLAIN (COSTS OFF) UPDATE journal SET amount = 2 WHERE administration_id = :a_ops1;
UPDATE journal SET amount = 2 WHERE administration_id = :a_ops1;						-- ok: UPDATE 0 (R7)
SELECT count(*), sum(amount) FROM journal WHERE administration_id = :a_ops1;			-- ok: 6, 63.00: unchanged
SELECT tenancy.act_as(:u_jan);
UPDATE journal SET amount = 1 WHERE administration_id = :a_jansen AND reference = '2026-02-01';	-- ok: UPDATE 1
-- a parallel index scan: each process asks the check when its part starts
-- (leaks() may run in a worker; what it raises there reaches the leader)
RESET ROLE;
ALTER FUNCTION public.leaks(text) PARALLEL SAFE;
SET ROLE regress_app;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_index_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal WHERE administration_id = :a_jansen AND public.leaks(reference);
SELECT count(*) FROM journal WHERE administration_id = :a_jansen AND public.leaks(reference);	-- ok: 10004
SELECT count(*) FROM journal WHERE administration_id = :a_x AND public.leaks(reference);		-- ok: 0, no error (R6)
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_index_scan_size;
SET max_parallel_workers_per_gather = 0;
-- a scroll cursor read to the end, back to the start and to the end again
BEGIN;
DECLARE pinned_rows SCROLL CURSOR FOR
SELECT reference FROM journal WHERE administration_id = :a_jansen AND public.leaks(reference);
MOVE FORWARD ALL IN pinned_rows;													-- ok: MOVE 10004
MOVE BACKWARD ALL IN pinned_rows;													-- ok: MOVE 10004
MOVE FORWARD ALL IN pinned_rows;													-- ok: MOVE 10004
DECLARE other_rows SCROLL CURSOR FOR
SELECT reference FROM journal WHERE administration_id = :a_x AND public.leaks(reference);
MOVE FORWARD ALL IN other_rows;														-- ok: MOVE 0 (R6)
MOVE BACKWARD ALL IN other_rows;													-- ok: MOVE 0
COMMIT;
-- a hash index, whose matches are rechecked on each row: the rewritten
-- condition, with the check, is what the recheck evaluates
RESET ROLE;
BEGIN;
SET ROLE regress_owner;
DROP INDEX public.journal_administration_idx;
CREATE INDEX journal_administration_hash ON public.journal USING hash (administration_id);
SET ROLE regress_app;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal WHERE administration_id = :a_jansen AND public.leaks(reference);
SELECT count(*) FROM journal WHERE administration_id = :a_jansen AND public.leaks(reference);	-- ok: 10004
SELECT count(*) FROM journal WHERE administration_id = :a_x AND public.leaks(reference);		-- ok: 0, no error (R6)
ROLLBACK;
-- an index-only scan of a two-column index whose second column is pinned,
-- in a custom and in a generic plan
RESET ROLE;
BEGIN;
SET ROLE regress_owner;
DROP INDEX public.journal_administration_idx;
CREATE INDEX journal_booked_administration_idx ON public.journal (booked_on, administration_id);
SET ROLE regress_app;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal WHERE booked_on >= '2026-01-01' AND administration_id = :a_x;
SELECT count(*) FROM journal WHERE booked_on >= '2026-01-01' AND administration_id = :a_x;			-- ok: 0 (R6)
SELECT count(*) FROM journal WHERE booked_on >= '2026-01-01' AND administration_id = :a_jansen;		-- ok: 10004
SET plan_cache_mode = force_generic_plan;
PREPARE pinned_count(bigint) AS
SELECT count(*) FROM journal WHERE booked_on >= '2026-01-01' AND administration_id = $1;
EXPLAIN (COSTS OFF) EXECUTE pinned_count(:a_x);
EXECUTE pinned_count(:a_x);															-- ok: 0 (R6)
EXECUTE pinned_count(:a_jansen);													-- ok: 10004
DEALLOCATE pinned_count;
RESET plan_cache_mode;
ROLLBACK;
SET ROLE regress_app;
-- a pin reached through a join's USING column names the same column as the
-- policy, under another name: folded all the same
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal JOIN (VALUES (:a_x::bigint)) v(administration_id) USING (administration_id)
 WHERE administration_id = :a_x AND public.leaks(reference);
SELECT count(*) FROM journal JOIN (VALUES (:a_x::bigint)) v(administration_id) USING (administration_id)
 WHERE administration_id = :a_x AND public.leaks(reference);							-- ok: 0, no error (R6)
RESET enable_bitmapscan;

-- 10. R6, R24: a query that names firm Other's administration meets none of
-- its index entries, however the planner combines the query's conditions,
-- and whether or not the planner hook saw the plan.  The counters anyone
-- may read count the entries an index scan returned in this transaction.
-- 1.3 review: a BitmapOr made of the query's own OR scanned firm Other's
-- entries under each arm, and the first statement of a backend, planned
-- while the library was loading, was never folded: both counted them, and
-- searching by dates found the date of firm Other's latest booking.
RESET ROLE;
-- the entries the journal's indexes returned, as the counters show them
-- (what the backend has not yet sent: each test takes the difference
-- across its query); plain SQL, which loads nothing of tenancy
CREATE FUNCTION public.journal_entries_returned() RETURNS bigint LANGUAGE sql AS
$$SELECT sum(pg_stat_get_xact_tuples_returned(indexrelid))::bigint
	FROM pg_index WHERE indrelid = 'public.journal'::regclass$$;
SET ROLE regress_owner;
CREATE INDEX journal_adm_booked_idx ON public.journal (administration_id, booked_on);
RESET ROLE;
ANALYZE public.journal;
SET ROLE regress_app;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal
 WHERE administration_id = :a_x AND (booked_on >= '2026-02-03' OR booked_on < '1900-01-01');
BEGIN;
SELECT public.journal_entries_returned() AS returned_before \gset
SELECT count(*) FROM journal
 WHERE administration_id = :a_x AND (booked_on >= '2026-02-03' OR booked_on < '1900-01-01');	-- ok: 0 (R6)
SELECT public.journal_entries_returned() - :returned_before AS other_firm_entries;	-- ok: 0
COMMIT;
SELECT count(*) FROM journal
 WHERE administration_id = :a_jansen AND (booked_on >= '2026-02-02' OR booked_on < '1900-01-01');	-- ok: 1, jan's own
RESET enable_indexscan;
-- a partial index whose predicate implies the query's equality: the
-- equality is no condition of its scan, and the check's folded condition
-- takes its place (before: bounded only by booked_on, and checked after)
RESET ROLE;
SET ROLE regress_owner;
DROP INDEX public.journal_adm_booked_idx;
DROP INDEX public.journal_administration_idx;
CREATE INDEX journal_other_booked_idx ON public.journal (administration_id, booked_on)
 WHERE administration_id = :a_x;
RESET ROLE;
ANALYZE public.journal;
SET ROLE regress_app;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM journal WHERE administration_id = :a_x AND booked_on >= '2026-02-03';
BEGIN;
SELECT public.journal_entries_returned() AS returned_before \gset
SELECT count(*) FROM journal WHERE administration_id = :a_x AND booked_on >= '2026-02-03';	-- ok: 0 (R6)
SELECT public.journal_entries_returned() - :returned_before AS other_firm_entries;	-- ok: 0
COMMIT;
RESET enable_bitmapscan;
-- the first statement of a new backend, without an identity (firm Other's
-- entries are as foreign to it as to jan)
\c
BEGIN;
SET LOCAL ROLE regress_app;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT public.journal_entries_returned() AS returned_before \gset
SELECT count(*) FROM journal WHERE administration_id = :a_x AND booked_on >= '2026-02-03';	-- ok: 0 (R6)
SELECT public.journal_entries_returned() - :returned_before AS other_firm_entries;	-- ok: 0
COMMIT;
-- the same through a hash index, whose access method takes no list: the
-- folded condition all the same
SET ROLE regress_owner;
DROP INDEX public.journal_other_booked_idx;
CREATE INDEX journal_adm_hash_idx ON public.journal USING hash (administration_id);
RESET ROLE;
\c
BEGIN;
SET LOCAL ROLE regress_app;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT public.journal_entries_returned() AS returned_before \gset
SELECT count(*) FROM journal WHERE administration_id = :a_x;					-- ok: 0 (R6)
SELECT public.journal_entries_returned() - :returned_before AS other_firm_entries;	-- ok: 0
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal WHERE administration_id = :a_x;
COMMIT;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
SET enable_seqscan = off;
RESET ROLE;
DROP INDEX public.journal_adm_hash_idx;
DROP FUNCTION public.journal_entries_returned();
DROP TABLE public.inh_child, public.inh;
DROP TABLE public.parted;
DROP FUNCTION public.leaks(text);
SET ROLE regress_app;
RESET enable_seqscan;
RESET work_mem;
RESET max_parallel_workers_per_gather;
SELECT tenancy.reset();
RESET ROLE;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
DROP FUNCTION public.lossy_heap_blocks(text);
