--
-- ddl_search_path: R3, R24 -- tenancy's event triggers fire in the session
-- of whoever runs DDL, a superuser's included, and its secured views run
-- as each of their readers.  Their catalog queries must
-- not pick up an operator that a role planted in a schema on that
-- session's search_path (public): such an operator runs as the DDL's
-- author.  And the owner of a protected table must not get past the
-- refusal to drop tenancy's policies and triggers (R24) with operators of
-- its own ahead of pg_catalog.
--
\i test/fixture.sql
SET client_min_messages = warning;
DO $$
BEGIN
	CREATE ROLE regress_sp_mallory LOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;
RESET client_min_messages;
GRANT CREATE ON SCHEMA public TO regress_sp_mallory;

-- 1. a role with CREATE on public plants "=(oid, regclass)": pg_catalog has
-- no operator of exactly these types, so the planted one matches better
-- than pg_catalog's oid = oid wherever public is on the path
SET ROLE regress_sp_mallory;
CREATE FUNCTION public.sp_trojan(oid, regclass) RETURNS boolean
	LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'trojan ran as %', current_user;
END $$;
CREATE OPERATOR public.= (leftarg = oid, rightarg = regclass, function = public.sp_trojan);
RESET ROLE;
-- the plant is live: a plain query of the superuser's picks it up
SELECT 'pg_catalog.pg_class'::regclass::oid = 'pg_catalog.pg_class'::regclass;	-- fails: the trojan runs
-- DDL that fires tenancy's ddl_end: the event trigger's query does not
CREATE TABLE public.sp_plain (a int);													-- ok: no trojan
ALTER TABLE public.sp_plain ADD COLUMN b int;											-- ok
CREATE VIEW public.sp_view AS SELECT a FROM public.sp_plain;							-- ok
DROP VIEW public.sp_view;																-- ok (ddl_drop)
-- the application's login creates a temporary table (bulk loading does)
SET ROLE regress_app;
CREATE TEMP TABLE sp_load (administration_id bigint, reference text);					-- ok: no trojan
DROP TABLE sp_load;
RESET ROLE;
-- a new partition of a protected table is still protected (ddl_end found it)
SET ROLE regress_owner;
CREATE TABLE public.sp_parted (administration_id bigint NOT NULL, id bigint NOT NULL,
	PRIMARY KEY (administration_id, id)) PARTITION BY RANGE (administration_id);
SELECT tenancy.protect('public.sp_parted');
CREATE TABLE public.sp_parted_1 PARTITION OF public.sp_parted FOR VALUES FROM (1) TO (1000000);
RESET ROLE;
SELECT relid::text FROM tenancy.protected_table WHERE relid::text LIKE 'sp_parted%' ORDER BY 1;
DROP OPERATOR public.= (oid, regclass);
DROP FUNCTION public.sp_trojan(oid, regclass);

-- 2. the table owner puts its own "=" and "~" on text ahead of pg_catalog,
-- so that the drop guard's name tests would say "not tenancy's" (R24)
SET ROLE regress_owner;
CREATE FUNCTION public.sp_never(text, text) RETURNS boolean
	LANGUAGE sql IMMUTABLE AS 'SELECT false';
CREATE OPERATOR public.= (leftarg = text, rightarg = text, function = public.sp_never);
CREATE OPERATOR public.~ (leftarg = text, rightarg = text, function = public.sp_never);
SET search_path = public, pg_catalog;
SELECT 'tenancy_wall' = 'tenancy_wall' AS planted_equal;								-- f: the plant is live
DROP POLICY tenancy_wall ON public.journal;												-- fails: R24
DROP POLICY tenancy_read ON public.journal;												-- fails: R24
DROP TRIGGER tenancy_guard ON public.journal;											-- fails: R24
DROP TRIGGER tenancy_no_truncate ON public.journal;										-- fails: R24
RESET search_path;
DROP OPERATOR public.= (text, text);
DROP OPERATOR public.~ (text, text);
DROP FUNCTION public.sp_never(text, text);
DROP TABLE public.sp_parted;
RESET ROLE;
SELECT polname FROM pg_policy WHERE polrelid = 'public.journal'::regclass ORDER BY 1;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.journal'::regclass AND NOT tgisinternal ORDER BY 1;

-- 3. a secured view runs as each of its readers (security_invoker): it is
-- refused when it would run a function or operator of another role, such
-- as a "numeric > integer" planted in public, which matches better than
-- pg_catalog's numeric > numeric and would run as the application (R24)
SET ROLE regress_sp_mallory;
CREATE FUNCTION public.sp_gt(numeric, integer) RETURNS boolean
	LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'trojan ran as %', current_user;
END $$;
CREATE OPERATOR public.> (leftarg = numeric, rightarg = integer, function = public.sp_gt);
CREATE FUNCTION public.sp_cents(numeric) RETURNS numeric
	LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 100';
RESET ROLE;
SELECT count(*) FROM public.journal WHERE amount > 15;								-- fails: the plant is live
SET ROLE regress_owner;
SELECT tenancy.create_secured_view('public.sp_big',
	'SELECT administration_id, amount FROM public.journal WHERE amount > 15');			-- fails: mallory's operator
SELECT tenancy.create_secured_view('public.sp_cents',
	'SELECT administration_id, public.sp_cents(amount) FROM public.journal');			-- fails: mallory's function
SELECT count(*) FROM pg_class WHERE relname IN ('sp_big', 'sp_cents');				-- 0: nothing left
RESET ROLE;
-- a superuser creator has the privileges of every role: it trusts only its
-- own objects and superusers', not mallory's
SELECT tenancy.create_secured_view('public.sp_big',
	'SELECT administration_id, amount FROM public.journal WHERE amount > 15');			-- fails: mallory's operator
SET ROLE regress_owner;
CREATE FUNCTION public.sp_mine(numeric) RETURNS numeric
	LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 100';
SELECT tenancy.create_secured_view('sp_big',
	'SELECT administration_id, public.sp_mine(amount) AS cents FROM journal'
	' WHERE amount OPERATOR(pg_catalog.>) 15');										-- ok: its own function, pg_catalog's >
GRANT SELECT ON public.sp_big TO regress_app;
RESET ROLE;
SET ROLE regress_app;
BEGIN;
SELECT tenancy.act_as_local(:u_staff) \gset
SELECT administration_id, count(*), sum(cents) FROM public.sp_big GROUP BY 1 ORDER BY 1;	-- ok: no trojan, the staff's rows
COMMIT;
RESET ROLE;
-- the same operator one view further down: a plain view of the owner's
-- made while the plant was there
SET ROLE regress_owner;
CREATE VIEW public.sp_inner WITH (security_invoker = true) AS
	SELECT administration_id, amount FROM public.journal WHERE amount > 15;
SELECT tenancy.create_secured_view('public.sp_outer',
	'SELECT administration_id FROM public.sp_inner');									-- fails: mallory's operator, in sp_inner
DROP VIEW public.sp_inner;
RESET ROLE;
-- a table of mallory's whose row security policy calls mallory's function:
-- every reader of a view over it would run the policy
SET ROLE regress_sp_mallory;
CREATE FUNCTION public.sp_spy() RETURNS boolean
	LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'trojan policy ran as %', current_user;
END $$;
CREATE TABLE public.sp_rate (currency text PRIMARY KEY, rate numeric);
GRANT SELECT ON public.sp_rate TO PUBLIC;
ALTER TABLE public.sp_rate ENABLE ROW LEVEL SECURITY;
CREATE POLICY sp_rate_spy ON public.sp_rate USING (public.sp_spy());
RESET ROLE;
SET ROLE regress_owner;
SELECT tenancy.create_secured_view('public.sp_fx',
	'SELECT j.administration_id, j.amount * r.rate AS eur FROM public.journal j'
	' CROSS JOIN public.sp_rate r');													-- fails: mallory's table
RESET ROLE;
-- an operator owned by tenancy_admin, which every creator is a member of:
-- any other member may have made it (SET ROLE tenancy_admin)
DROP OPERATOR public.> (numeric, integer);
GRANT CREATE ON SCHEMA public TO tenancy_admin;
SET ROLE regress_operator;
SET ROLE tenancy_admin;
CREATE OPERATOR public.> (leftarg = numeric, rightarg = integer, function = public.sp_gt);
RESET ROLE;
SET ROLE regress_owner;
SELECT tenancy.create_secured_view('public.sp_big3',
	'SELECT administration_id, amount FROM public.journal WHERE amount > 15');			-- fails: tenancy_admin's operator
RESET ROLE;
DROP OPERATOR public.> (numeric, integer);
REVOKE CREATE ON SCHEMA public FROM tenancy_admin;
SET ROLE regress_sp_mallory;
CREATE OPERATOR public.> (leftarg = numeric, rightarg = integer, function = public.sp_gt);
RESET ROLE;
-- what runs nothing of its owner's as the reader is no reason to refuse:
-- mallory's enum type and sequence
SET ROLE regress_sp_mallory;
CREATE TYPE public.sp_state AS ENUM ('open', 'closed');
CREATE SEQUENCE public.sp_seq;
GRANT USAGE, SELECT ON SEQUENCE public.sp_seq TO PUBLIC;
RESET ROLE;
SET ROLE regress_owner;
SELECT tenancy.create_secured_view('public.sp_plain_types',
	'SELECT administration_id, ''open''::public.sp_state AS state,'
	' pg_catalog.currval(''public.sp_seq''::pg_catalog.regclass) AS seq FROM public.journal');	-- ok
DROP VIEW public.sp_plain_types;
RESET ROLE;
-- but a type that wraps a domain of mallory's (an array of it here; a
-- composite or multirange does the same) runs the domain's CHECK, which
-- mallory may add after the view is made: every type but an enum counts
SET ROLE regress_sp_mallory;
CREATE DOMAIN public.sp_code AS text;
RESET ROLE;
SET ROLE regress_owner;
SELECT tenancy.create_secured_view('public.sp_codes',
	'SELECT administration_id, (''{'' || reference || ''}'')::public.sp_code[] AS codes'
	' FROM public.journal');															-- fails: mallory's array type
-- and a query given as text is parsed as each reader, past every check
SELECT tenancy.create_secured_view('public.sp_xml',
	'SELECT pg_catalog.query_to_xml(''SELECT count(*) FROM public.journal WHERE amount > 15'','
	' true, false, '''') AS x');														-- fails: runs a query given as text
RESET ROLE;
DROP DOMAIN public.sp_code;
DROP TYPE public.sp_state;
DROP SEQUENCE public.sp_seq;
-- an extension a superuser installed is trusted; one mallory owns (a
-- trusted extension, which CREATE on the database allows) is not, once
-- mallory adds its operator to it
CREATE EXTENSION lo SCHEMA public;
SET ROLE regress_owner;
SELECT tenancy.create_secured_view('public.sp_lo',
	'SELECT administration_id, public.lo_oid(NULL::public.lo) AS blob FROM public.journal');	-- ok: the superuser's extension
DROP VIEW public.sp_lo;
RESET ROLE;
DROP EXTENSION lo;
SELECT pg_catalog.current_database() AS db \gset
GRANT CREATE ON DATABASE :"db" TO regress_sp_mallory;
SET ROLE regress_sp_mallory;
CREATE EXTENSION lo SCHEMA public;
ALTER EXTENSION lo ADD FUNCTION public.sp_gt(numeric, integer);
ALTER EXTENSION lo ADD OPERATOR public.> (numeric, integer);
RESET ROLE;
SET ROLE regress_owner;
SELECT tenancy.create_secured_view('public.sp_big2',
	'SELECT administration_id, amount FROM public.journal WHERE amount > 15');			-- fails: mallory's extension
RESET ROLE;
DROP EXTENSION lo;
REVOKE CREATE ON DATABASE :"db" FROM regress_sp_mallory;
DROP TABLE public.sp_rate;
DROP FUNCTION public.sp_spy();
DROP VIEW public.sp_big;
DROP FUNCTION public.sp_mine(numeric);
DROP OPERATOR IF EXISTS public.> (numeric, integer);
DROP FUNCTION IF EXISTS public.sp_gt(numeric, integer);
DROP FUNCTION public.sp_cents(numeric);
DROP TABLE public.sp_plain;
REVOKE CREATE ON SCHEMA public FROM regress_sp_mallory;
DROP ROLE regress_sp_mallory;
