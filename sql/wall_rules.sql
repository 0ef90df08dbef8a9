--
-- wall_rules: R24, R7 -- the walls of a protected table are tenancy's
-- alone, also where a table brings something of its own.  A rule on a
-- protected table is refused, whoever owns it, and check() (R23) reports
-- one that got there anyway: a rule's actions see every row that any firm
-- writes (NEW, OLD) and run with the owner's rights, so a table owner could
-- copy each firm's new rows into a table of its own, or do something else
-- instead of the write.  A table with a policy of its own is not protected,
-- so it cannot be attached as a partition or child of a protected table:
-- its permissive policy would open, inside the wall, administrations the
-- identity holds no right on.  Found by the 1.3 review; rules on other
-- tables that read protected ones are in sql/derived.sql.
--
\i test/fixture.sql

-- setup: a table the owner reads and everyone may insert into
SET ROLE regress_owner;
CREATE TABLE public.owner_loot (reference text);
GRANT INSERT ON public.owner_loot TO PUBLIC;
RESET ROLE;

-- 1. the table owner tries to tap the rows every firm writes
SET ROLE regress_owner;
CREATE RULE tap AS ON INSERT TO public.journal
	DO ALSO INSERT INTO public.owner_loot VALUES (NEW.reference);	-- fails: a rule on a protected table
CREATE RULE tap_old AS ON UPDATE TO public.journal
	DO ALSO INSERT INTO public.owner_loot VALUES (OLD.reference);	-- fails: likewise
CREATE RULE divert AS ON DELETE TO public.journal DO INSTEAD NOTHING;	-- fails: replaces the write
RESET ROLE;
CREATE RULE tap AS ON INSERT TO public.journal
	DO ALSO INSERT INTO public.owner_loot VALUES (NEW.reference);	-- fails: superusers too

-- 2. nothing was tapped: jan writes, the owner finds nothing
SET ROLE regress_app;
SELECT tenancy.act_as(:u_jan);
INSERT INTO journal (administration_id, booked_on, amount, reference)
	VALUES (:a_jansen, '2026-02-01', 1, 'JAN-PRIVATE');				-- ok: jan's own
SELECT tenancy.reset();
RESET ROLE;
SET ROLE regress_owner;
SELECT count(*) FROM public.owner_loot;								-- ok: 0
RESET ROLE;

-- 3. a rule made with the event triggers off is an error in check()
ALTER EVENT TRIGGER tenancy_ddl_end DISABLE;
CREATE RULE tap AS ON INSERT TO public.journal
	DO ALSO INSERT INTO public.owner_loot VALUES (NEW.reference);	-- ok: nothing watches
ALTER EVENT TRIGGER tenancy_ddl_end ENABLE;
SELECT severity, object, problem, hint FROM tenancy.check()
 WHERE problem LIKE 'rule %' ORDER BY 1, 2, 3;
ALTER TABLE public.journal ALTER COLUMN reference SET DEFAULT '';	-- fails: the rule is still there
DROP RULE tap ON public.journal;
ALTER TABLE public.journal ALTER COLUMN reference SET DEFAULT '';	-- ok: sound again
SELECT count(*) FROM tenancy.check() WHERE problem LIKE 'rule %';	-- ok: 0

-- 4. a rule on an unprotected table stays allowed (sql/derived.sql tests
-- those that read protected tables)
SET ROLE regress_owner;
CREATE RULE count_taps AS ON INSERT TO public.owner_loot DO ALSO NOTIFY owner_loot;	-- ok
RESET ROLE;

-- 5. R7: a table that brings a permissive policy of its own is neither
-- protected nor attached under a protected table
SET ROLE regress_owner;
CREATE TABLE public.ledger (administration_id bigint NOT NULL, reference text)
	PARTITION BY LIST (administration_id);
SELECT tenancy.protect('public.ledger');							-- ok
CREATE TABLE public.ledger_open (administration_id bigint NOT NULL, reference text);
ALTER TABLE public.ledger_open ENABLE ROW LEVEL SECURITY;
CREATE POLICY open_all ON public.ledger_open USING (true) WITH CHECK (true);
ALTER TABLE public.ledger ATTACH PARTITION public.ledger_open
	FOR VALUES IN (:a_hold, :a_jansen);								-- fails: its own policy
SELECT tenancy.protect('public.ledger_open');						-- fails: likewise
CREATE TABLE public.journal_child (LIKE public.journal);
ALTER TABLE public.journal_child ENABLE ROW LEVEL SECURITY;
CREATE POLICY open_all ON public.journal_child USING (true);
ALTER TABLE public.journal_child INHERIT public.journal;			-- fails: likewise, as a child
DROP POLICY open_all ON public.ledger_open;
ALTER TABLE public.ledger ATTACH PARTITION public.ledger_open
	FOR VALUES IN (:a_hold, :a_jansen);								-- ok: protected now
GRANT SELECT, INSERT, UPDATE, DELETE ON public.ledger, public.ledger_open TO regress_app;
RESET ROLE;
INSERT INTO public.ledger VALUES (:a_hold, 'HOLD-1'), (:a_jansen, 'JANSEN-1');
SET ROLE regress_app;
SELECT tenancy.act_as(:u_staff);
SELECT reference FROM public.ledger_open ORDER BY 1;				-- ok: HOLD-1 only, no right on jansen
DELETE FROM public.ledger_open WHERE reference = 'JANSEN-1';		-- ok: DELETE 0
SELECT tenancy.reset();
RESET ROLE;
SELECT count(*) FROM public.ledger;									-- ok: 2, nothing deleted

-- cleanup
SET client_min_messages = warning;
DROP EXTENSION tenancy CASCADE;
DROP TABLE public.journal, public.owner_loot, public.ledger, public.journal_child;
