-- citus_moves: R25 -- the walls follow the shards through a shard move, a
-- tenant isolation and the rebalancer; every check runs again after them
--
-- Runs after citus_setup and citus_walls.  Citus re-creates a shard on its
-- new node from the table's definition: policies (never restrictive: the
-- table has none) and triggers come along; check() compares every shard
-- with its table.
\set SHOW_CONTEXT never
\set QUIET on
SELECT id AS a_hold FROM tenancy.administration WHERE code = 'vries-hold' \gset
SELECT id AS a_ops1 FROM tenancy.administration WHERE code = 'vries-ops1' \gset
SELECT id AS a_jansen FROM tenancy.administration WHERE code = 'jansen' \gset
SELECT id AS a_x FROM tenancy.administration WHERE code = 'x' \gset
SELECT id AS c_cli FROM tenancy.compartment WHERE code = 'bk-clients' \gset
SELECT tenancy.find_user(:c_cli, 'sam@bakker.nl') AS u_staff \gset
\getenv coordinator PGPORT
\getenv worker1 TENANCY_CITUS_WORKER1_PORT
\getenv worker2 TENANCY_CITUS_WORKER2_PORT
\getenv sock TENANCY_CITUS_SOCK
\set QUIET off
SELECT nodeport = :worker1 AS on_worker1, count(*) AS shards
  FROM pg_dist_shard JOIN pg_dist_placement USING (shardid) JOIN pg_dist_node USING (groupid)
 WHERE logicalrelid = 'public.journal'::regclass GROUP BY 1 ORDER BY 1;

-- 0. R25: the tables' owner, not a superuser, may not move, copy, split,
-- isolate or rebalance the shards of protected tables: Citus copies their
-- rows as the caller, under row security, so it would copy none and drop
-- the old shards (1.3 attack: every row of the moved shards was lost)
SELECT count(*) AS journal_rows FROM public.journal \gset
SET ROLE regress_owner;
SELECT citus_move_shard_placement(get_shard_id_for_distribution_column('public.journal', :a_hold),
								  :'sock', :worker1, :'sock', :worker2,
								  shard_transfer_mode => 'block_writes');	-- fails: not a superuser
SELECT citus_copy_shard_placement(get_shard_id_for_distribution_column('public.journal', :a_hold),
								  :'sock', :worker1, :'sock', :worker2,
								  transfer_mode => 'block_writes');		-- fails: likewise
SELECT isolate_tenant_to_new_shard('public.journal', :a_hold, 'CASCADE',
								   shard_transfer_mode => 'block_writes');	-- fails: likewise
SELECT rebalance_table_shards('public.journal', shard_transfer_mode => 'block_writes');	-- fails: likewise
SELECT citus_rebalance_start(shard_transfer_mode => 'block_writes');		-- fails: likewise
RESET ROLE;
SELECT count(*) = :journal_rows AS rows_kept FROM public.journal;			-- ok: t

-- 1. move vries-hold's shard (and its colocated journal_line shard) to the other worker
SELECT citus_move_shard_placement(get_shard_id_for_distribution_column('public.journal', :a_hold),
								  :'sock', :worker1, :'sock', :worker2,
								  shard_transfer_mode => 'block_writes');
SELECT nodeport = :worker2 AS on_worker2
  FROM pg_dist_placement JOIN pg_dist_node USING (groupid)
 WHERE shardid = get_shard_id_for_distribution_column('public.journal', :a_hold);
SELECT * FROM tenancy.check();												-- ok: nothing
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
-- what Sam sees and may do, asked again after each change of the shards
-- (prepared under Sam's identity: a statement prepared with SQL runs only
-- under the identity that prepared it)
PREPARE sam_reads AS
	SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;
EXECUTE sam_reads;															-- ok: hold, ops1 (R7)
INSERT INTO journal (administration_id, amount, reference) VALUES (:a_hold, 7, 'moved');	-- ok: write
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
INSERT INTO journal (administration_id, amount, reference) VALUES (:a_ops1, 7, 'moved');	-- fails: read only (R7)
ROLLBACK;
RESET ROLE;

-- 2. isolate vries-hold in shards of its own (isolate_tenant_to_new_shard)
SELECT isolate_tenant_to_new_shard('public.journal', :a_hold, 'CASCADE',
								   shard_transfer_mode => 'block_writes') > 0 AS isolated;
SELECT count(*) AS journal_shards FROM pg_dist_shard WHERE logicalrelid = 'public.journal'::regclass;
SELECT * FROM tenancy.check();												-- ok: nothing
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
EXECUTE sam_reads;															-- ok: hold, ops1 (R7)
SELECT count(*) FROM journal WHERE administration_id = :a_jansen;			-- ok: 0 (R7)
SELECT count(*) FROM journal WHERE administration_id = :a_x;				-- ok: 0 (R6)
UPDATE journal SET amount = amount + 1 WHERE reference = 'moved';			-- ok: 1 row
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
DELETE FROM journal WHERE administration_id = :a_ops1;						-- ok: 0 rows, read only (R7)
ROLLBACK;
RESET ROLE;

-- 3. the rebalancer evens the shards out over the workers
SET client_min_messages = warning;
SELECT rebalance_table_shards('public.journal', shard_transfer_mode => 'block_writes');
RESET client_min_messages;
SELECT * FROM tenancy.check();												-- ok: nothing
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
EXECUTE sam_reads;															-- ok: hold, ops1 (R7)
COMMIT;
RESET ROLE;

-- 4. on the worker that now holds vries-hold's isolated shard, directly:
-- the shard has the walls (R2, R7) and the triggers (TRUNCATE)
SELECT nodeport AS hold_port, format('public.%I', 'journal_' || shardid) AS hold_shard
  FROM pg_dist_placement JOIN pg_dist_node USING (groupid)
 WHERE shardid = get_shard_id_for_distribution_column('public.journal', :a_hold) \gset
\set QUIET on
SET ROLE regress_app;
-- Sam's identity, signed by the coordinator: a worker takes no other (R25)
SELECT tenancy.act_as(:u_staff) AS acted, tenancy.identity_token() AS staff_token,
	   tenancy.reset() AS reset \gset
RESET ROLE;
\connect tenancy_citus postgres :sock :hold_port
\set QUIET off
\set SHOW_CONTEXT never
SELECT administration_id = :a_hold AS hold, count(*) FROM :hold_shard GROUP BY 1;	-- the superuser
SET ROLE regress_app;
SELECT count(*) FROM :hold_shard;											-- ok: 0, no identity (R2)
BEGIN;
SET LOCAL tenancy.token = :'staff_token';
SELECT count(*) FROM :hold_shard;											-- ok: all of them (write)
INSERT INTO :hold_shard (id, administration_id, amount, reference) VALUES (-1, :a_jansen, 1, 'direct');	-- fails: no right (R7)
ROLLBACK;
RESET ROLE;
SET ROLE regress_owner;
BEGIN;
SET LOCAL citus.enable_manual_changes_to_shards = on;
TRUNCATE :hold_shard;														-- fails: the TRUNCATE trigger came along
ROLLBACK;
RESET ROLE;

-- 5. R23: a protected table distributed by hand, with Citus's trigger guard off
-- and the registration set aside (tenancy refuses the call on a protected
-- table, test/citus/sql/citus_fn.sql; a restore can still leave this state):
-- check() finds the wall that became permissive on its shards
\set QUIET on
\connect tenancy_citus postgres :sock :coordinator
\set QUIET off
\set SHOW_CONTEXT never
SET citus.enable_unsafe_triggers = on;
CREATE TABLE public.ledger (administration_id bigint NOT NULL, note text);
SELECT tenancy.protect('public.ledger');
BEGIN;
SET LOCAL session_replication_role = replica;
CREATE TEMP TABLE ledger_registration ON COMMIT DROP AS
	SELECT * FROM tenancy.protected_table WHERE relid = 'public.ledger'::regclass;
DELETE FROM tenancy.protected_table WHERE relid = 'public.ledger'::regclass;
SELECT create_distributed_table('public.ledger', 'administration_id', colocate_with => 'none');
INSERT INTO tenancy.protected_table SELECT * FROM ledger_registration;
COMMIT;
RESET citus.enable_unsafe_triggers;
SELECT severity, object, left(problem, 70) AS problem FROM tenancy.check() ORDER BY 1, 2, 3;	-- ok: the table and each shard
SET client_min_messages = warning;
DROP TABLE public.ledger;
RESET client_min_messages;
SELECT * FROM tenancy.check();												-- ok: nothing

-- 6. R23, R7: a catalog change made with triggers off (a restore, or
-- session_replication_role = replica) does not reach the replicas: check()
-- finds it on every node, resync_replicas() repairs it, and the next
-- replicated change of such a row goes through
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM tenancy.permission WHERE user_id = :u_staff AND administration_id = :a_ops1;
COMMIT;
SELECT severity, object, count(*) AS nodes FROM tenancy.check() GROUP BY 1, 2 ORDER BY 1, 2;	-- ok: the permission replica, every node
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;		-- the workers still read vries-ops1
COMMIT;
RESET ROLE;
SELECT tenancy.resync_replicas();											-- ok
SELECT * FROM tenancy.check();												-- ok: nothing
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
SELECT administration_id, count(*) FROM journal GROUP BY 1 ORDER BY 1;		-- ok: hold only (R7)
COMMIT;
RESET ROLE;
-- the replica keeps a row the catalog lost; granting it again updates it
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO tenancy.permission (user_id, administration_id, compartment_id, can_read)
	VALUES (:u_staff, :a_ops1, :c_cli, true);
COMMIT;
SELECT tenancy.resync_replicas();
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM tenancy.permission WHERE user_id = :u_staff AND administration_id = :a_ops1;
COMMIT;
SELECT tenancy.grant_rights(:u_staff, :a_ops1, '{read}');					-- ok: the replica's stale row is replaced
SELECT * FROM tenancy.check();												-- ok: nothing
SET ROLE regress_app;
SELECT tenancy.resync_replicas();											-- fails: operators only
RESET ROLE;
