#!/usr/bin/perl
# test/t/logging.pl -- the server log names the acting tenancy user (logging.c)
#
# A DBA reads the server log, not tenancy's catalog.  With
# tenancy.log_identity on (the default), every entry that a session with an
# identity writes to the log carries a log-only DETAIL line
# "tenancy user N, compartment M"; a session without identity gets no such
# line; the client never sees it; and only a superuser may switch it off.
# Proven with log_min_duration_statement = 0 (every statement is logged),
# as a DBA hunting a slow query would set it.  R1, R3.
#
# Run by test/run_tests.sh ("== TAP") like every test/t/*.pl.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# the port range chosen for this run (TENANCY_TEST_PORT), when given
$PostgreSQL::Test::Cluster::last_port_assigned = $ENV{TENANCY_TAP_PORT}
  if $ENV{TENANCY_TAP_PORT};

my $node = PostgreSQL::Test::Cluster->new('logging');
$node->init;
$node->append_conf('postgresql.conf', "log_min_duration_statement = 0\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION tenancy;
	CREATE ROLE regress_app LOGIN IN ROLE tenancy_app;
	CREATE ROLE regress_plain LOGIN;
	SELECT tenancy.create_subscription('Bakker');
	SELECT tenancy.create_compartment(1, 'bk', 'Bakker');
	SELECT tenancy.add_user(1, 'anna@bakker.nl', 'internal', NULL, true);
});

# 1. an acting session: its statements' log entries name user and compartment
my $offset = -s $node->logfile;
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
	SELECT tenancy.act_as(1);
	SELECT 'marker-acting';
	SELECT 1/0;
}, extra_params => ['-U', 'regress_app']);
my $log = slurp_file($node->logfile, $offset);
like($log, qr/statement: SELECT 'marker-acting';\n[^\n]*DETAIL:  tenancy user 1, compartment 1\n/,
	'a statement of an acting session is logged with its tenancy user and compartment');
like($log, qr/ERROR:  division by zero\n[^\n]*DETAIL:  tenancy user 1, compartment 1\n/,
	'an error of an acting session is logged with its tenancy user and compartment');
unlike($stderr, qr/tenancy user/, 'the client does not see the log-only detail');

# 2. a session without identity adds nothing
$offset = -s $node->logfile;
$node->psql('postgres', q{SELECT 'marker-no-identity';}, extra_params => ['-U', 'regress_app']);
$log = slurp_file($node->logfile, $offset);
like($log, qr/marker-no-identity/, 'the statement without identity is logged');
unlike($log, qr/tenancy user/, 'a session without identity adds no tenancy detail');

# 3. a non-superuser cannot switch it off; the acting session stays named
$offset = -s $node->logfile;
($ret, $stdout, $stderr) = $node->psql('postgres', q{
	SELECT tenancy.act_as(1);
	SET tenancy.log_identity = off;
	SELECT 'marker-after-set';
}, extra_params => ['-U', 'regress_app'], on_error_stop => 0);
like($stderr, qr/permission denied to set parameter "tenancy.log_identity"/,
	'a non-superuser cannot change tenancy.log_identity');
$log = slurp_file($node->logfile, $offset);
like($log, qr/statement: SELECT 'marker-after-set';\n[^\n]*DETAIL:  tenancy user 1, compartment 1\n/,
	'the session is still named after its attempt to switch logging off');

$node->stop;
done_testing();
