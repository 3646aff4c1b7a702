/*
 * imap-watch.h - the watcher of an [imap] mailbox for watch mode (watch.h):
 * a read-only session that waits with IDLE, or NOOP when the server has
 * no IDLE.  It is source_kind_imap's watch_open (source-imap.c).
 */
#ifndef DMARCSIFT_IMAP_WATCH_H
#define DMARCSIFT_IMAP_WATCH_H

#include "err.h"
#include "log.h"
#include "watch.h"

/* Logs in to the server of cfg (a struct imap_config) and EXAMINEs its
 * folder.  On failure *ex is the exit status (imap-conn.h). */
int imap_watch_open(const void *cfg, const struct logger *lg,
                    const struct watch_timing *t, struct watcher **out, int *ex,
                    struct err *e);

#endif
