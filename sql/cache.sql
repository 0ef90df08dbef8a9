--
-- cache: R7, R12 -- the visibility cache answers the same whatever form an
-- identity takes in it (visibility.c): probed administration by
-- administration, loaded complete, or held as one mask when a user has the
-- same rights on every administration of its compartment (here 300).
--
\set QUIET on
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS tenancy CASCADE;
CREATE EXTENSION tenancy;
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_cache_app') THEN
		CREATE ROLE regress_cache_app LOGIN IN ROLE tenancy_app;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_cache_report') THEN
		CREATE ROLE regress_cache_report LOGIN;
	END IF;
END $$;
SELECT tenancy.create_compartment(tenancy.create_subscription('Cache'), 'cache', 'Cache firm') AS comp \gset
SELECT tenancy.create_client(:comp, 'c', 'Client') AS cl \gset
SELECT tenancy.add_user(:comp, 'all@cache.example', 'internal') AS u_all \gset
SELECT tenancy.add_user(:comp, 'most@cache.example', 'internal') AS u_most \gset
SELECT tenancy.create_compartment(tenancy.create_subscription('Other'), 'other', 'Other firm') AS comp2 \gset
SELECT tenancy.create_administration(tenancy.create_client(:comp2, 'x', 'X'), 'x', 'X books') AS a_other \gset
CREATE TEMP TABLE adm AS
SELECT g, tenancy.create_administration(:cl, 'a' || g, 'books ' || g) AS id
  FROM generate_series(1, 300) g;
SELECT count(tenancy.grant_rights(:u_all, id, '{read,write}')) FROM adm;
SELECT count(tenancy.grant_rights(:u_most, id, '{read}')) FROM adm WHERE g > 1;
SELECT min(id) AS a_first, max(id) AS a_last FROM adm \gset
DROP TABLE adm;
RESET client_min_messages;
\set QUIET off

-- 1. every form answers alike: "all" (one mask after its complete load),
-- "most" (299 entries); a probe first, then the complete load
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_all) IS NULL AS acting;
SELECT tenancy.can(:a_last, 'write') AS probed_write,				-- ok: t
	   tenancy.can(:a_other, 'read') AS other_firm;					-- ok: f (R6)
-- 32 probes, then the complete load finds one mask for all 300
SELECT count(*) FILTER (WHERE tenancy.can(a, 'write')) AS all_writes	-- ok: 300
  FROM generate_series(:a_first, :a_last) a;
SELECT tenancy.can(:a_first, 'read') AS first, tenancy.can(:a_last, 'write') AS last,
	   tenancy.can(:a_other, 'read') AS other_firm, tenancy.can(-1) AS unknown;
RESET ROLE;
SELECT complete_identities, entries < 300 AS held_as_one_mask FROM tenancy.cache_statistics();
SET ROLE regress_cache_app;
SELECT array_length(tenancy.visible_administrations('write'), 1) AS listed;	-- ok: 300
SELECT tenancy.act_as_local(:u_most) IS NULL AS acting;
SELECT tenancy.can(:a_first, 'read') AS first_denied,				-- ok: f (R7)
	   tenancy.can(:a_last, 'read') AS last,
	   tenancy.can(:a_last, 'write') AS no_write;
SELECT array_length(tenancy.visible_administrations('read'), 1) AS most_reads;	-- ok: 299
COMMIT;
RESET ROLE;

-- 2. the uniform mask follows the administration's state: archived means
-- read-only (R12), for "all" as for everyone
UPDATE tenancy.administration SET state = 'archived' WHERE id = :a_last;
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_all) IS NULL AS acting;
SELECT tenancy.can(:a_last, 'read') AS archived_read,				-- ok: t
	   tenancy.can(:a_last, 'write') AS archived_write,				-- ok: f (R12)
	   tenancy.can(:a_first, 'write') AS active_write;				-- ok: t
SELECT count(*) FILTER (WHERE tenancy.can(a, 'write')) AS writes		-- ok: 299
  FROM generate_series(:a_first, :a_last) a;
SELECT array_length(tenancy.visible_administrations('write'), 1) AS listed;	-- ok: 299
COMMIT;
RESET ROLE;

-- 3. a revoke on one administration: "all" is no longer uniform, and the
-- next statement knows it (R7)
SELECT tenancy.revoke_rights(:u_all, :a_first, NULL);
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_all) IS NULL AS acting;
SELECT tenancy.can(:a_first, 'read') AS revoked,					-- ok: f
	   tenancy.can(:a_first + 1, 'write') AS kept;					-- ok: t
SELECT count(*) FILTER (WHERE tenancy.can(a, 'read')) AS reads			-- ok: 299
  FROM generate_series(:a_first, :a_last) a;
SELECT array_length(tenancy.visible_administrations('read'), 1) AS listed;	-- ok: 299
COMMIT;
RESET ROLE;

-- 4. R7, R12, R20: a complete load reads a user's permissions by a merge
-- of two index scans, administrations of its compartment and permissions of
-- the user (probe.c).  "spread" holds rights scattered over the 300 and on
-- two administrations created between another firm's; its rights are the
-- catalog's, write dropped where archived (R12), a delegation of the other
-- firm's administration on top (R20).
SET client_min_messages = warning;
SELECT tenancy.add_user(:comp, 'spread@cache.example', 'internal') AS u_spread \gset
SELECT tenancy.add_user(:comp, 'late@cache.example', 'internal') AS u_late \gset
SELECT id AS cl2 FROM tenancy.client WHERE compartment_id = :comp2 \gset
SELECT tenancy.create_administration(:cl, 'i1', 'between 1') AS a_i1 \gset
SELECT tenancy.create_administration(:cl2, 'j1', 'other 1') AS a_j1 \gset
SELECT tenancy.create_administration(:cl, 'i2', 'between 2') AS a_i2 \gset
SELECT tenancy.create_administration(:cl2, 'j2', 'other 2') AS a_j2 \gset
SELECT count(tenancy.grant_rights(:u_spread, a, r)) AS granted
  FROM (VALUES (:a_first + 1, '{read}'::text[]), (:a_first + 2, '{read,write}'),
			   (:a_first + 3, '{submit}'), (:a_first + 120, '{read,write}'),
			   (:a_first + 200, '{read,manage}'), (:a_first + 201, '{write}'),
			   (:a_last, '{read,write}'), (:a_i1, '{read}'), (:a_i2, '{read,write}')) g(a, r);
SELECT tenancy.grant_rights(:u_late, :a_i2, '{read}') \gset
SELECT tenancy.delegate(:a_j1, :u_spread, '{read}', now() + interval '1 month') IS NOT NULL AS delegated;
RESET client_min_messages;
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_spread) IS NULL AS acting;
SELECT administration_id - :a_first AS nth, rights				-- ok: seven, a_last (299) read only
  FROM tenancy.my_rights()
 WHERE administration_id < :a_i1
 ORDER BY 1;
SELECT administration_id = :a_i1 AS i1, administration_id = :a_i2 AS i2,
	   administration_id = :a_j1 AS j1_delegated, rights			-- ok: i1, j1 (R20), i2
  FROM tenancy.my_rights()
 WHERE administration_id >= :a_i1
 ORDER BY administration_id;
SELECT tenancy.visible_administrations('write') = ARRAY[:a_first + 2, :a_first + 120, :a_first + 201, :a_i2]::bigint[]
	AS writes_not_archived;											-- ok: t, not a_last (R12)
COMMIT;
-- "late" holds one right, past the 300: its load reads the index up to it
-- by a descent, not by stepping over the 300 (before: 300 entries read)
BEGIN;
SELECT tenancy.act_as_local(:u_late) IS NULL AS acting;
SELECT pg_stat_get_xact_tuples_returned('tenancy.administration_compartment_id_id_key'::regclass) AS entries_before \gset
SELECT tenancy.visible_administrations('read') = ARRAY[:a_i2]::bigint[] AS late_reads;	-- ok: t
SELECT pg_stat_get_xact_tuples_returned('tenancy.administration_compartment_id_id_key'::regclass)
	   - :entries_before < 50 AS descended;								-- ok: t
COMMIT;
RESET ROLE;

-- 5. R6: a user holding the same rights on every administration of its
-- compartment (one mask) reads tables shared with other firms; its complete
-- load keeps the compartment's list of ids, which says "outside" for
-- another firm's administration without a probe of it (before: one probe
-- per such administration, for each firm met in the table)
SET client_min_messages = warning;
SELECT tenancy.add_user(:comp, 'staff@cache.example', 'internal') AS u_staff \gset
SELECT count(tenancy.grant_rights(:u_staff, id, '{read}')) AS staff_granted
  FROM tenancy.administration WHERE compartment_id = :comp;
SELECT array_agg(tenancy.create_administration(:cl2, 'k' || g, 'other ' || g))
	   AS other_ids
  FROM generate_series(1, 5) g \gset
RESET client_min_messages;
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff) IS NULL AS acting;
SELECT array_length(tenancy.visible_administrations('read'), 1) AS staff_reads;	-- ok: 302
RESET ROLE;
SELECT administrations AS known_before FROM tenancy.cache_statistics() \gset
SET ROLE regress_cache_app;
SELECT count(*) FILTER (WHERE tenancy.can(id, 'read')) AS other_firm_reads	-- ok: 0 (R6)
  FROM unnest(:'other_ids'::bigint[]) id;
SELECT tenancy.can(:a_first + 5, 'read') AS own_read,				-- ok: t
	   tenancy.can(:a_last, 'write') AS archived_write,				-- ok: f (R12)
	   tenancy.can(:a_j1, 'read') AS delegated_to_another;			-- ok: f
RESET ROLE;
SELECT administrations - :known_before AS other_firm_probed			-- ok: 0
  FROM tenancy.cache_statistics();
COMMIT;
-- R7: a new administration granted to staff is readable at the next
-- statement (a mask and list kept from before would say "outside")
SET client_min_messages = warning;
SELECT tenancy.create_administration(:cl, 'n1', 'new one') AS a_new \gset
SELECT tenancy.grant_rights(:u_staff, :a_new, '{read}') \gset
RESET client_min_messages;
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff) IS NULL AS acting;
SELECT tenancy.can(:a_new, 'read') AS new_read,						-- ok: t
	   (SELECT count(*) FILTER (WHERE tenancy.can(id, 'read'))
		  FROM unnest(:'other_ids'::bigint[]) id) AS other_firm_reads;	-- ok: t, 0
COMMIT;
RESET ROLE;

-- 6. the DBA's bounds hold in a backend that loads the library late: a
-- setting given before the load (ALTER ROLE ... SET, applied at login; the
-- login's first call of tenancy loads it) keeps its value, also for the
-- settings defined after the prefix "tenancy" was reserved (until 1.3 the
-- reservation dropped them with a WARNING, and the backend ran with the
-- default cache bound and logged identities it was told not to)
ALTER ROLE regress_cache_app SET tenancy.cache_entries = 5000;
ALTER ROLE regress_cache_app SET tenancy.log_identity = off;
\c - regress_cache_app
SELECT tenancy.reset();												-- loads the library
SELECT current_setting('tenancy.cache_entries') AS cache_entries,		-- ok: 5000
	   current_setting('tenancy.log_identity') AS log_identity;		-- ok: off
SET tenancy.no_such_setting = 1;									-- fails: the prefix is reserved
\c - postgres
ALTER ROLE regress_cache_app RESET ALL;
-- the bound holds while act_as_local seeds users the backend has not met
-- and the identity in use is the least recently used one (1.3 review:
-- the eviction stopped at it, and the cache grew past the bound)
CREATE TABLE bound_users AS
	SELECT tenancy.add_user(:comp, 'bound' || g || '@cache.example', 'internal') AS id
	  FROM generate_series(1, 200) g;
\c -
SET tenancy.cache_entries = 1000;
BEGIN;
DO $$
DECLARE
	users bigint[] := (SELECT array_agg(id ORDER BY id) FROM bound_users);
	u bigint;
BEGIN
	PERFORM tenancy.act_as_local(users[1]);
	PERFORM tenancy.can((SELECT min(id) FROM tenancy.administration));
	FOREACH u IN ARRAY users[2:] LOOP
		PERFORM tenancy.act_as_local(u);
	END LOOP;
END
$$;
SELECT identities * 16 <= 1000 AS within_bound FROM tenancy.cache_statistics();	-- ok: t
COMMIT;
RESET tenancy.cache_entries;
DROP TABLE bound_users;

-- 7. R2, R7, R14: inside one statement a row's answer comes from a slot
-- filled by an earlier row (visibility.c, fast_answer_holds), but only for
-- the identity in force.  The user changes row by row: each row answers for
-- its own user ("all" may write a_first + 1, "most" only read it).
SET ROLE regress_cache_app;
BEGIN;
SELECT i, tenancy.act_as_local(CASE WHEN i % 2 = 1 THEN :u_all ELSE :u_most END) IS NULL AS acting,
	   tenancy.row_writable(:a_first + 1) AS writes,				-- ok: t, f, t, f
	   tenancy.row_readable(:a_first + 1) AS reads					-- ok: t
  FROM generate_series(1, 4) i;
COMMIT;
RESET ROLE;
-- a reporting login's binding is the session user's: the session user
-- changes between two answers of one row, and the second is the DBA's own
-- (no identity, no binding: nothing, R2)
SELECT tenancy.bind_reporting_login('regress_cache_report', :comp) IS NOT NULL AS bound;
SELECT set_config('session_authorization', 'regress_cache_report', false) AS login,
	   tenancy.row_readable(:a_first) AS report_reads,				-- ok: t (R14)
	   set_config('session_authorization', 'postgres', false) AS back,
	   tenancy.row_readable(:a_first) AS dba_reads;					-- ok: f (R2)
RESET session_authorization;

-- 8. R7: what flushes the cache is a change it cannot follow, not any
-- error or any parallel statement.  A REPEATABLE READ transaction whose
-- exception blocks catch errors keeps what it loaded (until the second
-- review of 1.3 each caught error flushed it); a subtransaction that
-- changed rights and rolled back flushes it.
SET ROLE regress_cache_app;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT tenancy.act_as_local(:u_most) IS NULL AS acting;
SELECT tenancy.can(:a_last, 'read') AS reads;						-- ok: t
RESET ROLE;
SELECT flushes AS flushes_before FROM tenancy.cache_statistics() \gset
SET ROLE regress_cache_app;
DO $$
BEGIN
	FOR i IN 1..5 LOOP
		BEGIN
			PERFORM 1 / 0;
		EXCEPTION WHEN division_by_zero THEN
			NULL;
		END;
	END LOOP;
END
$$;
SELECT tenancy.can(:a_last, 'read') AS still_reads;					-- ok: t
RESET ROLE;
SELECT flushes - :flushes_before AS flushed FROM tenancy.cache_statistics();	-- ok: 0
COMMIT;
BEGIN;
SELECT flushes AS flushes_before FROM tenancy.cache_statistics() \gset
SAVEPOINT s;
SELECT tenancy.revoke_rights(:u_most, :a_last) IS NULL AS revoked;
ROLLBACK TO SAVEPOINT s;
SELECT flushes - :flushes_before > 0 AS flushed FROM tenancy.cache_statistics();	-- ok: t
COMMIT;
-- Statements in parallel mode (here the leader does the work) keep what
-- they load when their snapshot sees every change the cache has applied:
-- one complete load for three statements (until the second review of 1.3,
-- one for each)
SET force_parallel_mode = on;
SET max_parallel_workers = 0;
SELECT complete_loads AS loads_before FROM tenancy.cache_statistics() \gset
SET ROLE regress_cache_app;
SELECT tenancy.act_as(:u_most) IS NULL AS acting;
SELECT count(*) FILTER (WHERE tenancy.can(a, 'read')) AS reads		-- ok: 299, three times
  FROM generate_series(:a_first, :a_last) a;
SELECT count(*) FILTER (WHERE tenancy.can(a, 'read')) AS reads
  FROM generate_series(:a_first, :a_last) a;
SELECT count(*) FILTER (WHERE tenancy.can(a, 'read')) AS reads
  FROM generate_series(:a_first, :a_last) a;
SELECT tenancy.reset();
RESET ROLE;
SELECT complete_loads - :loads_before AS loads FROM tenancy.cache_statistics();	-- ok: 1
RESET force_parallel_mode;
RESET max_parallel_workers;

-- 9. R7: a partial identity keeps its probed answers sorted whatever order
-- the probes come in (add_entry inserts by bisection): "zigzag" reads 31
-- administrations and writes every third; they are probed from the last
-- down, then, after a switch of identity, asked again from the first up
-- and scattered, answered from the entries (no new probe), each as granted
SET client_min_messages = warning;
SELECT tenancy.add_user(:comp, 'zigzag@cache.example', 'internal') AS u_zigzag \gset
SELECT count(tenancy.grant_rights(:u_zigzag, a,
			CASE WHEN (a - :a_first) % 3 = 0 THEN '{read,write}' ELSE '{read}' END::text[])) AS granted
  FROM generate_series(:a_first + 10, :a_first + 40) a;
RESET client_min_messages;
SELECT complete_identities AS complete_before FROM tenancy.cache_statistics() \gset
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_zigzag) IS NULL AS acting;
SELECT count(*) FILTER (WHERE tenancy.can(a, 'write')) AS writes_down			-- ok: 10
  FROM generate_series(:a_first + 40, :a_first + 10, -1) a;
-- another identity and back: the answers of the statement's slots are gone
SELECT tenancy.act_as_local(:u_most) IS NULL AS acting;
SELECT tenancy.can(:a_last) AS most_reads;								-- ok: t
SELECT tenancy.act_as_local(:u_zigzag) IS NULL AS acting;
RESET ROLE;
SELECT probes AS probes_before FROM tenancy.cache_statistics() \gset
SET ROLE regress_cache_app;
SELECT count(*) FILTER (WHERE tenancy.can(a, 'write') <> ((a - :a_first) % 3 = 0)) AS wrong_up,	-- ok: 0
	   count(*) FILTER (WHERE tenancy.can(a, 'read')) AS reads_up				-- ok: 31
  FROM generate_series(:a_first + 10, :a_first + 40) a;
SELECT count(*) FILTER (WHERE tenancy.can(a, 'write') <> ((a - :a_first) % 3 = 0)) AS wrong_scattered	-- ok: 0
  FROM generate_series(0, 30) g, LATERAL (SELECT :a_first + 10 + (g * 17) % 31 AS a) x;
RESET ROLE;
SELECT probes - :probes_before AS new_probes,								-- ok: 0, 0
	   complete_identities - :complete_before AS loaded_complete
  FROM tenancy.cache_statistics();
COMMIT;

-- 10. R12: a user's first check on an administration it holds a permission
-- on, in a firm whose administrations are all active, reads the permission
-- and not the administration (the firm's state comes from the partial index
-- administration_not_active_idx, probe.c); with an index of that name that
-- is not the catalog's, the administration's row is read again
SET client_min_messages = warning;
SELECT tenancy.create_compartment(tenancy.create_subscription('Active'), 'active', 'Active firm') AS comp3 \gset
SELECT tenancy.create_administration(tenancy.create_client(:comp3, 'c', 'Client'), 'a', 'A books') AS a_active \gset
SELECT tenancy.add_user(:comp3, 'fresh@active.example', 'internal') AS u_fresh \gset
SELECT tenancy.grant_rights(:u_fresh, :a_active, '{read,write}') \gset
RESET client_min_messages;
\c -
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_fresh) IS NULL AS acting;
SELECT tenancy.can(:a_active, 'write') AS fresh_writes;				-- ok: t
RESET ROLE;
SELECT probes, administrations AS administrations_read			-- ok: 1, 0
  FROM tenancy.cache_statistics();
COMMIT;
DROP INDEX tenancy.administration_not_active_idx;
CREATE INDEX administration_not_active_idx ON tenancy.administration (compartment_id)
 WHERE state = 'deleted';
\c -
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_fresh) IS NULL AS acting;
SELECT tenancy.can(:a_active, 'write') AS fresh_writes;				-- ok: t
RESET ROLE;
SELECT probes, administrations AS administrations_read			-- ok: 1, 1
  FROM tenancy.cache_statistics();
COMMIT;
DROP INDEX tenancy.administration_not_active_idx;
CREATE INDEX administration_not_active_idx ON tenancy.administration (compartment_id)
 WHERE state <> 'active';

-- 11. the bound counts the compartments the cache holds something of: a
-- backend that meets 1,200 other firms' administrations with
-- tenancy.cache_entries = 1000 keeps fewer than 1,000 compartments (before:
-- every compartment it met stayed for the backend's life, outside the bound)
SET client_min_messages = warning;
SELECT tenancy.create_subscription('Many') AS sub_many \gset
CREATE TABLE many_firms AS
	SELECT tenancy.create_administration(
			   tenancy.create_client(tenancy.create_compartment(:sub_many, 'm' || g, 'firm ' || g), 'c', 'Client'),
			   'a', 'books') AS id
	  FROM generate_series(1, 1200) g;
GRANT SELECT ON many_firms TO regress_cache_app;
RESET client_min_messages;
\c -
SET tenancy.cache_entries = 1000;
SET ROLE regress_cache_app;
BEGIN;
SELECT tenancy.act_as_local(:u_fresh) IS NULL AS acting;
SELECT count(*) FILTER (WHERE tenancy.can(id, 'read')) AS other_firms_read	-- ok: 0 (R6)
  FROM many_firms;
RESET ROLE;
SELECT compartments < 1000 AS within_bound, identities				-- ok: t, 1
  FROM tenancy.cache_statistics();
COMMIT;
RESET tenancy.cache_entries;
DROP TABLE many_firms;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP ROLE regress_cache_app;
DROP ROLE regress_cache_report;
