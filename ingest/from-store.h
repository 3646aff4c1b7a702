/*
 * from-store.h - dmarc-ingest --from-store STORE: every raw payload kept
 * in another store parsed again and imported, as if it had just arrived.
 * It moves a SQLite store's history into PostgreSQL, or upgrades any
 * store by re-parsing (a SQLite file into a new one).
 */
#ifndef DMARCSIFT_FROM_STORE_H
#define DMARCSIFT_FROM_STORE_H

#include "fetch.h"

/* Opens `location` read-only and hands each kept payload, in the order
 * stored, to the importer of fc.  Returns 0, or -1 when the run must stop
 * (either store failed), with e filled; a payload that does not parse is
 * rejected and logged like any input. */
int from_store_import(struct fetch_ctx *fc, const char *location,
    struct err *e);

#endif
