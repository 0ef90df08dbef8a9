#!/usr/bin/env bash
# test/bench/saas.sh -- tenancy at platform scale, with a pooled application
# server that changes user on every request (see saas_model.sql for the data)
#
# Variants, side by side in one run, their order rotated between rounds:
#   T  tenancy: BEGIN; SELECT tenancy.act_as_local(:u); <query>; COMMIT
#   H  the usual hand-written policy: set_config('app.user_id', :u, true) and
#      EXISTS (SELECT 1 FROM perm ...) in a row-security policy
#   N  the limit: the same round trips with no check at all (set_config of an
#      unused setting, then the query on an unprotected copy)
# Workloads (a user drawn at random per transaction unless said otherwise):
#   W1  users of all small firms, sum of one administration they may read
#   W2  users of the big firm, likewise
#   W3  W1, and the same big-firm user, while a background client commits
#       revoke_rights/grant_rights in random small firms (BENCH_RATES per s)
#   W4  the same big-firm user every time
#   W5  a big-firm user counts, and lists the 50 newest of, all it sees;
#       N reads a table of that firm's lines alone (the work the user needs
#       done); W5-all: the same with N on the full unprotected copy (what
#       "no check at all" reads)
# Before the rounds of a workload, each variant runs once unmeasured for
# BENCH_WARMUP seconds (buffers and plans warm, as on a server in service).
# Then: act_as_local plus the first check for big-firm users the backend
# has not seen and has seen, in a new backend after the workloads and in
# one that has read the (vacuumed) catalog before, and backend memory over
# BENCH_SWITCHES switches across 10,000 users.
#
#   test/bench/saas.sh                  # ~20 min on 2 cores
#   BENCH_T=3 BENCH_ROUNDS=1 test/bench/saas.sh   # smoke run
#
# Variables: BENCH_T seconds per run [10], BENCH_ROUNDS [3], BENCH_WARMUP
# [3], BENCH_SHARED_BUFFERS [2GB; the data set is 1.4 GB], BENCH_HUGE_PAGES
# [try: PostgreSQL's default; huge pages are used when the machine has them
# reserved, e.g. sysctl -w vm.nr_hugepages=1200], BENCH_CLIENTS [2],
# BENCH_RATES [5 50], BENCH_SWITCHES [100000], BENCH_PORT [55450],
# TENANCY_TMP (where the cluster lives), KEEP=1 (leave it running).
# Writes test/bench/saas-results.md and prints it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cluster="$root/test/cluster.sh"
T=${BENCH_T:-10}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-3}
CLIENTS=${BENCH_CLIENTS:-2}
RATES=${BENCH_RATES:-"5 50"}
SWITCHES=${BENCH_SWITCHES:-100000}
PORT=${BENCH_PORT:-55450}
NAME=saas
DB=saas
out="$here/out-saas"
results="$here/saas-results.md"
log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# a server sized for its data set (1.4 GB): its rights catalog and the
# tables read stay in shared buffers, as on a platform's database server
SHARED_BUFFERS=${BENCH_SHARED_BUFFERS:-2GB}
HUGE_PAGES=${BENCH_HUGE_PAGES:-try}
huge_held() { awk '/HugePages_(Total|Free|Rsvd)/ {v[$1] = $2} END {print v["HugePages_Total:"] - v["HugePages_Free:"] + v["HugePages_Rsvd:"]}' /proc/meminfo 2>/dev/null || echo 0; }
held_before=$(huge_held)
log "starting cluster '$NAME' on port $PORT (shared_buffers $SHARED_BUFFERS, huge_pages $HUGE_PAGES)"
TENANCY_CLUSTER_CONF="shared_buffers = $SHARED_BUFFERS
huge_pages = $HUGE_PAGES" bash "$cluster" start "$NAME" "$PORT"
if [ "$(huge_held)" -gt "$held_before" ]; then HUGE="huge pages in use"; else HUGE="no huge pages"; fi
log "$HUGE"
eval "$(bash "$cluster" env "$NAME")"
stop_cluster() {
	[ -n "${BG_PID:-}" ] && kill "$BG_PID" 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then
		log "KEEP=1: cluster left running"
	else
		bash "$cluster" stop "$NAME" || true
	fi
}
trap stop_cluster EXIT
rm -rf "$out"
mkdir -p "$out"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "ALTER SYSTEM SET autovacuum = off" \
	-c "ALTER SYSTEM SET max_parallel_workers_per_gather = 0" -c "SELECT pg_reload_conf()" >/dev/null
psql -X -q -d postgres -c "CREATE DATABASE $DB"
t0=$(date +%s)
log "loading the data set (60,050 users, 3.1M permissions, 2.4M lines)"
psql -X -q -d "$DB" -f "$here/saas_model.sql" >"$out/load.log" 2>&1 || { cat "$out/load.log"; exit 1; }
log "loaded in $(($(date +%s) - t0))s"

# ------------------------------------------------------------------
# pgbench scripts: one per workload and variant
# ------------------------------------------------------------------
identity() { # variant
	case $1 in
	T) echo "SELECT tenancy.act_as_local(:u);" ;;
	H) echo "SELECT set_config('app.user_id', :u::text, true);" ;;
	N) echo "SELECT set_config('app.unused', :u::text, true);" ;;
	esac
}
table() { # variant
	case $1 in T) echo journal_line ;; H) echo journal_line_h ;; N) echo journal_line_n ;; esac
}
draw() { # workload
	case $1 in
	W1)	# a small firm, one of its 30 users, an administration that user reads
		cat <<'V'
\set f random(1, 2000)
\set x random(1, 30)
\set u (:f - 1) * 30 + :x
\set adm (:f - 1) * 50 + case when :x <= 20 then random(1, 50) else (:x - 21) * 5 + random(1, 5) end
V
		;;
	W2) printf '%s\n' '\set u 60000 + random(1, 50)' '\set adm 100000 + random(1, 20000)' ;;
	W4) printf '%s\n' '\set u 60001' '\set adm 100000 + random(1, 20000)' ;;
	W5 | W5-all) printf '%s\n' '\set u 60000 + random(1, 50)' ;;
	esac
}
script() { # workload variant file
	local w=$1 v=$2 t
	t=$(table "$v")
	{
		draw "$w"
		echo "BEGIN;"
		identity "$v"
		if [ "$w" = W5 ] || [ "$w" = W5-all ]; then
			[ "$w" = W5 ] && [ "$v" = N ] && t=journal_line_n_big
			echo "SELECT count(*) FROM $t;"
			echo "SELECT administration_id, id, booked_on, amount FROM $t ORDER BY booked_on DESC, id DESC LIMIT 50;"
		else
			echo "SELECT sum(amount) FROM $t WHERE administration_id = :adm;"
		fi
		echo "END;"
	} >"$3"
}
# the background client of W3: a revoke and a grant, each its own transaction
cat >"$out/changes.sql" <<'S'
\set f random(1, 2000)
\set u (:f - 1) * 30 + random(1, 20)
\set adm (:f - 1) * 50 + random(1, 50)
SELECT tenancy.revoke_rights(:u, :adm, '{write}');
SELECT tenancy.grant_rights(:u, :adm, '{write}');
S

run() { # label workload variant [seconds] -> tps
	local label=$1 w=$2 v=$3 f="$out/$2-$3.sql"
	script "$w" "$v" "$f"
	pgbench -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "${4:-$T}" -U saas_app -f "$f" "$DB" \
		>"$out/$label-$v.log" 2>&1 || { cat "$out/$label-$v.log" >&2; exit 1; }
	sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out/$label-$v.log"
}
background() { # rate
	pgbench -n -M prepared -c 1 -R "$(( $1 / 2 > 0 ? $1 / 2 : 1 ))" -T 100000 \
		-f "$out/changes.sql" "$DB" >"$out/changes-$1.log" 2>&1 &
	BG_PID=$!
	sleep 1
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

declare -A TPS
measure() { # label workload
	local r v order
	for v in T H N; do
		run "$1-warmup" "$2" "$v" "$WARMUP" >/dev/null
	done
	for r in $(seq 1 "$ROUNDS"); do
		case $((r % 3)) in 1) order="T H N" ;; 2) order="H N T" ;; 0) order="N T H" ;; esac
		for v in $order; do
			TPS[$1,$v,$r]=$(run "$1" "$2" "$v")
			log "$1 round $r $v: ${TPS[$1,$v,$r]} TPS"
		done
	done
}
LABELS=()
for w in W1 W2 W4 W5 W5-all; do
	measure "$w" "$w"
	LABELS+=("$w")
done
for rate in $RATES; do
	background "$rate"
	measure "W3-$rate-W1" W1
	measure "W3-$rate-W4" W4
	kill "$BG_PID" 2>/dev/null || true
	wait "$BG_PID" 2>/dev/null || true
	BG_PID=
	LABELS+=("W3-$rate-W1" "W3-$rate-W4")
done

# ------------------------------------------------------------------
# first check after act_as_local, and memory over many switches
# ------------------------------------------------------------------
# in a transaction block, as an application server calls it; two rounds
# over the 50 big-firm users: not seen by this backend, then seen; each
# user asks about an administration of its own (u * MULT modulo 20,000)
cat >"$out/first-check.sql" <<'SQL'
BEGIN;
DO $$
DECLARE
	t0 timestamptz;
	t1 timestamptz;
	phase text;
	a float8[];
	c float8[];
BEGIN
	FOREACH phase IN ARRAY ARRAY['not seen', 'seen'] LOOP
		a := '{}';
		c := '{}';
		FOR u IN 60001..60050 LOOP
			t0 := clock_timestamp();
			PERFORM tenancy.act_as_local(u);
			t1 := clock_timestamp();
			PERFORM tenancy.can(100000 + u * MULT % 20000 + 1);
			a := a || extract(epoch FROM t1 - t0)::float8 * 1e6;
			c := c || extract(epoch FROM clock_timestamp() - t1)::float8 * 1e6;
		END LOOP;
		RAISE NOTICE '%: act_as_local % us, first check % us, together % us', phase,
			(SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 1) FROM unnest(a) x),
			(SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 1) FROM unnest(c) x),
			(SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x + y)::numeric, 1)
			   FROM unnest(a, c) v(x, y));
	END LOOP;
END $$;
COMMIT;
SQL
first_check() { # label multiplier [SQL run first in the same backend, as postgres]
	log "act_as_local plus the first check: $1"
	{
		[ -n "${3:-}" ] && printf '%s\n' "$3"
		echo "SET ROLE saas_app;"
		sed "s/MULT/$2/" "$out/first-check.sql"
	} | psql -X -q -At -d "$DB" 2>&1 | sed -n "s/^.*NOTICE:  /    $1, /p" >>"$out/first-check.txt"
}
: >"$out/first-check.txt"
# a new backend right after the workloads: each 4 kB page of shared memory
# it touches for the first time costs it a page fault, and the pages that
# the workloads left prunable (autovacuum is off) it prunes; with shared
# buffers smaller than the data set, it also reads pages from the OS
first_check "new backend" 397
# a backend of a server in service: the catalog vacuumed (autovacuum is off
# here) and in shared buffers, and read by this backend before, as a pooled
# backend that has served requests has; other administrations are asked
psql -X -q -At -d "$DB" >/dev/null <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
VACUUM tenancy.users, tenancy.administration, tenancy.permission;
SELECT pg_prewarm(c.oid) FROM pg_class c
 WHERE c.relnamespace = 'tenancy'::regnamespace
   AND c.relname IN ('users', 'users_pkey', 'administration', 'administration_pkey',
					 'permission', 'permission_pkey');
SQL
first_check "backend in service" 911 "SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM tenancy.permission WHERE user_id > 0 AND administration_id > 0 \\gset
SELECT count(*) FROM tenancy.users WHERE id > 0 \\gset
SELECT count(*) FROM tenancy.administration WHERE id > 0 \\gset
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT count(*) FROM tenancy.permission \\gset
SELECT count(*) FROM tenancy.users \\gset
SELECT count(*) FROM tenancy.administration \\gset"
# shared buffers a request reads, by variant: what a request costs beyond
# its instructions (each page is a buffer lookup, a pin and cache misses)
: >"$out/buffers.txt"
for w in W1 W2; do
	for v in T H N; do
		before=$(psql -X -At -d "$DB" -c "SELECT blks_hit + blks_read FROM pg_stat_database WHERE datname = current_database()")
		pgbench -n -M prepared -c 1 -t 5000 -U saas_app -f "$out/$w-$v.sql" "$DB" >/dev/null 2>&1
		sleep 1		# the backend's statistics reach the collector at its exit
		after=$(psql -X -At -d "$DB" -c "SELECT blks_hit + blks_read FROM pg_stat_database WHERE datname = current_database()")
		awk -v w="$w" -v v="$v" -v d="$((after - before))" \
			'BEGIN { printf "    %s %s: %.1f buffers per request\n", w, v, d / 5000 }' >>"$out/buffers.txt"
	done
done
log "memory over $SWITCHES switches across 10,000 users"
switches="BEGIN;
DO \$\$
BEGIN
	FOR i IN 1..$SWITCHES LOOP
		PERFORM tenancy.act_as_local((i % 10000) * 6 + 1);
		PERFORM tenancy.can(((i % 10000) * 6) / 30 * 50 + 1);
	END LOOP;
END \$\$;
COMMIT;"
psql -X -q -At -U saas_app -d "$DB" >"$out/memory.txt" 2>&1 <<SQL
SELECT 'before: ' || sum(total_bytes) FROM pg_backend_memory_contexts;
$switches
SELECT 'after $SWITCHES: ' || sum(total_bytes) FROM pg_backend_memory_contexts;
$switches
SELECT 'after twice that: ' || sum(total_bytes) FROM pg_backend_memory_contexts;
SQL

# ------------------------------------------------------------------
# results
# ------------------------------------------------------------------
med() { # label variant
	local r
	for r in $(seq 1 "$ROUNDS"); do echo "${TPS[$1,$2,$r]}"; done | median
}
{
	echo "# tenancy at platform scale"
	echo
	echo "\`test/bench/saas.sh\` ($(date -u '+%Y-%m-%d'), git $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'),"
	echo "PostgreSQL $(psql -X -At -d "$DB" -c 'SHOW server_version'), $(nproc) CPUs, shared_buffers $SHARED_BUFFERS ($HUGE), pgbench -M prepared -c $CLIENTS -j $CLIENTS -T $T,"
	echo "median of $ROUNDS rounds, variants' order rotated). TPS:"
	echo
	echo "| workload | T | H | N | T/H | T/N |"
	echo "|---|---:|---:|---:|---:|---:|"
	for l in "${LABELS[@]}"; do
		t=$(med "$l" T); h=$(med "$l" H); n=$(med "$l" N)
		awk -v l="$l" -v t="$t" -v h="$h" -v n="$n" \
			'BEGIN { printf "| %s | %.0f | %.0f | %.0f | %.2f | %.2f |\n", l, t, h, n, t / h, t / n }'
	done
	echo
	echo "W3-R-W1 and W3-R-W4: W1 and W4 while R catalog changes per second commit in small firms."
	echo
	echo "act_as_local plus the first check, medians over 50 big-firm users:"
	echo
	cat "$out/first-check.txt"
	echo
	echo "Shared buffers read per request (pg_stat_database, 5,000 requests, one client):"
	echo
	cat "$out/buffers.txt"
	echo
	echo "Backend memory (bytes) over $SWITCHES switches across 10,000 users, twice:"
	echo
	sed 's/^/    /' "$out/memory.txt"
} >"$results"
cat "$results"
