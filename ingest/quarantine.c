/*
 * quarantine.c - see quarantine.h.
 */
#include "quarantine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"

int
quarantine_save(const char *statedir, const char *stem, const void *data,
    size_t len, char *path, size_t plen, struct err *e)
{
	char dir[PATH_MAX], tmp[PATH_MAX], day[16];
	time_t now = time(NULL);
	struct stat sb;
	struct tm tm;
	int fd, n;

	n = snprintf(dir, sizeof(dir), "%s/quarantine", statedir);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return err_set(e, "quarantine directory path too long");
	if (mkdir(dir, 0700) == -1) {
		if (errno != EEXIST)
			return err_errno(e, "cannot create %s", dir);
		if (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode))
			return err_set(e, "%s exists but is not a directory",
			    dir);
	}
	if (gmtime_r(&now, &tm) == NULL)
		return err_set(e, "cannot read the clock");
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	n = snprintf(path, plen, "%s/%s-%s.eml", dir, day, stem);
	if (n < 0 || (size_t)n >= plen ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.tmp-%ld-%s", dir,
		(long)getpid(), stem) >= sizeof(tmp))
		return err_set(e, "quarantine file path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1)
		return err_errno(e, "cannot create %s", tmp);
	if (fd_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		err_errno(e, "cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) == -1) {
		err_errno(e, "cannot write %s", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		err_errno(e, "cannot rename %s to %s", tmp, path);
		unlink(tmp);
		return -1;
	}
	if (dir_sync(dir) == -1)
		return err_errno(e, "cannot sync %s", dir);
	return 0;
}
