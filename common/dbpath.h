/*
 * dbpath.h - where the database is, for both commands: --db, else
 * $DMARCSIFT_DB, else ${XDG_DATA_HOME:-~/.local/share}/dmarcsift/dmarc.db.
 */
#ifndef DMARCSIFT_DBPATH_H
#define DMARCSIFT_DBPATH_H

#include <stddef.h>

#include "err.h"

/* Fills out with the database path (or URL: option and $DMARCSIFT_DB are
 * taken as given).  An empty option is an error.  With create_dir, the directory of
 * the default location is created (mode 0700) when missing. */
int db_path_resolve(const char *option, int create_dir, char *out,
    size_t len, struct err *e);

/* The default data directory, ${XDG_DATA_HOME:-~/.local/share}/dmarcsift
 * (created, mode 0700, with create_dir). */
int db_default_dir(int create_dir, char *out, size_t len, struct err *e);

#endif
