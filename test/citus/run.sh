#!/usr/bin/env bash
# test/citus/run.sh -- tenancy's Citus suite (R25)
#
# Called by test/run_tests.sh (and runnable alone, after "make install"):
# when the PostgreSQL installation of $PG_CONFIG has the Citus extension,
# starts a coordinator and two workers with test/citus/cluster.sh and runs
# pg_regress over test/citus/sql/<name>.sql (expected output in
# test/citus/expected/) against the coordinator, in the order of
# CITUS_TESTS: citus_setup loads the sample that the other files use, so
# they run in this order in one database.  Without Citus it prints one
# line, "citus: skipped (Citus is not installed)", and succeeds.
#
# Ports: $TENANCY_CITUS_PORTS ("coordinator worker1 worker2"), by default
# the three ports after $TENANCY_TEST_PORT + 10.  Output under
# $TENANCY_TMP/test-output/citus.
set -uo pipefail

cd "$(dirname "$0")/../.."
PG_CONFIG=${PG_CONFIG:-pg_config}
PGBIN=$($PG_CONFIG --bindir)
PGXS_DIR=$(dirname "$(dirname "$(dirname "$($PG_CONFIG --pgxs)")")")
BASE=${TENANCY_TMP:-/tmp/tenancy}
OUT=${TENANCY_CITUS_OUT:-$BASE/test-output/citus}
PORT=${TENANCY_TEST_PORT:-55470}
CITUS_TESTS=${CITUS_TESTS:-citus_setup citus_walls token citus_moves citus_guard citus_migration citus_fn}

if [ ! -f "$($PG_CONFIG --sharedir)/extension/citus.control" ]; then
	echo "citus: skipped (Citus is not installed)"
	exit 0
fi

export TENANCY_CITUS_PORTS=${TENANCY_CITUS_PORTS:-"$((PORT + 11)) $((PORT + 12)) $((PORT + 13))"}
read -r -a ports <<<"$TENANCY_CITUS_PORTS"
export TENANCY_TMP=$BASE PGBIN

stop() { bash test/citus/cluster.sh stop >/dev/null 2>&1 || true; }
trap stop EXIT

if ! assignments=$(bash test/citus/cluster.sh start); then
	echo "citus: the cluster did not start (logs in $BASE/citus)"
	exit 1
fi
eval "$assignments"
export PGHOST PGPORT PGDATABASE PGUSER
export TENANCY_CITUS_SOCK=$PGHOST
export TENANCY_CITUS_WORKER1_PORT=${ports[1]} TENANCY_CITUS_WORKER2_PORT=${ports[2]}

rm -rf "$OUT"
mkdir -p "$OUT"
# shellcheck disable=SC2086
"$PGXS_DIR/src/test/regress/pg_regress" \
	--bindir="$PGBIN" --inputdir=test/citus --outputdir="$OUT" \
	--host="$PGHOST" --port="$PGPORT" --user=postgres \
	--use-existing --dbname="$PGDATABASE" $CITUS_TESTS
