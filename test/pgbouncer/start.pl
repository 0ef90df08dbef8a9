#!/usr/bin/perl
# test/pgbouncer/start.pl -- start pgbouncer for the tests and wait until it is ready
#
#   perl test/pgbouncer/start.pl DIR PORT SERVER_HOST SERVER_PORT
#
# Writes DIR/pgbouncer.ini (from pgbouncer.ini.in beside this script) and
# DIR/userlist.txt, then starts pgbouncer as the "postgres" OS user
# (pgbouncer refuses to run as root) listening on the Unix socket
# DIR/.s.PGSQL.PORT.  It returns once pgbouncer is ready to accept
# connections, which pgbouncer itself announces with the systemd readiness
# protocol ("READY=1" on the datagram socket named by NOTIFY_SOCKET) after
# it has opened its listening socket: no polling, no sleep.  It gives up
# after 30 seconds, or as soon as pgbouncer exits.  pgbouncer keeps running
# in the background; its pid is in DIR/pgbouncer.pid (stop it with
# kill -TERM) and its log in DIR/pgbouncer.log.
use strict;
use warnings;
use File::Basename qw(dirname);
use IO::Select;
use IO::Socket::UNIX;
use POSIX qw(WNOHANG);
use Socket qw(SOCK_DGRAM);

my ($dir, $port, $server_host, $server_port) = @ARGV;
die "usage: start.pl DIR PORT SERVER_HOST SERVER_PORT\n"
  unless defined $server_port;
my $here = dirname(__FILE__);
my $bouncer = '/usr/sbin/pgbouncer';
-x $bouncer or die "$bouncer not found: install Debian's pgbouncer (make deps)\n";

# postgres, the OS user that runs the test cluster, runs pgbouncer
my (undef, undef, $uid, $gid) = getpwnam('postgres')
  or die "no OS user postgres\n";
my $as_root = $> == 0;

mkdir $dir unless -d $dir;
open my $in, '<', "$here/pgbouncer.ini.in" or die "pgbouncer.ini.in: $!\n";
my $ini = do { local $/; <$in> };
close $in;
$ini =~ s/\@DIR\@/$dir/g;
$ini =~ s/\@PORT\@/$port/g;
$ini =~ s/\@SERVER_HOST\@/$server_host/g;
$ini =~ s/\@SERVER_PORT\@/$server_port/g;
open my $out, '>', "$dir/pgbouncer.ini" or die "$dir/pgbouncer.ini: $!\n";
print $out $ini;
close $out;
system('cp', "$here/userlist.txt", "$dir/userlist.txt") == 0 or die "cp userlist.txt failed\n";
unlink "$dir/pgbouncer.pid", "$dir/pgbouncer.log";

# the readiness socket, writable by pgbouncer
my $notify_path = "$dir/notify.sock";
unlink $notify_path;
my $notify = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $notify_path)
  or die "cannot create $notify_path: $!\n";
if ($as_root)
{
	chown $uid, $gid, $dir, "$dir/pgbouncer.ini", "$dir/userlist.txt", $notify_path;
}

my $pid = fork // die "fork: $!\n";
if ($pid == 0)
{
	if ($as_root)
	{
		$( = $gid;
		$) = "$gid $gid";
		$< = $> = $uid;
		die "cannot become postgres\n" if $> != $uid || $< != $uid;
	}
	$ENV{NOTIFY_SOCKET} = $notify_path;
	open STDIN, '<', '/dev/null';
	open STDOUT, '>>', "$dir/pgbouncer.out";
	open STDERR, '>&', \*STDOUT;
	exec $bouncer, '-q', "$dir/pgbouncer.ini" or die "exec $bouncer: $!\n";
}

my $select = IO::Select->new($notify);
my $deadline = time + 30;
my $ready = 0;
while (!$ready && time < $deadline)
{
	# a short wait per round, so that an early exit of pgbouncer is seen
	if ($select->can_read(0.5))
	{
		my $msg = '';
		$notify->recv($msg, 4096);
		$ready = 1 if $msg =~ /^READY=1$/m;
	}
	elsif (waitpid($pid, WNOHANG) == $pid)
	{
		last;
	}
}
unlink $notify_path;
if (!$ready)
{
	kill 'TERM', $pid;
	system('cat', "$dir/pgbouncer.out", "$dir/pgbouncer.log");
	die "pgbouncer did not become ready\n";
}
print "pgbouncer $pid ready on $dir/.s.PGSQL.$port\n";
exit 0;
