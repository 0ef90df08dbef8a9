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
ALTER SCHEMA tenancy OWNER TO CURRENT_USER;							-- ok: a superuser
SELECT nspname FROM pg_namespace WHERE oid = 'tenancy'::regnamespace;	-- ok: still tenancy

-- 3. what the event triggers do not see (a restore's replica mode),
-- check() reports
SET session_replication_role = replica;
ALTER SCHEMA tenancy OWNER TO regress_mallory;
GRANT CREATE ON SCHEMA tenancy TO PUBLIC;
RESET session_replication_role;
SELECT severity, object, problem, hint FROM tenancy.check() WHERE object LIKE 'schema %' ORDER BY problem;
SET session_replication_role = replica;
ALTER SCHEMA tenancy OWNER TO CURRENT_USER;
REVOKE CREATE ON SCHEMA tenancy FROM PUBLIC;
RESET session_replication_role;
SELECT count(*) AS schema_problems FROM tenancy.check() WHERE object LIKE 'schema %';	-- ok: 0

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

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP SCHEMA tenancy;
REVOKE CREATE ON DATABASE contrib_regression FROM regress_mallory;
DROP ROLE regress_mallory;
