/*
 * imap-watch.c - the IMAP watcher of watch.h: a session of its own on the
 * folder of an [imap] section, opened read-only (EXAMINE: it never
 * changes a flag), that only waits for new mail.
 *
 * With IDLE (RFC 2177) the server tells: the session idles, poll()ing the
 * socket together with the stop descriptor; when the server speaks, DONE
 * ends the IDLE and libetpan reads what it said.  IDLE is renewed every
 * idle_ms, before the 29 minutes after which a server may drop an idle
 * client.  Without IDLE, NOOP every poll_ms asks.
 *
 * "New mail" is an EXISTS response: libetpan clears sel_has_exists when
 * an IDLE starts (we clear it before a NOOP) and sets it, with the new
 * count in sel_exists, when one arrives.  Other news (EXPUNGE, FETCH
 * FLAGS: the drain's own moves, seen from this session) is no new mail
 * and only renews the wait.  A spurious drain would be harmless (it finds
 * nothing); a missed one would not, so a grown sel_exists counts too.
 *
 * The drain itself runs on a session of its own (source-imap.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "config-imap.h"
#include "imap-conn.h"
#include "imap-name.h"
#include "imap-watch.h"

struct imap_watcher {
	struct watcher base; /* first: a struct watcher * is one of these */
	struct imap_conn conn;
	const struct logger *lg;
	unsigned idle_ms, poll_ms;
	int idle; /* the server has IDLE */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Readable within ms milliseconds: 2 stop_fd, 1 fd (or -1 for none),
 * 0 neither. */
static int
wait_fds(int fd, int stop_fd, long long ms)
{
	struct pollfd p[2];
	int n;

	p[0].fd = stop_fd;
	p[0].events = POLLIN;
	p[1].fd = fd;
	p[1].events = POLLIN;
	for (;;) {
		n = poll(p, fd >= 0 ? 2 : 1, ms < 0 ? 0 : (int)ms);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n <= 0)
		return 0;
	if (p[0].revents != 0)
		return 2;
	return 1;
}

/* Forgets the EXISTS seen so far and keeps the message count, for
 * new_mail() to compare with. */
static void
new_mail_reset(struct imap_watcher *w, uint32_t *count)
{
	struct mailimap_selection_info *si = w->conn.imap->imap_selection_info;

	si->sel_has_exists = 0;
	*count = si->sel_exists;
}

/* Whether an EXISTS arrived since new_mail_reset(). */
static int
new_mail(const struct imap_watcher *w, uint32_t count)
{
	const struct mailimap_selection_info *si =
	    w->conn.imap->imap_selection_info;

	return si->sel_has_exists || si->sel_exists > count;
}

/* One IDLE: until the server speaks, idle_ms pass, or stop_fd.  Returns
 * 1 new mail, 0 stop, 2 nothing (renew), -1 failed. */
static int
idle_once(struct imap_watcher *w, int stop_fd, int *ex, struct err *e)
{
	struct imap_conn *c = &w->conn;
	long long end = now_ms() + w->idle_ms;
	uint32_t count;
	int r, got;

	new_mail_reset(w, &count);
	if ((r = mailimap_idle(c->imap)) != MAILIMAP_NO_ERROR) {
		*ex = imap_conn_fail(c, r, "IDLE", EX_PROTOCOL, e);
		return -1;
	}
	imap_conn_touch(c);
	/* what libetpan already read is not in the socket any more: the
	 * server has spoken when its buffer holds something */
	if (new_mail(w, count) || c->imap->imap_stream->read_buffer_len != 0)
		got = 1;
	else
		got = wait_fds(mailimap_idle_get_fd(c->imap), stop_fd,
		               end - now_ms());
	if (got == 2) /* leaving: the session is dropped, no DONE needed */
		return 0;
	log_debug(w->lg, "IDLE: %s", got ? "the server spoke" : "time is up");
	if ((r = mailimap_idle_done(c->imap)) != MAILIMAP_NO_ERROR) {
		*ex = imap_conn_fail(c, r, "IDLE (DONE)", EX_PROTOCOL, e);
		return -1;
	}
	imap_conn_touch(c);
	if (new_mail(w, count))
		return 1;
	if (got == 0)
		log_debug(w->lg, "no news for %u ms: IDLE again", w->idle_ms);
	return 2;
}

/* One NOOP after poll_ms.  Returns 1 new mail, 0 stop, 2 nothing, -1
 * failed. */
static int
noop_once(struct imap_watcher *w, int stop_fd, int *ex, struct err *e)
{
	struct imap_conn *c = &w->conn;
	uint32_t count;
	int r;

	if (wait_fds(-1, stop_fd, w->poll_ms) == 2)
		return 0;
	new_mail_reset(w, &count);
	if ((r = mailimap_noop(c->imap)) != MAILIMAP_NO_ERROR) {
		*ex = imap_conn_fail(c, r, "NOOP", EX_PROTOCOL, e);
		return -1;
	}
	imap_conn_touch(c);
	return new_mail(w, count) ? 1 : 2;
}

static int
imap_watch_wait(struct watcher *base, int stop_fd, int *ex, struct err *e)
{
	struct imap_watcher *w = (struct imap_watcher *)base;
	int rc;

	do {
		rc = w->idle ? idle_once(w, stop_fd, ex, e)
		             : noop_once(w, stop_fd, ex, e);
	} while (rc == 2);
	return rc;
}

static void
imap_watch_close(struct watcher *base)
{
	struct imap_watcher *w = (struct imap_watcher *)base;

	/* a session left in IDLE would not answer LOGOUT: drop it */
	if (w->idle)
		imap_conn_drop(&w->conn);
	imap_conn_close(&w->conn);
	free(w);
}

static const struct watcher_ops imap_watch_ops = {
    .wait = imap_watch_wait,
    .close = imap_watch_close,
};

/* Logs in and opens the folder read-only. */
static int
examine(struct imap_watcher *w, const struct imap_config *ic, int *ex,
        struct err *e)
{
	struct imap_conn *c = &w->conn;
	char *mbox, what[700];
	int r;

	if (imap_conn_open(c, ic, w->lg, ex, e) == -1)
		return -1;
	if (imap_folder_name(ic->folder, c->delim, c->prefix, &mbox, e) == -1) {
		*ex = EX_CONFIG;
		return -1;
	}
	r = mailimap_examine(c->imap, mbox);
	free(mbox);
	if (r != MAILIMAP_NO_ERROR) {
		snprintf(what, sizeof(what), "cannot open the folder %s",
		         ic->folder);
		*ex = imap_conn_fail(c, r, what, EX_CONFIG, e);
		return -1;
	}
	imap_conn_touch(c);
	if (c->imap->imap_selection_info == NULL) {
		*ex = EX_PROTOCOL;
		return err_set(e, "%s: no selection after EXAMINE", ic->folder);
	}
	w->idle = mailimap_has_idle(c->imap);
	log_debug(w->lg, "watching %s on %s:%u %s", ic->folder, ic->host,
	          ic->port, w->idle ? "with IDLE" : "by NOOP (no IDLE)");
	return 0;
}

int
imap_watch_open(const void *cfg, const struct logger *lg,
                const struct watch_timing *t, struct watcher **out, int *ex,
                struct err *e)
{
	struct imap_watcher *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	w->base.ops = &imap_watch_ops;
	w->lg = lg;
	w->idle_ms = t->idle_ms;
	w->poll_ms = t->poll_ms;
	if (examine(w, cfg, ex, e) == -1) {
		imap_conn_close(&w->conn);
		free(w);
		return -1;
	}
	*out = &w->base;
	return 0;
}
