/*
 * fuzz_mime.c - mime_walk() on raw messages (see fuzz.h), with the default
 * limits.  Every part handed over is read to its last byte, and its type
 * and file name as C strings, as unpack.c reads them.
 */
#include "fuzz.h"

#include "input-limits.h"
#include "mime.h"

static struct limits lim;

struct state {
	unsigned parts, last_index;
	uint64_t h;
};

static int
on_part(void *arg, const struct mime_part *p, struct err *e)
{
	struct state *s = arg;

	(void)e;
	s->parts++;
	/* leaf numbers count the parts skipped (HTML) too */
	FUZZ_CHECK(p->index > s->last_index);
	FUZZ_CHECK(p->index <= lim.max_mime_parts);
	s->last_index = p->index;
	FUZZ_CHECK(p->type != NULL && p->filename != NULL);
	FUZZ_CHECK(p->data != NULL || p->len == 0);
	s->h = fuzz_hash_str(s->h, p->type);
	s->h = fuzz_hash_str(s->h, p->filename);
	s->h = fuzz_hash_mem(s->h, p->data, p->len);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	limits_default(&lim);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s = {0, 0, 0};
	struct mime_handler h = {&s, on_part};
	struct mime_info info;
	struct err e;
	int rc;

	(void)mime_looks_like_message(data, size);
	rc = mime_walk(data, size, &lim, &h, &info, &e);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == -1)
		FUZZ_CHECK(e.msg[0] != '\0');
	FUZZ_CHECK(s.parts <= lim.max_mime_parts);
	FUZZ_CHECK(s.parts + info.html <= info.leaves);
	FUZZ_CHECK(memchr(info.report_type, '\0', sizeof(info.report_type)));
	/* an SMTP TLS report's parts are walked too: its JSON attachment */
	if (info.kind != MIME_PLAIN && info.kind != MIME_REPORT &&
	    info.kind != MIME_TLSRPT)
		FUZZ_CHECK(s.parts == 0);
	return 0;
}
