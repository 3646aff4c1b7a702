/*
 * runlock.c - see runlock.h.
 */
#include "runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

int
runlock_take(const char *db, int *fd, int *busy, struct err *e)
{
	char path[PATH_MAX];

	*busy = 0;
	*fd = -1;
	if ((size_t)snprintf(path, sizeof(path), "%s.lock", db) >= sizeof(path))
		return err_set(e, "database path too long");
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return err_errno(e, "cannot create the lock file %s", path);
	if (flock(*fd, LOCK_EX | LOCK_NB) == -1) {
		*busy = errno == EWOULDBLOCK;
		if (*busy)
			err_set(e,
			        "dmarc-ingest is running on %s (lock %s "
			        "held); try again later",
			        db, path);
		else
			err_errno(e, "cannot lock %s", path);
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}
