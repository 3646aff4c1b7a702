/*
 * imap-dispose.h - what becomes of messages on the server once their
 * reports are committed: moved to a folder, or only marked \Seen.
 *
 * Owns the choice of commands, made from the server's capabilities:
 *   MOVE:                 UID MOVE (atomic);
 *   UIDPLUS without MOVE: UID COPY, UID STORE +FLAGS (\Deleted), and
 *                         UID EXPUNGE of exactly those UIDs;
 *   neither:              UID COPY and UID STORE +FLAGS (\Seen).  Never a
 *                         plain EXPUNGE: it would also remove whatever
 *                         someone else marked \Deleted in the folder.
 *   no folder:            UID STORE +FLAGS (\Seen).
 * and the creation (and subscription) of a missing destination folder,
 * checked once per run.
 *
 * Promises: nothing is deleted that was not copied first; every call is
 * one of the commands above for the whole set of UIDs, not one per
 * message.
 */
#ifndef DMARCSIFT_IMAP_DISPOSE_H
#define DMARCSIFT_IMAP_DISPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "imap-conn.h"

#define DISPOSE_FOLDERS 4

struct imap_dispose {
	struct imap_conn *c;
	char *ready[DISPOSE_FOLDERS]; /* folders known to exist */
	size_t nready;
	/* archived messages still to mark \Seen: their UIDs in seen_box */
	struct mailimap_set *seen;
	char *seen_box;
	uint32_t seen_validity;
};

void imap_dispose_init(struct imap_dispose *d, struct imap_conn *c);
void imap_dispose_free(struct imap_dispose *d);

/* Moves the messages `uids` (n of them, in the selected folder) to
 * `mailbox` (a server name), or marks them \Seen when mailbox is NULL.
 * When `seen`, the new UIDs (COPYUID, from UIDPLUS servers) are kept for
 * imap_dispose_mark_seen(): marking before the move would leave a message
 * read in the folder, never fetched again, if the move then failed.
 * `shown` is the folder as the configuration names it, for messages.
 * On failure *ex is the exit status. */
int imap_dispose(struct imap_dispose *d, const uint32_t *uids, size_t n,
    const char *mailbox, const char *shown, int seen, int *ex,
    struct err *e);

/* Marks the messages moved with `seen` as \Seen in their new folder
 * (SELECTs it: call it last). */
int imap_dispose_mark_seen(struct imap_dispose *d, const char *shown,
    int *ex, struct err *e);

/* A UID set for libetpan from sorted UIDs, runs joined (1:5,9). */
struct mailimap_set *imap_uid_set(const uint32_t *uids, size_t n);

#endif
