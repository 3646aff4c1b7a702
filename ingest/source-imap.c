/*
 * source-imap.c - the IMAP driver of source.h: the folder of an [imap]
 * (or [imap "name"]) section of the configuration.  Every message in it
 * that is not yet \Seen (every one with --all) is handed out, a batch at
 * a time (imap-batch.c); once the batch's reports are committed the
 * handled messages go to the archive folder and the failed ones to the
 * failed folder (imap-dispose.c), or are only marked \Seen.
 *
 * At-least-once fetching plus duplicate detection gives exactly-once
 * storage: source.c commits before commit() here moves anything, so a
 * crash, a kill -9 or a dropped connection at any point leaves the
 * message in the folder, and the next run finds its reports stored.
 *
 * The last UID seen per folder and UIDVALIDITY is kept in the store
 * (store_imap_get/set), keyed by user@host/folder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "config-imap.h"
#include "imap-batch.h"
#include "imap-conn.h"
#include "imap-dispose.h"
#include "imap-name.h"
#include "imap-watch.h"
#include "source.h"
#include "store.h"

/* Opens the session again after a FETCH was cut off, at most
 * MAX_RECONNECTS times a run (a server that overflows every time is
 * broken, not unlucky). */
#define MAX_RECONNECTS 10

struct imap_source {
	struct source base; /* first: a struct source * is one of these */
	const struct imap_config *cfg;
	int all;    /* --all: every message, not only unseen ones */
	char *name; /* the mailbox's name in the configuration, "" default */
	struct store *st;
	const struct logger *lg;
	const struct limits *lim;
	struct imap_conn conn;
	struct imap_dispose disp;
	char *mbox, *archive, *failed; /* server names; NULL: mark \Seen */
	char key[1024];                /* user@host/folder, for imap_state */
	uint32_t uidvalidity, last_uid;
	unsigned reconnects;

	uint32_t *uids; /* what UID SEARCH found */
	size_t nuids, next_uid;
	struct imap_batch batch;
	int loaded;           /* batch holds messages still to hand out */
	int handed;           /* a message was handed out since the last NOOP */
	uint32_t *good, *bad; /* settled UIDs of the batch */
	size_t ngood, nbad;
	char msgname[1100]; /* the message handed out: url;UID=n */
	char why[600];
	char stem[128]; /* its quarantine name */
};

/* user@host for URLs: the characters that would end the user part are
 * %-escaped, like in RFC 5092. */
static void
make_names(struct imap_source *r)
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
	snprintf(r->base.where, sizeof(r->base.where), "imap://%s@%s%s%s/%s",
	         user, v6 ? "[" : "", ic->host, v6 ? "]" : "", ic->folder);
	snprintf(r->key, sizeof(r->key), "%s@%s/%s", ic->user, ic->host,
	         ic->folder);
}

static int
server_names(struct imap_source *r, int *ex, struct err *e)
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
	log_debug(r->lg, "folders: %s, archive %s, failed %s", r->mbox,
	          r->archive ? r->archive : "(mark read)",
	          r->failed ? r->failed : "(mark read)");
	return 0;
}

static int
select_folder(struct imap_source *r, int *ex, struct err *e)
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
		return err_set(e,
		               "the folder %s is read-only for %s: messages "
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
		log_info(r->lg,
		         "%s: UIDVALIDITY changed from %u to %u "
		         "(the folder was recreated); messages are "
		         "chosen by their flags, so none is missed",
		         r->base.where, old_validity, r->uidvalidity);
	return 0;
}

static struct mailimap_search_key *
simple_key(int type)
{
	return mailimap_search_key_new(type, NULL, NULL, NULL, NULL, NULL, NULL,
	                               NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	                               NULL, 0, NULL, NULL, NULL, NULL, NULL,
	                               NULL, 0, NULL, NULL, NULL);
}

static int
cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Which messages, besides the \Deleted ones, the search leaves out: the
 * \Seen ones, unless --all.  With --all, a server that has neither MOVE
 * nor UIDPLUS keeps the originals of what was archived (copied, marked
 * \Seen): the ones up to the folder's last UID processed under this
 * UIDVALIDITY are left out unless someone marked them unread again, so they
 * are never copied into the archive a second time.  *k is NULL when no
 * message is left out. */
static int
choice_key(struct imap_source *r, struct mailimap_search_key **k)
{
	struct mailimap_search_key *unseen, *above;
	struct mailimap_set *set;

	*k = NULL;
	if (r->all && (r->conn.has_move || r->conn.has_uidplus ||
	               r->last_uid == 0 || r->last_uid >= UINT32_MAX - 1))
		return 0;
	if ((unseen = simple_key(MAILIMAP_SEARCH_KEY_UNSEEN)) == NULL)
		return -1;
	if (!r->all) {
		*k = unseen;
		return 0;
	}
	log_debug(r->lg,
	          "%s: no MOVE or UIDPLUS: with --all, only unread "
	          "messages and those after UID %u",
	          r->base.where, r->last_uid);
	/* not "n:*" (nor n:4294967295, which dovecot reads as "*"): with n
	 * above the last UID, that is the last message */
	if ((set = mailimap_set_new_interval(r->last_uid + 1,
	                                     UINT32_MAX - 1)) == NULL) {
		mailimap_search_key_free(unseen);
		return -1;
	}
	if ((above = mailimap_search_key_new_uid(set)) == NULL) {
		mailimap_set_free(set);
		mailimap_search_key_free(unseen);
		return -1;
	}
	if ((*k = mailimap_search_key_new_or(unseen, above)) == NULL) {
		mailimap_search_key_free(unseen);
		mailimap_search_key_free(above);
		return -1;
	}
	return 0;
}

/* UID SEARCH UNDELETED [UNSEEN]: \Deleted messages are on their way out
 * (ours too, when a run died between UID STORE and UID EXPUNGE). */
static int
search(struct imap_source *r, uint32_t **uids, size_t *n, int *ex,
       struct err *e)
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
	if (choice_key(r, &k) == -1 ||
	    (k != NULL &&
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

/* --- the driver ---------------------------------------------------------- */

static int
imap_connect(struct source *s, int *ex, struct err *e)
{
	struct imap_source *r = (struct imap_source *)s;

	if (imap_conn_open(&r->conn, r->cfg, r->lg, ex, e) == -1)
		return -1;
	imap_dispose_init(&r->disp, &r->conn);
	r->batch.conn = &r->conn;
	if (server_names(r, ex, e) == -1 || select_folder(r, ex, e) == -1 ||
	    search(r, &r->uids, &r->nuids, ex, e) == -1)
		return -1;
	r->base.stats.total = r->nuids;
	log_debug(r->lg, "%s: %zu message%s to fetch (UIDVALIDITY %u)",
	          r->base.where, r->nuids, r->nuids == 1 ? "" : "s",
	          r->uidvalidity);
	return 0;
}

static int
reconnect(struct imap_source *r, int *ex, struct err *e)
{
	struct err ce;
	uint32_t validity = r->uidvalidity, last = r->last_uid;

	if (++r->reconnects > MAX_RECONNECTS) {
		*ex = EX_TEMPFAIL;
		return err_prefix(e, "giving up after %d reconnections",
		                  MAX_RECONNECTS);
	}
	log_info(r->lg, "%s; reconnecting", e->msg);
	imap_conn_close(&r->conn);
	if (imap_conn_open(&r->conn, r->cfg, r->lg, ex, &ce) == -1 ||
	    select_folder(r, ex, &ce) == -1) {
		*e = ce;
		return -1;
	}
	r->last_uid = last;
	if (r->uidvalidity != validity) {
		*ex = EX_TEMPFAIL;
		return err_set(e,
		               "%s: UIDVALIDITY changed while reconnecting; "
		               "the next run starts over",
		               r->base.where);
	}
	return 0;
}

/* The next batch of UIDs: its sizes, and room for the verdicts. */
static int
load_batch(struct imap_source *r, int *ex, struct err *e)
{
	size_t n = r->nuids - r->next_uid;

	n = n < r->cfg->batch ? n : r->cfg->batch;
	free(r->good);
	free(r->bad);
	r->good = calloc(n, sizeof(*r->good));
	r->bad = calloc(n, sizeof(*r->bad));
	r->ngood = r->nbad = 0;
	if (r->good == NULL || r->bad == NULL) {
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	if (imap_batch_load(&r->batch, r->uids + r->next_uid, n, ex, e) == -1)
		return -1;
	r->next_uid += n;
	r->loaded = 1;
	return 0;
}

/* What the source hands out for m: its body, or why there is none. */
static void
describe_msg(struct imap_source *r, struct imap_msg *m, struct source_msg *out)
{
	snprintf(r->msgname, sizeof(r->msgname), "%s;UID=%u", r->base.where,
	         m->uid);
	out->name = r->msgname;
	out->token = m;
	out->origin.kind = ORIGIN_MEM;
	if (m->got) {
		out->origin.mem =
		    (const unsigned char *)(m->body.data ? m->body.data : "");
		out->origin.len = m->body.len;
		if (r->name[0] != '\0')
			snprintf(r->stem, sizeof(r->stem), "%s-%u-%u", r->name,
			         r->uidvalidity, m->uid);
		else
			snprintf(r->stem, sizeof(r->stem), "%u-%u",
			         r->uidvalidity, m->uid);
		out->keep_as = r->stem;
	} else if (m->oversent) {
		snprintf(r->why, sizeof(r->why),
		         "the server announced %u "
		         "bytes for this message and "
		         "sent more (%s); not imported",
		         m->size, r->batch.overflow_why);
		out->why = r->why;
	} else {
		snprintf(r->why, sizeof(r->why),
		         "message of %u bytes is "
		         "larger than --max-input "
		         "(%llu); not downloaded",
		         m->size, (unsigned long long)r->lim->max_input);
		r->base.stats.too_large++;
		out->why = r->why;
	}
}

static int
imap_next(struct source *s, struct source_msg *out, int *ex, struct err *e)
{
	struct imap_source *r = (struct imap_source *)s;
	struct imap_msg *m;
	int rc;

	if (!r->loaded) {
		if (r->next_uid >= r->nuids)
			return SOURCE_END;
		if (load_batch(r, ex, e) == -1)
			return -1;
	}
	/* a long import since the last answer: keep the session alive */
	if (r->handed && imap_conn_keepalive(&r->conn, ex, e) == -1)
		return -1;
	r->handed = 0;
	while ((rc = imap_batch_next(&r->batch, &m, ex, e)) != 0) {
		if (rc == -1 || reconnect(r, ex, e) == -1)
			return -1;
	}
	if (m == NULL) {
		imap_batch_free(&r->batch);
		r->loaded = 0;
		return r->next_uid >= r->nuids ? SOURCE_END : SOURCE_BATCH;
	}
	describe_msg(r, m, out);
	r->handed = 1;
	return SOURCE_MSG;
}

static void
imap_settle(struct source *s, const struct source_msg *sm, int ok)
{
	struct imap_source *r = (struct imap_source *)s;
	struct imap_msg *m = sm->token;

	if (ok)
		r->good[r->ngood++] = m->uid;
	else
		r->bad[r->nbad++] = m->uid;
	buf_free(&m->body);
}

/* The reports are committed: the batch's messages leave the folder, and
 * the folder's last UID is remembered. */
static int
imap_commit(struct source *s, int *ex, struct err *e)
{
	struct imap_source *r = (struct imap_source *)s;
	uint32_t top = r->last_uid;
	size_t i;

	if (imap_dispose(&r->disp, r->good, r->ngood, r->archive,
	                 r->cfg->archive_folder, r->cfg->mark_seen, ex,
	                 e) == -1 ||
	    imap_dispose(&r->disp, r->bad, r->nbad, r->failed,
	                 r->cfg->failed_folder, 0, ex, e) == -1)
		return -1;
	if (r->archive != NULL)
		r->base.stats.moved += r->ngood;
	if (r->failed != NULL)
		r->base.stats.moved += r->nbad;
	for (i = 0; i < r->ngood; i++)
		top = r->good[i] > top ? r->good[i] : top;
	for (i = 0; i < r->nbad; i++)
		top = r->bad[i] > top ? r->bad[i] : top;
	r->ngood = r->nbad = 0;
	if (top != r->last_uid) {
		if (store_imap_set(r->st, r->key, r->uidvalidity, top, e) ==
		    -1) {
			*ex = EX_IOERR;
			return -1;
		}
		r->last_uid = top;
	}
	return 0;
}

static int
imap_finish(struct source *s, int *ex, struct err *e)
{
	struct imap_source *r = (struct imap_source *)s;

	return imap_dispose_mark_seen(&r->disp, r->cfg->archive_folder, ex, e);
}

static void
imap_close(struct source *s)
{
	struct imap_source *r = (struct imap_source *)s;

	imap_batch_free(&r->batch);
	free(r->good);
	free(r->bad);
	free(r->uids);
	imap_dispose_free(&r->disp);
	imap_conn_close(&r->conn);
	free(r->mbox);
	free(r->archive);
	free(r->failed);
	free(r->name);
	free(r);
}

static const struct source_ops imap_ops = {
    .name = "imap",
    .connect = imap_connect,
    .next = imap_next,
    .settle = imap_settle,
    .commit = imap_commit,
    .finish = imap_finish,
    .close = imap_close,
};

/* --- the kind: [imap] and [imap "name"] --------------------------------- */

static int
imap_open(const void *cfg, const char *name, int all, struct store *st,
          const struct logger *lg, const struct limits *lim,
          struct source **out, struct err *e)
{
	struct imap_source *r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->name = strdup(name)) == NULL) {
		free(r);
		return err_set(e, "out of memory");
	}
	r->base.ops = &imap_ops;
	r->cfg = cfg;
	r->all = all;
	r->st = st;
	r->lg = lg;
	r->lim = lim;
	r->batch.lg = lg;
	r->batch.url = r->base.where;
	r->batch.max_input = lim->max_input;
	make_names(r);
	if (r->cfg->failed_folder[0] != '\0')
		snprintf(r->base.failed_to, sizeof(r->base.failed_to), "%s",
		         r->cfg->failed_folder);
	else
		snprintf(r->base.failed_to, sizeof(r->base.failed_to),
		         "read messages in %s", r->cfg->folder);
	*out = &r->base;
	return 0;
}

static void
imap_lock_scope(const void *cfg, char *out, size_t len)
{
	const struct imap_config *ic = cfg;

	snprintf(out, len, "imap://%s@%s/%s", ic->user ? ic->user : "",
	         ic->host ? ic->host : "", ic->folder ? ic->folder : "INBOX");
}

const struct source_kind source_kind_imap = {
    .section = "imap",
    .config_new = imap_config_new,
    .config_free = imap_config_free,
    .config_set = imap_config_set,
    .config_check = imap_config_check,
    .has_option = imap_config_has_option,
    .lock_scope = imap_lock_scope,
    .open = imap_open,
    .watch_open = imap_watch_open,
};
