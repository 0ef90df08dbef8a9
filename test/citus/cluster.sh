#!/usr/bin/env bash
# test/citus/cluster.sh -- a throw-away Citus cluster for tenancy's tests
#
#   test/citus/cluster.sh start     initdb a coordinator and two workers under
#                                   $TENANCY_TMP/citus, start them, create the
#                                   database with citus and tenancy on every
#                                   node, register the workers, and print the
#                                   coordinator's PGHOST, PGPORT and
#                                   PGDATABASE as shell assignments
#   test/citus/cluster.sh stop      stop the three nodes (folders are kept for
#                                   the logs)
#   test/citus/cluster.sh env       print the assignments again
#
# The ports come from TENANCY_CITUS_PORTS ("coordinator worker1 worker2",
# default "56001 56002 56003").  Nodes listen on one Unix socket folder,
# $TENANCY_TMP/citus/sock, and Citus connects to the workers through it (a
# socket folder is a valid libpq host).  Every node reads the same cluster
# secret, a file of 48 random bytes made here, owned by the server user and
# readable by nobody else (tenancy.cluster_secret_file), and carries the
# settings tenancy needs on Citus: shared_preload_libraries = 'citus,tenancy'
# (tenancy loaded before the coordinator's SET LOCAL tenancy.token arrives),
# citus.propagate_set_commands = 'local' (the coordinator forwards the
# identity's SET LOCAL to the workers), wal_level = logical and
# citus.local_hostname = the socket folder (shard moves connect to the
# node itself).  citus.enable_unsafe_triggers stays off: tenancy.distribute()
# turns it on for its own create_distributed_table() only.  Needs Citus installed in the
# PostgreSQL installation of pg_config (PGBIN), and tenancy installed there.
set -euo pipefail

PGBIN=${PGBIN:-$(pg_config --bindir)}
BASE=${TENANCY_TMP:-/tmp/tenancy}/citus
SOCK=$BASE/sock
DB=${TENANCY_CITUS_DB:-tenancy_citus}
read -r -a PORTS <<<"${TENANCY_CITUS_PORTS:-56001 56002 56003}"
cmd=${1:?usage: cluster.sh start|stop|env}

if [ "${#PORTS[@]}" -ne 3 ]; then
	echo "TENANCY_CITUS_PORTS must name three ports, coordinator first" >&2
	exit 2
fi

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

psql_on() {
	local port=$1
	shift
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$port" -U postgres "$@"
}

print_env() {
	echo "PGHOST='$SOCK' PGPORT='${PORTS[0]}' PGDATABASE='$DB' PGUSER=postgres"
}

stop_nodes() {
	local i
	for i in 0 1 2; do
		if [ -f "$BASE/node$i/data/postmaster.pid" ]; then
			as_pg "$PGBIN/pg_ctl" -D "$BASE/node$i/data" -m fast -w stop >/dev/null 2>&1 ||
				as_pg "$PGBIN/pg_ctl" -D "$BASE/node$i/data" -m immediate stop >/dev/null 2>&1 || true
		fi
	done
}

case "$cmd" in
start)
	stop_nodes
	rm -rf "$BASE"
	mkdir -p "$SOCK"
	chmod 755 "$(dirname "$BASE")" 2>/dev/null || true
	head -c 48 /dev/urandom | base64 -w0 >"$BASE/cluster_secret"
	chmod 600 "$BASE/cluster_secret"
	[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$BASE"
	for i in 0 1 2; do
		dir=$BASE/node$i
		as_pg mkdir -p "$dir"
		as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres --no-sync \
			-E UTF8 --locale=C >"$BASE/initdb$i.log" 2>&1 ||
			{ cat "$BASE/initdb$i.log"; exit 1; }
		cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$SOCK'
port = ${PORTS[$i]}
shared_preload_libraries = 'citus,tenancy'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 80
shared_buffers = 128MB
max_prepared_transactions = 40
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
log_min_messages = warning
citus.propagate_set_commands = 'local'
citus.shard_count = 4
citus.local_hostname = '$SOCK'
CONF
		# the secret, where the installed tenancy knows the setting
		if grep -q cluster_secret_file "$("$PGBIN/pg_config" --pkglibdir)/tenancy.so" 2>/dev/null; then
			echo "tenancy.cluster_secret_file = '$BASE/cluster_secret'" >>"$dir/data/postgresql.conf"
		fi
		as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
			{ cat "$dir/server.log"; exit 1; }
	done
	for i in 0 1 2; do
		psql_on "${PORTS[$i]}" -d postgres -c "CREATE DATABASE $DB" >/dev/null
		psql_on "${PORTS[$i]}" -d "$DB" -c "CREATE EXTENSION citus" >/dev/null
	done
	psql_on "${PORTS[0]}" -d "$DB" >/dev/null <<SQL
SELECT citus_set_coordinator_host('$SOCK', ${PORTS[0]});
SELECT citus_add_node('$SOCK', ${PORTS[1]});
SELECT citus_add_node('$SOCK', ${PORTS[2]});
CREATE EXTENSION tenancy;
SQL
	print_env
	;;
stop)
	stop_nodes
	;;
env)
	print_env
	;;
*)
	echo "usage: cluster.sh start|stop|env" >&2
	exit 2
	;;
esac
