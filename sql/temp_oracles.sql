--
-- temp_oracles: R24 -- a temporary table filled under one identity is not
-- read under another, not even through what PostgreSQL derives from its
-- rows: the statistics an ANALYZE stored (pg_stats shows a column's values),
-- the validation of ALTER TABLE ... ATTACH PARTITION under a table of one's
-- own, and of CREATE TABLE ... PARTITION OF beside its default partition
-- (both succeed or fail on whether a value is there).  Found by the 1.3
-- review; sql/pooling.sql holds the direct reads.
--
\i test/fixture.sql

-- setup: jan's request fills a temporary table with jan's references,
-- analyzes it, and partitions another by reference with a default part
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
CREATE TEMP TABLE jan_refs AS SELECT reference FROM journal;
ANALYZE jan_refs;
CREATE TEMP TABLE jan_parts (reference text) PARTITION BY LIST (reference);
CREATE TEMP TABLE jan_rest PARTITION OF jan_parts DEFAULT;
INSERT INTO jan_parts SELECT reference FROM journal;
SELECT count(*) FROM jan_refs;										-- ok: 3, jan's own
SELECT attname, histogram_bounds FROM pg_stats
 WHERE tablename = 'jan_refs';										-- ok: jan reads its own statistics

-- 1. the next request, acting as otto of another firm, reads no value of
-- jan's through the statistics
SELECT tenancy.act_as(:u_other);
SELECT count(*) FROM jan_refs;										-- fails: created under jan
SELECT attname, histogram_bounds FROM pg_stats
 WHERE tablename = 'jan_refs';										-- fails: jan's values
SELECT count(*) FROM pg_stats_ext;									-- fails: likewise

-- 2. attaching jan's table under a table of otto's validates jan's rows:
-- success would tell that jan's references are exactly these
CREATE TEMP TABLE otto_parts (reference text) PARTITION BY LIST (reference);
ALTER TABLE otto_parts ATTACH PARTITION jan_refs
	FOR VALUES IN ('jansen-1', 'jansen-2', 'jansen-3');			-- fails: created under jan
ALTER TABLE otto_parts ATTACH PARTITION jan_refs DEFAULT;			-- fails: likewise

-- 3. a new partition of jan's table checks jan's default partition
CREATE TEMP TABLE otto_probe PARTITION OF jan_parts
	FOR VALUES IN ('jansen-1');										-- fails: created under jan
CREATE TEMP TABLE otto_child () INHERITS (jan_refs);				-- fails: likewise

-- 4. without any other identity's temporary table, statistics read as before
DROP TABLE otto_parts;												-- ok: otto's own
SELECT tenancy.act_as(:u_jan);
SELECT count(*) > 0 AS jan_reads_stats FROM pg_stats
 WHERE tablename = 'jan_refs';										-- ok: its own again
DROP TABLE jan_refs, jan_parts;
SELECT tenancy.act_as(:u_other);
SELECT count(*) FROM pg_stats WHERE tablename = 'jan_refs';			-- ok: 0, nothing of jan's left
SELECT tenancy.reset();
DISCARD TEMP;
RESET ROLE;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
