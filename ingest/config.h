/*
 * config.h - dmarc-ingest's settings: an INI file, the command line and
 * the environment, merged into one struct config.
 *
 * Owns: where the file is looked for (--config, $DMARCSIFT_CONFIG,
 * ${XDG_CONFIG_HOME:-~/.config}/dmarcsift/config, /etc/dmarcsift/config),
 * the table of keys ([store], [dns], [maildir], and [report] for
 * dmarc-report), the mailbox sections ([imap], [imap "name"]: handed to
 * the kind of source.h's table that reads them, config-imap.c for IMAP),
 * the parsing and checking of every value, and the
 * precedence: built-in defaults < the file < command-line options.  Each key
 * of the file is also a long option ("archive_folder" is
 * --archive-folder), except secrets: a password is never taken from the
 * command line, where every user of the machine can read it.
 *
 * Promises: an unknown section or key, a key given twice, a line too long
 * or a bad value is an error naming the file, the line and the key; a
 * value is checked when it is read, so a bad one never reaches the IMAP
 * code.  Paths in the file may start with "~/" and, when relative, are
 * relative to the file's directory, so a cron job's working directory does
 * not matter.  The file is read once and nothing of it is kept but the
 * values.
 */
#ifndef DMARCSIFT_CONFIG_H
#define DMARCSIFT_CONFIG_H

#include <stddef.h>
#include <sys/stat.h>

#include "config-value.h"
#include "err.h"
#include "log.h"

/* [maildir] handled: what becomes of a maildir's messages once read. */
enum maildir_handled {
	MAILDIR_KEEP, /* nothing: the maildir is only read (default) */
	MAILDIR_SEEN, /* handled: to cur/ with the S flag, then skipped */
	MAILDIR_MOVE, /* handled: to the sibling .Processed folder */
};

/* [mbox] handled: what becomes of an mbox's messages once read. */
enum mbox_handled {
	MBOX_KEEP, /* nothing: the mbox is only read (default) */
	MBOX_MOVE, /* handled to <mbox>.Processed, failed to <mbox>.Failed */
};

struct source_config; /* source.h */

/* [report]: dmarc-report's settings (dmarc-ingest ignores them). */
struct report_config {
	char *sources;	  /* [report] sources: the user's senders file */
	double tolerance; /* [report] tolerance: percent, default 0.5 */
	unsigned max_age; /* [report] max_age: days, default 3 */
};

#define CONFIG_NKEYS 11

struct config {
	char *file; /* the file read, or NULL */
	/* The mailboxes: [imap] (named "") and [imap "name"] sections, in
	 * the order of the file. */
	struct source_config *mailboxes;
	size_t nmailboxes;
	char *pick; /* --mailbox: only this one ("" the default) */
	char *db;   /* [store] db */
	struct report_config report;
	unsigned keep_days;	 /* [store] keep: prune after the run; 0 never */
	int keep_failure_bodies; /* [store] keep_failure_bodies */
	int dns_resolve;	/* [dns] resolve (yes) */
	char *dns_servers;	/* [dns] servers, --dns-server; NULL: system */
	unsigned dns_budget;	/* [dns] budget, seconds (20) */
	enum maildir_handled maildir_handled; /* [maildir] handled */
	enum mbox_handled mbox_handled;       /* [mbox] handled */
	/* Where each key was set, for messages about it: a line of the file,
	 * 0 for the command line, -1 when not set. */
	int line[CONFIG_NKEYS];
};

void config_init(struct config *c);
void config_free(struct config *c);

/* Finds the file to read: `option` (--config) if given, else
 * $DMARCSIFT_CONFIG, else the first of the default locations that exists.
 * *path is NULL (and 0 returned) when none is given and none exists; a
 * file named by --config or the environment must exist. */
int config_locate(const char *option, char **path, struct err *e);

/* Reads the INI file at `path` into c.  Refuses a file that
 * config_trusted() refuses; warns (through lg) when it is readable by
 * group or others. */
int config_load(struct config *c, const char *path, const struct logger *lg,
    struct err *e);

/* Whether a file that decides what dmarc-ingest runs or sends (the
 * configuration, password_file, the program of password_command) can be
 * trusted, as OpenSSH decides for its own files: it must not be writable
 * by group or others, and must belong to the user running or to root.
 * `what` names it in the message ("the configuration"). */
int config_trusted(const char *path, const struct stat *sb, const char *what,
    struct err *e);

/* The program password_command starts: its first word, looked up in
 * PATH when it has no '/'; "" when it is not found (the shell then fails
 * with 127). */
int config_command_program(const char *cmd, char *out, size_t len);

/* Sets a key from a long option name ("archive-folder"), as if it came
 * last in the file.  Fails for unknown names and for secrets. */
int config_set_option(struct config *c, const char *option,
    const char *value, struct err *e);

/* 1 if DMARCSIFT_IMAP_PASSWORD holds a password (it overrides the file's
 * password, password_file and password_command). */
int config_env_password(void);

/* --mailbox NAME: the command line's IMAP settings go to that mailbox,
 * and only it is drained ("default" is [imap]).  Call it before
 * config_set_option(). */
int config_pick(struct config *c, const char *name, struct err *e);

/* Checks the mailboxes to drain (the picked one, or all; a default [imap]
 * when there is none, so that a missing host is said): each kind checks
 * what it needs (IMAP: host, user, a password source that fits auth...)
 * and fills the defaults that depend on other keys.  Messages name the
 * file, section and key at fault. */
int config_check_mailboxes(struct config *c, struct err *e);

#endif
