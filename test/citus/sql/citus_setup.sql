-- citus_setup: the sample the Citus suite runs on (R25), through tenancy.distribute()
--
-- Runs first, on the coordinator of test/citus/cluster.sh (citus and tenancy
-- on every node, two workers).  Two firms as in test/fixture.sql: compartment
-- bk-clients (clients vries and jansen) and compartment other (client x).
-- Two distributed protected tables, journal and journal_line, colocated by
-- administration.  The other files look the ids up by code.
\set SHOW_CONTEXT never
\set QUIET on
SET client_min_messages = warning;
CREATE ROLE regress_app LOGIN IN ROLE tenancy_app;
CREATE ROLE regress_app2 LOGIN IN ROLE tenancy_app;
CREATE ROLE regress_owner LOGIN IN ROLE tenancy_admin;
CREATE ROLE regress_report LOGIN;
CREATE ROLE regress_plain LOGIN;
GRANT CREATE ON SCHEMA public TO regress_owner;

SELECT tenancy.create_subscription('Bakker') AS sub_bakker \gset
SELECT tenancy.create_subscription('Other') AS sub_other \gset
SELECT tenancy.create_compartment(:sub_bakker, 'bk-clients', 'Bakker clients') AS c_cli \gset
SELECT tenancy.create_compartment(:sub_other, 'other', 'Other firm') AS c_other \gset
SELECT tenancy.create_client(:c_cli, 'vries', 'de Vries Holding') AS cl_vries \gset
SELECT tenancy.create_client(:c_cli, 'jansen', 'Jansen BV') AS cl_jansen \gset
SELECT tenancy.create_client(:c_other, 'x', 'X BV') AS cl_x \gset
SELECT tenancy.create_administration(:cl_vries, 'vries-hold', 'de Vries Holding BV') AS a_hold \gset
SELECT tenancy.create_administration(:cl_vries, 'vries-ops1', 'de Vries Bouw BV') AS a_ops1 \gset
SELECT tenancy.create_administration(:cl_vries, 'vries-ops2', 'de Vries Transport BV') AS a_ops2 \gset
SELECT tenancy.create_administration(:cl_jansen, 'jansen', 'Jansen BV') AS a_jansen \gset
SELECT tenancy.create_administration(:cl_x, 'x', 'X BV') AS a_x \gset

SELECT tenancy.add_user(:c_cli, 'anna@bakker.nl', 'internal', NULL, true) AS u_admin \gset
SELECT tenancy.add_user(:c_cli, 'sam@bakker.nl', 'internal') AS u_staff \gset
SELECT tenancy.add_user(:c_cli, 'piet@devries.nl', 'external', :cl_vries) AS u_piet \gset
SELECT tenancy.add_user(:c_other, 'olga@other.nl', 'internal', NULL, true) AS u_other_admin \gset
SELECT tenancy.add_user(:c_other, 'otto@other.nl', 'internal') AS u_other \gset

SELECT tenancy.grant_rights(:u_staff, :a_hold, '{read,write}') \gset
SELECT tenancy.grant_rights(:u_staff, :a_ops1, '{read}') \gset
SELECT tenancy.grant_rights(:u_piet, :a_ops2, '{read,write,manage}') \gset
SELECT tenancy.grant_rights(:u_other, :a_x, '{read,write}') \gset
RESET client_min_messages;
\set QUIET off

-- 1. distribute: protects, distributes by administration_id, colocates
SET ROLE regress_owner;
CREATE TABLE public.journal (
	id bigserial,
	administration_id bigint NOT NULL,
	amount numeric(12,2) NOT NULL,
	reference text NOT NULL,
	PRIMARY KEY (administration_id, id)
);
CREATE TABLE public.journal_line (
	journal_id bigint NOT NULL,
	administration_id bigint NOT NULL,
	line int NOT NULL,
	account text NOT NULL,
	PRIMARY KEY (administration_id, journal_id, line)
);
SELECT tenancy.distribute('public.journal');							-- ok
SELECT tenancy.distribute('public.journal_line');						-- ok
SELECT tenancy.distribute('public.journal');							-- fails: already distributed
GRANT SELECT, INSERT, UPDATE, DELETE ON public.journal, public.journal_line
	TO regress_app, regress_app2, regress_report, regress_plain;
GRANT USAGE ON SEQUENCE public.journal_id_seq TO regress_app, regress_app2;
RESET ROLE;
SELECT logicalrelid::text AS tbl, partmethod, column_to_column_name(logicalrelid, partkey) AS dist_column,
	   colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'public.journal'::regclass) AS colocated
  FROM pg_dist_partition
 WHERE logicalrelid IN ('public.journal'::regclass, 'public.journal_line'::regclass)
 ORDER BY 1;
-- the replicas the workers read are reference tables
SELECT logicalrelid::text AS tbl, partmethod
  FROM pg_dist_partition WHERE logicalrelid::text LIKE 'tenancy.replica\_%' ORDER BY 1;

-- 2. a plain create_distributed_table() of a protected table is refused by
-- tenancy (its HINT points to distribute(); citus_fn.sql), and protect() of a
-- distributed table by tenancy
SET ROLE regress_owner;
CREATE TABLE public.ledger (administration_id bigint NOT NULL, note text);
SELECT tenancy.protect('public.ledger');
SELECT create_distributed_table('public.ledger', 'administration_id');	-- fails: protected
SELECT tenancy.unprotect('public.ledger');
-- and the other order: protect() refuses a table Citus distributes already
SELECT create_distributed_table('public.ledger', 'administration_id');
SELECT tenancy.protect('public.ledger');								-- fails: a Citus table
DROP TABLE public.ledger;
RESET ROLE;

-- 3. rows, loaded by the superuser (row security and the guard stand aside)
INSERT INTO public.journal (administration_id, amount, reference)
SELECT a.id, g * 10, a.code || '-' || g
  FROM tenancy.administration a, generate_series(1, 3) g
 ORDER BY a.id, g;
INSERT INTO public.journal_line (journal_id, administration_id, line, account)
SELECT j.id, j.administration_id, l, 'acc-' || l
  FROM public.journal j, generate_series(1, 2) l;
SELECT count(*) AS journal_rows FROM public.journal;
SELECT count(*) AS line_rows FROM public.journal_line;
