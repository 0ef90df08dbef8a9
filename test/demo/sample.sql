-- test/demo/sample.sql -- the demo's sample: two accounting firms
--
-- Run by test/demo.sh with psql, as the superuser postgres, in database
-- tenancy_demo right after CREATE EXTENSION tenancy.  It builds:
--
--   subscription "Bakker & Jansen Accountants"        (one firm, split in two compartments)
--     compartment bj-kantoor   own and partner administrations, no external users
--       client EIGEN      Bakker & Jansen (eigen entiteiten)  BJ-ACC
--       client PARTNERS   Partneradministraties               PB-BEHEER, MJ-BEHEER
--     compartment bj-klanten   client administrations
--       client DEVRIES    de Vries Holding                    DVH, DVB, DVI
--       client SMIT       Bakkerij Smit                       SMIT
--       client MEIJER     Kapsalon Meijer                     MEIJER
--   subscription "Visser Administratiekantoor"       (a second, unrelated firm)
--     compartment visser
--       client HENDRIKS   Hendriks Transport                  HT, HT-VG
--
-- the people who use them, the application's roles, and a protected
-- application table public.journal_line with a few bookings per
-- administration.

\set ON_ERROR_STOP 1
-- the management calls return ids (kept with \gset) or void: keep it quiet
\o /dev/null

-- postgres is a superuser already; being a platform operator says so explicitly
GRANT tenancy_admin TO postgres;

/* ------------------------------------------------------------------
 * Firm 1: Bakker & Jansen Accountants, one subscription, two compartments
 * ------------------------------------------------------------------ */
SELECT tenancy.create_subscription('Bakker & Jansen Accountants') AS sub_bj \gset

SELECT tenancy.create_compartment(:sub_bj, 'bj-kantoor',
		'Bakker & Jansen - eigen en partneradministraties', false) AS k_kantoor \gset
SELECT tenancy.create_compartment(:sub_bj, 'bj-klanten',
		'Bakker & Jansen - klantadministraties', true) AS k_klanten \gset

-- own and partner administrations
SELECT tenancy.create_client(:k_kantoor, 'EIGEN', 'Bakker & Jansen (eigen entiteiten)') AS c_eigen \gset
SELECT tenancy.create_client(:k_kantoor, 'PARTNERS', 'Partneradministraties') AS c_partners \gset
SELECT tenancy.create_administration(:c_eigen, 'BJ-ACC', 'Bakker & Jansen Accountants B.V.') AS a_bj_acc \gset
SELECT tenancy.create_administration(:c_partners, 'PB-BEHEER', 'P. Bakker Beheer B.V.') AS a_pb_beheer \gset
SELECT tenancy.create_administration(:c_partners, 'MJ-BEHEER', 'M. Jansen Beheer B.V.') AS a_mj_beheer \gset

-- client administrations
SELECT tenancy.create_client(:k_klanten, 'DEVRIES', 'de Vries Holding') AS c_devries \gset
SELECT tenancy.create_client(:k_klanten, 'SMIT', 'Bakkerij Smit') AS c_smit \gset
SELECT tenancy.create_client(:k_klanten, 'MEIJER', 'Kapsalon Meijer') AS c_meijer \gset
SELECT tenancy.create_administration(:c_devries, 'DVH', 'de Vries Holding B.V.') AS a_dvh \gset
SELECT tenancy.create_administration(:c_devries, 'DVB', 'de Vries Bouw B.V.') AS a_dvb \gset
SELECT tenancy.create_administration(:c_devries, 'DVI', 'de Vries Installatietechniek B.V.') AS a_dvi \gset
SELECT tenancy.create_administration(:c_smit, 'SMIT', 'Bakkerij Smit V.O.F.') AS a_smit \gset
SELECT tenancy.create_administration(:c_meijer, 'MEIJER', 'Kapsalon Meijer') AS a_meijer \gset

-- Pieter Bakker, partner: administrator of both compartments.  One account
-- (the e-mail is trimmed and compared case-insensitively), two users.
SELECT tenancy.add_user(:k_kantoor, 'p.bakker@bakkerjansen.nl', 'internal', NULL, true) AS u_pbakker_kantoor \gset
SELECT tenancy.add_user(:k_klanten, '  P.Bakker@BakkerJansen.nl ', 'internal', NULL, true) AS u_pbakker_klanten \gset
SELECT tenancy.grant_rights(:u_pbakker_kantoor, a, ARRAY['read', 'write', 'manage'])
  FROM unnest(ARRAY[:a_bj_acc, :a_pb_beheer, :a_mj_beheer]::bigint[]) a;
SELECT tenancy.grant_rights(:u_pbakker_klanten, a, ARRAY['read', 'write', 'manage'])
  FROM unnest(ARRAY[:a_dvh, :a_dvb, :a_dvi, :a_smit, :a_meijer]::bigint[]) a;

-- Sanne El Amrani, assistant: books for de Vries Bouw and de Vries
-- Installatietechniek, may only look at the holding
SELECT tenancy.add_user(:k_klanten, 's.elamrani@bakkerjansen.nl', 'internal') AS u_sanne \gset
SELECT tenancy.grant_rights(:u_sanne, :a_dvb, ARRAY['read', 'write']);
SELECT tenancy.grant_rights(:u_sanne, :a_dvi, ARRAY['read', 'write']);
SELECT tenancy.grant_rights(:u_sanne, :a_dvh, ARRAY['read']);

-- Tom Dekker, former assistant: left the firm, disabled
SELECT tenancy.add_user(:k_klanten, 't.dekker@bakkerjansen.nl', 'internal') AS u_tom \gset
SELECT tenancy.grant_rights(:u_tom, :a_smit, ARRAY['read', 'write']);
SELECT tenancy.disable_user(:u_tom);

-- Jan de Vries, owner (DGA) of de Vries Holding: external user of his
-- client, reads and sends in documents for his three companies
SELECT tenancy.add_user(:k_klanten, 'jan@devriesholding.nl', 'external', :c_devries) AS u_jan \gset
SELECT tenancy.grant_rights(:u_jan, a, ARRAY['read', 'submit'])
  FROM unnest(ARRAY[:a_dvh, :a_dvb, :a_dvi]::bigint[]) a;

-- Els Smit, Bakkerij Smit: keeps her own books (self-booking client)
SELECT tenancy.add_user(:k_klanten, 'els@bakkerijsmit.nl', 'external', :c_smit) AS u_els \gset
SELECT tenancy.grant_rights(:u_els, :a_smit, ARRAY['read', 'write', 'submit']);

/* ------------------------------------------------------------------
 * Firm 2: Visser Administratiekantoor, its own subscription
 * ------------------------------------------------------------------ */
SELECT tenancy.create_subscription('Visser Administratiekantoor') AS sub_visser \gset
SELECT tenancy.create_compartment(:sub_visser, 'visser', 'Visser Administratiekantoor') AS k_visser \gset
SELECT tenancy.create_client(:k_visser, 'HENDRIKS', 'Hendriks Transport') AS c_hendriks \gset
SELECT tenancy.create_administration(:c_hendriks, 'HT', 'Hendriks Transport B.V.') AS a_ht \gset
SELECT tenancy.create_administration(:c_hendriks, 'HT-VG', 'Hendriks Vastgoed B.V.') AS a_ht_vg \gset

SELECT tenancy.add_user(:k_visser, 'r.visser@visseradministratie.nl', 'internal', NULL, true) AS u_rob \gset
SELECT tenancy.grant_rights(:u_rob, a, ARRAY['read', 'write', 'manage'])
  FROM unnest(ARRAY[:a_ht, :a_ht_vg]::bigint[]) a;
SELECT tenancy.add_user(:k_visser, 'kees@hendrikstransport.nl', 'external', :c_hendriks) AS u_kees \gset
SELECT tenancy.grant_rights(:u_kees, :a_ht, ARRAY['read', 'submit']);

/* ------------------------------------------------------------------
 * The application
 * ------------------------------------------------------------------ */

-- the application server's login: it may act as users, nothing more
CREATE ROLE demo_app LOGIN IN ROLE tenancy_app;
-- a login that is not an application server (say, a curious report writer)
CREATE ROLE demo_reader LOGIN;

-- the application's own directory of its logins and the tenancy user each
-- one acts as (what a web application keeps after single sign-on)
CREATE TABLE public.app_user (
	login		text PRIMARY KEY,
	tenancy_user_id bigint NOT NULL UNIQUE,
	display_name text NOT NULL,
	description	text NOT NULL
);
INSERT INTO public.app_user VALUES
	('pbakker_kantoor', :u_pbakker_kantoor, 'Pieter Bakker', 'partner, administrator of bj-kantoor'),
	('pbakker_klanten', :u_pbakker_klanten, 'Pieter Bakker', 'partner, administrator of bj-klanten'),
	('sanne', :u_sanne, 'Sanne El Amrani', 'assistant in bj-klanten'),
	('tom', :u_tom, 'Tom Dekker', 'former assistant in bj-klanten (disabled)'),
	('jan', :u_jan, 'Jan de Vries', 'external, owner of de Vries Holding'),
	('els', :u_els, 'Els Smit', 'external, Bakkerij Smit'),
	('rob', :u_rob, 'Rob Visser', 'other firm, administrator of visser'),
	('kees', :u_kees, 'Kees Hendriks', 'other firm, external, Hendriks Transport');
GRANT SELECT ON public.app_user TO demo_app;

-- the owner of the application's tables: not a superuser (a table or view
-- owned by a superuser bypasses row security), a member of tenancy_admin
-- (to protect its tables), not the application's login
CREATE ROLE demo_owner NOLOGIN IN ROLE tenancy_admin;
GRANT CREATE ON SCHEMA public TO demo_owner;

-- the protected application table; the administration column leads the
-- primary key, so no unique index spans administrations (R23)
SET ROLE demo_owner;
CREATE TABLE public.journal_line (
	id			bigserial,
	administration_id bigint NOT NULL,
	booked_on	date NOT NULL DEFAULT current_date,
	account		text NOT NULL,
	amount		numeric(14,2) NOT NULL,
	description	text,
	PRIMARY KEY (administration_id, id)
);
COMMENT ON TABLE public.journal_line IS 'journal lines of the demo application, one administration each';
RESET ROLE;

-- opening bookings, loaded by the operator before the table is protected
INSERT INTO public.journal_line (administration_id, booked_on, account, amount, description)
SELECT a.id, v.booked_on::date, v.account, v.amount, v.description
  FROM (VALUES
	('bj-kantoor', 'BJ-ACC', '2024-01-31', '1300 Debiteuren',               2238.50, 'Factuur 2024-0117 de Vries Holding B.V.'),
	('bj-kantoor', 'BJ-ACC', '2024-01-31', '8000 Omzet advies',            -1850.00, 'Factuur 2024-0117 de Vries Holding B.V.'),
	('bj-kantoor', 'BJ-ACC', '2024-01-31', '1500 Af te dragen btw',         -388.50, 'Factuur 2024-0117 de Vries Holding B.V.'),
	('bj-kantoor', 'BJ-ACC', '2024-02-25', '4000 Salarissen',              38400.00, 'Salarissen februari'),
	('bj-kantoor', 'BJ-ACC', '2024-02-25', '1100 Bank',                   -38400.00, 'Salarissen februari'),
	('bj-kantoor', 'PB-BEHEER', '2024-03-31', '1300 Vorderingen groep',    15000.00, 'Managementfee Q1 Bakker & Jansen'),
	('bj-kantoor', 'PB-BEHEER', '2024-03-31', '8100 Managementvergoeding', -15000.00, 'Managementfee Q1 Bakker & Jansen'),
	('bj-kantoor', 'PB-BEHEER', '2024-03-31', '4600 Pensioenlasten',        2750.00, 'Pensioen in eigen beheer Q1'),
	('bj-kantoor', 'PB-BEHEER', '2024-03-31', '1100 Bank',                 -2750.00, 'Pensioen in eigen beheer Q1'),
	('bj-kantoor', 'MJ-BEHEER', '2024-03-31', '1300 Vorderingen groep',    15000.00, 'Managementfee Q1 Bakker & Jansen'),
	('bj-kantoor', 'MJ-BEHEER', '2024-03-31', '8100 Managementvergoeding', -15000.00, 'Managementfee Q1 Bakker & Jansen'),
	('bj-kantoor', 'MJ-BEHEER', '2024-04-15', '1100 Bank',                  8000.00, 'Dividend 2023 Bakker & Jansen Accountants B.V.'),
	('bj-kantoor', 'MJ-BEHEER', '2024-04-15', '8200 Deelnemingsresultaat', -8000.00, 'Dividend 2023 Bakker & Jansen Accountants B.V.'),
	('bj-klanten', 'DVH', '2024-01-31', '1300 Vorderingen groep',          12500.00, 'Managementfee januari de Vries Bouw'),
	('bj-klanten', 'DVH', '2024-01-31', '8100 Managementvergoeding',      -12500.00, 'Managementfee januari de Vries Bouw'),
	('bj-klanten', 'DVH', '2024-02-29', '1300 Vorderingen groep',          12500.00, 'Managementfee februari de Vries Bouw'),
	('bj-klanten', 'DVH', '2024-02-29', '8100 Managementvergoeding',      -12500.00, 'Managementfee februari de Vries Bouw'),
	('bj-klanten', 'DVH', '2024-03-15', '4500 Advieskosten',                1850.00, 'Factuur Bakker & Jansen 2024-0117'),
	('bj-klanten', 'DVH', '2024-03-15', '1600 Crediteuren',                -1850.00, 'Factuur Bakker & Jansen 2024-0117'),
	('bj-klanten', 'DVB', '2024-01-12', '1300 Debiteuren',                 48400.00, 'Termijn 3 nieuwbouw Gemeente Utrecht'),
	('bj-klanten', 'DVB', '2024-01-12', '8000 Omzet bouw',                -40000.00, 'Termijn 3 nieuwbouw Gemeente Utrecht'),
	('bj-klanten', 'DVB', '2024-01-12', '1500 Af te dragen btw',           -8400.00, 'Termijn 3 nieuwbouw Gemeente Utrecht'),
	('bj-klanten', 'DVB', '2024-02-05', '7000 Inkoop materialen',          12600.00, 'Bouwmaat Amersfoort, bestelling 88213'),
	('bj-klanten', 'DVB', '2024-02-05', '1600 Crediteuren',               -12600.00, 'Bouwmaat Amersfoort, bestelling 88213'),
	('bj-klanten', 'DVI', '2024-01-20', '1300 Debiteuren',                  7260.00, 'Warmtepomp fam. Mulder, Zeist'),
	('bj-klanten', 'DVI', '2024-01-20', '8000 Omzet installaties',         -6000.00, 'Warmtepomp fam. Mulder, Zeist'),
	('bj-klanten', 'DVI', '2024-01-20', '1500 Af te dragen btw',           -1260.00, 'Warmtepomp fam. Mulder, Zeist'),
	('bj-klanten', 'DVI', '2024-02-14', '4100 Autokosten',                   345.50, 'Brandstof bedrijfsbussen'),
	('bj-klanten', 'DVI', '2024-02-14', '1100 Bank',                        -345.50, 'Brandstof bedrijfsbussen'),
	('bj-klanten', 'SMIT', '2024-01-31', '1000 Kas',                        3120.40, 'Kasomzet week 5'),
	('bj-klanten', 'SMIT', '2024-01-31', '8000 Omzet brood en banket',     -2862.75, 'Kasomzet week 5'),
	('bj-klanten', 'SMIT', '2024-01-31', '1500 Af te dragen btw',           -257.65, 'Kasomzet week 5'),
	('bj-klanten', 'SMIT', '2024-02-02', '7000 Inkoop grondstoffen',         980.00, 'Meelfabriek De Hoop'),
	('bj-klanten', 'SMIT', '2024-02-02', '1600 Crediteuren',                -980.00, 'Meelfabriek De Hoop'),
	('bj-klanten', 'MEIJER', '2024-02-29', '1100 Bank',                     4235.00, 'Pinontvangsten februari'),
	('bj-klanten', 'MEIJER', '2024-02-29', '8000 Omzet knippen',           -3500.00, 'Pinontvangsten februari'),
	('bj-klanten', 'MEIJER', '2024-02-29', '1500 Af te dragen btw',         -735.00, 'Pinontvangsten februari'),
	('bj-klanten', 'MEIJER', '2024-03-01', '4300 Huisvestingskosten',       1150.00, 'Huur maart Voorstraat 12'),
	('bj-klanten', 'MEIJER', '2024-03-01', '1100 Bank',                    -1150.00, 'Huur maart Voorstraat 12'),
	('visser', 'HT', '2024-01-08', '1300 Debiteuren',                      18150.00, 'Rit Rotterdam-Milaan, order 2024-003'),
	('visser', 'HT', '2024-01-08', '8000 Omzet transport',                -15000.00, 'Rit Rotterdam-Milaan, order 2024-003'),
	('visser', 'HT', '2024-01-08', '1500 Af te dragen btw',                -3150.00, 'Rit Rotterdam-Milaan, order 2024-003'),
	('visser', 'HT', '2024-01-22', '4100 Brandstof',                        6420.80, 'Tankpas januari'),
	('visser', 'HT', '2024-01-22', '1600 Crediteuren',                     -6420.80, 'Tankpas januari'),
	('visser', 'HT-VG', '2024-01-01', '1100 Bank',                          4500.00, 'Huur loods Waalhaven januari'),
	('visser', 'HT-VG', '2024-01-01', '8000 Huuropbrengsten',              -4500.00, 'Huur loods Waalhaven januari'),
	('visser', 'HT-VG', '2024-02-01', '1100 Bank',                          4500.00, 'Huur loods Waalhaven februari'),
	('visser', 'HT-VG', '2024-02-01', '8000 Huuropbrengsten',              -4500.00, 'Huur loods Waalhaven februari')
	) AS v (compartment, code, booked_on, account, amount, description)
  JOIN tenancy.compartment k ON k.code = v.compartment
  JOIN tenancy.administration a ON a.compartment_id = k.id AND a.code = v.code;

-- from here on the database enforces the walls: row security, forced, with
-- the tenancy policies and triggers
SET ROLE demo_owner;
SELECT tenancy.protect('public.journal_line', 'administration_id');
RESET ROLE;

-- the application reads and writes it; it neither owns it nor may truncate it
GRANT SELECT, INSERT, UPDATE, DELETE ON public.journal_line TO demo_app;
GRANT USAGE ON SEQUENCE public.journal_line_id_seq TO demo_app;
GRANT SELECT ON public.journal_line TO demo_reader;

\o
