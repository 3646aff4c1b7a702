/*
 * test_source_policy.c - the policy of ingest/source.c, driven by a
 * test-only driver: a "mailbox" of messages in memory that records what the
 * policy tells it.  Asserts the promises of source.h against a real SQLite
 * store: nothing is disposed of before the store committed; a handled
 * message is settled ok, a failed one is kept in quarantine/ first and
 * never settled ok; a message the driver cannot give (why) is failed
 * without a copy; the run goes on after a failed message; a failure of the
 * mailbox stops it with the driver's status, and what was imported before
 * stays committed but is not disposed of.
 */
#include "check.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "import.h"
#include "input-limits.h"
#include "log.h"
#include "source.h"
#include "store.h"
#include "testdb.h"

#define XML(rid)                                                             \
	"<?xml version=\"1.0\"?><feedback><report_metadata><org_name>Org"    \
	"</org_name><email>d@example.org</email><report_id>" rid             \
	"</report_id><date_range><begin>1700000000</begin><end>1700086399"   \
	"</end></date_range></report_metadata><policy_published><domain>"   \
	"example.com</domain><adkim>r</adkim><aspf>r</aspf><p>none</p>"     \
	"<sp>none</sp><pct>100</pct></policy_published><record><row>"       \
	"<source_ip>192.0.2.1</source_ip><count>3</count><policy_evaluated>" \
	"<disposition>none</disposition><dkim>pass</dkim><spf>pass</spf>"   \
	"</policy_evaluated></row><identifiers><header_from>example.com"     \
	"</header_from></identifiers><auth_results><spf><domain>"           \
	"example.com</domain><result>pass</result></spf></auth_results>"    \
	"</record></feedback>"

/* One message of the memory mailbox. */
struct mem_msg {
	const char *bytes; /* NULL: the driver cannot give it (why) */
	int settled;	   /* -1 not yet, 0 failed, 1 handled */
	int disposed;	   /* commit() moved it */
};

struct mem_source {
	struct source base;
	struct store *st;
	const struct importer *imp;
	struct mem_msg *msgs;
	size_t n, next, batch;
	size_t fail_at; /* next() fails when it reaches this message */
	int commits;
	int committed_before_dispose; /* every commit saw no open batch */
	unsigned long stored_at_commit;
	char name[64], stem[64];
};

static int
mem_connect(struct source *s, int *ex, struct err *e)
{
	(void)s;
	(void)ex;
	(void)e;
	return 0;
}

static int
mem_next(struct source *s, struct source_msg *m, int *ex, struct err *e)
{
	struct mem_source *r = (struct mem_source *)s;
	struct mem_msg *mm;

	if (r->next == r->fail_at) {
		*ex = EX_TEMPFAIL;
		return err_set(e, "the mailbox went away");
	}
	if (r->next >= r->n)
		return SOURCE_END;
	if (r->next > 0 && r->next % r->batch == 0 &&
	    r->msgs[r->next - 1].disposed == 0)
		return SOURCE_BATCH;
	mm = &r->msgs[r->next];
	snprintf(r->name, sizeof(r->name), "mem:%zu", r->next);
	snprintf(r->stem, sizeof(r->stem), "mem-%zu", r->next);
	m->name = r->name;
	m->token = mm;
	if (mm->bytes == NULL) {
		m->why = "too large for the test";
	} else {
		m->origin.kind = ORIGIN_MEM;
		m->origin.mem = (const unsigned char *)mm->bytes;
		m->origin.len = strlen(mm->bytes);
		m->keep_as = r->stem;
	}
	r->next++;
	return SOURCE_MSG;
}

static void
mem_settle(struct source *s, const struct source_msg *m, int ok)
{
	(void)s;
	((struct mem_msg *)m->token)->settled = ok;
}

static int
mem_commit(struct source *s, int *ex, struct err *e)
{
	struct mem_source *r = (struct mem_source *)s;
	struct import_stats live;
	size_t i;

	(void)ex;
	(void)e;
	r->commits++;
	if (store_in_batch(r->st))
		r->committed_before_dispose = 0;
	import_stats_live(r->imp, &live);
	r->stored_at_commit = live.stored;
	for (i = 0; i < r->next; i++)
		if (r->msgs[i].settled != -1)
			r->msgs[i].disposed = 1;
	return 0;
}

static void
mem_close(struct source *s)
{
	(void)s;
}

static const struct source_ops mem_ops = {
    .name = "memory",
    .connect = mem_connect,
    .next = mem_next,
    .settle = mem_settle,
    .commit = mem_commit,
    .finish = NULL,
    .close = mem_close,
};

struct fixture {
	char dir[64], db[96];
	struct store *st;
	struct importer *imp;
	struct limits lim;
	struct logger lg;
	struct fetch_ctx fc;
	struct source_run run;
};

static void
setup(struct fixture *fx)
{
	struct err e;

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/dmarcsift-source-XXXXXX");
	CHECK(mkdtemp(fx->dir) != NULL);
	snprintf(fx->db, sizeof(fx->db), "%s/dmarc.db", fx->dir);
	CHECK(store_open(fx->db, STORE_READWRITE, &fx->st, &e) == 0);
	limits_default(&fx->lim);
	log_init(&fx->lg, "test_source_policy", LOG_QUIET);
	fx->imp = importer_new(fx->st, &fx->lim, &fx->lg);
	CHECK(fx->imp != NULL);
	fx->fc.imp = fx->imp;
	fx->fc.lim = &fx->lim;
	fx->fc.lg = &fx->lg;
	fx->run.fc = &fx->fc;
	fx->run.statedir = fx->dir;
}

static void
source_init(struct mem_source *r, struct fixture *fx, struct mem_msg *msgs,
    size_t n)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->base.ops = &mem_ops;
	snprintf(r->base.where, sizeof(r->base.where), "memory");
	snprintf(r->base.failed_to, sizeof(r->base.failed_to), "the bin");
	r->st = fx->st;
	r->imp = fx->imp;
	r->msgs = msgs;
	r->n = n;
	r->batch = 2;
	r->fail_at = (size_t)-1;
	r->committed_before_dispose = 1;
	for (i = 0; i < n; i++)
		msgs[i].settled = -1;
}

/* The files of quarantine/, removed; returns how many there were and
 * whether one is named *-stem.eml holding `bytes`. */
static int
quarantined(struct fixture *fx, const char *stem, const char *bytes,
    int *found)
{
	char q[128], p[512], want[80], got[4096];
	struct dirent *d;
	DIR *dir;
	FILE *f;
	size_t len;
	int n = 0;

	*found = 0;
	snprintf(q, sizeof(q), "%s/quarantine", fx->dir);
	snprintf(want, sizeof(want), "-%s.eml", stem);
	if ((dir = opendir(q)) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		n++;
		snprintf(p, sizeof(p), "%s/%s", q, d->d_name);
		len = strlen(d->d_name);
		if (len > strlen(want) &&
		    strcmp(d->d_name + len - strlen(want), want) == 0 &&
		    (f = fopen(p, "rb")) != NULL) {
			len = fread(got, 1, sizeof(got) - 1, f);
			got[len] = '\0';
			fclose(f);
			*found = strcmp(got, bytes) == 0;
		}
		unlink(p);
	}
	closedir(dir);
	rmdir(q);
	return n;
}

static void
teardown(struct fixture *fx)
{
	importer_free(fx->imp);
	store_close(fx->st);
	testdb_remove(fx->db, fx->dir);
}

TEST(commit_then_dispose_failed_kept_run_goes_on)
{
	struct mem_msg msgs[] = {
	    {XML("p1"), 0, 0},
	    {"Subject: hello\r\n\r\nnot a report\r\n", 0, 0},
	    {NULL, 0, 0},
	    {XML("p2"), 0, 0},
	};
	struct fixture fx;
	struct mem_source r;
	struct err e;
	int ex = -1, found;

	setup(&fx);
	source_init(&r, &fx, msgs, 4);
	CHECK_INT(source_drain(&r.base, &fx.run, &ex, &e), 0);
	CHECK_INT(ex, EX_OK);
	/* handled, failed (kept), failed (no copy), handled */
	CHECK_INT(msgs[0].settled, 1);
	CHECK_INT(msgs[1].settled, 0);
	CHECK_INT(msgs[2].settled, 0);
	CHECK_INT(msgs[3].settled, 1);
	CHECK(msgs[0].disposed && msgs[1].disposed && msgs[2].disposed &&
	      msgs[3].disposed);
	/* every commit came after the store's */
	CHECK_INT(r.committed_before_dispose, 1);
	CHECK_INT(r.commits, 2);
	CHECK_INT((int)r.stored_at_commit, 2);
	CHECK_INT((int)r.base.stats.fetched, 3);
	CHECK_INT((int)r.base.stats.failed, 2);
	CHECK_INT(quarantined(&fx, "mem-1", msgs[1].bytes, &found), 1);
	CHECK_INT(found, 1);
	teardown(&fx);
}

TEST(mailbox_failure_stops_committed_kept_nothing_disposed)
{
	struct mem_msg msgs[] = {
	    {XML("q1"), 0, 0},
	    {XML("q2"), 0, 0},
	    {XML("q3"), 0, 0},
	};
	struct import_stats live;
	struct fixture fx;
	struct mem_source r;
	struct err e;
	int ex = -1, found;

	setup(&fx);
	source_init(&r, &fx, msgs, 3);
	r.batch = 10;
	r.fail_at = 2;
	CHECK_INT(source_drain(&r.base, &fx.run, &ex, &e), -1);
	CHECK_INT(ex, EX_TEMPFAIL);
	CHECK(strstr(e.msg, "the mailbox went away") != NULL);
	/* imported and committed, but never disposed of: the next run
	 * finds them again, as duplicates */
	CHECK_INT(msgs[0].settled, 1);
	CHECK_INT(msgs[1].settled, 1);
	CHECK_INT(msgs[0].disposed + msgs[1].disposed + msgs[2].disposed, 0);
	CHECK_INT(r.commits, 0);
	CHECK(!store_in_batch(fx.st));
	import_stats_live(fx.imp, &live);
	CHECK_INT((int)live.stored, 2);
	CHECK_INT(quarantined(&fx, "none", "", &found), 0);
	teardown(&fx);
}

TEST(mailbox_names)
{
	CHECK(source_name_valid("work"));
	CHECK(source_name_valid("Work-2.b_c"));
	CHECK(!source_name_valid(""));
	CHECK(!source_name_valid(".hidden"));
	CHECK(!source_name_valid("-x"));
	CHECK(!source_name_valid("a/b"));
	CHECK(!source_name_valid("a b"));
	CHECK(source_kind_find("imap") != NULL);
	CHECK(source_kind_find("pop3") == NULL);
}
