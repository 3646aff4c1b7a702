/*
 * quarantine.h - a local copy of every message that could not be used,
 * before it leaves the mailbox read (source.c's policy).
 *
 * A message without a usable aggregate report is moved to the failed
 * folder on the server; its bytes are also kept beside the database, in
 * quarantine/<YYYYMMDD>-<stem>.eml, the stem given by the mailbox's
 * driver (IMAP: <uidvalidity>-<uid>, or <name>-<uidvalidity>-<uid> for a
 * named mailbox; the date is today's, in UTC), so that it can be examined, or imported again by a later version
 * with `dmarc-ingest quarantine/...`, even if someone empties the folder.
 *
 * Promises: the directory is created with mode 0700 and the file with
 * 0600 (reports name the domain's senders); the file is complete and on
 * disk (written under a temporary name, fsync'ed, renamed, directory
 * fsync'ed) before the call returns, so the message may then be moved.
 * Writing the same message again replaces the file.
 */
#ifndef DMARCSIFT_QUARANTINE_H
#define DMARCSIFT_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Saves len bytes at data as the message `stem` (file-name characters
 * only, from the driver), in statedir/quarantine (statedir: the store's,
 * store_state_dir()); the file's path goes to path (len plen). */
int quarantine_save(const char *statedir, const char *stem, const void *data,
    size_t len, char *path, size_t plen, struct err *e);

#endif
