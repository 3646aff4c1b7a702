/*
 * test_views.c - the report views without report/main.c: this program
 * links the library only, fills a real temporary SQLite store through the
 * store interface, collects the `sources` and `policy` models from it and
 * renders `sources` through output_ops (issue 11: a command is reusable by
 * another front end).  Also the shared percentage and freshness rules.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "align.h"
#include "check.h"
#include "classify.h"
#include "command.h"
#include "freshness.h"
#include "percent.h"
#include "store.h"
#include "testdb.h"
#include "view-policy.h"
#include "view-sources.h"

#define DAY TESTDB_DAY

struct fixture {
	char dir[64], db[128];
	struct store *st;
	struct classifier *cl;
};

static const struct dmarc_dkim ses_dkim[] = {
    {"example.com", "tok1", "pass", NULL},
    {"amazonses.com", "sesselector", "pass", NULL},
};
static const struct dmarc_spf ses_spf[] = {
    {"mail.example.com", "mfrom", "pass", NULL},
};
static const struct dmarc_spf relay_spf[] = {
    {"example.com", "mfrom", "fail", NULL},
};

/* One report of domain with an SES record (ses_count passing) and an
 * unknown relay's record (relay_count failing). */
static void
put_report(struct store *st, const char *domain, const char *id,
           int64_t ses_count, int64_t relay_count)
{
	struct dmarc_meta m;
	struct dmarc_record r[2];

	testdb_meta(&m, domain, id);
	memset(r, 0, sizeof(r));
	r[0].source_ip = "69.169.224.5";
	r[0].count = ses_count;
	r[0].disposition = "none";
	r[0].dkim = r[0].spf = "pass";
	r[0].header_from = domain;
	r[0].envelope_from = "mail.example.com";
	r[0].dkim_results = ses_dkim;
	r[0].ndkim = 2;
	r[0].spf_results = ses_spf;
	r[0].nspf = 1;
	r[1].source_ip = "198.51.100.25";
	r[1].count = relay_count;
	r[1].disposition = "none";
	r[1].dkim = r[1].spf = "fail";
	r[1].header_from = domain;
	r[1].envelope_from = domain;
	r[1].spf_results = relay_spf;
	r[1].nspf = 1;
	testdb_put(st, &m, r, 2, (uint64_t)ses_count * 31 + (uint64_t)relay_count,
	           "test_views");
}

/* A store holding two domains, reopened read-only as dmarc-report does. */
static void
setup(struct fixture *fx)
{
	struct err e;

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/dmarcsift-views-XXXXXX");
	CHECK(mkdtemp(fx->dir) != NULL);
	snprintf(fx->db, sizeof(fx->db), "%s/dmarc.db", fx->dir);
	CHECK(store_open(fx->db, STORE_READWRITE, &fx->st, &e) == 0);
	CHECK(store_batch_begin(fx->st, &e) == 0);
	put_report(fx->st, "b.example", "r-b", 5000, 900);
	put_report(fx->st, "a.example", "r-a", 9996, 4);
	CHECK(store_batch_commit(fx->st, &e) == 0);
	store_close(fx->st);
	CHECK(store_open(fx->db, STORE_READONLY, &fx->st, &e) == 0);
	CHECK(classify_open(&fx->cl, NULL, &e) == 0);
}

static void
teardown(struct fixture *fx)
{
	classify_close(fx->cl);
	store_close(fx->st);
	testdb_remove(fx->db, fx->dir);
}

TEST(sources_collect_from_a_real_store)
{
	struct store_filter all = {NULL, 0, 0};
	struct sources_view v;
	struct fixture fx;
	struct err e;

	setup(&fx);
	CHECK(sources_collect(fx.st, &all, fx.cl, &v, &e) == 0);
	CHECK_INT(v.n, 4);
	CHECK_INT(v.ndomains, 2);
	if (v.n == 4) {
		/* by domain, then most messages first */
		CHECK_STR(v.rows[0].domain, "a.example");
		CHECK_STR(v.rows[0].name, "Amazon SES");
		CHECK_INT(v.rows[0].messages, 9996);
		CHECK_INT(v.rows[0].by_ip, 0);
		CHECK_STR(v.rows[1].name, "198.51.100.25");
		CHECK_INT(v.rows[1].by_ip, 1);
		CHECK_STR(v.rows[2].domain, "b.example");
		CHECK_INT(v.rows[2].messages, 5000);
		CHECK_INT(v.rows[3].messages, 900);
		CHECK_INT(v.rows[3].dmarc_pass, 0);
	}
	sources_view_free(&v);
	teardown(&fx);
}

TEST(sources_render_csv_without_main)
{
	struct report_ctx ctx;
	struct fixture fx;
	struct err e;
	char *text = NULL;
	size_t len = 0;

	setup(&fx);
	memset(&ctx, 0, sizeof(ctx));
	ctx.st = fx.st;
	ctx.format = &output_csv;
	CHECK((ctx.out = open_memstream(&text, &len)) != NULL);
	CHECK(cmd_sources.run(&ctx, &e) == 0);
	fclose(ctx.out);
	/* the old columns first, in their order; then the domain and the
	 * names (issue 13), empty without names */
	CHECK(strncmp(text, "source,region,ips,messages,dmarc_pass,"
	                    "spf_aligned,dkim_aligned,quarantined,rejected,",
	          strlen("source,region,ips,messages,dmarc_pass,spf_aligned,"
	                 "dkim_aligned,quarantined,rejected,")) == 0);
	CHECK_CONTAINS(text,
	    ",domain,source_name,source_name_confirmed,name_evidence\r\n");
	CHECK_CONTAINS(text, "\r\n198.51.100.25,,1,900,0,0,0,0,0,");
	CHECK_CONTAINS(text, ",b.example,,,\r\n");
	free(text);
	/* the table: a block per domain, 99.9% for 9,996 of 10,000 */
	ctx.format = &output_table;
	CHECK((ctx.out = open_memstream(&text, &len)) != NULL);
	CHECK(cmd_sources.run(&ctx, &e) == 0);
	fclose(ctx.out);
	CHECK_CONTAINS(text, "a.example:\n");
	CHECK_CONTAINS(text, "\nb.example:\n");
	CHECK_CONTAINS(text, "2 sources, 10000 messages, 99.9% passing");
	CHECK(strstr(text, "100.0%") != NULL); /* SES alone: all of it */
	free(text);
	classify_close(ctx.cl);
	align_close(ctx.al);
	teardown(&fx);
}

TEST(policy_collect_judges_the_relay)
{
	struct store_filter all = {NULL, 0, 0};
	struct policy_view v;
	struct fixture fx;
	struct err e;
	char reason[2048];

	setup(&fx);
	CHECK(policy_collect(fx.st, &all, fx.cl, 0.5, &v, &e) == 0);
	CHECK_INT(v.n, 2);
	if (v.n == 2) {
		/* a.example: 4 of 10,000 failing from the relay (<1%) */
		CHECK_STR(v.domains[0].pub.domain, "a.example");
		CHECK_INT(v.domains[0].verdict, VERDICT_READY);
		/* b.example: 900 of 5,900 (15%) */
		CHECK_INT(v.domains[1].verdict, VERDICT_NOT_READY);
		CHECK_INT(v.domains[1].unknown_flagged, 1);
		policy_reason(&v.domains[1], reason, sizeof(reason));
		CHECK_CONTAINS(reason, "198.51.100.25 (900 of 900 messages "
		                       "failing)");
		CHECK_CONTAINS(reason, "is it yours? add it to the sources "
		                       "file");
		CHECK_STR(verdict_name(v.domains[1].verdict), "not-ready");
	}
	policy_view_free(&v);
	teardown(&fx);
}

TEST(freshness_of_the_selection)
{
	struct store_filter all = {NULL, 0, 0}, none = {NULL, DAY + 86400, 0};
	enum freshness state;
	struct fixture fx;
	struct err e;
	char why[300];

	setup(&fx);
	CHECK(freshness_check(fx.st, &all, DAY + 2 * 86400, 3 * 86400, &state,
	                      why, sizeof(why), &e) == 0);
	CHECK_INT(state, FRESH);
	CHECK(freshness_check(fx.st, &all, DAY + 40 * 86400, 3 * 86400, &state,
	                      why, sizeof(why), &e) == 0);
	CHECK_INT(state, STALE_OLD);
	CHECK_CONTAINS(why, "2025-12-01 23:59 UTC, 39 days ago");
	CHECK(freshness_check(fx.st, &none, DAY + 86400, 3 * 86400, &state, why,
	                      sizeof(why), &e) == 0);
	CHECK_INT(state, STALE_EMPTY);
	teardown(&fx);
}

TEST(percent_is_never_all_or_nothing_by_rounding)
{
	char buf[16];

	CHECK_INT(percent_permille(9996, 10000), 999);
	CHECK_INT(percent_permille(9999999, 10000000), 999);
	CHECK_INT(percent_permille(1, 10000), 1);
	CHECK_INT(percent_permille(1, UINT64_C(9007199254740992)), 1);
	CHECK_INT(percent_permille(0, 10), 0);
	CHECK_INT(percent_permille(10, 10), 1000);
	CHECK_INT(percent_permille(0, 0), 0);
	CHECK_INT(percent_permille(1, 3), 333);
	CHECK_INT(percent_permille(2, 3), 667);
	CHECK_STR(percent_format(9996, 10000, buf, sizeof(buf)), "99.9%");
	CHECK_STR(percent_format(1, 10000, buf, sizeof(buf)), "0.1%");
	CHECK_STR(percent_format(5, 5, buf, sizeof(buf)), "100.0%");
}
