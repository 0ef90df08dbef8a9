-- test/bench/model.sql -- the tenancy side of the benchmark data set
--
-- Run as the superuser postgres (it passes the tenancy_admin check) in a
-- fresh database, by test/bench/run.sh.
--
--   1 subscription, 1 compartment "bench", 400 clients, 2,000
--   administrations (5 per client), numbered n = 1..2000 in creation order;
--   two internal users:
--     u3     read on administrations n = 1, 667, 1333
--     u1000  read on every even n (1,000 administrations)
--
-- bench_adm (n -> administration id) and bench_grant (user -> n) are the
-- one source for the grants given with tenancy.grant_rights and for the
-- plain permission table "perm" of the hand-written RLS variant.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE EXTENSION tenancy;

CREATE TABLE bench_adm (
	n	int PRIMARY KEY,
	id	bigint NOT NULL UNIQUE
);
CREATE TABLE bench_user (
	name	text PRIMARY KEY,
	id		bigint NOT NULL UNIQUE
);
CREATE TABLE bench_grant (
	user_name text NOT NULL REFERENCES bench_user,
	n		int NOT NULL REFERENCES bench_adm,
	PRIMARY KEY (user_name, n)
);

DO $model$
DECLARE
	sub		bigint;
	comp	bigint;
	cli		bigint;
	adm		bigint;
	uid		bigint;
	i		int;
	j		int;
	r		record;
BEGIN
	sub := tenancy.create_subscription('Bench accounting firm');
	comp := tenancy.create_compartment(sub, 'bench', 'Bench compartment');
	FOR i IN 1..400 LOOP
		cli := tenancy.create_client(comp, format('C%s', lpad(i::text, 4, '0')),
									 format('Client %s', i));
		FOR j IN 1..5 LOOP
			adm := tenancy.create_administration(cli,
						format('A%s', lpad(((i - 1) * 5 + j)::text, 4, '0')),
						format('Administration %s of client %s', j, i));
			INSERT INTO bench_adm VALUES ((i - 1) * 5 + j, adm);
		END LOOP;
	END LOOP;

	uid := tenancy.add_user(comp, 'u3@bench.example', 'internal');
	INSERT INTO bench_user VALUES ('u3', uid);
	uid := tenancy.add_user(comp, 'u1000@bench.example', 'internal');
	INSERT INTO bench_user VALUES ('u1000', uid);

	INSERT INTO bench_grant SELECT 'u3', n FROM unnest(ARRAY[1, 667, 1333]) n;
	INSERT INTO bench_grant SELECT 'u1000', n FROM generate_series(2, 2000, 2) n;

	FOR r IN SELECT u.id AS user_id, a.id AS adm_id
			   FROM bench_grant g
			   JOIN bench_user u ON u.name = g.user_name
			   JOIN bench_adm a ON a.n = g.n
			  ORDER BY 1, 2
	LOOP
		PERFORM tenancy.grant_rights(r.user_id, r.adm_id, ARRAY['read']);
	END LOOP;
END
$model$;

-- the pgbench scripts compute an administration id as n + offset
DO $check$
BEGIN
	IF (SELECT count(DISTINCT id - n) FROM bench_adm) <> 1 THEN
		RAISE EXCEPTION 'administration ids are not contiguous: %',
			(SELECT string_agg(DISTINCT (id - n)::text, ',') FROM bench_adm);
	END IF;
END
$check$;

-- the application server's login: acts as users, is neither superuser nor
-- BYPASSRLS; pg_read_all_stats for pg_backend_memory_contexts
DO $role$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_app') THEN
		CREATE ROLE bench_app LOGIN NOSUPERUSER NOBYPASSRLS;
	END IF;
END
$role$;
GRANT tenancy_app TO bench_app;
GRANT pg_read_all_stats TO bench_app;
-- in PostgreSQL 15 the view is superuser-only unless granted explicitly
GRANT SELECT ON pg_backend_memory_contexts TO bench_app;
GRANT EXECUTE ON FUNCTION pg_get_backend_memory_contexts() TO bench_app;
