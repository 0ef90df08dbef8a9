#!/usr/bin/env bash
# test/odbc/odbc_test.sh -- a reporting tool over ODBC (R14, R15)
#
# Debian's psqlODBC driver (odbc-postgresql) under unixODBC's isql, the way
# Excel and BI tools connect: a bound reporting login, with no act-as call,
#   - lists its tables through SQLTables (isql's "help"): with the driver's
#     "accessible only" option (AB = 10 in the DSN: ExtraOptions bit 0x10,
#     psqlODBC then asks has_table_privilege) exactly what it may read:
#     my_administrations, my_clients, the other views open to every session
#     (audit_log, migrations, migration_steps), and the protected table and
#     the secured view granted to it; none of tenancy's catalog tables;
#   - reads exactly its scope (one client's administrations, R14);
#   - writes nothing (an INSERT is refused, R14).
# Prints TAP lines.  Runs against the cluster of the PG* environment; creates
# and drops database odbc_test and role odbc_bi.
set -uo pipefail

driver=$(find /usr/lib -name psqlodbcw.so 2>/dev/null | head -1)
if [ -z "$driver" ] || ! command -v isql >/dev/null; then
	echo "not ok 1 - psqlODBC (odbc-postgresql) and isql (unixodbc) are installed"
	exit 1
fi
db=odbc_test
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL || exit 1
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $db;
CREATE DATABASE $db;
DROP ROLE IF EXISTS odbc_bi;
DROP ROLE IF EXISTS odbc_owner;
CREATE ROLE odbc_bi LOGIN;
CREATE ROLE odbc_owner NOLOGIN IN ROLE tenancy_admin;
SQL
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || exit 1
CREATE EXTENSION tenancy;
GRANT CREATE ON SCHEMA public TO odbc_owner;
SELECT tenancy.create_subscription('Bakker');
SELECT tenancy.create_compartment(1, 'bj', 'Bakker & Jansen');
SELECT tenancy.create_client(1, 'devries', 'de Vries Holding');
SELECT tenancy.create_client(1, 'smit', 'Bakkerij Smit');
SELECT tenancy.create_administration(1, 'dvh', 'de Vries Holding BV');
SELECT tenancy.create_administration(2, 'smit', 'Bakkerij Smit VOF');
SET ROLE odbc_owner;
CREATE TABLE journal_line (administration_id bigint NOT NULL, id bigint NOT NULL,
	amount numeric(12,2) NOT NULL, PRIMARY KEY (administration_id, id));
SELECT tenancy.protect('journal_line');
SELECT tenancy.create_secured_view('public.balance',
	'SELECT administration_id, sum(amount) AS balance FROM public.journal_line GROUP BY administration_id');
RESET ROLE;
INSERT INTO journal_line VALUES (1, 1, 100.00), (1, 2, 20.00), (2, 1, 7.00);
GRANT SELECT ON journal_line, balance TO odbc_bi;
SELECT tenancy.bind_reporting_login('odbc_bi', 1, 1);
SQL

cat >"$dir/odbcinst.ini" <<INI
[PostgreSQL Unicode]
Driver = $driver
INI
# AB = 10: psqlODBC's ExtraOptions (hex), bit 0x10 "accessible only"
cat >"$dir/odbc.ini" <<INI
[books]
Driver = PostgreSQL Unicode
Servername = $PGHOST
Port = $PGPORT
Database = $db
Username = odbc_bi
AB = 10
[books_all]
Driver = PostgreSQL Unicode
Servername = $PGHOST
Port = $PGPORT
Database = $db
Username = odbc_bi
INI
odbc() { ODBCSYSINI="$dir" ODBCINI="$dir/odbc.ini" isql -v -b -d'|' books odbc_bi "" 2>&1; }
n=0
tap() { n=$((n + 1)); if [ "$1" = ok ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

# 1. SQLTables: what the reporting login is offered
list_tables() {
	echo "help" | ODBCSYSINI="$dir" ODBCINI="$dir/odbc.ini" isql -b -c -d'|' "$1" odbc_bi "" 2>&1 |
		awk -F'|' 'NF >= 4 && $3 != "TABLE_NAME" { print $2 "." $3 }' | sort | tr '\n' ' ' | sed 's/ $//'
}
tables=$(list_tables books)
expected="public.balance public.journal_line tenancy.audit_log tenancy.migration_steps tenancy.migrations tenancy.my_administrations tenancy.my_clients"
if [ "$tables" = "$expected" ]; then
	tap ok "SQLTables (AB = 10) lists exactly what the login may read"
else
	tap bad "SQLTables (AB = 10) lists exactly what the login may read: $tables"
fi
# every listed relation is readable by the login (no error in a BI navigator)
unreadable=""
for t in $tables; do
	psql -X -q -A -t -d "$db" -U odbc_bi -c "SELECT 1 FROM $t LIMIT 0" >/dev/null 2>&1 || unreadable="$unreadable $t"
done
if [ -z "$unreadable" ]; then tap ok "every listed table or view can be read by the login"; else tap bad "every listed table or view can be read by the login:$unreadable"; fi
all=$(list_tables books_all | wc -w)
echo "# without AB = 10 the driver lists $all relations, tenancy's catalog tables included"

# 2. it reads its scope, through the driver
out=$(echo "SELECT administration_id, code FROM tenancy.my_administrations ORDER BY 1" | odbc)
if [ "$(grep -c '^1|dvh$' <<<"$out")" = 1 ] && [ "$(grep -c '|' <<<"$out")" = 1 ]; then
	tap ok "my_administrations shows its one administration (R14)"
else
	tap bad "my_administrations shows its one administration (R14): $out"
fi
out=$(echo "SELECT administration_id, id, amount FROM public.journal_line ORDER BY 1, 2" | odbc)
if [ "$(grep -c '^1|' <<<"$out")" = 2 ] && ! grep -q '^2|' <<<"$out"; then
	tap ok "journal_line shows the rows of its scope and none of another client (R14)"
else
	tap bad "journal_line shows the rows of its scope and none of another client (R14): $out"
fi
out=$(echo "SELECT administration_id, balance FROM public.balance ORDER BY 1" | odbc)
if [ "$out" = "1|120.00" ]; then tap ok "the secured view shows its scope's balance"; else tap bad "the secured view shows its scope's balance: $out"; fi

# 3. it writes nothing
out=$(echo "INSERT INTO public.journal_line VALUES (1, 3, 1.00)" | odbc)
rows=$(psql -X -A -t -d "$db" -c "SELECT count(*) FROM journal_line")
if grep -qi 'denied\|read-only' <<<"$out" && [ "$rows" = 3 ]; then
	tap ok "an INSERT through ODBC is refused and nothing is written (R14)"
else
	tap bad "an INSERT through ODBC is refused and nothing is written (R14): $out ($rows rows)"
fi

psql -X -q -d postgres -c "DROP DATABASE $db" -c "DROP ROLE odbc_bi" -c "DROP ROLE odbc_owner" >/dev/null
echo "1..$n"
