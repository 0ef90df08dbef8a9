--
-- extension_schema: R24 -- the schema the library finds its catalog in by
-- name belongs to a superuser, and no other role creates objects in it.
-- 1.3 review: a role with CREATE on the database created schema tenancy
-- before CREATE EXTENSION; it then owned the extension's schema, renamed it
-- away (every guard off, the table owner read both firms), put a catalog of
-- its own in its place (the application read and wrote another firm's
-- rows), and added an overload of derived_problems() that check() ran as a
-- superuser, which made it a superuser.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS tenancy CASCADE;
-- DROP EXTENSION leaves the schema CREATE EXTENSION made
DROP SCHEMA IF EXISTS tenancy CASCADE;
DROP ROLE IF EXISTS regress_mallory;
RESET client_min_messages;
CREATE ROLE regress_mallory;
GRANT CREATE ON DATABASE contrib_regression TO regress_mallory;

-- 1. CREATE EXTENSION refuses a schema tenancy that another role owns, or
-- in which another role may create objects; nothing is left behind
SET ROLE regress_mallory;
CREATE SCHEMA tenancy;
RESET ROLE;
CREATE EXTENSION tenancy;											-- fails: the schema is mallory's
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'tenancy';	-- ok: 0
SELECT count(*) AS objects_left FROM pg_class WHERE relnamespace = 'tenancy'::regnamespace;	-- ok: 0
ALTER SCHEMA tenancy OWNER TO CURRENT_USER;
GRANT CREATE ON SCHEMA tenancy TO regress_mallory;
CREATE EXTENSION tenancy;											-- fails: mallory may create in it
GRANT CREATE ON SCHEMA tenancy TO PUBLIC;
REVOKE CREATE ON SCHEMA tenancy FROM regress_mallory;
CREATE EXTENSION tenancy;											-- fails: PUBLIC may create in it
REVOKE CREATE ON SCHEMA tenancy FROM PUBLIC;
CREATE EXTENSION tenancy;											-- ok: a superuser's, closed
SELECT * FROM tenancy.check();										-- ok: nothing

-- 2. the event trigger keeps it so, for superusers too
ALTER SCHEMA tenancy RENAME TO tenancy_hidden;						-- fails
ALTER SCHEMA tenancy OWNER TO regress_mallory;						-- fails
GRANT CREATE ON SCHEMA tenancy TO regress_mallory;					-- fails
GRANT ALL ON SCHEMA tenancy TO PUBLIC;								-- fails: ALL includes CREATE
GRANT USAGE ON SCHEMA tenancy TO regress_mallory;					-- ok: USAGE only
-- another extension's objects would join the catalog's schema (a role
-- with CREATE on the database may install a trusted extension, whose
-- script runs as a superuser)
CREATE EXTENSION citext SCHEMA tenancy;								-- fails
SET search_path = tenancy;
CREATE EXTENSION citext;												-- fails: the first schema of the path
RESET search_path;
CREATE EXTENSION citext;
ALTER EXTENSION citext SET SCHEMA tenancy;							-- fails
DROP EXTENSION citext;
ALTER SCHEMA tenancy OWNER TO CURRENT_USER;							-- ok: a superuser
SELECT nspname FROM pg_namespace WHERE oid = 'tenancy'::regnamespace;	-- ok: still tenancy

-- 3. what the event triggers do not see (a restore's replica mode),
-- check() reports
SET session_replication_role = replica;
ALTER SCHEMA tenancy OWNER TO regress_mallory;
GRANT CREATE ON SCHEMA tenancy TO PUBLIC;
CREATE EXTENSION citext SCHEMA tenancy;
RESET session_replication_role;
SELECT severity, object, problem, hint FROM tenancy.check()
 WHERE object LIKE 'schema %' OR object LIKE 'extension %' ORDER BY problem;
SET session_replication_role = replica;
ALTER SCHEMA tenancy OWNER TO CURRENT_USER;
REVOKE CREATE ON SCHEMA tenancy FROM PUBLIC;
DROP EXTENSION citext;
RESET session_replication_role;
SELECT count(*) AS schema_problems FROM tenancy.check()
 WHERE object LIKE 'schema %' OR object LIKE 'extension %';			-- ok: 0

-- 4. ALTER EXTENSION UPDATE refuses the same: an older version, installed
-- into a schema mallory made, is not updated to 1.3
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP SCHEMA tenancy;
RESET client_min_messages;
SET ROLE regress_mallory;
CREATE SCHEMA tenancy;
RESET ROLE;
CREATE EXTENSION tenancy VERSION '1.2';
ALTER EXTENSION tenancy UPDATE;										-- fails: the schema is mallory's
SELECT extversion FROM pg_extension WHERE extname = 'tenancy';		-- ok: 1.2, nothing half-applied

-- 5. an object another role put into the schema before the install stays
-- there when the DBA takes the schema over: refused until it is dropped
-- (before: installed, and the overload, which an integer literal matches
-- better than tenancy's bigint, ran as the superuser who called it)
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP SCHEMA tenancy;
RESET client_min_messages;
SET ROLE regress_mallory;
CREATE SCHEMA tenancy;
CREATE FUNCTION tenancy.create_client(integer, text, text) RETURNS bigint
	LANGUAGE sql AS 'SELECT 0::bigint';
RESET ROLE;
ALTER SCHEMA tenancy OWNER TO CURRENT_USER;
CREATE EXTENSION tenancy;											-- fails: mallory's function is still there
DROP FUNCTION tenancy.create_client(integer, text, text);
CREATE EXTENSION tenancy;											-- ok

-- 6. default privileges of the installing role do not open the catalog
-- (before: mallory read and wrote the catalog tables, and check() was silent)
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP SCHEMA tenancy;
RESET client_min_messages;
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO regress_mallory;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO regress_mallory;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO regress_mallory;
CREATE EXTENSION tenancy;											-- ok: and revoked
SELECT count(*) AS mallory_grants
  FROM (SELECT a.grantee FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
		 WHERE c.relnamespace = 'tenancy'::regnamespace
		UNION ALL
		SELECT a.grantee FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a
		 WHERE p.pronamespace = 'tenancy'::regnamespace) g
 WHERE g.grantee = 'regress_mallory'::regrole;						-- ok: 0
SELECT * FROM tenancy.check();										-- ok: nothing
SET ROLE regress_mallory;
SELECT count(*) FROM tenancy.permission;							-- fails: permission denied
RESET ROLE;
-- a grant made later: check() reports it
GRANT SELECT ON tenancy.permission TO regress_mallory;
GRANT EXECUTE ON FUNCTION tenancy.create_compartment(bigint, text, text, boolean) TO regress_mallory;
SELECT severity, object, problem, hint FROM tenancy.check() ORDER BY object;
REVOKE SELECT ON tenancy.permission FROM regress_mallory;
REVOKE EXECUTE ON FUNCTION tenancy.create_compartment(bigint, text, text, boolean) FROM regress_mallory;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM regress_mallory;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON SEQUENCES FROM regress_mallory;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM regress_mallory;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP SCHEMA tenancy;
REVOKE CREATE ON DATABASE contrib_regression FROM regress_mallory;
DROP ROLE regress_mallory;
