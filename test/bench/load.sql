-- test/bench/load.sql -- the journal lines, three times
--
-- Run as the superuser postgres after model.sql; psql variables:
--   rows   number of journal lines (BENCH_ROWS)
--   refmod reference modulus: line i has reference 'INV-' || (i % refmod)
--
-- Line i (1..rows) belongs to administration n = i % 2000 + 1, so every
-- administration holds rows/2000 lines, interleaved on disk the way lines
-- of many administrations arrive in a real journal.  booked_on is spread
-- pseudo-randomly over 2021-2024.  refmod = 2000*k + 7, so the ~4 lines that
-- share a reference lie in administrations n, n+7, n+14, n+21: a search
-- for the reference of a line that u3 sees finds 3 more lines u3 does not
-- see; for u1000 (even n) about half the hits are visible.
--
-- The same rows go into three tables:
--   jl_plain      no row security; the benchmark adds the WHERE by hand
--   jl_protected  tenancy.protect()
--   jl_rls        hand-written RLS policy on the plain table "perm"
\set ON_ERROR_STOP on
SET client_min_messages = warning;
\timing on

SELECT min(id - n) AS off FROM bench_adm \gset

CREATE TABLE jl_plain (
	id					bigint NOT NULL,
	administration_id	bigint NOT NULL,
	booked_on			date NOT NULL,
	amount				numeric(14,2) NOT NULL,
	reference			text NOT NULL,
	description			text
);
CREATE TABLE jl_protected (LIKE jl_plain INCLUDING ALL);
CREATE TABLE jl_rls (LIKE jl_plain INCLUDING ALL);

\echo loading :rows rows into jl_plain
INSERT INTO jl_plain
SELECT i,
	   i % 2000 + 1 + :off,
	   date '2021-01-01' + ((hashint8(i)::bigint + 2147483648) % 1461)::int,
	   round((hashint8(-i) % 1000000) / 100.0, 2),
	   'INV-' || (i % :refmod),
	   'Journal line ' || i || ' of administration A' || lpad((i % 2000 + 1)::text, 4, '0')
  FROM generate_series(1, :rows) i;

\echo copying into jl_protected and jl_rls
INSERT INTO jl_protected SELECT * FROM jl_plain;
INSERT INTO jl_rls SELECT * FROM jl_plain;

\echo indexes
-- the same indexes on each copy:
--   primary key (id)                   point lookups
--   (administration_id, booked_on)     the administration column, and a month of one administration
--   (booked_on, id)                    newest lines first
--   (administration_id, lower(reference))  case-insensitive search (tenancy
--                                      serves a search only from an index
--                                      led by the administration column)
ALTER TABLE jl_plain ADD PRIMARY KEY (id);
CREATE INDEX jl_plain_adm_booked ON jl_plain (administration_id, booked_on);
CREATE INDEX jl_plain_booked ON jl_plain (booked_on, id);
CREATE INDEX jl_plain_lower_ref ON jl_plain (administration_id, lower(reference));
ALTER TABLE jl_protected ADD PRIMARY KEY (id);
CREATE INDEX jl_protected_adm_booked ON jl_protected (administration_id, booked_on);
CREATE INDEX jl_protected_booked ON jl_protected (booked_on, id);
CREATE INDEX jl_protected_lower_ref ON jl_protected (administration_id, lower(reference));
ALTER TABLE jl_rls ADD PRIMARY KEY (id);
CREATE INDEX jl_rls_adm_booked ON jl_rls (administration_id, booked_on);
CREATE INDEX jl_rls_booked ON jl_rls (booked_on, id);
CREATE INDEX jl_rls_lower_ref ON jl_rls (administration_id, lower(reference));

\echo protection
-- (a) tenancy: the owner (postgres, superuser) counts as tenancy_admin
SELECT tenancy.protect('jl_protected');

-- (c) the common hand-written pattern: a permission table and a policy
-- that looks the current row's administration up in it
CREATE TABLE perm (
	user_id				bigint NOT NULL,
	administration_id	bigint NOT NULL,
	can_read			boolean NOT NULL DEFAULT false,
	PRIMARY KEY (user_id, administration_id)
);
INSERT INTO perm
SELECT u.id, a.id, true
  FROM bench_grant g
  JOIN bench_user u ON u.name = g.user_name
  JOIN bench_adm a ON a.n = g.n;
ALTER TABLE jl_rls ENABLE ROW LEVEL SECURITY;
ALTER TABLE jl_rls FORCE ROW LEVEL SECURITY;
CREATE POLICY jl_rls_read ON jl_rls FOR SELECT
	USING (EXISTS (SELECT 1 FROM perm p
				    WHERE p.user_id = current_setting('bench.user_id')::bigint
					  AND p.administration_id = jl_rls.administration_id
					  AND p.can_read));

GRANT SELECT ON jl_protected, jl_plain, jl_rls, perm TO bench_app;

\echo vacuum analyze
VACUUM (FREEZE, ANALYZE) jl_plain;
VACUUM (FREEZE, ANALYZE) jl_protected;
VACUUM (FREEZE, ANALYZE) jl_rls;
VACUUM ANALYZE perm;
-- a second pass: the first may leave pages not yet all-visible
VACUUM jl_plain, jl_protected, jl_rls;
ANALYZE bench_adm, bench_user, bench_grant;
CHECKPOINT;
