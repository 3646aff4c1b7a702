/*
 * watch.h - dmarc-ingest --watch: one mailbox drained whenever new mail
 * arrives, until SIGTERM or SIGINT.
 *
 * Owns the loop and its timing: connect a watcher (a second session that
 * only waits: IMAP IDLE, or NOOP at an interval when the server lacks
 * IDLE), drain the mailbox in full, then wait and drain again on every
 * new message.  The watcher is connected before the drain, so that mail
 * arriving during a drain is seen.  Any lost connection (the watcher's or
 * the drain's) is logged in one line and followed by a back-off (1 s,
 * doubling, capped at 5 min), a new watcher and a full drain.
 *
 * The drain is the caller's: the very function a normal run uses for the
 * mailbox (main.c), so watch mode commits, archives and quarantines
 * exactly as a cron run does.
 *
 * Signals: SIGTERM and SIGINT are blocked and read through a signalfd,
 * which every wait polls (no handler, no global state).  A signal during
 * a drain stops it after the batch in progress is committed and disposed
 * of (source_run.stop_fd); then watch_run() returns 0.
 */
#ifndef DMARCSIFT_WATCH_H
#define DMARCSIFT_WATCH_H

#include "err.h"
#include "log.h"

struct config;

/* The intervals, in milliseconds. */
struct watch_timing {
	unsigned idle_ms;        /* IDLE is renewed after this (RFC 2177:
	                            before the server's 29 minutes) */
	unsigned poll_ms;        /* NOOP interval without IDLE */
	unsigned backoff_ms;     /* first wait after a lost connection */
	unsigned backoff_max_ms; /* the longest */
};

/* The defaults: IDLE renewed every 25 min, NOOP every 60 s, back-off from
 * 1 s to 5 min.  For the test suite only, DMARCSIFT_WATCH_TICK_MS makes
 * the second (the unit of all four) that many milliseconds.  -1 with e
 * when it is not a number from 1 to 1000. */
int watch_timing_init(struct watch_timing *t, struct err *e);

/* A session that waits for new mail in one mailbox (imap-watch.c). */
struct watcher;

struct watcher_ops {
	/* Waits: 1 when new mail arrived, 0 when stop_fd became readable,
	 * -1 when the session failed (*ex: 75 lost, 69 unreachable...). */
	int (*wait)(struct watcher *w, int stop_fd, int *ex, struct err *e);
	/* Logs out (if the session is healthy) and frees w. */
	void (*close)(struct watcher *w);
};

struct watcher {
	const struct watcher_ops *ops;
};

/* Drains the mailbox the way a normal run does; returns its exit status.
 * stop_fd: stop after the batch in progress when it becomes readable. */
typedef int (*watch_drain_fn)(void *ctx, int stop_fd);

/* Watches the mailbox of cfg that --mailbox picked (cfg->pick), or its
 * only one (several and no pick: 64, asking for --mailbox NAME), until
 * SIGTERM or SIGINT (returns 0), or until a drain or the watcher fails in
 * a way waiting does not cure (returns that exit status: 73/74 store, 77
 * login or certificate refused, 78 configuration). */
int watch_run(const struct config *cfg, watch_drain_fn drain, void *ctx,
              const struct logger *lg);

#endif
