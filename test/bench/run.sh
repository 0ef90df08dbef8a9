#!/usr/bin/env bash
# test/bench/run.sh -- how fast is a tenancy-protected table?
#
# Loads one data set into three tables and runs the same five queries with
# pgbench against each, for a user with 3 and one with 1,000 administrations:
#   protected    jl_protected, tenancy.protect(), identity from tenancy.act_as()
#   unprotected  jl_plain, no row security, WHERE administration_id = ANY('{...}')
#   hand-RLS     jl_rls, the usual EXISTS (SELECT ... FROM perm ...) policy
# in up to four modes, side by side in every round:
#   prepared      pgbench -M prepared, identity once per connection (act_as)
#   simple        pgbench -M simple (every statement parsed and planned),
#                 identity once per connection
#   txn-prepared  -M prepared, identity set in every transaction as a pooled
#                 server does: BEGIN; SELECT tenancy.act_as_local(u); <query>;
#                 COMMIT; against the same round trips in plain SQL:
#                 BEGIN; SELECT set_config('bench.unused', u, true);
#                 <query with WHERE administration_id = ANY(...)>; COMMIT
#                 (protected and unprotected only)
#   txn-simple    the same in -M simple
# then times planning of every query (median "Planning Time" of repeated
# EXPLAIN (SUMMARY)) and measures backend memory over many identity
# switches.  See README.md.
#
# Environment (defaults in brackets):
#   BENCH_ROWS      journal lines [5000000]
#   BENCH_MODES     which modes [prepared simple txn-prepared txn-simple]
#   BENCH_T         seconds per pgbench run [5; 3 when BENCH_ROWS < 1000000]
#   BENCH_ROUNDS    runs per query, user, mode and variant; the median counts [3; 1 when small]
#   BENCH_QUERIES   which queries [point month newest count search]
#   BENCH_PLAN_REPS EXPLAIN repetitions per query, user and variant in the
#                   planning test; the first 5 are not counted [45]
#   BENCH_WARMUP    seconds of unmeasured pgbench before each run [1]
#   BENCH_CLIENTS   pgbench -c and -j [2]
#   BENCH_SWITCHES  identity switches in the memory test [100000]
#   BENCH_PORT      port of the throw-away cluster [55440]
#   KEEP=1          leave the cluster running at the end
#   TENANCY_TMP     where test/cluster.sh puts the cluster [/tmp/tenancy]
#
# Writes test/bench/results.md, test/bench/explain.txt and, in
# test/bench/out/, the generated pgbench scripts and their logs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cluster="$root/test/cluster.sh"

ROWS=${BENCH_ROWS:-5000000}
if [ "$ROWS" -lt 1000000 ]; then
	T=${BENCH_T:-3}
	WARMUP=${BENCH_WARMUP:-1}
	ROUNDS=${BENCH_ROUNDS:-1}
else
	T=${BENCH_T:-5}
	WARMUP=${BENCH_WARMUP:-1}
	ROUNDS=${BENCH_ROUNDS:-3}
fi
CLIENTS=${BENCH_CLIENTS:-2}
MODES=${BENCH_MODES:-"prepared simple txn-prepared txn-simple"}
PLAN_REPS=${BENCH_PLAN_REPS:-45}
for mode in $MODES; do
	case $mode in
	prepared | simple | txn-prepared | txn-simple) ;;
	*)
		echo "BENCH_MODES: unknown mode '$mode' (prepared simple txn-prepared txn-simple)" >&2
		exit 2
		;;
	esac
done
if [ "$PLAN_REPS" -lt 6 ]; then
	echo "BENCH_PLAN_REPS must be at least 6" >&2
	exit 2
fi
SWITCHES=${BENCH_SWITCHES:-100000}
PORT=${BENCH_PORT:-55440}
NAME=bench
DB=bench
out="$here/out"
results="$here/results.md"
explain="$here/explain.txt"

if [ "$ROWS" -lt 16000 ]; then
	echo "BENCH_ROWS must be at least 16000" >&2
	exit 2
fi
# line i belongs to administration n = i % 2000 + 1; K lines per administration
K=$((ROWS / 2000))
KMAX=$((K - 1))
# line i has reference 'INV-' || (i % REFMOD); see load.sql
REFMOD=$((2000 * (ROWS / 8000) + 7))

log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "ERR"; else print v[int((NR + 1) / 2)] }'; }

# which build of the extension is measured (it may be reinstalled while we run)
ext_stamp() {
	local so
	so="$(pg_config --pkglibdir)/tenancy.so"
	if [ -f "$so" ]; then
		echo "tenancy.so $(md5sum <"$so" | cut -c1-12), installed $(date -u -r "$so" '+%Y-%m-%d %H:%M:%S UTC')"
	else
		echo "tenancy.so not installed"
	fi
}
EXT_START=$(ext_stamp)
GIT_REV=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$root" status --porcelain -- src tenancy--1.0.sql 2>/dev/null)" ]; then
	GIT_REV="$GIT_REV (src/ or tenancy--1.0.sql modified)"
fi

# ------------------------------------------------------------------
# cluster
# ------------------------------------------------------------------
log "starting cluster '$NAME' on port $PORT"
"$cluster" start "$NAME" "$PORT"
eval "$("$cluster" env "$NAME")"
stop_cluster() {
	if [ "${KEEP:-0}" = 1 ]; then
		log "KEEP=1: cluster left running; eval \"\$($cluster env $NAME)\"; psql -d $DB"
	else
		"$cluster" stop "$NAME" || true
	fi
}
trap stop_cluster EXIT

rm -rf "$out"
mkdir -p "$out/scripts" "$out/logs"

psql_su() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
psql_app() { psql -X -q -v ON_ERROR_STOP=1 -U bench_app -d "$DB" "$@"; }

# ------------------------------------------------------------------
# data
# ------------------------------------------------------------------
t_load0=$(date +%s)
# no autovacuum: its ANALYZE holds a snapshot that keeps the explicit VACUUM
# from marking pages all-visible, unevenly between the three tables, and
# index-only scans would then differ by table rather than by variant
# no parallel workers: with 2 clients on 2 cores a worker only competes with
# the other client, and the planner parallelises the variants differently
# (it cannot see the length of visible_administrations()), which would
# measure the planner's guess, not the cost of row security (that parallel
# plans stay correct is proven by sql/identity.sql)
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "ALTER SYSTEM SET autovacuum = off" \
	-c "ALTER SYSTEM SET max_parallel_workers_per_gather = 0" -c "SELECT pg_reload_conf()" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $DB"
log "tenancy model: 400 clients, 2000 administrations, users u3 and u1000"
psql_su -f "$here/model.sql"
log "loading $ROWS journal lines (x3 tables)"
psql_su -v rows="$ROWS" -v refmod="$REFMOD" -f "$here/load.sql" >"$out/load.log" 2>&1 ||
	{ cat "$out/load.log" >&2; exit 1; }
t_load=$(($(date +%s) - t_load0))
log "data loaded in ${t_load}s"
log "all-visible pages: $(psql_su -At -c "SELECT string_agg(relname || ' ' || relallvisible || '/' || relpages, ', ' ORDER BY relname) FROM pg_class WHERE relname IN ('jl_plain', 'jl_protected', 'jl_rls')")"

OFF=$(psql_su -At -c "SELECT min(id - n) FROM bench_adm")
declare -A UID_OF LIST_OF NEXPR CHECK_N
for u in u3 u1000; do
	UID_OF[$u]=$(psql_su -At -c "SELECT id FROM bench_user WHERE name = '$u'")
	LIST_OF[$u]=$(psql_su -At -c "SELECT '{' || string_agg(a.id::text, ',' ORDER BY a.id) || '}'
		FROM bench_grant g JOIN bench_adm a USING (n) WHERE g.user_name = '$u'")
done
# a random administration n of the user (must match bench_grant in model.sql)
NEXPR[u3]='1 + 666 * random(0, 2)'
NEXPR[u1000]='2 * random(1, 1000)'
# fixed values for the result check and the EXPLAIN output
CHECK_N[u3]=667
CHECK_N[u1000]=1000
CHECK_K=5
CHECK_M=13
USERS="u3 u1000"
QUERIES=${BENCH_QUERIES:-"point month newest count search"}
VARIANTS="protected plain rls"
declare -A QTITLE=(
	[point]="point lookup by id"
	[month]="monthly sum of one administration"
	[newest]="50 newest lines"
	[count]="count per administration"
	[search]="search lower(reference)"
)
declare -A VTITLE=([protected]="protected" [plain]="unprotected" [rls]="hand-RLS")
declare -A MTITLE=(
	[prepared]="-M prepared, identity once per connection"
	[simple]="-M simple, identity once per connection"
	[txn-prepared]="-M prepared, identity set in every transaction"
	[txn-simple]="-M simple, identity set in every transaction"
)
mode_protocol() { # mode -> pgbench -M
	case $1 in
	prepared | txn-prepared) echo prepared ;;
	*) echo simple ;;
	esac
}
mode_variants() { # mode -> variants measured in it
	case $1 in
	txn-*) echo "protected plain" ;;
	*) echo "$VARIANTS" ;;
	esac
}
# the words of a list, shifted left by k (so that over the rounds every
# variant runs first, second, ...)
rotate() { # k word...
	local k=$1
	shift
	local -a w=("$@")
	local n=${#w[@]} i
	k=$((k % n))
	for ((i = 0; i < n; i++)); do printf '%s ' "${w[(i + k) % n]}"; done
}
load_now() { cut -d' ' -f1-3 /proc/loadavg; }

# ------------------------------------------------------------------
# the queries; :id :adm :m :r are pgbench (and psql) variables
# ------------------------------------------------------------------
query_sql() { # query variant user
	local q=$1 v=$2 u=$3 t="jl_$2" f="" andf="" wheref=""
	if [ "$v" = plain ]; then
		f="administration_id = ANY('${LIST_OF[$u]}'::bigint[])"
		andf=" AND $f"
		wheref=" WHERE $f"
	fi
	case $q in
	point)
		echo "SELECT id, administration_id, booked_on, amount, reference, description FROM $t WHERE id = :id$andf;" ;;
	month)
		echo "SELECT sum(amount) FROM $t WHERE administration_id = :adm AND booked_on >= (date '2021-01-01' + :m::int * interval '1 month')::date AND booked_on < (date '2021-01-01' + (:m::int + 1) * interval '1 month')::date$andf;" ;;
	newest)
		echo "SELECT id, administration_id, booked_on, amount, reference FROM $t$wheref ORDER BY booked_on DESC, id DESC LIMIT 50;" ;;
	count)
		echo "SELECT administration_id, count(*) FROM $t$wheref GROUP BY administration_id;" ;;
	search)
		echo "SELECT id, administration_id, booked_on, amount, reference FROM $t WHERE lower(reference) = ('inv-' || :r::text)$andf;" ;;
	esac
}

# pgbench variables: n is one of the user's administrations (1..2000), k a
# line of it, so id is a line the user sees, adm its administration id, m a
# month of 2021-2024 and r the reference number of line id
pgbench_vars() { # user
	echo "\\set n ${NEXPR[$1]}"
	echo "\\set k random(1, $KMAX)"
	echo "\\set id :n - 1 + 2000 * :k"
	echo "\\set adm :n + $OFF"
	echo "\\set m random(0, 47)"
	echo "\\set r :id % $REFMOD"
}
# the same, fixed, for psql
psql_vars() { # user
	local n=${CHECK_N[$1]} id
	id=$((n - 1 + 2000 * CHECK_K))
	echo "\\set id $id"
	echo "\\set adm $((n + OFF))"
	echo "\\set m $CHECK_M"
	echo "\\set r $((id % REFMOD))"
}
# the identity of a psql session, per variant
psql_identity() { # variant user
	if [ "$1" = protected ]; then
		echo "\\o /dev/null"
		echo "SELECT tenancy.act_as(${UID_OF[$2]});"
		echo "\\o"
	fi
}
pgoptions_for() { # variant user
	if [ "$1" = rls ]; then echo "-c bench.user_id=${UID_OF[$2]}"; fi
}

gen_script() { # query variant user [mode] -> path
	local mode=${4:-prepared}
	local f="$out/scripts/${mode}_$2_$1_$3.sql"
	case $mode in
	txn-*)
		# the identity in every transaction, as a pooled server sets it;
		# the unprotected variant makes the same round trips
		{
			pgbench_vars "$3"
			echo "\\set uid ${UID_OF[$3]}"
			echo "BEGIN;"
			if [ "$2" = protected ]; then
				echo "SELECT tenancy.act_as_local(:uid);"
			else
				echo "SELECT set_config('bench.unused', :uid::text, true);"
			fi
			query_sql "$1" "$2" "$3"
			echo "COMMIT;"
		} >"$f"
		echo "$f"
		return
		;;
	esac
	{
		pgbench_vars "$3"
		if [ "$2" = protected ]; then
			# identity once per pgbench client (variables persist across its
			# transactions; run with -D inited=0), so that steady-state
			# transactions are the one query, as in the other variants
			echo "\\if :inited = 0"
			echo "SELECT tenancy.act_as(${UID_OF[$3]});"
			echo "\\set inited 1"
			echo "\\endif"
		fi
		query_sql "$1" "$2" "$3"
	} >"$f"
	echo "$f"
}

# ------------------------------------------------------------------
# 1. the three variants must return the same rows
# ------------------------------------------------------------------
log "checking that the three variants return the same rows"
declare -A NROWS
check_ok=1
check_md="| query | user | rows protected | rows protected, act_as_local in the transaction | rows unprotected | rows hand-RLS | same rows |
|---|---|---:|---:|---:|---:|---|"
for q in $QUERIES; do
	for u in $USERS; do
		declare -A sum=()
		for v in $VARIANTS; do
			res="$out/logs/check_${v}_${q}_${u}.out"
			{
				psql_identity "$v" "$u"
				psql_vars "$u"
				query_sql "$q" "$v" "$u"
			} | PGOPTIONS="$(pgoptions_for "$v" "$u")" psql_app -At >"$res" 2>&1 || true
			NROWS[$v]=$(wc -l <"$res")
			sum[$v]=$(sort "$res" | md5sum | cut -c1-32)
		done
		# the protected query with the identity of the transaction only
		res="$out/logs/check_protected_txn_${q}_${u}.out"
		{
			echo "BEGIN;"
			echo "\\o /dev/null"
			echo "SELECT tenancy.act_as_local(${UID_OF[$u]});"
			echo "\\o"
			psql_vars "$u"
			query_sql "$q" protected "$u"
			echo "COMMIT;"
		} | psql_app -At >"$res" 2>&1 || true
		NROWS[txn]=$(wc -l <"$res")
		sum[txn]=$(sort "$res" | md5sum | cut -c1-32)
		same=yes
		if [ "${sum[protected]}" != "${sum[plain]}" ] || [ "${sum[rls]}" != "${sum[plain]}" ] ||
			[ "${sum[txn]}" != "${sum[plain]}" ]; then
			same="**NO**"
			check_ok=0
		fi
		check_md+="
| ${QTITLE[$q]} | $u | ${NROWS[protected]} | ${NROWS[txn]} | ${NROWS[plain]} | ${NROWS[rls]} | $same |"
	done
done
[ "$check_ok" = 1 ] || log "WARNING: the variants disagree; see $out/logs/check_*.out"

# ------------------------------------------------------------------
# 2. plans
# ------------------------------------------------------------------
# turn :name into $1, $2, ... (first appearance), for PREPARE
to_prepared() { # sql -> "names|sql"
	perl -e '
		my $q = $ARGV[0]; my (%i, @n);
		$q =~ s/(?<![:\w]):([a-z_]+)\b/exists $i{$1} ? "\$$i{$1}" : do { push @n, $1; $i{$1} = @n; "\$$i{$1}" }/ge;
		print join(",", @n), "|", $q;' "$1"
}
log "writing $explain"
{
	echo "EXPLAIN of the benchmark queries ($ROWS rows, generated $(date -u '+%Y-%m-%d %H:%M UTC'))"
	echo
	echo "For each query and user: the custom plan for fixed values, then the plan of"
	echo "the prepared statement after 5 executions (what pgbench -M prepared runs in"
	echo "steady state; EXPLAIN ANALYZE for the protected table)."
	for v in $VARIANTS; do
		for q in $QUERIES; do
			for u in $USERS; do
				sql=$(query_sql "$q" "$v" "$u")
				prep=$(to_prepared "${sql%;}")
				names=${prep%%|*}
				psql_sql=${prep#*|}
				args=""
				for nm in ${names//,/ }; do args+="${args:+, }:'$nm'"; done
				echo
				echo "=================================================================="
				echo "== ${VTITLE[$v]} / ${QTITLE[$q]} / $u"
				echo "=================================================================="
				echo "-- $sql"
				{
					psql_identity "$v" "$u"
					psql_vars "$u"
					echo "\\echo '-- custom plan'"
					echo "EXPLAIN (COSTS OFF) $sql"
					echo "PREPARE q AS $psql_sql;"
					echo "\\o /dev/null"
					for _ in 1 2 3 4 5; do echo "EXECUTE q${args:+($args)};"; done
					echo "\\o"
					if [ "$v" = protected ]; then
						echo "\\echo '-- prepared statement, 6th execution'"
						echo "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE q${args:+($args)};"
					else
						echo "\\echo '-- prepared statement, 6th execution'"
						echo "EXPLAIN (COSTS OFF) EXECUTE q${args:+($args)};"
					fi
				} | PGOPTIONS="$(pgoptions_for "$v" "$u")" psql_app -t 2>&1 || true
			done
		done
	done
} | sed -E 's/\{([0-9]+,){10,}[0-9]+\}/{...}/g' >"$explain"

# ------------------------------------------------------------------
# 2b. planning time
# ------------------------------------------------------------------
# The median "Planning Time" of PLAN_REPS EXPLAIN (SUMMARY) of each query
# (the first 5 of a session not counted), for each user and variant, and
# for the protected table also with tenancy.act_as_local() before each
# EXPLAIN in its own transaction, as a pooled server runs it.  EXPLAIN's
# planning time leaves out parsing (the unprotected query's 1,000-element
# literal is parsed, not planned, there) and executes nothing.
PLAN_KINDS="protected protected_txn plain rls"
declare -A PTITLE=([protected]="protected, act_as once" [protected_txn]="protected, act_as_local in each transaction"
	[plain]="unprotected" [rls]="hand-RLS")
declare -A PLAN_MS
plan_ms() { # kind query user -> median planning ms
	local kind=$1 q=$2 u=$3 v=$1 i sql
	[ "$kind" = protected_txn ] && v=protected
	sql=$(query_sql "$q" "$v" "$u")
	{
		[ "$kind" = protected_txn ] || psql_identity "$v" "$u"
		psql_vars "$u"
		for ((i = 0; i < PLAN_REPS; i++)); do
			if [ "$kind" = protected_txn ]; then
				echo "BEGIN;"
				echo "SELECT tenancy.act_as_local(${UID_OF[$u]});"
				echo "EXPLAIN (COSTS OFF, SUMMARY ON) $sql"
				echo "COMMIT;"
			else
				echo "EXPLAIN (COSTS OFF, SUMMARY ON) $sql"
			fi
		done
	} | PGOPTIONS="$(pgoptions_for "$v" "$u")" psql_app -At 2>&1 |
		tee "$out/logs/plan_${kind}_${q}_${u}.out" |
		sed -n 's/^Planning Time: \([0-9.]*\) ms$/\1/p' | tail -n +6 | median
}
log "planning time: $PLAN_REPS EXPLAIN (SUMMARY) per query, user and variant"
LOAD_PLAN="$(load_now)"
for q in $QUERIES; do
	for u in $USERS; do
		for kind in $PLAN_KINDS; do
			PLAN_MS[$q,$u,$kind]=$(plan_ms "$kind" "$q" "$u")
		done
		log "  ${QTITLE[$q]} / $u: $(for kind in $PLAN_KINDS; do printf '%s %s ms  ' "$kind" "${PLAN_MS[$q,$u,$kind]}"; done)"
	done
done

# ------------------------------------------------------------------
# 3. pgbench
# ------------------------------------------------------------------
declare -A TPS
run_pgbench() { # label script pgoptions [protocol] -> tps or ERR
	local label=$1 script=$2 opts=$3 proto=${4:-prepared} rc=0 tps
	if [ "$WARMUP" -gt 0 ]; then
		PGOPTIONS="$opts" pgbench -n -M "$proto" -c "$CLIENTS" -j "$CLIENTS" -T "$WARMUP" \
			-D inited=0 -f "$script" -U bench_app "$DB" >"$out/logs/$label.warmup.log" 2>&1 || true
	fi
	PGOPTIONS="$opts" pgbench -n -M "$proto" -c "$CLIENTS" -j "$CLIENTS" -T "$T" \
		-D inited=0 -f "$script" -U bench_app "$DB" >"$out/logs/$label.log" 2>&1 || rc=$?
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out/logs/$label.log" | head -1)
	if [ "$rc" != 0 ] || [ -z "$tps" ] || grep -q 'aborted' "$out/logs/$label.log"; then
		log "  $label: pgbench failed (rc=$rc), see $out/logs/$label.log"
		grep -m3 -iE 'error|aborted' "$out/logs/$label.log" >&2 || true
		echo ERR
	else
		printf '%.1f\n' "$tps"
	fi
}

# Each (mode, query, user, variant) runs ROUNDS times, all modes and
# variants of a query back to back in every round, the variants' order
# rotated from round to round, and the median counts: on a 2-core machine
# one run of a few seconds varies by 10-20%, more than the differences
# measured.
nvar=0
for mode in $MODES; do nvar=$((nvar + $(wc -w <<<"$(mode_variants "$mode")"))); done
nruns=$(( ROUNDS * $(wc -w <<<"$QUERIES") * $(wc -w <<<"$USERS") * nvar + 3 ))
log "pgbench: $nruns runs of ${T}s (+${WARMUP}s warm-up), modes $MODES, -c $CLIENTS -j $CLIENTS, median of $ROUNDS rounds"
LOADS="start $(load_now)"
declare -A ROUND_TPS
for round in $(seq 1 "$ROUNDS"); do
	for q in $QUERIES; do
		for u in $USERS; do
			for mode in $MODES; do
				# rotate the order, so that drift of the machine favours no variant
				# shellcheck disable=SC2046
				order=$(rotate $((round - 1)) $(mode_variants "$mode"))
				for v in $order; do
					s=$(gen_script "$q" "$v" "$u" "$mode")
					opts=$(pgoptions_for "$v" "$u")
					tps=$(run_pgbench "${mode}_${v}_${q}_${u}_r${round}" "$s" "$opts" "$(mode_protocol "$mode")")
					[ "$tps" = ERR ] || ROUND_TPS[$mode,$q,$u,$v]+="$tps "
					log "  round $round: ${QTITLE[$q]} / $u / $mode / ${VTITLE[$v]}: $tps tps"
				done
			done
		done
	done
	LOADS+="; after round $round $(load_now)"
done
for mode in $MODES; do
	for q in $QUERIES; do
		for u in $USERS; do
			for v in $(mode_variants "$mode"); do
				TPS[$mode,$q,$u,$v]=$(tr ' ' '\n' <<<"${ROUND_TPS[$mode,$q,$u,$v]:-}" | grep . | median)
			done
		done
	done
done

# what an application server pays when it sets the identity on every request
declare -A SW_TPS
sw_script() { # kind -> path
	local f="$out/scripts/switch_point_$1.sql"
	{
		case $1 in
		u3 | u1000)
			pgbench_vars "$1"
			echo "SELECT tenancy.act_as(${UID_OF[$1]});"
			;;
		alternating)
			echo "\\set w random(0, 1)"
			echo "\\if :w = 0"
			pgbench_vars u3
			echo "SELECT tenancy.act_as(${UID_OF[u3]});"
			echo "\\else"
			pgbench_vars u1000
			echo "SELECT tenancy.act_as(${UID_OF[u1000]});"
			echo "\\endif"
			;;
		esac
		query_sql point protected u3
	} >"$f"
	echo "$f"
}
for kind in u3 u1000 alternating; do
	SW_TPS[$kind]=$(run_pgbench "switch_point_$kind" "$(sw_script "$kind")" "" prepared)
	log "  act_as + point lookup per transaction / $kind: ${SW_TPS[$kind]} tps"
done

# ------------------------------------------------------------------
# 4. memory over identity switches, in one backend
# ------------------------------------------------------------------
log "memory: $SWITCHES identity switches as statements, then $SWITCHES in one DO block"
half=$((SWITCHES / 2))
ID_A=$((667 - 1 + 2000 * 3))   # a line only u3 sees (n = 667)
ID_B=$((1000 - 1 + 2000 * 3))  # a line only u1000 sees (n = 1000)
U3=${UID_OF[u3]}
U1000=${UID_OF[u1000]}
probe_u3="SELECT 'u3:' || coalesce(string_agg(id::text, ',' ORDER BY id), '-') FROM jl_protected WHERE id IN ($ID_A, $ID_B);"
probe_u1000="SELECT 'u1000:' || coalesce(string_agg(id::text, ',' ORDER BY id), '-') FROM jl_protected WHERE id IN ($ID_A, $ID_B);"
memsql="SELECT (SELECT sum(total_bytes) FROM pg_backend_memory_contexts)"
{
	echo "\\o /dev/null"
	# warm up: both identities once
	echo "SELECT tenancy.act_as($U3);"
	echo "$probe_u3"
	echo "SELECT tenancy.act_as($U1000);"
	echo "$probe_u1000"
	echo "\\o"
	echo "$memsql AS mem_before, extract(epoch FROM clock_timestamp()) AS t0 \\gset"
	echo "\\o $out/memory_probe.txt"
	awk -v n="$half" -v a="SELECT tenancy.act_as($U3);" -v b="$probe_u3" \
		-v c="SELECT tenancy.act_as($U1000);" -v d="$probe_u1000" \
		'BEGIN { for (i = 0; i < n; i++) { print a; print b; print c; print d } }'
	echo "\\o"
	echo "$memsql AS mem_after_stmts, extract(epoch FROM clock_timestamp()) AS t1 \\gset"
	cat <<SQL
DO \$do\$
DECLARE
	i int;
	got text;
	bad int := 0;
BEGIN
	FOR i IN 1..$SWITCHES LOOP
		IF i % 2 = 1 THEN
			PERFORM tenancy.act_as($U3);
			SELECT string_agg(id::text, ',' ORDER BY id) INTO got
			  FROM jl_protected WHERE id IN ($ID_A, $ID_B);
			IF got IS DISTINCT FROM '$ID_A' THEN bad := bad + 1; END IF;
		ELSE
			PERFORM tenancy.act_as($U1000);
			SELECT string_agg(id::text, ',' ORDER BY id) INTO got
			  FROM jl_protected WHERE id IN ($ID_A, $ID_B);
			IF got IS DISTINCT FROM '$ID_B' THEN bad := bad + 1; END IF;
		END IF;
	END LOOP;
	PERFORM set_config('bench.do_bad', bad::text, false);
END
\$do\$;
SQL
	echo "$memsql AS mem_after_do, extract(epoch FROM clock_timestamp()) AS t2, current_setting('bench.do_bad') AS do_bad \\gset"
	echo "\\echo mem_before :mem_before"
	echo "\\echo mem_after_stmts :mem_after_stmts"
	echo "\\echo mem_after_do :mem_after_do"
	echo "\\echo secs_stmts :t0 :t1"
	echo "\\echo secs_do :t1 :t2"
	echo "\\echo do_bad :do_bad"
} | psql -X -q -At -U bench_app -d "$DB" >"$out/memory.txt" 2>"$out/memory.err" || true
memval() { awk -v k="$1" '$1 == k { print $2 }' "$out/memory.txt"; }
mem_before=$(memval mem_before)
mem_after_stmts=$(memval mem_after_stmts)
mem_after_do=$(memval mem_after_do)
do_bad=$(memval do_bad)
secs_stmts=$(awk '$1 == "secs_stmts" { printf "%.1f", $3 - $2 }' "$out/memory.txt")
secs_do=$(awk '$1 == "secs_do" { printf "%.1f", $3 - $2 }' "$out/memory.txt")
probe_summary=$(sort "$out/memory_probe.txt" 2>/dev/null | grep -v '^$' | uniq -c |
	awk '{ printf "%s%s x %s", (NR > 1 ? ", " : ""), $1, $2 }')
probe_expected="$half x u1000:$ID_B, $half x u3:$ID_A"
mem_errors=$(grep -c 'ERROR' "$out/memory.err" || true)
if [ -s "$out/memory.err" ]; then
	log "memory test stderr (first lines):"
	head -5 "$out/memory.err" >&2
fi
mem_fmt() { [ -n "$1" ] && printf "%'d" "$1" 2>/dev/null || echo "${1:-n/a}"; }
mem_delta() { [ -n "$1" ] && [ -n "$2" ] && echo $(($2 - $1)) || echo n/a; }

# ------------------------------------------------------------------
# 5. report
# ------------------------------------------------------------------
EXT_END=$(ext_stamp)
[ "$EXT_END" = "$EXT_START" ] || log "WARNING: the extension was reinstalled during the run"
ratio() { # a b -> a/b
	if [[ $1 =~ ^[0-9.]+$ ]] && [[ $2 =~ ^[0-9.]+$ ]] && [ "$(awk -v b="$2" 'BEGIN{print (b > 0)}')" = 1 ]; then
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
	else
		echo "n/a"
	fi
}
{
	echo "# tenancy benchmark"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(psql_su -At -c 'SHOW server_version'); $(nproc) CPUs;"
	echo "$ROWS journal lines in 2,000 administrations (400 clients, 1 compartment), loaded in ${t_load}s;"
	echo "pgbench -c $CLIENTS -j $CLIENTS -T $T (after ${WARMUP}s warm-up), median of $ROUNDS rounds, the variants' order rotated between rounds, no parallel workers, as login role bench_app (tenancy_app, not superuser)."
	echo "Extension: $EXT_START; repository at $GIT_REV."
	if [ "$EXT_END" != "$EXT_START" ]; then
		echo "**Warning: the extension was reinstalled during the run (now $EXT_END); the figures mix two builds.**"
	fi
	echo "Load average (1, 5, 15 min) of the machine: $LOADS; end $(load_now)."
	echo "u3 reads 3 administrations, u1000 reads 1,000. Parameters are random per transaction"
	echo "(a visible line, one of the user's administrations, a month of 2021-2024)."
	echo
	echo "## protected / unprotected, every mode"
	echo
	printf '| query | user |'
	for mode in $MODES; do printf ' %s |' "$mode"; done
	echo
	printf '|---|---|'
	for mode in $MODES; do printf -- '---:|'; done
	echo
	for q in $QUERIES; do
		for u in $USERS; do
			printf '| %s | %s |' "${QTITLE[$q]}" "$u"
			for mode in $MODES; do
				r=$(ratio "${TPS[$mode,$q,$u,protected]}" "${TPS[$mode,$q,$u,plain]}")
				if [[ $r =~ ^[0-9.]+$ ]] && [ "$(awk -v r="$r" 'BEGIN { print (r < 0.97) }')" = 1 ]; then
					r="**$r**"
				fi
				printf ' %s |' "$r"
			done
			echo
		done
	done
	echo
	echo "Bold: below 0.97. Modes:"
	for mode in $MODES; do echo "- $mode: ${MTITLE[$mode]}"; done
	echo
	for mode in $MODES; do
		echo "## Transactions per second: ${MTITLE[$mode]}"
		echo
		case $mode in
		txn-*)
			echo "protected: \`BEGIN; SELECT tenancy.act_as_local(:uid); <query>; COMMIT;\`;"
			echo "unprotected: \`BEGIN; SELECT set_config('bench.unused', :uid::text, true); <query with WHERE administration_id = ANY('{...}')>; COMMIT;\`."
			echo
			echo "| query | user | TPS protected | TPS unprotected | protected / unprotected |"
			echo "|---|---|---:|---:|---:|"
			for q in $QUERIES; do
				for u in $USERS; do
					p=${TPS[$mode,$q,$u,protected]} n=${TPS[$mode,$q,$u,plain]}
					echo "| ${QTITLE[$q]} | $u | $p | $n | $(ratio "$p" "$n") |"
				done
			done
			;;
		*)
			echo "| query | user | TPS protected | TPS unprotected | TPS hand-RLS | protected / unprotected | hand-RLS / unprotected |"
			echo "|---|---|---:|---:|---:|---:|---:|"
			for q in $QUERIES; do
				for u in $USERS; do
					p=${TPS[$mode,$q,$u,protected]} n=${TPS[$mode,$q,$u,plain]} r=${TPS[$mode,$q,$u,rls]}
					echo "| ${QTITLE[$q]} | $u | $p | $n | $r | $(ratio "$p" "$n") | $(ratio "$r" "$n") |"
				done
			done
			;;
		esac
		echo
	done
	echo "protected: tenancy.protect(), tenancy.act_as() once per connection (txn modes: act_as_local in every transaction);"
	echo "unprotected: no row security, \`WHERE administration_id = ANY('{...}'::bigint[])\` written into the query;"
	echo "hand-RLS: \`EXISTS (SELECT 1 FROM perm ...)\` policy, user id from \`PGOPTIONS='-c bench.user_id=N'\`."
	echo
	echo "## Planning time"
	echo
	echo "Median \"Planning Time\" of $((PLAN_REPS - 5)) \`EXPLAIN (COSTS OFF, SUMMARY ON)\` of each query in one session"
	echo "(after 5 not counted), fixed parameters, ms; load average at the start: $LOAD_PLAN."
	echo "EXPLAIN's planning time leaves out parsing, so the unprotected query's 1,000-element literal counts only as far as the planner reads it."
	echo
	printf '| query | user |'
	for kind in $PLAN_KINDS; do printf ' %s |' "${PTITLE[$kind]}"; done
	echo ' protected (act_as once) - unprotected |'
	printf '|---|---|'
	for kind in $PLAN_KINDS; do printf -- '---:|'; done
	printf '%s\n' '---:|'
	for q in $QUERIES; do
		for u in $USERS; do
			printf '| %s | %s |' "${QTITLE[$q]}" "$u"
			for kind in $PLAN_KINDS; do printf ' %s |' "${PLAN_MS[$q,$u,$kind]}"; done
			printf ' %s |\n' "$(awk -v a="${PLAN_MS[$q,$u,protected]}" -v b="${PLAN_MS[$q,$u,plain]}" 'BEGIN { printf "%+.3f", a - b }')"
		done
	done
	echo
	echo "u1000 / u3, protected:"
	echo
	echo "| query | act_as once: u3 ms | u1000 ms | u1000 / u3 | act_as_local each transaction: u3 ms | u1000 ms | u1000 / u3 |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for q in $QUERIES; do
		a=${PLAN_MS[$q,u3,protected]} b=${PLAN_MS[$q,u1000,protected]}
		c=${PLAN_MS[$q,u3,protected_txn]} d=${PLAN_MS[$q,u1000,protected_txn]}
		echo "| ${QTITLE[$q]} | $a | $b | $(ratio "$b" "$a") | $c | $d | $(ratio "$d" "$c") |"
	done
	if [[ " $MODES " == *" prepared "* ]] && [[ " $MODES " == *" simple "* ]]; then
		echo
		echo "What -M simple costs over -M prepared per transaction, from the TPS medians above"
		echo "(latency = $CLIENTS clients / TPS; parse, rewrite and plan, noisy where a transaction takes milliseconds):"
		echo
		echo "| query | user | protected ms | unprotected ms |"
		echo "|---|---|---:|---:|"
		lat_diff() { # tps_simple tps_prepared -> ms
			if [[ $1 =~ ^[0-9.]+$ ]] && [[ $2 =~ ^[0-9.]+$ ]]; then
				awk -v s="$1" -v p="$2" -v c="$CLIENTS" 'BEGIN { printf "%+.3f", 1000 * c / s - 1000 * c / p }'
			else
				echo n/a
			fi
		}
		for q in $QUERIES; do
			for u in $USERS; do
				echo "| ${QTITLE[$q]} | $u | $(lat_diff "${TPS[simple,$q,$u,protected]}" "${TPS[prepared,$q,$u,protected]}") | $(lat_diff "${TPS[simple,$q,$u,plain]}" "${TPS[prepared,$q,$u,plain]}") |"
			done
		done
	fi
	echo
	echo "## Identity set on every transaction (protected, point lookup)"
	echo
	echo "Each transaction is \`SELECT tenancy.act_as(...)\` followed by the point lookup (two statements)."
	echo
	echo "| act_as as | TPS | compare: point lookup with identity set once |"
	echo "|---|---:|---:|"
	echo "| u3 | ${SW_TPS[u3]} | ${TPS[prepared,point,u3,protected]:-not run} |"
	echo "| u1000 | ${SW_TPS[u1000]} | ${TPS[prepared,point,u1000,protected]:-not run} |"
	echo "| u3 or u1000 at random | ${SW_TPS[alternating]} | |"
	echo
	echo "## Same rows in all three variants (fixed parameters)"
	echo
	echo "$check_md"
	echo
	echo "## Backend memory over identity switches (one bench_app session)"
	echo
	echo "\`SELECT sum(total_bytes) FROM pg_backend_memory_contexts\`, after one warm-up switch to each user."
	echo "A switch is \`tenancy.act_as()\` alternately to u3 and u1000, each followed by a probe query on jl_protected."
	echo
	echo "| point | bytes | change | time |"
	echo "|---|---:|---:|---:|"
	echo "| before | $(mem_fmt "$mem_before") | | |"
	echo "| after $SWITCHES switches, one statement each | $(mem_fmt "$mem_after_stmts") | $(mem_fmt "$(mem_delta "$mem_before" "$mem_after_stmts")") | ${secs_stmts:-n/a} s |"
	echo "| after $SWITCHES more in one DO block | $(mem_fmt "$mem_after_do") | $(mem_fmt "$(mem_delta "$mem_after_stmts" "$mem_after_do")") | ${secs_do:-n/a} s |"
	echo
	echo "Probe results of the statement phase: ${probe_summary:-none} (expected: $probe_expected)."
	echo "Wrong probe results in the DO block: ${do_bad:-n/a}. Errors: ${mem_errors:-0}."
	echo
	echo "Plans: test/bench/explain.txt. Logs and generated pgbench scripts: test/bench/out/."
} >"$results"

cat "$results"
log "wrote $results and $explain"
