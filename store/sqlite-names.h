/*
 * sqlite-names.h - the SQLite backend's operations on the names of source
 * addresses (store-sqlite-names.c), for the table in store-sqlite-ops.c.
 * Private to store/.
 */
#ifndef DMARCSIFT_SQLITE_NAMES_H
#define DMARCSIFT_SQLITE_NAMES_H

#include "store.h"

int sq_names_due(void *impl, int64_t now, size_t limit,
                 int (*cb)(void *arg, const char *ip, struct err *e), void *arg,
                 struct err *e);
int sq_names_put(void *impl, const struct store_name *names, size_t n,
                 struct err *e);
int sq_each_name(void *impl,
                 int (*cb)(void *arg, const struct store_name *n,
                           struct err *e),
                 void *arg, struct err *e);

#endif
