/*
 * runlock.h - the lock that lets one writer at a time work on a database:
 * an exclusive flock() on "<database>.lock", the file dmarc-ingest locks
 * for its runs.  `dmarc-report prune` takes it too, so that it never
 * deletes under an import (and the other way round).
 */
#ifndef DMARCSIFT_RUNLOCK_H
#define DMARCSIFT_RUNLOCK_H

#include "err.h"

/* Takes the lock without waiting.  Returns 0 with *fd to close() to
 * release it, or -1 with e filled and *busy 1 when another process holds
 * it (0 for any other failure). */
int runlock_take(const char *db, int *fd, int *busy, struct err *e);

#endif
