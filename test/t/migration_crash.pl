#!/usr/bin/perl
# test/t/migration_crash.pl -- a transfer cut short by kill -9 is all or nothing
#
# R18, R21: transfer_migration runs in one transaction.  This test kills the
# server with SIGKILL while a transfer is in the middle of its work and
# again right after one committed, restarts it, and shows that the
# migration is either fully done or not done at all:
#
#   1. in the middle: a session holds a row lock on one of the dossier's
#      bank links (a table registered with carry_on_migration => false), so
#      the transfer stops at its last piece of work, deleting those rows,
#      after it has archived the administration, removed the source's
#      rights, moved the catalog rows and created the successor (no
#      pg_sleep: the test waits until the transfer's backend waits for that
#      lock).  kill -9 of that backend crashes the server, which restarts
#      (crash recovery).  Afterwards nothing of the transfer is left: the
#      migration is approved, the administration active at the source,
#      the source's users read its rows, the target's users do not, the bank
#      links are there.
#   2. after the commit: the transfer is repeated and commits, the
#      postmaster is killed with kill -9, the server started again.
#      Everything of the transfer is there: the migration is completed,
#      the administration archived at the target, readable by the client's
#      carried user there and not at the source, the bank links gone.
#   In both, every row of the dossier is visible to exactly one firm: never
#   to both, never to neither; and tenancy.verify_audit() is 'ok'.
#
# Run by test/run_tests.sh ("== TAP") as the postgres OS user, with PERL5LIB
# at PostgreSQL's test modules.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# the port range chosen for this run (TENANCY_TEST_PORT), when given
$PostgreSQL::Test::Cluster::last_port_assigned = $ENV{TENANCY_TAP_PORT}
  if $ENV{TENANCY_TAP_PORT};

my $DB = 'crash';
my $LINES = 5000;

my $node = PostgreSQL::Test::Cluster->new('migration_crash');
$node->init;
# a killed backend makes the postmaster reinitialize, not exit
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', "CREATE DATABASE $DB");

# Fixture: firm S (compartment src, client vries, administration dossier
# with $LINES journal lines and 3 bank links, staff sam reading it, client
# user piet reading it) and firm T (compartment tgt, client vries, admin
# olga).  Migration approved by all three parties.
$node->safe_psql(
	$DB, qq{
	CREATE EXTENSION tenancy;
	CREATE ROLE regress_crash_app LOGIN IN ROLE tenancy_app;
	CREATE TABLE fixture (name text PRIMARY KEY, id bigint NOT NULL);
	CREATE TABLE journal (id bigserial PRIMARY KEY, administration_id bigint NOT NULL,
						  amount numeric NOT NULL);
	CREATE INDEX ON journal (administration_id);
	CREATE TABLE bank_link (id bigserial PRIMARY KEY, administration_id bigint NOT NULL,
							iban text NOT NULL);
	CREATE INDEX ON bank_link (administration_id);
	SELECT tenancy.protect('journal');
	SELECT tenancy.protect('bank_link', carry_on_migration => false);
	GRANT SELECT ON journal, bank_link, fixture TO regress_crash_app;
	DO \$\$
	DECLARE
		s bigint := tenancy.create_compartment(tenancy.create_subscription('S'), 'src', 'firm S');
		t bigint := tenancy.create_compartment(tenancy.create_subscription('T'), 'tgt', 'firm T');
		c bigint := tenancy.create_client(s, 'vries', 'de Vries');
		a bigint := tenancy.create_administration(c, 'dossier', 'de Vries BV');
		sam bigint := tenancy.add_user(s, 'sam\@s.example', 'internal');
		piet bigint := tenancy.add_user(s, 'piet\@devries.example', 'external', c);
		sa1 bigint := tenancy.add_user(s, 'sa1\@s.example', 'internal', NULL, true);
		sa2 bigint := tenancy.add_user(s, 'sa2\@s.example', 'internal', NULL, true);
		olga bigint := tenancy.add_user(t, 'olga\@t.example', 'internal', NULL, true);
		m bigint;
	BEGIN
		PERFORM tenancy.grant_rights(sam, a, ARRAY['read']);
		PERFORM tenancy.grant_rights(piet, a, ARRAY['read']);
		INSERT INTO fixture VALUES ('a', a), ('sam', sam), ('piet', piet), ('olga', olga),
			('tclient', tenancy.create_client(t, 'vries', 'de Vries'));
		PERFORM tenancy.act_as(sa1);
		m := tenancy.request_migration(a, t, 'archive_and_transfer');
		PERFORM tenancy.approve_migration(m);
		PERFORM tenancy.act_as(sa2);
		PERFORM tenancy.approve_migration(m, 'letter 2026-05-01');
		PERFORM tenancy.act_as(olga);
		PERFORM tenancy.approve_migration(m);
		PERFORM tenancy.reset();
		INSERT INTO fixture VALUES ('m', m);
	END
	\$\$;
	INSERT INTO journal (administration_id, amount)
	SELECT f.id, g FROM fixture f, generate_series(1, $LINES) g WHERE f.name = 'a';
	INSERT INTO bank_link (administration_id, iban)
	SELECT f.id, 'NL00BANK000' || g FROM fixture f, generate_series(1, 3) g WHERE f.name = 'a';
});

my %id = map { split /\|/ } split /\n/,
  $node->safe_psql($DB, 'SELECT name, id FROM fixture ORDER BY name');
my $transfer = "SELECT tenancy.transfer_migration($id{m}, $id{tclient}, 'dossier-new')";

# rows of the dossier the user reads, through the application login
sub rows_seen_by
{
	my ($user_id) = @_;
	return 0 unless defined $user_id;
	my $out = $node->safe_psql(
		$DB, qq{
		SET ROLE regress_crash_app;
		SELECT tenancy.act_as($user_id);
		SELECT count(*) FROM journal WHERE administration_id = $id{a};
	});
	my @lines = split /\n/, $out;
	return $lines[-1];
}

# the client user carried to firm T (none before a transfer)
sub piet_at_target
{
	my $u = $node->safe_psql(
		$DB, qq{
		SELECT u.id FROM tenancy.users u JOIN tenancy.compartment k ON k.id = u.compartment_id
		 WHERE k.code = 'tgt' AND u.account_id = (SELECT account_id FROM tenancy.users WHERE id = $id{piet})});
	return $u eq '' ? undef : $u;
}

sub state
{
	return $node->safe_psql(
		$DB, qq{
		SELECT m.state || ' ' || k.code || ' ' || a.state || ' links=' ||
			   (SELECT count(*) FROM bank_link b WHERE b.administration_id = a.id) ||
			   ' administrations=' || (SELECT count(*) FROM tenancy.administration)
		  FROM tenancy.migration m
		  JOIN tenancy.administration a ON a.id = m.administration_id
		  JOIN tenancy.compartment k ON k.id = a.compartment_id
		 WHERE m.id = $id{m}});
}

# every row visible to exactly one firm
sub check_visibility
{
	my ($label, $expect_side) = @_;
	my $source = rows_seen_by($id{sam}) + 0;
	my $client_source = rows_seen_by($id{piet}) + 0;
	my $target = rows_seen_by(piet_at_target()) + 0;
	if ($expect_side eq 'source')
	{
		is("$source $client_source $target", "$LINES $LINES 0",
			"$label: every row is visible at the source (staff, client user) and none at the target");
	}
	else
	{
		is("$source $client_source $target", "0 0 $LINES",
			"$label: every row is visible to the client's carried user at the target and none at the source");
	}
}

is(state(), 'approved src active links=3 administrations=1', 'before: the migration is approved, the dossier active at the source');
check_visibility('before', 'source');

# ---- 1. kill -9 in the middle of a transfer
my $locker = $node->background_psql($DB);
$locker->query_safe('BEGIN');
$locker->query_safe("SELECT id FROM bank_link WHERE administration_id = $id{a} FOR UPDATE");

my $mover = $node->background_psql($DB, on_error_stop => 0);
my $mover_pid = $mover->query_safe('SELECT pg_backend_pid()');
$mover->query_safe("SELECT tenancy.act_as($id{olga})");
$mover->query_until(qr/transfer started/, "\\echo transfer started\nBEGIN;\n$transfer;\n");

# wait until the transfer waits for the bank links' row lock: by then it has
# archived, moved and linked the administration in its transaction
ok( $node->poll_query_until(
		$DB, qq{
		SELECT wait_event_type = 'Lock' AND query LIKE '%transfer_migration%'
		  FROM pg_stat_activity WHERE pid = $mover_pid}),
	'in the middle: the transfer is waiting for the bank links, its catalog work done');
is( $node->safe_psql(
		$DB, qq{
		SELECT count(*) FROM pg_locks
		 WHERE pid = $mover_pid AND locktype = 'relation' AND relation = 'journal'::regclass
		   AND mode = 'ShareRowExclusiveLock' AND granted}),
	'1',
	'in the middle: the transfer holds the freeze (SHARE ROW EXCLUSIVE on the protected tables)');

# readers are not held back by the freeze, and still see the dossier at the source
check_visibility('during the transfer', 'source');

kill 'KILL', $mover_pid;
# the server crashes and reinitializes; the background sessions lose their connection
$mover->{run}->kill_kill;
$locker->{run}->kill_kill;
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'in the middle: the server is back after kill -9');
like(slurp_file($node->logfile), qr/terminated by signal 9/, 'in the middle: the server went through crash recovery');

is(state(), 'approved src active links=3 administrations=1',
	'after the crash in the middle: nothing of the transfer is left (approved, active at the source, bank links kept, no successor)');
is( $node->safe_psql($DB, "SELECT count(*) FROM tenancy.permission WHERE administration_id = $id{a}"),
	'2', 'after the crash in the middle: the source users keep their rights');
is(piet_at_target(), undef, 'after the crash in the middle: no user was carried to the target');
check_visibility('after the crash in the middle', 'source');
is($node->safe_psql($DB, 'SELECT tenancy.verify_audit()'), 'ok', 'after the crash in the middle: the audit chain is intact');

# ---- 2. kill -9 right after a transfer committed
$node->safe_psql($DB, "SELECT tenancy.act_as($id{olga}); $transfer;");
$node->kill9;
# the postmaster's children notice its death and exit; until they have, a
# new postmaster refuses to start (their shared memory is still in use)
my $started = 0;
for (my $i = 0; $i < 100 && !$started; $i++)
{
	select(undef, undef, undef, 0.2);
	# a failed start may have read the dead postmaster's pid file
	$node->{_pid} = undef;
	$started = $node->start(fail_ok => 1);
}
ok($started, 'after the commit: the server starts again after kill -9 of the postmaster');

is(state(), 'completed tgt archived links=0 administrations=2',
	'after kill -9 following the commit: all of the transfer is there (completed, archived at the target, bank links gone, successor created)');
is( $node->safe_psql(
		$DB, qq{
		SELECT count(*) FROM tenancy.permission p JOIN tenancy.users u ON u.id = p.user_id
		 JOIN tenancy.compartment k ON k.id = u.compartment_id WHERE k.code = 'src'}),
	'0', 'after kill -9 following the commit: the source holds no rights on the dossier');
check_visibility('after kill -9 following the commit', 'target');
is($node->safe_psql($DB, 'SELECT tenancy.verify_audit()'), 'ok',
	'after kill -9 following the commit: the audit chain is intact');

$node->stop;
done_testing();
