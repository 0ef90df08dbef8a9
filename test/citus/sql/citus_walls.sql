-- citus_walls: R25 -- the walls of R2, R6, R7, R11, R12, R14 and R20 on distributed
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
SELECT :a_ops1, amount, 'copy' FROM journal WHERE administration_id = :a_hold;	-- fails: Citus COPYs into the shards, row security refuses COPY
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

-- 5. R14, R15: a reporting login bound to bk-clients reads its compartment,
-- read-only, through the coordinator and directly on a worker (its scope
-- is loaded there from the replicas).  The binding is the login's.
SELECT tenancy.bind_reporting_login('regress_report', :c_cli);
\set QUIET on
\connect tenancy_citus regress_report :sock :coordinator
\set QUIET off
\set SHOW_CONTEXT never
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;		-- ok: bk-clients only
INSERT INTO journal (id, administration_id, amount, reference) VALUES (-2, :a_hold, 1, 'report');	-- fails: read only
\set QUIET on
\connect tenancy_citus postgres :sock :coordinator
\set QUIET off
\set SHOW_CONTEXT never
-- bound to one client and one administration code
SELECT tenancy.unbind_reporting_login('regress_report');
SELECT id AS cl_vries FROM tenancy.client WHERE code = 'vries' \gset
SELECT tenancy.bind_reporting_login('regress_report', :c_cli, :cl_vries, '{vries-ops1}');
\set QUIET on
\connect tenancy_citus regress_report :sock :coordinator
\set QUIET off
\set SHOW_CONTEXT never
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;		-- ok: vries-ops1 only
-- on the worker that holds vries-ops1's shard, reading the shard itself
\getenv worker2 TENANCY_CITUS_WORKER2_PORT
\set QUIET on
\connect tenancy_citus postgres :sock :worker2
\set SHOW_CONTEXT never
SELECT format('public.%I', 'journal_' || get_shard_id_for_distribution_column('public.journal', :a_ops1))
	   AS ops1_shard \gset
\set QUIET off
SELECT administration_id, count(*) FROM :ops1_shard GROUP BY 1 ORDER BY 1;	-- the superuser
\set QUIET on
\connect tenancy_citus regress_report :sock :worker2
\set QUIET off
\set SHOW_CONTEXT never
SELECT administration_id, count(*) FROM :ops1_shard GROUP BY 1 ORDER BY 1;	-- ok: vries-ops1 only
\set QUIET on
\connect tenancy_citus postgres :sock :coordinator
\set QUIET off
\set SHOW_CONTEXT never
SELECT tenancy.unbind_reporting_login('regress_report');

-- 6. directly on a worker: its shards, read and written with the worker's
-- own act_as_local (psql variables survive \connect)
\set QUIET on
\connect tenancy_citus postgres :sock :worker1
\set QUIET off
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
TRUNCATE :a_shard;															-- fails: Citus refuses changes to shards
ROLLBACK;
RESET ROLE;
-- even for the table's owner, with Citus's guard switched off
SET ROLE regress_owner;
BEGIN;
SET LOCAL citus.enable_manual_changes_to_shards = on;
TRUNCATE :a_shard;															-- fails: the shard's TRUNCATE trigger
ROLLBACK;
RESET ROLE;

-- the other worker holds the other administrations: Sam reads only ops1 there (R7)
\set QUIET on
\connect tenancy_citus postgres :sock :worker2
\set SHOW_CONTEXT never
SELECT string_agg(format('SELECT administration_id FROM public.%I', 'journal_' || s.shardid),
				  ' UNION ALL ') AS local_rows2
  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
 WHERE s.logicalrelid = 'public.journal'::regclass
   AND p.groupid = (SELECT groupid FROM pg_dist_local_group) \gset
\set QUIET off
SELECT administration_id, count(*) FROM (:local_rows2) r GROUP BY 1 ORDER BY 1;	-- the superuser
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
SELECT administration_id, count(*) FROM (:local_rows2) r GROUP BY 1 ORDER BY 1;	-- ok: ops1 only (R7)
COMMIT;
RESET ROLE;

-- 7. a revoke made on the coordinator reaches the worker with its commit:
-- the same worker session, its cache warm, sees it at its next statement
\set QUIET on
\connect tenancy_citus postgres :sock :worker1
\set QUIET off
\set SHOW_CONTEXT never
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
SELECT tenancy.can(:a_ops1), tenancy.visible_administrations();			-- ok: true, {hold,ops1}
COMMIT;
RESET ROLE;
SELECT success FROM run_command_on_coordinator(
	format('SELECT tenancy.revoke_rights(%s, %s)', :u_staff, :a_ops1));
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
SELECT tenancy.can(:a_ops1), tenancy.visible_administrations();			-- ok: false, {hold}
SELECT administration_id, count(*) FROM (:local_rows) r GROUP BY 1 ORDER BY 1;	-- ok: hold only
COMMIT;
RESET ROLE;
SELECT success FROM run_command_on_coordinator(
	format('SELECT tenancy.grant_rights(%s, %s, ''{read}'')', :u_staff, :a_ops1));
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
SELECT tenancy.can(:a_ops1);												-- ok: true again
COMMIT;
RESET ROLE;
\set QUIET on
\connect tenancy_citus postgres :sock :coordinator
\set QUIET off
\set SHOW_CONTEXT never
-- the audit chain holds one entry per change, not one per placement (R22)
SELECT action, count(*) FROM tenancy.audit_entry
 WHERE object_type = 'permission' GROUP BY 1 ORDER BY 1;

-- 8. R12, R18: vries-ops2 moves to the other firm by archive_and_transfer;
-- the archive is read-only everywhere, its client's user reads it there
SELECT tenancy.find_user(:c_cli, 'piet@devries.nl') AS u_piet \gset
SELECT tenancy.find_user(:c_other, 'olga@other.nl') AS u_other_admin \gset
SELECT id AS cl_x FROM tenancy.client WHERE code = 'x' \gset
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_admin);
SELECT tenancy.request_migration(:a_ops2, :c_other, 'archive_and_transfer') AS m \gset
SELECT tenancy.approve_migration(:m);										-- ok: source
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_piet);
SELECT tenancy.approve_migration(:m);										-- ok: client
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_other_admin);
SELECT tenancy.approve_migration(:m);										-- ok: target
SELECT tenancy.transfer_migration(:m, :cl_x, 'ops2-new') > 0 AS transferred;	-- ok
COMMIT;
SELECT tenancy.find_user(:c_other, 'piet@devries.nl') AS u_piet_there \gset
BEGIN;
SELECT tenancy.act_as_local(:u_piet_there);
SELECT administration_id = :a_ops2 AS archive, count(*) FROM journal GROUP BY 1 ORDER BY 1;	-- ok: the archive's 3 rows
INSERT INTO journal (administration_id, amount, reference) VALUES (:a_ops2, 1, 'late');	-- fails: archived (R12)
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_piet_there);
UPDATE journal SET amount = 0 WHERE administration_id = :a_ops2;			-- ok: 0 rows, read-only
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_admin);
SELECT count(*) FROM journal WHERE administration_id = :a_ops2;			-- ok: 0, the source lost it (R18)
COMMIT;
RESET ROLE;
INSERT INTO journal (administration_id, amount, reference) VALUES (:a_ops2, 1, 'dba');	-- fails: archived, for the superuser too

-- 9. R23: check() on the coordinator reads every shard; a policy added on
-- a worker's shard is found
SELECT * FROM tenancy.check();												-- ok: nothing
\set QUIET on
\connect tenancy_citus postgres :sock :worker1
\set QUIET off
CREATE POLICY regress_open ON :a_shard USING (true);
\set QUIET on
\connect tenancy_citus postgres :sock :coordinator
\set QUIET off
SELECT severity, object, problem FROM tenancy.check() ORDER BY 1, 2, 3;		-- ok: the shard
\set QUIET on
\connect tenancy_citus postgres :sock :worker1
\set QUIET off
DROP POLICY regress_open ON :a_shard;
\set QUIET on
\connect tenancy_citus postgres :sock :coordinator
\set QUIET off
SELECT * FROM tenancy.check();												-- ok: nothing

-- 10. the distributed table queried from a worker (Citus runs a query from
-- any node): the worker's act_as_local reaches the other worker as a token
\set QUIET on
\connect tenancy_citus postgres :sock :worker1
\set QUIET off
\set SHOW_CONTEXT never
SET ROLE regress_app;
SELECT count(*) FROM journal;												-- ok: 0, no identity (R2)
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;		-- ok: hold, ops1 (R6, R7)
INSERT INTO journal (administration_id, amount, reference) VALUES (:a_ops1, 1, 'from a worker');	-- fails: read only (R7)
ROLLBACK;
RESET ROLE;
