-- citus_migration: a migration's row removal on distributed tables (R18, R19, R6, R25)
--
-- Runs after citus_setup, with its roles; its own subscription, firms,
-- users and tables.  archive_and_transfer removes the rows of the tables
-- registered with carry_on_migration => false (R18), delete_at_source all
-- rows of the administration (R19): on Citus the rows must be gone on the
-- workers, the report must count them, and the target firm reads nothing
-- of them (R6).  A table whose removal cannot be done on the workers is
-- refused when the migration is requested.
\set SHOW_CONTEXT never
\set QUIET on
SET client_min_messages = warning;
SELECT tenancy.create_subscription('Migration') AS sub \gset
SELECT tenancy.create_compartment(:sub, 'mig-src', 'Migration source firm') AS c_src \gset
SELECT tenancy.create_compartment(:sub, 'mig-dst', 'Migration target firm') AS c_dst \gset
SELECT tenancy.create_client(:c_src, 'mig-client', 'Mig Holding') AS cl_src \gset
SELECT tenancy.create_client(:c_dst, 'mig-new', 'Mig Holding (new firm)') AS cl_dst \gset
SELECT tenancy.create_administration(:cl_src, 'mig-a', 'Mig A BV') AS a_a \gset
SELECT tenancy.create_administration(:cl_src, 'mig-b', 'Mig B BV') AS a_b \gset
SELECT tenancy.create_administration(:cl_src, 'mig-c', 'Mig C BV') AS a_c \gset
SELECT tenancy.add_user(:c_src, 'ad1@mig-src.nl', 'internal', NULL, true) AS u_ad1 \gset
SELECT tenancy.add_user(:c_src, 'ad2@mig-src.nl', 'internal', NULL, true) AS u_ad2 \gset
SELECT tenancy.add_user(:c_dst, 'ad@mig-dst.nl', 'internal', NULL, true) AS u_tad \gset
SELECT tenancy.add_user(:c_dst, 'staff@mig-dst.nl', 'internal') AS u_tst \gset
SELECT tenancy.grant_rights(:u_ad1, :a_c, '{read}') \gset
SET ROLE regress_owner;
CREATE TABLE public.mig_bank (administration_id bigint NOT NULL, iban text NOT NULL);
CREATE TABLE public.mig_book (administration_id bigint NOT NULL, amount int NOT NULL);
SELECT tenancy.distribute('public.mig_bank', carry_on_migration => false);
SELECT tenancy.distribute('public.mig_book');
GRANT SELECT ON public.mig_bank, public.mig_book TO regress_app;
RESET ROLE;
INSERT INTO public.mig_bank VALUES (:a_a, 'NL01 a'), (:a_a, 'NL02 a'), (:a_b, 'NL03 b'), (:a_c, 'NL04 c');
INSERT INTO public.mig_book SELECT a, n FROM unnest(ARRAY[:a_a, :a_b, :a_c]) a, generate_series(1, 3) n;
-- rows of an administration, counted on the shards themselves (the workers)
CREATE FUNCTION public.mig_on_shards(tbl regclass, adm bigint) RETURNS bigint
	LANGUAGE sql AS $$
	SELECT sum(result::bigint)::bigint
	  FROM run_command_on_shards(tbl, format('SELECT count(*) FROM %%s WHERE administration_id = %s', adm))
	$$;
RESET client_min_messages;
\set QUIET off

-- 1. R18 archive_and_transfer: the rows not carried are deleted on the workers
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_ad1);
SELECT tenancy.request_migration(:a_a, :c_dst, 'archive_and_transfer') AS m1 \gset
SELECT tenancy.approve_migration(:m1);										-- ok: source
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_ad2);
SELECT tenancy.approve_migration(:m1, 'consent-2026-11');					-- ok: client (no user of its own)
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_tad);
SELECT tenancy.approve_migration(:m1);										-- ok: target
SELECT tenancy.transfer_migration(:m1, :cl_dst, 'mig-a-new') AS a_new \gset
COMMIT;
RESET ROLE;
SELECT report->'removed' AS removed, report->'rows_removed' AS rows_removed
  FROM tenancy.migrations WHERE migration_id = :m1;									-- the truth: 2 rows of mig_bank
SELECT public.mig_on_shards('public.mig_bank', :a_a) AS bank_a_on_workers,
	   public.mig_on_shards('public.mig_bank', :a_b) AS bank_b_on_workers,
	   public.mig_on_shards('public.mig_book', :a_a) AS book_a_on_workers;		-- 0, 1, 3: only the bank links of mig-a went
SELECT count(*) FROM public.mig_bank WHERE administration_id = :a_a;		-- 0 through the coordinator too

-- 2. R6: the target firm reads the carried rows, never the removed ones
SELECT tenancy.grant_rights(:u_tst, :a_new, '{read}') \gset
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_tst);
SELECT count(*) FROM public.mig_bank;										-- ok: 0, the bank links were not carried
SELECT count(*) FROM public.mig_bank WHERE administration_id = :a_a;		-- ok: 0 (router query)
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_tad);
SELECT count(*) FROM public.mig_bank;										-- ok: 0
COMMIT;
RESET ROLE;

-- 3. R19 export_and_delete: delete_at_source deletes every row on the workers
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_ad1);
SELECT tenancy.request_migration(:a_b, :c_dst, 'export_and_delete') AS m2 \gset
SELECT tenancy.approve_migration(:m2);										-- ok: source
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_ad2);
SELECT tenancy.approve_migration(:m2, 'consent-2026-11b');					-- ok: client
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_tad);
SELECT tenancy.approve_migration(:m2);										-- ok: target
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_ad1);
SELECT tenancy.confirm_export(:m2);											-- ok: exported
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_ad2);
SELECT tenancy.delete_at_source(:m2);										-- ok: the rows go
COMMIT;
RESET ROLE;
SELECT state FROM tenancy.migrations WHERE migration_id = :m2;				-- deleted_at_source
SELECT d->>'table' AS "table", d->'rows' AS rows
  FROM tenancy.migration_history h, jsonb_array_elements(h.detail->'deleted') d
 WHERE h.migration_id = :m2 AND h.step = 'delete_at_source'
   AND d->>'table' LIKE 'public.mig\_%'
 ORDER BY 1;																-- the truth: 1 + 3 rows
SELECT detail->'rows_deleted' AS rows_deleted FROM tenancy.migration_history
 WHERE migration_id = :m2 AND step = 'delete_at_source';					-- 4
SELECT public.mig_on_shards('public.mig_bank', :a_b) AS bank_b_on_workers,
	   public.mig_on_shards('public.mig_book', :a_b) AS book_b_on_workers,
	   public.mig_on_shards('public.mig_book', :a_c) AS book_c_on_workers;		-- 0, 0, 3: only mig-b went
SELECT state FROM tenancy.administration WHERE id = :a_b;					-- deleted
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_tad);
SELECT count(*) FROM public.mig_book WHERE administration_id = :a_b;		-- ok: 0 for the target firm
COMMIT;
BEGIN;
SELECT tenancy.act_as_local(:u_ad1);
SELECT administration_id = :a_c AS is_c, count(*) FROM public.mig_book GROUP BY 1 ORDER BY 1;	-- ok: mig-c's 3 rows only
COMMIT;
RESET ROLE;

-- 4. refused up front: a removal the workers cannot do as tenancy does it
SET citus.enable_unsafe_triggers = on;
CREATE FUNCTION public.mig_note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$;
CREATE TRIGGER mig_note BEFORE DELETE ON public.mig_bank FOR EACH ROW EXECUTE FUNCTION public.mig_note();
RESET citus.enable_unsafe_triggers;
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_ad1);
SELECT tenancy.request_migration(:a_c, :c_dst, 'archive_and_transfer');	-- fails: an application trigger on a table not carried
ROLLBACK;
BEGIN;
SELECT tenancy.act_as_local(:u_ad1);
SELECT tenancy.request_migration(:a_c, :c_dst, 'export_and_delete');		-- fails: the same, all tables go
ROLLBACK;
RESET ROLE;
SELECT count(*) FROM tenancy.migration WHERE administration_id = :a_c;		-- 0: nothing was requested
SET citus.enable_unsafe_triggers = on;
DROP TRIGGER mig_note ON public.mig_bank;
RESET citus.enable_unsafe_triggers;

-- cleanup
\set QUIET on
DROP TABLE public.mig_bank, public.mig_book;
DROP FUNCTION public.mig_note();
DROP FUNCTION public.mig_on_shards(regclass, bigint);
\set QUIET off
SELECT * FROM tenancy.check();												-- ok: nothing
