/*
 * fetch-stdin.c - "-" on the command line: one input from standard input
 * (a report, an archive, a message, or an mbox of messages), read into
 * memory within --max-input.  A pipe named on the command line (a FIFO,
 * or bash's <(zcat r.xml.gz)) is read the same way: fetch_stream().
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fetch.h"

static int
stdin_accepts(const char *path)
{
	return strcmp(path, "-") == 0;
}

int
fetch_stream(struct fetch_ctx *fc, int fd, const char *name, struct err *e)
{
	enum input_result res;
	struct origin o;
	struct buf in;
	struct err be;
	char chunk[65536];
	ssize_t n;
	FILE *f;
	int rc;

	buf_init(&in, (size_t)fc->lim->max_input);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_append(&in, chunk, (size_t)n, &be) == -1) {
			buf_free(&in);
			return import_reject_input(fc->imp, name,
			    "input larger than --max-input", e);
		}
	}
	if (n == -1) {
		buf_free(&in);
		return import_reject_input(fc->imp, name,
		    fd == STDIN_FILENO ? "cannot read standard input"
				       : "cannot read the pipe",
		    e);
	}
	if (in.len >= 5 && memcmp(in.data, "From ", 5) == 0 &&
	    (f = fmemopen(in.data, in.len, "rb")) != NULL) {
		rc = fetch_mbox_stream(fc, f, name, e);
		fclose(f);
	} else {
		memset(&o, 0, sizeof(o));
		o.kind = ORIGIN_MEM;
		o.mem = (const unsigned char *)(in.data ? in.data : "");
		o.len = in.len;
		rc = fetch_import(fc, &o, name, &res, e);
	}
	buf_free(&in);
	return rc;
}

static int
stdin_run(struct fetch_ctx *fc, const char *path, struct err *e)
{
	(void)path;
	return fetch_stream(fc, STDIN_FILENO, "(stdin)", e);
}

const struct fetch fetch_stdin = {"stdin", stdin_accepts, stdin_run};
