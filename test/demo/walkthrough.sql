-- test/demo/walkthrough.sql -- what each kind of user sees
--
-- Fed to psql on standard input by test/demo.sh, connected as demo_app (an
-- application server: member of tenancy_app), with ON_ERROR_STOP off so
-- that the refusals are shown and the walk goes on.  test/demo.sh passes:
--   u_<login>     tenancy user id of each login in public.app_user
--   a_<code>      administration ids (code lower case, '-' as '_')
--   c_<code>      client ids, k_<code> compartment ids
--   total_rows    rows in public.journal_line
--   demo_dir      this folder (for \i scope.sql)
-- Every statement the application sends is echoed (ECHO queries);
-- scope.sql, the "what do I see" part, is not.

\pset footer off
\pset border 1
\pset null '-'
\set VERBOSITY verbose
\set SHOW_CONTEXT never
\set ECHO queries

\echo
\echo '################################################################################'
\echo '# 0. A fresh connection of the application server: no identity yet'
\echo '#    demo_app may act as users, but until it does it sees and writes nothing (R2)'
\echo '################################################################################'
SELECT tenancy.current_user_id() AS user_id, tenancy.current_compartment_id() AS compartment_id;
\i :demo_dir/scope.sql
\echo '--> refused: writing without an identity'
INSERT INTO journal_line (administration_id, account, amount, description)
VALUES (:a_dvb, '1100 Bank', 1.00, 'zonder identiteit');

\echo
\echo '################################################################################'
\echo '# 1. Pieter Bakker <p.bakker@bakkerjansen.nl>, partner, in compartment bj-klanten'
\echo '#    internal user and administrator of the client compartment;'
\echo '#    read/write/manage on every client administration'
\echo '################################################################################'
SELECT tenancy.act_as(:u_pbakker_klanten);
\i :demo_dir/scope.sql
\echo '--> allowed: as compartment administrator he gives Sanne read access to Kapsalon Meijer'
SELECT tenancy.grant_rights(:u_sanne, :a_meijer, ARRAY['read']);
\echo '--> refused (R8): giving Jan de Vries (external, client de Vries) rights on Bakkerij Smit'
SELECT tenancy.grant_rights(:u_jan, :a_smit, ARRAY['read']);
\echo '--> refused (R11): moving a journal line of de Vries Bouw to Bakkerij Smit (another client),'
\echo '    although he holds write on both'
UPDATE journal_line SET administration_id = :a_smit
 WHERE administration_id = :a_dvb
   AND id = (SELECT min(id) FROM journal_line WHERE administration_id = :a_dvb)
RETURNING id, administration_id;
\echo '--> the audit log shows him his compartment''s entries only (R22):'
SELECT count(*) AS audit_entries_he_sees, count(DISTINCT compartment_id) AS compartments
  FROM tenancy.audit_log;

\echo
\echo '################################################################################'
\echo '# 2. Pieter Bakker again, now as his user in compartment bj-kantoor'
\echo '#    same account, other compartment: the own and partner administrations.'
\echo '#    The firm''s two compartments are walled off from each other (R6)'
\echo '################################################################################'
SELECT tenancy.act_as(:u_pbakker_kantoor);
\i :demo_dir/scope.sql
\echo '--> nothing of the client compartment is visible here, not even to its administrator:'
SELECT count(*) AS de_vries_rows, tenancy.can(:a_dvh) AS can_read_dvh
  FROM journal_line WHERE administration_id IN (:a_dvh, :a_dvb, :a_dvi);
\echo '--> refused (R10): inviting Jan de Vries as an external user; bj-kantoor allows none'
SELECT tenancy.add_user(:k_bj_kantoor, 'jan@devriesholding.nl', 'external', :c_eigen);

\echo
\echo '################################################################################'
\echo '# 3. Sanne El Amrani <s.elamrani@bakkerjansen.nl>, assistant in bj-klanten'
\echo '#    internal user; read/write on de Vries Bouw and de Vries Installatietechniek,'
\echo '#    read on de Vries Holding, and (since step 1) read on Kapsalon Meijer'
\echo '################################################################################'
SELECT tenancy.act_as(:u_sanne);
\i :demo_dir/scope.sql
\echo '--> allowed: she books a line in de Vries Bouw (write)'
INSERT INTO journal_line (administration_id, booked_on, account, amount, description)
VALUES (:a_dvb, '2024-03-04', '4100 Autokosten', 89.95, 'Parkeren Utrecht, bon 2231')
RETURNING id, administration_id, account, amount;
\echo '--> changing the lines of de Vries Holding, which she may only read: row security'
\echo '    leaves her no row to update (R7)'
WITH changed AS (
	UPDATE journal_line SET amount = amount + 100 WHERE administration_id = :a_dvh RETURNING 1
)
SELECT count(*) AS rows_updated FROM changed;
\echo '--> refused (R7, R11): moving her parking receipt from de Vries Bouw into de Vries Holding,'
\echo '    where she may only read'
UPDATE journal_line SET administration_id = :a_dvh
 WHERE administration_id = :a_dvb AND description = 'Parkeren Utrecht, bon 2231'
RETURNING id, administration_id;
\echo '--> refused (R13): giving herself rights on Bakkerij Smit (she is no administrator)'
SELECT tenancy.grant_rights(:u_sanne, :a_smit, ARRAY['read', 'write']);

\echo
\echo '################################################################################'
\echo '# 4. Tom Dekker <t.dekker@bakkerjansen.nl>, former assistant (disabled)'
\echo '################################################################################'
SELECT tenancy.reset();
\echo '--> refused: the application server cannot act as a disabled user'
SELECT tenancy.act_as(:u_tom);
\i :demo_dir/scope.sql

\echo
\echo '################################################################################'
\echo '# 5. Jan de Vries <jan@devriesholding.nl>, owner of de Vries Holding'
\echo '#    external user of client "de Vries Holding" in bj-klanten;'
\echo '#    read + submit on his holding and its two operating companies'
\echo '################################################################################'
SELECT tenancy.act_as(:u_jan);
\i :demo_dir/scope.sql
\echo '--> his clients (tenancy.my_clients):'
SELECT code, name, compartment_code AS compartment FROM tenancy.my_clients ORDER BY code;
\echo '--> refused: booking into Bakkerij Smit, an administration of another client'
INSERT INTO journal_line (administration_id, booked_on, account, amount, description)
VALUES (:a_smit, '2024-03-01', '8000 Omzet', 100.00, 'poging');
\echo '--> refused (R7): booking into his own holding; he may submit documents, not write'
INSERT INTO journal_line (administration_id, booked_on, account, amount, description)
VALUES (:a_dvh, '2024-03-01', '1100 Bank', 100.00, 'zelf geboekt');

\echo
\echo '################################################################################'
\echo '# 6. Els Smit <els@bakkerijsmit.nl>, Bakkerij Smit (books herself)'
\echo '#    external user of client "Bakkerij Smit"; read/write/submit on her bakery'
\echo '################################################################################'
SELECT tenancy.act_as(:u_els);
\i :demo_dir/scope.sql
\echo '--> she deletes "all" journal lines of de Vries: row security leaves her nothing to delete'
WITH gone AS (
	DELETE FROM journal_line WHERE administration_id IN (:a_dvh, :a_dvb, :a_dvi) RETURNING 1
)
SELECT count(*) AS rows_deleted FROM gone;

\echo
\echo '################################################################################'
\echo '# 7. Rob Visser <r.visser@visseradministratie.nl>, another firm'
\echo '#    administrator of compartment visser (subscription Visser Administratiekantoor)'
\echo '################################################################################'
SELECT tenancy.act_as(:u_rob);
\i :demo_dir/scope.sql
\echo '--> nothing of Bakker & Jansen exists for him (R6):'
SELECT count(*) AS bakker_jansen_rows,
	   tenancy.can(:a_dvh) AS can_read_dvh, tenancy.can(:a_bj_acc) AS can_read_bj_acc
  FROM journal_line
 WHERE administration_id NOT IN (:a_ht, :a_ht_vg);
\echo '--> refused (R6): writing into de Vries Holding'
INSERT INTO journal_line (administration_id, booked_on, account, amount, description)
VALUES (:a_dvh, '2024-03-01', '1100 Bank', 1.00, 'over de muur');
\echo '--> refused (R13): as an administrator, granting himself read on de Vries Holding'
SELECT tenancy.grant_rights(:u_rob, :a_dvh, ARRAY['read']);

\echo
\echo '################################################################################'
\echo '# 8. Forging an identity from SQL (R3)'
\echo '#    the application acts as Jan de Vries; an injected statement tries to become'
\echo '#    someone else without tenancy.act_as'
\echo '################################################################################'
SELECT tenancy.act_as(:u_jan);
\echo '--> refused: SET of the setting that carries the identity'
SET tenancy.identity = '1';
\echo '--> refused: the same with set_config()'
SELECT set_config('tenancy.identity', '1', false);
\echo '--> RESET ALL does not touch it either: still Jan, still his 3 administrations'
RESET ALL;
SELECT tenancy.current_user_id() AS user_id, count(*) AS visible_rows FROM journal_line;

\echo
\echo '################################################################################'
\echo '# 9. A locked identity (R5): the application server locks it with a key'
\echo '################################################################################'
SELECT tenancy.act_as(:u_jan, 'req-4711-k3y');
\echo '--> refused: switching to the partner without the key'
SELECT tenancy.act_as(:u_pbakker_klanten);
\echo '--> refused: dropping the identity without the key'
SELECT tenancy.reset();
SELECT tenancy.current_user_id() AS user_id;
\echo '--> with the key, the application server ends the request'
SELECT tenancy.reset('req-4711-k3y');
SELECT tenancy.current_user_id() AS user_id, count(*) AS visible_rows FROM journal_line;

\echo
\echo '################################################################################'
\echo '# 10. Connection pools (R4): identity for one transaction, and DISCARD ALL'
\echo '################################################################################'
BEGIN;
SELECT tenancy.act_as_local(:u_sanne);
SELECT tenancy.current_user_id() AS user_id, count(*) AS visible_rows FROM journal_line;
COMMIT;
\echo '--> after COMMIT the identity is gone:'
SELECT tenancy.current_user_id() AS user_id, count(*) AS visible_rows FROM journal_line;
SELECT tenancy.act_as(:u_els);
SELECT tenancy.current_user_id() AS user_id, count(*) AS visible_rows FROM journal_line;
\echo '--> a pool''s DISCARD ALL hands the next client a connection without identity:'
DISCARD ALL;
SELECT tenancy.current_user_id() AS user_id, count(*) AS visible_rows FROM journal_line;

\echo
\echo '################################################################################'
\echo '# 11. demo_reader: a login that is not an application server (no tenancy_app)'
\echo '#     it may SELECT from journal_line, but has no identity and cannot get one'
\echo '################################################################################'
\connect - demo_reader
SELECT count(*) AS visible_rows FROM journal_line;
\echo '--> refused (R3): acting as Jan de Vries'
SELECT tenancy.act_as(:u_jan);

\echo
\echo '################################################################################'
\echo '# 12. The operator (postgres): the audit trail of all of the above (R22)'
\echo '################################################################################'
\connect - postgres
SELECT coalesce(k.code, '(no compartment)') AS compartment, l.object_type, count(*) AS entries
  FROM tenancy.audit_log l
  LEFT JOIN tenancy.compartment k ON k.id = l.compartment_id
 GROUP BY 1, 2
 ORDER BY 1, 2;
\echo '--> the last entries: the grant Pieter Bakker made in step 1 is there, with who made it;'
\echo '    the refused attempts changed nothing'
SELECT l.id, to_char(l.at, 'HH24:MI:SS') AS at, l.db_role, l.user_id, l.action, l.object_type, l.object_id
  FROM tenancy.audit_log l
 ORDER BY l.id DESC
 LIMIT 5;
SELECT tenancy.verify_audit() AS verify_audit;
\echo '--> journal lines per administration, unfiltered (superuser):'
SELECT a.code, count(*) AS lines
  FROM journal_line j JOIN tenancy.administration a ON a.id = j.administration_id
 GROUP BY a.code ORDER BY a.code;
