-- test/fixture.sql -- the sample every pg_regress file starts from
--
-- Included with \i (from the project root) by each sql/*.sql file, so that each can run alone.
-- Two firms.  Firm "Bakker" has one subscription split in two compartments:
-- bk-own (own administrations) and bk-clients (client administrations, with
-- clients vries and jansen).  Firm "Other" has compartment other.
-- Compartment noext forbids external users.  Ids are fixed by the order of
-- creation and kept in psql variables.
\set QUIET on
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS tenancy CASCADE;
DROP TABLE IF EXISTS public.journal CASCADE;
CREATE EXTENSION tenancy;
DO $$
BEGIN
	-- an application server, a plain login, an operator, a table owner
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_app') THEN
		CREATE ROLE regress_app LOGIN IN ROLE tenancy_app;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_plain') THEN
		CREATE ROLE regress_plain LOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_operator') THEN
		CREATE ROLE regress_operator LOGIN IN ROLE tenancy_admin;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_owner') THEN
		CREATE ROLE regress_owner NOLOGIN IN ROLE tenancy_admin;
	END IF;
END
$$;
GRANT CREATE ON SCHEMA public TO regress_owner;

SELECT tenancy.create_subscription('Bakker') AS sub_bakker \gset
SELECT tenancy.create_subscription('Other') AS sub_other \gset
SELECT tenancy.create_compartment(:sub_bakker, 'bk-own', 'Bakker own') AS c_own \gset
SELECT tenancy.create_compartment(:sub_bakker, 'bk-clients', 'Bakker clients') AS c_cli \gset
SELECT tenancy.create_compartment(:sub_other, 'other', 'Other firm') AS c_other \gset
SELECT tenancy.create_compartment(:sub_other, 'noext', 'No externals', false) AS c_noext \gset

SELECT tenancy.create_client(:c_cli, 'vries', 'de Vries Holding') AS cl_vries \gset
SELECT tenancy.create_client(:c_cli, 'jansen', 'Jansen BV') AS cl_jansen \gset
SELECT tenancy.create_client(:c_other, 'x', 'X BV') AS cl_x \gset
SELECT tenancy.create_client(:c_own, 'self', 'Bakker itself') AS cl_self \gset

SELECT tenancy.create_administration(:cl_vries, 'vries-hold', 'de Vries Holding BV') AS a_hold \gset
SELECT tenancy.create_administration(:cl_vries, 'vries-ops1', 'de Vries Bouw BV') AS a_ops1 \gset
SELECT tenancy.create_administration(:cl_vries, 'vries-ops2', 'de Vries Transport BV') AS a_ops2 \gset
SELECT tenancy.create_administration(:cl_jansen, 'jansen', 'Jansen BV') AS a_jansen \gset
SELECT tenancy.create_administration(:cl_x, 'x', 'X BV') AS a_x \gset
SELECT tenancy.create_administration(:cl_self, 'self', 'Bakker Accountants') AS a_self \gset

SELECT tenancy.add_user(:c_cli, 'anna@bakker.nl', 'internal', NULL, true) AS u_admin \gset
SELECT tenancy.add_user(:c_cli, 'sam@bakker.nl', 'internal') AS u_staff \gset
SELECT tenancy.add_user(:c_cli, 'piet@devries.nl', 'external', :cl_vries) AS u_piet \gset
SELECT tenancy.add_user(:c_cli, 'jan@jansen.nl', 'external', :cl_jansen) AS u_jan \gset
SELECT tenancy.add_user(:c_other, 'olga@other.nl', 'internal', NULL, true) AS u_other_admin \gset
SELECT tenancy.add_user(:c_other, 'otto@other.nl', 'internal') AS u_other \gset
SELECT tenancy.add_user(:c_own, 'anna@bakker.nl', 'internal', NULL, true) AS u_own_admin \gset

SELECT tenancy.grant_rights(:u_staff, :a_hold, '{read,write}') \gset
SELECT tenancy.grant_rights(:u_staff, :a_ops1, '{read}') \gset
SELECT tenancy.grant_rights(:u_piet, :a_hold, '{read}') \gset
SELECT tenancy.grant_rights(:u_piet, :a_ops1, '{read,write,submit}') \gset
SELECT tenancy.grant_rights(:u_piet, :a_ops2, '{read,write}') \gset
SELECT tenancy.grant_rights(:u_jan, :a_jansen, '{read,write}') \gset
SELECT tenancy.grant_rights(:u_other, :a_x, '{read,write}') \gset
SELECT tenancy.grant_rights(:u_own_admin, :a_self, '{read,write,manage}') \gset

-- the application table, owned by a plain (non-superuser) role
SET ROLE regress_owner;
CREATE TABLE public.journal (
	id bigserial PRIMARY KEY,
	administration_id bigint NOT NULL,
	booked_on date NOT NULL,
	amount numeric(12,2) NOT NULL,
	reference text NOT NULL
);
CREATE INDEX journal_administration_idx ON public.journal (administration_id, booked_on);
CREATE INDEX journal_reference_idx ON public.journal (lower(reference));
SELECT tenancy.protect('public.journal') \gset
GRANT SELECT, INSERT, UPDATE, DELETE ON public.journal TO regress_app, regress_plain;
GRANT USAGE ON SEQUENCE public.journal_id_seq TO regress_app, regress_plain;
RESET ROLE;
-- 3 rows per administration, loaded by the superuser (row security and the
-- guard stand aside for superusers)
INSERT INTO public.journal (administration_id, booked_on, amount, reference)
SELECT a.id, date '2026-01-01' + g, g * 10, a.code || '-' || g
  FROM tenancy.administration a, generate_series(1, 3) g
 ORDER BY a.id, g;
ANALYZE public.journal;
RESET client_min_messages;
\set QUIET off
