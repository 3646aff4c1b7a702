/*
 * store-sqlite-location.c - a SQLite store as a location: a path to a
 * file.  What exists there, the lock file beside it, where quarantine
 * goes, and how a reader who may not write the file's folder opens it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "sqlite-impl.h"

/* Anything that is not a URL or a libpq "key=value" string: those belong
 * to a server backend, and taking one for a file name would create a file
 * called "postgresql:". */
int
sq_claims(const char *location)
{
	const char *p = location;

	if (strncmp(location, "service=", 8) == 0 ||
	    strncmp(location, "dbname=", 7) == 0 ||
	    strncmp(location, "host=", 5) == 0)
		return 0;
	if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' ||
		    *p == '.')
			p++;
		if (strncmp(p, "://", 3) == 0)
			return 0;
	}
	return 1;
}

/* A directory is the commonest wrong --db: SQLite would only say "disk
 * I/O error" or "unable to open database file". */
static int
not_a_directory(const char *path, const struct stat *sb, struct err *e)
{
	if (S_ISDIR(sb->st_mode))
		return err_set(e, "%s is a directory: the database is a file "
				  "(give --db %s%sdmarc.db, for instance)",
		    path, path,
		    path[0] != '\0' && path[strlen(path) - 1] == '/' ? ""
								      : "/");
	return 0;
}

int
sq_exists(const char *location, int *exists, struct err *e)
{
	struct stat sb;

	*exists = 0;
	if (stat(location, &sb) == -1) {
		if (errno == ENOENT)
			return 0;
		return err_errno(e, "cannot open the database %s", location);
	}
	if (not_a_directory(location, &sb, e) == -1)
		return -1;
	*exists = 1;
	return 0;
}

/* One run per database at a time: a second cron run that starts while the
 * first still drains a backlog exits at once instead of racing it.  The
 * lock is <db>.lock, so that it outlives no process (flock) and needs no
 * write access to the database to test.  A mailbox's scope (a URL,
 * imap://...) has a lock file of its own, <db>.lock-<hash>, so two runs on
 * two mailboxes work at once (SQLite then takes turns per transaction,
 * busy_timeout); every other scope (a host's path imports, prune) and the
 * whole store share <db>.lock. */
int
sq_lock(const char *location, const char *scope, void **lock, struct err *e)
{
	char path[4096];
	int fd, *held, n;

	if (scope == NULL || strstr(scope, "://") == NULL)
		n = snprintf(path, sizeof(path), "%s.lock", location);
	else
		n = snprintf(path, sizeof(path), "%s.lock-%016llx", location,
		    (unsigned long long)fnv1a_str(FNV1A_BASIS, scope, NULL));
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(e, "database path too long");
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return err_errno(e, "cannot create the lock file %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			close(fd);
			err_set(e, "another dmarc-ingest is running on %s "
				   "(lock %s held); try again later",
			    location, path);
			return 1;
		}
		err_errno(e, "cannot lock %s", path);
		close(fd);
		return -1;
	}
	if ((held = malloc(sizeof(*held))) == NULL) {
		close(fd);
		return err_set(e, "out of memory");
	}
	*held = fd;
	*lock = held;
	return 0;
}

void
sq_unlock(void *lock)
{
	int *held = lock;

	if (held == NULL)
		return;
	close(*held);
	free(held);
}

/* The folder the file is in ("." for a bare name). */
static int
folder_of(const char *path, char *out, size_t len, struct err *e)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL)
		n = snprintf(out, len, ".");
	else if (slash == path)
		n = snprintf(out, len, "/");
	else
		n = snprintf(out, len, "%.*s", (int)(slash - path), path);
	if (n < 0 || (size_t)n >= len)
		return err_set(e, "database path too long");
	return 0;
}

int
sq_state_dir(const char *location, char *out, size_t len, struct err *e)
{
	return folder_of(location, out, len, e);
}

/* A "file:" URI for path with the given query (RFC 3986: all but the
 * unreserved characters and '/' percent-encoded). */
static int
file_uri(const char *path, const char *query, char *out, size_t len,
    struct err *e)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	const unsigned char *p;

	n = (size_t)snprintf(out, len, "file:");
	for (p = (const unsigned char *)path; *p != '\0' && n + 4 < len; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/-._~", *p) != NULL) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	if (*p != '\0' || n + strlen(query) + 2 > len)
		return err_set(e, "database path too long");
	snprintf(out + n, len - n, "?%s", query);
	return 0;
}

/*
 * How a reader opens the file.  SQLite reads a WAL database through the
 * <db>-shm file beside it, which it creates (and so needs to write the
 * folder) even for reading.  When the folder cannot be written:
 *  - and no write-ahead log holds changes (the usual case: the last
 *    writer checkpointed and removed it when it closed), the file alone
 *    is the whole database, and it is opened as immutable: no -shm, no
 *    locks.  *note says so.
 *  - and a log holds changes (an import is running, or died), the file
 *    alone is not the database; it is opened as usual, which works when
 *    the -shm file is there and readable, and otherwise fails with a
 *    message that says why.
 * *uri is "" for an ordinary open of the path.
 */
int
sq_reader_uri(const char *path, char *uri, size_t len, char *note,
    size_t nlen, int *wal_pending, struct err *e)
{
	char dir[4096], wal[4096];
	struct stat sb;

	uri[0] = note[0] = '\0';
	*wal_pending = 0;
	if (stat(path, &sb) == -1)
		return err_errno(e, "cannot open the database %s", path);
	if (not_a_directory(path, &sb, e) == -1)
		return -1;
	if (access(path, R_OK) == -1)
		return err_errno(e, "cannot read the database %s", path);
	if (folder_of(path, dir, sizeof(dir), e) == -1)
		return -1;
	if (access(dir, W_OK) == 0)
		return 0;
	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal))
		return err_set(e, "database path too long");
	if (stat(wal, &sb) == 0 && sb.st_size > 0) {
		*wal_pending = 1;
		return 0;
	}
	snprintf(note, nlen, "cannot write the folder %s (SQLite's -shm file "
			     "goes there): opened %s read-only as an immutable "
			     "snapshot",
	    dir, path);
	return file_uri(path, "mode=ro&immutable=1", uri, len, e);
}
