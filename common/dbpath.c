/*
 * dbpath.c - see dbpath.h.
 */
#include "dbpath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int
mkdir_p(char *path, struct err *e)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			err_errno(e, "cannot create %s", path);
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return err_errno(e, "cannot create %s", path);
	return 0;
}

int
db_default_dir(int create_dir, char *out, size_t len, struct err *e)
{
	const char *env, *home;
	int n;

	if ((env = getenv("XDG_DATA_HOME")) != NULL && env[0] == '/') {
		n = snprintf(out, len, "%s/dmarcsift", env);
	} else {
		if ((home = getenv("HOME")) == NULL || home[0] == '\0')
			return err_set(e, "cannot find the database: give "
					  "--db, or set DMARCSIFT_DB or HOME");
		n = snprintf(out, len, "%s/.local/share/dmarcsift", home);
	}
	if (n < 0 || (size_t)n >= len)
		return err_set(e, "database directory path too long");
	if (create_dir && mkdir_p(out, e) == -1)
		return -1;
	return 0;
}

int
db_path_resolve(const char *option, int create_dir, char *out, size_t len,
    struct err *e)
{
	const char *env;
	char dir[4096];

	/* An empty --db would otherwise fall through to the default: a
	 * script whose variable is unset must not write somewhere else. */
	if (option != NULL && option[0] == '\0')
		return err_set(e, "the database location is empty (--db \"\" "
				  "or db = in [store]): give a path or a URL");
	if (option != NULL) {
		if ((size_t)snprintf(out, len, "%s", option) >= len)
			return err_set(e, "database path too long");
		return 0;
	}
	if ((env = getenv("DMARCSIFT_DB")) != NULL && env[0] != '\0') {
		if ((size_t)snprintf(out, len, "%s", env) >= len)
			return err_set(e, "DMARCSIFT_DB is too long");
		return 0;
	}
	if (db_default_dir(create_dir, dir, sizeof(dir), e) == -1)
		return -1;
	if ((size_t)snprintf(out, len, "%s/dmarc.db", dir) >= len)
		return err_set(e, "database path too long");
	return 0;
}
