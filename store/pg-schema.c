/*
 * pg-schema.c - the PostgreSQL schema, as the list of steps that
 * build it: the same tables and meaning as the SQLite schema
 * (migrations.c, docs/schema.md), in PostgreSQL's dialect.
 *
 * The version is the one row of dmarcsift_schema (PostgreSQL has no
 * user_version).  Step N takes it from N-1 to N, in one transaction with
 * the version update, under an advisory lock so that two ingesters
 * starting at once do not both migrate.  Released steps are frozen, like
 * SQLite's (tests/unit/test_store_location.c checks the hashes).
 *
 * Differences from SQLite, and why:
 *  - times are timestamptz, addresses inet, payloads bytea;
 *  - text columns use the "C" collation: comparisons, GROUP BY and ORDER
 *    BY are then bytewise, as SQLite's BINARY, so dmarc-report prints
 *    the same on both;
 *  - records and override reasons are keyed (report, rec[, idx]), rec the
 *    record's position in its report, and partitioned by month of the
 *    report's begin (begin_ts is copied into them for that): retention is
 *    a partition drop.  Months without a partition of their own go to the
 *    DEFAULT partitions; the writer creates the current months'
 *    partitions when it opens (store-pg.c);
 *  - since step 4, a record's DKIM and SPF results are arrays in its row
 *    (auth_dkim, auth_spf: row i of the array the report's result i),
 *    and dkim_results and spf_results are views that list them as rows.
 *
 * This file needs no libpq: the unit tests check its frozen steps in
 * every build.
 */
#include "migrations.h"

#include <stddef.h>

#define C " COLLATE \"C\""

static const char *const pg_steps[] = {
    /* 1: the first schema: steps 1 and 2 of SQLite's */
    "CREATE TABLE raw_payloads (\n"
    "  id     bigserial PRIMARY KEY,\n"
    "  name   text" C ",\n"
    "  format text" C " NOT NULL,\n" /* gzip | zip | zlib | xml */
    "  size   bigint NOT NULL,\n"
    "  data   bytea NOT NULL\n"
    ");\n"
    "CREATE TABLE reports (\n"
    "  id                 bigserial PRIMARY KEY,\n"
    "  org_name           text" C " NOT NULL,\n"
    "  org_name_derived   integer NOT NULL DEFAULT 0,\n"
    "  email              text" C ",\n"
    "  extra_contact_info text" C ",\n"
    "  report_id          text" C " NOT NULL,\n"
    "  domain             text" C " NOT NULL,\n"
    "  begin_ts           timestamptz NOT NULL,\n"
    "  end_ts             timestamptz NOT NULL,\n"
    "  errors             text" C ",\n"
    "  generator          text" C ",\n"
    "  version            text" C ",\n"
    "  xmlns              text" C ",\n"
    "  adkim              text" C ",\n"
    "  aspf               text" C ",\n"
    "  p                  text" C ",\n"
    "  sp                 text" C ",\n"
    "  np                 text" C ",\n"
    "  pct                integer,\n"
    "  fo                 text" C ",\n"
    "  testing            text" C ",\n"
    "  discovery_method   text" C ",\n"
    "  record_count       bigint NOT NULL DEFAULT 0,\n"
    "  message_count      bigint NOT NULL DEFAULT 0,\n"
    "  content_hash       bigint,\n"
    "  salvaged           integer NOT NULL DEFAULT 0,\n"
    "  warnings           text" C ",\n"
    "  source             text" C " NOT NULL,\n"
    "  ingested_at        timestamptz NOT NULL,\n"
    "  raw_payload        bigint REFERENCES raw_payloads(id),\n"
    "  raw_member         text" C ",\n"
    "  UNIQUE (org_name, report_id, domain, begin_ts, end_ts)\n"
    ");\n"
    "CREATE INDEX reports_begin ON reports (begin_ts, id);\n"
    "CREATE INDEX reports_domain ON reports (domain, begin_ts);\n"
    "CREATE TABLE records (\n"
    "  report        bigint NOT NULL,\n"
    "  rec           integer NOT NULL,\n"
    "  begin_ts      timestamptz NOT NULL,\n" /* the report's */
    "  source_ip     inet,\n"
    "  count         bigint NOT NULL,\n"
    "  disposition   text" C ",\n"
    "  dkim          text" C ",\n"
    "  spf           text" C ",\n"
    "  header_from   text" C ",\n"
    "  envelope_from text" C ",\n"
    "  envelope_to   text" C ",\n"
    "  PRIMARY KEY (report, rec, begin_ts)\n"
    ") PARTITION BY RANGE (begin_ts);\n"
    "CREATE TABLE dkim_results (\n"
    "  report       bigint NOT NULL,\n"
    "  rec          integer NOT NULL,\n"
    "  idx          integer NOT NULL,\n"
    "  begin_ts     timestamptz NOT NULL,\n"
    "  domain       text" C ",\n"
    "  selector     text" C ",\n"
    "  result       text" C ",\n"
    "  human_result text" C ",\n"
    "  PRIMARY KEY (report, rec, idx, begin_ts)\n"
    ") PARTITION BY RANGE (begin_ts);\n"
    "CREATE TABLE spf_results (\n"
    "  report       bigint NOT NULL,\n"
    "  rec          integer NOT NULL,\n"
    "  idx          integer NOT NULL,\n"
    "  begin_ts     timestamptz NOT NULL,\n"
    "  domain       text" C ",\n"
    "  scope        text" C ",\n"
    "  result       text" C ",\n"
    "  human_result text" C ",\n"
    "  PRIMARY KEY (report, rec, idx, begin_ts)\n"
    ") PARTITION BY RANGE (begin_ts);\n"
    "CREATE TABLE override_reasons (\n"
    "  report        bigint NOT NULL,\n"
    "  rec           integer NOT NULL,\n"
    "  idx           integer NOT NULL,\n"
    "  begin_ts      timestamptz NOT NULL,\n"
    "  type          text" C ",\n"
    "  type_original text" C ",\n"
    "  comment       text" C ",\n"
    "  PRIMARY KEY (report, rec, idx, begin_ts)\n"
    ") PARTITION BY RANGE (begin_ts);\n"
    "CREATE TABLE records_default PARTITION OF records DEFAULT;\n"
    "CREATE TABLE dkim_results_default PARTITION OF dkim_results DEFAULT;\n"
    "CREATE TABLE spf_results_default PARTITION OF spf_results DEFAULT;\n"
    "CREATE TABLE override_reasons_default PARTITION OF override_reasons\n"
    "  DEFAULT;\n"
    "CREATE TABLE ingest_log (\n"
    "  id        bigserial PRIMARY KEY,\n"
    "  at        timestamptz NOT NULL,\n"
    "  source    text" C " NOT NULL,\n"
    "  outcome   text" C " NOT NULL,\n"
    "  report    bigint REFERENCES reports(id) ON DELETE SET NULL,\n"
    "  org_name  text" C ",\n"
    "  report_id text" C ",\n"
    "  domain    text" C ",\n"
    "  begin_ts  timestamptz,\n"
    "  end_ts    timestamptz,\n"
    "  message   text" C "\n"
    ");\n"
    "CREATE TABLE imap_state (\n"
    "  mailbox     text" C " PRIMARY KEY,\n"
    "  uidvalidity bigint NOT NULL,\n"
    "  last_uid    bigint NOT NULL,\n"
    "  updated_at  timestamptz NOT NULL\n"
    ");\n"
    "CREATE TABLE traffic (\n"
    "  day           bigint NOT NULL,\n" /* begin, in s since 1970, / 86400 */
    "  domain        text" C " NOT NULL,\n"
    "  adkim         text" C " NOT NULL,\n"
    "  aspf          text" C " NOT NULL,\n"
    "  source_ip     text" C " NOT NULL,\n"
    "  header_from   text" C " NOT NULL,\n"
    "  envelope_from text" C " NOT NULL,\n"
    "  dkim          text" C " NOT NULL,\n"
    "  spf           text" C " NOT NULL,\n"
    "  records       bigint NOT NULL,\n"
    "  messages      bigint NOT NULL,\n"
    "  dkim_aligned  bigint NOT NULL,\n"
    "  spf_aligned   bigint NOT NULL,\n"
    "  dmarc_pass    bigint NOT NULL,\n"
    "  quarantined   bigint NOT NULL,\n"
    "  rejected      bigint NOT NULL,\n"
    "  PRIMARY KEY (day, domain, adkim, aspf, source_ip, header_from,\n"
    "               envelope_from, dkim, spf)\n"
    ");\n"
    /* For dashboards (docs/postgresql.md): per UTC day, policy domain and
     * sending address, from the rollup. */
    "CREATE VIEW daily_traffic AS\n"
    "SELECT to_timestamp(day * 86400) AS day, domain, source_ip,\n"
    "  sum(messages)::bigint AS messages,\n"
    "  sum(dmarc_pass)::bigint AS dmarc_pass,\n"
    "  sum(dkim_aligned)::bigint AS dkim_aligned,\n"
    "  sum(spf_aligned)::bigint AS spf_aligned,\n"
    "  sum(quarantined)::bigint AS quarantined,\n"
    "  sum(rejected)::bigint AS rejected,\n"
    "  round(100.0 * sum(dmarc_pass) / nullif(sum(messages), 0), 2)\n"
    "    AS dmarc_pass_pct\n"
    "FROM traffic GROUP BY day, domain, source_ip;\n"
    "CREATE VIEW daily_domains AS\n"
    "SELECT day, domain, sum(messages)::bigint AS messages,\n"
    "  sum(dmarc_pass)::bigint AS dmarc_pass,\n"
    "  round(100.0 * sum(dmarc_pass) / nullif(sum(messages), 0), 2)\n"
    "    AS dmarc_pass_pct\n"
    "FROM daily_traffic GROUP BY day, domain;\n",
    /* 2: SQLite's steps 3 and 4: SMTP TLS reports, DMARC failure reports
     * (migration-other.h) and the names of source addresses.  The
     * children name their parent with ON DELETE CASCADE, which PostgreSQL
     * enforces: deleting a report deletes its policies and failures. */
    "CREATE TABLE tls_reports (\n"
    "  id           bigserial PRIMARY KEY,\n"
    "  organization text" C " NOT NULL,\n"
    "  report_id    text" C " NOT NULL,\n"
    "  contact_info text" C ",\n"
    "  begin_ts     timestamptz NOT NULL,\n"
    "  end_ts       timestamptz NOT NULL,\n"
    "  source       text" C " NOT NULL,\n"
    "  ingested_at  timestamptz NOT NULL,\n"
    "  raw_payload  bigint REFERENCES raw_payloads(id),\n"
    "  raw_member   text" C ",\n"
    "  UNIQUE (organization, report_id)\n"
    ");\n"
    "CREATE INDEX tls_reports_begin ON tls_reports (begin_ts);\n"
    "CREATE TABLE tls_policies (\n"
    "  id            bigserial PRIMARY KEY,\n"
    "  report        bigint NOT NULL REFERENCES tls_reports(id)\n"
    "                ON DELETE CASCADE,\n"
    "  idx           integer NOT NULL,\n"
    "  policy_type   text" C " NOT NULL,\n"
    "  policy_domain text" C " NOT NULL,\n"
    "  policy_string text" C ",\n"
    "  mx_host       text" C ",\n"
    "  successful    bigint NOT NULL,\n"
    "  failed        bigint NOT NULL\n"
    ");\n"
    "CREATE INDEX tls_policies_report ON tls_policies (report);\n"
    "CREATE INDEX tls_policies_domain ON tls_policies (policy_domain);\n"
    "CREATE TABLE tls_failures (\n"
    "  policy                bigint NOT NULL REFERENCES tls_policies(id)\n"
    "                        ON DELETE CASCADE,\n"
    "  idx                   integer NOT NULL,\n"
    "  result_type           text" C " NOT NULL,\n"
    "  sending_mta_ip        text" C ",\n"
    "  receiving_mx_hostname text" C ",\n"
    "  receiving_mx_helo     text" C ",\n"
    "  receiving_ip          text" C ",\n"
    "  failed_sessions       bigint NOT NULL,\n"
    "  additional_info       text" C ",\n"
    "  failure_reason_code   text" C ",\n"
    "  PRIMARY KEY (policy, idx)\n"
    ");\n"
    "CREATE TABLE failure_reports (\n"
    "  id                 bigserial PRIMARY KEY,\n"
    "  fingerprint        text" C " NOT NULL UNIQUE,\n"
    "  feedback_type      text" C " NOT NULL,\n"
    "  auth_failure       text" C ",\n"
    "  source_ip          text" C ",\n"
    "  reported_domain    text" C ",\n"
    "  original_mail_from text" C ",\n"
    "  original_rcpt_to   text" C ",\n"
    "  arrival_date       text" C ",\n"
    "  at_ts              timestamptz NOT NULL,\n"
    "  dkim_domain        text" C ",\n"
    "  dkim_selector      text" C ",\n"
    "  identity_alignment text" C ",\n"
    "  delivery_result    text" C ",\n"
    "  reporter           text" C ",\n"
    "  subject            text" C ",\n"
    "  feedback           text" C " NOT NULL,\n"
    "  original_headers   text" C ",\n"
    "  original_body      bytea,\n"
    "  source             text" C " NOT NULL,\n"
    "  ingested_at        timestamptz NOT NULL\n"
    ");\n"
    "CREATE INDEX failure_reports_at ON failure_reports (at_ts);\n"
    "CREATE TABLE source_names (\n"
    "  ip          text" C " PRIMARY KEY,\n"
    "  result      text" C " NOT NULL,\n"
    "  name        text" C ",\n"
    "  confirmed   integer NOT NULL DEFAULT 0,\n"
    "  ttl         bigint NOT NULL,\n"
    "  resolved_at timestamptz NOT NULL,\n"
    "  expires_at  timestamptz NOT NULL\n"
    ");\n",
    /* 3: a payload is compressed already (payload.h), or small JSON;
     * PostgreSQL's own attempt to compress it was time spent for nothing:
     * a 20 MB gzip payload took 0.55 s to insert, 0.22 s without */
    "ALTER TABLE raw_payloads ALTER COLUMN data SET STORAGE EXTERNAL;\n",
    /* 4: a record's DKIM and SPF results are two-dimensional arrays in
     * its row, a row of the array per result (domain, selector or scope,
     * result, human_result), in the order of the report; dkim_results and
     * spf_results become views that list them as before.  A row per
     * result made the server insert and index 3.5 rows per record: for a
     * 100,000-record report the three COPYs took 1.61 s of its CPU,
     * against 0.5 s for the records with their results in arrays
     * (bench/RESULTS.md, run 8). */
    "ALTER TABLE records\n"
    "  ADD COLUMN auth_dkim text[]" C ",\n"
    "  ADD COLUMN auth_spf  text[]" C ";\n"
    "UPDATE records r SET auth_dkim = x.a\n"
    "FROM (SELECT report, rec, begin_ts, array_agg(ARRAY[domain, selector,\n"
    "  result, human_result] ORDER BY idx) AS a\n"
    "  FROM dkim_results GROUP BY report, rec, begin_ts) x\n"
    "WHERE r.report = x.report AND r.rec = x.rec\n"
    "  AND r.begin_ts = x.begin_ts;\n"
    "UPDATE records r SET auth_spf = x.a\n"
    "FROM (SELECT report, rec, begin_ts, array_agg(ARRAY[domain, scope,\n"
    "  result, human_result] ORDER BY idx) AS a\n"
    "  FROM spf_results GROUP BY report, rec, begin_ts) x\n"
    "WHERE r.report = x.report AND r.rec = x.rec\n"
    "  AND r.begin_ts = x.begin_ts;\n"
    "DROP TABLE dkim_results, spf_results;\n"
    "CREATE VIEW dkim_results AS\n"
    "SELECT r.report, r.rec, (i - 1)::integer AS idx, r.begin_ts,\n"
    "  r.auth_dkim[i][1] AS domain, r.auth_dkim[i][2] AS selector,\n"
    "  r.auth_dkim[i][3] AS result, r.auth_dkim[i][4] AS human_result\n"
    "FROM records r, generate_subscripts(r.auth_dkim, 1) AS i;\n"
    "CREATE VIEW spf_results AS\n"
    "SELECT r.report, r.rec, (i - 1)::integer AS idx, r.begin_ts,\n"
    "  r.auth_spf[i][1] AS domain, r.auth_spf[i][2] AS scope,\n"
    "  r.auth_spf[i][3] AS result, r.auth_spf[i][4] AS human_result\n"
    "FROM records r, generate_subscripts(r.auth_spf, 1) AS i;\n",
};

/* As migration_released: a step is frozen from its first merge on. */
const int pg_migration_released = 4;

const char *
pg_migration_step(int version)
{
	if (version < 1 ||
	    (size_t)version > sizeof(pg_steps) / sizeof(pg_steps[0]))
		return NULL;
	return pg_steps[version - 1];
}

int
pg_migration_latest(void)
{
	return (int)(sizeof(pg_steps) / sizeof(pg_steps[0]));
}
