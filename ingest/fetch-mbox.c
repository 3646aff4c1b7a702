/*
 * fetch-mbox.c - an mbox file: messages separated by "From " lines.
 *
 * Lines escaped as ">From " (mboxrd) lose one '>'.  Each message is held in
 * memory while it is imported, within the --max-input limit; a larger one
 * is rejected and the rest of the mbox is still read.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "fetch.h"

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

int
fetch_mbox_stream(struct fetch_ctx *fc, FILE *f, const char *name,
    struct err *e)
{
	struct buf msg;
	struct err be;
	char *line = NULL, *p;
	size_t cap = 0;
	ssize_t n;
	unsigned long count = 0;
	int in_msg = 0, prev_blank = 1, too_big = 0, rc = 0;

	buf_init(&msg, (size_t)fc->lim->max_input);
	while ((n = getline(&line, &cap, f)) != -1) {
		if (prev_blank && n >= 5 && memcmp(line, "From ", 5) == 0) {
			if (in_msg && (rc = flush_message(fc, &msg, too_big,
					   name, count, e)) == -1)
				break;
			buf_reset(&msg);
			too_big = 0;
			in_msg = 1;
			count++;
			prev_blank = 0;
			continue;
		}
		prev_blank = (n == 1 && line[0] == '\n') ||
			     (n == 2 && line[0] == '\r' && line[1] == '\n');
		if (!in_msg || too_big)
			continue;
		p = line;
		if (p[0] == '>') {
			size_t k = strspn(p, ">");
			if ((size_t)n >= k + 5 && memcmp(p + k, "From ", 5) == 0) {
				p++;
				n--;
			}
		}
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
