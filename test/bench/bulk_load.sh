#!/usr/bin/env bash
# test/bench/bulk_load.sh -- bulk loading into a protected table, measured
#
#   bash test/bench/bulk_load.sh [ROWS]     (default 200000)
#
# COPY ... FROM into a table with row security is refused by PostgreSQL
# (0A000, "COPY FROM not supported with row-level security"), for the
# application role and for a non-superuser owner alike.  The supported path
# keeps every rule: in one transaction, act as the user (act_as_local), COPY
# into a temporary staging table, then INSERT ... SELECT into the protected
# table, so that every row passes the policies and the guard trigger (R2, R7,
# R12).  This script measures that path against a plain COPY into an
# unprotected copy of the table (same columns, keys and indexes), in the
# database given by the PG* environment (a throw-away cluster: it creates
# and drops database bulk_load and roles bulk_*), and prints TAP lines:
#   - the direct COPY into the protected table is refused with 0A000;
#   - the staging path loads every row, and a row of an administration the
#     user may not write makes the whole load fail (nothing half-loaded);
#   - the rows per second of both and their ratio (a "# " line).
set -euo pipefail

rows=${1:-200000}
db=bulk_load
psql_su() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

psql_su -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql_su -d postgres <<'SQL'
SET client_min_messages = warning;
DROP ROLE IF EXISTS bulk_app;
DROP ROLE IF EXISTS bulk_owner;
CREATE ROLE bulk_owner NOLOGIN IN ROLE tenancy_admin;
CREATE ROLE bulk_app LOGIN IN ROLE tenancy_app;
SQL
psql_su -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION tenancy;
GRANT CREATE ON SCHEMA public TO bulk_owner;
SELECT tenancy.create_subscription('Bulk') \gset
SELECT tenancy.create_compartment(1, 'bulk', 'Bulk');
SELECT tenancy.create_client(1, 'c', 'Client');
SELECT tenancy.create_administration(1, 'a' || i, 'Administration ' || i) FROM generate_series(1, 10) i;
SELECT tenancy.add_user(1, 'loader@bulk.nl', 'internal');
SELECT tenancy.grant_rights(1, i, '{read,write}') FROM generate_series(1, 9) i;
SET ROLE bulk_owner;
CREATE TABLE journal_line (
	administration_id bigint NOT NULL,
	id bigserial,
	booked_on date NOT NULL,
	amount numeric(12,2) NOT NULL,
	reference text,
	PRIMARY KEY (administration_id, id)
);
CREATE INDEX ON journal_line (administration_id, booked_on);
CREATE TABLE journal_plain (LIKE journal_line INCLUDING ALL);
SELECT tenancy.protect('journal_line');
RESET ROLE;
GRANT SELECT, INSERT ON journal_line, journal_plain TO bulk_app;
GRANT USAGE ON SEQUENCE journal_line_id_seq TO bulk_app;
SQL

data=$(mktemp)
trap 'rm -f "$data"' EXIT
psql_su -d "$db" -A -t -c "COPY (SELECT 1 + i % 9, date '2026-01-01' + i % 365, (i % 1000) + 0.25, 'line ' || i FROM generate_series(1, $rows) i) TO STDOUT WITH (FORMAT csv)" >"$data"

n=0
tap() { n=$((n + 1)); if [ "$1" = ok ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

# 1. the direct COPY is refused (0A000), as PostgreSQL refuses it under row security
out=$(psql -X -q -U bulk_app -d "$db" -v VERBOSITY=verbose \
	-c "BEGIN" -c "SELECT tenancy.act_as_local(1)" \
	-c "\\copy journal_line (administration_id, booked_on, amount, reference) FROM '$data' WITH (FORMAT csv)" 2>&1 || true)
if grep -q '0A000' <<<"$out"; then tap ok "COPY FROM into a protected table is refused with 0A000"; else tap bad "COPY FROM into a protected table is refused with 0A000: $out"; fi

# 2. the plain COPY into the unprotected copy, timed
t0=$(date +%s.%N)
psql -X -q -v ON_ERROR_STOP=1 -U bulk_app -d "$db" \
	-c "\\copy journal_plain (administration_id, booked_on, amount, reference) FROM '$data' WITH (FORMAT csv)"
t1=$(date +%s.%N)

# 3. the supported path, timed: staging table, then INSERT ... SELECT under the identity
psql -X -q -v ON_ERROR_STOP=1 -U bulk_app -d "$db" <<SQL
BEGIN;
SELECT tenancy.act_as_local(1) \\g /dev/null
CREATE TEMP TABLE journal_stage (administration_id bigint, booked_on date,
	amount numeric(12,2), reference text) ON COMMIT DROP;
\\copy journal_stage FROM '$data' WITH (FORMAT csv)
INSERT INTO journal_line (administration_id, booked_on, amount, reference)
	SELECT administration_id, booked_on, amount, reference FROM journal_stage;
COMMIT;
SQL
t2=$(date +%s.%N)

loaded=$(psql_su -d "$db" -A -t -c "SELECT count(*) FROM journal_line")
if [ "$loaded" = "$rows" ]; then tap ok "the staging path loaded all $rows rows"; else tap bad "the staging path loaded $loaded of $rows rows"; fi

# 4. a row of administration 10 (no write right): the whole load is refused
out=$(psql -X -q -v ON_ERROR_STOP=1 -U bulk_app -d "$db" 2>&1 <<'SQL' || true
BEGIN;
SELECT tenancy.act_as_local(1) \g /dev/null
CREATE TEMP TABLE journal_stage (administration_id bigint, booked_on date,
	amount numeric(12,2), reference text) ON COMMIT DROP;
INSERT INTO journal_stage VALUES (1, '2026-02-01', 1, 'allowed'), (10, '2026-02-01', 1, 'not allowed');
INSERT INTO journal_line (administration_id, booked_on, amount, reference)
	SELECT administration_id, booked_on, amount, reference FROM journal_stage;
COMMIT;
SQL
)
after=$(psql_su -d "$db" -A -t -c "SELECT count(*) FROM journal_line")
if grep -q '^ERROR' <<<"$out" && [ "$after" = "$rows" ]; then
	tap ok "a staged row of an administration the user may not write refuses the whole load (R7)"
else
	tap bad "a staged row of an administration the user may not write refuses the whole load (R7): $out, $after rows"
fi

awk -v r="$rows" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
	plain = r / (b - a); staged = r / (c - b);
	printf "# %d rows: COPY into the unprotected table %.0f rows/s (%.2f s); staging COPY + INSERT ... SELECT into the protected table %.0f rows/s (%.2f s); ratio %.2f\n",
		r, plain, b - a, staged, c - b, staged / plain }'

psql_su -d postgres -c "DROP DATABASE $db" -c "DROP ROLE bulk_app" -c "DROP ROLE bulk_owner"
