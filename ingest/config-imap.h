/*
 * config-imap.h - the settings of one IMAP mailbox: the keys of an [imap]
 * or [imap "name"] section, and the long options of the same names.
 *
 * Owns the IMAP keys, the check of each value when it is read (so a bad
 * one never reaches the IMAP code), the checks across keys (a password
 * source that fits auth, an archive folder that is not the folder read)
 * and the defaults that depend on other keys (the port).  config.c reads
 * the file and hands each key of an IMAP section here, through the
 * source kind table (source.h).
 */
#ifndef DMARCSIFT_CONFIG_IMAP_H
#define DMARCSIFT_CONFIG_IMAP_H

#include "err.h"

enum imap_tls {
	IMAP_TLS_IMAPS,    /* TLS from the first byte (port 993) */
	IMAP_TLS_STARTTLS, /* plain connection upgraded with STARTTLS (143) */
	IMAP_TLS_NONE,     /* clear text: loopback only */
};

enum imap_auth {
	IMAP_AUTH_LOGIN,   /* LOGIN user password */
	IMAP_AUTH_XOAUTH2, /* AUTHENTICATE XOAUTH2 with a bearer token */
};

#define IMAP_NKEYS 17

struct imap_config {
	char *host;
	unsigned port; /* 0 until imap_config_check() fills the default */
	enum imap_tls tls;
	char *user;
	enum imap_auth auth;
	char *password; /* password: file only, a secret */
	char *password_file;
	char *password_command;
	char *oauth2_token_command;
	char *folder;         /* "/"-separated, UTF-8 */
	char *archive_folder; /* "" = only mark \Seen */
	char *failed_folder;  /* "" = only mark \Seen */
	char *ca_file;
	unsigned timeout; /* seconds, for connect and every read */
	unsigned batch;   /* messages per UID FETCH */
	unsigned long long max_response; /* bytes per answer, bodies aside */
	int mark_seen; /* archived messages are marked \Seen (default 1) */
	/* Where each key was set, for messages about it: a line of the
	 * file, 0 for the command line, -1 when not set. */
	int line[IMAP_NKEYS];
	char *file;    /* the file, for those messages */
	char *section; /* "[imap]" or "[imap \"work\"]" */
};

/* The source kind's config functions (source.h). */
void *imap_config_new(void);
void imap_config_free(void *cfg);
int imap_config_set(void *cfg, const char *key, const char *value,
                    const char *dir, int line, struct err *e);
int imap_config_check(void *cfg, const char *file, const char *section,
                      struct err *e);
int imap_config_has_option(const char *key);

#endif
