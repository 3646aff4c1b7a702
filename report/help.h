/*
 * help.h - `dmarc-report help [COMMAND]` and `dmarc-report COMMAND --help`:
 * per command, what it answers, the options it reads, and every column of
 * its CSV (the keys of its JSON) with its meaning.
 *
 * Owns the help pages, one per command, in help.c: the one place a column's
 * meaning is written for the program.  tests/integration/test_help.py checks
 * that each page lists exactly the columns the command's CSV has, and that
 * docs/dmarc-report.1 names every one of them, so neither can drift.
 */
#ifndef DMARCSIFT_HELP_H
#define DMARCSIFT_HELP_H

#include <stdio.h>

/*
 * Answers a help request.  words[0..n) are the words after the options:
 * "help" [COMMAND], or COMMAND when -h/--help was given (flag).  Without a
 * command, usage() prints the general help.  Returns the exit status: 0,
 * or 64 (EX_USAGE) for an unknown command or a stray word.
 */
int help_main(int n, char **words, int flag, void (*usage)(FILE *));

/* Whether the help has a page for name. */
int help_has(const char *name);

#endif
