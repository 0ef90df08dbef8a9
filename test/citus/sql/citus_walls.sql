-- citus_walls: R25 -- the walls of R2, R6, R7, R11, R14 and R20 on distributed
-- tables, through the coordinator and directly on a worker; R23 check() of the shards
--
-- Runs after citus_setup.  Sam (bk-clients staff) holds read+write on
-- vries-hold and read on vries-ops1, nothing on vries-ops2 or jansen (same
-- compartment) and nothing in compartment other.  Through the coordinator
-- the identity reaches the workers as a signed token, inside a transaction
-- block.  On a worker the rights come from the replicas of the catalog.
\set SHOW_CONTEXT never
\set QUIET on
SELECT id AS a_hold FROM tenancy.administration WHERE code = 'vries-hold' \gset
SELECT id AS a_ops1 FROM tenancy.administration WHERE code = 'vries-ops1' \gset
SELECT id AS a_ops2 FROM tenancy.administration WHERE code = 'vries-ops2' \gset
SELECT id AS a_jansen FROM tenancy.administration WHERE code = 'jansen' \gset
SELECT id AS a_x FROM tenancy.administration WHERE code = 'x' \gset
SELECT id AS c_cli FROM tenancy.compartment WHERE code = 'bk-clients' \gset
SELECT tenancy.find_user(:c_cli, 'anna@bakker.nl') AS u_admin \gset
SELECT tenancy.find_user(:c_cli, 'sam@bakker.nl') AS u_staff \gset
SELECT id AS c_other FROM tenancy.compartment WHERE code = 'other' \gset
SELECT tenancy.find_user(:c_other, 'otto@other.nl') AS u_other \gset
\getenv worker1 TENANCY_CITUS_WORKER1_PORT
\getenv coordinator PGPORT
\getenv sock TENANCY_CITUS_SOCK
\set QUIET off

-- 1. R2: no identity, no rows and no writes, through the coordinator
SET ROLE regress_app;
SELECT count(*) FROM journal;												-- ok: 0
BEGIN;
SELECT count(*) FROM journal;												-- ok: 0
INSERT INTO journal (administration_id, amount, reference) VALUES (:a_hold, 1, 'anon');	-- fails: no identity
ROLLBACK;

-- 2. R6, R7 through the coordinator, as Sam
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
-- router queries, one administration each
SELECT count(*) FROM journal WHERE administration_id = :a_hold;			-- ok: 3
SELECT count(*) FROM journal WHERE administration_id = :a_ops1;			-- ok: 3, read
SELECT count(*) FROM journal WHERE administration_id = :a_jansen;			-- ok: 0, no right (R7)
SELECT count(*) FROM journal WHERE administration_id = :a_x;				-- ok: 0, other firm (R6)
-- multi-shard
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;		-- ok: hold, ops1
-- colocated join
SELECT j.administration_id, count(*)
  FROM journal j JOIN journal_line l ON l.administration_id = j.administration_id AND l.journal_id = j.id
 GROUP BY 1 ORDER BY 1;													-- ok: hold, ops1
COMMIT;

-- 3. R7 writes through the coordinator, as Sam
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
INSERT INTO journal (administration_id, amount, reference) VALUES (:a_hold, 5, 'sam-1');	-- ok: write
UPDATE journal SET amount = amount + 1 WHERE reference LIKE 'vries-%';		-- ok: hold's 3 rows only
DELETE FROM journal WHERE reference LIKE 'vries-ops%';						-- ok: nothing (read only)
-- INSERT ... SELECT between colocated tables, inside what Sam may write
INSERT INTO journal_line (journal_id, administration_id, line, account)
SELECT id, administration_id, 1, 'sam' FROM journal WHERE reference = 'sam-1';	-- ok
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
INSERT INTO journal (administration_id, amount, reference) VALUES (:a_ops1, 5, 'sam-2');	-- fails: read only (R7)
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
INSERT INTO journal (administration_id, amount, reference) VALUES (:a_x, 5, 'sam-3');	-- fails: other firm (R6)
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
INSERT INTO journal (administration_id, amount, reference)
SELECT :a_ops1, amount, 'copy' FROM journal WHERE administration_id = :a_hold;	-- fails: read only (R7)
ROLLBACK;
-- R11: a row never changes administration; Citus refuses it for the distribution column already
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
UPDATE journal SET administration_id = :a_ops1 WHERE reference = 'sam-1';	-- fails: distribution column
ROLLBACK;
RESET ROLE;
SELECT administration_id, count(*), sum(amount) FROM journal GROUP BY 1 ORDER BY 1;	-- superuser: the effect

-- 4. R20: a delegation opens jansen to Otto of the other firm, a revoke closes it
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_other);
SELECT count(*) FROM journal WHERE administration_id = :a_jansen;			-- ok: 0
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_admin);
SELECT tenancy.delegate(:a_jansen, :u_other, '{read}', now() + interval '1 month') AS d_jansen \gset
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_other);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;		-- ok: x and jansen
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_admin);
SELECT tenancy.revoke_delegation(:d_jansen);
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_other);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;		-- ok: x only
COMMIT;
RESET ROLE;

-- 5. R14: a reporting login bound to bk-clients.  A worker has no reporting
-- scopes (only what the probes read is replicated): it fails closed
SELECT tenancy.bind_reporting_login('regress_report', :c_cli);
SET ROLE regress_report;
SELECT count(*) FROM journal;												-- ok: 0, fails closed on the workers
INSERT INTO journal (administration_id, amount, reference) VALUES (:a_hold, 1, 'report');	-- fails: read only
RESET ROLE;
SELECT tenancy.unbind_reporting_login('regress_report');

-- 6. directly on a worker: its shards, read and written with the worker's
-- own act_as_local (psql variables survive \connect)
\connect "host=:sock port=:worker1 dbname=tenancy_citus user=postgres"
\set SHOW_CONTEXT never
\set QUIET on
SELECT string_agg(format('SELECT administration_id FROM public.%I', 'journal_' || s.shardid),
				  ' UNION ALL ') AS local_rows,
	   min(format('public.%I', 'journal_' || s.shardid)) AS a_shard
  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
 WHERE s.logicalrelid = 'public.journal'::regclass
   AND p.groupid = (SELECT groupid FROM pg_dist_local_group) \gset
\set QUIET off
-- the superuser: the administrations whose rows live on this worker
SELECT administration_id, count(*) FROM (:local_rows) r GROUP BY 1 ORDER BY 1;
SET ROLE regress_app;
SELECT count(*) FROM (:local_rows) r;										-- ok: 0, no identity (R2)
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
SELECT administration_id, count(*) FROM (:local_rows) r GROUP BY 1 ORDER BY 1;	-- ok: only hold, ops1 (R6, R7)
INSERT INTO :a_shard (id, administration_id, amount, reference) VALUES (-1, :a_ops1, 1, 'direct');	-- fails: read only (R7)
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
INSERT INTO :a_shard (id, administration_id, amount, reference) VALUES (-1, :a_x, 1, 'direct');	-- fails: other firm (R6)
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
UPDATE :a_shard SET amount = 0 WHERE administration_id IN (:a_jansen, :a_x, :a_ops2);	-- ok: 0 rows (R7)
DELETE FROM :a_shard WHERE administration_id IN (:a_jansen, :a_x, :a_ops1, :a_ops2);	-- ok: 0 rows (R7)
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
TRUNCATE :a_shard;															-- fails: TRUNCATE is refused on shards too
ROLLBACK;
RESET ROLE;

-- 7. a revoke made through the coordinator reaches the worker with its commit
\connect - - - :worker1
\set SHOW_CONTEXT never
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
SELECT tenancy.can(:a_ops1);												-- ok: true
COMMIT;
\connect "host=:sock port=:coordinator dbname=tenancy_citus user=postgres"
\set SHOW_CONTEXT never
SELECT tenancy.revoke_rights(:u_staff, :a_ops1);
SELECT * FROM tenancy.replica_permission WHERE user_id = :u_staff ORDER BY administration_id;
\connect "host=:sock port=:worker1 dbname=tenancy_citus user=postgres"
\set SHOW_CONTEXT never
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
SELECT tenancy.can(:a_ops1);												-- ok: false
SELECT administration_id, count(*) FROM (:local_rows) r GROUP BY 1 ORDER BY 1;	-- ok: hold only
COMMIT;
RESET ROLE;
\connect "host=:sock port=:coordinator dbname=tenancy_citus user=postgres"
SELECT tenancy.grant_rights(:u_staff, :a_ops1, '{read}');
-- the audit chain holds one entry per change, not one per placement (R22)
SELECT action, count(*) FROM tenancy.audit_entry
 WHERE object_type = 'permission' GROUP BY 1 ORDER BY 1;
