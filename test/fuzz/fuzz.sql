-- test/fuzz/fuzz.sql -- random and edge arguments to every function of
-- schema tenancy, as the connected role (run by test/fuzz/run.sh)
--
-- psql variables: seed (a float in [-1, 1]), seconds (time budget),
-- act_as (a user id to act as first, or 0).  Every function of schema
-- tenancy is found in pg_proc (functions taking "internal" cannot be called
-- from SQL and are left out), so a new function is fuzzed without a change
-- here.  Each call runs in its own subtransaction (a PL/pgSQL block with an
-- exception handler) and is rolled back even when it succeeds (a marker
-- error FZ001), so the catalog under test stays the same from call to call.
-- A call that fails with an SQLSTATE outside the allowed classes is
-- reported with a NOTICE "unexpected ..."; a crash ends the connection,
-- which run.sh sees.  The last lines are "calls=N unexpected=N" and the
-- number of calls per SQLSTATE (FZ001: the call succeeded).
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = notice;
SELECT set_config('fuzz.seed', :'seed', false),
	   set_config('fuzz.seconds', :'seconds', false),
	   set_config('fuzz.act_as', :'act_as', false) \gset
DO $fuzz$
DECLARE
	-- argument pools, as SQL expressions, per argument type
	pool_int8 text[] := ARRAY['NULL', '0', '-1', '1', '2', '3', '4', '5', '6',
		'7', '8', '9', '10', '999999', '9223372036854775807',
		'(-9223372036854775807 - 1)'];
	pool_text text[] := ARRAY['NULL', $$''$$, $$' '$$, $$'x'$$, $$'read'$$,
		$$'write'$$, $$'manage'$$, $$'internal'$$, $$'external'$$,
		$$'archive_and_transfer'$$, $$'export_and_delete'$$,
		$$'a@b.nl'$$, $$'jp@example.nl;'$$, $$'аdmin@a.example'$$,
		$$'K1'$$, $$'vries'$$, $$'%s%n%x'$$, $$E'\x01\t'$$,
		$$'''; DROP TABLE public.journal; --'$$, $$'public.journal'$$,
		$$'SELECT 1'$$, $$'SELECT * FROM public.journal'$$,
		$$repeat('A', 100000)$$, $$repeat('é', 3000)$$, $$'requested'$$];
	pool_textarr text[] := ARRAY['NULL', $$'{}'::text[]$$, $$'{NULL}'::text[]$$,
		$$'{read}'::text[]$$, $$'{read,write,submit,manage}'::text[]$$,
		$$'{{read},{write}}'::text[]$$, $$'{bogus}'::text[]$$,
		$$'[5:5]={read}'::text[]$$, $$array_fill('read'::text, ARRAY[10000])$$,
		$$'{vries-hold,NULL}'::text[]$$, $$ARRAY[repeat('x', 10000)]$$];
	pool_bool text[] := ARRAY['NULL', 'true', 'false'];
	pool_regclass text[] := ARRAY['NULL', '0', '1', '4294967295',
		$$'public.journal'$$, $$'pg_class'$$, $$'tenancy.permission'$$,
		$$'tenancy.audit_entry'$$, $$'pg_catalog.pg_proc_oid_index'$$];
	pool_regrole text[] := ARRAY['NULL', '0', '1', '4294967295',
		$$'postgres'$$, $$'regress_plain'$$, $$'regress_fuzz_report'$$,
		$$'tenancy_app'$$, $$'tenancy_admin'$$, $$'pg_monitor'$$];
	pool_name text[] := ARRAY['NULL', $$''$$, $$'administration_id'$$, $$'id'$$,
		$$'amount'$$, $$repeat('n', 63)$$, $$'no such column'$$];
	pool_ts text[] := ARRAY['NULL', $$'infinity'$$, $$'-infinity'$$,
		$$now() + interval '1 month'$$, $$now() - interval '1 day'$$,
		$$now() + interval '13 months'$$, $$'294276-12-31 00:00:00+00'$$,
		$$'4713-01-01 BC'$$];
	pool_bytea text[] := ARRAY['NULL', $$''::bytea$$, $$'\x00ff'::bytea$$,
		$$decode(repeat('ab', 5000), 'hex')$$];
	pool_jsonb text[] := ARRAY['NULL', $$'{}'::jsonb$$, $$'null'::jsonb$$,
		$$'[1,2,3]'::jsonb$$, $$'{"a":{"b":[null]}}'::jsonb$$];
	pool_oid text[] := ARRAY['NULL', '0', '1', '4294967295', '16384'];
	names text[];
	typelists text[];
	k int;
	expr text;
	args text[];
	t regtype;
	pool text[];
	calls int := 0;
	unexpected int := 0;
	stop_at timestamptz := clock_timestamp()
		+ make_interval(secs => current_setting('fuzz.seconds')::int);
	code text;
	msg text;
	codes jsonb := '{}';
BEGIN
	PERFORM setseed(current_setting('fuzz.seed')::float8);
	IF current_setting('fuzz.act_as')::bigint <> 0 THEN
		PERFORM tenancy.act_as(current_setting('fuzz.act_as')::bigint);
	END IF;
	SELECT array_agg(p.proname::text ORDER BY p.oid::regprocedure::text COLLATE "C"),
		   array_agg(p.proargtypes::regtype[]::text ORDER BY p.oid::regprocedure::text COLLATE "C")
	  INTO names, typelists
	  FROM pg_proc p
	 WHERE p.pronamespace = 'tenancy'::regnamespace
	   AND NOT ('internal'::regtype = ANY (p.proargtypes::regtype[]));
	WHILE clock_timestamp() < stop_at LOOP
		k := 1 + floor(random() * array_length(names, 1))::int;
		args := '{}';
		FOREACH t IN ARRAY typelists[k]::regtype[] LOOP
			pool := CASE t
				WHEN 'bigint'::regtype THEN pool_int8
				WHEN 'integer'::regtype THEN pool_int8
				WHEN 'text'::regtype THEN pool_text
				WHEN 'text[]'::regtype THEN pool_textarr
				WHEN 'boolean'::regtype THEN pool_bool
				WHEN 'regclass'::regtype THEN pool_regclass
				WHEN 'regrole'::regtype THEN pool_regrole
				WHEN 'name'::regtype THEN pool_name
				WHEN 'timestamp with time zone'::regtype THEN pool_ts
				WHEN 'bytea'::regtype THEN pool_bytea
				WHEN 'jsonb'::regtype THEN pool_jsonb
				WHEN 'oid'::regtype THEN pool_oid
				ELSE ARRAY['NULL'] END;
			args := args || format('(%s)::%s',
				pool[1 + floor(random() * array_length(pool, 1))::int], t);
		END LOOP;
		expr := format('SELECT tenancy.%I(%s)', names[k], array_to_string(args, ', '));
		calls := calls + 1;
		BEGIN
			EXECUTE expr;
			RAISE EXCEPTION USING ERRCODE = 'FZ001', MESSAGE = 'fuzz rollback';
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
			codes := jsonb_set(codes, ARRAY[code],
							   to_jsonb(coalesce((codes->>code)::int, 0) + 1));
			-- allowed: the call succeeded (FZ001), or a user error of an
			-- expected class; never an internal error (XX), a system error
			-- (58), resources (53), an uncaught PL/pgSQL RAISE (P0), ...
			IF code <> 'FZ001'
			   AND left(code, 2) NOT IN ('22', '23', '3F', '42')
			   AND code NOT IN ('55000', '40001', '40P01', '0A000', '39P01',
								'54000', '25006', '2BP01', '28000') THEN
				unexpected := unexpected + 1;
				RAISE NOTICE 'unexpected % "%" from %', code, msg, left(expr, 300);
			END IF;
		END;
	END LOOP;
	RAISE NOTICE 'calls=% unexpected=%', calls, unexpected;
	RAISE NOTICE 'sqlstates %', codes;
END
$fuzz$;
