#!/usr/bin/env bash
# test/bench/citus.sh -- tenancy on a Citus cluster against the same
# distributed table without tenancy (hand-written WHERE), side by side
#
#   test/bench/citus.sh            (after "make install", with Citus installed)
#
# Starts a coordinator and two workers with test/citus/cluster.sh (ports
# $TENANCY_CITUS_PORTS, default 56321-56323; data under
# $TENANCY_TMP/citus), builds one compartment with 20,000 administrations
# (4,000 clients of 5) and three users:
#   u3      read on administrations 1, 6667 and 13333
#   u1000   read on every 20th administration (1, 21, 41 ...)
#   u20000  read on all of them
# then distributes journal (protected, tenancy.distribute) and journal_plain
# (create_distributed_table, no tenancy), both with BENCH_ROWS_PER_ADM rows
# per administration (default 20: 400,000 rows).  pgbench, BENCH_T seconds
# (default 10) with BENCH_CLIENTS clients (default 2) per run, as an
# application role, one transaction per request:
#   point   one administration of the user (a router query):
#           tenancy: BEGIN; act_as_local(user); SELECT count(*), sum(amount)
#                    FROM journal WHERE administration_id = :adm; COMMIT
#           plain:   the same on journal_plain, no act_as_local
#   count   every row the user may read (a multi-shard query):
#           tenancy: BEGIN; act_as_local(user); SELECT count(*) FROM journal; COMMIT
#           plain:   SELECT count(*) FROM journal_plain WHERE administration_id IN
#                    (SELECT administration_id FROM grants WHERE user_id = :uid),
#                    grants a reference table
#   first   on a worker: BEGIN; act_as_local(user); SELECT tenancy.can(:adm);
#           COMMIT -- the first check of a transaction reads the replicas
# Prints a table of TPS and ratios (markdown) on stdout.
set -euo pipefail

cd "$(dirname "$0")/../.."
PGBIN=${PGBIN:-$(pg_config --bindir)}
export PGBIN
export TENANCY_CITUS_PORTS=${TENANCY_CITUS_PORTS:-"56321 56322 56323"}
read -r -a ports <<<"$TENANCY_CITUS_PORTS"
T=${BENCH_T:-10}
CLIENTS=${BENCH_CLIENTS:-2}
PER_ADM=${BENCH_ROWS_PER_ADM:-20}
WORK=${TENANCY_TMP:-/tmp/tenancy}/citus-bench
mkdir -p "$WORK"

eval "$(bash test/citus/cluster.sh start)"
export PGHOST PGPORT PGDATABASE PGUSER
trap 'bash test/citus/cluster.sh stop >/dev/null 2>&1 || true' EXIT

psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET client_min_messages = warning;
CREATE ROLE bench_app LOGIN IN ROLE tenancy_app;
CREATE TABLE grants (user_id bigint NOT NULL, administration_id bigint NOT NULL,
					 PRIMARY KEY (user_id, administration_id));
DO \$model\$
DECLARE
	comp	bigint;
	cli		bigint;
	u		bigint[];
	i		int;
	j		int;
BEGIN
	comp := tenancy.create_compartment(tenancy.create_subscription('Bench'), 'bench', 'Bench');
	FOR i IN 1..4000 LOOP
		cli := tenancy.create_client(comp, format('C%s', i), format('Client %s', i));
		FOR j IN 1..5 LOOP
			PERFORM tenancy.create_administration(cli, format('A%s', (i - 1) * 5 + j), 'A');
		END LOOP;
	END LOOP;
	u := ARRAY[tenancy.add_user(comp, 'u3@bench.example', 'internal'),
			   tenancy.add_user(comp, 'u1000@bench.example', 'internal'),
			   tenancy.add_user(comp, 'u20000@bench.example', 'internal')];
	INSERT INTO grants SELECT u[1], n FROM unnest(ARRAY[1, 6667, 13333]) n;
	INSERT INTO grants SELECT u[2], n FROM generate_series(1, 20000, 20) n;
	INSERT INTO grants SELECT u[3], n FROM generate_series(1, 20000) n;
END
\$model\$;
-- the catalog as grant_rights would write it, in one statement
INSERT INTO tenancy.permission (user_id, administration_id, compartment_id, can_read)
SELECT g.user_id, g.administration_id, a.compartment_id, true
  FROM grants g JOIN tenancy.administration a ON a.id = g.administration_id;
CREATE TABLE journal (id bigserial, administration_id bigint NOT NULL, amount numeric(12,2) NOT NULL,
					  PRIMARY KEY (administration_id, id));
CREATE TABLE journal_plain (LIKE journal INCLUDING ALL);
SELECT tenancy.distribute('journal');
SELECT create_distributed_table('journal_plain', 'administration_id', colocate_with => 'journal');
SELECT create_reference_table('grants');
INSERT INTO journal (administration_id, amount)
SELECT a, g FROM generate_series(1, 20000) a, generate_series(1, $PER_ADM) g;
INSERT INTO journal_plain SELECT * FROM journal;
GRANT SELECT ON journal, journal_plain, grants TO bench_app;
ANALYZE journal;
ANALYZE journal_plain;
SQL

uid() { psql -X -At -c "SELECT tenancy.find_user(c.id, '$1@bench.example') FROM tenancy.compartment c WHERE c.code = 'bench'"; }
U3=$(uid u3)
U1000=$(uid u1000)
U20000=$(uid u20000)

# pick: the pgbench line choosing one of the user's administrations
pick() {
	case $1 in
	u3) echo '\set adm 1 + random(0, 2) * 6666' ;;
	u1000) echo '\set adm 1 + random(0, 999) * 20' ;;
	u20000) echo '\set adm random(1, 20000)' ;;
	esac
}

# tps SCRIPT [PORT]: transactions per second of one pgbench run
tps() {
	"$PGBIN/pgbench" -n -h "$PGHOST" -p "${2:-$PGPORT}" -U bench_app -d "$PGDATABASE" \
		-c "$CLIENTS" -j "$CLIENTS" -T "$T" -f "$1" 2>&1 |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

echo "| query | user | plain TPS | tenancy TPS | tenancy / plain |"
echo "|---|---|---:|---:|---:|"
for user in u3 u1000; do
	id=$(eval echo "\$U${user#u}")
	{
		pick "$user"
		echo "BEGIN;"
		echo "SELECT count(*), sum(amount) FROM journal_plain WHERE administration_id = :adm;"
		echo "COMMIT;"
	} >"$WORK/point_plain.sql"
	{
		pick "$user"
		echo "BEGIN;"
		echo "SELECT tenancy.act_as_local($id);"
		echo "SELECT count(*), sum(amount) FROM journal WHERE administration_id = :adm;"
		echo "COMMIT;"
	} >"$WORK/point_tenancy.sql"
	{
		echo "BEGIN;"
		echo "SELECT count(*) FROM journal_plain WHERE administration_id IN"
		echo "  (SELECT administration_id FROM grants WHERE user_id = $id);"
		echo "COMMIT;"
	} >"$WORK/count_plain.sql"
	{
		echo "BEGIN;"
		echo "SELECT tenancy.act_as_local($id);"
		echo "SELECT count(*) FROM journal;"
		echo "COMMIT;"
	} >"$WORK/count_tenancy.sql"
	for q in point count; do
		p=$(tps "$WORK/${q}_plain.sql")
		t=$(tps "$WORK/${q}_tenancy.sql")
		echo "| $q | $user | $p | $t | $(awk -v a="$t" -v b="$p" 'BEGIN { printf "%.2f", a / b }') |"
	done
done

echo
echo "| on a worker: first check of a transaction | user | TPS | mean latency (ms) |"
echo "|---|---|---:|---:|"
for user in u3 u20000; do
	id=$(eval echo "\$U${user#u}")
	{
		pick "$user"
		echo "BEGIN;"
		echo "SELECT tenancy.act_as_local($id);"
		echo "SELECT tenancy.can(:adm);"
		echo "COMMIT;"
	} >"$WORK/first.sql"
	t=$(tps "$WORK/first.sql" "${ports[1]}")
	echo "| act_as_local + can() | $user | $t | $(awk -v a="$t" -v c="$CLIENTS" 'BEGIN { printf "%.3f", 1000 * c / a }') |"
done
