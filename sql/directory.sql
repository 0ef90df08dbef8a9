--
-- directory: R13, R10 -- find_user() maps an e-mail to a user id for
-- application servers, operators and the compartment's administrators only;
-- view compartment_users shows an acting administrator its compartment's
-- users and an operator all; DROP EXTENSION is refused while tables are
-- protected; tenancy.log_identity is a superuser-only setting; every column,
-- relation and function of the extension has a comment
--
\i test/fixture.sql

-- 1. find_user (R10: trimmed, case-insensitive; R13: who may ask)
SET ROLE regress_app;
SELECT tenancy.find_user(:c_cli, '  Anna@Bakker.NL ') = :u_admin AS found;	-- ok: application server
SELECT tenancy.find_user(:c_own, 'anna@bakker.nl') = :u_own_admin AS found;	-- ok: same account, other compartment
SELECT tenancy.find_user(:c_cli, 'nobody@bakker.nl') IS NULL AS unknown;	-- ok: NULL for an unknown e-mail
SELECT tenancy.find_user(:c_cli, 'olga@other.nl') IS NULL AS unknown;		-- ok: NULL, olga is in another compartment
SELECT tenancy.find_user(:c_cli, NULL) IS NULL AS strict;					-- ok: NULL argument, NULL answer
RESET ROLE;
SET ROLE regress_operator;
SELECT tenancy.find_user(:c_other, 'otto@other.nl') = :u_other AS found;	-- ok: operator
RESET ROLE;
SET ROLE regress_plain;
SELECT tenancy.find_user(:c_cli, 'anna@bakker.nl');						-- fails: neither application, operator nor administrator
RESET ROLE;
SET ROLE regress_owner;
SELECT tenancy.find_user(:c_cli, 'anna@bakker.nl') = :u_admin AS found;	-- ok: the owner role is in tenancy_admin
RESET ROLE;

-- 2. compartment_users (R13)
SET ROLE regress_app;
SELECT count(*) FROM tenancy.compartment_users;							-- ok: 0 rows, no identity
SELECT tenancy.act_as(:u_admin);
SELECT email, kind, client_code, is_admin, disabled
  FROM tenancy.compartment_users ORDER BY email COLLATE "C";				-- ok: administrator sees its compartment
SELECT tenancy.act_as(:u_staff);
SELECT count(*) FROM tenancy.compartment_users;							-- ok: 0 rows, not an administrator
SELECT tenancy.act_as(:u_piet);
SELECT count(*) FROM tenancy.compartment_users;							-- ok: 0 rows, external user
SELECT tenancy.act_as(:u_other_admin);
SELECT email FROM tenancy.compartment_users ORDER BY email COLLATE "C";	-- ok: only its own compartment
SELECT tenancy.find_user(:c_cli, 'anna@bakker.nl') = :u_admin AS found;	-- ok: any compartment for an application server (tenancy_app)
SELECT tenancy.reset();
RESET ROLE;
SET ROLE regress_plain;
SELECT count(*) FROM tenancy.compartment_users;							-- fails: neither application server nor operator
RESET ROLE;
SET ROLE regress_operator;
SELECT count(*) AS users, count(DISTINCT compartment_id) AS compartments
  FROM tenancy.compartment_users;											-- ok: operator sees all
RESET ROLE;

-- 3. tenancy.log_identity is superuser-only
SET ROLE regress_plain;
SET tenancy.log_identity = off;											-- fails: only a superuser may hide the identity from the log
RESET ROLE;
SHOW tenancy.log_identity;
SET tenancy.log_identity = off;											-- ok: superuser
RESET tenancy.log_identity;

-- 4. \d+ and \df+ are the DBA's manual: every column, table, view,
-- sequence and function of the extension carries a comment (lists what lacks one)
SELECT (c.relname || '.' || a.attname)::text AS column_without_comment
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = 'tenancy'::regnamespace AND c.relkind IN ('r', 'v')
   AND a.attnum > 0 AND NOT a.attisdropped
   AND col_description(c.oid, a.attnum) IS NULL
 ORDER BY c.relname COLLATE "C", a.attname COLLATE "C";
SELECT relname AS relation_without_comment
  FROM pg_class
 WHERE relnamespace = 'tenancy'::regnamespace AND relkind IN ('r', 'v', 'S')
   AND obj_description(oid, 'pg_class') IS NULL
 ORDER BY relname COLLATE "C";
SELECT oid::regprocedure AS function_without_comment
  FROM pg_proc
 WHERE pronamespace = 'tenancy'::regnamespace
   AND obj_description(oid, 'pg_proc') IS NULL
 ORDER BY oid::regprocedure::text COLLATE "C";

-- 5. DROP EXTENSION is refused while tables are protected
SET client_min_messages = error;
-- a temporary child of a protected table is refused (its session's end
-- would drop it without an event trigger and leave its registration
-- behind, and a migration could not reach its rows from another session)
SET ROLE regress_owner;
SET client_min_messages = notice;
CREATE TEMP TABLE journal_tmp () INHERITS (public.journal);			-- fails
RESET client_min_messages;
RESET ROLE;
\c -
SET client_min_messages = error;
SELECT count(*) AS registered FROM tenancy.protected_table;				-- 1: journal
DROP EXTENSION tenancy;													-- fails: public.journal is protected
DROP SCHEMA tenancy;														-- fails: the same, through its schema
SELECT tenancy.unprotect(p.relid) FROM tenancy.protected_table p
 WHERE NOT EXISTS (SELECT 1 FROM pg_inherits i
					 JOIN tenancy.protected_table q ON q.relid = i.inhparent
					WHERE i.inhrelid = p.relid)
   AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = p.relid);
DROP EXTENSION tenancy;													-- ok: nothing protected any more
SELECT relname, relrowsecurity, relforcerowsecurity
  FROM pg_class WHERE relname = 'journal';								-- the table as it was before protect
RESET client_min_messages;

-- cleanup
DROP TABLE public.journal;
