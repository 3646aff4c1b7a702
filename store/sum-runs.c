/*
 * sum-runs.c - see sum-runs.h.
 *
 * A run is its entries one after the other: each field as a 32-bit length
 * (its NUL included) and its bytes, then the counters, in this machine's
 * byte order (the file never leaves the process).  The merge reads every
 * run through a buffer of its own, and keeps the runs in a heap by their
 * next key: a report whose sums filled k times costs log2(k) comparisons
 * a group, not k.
 */
#include "sum-runs.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

#define READ_CHUNK (32u << 10)

void
sum_runs_init(struct sum_runs *sr)
{
	memset(sr, 0, sizeof(*sr));
}

void
sum_runs_free(struct sum_runs *sr)
{
	if (sr->f != NULL)
		fclose(sr->f);
	free(sr->end);
	sum_runs_init(sr);
}

void
sum_runs_reset(struct sum_runs *sr)
{
	sr->n = 0;
	if (sr->f != NULL)
		rewind(sr->f);
}

size_t
sum_runs_count(const struct sum_runs *sr)
{
	return sr->n;
}

/* The runs' file, in $TMPDIR (else /tmp), unlinked at once: it is gone
 * when closed, or when the process dies. */
static FILE *
open_file(struct err *e)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	FILE *f;
	int fd, n;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	/* mkstemp() makes the name unique in the template's last six
	 * characters, which must be X */
	n = snprintf(path, sizeof(path), "%s/dmarcsift-sums.", dir);
	if (n < 0 || (size_t)n + 6 >= sizeof(path)) {
		err_set(e, "TMPDIR is too long: %zu bytes", strlen(dir));
		return NULL;
	}
	memset(path + n, 'X', 6);
	path[n + 6] = '\0';
	if ((fd = mkstemp(path)) == -1) {
		err_errno(e,
		          "cannot create a file for the traffic sums in %s "
		          "(TMPDIR)",
		          dir);
		return NULL;
	}
	(void)unlink(path);
	if ((f = fdopen(fd, "w+")) == NULL) {
		err_errno(e, "cannot open the traffic sums' file");
		(void)close(fd);
	}
	return f;
}

struct writer {
	FILE *f;
	int failed; /* a write failed: errno says why */
};

static int
write_entry(void *arg, const struct traffic_entry *en)
{
	struct writer *w = arg;
	uint32_t len;
	int i;

	for (i = 0; i < TK_COUNT; i++) {
		len = (uint32_t)strlen(en->field[i]) + 1;
		if (fwrite(&len, sizeof(len), 1, w->f) != 1 ||
		    fwrite(en->field[i], len, 1, w->f) != 1)
			w->failed = 1;
	}
	if (fwrite(en->c, sizeof(en->c), 1, w->f) != 1)
		w->failed = 1;
	return w->failed ? -1 : 0;
}

int
sum_runs_add(struct sum_runs *sr, struct traffic *t, struct err *e)
{
	struct writer w = {NULL, 0};
	long long *end;
	long pos;
	int rc;

	if (sr->f == NULL && (sr->f = open_file(e)) == NULL)
		return -1;
	if (sr->n == sr->cap) {
		end = realloc(sr->end, (sr->cap * 2 + 8) * sizeof(*end));
		if (end == NULL)
			return err_set(e, "out of memory for the traffic sums");
		sr->end = end;
		sr->cap = sr->cap * 2 + 8;
	}
	w.f = sr->f;
	rc = traffic_sorted(t, write_entry, &w,
	                    e); /* fills e if out of memory */
	pos = rc == 0 ? ftell(sr->f) : -1;
	if (pos == -1) {
		if (w.failed || rc == 0)
			err_errno(e,
			          "cannot write the traffic sums to their file "
			          "(TMPDIR)");
		/* runs follow each other: the next one goes where this began */
		(void)fseek(sr->f, sr->n > 0 ? sr->end[sr->n - 1] : 0,
		            SEEK_SET);
		return -1;
	}
	traffic_reset(t);
	sr->end[sr->n++] = pos;
	return 0;
}

/* A run being read: [pos, end) of the file still to read, buf[off, len)
 * read and not yet taken; en its next entry, pointing into buf. */
struct reader {
	int fd;
	long long pos, end;
	char *buf;
	size_t off, len, cap;
	struct traffic_entry en;
};

/* At least need bytes from off in buf: 1, 0 at the run's end, -1 when the
 * file cannot be read (e filled). */
static int
fill(struct reader *r, size_t need, struct err *e)
{
	ssize_t got;
	size_t want;
	char *nb;

	if (r->len - r->off >= need)
		return 1;
	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (need > r->cap || r->cap - r->len < READ_CHUNK / 2) {
		size_t cap =
		    need > READ_CHUNK ? need + READ_CHUNK : 2 * READ_CHUNK;
		if ((nb = realloc(r->buf, cap)) == NULL)
			return err_set(e, "out of memory merging the traffic "
			                  "sums");
		r->buf = nb;
		r->cap = cap;
	}
	while (r->len < need && r->pos < r->end) {
		want = r->cap - r->len;
		if ((long long)want > r->end - r->pos)
			want = (size_t)(r->end - r->pos);
		got = pread(r->fd, r->buf + r->len, want, (off_t)r->pos);
		if (got <= 0) {
			if (got == 0)
				errno = EIO;
			return err_errno(e, "cannot read the traffic sums back "
			                    "from their file");
		}
		r->len += (size_t)got;
		r->pos += got;
	}
	if (r->len - r->off >= need)
		return 1;
	if (r->len == r->off)
		return 0;
	return err_set(e, "the traffic sums' file is cut short");
}

/* fill()'s 0 inside an entry: the file lost bytes. */
static int
cut_short(int rc, struct err *e)
{
	if (rc == 0)
		err_set(e, "the traffic sums' file is cut short");
	return -1;
}

/* The run's next entry into r->en: 1, 0 at its end, -1 (e filled). */
static int
next(struct reader *r, struct err *e)
{
	size_t at[TK_COUNT], size = 0;
	uint32_t len;
	int i, rc;

	for (i = 0; i < TK_COUNT; i++) {
		rc = fill(r, size + sizeof(len), e);
		if (rc == 0 && i == 0)
			return 0; /* the run's end */
		if (rc != 1)
			return cut_short(rc, e);
		memcpy(&len, r->buf + r->off + size, sizeof(len));
		at[i] = size + sizeof(len);
		size = at[i] + len;
	}
	if ((rc = fill(r, size + sizeof(r->en.c), e)) != 1)
		return cut_short(rc, e);
	for (i = 0; i < TK_COUNT; i++)
		r->en.field[i] = r->buf + r->off + at[i];
	memcpy(r->en.c, r->buf + r->off + size, sizeof(r->en.c));
	r->off += size + sizeof(r->en.c);
	return 1;
}

static int
key_cmp(const struct traffic_entry *a, const struct traffic_entry *b)
{
	int i, c;

	for (i = 0; i < TK_COUNT; i++)
		if ((c = strcmp(a->field[i], b->field[i])) != 0)
			return c;
	return 0;
}

/* The heap of runs by next key: h[0] the least. */
static void
sift_down(struct reader **h, size_t n, size_t i)
{
	size_t least, l;
	struct reader *t;

	for (;;) {
		least = i;
		l = 2 * i + 1;
		if (l < n && key_cmp(&h[l]->en, &h[least]->en) < 0)
			least = l;
		if (l + 1 < n && key_cmp(&h[l + 1]->en, &h[least]->en) < 0)
			least = l + 1;
		if (least == i)
			return;
		t = h[i];
		h[i] = h[least];
		h[least] = t;
		i = least;
	}
}

/* The key being summed: its fields copied, since the reader it came from
 * may move its buffer when it reads on. */
struct current {
	struct buf keys;
	size_t at[TK_COUNT];
	int64_t c[TC_COUNT];
	int set;
};

static int
take(struct current *cur, const struct traffic_entry *en, struct err *e)
{
	int i;

	buf_reset(&cur->keys);
	for (i = 0; i < TK_COUNT; i++) {
		cur->at[i] = cur->keys.len;
		if (buf_append(&cur->keys, en->field[i],
		               strlen(en->field[i]) + 1, e) == -1)
			return -1;
	}
	memcpy(cur->c, en->c, sizeof(cur->c));
	cur->set = 1;
	return 0;
}

static int
emit(struct current *cur, int (*cb)(void *, const struct traffic_entry *),
     void *arg)
{
	struct traffic_entry en;
	int i;

	for (i = 0; i < TK_COUNT; i++)
		en.field[i] = cur->keys.data + cur->at[i];
	memcpy(en.c, cur->c, sizeof(en.c));
	return cb(arg, &en);
}

static int
merge(struct reader **h, size_t n,
      int (*cb)(void *, const struct traffic_entry *), void *arg, struct err *e)
{
	struct current cur;
	struct traffic_entry probe;
	int i, rc = 0;

	memset(&cur, 0, sizeof(cur));
	buf_init(&cur.keys, 0);
	while (n > 0 && rc == 0) {
		if (cur.set) {
			for (i = 0; i < TK_COUNT; i++)
				probe.field[i] = cur.keys.data + cur.at[i];
		}
		if (cur.set && key_cmp(&h[0]->en, &probe) == 0) {
			for (i = 0; i < TC_COUNT; i++)
				cur.c[i] += h[0]->en.c[i];
		} else if ((cur.set && emit(&cur, cb, arg) == -1) ||
		           take(&cur, &h[0]->en, e) == -1) {
			rc = -1;
			break;
		}
		if ((rc = next(h[0], e)) == -1)
			break;
		if (rc == 0)
			h[0] = h[--n];
		rc = 0;
		sift_down(h, n, 0);
	}
	if (rc == 0 && cur.set && emit(&cur, cb, arg) == -1)
		rc = -1;
	buf_free(&cur.keys);
	return rc;
}

int
sum_runs_merge(struct sum_runs *sr, struct traffic *t,
               int (*cb)(void *arg, const struct traffic_entry *en), void *arg,
               struct err *e)
{
	struct reader *r = NULL, **h = NULL;
	size_t i, n = 0;
	int rc = -1;

	if (sr->n == 0) {
		rc = traffic_sorted(t, cb, arg, e);
		traffic_reset(t);
		return rc;
	}
	if (sum_runs_add(sr, t, e) == -1)
		return -1;
	if (fflush(sr->f) != 0) {
		err_errno(e, "cannot write the traffic sums to a temporary "
		             "file (TMPDIR)");
		goto done;
	}
	r = calloc(sr->n, sizeof(*r));
	h = calloc(sr->n, sizeof(struct reader *));
	if (r == NULL || h == NULL) {
		err_set(e, "out of memory merging the traffic sums");
		goto done;
	}
	for (i = 0; i < sr->n; i++) {
		r[i].fd = fileno(sr->f);
		r[i].pos = i > 0 ? sr->end[i - 1] : 0;
		r[i].end = sr->end[i];
		switch (next(&r[i], e)) {
		case -1:
			goto done;
		case 1:
			h[n++] = &r[i];
			break;
		}
	}
	for (i = n / 2; i-- > 0;)
		sift_down(h, n, i);
	rc = merge(h, n, cb, arg, e);
done:
	if (r != NULL)
		for (i = 0; i < sr->n; i++)
			free(r[i].buf);
	free(r);
	free(h);
	sum_runs_reset(sr);
	return rc;
}
