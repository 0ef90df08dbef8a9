--
-- upgrade: the update path from 1.0 keeps the data and ends with the same
-- objects as a fresh install of the current version; a 1.0 database
-- updated to 1.3 gets 1.3's walls (R24, R12) on the tables it protected
-- before
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS tenancy CASCADE;
RESET client_min_messages;

-- 1. install 1.0 and put data in it
CREATE EXTENSION tenancy VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'tenancy';
SELECT tenancy.create_subscription('Upgrade') AS sub \gset
SELECT tenancy.create_compartment(:sub, 'up', 'Upgrade') AS comp \gset
SELECT tenancy.create_client(:comp, 'c', 'Client') AS cl \gset
SELECT tenancy.create_administration(:cl, 'a', 'Administration') AS adm \gset
SELECT tenancy.add_user(:comp, 'up@example.com', 'internal') AS usr \gset
SELECT tenancy.grant_rights(:usr, :adm, '{read}');

-- 2. update along the path to the current version
ALTER EXTENSION tenancy UPDATE;
SELECT e.extversion = a.default_version AS at_default_version
  FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname
 WHERE e.extname = 'tenancy';
SELECT count(*) AS permissions_kept FROM tenancy.permission WHERE user_id = :usr;
SELECT tenancy.verify_audit();
\set QUIET on
CREATE TEMP TABLE upgraded AS
SELECT pg_describe_object(classid, objid, 0) AS object
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'tenancy');
\set QUIET off

-- 3. a fresh install has exactly the same objects
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
RESET client_min_messages;
CREATE EXTENSION tenancy;
\set QUIET on
CREATE TEMP TABLE fresh AS
SELECT pg_describe_object(classid, objid, 0) AS object
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'tenancy');
\set QUIET off
SELECT side, object FROM (
	SELECT 'only after upgrade' AS side, object
	  FROM (SELECT object FROM upgraded EXCEPT SELECT object FROM fresh) x
	UNION ALL
	SELECT 'only in fresh install', object
	  FROM (SELECT object FROM fresh EXCEPT SELECT object FROM upgraded) y) d
 ORDER BY side, object COLLATE "C";
SELECT count(*) > 50 AS has_objects FROM fresh;

-- 4. a 1.0 database with a protected table and rows, updated to 1.3
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
RESET client_min_messages;
CREATE EXTENSION tenancy VERSION '1.0';
SELECT tenancy.create_subscription('Old') AS sub \gset
SELECT tenancy.create_compartment(:sub, 'old', 'Old firm') AS comp \gset
SELECT tenancy.create_client(:comp, 'c', 'Client') AS cl \gset
SELECT tenancy.create_administration(:cl, 'a', 'Administration') AS adm \gset
SELECT tenancy.add_user(:comp, 'old@example.com', 'internal') AS usr \gset
SELECT tenancy.grant_rights(:usr, :adm, '{read,write}');
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_upgrade_owner') THEN
		CREATE ROLE regress_upgrade_owner NOLOGIN IN ROLE tenancy_admin;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_upgrade_app') THEN
		CREATE ROLE regress_upgrade_app NOLOGIN IN ROLE tenancy_app;
	END IF;
END $$;
GRANT CREATE ON SCHEMA public TO regress_upgrade_owner;
SET ROLE regress_upgrade_owner;
CREATE TABLE public.old_ledger (administration_id bigint NOT NULL, id bigint NOT NULL,
	label text NOT NULL, PRIMARY KEY (administration_id, id));
SELECT tenancy.protect('public.old_ledger');
-- a table protected and dropped under 1.0, whose registration stayed
CREATE TABLE public.old_dropped (administration_id bigint NOT NULL);
SELECT tenancy.protect('public.old_dropped');
SELECT 'public.old_dropped'::regclass::oid AS old_dropped \gset
DROP TABLE public.old_dropped;
RESET ROLE;
SELECT count(*) AS dangling_before FROM tenancy.protected_table WHERE relid::oid = :old_dropped;
INSERT INTO public.old_ledger VALUES (:adm, 1, 'before the update');
ALTER EXTENSION tenancy UPDATE TO '1.3';
-- the update removes the registration of the dropped table (R24: the next
-- relation given its OID would have been taken for protected)
SELECT count(*) AS dangling_after FROM tenancy.protected_table WHERE relid::oid = :old_dropped;
SELECT tenancy.verify_audit();										-- ok: the 1.0 entries verify
SELECT count(*) AS rows_kept FROM public.old_ledger;
-- the rights given under 1.0 decide under 1.3 (R7): the user reads its row,
-- another user of the firm, without a right, none
SELECT tenancy.add_user(:comp, 'other@example.com', 'internal') AS other \gset
GRANT SELECT ON public.old_ledger TO regress_upgrade_app;
SET ROLE regress_upgrade_app;
SELECT tenancy.act_as(:usr);
SELECT label FROM public.old_ledger;								-- ok: its row
SELECT tenancy.act_as(:other);
SELECT count(*) AS other_sees FROM public.old_ledger;				-- ok: 0
SELECT tenancy.reset();
RESET ROLE;
-- the guard of the table protected in 1.0 now fires on DELETE too (R12)
SELECT pg_get_triggerdef(t.oid) ~ 'BEFORE INSERT OR DELETE OR UPDATE' AS guard_on_delete
  FROM pg_trigger t WHERE t.tgrelid = 'public.old_ledger'::regclass AND t.tgname = 'tenancy_guard';
-- a superuser's plain view over it is refused (R24)
CREATE VIEW public.old_ledger_all AS SELECT * FROM public.old_ledger;	-- fails: bypasses the wall
-- a child created after the update is protected at once (R24)
SET ROLE regress_upgrade_owner;
CREATE TABLE public.old_ledger_child () INHERITS (public.old_ledger);
RESET ROLE;
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
  FROM tenancy.protected_table p JOIN pg_class c ON c.oid = p.relid
 ORDER BY c.relname COLLATE "C";
-- its walls change only through tenancy (R24)
ALTER TABLE public.old_ledger NO FORCE ROW LEVEL SECURITY;			-- fails: a wall of a protected table
SELECT severity, object FROM tenancy.check() WHERE severity = 'error'
 ORDER BY object COLLATE "C";

-- cleanup
SET client_min_messages = warning;
SET ROLE regress_upgrade_owner;
SELECT tenancy.unprotect('public.old_ledger');
DROP TABLE public.old_ledger CASCADE;
RESET ROLE;
DROP EXTENSION tenancy CASCADE;
REVOKE CREATE ON SCHEMA public FROM regress_upgrade_owner;
DROP ROLE regress_upgrade_owner, regress_upgrade_app;
