/*
 * outfile.h - dmarc-report's -o FILE: the output goes to a temporary file
 * beside FILE and replaces FILE only when the command succeeded, so a
 * cron job that rewrites a page or an export never leaves a half-written
 * one for a reader (or a web server) to find.
 */
#ifndef DMARCSIFT_OUTFILE_H
#define DMARCSIFT_OUTFILE_H

#include <stdio.h>

#include "err.h"

struct outfile {
	char *path; /* FILE */
	char *tmp;  /* FILE.XXXXXX, the one written */
	FILE *f;
};

/* Creates the temporary file (mode 0644 less the umask) and opens it. */
int outfile_open(struct outfile *o, const char *path, struct err *e);

/* Flushes, syncs and renames the temporary file over FILE. */
int outfile_commit(struct outfile *o, struct err *e);

/* Removes the temporary file (after a failure); safe after commit. */
void outfile_abort(struct outfile *o);

#endif
