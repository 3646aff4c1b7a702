/*
 * watch.c - the loop of dmarc-ingest --watch (see watch.h).
 */
#include "watch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "source.h"

int
watch_timing_init(struct watch_timing *t, struct err *e)
{
	const char *env = getenv("DMARCSIFT_WATCH_TICK_MS");
	unsigned long tick = 1000;
	char *end;

	if (env != NULL && env[0] != '\0') {
		errno = 0;
		tick = strtoul(env, &end, 10);
		if (errno != 0 || *end != '\0' || tick < 1 || tick > 1000)
			return err_set(e,
			               "DMARCSIFT_WATCH_TICK_MS: '%s' is not a "
			               "number from 1 to 1000 (milliseconds; "
			               "meant for the test suite)",
			               env);
	}
	t->idle_ms = (unsigned)(25 * 60 * tick);
	t->poll_ms = (unsigned)(60 * tick);
	t->backoff_ms = (unsigned)tick;
	t->backoff_max_ms = (unsigned)(5 * 60 * tick);
	return 0;
}

/* SIGTERM and SIGINT, blocked, as a descriptor that becomes readable
 * when one is pending. */
static int
stop_signals(int *fd, struct err *e)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (*fd = signalfd(-1, &set, SFD_CLOEXEC)) == -1)
		return err_set(e, "watch: cannot take SIGTERM and SIGINT: %s",
		               strerror(errno));
	return 0;
}

/* 1 when a stop signal is pending (it is consumed), else 0. */
static int
stopped(int sfd, long long ms, const struct logger *lg)
{
	struct signalfd_siginfo si;
	struct pollfd p;
	int n;

	p.fd = sfd;
	p.events = POLLIN;
	do
		n = poll(&p, 1, ms < 0 ? 0 : (int)ms);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return 0;
	if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		log_info(lg, "watch: %s; stopping",
		         si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
	return 1;
}

/* Exit statuses after which a new connection may do better: the server
 * unreachable (69), the connection lost or the lock held (75), a command
 * refused in passing (76). */
static int
retryable(int ex)
{
	return ex == EX_UNAVAILABLE || ex == EX_TEMPFAIL || ex == EX_PROTOCOL;
}

/* What the loop keeps between rounds. */
struct watch {
	const struct source_config *m;
	const struct watch_timing *t;
	watch_drain_fn drain;
	void *ctx;
	const struct logger *lg;
	int sfd;
	unsigned delay_ms; /* the next back-off */
};

/* Waits out the back-off (doubling it for the next time); 1 when a stop
 * signal came meanwhile. */
static int
back_off(struct watch *w)
{
	unsigned ms = w->delay_ms;

	w->delay_ms =
	    ms > w->t->backoff_max_ms / 2 ? w->t->backoff_max_ms : ms * 2;
	return stopped(w->sfd, ms, w->lg);
}

/* A drain's exit status: 0 go on waiting, 1 reconnect (after a back-off),
 * or a status to exit with. */
static int
after_drain(struct watch *w, int ex)
{
	if (ex == EX_OK || ex == EX_DATAERR) /* a bad message: quarantined */
		return 0;
	if (retryable(ex)) {
		log_info(w->lg, "watch: connecting again in %u ms",
		         w->delay_ms);
		return 1;
	}
	return ex;
}

/* One connection's life: a watcher, a full drain, then a drain on every
 * new message.  Returns 0 stop, 1 reconnect, or an exit status (> 1). */
static int
round_trip(struct watch *w)
{
	struct watcher *wa;
	struct err e;
	int ex = EX_SOFTWARE, rc;

	if (w->m->kind->watch_open(w->m->cfg, w->lg, w->t, &wa, &ex, &e) ==
	    -1) {
		if (!retryable(ex)) {
			log_error(w->lg, "%s", e.msg);
			return ex;
		}
		log_warn(w->lg, "%s; connecting again in %u ms", e.msg,
		         w->delay_ms);
		return 1;
	}
	rc = after_drain(w, w->drain(w->ctx, w->sfd));
	if (rc == 0)
		w->delay_ms = w->t->backoff_ms; /* a full drain went through */
	while (rc == 0 && !stopped(w->sfd, 0, w->lg)) {
		rc = wa->ops->wait(wa, w->sfd, &ex, &e);
		if (rc == 1) {
			rc = after_drain(w, w->drain(w->ctx, w->sfd));
		} else if (rc == -1) {
			rc = retryable(ex) ? 1 : ex;
			if (rc == 1)
				log_warn(w->lg, "%s; connecting again in %u ms",
				         e.msg, w->delay_ms);
			else
				log_error(w->lg, "%s", e.msg);
		} else { /* a signal: read (and logged) here */
			stopped(w->sfd, 0, w->lg);
			break;
		}
	}
	wa->ops->close(wa);
	return rc;
}

/* The mailbox to watch: the one picked, or the only one; NULL (said)
 * when the configuration has several and none was picked. */
static const struct source_config *
watched(const struct config *cfg, const struct logger *lg)
{
	size_t i;

	if (cfg->pick == NULL && cfg->nmailboxes != 1) {
		log_error(lg,
		          "--watch watches one mailbox, and the configuration "
		          "has %zu: say which with --mailbox NAME (one process "
		          "each; see dmarc-ingest-watch@.service)",
		          cfg->nmailboxes);
		return NULL;
	}
	for (i = 0; i < cfg->nmailboxes; i++)
		if (cfg->pick == NULL ||
		    strcmp(cfg->mailboxes[i].name, cfg->pick) == 0)
			return &cfg->mailboxes[i];
	/* config_check_mailboxes() has refused an unknown --mailbox */
	log_error(lg, "--watch: no mailbox to watch");
	return NULL;
}

int
watch_run(const struct config *cfg, watch_drain_fn drain, void *ctx,
          const struct logger *lg)
{
	struct watch_timing t;
	struct watch w;
	struct err e;
	int rc;

	memset(&w, 0, sizeof(w));
	if ((w.m = watched(cfg, lg)) == NULL)
		return EX_USAGE;
	if (watch_timing_init(&t, &e) == -1) {
		log_error(lg, "%s", e.msg);
		return EX_USAGE;
	}
	if (w.m->kind->watch_open == NULL) {
		log_error(lg, "--watch: [%s] mailboxes cannot be watched",
		          w.m->kind->section);
		return EX_USAGE;
	}
	w.t = &t;
	w.drain = drain;
	w.ctx = ctx;
	w.lg = lg;
	w.delay_ms = t.backoff_ms;
	if (stop_signals(&w.sfd, &e) == -1) {
		log_error(lg, "%s", e.msg);
		return EX_OSERR;
	}
	/* a server that hangs up must be an error, not a signal */
	signal(SIGPIPE, SIG_IGN);
	while ((rc = round_trip(&w)) == 1 && !back_off(&w))
		;
	close(w.sfd);
	return rc == 1 ? EX_OK : rc;
}
