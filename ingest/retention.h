/*
 * retention.h - [store] keep: what dmarc-ingest runs after an import so
 * that a cron job keeps the database at a fixed age (store_prune()).
 *
 * The cutoff is whole UTC days, the same as `dmarc-report prune
 * --older-than Nd`: a report goes when its period began before midnight
 * UTC N days ago.  Quiet unless -v; a failure is an error of the run.
 */
#ifndef DMARCSIFT_RETENTION_H
#define DMARCSIFT_RETENTION_H

#include "err.h"
#include "log.h"
#include "store.h"

/* Epoch seconds of midnight UTC `days` days before now. */
int64_t retention_cutoff(unsigned days);

int retention_run(struct store *st, unsigned days, const struct logger *lg,
                  struct err *e);

#endif
