/*
 * source-mbox.c - a local mbox that keeps up: the driver of source.h for
 * an mbox PATH read with --mbox-handled move ([mbox] handled = move).  The
 * generic policy commits the reports, then this driver disposes of the
 * messages: a handled one is appended to the sibling mbox <mbox>.Processed,
 * one that cannot be used to <mbox>.Failed (it is never marked handled and
 * nothing goes to quarantine/: the file keeps it), and both are removed
 * from the mbox.  What was neither (the run stopped) stays.
 *
 * Locks: the ones the MDAs take (postfix local, procmail, dovecot-lda), for
 * the whole run: a dotlock <mbox>.lock made with O_EXCL (one older than
 * STALE_SECS, the age liblockfile breaks at, is removed; ours is touched as
 * we go so that it never looks stale), then an fcntl write lock on the
 * mbox.  Each is waited for at most LOCK_WAIT_SECS, then the run stops with
 * an error that names it.  Nobody appends while we hold them, but what lies
 * past the point we read is copied anyway (a writer that locks nothing).
 *
 * Order, so that a crash at any point loses nothing: the reports are
 * committed (source.c), the messages are appended to .Processed/.Failed
 * and fsync'ed, and only then is the mbox rewritten: the kept messages and
 * anything past the point we read are written to <mbox>.dmarcsift-tmp in
 * the same directory (the mbox's mode and owner), fsync'ed, and renamed
 * over the mbox; rename() is atomic, so a crash leaves the old mbox or the
 * new one, never half of one (truncating in place could not promise that).
 * MDAs open the mbox after taking the dotlock, so none writes to the
 * replaced file.
 *
 * A crash between the append and the rename leaves a message in both
 * places.  The next run imports it again: no report of it is new (the
 * store's duplicate outcome: the live count of stored reports does not
 * move), so before appending it the driver looks for its exact bytes,
 * From_ line included, in the destination; found, it is only removed from
 * the mbox.  A failed message is always looked for in .Failed.
 *
 * Format: messages are copied byte for byte, From_ line and ">From "
 * quoting as they are in the file; what is imported is what fetch-mbox.c
 * reads (mboxrd: one '>' taken off ">...From " lines).  A blank line is
 * added between messages only where the file lacks one, or the next From_
 * line would not start a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "fileio.h"
#include "source.h"

#define MBOX_BATCH     50  /* messages committed at a time */
#define STALE_SECS     600 /* a dotlock older than this is broken */
#define LOCK_WAIT_SECS 20  /* how long a lock is waited for */
#define TOUCH_SECS     60  /* how often our dotlock is refreshed */

enum state { PENDING, HANDLED, FAILED };

struct mmsg {
	off_t start, end; /* its bytes in the mbox, From_ line included */
	enum state state;
	int maybe_there; /* no new report: maybe already in .Processed */
	int moved;       /* appended to its place: leaves the mbox */
};

struct mbox_source {
	struct source base;
	struct fetch_ctx *fc;
	char path[1024], lock[1100], processed[1100], failed[1100];
	int fd;      /* the mbox, fcntl-locked; -1 */
	int dotlock; /* we made lock */
	time_t touched;
	off_t read_end; /* the mbox's size when read */
	struct mmsg *msgs;
	size_t n, next, settled;
	unsigned long
	    stored; /* live count of stored reports at the last settle */
	unsigned char *raw; /* the message handed out */
	struct buf body;
	char name[1200], why[128];
	int dirty; /* messages were moved: the mbox must be rewritten */
};

/* --- locks -------------------------------------------------------------- */

/* Takes the dotlock, breaking a stale one; waits LOCK_WAIT_SECS at most. */
static int
take_dotlock(struct mbox_source *r, struct err *e)
{
	time_t until = time(NULL) + LOCK_WAIT_SECS;
	struct stat sb;
	char pid[32];
	int fd;

	for (;;) {
		fd = open(r->lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		          0644);
		if (fd != -1)
			break;
		if (errno != EEXIST)
			return err_errno(e, "cannot create the lock %s",
			                 r->lock);
		if (stat(r->lock, &sb) == 0 &&
		    time(NULL) - sb.st_mtime > STALE_SECS) {
			log_warn(r->fc->lg,
			         "%s: removing a stale lock (older "
			         "than %d seconds)",
			         r->lock, STALE_SECS);
			unlink(r->lock);
			continue;
		}
		if (time(NULL) >= until)
			return err_set(e,
			               "%s is locked by another program "
			               "(the lock %s is held); tried for %d "
			               "seconds",
			               r->path, r->lock, LOCK_WAIT_SECS);
		sleep(1);
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (write(fd, pid, strlen(pid)) < 0)
		log_warn(r->fc->lg, "%s: cannot write the pid", r->lock);
	close(fd);
	r->dotlock = 1;
	r->touched = time(NULL);
	return 0;
}

/* An fcntl write lock on fd (the whole file), waited for as the dotlock. */
static int
lock_fd(int fd, const char *what, struct err *e)
{
	time_t until = time(NULL) + LOCK_WAIT_SECS;
	struct flock fl;

	for (;;) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 0;
		if (errno != EACCES && errno != EAGAIN)
			return err_errno(e, "cannot lock %s (fcntl)", what);
		if (time(NULL) >= until)
			return err_set(e,
			               "%s is locked by another program "
			               "(an fcntl lock); tried for %d seconds",
			               what, LOCK_WAIT_SECS);
		sleep(1);
	}
}

/* Keeps our dotlock younger than STALE_SECS during a long run. */
static void
touch_dotlock(struct mbox_source *r)
{
	time_t now = time(NULL);

	if (r->dotlock && now - r->touched >= TOUCH_SECS) {
		utimensat(AT_FDCWD, r->lock, NULL, 0);
		r->touched = now;
	}
}

/* --- reading ------------------------------------------------------------ */

static int
add_msg(struct mbox_source *r, off_t start, struct err *e)
{
	struct mmsg *m;

	if (r->n > 0)
		r->msgs[r->n - 1].end = start;
	if ((m = realloc(r->msgs, (r->n + 1) * sizeof(*m))) == NULL)
		return err_set(e, "out of memory");
	r->msgs = m;
	memset(&m[r->n], 0, sizeof(*m));
	m[r->n++].start = start;
	return 0;
}

/* Where each message starts: a "From " line at the start of the file or
 * after a blank line, as fetch-mbox.c splits.  Read with pread() on our
 * descriptor: closing any other descriptor of the mbox (a FILE on a dup
 * included) would drop our fcntl lock, which belongs to the process. */
static int
scan(struct mbox_source *r, struct err *e)
{
	unsigned char chunk[65536];
	off_t off = 0, line = 0;
	int col = 0, prev_blank = 1, blank = 1;
	char head[5];
	ssize_t got, i;
	int c;

	while ((got = pread(r->fd, chunk, sizeof(chunk), off)) > 0) {
		for (i = 0; i < got; i++) {
			c = chunk[i];
			if (col < 5)
				head[col] = (char)c;
			if (col == 4 && prev_blank &&
			    memcmp(head, "From ", 5) == 0 &&
			    add_msg(r, line, e) == -1)
				return -1;
			blank = blank && (c == '\n' || (c == '\r' && col == 0));
			col++;
			off++;
			if (c == '\n') {
				prev_blank = blank && col <= 2;
				blank = 1;
				col = 0;
				line = off;
			}
		}
	}
	if (got < 0)
		return err_errno(e, "cannot read %s", r->path);
	r->read_end = off;
	if (r->n > 0)
		r->msgs[r->n - 1].end = off;
	return 0;
}

/* The message's contents as fetch-mbox.c imports them: without its From_
 * line, one '>' off ">...From " lines. */
static int
unquote(struct mbox_source *r, size_t len, struct err *e)
{
	const char *p = (const char *)r->raw, *end = p + len, *nl;
	size_t k, n, q;

	buf_reset(&r->body);
	nl = memchr(p, '\n', len);
	p = nl ? nl + 1 : end;
	for (; p < end; p += n) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		for (k = 0; k < n && p[k] == '>'; k++)
			;
		q = k > 0 && n >= k + 5 && memcmp(p + k, "From ", 5) == 0;
		if (buf_append(&r->body, p + q, n - q, e) == -1)
			return -1;
	}
	return 0;
}

/* Reads len bytes at off of fd into *out (allocated). */
static int
read_at(int fd, off_t off, size_t len, unsigned char **out, struct err *e)
{
	size_t got = 0;
	ssize_t n;

	if ((*out = malloc(len ? len : 1)) == NULL)
		return err_set(e, "out of memory");
	while (got < len) {
		n = pread(fd, *out + got, len - got, off + (off_t)got);
		if (n <= 0) {
			free(*out);
			*out = NULL;
			return n == 0 ? err_set(e, "the mbox got shorter")
			              : err_errno(e, "cannot read the mbox");
		}
		got += (size_t)n;
	}
	return 0;
}

/* --- writing ------------------------------------------------------------ */

/* fd_write_all(), with e filled on failure. */
static int
write_all(int fd, const void *p, size_t len, const char *what, struct err *e)
{
	if (fd_write_all(fd, p, len) == -1)
		return err_errno(e, "cannot write %s", what);
	return 0;
}

/* The blank line a From_ line needs before it, when the file (size bytes,
 * ending with `last2`) lacks it. */
static int
separate(int fd, off_t size, const char last2[2], const char *what,
         struct err *e)
{
	if (size == 0 || (size >= 2 && last2[0] == '\n' && last2[1] == '\n'))
		return 0;
	if (last2[1] != '\n')
		return write_all(fd, "\n\n", 2, what, e);
	return write_all(fd, "\n", 1, what, e);
}

/* Whether the file at fd (size bytes) holds the bytes p[0..len). */
static int
holds(int fd, off_t size, const void *p, size_t len)
{
	void *m;
	int yes;

	if (size <= 0 || (size_t)size < len)
		return 0;
	if ((m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0)) ==
	    MAP_FAILED)
		return 0;
	yes = memmem(m, (size_t)size, p, len) != NULL;
	munmap(m, (size_t)size);
	return yes;
}

/* Appends message mm to the mbox at dest (created 0600), unless a crash
 * left it there already (see the top); fsyncs. */
static int
append_msg(struct mbox_source *r, const struct mmsg *mm, const char *dest,
           struct err *e)
{
	unsigned char *raw = NULL;
	size_t len = (size_t)(mm->end - mm->start);
	char last2[2] = {0, 0};
	struct stat sb;
	int fd, rc = -1;

	if ((fd = open(dest, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) ==
	    -1)
		return err_errno(e, "cannot open %s", dest);
	if (lock_fd(fd, dest, e) == -1 || fstat(fd, &sb) == -1 ||
	    read_at(r->fd, mm->start, len, &raw, e) == -1)
		goto out;
	if ((mm->state == FAILED || mm->maybe_there) &&
	    holds(fd, sb.st_size, raw, len)) {
		log_info(r->fc->lg, "%s: a message already in %s", r->path,
		         dest);
		rc = 0;
		goto out;
	}
	if (sb.st_size >= 2 && pread(fd, last2, 2, sb.st_size - 2) != 2) {
		err_errno(e, "cannot read %s", dest);
		goto out;
	}
	if (sb.st_size == 1)
		last2[1] = '\0';
	if (separate(fd, sb.st_size, last2, dest, e) == -1 ||
	    write_all(fd, raw, len, dest, e) == -1)
		goto out;
	if (fsync(fd) == -1) {
		err_errno(e, "cannot write %s (fsync)", dest);
		goto out;
	}
	rc = 0;
out:
	free(raw);
	close(fd);
	return rc;
}

/* Copies [from, to) of the mbox to fd after `last2` (see separate()). */
static int
copy_range(struct mbox_source *r, int fd, off_t *size, char last2[2],
           off_t from, off_t to, const char *what, struct err *e)
{
	unsigned char *raw = NULL;
	size_t len = (size_t)(to - from);

	if (len == 0)
		return 0;
	if (read_at(r->fd, from, len, &raw, e) == -1)
		return -1;
	if (separate(fd, *size, last2, what, e) == -1 ||
	    write_all(fd, raw, len, what, e) == -1) {
		free(raw);
		return -1;
	}
	*size += (off_t)len;
	last2[0] = len >= 2 ? (char)raw[len - 2] : last2[1];
	last2[1] = (char)raw[len - 1];
	free(raw);
	return 0;
}

/* Writes what stays to tmp: kept messages, then what lies past the point
 * we read. */
static int
write_kept(struct mbox_source *r, int fd, const char *tmp, struct err *e)
{
	char last2[2] = {0, 0};
	off_t size = 0;
	struct stat sb;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!r->msgs[i].moved &&
		    copy_range(r, fd, &size, last2, r->msgs[i].start,
		               r->msgs[i].end, tmp, e) == -1)
			return -1;
	if (fstat(r->fd, &sb) == -1)
		return err_errno(e, "cannot stat %s", r->path);
	if (sb.st_size > r->read_end &&
	    copy_range(r, fd, &size, last2, r->read_end, sb.st_size, tmp, e) ==
	        -1)
		return -1;
	if (fsync(fd) == -1)
		return err_errno(e, "cannot write %s (fsync)", tmp);
	return 0;
}

/* Replaces the mbox with what stays (see the top: why rename). */
static int
rewrite(struct mbox_source *r, struct err *e)
{
	char tmp[1200], dir[1024], *slash;
	struct stat sb;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.dmarcsift-tmp", r->path);
	if (fstat(r->fd, &sb) == -1)
		return err_errno(e, "cannot stat %s", r->path);
	unlink(tmp); /* a crash's leftover: we hold the lock */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	               sb.st_mode & 07777)) == -1)
		return err_errno(e, "cannot create %s", tmp);
	if (fchmod(fd, sb.st_mode & 07777) == -1 ||
	    (fchown(fd, sb.st_uid, sb.st_gid) == -1 &&
	     (sb.st_uid != geteuid() || errno != EPERM))) {
		err_errno(e, "cannot give %s the mode and owner of %s", tmp,
		          r->path);
		goto fail;
	}
	if (write_kept(r, fd, tmp, e) == -1)
		goto fail;
	close(fd);
	if (rename(tmp, r->path) == -1) {
		err_errno(e, "cannot rename %s to %s", tmp, r->path);
		unlink(tmp);
		return -1;
	}
	/* the folder of the mbox, made durable too (the rename is in it) */
	snprintf(dir, sizeof(dir), "%s", r->path);
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[1] = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (dir_sync(dir) == -1)
		log_warn(r->fc->lg, "%s: cannot sync the folder: %s", dir,
		    strerror(errno));
	r->dirty = 0;
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return -1;
}

/* --- the driver --------------------------------------------------------- */

static int
mbox_connect(struct source *s, int *ex, struct err *e)
{
	struct mbox_source *r = (struct mbox_source *)s;

	*ex = EX_TEMPFAIL;
	if (take_dotlock(r, e) == -1)
		return -1;
	if ((r->fd = open(r->path, O_RDWR | O_CLOEXEC)) == -1) {
		*ex = EX_NOINPUT;
		return err_errno(e, "cannot open the mbox %s", r->path);
	}
	if (lock_fd(r->fd, r->path, e) == -1)
		return -1;
	*ex = EX_IOERR;
	if (scan(r, e) == -1)
		return -1;
	r->base.stats.total = r->n;
	return 0;
}

static int
mbox_next(struct source *s, struct source_msg *m, int *ex, struct err *e)
{
	struct mbox_source *r = (struct mbox_source *)s;
	struct mmsg *mm;
	size_t len;

	touch_dotlock(r);
	free(r->raw);
	r->raw = NULL;
	if (r->next >= r->n)
		return SOURCE_END;
	if (r->next - r->settled >= MBOX_BATCH)
		return SOURCE_BATCH;
	mm = &r->msgs[r->next];
	len = (size_t)(mm->end - mm->start);
	snprintf(r->name, sizeof(r->name), "%s: message %zu", r->path,
	         r->next + 1);
	m->name = r->name;
	m->token = mm;
	r->next++;
	/* quoting adds at most one byte to a line: beyond twice the limit
	 * (and its From_ line) the contents cannot fit */
	*ex = EX_IOERR;
	if (len <= 2 * (size_t)r->fc->lim->max_input + 4096 &&
	    read_at(r->fd, mm->start, len, &r->raw, e) == -1)
		return -1;
	if (r->raw == NULL || unquote(r, len, e) == -1) {
		snprintf(r->why, sizeof(r->why),
		         "message larger than %llu bytes (--max-input)",
		         (unsigned long long)r->fc->lim->max_input);
		m->why = r->why;
		return SOURCE_MSG;
	}
	m->origin.kind = ORIGIN_MEM;
	m->origin.mem = (const unsigned char *)r->body.data;
	m->origin.len = r->body.len;
	return SOURCE_MSG;
}

static void
mbox_settle(struct source *s, const struct source_msg *m, int ok)
{
	struct mbox_source *r = (struct mbox_source *)s;
	struct mmsg *mm = m->token;
	struct import_stats live;

	import_stats_live(r->fc->imp, &live);
	mm->state = ok ? HANDLED : FAILED;
	mm->maybe_there = ok && live.stored == r->stored;
	r->stored = live.stored;
}

static int
mbox_commit(struct source *s, int *ex, struct err *e)
{
	struct mbox_source *r = (struct mbox_source *)s;
	struct mmsg *mm;

	for (; r->settled < r->next; r->settled++) {
		mm = &r->msgs[r->settled];
		if (mm->state == PENDING)
			continue;
		if (append_msg(r, mm,
		               mm->state == HANDLED ? r->processed : r->failed,
		               e) == -1) {
			*ex = EX_CANTCREAT;
			return -1;
		}
		mm->moved = 1;
		r->dirty = 1;
		r->base.stats.moved++;
	}
	return 0;
}

static int
mbox_finish(struct source *s, int *ex, struct err *e)
{
	struct mbox_source *r = (struct mbox_source *)s;

	if (r->dirty && rewrite(r, e) == -1) {
		*ex = EX_CANTCREAT;
		return -1;
	}
	return 0;
}

/* What was moved leaves the mbox even when the run stopped; then the
 * locks go. */
static void
mbox_close(struct source *s)
{
	struct mbox_source *r = (struct mbox_source *)s;
	struct err e;

	if (r->fd != -1 && r->dirty && rewrite(r, &e) == -1)
		log_error(r->fc->lg, "%s", e.msg);
	if (r->fd != -1)
		close(r->fd);
	if (r->dotlock)
		unlink(r->lock);
	free(r->raw);
	buf_free(&r->body);
	free(r->msgs);
	free(r);
}

static const struct source_ops mbox_ops = {
    .name = "mbox",
    .connect = mbox_connect,
    .next = mbox_next,
    .settle = mbox_settle,
    .commit = mbox_commit,
    .finish = mbox_finish,
    .close = mbox_close,
};

static int
mbox_open(struct fetch_ctx *fc, const char *path, struct mbox_source **out,
          struct err *e)
{
	struct mbox_source *r;
	struct import_stats live;

	if (strlen(path) >= 1000)
		return err_set(e, "%s: path too long", path);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return err_set(e, "out of memory");
	r->base.ops = &mbox_ops;
	r->fc = fc;
	r->fd = -1;
	buf_init(&r->body, (size_t)fc->lim->max_input);
	import_stats_live(fc->imp, &live);
	r->stored = live.stored;
	snprintf(r->path, sizeof(r->path), "%s", path);
	snprintf(r->lock, sizeof(r->lock), "%s.lock", path);
	snprintf(r->processed, sizeof(r->processed), "%s.Processed", path);
	snprintf(r->failed, sizeof(r->failed), "%s.Failed", path);
	snprintf(r->base.where, sizeof(r->base.where), "%s", path);
	snprintf(r->base.failed_to, sizeof(r->base.failed_to), "%s", r->failed);
	*out = r;
	return 0;
}

int
source_mbox_drain(struct fetch_ctx *fc, const char *path, struct err *e)
{
	struct mbox_source *r = NULL;
	struct source_run run;
	int ex, rc;

	if (mbox_open(fc, path, &r, e) == -1)
		return -1;
	memset(&run, 0, sizeof(run));
	run.fc = fc;
	rc = source_drain(&r->base, &run, &ex, e);
	if (rc == 0)
		log_info(fc->lg, "%s: %lu messages read, %lu moved", r->path,
		         r->base.stats.fetched, r->base.stats.moved);
	r->base.ops->close(&r->base);
	return rc;
}
