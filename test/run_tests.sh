#!/usr/bin/env bash
# test/run_tests.sh -- every test suite of tenancy against a throw-away cluster
#
# Called by "make test" (after the extension is built and installed), with
# the pg_regress and isolation schedules in $REGRESS and $ISOLATION.  Starts
# its own cluster under $TENANCY_TMP (default /tmp/tenancy), runs
#   1. pg_regress    sql/*.sql against expected/*.out
#   2. isolation     test/isolation/specs/*.spec
#   3. libpq         test/libpq/tenancy_client (TAP lines)
# and ends with one line "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail

cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGXS_DIR=$(dirname "$(dirname "$(dirname "$($PG_CONFIG --pgxs)")")")
BASE=${TENANCY_TMP:-/tmp/tenancy}
PORT=${TENANCY_TEST_PORT:-55470}
OUT="$BASE/test-output"
passed=0
failed=0

cleanup() { TENANCY_TMP="$BASE" bash test/cluster.sh stop test >/dev/null 2>&1 || true; }
trap cleanup EXIT

TENANCY_TMP="$BASE" bash test/cluster.sh start test "$PORT" || { echo "0 passed, 1 failed"; exit 1; }
eval "$(TENANCY_TMP="$BASE" bash test/cluster.sh env test)"
rm -rf "$OUT"
mkdir -p "$OUT"

# count "... ok" and "... FAILED" lines of a pg_regress-style log
count_regress() {
	local log=$1 ok bad
	ok=$(grep -cE '\.\.\. ok ' "$log")
	bad=$(grep -cE '\.\.\. FAILED' "$log")
	passed=$((passed + ok))
	failed=$((failed + bad))
}

for tool in src/test/regress/pg_regress src/test/isolation/pg_isolation_regress; do
	if [ ! -x "$PGXS_DIR/$tool" ]; then
		echo "missing $PGXS_DIR/$tool"
		failed=$((failed + 1))
	fi
done

echo "== pg_regress"
"$PGXS_DIR/src/test/regress/pg_regress" \
	--bindir="$($PG_CONFIG --bindir)" --inputdir=. --outputdir="$OUT/regress" \
	--host="$PGHOST" --port="$PGPORT" --user=postgres \
	--dbname=contrib_regression ${REGRESS:-} 2>&1 | tee "$OUT/regress.log"
count_regress "$OUT/regress.log"
[ -f "$OUT/regress/regression.diffs" ] && head -200 "$OUT/regress/regression.diffs"

if [ -n "${ISOLATION:-}" ]; then
	echo "== isolation"
	"$PGXS_DIR/src/test/isolation/pg_isolation_regress" \
		--bindir="$($PG_CONFIG --bindir)" --inputdir=test/isolation \
		--outputdir="$OUT/isolation" \
		--host="$PGHOST" --port="$PGPORT" --user=postgres \
		--dbname=isolation_regression $ISOLATION 2>&1 | tee "$OUT/isolation.log"
	count_regress "$OUT/isolation.log"
	[ -f "$OUT/isolation/regression.diffs" ] && head -200 "$OUT/isolation/regression.diffs"
fi

if [ -f test/libpq/Makefile ]; then
	echo "== libpq"
	if make -s -C test/libpq PG_CONFIG="$PG_CONFIG" >"$OUT/libpq-build.log" 2>&1; then
		psql -X -q -d postgres -c "CREATE DATABASE libpq_test" >/dev/null
		test/libpq/tenancy_client "host=$PGHOST port=$PGPORT dbname=libpq_test user=postgres" \
			2>&1 | tee "$OUT/libpq.log"
		passed=$((passed + $(grep -cE '^ok [0-9]+' "$OUT/libpq.log")))
		failed=$((failed + $(grep -cE '^not ok [0-9]+' "$OUT/libpq.log")))
	else
		cat "$OUT/libpq-build.log"
		failed=$((failed + 1))
	fi
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
