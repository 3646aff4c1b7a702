/*
 * fuzz_imap.c - IMAP server answers (see fuzz.h): the input is everything
 * a server says, read by libetpan through the guard of imap-guard.h over
 * an in-memory driver, while the client greets, asks CAPABILITY, SELECTs,
 * searches and fetches bodies into a handler, as fetch-imap.c does.
 *
 * Invariants beyond the sanitizers: the guard never lets more bytes
 * through in one command than its budget, a tripped guard fails every
 * later read, and the body handler never gets more than the body literal
 * the guard allowed.
 */
#include "fuzz.h"

#include <libetpan/libetpan.h>

#include "imap-conn.h"
#include "imap-guard.h"

#define MAX_RESPONSE 16384
#define BODY_LITERAL 8192

struct feed {
	const uint8_t *p;
	size_t len, pos;
	uint32_t rng;
};

static ssize_t
feed_read(mailstream_low *s, void *buf, size_t n)
{
	struct feed *f = s->data;

	/* pieces of 1 to 64 bytes, so that lines and literals are cut */
	f->rng = f->rng * 1103515245u + 12345u;
	if (n > 1 + (f->rng >> 16) % 64)
		n = 1 + (f->rng >> 16) % 64;
	if (n > f->len - f->pos)
		n = f->len - f->pos;
	memcpy(buf, f->p + f->pos, n);
	f->pos += n;
	return n > 0 ? (ssize_t)n : -1;
}

static ssize_t
feed_write(mailstream_low *s, const void *buf, size_t n)
{
	(void)s;
	(void)buf;
	return (ssize_t)n;
}

static int
feed_close(mailstream_low *s)
{
	(void)s;
	return 0;
}

static int
feed_fd(mailstream_low *s)
{
	(void)s;
	return -1;
}

static void
feed_free(mailstream_low *s)
{
	free(s->data);
	free(s);
}

static void
feed_cancel(mailstream_low *s)
{
	(void)s;
}

static struct mailstream_cancel *
feed_get_cancel(mailstream_low *s)
{
	(void)s;
	return NULL;
}

static mailstream_low_driver feed_driver = {
    .mailstream_read = feed_read,
    .mailstream_write = feed_write,
    .mailstream_close = feed_close,
    .mailstream_get_fd = feed_fd,
    .mailstream_free = feed_free,
    .mailstream_cancel = feed_cancel,
    .mailstream_get_cancel = feed_get_cancel,
};

struct bodies {
	const struct imap_guard *g;
	size_t item;
};

static bool
on_body(int type, struct mailimap_msg_att_body_section *sec,
    const char *bytes, size_t len, void *arg)
{
	struct bodies *b = arg;

	(void)sec;
	(void)bytes;
	if (type == MAILIMAP_MSG_ATT_BODY_SECTION) {
		b->item += len;
		FUZZ_CHECK(b->item <= BODY_LITERAL);
	}
	FUZZ_CHECK(b->g->used <= b->g->max_response + b->g->body_bytes);
	return true;
}

static void
on_att(struct mailimap_msg_att *att, void *arg)
{
	(void)att;
	((struct bodies *)arg)->item = 0;
}

static void
on_progress(size_t cur, size_t max, void *arg)
{
	(void)cur;
	(void)max;
	(void)arg;
}

static void
fetch_bodies(mailimap *imap, struct imap_guard *g)
{
	struct bodies b = {g, 0};
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	clist *list = NULL;

	if ((set = mailimap_set_new_interval(1, 3)) == NULL)
		return;
	if ((ft = mailimap_fetch_type_new_fetch_att_list_empty()) == NULL ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft,
		mailimap_fetch_att_new_body_peek_section(
		    mailimap_section_new(NULL))) != 0) {
		if (ft != NULL)
			mailimap_fetch_type_free(ft);
		mailimap_set_free(set);
		return;
	}
	imap_guard_allow(g, 3 * BODY_LITERAL, BODY_LITERAL, 0);
	mailimap_set_msg_body_handler(imap, on_body, &b);
	mailimap_set_msg_att_handler(imap, on_att, &b);
	mailimap_set_progress_callback(imap, NULL, on_progress, &b);
	if (mailimap_uid_fetch(imap, set, ft, &list) == MAILIMAP_NO_ERROR)
		mailimap_fetch_list_free(list);
	imap_guard_allow(g, 0, 0, 0);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
}

/* One session over the input; stops at the first failure, as the client
 * does (a failed command leaves the stream unusable). */
static void
session(mailimap *imap, struct imap_guard *g)
{
	struct mailimap_capability_data *cap = NULL;
	clist *result = NULL;
	int r;

	r = imap_capability(imap, &cap);
	if (r != MAILIMAP_NO_ERROR)
		return;
	mailimap_capability_data_free(cap);
	if (mailimap_select(imap, "INBOX") != MAILIMAP_NO_ERROR)
		return;
	if (mailimap_list(imap, "", "", &result) != MAILIMAP_NO_ERROR)
		return;
	mailimap_list_result_free(result);
	fetch_bodies(imap, g);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed *f = calloc(1, sizeof(*f));
	struct imap_guard g;
	mailstream_low *low, *guarded;
	mailstream *stream;
	mailimap *imap;
	int r;

	FUZZ_CHECK(f != NULL);
	f->p = data;
	f->len = size;
	f->rng = (uint32_t)size;
	imap_guard_init(&g, 5, MAX_RESPONSE);
	FUZZ_CHECK((low = mailstream_low_new(f, &feed_driver)) != NULL);
	FUZZ_CHECK((guarded = imap_guard_wrap(&g, low)) != NULL);
	FUZZ_CHECK((stream = mailstream_new(guarded, 8192)) != NULL);
	FUZZ_CHECK((imap = mailimap_new(0, NULL)) != NULL);
	r = mailimap_connect(imap, stream);
	if (r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED ||
	    r == MAILIMAP_NO_ERROR_AUTHENTICATED)
		session(imap, &g);
	/* the read that passes a limit fails: its bytes never reach libetpan */
	if (g.trip == GUARD_OK)
		FUZZ_CHECK(g.used <= g.max_response);
	else {
		char buf[16];
		FUZZ_CHECK(imap_guard_account(&g, "x", 1) == -1);
		FUZZ_CHECK(guarded->driver->mailstream_read(guarded, buf,
			       sizeof(buf)) == -1);
	}
	/* the stream is closed first: no LOGOUT on a dead feed */
	if (imap->imap_stream != NULL) {
		mailstream_close(imap->imap_stream);
		imap->imap_stream = NULL;
	} else {
		mailstream_close(stream);
	}
	mailimap_free(imap);
	return 0;
}
