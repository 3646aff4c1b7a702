/*
 * config.h - dmarc-ingest's settings: an INI file, the command line and
 * the environment, merged into one struct config.
 *
 * Owns: where the file is looked for (--config, $DMARCSIFT_CONFIG,
 * ${XDG_CONFIG_HOME:-~/.config}/dmarcsift/config, /etc/dmarcsift/config),
 * the table of keys ([imap], [store], and [report] for dmarc-report),
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

#include "err.h"
#include "log.h"

enum imap_tls {
	IMAP_TLS_IMAPS,	   /* TLS from the first byte (port 993) */
	IMAP_TLS_STARTTLS, /* plain connection upgraded with STARTTLS (143) */
	IMAP_TLS_NONE,	   /* clear text: loopback only */
};

enum imap_auth {
	IMAP_AUTH_LOGIN,   /* LOGIN user password */
	IMAP_AUTH_XOAUTH2, /* AUTHENTICATE XOAUTH2 with a bearer token */
};

struct imap_config {
	char *host;
	unsigned port; /* 0 until config_check_imap() fills the default */
	enum imap_tls tls;
	char *user;
	enum imap_auth auth;
	char *password;		    /* [imap] password: file only, a secret */
	char *password_file;
	char *password_command;
	char *oauth2_token_command;
	char *folder;		/* "/"-separated, UTF-8 */
	char *archive_folder;	/* "" = only mark \Seen */
	char *failed_folder;	/* "" = only mark \Seen */
	char *ca_file;
	unsigned timeout; /* seconds, for connect and every read */
	unsigned batch;	  /* messages per UID FETCH */
	unsigned long long max_response; /* bytes per answer, bodies aside */
	int mark_seen; /* archived messages are marked \Seen (default 1) */
	int all;	  /* --all: every message, not only unseen ones */
};

/* [report]: dmarc-report's settings (dmarc-ingest ignores them). */
struct report_config {
	char *sources;	  /* [report] sources: the user's senders file */
	double tolerance; /* [report] tolerance: percent, default 0.5 */
	unsigned max_age; /* [report] max_age: days, default 3 */
};

#define CONFIG_NKEYS 26

struct config {
	char *file; /* the file read, or NULL */
	struct imap_config imap;
	char *db; /* [store] db */
	struct report_config report;
	unsigned keep_days;	 /* [store] keep: prune after the run; 0 never */
	int keep_failure_bodies; /* [store] keep_failure_bodies */
	int dns_resolve;	/* [dns] resolve (yes) */
	char *dns_servers;	/* [dns] servers, --dns-server; NULL: system */
	unsigned dns_budget;	/* [dns] budget, seconds (20) */
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

/* Checks what fetching over IMAP needs (host, user, a password source
 * that fits auth...) and fills the defaults that depend on other keys
 * (the port).  Messages name the file and key at fault. */
int config_check_imap(struct config *c, struct err *e);

#endif
