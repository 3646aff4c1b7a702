/*
 * fetch-imap.c - the configured IMAP folder: every message in it that is
 * not yet \Seen (every one with --all), imported like a local .eml, then
 * moved out of the way.
 *
 * At-least-once fetching plus duplicate detection gives exactly-once
 * storage: a message leaves the folder only after the transaction that
 * stored its reports is committed, so a crash, a kill -9 or a dropped
 * connection at any point leaves the message in the folder, and the next
 * run fetches it again and finds its reports already stored.
 *
 * The folder is drained in one run, `batch` messages at a time: one
 * UID FETCH for their sizes, one (or more, to keep memory bounded) for
 * their bodies, then the imports, one commit, and one MOVE per
 * destination.  A message larger than --max-input is not downloaded at
 * all; a server that sends more than it announced is cut off while it
 * sends (libetpan would otherwise allocate whatever size the server
 * names).  A message that cannot be used is saved in quarantine/ in the
 * store's state directory (beside a SQLite file), then moved to the failed folder; it is never deleted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "fetch.h"
#include "imap-conn.h"
#include "imap-dispose.h"
#include "imap-name.h"
#include "imap-quarantine.h"

/* Bodies of one UID FETCH, in total; one message alone may be larger (up
 * to --max-input). */
#define FETCH_BUDGET (64u << 20)

struct msg {
	uint32_t uid;
	uint32_t size; /* RFC822.SIZE */
	int listed;    /* the size FETCH returned it */
	int got;       /* its body arrived */
	int oversent;  /* alone in a FETCH, it passed its announced size */
	int done;      /* imported, rejected or skipped */
	struct buf body;
};

struct run {
	struct fetch_ctx *fc;
	struct store *st;
	const struct imap_config *cfg;
	const char *statedir; /* store_state_dir(): quarantine/ goes there */
	struct fetch_imap_result *res;
	struct imap_conn conn;
	struct imap_dispose disp;
	char *mbox, *archive, *failed; /* server names; NULL: mark \Seen */
	char url[1024];		       /* imap://user@host/folder */
	char key[1024];		       /* user@host/folder, for imap_state */
	uint32_t uidvalidity, last_uid;
	unsigned long total;

	/* the batch being fetched */
	struct msg *msgs;
	size_t nmsgs;
	struct buf pending; /* body of the FETCH item being received */
	uint64_t item_max;  /* bytes one body of this FETCH may have */
	int overflow;	    /* a body was larger than announced */
	char overflow_why[300];
	int one_by_one;	    /* a FETCH overflowed: find which message */
	unsigned reconnects;
	uint32_t *good, *bad;
	size_t ngood, nbad;
};

/* --- names ------------------------------------------------------------- */

/* user@host for URLs: the characters that would end the user part are
 * %-escaped, like in RFC 5092. */
static void
make_names(struct run *r)
{
	const struct imap_config *ic = r->cfg;
	const unsigned char *p;
	char user[512];
	size_t n = 0;
	int v6 = strchr(ic->host, ':') != NULL;

	for (p = (const unsigned char *)ic->user; *p && n + 4 < sizeof(user);
	     p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr("@/;:%?#", *p))
			n += (size_t)snprintf(user + n, sizeof(user) - n,
			    "%%%02X", *p);
		else
			user[n++] = (char)*p;
	}
	user[n] = '\0';
	snprintf(r->url, sizeof(r->url), "imap://%s@%s%s%s/%s", user,
	    v6 ? "[" : "", ic->host, v6 ? "]" : "", ic->folder);
	snprintf(r->key, sizeof(r->key), "%s@%s/%s", ic->user, ic->host,
	    ic->folder);
}

static int
server_names(struct run *r, int *ex, struct err *e)
{
	const struct imap_config *ic = r->cfg;
	struct imap_conn *c = &r->conn;

	if (imap_folder_name(ic->folder, c->delim, c->prefix, &r->mbox, e) ==
		-1 ||
	    (ic->archive_folder[0] != '\0' &&
		imap_folder_name(ic->archive_folder, c->delim, c->prefix,
		    &r->archive, e) == -1) ||
	    (ic->failed_folder[0] != '\0' &&
		imap_folder_name(ic->failed_folder, c->delim, c->prefix,
		    &r->failed, e) == -1)) {
		*ex = EX_CONFIG;
		return -1;
	}
	log_debug(r->fc->lg, "folders: %s, archive %s, failed %s", r->mbox,
	    r->archive ? r->archive : "(mark read)",
	    r->failed ? r->failed : "(mark read)");
	return 0;
}

/* --- selecting and searching ------------------------------------------- */

static int
select_folder(struct run *r, int *ex, struct err *e)
{
	struct imap_conn *c = &r->conn;
	struct mailimap_selection_info *si;
	struct err se;
	char what[700];
	uint32_t old_validity = 0, old_last = 0;
	int rv, found = 0;

	rv = mailimap_select(c->imap, r->mbox);
	if (rv != MAILIMAP_NO_ERROR) {
		snprintf(what, sizeof(what), "cannot open the folder %s (%s)",
		    r->cfg->folder, r->mbox);
		*ex = imap_conn_fail(c, rv, what, EX_CONFIG, e);
		return -1;
	}
	imap_conn_touch(c);
	si = c->imap->imap_selection_info;
	if (si != NULL && si->sel_perm == MAILIMAP_MAILBOX_READONLY) {
		*ex = EX_NOPERM;
		return err_set(e, "the folder %s is read-only for %s: messages "
				  "could not be moved or marked",
		    r->cfg->folder, r->cfg->user);
	}
	r->uidvalidity = si != NULL ? si->sel_uidvalidity : 0;
	if (store_imap_get(r->st, r->key, &old_validity, &old_last, &found,
		&se) == -1) {
		*ex = EX_IOERR;
		*e = se;
		return -1;
	}
	if (found && old_validity == r->uidvalidity)
		r->last_uid = old_last;
	else if (found)
		log_info(r->fc->lg, "%s: UIDVALIDITY changed from %u to %u "
				    "(the folder was recreated); messages are "
				    "chosen by their flags, so none is missed",
		    r->url, old_validity, r->uidvalidity);
	return 0;
}

static struct mailimap_search_key *
simple_key(int type)
{
	return mailimap_search_key_new(type, NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL,
	    NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL);
}

static int
cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* UID SEARCH UNDELETED [UNSEEN]: \Deleted messages are on their way out
 * (ours too, when a run died between UID STORE and UID EXPUNGE). */
static int
search(struct run *r, uint32_t **uids, size_t *n, int *ex, struct err *e)
{
	struct imap_conn *c = &r->conn;
	struct mailimap_search_key *key, *k;
	clist *result = NULL;
	clistiter *it;
	int rv;

	*uids = NULL;
	*n = 0;
	if ((key = mailimap_search_key_new_multiple_empty()) == NULL)
		goto nomem;
	if ((k = simple_key(MAILIMAP_SEARCH_KEY_UNDELETED)) == NULL ||
	    mailimap_search_key_multiple_add(key, k) != MAILIMAP_NO_ERROR)
		goto nomem_key;
	if (!r->cfg->all &&
	    ((k = simple_key(MAILIMAP_SEARCH_KEY_UNSEEN)) == NULL ||
		mailimap_search_key_multiple_add(key, k) != MAILIMAP_NO_ERROR))
		goto nomem_key;
	rv = mailimap_uid_search(c->imap, NULL, key, &result);
	mailimap_search_key_free(key);
	if (rv != MAILIMAP_NO_ERROR) {
		*ex = imap_conn_fail(c, rv, "UID SEARCH", EX_PROTOCOL, e);
		return -1;
	}
	imap_conn_touch(c);
	if (!clist_isempty(result) &&
	    (*uids = calloc((size_t)clist_count(result), sizeof(**uids))) ==
		NULL) {
		mailimap_search_result_free(result);
		goto nomem;
	}
	for (it = clist_begin(result); it != NULL; it = clist_next(it))
		(*uids)[(*n)++] = *(uint32_t *)clist_content(it);
	mailimap_search_result_free(result);
	if (*n > 1)
		qsort(*uids, *n, sizeof(**uids), cmp_uid);
	return 0;
nomem_key:
	if (k != NULL)
		mailimap_search_key_free(k);
	mailimap_search_key_free(key);
nomem:
	*ex = EX_OSERR;
	return err_set(e, "out of memory");
}

/* --- fetching ---------------------------------------------------------- */

static struct msg *
find_msg(struct run *r, uint32_t uid)
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
on_body(int type, struct mailimap_msg_att_body_section *sec,
    const char *bytes, size_t len, void *arg)
{
	struct run *r = arg;
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
	struct run *r = arg;
	struct msg *m;
	uint32_t uid, size;
	int has_body;

	read_att(att, &uid, &size, &has_body);
	if (has_body && (m = find_msg(r, uid)) != NULL && !m->got) {
		buf_free(&m->body);
		m->body = r->pending;
		m->got = 1;
		buf_init(&r->pending, (size_t)r->fc->lim->max_input);
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
fetch_sizes(struct run *r, int *ex, struct err *e)
{
	struct imap_conn *c = &r->conn;
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	uint32_t *uids, uid, size;
	clist *list = NULL;
	clistiter *it;
	struct msg *m;
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
body_allowance(const struct run *r, uint32_t size)
{
	uint64_t a = (uint64_t)size + size / 4 + (64u << 10);

	return a < r->fc->lim->max_input ? a : r->fc->lim->max_input;
}

/* Tells the guard what the bodies of uids[0..n) may take: their bytes,
 * the largest one, and a second per 256 KiB on top of the timeout (a
 * slow link is not a dripping server). */
static void
allow_bodies(struct run *r, const uint32_t *uids, size_t n)
{
	uint64_t sum = 0, a, largest = 0;
	const struct msg *m;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((m = find_msg(r, uids[i])) == NULL)
			continue;
		a = body_allowance(r, m->size);
		sum += a;
		largest = a > largest ? a : largest;
	}
	r->item_max = largest;
	imap_guard_allow(&r->conn.guard, sum, largest,
	    (unsigned)(sum / (256u << 10)));
}

/* A FETCH of bodies failed on a limit: a message (or the server) sent
 * more than announced.  1 if so, with the reason in overflow_why. */
static int
body_overflow(struct run *r)
{
	const struct imap_guard *g = &r->conn.guard;

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
fetch_bodies(struct run *r, const uint32_t *uids, size_t n, int *ex,
    struct err *e)
{
	struct imap_conn *c = &r->conn;
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
	log_debug(r->fc->lg, "UID FETCH BODY.PEEK[] of %zu messages", n);
	buf_init(&r->pending, (size_t)r->fc->lim->max_input);
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

/* --- importing --------------------------------------------------------- */

static void
progress(struct run *r)
{
	struct import_stats live, *s = &live;
	unsigned long done = r->res->fetched + r->res->too_large;

	import_stats_live(r->fc->imp, &live);
	if (!r->fc->progress || (done % 10 != 0 && done != r->total))
		return;
	fprintf(stderr, "\r%lu/%lu messages, %lu reports stored, %lu "
			"duplicates, %lu failed ",
	    done, r->total, s->stored, s->duplicates, r->res->failed);
	fflush(stderr);
}

/* A message that cannot be used: keep its bytes, then it goes to the
 * failed folder with the others of the batch. */
static int
quarantine(struct run *r, const struct msg *m, const char *src, int *ex,
    struct err *e)
{
	char path[4096];

	if (quarantine_save(r->statedir, r->uidvalidity, m->uid, m->body.data,
		m->body.len, path, sizeof(path), e) == -1) {
		*ex = EX_CANTCREAT;
		return err_prefix(e, "%s: the message stays in %s", src,
		    r->cfg->folder);
	}
	log_warn(r->fc->lg, "%s: kept as %s; the message goes to %s%s", src,
	    path, r->failed ? "" : "read messages in ",
	    r->failed ? r->cfg->failed_folder : r->cfg->folder);
	return 0;
}

static int
import_msg(struct run *r, struct msg *m, int *ex, struct err *e)
{
	enum input_result result;
	struct origin o;
	char src[1100];

	snprintf(src, sizeof(src), "%s;UID=%u", r->url, m->uid);
	memset(&o, 0, sizeof(o));
	o.kind = ORIGIN_MEM;
	o.mem = (const unsigned char *)(m->body.data ? m->body.data : "");
	o.len = m->body.len;
	r->res->fetched++;
	m->done = 1;
	if (import_input(r->fc->imp, &o, src, &result, e) == -1) {
		*ex = EX_IOERR;
		return -1;
	}
	if (result == INPUT_OK) {
		r->good[r->ngood++] = m->uid;
	} else {
		if (quarantine(r, m, src, ex, e) == -1)
			return -1;
		r->bad[r->nbad++] = m->uid;
		r->res->failed++;
	}
	buf_free(&m->body);
	progress(r);
	return 0;
}

/* A message that is not imported as it is: over --max-input (not
 * downloaded), or larger than the server announced (cut off).  It is
 * rejected, and moved to the failed folder with the others of the batch;
 * there is no whole copy to keep in quarantine. */
static int
reject_msg(struct run *r, struct msg *m, const char *why, int *ex,
    struct err *e)
{
	char src[1100];

	snprintf(src, sizeof(src), "%s;UID=%u", r->url, m->uid);
	if (import_reject_input(r->fc->imp, src, why, e) == -1) {
		*ex = EX_IOERR;
		return -1;
	}
	if (r->failed)
		log_warn(r->fc->lg, "%s: moved to %s", src,
		    r->cfg->failed_folder);
	r->bad[r->nbad++] = m->uid;
	r->res->failed++;
	m->done = 1;
	progress(r);
	return 0;
}

static int
reject_large(struct run *r, struct msg *m, int *ex, struct err *e)
{
	char why[200];

	snprintf(why, sizeof(why), "message of %u bytes is larger than "
				   "--max-input (%llu); not downloaded",
	    m->size, (unsigned long long)r->fc->lim->max_input);
	r->res->too_large++;
	return reject_msg(r, m, why, ex, e);
}

static int
reject_oversent(struct run *r, struct msg *m, int *ex, struct err *e)
{
	char why[500];

	snprintf(why, sizeof(why), "the server announced %u bytes for this "
				   "message and sent more (%s); not imported",
	    m->size, r->overflow_why);
	return reject_msg(r, m, why, ex, e);
}

/* Opens the session again after a FETCH was cut off, at most
 * MAX_RECONNECTS times a run (a server that overflows every time is
 * broken, not unlucky). */
#define MAX_RECONNECTS 10

static int
reconnect(struct run *r, int *ex, struct err *e)
{
	struct err ce;
	uint32_t validity = r->uidvalidity, last = r->last_uid;

	if (++r->reconnects > MAX_RECONNECTS) {
		*ex = EX_TEMPFAIL;
		return err_prefix(e, "giving up after %d reconnections",
		    MAX_RECONNECTS);
	}
	log_info(r->fc->lg, "%s; reconnecting", e->msg);
	imap_conn_close(&r->conn);
	if (imap_conn_open(&r->conn, r->cfg, r->fc->lg, ex, &ce) == -1 ||
	    select_folder(r, ex, &ce) == -1) {
		*e = ce;
		return -1;
	}
	r->last_uid = last;
	if (r->uidvalidity != validity) {
		*ex = EX_TEMPFAIL;
		return err_set(e, "%s: UIDVALIDITY changed while reconnecting; "
				  "the next run starts over",
		    r->url);
	}
	return 0;
}

/* The next UIDs to fetch from msgs[i..]: within FETCH_BUDGET (one at a
 * time after an overflow), rejecting the ones over --max-input on the
 * way.  *j is where the chunk ends. */
static int
plan_chunk(struct run *r, size_t i, uint32_t *uids, size_t *n, size_t *j,
    int *ex, struct err *e)
{
	uint64_t bytes = 0;
	struct msg *m;

	*n = 0;
	for (*j = i; *j < r->nmsgs; (*j)++) {
		m = &r->msgs[*j];
		if (m->done || m->got || m->oversent)
			continue;
		if (!m->listed) { /* expunged by someone meanwhile */
			m->done = 1;
			continue;
		}
		if (m->size > r->fc->lim->max_input) {
			if (reject_large(r, m, ex, e) == -1)
				return -1;
			continue;
		}
		if (*n > 0 &&
		    (r->one_by_one || bytes + m->size > FETCH_BUDGET))
			break;
		uids[(*n)++] = m->uid;
		bytes += m->size;
	}
	return 0;
}

/* After a FETCH of uids[0..n) was cut off: alone, the message is the
 * one; with others, they are fetched one by one from now on to find
 * it.  Either way the session is opened again. */
static int
after_overflow(struct run *r, const uint32_t *uids, size_t n, int *ex,
    struct err *e)
{
	struct msg *m;

	if (n == 1 && (m = find_msg(r, uids[0])) != NULL)
		m->oversent = 1;
	else
		r->one_by_one = 1;
	return reconnect(r, ex, e);
}

/* Imports or rejects what is ready in msgs[i..j); returns in *next the
 * first message still to fetch (after an overflow), or j. */
static int
import_ready(struct run *r, size_t i, size_t j, size_t *next, int *ex,
    struct err *e)
{
	struct msg *m;
	int rc = 0;

	*next = j;
	for (; i < j && rc == 0; i++) {
		m = &r->msgs[i];
		if (m->done)
			continue;
		if (m->got) {
			rc = import_msg(r, m, ex, e);
			m->done = 1;
		} else if (m->oversent) {
			rc = reject_oversent(r, m, ex, e);
		} else {
			*next = i < *next ? i : *next;
			continue;
		}
		if (rc == 0)
			rc = imap_conn_keepalive(&r->conn, ex, e);
	}
	return rc;
}

/* Fetches and imports the listed messages of the batch, several bodies
 * per UID FETCH within FETCH_BUDGET.  A message that turns out larger
 * than announced is rejected on its own; the others are imported. */
static int
import_batch(struct run *r, int *ex, struct err *e)
{
	uint32_t *uids;
	size_t i = 0, j, n, k;
	int rc = 0;

	if ((uids = calloc(r->nmsgs, sizeof(*uids))) == NULL) {
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	r->one_by_one = 0;
	while (i < r->nmsgs && rc == 0) {
		if ((rc = plan_chunk(r, i, uids, &n, &j, ex, e)) == -1)
			break;
		if (n > 0 && fetch_bodies(r, uids, n, ex, e) == -1) {
			if (!r->overflow ||
			    (rc = after_overflow(r, uids, n, ex, e)) == -1)
				rc = -1;
		} else {
			for (k = 0; k < n; k++) /* not returned: skipped */
				if (!find_msg(r, uids[k])->got)
					find_msg(r, uids[k])->done = 1;
		}
		if (rc == 0)
			rc = import_ready(r, i, j, &i, ex, e);
	}
	free(uids);
	return rc;
}

static void
free_batch(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nmsgs; i++)
		buf_free(&r->msgs[i].body);
	free(r->msgs);
	free(r->good);
	free(r->bad);
	r->msgs = NULL;
	r->good = r->bad = NULL;
	r->nmsgs = r->ngood = r->nbad = 0;
}

/* One batch: sizes, bodies, imports, commit, then the messages leave. */
static int
run_batch(struct run *r, const uint32_t *uids, size_t n, int *ex,
    struct err *e)
{
	struct err se;
	uint32_t top = r->last_uid;
	size_t i;

	r->msgs = calloc(n, sizeof(*r->msgs));
	r->good = calloc(n, sizeof(*r->good));
	r->bad = calloc(n, sizeof(*r->bad));
	if (r->msgs == NULL || r->good == NULL || r->bad == NULL) {
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	r->nmsgs = n;
	for (i = 0; i < n; i++) {
		r->msgs[i].uid = uids[i];
		buf_init(&r->msgs[i].body, (size_t)r->fc->lim->max_input);
	}
	if (fetch_sizes(r, ex, e) == -1 || import_batch(r, ex, e) == -1)
		return -1;

	/* the reports are on disk before any message leaves the folder */
	if (import_flush(r->fc->imp, e) == -1) {
		*ex = EX_IOERR;
		return -1;
	}
	if (imap_dispose(&r->disp, r->good, r->ngood, r->archive,
		r->cfg->archive_folder, r->cfg->mark_seen, ex, e) == -1 ||
	    imap_dispose(&r->disp, r->bad, r->nbad, r->failed,
		r->cfg->failed_folder, 0, ex, e) == -1)
		return -1;
	if (r->archive != NULL)
		r->res->moved += r->ngood;
	if (r->failed != NULL)
		r->res->moved += r->nbad;
	for (i = 0; i < r->ngood; i++)
		top = r->good[i] > top ? r->good[i] : top;
	for (i = 0; i < r->nbad; i++)
		top = r->bad[i] > top ? r->bad[i] : top;
	if (top != r->last_uid) {
		if (store_imap_set(r->st, r->key, r->uidvalidity, top, &se) ==
		    -1) {
			*ex = EX_IOERR;
			*e = se;
			return -1;
		}
		r->last_uid = top;
	}
	return 0;
}

int
fetch_imap(struct fetch_ctx *fc, struct store *st,
    const struct imap_config *cfg, const char *statedir,
    struct fetch_imap_result *res, struct err *e)
{
	struct run r;
	struct err fe;
	uint32_t *uids = NULL;
	size_t n = 0, i, step;
	int rc = -1, ex = EX_SOFTWARE;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	r.fc = fc;
	r.st = st;
	r.cfg = cfg;
	r.statedir = statedir;
	r.res = res;
	make_names(&r);

	if (imap_conn_open(&r.conn, cfg, fc->lg, &ex, e) == -1) {
		res->status = ex;
		return -1;
	}
	imap_dispose_init(&r.disp, &r.conn);
	if (server_names(&r, &ex, e) == -1 || select_folder(&r, &ex, e) == -1 ||
	    search(&r, &uids, &n, &ex, e) == -1)
		goto out;
	r.total = n;
	log_debug(fc->lg, "%s: %zu message%s to fetch (UIDVALIDITY %u)", r.url,
	    n, n == 1 ? "" : "s", r.uidvalidity);
	for (i = 0; i < n; i += step) {
		step = n - i < cfg->batch ? n - i : cfg->batch;
		if (run_batch(&r, uids + i, step, &ex, e) == -1)
			goto out;
		free_batch(&r);
	}
	if (imap_dispose_mark_seen(&r.disp, cfg->archive_folder, &ex, e) == -1)
		goto out;
	rc = 0;
out:
	free_batch(&r);
	/* what was imported stays imported, moved or not: the next run
	 * finds it as duplicates */
	if (rc == -1 && import_flush(fc->imp, &fe) == -1)
		log_error(fc->lg, "%s", fe.msg);
	free(uids);
	imap_dispose_free(&r.disp);
	imap_conn_close(&r.conn);
	free(r.mbox);
	free(r.archive);
	free(r.failed);
	res->status = rc == 0 ? EX_OK : ex;
	return rc;
}
