-- test/bench/saas_model.sql -- the platform-scale data set of saas.sh
--
-- 2,000 small firms (compartments 1..2000), each with 10 clients, 50
-- administrations (5 per client), 20 internal users with read and write on
-- all 50 and 10 external users (one per client) with read on their
-- client's 5; one big firm (compartment 2001) with 400 clients, 20,000
-- administrations and 50 internal users with read on all of them.
-- 60,050 users, 3,100,000 permissions, 2,400,000 journal lines (20 per
-- administration).  Ids are computed, so the pgbench scripts can draw them:
--   small firm f: client (f-1)*10+c, administration (f-1)*50+a,
--                 internal user (f-1)*30+u (u 1..20), external user
--                 (f-1)*30+20+c, reading administrations (f-1)*50+(c-1)*5+1..5
--   big firm: administrations 100001..120000, users 60001..60050
-- The catalog is written directly in replica mode (no triggers, as a
-- restore does), which is why every derived column is filled here.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION tenancy;
SET session_replication_role = replica;

INSERT INTO tenancy.subscription (id, name)
SELECT f, 'firm ' || f FROM generate_series(1, 2001) f;
INSERT INTO tenancy.compartment (id, subscription_id, code, name)
SELECT f, f, CASE WHEN f = 2001 THEN 'big' ELSE 'f' || f END, 'firm ' || f
  FROM generate_series(1, 2001) f;
INSERT INTO tenancy.client (id, compartment_id, code, name)
SELECT (f - 1) * 10 + c, f, 'c' || c, 'client ' || c
  FROM generate_series(1, 2000) f, generate_series(1, 10) c;
INSERT INTO tenancy.client (id, compartment_id, code, name)
SELECT 20000 + c, 2001, 'c' || c, 'client ' || c FROM generate_series(1, 400) c;
INSERT INTO tenancy.administration (id, compartment_id, client_id, code, name)
SELECT (f - 1) * 50 + a, f, (f - 1) * 10 + (a - 1) / 5 + 1, 'a' || a, 'books ' || a
  FROM generate_series(1, 2000) f, generate_series(1, 50) a;
INSERT INTO tenancy.administration (id, compartment_id, client_id, code, name)
SELECT 100000 + i, 2001, 20000 + (i - 1) / 50 + 1, 'a' || i, 'books ' || i
  FROM generate_series(1, 20000) i;
INSERT INTO tenancy.account (id, email)
SELECT u, 'user' || u || '@bench.example' FROM generate_series(1, 60050) u;
INSERT INTO tenancy.users (id, compartment_id, account_id, kind, client_id)
SELECT (f - 1) * 30 + u, f, (f - 1) * 30 + u,
	   CASE WHEN u <= 20 THEN 'internal' ELSE 'external' END,
	   CASE WHEN u <= 20 THEN NULL ELSE (f - 1) * 10 + u - 20 END
  FROM generate_series(1, 2000) f, generate_series(1, 30) u;
INSERT INTO tenancy.users (id, compartment_id, account_id, kind)
SELECT 60000 + u, 2001, 60000 + u, 'internal' FROM generate_series(1, 50) u;
INSERT INTO tenancy.permission (user_id, administration_id, compartment_id, can_read, can_write)
SELECT (f - 1) * 30 + u, (f - 1) * 50 + a, f, true, true
  FROM generate_series(1, 2000) f, generate_series(1, 20) u, generate_series(1, 50) a;
INSERT INTO tenancy.permission (user_id, administration_id, compartment_id, user_client_id, can_read)
SELECT (f - 1) * 30 + 20 + c, (f - 1) * 50 + (c - 1) * 5 + k, f, (f - 1) * 10 + c, true
  FROM generate_series(1, 2000) f, generate_series(1, 10) c, generate_series(1, 5) k;
INSERT INTO tenancy.permission (user_id, administration_id, compartment_id, can_read)
SELECT 60000 + u, 100000 + i, 2001, true
  FROM generate_series(1, 50) u, generate_series(1, 20000) i;
SELECT setval(pg_get_serial_sequence('tenancy.' || t, 'id'), 200000)
  FROM unnest(ARRAY['subscription', 'compartment', 'client', 'administration',
					'account', 'users']) t;
RESET session_replication_role;
ANALYZE;

-- roles: the application server, and a table owner that is not a superuser
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'saas_app') THEN
		CREATE ROLE saas_app LOGIN IN ROLE tenancy_app;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'saas_owner') THEN
		CREATE ROLE saas_owner NOLOGIN IN ROLE tenancy_admin;
	END IF;
END $$;
GRANT CREATE ON SCHEMA public TO saas_owner;
-- the memory figures read pg_backend_memory_contexts
GRANT pg_read_all_stats TO saas_app;

SET ROLE saas_owner;
-- T: protected by tenancy
CREATE TABLE journal_line (
	administration_id bigint NOT NULL,
	id			bigint NOT NULL,
	booked_on	date NOT NULL,
	amount		numeric(14,2) NOT NULL,
	PRIMARY KEY (administration_id, id)
);
INSERT INTO journal_line
SELECT a, g, date '2024-01-01' + (g * 7 + a) % 365, ((a * 31 + g * 17) % 100000) / 100.0
  FROM generate_series(1, 120000) a, generate_series(1, 20) g;
CREATE INDEX journal_line_booked_idx ON journal_line (booked_on);
-- H: the usual hand-written policy over the application's own rights table
CREATE TABLE perm (user_id bigint, administration_id bigint, can_read boolean,
				   PRIMARY KEY (user_id, administration_id));
CREATE TABLE journal_line_h (LIKE journal_line INCLUDING ALL);
INSERT INTO journal_line_h SELECT * FROM journal_line;
ALTER TABLE journal_line_h ENABLE ROW LEVEL SECURITY;
CREATE POLICY h_read ON journal_line_h FOR SELECT USING (
	EXISTS (SELECT 1 FROM perm p
			 WHERE p.user_id = current_setting('app.user_id')::bigint
			   AND p.administration_id = journal_line_h.administration_id AND p.can_read));
-- N: no check at all (the limit); and the big firm's rows alone for W5
CREATE TABLE journal_line_n (LIKE journal_line INCLUDING ALL);
INSERT INTO journal_line_n SELECT * FROM journal_line;
CREATE TABLE journal_line_n_big (LIKE journal_line INCLUDING ALL);
INSERT INTO journal_line_n_big SELECT * FROM journal_line WHERE administration_id > 100000;
RESET ROLE;
INSERT INTO perm SELECT user_id, administration_id, can_read FROM tenancy.permission;
SET ROLE saas_owner;
SELECT tenancy.protect('journal_line');
GRANT SELECT ON journal_line, journal_line_h, journal_line_n, journal_line_n_big, perm TO saas_app;
RESET ROLE;
VACUUM ANALYZE;
