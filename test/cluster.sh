#!/usr/bin/env bash
# test/cluster.sh -- throw-away PostgreSQL clusters for the demo and the tests
#
#   test/cluster.sh start NAME [PORT]   initdb a fresh cluster under $TENANCY_TMP/NAME
#                                       and start it on a socket in that folder
#   test/cluster.sh stop NAME           stop it (the folder is kept for the logs)
#   test/cluster.sh env NAME            print PGHOST/PGPORT/PGUSER exports
#
# TENANCY_CLUSTER_CONF: more lines for postgresql.conf at start (a benchmark's
# shared_buffers, say); a later line wins over the defaults above it.
#
# The clusters listen on a Unix socket only (listen_addresses = ''), never
# touch a system cluster, and are recreated from scratch on every start, so
# running the tests twice in a row works.  initdb refuses to run as root, so
# the server runs as the "postgres" OS user that the Debian package creates.
set -euo pipefail

PGBIN=${PGBIN:-$(pg_config --bindir)}
BASE=${TENANCY_TMP:-/tmp/tenancy}
cmd=${1:?usage: cluster.sh start|stop|env NAME [PORT]}
name=${2:?usage: cluster.sh start|stop|env NAME [PORT]}
dir="$BASE/$name"

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case "$cmd" in
start)
	port=${3:-55432}
	mkdir -p "$BASE"
	chmod 755 "$BASE"
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	mkdir -p "$dir/sock"
	[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
	as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres --no-sync \
		-E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log"; exit 1; }
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir/sock'
port = $port
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 60
shared_buffers = 512MB
work_mem = 16MB
maintenance_work_mem = 512MB
max_parallel_workers_per_gather = 2
max_prepared_transactions = 10
log_min_messages = warning
${TENANCY_CLUSTER_CONF:-}
CONF
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
		{ cat "$dir/server.log"; exit 1; }
	echo "$port" >"$dir/port"
	;;
stop)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
	fi
	;;
env)
	echo "export PGHOST='$dir/sock' PGPORT='$(cat "$dir/port")' PGUSER=postgres"
	;;
*)
	echo "usage: cluster.sh start|stop|env NAME [PORT]" >&2
	exit 2
	;;
esac
