#!/usr/bin/env bash
# test/fresh/chroot.sh -- "make demo" and "make test" on a brand-new Debian 12
#
#   bash test/fresh/chroot.sh create [DIR]       debootstrap a minimal Debian 12 (bookworm)
#                                                into DIR (default /var/chroot/deb12) and add
#                                                git, make and ca-certificates
#   bash test/fresh/chroot.sh run [DIR] [SOURCE] clone SOURCE (default: this checkout; a
#                                                git URL or path, branch with SOURCE_BRANCH)
#                                                into DIR/root/tenancy afresh, then run
#                                                "make demo" and "make test" there as root
#
# Run as root on a Debian or Ubuntu host that reaches a Debian mirror.  The
# chroot gets /proc, /sys, /dev and /dev/pts mounted for the run and the
# host's resolv.conf (apt-get and npm need DNS) and the host's local CA
# certificates (/usr/local/share/ca-certificates, for a TLS-inspecting
# proxy); the mounts are undone at the end.  The chroot is kept, so a second run only clones and tests again
# (with the packages already installed; create a new chroot to retest the
# installation).  DEMO_PORT, TENANCY_TEST_PORT and TENANCY_PGBOUNCER_PORT
# are passed through when set.
set -euo pipefail

cmd=${1:?usage: chroot.sh create|run [DIR] [SOURCE]}
dir=${2:-/var/chroot/deb12}
src=${3:-$(cd "$(dirname "$0")/../.." && pwd)}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

case "$cmd" in
create)
	command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
	mkdir -p "$(dirname "$dir")"
	debootstrap --variant=minbase --include=git,make,ca-certificates \
		bookworm "$dir" "$mirror"
	;;
run)
	[ -x "$dir/usr/bin/git" ] || { echo "chroot.sh: no chroot in $dir (run create first)" >&2; exit 1; }
	mounted=()
	cleanup() {
		local i
		for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
			umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" || true
		done
	}
	trap cleanup EXIT
	for m in proc sys dev dev/pts; do
		mountpoint -q "$dir/$m" && continue
		case $m in
		proc) mount -t proc proc "$dir/proc" ;;
		sys) mount -t sysfs sys "$dir/sys" ;;
		dev) mount --bind /dev "$dir/dev" ;;
		dev/pts) mount -t devpts devpts "$dir/dev/pts" ;;
		esac
		mounted+=("$dir/$m")
	done
	cp /etc/resolv.conf "$dir/etc/resolv.conf"
	# a host behind a TLS-inspecting proxy trusts extra CAs: so must the chroot
	# (apt over https, npm); node reads them through NODE_EXTRA_CA_CERTS
	if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
		mkdir -p "$dir/usr/local/share/ca-certificates"
		cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
		chroot "$dir" update-ca-certificates >/dev/null
	fi
	rm -rf "$dir/root/tenancy"
	git clone -q ${SOURCE_BRANCH:+--branch "$SOURCE_BRANCH"} "$src" "$dir/root/tenancy"
	envs=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
		NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
	for v in DEMO_PORT TENANCY_TEST_PORT TENANCY_PGBOUNCER_PORT; do
		[ -n "${!v:-}" ] && envs+=("$v=${!v}")
	done
	rc=0
	chroot "$dir" env -i "${envs[@]}" bash -c 'cd /root/tenancy && make demo && bash test/cluster.sh stop demo' || rc=$?
	echo "== make demo exit status $rc"
	chroot "$dir" env -i "${envs[@]}" bash -c 'cd /root/tenancy && make test' || rc=$?
	echo "== make test exit status $rc"
	exit "$rc"
	;;
*)
	echo "usage: chroot.sh create|run [DIR] [SOURCE]" >&2
	exit 2
	;;
esac
