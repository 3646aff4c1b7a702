/*
 * fetch.h - where inputs come from.  One struct fetch per kind of source,
 * one file per source (fetch-file.c, fetch-maildir.c, fetch-mbox.c,
 * fetch-stdin.c, fetch-imap.c): a new local source is one new file and one
 * line in the table in fetch.c.  Mailboxes of the configuration (IMAP)
 * are sources of source.h, drained by its policy; so is a maildir PATH
 * whose messages are to be moved once read (--maildir-handled), and an
 * mbox PATH read with --mbox-handled move.
 *
 * A source only finds inputs and hands each to fetch_import(); what is in
 * an input, and what becomes of it, is import.c's business.
 */
#ifndef DMARCSIFT_FETCH_H
#define DMARCSIFT_FETCH_H

#include <stdio.h>
#include <sys/types.h>

#include "err.h"
#include "import.h"
#include "input-limits.h"
#include "log.h"

/* A directory being walked and the one it is in: a symbolic link back to
 * one of them is a loop, which would be walked again at every level. */
struct fetch_dir {
	dev_t dev;
	ino_t ino;
	const struct fetch_dir *up;
};

struct fetch_ctx {
	struct importer *imp;
	const struct limits *lim;
	const struct logger *lg;
	int missing;  /* a PATH given on the command line does not exist */
	int progress; /* draw a progress line (stderr is a terminal) */
	unsigned depth; /* directory recursion */
	const struct fetch_dir *dirs; /* the directories being walked */
	int handled; /* [maildir] handled (enum maildir_handled): 0 keep */
	int mbox_handled; /* [mbox] handled (enum mbox_handled): 0 keep */
};

struct fetch {
	const char *name;
	/* 1 if this source is the one to read PATH. */
	int (*accepts)(const char *path);
	/* Imports everything at PATH.  Returns 0, or -1 when the run must
	 * stop (the database failed); problems with single inputs are
	 * counted by the importer and do not stop the run. */
	int (*run)(struct fetch_ctx *fc, const char *path, struct err *e);
};

extern const struct fetch fetch_stdin;
extern const struct fetch fetch_maildir;
extern const struct fetch fetch_mbox;
extern const struct fetch fetch_file;

/* Reads PATH with the first source that accepts it. */
int fetch_path(struct fetch_ctx *fc, const char *path, struct err *e);

/* Hands one input to the importer and updates the progress line. */
int fetch_import(struct fetch_ctx *fc, const struct origin *o,
    const char *source, enum input_result *result, struct err *e);

/* Reads fd to its end (within --max-input) and imports it as one input,
 * or as an mbox when it starts with "From ": standard input, or a pipe
 * named on the command line. */
int fetch_stream(struct fetch_ctx *fc, int fd, const char *name,
    struct err *e);

/* Splits an mbox stream into messages and imports each. */
int fetch_mbox_stream(struct fetch_ctx *fc, FILE *f, const char *name,
    struct err *e);

/* Clears the progress line before other output. */
void fetch_progress_done(struct fetch_ctx *fc);

#endif
