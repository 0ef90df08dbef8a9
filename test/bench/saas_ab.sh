#!/usr/bin/env bash
# test/bench/saas_ab.sh -- two builds of tenancy side by side on one
# workload of saas.sh: variant T with build A and with build B, and H and N,
# their order rotated between rounds (medians printed)
#
# Runs on the cluster saas.sh left (started again when stopped, as it was)
# with the scripts saas.sh wrote to test/bench/out-saas.  A build is a
# tenancy.so (copy one aside after "make" on each commit); each is installed
# over $(pg_config --pkglibdir)/tenancy.so before its runs (new connections
# load it; the file is replaced, not overwritten), and build A is left
# installed at the end.
#
#   bash test/bench/saas_ab.sh /tmp/a.so /tmp/b.so W1 [changes per second]
#
# Variables: BENCH_T seconds per run [6], BENCH_ROUNDS [4], BENCH_CLIENTS [2],
# TENANCY_TMP (where saas.sh's cluster lives).
set -euo pipefail
a=${1:?usage: saas_ab.sh A.so B.so W1|W2|W4 [rate]}
b=${2:?usage: saas_ab.sh A.so B.so W1|W2|W4 [rate]}
w=${3:?usage: saas_ab.sh A.so B.so W1|W2|W4 [rate]}
rate=${4:-0}
here=$(cd "$(dirname "$0")" && pwd)
out="$here/out-saas"
T=${BENCH_T:-6}
ROUNDS=${BENCH_ROUNDS:-4}
CLIENTS=${BENCH_CLIENTS:-2}
lib="$(pg_config --pkglibdir)/tenancy.so"
data=${TENANCY_TMP:-/tmp/tenancy}/saas/data
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if ! as_pg "$(pg_config --bindir)/pg_ctl" status -D "$data" >/dev/null 2>&1; then
	# the folder saas.sh left, started again as it was (not initialised anew)
	as_pg "$(pg_config --bindir)/pg_ctl" -D "$data" -l "$data/../server.log" -w start >/dev/null
fi
eval "$(bash "$here/../cluster.sh" env saas)"
# every table and index in shared buffers, as on a server in service
psql -X -q -At -d saas >/dev/null <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
SELECT sum(pg_prewarm(c.oid)) FROM pg_class c
 WHERE c.relkind IN ('r', 'i') AND c.relnamespace IN ('public'::regnamespace, 'tenancy'::regnamespace);
SQL
for f in "$out/$w-T.sql" "$out/$w-H.sql" "$out/$w-N.sql"; do
	[ -f "$f" ] || { echo "saas_ab.sh: $f is missing: run saas.sh first" >&2; exit 1; }
done
BG_PID=
if [ "$rate" -gt 0 ]; then
	pgbench -n -M prepared -c 1 -R "$(( rate / 2 > 0 ? rate / 2 : 1 ))" -T 100000 \
		-f "$out/changes.sql" saas >"$out/ab-changes.log" 2>&1 &
	BG_PID=$!
	sleep 1
fi
finish() {
	[ -n "$BG_PID" ] && kill "$BG_PID" 2>/dev/null || true
	install -m 755 "$a" "$lib"
}
trap finish EXIT
run() { # variant script
	pgbench -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$T" -U saas_app -f "$2" saas 2>&1 |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
declare -A TPS
for r in $(seq 1 "$ROUNDS"); do
	case $((r % 4)) in
	1) order="A B H N" ;; 2) order="B H N A" ;; 3) order="H N A B" ;; 0) order="N A B H" ;;
	esac
	for v in $order; do
		case $v in
		A) install -m 755 "$a" "$lib"; TPS[$v,$r]=$(run T "$out/$w-T.sql") ;;
		B) install -m 755 "$b" "$lib"; TPS[$v,$r]=$(run T "$out/$w-T.sql") ;;
		*) TPS[$v,$r]=$(run "$v" "$out/$w-$v.sql") ;;
		esac
		printf '%s round %d %s: %s TPS\n' "$w" "$r" "$v" "${TPS[$v,$r]}" >&2
	done
done
median() { sort -g | awk '{x[NR] = $1} END {print (NR % 2) ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2}'; }
declare -A M
for v in A B H N; do
	M[$v]=$(for r in $(seq 1 "$ROUNDS"); do echo "${TPS[$v,$r]}"; done | median)
done
awk -v w="$w" -v rate="$rate" -v A="${M[A]}" -v B="${M[B]}" -v H="${M[H]}" -v N="${M[N]}" 'BEGIN {
	printf "%s, %d changes a second, medians of TPS: T with A %.0f, T with B %.0f (B/A %.2f), H %.0f, N %.0f; A: T/H %.2f T/N %.2f; B: T/H %.2f T/N %.2f\n",
		w, rate, A, B, B / A, H, N, A / H, A / N, B / H, B / N }'
