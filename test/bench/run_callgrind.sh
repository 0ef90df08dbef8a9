#!/usr/bin/env bash
# test/bench/run_callgrind.sh -- instructions per transaction of run.sh's
# queries, protected and unprotected, under valgrind's callgrind:
# reproducible where the TPS of run.sh are not (a shared machine, cells of
# 30-100 us where the run-to-run spread is larger than the difference)
#
# Replays the pgbench scripts run.sh wrote to test/bench/out/scripts (every
# query, user and mode of its last run) in a single-user backend (postgres
# --single) on the cluster run.sh left in $TENANCY_TMP/bench: run run.sh
# first, with the same TENANCY_TMP (any size; BENCH_ROWS=200000 is enough).
# The cluster must be stopped; this script stops it.
#
# Each transaction of a script is replayed as pgbench runs it: its \set
# variables drawn anew (bash's RANDOM, seeded, so every run replays the same
# values), the prepared modes as PREPARE once and EXECUTE per transaction
# (pgbench -M prepared sends the same parse once and bind/execute after),
# the simple modes as statement text with the values in it, the identity of
# the "once per connection" modes set once.  The cost of a transaction is the
# difference between a run of 2N and one of N transactions, divided by N: the
# backend's start and the first plans are left out, as run.sh's warm-up
# leaves them out.  Prints one line per query, user and mode: the
# instructions of each variant and unprotected / protected (above 1:
# protected costs less).  EXECUTE goes through the utility hook, which the
# extended protocol does not: the prepared modes count ~100 instructions of
# tenancy's hooks that pgbench -M prepared does not pay.
#
#   bash test/bench/run_callgrind.sh [N]
#
# Variables: BENCH_QUERIES [point month search], BENCH_USERS [u3],
# BENCH_MODES [prepared simple txn-prepared txn-simple], N [300: the
# transactions of the shorter run; the queries that read thousands of lines
# (newest and count for u3) take N/50, at least 2].
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${1:-300}
QUERIES=${BENCH_QUERIES:-"point month search"}
USERS=${BENCH_USERS:-u3}
MODES=${BENCH_MODES:-"prepared simple txn-prepared txn-simple"}
PGBIN=${PGBIN:-$(pg_config --bindir)}
data=${TENANCY_TMP:-/tmp/tenancy}/bench/data
scripts="$here/out/scripts"
work=${TENANCY_TMP:-/tmp/tenancy}/callgrind-bench
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

[ -d "$data" ] || { echo "run_callgrind.sh: $data is missing: run test/bench/run.sh first" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "run_callgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
mkdir -p "$work"
chmod 777 "$work"
as_pg "$PGBIN/pg_ctl" -D "$data" stop -m fast >/dev/null 2>&1 || true

declare -A V
# \set name expression: pgbench's integer arithmetic and random(a, b), in bash
set_var() { # name expression
	local e=$2 lo hi
	while [[ $e =~ random\(\ *([0-9]+)\ *,\ *([0-9]+)\ *\) ]]; do
		lo=${BASH_REMATCH[1]}
		hi=${BASH_REMATCH[2]}
		e=${e/"${BASH_REMATCH[0]}"/$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))}
	done
	while [[ $e =~ :([a-z_]+) ]]; do
		e=${e/"${BASH_REMATCH[0]}"/${V[${BASH_REMATCH[1]}]}}
	done
	V[$1]=$((e))
}
# a statement's :variables (not casts, "::type"): as literals, or as $1, $2
# ... with their names in PARAMS; the result in STMT
VARIABLE='([^:]):([a-z_]+)'
literal() {
	STMT=$1
	while [[ $STMT =~ $VARIABLE ]]; do
		STMT=${STMT/"${BASH_REMATCH[0]}"/${BASH_REMATCH[1]}${V[${BASH_REMATCH[2]}]}}
	done
}
PARAMS=()
parameterised() {
	local k
	STMT=$1
	PARAMS=()
	while [[ $STMT =~ $VARIABLE ]]; do
		PARAMS+=("${BASH_REMATCH[2]}")
		k=${#PARAMS[@]}
		STMT=${STMT/"${BASH_REMATCH[0]}"/${BASH_REMATCH[1]}\$$k}
	done
}

# the single-user input replaying script $1 in mode $2 for $3 transactions
replay() { # script mode n
	local script=$1 mode=$2 n=$3 line i k v once=() sets=() stmts=() in_once=0
	local -a names
	declare -A pnames
	while IFS= read -r line; do
		case $line in
		'\if '*) in_once=1 ;;
		'\endif') in_once=0 ;;
		'\set inited'*) ;;
		'\set '*) sets+=("${line#\\set }") ;;
		*) if [ "$in_once" = 1 ]; then once+=("$line"); else stmts+=("$line"); fi ;;
		esac
	done <"$script"
	echo "SET ROLE bench_app;"
	for line in "${once[@]}"; do echo "$line"; done
	case $mode in *prepared)
		k=0
		for line in "${stmts[@]}"; do
			case $line in BEGIN\; | COMMIT\;) continue ;; esac
			k=$((k + 1))
			parameterised "$line"
			echo "PREPARE p$k AS $STMT"
			pnames[$k]="${PARAMS[*]}"
		done ;;
	esac
	RANDOM=42
	for ((i = 0; i < n; i++)); do
		for line in "${sets[@]}"; do set_var "${line%% *}" "${line#* }"; done
		k=0
		for line in "${stmts[@]}"; do
			case $line in BEGIN\; | COMMIT\;) echo "$line"; continue ;; esac
			case $mode in
			*prepared)
				k=$((k + 1))
				read -r -a names <<<"${pnames[$k]}"
				local args=()
				for v in "${names[@]}"; do args+=("${V[$v]}"); done
				if [ ${#args[@]} = 0 ]; then
					echo "EXECUTE p$k;"
				else
					echo "EXECUTE p$k($(IFS=,; echo "${args[*]}"));"
				fi ;;
			*)
				literal "$line"
				echo "$STMT" ;;
			esac
		done
	done
}

instructions() { # input file -> total instructions of the backend
	local f=$1
	as_pg valgrind --tool=callgrind --callgrind-out-file="$f.callgrind" \
		"$PGBIN/postgres" --single -D "$data" -c autovacuum=off bench <"$f" >"$f.log" 2>&1
	if grep -q ERROR "$f.log"; then
		grep ERROR "$f.log" | head -3 >&2
		exit 1
	fi
	sed -n 's/^totals: //p' "$f.callgrind"
}

printf '%-8s %-6s %-13s %12s %12s %8s\n' query user mode protected unprotected ratio
for q in $QUERIES; do
	for u in $USERS; do
		n=$N
		if [ "$u" = u3 ] && { [ "$q" = newest ] || [ "$q" = count ]; }; then
			n=$((N / 50 > 2 ? N / 50 : 2))
		fi
		for mode in $MODES; do
			declare -A per=()
			for v in protected plain; do
				s="$scripts/${mode}_${v}_${q}_${u}.sql"
				[ -f "$s" ] || { echo "run_callgrind.sh: $s is missing: run run.sh with this query, user and mode" >&2; exit 1; }
				replay "$s" "$mode" "$n" >"$work/$mode-$v-$q-$u-1.sql"
				replay "$s" "$mode" $((2 * n)) >"$work/$mode-$v-$q-$u-2.sql"
				a=$(instructions "$work/$mode-$v-$q-$u-1.sql")
				b=$(instructions "$work/$mode-$v-$q-$u-2.sql")
				per[$v]=$(((b - a) / n))
			done
			printf '%-8s %-6s %-13s %12d %12d %8s\n' "$q" "$u" "$mode" "${per[protected]}" "${per[plain]}" \
				"$(awk -v p="${per[protected]}" -v u="${per[plain]}" 'BEGIN { printf "%.3f", u / p }')"
		done
	done
done
