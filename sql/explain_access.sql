--
-- explain_access: R23 -- explain_access against an attacker: every
-- delegation of the pair is explained, however many there are (the lines
-- are not lost with the SPI memory), and across compartments only a
-- delegation in force opens the other firm's side: once it is revoked or
-- ended, neither firm's administrator learns the other's user or
-- administration through it
--
\i test/fixture.sql
-- after each refusal, :st prints its SQLSTATE
\set st '\\echo SQLSTATE :LAST_ERROR_SQLSTATE'
\set SHOW_CONTEXT never

-- setup: Bakker's administrator delegates the holding's books to Otto of
-- the other firm three times: the first revoked, the second ended, the
-- third in force
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.delegate(:a_hold, :u_other, '{read}', now() + interval '1 month') AS d1 \gset
SELECT tenancy.revoke_delegation(:d1) \gset
SELECT tenancy.delegate(:a_hold, :u_other, '{read,write}', now() + interval '2 months') AS d2 \gset
SELECT tenancy.delegate(:a_hold, :u_other, '{read}', now() + interval '3 months') AS d3 \gset
SELECT tenancy.reset() \gset
RESET ROLE;
-- the second one ended (its end date moved into the past by the superuser,
-- as time would, past the guard that refuses such writes, R21)
ALTER TABLE tenancy.delegation DISABLE TRIGGER delegation_guard;
UPDATE tenancy.delegation
   SET created_at = now() - interval '2 months', valid_until = now() - interval '1 day'
 WHERE id = :d2;
ALTER TABLE tenancy.delegation ENABLE TRIGGER delegation_guard;

-- the lines as a reader compares them: delegation ids as d1..d3, end dates
-- left out
CREATE FUNCTION pg_temp.explained(user_id bigint, administration_id bigint,
								  d1 bigint, d2 bigint, d3 bigint)
RETURNS SETOF text LANGUAGE sql AS $$
	SELECT regexp_replace(replace(replace(replace(r, 'delegation ' || d1 || ' ', 'delegation d1 '),
											  'delegation ' || d2 || ' ', 'delegation d2 '),
									  'delegation ' || d3 || ' ', 'delegation d3 '),
						  ' (until|at) .*$', ' \1 (its end date)')
	  FROM tenancy.explain_access(user_id, administration_id) r
$$;
GRANT EXECUTE ON FUNCTION pg_temp.explained(bigint, bigint, bigint, bigint, bigint) TO regress_app;

-- 1. three delegations, three lines: revoked, ended, in force
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin) \gset
SELECT pg_temp.explained(:u_other, :a_hold, :d1, :d2, :d3) AS explain_access;	-- ok: the owner's administrator, who learns of Otto his id only (R6: a delegation it makes and rolls back alone must not list another firm's users)
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT pg_temp.explained(:u_other, :a_hold, :d1, :d2, :d3) AS explain_access;	-- ok: the delegate's administrator
SELECT count(*) AS lines FROM tenancy.explain_access(:u_other, :a_hold) r
 WHERE r IN ('pg_catalog', 'pg_temp') OR r NOT LIKE '% %';				-- 0: no stray words
-- the other firm disables Otto: that is its own business, and the owner's
-- administrator reads the same verdict as before, and no "disabled" (R6)
SELECT tenancy.disable_user(:u_other) \gset
SELECT tenancy.act_as(:u_admin) \gset
SELECT r FROM tenancy.explain_access(:u_other, :a_hold) r
 WHERE r LIKE 'verdict%' OR r LIKE '%disabled%';						-- ok: the verdict alone
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT r FROM tenancy.explain_access(:u_other, :a_hold) r
 WHERE r LIKE 'verdict%' OR r LIKE '%disabled%';						-- ok: his own side reads both
SELECT tenancy.enable_user(:u_other) \gset

-- 2. the delegation in force revoked: across compartments nothing opens
-- the other side any more
SELECT tenancy.act_as(:u_admin) \gset
SELECT tenancy.revoke_delegation(:d3) \gset
SELECT pg_temp.explained(:u_other, :a_hold, :d1, :d2, :d3);	-- fails: the owner no longer learns Otto
:st
SELECT tenancy.act_as(:u_other_admin) \gset
SELECT pg_temp.explained(:u_other, :a_hold, :d1, :d2, :d3);	-- fails: nor Olga the holding's books
:st
SELECT tenancy.explain_access(:u_other, 999999);				-- fails: the same words as an unknown id
:st
SELECT tenancy.reset() \gset
RESET ROLE;
-- an operator still reads the whole history
SELECT pg_temp.explained(:u_other, :a_hold, :d1, :d2, :d3) AS explain_access;	-- ok

-- 3. R2: without an identity an application server learns nothing, and is
-- told that no identity is set (55000), as by every management function
SET ROLE regress_app;
SELECT tenancy.explain_access(:u_staff, :a_hold);				-- fails: no identity is set
:st
RESET ROLE;

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
