--
-- token: R25, R2, R3, R4, R7 on a Citus cluster -- the identity reaches the
-- workers only as a signed token: through the coordinator every shard query
-- acts as the coordinator's user, in the transaction that set it; directly
-- on a worker a forged, altered, expired or borrowed token is refused, and
-- without a token there is no identity.
--
-- The shard queries report the identity they run under with
-- tenancy.current_user_id() in their target list, which Citus evaluates on
-- the shards (a query on a distributed table that is not protected, so
-- that only the identity is under test here).
--
\set QUIET on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_token_app') THEN
		CREATE ROLE regress_token_app LOGIN IN ROLE tenancy_app;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_token_app2') THEN
		CREATE ROLE regress_token_app2 LOGIN IN ROLE tenancy_app;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_token_plain') THEN
		CREATE ROLE regress_token_plain LOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_token_bi') THEN
		CREATE ROLE regress_token_bi LOGIN;
	END IF;
END
$$;
SELECT tenancy.create_subscription('Token firm') AS sub \gset
SELECT tenancy.create_compartment(:sub, 'token-' || left(md5(random()::text), 8), 'Token firm') AS c_tok \gset
SELECT tenancy.add_user(:c_tok, 'tina@token.nl', 'internal') AS u_tina \gset
SELECT tenancy.add_user(:c_tok, 'tom@token.nl', 'internal') AS u_tom \gset
CREATE TABLE public.token_probe (administration_id bigint NOT NULL, n int NOT NULL);
SELECT create_distributed_table('public.token_probe', 'administration_id') \gset
INSERT INTO public.token_probe SELECT g, g FROM generate_series(1, 64) g;
GRANT SELECT ON public.token_probe TO regress_token_app, regress_token_app2, regress_token_plain, regress_app;
CREATE FUNCTION public.token_probe_definer() RETURNS SETOF bigint LANGUAGE sql
	SECURITY DEFINER SET search_path = pg_catalog, public
	AS 'SELECT DISTINCT tenancy.current_user_id() FROM public.token_probe';
ALTER FUNCTION public.token_probe_definer() OWNER TO regress_token_app2;
GRANT EXECUTE ON FUNCTION public.token_probe_definer() TO regress_token_app;
CREATE VIEW public.token_journal WITH (security_invoker = true) AS SELECT administration_id, amount FROM public.journal;
CREATE VIEW public.token_lookup WITH (security_invoker = true) AS SELECT n FROM public.token_probe;
GRANT SELECT ON public.token_journal, public.token_lookup TO regress_app;
-- the nodes: this coordinator, and one worker to connect to directly
\set c_host :HOST
\set c_port :PORT
SELECT nodename AS w_host, nodeport AS w_port FROM pg_dist_node
 WHERE groupid > 0 AND noderole = 'primary' ORDER BY nodeport LIMIT 1 \gset
-- an identity change inside a PL/pgSQL block with EXCEPTION
CREATE FUNCTION public.token_act_guarded(user_id bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM tenancy.act_as_local(user_id);
EXCEPTION WHEN division_by_zero THEN NULL;
END
$$;
-- the cluster secret, read here as a superuser can: what an outsider who
-- stole it could sign (pgcrypto), to prove the checks after the signature
SELECT rtrim(pg_read_file(current_setting('tenancy.cluster_secret_file')), E'\n') AS secret \gset
SELECT extract(epoch FROM now())::bigint AS now_epoch \gset
CREATE FUNCTION public.token_sign(payload text, key text) RETURNS text LANGUAGE sql
	AS $$SELECT 'v1.' || payload || '.'
			|| encode(public.hmac('v1.' || payload || E'\n' || current_database(), key, 'sha256'), 'hex')$$;
RESET client_min_messages;
\set QUIET off

-- 1. R2: without an identity every shard query runs without one
SET ROLE regress_token_app;
SELECT DISTINCT tenancy.current_user_id() FROM token_probe;		-- ok: NULL on every shard
BEGIN;
SELECT DISTINCT tenancy.current_user_id() FROM token_probe;		-- ok: NULL
COMMIT;
RESET ROLE;
-- a coordinator without the secret gives its workers no identity: they
-- act without one while the coordinator acts as tina (and the shard
-- queries do evaluate current_user_id() on the workers)
SET tenancy.cluster_secret_file = '';
SET ROLE regress_token_app;
BEGIN;
SELECT tenancy.act_as_local(:u_tina);
SELECT tenancy.current_user_id() = :u_tina AS tina_here;		-- ok
SELECT DISTINCT tenancy.current_user_id() FROM token_probe;		-- ok: NULL on the workers
COMMIT;
RESET ROLE;
RESET tenancy.cluster_secret_file;

-- 2. R25, R4: act_as_local in a block reaches every shard query, router
-- and multi-shard, and ends with the transaction
SET ROLE regress_token_app;
BEGIN;
SELECT tenancy.act_as_local(:u_tina);
SELECT array_agg(DISTINCT tenancy.current_user_id()) = ARRAY[:u_tina]::bigint[] AS all_tina
  FROM token_probe;												-- ok: multi-shard, tina on every shard
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina
  FROM token_probe WHERE administration_id = 3;					-- ok: router
SHOW citus.propagate_set_commands;								-- ok: local, set by tenancy
COMMIT;
SELECT DISTINCT tenancy.current_user_id() FROM token_probe;		-- ok: NULL, ended with the transaction
BEGIN;
SELECT DISTINCT tenancy.current_user_id() FROM token_probe;		-- ok: NULL in the next one too
ROLLBACK;
-- a change of user inside the block reaches the connections already open
BEGIN;
SELECT tenancy.act_as_local(:u_tina);
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina FROM token_probe;	-- ok
SELECT tenancy.act_as_local(:u_tom);
SELECT DISTINCT tenancy.current_user_id() = :u_tom AS tom FROM token_probe;	-- ok: tom everywhere
SELECT tenancy.reset();
SELECT DISTINCT tenancy.current_user_id() FROM token_probe;		-- ok: NULL everywhere
COMMIT;
RESET ROLE;

-- a SECURITY DEFINER function of another role: Citus connects as its
-- owner, for whom the token carries no identity (R2, no error), and no
-- token of that owner reaches the application's connections
BEGIN;
SELECT tenancy.act_as_local(:u_tina);
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina FROM token_probe;	-- ok: opens the app's connections
SELECT * FROM public.token_probe_definer();						-- ok: NULL, as the owner
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina FROM token_probe;	-- ok: still tina
COMMIT;
RESET ROLE;

-- 3. R25: a session-level act_as gives each transaction block a fresh
-- token; outside a block a distributed table that is not protected (a
-- shared lookup table) is read as before, without an identity on the
-- workers (section 9: a protected one is refused)
SET ROLE regress_token_app;
SELECT tenancy.act_as(:u_tina);
SELECT DISTINCT tenancy.current_user_id() FROM token_probe;		-- ok: unprotected, NULL on the workers
SELECT count(*) FROM token_probe WHERE administration_id = 3;	-- ok: unprotected, router
SELECT tenancy.current_user_id() = :u_tina AS tina;				-- ok: touches no worker
BEGIN;
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina FROM token_probe;	-- ok
SELECT current_setting('tenancy.token') AS token1 \gset
COMMIT;
BEGIN;
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina FROM token_probe;	-- ok
SELECT current_setting('tenancy.token') <> :'token1' AS fresh_token;	-- ok
COMMIT;
SELECT current_setting('tenancy.token') AS after_commit;		-- ok: empty
-- a block that lasts longer than half the token's life gets a fresh token
-- at its next statement.  The age is measured against
-- tenancy.token_lifetime: raising it (superuser only) from 60 to 1000
-- seconds makes the block's token older than half its life (it expires
-- in less than 500 seconds) without waiting.  A session-level SET: Citus
-- would send a SET LOCAL to the workers, where the application's role
-- may not set it
RESET ROLE;
BEGIN;
SET ROLE regress_token_app;
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina FROM token_probe;	-- ok: issues the token
SELECT current_setting('tenancy.token') AS young \gset
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina FROM token_probe;	-- ok
SELECT current_setting('tenancy.token') = :'young' AS kept;	-- ok: t, less than half its life
SELECT DISTINCT current_setting('tenancy.token') = :'young' AS on_workers
  FROM token_probe;												-- ok: t, the workers hold it
RESET ROLE;
SET tenancy.token_lifetime = 1000;
SET ROLE regress_token_app;
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina FROM token_probe;	-- ok: still tina on every shard
SELECT current_setting('tenancy.token') <> :'young' AS renewed,
	   split_part(current_setting('tenancy.token'), '/', 5)::bigint
	   - split_part(:'young', '/', 5)::bigint BETWEEN 940 AND 941 AS expires_later;	-- ok: t, t
SELECT current_setting('tenancy.token') AS renewed_token \gset
SELECT DISTINCT current_setting('tenancy.token') = :'renewed_token' AS on_workers
  FROM token_probe;												-- ok: t, the workers got the new one
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina FROM token_probe;	-- ok
SELECT current_setting('tenancy.token') = :'renewed_token' AS kept;	-- ok: t, young again
COMMIT;
RESET ROLE;
RESET tenancy.token_lifetime;
SET ROLE regress_token_app;
-- a role that may not act as users is given no token (R3)
SET ROLE regress_token_plain;
BEGIN;
SELECT tenancy.current_user_id() = :u_tina AS tina_here;		-- ok: the session's identity
SELECT DISTINCT tenancy.current_user_id() FROM token_probe;		-- ok: NULL on the workers
SELECT current_setting('tenancy.token') AS no_token;			-- ok: empty
COMMIT;
SET ROLE regress_token_app;
SELECT tenancy.reset();
RESET ROLE;

-- 4. R25: no change of identity inside a subtransaction (Citus forgets a
-- subtransaction's SET LOCAL at RELEASE); a savepoint after the token keeps it
SET ROLE regress_token_app;
BEGIN;
SELECT tenancy.act_as_local(:u_tina);
SAVEPOINT s;
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina FROM token_probe;	-- ok
RELEASE s;
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina FROM token_probe;	-- ok: still tina
SAVEPOINT s2;
SELECT tenancy.act_as_local(:u_tom);							-- fails: inside a subtransaction
ROLLBACK TO s2;
RELEASE s2;
SELECT tenancy.reset();											-- ok: at top level
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT tenancy.act_as_local(:u_tina);							-- fails: inside a subtransaction
ROLLBACK;
-- a PL/pgSQL block with EXCEPTION is a subtransaction too
BEGIN;
SELECT public.token_act_guarded(:u_tina);							-- fails: inside a subtransaction
ROLLBACK;
-- a session identity whose first statement of the block is in a savepoint
SELECT tenancy.act_as(:u_tina);
BEGIN;
SAVEPOINT s;
SELECT DISTINCT tenancy.current_user_id() FROM token_probe;		-- fails: inside a subtransaction
ROLLBACK;
BEGIN;
SELECT 1 AS first_statement;									-- ok: issues the token
SAVEPOINT s;
SELECT DISTINCT tenancy.current_user_id() = :u_tina AS tina FROM token_probe;	-- ok
COMMIT;
SELECT tenancy.reset();
RESET ROLE;

-- tokens for the worker: one issued by the coordinator to regress_token_app
SET ROLE regress_token_app;
SELECT tenancy.act_as(:u_tina);
SELECT tenancy.identity_token() AS tok \gset
SELECT tenancy.reset();
RESET ROLE;
SELECT regexp_replace(:'tok', '^v1\.[0-9]+/', 'v1.' || :u_tom || '/') AS forged,
	   left(:'tok', -1) || CASE WHEN right(:'tok', 1) = '0' THEN '1' ELSE '0' END AS flipped,
	   public.token_sign(:u_tina || '/' || :c_tok || '/1/-/' || (:now_epoch - 1) || '/0011223344556677/regress_token_app',
					:'secret') AS expired \gset

-- 5. R2, R25: directly on a worker, no token is no identity; the
-- coordinator's token is accepted for its role and transaction only
\set QUIET on
\c - regress_token_app :w_host :w_port
\set QUIET off
SELECT tenancy.current_user_id();								-- ok: NULL
BEGIN;
SET LOCAL tenancy.token = :'tok';								-- ok
SELECT tenancy.current_user_id() = :u_tina AS tina,
	   tenancy.current_compartment_id() = :c_tok AS token_firm;	-- ok
COMMIT;
SELECT tenancy.current_user_id();								-- ok: NULL after the transaction
SET tenancy.token = :'tok';										-- fails: outside a transaction block
BEGIN;
SAVEPOINT s;
SET LOCAL tenancy.token = :'tok';								-- fails: inside a subtransaction
ROLLBACK;

-- 6. R3, R25: directly on a worker, forged, altered and expired tokens
BEGIN;
SET LOCAL tenancy.token = :'forged';							-- fails: another user, same signature
ROLLBACK;
BEGIN;
SET LOCAL tenancy.token = :'flipped';							-- fails: signature changed
ROLLBACK;
BEGIN;
SET LOCAL tenancy.token = :'expired';							-- fails: expired
ROLLBACK;
BEGIN;
SET LOCAL tenancy.token = 'v1.garbage';							-- fails: malformed
ROLLBACK;

-- 7. R25, R2: another role cannot replay the token on a worker, a
-- superuser neither: it carries no identity for them
\set QUIET on
\c - regress_token_app2 :w_host :w_port
\set QUIET off
BEGIN;
SET LOCAL tenancy.token = :'tok';								-- ok: taken, but no identity
SELECT tenancy.current_user_id();								-- ok: NULL
ROLLBACK;
\set QUIET on
\c - postgres :w_host :w_port
\set QUIET off
BEGIN;
SET LOCAL tenancy.token = :'tok';								-- ok: taken, but no identity
SELECT tenancy.current_user_id();								-- ok: NULL
ROLLBACK;
-- a worker with another secret accepts none of the cluster's tokens
SELECT current_setting('data_directory') || '/regress_other_secret' AS other_file \gset
COPY (SELECT 'another-secret-than-the-cluster-one-0123456789') TO :'other_file';
-- (the programs read COPY's row first: one that exits without reading it
-- makes COPY fail with a broken pipe when the machine is busy)
SELECT 'cat >/dev/null; chmod 0600 ' || :'other_file' AS chmod_other, 'cat >/dev/null; rm -f ' || :'other_file' AS rm_other \gset
COPY (SELECT 1) TO PROGRAM :'chmod_other';
SET tenancy.cluster_secret_file = :'other_file';
SET ROLE regress_token_app;
BEGIN;
SET LOCAL tenancy.token = :'tok';								-- fails: signature
ROLLBACK;
RESET ROLE;
RESET tenancy.cluster_secret_file;
COPY (SELECT 1) TO PROGRAM :'rm_other';

-- 8. R25, R7, R2: the protected journal of citus_setup, directly on a
-- worker: with Sam's token (read on vries-hold and vries-ops1) the worker
-- reads Sam's rows, its own shards and, with the token passed on by the
-- worker's Citus, the other worker's; without the token, or as another
-- role, nothing
\set QUIET on
\c - postgres :c_host :c_port
SELECT id AS c_cli FROM tenancy.compartment WHERE code = 'bk-clients' \gset
SELECT tenancy.find_user(:c_cli, 'sam@bakker.nl') AS u_staff \gset
SELECT id AS a_hold FROM tenancy.administration WHERE code = 'vries-hold' \gset
SELECT id AS a_ops1 FROM tenancy.administration WHERE code = 'vries-ops1' \gset
-- what Sam may read, counted by the superuser (earlier files add rows)
SELECT count(*) AS sam_rows, count(*) FILTER (WHERE administration_id = :a_hold) AS hold_rows
  FROM journal WHERE administration_id IN (:a_hold, :a_ops1) \gset
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff);
SELECT tenancy.identity_token() AS sam_tok \gset
SELECT tenancy.reset();
RESET ROLE;
\c - regress_app :w_host :w_port
\set QUIET off
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL tenancy.token = :'sam_tok';							-- ok
SELECT bool_and(administration_id IN (:a_hold, :a_ops1)) AS only_sams,
	   count(*) = :sam_rows AS all_sams
  FROM journal;													-- ok: all of Sam's rows, only those
UPDATE journal SET amount = amount WHERE administration_id = :a_ops1;	-- ok: 0 rows, read only (R7)
COMMIT;
-- R6, R25: under a token, no session's statements: Citus writes every
-- request's parameters into its shard queries, whatever firm they serve
-- (1.3 attack: read from a locked session through a pushed-down HAVING)
BEGIN;
SET LOCAL tenancy.token = :'sam_tok';
SELECT count(*) >= 0 FROM pg_stat_activity;						-- fails: under a token
ROLLBACK;
BEGIN;
SET LOCAL tenancy.token = :'sam_tok';
SELECT pg_stat_get_backend_activity(1) IS NULL;					-- fails: likewise
ROLLBACK;
BEGIN;
SELECT count(*) FROM journal;									-- ok: 0, no token (R2)
SELECT count(*) > 0 AS sessions FROM pg_stat_activity;			-- ok: t, no identity
COMMIT;
-- and a statement under a token is hidden in pg_stat_activity, for
-- readers the planner cannot see (a CHECK constraint, a domain, an
-- aggregate's final function) and for the role's other sessions: the
-- values Citus wrote into it stay on the coordinator, as $n
BEGIN;
SET LOCAL tenancy.token = :'sam_tok' \; SELECT 'TOPSECRET-42' AS literal \; SET LOCAL tenancy.token = '' \; SELECT position('TOPSECRET' in query) = 0 AS hidden, query FROM pg_stat_activity WHERE pid = pg_backend_pid();	-- ok: t, hidden
COMMIT;
\set QUIET on
\c - regress_app2 :w_host :w_port
\set QUIET off
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL tenancy.token = :'sam_tok';							-- ok: taken, but no identity
SELECT count(*) FROM journal;									-- ok: 0, another role
COMMIT;

-- 9. R25: the same rows through the coordinator under a session-level
-- act_as, block after block; refused outside a block
\set QUIET on
\c - regress_app :c_host :c_port
\set QUIET off
SELECT tenancy.act_as(:u_staff);
BEGIN;
SELECT bool_and(administration_id IN (:a_hold, :a_ops1)) AS only_sams,
	   count(*) = :sam_rows AS all_sams
  FROM journal;													-- ok: all of Sam's rows, only those
COMMIT;
BEGIN;
SELECT count(*) = :hold_rows AS all_hold FROM journal WHERE administration_id = :a_hold;	-- ok: router
COMMIT;
-- outside a block every statement that reaches the protected journal is
-- refused (55000), whatever its form; unprotected tables are not
SELECT count(*) FROM journal;									-- fails: outside a transaction block
SELECT count(*) FROM journal WHERE administration_id = :a_hold;	-- fails: router, outside a block
SELECT count(*) FROM token_journal;								-- fails: the journal under a view
SELECT count(*) FROM token_probe p
  WHERE p.administration_id IN (SELECT administration_id FROM journal);	-- fails: in a subquery
INSERT INTO journal (administration_id, amount, reference)
  VALUES (:a_hold, 1, 'outside');								-- fails: outside a block
SET plan_cache_mode = force_generic_plan;
PREPARE token_count AS
  SELECT count(*) = :hold_rows AS all_hold FROM journal WHERE administration_id = $1;
EXECUTE token_count(:a_hold);									-- fails: outside a block
EXECUTE token_count(:a_hold);									-- fails: the cached plan too
BEGIN;
EXECUTE token_count(:a_hold);									-- ok: the cached plan inside a block
COMMIT;
DEALLOCATE token_count;
RESET plan_cache_mode;
-- COPY of the protected table itself TO the client is refused under an
-- identity, in a block and outside (1.3 attack: Citus copied the shards
-- over connections without the token and returned no rows, without an
-- error); COPY (SELECT ...) TO is a query and carries the identity
BEGIN;
COPY journal (administration_id, reference) TO STDOUT;			-- fails: not under an identity
ROLLBACK;
COPY journal TO STDOUT;											-- fails: outside a block too
BEGIN;
COPY (SELECT count(*) = :sam_rows FROM journal) TO STDOUT;		-- ok: t, all of Sam's rows
ROLLBACK;
SELECT count(*) > 0 AS lookup FROM token_probe;					-- ok: unprotected
SELECT count(*) > 0 AS lookup FROM token_lookup;				-- ok: a view of the unprotected table
SELECT tenancy.reset();
SELECT count(*) FROM journal;									-- ok: 0, no identity (R2)

-- 10. R23, R25: check() on the coordinator reports a node without a
-- usable cluster secret, or with another one than the coordinator's
-- (compared by fingerprint: neither the secret nor its file is shown)
\set QUIET on
\c - postgres :c_host :c_port
\set QUIET off
SELECT object, problem FROM tenancy.check()
 WHERE object = 'tenancy.cluster_secret_file' OR object LIKE 'worker %';	-- ok: none, same secret everywhere
SET tenancy.cluster_secret_file = '';
SELECT severity, object, problem, hint FROM tenancy.check()
 WHERE object = 'tenancy.cluster_secret_file';					-- ok: the coordinator has none
RESET tenancy.cluster_secret_file;
-- the first worker reads another secret, then none
\set QUIET on
\c - postgres :w_host :w_port
COPY (SELECT 'another-secret-than-the-cluster-one-0123456789') TO :'other_file';
COPY (SELECT 1) TO PROGRAM :'chmod_other';
SELECT current_database() AS w_db \gset
SET citus.enable_ddl_propagation = off;
ALTER ROLE postgres IN DATABASE :"w_db" SET tenancy.cluster_secret_file = :'other_file';
\c - postgres :c_host :c_port
\set QUIET off
SELECT severity, object = 'worker ' || :'w_host' || ':' || :w_port AS first_worker, problem, hint
  FROM tenancy.check() WHERE object LIKE 'worker %';			-- ok: another secret
SELECT count(*) AS secret_shown FROM tenancy.check()
 WHERE problem LIKE '%another-secret%' OR hint LIKE '%another-secret%'
	OR problem LIKE '%' || :'secret' || '%' OR hint LIKE '%' || :'secret' || '%'
	OR hint LIKE '%regress_other_secret%';						-- ok: 0
\set QUIET on
\c - postgres :w_host :w_port
SET citus.enable_ddl_propagation = off;
ALTER ROLE postgres IN DATABASE :"w_db" SET tenancy.cluster_secret_file = '';
\c - postgres :c_host :c_port
\set QUIET off
SELECT severity, object = 'worker ' || :'w_host' || ':' || :w_port AS first_worker, problem, hint
  FROM tenancy.check() WHERE object LIKE 'worker %';			-- ok: none on the worker
\set QUIET on
\c - postgres :w_host :w_port
SET citus.enable_ddl_propagation = off;
ALTER ROLE postgres IN DATABASE :"w_db" RESET tenancy.cluster_secret_file;
COPY (SELECT 1) TO PROGRAM :'rm_other';
\c - postgres :c_host :c_port
\set QUIET off
SELECT object, problem FROM tenancy.check()
 WHERE object = 'tenancy.cluster_secret_file' OR object LIKE 'worker %';	-- ok: none again

-- 11. R1, R14, R25: a reporting login's binding applies to the login
-- only; after SET ROLE to it, or in a SECURITY DEFINER function it owns,
-- the coordinator applies none, and the workers (which Citus connects to
-- as the current role) would apply it: refused (V, hole 3).  The login
-- regress_report of citus_setup (bound again here)
\set QUIET on
\c - postgres :c_host :c_port
SET client_min_messages = warning;
GRANT regress_report TO regress_token_bi;
GRANT SELECT ON public.token_probe TO regress_report;
SELECT tenancy.bind_reporting_login('regress_report', :c_cli);
CREATE FUNCTION public.token_report_rows() RETURNS bigint LANGUAGE sql
	SECURITY DEFINER SET search_path = pg_catalog, public
	AS 'SELECT count(*) FROM public.journal';
ALTER FUNCTION public.token_report_rows() OWNER TO regress_report;
GRANT EXECUTE ON FUNCTION public.token_report_rows() TO regress_token_bi;
RESET client_min_messages;
\c - regress_report :c_host :c_port
\set QUIET off
SELECT count(*) > 0 AS reads_its_scope FROM journal;			-- ok: the login itself
\set QUIET on
\c - regress_token_bi :c_host :c_port
\set QUIET off
SELECT count(*) FROM journal;									-- ok: 0, no binding, no identity (R2)
SET ROLE regress_report;
SELECT tenancy.current_compartment_id();						-- ok: NULL, the coordinator applies no binding
SELECT count(*) FROM journal;									-- fails: the workers would apply the binding
BEGIN;
SELECT count(*) FROM journal WHERE administration_id = :a_hold;	-- fails: router, in a block too
ROLLBACK;
SELECT count(*) > 0 AS lookup FROM token_probe;					-- ok: unprotected
\set SHOW_CONTEXT never
SELECT result FROM run_command_on_coordinator('SELECT 1');		-- fails: a new session would log in as it
\set SHOW_CONTEXT errors
RESET ROLE;
SELECT public.token_report_rows();								-- fails: a SECURITY DEFINER function it owns
\set QUIET on
\c - postgres :c_host :c_port
SELECT tenancy.unbind_reporting_login('regress_report');
DROP FUNCTION public.token_report_rows();
REVOKE SELECT ON public.token_probe FROM regress_report;
REVOKE regress_report FROM regress_token_bi;
\set QUIET off

-- 12. R5: a statement injected into a session whose identity is locked
-- cannot open a new, unlocked session through Citus (V, hole 9: there it
-- could act as anyone, or replay another request's token); citus_guard.c
-- refuses these under any identity (test/citus/sql/citus_fn.sql)
\set QUIET on
\c - regress_app :c_host :c_port
\set QUIET off
\set SHOW_CONTEXT never
SELECT tenancy.act_as(:u_staff, 'regress-key');
-- the token says locked, and nothing of the key (1.3 attack: it carried
-- the key's SHA-256, which a statement injected here could guess offline)
SELECT split_part(tenancy.identity_token(), '/', 4) AS token_lock;	-- ok: locked
SELECT result FROM run_command_on_coordinator('SELECT 1');		-- fails: locked
SELECT result FROM run_command_on_workers('SELECT 1');			-- fails: locked
SELECT result FROM run_command_on_all_nodes('SELECT 1');		-- fails: locked
SELECT result FROM run_command_on_shards('journal', 'SELECT 1');	-- fails: locked
SELECT * FROM master_run_on_worker(ARRAY[:'w_host'], ARRAY[:w_port],
								   ARRAY['SELECT 1'], false);		-- fails: locked
DO $$BEGIN PERFORM run_command_on_coordinator('SELECT 1'); END$$;	-- fails: locked, in PL/pgSQL too
-- nor read the workers' statements through a shard query (1.3 attack:
-- the other firm's UPDATE with its values written in, in the error)
BEGIN;
SELECT 1 FROM journal WHERE administration_id = :a_hold
HAVING (SELECT string_agg(query, ' ') FROM pg_stat_get_activity(NULL))::int > 0;	-- fails: under a token on the worker
ROLLBACK;
-- nor join another request's distributed transaction, whose intermediate
-- results (a materialised CTE, a subquery with LIMIT) hold the rows that
-- request read under its identity: read_intermediate_result() would give
-- them here (1.3 attack: Sam's locked session read Otto's rows)
BEGIN;
SELECT assign_distributed_transaction_id(0, 1, now());			-- fails: under an identity
ROLLBACK;
SELECT tenancy.current_user_id() = :u_staff AS still_sam;		-- ok
SELECT tenancy.reset('regress-key');
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
SELECT assign_distributed_transaction_id(0, 1, now());			-- fails: under act_as_local too
ROLLBACK;
SELECT result FROM run_command_on_coordinator('SELECT 1');		-- ok: no lock
\set SHOW_CONTEXT errors

-- 13. R25, R7, R2: the parallel workers of a shard query act as the
-- token's identity, as their leader does (V, hole 10: they read nothing),
-- and a token of another role gives them no identity either
\set parallel_scans 'SET LOCAL force_parallel_mode = on; SET LOCAL parallel_leader_participation = off; SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; SET LOCAL min_parallel_table_scan_size = 0;'
\set QUIET on
\c - regress_app :c_host :c_port
\set QUIET off
BEGIN;
SELECT tenancy.act_as_local(:u_staff);
:parallel_scans
SELECT count(*) = :sam_rows AS all_sams FROM journal;			-- ok: t, in the parallel workers of the shards
COMMIT;
SELECT tenancy.act_as(:u_staff);
SELECT tenancy.identity_token() AS sam_tok \gset
SELECT tenancy.reset();
\set QUIET on
\c - regress_app2 :w_host :w_port
\set QUIET off
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL tenancy.token = :'sam_tok';							-- ok: taken, but no identity
SELECT current_setting('tenancy.token') AS emptied;			-- ok: empty
:parallel_scans
SELECT count(*) FROM journal;									-- ok: 0, another role (R2)
COMMIT;

-- 14. R25: a token is valid only in the database it was issued in (V,
-- hole 12), and a worker takes an accepted token out of its
-- pg_stat_activity, where the role's other sessions could read it (V, hole 5)
\set QUIET on
\c postgres regress_app :w_host :w_port
\set QUIET off
BEGIN;
SET LOCAL tenancy.token = :'sam_tok';							-- fails: another database
ROLLBACK;
\set QUIET on
\c tenancy_citus regress_app :w_host :w_port
\set QUIET off
-- (read once the token is dropped again: under it, pg_stat_activity is
-- refused, section 8; the statements after the token's are hidden whole)
BEGIN;
SET LOCAL tenancy.token = :'sam_tok' \; SET LOCAL tenancy.token = '' \; SELECT position(:'sam_tok' in query) = 0 AS hidden, query FROM pg_stat_activity WHERE pid = pg_backend_pid();	-- ok: t, hidden
COMMIT;
BEGIN;
SET LOCAL tenancy.token = :'sam_tok';
SELECT tenancy.current_user_id() = :u_staff AS sam;				-- ok: t, accepted
COMMIT;

-- cleanup
\set QUIET on
\c - postgres :c_host :c_port
SET client_min_messages = warning;
DROP VIEW public.token_journal, public.token_lookup;
DROP TABLE public.token_probe;
DROP FUNCTION public.token_act_guarded(bigint);
DROP FUNCTION public.token_sign(text, text);
DROP FUNCTION public.token_probe_definer();
