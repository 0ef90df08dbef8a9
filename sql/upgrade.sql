--
-- upgrade: the update path from 1.0 keeps the data and ends with the same
-- objects as a fresh install of the current version
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

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
