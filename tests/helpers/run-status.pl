#!/usr/bin/perl
# run-status.pl FILE CMD...: runs CMD as a shell starts a program in the
# foreground of a terminal: SIGINT and SIGTERM at their default actions
# (a test script's background job has SIGINT ignored) and in a process
# group of its own, so a test can signal the group as Ctrl-C does. Writes
# CMD's pid to FILE.pid and, when it ends, how: "exit N" or "signal N" to
# FILE.status. Both files appear whole (written, then renamed).
use strict;
use warnings;
use POSIX ();

my $f = shift @ARGV or die "usage: run-status.pl FILE CMD...\n";
$SIG{INT} = $SIG{TERM} = 'DEFAULT';
my $pid = fork() // die "run-status: fork: $!\n";
if (!$pid) {
	setpgrp(0, 0);
	{ no warnings "exec"; exec { $ARGV[0] } @ARGV; }
	print STDERR "run-status: cannot run '$ARGV[0]': $!\n";
	POSIX::_exit(127);
}

sub put {
	my ($name, $text) = @_;
	open my $fh, '>', "$name.tmp" or die "run-status: $name: $!\n";
	print $fh $text;
	close $fh or die "run-status: $name: $!\n";
	rename "$name.tmp", $name or die "run-status: $name: $!\n";
}

put("$f.pid", "$pid\n");
waitpid($pid, 0);
my $st = $?;
put("$f.status", ($st & 127) ? sprintf("signal %d\n", $st & 127) : sprintf("exit %d\n", $st >> 8));
exit 0;
