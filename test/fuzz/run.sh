#!/usr/bin/env bash
# test/fuzz/run.sh -- bounded fuzz of every function of schema tenancy
#
#   bash test/fuzz/run.sh            (PGHOST/PGPORT of a running test cluster)
#
# Creates database fuzz_test with the regression fixture (test/fuzz/setup.sql),
# then, for each of five roles in turn, calls functions of schema tenancy with
# random and edge arguments for TENANCY_FUZZ_SECONDS seconds (default 12, about
# a minute in all), from the fixed seed TENANCY_FUZZ_SEED (printed; rerun with
# it to replay the same calls):
#   superuser            postgres
#   operator             regress_operator, member of tenancy_admin
#   application          regress_app, member of tenancy_app, acting as an
#                        administrator of compartment bk-clients
#   reporting login      regress_fuzz_report, bound to bk-clients
#   plain role           regress_plain
# One TAP line per role: it fails on a crash (the connection is lost, or the
# server restarted: pg_postmaster_start_time() changed), on an internal error
# (XX000) and on any error whose SQLSTATE is not one a user error may carry
# (see test/fuzz/fuzz.sql).  Each call runs in its own subtransaction and is
# rolled back.
set -uo pipefail
cd "$(dirname "$0")/../.."

SEED=${TENANCY_FUZZ_SEED:-0.4242}
SECONDS_PER_ROLE=${TENANCY_FUZZ_SECONDS:-12}
OUT=${1:-/tmp}
DB=fuzz_test

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
if ! psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f test/fuzz/setup.sql >"$OUT/fuzz-setup.log" 2>&1; then
	cat "$OUT/fuzz-setup.log"
	echo "1..1"
	echo "not ok 1 - fuzz set-up"
	exit 1
fi
act_as=$(sed -n 's/^fuzz_act_as=//p' "$OUT/fuzz-setup.log")
started=$(psql -X -At -d "$DB" -c "SELECT pg_postmaster_start_time()")

echo "# seed $SEED, $SECONDS_PER_ROLE s per role (TENANCY_FUZZ_SEED, TENANCY_FUZZ_SECONDS)"
echo "1..5"
n=0
status=0
for spec in "superuser:postgres:0" "operator:regress_operator:0" \
	"application:regress_app:$act_as" "reporting login:regress_fuzz_report:0" \
	"plain role:regress_plain:0"; do
	IFS=: read -r label role act <<<"$spec"
	n=$((n + 1))
	log="$OUT/fuzz-$role.log"
	psql -X -U "$role" -d "$DB" -v seed="$SEED" -v seconds="$SECONDS_PER_ROLE" \
		-v act_as="$act" -f test/fuzz/fuzz.sql >"$log" 2>&1
	rc=$?
	now=$(psql -X -At -d "$DB" -c "SELECT pg_postmaster_start_time()" 2>/dev/null)
	summary=$(sed -n 's/.*NOTICE:  \(calls=[0-9]* unexpected=[0-9]*\).*/\1/p' "$log")
	bad=$(grep -c 'NOTICE:  unexpected' "$log")
	if [ "$rc" -eq 0 ] && [ "$bad" -eq 0 ] && [ -n "$summary" ] && [ "$now" = "$started" ]; then
		echo "ok $n - fuzz as $label ($role): $summary"
		sed -n 's/.*NOTICE:  sqlstates /#   sqlstates /p' "$log"
	else
		echo "not ok $n - fuzz as $label ($role): exit $rc, ${summary:-no summary}"
		grep -E 'unexpected|ERROR|FATAL|server closed|terminated' "$log" | head -20 | sed 's/^/#   /'
		[ "$now" = "$started" ] || echo "#   the server restarted (was $started, now ${now:-down})"
		status=1
		# a restarted server: wait for it before the next role
		for _ in $(seq 1 30); do
			psql -X -At -d "$DB" -c "SELECT 1" >/dev/null 2>&1 && break
			sleep 1
		done
		started=$(psql -X -At -d "$DB" -c "SELECT pg_postmaster_start_time()" 2>/dev/null)
	fi
done
exit $status
