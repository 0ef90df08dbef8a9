#!/usr/bin/perl
# test/t/restore_formats.pl -- which dump formats restore, and the restore
# mistake that must fail loudly (restore.c, R22)
#
# One node, a small catalog (made through the extension's functions, so
# the audit log has entries) and a protected table owned by a non-superuser
# member of tenancy_admin, dumped in every pg_dump format:
#   - custom, directory and tar, restored with pg_restore, and plain SQL,
#     restored with psql, each with PGOPTIONS='-c
#     session_replication_role=replica' as the README prescribes: every
#     catalog table and the audit log come back row for row, verify_audit()
#     is 'ok', and the table is protected again;
#   - the same restore without that option (pg_restore of the custom
#     format, psql of the plain one) fails loudly: it names the setting, the
#     catalog stays empty and the audit log holds no entry written by the
#     restore itself.
# Run by test/run_tests.sh ("== TAP") like every test/t/*.pl.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# the port range chosen for this run (TENANCY_TEST_PORT), when given
$PostgreSQL::Test::Cluster::last_port_assigned = $ENV{TENANCY_TAP_PORT}
  if $ENV{TENANCY_TAP_PORT};

my $node = PostgreSQL::Test::Cluster->new('restore');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	CREATE EXTENSION tenancy;
	CREATE ROLE regress_owner NOLOGIN IN ROLE tenancy_admin;
	GRANT CREATE ON SCHEMA public TO regress_owner;
	SELECT tenancy.create_subscription('Bakker');
	SELECT tenancy.create_compartment(1, 'bk', 'Bakker');
	SELECT tenancy.create_client(1, 'vries', 'de Vries');
	SELECT tenancy.create_administration(1, 'dvh', 'de Vries Holding');
	SELECT tenancy.create_administration(1, 'dvb', 'de Vries Bouw');
	SELECT tenancy.add_user(1, 'anna@bakker.nl', 'internal', NULL, true);
	SELECT tenancy.add_user(1, 'jan@devries.nl', 'external', 1);
	SELECT tenancy.grant_rights(2, 1, '{read}');
	SET ROLE regress_owner;
	CREATE TABLE journal_line (administration_id bigint NOT NULL, id bigint NOT NULL,
		amount numeric NOT NULL, PRIMARY KEY (administration_id, id));
	SELECT tenancy.protect('journal_line');
	RESET ROLE;
	INSERT INTO journal_line VALUES (1, 1, 10), (2, 1, 20);
});

# what must come back: the row count of every table of schema tenancy
my $counts_sql = q{
	SELECT string_agg(format('%s=%s', c.relname,
		(xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM tenancy.%I', c.relname), false, true, '')))[1]),
		' ' ORDER BY c.relname)
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname = 'tenancy' AND c.relkind = 'r'};
my $source_counts = $node->safe_psql('src', $counts_sql);
my $source_audit = $node->safe_psql('src', 'SELECT count(*) FROM tenancy.audit_entry');
ok($source_audit > 0, "the source's audit log has entries ($source_audit)");

my $dir = PostgreSQL::Test::Utils::tempdir;
my %dump = (custom => "$dir/src.dump", directory => "$dir/src.dir",
	tar => "$dir/src.tar", plain => "$dir/src.sql");
for my $format (sort keys %dump)
{
	$node->command_ok(['pg_dump', '-F', substr($format, 0, 1), '-f', $dump{$format},
		'-d', $node->connstr('src')], "pg_dump in $format format");
}

sub restore
{
	my ($format, $db, $replica) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	local $ENV{PGOPTIONS} = $replica ? '-c session_replication_role=replica' : '';
	my ($stdout, $stderr) = ('', '');
	my @cmd = $format eq 'plain'
	  ? ('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=0', '-d', $node->connstr($db), '-f', $dump{$format})
	  : ('pg_restore', '-d', $node->connstr($db), $dump{$format});
	my $ok = IPC::Run::run(\@cmd, '>', \$stdout, '2>', \$stderr);
	return ($ok, $stderr);
}

# 1. every format restores, with the prescribed option
for my $format (sort keys %dump)
{
	my $db = "ok_$format";
	my ($ok, $stderr) = restore($format, $db, 1);
	ok($ok && $stderr !~ /ERROR/, "$format format: restores with session_replication_role = replica")
	  or diag($stderr);
	is($node->safe_psql($db, $counts_sql), $source_counts,
		"$format format: every catalog table and the audit log came back row for row");
	is($node->safe_psql($db, 'SELECT tenancy.verify_audit()'), 'ok',
		"$format format: the audit chain verifies");
	is($node->safe_psql($db, q{SELECT relrowsecurity AND relforcerowsecurity
		FROM pg_class WHERE relname = 'journal_line'}), 't',
		"$format format: the table is protected again");
}

# 2. without it, the restore fails loudly and writes no audit entry of its own
for my $format ('custom', 'plain')
{
	my $db = "bad_$format";
	my ($ok, $stderr) = restore($format, $db, 0);
	like($stderr, qr/restoring table tenancy\.\w+ requires session_replication_role = replica/,
		"$format format without the option: the restore names the setting it needs");
	is($node->safe_psql($db, 'SELECT count(*) FROM tenancy.audit_entry'), '0',
		"$format format without the option: no audit entry written by the restore");
	is($node->safe_psql($db, 'SELECT count(*) FROM tenancy.users'), '0',
		"$format format without the option: the catalog stays empty (nothing half-restored)");
}

$node->stop;
done_testing();
