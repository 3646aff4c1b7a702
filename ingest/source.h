/*
 * source.h - a mailbox: a place that hands out messages one by one and is
 * told, once their reports are committed, what became of each.
 *
 * Modelled on fdm's struct fetch: a driver (source_ops) says how to
 * connect, give the next message, dispose of the messages it handed out
 * (after the store committed), abort, and name itself.  The policy is
 * written once, here (source.c), for every driver:
 *
 *   - every message is imported; its reports are committed (import_flush)
 *     before the driver is told to dispose of it, so a crash at any point
 *     leaves it where it was and the next run finds its reports stored;
 *   - a message that yields a report is "handled" (archived: IMAP moves
 *     it to the archive folder, a maildir to .Processed);
 *   - a message that cannot be used is "failed": its bytes are kept in
 *     quarantine/ in the store's state directory (when the driver has
 *     them), then the driver moves it to its failed place; it is never
 *     deleted and never marked as handled;
 *   - the run goes on after a failed message; only a failure of the store
 *     or of the mailbox itself stops it, and the exit status says so.
 *
 * A driver works in batches: next() returns SOURCE_BATCH when the
 * messages handed out so far should be committed and disposed of (IMAP:
 * after `batch` messages), SOURCE_END after the last one.
 *
 * Where drivers come from: source_kinds[] in source.c maps a section of
 * the configuration ([imap], [imap "name"]) to the driver that reads it.
 * A new kind of mailbox is one new file (its config keys, its ops) plus
 * one line in that table.  Local paths (fetch.h) are read by fetch_path();
 * a maildir given with --maildir-handled, and an mbox given with
 * --mbox-handled move (source-mbox.c), run through this policy too.
 */
#ifndef DMARCSIFT_SOURCE_H
#define DMARCSIFT_SOURCE_H

#include <stddef.h>

#include "err.h"
#include "fetch.h"
#include "import.h"

enum source_next {
	SOURCE_END = 0,   /* no message left; commit and stop */
	SOURCE_MSG = 1,   /* *m is a message */
	SOURCE_BATCH = 2, /* commit and dispose of what was handed out */
};

/* One message, as a driver hands it out.  Valid until settle(). */
struct source_msg {
	struct origin origin; /* its bytes or its file */
	const char *name;     /* for messages: imap://...;UID=5, a path */
	/* Not NULL: the message cannot be imported as it is (larger than
	 * --max-input, cut off by the server); it is failed with this
	 * reason, and there is no copy to keep. */
	const char *why;
	/* The quarantine file's name without the date and ".eml"
	 * ("<uidvalidity>-<uid>"); NULL when the driver keeps the message
	 * itself (a local maildir's .Failed: nothing is lost). */
	const char *keep_as;
	void *token; /* the driver's own */
};

/* What a drain did, for the summary line. */
struct source_stats {
	unsigned long total;     /* messages to fetch, when known */
	unsigned long fetched;   /* messages imported */
	unsigned long failed;    /* messages that could not be used */
	unsigned long too_large; /* of which over --max-input */
	unsigned long moved;     /* messages moved to the archive or failed
	                            place */
};

struct source;

struct source_ops {
	const char *name; /* "imap", "maildir" */
	/* Opens the mailbox.  On failure *ex is the exit status. */
	int (*connect)(struct source *s, int *ex, struct err *e);
	/* The next message: SOURCE_MSG, SOURCE_BATCH, SOURCE_END or -1. */
	int (*next)(struct source *s, struct source_msg *m, int *ex,
	            struct err *e);
	/* The verdict on a message handed out: handled (ok) or failed.
	 * Nothing is done to it yet; its memory may be released. */
	void (*settle)(struct source *s, const struct source_msg *m, int ok);
	/* The store committed: every settled message goes to its place. */
	int (*commit)(struct source *s, int *ex, struct err *e);
	/* After the last commit of a run that went well (IMAP: marks the
	 * archived messages \Seen in the archive).  May be NULL. */
	int (*finish)(struct source *s, int *ex, struct err *e);
	/* Closes the mailbox, leaving whatever was not committed in place;
	 * frees the source. */
	void (*close)(struct source *s);
};

struct source {
	const struct source_ops *ops;
	char where[1024];     /* imap://user@host/folder, a maildir's path */
	char failed_to[1100]; /* where a failed message goes, in words */
	struct source_stats stats;
};

/* What source_drain() needs besides the source. */
struct source_run {
	struct fetch_ctx *fc;
	const char *statedir; /* store_state_dir(): quarantine/ is there */
	int dots_progress;    /* progress as "n/total messages" */
	/* NULL, or (watch mode, watch.h) a descriptor that becomes
	 * readable when the run should stop: the drain then ends after the
	 * batch in progress is committed and disposed of. */
	const int *stop_fd;
};

/* Drains s through the policy above (the caller reads s->stats, then
 * closes it with s->ops->close).  Returns 0, or -1
 * when the run had to stop (what was imported is committed), with *ex
 * the exit status and e the reason. */
int source_drain(struct source *s, const struct source_run *run, int *ex,
                 struct err *e);

/* Reads the maildir at path through the policy above, its messages
 * disposed of as fc->handled says (source-maildir.c).  Returns 0, or -1
 * when the run must stop. */
int source_maildir_drain(struct fetch_ctx *fc, const char *path, struct err *e);

/* Reads the mbox at path through the policy above, its messages moved to
 * <path>.Processed / <path>.Failed under the mailbox's locks
 * (source-mbox.c, --mbox-handled move).  Returns 0, or -1 when the run
 * must stop. */
int source_mbox_drain(struct fetch_ctx *fc, const char *path, struct err *e);

/* --- kinds of mailboxes, by configuration section ---------------------- */

/* One named mailbox of the configuration: [imap] is named "" (the
 * default one), [imap "work"] "work". */
struct source_config {
	const struct source_kind *kind;
	char *name;
	void *cfg; /* the kind's own settings */
};

struct store;
struct watch_timing;
struct watcher;

struct source_kind {
	const char *section; /* "imap": [imap] and [imap "name"] */
	void *(*config_new)(void);
	void (*config_free)(void *cfg);
	/* Sets key = value (from the file at `line`, or from the command
	 * line when line is 0 and dir NULL).  Returns 0, -1 with e, or 1
	 * for a key the kind does not have. */
	int (*config_set)(void *cfg, const char *key, const char *value,
	                  const char *dir, int line, struct err *e);
	/* Checks what the settings need together, fills defaults; `file`
	 * and `section` ("[imap \"work\"]") name them in messages. */
	int (*config_check)(void *cfg, const char *file, const char *section,
	                    struct err *e);
	/* 1 if the command-line option `key` is one of this kind's. */
	int (*has_option)(const char *key);
	/* The store's lock scope of this mailbox: two runs may work on two
	 * mailboxes at once, never on one. */
	void (*lock_scope)(const void *cfg, char *out, size_t len);
	/* A source for the mailbox; `name` is the mailbox's ("" default);
	 * `all`: every message, not only the ones not yet seen (--all). */
	int (*open)(const void *cfg, const char *name, int all,
	            struct store *st, const struct logger *lg,
	            const struct limits *lim, struct source **out,
	            struct err *e);
	/* Watch mode (watch.h): a session that waits for new mail in the
	 * mailbox; NULL when the kind cannot be watched. */
	int (*watch_open)(const void *cfg, const struct logger *lg,
	                  const struct watch_timing *t, struct watcher **out,
	                  int *ex, struct err *e);
};

/* The kind that reads [section], or NULL. */
const struct source_kind *source_kind_find(const char *section);

/* All kinds, NULL-terminated (for messages listing the sections). */
extern const struct source_kind *const source_kinds[];

/* Whether `name` can name a mailbox ([imap "name"], --mailbox): letters,
 * digits, '.', '_' and '-', at most 64, not starting with '.' or '-'
 * (it becomes part of file names in quarantine/). */
int source_name_valid(const char *name);

#endif
