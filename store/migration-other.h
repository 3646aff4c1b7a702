/*
 * migration-other.h - the schema step that adds the reports that are not
 * DMARC aggregate reports: SMTP TLS reports (RFC 8460) and DMARC failure
 * reports (RFC 6591).  Kept apart from migrations.c so that the step is one
 * line there; like every step it is never edited once released.
 *
 * tls_reports      one row per TLS report, unique by organization + id
 * tls_policies     its policies, with the session counts of their summary
 * tls_failures     the failure details of a policy
 * failure_reports  one row per failure report, unique by a fingerprint of
 *                  its feedback fields and original headers
 *
 * IF NOT EXISTS: a database whose user_version was set back by hand (as
 * tests/integration/test_traffic.py does) migrates again without failing.
 *
 * The foreign keys say ON DELETE CASCADE for connections that enforce them;
 * the store's own connection does not (store-sqlite.c) and deletes children
 * itself (store-sqlite-other.c, prune).  docs/schema.md documents them.
 */
#ifndef DMARCSIFT_MIGRATION_OTHER_H
#define DMARCSIFT_MIGRATION_OTHER_H

#define MIGRATION_OTHER_REPORTS_SQL                                            \
	"CREATE TABLE IF NOT EXISTS tls_reports (\n"                           \
	"  id           INTEGER PRIMARY KEY,\n"                                \
	"  organization TEXT NOT NULL,\n"                                      \
	"  report_id    TEXT NOT NULL,\n"                                      \
	"  contact_info TEXT,\n"                                               \
	"  begin_ts     INTEGER NOT NULL,\n"                                   \
	"  end_ts       INTEGER NOT NULL,\n"                                   \
	"  source       TEXT NOT NULL,\n"                                      \
	"  ingested_at  INTEGER NOT NULL,\n"                                   \
	"  raw_payload  INTEGER REFERENCES raw_payloads(id),\n"                \
	"  raw_member   TEXT,\n"                                               \
	"  UNIQUE (organization, report_id)\n"                                 \
	");\n"                                                                 \
	"CREATE INDEX IF NOT EXISTS tls_reports_begin ON "                     \
	"tls_reports(begin_ts);\n"                                             \
	"CREATE TABLE IF NOT EXISTS tls_policies (\n"                          \
	"  id            INTEGER PRIMARY KEY,\n"                               \
	"  report        INTEGER NOT NULL REFERENCES tls_reports(id)\n"        \
	"                ON DELETE CASCADE,\n"                                 \
	"  idx           INTEGER NOT NULL,\n"                                  \
	"  policy_type   TEXT NOT NULL,\n" /* sts | tlsa | no-policy-found */  \
	"  policy_domain TEXT NOT NULL,\n"                                     \
	"  policy_string TEXT,\n" /* the strings, one per line */              \
	"  mx_host       TEXT,\n" /* the names, one per line */                \
	"  successful    INTEGER NOT NULL,\n"                                  \
	"  failed        INTEGER NOT NULL\n"                                   \
	");\n"                                                                 \
	"CREATE INDEX IF NOT EXISTS tls_policies_report ON "                   \
	"tls_policies(report);\n"                                              \
	"CREATE INDEX IF NOT EXISTS tls_policies_domain ON "                   \
	"tls_policies(policy_domain);\n"                                       \
	"CREATE TABLE IF NOT EXISTS tls_failures (\n"                          \
	"  policy                INTEGER NOT NULL REFERENCES\n"                \
	"                        tls_policies(id) ON DELETE CASCADE,\n"        \
	"  idx                   INTEGER NOT NULL,\n"                          \
	"  result_type           TEXT NOT NULL,\n"                             \
	"  sending_mta_ip        TEXT,\n"                                      \
	"  receiving_mx_hostname TEXT,\n"                                      \
	"  receiving_mx_helo     TEXT,\n"                                      \
	"  receiving_ip          TEXT,\n"                                      \
	"  failed_sessions       INTEGER NOT NULL,\n"                          \
	"  additional_info       TEXT,\n"                                      \
	"  failure_reason_code   TEXT,\n"                                      \
	"  PRIMARY KEY (policy, idx)\n"                                        \
	") WITHOUT ROWID;\n"                                                   \
	"CREATE TABLE IF NOT EXISTS failure_reports (\n"                       \
	"  id                 INTEGER PRIMARY KEY,\n"                          \
	"  fingerprint        TEXT NOT NULL UNIQUE,\n"                         \
	"  feedback_type      TEXT NOT NULL,\n"                                \
	"  auth_failure       TEXT,\n"                                         \
	"  source_ip          TEXT,\n"                                         \
	"  reported_domain    TEXT,\n"                                         \
	"  original_mail_from TEXT,\n"                                         \
	"  original_rcpt_to   TEXT,\n"                                         \
	"  arrival_date       TEXT,\n"                                         \
	"  at_ts              INTEGER NOT NULL,\n"                             \
	"  dkim_domain        TEXT,\n"                                         \
	"  dkim_selector      TEXT,\n"                                         \
	"  identity_alignment TEXT,\n"                                         \
	"  delivery_result    TEXT,\n"                                         \
	"  reporter           TEXT,\n"                                         \
	"  subject            TEXT,\n"                                         \
	"  feedback           TEXT NOT NULL,\n"                                \
	"  original_headers   TEXT,\n"                                         \
	"  original_body      BLOB,\n"                                         \
	"  source             TEXT NOT NULL,\n"                                \
	"  ingested_at        INTEGER NOT NULL\n"                              \
	");\n"                                                                 \
	"CREATE INDEX IF NOT EXISTS failure_reports_at ON "                    \
	"failure_reports(at_ts);\n"

#endif
