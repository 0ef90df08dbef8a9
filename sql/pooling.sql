--
-- pooling: R4, R24 -- nothing a request did under one identity can be read
-- under another on the same connection: cursors (held or not, SQL or
-- PL/pgSQL) and temporary tables stay with the identity they were filled
-- under; a role behind transaction pooling can be barred from session-level
-- identities (tenancy.local_identity_only); a reporting login never acts as
-- a user.  Each identity change is tried: act_as, act_as_local, reset, the
-- end of an act_as_local transaction, ROLLBACK TO SAVEPOINT, DISCARD ALL.
--
\i test/fixture.sql

-- setup: an application role for transaction pooling, a reporting login,
-- PL/pgSQL functions that open and read refcursors
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_pool_app;
DROP ROLE IF EXISTS regress_pool_bi;
RESET client_min_messages;
CREATE ROLE regress_pool_app LOGIN IN ROLE tenancy_app;
CREATE ROLE regress_pool_bi LOGIN;
GRANT SELECT ON public.journal TO regress_pool_app, regress_pool_bi;
CREATE FUNCTION public.open_ref(name refcursor) RETURNS refcursor LANGUAGE plpgsql
	AS $$ BEGIN OPEN name FOR SELECT reference FROM public.journal ORDER BY id; RETURN name; END $$;
CREATE FUNCTION public.journal_references() RETURNS SETOF text STABLE LANGUAGE sql
	AS 'SELECT reference FROM journal';
GRANT EXECUTE ON FUNCTION public.journal_references() TO regress_pool_app;
CREATE FUNCTION public.fetch_ref(name refcursor) RETURNS text LANGUAGE plpgsql
	AS $$ DECLARE r text; BEGIN FETCH name INTO r; RETURN r; END $$;
CREATE FUNCTION public.switch_in_loop(to_user bigint) RETURNS bigint LANGUAGE plpgsql
	AS $$ DECLARE r record; n bigint := 0;
	BEGIN
		FOR r IN SELECT reference FROM public.journal LOOP
			PERFORM tenancy.act_as_local(to_user);
			n := n + 1;
		END LOOP;
		RETURN n;
	END $$;
CREATE PROCEDURE public.commit_in_loop(to_user bigint) LANGUAGE plpgsql
	AS $$ DECLARE r record;
	BEGIN
		PERFORM tenancy.act_as_local(to_user);
		FOR r IN SELECT reference FROM public.journal ORDER BY id LOOP
			COMMIT;
			RAISE NOTICE 'read % as %', r.reference, tenancy.current_user_id();
		END LOOP;
	END $$;

-- 1. R24, R4: the attack on 1.2 -- a cursor held past an act_as_local
-- transaction is closed with that transaction's identity
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
DECLARE c CURSOR WITH HOLD FOR SELECT reference FROM journal ORDER BY id;
FETCH 1 FROM c;														-- ok: jansen-1
COMMIT;
FETCH ALL FROM c;													-- fails: closed at COMMIT, no identity now
BEGIN;
SELECT tenancy.act_as_local(:u_other);
FETCH ALL FROM c;													-- fails: not readable by the next request
ROLLBACK;
SELECT name FROM pg_cursors ORDER BY name COLLATE "C";				-- ok: none left
RESET ROLE;

-- 2. R24: a held cursor of a session-level identity lives as long as that
-- identity: act_as of another user and reset close it; MOVE is a fetch too
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
BEGIN;
DECLARE c CURSOR WITH HOLD FOR SELECT reference FROM journal ORDER BY id;
DECLARE d CURSOR WITH HOLD FOR SELECT reference FROM journal ORDER BY id;
COMMIT;
FETCH 1 FROM c;														-- ok: jansen-1, same identity
SELECT tenancy.act_as(:u_jan);
FETCH 1 FROM c;														-- ok: jansen-2, the same user again
SELECT tenancy.act_as(:u_other);
FETCH ALL FROM c;													-- fails: closed when the identity changed
MOVE 1 IN d;														-- fails: closed as well
BEGIN;
DECLARE e CURSOR WITH HOLD FOR SELECT reference FROM journal ORDER BY id;
COMMIT;
SELECT tenancy.reset();
FETCH ALL FROM e;													-- fails: closed by reset
RESET ROLE;

-- 3. R24: a cursor inside one transaction, and act_as_local of another user
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
DECLARE c CURSOR FOR SELECT reference FROM journal ORDER BY id;
FETCH 1 FROM c;														-- ok: jansen-1
SELECT tenancy.act_as_local(:u_other);
FETCH ALL FROM c;													-- fails: closed when the identity changed
ROLLBACK;
RESET ROLE;

-- 4. R24: a cursor whose own query changes the identity is read no further
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
DECLARE m CURSOR FOR SELECT reference, tenancy.act_as_local(:u_other) FROM journal ORDER BY id;
FETCH 1 FROM m;														-- ok: jansen-1, then the identity is otto
SELECT tenancy.current_user_id() = :u_other AS switched;
FETCH 1 FROM m;														-- fails: opened under jan
ROLLBACK;
RESET ROLE;

-- 5. R4, R24: ROLLBACK TO SAVEPOINT returns to the identity before, without
-- the cursors opened since, nor the ones of the identity before
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
DECLARE before_s CURSOR FOR SELECT reference FROM journal ORDER BY id;
SAVEPOINT s;
SELECT tenancy.act_as_local(:u_other);
DECLARE after_s CURSOR FOR SELECT reference FROM journal ORDER BY id;
FETCH 1 FROM after_s;												-- ok: x-1
ROLLBACK TO SAVEPOINT s;
SELECT tenancy.current_user_id() = :u_jan AS back_to_jan;
FETCH ALL FROM after_s;												-- fails: went with the savepoint
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
DECLARE before_s CURSOR FOR SELECT reference FROM journal ORDER BY id;
SAVEPOINT s;
SELECT tenancy.act_as_local(:u_other);
ROLLBACK TO SAVEPOINT s;
FETCH ALL FROM before_s;											-- fails: closed when otto came
ROLLBACK;
RESET ROLE;

-- 6. R24: PL/pgSQL refcursors (SPI_cursor_find) follow the same rule, and a
-- loop over a query cannot switch identity under its own feet
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
SELECT public.open_ref('r');
SELECT public.fetch_ref('r');										-- ok: jansen-1
SELECT tenancy.act_as_local(:u_other);
SELECT public.fetch_ref('r');										-- fails: closed when the identity changed
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
SELECT public.switch_in_loop(:u_other);								-- fails: the loop's cursor is jan's
ROLLBACK;
-- a procedure's COMMIT keeps its loop's cursor (PostgreSQL holds it), but
-- ends the identity the cursor was opened under
CALL public.commit_in_loop(:u_jan);									-- fails: would read on without identity
SELECT tenancy.current_user_id();									-- ok: NULL
RESET ROLE;

-- 7. R4: a prepared statement runs under the identity of each execution:
-- its generic plan holds no identity's rows.  (Statements a driver
-- prepares with the protocol are bound by every identity: test/libpq,
-- scenario "prepared"; one prepared with SQL belongs to the identity it was
-- prepared under, section 14.)
SET ROLE regress_app;
SET plan_cache_mode = force_generic_plan;
SELECT tenancy.act_as(:u_jan);
PREPARE refs AS SELECT reference FROM journal ORDER BY id;
EXECUTE refs;														-- ok: jansen only
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
EXECUTE refs;														-- ok: jansen only, in a request of jan's
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_other);
EXECUTE refs;														-- fails: prepared under jan
ROLLBACK;
SELECT tenancy.reset();
RESET plan_cache_mode;
DEALLOCATE refs;
RESET ROLE;

-- 8. R24: a temporary table belongs to the identity it was created under
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
CREATE TEMP TABLE loot AS SELECT reference FROM journal;
SELECT count(*) FROM loot;											-- ok: 3, jan's own
COMMIT;
SELECT count(*) FROM loot;											-- fails: the next request has no identity
BEGIN;
SELECT tenancy.act_as_local(:u_other);
SELECT reference FROM loot ORDER BY 1;								-- fails: otto's request
ROLLBACK;
COPY loot TO STDOUT;												-- fails: COPY reads it too
CREATE TEMP VIEW loot_view AS SELECT * FROM loot;
SELECT * FROM loot_view;											-- fails: through a view
CREATE FUNCTION pg_temp.loot_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM loot';
SELECT pg_temp.loot_count();										-- fails: through a function
INSERT INTO loot VALUES ('otto was here');							-- fails: no writing either
CREATE INDEX ON loot ((reference::integer));						-- fails: its error would show a value
ALTER TABLE loot ALTER reference TYPE integer USING reference::integer;	-- fails: likewise
ANALYZE loot;														-- fails: its statistics hold values
ANALYZE;															-- fails: would analyze loot too
SELECT tenancy.act_as(:u_jan);
SELECT count(*) FROM loot;											-- ok: 3, jan again
SELECT tenancy.reset();
BEGIN;
DROP TABLE loot CASCADE;											-- ok: dropping shows nothing
ROLLBACK;
SELECT count(*) FROM loot;											-- fails: back from the rollback, still jan's
-- a commit that fails after the drop brings it back with its owner too
-- (1.3 attack: the owner was forgotten before PostgreSQL's last steps of
-- the commit, one of which failed, and the table came back as "no
-- identity"'s, readable by the next request without one)
BEGIN;
CREATE TEMP TABLE parent_keys (id int PRIMARY KEY) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE child_keys (id int REFERENCES parent_keys);
DROP TABLE loot CASCADE;											-- ok
COMMIT;																-- fails: unsupported ON COMMIT and foreign key combination
SELECT count(*) FROM loot;											-- fails: still jan's
TRUNCATE loot;														-- fails: it would fire the table's triggers here
DROP TABLE loot CASCADE;											-- ok
-- created without identity: usable only without identity
CREATE TEMP TABLE scratch (reference text);
INSERT INTO scratch VALUES ('no identity');							-- ok
SELECT tenancy.act_as(:u_jan);
INSERT INTO scratch SELECT reference FROM journal;					-- fails: would mix jan's rows in
SELECT tenancy.reset();
SELECT reference FROM scratch;										-- ok: its own row
DISCARD TEMP;
RESET ROLE;

-- 9. R4, R24: DISCARD ALL, a pool's reset, ends identity, cursors and
-- temporary tables together
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
BEGIN;
DECLARE c CURSOR WITH HOLD FOR SELECT reference FROM journal ORDER BY id;
COMMIT;
CREATE TEMP TABLE jan_temp AS SELECT reference FROM journal;
DISCARD ALL;
SELECT tenancy.current_user_id();									-- ok: NULL
FETCH ALL FROM c;													-- fails: closed
SELECT count(*) FROM jan_temp;										-- fails: gone
RESET ROLE;

-- 10. R4: tenancy.local_identity_only, a superuser-only setting on the
-- role of an application server behind transaction pooling, refuses
-- session-level act_as
SET ROLE regress_operator;
ALTER ROLE regress_pool_app SET tenancy.local_identity_only = on;	-- fails: superuser only
RESET ROLE;
SET ROLE regress_app;
SET tenancy.local_identity_only = on;								-- fails: superuser only
RESET ROLE;
ALTER ROLE regress_pool_app SET tenancy.local_identity_only = on;	-- ok: the DBA
\c - regress_pool_app
SELECT tenancy.act_as(:u_jan);										-- fails: session-level refused
SET tenancy.local_identity_only = off;								-- fails: superuser only
RESET ALL;
SELECT tenancy.act_as(:u_jan);										-- fails: still refused
BEGIN;
SELECT tenancy.act_as_local(:u_jan);								-- ok
SELECT count(*) FROM journal;										-- ok: 3
COMMIT;
SELECT tenancy.current_user_id(), count(*) FROM journal;			-- ok: nothing for the next request
\c - postgres
ALTER ROLE regress_pool_app IN DATABASE contrib_regression SET tenancy.local_identity_only = off;
\c - regress_pool_app
SELECT tenancy.act_as(:u_jan);										-- ok: switched off for this database by the DBA
SELECT tenancy.reset();
\c - postgres
ALTER ROLE regress_pool_app IN DATABASE contrib_regression RESET tenancy.local_identity_only;
-- a connection string cannot switch it off: the library may be loaded
-- after the login's settings, but act_as reads them from the catalog
\c "dbname=contrib_regression user=regress_pool_app options=-ctenancy.local_identity_only=off"
SELECT tenancy.act_as(:u_jan);										-- fails: still refused
\c "dbname=contrib_regression user=postgres"
-- nor one set in the configuration files (ALTER SYSTEM, postgresql.conf),
-- which act_as reads from pg_file_settings (1.3 attack: only the role's and
-- database's stored values held against the connection string)
LOAD 'tenancy';
ALTER SYSTEM SET tenancy.local_identity_only = on;
\c "dbname=contrib_regression user=regress_app options=-ctenancy.local_identity_only=off"
SELECT tenancy.act_as(:u_jan);										-- fails: refused by the file's value
BEGIN;
SELECT tenancy.act_as_local(:u_jan) IS NULL AS acting;				-- ok
ROLLBACK;
\c "dbname=contrib_regression user=postgres"
LOAD 'tenancy';
ALTER SYSTEM RESET tenancy.local_identity_only;
-- a setting's name is case-insensitive: one stored as "Tenancy.Local_..."
-- (by a session that had not loaded the library) holds too
\c "dbname=contrib_regression user=postgres"
ALTER ROLE regress_app SET "Tenancy.Local_Identity_Only" = on;
\c "dbname=contrib_regression user=regress_app options=-ctenancy.local_identity_only=off"
SELECT tenancy.act_as(:u_jan);										-- fails: refused by the role's value
\c "dbname=contrib_regression user=postgres"
ALTER ROLE regress_app RESET ALL;

-- 11. R1, R14: a login bound as a reporting login never acts as a user,
-- even after it was made a member of tenancy_app
SELECT tenancy.bind_reporting_login('regress_pool_bi', :c_cli, :cl_jansen);
GRANT tenancy_app TO regress_pool_bi;
SET SESSION AUTHORIZATION regress_pool_bi;
SELECT tenancy.act_as(:u_other);									-- fails: bound login
BEGIN;
SELECT tenancy.act_as_local(:u_other);								-- fails: bound login
ROLLBACK;
SELECT count(*) FROM journal;										-- ok: 3, its bound scope only
RESET SESSION AUTHORIZATION;

-- 12. R4, R24: a cursor declared before the session's first call of tenancy
-- (its query reads the table only through a function, so nothing of
-- tenancy runs until it is fetched) is closed by the first act_as like any
-- other: it was opened under no identity (1.3 review: it carried no tag,
-- was materialised at COMMIT under jan, and the next request, firm
-- Other's, read jan's rows from it)
\c - regress_pool_app
BEGIN;
DECLARE early CURSOR WITH HOLD FOR
SELECT query_to_xml('SELECT amount FROM public.journal ORDER BY amount', false, false, '');
SELECT tenancy.act_as_local(:u_jan);
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_other);
FETCH ALL FROM early;												-- fails: closed when jan's identity began
ROLLBACK;
\c - postgres

-- 13. R4, R6, R24: a temporary type takes the place of a type of the same
-- name in every later statement of the session, under every identity
-- (1.3 attack through pgbouncer: a domain pg_temp.text whose CHECK called
-- the request's own function ran it in the next firms' '...'::text and
-- kept their rows in a setting).  Temporary types are refused, but a
-- temporary table's row type.
\c - regress_pool_app
BEGIN;
SELECT tenancy.act_as_local(:u_other);
CREATE FUNCTION pg_temp.steal(v text) RETURNS boolean LANGUAGE sql
AS $$ SELECT set_config('loot.x', coalesce(current_setting('loot.x', true), '') ||
	coalesce((SELECT string_agg(reference, ',') FROM public.journal), ''), false) IS NOT NULL $$;
CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (pg_temp.steal(VALUE));	-- fails: temporary type
ROLLBACK;
CREATE TYPE pg_temp.mood AS ENUM ('ok');							-- fails: without an identity too
CREATE TYPE pg_temp.pair AS (a int);								-- fails
CREATE TYPE pg_temp.span AS RANGE (subtype = int4);				-- fails
CREATE TEMP TABLE scratch_rows (a int);								-- ok: a table's row type
SELECT ARRAY[ROW(1)::scratch_rows] IS NOT NULL AS array_type;		-- ok: and its array type
DROP TABLE scratch_rows;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
SELECT 'x'::text AS plain_text, current_setting('loot.x', true) AS loot;	-- ok: x, nothing kept
COMMIT;
-- the first statement of a new backend, before any call of tenancy:
-- CREATE DOMAIN and CREATE TYPE fire tenancy's event trigger, which loads
-- the library before the type exists (before, the domain was created, and
-- every later act on the backend failed)
\c - regress_pool_app
CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (VALUE <> 'x');	-- fails: temporary type
-- a type created while the library was not loaded in the backend (event
-- triggers off: only a superuser can) passed no hook: the session's first
-- act refuses while it exists
\c - postgres
SET session_replication_role = replica;
CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (VALUE <> 'x');
RESET session_replication_role;
SELECT tenancy.act_as(:u_jan);										-- fails: the type
DISCARD TEMP;
SELECT tenancy.act_as(:u_jan) IS NULL AS acting;					-- ok: gone
SELECT tenancy.reset();

-- 14. R4, R6, R24: a statement prepared with SQL runs only under the
-- identity it was prepared under: one request's PREPARE, under the name of
-- a statement the driver binds again, ran as the next request (1.3 attack;
-- the protocol's side is test/libpq, scenario replaced_statement)
\c - regress_pool_app
BEGIN;
SELECT tenancy.act_as_local(:u_other);
PREPARE lines(bigint) AS SELECT count(*) FROM journal WHERE administration_id = $1;
EXECUTE lines(:a_x);												-- ok: its own
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
EXECUTE lines(:a_jansen);											-- fails: prepared under firm Other
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE lines(:a_jansen);	-- fails: the same
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
CREATE TEMP TABLE grabbed AS EXECUTE lines(:a_jansen);				-- fails: the same
ROLLBACK;
EXECUTE lines(:a_jansen);											-- fails: no identity either
DEALLOCATE lines;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
PREPARE lines(bigint) AS SELECT count(*) FROM journal WHERE administration_id = $1;
EXECUTE lines(:a_jansen);											-- ok: jan's own, 3
COMMIT;
DISCARD ALL;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
PREPARE lines(bigint) AS SELECT count(*) FROM journal WHERE administration_id = $1;	-- ok: DISCARD ALL dropped it
ROLLBACK;
DEALLOCATE ALL;
-- a statement prepared before the library was loaded (a session's first
-- statement, a pool's connect query) belongs to no identity, as one
-- prepared after it without an identity (1.3 attack: it passed no hook,
-- had no owner, and ran under every identity)
\c - regress_pool_app
PREPARE early_lines(bigint) AS SELECT count(*) FROM journal WHERE administration_id = $1;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
EXECUTE early_lines(:a_jansen);										-- fails: prepared under no identity
ROLLBACK;
EXECUTE early_lines(:a_jansen);										-- ok: 0, no identity as prepared
DEALLOCATE early_lines;
\c - postgres

-- 15. R4, R6, R24: nothing a request left runs code while the next
-- request's statement is planned.  Planning folds immutable functions and
-- evaluates stable ones for its estimates: firm Other's temporary view,
-- named like the application's table, and a temporary table's default ran
-- Other's function under jan's identity before the refusal (1.3 attack).
-- The trap counts the rows its function saw into a sequence.
\c - regress_pool_app
BEGIN;
SELECT tenancy.act_as_local(:u_other);
CREATE TEMP SEQUENCE trap;
CREATE FUNCTION pg_temp.trap(t text) RETURNS text IMMUTABLE LANGUAGE plpgsql
AS $$ BEGIN PERFORM setval('pg_temp.trap', 1 + (SELECT count(*) FROM public.journal)); RETURN t; END $$;
CREATE TEMP VIEW journal AS SELECT pg_temp.trap('view') AS reference;
CREATE TEMP TABLE notes (n text DEFAULT pg_temp.trap('default'));
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
SELECT reference FROM journal;										-- fails: firm Other's temporary view
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
INSERT INTO notes DEFAULT VALUES;									-- fails: firm Other's temporary table
ROLLBACK;
-- nor while a function of the application's is inlined into the statement:
-- a SQL function returning a set, not volatile and with no SET clause, is
-- parsed again while its caller is planned, after the planner hook's first
-- look; its unqualified names found Other's temporary view, whose function
-- ran under jan (1.3 attack).  The inlined body is refused when parsed.
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
SELECT * FROM public.journal_references();							-- fails: firm Other's temporary view
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
SELECT count(*) FROM public.journal_references() r WHERE r IS NOT NULL;	-- fails: firm Other's temporary view
ROLLBACK;
SELECT last_value, is_called FROM pg_temp.trap;						-- ok: 1, f: the function never ran
DISCARD TEMP;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
SELECT count(*) > 0 AS reads FROM public.journal_references();		-- ok: t, the application's table again
COMMIT;
\c - postgres

-- 16. R4, R6, R7, R24: no code of one request's is attached to what the
-- next one uses (1.3 attack).  A cast is found by its two types, whatever
-- their schema: a temporary table named "text" with casts to it and back
-- ran the request's function in every later request's ::text.  And the
-- application's login owns every temporary table of the session: a trigger,
-- rule, policy or replaced view on jan's temporary table, or jan's TRUNCATE
-- of one of firm Other's with a trigger, ran Other's code under jan.
\c - regress_pool_app
BEGIN;
SELECT tenancy.act_as_local(:u_other);
CREATE TEMP TABLE "text" (v pg_catalog.text);						-- fails: takes the place of pg_catalog.text
ROLLBACK;
-- nor by a rename, of a table or a view (1.3 review: ALTER ... RENAME
-- renames the row type without creating one)
BEGIN;
SELECT tenancy.act_as_local(:u_other);
CREATE TEMP TABLE renamed (v pg_catalog.text);
ALTER TABLE renamed RENAME TO "text";								-- fails: takes the place of pg_catalog.text
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_other);
CREATE TEMP VIEW renamed AS SELECT 1 AS n;
ALTER VIEW renamed RENAME TO "date";								-- fails: takes the place of pg_catalog.date
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_other);
CREATE TEMP TABLE shadow (v pg_catalog.text);
CREATE FUNCTION pg_temp.to_shadow(v text) RETURNS pg_temp.shadow LANGUAGE sql
AS $$ SELECT ROW(v)::pg_temp.shadow $$;
CREATE CAST (text AS pg_temp.shadow) WITH FUNCTION pg_temp.to_shadow(text);	-- fails: a temporary type
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
CREATE TEMP TABLE work (n int DEFAULT 1);
CREATE TEMP VIEW totals AS SELECT count(*) FROM work;
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_other);
CREATE FUNCTION pg_temp.grab() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER grab BEFORE INSERT ON work FOR EACH ROW EXECUTE FUNCTION pg_temp.grab();	-- fails: jan's table
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_other);
CREATE RULE grab AS ON INSERT TO work DO ALSO SELECT 1;				-- fails: jan's table
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_other);
CREATE OR REPLACE TEMP VIEW totals AS SELECT count(*) FROM work;	-- fails: jan's view
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_other);
CREATE TEMP TABLE stage (LIKE work INCLUDING DEFAULTS);				-- fails: jan's table
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_other);
TRUNCATE work;														-- fails: jan's table
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_jan);
INSERT INTO work DEFAULT VALUES;
SELECT * FROM totals;												-- ok: 1, jan's own
COMMIT;
DISCARD TEMP;
\c - postgres

-- 17. memory: the owner of a temporary table whose creation rolled back is
-- forgotten with it, at the subtransaction's or the transaction's end, and
-- the owners' map does not grow with a pooled backend's failed requests
-- (1.3 review: each rolled-back CREATE TEMP TABLE left an entry for the
-- life of the backend)
CREATE PROCEDURE public.roll_back_creations(n int) LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..n LOOP
		CREATE TEMP TABLE rolled_back (x int);
		ROLLBACK;
	END LOOP;
END $$;
CREATE FUNCTION public.roll_back_subcreations(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..n LOOP
		BEGIN
			CREATE TEMP TABLE rolled_back (x int);
			RAISE EXCEPTION 'undo';
		EXCEPTION WHEN raise_exception THEN NULL;
		END;
	END LOOP;
END $$;
SELECT public.roll_back_subcreations(1000);
SELECT total_bytes AS owners_bytes FROM pg_backend_memory_contexts
WHERE name = 'tenancy temporary relation owners' \gset
SELECT public.roll_back_subcreations(1000);
CALL public.roll_back_creations(1000);
SELECT total_bytes = :owners_bytes AS owners_bounded FROM pg_backend_memory_contexts
WHERE name = 'tenancy temporary relation owners';					-- ok: t
DROP PROCEDURE public.roll_back_creations(int);
DROP FUNCTION public.roll_back_subcreations(int);

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
DROP FUNCTION public.open_ref(refcursor), public.fetch_ref(refcursor),
	public.switch_in_loop(bigint), public.journal_references();
DROP PROCEDURE public.commit_in_loop(bigint);
DROP ROLE regress_pool_app, regress_pool_bi;
