/*
 * imap-name.h - folder names as the configuration writes them and as the
 * IMAP server wants them.
 *
 * The configuration writes folders with "/" between levels, in UTF-8,
 * relative to the personal namespace ("DMARC/Traités").  The server wants
 * its own hierarchy delimiter (dovecot's maildir layout uses ".", others
 * "/"), its personal namespace prefix in front (some servers want
 * "INBOX."), and modified UTF-7 (RFC 3501 section 5.1.3) for anything
 * that is not printable ASCII: "INBOX.DMARC.Trait&AOk-s".
 *
 * Pure functions: no I/O, no IMAP session.
 */
#ifndef DMARCSIFT_IMAP_NAME_H
#define DMARCSIFT_IMAP_NAME_H

#include "err.h"

/* Encodes UTF-8 `in` to modified UTF-7 in a malloc'd string. */
int imap_utf7_encode(const char *in, char **out, struct err *e);

/* The server's name for a configured folder.  `delim` is the hierarchy
 * delimiter ('\0' when the server has no hierarchy), `prefix` the personal
 * namespace prefix ("" or e.g. "INBOX.").  "INBOX" (any case) is the
 * inbox and gets no prefix; a name that already starts with the prefix
 * keeps it.  A level that contains the server's delimiter is an error:
 * "2024.Q1" cannot be one folder on a server that uses ".". */
int imap_folder_name(const char *folder, char delim, const char *prefix,
    char **out, struct err *e);

#endif
