#!/usr/bin/perl
# test/t/temp_owners.pl -- the owners of temporary relations are kept only
# while the relations exist (R24, and memory: a pooled backend serves
# requests for months)
#
# session.c keeps the identity that created each temporary table or view in
# a backend hash.  A failed request that had created one must not leave its
# entry behind: sql/pooling.sql section 17 shows it for rollbacks and
# subtransactions; this file shows it for a transaction whose COMMIT fails
# after PostgreSQL's pre-commit callbacks (a temporary table ON COMMIT
# DELETE ROWS referenced by a foreign key: "unsupported ON COMMIT and
# foreign key combination"), which a pg_regress file cannot repeat without
# printing each error (1.3 attack: 3,000 such requests grew the map from
# 16 kB to 512 kB).  One psql session runs the requests; its errors go to
# stderr, the sizes of the map's memory context to stdout.
# Run by test/run_tests.sh ("== TAP") like every test/t/*.pl.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# the port range chosen for this run (TENANCY_TEST_PORT), when given
$PostgreSQL::Test::Cluster::last_port_assigned = $ENV{TENANCY_TAP_PORT}
  if $ENV{TENANCY_TAP_PORT};

my $node = PostgreSQL::Test::Cluster->new('temp_owners');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION tenancy');

my $size = q{SELECT '%s', total_bytes FROM pg_backend_memory_contexts
	WHERE name = 'tenancy temporary relation owners';};

# a request whose commit fails after the pre-commit callbacks, with the
# creation in the transaction itself or in a savepoint rolled back
my %request = (
	'in the transaction' => q{BEGIN;
		CREATE TEMP TABLE scratch (id int) ON COMMIT DROP;
		CREATE TEMP TABLE parent_keys (id int PRIMARY KEY) ON COMMIT DELETE ROWS;
		CREATE TEMP TABLE child_keys (id int REFERENCES parent_keys);
		COMMIT;},
	'in a rolled-back savepoint' => q{BEGIN;
		SAVEPOINT s;
		CREATE TEMP TABLE scratch (id int);
		ROLLBACK TO s;
		CREATE TEMP TABLE parent_keys (id int PRIMARY KEY) ON COMMIT DELETE ROWS;
		CREATE TEMP TABLE child_keys (id int REFERENCES parent_keys);
		COMMIT;});

for my $case (sort keys %request)
{
	# the library is loaded first; 600 tables created and rolled back in
	# one transaction give the map its room, then 300 failed requests of 3
	# tables each would need 900 entries if none were forgotten
	my $script = "SELECT tenancy.current_user_id();\n"
	  . "BEGIN;\nDO \$\$BEGIN FOR i IN 1..600 LOOP "
	  . "EXECUTE format('CREATE TEMP TABLE room%s (id int)', i); END LOOP; END\$\$;\nROLLBACK;\n"
	  . sprintf($size, 'before') . "\n"
	  . ($request{$case} . "\n") x 300
	  . sprintf($size, 'after') . "\n"
	  . "SELECT 'left', count(*) FROM pg_class WHERE relpersistence = 't';\n";
	my ($stdout, $stderr);
	$node->psql('postgres', $script,
		stdout => \$stdout, stderr => \$stderr, on_error_stop => 0,
		extra_params => ['-A', '-t', '-X']);
	my %got = map { split /\|/ } grep { /\|/ } split /\n/, $stdout;
	my $failed = () = $stderr =~ /unsupported ON COMMIT and foreign key combination/g;
	is($failed, 300, "R24: 300 commits failed ($case)");
	is($got{left}, 0, "R24: no temporary relation is left ($case)");
	ok(defined $got{before} && defined $got{after} && $got{after} == $got{before},
		"R24: the owners' map does not grow with failed commits ($case): "
		  . ($got{before} // 'none') . " then " . ($got{after} // 'none') . " bytes");
}

$node->stop;
done_testing();
