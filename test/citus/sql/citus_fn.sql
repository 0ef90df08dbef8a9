-- citus_fn: R5, R1/R14, R7, R24, R25 -- Citus's functions that would step around the walls
--
-- Runs after citus_setup (journal, Sam with read+write on vries-hold and
-- read on vries-ops1, nothing on jansen; Otto of the other firm on x).
-- Citus's run_command_on_* open NEW sessions as the current role: a
-- session locked to Sam would reach one that is neither locked nor bound
-- and act as Otto there (R5).  create_distributed_table() and friends copy
-- a protected table's wall to its shards as a permissive policy (R7);
-- undistribute_table() and friends rebuild the table under row security
-- and drop the protected original (R24).  Citus does not rename roles on
-- the workers (R1, R14).  tenancy refuses all of them.
\set SHOW_CONTEXT never
\set QUIET on
SET client_min_messages = warning;
SELECT id AS a_hold FROM tenancy.administration WHERE code = 'vries-hold' \gset
SELECT id AS a_jansen FROM tenancy.administration WHERE code = 'jansen' \gset
SELECT id AS a_x FROM tenancy.administration WHERE code = 'x' \gset
SELECT id AS c_cli FROM tenancy.compartment WHERE code = 'bk-clients' \gset
SELECT tenancy.find_user(:c_cli, 'sam@bakker.nl') AS u_staff \gset
SELECT id AS c_other FROM tenancy.compartment WHERE code = 'other' \gset
SELECT tenancy.find_user(:c_other, 'otto@other.nl') AS u_other \gset
\set c_host :HOST
\set c_port :PORT
CREATE ROLE regress_fn_bi LOGIN;
GRANT CREATE ON DATABASE :"DBNAME" TO regress_app;
CREATE ROLE regress_fn_plain LOGIN;
GRANT regress_report TO regress_fn_bi;
SELECT tenancy.bind_reporting_login('regress_report', :c_cli);
-- an injected statement's payload: act as another user in the new
-- session (the error text carries the proof back)
CREATE FUNCTION public.fn_payload(user_id bigint) RETURNS text LANGUAGE sql IMMUTABLE
	AS $$SELECT format('DO $d$BEGIN PERFORM tenancy.act_as(%s);'
	   || ' RAISE EXCEPTION ''acting as the other user: %%'', tenancy.current_user_id() = %s; END$d$',
	   user_id, user_id)$$;
ALTER FUNCTION public.fn_payload(bigint) OWNER TO regress_app;	-- so that the app may distribute it
-- a PL/pgSQL function any role may call, that calls Citus for its caller
CREATE FUNCTION public.fn_on_coordinator(cmd text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	RETURN (SELECT result FROM pg_catalog.run_command_on_coordinator(cmd));
END
$$;
RESET client_min_messages;
\set QUIET off

-- 1. R5: the doors are real: without an identity (nothing to escape from)
-- run_command_on_* works, and the new session may act as anyone
SET ROLE regress_app;
SELECT success, result FROM run_command_on_coordinator(public.fn_payload(:u_other));	-- ok: no identity here, Otto there
SELECT count(*) AS nodes FROM run_command_on_all_nodes('SELECT 1');	-- ok

-- a function of the app's own schema, distributed while it had no identity:
-- Citus runs "SELECT fn_app.act(...)" on the worker of that administration
CREATE SCHEMA fn_app;
CREATE FUNCTION fn_app.act(adm bigint, user_id bigint) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM tenancy.act_as_local(user_id);
	RETURN 'acting as the other user: ' || (tenancy.current_user_id() = user_id);
END
$$;
SELECT create_distributed_function('fn_app.act(bigint,bigint)', 'adm', colocate_with := 'journal');	-- ok: no identity
CREATE PROCEDURE fn_app.note(adm bigint) LANGUAGE plpgsql AS $$ BEGIN PERFORM tenancy.current_user_id(); END $$;
SELECT create_distributed_function('fn_app.note(bigint)', 'adm', colocate_with := 'journal');	-- ok: no identity
SET client_min_messages = error;								-- the worker's warning names its socket
SELECT fn_app.act(:a_x, :u_other);								-- fails: runs on the worker, which gives no identity of its own (55000)
RESET client_min_messages;
RESET ROLE;

-- 2. R5: a session locked to Sam cannot open a new session: directly, in
-- a DO block, in a PL/pgSQL function, with any of Citus's openers
\c - regress_app :c_host :c_port
SELECT tenancy.act_as(:u_staff, 'app-key') IS NULL AS locked;	-- ok: the app server locks the session
SELECT success, result FROM run_command_on_coordinator(public.fn_payload(:u_other));	-- fails: identity
SELECT nodeid, result FROM run_command_on_all_nodes(public.fn_payload(:u_other)) ORDER BY 1;	-- fails: identity
SELECT nodeport, result FROM run_command_on_workers('SELECT 1') ORDER BY 1;	-- fails: identity
SELECT count(*) FROM run_command_on_shards('public.journal', 'SELECT 1');	-- fails: identity
SELECT count(*) FROM run_command_on_placements('public.journal', 'SELECT 1');	-- fails: identity
SELECT count(*) FROM run_command_on_colocated_placements('public.journal', 'public.journal_line', 'SELECT 1');	-- fails: identity
SELECT count(*) FROM master_run_on_worker(ARRAY['localhost'], ARRAY[1], ARRAY['SELECT 1'], false);	-- fails: identity
SELECT create_distributed_function('public.fn_payload(bigint)');	-- fails: identity
DO $$BEGIN PERFORM pg_catalog.run_command_on_coordinator(public.fn_payload(5)); END$$;	-- fails: identity, in a DO block
SELECT public.fn_on_coordinator(public.fn_payload(:u_other));	-- fails: identity, in a PL/pgSQL function
SELECT fn_app.act(:a_x, :u_other);								-- fails: identity, a distributed function Citus would run on a worker
CALL fn_app.note(:a_x);											-- fails: identity, a distributed procedure Citus would run on a worker
SELECT tenancy.current_user_id() = :u_staff AS still_sam;		-- ok: the session is still Sam's
-- in a transaction block under act_as_local too
\c - regress_app :c_host :c_port
BEGIN;
SELECT tenancy.act_as_local(:u_staff) IS NULL AS acting;		-- ok
SELECT public.fn_on_coordinator('SELECT 1');					-- fails: identity
ROLLBACK;
SELECT public.fn_on_coordinator('SELECT 1');					-- ok: the identity ended with the block

-- 3. R1, R14: a role reached by SET ROLE that is a bound reporting login
-- would log in as that login in the new session (its binding applies)
\c - regress_fn_bi :c_host :c_port
SET ROLE regress_report;
SELECT nodeport, result FROM run_command_on_workers('SELECT count(*) FROM public.journal') ORDER BY 1;	-- fails: reporting login
SELECT public.fn_on_coordinator('SELECT count(*) FROM public.journal');	-- fails: reporting login
RESET ROLE;
SELECT public.fn_on_coordinator('SELECT 1');					-- ok: not bound
\c - postgres :c_host :c_port

-- 4. R7: a protected table is distributed only by tenancy.distribute();
-- Citus's own distribution functions would turn the wall permissive on
-- the shards, whatever citus.enable_unsafe_triggers says
SET ROLE regress_owner;
CREATE TABLE public.fn_ref (administration_id bigint NOT NULL, note text);
SELECT tenancy.protect('public.fn_ref');
SET citus.enable_unsafe_triggers = on;
SELECT create_reference_table('public.fn_ref');					-- fails: protected
SELECT create_distributed_table('public.fn_ref', 'administration_id');	-- fails: protected
SELECT create_distributed_table_concurrently('public.fn_ref', 'administration_id');	-- fails: protected
SELECT citus_add_local_table_to_metadata('public.fn_ref');		-- fails: protected
SELECT * FROM create_reference_table('fn_ref');					-- fails: protected, in FROM, by search_path
DO $$DECLARE t regclass := 'public.fn_ref'; BEGIN PERFORM create_reference_table(t); END$$;	-- fails: not a constant
DO $$BEGIN EXECUTE format('SELECT create_reference_table(%L)', 'public.fn_ref'); END$$;	-- fails: protected, dynamic SQL
RESET citus.enable_unsafe_triggers;
SELECT count(*) AS citus_tables FROM pg_dist_partition WHERE logicalrelid = 'public.fn_ref'::regclass;	-- ok: 0
-- tenancy.distribute() itself still calls create_distributed_table()
SELECT tenancy.distribute('public.fn_ref');						-- ok
SELECT partmethod FROM pg_dist_partition WHERE logicalrelid = 'public.fn_ref'::regclass;	-- ok: h
-- a table tenancy does not protect is Citus's business
CREATE TABLE public.fn_lookup (id bigint PRIMARY KEY, name text);
SELECT create_reference_table('public.fn_lookup');				-- ok
RESET ROLE;

-- 5. R24: undistribute_table() and the other rebuilders would move the
-- rows as the owner under row security (none move) and drop the protected
-- table: refused, the rows stay
INSERT INTO public.fn_ref SELECT a, 'n' || a FROM unnest(ARRAY[:a_hold, :a_jansen, :a_x]) a;
SET ROLE regress_owner;
SELECT undistribute_table('public.fn_ref');						-- fails: protected
SELECT alter_distributed_table('public.fn_ref', shard_count := 8);	-- fails: protected
SELECT alter_table_set_access_method('public.fn_ref', 'heap');	-- fails: protected
RESET ROLE;
-- the same call through an operator made over it
CREATE OPERATOR public.~~~ (LEFTARG = regclass, RIGHTARG = boolean, FUNCTION = undistribute_table);
SET ROLE regress_owner;
SELECT 'public.fn_ref'::regclass OPERATOR(public.~~~) false;	-- fails: protected
RESET ROLE;
DROP OPERATOR public.~~~ (regclass, boolean);
-- nor through an unprotected table colocated with it, whose rebuild Citus
-- cascades to the colocated tables (1.3 attack: journal and journal_line
-- rebuilt empty and no longer registered), nor through a schema Citus
-- distributes or undistributes whole (1.3 attack: the wall permissive on
-- the shards, then the rows gone)
CREATE SCHEMA fn_schema AUTHORIZATION regress_owner;
SET ROLE regress_owner;
CREATE TABLE public.fn_side (administration_id bigint NOT NULL, v int);
SELECT create_distributed_table('public.fn_side', 'administration_id', colocate_with => 'public.fn_ref');
SET citus.enable_unsafe_triggers = on;
SELECT alter_distributed_table('public.fn_side', shard_count := 8, cascade_to_colocated := true);	-- fails: colocated with protected tables
SELECT undistribute_table('public.fn_side', cascade_via_foreign_keys := true);	-- fails: likewise
CREATE TABLE fn_schema.kept (administration_id bigint NOT NULL, secret text);
SELECT tenancy.protect('fn_schema.kept');
SELECT citus_schema_distribute('fn_schema');					-- fails: holds a protected table
RESET citus.enable_unsafe_triggers;
DROP SCHEMA fn_schema CASCADE;
DROP TABLE public.fn_side;
RESET ROLE;
SELECT count(*) AS rows_kept FROM public.fn_ref;				-- ok: 3
SELECT count(*) AS still_protected FROM tenancy.protected_table WHERE relid = 'public.fn_ref'::regclass;	-- ok: 1

-- 6. R1, R14, R25: Citus does not rename roles on the workers, which it
-- connects to by name: no rename of a bound reporting login or of an
-- application role (its tokens name it)
ALTER ROLE regress_report RENAME TO regress_report_old;			-- fails: bound reporting login
ALTER ROLE regress_app2 RENAME TO regress_app2_old;				-- fails: tenancy_app member
-- (Citus 12 notices that it does not rename the role on the workers; 13 does not)
SET client_min_messages = warning;
ALTER ROLE regress_fn_plain RENAME TO regress_fn_plain2;		-- ok: neither
ALTER ROLE regress_fn_plain2 RENAME TO regress_fn_plain;		-- ok
RESET client_min_messages;

-- cleanup
\set QUIET on
SET client_min_messages = warning;
SELECT tenancy.unbind_reporting_login('regress_report');
DROP TABLE public.fn_lookup;
DROP TABLE public.fn_ref;
DROP SCHEMA fn_app CASCADE;
DROP FUNCTION public.fn_on_coordinator(text);
DROP FUNCTION public.fn_payload(bigint);
REVOKE regress_report FROM regress_fn_bi;
DROP ROLE regress_fn_bi;
REVOKE CREATE ON DATABASE :"DBNAME" FROM regress_app;
DROP ROLE regress_fn_plain;
