-- test/demo/migration.sql -- two dossiers change firm (R16-R19)
--
-- Run by test/demo.sh after the walk-through, as the application server
-- demo_app, with the sample's ids as psql variables (u_<login>,
-- a_<administration>, c_<client>, k_<compartment>).  Two clients of Bakker &
-- Jansen move to Visser Administratiekantoor:
--   A. de Vries Holding (DVH), archive_and_transfer: the dossier is frozen,
--      moves to Visser with its history and links to a new active DVH;
--   B. Bakkerij Smit (SMIT), export_and_delete: Bakker & Jansen confirms the
--      export, deletes the dossier, and only then Visser activates a new one.
-- Before and after each, it shows who sees which books.

\set QUIET on
\pset footer off
-- what the current identity sees: its administrations and their journal lines
\set seen 'SELECT m.compartment_code AS compartment, m.code, m.state, m.rights, count(j.id) AS journal_lines FROM tenancy.my_administrations m LEFT JOIN journal_line j ON j.administration_id = m.administration_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2;'
\set VERBOSITY verbose
\set SHOW_CONTEXT never
\set ECHO queries

\echo
\echo '================ A. de Vries Holding moves to Visser: archive_and_transfer'
\echo '--> set-up: Jan (de Vries) may manage DVH, so he approves for his company;'
\echo '    Visser gets a client "DEVRIES"'
SELECT tenancy.act_as(:u_pbakker_klanten);
SELECT tenancy.grant_rights(:u_jan, :a_dvh, ARRAY['manage']);
SELECT tenancy.act_as(:u_rob);
SELECT tenancy.create_client(:k_visser, 'DEVRIES', 'de Vries Holding') AS c_visser_devries \gset

\echo '--> before: Sanne (assistant at Bakker & Jansen), Jan (de Vries), Rob (Visser)'
SELECT tenancy.act_as(:u_sanne);
:seen
SELECT tenancy.act_as(:u_jan);
:seen
SELECT tenancy.act_as(:u_rob);
:seen

\echo '--> Pieter Bakker (administrator, source) requests and approves'
SELECT tenancy.act_as(:u_pbakker_klanten);
SELECT tenancy.request_migration(:a_dvh, :k_visser, 'archive_and_transfer') AS m_dvh \gset
SELECT tenancy.approve_migration(:m_dvh);
\echo '--> Jan approves for de Vries Holding; Rob for Visser'
SELECT tenancy.act_as(:u_jan);
SELECT tenancy.approve_migration(:m_dvh);
SELECT tenancy.act_as(:u_rob);
SELECT tenancy.approve_migration(:m_dvh);
SELECT migration_id, administration_code, scenario, state, approvals, next_steps
  FROM tenancy.migrations WHERE migration_id = :m_dvh;
\echo '--> Rob transfers it under Visser''s client DEVRIES, with a new active DVH'
SELECT tenancy.transfer_migration(:m_dvh, :c_visser_devries, 'DVH') AS a_dvh_new \gset
SELECT state, jsonb_pretty(report) AS report FROM tenancy.migrations WHERE migration_id = :m_dvh;
-- the user Jan got at Visser (same account, user of client DEVRIES)
SELECT (after->>'id')::bigint AS u_jan_visser FROM tenancy.audit_log
 WHERE object_type = 'user' AND action = 'insert' ORDER BY id DESC LIMIT 1 \gset
SELECT tenancy.grant_rights(:u_rob, :a_dvh_new, ARRAY['read', 'write', 'manage']);

\echo '--> after: Sanne and Jan''s user at Bakker & Jansen no longer see DVH'
SELECT tenancy.act_as(:u_sanne);
:seen
SELECT tenancy.act_as(:u_jan);
:seen
\echo '--> Jan, at Visser: the archived DVH (read-only) and the new DVH, same rights'
SELECT tenancy.act_as(:u_jan_visser);
:seen
\echo '--> Rob, with rights on the new DVH, reads the archive too'
SELECT tenancy.act_as(:u_rob);
:seen
\echo '--> the archive is frozen (R12): no booking goes into it'
INSERT INTO journal_line (administration_id, booked_on, account, amount, description)
VALUES (:a_dvh, current_date, '8000', 1, 'late booking');

\echo
\echo '================ B. Bakkerij Smit moves to Visser: export_and_delete'
\echo '--> set-up: a second administrator at Bakker & Jansen, Marieke Jansen'
SELECT tenancy.act_as(:u_pbakker_klanten);
SELECT tenancy.add_user(:k_bj_klanten, 'm.jansen@bakkerjansen.nl', 'internal', NULL, true) AS u_mjansen \gset
\echo '--> before: Els (Bakkerij Smit)'
SELECT tenancy.act_as(:u_els);
:seen

\echo '--> Rob (target) requests it; until Bakker & Jansen approves he learns no code or name'
SELECT tenancy.act_as(:u_rob);
SELECT tenancy.request_migration(:a_smit, :k_visser, 'export_and_delete') AS m_smit \gset
SELECT tenancy.approve_migration(:m_smit);
SELECT migration_id, administration_code, state, approvals, awaiting FROM tenancy.migrations
 WHERE migration_id = :m_smit;
\echo '--> Pieter approves for Bakker & Jansen; Els has no manage right, so Marieke'
\echo '    records Bakkerij Smit''s written consent (one person approves for one party only)'
SELECT tenancy.act_as(:u_pbakker_klanten);
SELECT tenancy.approve_migration(:m_smit);
SELECT tenancy.approve_migration(:m_smit, 'letter Bakkerij Smit 2026-03-02');
SELECT tenancy.act_as(:u_mjansen);
SELECT tenancy.approve_migration(:m_smit, 'letter Bakkerij Smit 2026-03-02');
\echo '--> Rob cannot activate before the dossier is deleted at the source (R19)'
SELECT tenancy.act_as(:u_rob);
SELECT tenancy.create_client(:k_visser, 'SMIT', 'Bakkerij Smit') AS c_visser_smit \gset
SELECT tenancy.activate_at_target(:m_smit, :c_visser_smit, 'SMIT');
\echo '--> Pieter confirms the export was delivered, then deletes the dossier'
SELECT tenancy.act_as(:u_pbakker_klanten);
SELECT tenancy.confirm_export(:m_smit);
SELECT tenancy.delete_at_source(:m_smit);
SELECT state, report FROM tenancy.migrations WHERE migration_id = :m_smit;
\echo '--> now Rob activates the new SMIT'
SELECT tenancy.act_as(:u_rob);
SELECT tenancy.activate_at_target(:m_smit, :c_visser_smit, 'SMIT') AS a_smit_new \gset
SELECT tenancy.grant_rights(:u_rob, :a_smit_new, ARRAY['read', 'write', 'manage']);
\echo '--> after: Els sees nothing at Bakker & Jansen; Rob sees the new, empty SMIT'
SELECT tenancy.act_as(:u_els);
:seen
SELECT tenancy.act_as(:u_rob);
:seen

\echo
\echo '================ the migrations as Visser sees them, step by step'
SELECT migration_id, administration_code, scenario, state, successor_administration_id IS NOT NULL AS linked
  FROM tenancy.migrations ORDER BY migration_id;
SELECT migration_id, step, from_state, to_state, party FROM tenancy.migration_steps ORDER BY step_no;
SELECT tenancy.reset();
