/*
 * imap-dispose.c - see imap-dispose.h.
 */
#include "imap-dispose.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

void
imap_dispose_init(struct imap_dispose *d, struct imap_conn *c)
{
	memset(d, 0, sizeof(*d));
	d->c = c;
}

void
imap_dispose_free(struct imap_dispose *d)
{
	size_t i;

	for (i = 0; i < d->nready; i++)
		free(d->ready[i]);
	if (d->seen != NULL)
		mailimap_set_free(d->seen);
	free(d->seen_box);
	memset(d, 0, sizeof(*d));
}

struct mailimap_set *
imap_uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set;
	size_t i, j;

	if ((set = mailimap_set_new_empty()) == NULL)
		return NULL;
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && uids[j] == uids[j - 1] + 1; j++)
			;
		if (mailimap_set_add_interval(set, uids[i], uids[j - 1]) !=
		    MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			return NULL;
		}
	}
	return set;
}

/* 1 if the LIST entry is a folder that can hold messages. */
static int
selectable(const struct mailimap_mailbox_list *mb)
{
	const struct mailimap_mbx_list_oflag *of;
	clistiter *it;

	if (mb->mb_flag == NULL)
		return 1;
	if (mb->mb_flag->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
	    mb->mb_flag->mbf_sflag == MAILIMAP_MBX_LIST_SFLAG_NOSELECT)
		return 0;
	for (it = clist_begin(mb->mb_flag->mbf_oflags); it != NULL;
	     it = clist_next(it)) {
		of = clist_content(it);
		if (of->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT &&
		    of->of_flag_ext != NULL &&
		    (strcasecmp(of->of_flag_ext, "NonExistent") == 0 ||
			strcasecmp(of->of_flag_ext, "Noselect") == 0))
			return 0;
	}
	return 1;
}

/* Makes sure `mailbox` exists: LIST it, CREATE and SUBSCRIBE it if not. */
static int
ensure_folder(struct imap_dispose *d, const char *mailbox, const char *shown,
    int *ex, struct err *e)
{
	struct imap_conn *c = d->c;
	struct mailimap_mailbox_list *mb;
	clist *list = NULL;
	clistiter *it;
	char what[600];
	size_t i;
	int r, found = 0;

	for (i = 0; i < d->nready; i++)
		if (strcmp(d->ready[i], mailbox) == 0)
			return 0;
	/* a name may hold LIST wildcards (% *): compare what comes back */
	if ((r = mailimap_list(c->imap, "", mailbox, &list)) !=
	    MAILIMAP_NO_ERROR) {
		snprintf(what, sizeof(what), "LIST %s", shown);
		*ex = imap_conn_fail(c, r, what, EX_PROTOCOL, e);
		return -1;
	}
	for (it = clist_begin(list); it != NULL; it = clist_next(it)) {
		mb = clist_content(it);
		if (strcmp(mb->mb_name, mailbox) == 0 && selectable(mb))
			found = 1;
	}
	mailimap_list_result_free(list);
	imap_conn_touch(c);
	if (!found) {
		if ((r = mailimap_create(c->imap, mailbox)) !=
		    MAILIMAP_NO_ERROR) {
			snprintf(what, sizeof(what), "cannot create the "
						     "folder %s (%s)",
			    shown, mailbox);
			*ex = imap_conn_fail(c, r, what, EX_CONFIG, e);
			return -1;
		}
		/* so that mail clients show it; not worth failing for */
		if ((r = mailimap_subscribe(c->imap, mailbox)) !=
			MAILIMAP_NO_ERROR &&
		    c->dead) {
			*ex = imap_conn_fail(c, r, "SUBSCRIBE", EX_TEMPFAIL,
			    e);
			return -1;
		}
		imap_conn_touch(c);
		log_info(c->lg, "created the folder %s", shown);
	}
	if (d->nready < DISPOSE_FOLDERS &&
	    (d->ready[d->nready] = strdup(mailbox)) != NULL)
		d->nready++;
	return 0;
}

static int
add_flag(struct imap_conn *c, struct mailimap_set *set,
    struct mailimap_flag *flag, const char *what, int *ex, struct err *e)
{
	struct mailimap_flag_list *fl;
	struct mailimap_store_att_flags *sa;
	int r;

	if (flag == NULL || (fl = mailimap_flag_list_new_empty()) == NULL) {
		if (flag != NULL)
			mailimap_flag_free(flag);
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	if (mailimap_flag_list_add(fl, flag) != MAILIMAP_NO_ERROR) {
		mailimap_flag_free(flag);
		mailimap_flag_list_free(fl);
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	if ((sa = mailimap_store_att_flags_new_add_flags_silent(fl)) == NULL) {
		mailimap_flag_list_free(fl);
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	r = mailimap_uid_store(c->imap, set, sa);
	mailimap_store_att_flags_free(sa);
	if (r != MAILIMAP_NO_ERROR) {
		*ex = imap_conn_fail(c, r, what, EX_TEMPFAIL, e);
		return -1;
	}
	imap_conn_touch(c);
	return 0;
}

/* Keeps the destination UIDs (COPYUID) that imap_dispose_mark_seen()
 * flags once the run is over; takes dest. */
static int
remember_seen(struct imap_dispose *d, const char *mailbox, uint32_t validity,
    struct mailimap_set *dest)
{
	struct mailimap_set_item *it;
	clistiter *i;
	int rc = 0;

	if (d->seen_box != NULL && (strcmp(d->seen_box, mailbox) != 0 ||
				       d->seen_validity != validity)) {
		mailimap_set_free(dest); /* another folder: not ours */
		return 0;
	}
	if (d->seen_box == NULL) {
		if ((d->seen_box = strdup(mailbox)) == NULL ||
		    (d->seen = mailimap_set_new_empty()) == NULL) {
			mailimap_set_free(dest);
			return -1;
		}
		d->seen_validity = validity;
	}
	for (i = clist_begin(dest->set_list); i != NULL && rc == 0;
	     i = clist_next(i)) {
		it = clist_content(i);
		if (mailimap_set_add_interval(d->seen, it->set_first,
			it->set_last) != MAILIMAP_NO_ERROR)
			rc = -1;
	}
	mailimap_set_free(dest);
	return rc;
}

int
imap_dispose_mark_seen(struct imap_dispose *d, const char *shown, int *ex,
    struct err *e)
{
	struct imap_conn *c = d->c;
	struct mailimap_selection_info *si;
	char what[600];
	int r, rc;

	if (d->seen == NULL || clist_isempty(d->seen->set_list))
		return 0;
	snprintf(what, sizeof(what), "opening %s to mark the archived "
				     "messages as read",
	    shown);
	if ((r = mailimap_select(c->imap, d->seen_box)) != MAILIMAP_NO_ERROR) {
		*ex = imap_conn_fail(c, r, what, EX_TEMPFAIL, e);
		return -1;
	}
	si = c->imap->imap_selection_info;
	if (si != NULL && si->sel_uidvalidity != d->seen_validity)
		return 0; /* recreated meanwhile: the UIDs mean nothing */
	rc = add_flag(c, d->seen, mailimap_flag_new_seen(),
	    "marking archived messages as read", ex, e);
	mailimap_set_free(d->seen);
	d->seen = NULL;
	return rc;
}

int
imap_dispose(struct imap_dispose *d, const uint32_t *uids, size_t n,
    const char *mailbox, const char *shown, int seen, int *ex,
    struct err *e)
{
	struct imap_conn *c = d->c;
	struct mailimap_set *set, *src = NULL, *dest = NULL;
	uint32_t validity = 0;
	char what[600];
	int r, rc = -1;

	if (n == 0)
		return 0;
	if (mailbox != NULL && ensure_folder(d, mailbox, shown, ex, e) == -1)
		return -1;
	if ((set = imap_uid_set(uids, n)) == NULL) {
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	if (mailbox == NULL) {
		rc = add_flag(c, set, mailimap_flag_new_seen(),
		    "marking messages as read", ex, e);
		goto out;
	}
	if (c->has_move) {
		r = seen && c->has_uidplus
			? mailimap_uidplus_uid_move(c->imap, set, mailbox,
			      &validity, &src, &dest)
			: mailimap_uid_move(c->imap, set, mailbox);
		snprintf(what, sizeof(what), "moving messages to %s", shown);
	} else {
		r = seen && c->has_uidplus
			? mailimap_uidplus_uid_copy(c->imap, set, mailbox,
			      &validity, &src, &dest)
			: mailimap_uid_copy(c->imap, set, mailbox);
		snprintf(what, sizeof(what), "copying messages to %s", shown);
	}
	if (src != NULL)
		mailimap_set_free(src);
	if (r != MAILIMAP_NO_ERROR) {
		if (dest != NULL)
			mailimap_set_free(dest);
		*ex = imap_conn_fail(c, r, what, EX_TEMPFAIL, e);
		goto out;
	}
	if (dest != NULL && remember_seen(d, mailbox, validity, dest) == -1) {
		*ex = EX_OSERR;
		err_set(e, "out of memory");
		goto out;
	}
	imap_conn_touch(c);
	if (c->has_move) {
		rc = 0;
	} else if (c->has_uidplus) {
		if (add_flag(c, set, mailimap_flag_new_deleted(),
			"marking copied messages \\Deleted", ex, e) == -1)
			goto out;
		if ((r = mailimap_uid_expunge(c->imap, set)) !=
		    MAILIMAP_NO_ERROR) {
			*ex = imap_conn_fail(c, r, "UID EXPUNGE", EX_TEMPFAIL,
			    e);
			goto out;
		}
		imap_conn_touch(c);
		rc = 0;
	} else {
		/* no UID EXPUNGE: leave the original, marked as read, so
		 * that the next run does not pick it up again */
		rc = add_flag(c, set, mailimap_flag_new_seen(),
		    "marking copied messages as read", ex, e);
	}
out:
	mailimap_set_free(set);
	return rc;
}
