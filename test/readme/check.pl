#!/usr/bin/perl
# test/readme/check.pl -- the README runs as printed
#
#   perl test/readme/check.pl README.md
#
# Runs every ```sql block of the README, in order, in one psql session
# (superuser, database postgres, connection from the PG* environment), and
# compares each block's output with the ```text block that follows it
# directly, when there is one; a block without one must not fail (no
# "ERROR:" in its output).  A block preceded by the line
# "<!-- readme-test: skip -->" is a fragment (placeholders, shell) and is
# not run.  Blocks switch databases and roles with \c as the README tells
# the reader to.  Before and after, database books and roles books_* are
# dropped, so the run starts from a fresh database.  Prints TAP lines, one
# per block, with a diff for a mismatch.
use strict;
use warnings;

my $readme = shift // 'README.md';
open my $fh, '<', $readme or die "cannot open $readme: $!";
my @lines = <$fh>;
close $fh;

# collect the blocks: { line, sql, expected (or undef) }
my @blocks;
my $skip_next = 0;
for (my $i = 0; $i < @lines; $i++)
{
	if ($lines[$i] =~ /^<!-- readme-test: skip -->/) { $skip_next = 1; next; }
	next unless $lines[$i] =~ /^```(\w*)\s*$/;
	if ($1 ne 'sql')
	{
		# another language (or output): skip to its closing fence
		for ($i++; $i < @lines && $lines[$i] !~ /^```\s*$/; $i++) { }
		$skip_next = 0;
		next;
	}
	my $start = $i + 1;
	my $sql = '';
	for ($i++; $i < @lines && $lines[$i] !~ /^```\s*$/; $i++) { $sql .= $lines[$i]; }
	if ($skip_next) { $skip_next = 0; next; }
	my $j = $i + 1;
	$j++ while $j < @lines && $lines[$j] =~ /^\s*$/;
	my $expected;
	if ($j < @lines && $lines[$j] =~ /^```text\s*$/)
	{
		$expected = '';
		for ($j++; $j < @lines && $lines[$j] !~ /^```\s*$/; $j++) { $expected .= $lines[$j]; }
	}
	push @blocks, { line => $start, sql => $sql, expected => $expected };
}

my $cleanup = "\\c postgres postgres\nSET client_min_messages = warning;\n"
  . "DROP DATABASE IF EXISTS books WITH (FORCE);\n"
  . "DROP ROLE IF EXISTS books_app;\nDROP ROLE IF EXISTS books_bi;\nDROP ROLE IF EXISTS books_owner;\n";
my $script = "\\set VERBOSITY default\n$cleanup\\echo '\@\@\@ start'\n";
for my $b (0 .. $#blocks)
{
	$script .= "\\echo '\@\@\@ block $b'\n$blocks[$b]{sql}";
}
$script .= "\\echo '\@\@\@ end'\n$cleanup";

my $tmp = "/tmp/readme_check_$$.sql";
open my $out, '>', $tmp or die;
print $out $script;
close $out;
my $output = `psql -X -q -v ON_ERROR_STOP=0 -d postgres < $tmp 2>&1`;
unlink $tmp;

my %got;
my $cur;
for my $l (split /\n/, $output)
{
	if ($l =~ /^\@\@\@ (block (\d+)|end|start)$/) { $cur = defined $2 ? $2 : undef; next; }
	$got{$cur} .= "$l\n" if defined $cur;
}

sub norm
{
	my $t = shift // '';
	$t =~ s/[ \t]+$//mg;
	$t =~ s/^\n+//;
	$t =~ s/\n+$//;
	return $t;
}

my $n = 0;
my $failed = 0;
for my $b (0 .. $#blocks)
{
	$n++;
	my $blk  = $blocks[$b];
	my $got  = norm($got{$b});
	my $what = "README.md line $blk->{line}";
	if (defined $blk->{expected})
	{
		my $exp = norm($blk->{expected});
		if ($got eq $exp) { print "ok $n - $what: output as shown\n"; next; }
		print "not ok $n - $what: output differs from the README\n";
		print map { "#   $_\n" } ('--- README', split(/\n/, $exp), '+++ psql', split(/\n/, $got));
		$failed++;
	}
	elsif ($got =~ /^(ERROR|FATAL):/m)
	{
		print "not ok $n - $what: fails\n";
		print map { "#   $_\n" } split(/\n/, $got);
		$failed++;
	}
	else
	{
		print "ok $n - $what: runs\n";
	}
}
print "1..$n\n";
exit($failed ? 1 : 0);
