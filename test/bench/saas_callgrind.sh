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
#   bash test/bench/saas_callgrind.sh W1 [2000]
set -euo pipefail
w=${1:?usage: saas_callgrind.sh W1|W2|W4|W5 [requests]}
n=${2:-2000}
[ "$w" = W5 ] && n=${2:-60}
PGBIN=${PGBIN:-$(pg_config --bindir)}
data=${TENANCY_TMP:-/tmp/tenancy}/saas/data
out=${TENANCY_TMP:-/tmp/tenancy}/callgrind
mkdir -p "$out"
chmod 777 "$out"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$PGBIN/pg_ctl" -D "$data" stop -m fast >/dev/null 2>&1 || true

requests() { # variant: the statements, users and administrations drawn as in saas.sh (fixed seed)
	awk -v w="$w" -v v="$1" -v n="$n" 'BEGIN {
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

declare -A IR
variants="T H N"
[ "$w" = W5 ] && variants="T N"	# H reads 2.4 million rows with a subquery each: hours here
for v in $variants; do
	requests "$v" >"$out/$w-$v.sql"
	as_pg valgrind --tool=callgrind --callgrind-out-file="$out/$w-$v.callgrind" \
		"$PGBIN/postgres" --single -D "$data" -c autovacuum=off saas \
		<"$out/$w-$v.sql" >"$out/$w-$v.log" 2>&1
	if grep -q ERROR "$out/$w-$v.log"; then
		grep ERROR "$out/$w-$v.log" | head -3 >&2
		exit 1
	fi
	IR[$v]=$(sed -n 's/^totals: //p' "$out/$w-$v.callgrind")
done
awk -v w="$w" -v n="$n" -v t="${IR[T]}" -v h="${IR[H]:-0}" -v nn="${IR[N]}" 'BEGIN {
	printf "%s, %d requests: T %.1f M instructions, ", w, n, t / 1e6
	if (h > 0) printf "H %.1f M, ", h / 1e6
	printf "N %.1f M, ", nn / 1e6
	if (h > 0) printf "T/H %.2f, ", h / t
	printf "T/N %.2f\n", nn / t }'
