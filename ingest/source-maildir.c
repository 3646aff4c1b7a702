/*
 * source-maildir.c - a local maildir that keeps up: the driver of
 * source.h for a maildir PATH read with --maildir-handled seen|move
 * ([maildir] handled).  The generic policy commits the reports, then this
 * driver disposes of the messages:
 *
 *   seen: a handled message goes to cur/ with the S flag, and messages of
 *         cur/ with the S flag are not read again;
 *   move: a handled message goes to the sibling folder .Processed (its
 *         cur/, flagged S);
 *   both: a message that cannot be used goes to the sibling folder .Failed
 *         (its cur/, flags unchanged); it is never marked handled.
 *
 * "Sibling" is Maildir++'s: for ~/Maildir (the INBOX) the folders are
 * ~/Maildir/.Processed and ~/Maildir/.Failed; for ~/Maildir/.dmarc they are
 * ~/Maildir/.dmarc.Processed and ~/Maildir/.dmarc.Failed, which an IMAP
 * server on the same maildir shows as dmarc.Processed (dmarc/Processed
 * with a "/" separator).  Missing folders are created (mode 0700).
 *
 * A message is moved with link() then unlink(): a crash in between leaves
 * it in both places, and the next run finds its reports stored, finds the
 * name taken at the destination (the same unique maildir name: the same
 * message) and only removes it from here.  Nothing is ever overwritten.
 * The failed place keeps the message itself, so nothing goes to
 * quarantine/.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "source.h"

/* Messages committed at a time. */
#define MAILDIR_BATCH 50

struct entry {
	char *path; /* new/NAME or cur/NAME under the maildir */
	int ok;     /* settled: handled (1) or failed (0) */
};

struct maildir_source {
	struct source base;
	enum maildir_handled mode;
	char dir[1024];                     /* the maildir read */
	char processed[1100], failed[1100]; /* its siblings */
	struct entry *ents;
	size_t nents, next, settled; /* ents[settled..next) not yet moved */
};

/* --- names -------------------------------------------------------------- */

/* The sibling folder `what` ("Processed") of the maildir at dir. */
static int
sibling(const char *dir, const char *what, char *out, size_t len)
{
	const char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	int n;

	if (base[0] == '.' && strcmp(base, ".") != 0 && strcmp(base, "..") != 0)
		n = snprintf(out, len, "%s.%s", dir, what);
	else
		n = snprintf(out, len, "%s/.%s", dir, what);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Whether a maildir file name's flags (after ":2,") hold S. */
static int
flagged_seen(const char *name)
{
	const char *info = strstr(name, ":2,");

	return info != NULL && strchr(info + 3, 'S') != NULL;
}

/* NAME with the S flag added (flags stay in ASCII order, as maildir
 * asks). */
static void
with_seen(const char *name, char *out, size_t len)
{
	const char *info = strstr(name, ":2,");
	const char *f;
	size_t n;

	if (info == NULL) {
		snprintf(out, len, "%s:2,S", name);
		return;
	}
	if (strchr(info + 3, 'S') != NULL) {
		snprintf(out, len, "%s", name);
		return;
	}
	for (f = info + 3; *f != '\0' && *f < 'S'; f++)
		;
	n = (size_t)(f - name);
	snprintf(out, len, "%.*sS%s", (int)n, name, f);
}

/* --- the folders -------------------------------------------------------- */

static int
make_dir(const char *path, struct err *e)
{
	struct stat sb;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	return err_errno(e, "cannot create the maildir folder %s", path);
}

/* Creates the maildir folder at path (cur, new, tmp, and Maildir++'s
 * maildirfolder mark) if it is missing. */
static int
make_maildir(const char *path, struct err *e)
{
	static const char *const subs[] = {"cur", "new", "tmp"};
	char p[PATH_MAX + 16];
	size_t i;
	int fd;

	if (make_dir(path, e) == -1)
		return -1;
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", path, subs[i]);
		if (make_dir(p, e) == -1)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/maildirfolder", path);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return err_errno(e, "cannot create %s", p);
	close(fd);
	return 0;
}

/* Moves the file at src into dstdir/cur under `name`, never replacing a
 * file: a name already there is the same message (see the top). */
static int
move_file(const char *src, const char *dstdir, const char *name, struct err *e)
{
	char dst[PATH_MAX * 2];

	if ((size_t)snprintf(dst, sizeof(dst), "%s/cur/%s", dstdir, name) >=
	    sizeof(dst))
		return err_set(e, "%s: path too long", dstdir);
	if (strcmp(src, dst) == 0)
		return 0;
	if (link(src, dst) == -1 && errno != EEXIST)
		return err_errno(e, "cannot move %s to %s", src, dst);
	if (unlink(src) == -1 && errno != ENOENT)
		return err_errno(e, "cannot remove %s (copied to %s)", src,
		                 dst);
	return 0;
}

/* --- listing ------------------------------------------------------------ */

static int
add_entry(struct maildir_source *r, const char *path, struct err *e)
{
	struct entry *n;

	if ((n = realloc(r->ents, (r->nents + 1) * sizeof(*n))) == NULL)
		return err_set(e, "out of memory");
	r->ents = n;
	if ((n[r->nents].path = strdup(path)) == NULL)
		return err_set(e, "out of memory");
	n[r->nents++].ok = 0;
	return 0;
}

/* The messages of sub/ (new or cur) in sorted order; in seen mode, not
 * the ones flagged S. */
static int
list_sub(struct maildir_source *r, const char *sub, int *ex, struct err *e)
{
	struct dirent **ents = NULL;
	char dir[PATH_MAX + 8], file[PATH_MAX * 2];
	struct stat sb;
	int n, i, rc = 0;

	snprintf(dir, sizeof(dir), "%s/%s", r->dir, sub);
	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		*ex = EX_NOINPUT;
		return err_errno(e, "cannot read the maildir %s", dir);
	}
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		if (rc == 0 && name[0] != '.' &&
		    !(r->mode == MAILDIR_SEEN && strcmp(sub, "cur") == 0 &&
		      flagged_seen(name)) &&
		    (size_t)snprintf(file, sizeof(file), "%s/%s", dir, name) <
		        sizeof(file) &&
		    stat(file, &sb) == 0 && S_ISREG(sb.st_mode))
			rc = add_entry(r, file, e);
		free(ents[i]);
	}
	free(ents);
	if (rc == -1)
		*ex = EX_OSERR;
	return rc;
}

/* --- the driver --------------------------------------------------------- */

static int
maildir_connect(struct source *s, int *ex, struct err *e)
{
	struct maildir_source *r = (struct maildir_source *)s;

	if (list_sub(r, "new", ex, e) == -1 || list_sub(r, "cur", ex, e) == -1)
		return -1;
	r->base.stats.total = r->nents;
	return 0;
}

static int
maildir_next(struct source *s, struct source_msg *m, int *ex, struct err *e)
{
	struct maildir_source *r = (struct maildir_source *)s;

	(void)ex;
	(void)e;
	if (r->next >= r->nents)
		return SOURCE_END;
	if (r->next - r->settled >= MAILDIR_BATCH)
		return SOURCE_BATCH;
	m->origin.kind = ORIGIN_FILE;
	m->origin.path = r->ents[r->next].path;
	m->name = r->ents[r->next].path;
	m->token = &r->ents[r->next];
	r->next++;
	return SOURCE_MSG;
}

static void
maildir_settle(struct source *s, const struct source_msg *m, int ok)
{
	(void)s;
	((struct entry *)m->token)->ok = ok;
}

/* Where entry en goes, and under which name. */
static int
dispose(struct maildir_source *r, const struct entry *en, struct err *e)
{
	const char *name = strrchr(en->path, '/') + 1;
	char flagged[NAME_MAX + 8];

	if (!en->ok)
		return move_file(en->path, r->failed, name, e);
	with_seen(name, flagged, sizeof(flagged));
	return move_file(en->path,
	                 r->mode == MAILDIR_MOVE ? r->processed : r->dir,
	                 flagged, e);
}

static int
maildir_commit(struct source *s, int *ex, struct err *e)
{
	struct maildir_source *r = (struct maildir_source *)s;
	size_t i;
	int need_failed = 0, need_processed = 0;

	for (i = r->settled; i < r->next; i++) {
		need_failed |= !r->ents[i].ok;
		need_processed |= r->ents[i].ok && r->mode == MAILDIR_MOVE;
	}
	if ((need_failed && make_maildir(r->failed, e) == -1) ||
	    (need_processed && make_maildir(r->processed, e) == -1)) {
		*ex = EX_CANTCREAT;
		return -1;
	}
	for (; r->settled < r->next; r->settled++) {
		if (dispose(r, &r->ents[r->settled], e) == -1) {
			*ex = EX_CANTCREAT;
			return -1;
		}
		if (!r->ents[r->settled].ok || r->mode == MAILDIR_MOVE)
			r->base.stats.moved++;
	}
	return 0;
}

static void
maildir_close(struct source *s)
{
	struct maildir_source *r = (struct maildir_source *)s;
	size_t i;

	for (i = 0; i < r->nents; i++)
		free(r->ents[i].path);
	free(r->ents);
	free(r);
}

static const struct source_ops maildir_ops = {
    .name = "maildir",
    .connect = maildir_connect,
    .next = maildir_next,
    .settle = maildir_settle,
    .commit = maildir_commit,
    .finish = NULL,
    .close = maildir_close,
};

static int
maildir_open(const char *path, enum maildir_handled mode,
             struct maildir_source **out, struct err *e)
{
	struct maildir_source *r;
	size_t n;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return err_set(e, "out of memory");
	r->base.ops = &maildir_ops;
	r->mode = mode;
	if ((size_t)snprintf(r->dir, sizeof(r->dir), "%s", path) >=
	    sizeof(r->dir)) {
		free(r);
		return err_set(e, "%s: path too long", path);
	}
	for (n = strlen(r->dir); n > 1 && r->dir[n - 1] == '/'; n--)
		r->dir[n - 1] = '\0';
	if (sibling(r->dir, "Processed", r->processed, sizeof(r->processed)) ==
	        -1 ||
	    sibling(r->dir, "Failed", r->failed, sizeof(r->failed)) == -1) {
		free(r);
		return err_set(e, "%s: path too long", path);
	}
	snprintf(r->base.where, sizeof(r->base.where), "%s", r->dir);
	snprintf(r->base.failed_to, sizeof(r->base.failed_to), "%s", r->failed);
	*out = r;
	return 0;
}

int
source_maildir_drain(struct fetch_ctx *fc, const char *path, struct err *e)
{
	struct maildir_source *r = NULL;
	struct source_run run;
	int ex, rc;

	if (maildir_open(path, (enum maildir_handled)fc->handled, &r, e) == -1)
		return -1;
	memset(&run, 0, sizeof(run));
	run.fc = fc;
	rc = source_drain(&r->base, &run, &ex, e);
	if (rc == 0)
		log_info(fc->lg, "%s: %lu messages read, %lu moved", r->dir,
		         r->base.stats.fetched, r->base.stats.moved);
	r->base.ops->close(&r->base);
	return rc;
}
