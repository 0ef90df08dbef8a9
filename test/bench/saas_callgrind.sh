#!/usr/bin/env bash
# test/bench/saas_callgrind.sh -- instructions per workload of saas.sh, under
# valgrind's callgrind: reproducible where TPS are not (a shared machine)
#
# Runs N requests of a workload of saas.sh (W1, W2, W4 or W5) in variants T,
# H (not for W5) and N as PREPARE/EXECUTE in a single-user backend (postgres --single) on
# the data set saas.sh left behind: run "KEEP=1 bash test/bench/saas.sh"
# first (or any run: the cluster's folder is kept), with the same
# TENANCY_TMP.  The cluster must be stopped; this script stops it.
# Prints the instructions of each variant, T/H and T/N (a ratio is the other
# variant's instructions over T's); the callgrind files stay
# in $TENANCY_TMP/callgrind/ for callgrind_annotate --inclusive=yes.
#
# A new backend meets nearly every user and administration for the first
# time, as a pool's backends do in their first minutes.  SAAS_WARM=K
# measures a backend that has served a while instead: each variant runs
# K+N and K+2N requests of the same stream, and the script prints the
# instructions of one request among the last N (the difference divided by
# N), leaving out the backend's start and its first K requests.
# SAAS_VARIANTS picks the variants (default "T H N"; W5: "T N").
#
#   bash test/bench/saas_callgrind.sh W1 [2000]
#   SAAS_WARM=6000 SAAS_VARIANTS="T N" bash test/bench/saas_callgrind.sh W2 2000
set -euo pipefail
w=${1:?usage: saas_callgrind.sh W1|W2|W4|W5 [requests]}
n=${2:-2000}
[ "$w" = W5 ] && n=${2:-60}
warm=${SAAS_WARM:-0}
PGBIN=${PGBIN:-$(pg_config --bindir)}
data=${TENANCY_TMP:-/tmp/tenancy}/saas/data
out=${TENANCY_TMP:-/tmp/tenancy}/callgrind
mkdir -p "$out"
chmod 777 "$out"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$PGBIN/pg_ctl" -D "$data" stop -m fast >/dev/null 2>&1 || true

requests() { # variant count: the statements, users and administrations drawn as in saas.sh (fixed seed)
	awk -v w="$w" -v v="$1" -v n="$2" 'BEGIN {
		srand(42)
		t = v == "T" ? "journal_line" : v == "H" ? "journal_line_h" : \
			(w == "W5" ? "journal_line_n_big" : "journal_line_n")
		print "SET ROLE saas_app;"
		if (v == "T") print "PREPARE i(bigint) AS SELECT tenancy.act_as_local($1);"
		else if (v == "H") print "PREPARE i(bigint) AS SELECT set_config(\x27app.user_id\x27, $1::text, true);"
		else print "PREPARE i(bigint) AS SELECT set_config(\x27app.unused\x27, $1::text, true);"
		print "PREPARE q(bigint) AS SELECT sum(amount) FROM " t " WHERE administration_id = $1;"
		print "PREPARE c AS SELECT count(*) FROM " t ";"
		print "PREPARE l AS SELECT administration_id, id, booked_on, amount FROM " t \
			" ORDER BY booked_on DESC, id DESC LIMIT 50;"
		for (k = 0; k < n; k++) {
			if (w == "W1") {
				f = int(rand() * 2000) + 1; x = int(rand() * 30) + 1; u = (f - 1) * 30 + x
				a = (f - 1) * 50 + (x <= 20 ? int(rand() * 50) + 1 : (x - 21) * 5 + int(rand() * 5) + 1)
			} else if (w == "W4") {
				u = 60001; a = 100000 + int(rand() * 20000) + 1
			} else {
				u = 60000 + int(rand() * 50) + 1; a = 100000 + int(rand() * 20000) + 1
			}
			print "BEGIN;"
			print "EXECUTE i(" u ");"
			if (w == "W5") print "EXECUTE c;\nEXECUTE l;"
			else print "EXECUTE q(" a ");"
			print "END;"
		}
	}'
}

# run: variant count name -> the instructions of the run
run() {
	requests "$1" "$2" >"$out/$3.sql"
	as_pg valgrind --tool=callgrind --callgrind-out-file="$out/$3.callgrind" \
		"$PGBIN/postgres" --single -D "$data" -c autovacuum=off saas \
		<"$out/$3.sql" >"$out/$3.log" 2>&1
	if grep -q ERROR "$out/$3.log"; then
		grep ERROR "$out/$3.log" | head -3 >&2
		exit 1
	fi
	sed -n 's/^totals: //p' "$out/$3.callgrind"
}

declare -A IR
variants=${SAAS_VARIANTS:-"T H N"}
[ "$w" = W5 ] && variants=${SAAS_VARIANTS:-"T N"}	# H reads 2.4 million rows with a subquery each: hours here
for v in $variants; do
	if [ "$warm" -gt 0 ]; then
		one=$(run "$v" $((warm + n)) "$w-$v-warm-1")
		two=$(run "$v" $((warm + 2 * n)) "$w-$v-warm-2")
		IR[$v]=$(((two - one) * 2000 / n))	# per 2,000 requests, as without warm-up
	else
		IR[$v]=$(run "$v" "$n" "$w-$v")
	fi
done
awk -v w="$w" -v n="$n" -v warm="$warm" -v t="${IR[T]:-0}" -v h="${IR[H]:-0}" -v nn="${IR[N]:-0}" 'BEGIN {
	if (warm > 0)
		printf "%s, %d requests after %d of warm-up, instructions per 2,000 requests: ", w, n, warm
	else
		printf "%s, %d requests: ", w, n
	if (t > 0) printf "T %.1f M instructions, ", t / 1e6
	if (h > 0) printf "H %.1f M, ", h / 1e6
	if (nn > 0) printf "N %.1f M, ", nn / 1e6
	if (h > 0 && t > 0) printf "T/H %.2f, ", h / t
	if (nn > 0 && t > 0) printf "T/N %.2f", nn / t
	printf "\n" }'
