/*
 * imap-batch.h - the messages of one batch of the IMAP driver: their
 * sizes, then their bodies, several per UID FETCH, handed out one by one.
 *
 * Owns the memory bounds of fetching: one UID FETCH (UID RFC822.SIZE) for
 * the whole batch; bodies in chunks of FETCH_BUDGET bytes at most (a
 * single message may be larger, up to --max-input); a message larger than
 * --max-input is never downloaded; a server that sends more than it
 * announced is cut off while it sends (libetpan would otherwise allocate
 * whatever size the server names), the connection is then lost, and the
 * batch finds the culprit by fetching one message at a time.
 */
#ifndef DMARCSIFT_IMAP_BATCH_H
#define DMARCSIFT_IMAP_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "imap-conn.h"
#include "log.h"

struct imap_msg {
	uint32_t uid;
	uint32_t size; /* RFC822.SIZE */
	int listed;    /* the size FETCH returned it */
	int got;       /* its body arrived */
	int oversent;  /* alone in a FETCH, it passed its announced size */
	int done;      /* handed out, or skipped */
	struct buf body;
};

struct imap_batch {
	struct imap_conn *conn; /* the driver's; reopened after an overflow */
	const struct logger *lg;
	const char *url; /* for messages */
	uint64_t max_input;
	struct imap_msg *msgs; /* sorted by UID */
	size_t nmsgs, cursor;
	struct buf pending; /* body of the FETCH item being received */
	uint64_t item_max;  /* bytes one body of this FETCH may have */
	int overflow;       /* a body was larger than announced */
	char overflow_why[300];
	int one_by_one; /* a FETCH overflowed: find which message */
};

/* Takes the UIDs uids[0..n) (sorted) and asks for their sizes. */
int imap_batch_load(struct imap_batch *b, const uint32_t *uids, size_t n,
                    int *ex, struct err *e);

#define IMAP_BATCH_RECONNECT 2

/* The next message to hand out (*m; NULL when the batch is done): its
 * body has arrived, or it cannot be (larger than max_input, m->got 0;
 * cut off by the server, m->oversent).  Returns 0, -1 with *ex, or
 * IMAP_BATCH_RECONNECT when a FETCH was cut off and the session must be
 * opened again before the next call (e says why). */
int imap_batch_next(struct imap_batch *b, struct imap_msg **m, int *ex,
                    struct err *e);

void imap_batch_free(struct imap_batch *b);

#endif
