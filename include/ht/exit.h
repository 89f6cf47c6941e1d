/*
 * exit.h: the one exit-code table shared by every hypertest tool.
 *
 * The vocabulary is sysexits(3)'s. Each tool's page in docs/ lists the codes
 * it uses; docs/exit-codes.md lists them all.
 */
#ifndef HT_EXIT_H
#define HT_EXIT_H

enum ht_exit {
	HT_EXIT_OK = 0,           /* all good */
	HT_EXIT_FAILED = 1,       /* the run finished, some tests or records failed */
	HT_EXIT_USAGE = 64,       /* bad command line */
	HT_EXIT_DATAERR = 65,     /* bad input data: a record, a JSON line */
	HT_EXIT_NOINPUT = 66,     /* an input is missing: no such file, no tests found */
	HT_EXIT_UNAVAILABLE = 69, /* a service or a program we need is not there */
	HT_EXIT_SOFTWARE = 70,    /* internal error */
	HT_EXIT_OSERR = 71,       /* a command we ran failed (a listing command, say) */
	HT_EXIT_CANTCREAT = 73,   /* an output file exists and is not to be overwritten, or cannot be made */
	HT_EXIT_IOERR = 74,       /* reading or writing a file or stdout failed */
	HT_EXIT_TEMPFAIL = 75,    /* temporary failure, worth retrying */
	HT_EXIT_PROTOCOL = 76,    /* the remote side broke the protocol */
	HT_EXIT_NOPERM = 77,      /* permission denied, bad credentials */
	HT_EXIT_CONFIG = 78,      /* bad configuration */
	HT_EXIT_STALE = 79,       /* the image does not hold the working tree (drift: error) */
	HT_EXIT_INTERRUPTED = 130 /* stopped by SIGINT or SIGTERM, results written */
};

#endif
