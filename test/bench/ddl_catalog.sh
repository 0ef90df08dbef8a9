#!/usr/bin/env bash
# test/bench/ddl_catalog.sh -- what tenancy's event triggers add to a DDL
# statement when the catalog is large
#
# tenancy's ddl_command_end trigger asks derived_problems() about the
# relations every DDL statement touched (views, rules, foreign keys,
# inheritance, R24).  That query must pay for what the statement touched,
# not for the size of the catalog.  This script builds one throw-away
# cluster with two databases holding the same catalog: BENCH_TABLES tables
# with a foreign key into a lookup table, BENCH_TABLES inheritance children
# of one parent, and a protected table with a partition per administration
# of the regression fixture; "T" has tenancy, "N" has not.  In each, one
# session runs BENCH_STATEMENTS statements "ALTER TABLE zz ADD COLUMN ..." on
# an unrelated table (JIT on, the server's default), databases alternating
# over BENCH_ROUNDS rounds; the first statement of a session (which plans
# the trigger's query) is left out.  Prints the median milliseconds per
# statement of each, and T - N.
#
#   bash test/bench/ddl_catalog.sh                 # ~3 min on 2 cores
#   BENCH_TABLES=500 bash test/bench/ddl_catalog.sh
#
# Variables: BENCH_TABLES [2000], BENCH_STATEMENTS [30], BENCH_ROUNDS [3],
# BENCH_PORT [55461], TENANCY_TMP (where the cluster lives), KEEP=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cluster="$root/test/cluster.sh"
TABLES=${BENCH_TABLES:-2000}
STATEMENTS=${BENCH_STATEMENTS:-30}
ROUNDS=${BENCH_ROUNDS:-3}
PORT=${BENCH_PORT:-55461}
NAME=ddlcat
log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

bash "$cluster" start "$NAME" "$PORT" >/dev/null
eval "$(bash "$cluster" env "$NAME")"
stop_cluster() { [ "${KEEP:-0}" = 1 ] || bash "$cluster" stop "$NAME" >/dev/null || true; }
trap stop_cluster EXIT

build() { # database
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $1"
	psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "CREATE TABLE lookup (id int PRIMARY KEY)" \
		-c "CREATE TABLE inh_parent (a int)" -c "CREATE TABLE zz (a int)"
	# in batches: one transaction's locks must fit max_locks_per_transaction
	for ((b = 0; b < TABLES; b += 200)); do
		psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "DO \$\$ BEGIN
			FOR i IN $((b + 1))..$((b + 200 < TABLES ? b + 200 : TABLES)) LOOP
				EXECUTE format('CREATE TABLE fk_%s (id int REFERENCES lookup)', i);
				EXECUTE format('CREATE TABLE ch_%s () INHERITS (inh_parent)', i);
			END LOOP; END \$\$"
	done
}
log "building two catalogs of $TABLES foreign keys and $TABLES inheritance children"
build ddl_n
build ddl_t
(cd "$root" && psql -X -q -v ON_ERROR_STOP=1 -d ddl_t -f test/fixture.sql >/dev/null)
psql -X -q -v ON_ERROR_STOP=1 -d ddl_t <<'SQL'
SET ROLE regress_owner;
CREATE TABLE public.ledger (administration_id bigint NOT NULL, amount numeric)
	PARTITION BY LIST (administration_id);
SELECT tenancy.protect('public.ledger');
DO $$ BEGIN
FOR i IN 1..6 LOOP
	EXECUTE format('CREATE TABLE public.ledger_%s PARTITION OF public.ledger FOR VALUES IN (%s)', i, i);
END LOOP; END $$;
SQL

column=0
run() { # database -> the milliseconds of each statement but the first, one a line
	local sql="\\timing on"$'\n' k
	for ((k = 0; k <= STATEMENTS; k++)); do
		column=$((column + 1))
		sql+="ALTER TABLE zz ADD COLUMN c$column int;"$'\n'
	done
	psql -X -q -v ON_ERROR_STOP=1 -d "$1" <<<"$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
: >"/tmp/ddl_catalog.$$.T"
: >"/tmp/ddl_catalog.$$.N"
for ((r = 0; r < ROUNDS; r++)); do
	if ((r % 2 == 0)); then order="T N"; else order="N T"; fi
	for v in $order; do
		db=ddl_n
		[ "$v" = T ] && db=ddl_t
		run "$db" >>"/tmp/ddl_catalog.$$.$v"
	done
done
t=$(median <"/tmp/ddl_catalog.$$.T")
n=$(median <"/tmp/ddl_catalog.$$.N")
rm -f "/tmp/ddl_catalog.$$.T" "/tmp/ddl_catalog.$$.N"
echo "PostgreSQL $(psql -X -At -d postgres -c 'SHOW server_version'), jit $(psql -X -At -d postgres -c 'SHOW jit'), $TABLES foreign keys and $TABLES inheritance children, $((ROUNDS * STATEMENTS)) statements each"
awk -v t="$t" -v n="$n" 'BEGIN {printf "ALTER TABLE ... ADD COLUMN, median ms: T %.2f  N %.2f  T - N %.2f\n", t, n, t - n}'
