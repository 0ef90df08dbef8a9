--
-- planner: R7, R24 -- the planner code (set_rel_pathlist hook and the
-- support function of row_readable/row_writable) finds tenancy's functions
-- by OID, cached per backend, and finds them again after DROP EXTENSION and
-- CREATE EXTENSION in the same session (new OIDs)
--
\i test/fixture.sql
SET enable_seqscan = off;
SET enable_bitmapscan = off;

-- 1. R7: a read check becomes an exact index condition on the visible ids,
-- and the wall it implies is dropped
SET ROLE regress_app;
SELECT tenancy.act_as(:u_piet);
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal;
SELECT count(*) FROM journal;										-- ok: 9, hold, ops1, ops2
SELECT tenancy.reset();
RESET ROLE;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- 2. the same session after DROP EXTENSION and CREATE EXTENSION: the
-- functions have new OIDs, the cache looks them up again
\set ECHO none
\i test/fixture.sql
\set ECHO all
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_piet);
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal;
SELECT count(*) FROM journal;										-- ok: 9, the same rows
SELECT tenancy.act_as(:u_jan);
SELECT count(*) FROM journal;										-- ok: 3, jansen only
SELECT tenancy.reset();
RESET ROLE;

-- 3. R7, R24: for an identity with more administrations than the planner
-- estimates one by one (32), the index condition takes the list from the
-- volatile twin visible_administrations_at_scan, which the planner does not
-- compute: planning costs the same for 20,000 administrations as for 3.
-- The list is computed when the scan starts, for whoever runs the plan.
SET client_min_messages = warning;
SELECT count(*) AS created FROM (
	SELECT tenancy.grant_rights(:u_staff,
			tenancy.create_administration(:cl_vries, 'bulk-' || g, 'Bulk ' || g), '{read}')
	  FROM generate_series(1, 40) g) s;
RESET client_min_messages;
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
SELECT a.id, date '2026-01-01' + g, g, a.code || '-' || g
  FROM tenancy.administration a, generate_series(1, 3) g
 WHERE a.code LIKE 'bulk-%';
ANALYZE public.journal;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff);
SELECT array_length(tenancy.visible_administrations('read'), 1) AS staff_reads;	-- ok: 42
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal;
SELECT count(*) FROM journal;										-- ok: 126, 42 administrations
-- a generic plan made for 42 administrations, run for 3 and for 1
PREPARE all_lines AS SELECT count(*), min(administration_id) FROM journal;
EXECUTE all_lines;													-- ok: 126
SELECT tenancy.act_as(:u_piet);
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal;
EXECUTE all_lines;													-- ok: 9, piet's three
SELECT tenancy.act_as(:u_jan);
EXECUTE all_lines;													-- ok: 3, jansen only
DEALLOCATE all_lines;
-- the twin returns what visible_administrations returns, and the same error
SELECT tenancy.visible_administrations_at_scan('read') = tenancy.visible_administrations('read') AS same;	-- ok: true
SELECT tenancy.visible_administrations_at_scan(NULL);				-- fails: null right
SELECT tenancy.reset();
SELECT tenancy.visible_administrations_at_scan('read') AS nobody;	-- ok: empty, no identity
RESET ROLE;

-- cleanup
RESET enable_seqscan;
RESET enable_bitmapscan;
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
