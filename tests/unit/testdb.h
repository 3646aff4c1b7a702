/*
 * testdb.h - a real SQLite store for the unit tests that need reports in
 * one: a report's metadata, the report stored through the store API (the
 * way dmarc-ingest stores it), and the database's files removed after.
 * Static inline: each test program includes what it uses.
 */
#ifndef DMARCSIFT_TESTDB_H
#define DMARCSIFT_TESTDB_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "store.h"

#define TESTDB_DAY 1764547200 /* 2025-12-01 00:00:00 UTC */

/* A one-day report of Receiver for domain, p=none, relaxed alignment. */
static inline void
testdb_meta(struct dmarc_meta *m, const char *domain, const char *id)
{
	memset(m, 0, sizeof(*m));
	m->org_name = "Receiver";
	m->email = "dmarc@receiver.example";
	m->report_id = id;
	m->begin = TESTDB_DAY;
	m->end = TESTDB_DAY + 86399;
	m->has_begin = m->has_end = 1;
	m->domain = domain;
	m->p = "none";
	m->adkim = m->aspf = "r";
	m->pct = 100;
}

/* Stores the report m with its n records (inside the caller's batch);
 * hash tells reports apart, source names the test in ingest_log. */
static inline void
testdb_put(struct store *st, const struct dmarc_meta *m,
           const struct dmarc_record *r, size_t n, uint64_t hash,
           const char *source)
{
	static const char xml[] = "<feedback/>";
	struct store_payload raw = {
	    "r.xml",         "xml", (const unsigned char *)xml,
	    sizeof(xml) - 1, NULL,  0};
	struct store_report_info info;
	struct store_existing ex;
	enum store_outcome outcome;
	struct err e;
	size_t i;

	memset(&info, 0, sizeof(info));
	CHECK(store_report_begin(st, m, &raw, &e) == 0);
	for (i = 0; i < n; i++) {
		CHECK(store_report_record(st, &r[i], &e) == 0);
		info.messages += (uint64_t)r[i].count;
	}
	info.records = n;
	info.hash = hash;
	info.source = source;
	info.member = "";
	CHECK(store_report_finish(st, m, &info, &outcome, &ex, &e) == 0);
	CHECK_INT(outcome, STORE_STORED);
}

/* Removes the database db, its -wal and -shm, and the folder dir. */
static inline void
testdb_remove(const char *db, const char *dir)
{
	char path[4096];

	unlink(db);
	snprintf(path, sizeof(path), "%s-wal", db);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", db);
	unlink(path);
	CHECK(rmdir(dir) == 0);
}

#endif
