#!/usr/bin/env bash
# test/bench/migration.sh -- transfer_migration does not grow with the dossier
#
# R18: a transfer moves catalog rows only (the application rows carry the
# administration id, which does not change), so its time must not depend on
# how many journal lines the dossier holds.  This script loads, on a
# throw-away cluster "migbench" (test/cluster.sh, port $BENCH_PORT, default
# 55490), a protected journal table with dossiers of SMALL and LARGE lines
# (default 10,000 and 1,000,000), $RUNS of each (default 5), plus a
# protected bank_link table registered with carry_on_migration => false
# (3 rows per dossier), approves one archive_and_transfer migration per
# dossier and times each transfer_migration call on the server
# (clock_timestamp before BEGIN and after COMMIT, in one session).
# It prints one line per transfer and the median per size.
#
#   bash test/bench/migration.sh                      # 10k vs 1M lines
#   SMALL=1000 LARGE=100000 RUNS=5 bash test/bench/migration.sh
#
# Needs the extension built and installed (make install); runs as root
# (the cluster runs as the postgres OS user) or as a user that may initdb.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SMALL=${SMALL:-10000}
LARGE=${LARGE:-1000000}
RUNS=${RUNS:-5}
PORT=${BENCH_PORT:-55490}
export TENANCY_TMP=${TENANCY_TMP:-/tmp/tenancy}

bash test/cluster.sh start migbench "$PORT"
trap 'bash test/cluster.sh stop migbench >/dev/null 2>&1 || true' EXIT
eval "$(bash test/cluster.sh env migbench)"
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -d migbench "$@"; }
psql -X -q -d postgres -c 'CREATE DATABASE migbench'

echo "== loading $RUNS dossiers of $SMALL and $RUNS of $LARGE journal lines"
psql_q -v small="$SMALL" -v large="$LARGE" -v runs="$RUNS" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION tenancy;
CREATE TABLE journal (id bigserial PRIMARY KEY, administration_id bigint NOT NULL,
                      booked_on date NOT NULL, amount numeric(12,2) NOT NULL, reference text NOT NULL);
CREATE TABLE bank_link (id bigserial PRIMARY KEY, administration_id bigint NOT NULL, iban text NOT NULL);
SELECT tenancy.protect('journal') \gset
SELECT tenancy.protect('bank_link', carry_on_migration => false) \gset
CREATE TABLE bench (administration_id bigint PRIMARY KEY, lines bigint NOT NULL,
                    migration_id bigint, target_client bigint, ms numeric);
SELECT tenancy.create_compartment(tenancy.create_subscription('old firm'), 'old', 'old firm') AS s \gset
SELECT tenancy.create_compartment(tenancy.create_subscription('new firm'), 'new', 'new firm') AS t \gset
SELECT tenancy.add_user(:s, 'sa1@old.example', 'internal', NULL, true) \gset
SELECT tenancy.add_user(:t, 'ta@new.example', 'internal', NULL, true) \gset
SELECT tenancy.add_user(:s, 'staff@old.example', 'internal') \gset
SQL
# the dossiers, one client each, with a client user holding read and write
psql_q -v small="$SMALL" -v large="$LARGE" -v runs="$RUNS" <<'SQL'
SET client_min_messages = warning;
SELECT set_config('bench.small', :'small', false), set_config('bench.large', :'large', false),
       set_config('bench.runs', :'runs', false) \gset
DO $$
DECLARE
	s bigint := (SELECT id FROM tenancy.compartment WHERE code = 'old');
	t bigint := (SELECT id FROM tenancy.compartment WHERE code = 'new');
	staff bigint := (SELECT u.id FROM tenancy.users u JOIN tenancy.account a ON a.id = u.account_id WHERE a.email = 'staff@old.example');
	c bigint;
	a bigint;
	n bigint;
	i int;
BEGIN
	FOR i IN 1 .. 2 * current_setting('bench.runs')::int LOOP
		n := CASE WHEN i % 2 = 1 THEN current_setting('bench.small')::bigint
				  ELSE current_setting('bench.large')::bigint END;
		c := tenancy.create_client(s, 'client' || i, 'Client ' || i);
		a := tenancy.create_administration(c, 'dossier' || i, 'Dossier ' || i);
		PERFORM tenancy.grant_rights(staff, a, ARRAY['read', 'write']);
		PERFORM tenancy.grant_rights(tenancy.add_user(s, 'user' || i || '@client.example', 'external', c),
									 a, ARRAY['read', 'write', 'manage']);
		INSERT INTO bench (administration_id, lines, target_client)
		VALUES (a, n, tenancy.create_client(t, 'client' || i, 'Client ' || i));
	END LOOP;
END
$$;
INSERT INTO journal (administration_id, booked_on, amount, reference)
SELECT b.administration_id, date '2020-01-01' + (g % 2000)::int, (g % 1000) * 1.5, 'ref-' || g
  FROM bench b, LATERAL generate_series(1, b.lines) g;
INSERT INTO bank_link (administration_id, iban)
SELECT b.administration_id, 'NL00BANK' || g FROM bench b, generate_series(1, 3) g;
CREATE INDEX ON journal (administration_id, booked_on);
CREATE INDEX ON bank_link (administration_id);
VACUUM ANALYZE journal;
VACUUM ANALYZE bank_link;
-- one approved migration per dossier: source, client (its user), target
DO $$
DECLARE
	b record;
	m bigint;
BEGIN
	FOR b IN SELECT * FROM bench ORDER BY administration_id LOOP
		PERFORM tenancy.act_as((SELECT u.id FROM tenancy.users u JOIN tenancy.account a ON a.id = u.account_id WHERE a.email = 'sa1@old.example'));
		m := tenancy.request_migration(b.administration_id,
			(SELECT id FROM tenancy.compartment WHERE code = 'new'), 'archive_and_transfer');
		PERFORM tenancy.approve_migration(m);
		PERFORM tenancy.act_as((SELECT p.user_id FROM tenancy.permission p JOIN tenancy.users u ON u.id = p.user_id
								 WHERE p.administration_id = b.administration_id AND u.kind = 'external'));
		PERFORM tenancy.approve_migration(m);
		PERFORM tenancy.act_as((SELECT u.id FROM tenancy.users u JOIN tenancy.account a ON a.id = u.account_id WHERE a.email = 'ta@new.example'));
		PERFORM tenancy.approve_migration(m);
		UPDATE bench SET migration_id = m WHERE administration_id = b.administration_id;
	END LOOP;
	PERFORM tenancy.reset();
END
$$;
SELECT pg_size_pretty(pg_total_relation_size('journal')) AS journal_size, count(*) AS journal_lines FROM journal;
SQL

echo "== transfers (each in its own transaction, timed on the server, commit included)"
ta=$(psql_q -A -t -c "SELECT u.id FROM tenancy.users u JOIN tenancy.account a ON a.id = u.account_id WHERE a.email = 'ta@new.example'")
mapfile -t rows < <(psql_q -A -t -F ' ' -c "SELECT migration_id, target_client, lines, administration_id FROM bench ORDER BY lines, administration_id")
for row in "${rows[@]}"; do
	read -r m tc lines adm <<<"$row"
	# one session: stamps around the transaction, so the commit is inside
	ms=$(psql_q -A -t <<SQL
SELECT tenancy.act_as($ta) \\gset
SELECT clock_timestamp() AS t0 \\gset
BEGIN;
SELECT tenancy.transfer_migration($m, $tc, 'new-dossier-$adm') > 0 AS done \\gset
COMMIT;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 1);
SQL
)
	psql_q -c "UPDATE bench SET ms = $ms WHERE migration_id = $m"
	printf '   dossier %-4s %9s journal lines  transfer %8s ms\n' "$adm" "$lines" "$ms"
done

echo "== result"
psql_q <<'SQL'
SELECT lines AS journal_lines, count(*) AS transfers,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median_ms,
       min(ms) AS min_ms, max(ms) AS max_ms
  FROM bench GROUP BY lines ORDER BY lines;
SELECT m.state, count(*) AS migrations,
       sum((m.report->>'rows_removed')::int) AS bank_links_removed,
       (SELECT count(*) FROM journal j JOIN tenancy.administration a ON a.id = j.administration_id
         JOIN tenancy.compartment k ON k.id = a.compartment_id WHERE k.code = 'new') AS journal_lines_now_at_new_firm
  FROM tenancy.migration m GROUP BY m.state;
SQL
