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
-- a generic plan made for 42 administrations, run for 3 and for 1: a
-- PL/pgSQL function's, kept across identities (a statement prepared with
-- SQL runs only under the identity that prepared it, sql/pooling.sql)
CREATE FUNCTION pg_temp.all_lines(OUT n bigint, OUT lowest bigint) LANGUAGE plpgsql
AS $$ BEGIN SELECT count(*), min(administration_id) INTO n, lowest FROM journal; END $$;
SELECT * FROM pg_temp.all_lines();									-- ok: 126
SELECT tenancy.act_as(:u_piet);
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal;
SELECT * FROM pg_temp.all_lines();									-- ok: 9, piet's three
SELECT tenancy.act_as(:u_jan);
SELECT * FROM pg_temp.all_lines();									-- ok: 3, jansen only
DROP FUNCTION pg_temp.all_lines();
-- the twin returns what visible_administrations returns, and the same error
SELECT tenancy.visible_administrations_at_scan('read') = tenancy.visible_administrations('read') AS same;	-- ok: true
SELECT tenancy.visible_administrations_at_scan(NULL);				-- fails: null right
SELECT tenancy.visible_administrations_at_scan('everything');		-- fails: unknown right
-- R7: the index condition of a query that names one administration
-- (recheck.sql section 9) is the id where the identity holds the right,
-- NULL (no row) anywhere else
SELECT tenancy.visible_administration(:a_jansen, 'read') = :a_jansen AS jansen_read,	-- ok: t
	   tenancy.visible_administration(:a_jansen, 'manage') IS NULL AS no_manage,	-- ok: t
	   tenancy.visible_administration(:a_x, 'read') IS NULL AS other_firm,		-- ok: t (R6)
	   tenancy.visible_administration(-1, 'read') IS NULL AS unknown,			-- ok: t
	   tenancy.visible_administration(NULL, 'read') IS NULL AS null_id;			-- ok: t
SELECT tenancy.visible_administration(:a_jansen, NULL);			-- fails: null right
SELECT tenancy.visible_administration(:a_jansen, 'everything');	-- fails: unknown right
-- a rights argument that changes from row to row is read on each row (a
-- constant one is parsed once per call site and kept)
SELECT v.r AS rights, tenancy.can(:a_jansen, v.r) AS can,
	   tenancy.visible_administration(:a_jansen, v.r) IS NOT NULL AS visible
  FROM (VALUES ('read'), ('manage'), ('write')) v(r);				-- ok: t, f, t twice
SELECT tenancy.reset();
SELECT tenancy.visible_administrations_at_scan('read') AS nobody;	-- ok: empty, no identity
SELECT tenancy.visible_administration(:a_jansen, 'read') AS nobody;	-- ok: NULL, no identity
RESET ROLE;

-- 4. R7, R12, R14, R24: the list computed at scan serves every way a plan
-- runs.  staff now writes 40 administrations (bulk-40 archived: read only,
-- R12), so the write check takes its list at scan too.
SET client_min_messages = warning;
SELECT count(tenancy.grant_rights(:u_staff, id, '{read,write}')) AS writable
  FROM tenancy.administration WHERE code LIKE 'bulk-%';
UPDATE tenancy.administration SET state = 'archived' WHERE code = 'bulk-40';
SELECT id AS a_archived FROM tenancy.administration WHERE code = 'bulk-40' \gset
CREATE ROLE regress_planner_bi_firm LOGIN;
CREATE ROLE regress_planner_bi_jansen LOGIN;
SELECT tenancy.bind_reporting_login('regress_planner_bi_firm', :c_cli) \gset
SELECT tenancy.bind_reporting_login('regress_planner_bi_jansen', :c_cli, :cl_jansen) \gset
GRANT SELECT ON public.journal TO regress_planner_bi_firm, regress_planner_bi_jansen;
SET ROLE regress_owner;
CREATE FUNCTION public.journal_lines() RETURNS bigint
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
	AS $$ BEGIN RETURN (SELECT count(*) FROM public.journal); END $$;
REVOKE ALL ON FUNCTION public.journal_lines() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.journal_lines() TO regress_app;
RESET ROLE;
RESET client_min_messages;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff);
SELECT array_length(tenancy.visible_administrations('write'), 1) AS staff_writes;	-- ok: 40, not bulk-40
EXPLAIN (COSTS OFF) UPDATE journal SET amount = amount WHERE booked_on = date '2026-01-02';
UPDATE journal SET amount = amount WHERE booked_on = date '2026-01-02';	-- ok: 40, hold and bulk-1..39
UPDATE journal SET amount = 0 WHERE administration_id = :a_archived;	-- ok: 0 rows, archived (R12)
DELETE FROM journal WHERE administration_id = :a_archived;				-- ok: 0 rows, archived (R12)
INSERT INTO journal (administration_id, booked_on, amount, reference)
	VALUES (:a_archived, '2026-06-01', 1, 'late');						-- fails: archived (R12)
MERGE INTO journal j USING (VALUES (:a_hold), (:a_jansen)) v(a) ON j.administration_id = v.a
	WHEN MATCHED THEN UPDATE SET amount = j.amount;					-- ok: MERGE 3, hold's rows only
MERGE INTO journal j USING (VALUES (:a_archived)) v(a) ON j.administration_id = v.a
	WHEN MATCHED THEN DELETE;											-- fails: readable, not writable (R12)
-- the protected table as the inner side of a nested loop: rescanned per
-- outer row, with the list of who runs it
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_memoize = off;
SET enable_material = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM (VALUES (:a_hold), (:a_ops2), (:a_jansen), (:a_x)) v(a)
  JOIN journal j ON j.administration_id = v.a;
SELECT count(*) FROM (VALUES (:a_hold), (:a_ops2), (:a_jansen), (:a_x)) v(a)
  JOIN journal j ON j.administration_id = v.a;							-- ok: 3, hold only
SELECT tenancy.act_as(:u_piet);
SELECT count(*) FROM (VALUES (:a_hold), (:a_ops2), (:a_jansen), (:a_x)) v(a)
  JOIN journal j ON j.administration_id = v.a;							-- ok: 6, hold and ops2
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_memoize;
RESET enable_material;
-- a SECURITY DEFINER function of the table owner: its cached plan, made
-- for piet, counts for whoever acts (R3: the owner's rights give no scope)
SELECT public.journal_lines() AS piet_lines;							-- ok: 9
SELECT tenancy.act_as(:u_staff);
SELECT public.journal_lines() AS staff_lines;							-- ok: 126
SELECT tenancy.act_as(:u_jan);
SELECT public.journal_lines() AS jan_lines;								-- ok: 3
-- parallel scans: each worker computes the list for the same identity
SELECT tenancy.act_as(:u_staff);
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_index_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal;
SELECT count(*) FROM journal;											-- ok: 126
RESET enable_bitmapscan;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal;
SELECT count(*) FROM journal;											-- ok: 126
RESET enable_indexscan;
SET enable_bitmapscan = off;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_index_scan_size;
RESET max_parallel_workers_per_gather;
SELECT tenancy.reset();
RESET ROLE;
-- a reporting login of the whole compartment (44 administrations, R15)
-- prepares; a login bound to client jansen runs the statement (R14)
CREATE FUNCTION pg_temp.bi_lines() RETURNS bigint LANGUAGE plpgsql
AS $$ BEGIN RETURN (SELECT count(*) FROM journal); END $$;
SET SESSION AUTHORIZATION regress_planner_bi_firm;
PREPARE bi_lines AS SELECT count(*) FROM journal;
EXPLAIN (COSTS OFF) EXECUTE bi_lines;
EXECUTE bi_lines;														-- ok: 132, 44 administrations
SELECT pg_temp.bi_lines();												-- ok: 132, its plan cached
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_planner_bi_jansen;
SELECT pg_temp.bi_lines();												-- ok: 3, jansen only
EXECUTE bi_lines;														-- fails: prepared by another login
RESET SESSION AUTHORIZATION;
DEALLOCATE bi_lines;
DROP FUNCTION pg_temp.bi_lines();

-- 5. R7: the boundary.  32 administrations: the list is the planner's to
-- estimate; the 33rd granted, the next plan takes it at scan, and both read
-- exactly the administrations held
SELECT count(tenancy.grant_rights(:u_admin, id, '{read}')) AS granted
  FROM tenancy.administration WHERE code ~ '^bulk-([1-9]|[12][0-9]|3[0-2])$';
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal;
SELECT count(*), count(DISTINCT administration_id) FROM journal;		-- ok: 96, 32
RESET ROLE;
SELECT tenancy.grant_rights(:u_admin, id, '{read}') FROM tenancy.administration WHERE code = 'bulk-33' \gset
SET ROLE regress_app;
EXPLAIN (COSTS OFF) SELECT count(*) FROM journal;
SELECT count(*), count(DISTINCT administration_id) FROM journal;		-- ok: 99, 33
SELECT tenancy.reset();
RESET ROLE;

-- 6. R24, and no internal error: an index whose access method searches no
-- arrays (GiST: btree_gist's, which an exclusion constraint on the
-- administration column needs) gets no list condition from the support
-- function, which a plain index scan of it could not run ("ScalarArrayOpExpr
-- index qual found where not allowed", XX000); the check stays a filter and
-- the scan reads the identity's rows
CREATE EXTENSION btree_gist;
SET ROLE regress_owner;
CREATE TABLE public.period (
	administration_id bigint NOT NULL,
	during		daterange NOT NULL,
	EXCLUDE USING gist (administration_id WITH =, during WITH &&)
);
SELECT tenancy.protect('public.period');
GRANT SELECT ON public.period TO regress_app;
RESET ROLE;
INSERT INTO public.period
SELECT a, daterange(date '2024-01-01' + g, date '2024-01-01' + g + 1)
  FROM unnest(ARRAY[:a_hold, :a_ops1, :a_jansen, :a_x]::bigint[]) a, generate_series(0, 99) g;
ANALYZE public.period;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff);
EXPLAIN (COSTS OFF)
SELECT count(*) FROM period WHERE during && daterange('2024-02-01', '2024-02-03');
SELECT count(*), count(DISTINCT administration_id)
  FROM period WHERE during && daterange('2024-02-01', '2024-02-03');	-- ok: 4, 2 (hold, ops1)
SELECT tenancy.reset();
RESET ROLE;
DROP TABLE public.period;
DROP EXTENSION btree_gist;

-- cleanup
RESET enable_seqscan;
RESET enable_bitmapscan;
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
DROP FUNCTION public.journal_lines();
DROP ROLE regress_planner_bi_firm, regress_planner_bi_jansen;
