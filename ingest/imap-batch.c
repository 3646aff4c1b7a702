/*
 * imap-batch.c - see imap-batch.h.
 */
#include "imap-batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "imap-dispose.h"

/* Bodies of one UID FETCH, in total; one message alone may be larger (up
 * to --max-input). */
#define FETCH_BUDGET (64u << 20)

static struct imap_msg *
find_msg(struct imap_batch *r, uint32_t uid)
{
	size_t lo = 0, hi = r->nmsgs, mid;

	while (lo < hi) { /* msgs are sorted by UID */
		mid = lo + (hi - lo) / 2;
		if (r->msgs[mid].uid == uid)
			return &r->msgs[mid];
		if (r->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* What one FETCH response item says: its UID, size, whether it has a
 * body section. */
static void
read_att(const struct mailimap_msg_att *att, uint32_t *uid, uint32_t *size,
         int *has_body)
{
	const struct mailimap_msg_att_item *item;
	const struct mailimap_msg_att_static *s;
	clistiter *it;

	*uid = *size = 0;
	*has_body = 0;
	for (it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
		item = clist_content(it);
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		s = item->att_data.att_static;
		if (s->att_type == MAILIMAP_MSG_ATT_UID)
			*uid = s->att_data.att_uid;
		else if (s->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
			*size = s->att_data.att_rfc822_size;
		else if (s->att_type == MAILIMAP_MSG_ATT_BODY_SECTION)
			*has_body = 1;
	}
}

/* libetpan calls this with each piece of a body as it reads it, instead
 * of allocating the size the server announced.  The guard has already
 * refused a literal announced larger than item_max; this catches a server
 * that sends more than the literal it announced would hold. */
static bool
on_body(int type, struct mailimap_msg_att_body_section *sec, const char *bytes,
        size_t len, void *arg)
{
	struct imap_batch *r = arg;
	struct err e;

	(void)sec;
	if (type != MAILIMAP_MSG_ATT_BODY_SECTION)
		return true;
	if (r->pending.len + len > r->item_max ||
	    buf_append(&r->pending, bytes, len, &e) == -1) {
		r->overflow = 1;
		snprintf(r->overflow_why, sizeof(r->overflow_why),
		         "the server sent more than %llu bytes for one message",
		         (unsigned long long)r->item_max);
		return false; /* aborts the FETCH; the stream is then lost */
	}
	return true;
}

/* ... and this at the end of each FETCH response item. */
static void
on_att(struct mailimap_msg_att *att, void *arg)
{
	struct imap_batch *r = arg;
	struct imap_msg *m;
	uint32_t uid, size;
	int has_body;

	read_att(att, &uid, &size, &has_body);
	if (has_body && (m = find_msg(r, uid)) != NULL && !m->got) {
		buf_free(&m->body);
		m->body = r->pending;
		m->got = 1;
		buf_init(&r->pending, (size_t)r->max_input);
	} else {
		buf_reset(&r->pending);
	}
}

/* libetpan only calls the msg_att handler when an items progress
 * function is set. */
static void
on_progress(size_t cur, size_t max, void *arg)
{
	(void)cur;
	(void)max;
	(void)arg;
}

static struct mailimap_fetch_type *
fetch_type(int body)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_fetch_att *fa;
	struct mailimap_section *sec;

	if ((ft = mailimap_fetch_type_new_fetch_att_list_empty()) == NULL)
		return NULL;
	if ((fa = mailimap_fetch_att_new_uid()) == NULL ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, fa) != 0)
		goto fail;
	if (body) {
		if ((sec = mailimap_section_new(NULL)) == NULL)
			goto fail;
		if ((fa = mailimap_fetch_att_new_body_peek_section(sec)) ==
		    NULL) {
			mailimap_section_free(sec);
			goto fail;
		}
	} else if ((fa = mailimap_fetch_att_new_rfc822_size()) == NULL) {
		goto fail;
	}
	if (mailimap_fetch_type_new_fetch_att_list_add(ft, fa) != 0) {
		mailimap_fetch_att_free(fa);
		goto fail;
	}
	return ft;
fail:
	mailimap_fetch_type_free(ft);
	return NULL;
}

/* UID FETCH (UID RFC822.SIZE) for the whole batch. */
static int
fetch_sizes(struct imap_batch *r, int *ex, struct err *e)
{
	struct imap_conn *c = r->conn;
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	uint32_t *uids, uid, size;
	clist *list = NULL;
	clistiter *it;
	struct imap_msg *m;
	size_t i;
	int rv, has_body;

	if ((uids = calloc(r->nmsgs, sizeof(*uids))) == NULL)
		goto nomem;
	for (i = 0; i < r->nmsgs; i++)
		uids[i] = r->msgs[i].uid;
	set = imap_uid_set(uids, r->nmsgs);
	free(uids);
	if (set == NULL)
		goto nomem;
	if ((ft = fetch_type(0)) == NULL) {
		mailimap_set_free(set);
		goto nomem;
	}
	rv = mailimap_uid_fetch(c->imap, set, ft, &list);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (rv != MAILIMAP_NO_ERROR) {
		*ex = imap_conn_fail(c, rv, "UID FETCH (RFC822.SIZE)",
		                     EX_PROTOCOL, e);
		return -1;
	}
	imap_conn_touch(c);
	for (it = clist_begin(list); it != NULL; it = clist_next(it)) {
		read_att(clist_content(it), &uid, &size, &has_body);
		if ((m = find_msg(r, uid)) != NULL) {
			m->size = size;
			m->listed = 1;
		}
	}
	mailimap_fetch_list_free(list);
	return 0;
nomem:
	*ex = EX_OSERR;
	return err_set(e, "out of memory");
}

/* What a body announced as `size` bytes may really be: servers round
 * RFC822.SIZE differently (line ends), so a margin, but never more than
 * --max-input. */
static uint64_t
body_allowance(const struct imap_batch *r, uint32_t size)
{
	uint64_t a = (uint64_t)size + size / 4 + (64u << 10);

	return a < r->max_input ? a : r->max_input;
}

/* Tells the guard what the bodies of uids[0..n) may take: their bytes,
 * the largest one, and a second per 256 KiB on top of the timeout (a
 * slow link is not a dripping server). */
static void
allow_bodies(struct imap_batch *r, const uint32_t *uids, size_t n)
{
	uint64_t sum = 0, a, largest = 0;
	const struct imap_msg *m;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((m = find_msg(r, uids[i])) == NULL)
			continue;
		a = body_allowance(r, m->size);
		sum += a;
		largest = a > largest ? a : largest;
	}
	r->item_max = largest;
	imap_guard_allow(&r->conn->guard, sum, largest,
	                 (unsigned)(sum / (256u << 10)));
}

/* A FETCH of bodies failed on a limit: a message (or the server) sent
 * more than announced.  1 if so, with the reason in overflow_why. */
static int
body_overflow(struct imap_batch *r)
{
	const struct imap_guard *g = &r->conn->guard;

	if (r->overflow)
		return 1;
	if (g->trip != GUARD_BYTES && g->trip != GUARD_LITERAL &&
	    g->trip != GUARD_LINE)
		return 0;
	imap_guard_explain(g, r->overflow_why, sizeof(r->overflow_why));
	return 1;
}

/* UID FETCH (UID BODY.PEEK[]) for uids[0..n).  When a body passes its
 * size, returns -1 with r->overflow set and the connection dropped: the
 * caller finds the message and reconnects. */
static int
fetch_bodies(struct imap_batch *r, const uint32_t *uids, size_t n, int *ex,
             struct err *e)
{
	struct imap_conn *c = r->conn;
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	clist *list = NULL;
	int rv;

	if ((set = imap_uid_set(uids, n)) == NULL ||
	    (ft = fetch_type(1)) == NULL) {
		if (set != NULL)
			mailimap_set_free(set);
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	log_debug(r->lg, "UID FETCH BODY.PEEK[] of %zu messages", n);
	buf_init(&r->pending, (size_t)r->max_input);
	r->overflow = 0;
	allow_bodies(r, uids, n);
	mailimap_set_msg_body_handler(c->imap, on_body, r);
	mailimap_set_msg_att_handler(c->imap, on_att, r);
	mailimap_set_progress_callback(c->imap, NULL, on_progress, r);
	rv = mailimap_uid_fetch(c->imap, set, ft, &list);
	mailimap_set_msg_body_handler(c->imap, NULL, NULL);
	mailimap_set_msg_att_handler(c->imap, NULL, NULL);
	mailimap_set_progress_callback(c->imap, NULL, NULL, NULL);
	imap_guard_allow(&c->guard, 0, 0, 0);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	buf_free(&r->pending);
	if (list != NULL)
		mailimap_fetch_list_free(list);
	if (rv != MAILIMAP_NO_ERROR && body_overflow(r)) {
		imap_conn_drop(c);
		r->overflow = 1;
		*ex = EX_TEMPFAIL;
		return err_set(e, "%s: %s; connection closed", r->url,
		               r->overflow_why);
	}
	if (rv != MAILIMAP_NO_ERROR) {
		*ex = imap_conn_fail(c, rv, "UID FETCH (BODY.PEEK[])",
		                     EX_PROTOCOL, e);
		return -1;
	}
	imap_conn_touch(c);
	return 0;
}

/* The next UIDs to fetch from msgs[i..]: within FETCH_BUDGET, one at a
 * time after an overflow; the ones over max_input are left out (they are
 * handed out without a body). */
static void
plan_chunk(struct imap_batch *r, size_t i, uint32_t *uids, size_t *n)
{
	uint64_t bytes = 0;
	struct imap_msg *m;

	*n = 0;
	for (; i < r->nmsgs; i++) {
		m = &r->msgs[i];
		if (m->done || m->got || m->oversent || !m->listed ||
		    m->size > r->max_input)
			continue;
		if (*n > 0 && (r->one_by_one || bytes + m->size > FETCH_BUDGET))
			break;
		uids[(*n)++] = m->uid;
		bytes += m->size;
	}
}

/* Fetches the bodies of the next chunk from msgs[cursor..].  After a
 * FETCH that was cut off: alone, the message is the one; with others,
 * they are fetched one by one from now on to find it. */
static int
fetch_chunk(struct imap_batch *r, int *ex, struct err *e)
{
	struct imap_msg *m;
	uint32_t *uids;
	size_t n, k;
	int rc = 0;

	if ((uids = calloc(r->nmsgs, sizeof(*uids))) == NULL) {
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	plan_chunk(r, r->cursor, uids, &n);
	if (n > 0 && fetch_bodies(r, uids, n, ex, e) == -1) {
		rc = -1;
		if (r->overflow) {
			if (n == 1 && (m = find_msg(r, uids[0])) != NULL)
				m->oversent = 1;
			else
				r->one_by_one = 1;
			rc = IMAP_BATCH_RECONNECT;
		}
	} else {
		for (k = 0; k < n; k++) /* not returned: skipped */
			if (!find_msg(r, uids[k])->got)
				find_msg(r, uids[k])->done = 1;
	}
	free(uids);
	return rc;
}

int
imap_batch_next(struct imap_batch *r, struct imap_msg **out, int *ex,
                struct err *e)
{
	struct imap_msg *m;
	int rc;

	*out = NULL;
	while (r->cursor < r->nmsgs) {
		m = &r->msgs[r->cursor];
		if (m->done || !m->listed) { /* expunged by someone meanwhile */
			m->done = 1;
			r->cursor++;
			continue;
		}
		if (m->got || m->oversent || m->size > r->max_input) {
			m->done = 1;
			r->cursor++;
			*out = m;
			return 0;
		}
		if ((rc = fetch_chunk(r, ex, e)) != 0)
			return rc;
	}
	return 0;
}

int
imap_batch_load(struct imap_batch *r, const uint32_t *uids, size_t n, int *ex,
                struct err *e)
{
	size_t i;

	imap_batch_free(r);
	if ((r->msgs = calloc(n, sizeof(*r->msgs))) == NULL) {
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	r->nmsgs = n;
	r->cursor = 0;
	r->one_by_one = 0;
	for (i = 0; i < n; i++) {
		r->msgs[i].uid = uids[i];
		buf_init(&r->msgs[i].body, (size_t)r->max_input);
	}
	return fetch_sizes(r, ex, e);
}

void
imap_batch_free(struct imap_batch *r)
{
	size_t i;

	for (i = 0; i < r->nmsgs; i++)
		buf_free(&r->msgs[i].body);
	free(r->msgs);
	r->msgs = NULL;
	r->nmsgs = r->cursor = 0;
}
