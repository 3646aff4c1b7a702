/*
 * imap-secret.h - the password or bearer token of the IMAP account.
 *
 * Owns the sources of the secret and their order: for auth = xoauth2 the
 * output of oauth2_token_command (tokens expire, so it is run each time);
 * for auth = login, DMARCSIFT_IMAP_PASSWORD if set, else the one of
 * password, password_file, password_command that is configured.  A command
 * runs under /bin/sh with the IMAP timeout; its first line is the secret
 * (like isync's PassCmd), its standard error goes to ours.
 *
 * Promises: the secret never appears in a message, a log line or an error,
 * only in memory that imap_secret_free() wipes; a password file readable
 * by group or others is warned about.  The caller asks for the secret only
 * once the server's certificate has been verified, so a command that
 * unlocks a keyring is not run for a server that is about to be refused.
 */
#ifndef DMARCSIFT_IMAP_SECRET_H
#define DMARCSIFT_IMAP_SECRET_H

#include "config.h"
#include "config-imap.h"
#include "err.h"
#include "log.h"

/* Fills *out with a malloc'd, NUL-terminated secret. */
int imap_secret_get(const struct imap_config *ic, const struct logger *lg,
    char **out, struct err *e);

/* Wipes and frees a secret; NULL is fine. */
void imap_secret_free(char *s);

/* Where the secret imap_secret_get() returns comes from, in words, for
 * a refused login ("the password in password_file /path"). */
void imap_secret_source(const struct imap_config *ic, char *out,
    size_t len);

#endif
