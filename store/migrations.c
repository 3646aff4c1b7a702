/*
 * migrations.c - the SQLite schema, as the list of steps that build it.
 *
 * Step N takes a database from PRAGMA user_version N-1 to N.  Steps are
 * never edited once released: a change to the schema is a new step at the
 * end.  A released step is plain frozen text (no macro shared with the
 * live queries) whose INSERTs name their columns, so that neither a later
 * query nor a later column can change what it does;
 * tests/unit/test_store_location.c fails if its text changes.  Each step
 * runs in a transaction together with the user_version update, so a
 * database is always at exactly one version.
 *
 * docs/schema.md describes the tables for people writing their own queries.
 */
#include "migrations.h"
#include "migration-other.h"

#include <stddef.h>

static const char *const steps[] = {
    /* 1: the first schema */
    "CREATE TABLE raw_payloads (\n"
    "  id      INTEGER PRIMARY KEY,\n"
    "  name    TEXT,\n"             /* file or attachment name */
    "  format  TEXT NOT NULL,\n"    /* gzip | zip | zlib | xml */
    "  size    INTEGER NOT NULL,\n" /* bytes of data */
    "  data    BLOB NOT NULL\n"     /* exactly as received */
    ");\n"
    "CREATE TABLE reports (\n"
    "  id                 INTEGER PRIMARY KEY,\n"
    "  org_name           TEXT NOT NULL,\n"
    "  org_name_derived   INTEGER NOT NULL DEFAULT 0,\n"
    "  email              TEXT,\n"
    "  extra_contact_info TEXT,\n"
    "  report_id          TEXT NOT NULL,\n"
    "  domain             TEXT NOT NULL,\n"
    "  begin_ts           INTEGER NOT NULL,\n"
    "  end_ts             INTEGER NOT NULL,\n"
    "  errors             TEXT,\n"
    "  generator          TEXT,\n"
    "  version            TEXT,\n"
    "  xmlns              TEXT,\n"
    "  adkim              TEXT,\n"
    "  aspf               TEXT,\n"
    "  p                  TEXT,\n"
    "  sp                 TEXT,\n"
    "  np                 TEXT,\n"
    "  pct                INTEGER,\n"
    "  fo                 TEXT,\n"
    "  testing            TEXT,\n"
    "  discovery_method   TEXT,\n"
    "  record_count       INTEGER NOT NULL DEFAULT 0,\n"
    "  message_count      INTEGER NOT NULL DEFAULT 0,\n"
    "  content_hash       INTEGER,\n"
    "  salvaged           INTEGER NOT NULL DEFAULT 0,\n"
    "  warnings           TEXT,\n"
    "  source             TEXT NOT NULL,\n"
    "  ingested_at        INTEGER NOT NULL,\n"
    "  raw_payload        INTEGER REFERENCES raw_payloads(id),\n"
    "  raw_member         TEXT,\n"
    "  UNIQUE (org_name, report_id, domain, begin_ts, end_ts)\n"
    ");\n"
    "CREATE INDEX reports_begin ON reports(begin_ts);\n"
    "CREATE TABLE records (\n"
    "  id            INTEGER PRIMARY KEY,\n"
    "  report        INTEGER NOT NULL REFERENCES reports(id)\n"
    "                ON DELETE CASCADE,\n"
    "  source_ip     TEXT,\n"
    "  count         INTEGER NOT NULL,\n"
    "  disposition   TEXT,\n"
    "  dkim          TEXT,\n" /* policy_evaluated: aligned DKIM */
    "  spf           TEXT,\n" /* policy_evaluated: aligned SPF */
    "  header_from   TEXT,\n"
    "  envelope_from TEXT,\n"
    "  envelope_to   TEXT\n"
    ");\n"
    "CREATE INDEX records_report ON records(report);\n"
    "CREATE TABLE dkim_results (\n"
    "  record       INTEGER NOT NULL REFERENCES records(id)\n"
    "               ON DELETE CASCADE,\n"
    "  idx          INTEGER NOT NULL,\n"
    "  domain       TEXT,\n"
    "  selector     TEXT,\n"
    "  result       TEXT,\n"
    "  human_result TEXT,\n"
    "  PRIMARY KEY (record, idx)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE spf_results (\n"
    "  record       INTEGER NOT NULL REFERENCES records(id)\n"
    "               ON DELETE CASCADE,\n"
    "  idx          INTEGER NOT NULL,\n"
    "  domain       TEXT,\n"
    "  scope        TEXT,\n"
    "  result       TEXT,\n"
    "  human_result TEXT,\n"
    "  PRIMARY KEY (record, idx)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE override_reasons (\n"
    "  record        INTEGER NOT NULL REFERENCES records(id)\n"
    "                ON DELETE CASCADE,\n"
    "  idx           INTEGER NOT NULL,\n"
    "  type          TEXT,\n"
    "  type_original TEXT,\n"
    "  comment       TEXT,\n"
    "  PRIMARY KEY (record, idx)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE ingest_log (\n"
    "  id        INTEGER PRIMARY KEY,\n"
    "  at        INTEGER NOT NULL,\n"
    "  source    TEXT NOT NULL,\n"
    "  outcome   TEXT NOT NULL,\n" /* stored|duplicate|salvaged|rejected */
    "  report    INTEGER REFERENCES reports(id) ON DELETE SET NULL,\n"
    "  org_name  TEXT,\n"
    "  report_id TEXT,\n"
    "  domain    TEXT,\n"
    "  begin_ts  INTEGER,\n"
    "  end_ts    INTEGER,\n"
    "  message   TEXT\n"
    ");\n"
    "CREATE TABLE imap_state (\n"
    "  mailbox     TEXT PRIMARY KEY,\n" /* user@host/folder */
    "  uidvalidity INTEGER NOT NULL,\n"
    "  last_uid    INTEGER NOT NULL,\n"
    "  updated_at  INTEGER NOT NULL\n"
    ");\n",
    /* 2: traffic, the daily rollup the summaries read.  One row per
     * (day, policy, source, identifiers, authentication results), with the
     * counters summed over every record that has them; kept up to date as
     * records are stored (store-sqlite.c), and filled here from the
     * records already stored. */
    "CREATE TABLE traffic (\n"
    "  day           INTEGER NOT NULL,\n" /* reports.begin_ts / 86400 */
    "  domain        TEXT NOT NULL,\n"
    "  adkim         TEXT NOT NULL,\n" /* '' when not published */
    "  aspf          TEXT NOT NULL,\n"
    "  source_ip     TEXT NOT NULL,\n" /* '' when the record has none */
    "  header_from   TEXT NOT NULL,\n"
    "  envelope_from TEXT NOT NULL,\n"
    "  dkim          TEXT NOT NULL,\n" /* see TRAFFIC_DKIM_SQL */
    "  spf           TEXT NOT NULL,\n"
    "  records       INTEGER NOT NULL,\n"
    "  messages      INTEGER NOT NULL,\n"
    "  dkim_aligned  INTEGER NOT NULL,\n"
    "  spf_aligned   INTEGER NOT NULL,\n"
    "  dmarc_pass    INTEGER NOT NULL,\n"
    "  quarantined   INTEGER NOT NULL,\n"
    "  rejected      INTEGER NOT NULL,\n"
    "  PRIMARY KEY (day, domain, adkim, aspf, source_ip, header_from,\n"
    "               envelope_from, dkim, spf)\n"
    ") WITHOUT ROWID;\n"
    /* Frozen text, not TRAFFIC_FILL_SQL: editing a live query must not
     * edit a released step (tests/unit/test_store_location.c). */
    "INSERT INTO traffic (day, domain, adkim, aspf, source_ip,\n"
    "  header_from, envelope_from, dkim, spf, records, messages,\n"
    "  dkim_aligned, spf_aligned, dmarc_pass, quarantined, rejected)\n"
    "SELECT rp.begin_ts / 86400, rp.domain, ifnull(rp.adkim, ''),\n"
    "  ifnull(rp.aspf, ''), ifnull(r.source_ip, ''),\n"
    "  ifnull(r.header_from, ''), ifnull(r.envelope_from, ''),\n"
    "  ifnull((SELECT group_concat(x, char(30)) FROM (SELECT\n"
    "    ifnull(domain, '') || char(31) || ifnull(selector, '') ||\n"
    "    char(31) || ifnull(result, '') AS x FROM dkim_results\n"
    "    WHERE record = r.id ORDER BY idx)), ''),\n"
    "  ifnull((SELECT group_concat(x, char(30)) FROM (SELECT\n"
    "    ifnull(domain, '') || char(31) || ifnull(scope, '') ||\n"
    "    char(31) || ifnull(result, '') AS x FROM spf_results\n"
    "    WHERE record = r.id ORDER BY idx)), ''),\n"
    "  1, r.count, iif(r.dkim = 'pass', r.count, 0),\n"
    "  iif(r.spf = 'pass', r.count, 0),\n"
    "  iif(r.dkim = 'pass' OR r.spf = 'pass', r.count, 0),\n"
    "  iif(r.disposition = 'quarantine', r.count, 0),\n"
    "  iif(r.disposition = 'reject', r.count, 0)\n"
    "FROM reports rp JOIN records r ON r.report = rp.id WHERE true\n"
    "ON CONFLICT (day, domain, adkim, aspf, source_ip, header_from,\n"
    "  envelope_from, dkim, spf) DO UPDATE SET\n"
    "  records = records + excluded.records,\n"
    "  messages = messages + excluded.messages,\n"
    "  dkim_aligned = dkim_aligned + excluded.dkim_aligned,\n"
    "  spf_aligned = spf_aligned + excluded.spf_aligned,\n"
    "  dmarc_pass = dmarc_pass + excluded.dmarc_pass,\n"
    "  quarantined = quarantined + excluded.quarantined,\n"
    "  rejected = rejected + excluded.rejected;\n",
    /* 3: SMTP TLS reports (RFC 8460) and DMARC failure reports (RFC 6591):
     * MIGRATION_OTHER_REPORTS_SQL, migrations.h */
    MIGRATION_OTHER_REPORTS_SQL,
    /* 4: names of the source addresses, from DNS (dns/, issue 13).  One
     * row per address looked up; `result` is name | nxdomain | timeout |
     * error | malformed, `name` is set (a checked host name) only for
     * "name", `confirmed` when the name's A/AAAA records hold the
     * address.  A row is looked up again once expires_at has passed. */
    "CREATE TABLE IF NOT EXISTS source_names (\n"
    "  ip          TEXT PRIMARY KEY,\n"
    "  result      TEXT NOT NULL,\n"
    "  name        TEXT,\n"
    "  confirmed   INTEGER NOT NULL DEFAULT 0,\n"
    "  ttl         INTEGER NOT NULL,\n"
    "  resolved_at INTEGER NOT NULL,\n"
    "  expires_at  INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n",
};

/* The steps released so far: their text may never change again.  A new
 * step is added above; when it ships, this number follows. */
const int migration_released = 2;

const char *
migration_step(int version)
{
	if (version < 1 || (size_t)version > sizeof(steps) / sizeof(steps[0]))
		return NULL;
	return steps[version - 1];
}

int
migration_latest(void)
{
	return (int)(sizeof(steps) / sizeof(steps[0]));
}
