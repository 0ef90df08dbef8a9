#!/usr/bin/perl
# test/t/dump_dropped.pl -- registrations of dropped tables and roles do not
# outlive them, nor travel in a dump (R15, R23, R24)
#
# tenancy.protected_table names a protected table and tenancy.reporting_login
# a bound login by OID.  A row left behind by a dropped table or role names
# a bare number: pg_dump writes it as such, and a restore resolves it to
# whatever relation or role holds that number in the new database (a
# dropped reporting login's binding would give its firm's scope to a
# stranger).  One node shows that
#   - DROP TABLE of a protected table removes its registration (the event
#     trigger tenancy_ddl_drop), also through DROP SCHEMA ... CASCADE;
#   - a table dropped while the event triggers stand aside
#     (session_replication_role = replica) and a bound role dropped (DROP
#     ROLE fires no event trigger) stay registered, and check() reports
#     both, with the statement that removes them;
#   - pg_dump leaves both rows out and keeps the others, and the restored
#     database holds the live ones alone.
# Run by test/run_tests.sh ("== TAP") like every test/t/*.pl.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# the port range chosen for this run (TENANCY_TEST_PORT), when given
$PostgreSQL::Test::Cluster::last_port_assigned = $ENV{TENANCY_TAP_PORT}
  if $ENV{TENANCY_TAP_PORT};

my $node = PostgreSQL::Test::Cluster->new('dropped');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	CREATE EXTENSION tenancy;
	CREATE ROLE regress_owner NOLOGIN IN ROLE tenancy_admin;
	CREATE ROLE regress_bi_kept LOGIN;
	CREATE ROLE regress_bi_gone LOGIN;
	GRANT CREATE ON SCHEMA public TO regress_owner;
	SELECT tenancy.create_subscription('Bakker');
	SELECT tenancy.create_compartment(1, 'bk', 'Bakker');
	SELECT tenancy.bind_reporting_login('regress_bi_kept', 1);
	SELECT tenancy.bind_reporting_login('regress_bi_gone', 1);
	CREATE SCHEMA regress_doomed AUTHORIZATION regress_owner;
	SET ROLE regress_owner;
	CREATE TABLE public.kept (id int, administration_id bigint);
	CREATE TABLE public.gone (id int, administration_id bigint);
	CREATE TABLE public.gone_replica (id int, administration_id bigint);
	CREATE TABLE regress_doomed.gone_cascade (id int, administration_id bigint);
	SELECT tenancy.protect(t) FROM unnest('{public.kept, public.gone, public.gone_replica,
		regress_doomed.gone_cascade}'::regclass[]) t;
	RESET ROLE;
});
my %oid;
for my $t ('public.gone', 'public.gone_replica', 'regress_doomed.gone_cascade')
{
	$oid{$t} = $node->safe_psql('src', "SELECT '$t'::regclass::oid");
}
$oid{role} = $node->safe_psql('src', "SELECT 'regress_bi_gone'::regrole::oid");

my $registered = sub {
	my ($db, $oid) = @_;
	return $node->safe_psql($db, "SELECT count(*) FROM tenancy.protected_table WHERE relid::oid = $oid");
};

# the owner drops a protected table, and a schema holding another
$node->safe_psql('src', 'SET ROLE regress_owner; DROP TABLE public.gone; DROP SCHEMA regress_doomed CASCADE');
is($registered->('src', $oid{'public.gone'}), '0', 'R24: DROP TABLE removes the registration of a protected table');
is($registered->('src', $oid{'regress_doomed.gone_cascade'}), '0',
	'R24: DROP SCHEMA ... CASCADE removes the registration of the protected table it drops');

# with the event triggers standing aside, and DROP ROLE, the rows stay
$node->safe_psql('src', 'SET session_replication_role = replica; DROP TABLE public.gone_replica');
$node->safe_psql('src', 'DROP ROLE regress_bi_gone');
is($registered->('src', $oid{'public.gone_replica'}), '1',
	'a table dropped in replica mode stays registered (no event trigger fired)');
my $check = $node->safe_psql('src',
	"SELECT concat_ws(' | ', severity, object, problem, hint) FROM tenancy.check() ORDER BY 1");
like($check, qr/^error \| $oid{'public.gone_replica'} \| registered as protected but the table no longer exists \| DELETE FROM tenancy.protected_table WHERE relid = $oid{'public.gone_replica'};$/m,
	'R23: check() reports the registration of a table that no longer exists, with the statement that removes it');
like($check, qr/^error \| $oid{role} \| reporting login binding of a role that no longer exists \| SELECT tenancy.unbind_reporting_login\($oid{role}\);$/m,
	'R23: check() reports the binding of a dropped role, with the statement that removes it');

# the dump leaves both out
my $tmp = PostgreSQL::Test::Utils::tempdir;
$node->command_ok([ 'pg_dump', '-Fp', '-f', "$tmp/src.sql", 'src' ], 'pg_dump of the source database');
my $dump = slurp_file("$tmp/src.sql");
my ($logins) = $dump =~ /^COPY tenancy\.reporting_login .*? FROM stdin;\n(.*?)^\\\.$/ms;
my ($tables) = $dump =~ /^COPY tenancy\.protected_table .*? FROM stdin;\n(.*?)^\\\.$/ms;
like($logins // '', qr/^regress_bi_kept\t/m, 'the dump holds the binding of the live login');
unlike($logins // '', qr/^$oid{role}\t/m,
	'R15: the dump leaves out the binding of the dropped role (a restore would hand its scope to the role holding that OID)');
like($tables // '', qr/^public\.kept\t/m, 'the dump holds the registration of the live protected table');
unlike($tables // '', qr/^$oid{'public.gone_replica'}\t/m,
	'R24: the dump leaves out the registration of the dropped table');

# and the restored database holds the live rows alone
$node->safe_psql('postgres', 'CREATE DATABASE copy');
{
	local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
	$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'copy', '-f', "$tmp/src.sql" ],
		'restore of the plain dump');
}
is($node->safe_psql('copy', 'SELECT string_agg(role::text, \',\') FROM tenancy.reporting_login'),
	'regress_bi_kept', 'the restored bindings: the live login alone');
is($node->safe_psql('copy',
		"SELECT count(*) || ' ' || bool_and(relid = 'public.kept'::regclass) FROM tenancy.protected_table"),
	'1 true', 'the restored registrations: the live table alone');

$node->stop;
done_testing();
