-- citus_guard: R25 with R6, R7, R12 and R24 -- directly on a Citus worker,
-- (1) the DDL guard treats a shard of a protected table, and the shell Citus
-- keeps of the table, like the table, for its owner and for superusers;
-- (2) a worker's own tenancy catalog is neither written nor acted on: the
-- management functions, act_as and act_as_local refuse there, the identity
-- comes only from a token signed by the coordinator
--
-- Runs last (after citus_moves, whose shard move, tenant isolation and
-- rebalancer pass with this guard in force): it looks the shards up where
-- they are now.  Shard ids are masked in the output (<shard>).
\set SHOW_CONTEXT never
\set QUIET on
SELECT id AS a_hold FROM tenancy.administration WHERE code = 'vries-hold' \gset
SELECT id AS c_cli FROM tenancy.compartment WHERE code = 'bk-clients' \gset
SELECT tenancy.find_user(:c_cli, 'sam@bakker.nl') AS u_staff \gset
SELECT count(*) AS audit_before FROM tenancy.audit_entry \gset
-- the first shard of journal and of journal_line on worker 1
\getenv worker1 TENANCY_CITUS_WORKER1_PORT
\getenv coordinator PGPORT
\getenv sock TENANCY_CITUS_SOCK
SELECT min(s.shardid) FILTER (WHERE s.logicalrelid = 'public.journal'::regclass) AS sid,
	   min(s.shardid) FILTER (WHERE s.logicalrelid = 'public.journal_line'::regclass) AS line_sid
  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
 WHERE n.nodeport = :worker1 \gset
-- Sam's identity for worker 1, signed here
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff) AS acted, tenancy.identity_token() AS staff_token,
	   tenancy.reset() AS reset \gset
RESET ROLE;

\connect tenancy_citus postgres :sock :worker1
\set SHOW_CONTEXT never
-- the shards in pg_class, for this session
SET citus.show_shards_for_app_name_prefixes = '*';
-- try(command): runs it and says ok, or its error (SQLSTATE, message,
-- DETAIL, HINT) with shard ids masked; an error undoes the whole command.
-- Temporary, so not for Citus to propagate.
SET citus.enable_ddl_propagation = off;
CREATE FUNCTION pg_temp.try(command text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	state text;
	message text;
	detail text;
	hint text;
BEGIN
	EXECUTE command;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN regexp_replace(state || ': ' || message
						  || coalesce(E'\nDETAIL:  ' || nullif(detail, ''), '')
						  || coalesce(E'\nHINT:  ' || nullif(hint, ''), ''),
						  '_[0-9]{4,}', '_<shard>', 'g');
END
$$;
RESET citus.enable_ddl_propagation;
-- no NOTICE of a DROP ... CASCADE (it names shards)
SET client_min_messages = warning;
-- the attacks of section 1 (%1$s the shard, %2$s its id, %3$s the table)
CREATE TEMP TABLE attack (n int PRIMARY KEY, command text NOT NULL);
INSERT INTO attack VALUES
	(1, 'ALTER TABLE %1$s NO FORCE ROW LEVEL SECURITY'),
	(2, 'ALTER TABLE %1$s DISABLE ROW LEVEL SECURITY'),
	(3, 'ALTER TABLE %1$s DISABLE TRIGGER tenancy_guard_%2$s'),
	(4, 'ALTER TABLE %1$s DISABLE TRIGGER ALL'),
	(5, 'ALTER TABLE %1$s DISABLE TRIGGER USER'),
	(6, 'ALTER TABLE %1$s ENABLE REPLICA TRIGGER tenancy_no_truncate_%2$s'),
	(7, 'CREATE POLICY leak ON %1$s FOR SELECT USING (true)'),
	(8, 'CREATE POLICY tenancy_read2 ON %1$s FOR SELECT USING (true)'),
	(9, 'ALTER POLICY tenancy_read ON %1$s USING (true)'),
	(10, 'ALTER POLICY tenancy_update ON %1$s TO regress_plain'),
	(11, 'DROP POLICY tenancy_read ON %1$s'),
	(12, 'DROP TRIGGER tenancy_guard_%2$s ON %1$s'),
	(13, 'DROP TRIGGER tenancy_no_truncate_%2$s ON %1$s'),
	(14, 'ALTER POLICY tenancy_read ON %1$s RENAME TO other'),
	(15, 'ALTER TRIGGER tenancy_guard_%2$s ON %1$s RENAME TO other'),
	(16, 'ALTER TABLE %1$s RENAME COLUMN administration_id TO other'),
	(17, 'ALTER TABLE %1$s DROP COLUMN administration_id CASCADE'),
	(18, 'SELECT worker_apply_shard_ddl_command(%2$s, ''public'', ''CREATE POLICY leak ON public.%3$s FOR SELECT USING (true)'')'),
	-- a shard renamed or moved away could be replaced by a table without walls
	(19, 'ALTER TABLE %1$s RENAME TO journal_renamed'),
	(20, 'ALTER TABLE %1$s SET SCHEMA regress_elsewhere'),
	-- and nothing joins the catalog's schema
	(21, 'ALTER TABLE %1$s SET SCHEMA tenancy');
GRANT SELECT ON attack TO regress_owner;

-- 1. R25 (R6, R7, R12): a shard's walls change no more than its table's,
-- neither for the table's owner nor for a superuser (the coordinator
-- refuses the same statements on the table, with the same messages)
SET ROLE regress_owner;
SELECT n, pg_temp.try(format(command, 'public.journal_' || :sid, :sid, 'journal')) AS owner
  FROM attack ORDER BY n;													-- fails: every one, 42501
RESET ROLE;
SELECT n, pg_temp.try(format(command, 'public.journal_' || :sid, :sid, 'journal')) AS superuser
  FROM attack ORDER BY n;													-- fails: every one, 42501
-- the colocated table's shard too
SELECT n, pg_temp.try(format(command, 'public.journal_line_' || :line_sid, :line_sid, 'journal_line')) AS superuser
  FROM attack WHERE n IN (1, 7, 11, 12) ORDER BY n;						-- fails: 42501
-- what does not touch the walls passes
SELECT pg_temp.try(format('ALTER TABLE public.journal_%s ALTER COLUMN reference SET STATISTICS 200', :sid));	-- ok
SELECT pg_temp.try(format('ALTER TABLE public.journal_%s ENABLE ROW LEVEL SECURITY', :sid));	-- ok: already on
-- the shard keeps its four policies and two triggers, row security forced
SELECT polname, polpermissive, polcmd FROM pg_policy
 WHERE polrelid = ('public.journal_' || :sid)::regclass ORDER BY 1;
SELECT regexp_replace(tgname, '_[0-9]+$', '_<shard>') AS tgname, tgenabled FROM pg_trigger
 WHERE tgrelid = ('public.journal_' || :sid)::regclass AND NOT tgisinternal ORDER BY 1;
SELECT relrowsecurity, relforcerowsecurity FROM pg_class
 WHERE oid = ('public.journal_' || :sid)::regclass;

-- 2. the shell of the table on the worker, Citus's DDL propagation off
SET citus.enable_ddl_propagation = off;
SELECT n, pg_temp.try(format(command, 'public.journal', '', 'journal')) AS shell
  FROM attack WHERE n IN (1, 7, 9, 11) ORDER BY n;						-- fails: 42501
RESET citus.enable_ddl_propagation;

-- a shard keeps its walls when Citus no longer knows it: the owner drops
-- the shell (DDL propagation off, or worker_drop_shell_table) and the
-- shard is still protected by its own guard (1.3 attack: after the drop,
-- NO FORCE ROW LEVEL SECURITY went through and the owner read both firms)
SET ROLE regress_owner;
BEGIN;
SET LOCAL citus.enable_ddl_propagation = off;
SELECT pg_temp.try('DROP TABLE public.journal_line, public.journal');	-- ok: the shells
SELECT n, pg_temp.try(format(command, 'public.journal_' || :sid, :sid, 'journal')) AS without_shell
  FROM attack WHERE n IN (1, 2, 4, 11, 12) ORDER BY n;					-- fails: 42501
ROLLBACK;
BEGIN;
SELECT pg_temp.try('SELECT worker_drop_shell_table(''public.journal'')');	-- ok: the shell
SELECT pg_temp.try(format('ALTER TABLE public.journal_%s NO FORCE ROW LEVEL SECURITY', :sid));	-- fails: 42501
ROLLBACK;
RESET ROLE;

-- 3. a policy created on a shard is taken only as a copy of its table's
-- (how Citus makes a new shard).  A superuser removes tenancy_read past the
-- event triggers (replica mode, as a restore does), then creates it again.
BEGIN;
SET LOCAL session_replication_role = replica;
SELECT pg_temp.try(format('DROP POLICY tenancy_read ON public.journal_%s', :sid));	-- ok: no event trigger in replica mode
SET LOCAL session_replication_role = origin;
SELECT pg_temp.try(format('CREATE POLICY tenancy_read ON public.journal_%s FOR SELECT USING (true)', :sid));	-- fails: not the table's policy
SELECT pg_temp.try(format('CREATE POLICY tenancy_read ON public.journal_%s FOR ALL USING (tenancy.row_readable(administration_id))', :sid));	-- fails: another command
SELECT pg_temp.try(format('CREATE POLICY tenancy_read ON public.journal_%s AS RESTRICTIVE FOR SELECT USING (tenancy.row_readable(administration_id))', :sid));	-- fails: another kind
SELECT pg_temp.try(format('CREATE POLICY tenancy_read ON public.journal_%s FOR SELECT TO regress_app USING (tenancy.row_readable(administration_id))', :sid));	-- fails: other roles
SELECT pg_temp.try(format('CREATE POLICY tenancy_read ON public.journal_%s FOR SELECT USING (tenancy.row_readable(administration_id))', :sid));	-- ok: the table's own
SELECT pg_temp.try(format('CREATE POLICY tenancy_read ON public.journal_%s FOR SELECT USING (tenancy.row_readable(administration_id))', :sid));	-- fails: the shard has it
ROLLBACK;

-- 4. R25, R22: the worker's own catalog is never written, whoever calls
SET ROLE regress_owner;
SELECT tenancy.create_subscription('evil');									-- fails: a worker
SELECT tenancy.create_compartment(1, 'evil', 'Evil');						-- fails: a worker
SELECT tenancy.add_user(1, 'e1@evil.nl', 'internal');						-- fails: a worker
SELECT tenancy.grant_rights(:u_staff, :a_hold, '{read,write,manage}');		-- fails: a worker
SELECT tenancy.protect('public.journal');									-- fails: a Citus table
RESET ROLE;
INSERT INTO tenancy.subscription (name) VALUES ('evil');					-- fails: a worker, even for a superuser
SELECT (SELECT count(*) FROM tenancy.subscription) AS subscriptions,
	   (SELECT count(*) FROM tenancy.users) AS users;						-- ok: 0, 0

-- 5. R25, R2: on a worker the identity comes only from the coordinator's token
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff);											-- fails: a worker
BEGIN;
SELECT tenancy.act_as_local(:u_staff);										-- fails: a worker
ROLLBACK;
SELECT tenancy.current_user_id(), tenancy.can(:a_hold);					-- ok: no identity, no right
BEGIN;
SET LOCAL tenancy.token = :'staff_token';
SELECT tenancy.current_user_id() = :u_staff AS sam, tenancy.can(:a_hold);	-- ok: true, true
COMMIT;
SELECT tenancy.reset();														-- ok: nothing to drop
RESET ROLE;

-- 6. nothing reached the coordinator's audit chain; its check() is clean
\connect tenancy_citus postgres :sock :coordinator
\set SHOW_CONTEXT never
SELECT count(*) - :audit_before AS new_audit_entries FROM tenancy.audit_entry;	-- ok: 0
SELECT severity, object, problem FROM tenancy.check()
 WHERE object LIKE '%journal%' ORDER BY 1, 2, 3;								-- ok: none

-- 7. R14, R25: a reporting login is bound on the workers by its name, since
-- every node gives a role its own OID (a role made on worker 1 alone moves
-- that worker's OIDs away from the coordinator's)
\set QUIET on
\connect tenancy_citus postgres :sock :worker1
\set QUIET off
SET citus.enable_create_role_propagation = off;
-- (Citus's notice about the role not propagated differs between versions)
SET client_min_messages = warning;
CREATE ROLE regress_guard_pad;
RESET client_min_messages;
\set QUIET on
\connect tenancy_citus postgres :sock :coordinator
\set QUIET off
\set SHOW_CONTEXT never
CREATE ROLE regress_guard_bi LOGIN;
GRANT SELECT ON public.journal TO regress_guard_bi;
SELECT tenancy.bind_reporting_login('regress_guard_bi', :c_cli);	-- ok
SELECT bool_or(result::oid <> 'regress_guard_bi'::regrole::oid) AS oids_differ
  FROM run_command_on_workers($$SELECT oid FROM pg_roles WHERE rolname = 'regress_guard_bi'$$);	-- ok: true
SELECT string_agg(id::text, ',') AS bi_ids FROM tenancy.administration
 WHERE compartment_id = :c_cli AND state <> 'deleted' \gset
SELECT count(*) AS bi_rows FROM public.journal WHERE administration_id IN (:bi_ids) \gset
\set QUIET on
\connect tenancy_citus regress_guard_bi :sock :coordinator
\set QUIET off
SELECT count(*) = :bi_rows AS reads_its_compartment FROM public.journal;	-- ok: true, from every worker
-- R14, R25: a login that may SET ROLE to the bound login does not read its
-- scope through the distributed table on a worker either, where the
-- registry of protected tables is empty (1.3 attack: it read the whole
-- compartment there, while the coordinator refused)
\set QUIET on
\connect tenancy_citus postgres :sock :coordinator
GRANT regress_guard_bi TO regress_plain;
\connect tenancy_citus regress_plain :sock :worker1
\set QUIET off
SET ROLE regress_guard_bi;
SELECT count(*) FROM public.journal;										-- fails: not the login itself
RESET ROLE;
\set QUIET on
\connect tenancy_citus postgres :sock :coordinator
REVOKE regress_guard_bi FROM regress_plain;
SELECT tenancy.unbind_reporting_login('regress_guard_bi');
REVOKE ALL ON public.journal FROM regress_guard_bi;
DROP ROLE regress_guard_bi;
\connect tenancy_citus postgres :sock :worker1
DROP ROLE regress_guard_pad;
\connect tenancy_citus postgres :sock :coordinator
\set QUIET off

-- 8. R24, R25: a statement that moves a table into the protected tables'
-- colocation group and then rebuilds it with cascade_to_colocated (the
-- planning-time check saw it outside the group) is refused when Citus
-- drops the protected original, and no row is lost (1.3 attack: every
-- firm's rows were gone and the tables unregistered)
SELECT count(*) AS journal_rows FROM public.journal \gset
SELECT shard_count AS journal_shards FROM citus_tables WHERE table_name = 'public.journal'::regclass \gset
SET ROLE regress_owner;
SET citus.enable_unsafe_triggers = on;
SET client_min_messages = warning;
CREATE TABLE public.rebuild_helper (administration_id bigint NOT NULL, x int);
SELECT create_distributed_table('public.rebuild_helper', 'administration_id', colocate_with => 'public.journal') AS distributed,
	   alter_distributed_table('public.rebuild_helper', shard_count := 2 * :journal_shards,
							   cascade_to_colocated := true) AS rebuilt;	-- fails: drops protected journal
RESET client_min_messages;
RESET citus.enable_unsafe_triggers;
RESET ROLE;
SELECT count(*) = :journal_rows AS rows_kept FROM public.journal;			-- ok: true
SELECT count(*) AS protected_tables FROM tenancy.protected_table;			-- ok: 2
SET client_min_messages = warning;
DROP TABLE public.rebuild_helper;
RESET client_min_messages;

-- 9. R7, R24, R25: a protected table is not moved into a distributed schema
-- of Citus (schema-based sharding), which would distribute it with its
-- wall turned permissive, nor out of one, which would undistribute it and
-- lose its rows (1.3 attack: every administration of the firm was read)
SET citus.enable_schema_based_sharding = on;
SET client_min_messages = warning;
CREATE SCHEMA regress_tenant_s AUTHORIZATION regress_owner;
RESET client_min_messages;
RESET citus.enable_schema_based_sharding;
SET ROLE regress_owner;
SET citus.enable_unsafe_triggers = on;
CREATE TABLE public.moved (administration_id bigint NOT NULL, note text);
SELECT tenancy.protect('public.moved') \gset
ALTER TABLE public.moved SET SCHEMA regress_tenant_s;						-- fails: a distributed schema
SELECT count(*) AS still_local FROM pg_dist_partition WHERE logicalrelid = 'public.moved'::regclass;	-- ok: 0
RESET citus.enable_unsafe_triggers;
RESET ROLE;
SET client_min_messages = warning;
DROP TABLE public.moved;
DROP SCHEMA regress_tenant_s;
RESET client_min_messages;

-- cleanup: nothing to undo (the temporary objects went with the session)
