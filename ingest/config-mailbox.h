/*
 * config-mailbox.h - config.c's helpers for the mailbox sections: [imap]
 * (named "") and [imap "name"], any number, each handed to the kind of
 * source.h's table that reads it.  Private to config*.c.
 *
 * Promises: a name is checked (source_name_valid()); [imap "default"] is
 * [imap]; a key of a section is checked by its kind, and messages name the
 * section ([imap "work"] host: ...).  The command line's settings go to
 * the mailbox --mailbox picks, else to the only one; with several and no
 * pick they are refused.
 */
#ifndef DMARCSIFT_CONFIG_MAILBOX_H
#define DMARCSIFT_CONFIG_MAILBOX_H

#include "config.h"
#include "err.h"

/* key = v of `section` if it is a mailbox section (*handled 1): 0, or
 * -1 with e (without the file and line).  line: the file's line. */
int config_mailbox_key(struct config *c, const char *section, const char *key,
                       const char *v, const char *dir, int line, int *handled,
                       struct err *e);

/* --option (name with '_') of a kind of mailbox; e names the option. */
int config_set_mailbox_option(struct config *c, const char *option,
                              const char *name, const char *value,
                              struct err *e);

void config_mailboxes_free(struct config *c);

#endif
