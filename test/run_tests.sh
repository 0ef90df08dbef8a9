#!/usr/bin/env bash
# test/run_tests.sh -- every test suite of tenancy against a throw-away cluster
#
# Called by "make test" (after the extension is built and installed), with
# the pg_regress and isolation schedules in $REGRESS and $ISOLATION.  Starts
# its own cluster under $TENANCY_TMP (default /tmp/tenancy), runs
#   1. pg_regress    sql/*.sql against expected/*.out
#   2. isolation     test/isolation/specs/*.spec
#   3. libpq         test/libpq/tenancy_client (TAP lines)
#   4. fuzz          test/fuzz/run.sh: random and edge arguments to every
#                    function of schema tenancy as five roles, about a
#                    minute (TAP lines)
#   5. node          test/node/pool_test.js (node-postgres, TAP lines), after
#                    "npm ci" into test/node/node_modules
#   6. node via pgbouncer  the same through pgbouncer in transaction mode
#                    (test/pgbouncer/), started here as the postgres OS user
#   7. TAP           prove over test/t/*.pl (whole servers: dump/restore ...),
#                    as the postgres OS user, on ports after $TENANCY_TEST_PORT
#   8. README        test/readme/check.pl: the README's sql blocks, run in a
#                    fresh database, show the output the README prints
#   9. bulk load     test/bench/bulk_load.sh 50000 (COPY refused, the staging
#                    path, its speed against COPY into an unprotected table)
#  10. ODBC          test/odbc/odbc_test.sh (psqlODBC and isql as a bound
#                    reporting login)
#  11. Citus         test/citus/run.sh: a coordinator and two workers, the
#                    pg_regress files of test/citus/ (only when Citus is
#                    installed; otherwise one line says it was skipped)
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

# pgbouncer of the "node via pgbouncer" block: its own socket directory and port
PGB_DIR="$BASE/pgbouncer"
PGB_PORT=${TENANCY_PGBOUNCER_PORT:-$((PORT + 1))}
stop_pgbouncer() {
	if [ -f "$PGB_DIR/pgbouncer.pid" ]; then
		kill -TERM "$(cat "$PGB_DIR/pgbouncer.pid")" 2>/dev/null || true
		rm -f "$PGB_DIR/pgbouncer.pid"
	fi
}

cleanup() {
	stop_pgbouncer
	TENANCY_TMP="$BASE" bash test/cluster.sh stop test >/dev/null 2>&1 || true
}
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

# Count the TAP lines of a log: "ok N" passes (but "ok N # skip" is only
# reported), "not ok N" fails (but "not ok N ... # TODO", a known failure, is
# only reported).  A program that exited non-zero without a failing line (a
# bail-out, a crash, a wrong plan) counts as one failure.
count_tap() {
	local log=$1 status=$2 ok bad skip todo
	ok=$(grep -E '^ok [0-9]+' "$log" | grep -vci '# skip')
	skip=$(grep -E '^ok [0-9]+' "$log" | grep -ci '# skip')
	bad=$(grep -E '^not ok [0-9]+' "$log" | grep -vc '# TODO')
	todo=$(grep -E '^not ok [0-9]+' "$log" | grep -c '# TODO')
	if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
		echo "# exit status $status without a failing test line: counted as one failure"
		bad=1
	fi
	[ "$skip" -gt 0 ] && echo "# $skip skipped"
	[ "$todo" -gt 0 ] && echo "# $todo known failure(s) marked TODO (not counted)"
	passed=$((passed + ok))
	failed=$((failed + bad))
}

# == fuzz: every function of schema tenancy with random and edge arguments,
# as five roles (test/fuzz/run.sh); fails on a crash, an internal error or
# an SQLSTATE no user error carries
echo "== fuzz"
bash test/fuzz/run.sh "$OUT" 2>&1 | tee "$OUT/fuzz.log"
count_tap "$OUT/fuzz.log" "${PIPESTATUS[0]}"

# == node: node-postgres, a pool of 4 connections and 1,000 requests by 50
# identities (test/node/pool_test.js); npm installs its locked dependencies
# here, so a missing node or npm, or a failed install, is a failure
echo "== node"
node_ready=0
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "node or npm not found"
	failed=$((failed + 1))
elif ! (cd test/node && npm ci --no-audit --no-fund) >"$OUT/npm.log" 2>&1; then
	cat "$OUT/npm.log"
	failed=$((failed + 1))
else
	node_ready=1
	psql -X -q -d postgres -c "CREATE DATABASE node_test" >/dev/null
	node test/node/pool_test.js --label direct 2>&1 | tee "$OUT/node.log"
	count_tap "$OUT/node.log" "${PIPESTATUS[0]}"
fi

# == node via pgbouncer: the same test, the pool's connections going through
# pgbouncer in transaction pooling mode (test/pgbouncer/pgbouncer.ini.in),
# plus two clients taking turns on one server connection
echo "== node via pgbouncer"
if [ "$node_ready" -ne 1 ]; then
	echo "skipped: the node block could not run"
	failed=$((failed + 1))
elif ! perl test/pgbouncer/start.pl "$PGB_DIR" "$PGB_PORT" "$PGHOST" "$PGPORT" \
	>"$OUT/pgbouncer-start.log" 2>&1; then
	cat "$OUT/pgbouncer-start.log"
	failed=$((failed + 1))
else
	cat "$OUT/pgbouncer-start.log"
	node test/node/pool_test.js --label pgbouncer \
		--app-host "$PGB_DIR" --app-port "$PGB_PORT" \
		--single-database node_test_single 2>&1 | tee "$OUT/node-pgbouncer.log"
	count_tap "$OUT/node-pgbouncer.log" "${PIPESTATUS[0]}"
	stop_pgbouncer
fi

# == TAP: prove over every test/t/*.pl, each starting its own servers with
# PostgreSQL::Test::Cluster.  initdb refuses root, so prove runs as the
# postgres OS user, on a copy of the tests in a directory that user owns
# (the checkout may not be readable by it); TENANCY_SRC names the checkout.
if compgen -G 'test/t/*.pl' >/dev/null; then
	echo "== TAP ($(cd test/t && echo *.pl))"
	TAP_DIR="$BASE/tap"
	src_dir=$PWD
	rm -rf "$TAP_DIR"
	mkdir -p "$TAP_DIR"
	cp -R test/t "$TAP_DIR/t"
	as_postgres=()
	if [ "$(id -u)" = 0 ]; then
		chown -R postgres:postgres "$TAP_DIR"
		as_postgres=(runuser -u postgres --)
	fi
	(cd "$TAP_DIR" && "${as_postgres[@]}" env \
		PATH="$($PG_CONFIG --bindir):$PATH" \
		PERL5LIB="$PGXS_DIR/src/test/perl${PERL5LIB:+:$PERL5LIB}" \
		PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
		TESTDIR="$TAP_DIR" TENANCY_SRC="$src_dir" \
		TENANCY_TAP_PORT=$((PORT + 2)) PG_TEST_PORT_DIR="$TAP_DIR" \
		prove -v t/*.pl) 2>&1 | tee "$OUT/tap.log"
	count_tap "$OUT/tap.log" "${PIPESTATUS[0]}"
	grep -q '^Result: PASS' "$OUT/tap.log" || echo "# logs: $TAP_DIR/tmp_check/log"
fi

# == README: every sql block of README.md, compared with the output it shows
echo "== README"
perl test/readme/check.pl README.md 2>&1 | tee "$OUT/readme.log"
count_tap "$OUT/readme.log" "${PIPESTATUS[0]}"

# == bulk load: the supported path into a protected table, and its speed
echo "== bulk load"
bash test/bench/bulk_load.sh 50000 2>&1 | tee "$OUT/bulk_load.log"
count_tap "$OUT/bulk_load.log" "${PIPESTATUS[0]}"

# == ODBC: a bound reporting login through psqlODBC and unixODBC's isql
echo "== ODBC"
bash test/odbc/odbc_test.sh 2>&1 | tee "$OUT/odbc.log"
count_tap "$OUT/odbc.log" "${PIPESTATUS[0]}"

# == Citus: its own coordinator and workers (test/citus/cluster.sh) on the
# ports of $TENANCY_CITUS_PORTS, pg_regress lines counted like the others
echo "== citus"
PG_CONFIG=$PG_CONFIG TENANCY_TMP=$BASE bash test/citus/run.sh 2>&1 | tee "$OUT/citus.log"
citus_status=${PIPESTATUS[0]}
count_regress "$OUT/citus.log"
if [ "$citus_status" -ne 0 ] && ! grep -q '\.\.\. FAILED' "$OUT/citus.log"; then
	failed=$((failed + 1))
fi
[ -f "$OUT/citus/regression.diffs" ] && head -200 "$OUT/citus/regression.diffs"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
