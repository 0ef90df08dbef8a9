#!/usr/bin/perl
# test/t/dump_restore.pl -- tenancy survives pg_dump and pg_restore
#
# A catalog (subscriptions, compartments, clients, administrations,
# accounts, users, permissions) and a protected table with rows are built on
# one node, dumped with pg_dump -Fc and restored twice: into a second
# database of the same node, and into a fresh second node (its roles from
# pg_dumpall --roles-only, as a DBA moves a cluster).  In each restored
# database the test shows that
#   - every table of schema tenancy came back row for row (the catalog,
#     the permissions, the audit log), and the sequences go on after the
#     restored rows (a new administration gets a new id);
#   - the protected table came back with row security enabled and forced,
#     and with the same tenancy policies (pg_policy) and triggers
#     (pg_trigger);
#   - they still enforce the rules (R2, R6, R7, R12), for an application
#     login (member of tenancy_app): no identity sees no row, each user
#     sees exactly the rows of the administrations it reads, a write
#     without the write right, into an archived administration or into
#     another compartment is refused, a write with the right is accepted;
#   - tenancy.verify_audit() is 'ok', and (1.3) so is verify_audit() against
#     the head tenancy.audit_head() gave on the source before the dump.
# What the installed extension offers beyond 1.0 joins the fixture when it
# is there (found by name in pg_proc), and is checked after the restore too:
# a firm-wide reporting login (bind_reporting_login, R15) reading the table
# and a secured view (create_secured_view) without act_as, a delegation
# (delegate, R20), and tenancy.check() reporting the same as on the source.
# With 1.2 (request_migration), two migrations, taken step by step through
# the application login acting as the parties: a completed
# archive_and_transfer (requested, approved by the source, by the client
# through a second source administrator's consent reference and by the
# target, transferred) and an open one (requested, approved by the source).
# After the restore, tenancy.migrations shows each user the same
# migrations, states, approvals and next steps (and exactly what it showed
# on the source); the archive is read-only, read by the target firm's user
# holding a right on its successor and by nobody of the source firm; and
# the open migration takes its next steps (the target's and the client's
# approvals) and becomes approved.
# A check whose function is missing is skipped.
#
# The restore runs with session_replication_role = replica, as the README
# says a restore of a tenancy database must: otherwise the catalog's audit
# triggers would log the restore itself while the dumped audit log is being
# copied back, and the two would collide.
#
# Expectations come from the fixture definition below, never from what the
# extension answers.  To cover a new object (a migration, 1.2): add it to
# %FIXTURE, create it in build_fixture() under a has_function() test, and
# check its effect in check_enforcement(); its table, if it has one in
# schema tenancy, is compared row for row without more code.
#
# Run by test/run_tests.sh ("== TAP"), as the postgres OS user (initdb
# refuses root), with PERL5LIB pointing at PostgreSQL's test modules
# (.../pgxs/src/test/perl), PG_REGRESS at pg_regress, the server's bin
# directory first in PATH and TESTDIR at a directory that user can write.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# the port range chosen for this run (TENANCY_TEST_PORT), when given
$PostgreSQL::Test::Cluster::last_port_assigned = $ENV{TENANCY_TAP_PORT}
  if $ENV{TENANCY_TAP_PORT};

my $LEDGER = 'public.regress_dr_ledger';
my $APP = 'regress_dr_app';
my $REPORT = 'regress_dr_report';
my $OWNER = 'regress_dr_owner';
my $VIEW = 'public.regress_dr_ledger_view';

# ----------------------------------------------------------------
# The fixture
#
# Administration codes are unique across the fixture, so that a code
# names one administration.  Administration number j (in this order) holds
# 4 + 3 * j ledger rows labelled "<code>/<n>".  Administration "a5" is
# archived (as a completed migration leaves it; set directly here by the
# superuser, which the 1.0 catalog allows).  With 1.2, "m1" is archived by a
# real migration, and moves to dr-two (see migrations).
# ----------------------------------------------------------------
my %FIXTURE = (
	subscriptions => [ 'dr firm one', 'dr firm two' ],
	compartments  => [
		# code, subscription index, name, allow_external_users
		# (dr-two takes m2 with the rights of its client's external user,
		# which a compartment forbidding them refuses at the request)
		[ 'dr-one',   0, 'firm one clients', 1 ],
		[ 'dr-own',   0, 'firm one own',     0 ],
		[ 'dr-two',   1, 'firm two',         1 ],
	],
	clients => [
		# code, compartment code
		[ 'k1',   'dr-one' ],
		[ 'k2',   'dr-one' ],
		[ 'self', 'dr-own' ],
		[ 'x1',   'dr-two' ],
		[ 'k3',   'dr-one' ],    # no user: its consent is recorded (migration of m1)
		[ 'y1',   'dr-two' ],    # the client m1 moves under
	],
	administrations => [
		# code, client code
		[ 'a1', 'k1' ], [ 'a2', 'k1' ], [ 'a3', 'k2' ], [ 'a4', 'k2' ],
		[ 'a5', 'k1' ], [ 'o1', 'self' ], [ 'x1', 'x1' ], [ 'x2', 'x1' ],
		[ 'm1', 'k3' ], [ 'm2', 'k1' ],
	],
	archived => ['a5'],
	users    => [
		# key, e-mail, compartment, kind, client, is_admin, { code => rights }
		[ 'admin', 'Anna@DR-One.example ', 'dr-one', 'internal', undef, 1, { a1 => 'read,write,manage' } ],
		[ 'staff', 'sam@dr-one.example',   'dr-one', 'internal', undef, 0, { a1 => 'read,write', a3 => 'read', a5 => 'read,write', m1 => 'read' } ],
		[ 'piet',  'piet@k1.example',      'dr-one', 'external', 'k1',  0, { a1 => 'read', a2 => 'read,write,submit', m2 => 'read,manage' } ],
		[ 'jan',   'jan@k2.example',       'dr-one', 'external', 'k2',  0, { a4 => 'submit' } ],
		[ 'own',   'anna@dr-one.example',  'dr-own', 'internal', undef, 1, { o1 => 'read,write' } ],
		[ 'olga',  'olga@dr-two.example',  'dr-two', 'internal', undef, 1, { x1 => 'read', x2 => 'read,write' } ],
		[ 'nobody', 'nobody@dr-two.example', 'dr-two', 'internal', undef, 0, {} ],
		[ 'bert',  'bert@dr-one.example',  'dr-one', 'internal', undef, 1, {} ],
		[ 'tina',  'tina@dr-two.example',  'dr-two', 'internal', undef, 0, {} ],
	],
	# a firm-wide reporting login of dr-one (R15), when bind_reporting_login exists
	reporting => { role => $REPORT, compartment => 'dr-one' },
	# olga (dr-two) reads a3 of dr-one through a delegation (R20), when delegate exists
	delegation => { administration => 'a3', by => 'admin', to => 'olga', rights => 'read' },
	# migrations (1.2), when request_migration exists, in this order; each
	# step taken through the application login acting as the named user.
	# approvals: party, user, consent reference.  transfer: by, target
	# client, successor code; successor_rights are granted (by the operator)
	# after it.  next: approvals taken after the restore (and on the source
	# after the dump), each must succeed.
	migrations => [
		{
			administration => 'm1', target => 'dr-two', scenario => 'archive_and_transfer',
			requested_by => 'admin',
			# k3 has no user holding manage: a second administrator of the
			# source records the client's written consent
			approvals => [
				[ 'source', 'admin' ],
				[ 'client', 'bert', 'letter k3 2026-03-02' ],
				[ 'target', 'olga' ],
			],
			transfer => { by => 'olga', client => 'y1', successor => 'm1-next' },
			successor_rights => { tina => 'read,write' },
		},
		{
			administration => 'm2', target => 'dr-two', scenario => 'archive_and_transfer',
			requested_by => 'admin',
			approvals => [ [ 'source', 'admin' ] ],
			# the target, then the client through piet (manage on m2)
			next => [ [ 'target', 'olga' ], [ 'client', 'piet' ] ],
		},
	],
);

my %admin_rows;    # code => number of ledger rows
{
	my $j = 0;
	$admin_rows{ $_->[0] } = 4 + 3 * $j++ for @{ $FIXTURE{administrations} };
}
my %admin_compartment = map {
	my $client = $_->[1];
	my ($c) = grep { $_->[0] eq $client } @{ $FIXTURE{clients} };
	($_->[0] => $c->[1])
} @{ $FIXTURE{administrations} };
my %user = map { $_->[0] => $_ } @{ $FIXTURE{users} };
my %client_compartment = map { $_->[0] => $_->[1] } @{ $FIXTURE{clients} };
my %admin_client = map { $_->[0] => $_->[1] } @{ $FIXTURE{administrations} };
my %compartment_subscription = map { $_->[0] => $_->[1] } @{ $FIXTURE{compartments} };

# the steps the README's state diagram allows from a state (transition table)
my %NEXT_STEPS = (
	archive_and_transfer => {
		requested => [qw(approve_migration reject_migration cancel_migration)],
		approved  => [qw(transfer_migration reject_migration cancel_migration)],
		completed => [],
	},
);

# the fixture's migrations that end transferred (none without 1.2)
sub completed_migrations
{
	my ($features) = @_;
	return () unless $features->{migration};
	return grep { $_->{transfer} } @{ $FIXTURE{migrations} };
}

# the compartment an administration of the fixture is in: a transfer moves
# it to the target
sub compartment_of
{
	my ($code, $features) = @_;
	for my $m (completed_migrations($features))
	{
		return $m->{target} if $m->{administration} eq $code;
	}
	return $admin_compartment{$code};
}

sub has_function
{
	my ($node, $db, $name) = @_;
	return $node->safe_psql($db,
		"SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
		  . " WHERE n.nspname = 'tenancy' AND p.proname = '$name'") > 0;
}

sub sql_array
{
	my ($list) = @_;
	return "'{" . join(',', @$list) . "}'";
}

# The fixture, built by the superuser (the operator) on $node/$db.
# Returns what it used of the optional (1.1) features.
sub build_fixture
{
	my ($node, $db) = @_;
	my %features = (
		reporting    => has_function($node, $db, 'bind_reporting_login'),
		delegation   => has_function($node, $db, 'delegate'),
		secured_view => has_function($node, $db, 'create_secured_view'),
		check        => has_function($node, $db, 'check'),
		migration    => has_function($node, $db, 'request_migration'),
		audit_head   => has_function($node, $db, 'audit_head'),
	);
	my $sql = "SET client_min_messages = warning;\n";
	$sql .= <<"SQL";
DO \$\$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP') THEN
		CREATE ROLE $APP LOGIN IN ROLE tenancy_app;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$REPORT') THEN
		CREATE ROLE $REPORT LOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$OWNER') THEN
		CREATE ROLE $OWNER NOLOGIN IN ROLE tenancy_admin;
	END IF;
END \$\$;
GRANT CREATE ON SCHEMA public TO $OWNER;
SQL
	my $i = 0;
	$sql .= "SELECT tenancy.create_subscription('$_') AS sub_" . $i++ . " \\gset\n"
	  for @{ $FIXTURE{subscriptions} };
	for my $c (@{ $FIXTURE{compartments} })
	{
		my ($code, $sub, $name, $ext) = @$c;
		(my $var = $code) =~ s/-/_/g;
		$sql .= "SELECT tenancy.create_compartment(:sub_$sub, '$code', '$name', "
		  . ($ext ? 'true' : 'false') . ") AS comp_$var \\gset\n";
	}
	for my $c (@{ $FIXTURE{clients} })
	{
		my ($code, $comp) = @$c;
		(my $var = $comp) =~ s/-/_/g;
		$sql .= "SELECT tenancy.create_client(:comp_$var, '$code', 'client $code') AS cl_$code \\gset\n";
	}
	for my $a (@{ $FIXTURE{administrations} })
	{
		my ($code, $client) = @$a;
		$sql .= "SELECT tenancy.create_administration(:cl_$client, '$code', 'books $code') AS adm_$code \\gset\n";
	}
	for my $u (@{ $FIXTURE{users} })
	{
		my ($key, $email, $comp, $kind, $client, $is_admin, $rights) = @$u;
		(my $var = $comp) =~ s/-/_/g;
		$sql .= "SELECT tenancy.add_user(:comp_$var, '$email', '$kind', "
		  . (defined $client ? ":cl_$client" : 'NULL') . ', '
		  . ($is_admin ? 'true' : 'false') . ") AS usr_$key \\gset\n";
		for my $code (sort keys %$rights)
		{
			$sql .= "SELECT tenancy.grant_rights(:usr_$key, :adm_$code, "
			  . sql_array([ split /,/, $rights->{$code} ]) . ");\n";
		}
	}

	# the application table, owned by a plain role, filled before protect()
	$sql .= "SET ROLE $OWNER;\n";
	$sql .= <<"SQL";
CREATE TABLE $LEDGER (
	id bigint GENERATED ALWAYS AS IDENTITY,
	administration_id bigint NOT NULL,
	label text NOT NULL,
	amount numeric(12,2) NOT NULL,
	PRIMARY KEY (administration_id, id)
);
SQL
	for my $a (@{ $FIXTURE{administrations} })
	{
		my $code = $a->[0];
		$sql .= "INSERT INTO $LEDGER (administration_id, label, amount)"
		  . " SELECT :adm_$code, '$code/' || g, g FROM generate_series(1, $admin_rows{$code}) g;\n";
	}
	$sql .= "SELECT tenancy.protect('$LEDGER');\n";
	$sql .= "GRANT SELECT, INSERT, UPDATE, DELETE ON $LEDGER TO $APP;\n";
	# INSERT too, so that only the extension stands between it and a write (R14)
	$sql .= "GRANT SELECT, INSERT ON $LEDGER TO $REPORT;\n";
	if ($features{secured_view})
	{
		$sql .= "SELECT tenancy.create_secured_view('$VIEW',"
		  . " 'SELECT administration_id, label FROM $LEDGER');\n";
		$sql .= "GRANT SELECT ON $VIEW TO $APP, $REPORT;\n";
	}
	$sql .= "RESET ROLE;\n";

	# archived: as a completed migration leaves it
	$sql .= "UPDATE tenancy.administration SET state = 'archived' WHERE code = '$_';\n"
	  for @{ $FIXTURE{archived} };

	if ($features{reporting})
	{
		my $r = $FIXTURE{reporting};
		(my $var = $r->{compartment}) =~ s/-/_/g;
		$sql .= "SELECT tenancy.bind_reporting_login('$r->{role}', :comp_$var);\n";
	}
	$node->safe_psql($db, $sql);

	if ($features{delegation})
	{
		# an administrator of the administration's compartment delegates,
		# through the application login acting as that administrator
		my $d = $FIXTURE{delegation};
		my $ids = ids($node, $db);
		$node->safe_psql(
			$db,
			"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{$d->{by}});\n"
			  . "SELECT tenancy.delegate($ids->{admin}{$d->{administration}}, "
			  . "$ids->{user}{$d->{to}}, "
			  . sql_array([ split /,/, $d->{rights} ])
			  . ", now() + interval '6 months');\nCOMMIT;",
			connstr => $node->connstr($db) . " user=$APP");
	}

	if ($features{migration})
	{
		# every step through the application login acting as the party, in
		# a transaction of its own (the operator takes no step)
		for my $m (@{ $FIXTURE{migrations} })
		{
			my $ids = ids($node, $db);
			my $mid = act_step($node, $db, $ids, $m->{requested_by},
				"SELECT tenancy.request_migration($ids->{admin}{$m->{administration}}, "
				  . "$ids->{compartment}{$m->{target}}, '$m->{scenario}')");
			for my $a (@{ $m->{approvals} })
			{
				my (undef, $key, $ref) = @$a;
				act_step($node, $db, $ids, $key,
					"SELECT tenancy.approve_migration($mid"
					  . (defined $ref ? ", '$ref'" : '') . ")");
			}
			my $t = $m->{transfer} or next;
			my $successor = act_step($node, $db, $ids, $t->{by},
				"SELECT tenancy.transfer_migration($mid, $ids->{client}{$t->{client}}, "
				  . "'$t->{successor}')");
			my $rights = $m->{successor_rights} // {};
			$node->safe_psql($db,
				"SELECT tenancy.grant_rights($ids->{user}{$_}, $successor, "
				  . sql_array([ split /,/, $rights->{$_} ]) . ")")
			  for sort keys %$rights;
		}
	}
	return \%features;
}

# one step in a transaction of its own, through the application login
# acting as user $key; dies on an error; returns the output of $sql
sub act_step
{
	my ($node, $db, $ids, $key, $sql) = @_;
	return $node->safe_psql(
		$db,
		"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{$key}) \\gset\n$sql;\nCOMMIT;",
		connstr => $node->connstr($db) . " user=$APP");
}

# ids of the fixture's administrations and users in $db, by code and key
sub ids
{
	my ($node, $db) = @_;
	my %ids;
	for my $line (split /\n/,
		$node->safe_psql($db, 'SELECT code, id FROM tenancy.administration'))
	{
		my ($code, $id) = split /\|/, $line;
		$ids{admin}{$code} = $id;
	}
	for my $t (qw(client compartment))
	{
		for my $line (split /\n/, $node->safe_psql($db, "SELECT code, id FROM tenancy.$t"))
		{
			my ($code, $id) = split /\|/, $line;
			$ids{$t}{$code} = $id;
		}
	}
	# the last migration of each administration, by the administration's code
	if ($node->safe_psql($db, "SELECT to_regclass('tenancy.migration') IS NOT NULL") eq 't')
	{
		for my $line (split /\n/,
			$node->safe_psql($db,
				"SELECT a.code, max(m.id) FROM tenancy.migration m"
				  . " JOIN tenancy.administration a ON a.id = m.administration_id GROUP BY a.code"))
		{
			my ($code, $id) = split /\|/, $line;
			$ids{migration}{$code} = $id;
		}
	}
	for my $u (@{ $FIXTURE{users} })
	{
		my ($key, $email, $comp) = @$u;
		$ids{user}{$key} = $node->safe_psql($db,
			"SELECT u.id FROM tenancy.users u"
			  . " JOIN tenancy.account a ON a.id = u.account_id"
			  . " JOIN tenancy.compartment k ON k.id = u.compartment_id"
			  . " WHERE lower(a.email) = lower(btrim('$email')) AND k.code = '$comp'");
	}
	return \%ids;
}

# ----------------------------------------------------------------
# Snapshots: what must come back identical after a restore
# ----------------------------------------------------------------

# every catalog table of the extension, as text, in a fixed order
sub catalog_snapshot
{
	my ($node, $db) = @_;
	my $tables = $node->safe_psql(
		$db, q{
		SELECT c.relname
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = 'tenancy' AND c.relkind IN ('r', 'p')
		 ORDER BY c.relname COLLATE "C"});
	my %snap;
	for my $t (split /\n/, $tables)
	{
		# row order by every column, timestamps and OIDs as text
		$snap{$t} = $node->safe_psql($db,
			"SELECT x::text FROM tenancy.$t x ORDER BY x::text COLLATE \"C\"");
	}
	return \%snap;
}

# the protected table's row security, policies and triggers, as text
sub protection_snapshot
{
	my ($node, $db) = @_;
	return $node->safe_psql(
		$db, qq{
		SELECT line FROM (
			SELECT 1 AS k, '' AS name,
				   'rls ' || relrowsecurity || ' forced ' || relforcerowsecurity AS line
			  FROM pg_class WHERE oid = '$LEDGER'::regclass
			UNION ALL
			SELECT 2, polname,
				   'policy ' || polname || ' ' || polcmd::text || ' '
				   || CASE WHEN polpermissive THEN 'permissive' ELSE 'restrictive' END
				   || ' to ' || polroles::regrole[]::text
				   || ' using ' || coalesce(pg_get_expr(polqual, polrelid), '-')
				   || ' check ' || coalesce(pg_get_expr(polwithcheck, polrelid), '-')
			  FROM pg_policy WHERE polrelid = '$LEDGER'::regclass
			UNION ALL
			SELECT 3, tgname,
				   'trigger ' || pg_get_triggerdef(oid) || ' enabled ' || tgenabled::text
			  FROM pg_trigger WHERE tgrelid = '$LEDGER'::regclass AND NOT tgisinternal
		) x ORDER BY k, name COLLATE "C"});
}

# is() for long texts: on a difference, the line counts and the first
# differing line rather than both texts whole
sub same_text
{
	my ($got, $want, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return 1 if ok($got eq $want, $name);
	my @g = split /\n/, $got;
	my @w = split /\n/, $want;
	my $i = 0;
	$i++ while $i < @g && $i < @w && $g[$i] eq $w[$i];
	diag(scalar(@g) . " lines, expected " . scalar(@w) . "; first difference at line " . ($i + 1));
	diag("     got: " . ($g[$i] // '(none)'));
	diag("expected: " . ($w[$i] // '(none)'));
	return 0;
}

# what tenancy.check() reports (1.1), or '' when it is not installed
sub check_report
{
	my ($node, $db, $features) = @_;
	return '' unless $features->{check};
	return $node->safe_psql($db,
		"SELECT line FROM (SELECT concat_ws(' | ', severity, object, problem) AS line"
		  . " FROM tenancy.check()) x ORDER BY line COLLATE \"C\"");
}

# ----------------------------------------------------------------
# Enforcement, checked in a restored database
# ----------------------------------------------------------------

# the ledger rows a user must see: its read rights, plus a delegation
sub expected_rows
{
	my ($key, $features) = @_;
	my %codes;
	my $rights = $user{$key}[6];
	$codes{$_} = 1 for grep { $rights->{$_} =~ /\bread\b/ } keys %$rights;
	for my $m (completed_migrations($features))
	{
		# a transfer removes every access of the source (R18); the target's
		# users holding any right on the successor read the archive
		delete $codes{ $m->{administration} };
		$codes{ $m->{administration} } = 1
		  if exists +($m->{successor_rights} // {})->{$key};
	}
	my $d = $FIXTURE{delegation};
	$codes{ $d->{administration} } = 1
	  if $features->{delegation} && $key eq $d->{to} && $d->{rights} =~ /\bread\b/;
	return rows_of(keys %codes);
}

sub rows_of
{
	my @out;
	for my $a (@{ $FIXTURE{administrations} })
	{
		my $code = $a->[0];
		next unless grep { $_ eq $code } @_;
		push @out, map { "$code/$_" } 1 .. $admin_rows{$code};
	}
	return join("\n", sort @out);
}

# run $sql as the application login (or $role); returns (stdout, stderr)
sub as_role
{
	my ($node, $db, $role, $sql) = @_;
	my ($ret, $stdout, $stderr) = $node->psql(
		$db, "\\set VERBOSITY verbose\n$sql",
		connstr => $node->connstr($db) . " user=$role");
	return ($stdout, $stderr);
}

# an insert of one ledger row into administration $code as user $key,
# rolled back; "acting" in the output shows that act_as_local passed, so
# that an error comes from the insert
sub insert_as
{
	my ($node, $db, $ids, $key, $code) = @_;
	return as_role($node, $db, $APP,
		"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{$key}) \\gset\nSELECT 'acting';\n"
		  . "INSERT INTO $LEDGER (administration_id, label, amount)"
		  . " VALUES ($ids->{admin}{$code}, 'new', 1) RETURNING label;\nROLLBACK;");
}

# what tenancy.migrations shows each user of the fixture, one line per
# migration: code, scenario, state, side, approvals, awaiting, consent
# reference, next steps, successor id (arrays sorted)
sub migrations_view
{
	my ($node, $db, $ids) = @_;
	my $sorted = sub { "ARRAY(SELECT x FROM unnest($_[0]) x ORDER BY x COLLATE \"C\")" };
	my @out;
	for my $u (@{ $FIXTURE{users} })
	{
		my $key = $u->[0];
		my ($out, $err) = as_role($node, $db, $APP,
			"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{$key}) \\gset\n"
			  . "SELECT format('%s|%s|%s|%s|%s|%s|%s|%s|%s', administration_code, scenario, state,"
			  . " my_side, " . $sorted->('approvals') . ", " . $sorted->('awaiting')
			  . ", consent_reference, " . $sorted->('next_steps') . ", successor_administration_id)"
			  . " FROM tenancy.migrations ORDER BY administration_id;\nCOMMIT;");
		push @out, "$key: $err" if $err ne '';
		push @out, map { "$key: $_" } grep { $_ ne '' } split /\n/, $out;
	}
	return join("\n", @out);
}

# what migrations_view must show, from the fixture; $taken: the open
# migrations' next steps have been taken
sub expected_migrations_view
{
	my ($ids, $taken) = @_;
	my @out;
	for my $u (@{ $FIXTURE{users} })
	{
		my ($key, undef, $comp, $kind, $client) = @$u;
		my @lines;
		for my $m (@{ $FIXTURE{migrations} })
		{
			my $code = $m->{administration};
			my $source_client = $admin_client{$code};
			my $source = $client_compartment{$source_client};
			my $target_client = $m->{transfer} ? $m->{transfer}{client} : undef;
			# the parties: internal users of either compartment, external
			# users of the administration's client or the target client
			my $side;
			if ($comp eq $source)
			{
				$side = 'source' if $kind eq 'internal' || $client eq $source_client;
			}
			elsif ($comp eq $m->{target})
			{
				$side = 'target'
				  if $kind eq 'internal' || (defined $target_client && $client eq $target_client);
			}
			next unless defined $side;
			my @approvals = @{ $m->{approvals} };
			push @approvals, @{ $m->{next} // [] } if $taken;
			my %approved = map { $_->[0] => $_ } @approvals;
			my $state = $m->{transfer} ? 'completed'
			  : keys %approved == 3 ? 'approved'
			  :                       'requested';
			my @awaiting = $state eq 'requested'
			  ? grep { !$approved{$_} } qw(source client target) : ();
			my $list = sub { '{' . join(',', sort @_) . '}' };
			push @lines, [
				$ids->{admin}{$code},
				join('|',
					($side eq 'target' && !$approved{source}) ? '' : $code,
					$m->{scenario}, $state, $side,
					$list->(keys %approved), $list->(@awaiting),
					($approved{client} && defined $approved{client}[2]) ? $approved{client}[2] : '',
					$list->(@{ $NEXT_STEPS{ $m->{scenario} }{$state} }),
					$m->{transfer} ? $ids->{admin}{ $m->{transfer}{successor} } : '')
			];
		}
		push @out, map { "$key: $_->[1]" } sort { $a->[0] <=> $b->[0] } @lines;
	}
	return join("\n", @out);
}

# everything tenancy.migrations and tenancy.migration_steps show each user
# of the fixture (ids, timestamps, reports), to compare a restored database
# with the source; '' without 1.2
sub migrations_snapshot
{
	my ($node, $db, $features) = @_;
	return '' unless $features->{migration};
	my $ids = ids($node, $db);
	my @out;
	for my $u (@{ $FIXTURE{users} })
	{
		my $key = $u->[0];
		my ($out, $err) = as_role($node, $db, $APP,
			"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{$key}) \\gset\n"
			  . "SELECT m::text FROM tenancy.migrations m ORDER BY migration_id;\n"
			  . "SELECT s::text FROM tenancy.migration_steps s ORDER BY step_no;\nCOMMIT;");
		push @out, "$key:", $out, $err;
	}
	return join("\n", @out);
}

# the migrations (1.2), in a restored database (and on the source)
sub check_migrations
{
	my ($node, $db, $features, $where, $ids) = @_;
	my ($out, $err);

	SKIP:
	{
		skip 'tenancy.request_migration is not installed',
		  8 + map { @{ $_->{next} // [] } } @{ $FIXTURE{migrations} }
		  unless $features->{migration};

		# 1. each user sees the migrations its compartment is a party to, in
		# the state, with the approvals and next steps the fixture left
		same_text(migrations_view($node, $db, $ids), expected_migrations_view($ids, 0),
			"$where: tenancy.migrations shows each user the fixture's migrations, states, approvals and next steps");

		# 2. the archive of the completed migration: read by the target
		# firm's user with a right on the successor, read-only, and out of
		# sight of the source firm
		my ($m) = completed_migrations($features);
		my $archive = $m->{administration};
		my ($reader) = sort keys %{ $m->{successor_rights} };
		($out, $err) = as_role($node, $db, $APP,
			"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{$reader}) \\gset\n"
			  . "SELECT count(*) FROM $LEDGER WHERE administration_id = $ids->{admin}{$archive};\nCOMMIT;");
		is($out, $admin_rows{$archive},
			"$where: $reader (target firm, a right on the successor) reads the archive $archive (R18)")
		  or diag($err);
		my ($o, $e) = insert_as($node, $db, $ids, $reader, $archive);
		ok($o eq 'acting' && $e =~ /ERROR:  (42501|55000)/,
			"$where: the archive $archive is read-only, for $reader too (R12)")
		  or diag("output '$o', error '$e'");
		($o, $e) = insert_as($node, $db, $ids, $reader, $m->{transfer}{successor});
		is($o, "acting\nnew", "$where: $reader writes into the successor $m->{transfer}{successor}")
		  or diag($e);

		# every user of the source's firm (subscription), and its reporting login
		my $firm = $compartment_subscription{ $admin_compartment{$archive} };
		my (@got, @want);
		for my $u (@{ $FIXTURE{users} })
		{
			next unless $compartment_subscription{ $u->[2] } == $firm;
			($out, $err) = as_role($node, $db, $APP,
				"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{$u->[0]}) \\gset\n"
				  . "SELECT count(*) FROM $LEDGER WHERE administration_id = $ids->{admin}{$archive};\nCOMMIT;");
			push @got, "$u->[0]=$out$err";
			push @want, "$u->[0]=0";
		}
		if ($features->{reporting})
		{
			($out, $err) = as_role($node, $db, $REPORT,
				"SELECT count(*) FROM $LEDGER WHERE administration_id = $ids->{admin}{$archive};");
			push @got, "$REPORT=$out$err";
			push @want, "$REPORT=0";
		}
		is(join(' ', @got), join(' ', @want),
			"$where: nobody of the source firm sees a row of the archive $archive (R18)");

		# ... nor can it move again
		($out, $err) = as_role($node, $db, $APP,
			"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{ $m->{transfer}{by} }) \\gset\nSELECT 'acting';\n"
			  . "SELECT tenancy.request_migration($ids->{admin}{$archive}, "
			  . "$ids->{compartment}{ $admin_compartment{$archive} }, '$m->{scenario}');\nROLLBACK;");
		ok($out eq 'acting' && $err =~ /ERROR:  55000/,
			"$where: a migration of the archive $archive is refused (R16)")
		  or diag("output '$out', error '$err'");

		# 3. the open migration goes on where it stood
		my ($open) = grep { $_->{next} } @{ $FIXTURE{migrations} };
		my $mid = $ids->{migration}{ $open->{administration} };
		($out, $err) = as_role($node, $db, $APP,
			"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{ $open->{next}[0][1] }) \\gset\nSELECT 'acting';\n"
			  . "SELECT tenancy.transfer_migration($mid, $ids->{client}{x1}, 'too-early');\nROLLBACK;");
		ok($out eq 'acting' && $err =~ /ERROR:  55000/,
			"$where: the open migration cannot be transferred before all approvals (55000)")
		  or diag("output '$out', error '$err'");
		for my $a (@{ $open->{next} })
		{
			my ($party, $key, $ref) = @$a;
			($out, $err) = as_role($node, $db, $APP,
				"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{$key}) \\gset\nSELECT 'acting';\n"
				  . "SELECT 'approved' FROM tenancy.approve_migration($mid"
				  . (defined $ref ? ", '$ref'" : '') . ");\nCOMMIT;");
			ok($out eq "acting\napproved" && $err !~ /ERROR/,
				"$where: the open migration takes its next step: $key approves for the $party")
			  or diag("output '$out', error '$err'");
		}
		same_text(migrations_view($node, $db, $ids), expected_migrations_view($ids, 1),
			"$where: after those steps tenancy.migrations shows the open migration approved, with its next steps");
	}
	return;
}

sub check_enforcement
{
	my ($node, $db, $features, $where) = @_;
	my $ids = ids($node, $db);
	my $rows_sql = "SELECT label FROM $LEDGER ORDER BY label COLLATE \"C\"";

	my ($out, $err) = as_role($node, $db, $APP,
		"SELECT count(*) FROM $LEDGER;\nSELECT tenancy.current_user_id() IS NULL;");
	is($out, "0\nt", "$where: without an identity the application login sees no row (R2)");

	for my $u (@{ $FIXTURE{users} })
	{
		my $key = $u->[0];
		($out, $err) = as_role($node, $db, $APP,
			"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{$key}) \\gset\n$rows_sql;\nCOMMIT;");
		is($out, expected_rows($key, $features),
			"$where: acting as $key, the application login sees exactly $key\'s rows (R6, R7)");
	}

	SKIP:
	{
		skip 'tenancy.create_secured_view is not installed', 1
		  unless $features->{secured_view};
		($out, $err) = as_role($node, $db, $APP,
			"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{piet}) \\gset\n"
			  . "SELECT label FROM $VIEW ORDER BY label COLLATE \"C\";\nCOMMIT;");
		is($out, expected_rows('piet', $features),
			"$where: the secured view shows the application login acting as piet exactly piet's rows")
		  or diag($err);
	}

	# An insert as a user; "acting" in the output shows that act_as_local
	# passed, so that an error comes from the insert.  piet reads a1
	# without write and writes a2; staff writes a5, which is archived; olga
	# (dr-two) tries a2 of dr-one.
	my $write = sub { return insert_as($node, $db, $ids, @_) };
	my $refused = sub {
		my ($key, $code, $sqlstate, $name) = @_;
		my ($o, $e) = $write->($key, $code);
		ok($o eq 'acting' && $e =~ /ERROR:  $sqlstate/, $name)
		  or diag("output '$o', error '$e'");
	};
	$refused->('piet', 'a1', '42501',
		"$where: an insert into an administration without write is refused with 42501 (R7)");
	($out, $err) = $write->('piet', 'a2');
	is($out, "acting\nnew", "$where: an insert with write is accepted (R7)")
	  or diag($err);
	$refused->('staff', 'a5', '(42501|55000)',
		"$where: an insert into an archived administration is refused, even with write (R12)");
	$refused->('olga', 'a2', '42501',
		"$where: an insert into another compartment's administration is refused (R6)");

	($out, $err) = as_role($node, $db, $APP, "SELECT count(*) FROM tenancy.permission;");
	like($err, qr/ERROR:  42501/,
		"$where: the application login cannot read the catalog tables directly");

	# before verify_audit: the steps taken here are audited too
	check_migrations($node, $db, $features, $where, $ids);

	is($node->safe_psql($db, 'SELECT tenancy.verify_audit()'),
		'ok', "$where: tenancy.verify_audit() is ok (R22)");

	# the sequences came back past the restored rows
	my $client = $node->safe_psql($db, "SELECT id FROM tenancy.client WHERE code = 'k1'");
	my ($ret, $new_id, $new_err) = $node->psql($db,
		"SELECT tenancy.create_administration($client, 'after-restore', 'new books');");
	ok($ret == 0 && $new_id > (sort { $a <=> $b } values %{ $ids->{admin} })[-1],
		"$where: a new administration after the restore gets a new id")
	  or diag("returned '$new_id', $new_err");

	if (!$features->{reporting})
	{
		($out, $err) = as_role($node, $db, $REPORT, "SELECT count(*) FROM $LEDGER;");
		is($out, '0', "$where: a login with SELECT on the ledger but neither identity nor binding sees no row (R2)")
		  or diag($err);
	}
	SKIP:
	{
		skip 'tenancy.bind_reporting_login is not installed', 2
		  unless $features->{reporting};
		my $comp = $FIXTURE{reporting}{compartment};
		($out, $err) = as_role($node, $db, $REPORT, "$rows_sql;");
		is($out,
			rows_of(grep { compartment_of($_, $features) eq $comp } keys %admin_compartment),
			"$where: the bound reporting login sees its compartment's rows without act_as (R15)")
		  or diag($err);
		($out, $err) = as_role($node, $db, $REPORT,
			"INSERT INTO $LEDGER (administration_id, label, amount) VALUES ($ids->{admin}{a1}, 'r', 1);");
		like($err, qr/ERROR:  42501/, "$where: the bound reporting login writes nothing (R14)");
	}
	SKIP:
	{
		skip 'tenancy.bind_reporting_login or create_secured_view is not installed', 1
		  unless $features->{reporting} && $features->{secured_view};
		my $comp = $FIXTURE{reporting}{compartment};
		($out, $err) = as_role($node, $db, $REPORT,
			"SELECT label FROM $VIEW ORDER BY label COLLATE \"C\";");
		is($out,
			rows_of(grep { compartment_of($_, $features) eq $comp } keys %admin_compartment),
			"$where: the bound reporting login sees its compartment's rows through the secured view (R14)")
		  or diag($err);
	}
	SKIP:
	{
		skip 'tenancy.delegate is not installed', 1 unless $features->{delegation};
		my $d = $FIXTURE{delegation};
		($out, $err) = as_role($node, $db, $APP,
			"BEGIN;\nSELECT tenancy.act_as_local($ids->{user}{$d->{to}}) \\gset\n"
			  . "SELECT count(*) FROM $LEDGER WHERE administration_id = $ids->{admin}{$d->{administration}};\nCOMMIT;");
		is($out, $admin_rows{ $d->{administration} },
			"$where: the delegated user reads the delegated administration (R20)")
		  or diag($err);
	}
	return;
}

# ----------------------------------------------------------------
# The test
# ----------------------------------------------------------------

my $source = PostgreSQL::Test::Cluster->new('source');
$source->init;
$source->start;
$source->safe_psql('postgres', 'CREATE DATABASE dr_source');
$source->safe_psql('dr_source', 'CREATE EXTENSION tenancy');
note('tenancy '
	  . $source->safe_psql('dr_source', "SELECT extversion FROM pg_extension WHERE extname = 'tenancy'"));

my $features = build_fixture($source, 'dr_source');
note("optional features in the fixture: "
	  . join(', ', map { "$_=" . ($features->{$_} ? 'yes' : 'no') } sort keys %$features));

my $catalog = catalog_snapshot($source, 'dr_source');
my $protection = protection_snapshot($source, 'dr_source');
my $check = check_report($source, 'dr_source', $features);
my $migrations = migrations_snapshot($source, 'dr_source', $features);
# the audit chain's head as an operator would publish it before the dump (1.3)
my $head = $features->{audit_head}
  ? $source->safe_psql('dr_source', "SELECT id || ' ' || hash FROM tenancy.audit_head()")
  : '';
note("tenancy.check() on the source:\n$check") if $check ne '';
like($protection, qr/^rls true forced true$/m, 'source: the ledger has row security enabled and forced');
like($protection, qr/^policy tenancy_wall \* restrictive/m, 'source: the ledger has the restrictive wall policy');

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $dump = "$tmp/dr_source.dump";
$source->command_ok([ 'pg_dump', '-Fc', '-f', $dump, 'dr_source' ], 'pg_dump -Fc of the source database');

# the same checks as in the copies, on the source (after the dump: they
# create an administration)
check_enforcement($source, 'dr_source', $features, 'source');

# pg_restore as the README prescribes: with session_replication_role =
# replica, so that the catalog's triggers (audit, invariants) stand aside
# while the dumped rows, audit log included, are copied back as they were.
my $replica = '-c session_replication_role=replica';

# 1. into a second database of the same node (errors are reported, and the
# restore goes on, so that the checks below show what did come back)
$source->safe_psql('postgres', 'CREATE DATABASE dr_copy');
{
	local $ENV{PGOPTIONS} = $replica;
	$source->command_ok([ 'pg_restore', '-d', 'dr_copy', $dump ],
		'pg_restore into a second database of the same node reports no error');
}

# 2. into a fresh node: the roles first, as pg_dumpall --roles-only gives them
my $target = PostgreSQL::Test::Cluster->new('target');
$target->init;
$target->start;
my $roles = `pg_dumpall --roles-only --no-role-passwords -h @{[ $source->host ]} -p @{[ $source->port ]}`;
$roles =~ s/^(CREATE|ALTER) ROLE postgres\b.*$//mg;    # the target has it
$target->safe_psql('postgres', $roles);
$target->safe_psql('postgres', 'CREATE DATABASE dr_copy');
{
	local $ENV{PGOPTIONS} = $replica;
	$target->command_ok([ 'pg_restore', '-d', 'dr_copy', $dump ],
		'pg_restore into a fresh node reports no error');
}

for my $copy ([ $source, 'same node' ], [ $target, 'fresh node' ])
{
	my ($node, $where) = @$copy;
	my $restored = catalog_snapshot($node, 'dr_copy');
	is_deeply([ sort keys %$restored ], [ sort keys %$catalog ],
		"$where: the same catalog tables");
	for my $t (sort keys %$catalog)
	{
		same_text($restored->{$t}, $catalog->{$t}, "$where: catalog table tenancy.$t came back identical");
	}
	same_text(protection_snapshot($node, 'dr_copy'), $protection,
		"$where: row security, tenancy policies (pg_policy) and triggers (pg_trigger) came back identical");
	SKIP:
	{
		skip 'tenancy.check is not installed', 1 unless $features->{check};
		same_text(check_report($node, 'dr_copy', $features), $check,
			"$where: tenancy.check() reports the same as on the source");
	}
	SKIP:
	{
		skip 'tenancy.request_migration is not installed', 1 unless $features->{migration};
		same_text(migrations_snapshot($node, 'dr_copy', $features), $migrations,
			"$where: tenancy.migrations and migration_steps show each user the same as on the source");
	}
	check_enforcement($node, 'dr_copy', $features, $where);
	SKIP:
	{
		skip 'tenancy.audit_head is not installed', 1 unless $features->{audit_head};
		my ($id, $hash) = split / /, $head;
		is($node->safe_psql('dr_copy', "SELECT tenancy.verify_audit($id, '$hash')"),
			'ok', "$where: the restored audit chain verifies against the head published on the source (R22)");
	}
}

$target->stop;
$source->stop;
done_testing();
