/*
 * fetch-mbox.c - an mbox file: messages separated by "From " lines.
 *
 * Lines escaped as ">From " (mboxrd) lose one '>'.  Each message is held in
 * memory while it is imported, within the --max-input limit; a larger one
 * is rejected and the rest of the mbox is still read.  Lines are read in
 * pieces of at most LINE_PIECE bytes, so a long one costs no more memory
 * than the message limit.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "fetch.h"
#include "source.h"

#define LINE_PIECE 65536 /* bytes of a line read at a time */

static int
mbox_accepts(const char *path)
{
	struct stat sb;
	char head[5];
	FILE *f;
	int yes = 0;

	if (stat(path, &sb) == -1 || !S_ISREG(sb.st_mode))
		return 0;
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	yes = fread(head, 1, 5, f) == 5 && memcmp(head, "From ", 5) == 0;
	fclose(f);
	return yes;
}

static int
flush_message(struct fetch_ctx *fc, struct buf *msg, int too_big,
    const char *name, unsigned long n, struct err *e)
{
	enum input_result res;
	char source[1024], why[128];
	struct origin o;

	snprintf(source, sizeof(source), "%s: message %lu", name, n);
	if (too_big) {
		snprintf(why, sizeof(why), "message larger than %llu bytes "
		    "(--max-input)", (unsigned long long)fc->lim->max_input);
		return import_reject_input(fc->imp, source, why, e);
	}
	memset(&o, 0, sizeof(o));
	o.kind = ORIGIN_MEM;
	o.mem = (const unsigned char *)msg->data;
	o.len = msg->len;
	return fetch_import(fc, &o, source, &res, e);
}

/* The next line of f into buf, or its next `cap` bytes when it is longer:
 * a line can be as long as the file, and holding it whole would let one
 * line take all the memory --max-input is there to bound.  NUL bytes are
 * kept (the length is returned).  *whole is 1 when the piece ends its line.
 * Returns -1 at the end of the file. */
static ssize_t
read_piece(FILE *f, char *buf, size_t cap, int *whole)
{
	size_t n = 0;
	int c;

	*whole = 0;
	while (n < cap && (c = getc_unlocked(f)) != EOF) {
		buf[n++] = (char)c;
		if (c == '\n') {
			*whole = 1;
			break;
		}
	}
	return n == 0 ? -1 : (ssize_t)n;
}

int
fetch_mbox_stream(struct fetch_ctx *fc, FILE *f, const char *name,
    struct err *e)
{
	struct buf msg;
	struct err be;
	char *line, *p;
	ssize_t n;
	unsigned long count = 0;
	int in_msg = 0, prev_blank = 1, too_big = 0, rc = 0;
	int at_start = 1; /* the piece begins a line */
	int skip = 0;	  /* the rest of a long "From " line follows */
	int whole;

	if ((line = malloc(LINE_PIECE)) == NULL)
		return err_set(e, "out of memory");
	buf_init(&msg, (size_t)fc->lim->max_input);
	while ((n = read_piece(f, line, LINE_PIECE, &whole)) != -1) {
		if (skip) {
			skip = !whole;
			at_start = whole;
			continue;
		}
		if (at_start && prev_blank && n >= 5 &&
		    memcmp(line, "From ", 5) == 0) {
			if (in_msg && (rc = flush_message(fc, &msg, too_big,
					   name, count, e)) == -1)
				break;
			buf_reset(&msg);
			too_big = 0;
			in_msg = 1;
			count++;
			prev_blank = 0;
			skip = !whole;
			at_start = whole;
			continue;
		}
		/* a piece that does not begin its line is not blank */
		prev_blank = at_start && whole &&
			     ((n == 1 && line[0] == '\n') ||
				 (n == 2 && line[0] == '\r' && line[1] == '\n'));
		p = line;
		if (in_msg && !too_big && at_start && p[0] == '>') {
			size_t k = strspn(p, ">");
			if ((size_t)n >= k + 5 && memcmp(p + k, "From ", 5) == 0) {
				p++;
				n--;
			}
		}
		at_start = whole;
		if (!in_msg || too_big)
			continue;
		if (buf_append(&msg, p, (size_t)n, &be) == -1) {
			too_big = 1;
			buf_free(&msg);
			buf_init(&msg, (size_t)fc->lim->max_input);
		}
	}
	if (rc == 0 && in_msg) {
		/* the separator's blank line belongs to the mbox format */
		rc = flush_message(fc, &msg, too_big, name, count, e);
	}
	free(line);
	buf_free(&msg);
	return rc;
}

static int
mbox_run(struct fetch_ctx *fc, const char *path, struct err *e)
{
	FILE *f;
	int rc;

	if (fc->mbox_handled != 0) /* --mbox-handled move */
		return source_mbox_drain(fc, path, e);
	if ((f = fopen(path, "rb")) == NULL) {
		char why[256];
		snprintf(why, sizeof(why), "cannot open the mbox");
		return import_reject_input(fc->imp, path, why, e);
	}
	rc = fetch_mbox_stream(fc, f, path, e);
	fclose(f);
	return rc;
}

const struct fetch fetch_mbox = {"mbox", mbox_accepts, mbox_run};
