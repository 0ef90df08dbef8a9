--
-- operator: R23 -- explain_access gives the chain of reasons; check()
-- finds every planted hole
--
\i test/fixture.sql

-- 1. explain_access
SELECT tenancy.explain_access(:u_piet, :a_ops1);			-- external, own client, rights
SELECT tenancy.explain_access(:u_piet, :a_jansen);			-- external, other client
SELECT tenancy.explain_access(:u_other, :a_hold);			-- other compartment, no delegation
SELECT tenancy.delegate(:a_hold, :u_other, '{read}', now() + interval '1 month') AS d \gset
SELECT regexp_replace(r, ' until .*$', ' until (its end date)') AS explain_access
  FROM tenancy.explain_access(:u_other, :a_hold) r;		-- delegated
UPDATE tenancy.administration SET state = 'archived' WHERE id = :a_hold;
SELECT tenancy.disable_user(:u_staff);
SELECT tenancy.explain_access(:u_staff, :a_hold);			-- disabled, archived
SELECT tenancy.explain_access(999999, :a_hold);				-- fails: unknown user
SET ROLE regress_app;
SELECT tenancy.act_as(:u_admin);
SELECT tenancy.explain_access(:u_jan, :a_jansen);			-- ok: admin of the compartment
SELECT tenancy.explain_access(:u_other, :a_x);				-- fails: other compartment
SELECT tenancy.explain_access(:u_other_admin, :a_hold);		-- fails: no delegation links them
SELECT count(*) FROM tenancy.explain_access(:u_other, :a_hold);	-- ok: the delegation links them
SELECT tenancy.reset();
RESET ROLE;
SET ROLE regress_plain;
SELECT tenancy.explain_access(:u_jan, :a_jansen);			-- fails: no privilege
RESET ROLE;

-- 2. check() on a clean database finds nothing
SELECT * FROM tenancy.check();

-- 3. plant every hole, then check() finds each (past the event triggers,
-- which do not fire in replica mode; sql/derived.sql shows them refusing)
SET client_min_messages = warning;
SET session_replication_role = replica;
-- an application table with an administration column, not protected
CREATE TABLE public.bank_link (administration_id bigint, iban text);
-- a protected partitioned table with a partition added later
SET ROLE regress_owner;
CREATE TABLE public.ledger (administration_id bigint NOT NULL, amount numeric)
	PARTITION BY LIST (administration_id);
CREATE TABLE public.ledger_a PARTITION OF public.ledger FOR VALUES IN (1);
SELECT tenancy.protect('public.ledger') \gset
CREATE TABLE public.ledger_b PARTITION OF public.ledger FOR VALUES IN (2);
-- row security switched off, policy altered, trigger disabled, extra policy
CREATE TABLE public.notes (id bigint PRIMARY KEY, administration_id bigint NOT NULL, body text);
SELECT tenancy.protect('public.notes') \gset
ALTER TABLE public.notes NO FORCE ROW LEVEL SECURITY;
DROP POLICY tenancy_delete ON public.notes;
ALTER POLICY tenancy_read ON public.journal USING (true);
ALTER TABLE public.journal DISABLE TRIGGER tenancy_guard;
CREATE POLICY wide ON public.journal FOR SELECT USING (true);
-- a plain view and a materialized view over a protected table
CREATE VIEW public.journal_plain AS SELECT * FROM public.journal;
CREATE MATERIALIZED VIEW public.journal_frozen AS SELECT * FROM public.journal WITH NO DATA;
-- TRUNCATE and REFERENCES for the application role
GRANT TRUNCATE, REFERENCES ON public.journal TO regress_app;
RESET ROLE;
-- an application role that owns a protected table, a BYPASSRLS application role
CREATE ROLE regress_app_owner LOGIN IN ROLE tenancy_app, tenancy_admin;
CREATE ROLE regress_app_bypass LOGIN BYPASSRLS IN ROLE tenancy_app;
CREATE TABLE public.owned (administration_id bigint NOT NULL);
ALTER TABLE public.owned OWNER TO regress_app_owner;
SET ROLE regress_app_owner;
SELECT tenancy.protect('public.owned') \gset
ALTER TABLE public.owned DISABLE ROW LEVEL SECURITY;
RESET ROLE;
-- a superuser acting as an application server
CREATE ROLE regress_app_super LOGIN SUPERUSER IN ROLE tenancy_app;
-- a disabled catalog trigger
ALTER TABLE tenancy.permission DISABLE TRIGGER permission_derive;
-- R6: a permission of the other firm's user on an administration of this
-- one, naming the user's compartment (the foreign keys refuse it when on;
-- the rights cache takes a permission's compartment for its
-- administration's)
INSERT INTO tenancy.permission (user_id, administration_id, compartment_id, can_read)
VALUES (:u_other, :a_jansen, :c_other, true);
RESET session_replication_role;
RESET client_min_messages;
SELECT * FROM tenancy.check();
SET ROLE regress_plain;
SELECT * FROM tenancy.check();								-- fails: operators only
RESET ROLE;

-- 4. R6, R23: every index of a protected table not led by the
-- administration column is a warning (PostgreSQL's scans of it count every
-- firm's entries, sql/attacks.sql section 11), with a hint that fits its
-- access method, its key columns and its predicate; an index led by the
-- column is not named, and a partitioned index is named once
SET ROLE regress_owner;
CREATE TABLE public.idx_probe (administration_id bigint NOT NULL, id bigint NOT NULL,
	reference text, amount numeric, tags text[]);
SELECT tenancy.protect('public.idx_probe') \gset
CREATE INDEX idx_probe_led ON public.idx_probe (administration_id, lower(reference));
CREATE INDEX idx_probe_expr ON public.idx_probe (lower(reference));
CREATE INDEX idx_probe_include ON public.idx_probe (amount) INCLUDE (administration_id);
CREATE INDEX idx_probe_partial ON public.idx_probe (reference, administration_id) WHERE amount > 0;
CREATE INDEX idx_probe_hash ON public.idx_probe USING hash (reference);
CREATE INDEX idx_probe_gin ON public.idx_probe USING gin (tags);
-- led by the administration column, but tenancy bounds only btree scans
-- by the identity's administrations (1.3 attack: a GIN, GiST or BRIN index
-- led by it counted every firm's entries)
CREATE INDEX idx_probe_brin_led ON public.idx_probe USING brin (administration_id, amount);
CREATE UNIQUE INDEX idx_probe_unique ON public.idx_probe (id, administration_id);
CREATE TABLE public.part_probe (administration_id bigint NOT NULL, reference text)
	PARTITION BY LIST (administration_id);
CREATE TABLE public.part_probe_a PARTITION OF public.part_probe FOR VALUES IN (1);
SELECT tenancy.protect('public.part_probe') \gset
CREATE TABLE public.part_probe_b PARTITION OF public.part_probe FOR VALUES IN (2);
CREATE INDEX part_probe_ref ON public.part_probe (reference);
RESET ROLE;
SELECT object, hint FROM tenancy.check()
 WHERE severity = 'warning' AND object LIKE '%probe%' ORDER BY object;	-- ok: all but idx_probe_led, part_probe_ref once

-- 5. R23, R14, R24: logins that step out of row security through a group
-- role, REPLICATION or the server's file and program roles, an
-- application role that can become a table's owner, a publication of a
-- protected table, SECURITY DEFINER functions of roles that bypass row
-- security (1.3 attack: check() saw none of them)
SET client_min_messages = warning;
CREATE ROLE regress_app_group NOLOGIN IN ROLE tenancy_app;
CREATE ROLE regress_app_grouped LOGIN BYPASSRLS IN ROLE regress_app_group;
CREATE ROLE regress_app_repl LOGIN REPLICATION IN ROLE regress_app_group;
CREATE ROLE regress_app_program LOGIN IN ROLE regress_app_group, pg_execute_server_program;
CREATE ROLE regress_app_becomes LOGIN IN ROLE tenancy_app, regress_owner;
SET client_min_messages = error;		-- not the warning of wal_level = replica
CREATE PUBLICATION regress_pub FOR TABLE public.journal;
SET client_min_messages = warning;
-- a key into an unprotected table whose rows the application may delete
SET ROLE regress_owner;
CREATE TABLE public.counterparty (iban text PRIMARY KEY);
GRANT SELECT, DELETE ON public.counterparty TO regress_app;
CREATE TABLE public.lookup_only (code text PRIMARY KEY);
GRANT SELECT ON public.lookup_only TO regress_app;
-- UPDATE of one column is enough to lock a row (SELECT ... FOR UPDATE)
CREATE TABLE public.counterparty_note (iban text PRIMARY KEY, note text);
GRANT SELECT, UPDATE (note) ON public.counterparty_note TO regress_app;
CREATE TABLE public.payment (administration_id bigint NOT NULL,
	iban text REFERENCES public.counterparty, code text REFERENCES public.lookup_only,
	noted text REFERENCES public.counterparty_note);
SELECT tenancy.protect('public.payment') \gset
GRANT TRIGGER ON public.payment TO PUBLIC;		-- reported once, as PUBLIC
RESET ROLE;
CREATE FUNCTION public.journal_rows() RETURNS SETOF public.journal
	LANGUAGE sql STABLE SECURITY DEFINER BEGIN ATOMIC SELECT * FROM public.journal; END;
CREATE FUNCTION public.opaque_rows() RETURNS SETOF record
	LANGUAGE plpgsql STABLE SECURITY DEFINER AS 'BEGIN RETURN QUERY EXECUTE ''SELECT 1''; END';
CREATE FUNCTION public.private_rows() RETURNS bigint
	LANGUAGE sql STABLE SECURITY DEFINER AS 'SELECT count(*) FROM public.journal';
REVOKE ALL ON FUNCTION public.private_rows() FROM PUBLIC;
RESET client_min_messages;
SELECT severity, object, problem FROM tenancy.check()
 WHERE object ~ '^(regress_app_(group|grouped|repl|program|becomes)|regress_pub|public\.(journal|opaque|private)_rows)'
 ORDER BY 2, 3;		-- ok: the four logins, the publication, journal_rows and opaque_rows; not private_rows
SET client_min_messages = warning;
DROP PUBLICATION regress_pub;
DROP FUNCTION public.journal_rows(), public.opaque_rows(), public.private_rows();
DROP ROLE regress_app_grouped, regress_app_repl, regress_app_program, regress_app_becomes,
	regress_app_group;
RESET client_min_messages;
SELECT severity, object, problem FROM tenancy.check()
 WHERE object = 'public.payment' ORDER BY problem;	-- ok: the keys into counterparty and counterparty_note, not the one into lookup_only; TRIGGER of PUBLIC
SET client_min_messages = warning;
DROP TABLE public.payment, public.counterparty, public.lookup_only, public.counterparty_note;
RESET client_min_messages;

-- cleanup
SET client_min_messages = warning;
ALTER TABLE tenancy.permission ENABLE TRIGGER permission_derive;
DROP MATERIALIZED VIEW public.journal_frozen;
DROP VIEW public.journal_plain;
DROP TABLE public.bank_link, public.ledger, public.notes, public.owned, public.idx_probe, public.part_probe;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal;
DROP ROLE regress_app_owner, regress_app_bypass, regress_app_super;
