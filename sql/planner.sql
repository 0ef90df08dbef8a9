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

-- cleanup
RESET enable_seqscan;
RESET enable_bitmapscan;
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
