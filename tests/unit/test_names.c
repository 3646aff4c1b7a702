/*
 * test_names.c - the names of source addresses in the views (issue 13
 * item 2): which names are trusted (source-names.h), a confirmed PTR name
 * classifying a source (classify.h), and the unidentified addresses of one
 * organisation grouped by sources and policy (view-sources.h,
 * view-policy.h), from a real temporary SQLite store.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "align.h"
#include "check.h"
#include "classify.h"
#include "source-names.h"
#include "store.h"
#include "testdb.h"
#include "view-policy.h"
#include "view-sources.h"

TEST(only_confirmed_host_names_are_trusted)
{
	struct source_names *n = NULL;
	const struct source_name *v;
	struct align *al;
	struct err e;
	char longname[600];

	CHECK(align_open(&al, &e) == 0);
	CHECK(source_names_add(&n, al, "198.51.100.10", "mx1.example.co.uk",
	                       1) == 0);
	CHECK(source_names_add(&n, al, "198.51.100.11", "spoof.example.com",
	                       0) == 0);
	CHECK(source_names_add(&n, al, "198.51.100.12",
	                       "evil\x1b[31m.example.com", 1) == 0);
	CHECK(source_names_add(&n, al, "198.51.100.13", "MX.Example.com", 1) ==
	      0);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(source_names_add(&n, al, "198.51.100.14", longname, 1) == 0);
	v = source_names_get(n, "198.51.100.10");
	CHECK(v != NULL && v->confirmed);
	CHECK_STR(v->org, "example.co.uk");
	CHECK_STR(source_names_confirmed(n, "198.51.100.10"),
	          "mx1.example.co.uk");
	/* shown, never used */
	v = source_names_get(n, "198.51.100.11");
	CHECK(v != NULL && !v->confirmed && v->org == NULL);
	CHECK(source_names_confirmed(n, "198.51.100.11") == NULL);
	/* what dns/ would not have stored is not trusted */
	CHECK(source_names_confirmed(n, "198.51.100.12") == NULL);
	CHECK(source_names_confirmed(n, "198.51.100.13") == NULL);
	v = source_names_get(n, "198.51.100.14");
	CHECK(v != NULL && strlen(v->name) == SOURCE_NAME_MAX - 1);
	CHECK(!v->confirmed);
	CHECK(source_names_get(n, "192.0.2.1") == NULL);
	CHECK(source_names_get(NULL, "192.0.2.1") == NULL);
	source_names_free(n);
	align_close(al);
}

TEST(labels)
{
	char b[SOURCE_LABEL_MAX];

	source_names_label(b, sizeof(b), "198.51.100.10", "mx1.example.com", 1,
	                   1);
	CHECK_STR(b, "198.51.100.10 (mx1.example.com)");
	source_names_label(b, sizeof(b), "198.51.100.11", "spoof.example.com",
	                   0, 1);
	CHECK_STR(b, "198.51.100.11 (spoof.example.com, unconfirmed)");
	source_names_label(b, sizeof(b), "example.com", "example.com", 1, 3);
	CHECK_STR(b, "example.com (3 addresses)");
	source_names_label(b, sizeof(b), "192.0.2.1", NULL, 0, 1);
	CHECK_STR(b, "192.0.2.1");
}

/* A classifier with names attached, the user's file when not NULL. */
static struct classifier *
named_classifier(const char *file)
{
	struct source_names *n = NULL;
	struct classifier *cl;
	struct err e;

	CHECK(classify_open(&cl, file, &e) == 0);
	CHECK(source_names_add(&n, NULL, "203.0.113.7",
	                       "e1-7.smtp-out.eu-west-1.amazonses.com",
	                       1) == 0);
	CHECK(source_names_add(&n, NULL, "203.0.113.9",
	                       "e1-9.smtp-out.eu-west-1.amazonses.com",
	                       0) == 0);
	CHECK(source_names_add(&n, NULL, "203.0.113.8",
	                       "mail-eopbgr1.outbound.protection.outlook.com",
	                       1) == 0);
	CHECK(source_names_add(&n, NULL, "203.0.113.10",
	                       "out3.relay.example.org", 1) == 0);
	CHECK(source_names_add(&n, NULL, "203.0.113.11",
	                       "outbound.protection.outlook.com.evil.example",
	                       1) == 0);
	classify_attach_names(cl, n);
	return cl;
}

TEST(a_confirmed_ptr_classifies)
{
	struct classifier *cl = named_classifier(NULL);
	struct sender s;

	classify(cl, "203.0.113.7", NULL, NULL, 0, NULL, 0, &s);
	CHECK(s.ses);
	CHECK_STR(s.region, "eu-west-1");
	CHECK_INT(s.evidence, EVIDENCE_PTR);
	CHECK_INT(s.via, SIGNAL_PTR);
	CHECK_STR(classify_signal_name(s.via), "ptr");
	classify(cl, "203.0.113.8", NULL, NULL, 0, NULL, 0, &s);
	CHECK(s.name != NULL && !s.ses);
	CHECK_STR(s.name, "Microsoft 365");
	CHECK_INT(s.via, SIGNAL_PTR);
	/* unconfirmed, or only looking like the service's zone */
	classify(cl, "203.0.113.9", NULL, NULL, 0, NULL, 0, &s);
	CHECK(s.name == NULL);
	classify(cl, "203.0.113.11", NULL, NULL, 0, NULL, 0, &s);
	CHECK(s.name == NULL);
	/* a stronger signal still wins */
	classify(cl, "203.0.113.8", "bounces.sendgrid.net", NULL, 0, NULL, 0,
	         &s);
	CHECK_STR(s.name, "SendGrid");
	CHECK_INT(s.via, SIGNAL_BOUNCE);
	classify_close(cl);
}

TEST(a_user_domain_matches_a_confirmed_ptr)
{
	static const char user[] = "relay.example.org,Our relay\n"
	                           "outbound.protection.outlook.com,-\n";
	char path[] = "/tmp/dmarcsift-names-XXXXXX";
	struct classifier *cl;
	struct sender s;
	int fd;

	CHECK((fd = mkstemp(path)) != -1);
	CHECK(write(fd, user, strlen(user)) == (ssize_t)strlen(user));
	close(fd);
	cl = named_classifier(path);
	classify(cl, "203.0.113.10", NULL, NULL, 0, NULL, 0, &s);
	CHECK(s.name != NULL);
	CHECK_STR(s.name, "Our relay");
	CHECK_INT(s.via, SIGNAL_PTR);
	/* "-" takes the PTR table's entry away */
	classify(cl, "203.0.113.8", NULL, NULL, 0, NULL, 0, &s);
	CHECK(s.name == NULL);
	classify_close(cl);
	unlink(path);
}

/* --- grouping, through a real store ------------------------------------ */


static const struct dmarc_spf fail_spf[] = {
    {"example.com", "mfrom", "fail", NULL},
};

static void
put_records(struct store *st, const char *const *ips, const int64_t *counts,
            size_t n)
{
	struct dmarc_record r[8];
	struct dmarc_meta m;
	size_t i;

	CHECK(n <= sizeof(r) / sizeof(r[0]));
	testdb_meta(&m, "example.com", "r-names");
	memset(r, 0, sizeof(r));
	for (i = 0; i < n; i++) {
		r[i].source_ip = ips[i];
		r[i].count = counts[i];
		r[i].disposition = "none";
		r[i].dkim = r[i].spf = "fail";
		r[i].header_from = "example.com";
		r[i].envelope_from = "example.com";
		r[i].spf_results = fail_spf;
		r[i].nspf = 1;
	}
	testdb_put(st, &m, r, n, 42, "test_names");
}

static const struct source_row *
row_named(const struct sources_view *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->rows[i].name, name) == 0)
			return &v->rows[i];
	return NULL;
}

TEST(unidentified_addresses_of_one_organisation_are_one_source)
{
	static const char *const ips[] = {"198.51.100.10", "198.51.100.15",
	                                  "198.51.100.14", "198.51.100.11",
	                                  "192.0.2.1"};
	static const int64_t counts[] = {5, 3, 2, 4, 1};
	char dir[] = "/tmp/dmarcsift-names-XXXXXX", db[128];
	struct source_names *n = NULL;
	struct store_filter all;
	struct sources_view v;
	struct policy_view pv;
	const struct source_row *r;
	struct classifier *cl;
	struct store *st;
	struct align *al;
	struct err e;
	char label[SOURCE_LABEL_MAX];
	size_t i;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(db, sizeof(db), "%s/dmarc.db", dir);
	CHECK(store_open(db, STORE_READWRITE, &st, &e) == 0);
	CHECK(store_batch_begin(st, &e) == 0);
	put_records(st, ips, counts, 5);
	CHECK(store_batch_commit(st, &e) == 0);
	store_close(st);
	CHECK(store_open(db, STORE_READONLY, &st, &e) == 0);
	CHECK(align_open(&al, &e) == 0);
	CHECK(classify_open(&cl, NULL, &e) == 0);
	CHECK(source_names_add(&n, al, "198.51.100.10", "mx1.example.com", 1) ==
	      0);
	CHECK(source_names_add(&n, al, "198.51.100.15",
	                       "relay.mail.example.com", 1) == 0);
	CHECK(source_names_add(&n, al, "198.51.100.14", "mx2.example.net", 1) ==
	      0);
	/* unconfirmed, in the same organisation: not grouped */
	CHECK(source_names_add(&n, al, "198.51.100.11", "spoof.example.com",
	                       0) == 0);
	classify_attach_names(cl, n);
	memset(&all, 0, sizeof(all));
	CHECK(sources_collect(st, &all, cl, &v, &e) == 0);
	CHECK_INT(v.n, 4);
	CHECK((r = row_named(&v, "example.com")) != NULL);
	if (r != NULL) {
		CHECK_INT(r->ips, 2);
		CHECK_INT(r->messages, 8);
		CHECK(r->by_ip);
		CHECK_STR(source_row_source(r), "example.com");
		source_row_label(r, label, sizeof(label));
		CHECK_STR(label, "example.com (2 addresses)");
	}
	/* one address of its organisation: shown by its address */
	CHECK((r = row_named(&v, "example.net")) != NULL);
	if (r != NULL) {
		CHECK_INT(r->ips, 1);
		CHECK_STR(source_row_source(r), "198.51.100.14");
		source_row_label(r, label, sizeof(label));
		CHECK_STR(label, "198.51.100.14 (mx2.example.net)");
		CHECK_INT(name_state_bool(r->name_state), 1);
	}
	CHECK((r = row_named(&v, "198.51.100.11")) != NULL);
	if (r != NULL) {
		CHECK_INT(r->messages, 4);
		CHECK_INT(name_state_bool(r->name_state), 0);
	}
	CHECK((r = row_named(&v, "192.0.2.1")) != NULL);
	if (r != NULL)
		CHECK_INT(name_state_bool(r->name_state), -1);
	sources_view_free(&v);
	/* policy: the same sources */
	CHECK(policy_collect(st, &all, cl, 0.5, &pv, &e) == 0);
	CHECK_INT(pv.n, 1);
	if (pv.n == 1) {
		CHECK_INT(pv.domains[0].nsources, 4);
		CHECK_STR(pv.domains[0].sources[0].name, "example.com");
		CHECK_INT(pv.domains[0].sources[0].ips, 2);
		for (i = 0; i < pv.domains[0].nsources; i++)
			CHECK(!pv.domains[0].sources[i].known);
		policy_source_label(&pv.domains[0].sources[1], label,
		                    sizeof(label));
		CHECK_STR(label,
		          "198.51.100.11 (spoof.example.com, unconfirmed)");
	}
	policy_view_free(&pv);
	classify_close(cl);
	align_close(al);
	store_close(st);
	testdb_remove(db, dir);
}
