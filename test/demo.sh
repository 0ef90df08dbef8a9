#!/usr/bin/env bash
# test/demo.sh -- walk through what each kind of user of tenancy sees
#
# Run by "make demo" after the extension is built and installed.  It
#   1. starts a throw-away cluster "demo" (test/cluster.sh, socket only, port 55450),
#   2. creates database tenancy_demo with the extension and the sample of
#      test/demo/sample.sql: two accounting firms, their clients, users and a
#      protected application table public.journal_line,
#   3. shows the sample as the operator sees it (test/demo/overview.sql), then,
#      as the application server demo_app, what each user sees and which of
#      their attempts are refused (test/demo/walkthrough.sql),
#   4. prints how to connect.  The cluster is left running.
#
#   DEMO_PORT=55460 bash test/demo.sh    to use another port (default 55450)
#   TENANCY_TMP=/some/dir bash test/demo.sh   to keep the cluster elsewhere
#                                        (default /tmp/tenancy)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
demo="$root/test/demo"
port=${DEMO_PORT:-55450}
db=tenancy_demo

echo "== starting a throw-away cluster 'demo' on port $port"
bash test/cluster.sh start demo "$port"
eval "$(bash test/cluster.sh env demo)"
echo "   socket directory $PGHOST"

psql_admin() {
	psql -X -q -v ON_ERROR_STOP=1 -U postgres "$@"
}

echo "== creating database $db, the extension and the sample"
psql_admin -d postgres -c "CREATE DATABASE $db"
psql_admin -d "$db" -c 'CREATE EXTENSION tenancy' -f "$demo/sample.sql"

# ids for the walk-through: u_<login>, a_<administration>, c_<client>, k_<compartment>
mapfile -t ids < <(psql_admin -A -t -d "$db" <<'SQL'
SELECT 'u_' || login || '=' || tenancy_user_id FROM public.app_user
UNION ALL
SELECT 'a_' || translate(lower(code), '-.', '__') || '=' || id FROM tenancy.administration
UNION ALL
SELECT 'c_' || translate(lower(code), '-.', '__') || '=' || id FROM tenancy.client
UNION ALL
SELECT 'k_' || translate(lower(code), '-.', '__') || '=' || id FROM tenancy.compartment
UNION ALL
SELECT 'total_rows=' || count(*) FROM public.journal_line
SQL
)
if [ "${#ids[@]}" -lt 10 ]; then
	echo "demo.sh: could not read the sample's ids" >&2
	exit 1
fi
vars=()
for v in "${ids[@]}"; do
	vars+=(-v "$v")
done

psql_admin -d "$db" -f "$demo/overview.sql"

echo
echo "== the walk-through, as the application server demo_app (psql -U demo_app)"
echo "   statements are echoed as sent, each followed by its result; '-->' says what"
echo "   is tried; refusals are PostgreSQL errors: ERROR:  <SQLSTATE>: <message>"
# stdin, not -f: psql then prints errors without a "psql:file:line:" prefix;
# 2>&1 keeps each error next to its statement
# VERBOSITY verbose puts the SQLSTATE in each error line ("ERROR:  42501: ...");
# the LOCATION line it adds (the C source file) is left out here
rc=0
without_location() { grep -v '^LOCATION:  '; }
psql -X -q -v ON_ERROR_STOP=0 -U demo_app -d "$db" "${vars[@]}" \
	-v demo_dir="$demo" <"$demo/walkthrough.sql" 2>&1 | without_location
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=${PIPESTATUS[0]}
# two dossiers change firm (R16-R19)
psql -X -q -v ON_ERROR_STOP=0 -U demo_app -d "$db" "${vars[@]}" <"$demo/migration.sql" 2>&1 | without_location
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=${PIPESTATUS[0]}

cat <<EOF

================================================================================
The cluster is still running.  Connect with:

  as the operator (superuser, sees everything):
    psql -h $PGHOST -p $PGPORT -U postgres $db

  as the application server (sees nothing until it acts as a user):
    psql -h $PGHOST -p $PGPORT -U demo_app $db
    then, one transaction per request, as an application server does:
                BEGIN;
                SELECT tenancy.act_as_local($(psql_admin -A -t -d "$db" -c "SELECT tenancy_user_id FROM public.app_user WHERE login = 'jan'"));   -- Jan de Vries
                SELECT * FROM tenancy.my_administrations;
                SELECT * FROM journal_line;
                COMMIT;
    the user ids are in public.app_user (login, tenancy_user_id)

Stop it with:
    TENANCY_TMP=$(dirname "$(dirname "$PGHOST")") bash $root/test/cluster.sh stop demo
(its log is $(dirname "$PGHOST")/server.log)
================================================================================
EOF

if [ "$rc" -ne 0 ]; then
	echo "demo.sh: the walk-through's psql ended with exit code $rc" >&2
fi
exit "$rc"
