/*
 * source.c - the policy every mailbox is drained with (see source.h), and
 * the table of kinds of mailboxes.
 */
#include "source.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "quarantine.h"

extern const struct source_kind source_kind_imap;

/* One line per kind of mailbox the configuration can name. */
const struct source_kind *const source_kinds[] = {
    &source_kind_imap,
    NULL,
};

const struct source_kind *
source_kind_find(const char *section)
{
	size_t i;

	for (i = 0; source_kinds[i] != NULL; i++)
		if (strcmp(source_kinds[i]->section, section) == 0)
			return source_kinds[i];
	return NULL;
}

int
source_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') ||
		      strchr("._-", name[i]) != NULL))
			return 0;
	return 1;
}

/* --- the policy ---------------------------------------------------------- */

static void
progress(struct source *s, const struct source_run *run)
{
	struct import_stats live;
	unsigned long done = s->stats.fetched + s->stats.too_large;

	if (!run->fc->progress || !run->dots_progress ||
	    (done % 10 != 0 && done != s->stats.total))
		return;
	import_stats_live(run->fc->imp, &live);
	fprintf(stderr,
	        "\r%lu/%lu messages, %lu reports stored, %lu "
	        "duplicates, %lu failed ",
	        done, s->stats.total, live.stored, live.duplicates,
	        s->stats.failed);
	fflush(stderr);
}

/* A message that cannot be used: its bytes are kept before it leaves. */
static int
keep(struct source *s, const struct source_run *run, const struct source_msg *m,
     int *ex, struct err *e)
{
	char path[4096];

	if (m->keep_as == NULL || m->origin.kind != ORIGIN_MEM) {
		log_warn(run->fc->lg, "%s: the message goes to %s", m->name,
		         s->failed_to);
		return 0;
	}
	if (quarantine_save(run->statedir, m->keep_as, m->origin.mem,
	                    m->origin.len, path, sizeof(path), e) == -1) {
		*ex = EX_CANTCREAT;
		return err_prefix(e, "%s: the message stays in %s", m->name,
		                  s->where);
	}
	log_warn(run->fc->lg, "%s: kept as %s; the message goes to %s", m->name,
	         path, s->failed_to);
	return 0;
}

/* Imports one message and settles it: handled, or failed (kept first). */
static int
handle(struct source *s, const struct source_run *run,
       const struct source_msg *m, int *ex, struct err *e)
{
	enum input_result result;
	int ok, rc;

	if (m->why != NULL) {
		if (import_reject_input(run->fc->imp, m->name, m->why, e) ==
		    -1) {
			*ex = EX_IOERR;
			return -1;
		}
		log_warn(run->fc->lg, "%s: the message goes to %s", m->name,
		         s->failed_to);
		ok = 0;
	} else {
		s->stats.fetched++;
		/* a mailbox draws "n/total messages"; a maildir among PATHs
		 * the inputs line of the other PATHs */
		if (run->dots_progress)
			rc = import_input(run->fc->imp, &m->origin, m->name,
			                  &result, e);
		else
			rc = fetch_import(run->fc, &m->origin, m->name, &result,
			                  e);
		if (rc == -1) {
			*ex = EX_IOERR;
			return -1;
		}
		ok = result == INPUT_OK;
		if (!ok && keep(s, run, m, ex, e) == -1)
			return -1;
	}
	if (!ok)
		s->stats.failed++;
	s->ops->settle(s, m, ok);
	progress(s, run);
	return 0;
}

/* The store commits, then the messages handed out go to their places. */
static int
commit(struct source *s, const struct source_run *run, int *ex, struct err *e)
{
	if (import_flush(run->fc->imp, e) == -1) {
		*ex = EX_IOERR;
		return -1;
	}
	return s->ops->commit(s, ex, e);
}

/* Watch mode was told to stop (a signal): checked between batches, so
 * that what was handed out is committed and disposed of first. */
static int
stop_asked(const struct source_run *run)
{
	struct pollfd p;

	if (run->stop_fd == NULL)
		return 0;
	p.fd = *run->stop_fd;
	p.events = POLLIN;
	return poll(&p, 1, 0) > 0;
}

static int
drain(struct source *s, const struct source_run *run, int *ex, struct err *e)
{
	struct source_msg m;
	int rc;

	if (s->ops->connect(s, ex, e) == -1)
		return -1;
	for (;;) {
		memset(&m, 0, sizeof(m));
		if ((rc = s->ops->next(s, &m, ex, e)) == -1)
			return -1;
		if (rc == SOURCE_MSG) {
			if (handle(s, run, &m, ex, e) == -1)
				return -1;
			continue;
		}
		if (commit(s, run, ex, e) == -1)
			return -1;
		if (rc == SOURCE_END || stop_asked(run))
			break;
	}
	if (s->ops->finish != NULL && s->ops->finish(s, ex, e) == -1)
		return -1;
	return 0;
}

int
source_drain(struct source *s, const struct source_run *run, int *ex,
             struct err *e)
{
	struct err fe;
	int rc;

	*ex = EX_SOFTWARE;
	rc = drain(s, run, ex, e);
	/* what was imported stays imported, disposed of or not: the next
	 * run finds it as duplicates */
	if (rc == -1 && import_flush(run->fc->imp, &fe) == -1)
		log_error(run->fc->lg, "%s", fe.msg);
	if (rc == 0)
		*ex = EX_OK;
	return rc;
}
