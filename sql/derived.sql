--
-- derived: R24, R11 -- no derived object reads a protected table past its
-- walls: views owned by roles that bypass row security, materialized
-- views, rules, partitions and inheritance children, foreign keys; and the
-- walls themselves change only through tenancy (R24), which check() (R23)
-- watches when event triggers are off
--
\i test/fixture.sql
SET client_min_messages = warning;
DO $$
BEGIN
	-- a reporting login bound to one administration, a BYPASSRLS role, and
	-- a login a careless DBA made a member of the table owner's role
	CREATE ROLE regress_dv_report LOGIN;
	CREATE ROLE regress_dv_bypass LOGIN BYPASSRLS;
	CREATE ROLE regress_dv_sneaky LOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;
RESET client_min_messages;
SELECT tenancy.bind_reporting_login('regress_dv_report', :c_cli, :cl_jansen, '{jansen}') \gset
GRANT SELECT ON public.journal TO regress_dv_report;
GRANT CREATE ON SCHEMA public TO regress_dv_bypass;
GRANT SELECT ON public.journal TO regress_dv_bypass;
-- staff may write in two clients' administrations (R11 needs such a user)
SELECT tenancy.grant_rights(:u_staff, :a_jansen, '{read,write}') \gset

-- 1. views owned by a role that bypasses row security (R24)
CREATE VIEW public.journal_plain AS SELECT * FROM public.journal;			-- fails: superuser owner
SET ROLE regress_dv_bypass;
CREATE VIEW public.journal_bypass AS SELECT * FROM public.journal;			-- fails: BYPASSRLS owner
RESET ROLE;
CREATE VIEW public.journal_inv WITH (security_invoker = true)
	AS SELECT administration_id, reference FROM public.journal;				-- ok: runs as its caller
GRANT SELECT ON public.journal_inv TO regress_dv_report;
SET SESSION AUTHORIZATION regress_dv_report;
SELECT administration_id, count(*) FROM public.journal_inv GROUP BY 1 ORDER BY 1;	-- ok: its one administration
RESET SESSION AUTHORIZATION;
-- through another view: the inner view runs with the outer view's owner
CREATE VIEW public.journal_outer AS SELECT * FROM public.journal_inv;		-- fails: superuser owner, through a view
CREATE VIEW public.journal_sub AS
	SELECT count(*) FROM (SELECT 1 FROM public.journal_inv) s;				-- fails: in a subquery
-- the invoker view may not stop running as its caller
ALTER VIEW public.journal_inv RESET (security_invoker);					-- fails
ALTER VIEW public.journal_inv SET (security_invoker = off);				-- fails
CREATE OR REPLACE VIEW public.journal_inv
	AS SELECT administration_id, reference FROM public.journal;				-- fails: drops security_invoker
-- a plain view of the table owner (subject to row security) may not be
-- handed to a superuser
SET ROLE regress_owner;
CREATE VIEW public.journal_owner AS SELECT administration_id, reference FROM public.journal;	-- ok
RESET ROLE;
ALTER VIEW public.journal_owner OWNER TO postgres;							-- fails
ALTER TABLE public.journal_owner OWNER TO regress_dv_bypass;				-- fails: ALTER TABLE spelling
-- ... nor may a view above it turn it into a reader with a superuser's rights
SET ROLE regress_owner;
CREATE VIEW public.journal_inv2 WITH (security_invoker) AS SELECT * FROM public.journal;	-- ok
CREATE VIEW public.journal_top AS SELECT * FROM public.journal_inv2;		-- ok: runs as regress_owner
RESET ROLE;
ALTER VIEW public.journal_top OWNER TO postgres;							-- fails: through the invoker view
-- secured views made by tenancy keep working, for the superuser too
SELECT tenancy.create_secured_view('public.journal_secured',
	'SELECT administration_id, amount FROM public.journal');				-- ok
-- rules act with the rule's table owner's rights
CREATE TABLE public.inbox (x int);
CREATE RULE copy_out AS ON INSERT TO public.inbox
	DO ALSO SELECT reference FROM public.journal;							-- fails: superuser's table
CREATE RULE harmless AS ON INSERT TO public.inbox DO ALSO NOTIFY inbox;	-- ok: reads nothing

-- 2. materialized views store rows and show them without row security
SET ROLE regress_owner;
CREATE MATERIALIZED VIEW public.journal_frozen AS SELECT * FROM public.journal;	-- fails
CREATE MATERIALIZED VIEW public.journal_frozen2 AS SELECT * FROM public.journal_owner;	-- fails: through a view
CREATE MATERIALIZED VIEW public.nothing_frozen AS SELECT 1 AS one;			-- ok: no protected table
RESET ROLE;

-- 3. partitions and inheritance children are protected the moment they
-- exist (R24, R11)
SET ROLE regress_owner;
CREATE TABLE public.ledger (administration_id bigint NOT NULL, amount numeric, reference text)
	PARTITION BY LIST (administration_id);
SELECT tenancy.protect('public.ledger') \gset
CREATE TABLE public.ledger_vries PARTITION OF public.ledger FOR VALUES IN (1, 2, 3);	-- ok: protected
CREATE TABLE public.ledger_loaded (administration_id bigint NOT NULL, amount numeric, reference text);
INSERT INTO public.ledger_loaded VALUES (4, 1, 'JANSEN-L'), (5, 1, 'X-SECRET-L'), (999, 1, 'NOWHERE-L');
-- a filled table would bring rows in past the guard: another firm's, an
-- administration that does not exist (R6, R12)
ALTER TABLE public.ledger ATTACH PARTITION public.ledger_loaded FOR VALUES IN (4, 5, 999);	-- fails: holds rows
-- so would a filled table below the one attached, and a row the same
-- transaction wrote
CREATE TABLE public.g_parent (LIKE public.journal);
CREATE TABLE public.g_child () INHERITS (public.g_parent);
INSERT INTO public.g_child VALUES (1, 5, '2026-01-01', 1, 'X-PLANTED');
ALTER TABLE public.g_parent INHERIT public.journal;						-- fails: g_child holds rows
BEGIN;
DELETE FROM public.g_child;
INSERT INTO public.g_parent VALUES (2, 5, '2026-01-01', 1, 'X-PLANTED-2');
ALTER TABLE public.g_parent INHERIT public.journal;						-- fails: g_parent holds one
ROLLBACK;
DROP TABLE public.g_parent, public.g_child;
DELETE FROM public.ledger_loaded WHERE administration_id = 999;
-- protect() is the explicit door for rows written before protection
SELECT tenancy.protect('public.ledger_loaded') \gset
ALTER TABLE public.ledger ATTACH PARTITION public.ledger_loaded FOR VALUES IN (4, 5);	-- ok: protected already
-- a child of the protected journal, with rows of two firms
CREATE TABLE public.journal_old () INHERITS (public.journal);				-- ok: protected
CREATE TABLE public.journal_archive (LIKE public.journal);
ALTER TABLE public.journal_archive INHERIT public.journal;					-- ok: protected
GRANT SELECT, UPDATE ON public.ledger_loaded, public.journal_old TO regress_app, regress_plain;
RESET ROLE;
INSERT INTO public.journal_old (administration_id, booked_on, amount, reference)
VALUES (:a_hold, '2025-12-31', 1, 'OLD-A1'), (:a_x, '2025-12-31', 1, 'OLD-X1');
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
	   (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
	   (SELECT string_agg(t.tgname, ',' ORDER BY t.tgname) FROM pg_trigger t
		 WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS triggers,
	   EXISTS (SELECT 1 FROM tenancy.protected_table p WHERE p.relid = c.oid) AS registered
  FROM pg_class c
 WHERE c.relname IN ('ledger', 'ledger_vries', 'ledger_loaded', 'journal_old', 'journal_archive')
 ORDER BY c.relname COLLATE "C";
SET ROLE regress_plain;
SELECT count(*) FROM public.journal_old;									-- ok: 0, no identity
SELECT count(*) FROM public.ledger_loaded;									-- ok: 0, no identity
RESET ROLE;
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
SELECT reference FROM public.ledger_loaded ORDER BY 1;						-- ok: jansen's row only
SELECT tenancy.act_as(:u_staff);
SELECT reference FROM public.journal_old ORDER BY 1;						-- ok: OLD-A1 only
-- R11: a child's row moved through the parent to another client
UPDATE public.journal SET administration_id = :a_jansen WHERE reference = 'OLD-A1';	-- fails: other client
UPDATE public.journal_old SET administration_id = :a_jansen WHERE reference = 'OLD-A1';	-- fails: other client
SELECT tenancy.reset();
RESET ROLE;
SELECT administration_id, reference FROM public.journal_old ORDER BY 2;	-- unchanged
-- a parent reads its children's rows with its own policies alone: every
-- parent of a protected table is protected, by the same column (R24)
SET ROLE regress_owner;
CREATE TABLE public.journal_all (LIKE public.journal);
GRANT SELECT, UPDATE, DELETE ON public.journal_all TO regress_app, regress_plain;
ALTER TABLE public.journal INHERIT public.journal_all;						-- fails: unprotected parent
CREATE TABLE public.note (administration_id bigint NOT NULL, body text);
SELECT tenancy.protect('public.note') \gset
CREATE TABLE public.note_all (administration_id bigint NOT NULL, body text)
	PARTITION BY LIST (administration_id);
ALTER TABLE public.note_all ATTACH PARTITION public.note DEFAULT;			-- fails: likewise
CREATE TABLE public.memo_all (administration_id bigint NOT NULL, body text);
CREATE TABLE public.memo () INHERITS (public.memo_all);
SELECT tenancy.protect('public.memo');										-- fails: its parent is not protected
CREATE TABLE public.pair_p (administration_id bigint NOT NULL, other_id bigint NOT NULL);
CREATE TABLE public.pair_c (administration_id bigint NOT NULL, other_id bigint NOT NULL);
SELECT tenancy.protect('public.pair_p') \gset
SELECT tenancy.protect('public.pair_c', 'other_id') \gset
ALTER TABLE public.pair_c INHERIT public.pair_p;							-- fails: another column
SELECT tenancy.protect('public.note_all') \gset
ALTER TABLE public.note_all ATTACH PARTITION public.note DEFAULT;			-- ok: both protected
-- unprotect() of a parent takes its children along: a protected child is
-- never left under an unprotected parent, nor an unprotected child under a
-- protected one
CREATE TABLE public.memo_p (administration_id bigint NOT NULL, body text);
SELECT tenancy.protect('public.memo_p') \gset
CREATE TABLE public.memo_c () INHERITS (public.memo_p);						-- ok: protected
SELECT tenancy.unprotect('public.memo_c');									-- fails: its parent is protected
SELECT tenancy.unprotect('public.memo_p') \gset
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
  FROM pg_class c WHERE c.relname IN ('memo_p', 'memo_c') ORDER BY 1;		-- both unprotected
-- and protect() of a parent protects the children it has
SELECT tenancy.protect('public.memo_p') \gset
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
  FROM pg_class c WHERE c.relname IN ('memo_p', 'memo_c') ORDER BY 1;		-- both protected
-- a child of two protected parents keeps its walls while either is
-- protected
CREATE TABLE public.memo_q (administration_id bigint NOT NULL, body text);
SELECT tenancy.protect('public.memo_q') \gset
CREATE TABLE public.memo_qc () INHERITS (public.memo_p, public.memo_q);	-- ok: protected
SELECT tenancy.unprotect('public.memo_q');									-- fails: memo_p holds memo_qc
RESET ROLE;
SET ROLE regress_plain;
SELECT count(*) FROM public.journal_all;									-- ok: 0, journal is not its child
RESET ROLE;
-- a child that cannot be protected is refused: a foreign partition ...
CREATE FOREIGN DATA WRAPPER regress_dv_fdw;
CREATE SERVER regress_dv_server FOREIGN DATA WRAPPER regress_dv_fdw;
CREATE FOREIGN TABLE public.ledger_remote PARTITION OF public.ledger
	FOR VALUES IN (7) SERVER regress_dv_server;								-- fails: not a table
-- ... and a partition whose creator may not protect it
CREATE ROLE regress_dv_outsider;
GRANT CREATE ON SCHEMA public TO regress_dv_outsider;
GRANT regress_owner TO regress_dv_outsider;
ALTER TABLE public.ledger OWNER TO regress_dv_outsider;						-- the owner leaves tenancy_admin
REVOKE regress_owner FROM regress_dv_outsider;
SET ROLE regress_dv_outsider;
CREATE TABLE public.ledger_rest PARTITION OF public.ledger DEFAULT;		-- fails: cannot be protected
RESET ROLE;

-- 4. foreign keys: an oracle unless keyed by the administration (R24)
SET ROLE regress_owner;
CREATE TABLE public.doc (
	id bigserial,
	administration_id bigint NOT NULL,
	secret text,
	PRIMARY KEY (administration_id, id)
);
SELECT tenancy.protect('public.doc') \gset
GRANT SELECT, INSERT ON public.doc TO regress_app;
CREATE TABLE public.doc_line (administration_id bigint NOT NULL,
	doc_id bigint REFERENCES public.doc (id));								-- fails: no unique key on id alone
CREATE UNIQUE INDEX doc_id_key ON public.doc (id);							-- (the oracle the next steps need)
CREATE TABLE public.doc_line (administration_id bigint NOT NULL,
	doc_id bigint REFERENCES public.doc (id));								-- fails: into a protected table
CREATE TABLE public.doc_copy (doc_id bigint REFERENCES public.doc (id));	-- fails: from an unprotected table
CREATE TABLE public.doc_copy (administration_id bigint, doc_id bigint,
	FOREIGN KEY (administration_id, doc_id)
	REFERENCES public.doc (administration_id, id));							-- fails: likewise, even paired
ALTER TABLE public.journal ADD COLUMN doc_id bigint;
ALTER TABLE public.journal ADD FOREIGN KEY (doc_id) REFERENCES public.doc (id);	-- fails: out of a protected table
ALTER TABLE public.journal ADD CONSTRAINT journal_doc_fkey
	FOREIGN KEY (administration_id, doc_id) REFERENCES public.doc (administration_id, id);	-- ok: composite
DROP INDEX public.doc_id_key;
-- a referential action runs without row security: it may not write the
-- administration column (R6, R11: ON DELETE SET DEFAULT would move the
-- row into whatever administration the default names)
CREATE TABLE public.doc_note (administration_id bigint NOT NULL DEFAULT 0, doc_id bigint, body text);
SELECT tenancy.protect('public.doc_note') \gset
ALTER TABLE public.doc_note ADD FOREIGN KEY (administration_id, doc_id)
	REFERENCES public.doc (administration_id, id) ON DELETE SET DEFAULT;	-- fails: sets the column
ALTER TABLE public.doc_note ADD FOREIGN KEY (administration_id, doc_id)
	REFERENCES public.doc (administration_id, id) ON UPDATE SET NULL;		-- fails: likewise
ALTER TABLE public.doc_note ADD FOREIGN KEY (administration_id, doc_id)
	REFERENCES public.doc (administration_id, id) ON DELETE SET NULL (doc_id);	-- ok: doc_id only
-- protect() refuses a table that an unkeyed foreign key reads
CREATE TABLE public.folder (id bigint PRIMARY KEY, administration_id bigint NOT NULL);
CREATE TABLE public.folder_item (folder_id bigint REFERENCES public.folder (id));
SELECT tenancy.protect('public.folder');									-- fails: folder_item's key
-- a cascade from an unprotected table changes rows of every firm
CREATE TABLE public.currency (code text PRIMARY KEY);
ALTER TABLE public.journal ADD COLUMN currency text;
ALTER TABLE public.journal ADD FOREIGN KEY (currency) REFERENCES public.currency
	ON DELETE CASCADE;														-- fails: cascade
ALTER TABLE public.journal ADD FOREIGN KEY (currency) REFERENCES public.currency;	-- ok: a global lookup
RESET ROLE;
INSERT INTO public.doc (administration_id, secret) VALUES (:a_jansen, 'jansen doc'), (:a_x, 'firm X doc');
SELECT id AS doc_x FROM public.doc WHERE administration_id = :a_x \gset
-- the oracle: a firm-X doc id and an absent one fail alike
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
INSERT INTO public.journal (administration_id, booked_on, amount, reference, doc_id)
VALUES (:a_jansen, '2026-02-01', 1, 'ORACLE-1', :doc_x);					-- fails: not jansen's doc
INSERT INTO public.journal (administration_id, booked_on, amount, reference, doc_id)
VALUES (:a_jansen, '2026-02-01', 1, 'ORACLE-2', 999999);					-- fails: the same way
SELECT tenancy.reset();
RESET ROLE;

-- 5. the walls change only through tenancy, for the owner and the
-- superuser alike (R24)
GRANT regress_owner TO regress_dv_sneaky;
SET ROLE regress_dv_sneaky;
ALTER TABLE public.journal NO FORCE ROW LEVEL SECURITY;					-- fails: member of the owner
RESET ROLE;
REVOKE regress_owner FROM regress_dv_sneaky;
SET ROLE regress_owner;
ALTER TABLE public.journal NO FORCE ROW LEVEL SECURITY;					-- fails
ALTER TABLE public.journal DISABLE ROW LEVEL SECURITY;					-- fails
DROP POLICY tenancy_read ON public.journal;									-- fails
ALTER POLICY tenancy_read ON public.journal USING (true);					-- fails
ALTER POLICY tenancy_wall ON public.journal RENAME TO wall;					-- fails
CREATE POLICY wide ON public.journal FOR SELECT USING (true);				-- fails: widens the wall
CREATE POLICY narrow ON public.journal AS RESTRICTIVE USING (amount > 0);	-- fails: only tenancy sets walls
ALTER TABLE public.journal DISABLE TRIGGER tenancy_guard;					-- fails
ALTER TABLE public.journal DISABLE TRIGGER USER;							-- fails
ALTER TABLE public.journal ENABLE REPLICA TRIGGER tenancy_guard;			-- fails: off outside replication
DROP TRIGGER tenancy_no_truncate ON public.journal;						-- fails
ALTER TRIGGER tenancy_guard ON public.journal RENAME TO guard;				-- fails
ALTER TABLE public.journal RENAME COLUMN administration_id TO adm;			-- fails
-- the same under other statements' spellings, which PostgreSQL accepts for
-- a table (1.3 review: ALTER VIEW ... RENAME COLUMN renamed the column, and
-- the policies followed it while the guard trigger kept the old name)
-- (a table of its own: journal's foreign key is refused on any DDL here)
CREATE TABLE public.plain_books (administration_id bigint NOT NULL, amount numeric);
SELECT tenancy.protect('public.plain_books') \gset
ALTER VIEW public.plain_books RENAME COLUMN administration_id TO adm;		-- fails
ALTER MATERIALIZED VIEW public.plain_books RENAME COLUMN administration_id TO adm;	-- fails
ALTER FOREIGN TABLE public.plain_books RENAME COLUMN administration_id TO adm;	-- fails
ALTER TYPE public.plain_books RENAME ATTRIBUTE administration_id TO adm;	-- fails: the row type's attribute is the column
ALTER INDEX public.plain_books RENAME TO plain_renamed;					-- ok: a table's own rename
ALTER TABLE public.plain_renamed RENAME TO plain_books;
-- a guard made to depend on an extension would go with it, or keep the
-- extension from being dropped
ALTER TRIGGER tenancy_guard ON public.plain_books DEPENDS ON EXTENSION plpgsql;	-- fails
-- protect() and unprotect() run their DDL by the table's name; a name that
-- leads elsewhere by the time a statement runs (another session renamed
-- schemas: here a superuser's event trigger does it at the first DROP
-- POLICY, to make the moment certain) must not strip another protected
-- table's walls (1.3 review: unprotect() of one table left another, of the
-- same name in a schema that took the first one's name, without them)
RESET ROLE;
CREATE SCHEMA swap_a AUTHORIZATION regress_owner;
CREATE SCHEMA swap_b AUTHORIZATION regress_owner;
SET ROLE regress_owner;
CREATE TABLE swap_a.t (administration_id bigint NOT NULL);
CREATE TABLE swap_b.t (administration_id bigint NOT NULL);
SELECT tenancy.protect('swap_a.t') \gset
SELECT tenancy.protect('swap_b.t') \gset
RESET ROLE;
CREATE FUNCTION public.swap_schemas_once() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
	IF current_setting('regress.swap_schemas', true) = 'on' THEN
		PERFORM set_config('regress.swap_schemas', 'off', true);
		ALTER SCHEMA swap_a RENAME TO swap_x;
		ALTER SCHEMA swap_b RENAME TO swap_a;
	END IF;
END $$;
CREATE EVENT TRIGGER regress_swap_schemas ON ddl_command_start WHEN TAG IN ('DROP POLICY')
	EXECUTE FUNCTION public.swap_schemas_once();
SET ROLE regress_owner;
BEGIN;
SELECT set_config('regress.swap_schemas', 'on', true) \gset
SELECT tenancy.unprotect('swap_a.t');										-- fails: reached swap_b's table
COMMIT;
RESET ROLE;
DROP EVENT TRIGGER regress_swap_schemas;
DROP FUNCTION public.swap_schemas_once();
SELECT n.nspname, c.relforcerowsecurity,
	   (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname = 't' AND n.nspname LIKE 'swap\_%' ORDER BY 1;			-- ok: both keep their walls
SET ROLE regress_owner;
SELECT tenancy.unprotect('swap_a.t') \gset
SELECT tenancy.unprotect('swap_b.t') \gset
DROP TABLE swap_a.t, swap_b.t;
RESET ROLE;
DROP SCHEMA swap_a, swap_b;
SET ROLE regress_owner;
-- a typed table: ALTER TYPE ... CASCADE renames the column of its tables
CREATE TYPE public.book_row AS (administration_id bigint, amount numeric);
CREATE TABLE public.typed_books OF public.book_row (administration_id WITH OPTIONS NOT NULL);
SELECT tenancy.protect('public.typed_books') \gset
ALTER TYPE public.book_row RENAME ATTRIBUTE administration_id TO adm CASCADE;	-- fails
SELECT attname FROM pg_attribute
 WHERE attrelid = 'public.typed_books'::regclass AND attnum = 1;			-- ok: administration_id
SELECT attname FROM pg_attribute
 WHERE attrelid = 'public.plain_books'::regclass AND attnum = 1;			-- ok: administration_id
-- a policy on a view fails at once, as in PostgreSQL, without waiting for
-- the view's lock
CREATE VIEW public.journal_names AS SELECT 1 AS x;
CREATE POLICY p ON public.journal_names USING (true);						-- fails: not a table
DROP VIEW public.journal_names;
ALTER TABLE public.ledger_vries NO FORCE ROW LEVEL SECURITY;				-- fails: a partition
CREATE OR REPLACE TRIGGER tenancy_guard BEFORE INSERT OR UPDATE OR DELETE ON public.journal
	FOR EACH ROW WHEN (false) EXECUTE FUNCTION tenancy.guard_row('administration_id');	-- fails: swaps the guard (R12, R11)
-- the owner's own trigger is the owner's business
CREATE FUNCTION public.journal_touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER journal_touch BEFORE UPDATE ON public.journal
	FOR EACH ROW EXECUTE FUNCTION public.journal_touch();					-- ok
-- but not one that fires after the guard (row triggers fire in the order
-- of their names): it could change the row the guard has checked, move it
-- to another client or into an archived administration (R11, R12; 1.3
-- attack, where zz_route rewrote administration_id)
CREATE TRIGGER zz_route BEFORE INSERT OR UPDATE ON public.journal
	FOR EACH ROW EXECUTE FUNCTION public.journal_touch();					-- fails: after the guard
CREATE TRIGGER route BEFORE INSERT OR UPDATE ON public.journal
	FOR EACH ROW EXECUTE FUNCTION public.journal_touch();					-- ok: before it
ALTER TRIGGER route ON public.journal RENAME TO zz_route;					-- fails: after the guard
CREATE TRIGGER zz_after AFTER INSERT ON public.journal
	FOR EACH ROW EXECUTE FUNCTION public.journal_touch();					-- ok: sees the row as stored
DROP TRIGGER route ON public.journal;
DROP TRIGGER zz_after ON public.journal;
-- nor protect() a table that has one
CREATE TABLE public.routed (administration_id bigint NOT NULL);
CREATE TRIGGER zz_route BEFORE INSERT ON public.routed
	FOR EACH ROW EXECUTE FUNCTION public.journal_touch();
SELECT tenancy.protect('public.routed');									-- fails: after the guard
DROP TABLE public.routed;
RESET ROLE;
CREATE OR REPLACE TRIGGER tenancy_no_truncate BEFORE TRUNCATE ON public.journal
	FOR EACH STATEMENT WHEN (false) EXECUTE FUNCTION tenancy.guard_truncate();	-- fails: superuser
-- an application role holding TRIGGER (GRANT ALL gives it) would run its
-- code in every writer's session, which sees every firm's rows (R6, R7)
GRANT TRIGGER ON public.journal TO regress_app;
SET ROLE regress_app;
CREATE FUNCTION pg_temp.spy() RETURNS trigger LANGUAGE plpgsql AS
	$$BEGIN PERFORM pg_notify('spy', row_to_json(NEW)::text); RETURN NEW; END$$;
CREATE TRIGGER zz_spy BEFORE INSERT OR UPDATE ON public.journal
	FOR EACH ROW EXECUTE FUNCTION pg_temp.spy();								-- fails: not the owner
CREATE OR REPLACE TRIGGER journal_touch BEFORE UPDATE ON public.journal
	FOR EACH ROW EXECUTE FUNCTION pg_temp.spy();								-- fails: not the owner
CREATE OR REPLACE TRIGGER tenancy_no_truncate BEFORE TRUNCATE ON public.journal
	FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.spy();						-- fails
RESET ROLE;
SELECT tgname, tgfoid::regproc FROM pg_trigger
 WHERE tgrelid = 'public.journal'::regclass AND NOT tgisinternal ORDER BY 1;
-- statements inside CREATE SCHEMA fire no ddl_command_start: a partition
-- created there with a guard that never fires (here by a superuser) is
-- protected at the end of the command all the same, its guard protect()'s
-- (R24, R12; before, it stayed unprotected)
CREATE SCHEMA regress_dv_s
	CREATE TABLE ledger_s PARTITION OF public.ledger FOR VALUES IN (7)
	CREATE TRIGGER tenancy_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_s
		FOR EACH ROW WHEN (false) EXECUTE FUNCTION tenancy.guard_row('administration_id');
SELECT c.relrowsecurity AND c.relforcerowsecurity AS protected, g.tgqual IS NULL AS guard_fires
  FROM pg_class c JOIN pg_trigger g ON g.tgrelid = c.oid AND g.tgname = 'tenancy_guard'
 WHERE c.oid = 'regress_dv_s.ledger_s'::regclass;							-- ok: t, t
DROP SCHEMA regress_dv_s CASCADE;
-- a table that a role holding TRIGGER on it gave a trigger of its own
-- before it was attached keeps that trigger when it becomes a protected
-- partition (PostgreSQL does not record who created a trigger): check()
-- reports the trigger, whose function is that role's, and the privilege
-- (R23; before, neither)
CREATE ROLE regress_dv_trig;
GRANT CREATE ON SCHEMA public TO regress_dv_trig;
SET ROLE regress_owner;
CREATE TABLE public.ledger_t (administration_id bigint NOT NULL, amount numeric, reference text);
GRANT TRIGGER ON public.ledger_t TO regress_dv_trig;
SET ROLE regress_dv_trig;
CREATE FUNCTION public.dv_spy() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER dv_spy BEFORE INSERT ON public.ledger_t FOR EACH ROW EXECUTE FUNCTION public.dv_spy();
RESET ROLE;
ALTER TABLE public.ledger ATTACH PARTITION public.ledger_t FOR VALUES IN (8);	-- ok: protected
SELECT severity, object, problem FROM tenancy.check()
 WHERE object = 'public.ledger_t' ORDER BY 1, 3;							-- the trigger, the privilege
DROP TABLE public.ledger_t;
DROP FUNCTION public.dv_spy();
REVOKE CREATE ON SCHEMA public FROM regress_dv_trig;
DROP ROLE regress_dv_trig;
DROP TRIGGER journal_touch ON public.journal;
DROP FUNCTION public.journal_touch();
ALTER TABLE public.journal NO FORCE ROW LEVEL SECURITY;					-- fails: superuser
DROP POLICY tenancy_wall ON public.journal;									-- fails: superuser
ALTER TABLE public.journal DISABLE TRIGGER ALL;							-- fails: superuser
ALTER TABLE public.journal DROP COLUMN administration_id CASCADE;			-- fails: takes the policies along
-- other DDL goes on as before
ALTER TABLE public.journal ENABLE TRIGGER tenancy_guard;					-- ok
ALTER TABLE public.journal ALTER COLUMN reference SET STATISTICS 200;		-- ok
-- converting a column's values rewrites every firm's rows, archived ones
-- too (R12), and a USING expression writes anything into them, unaudited
-- (1.3 attack); a change that keeps every value as it is stays allowed
SET ROLE regress_owner;
CREATE TABLE public.conv (administration_id bigint NOT NULL, code varchar(10), amount numeric(12,2));
SELECT tenancy.protect('public.conv');
ALTER TABLE public.conv ALTER COLUMN code TYPE text
	USING CASE WHEN administration_id = :a_x THEN 'rewritten' ELSE code END;	-- fails
ALTER TABLE public.conv ALTER COLUMN amount TYPE numeric(12,0);				-- fails: rounds
ALTER TABLE public.conv ALTER COLUMN amount TYPE integer;					-- fails: converts
ALTER TABLE public.conv ALTER COLUMN code TYPE varchar(5);					-- fails: checks each value
ALTER TABLE public.conv ALTER COLUMN code TYPE varchar(20);					-- ok: the same values
ALTER TABLE public.conv ALTER COLUMN code TYPE text;						-- ok: the same values
ALTER TABLE public.conv ALTER COLUMN amount TYPE numeric(14,2);				-- ok: the same values
ALTER TABLE public.conv ADD COLUMN n integer;
ALTER TABLE public.conv ALTER COLUMN n TYPE oid;							-- fails: the bytes stay, -1 does not
SELECT tenancy.unprotect('public.conv');
DROP TABLE public.conv;
-- ALTER TYPE ... ALTER ATTRIBUTE ... CASCADE converts the typed tables
CREATE TYPE public.conv_line AS (administration_id bigint, amount numeric(12,2));
CREATE TABLE public.conv_typed OF public.conv_line (administration_id WITH OPTIONS NOT NULL);
SELECT tenancy.protect('public.conv_typed');
ALTER TYPE public.conv_line ALTER ATTRIBUTE amount TYPE numeric(12,0) CASCADE;	-- fails: rounds
ALTER TYPE public.conv_line ALTER ATTRIBUTE amount TYPE numeric(14,2) CASCADE;	-- ok: the same values
SELECT tenancy.unprotect('public.conv_typed');
DROP TABLE public.conv_typed;
DROP TYPE public.conv_line;
RESET ROLE;
-- protect() and unprotect() themselves change the walls
SET ROLE regress_owner;
SELECT tenancy.protect('public.journal');									-- ok: again
SELECT tenancy.unprotect('public.journal_archive');						-- fails: a child of protected journal (R24)
SELECT tenancy.protect('public.journal_archive');							-- ok
RESET ROLE;
SELECT count(*) AS policies FROM pg_policy WHERE polrelid = 'public.journal'::regclass;

-- 6. check() still reports what was changed past the event triggers:
-- a restore (session_replication_role = replica) does not fire them
SET session_replication_role = replica;
CREATE VIEW public.journal_plain AS SELECT administration_id, reference FROM public.journal;
GRANT SELECT ON public.journal_plain TO regress_dv_report;
-- (empty: filling it is refused whatever the mode, section 7)
CREATE MATERIALIZED VIEW public.journal_frozen AS SELECT administration_id FROM public.journal WITH NO DATA;
CREATE TABLE public.journal_new () INHERITS (public.journal);
CREATE TABLE public.ledger_later PARTITION OF public.ledger FOR VALUES IN (6);
CREATE TABLE public.doc_line (administration_id bigint NOT NULL, doc_id bigint);
CREATE UNIQUE INDEX doc_id_key ON public.doc (id);
ALTER TABLE public.doc_line ADD FOREIGN KEY (doc_id) REFERENCES public.doc (id);
ALTER TABLE public.doc ADD CONSTRAINT doc_no_overlap EXCLUDE USING btree (secret WITH =);
ALTER TABLE public.doc_note ADD FOREIGN KEY (administration_id, doc_id)
	REFERENCES public.doc (administration_id, id) ON DELETE SET DEFAULT;
CREATE TABLE public.journal_parent (LIKE public.journal);
ALTER TABLE public.journal INHERIT public.journal_parent;
ALTER TABLE public.journal ENABLE REPLICA TRIGGER tenancy_guard;
CREATE POLICY narrow ON public.journal AS RESTRICTIVE USING (amount > 0);
-- a guard replaced by one that never fires; a unique key whose
-- administration column is only carried (INCLUDE); an exclusion
-- constraint that conflicts only with other firms' rows (R23)
CREATE OR REPLACE TRIGGER tenancy_no_truncate BEFORE TRUNCATE ON public.doc
	FOR EACH STATEMENT WHEN (false) EXECUTE FUNCTION tenancy.guard_truncate();
CREATE UNIQUE INDEX doc_secret_key ON public.doc (secret) INCLUDE (administration_id);
CREATE EXTENSION btree_gist;
ALTER TABLE public.doc ADD CONSTRAINT doc_other_firms
	EXCLUDE USING gist (administration_id WITH <>, secret WITH =);
RESET session_replication_role;
ALTER EVENT TRIGGER tenancy_ddl_end DISABLE;
ALTER EVENT TRIGGER tenancy_drop_extension_guard DISABLE;
ALTER EVENT TRIGGER tenancy_ddl_shard_policy DISABLE;
-- the plain view shows the reporting login every firm's rows: why it is refused
SET SESSION AUTHORIZATION regress_dv_report;
SELECT count(DISTINCT administration_id) > 1 AS other_firms_seen FROM public.journal_plain;	-- the leak
RESET SESSION AUTHORIZATION;
-- the reporting login becomes an application role, and can become the
-- table owner
GRANT tenancy_app TO regress_dv_report;
GRANT regress_owner TO regress_dv_report;
SELECT object, problem FROM tenancy.check() WHERE severity = 'error'
 ORDER BY object COLLATE "C", problem COLLATE "C";
-- the keys' errors carry the composite key to use
SELECT object, hint FROM tenancy.check()
 WHERE severity = 'error' AND problem LIKE '%administration column'
 ORDER BY object COLLATE "C";
-- an application role holding TRIGGER is warned of, as TRUNCATE and REFERENCES
SELECT object, problem FROM tenancy.check() WHERE problem LIKE '%regress_app holds TRIGGER';
REVOKE TRIGGER ON public.journal FROM regress_app;
ALTER EVENT TRIGGER tenancy_ddl_end ENABLE;
ALTER EVENT TRIGGER tenancy_drop_extension_guard ENABLE;
ALTER EVENT TRIGGER tenancy_ddl_shard_policy ENABLE;

-- 7. R24: what already reads a table when it becomes protected is asked
-- about then.  A superuser's view, materialized view or rule made before
-- protect(), or over a child before it joins a protected parent, was
-- checked against nothing and would serve every firm's rows from then on
-- (1.3's last attack); a view that runs with its caller's rights is fine.
-- A materialized view over a protected table made past the event triggers
-- (section 6) is not refreshed.
REFRESH MATERIALIZED VIEW public.journal_frozen;						-- fails
-- nor through a function, which no dependency follows: while a
-- materialized view is filled, every statement that reads a protected
-- table is refused (1.3's last attack stored every firm's rows through a
-- BEGIN ATOMIC body and a string body alike)
CREATE FUNCTION public.journal_rows_atomic() RETURNS TABLE (administration_id bigint, reference text)
	LANGUAGE sql STABLE BEGIN ATOMIC SELECT j.administration_id, j.reference FROM public.journal j; END;
CREATE FUNCTION public.journal_rows() RETURNS TABLE (administration_id bigint, reference text)
	LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN QUERY SELECT j.administration_id, j.reference FROM public.journal j; END $$;
CREATE MATERIALIZED VIEW public.by_function AS SELECT * FROM public.journal_rows_atomic();	-- fails
CREATE MATERIALIZED VIEW public.by_function AS SELECT * FROM public.journal_rows() WITH NO DATA;
REFRESH MATERIALIZED VIEW public.by_function;							-- fails
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
CREATE MATERIALIZED VIEW public.by_function2 AS SELECT * FROM public.journal_rows();	-- fails
SELECT count(*) AS rows_stored FROM public.by_function;					-- fails: never filled
-- ... nor in a parallel worker, where a PARALLEL SAFE function's statements
-- would run outside the fill: a fill runs without workers
CREATE FUNCTION public.journal_count() RETURNS bigint LANGUAGE plpgsql STABLE PARALLEL SAFE
	AS $$ BEGIN RETURN (SELECT count(*) FROM public.journal); END $$;
SET force_parallel_mode = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
CREATE MATERIALIZED VIEW public.by_worker AS SELECT public.journal_count() AS n;	-- fails
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
-- ... whatever a function's own settings say (the fill plans nothing for
-- workers; review of 1.3: max_parallel_workers, which the fill set to 0,
-- was set back by any function's SET clause)
CREATE FUNCTION public.journal_counts() RETURNS SETOF bigint LANGUAGE plpgsql
	SET max_parallel_workers = 8 SET force_parallel_mode = on
	SET parallel_setup_cost = 0 SET parallel_tuple_cost = 0
	AS $$ BEGIN RETURN QUERY SELECT public.journal_count(); END $$;
CREATE MATERIALIZED VIEW public.by_worker AS SELECT * FROM public.journal_counts() n;	-- fails
DROP FUNCTION public.journal_counts(), public.journal_count();
-- a plan made for workers before the fill (a function's cached generic
-- plan) runs in the backend alone inside it, and fills as before (review
-- of 1.3: refusing it broke a harmless refresh)
CREATE FUNCTION public.class_count() RETURNS SETOF bigint LANGUAGE plpgsql STABLE
	AS $$ BEGIN RETURN QUERY SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'pg_class'; END $$;
CREATE MATERIALIZED VIEW public.class_frozen AS SELECT * FROM public.class_count() n WITH NO DATA;
SET force_parallel_mode = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SELECT * FROM public.class_count();										-- ok: 1, planned for workers
REFRESH MATERIALIZED VIEW public.class_frozen;
SELECT * FROM public.class_frozen;										-- ok: 1
-- ... and so one whose workers would read a protected table is refused
CREATE FUNCTION public.journal_count() RETURNS bigint LANGUAGE plpgsql STABLE PARALLEL SAFE
	AS $$ BEGIN RETURN (SELECT count(*) FROM public.journal); END $$;
CREATE FUNCTION public.journal_counts() RETURNS SETOF bigint LANGUAGE plpgsql STABLE
	AS $$ BEGIN RETURN QUERY SELECT public.journal_count(); END $$;
CREATE MATERIALIZED VIEW public.by_worker AS SELECT * FROM public.journal_counts() n WITH NO DATA;
SELECT count(*) AS calls FROM public.journal_counts();					-- ok: 1, its plan cached for workers
REFRESH MATERIALIZED VIEW public.by_worker;								-- fails
DROP MATERIALIZED VIEW public.by_worker;
DROP FUNCTION public.journal_counts(), public.journal_count();
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
DROP MATERIALIZED VIEW public.class_frozen;
DROP FUNCTION public.class_count();
-- a materialized view over unprotected rows is filled and refreshed as ever
CREATE MATERIALIZED VIEW public.plain_frozen AS SELECT count(*) AS n FROM pg_catalog.pg_class;
REFRESH MATERIALIZED VIEW public.plain_frozen;
SELECT n > 0 AS filled FROM public.plain_frozen;						-- ok: t
DROP MATERIALIZED VIEW public.by_function, public.plain_frozen;
DROP FUNCTION public.journal_rows_atomic(), public.journal_rows();
CREATE TABLE public.later (administration_id bigint NOT NULL, reference text);
ALTER TABLE public.later OWNER TO regress_owner;
CREATE VIEW public.later_inv WITH (security_invoker) AS SELECT * FROM public.later;
CREATE VIEW public.later_all AS SELECT * FROM public.later;
SET ROLE regress_owner;
SELECT tenancy.protect('public.later');									-- fails: the superuser's view
RESET ROLE;
DROP VIEW public.later_all;
CREATE MATERIALIZED VIEW public.later_frozen AS SELECT * FROM public.later;
SET ROLE regress_owner;
SELECT tenancy.protect('public.later');									-- fails: the materialized view
RESET ROLE;
DROP MATERIALIZED VIEW public.later_frozen;
CREATE TABLE public.later_sink (LIKE public.later);
CREATE TABLE public.later_trap (x int);
CREATE RULE later_copy AS ON INSERT TO public.later_trap
	DO ALSO INSERT INTO public.later_sink SELECT * FROM public.later;
SET ROLE regress_owner;
SELECT tenancy.protect('public.later');									-- fails: the rule
RESET ROLE;
DROP RULE later_copy ON public.later_trap;
SET ROLE regress_owner;
SELECT tenancy.protect('public.later') \gset
RESET ROLE;
SELECT count(*) AS protected FROM tenancy.protected_table WHERE relid = 'public.later'::regclass;	-- ok: 1
-- a security_invoker view runs only its SELECT rule with its caller's
-- rights; its INSERT, UPDATE and DELETE rules run with its owner's, so a
-- superuser's one is refused like any rule (1.3's last attack: INSERT INTO
-- such a view returned every firm's rows, and a DO INSTEAD UPDATE through
-- it changed them)
CREATE VIEW public.door WITH (security_invoker) AS SELECT 1 AS x;
CREATE RULE door_ins AS ON INSERT TO public.door
	DO INSTEAD SELECT administration_id, reference FROM public.later;	-- fails
DROP VIEW public.door;
-- a child with a superuser's view over it, joining the protected table
CREATE TABLE public.later_kid (administration_id bigint NOT NULL, reference text);
ALTER TABLE public.later_kid OWNER TO regress_owner;
CREATE VIEW public.later_kid_all AS SELECT * FROM public.later_kid;
SET ROLE regress_owner;
ALTER TABLE public.later_kid INHERIT public.later;						-- fails: the child's view
RESET ROLE;
DROP VIEW public.later_kid_all;
-- ... and one with such a rule made before
CREATE VIEW public.door WITH (security_invoker) AS SELECT 1 AS x;
CREATE RULE door_ins AS ON INSERT TO public.door
	DO INSTEAD SELECT administration_id, reference FROM public.later_kid;
SET ROLE regress_owner;
ALTER TABLE public.later_kid INHERIT public.later;						-- fails: the rule
RESET ROLE;
DROP VIEW public.door;
SET ROLE regress_owner;
ALTER TABLE public.later_kid INHERIT public.later;						-- ok
RESET ROLE;
SELECT relid::regclass AS protected_child FROM tenancy.protected_table
 WHERE relid = 'public.later_kid'::regclass;							-- ok: later_kid
-- a fill reads no protected rows from a cursor opened before it either
CREATE FUNCTION public.from_cursor(c refcursor)
	RETURNS TABLE (administration_id bigint, reference text) LANGUAGE plpgsql AS $$
BEGIN
	LOOP
		FETCH c INTO administration_id, reference;
		EXIT WHEN NOT FOUND;
		RETURN NEXT;
	END LOOP;
END
$$;
BEGIN;
DECLARE c CURSOR FOR SELECT administration_id, reference FROM public.later;
CREATE MATERIALIZED VIEW public.by_cursor AS SELECT * FROM public.from_cursor('c');	-- fails
ROLLBACK;
DROP FUNCTION public.from_cursor(refcursor);
-- nor in a session's first statement, before the library was loaded: the
-- event trigger that loads it marks the fill (a cron job's REFRESH)
CREATE FUNCTION public.later_rows() RETURNS TABLE (administration_id bigint, reference text)
	LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN QUERY SELECT l.administration_id, l.reference FROM public.later l; END $$;
CREATE MATERIALIZED VIEW public.by_cron AS SELECT * FROM public.later_rows() WITH NO DATA;
-- ... and a command run inside that fill does not end it (review of 1.3:
-- the CREATE TABLE's ddl_end ended the first statement's fill)
CREATE FUNCTION public.later_rows_after_ddl() RETURNS TABLE (administration_id bigint, reference text)
	LANGUAGE plpgsql AS $$
BEGIN
	CREATE TABLE public.later_scratch ();
	DROP TABLE public.later_scratch;
	RETURN QUERY SELECT l.administration_id, l.reference FROM public.later l;
END
$$;
CREATE MATERIALIZED VIEW public.by_cron2 AS SELECT * FROM public.later_rows_after_ddl() WITH NO DATA;
\c
REFRESH MATERIALIZED VIEW public.by_cron;								-- fails
\c
REFRESH MATERIALIZED VIEW by_cron2;										-- fails, named as written
SELECT count(*) AS later_rows FROM public.later;						-- ok: 0, read as ever
DROP MATERIALIZED VIEW public.by_cron, public.by_cron2;
DROP FUNCTION public.later_rows(), public.later_rows_after_ddl();

-- cleanup
SET client_min_messages = warning;
REVOKE tenancy_app, regress_owner FROM regress_dv_report;
SELECT tenancy.unbind_reporting_login('regress_dv_report') \gset
DROP MATERIALIZED VIEW public.journal_frozen, public.nothing_frozen;
DROP VIEW public.journal_plain, public.journal_top, public.journal_inv2, public.journal_owner,
	public.journal_inv, public.journal_secured;
-- (its walls are still off: DDL on it is refused until they are restored,
-- or, as here, done the way a restore does)
SET session_replication_role = replica;
ALTER TABLE public.journal NO INHERIT public.journal_parent;
ALTER TABLE public.journal DROP CONSTRAINT journal_doc_fkey;
RESET session_replication_role;
DROP VIEW public.later_inv;
DROP TABLE public.later_kid, public.later, public.later_sink, public.later_trap;
DROP TABLE public.plain_books, public.typed_books;
DROP TYPE public.book_row;
DROP TABLE public.inbox, public.ledger, public.doc_line, public.folder_item, public.folder,
	public.journal_old, public.journal_archive, public.journal_new, public.journal_parent,
	public.journal_all, public.note_all, public.memo, public.memo_all, public.memo_qc, public.memo_q, public.memo_c, public.memo_p,
	public.pair_c, public.pair_p,
	public.doc_note;
DROP TABLE public.doc;
DROP EXTENSION btree_gist;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal, public.currency;
DROP SERVER regress_dv_server;
DROP FOREIGN DATA WRAPPER regress_dv_fdw;
REVOKE CREATE ON SCHEMA public FROM regress_dv_bypass, regress_dv_outsider;
DROP ROLE regress_dv_report, regress_dv_bypass, regress_dv_sneaky, regress_dv_outsider;
