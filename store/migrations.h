/*
 * migrations.h - the schema steps: SQLite's (migrations.c) and
 * PostgreSQL's (pg-schema.c).
 */
#ifndef DMARCSIFT_MIGRATIONS_H
#define DMARCSIFT_MIGRATIONS_H

/*
 * The authentication results of a record as one text, the way the traffic
 * rollup keys them: for each result in document order its fields joined by
 * U+001F, the results joined by U+001E (control characters cannot occur in
 * XML text).  store-sqlite.c builds the same text in C (traffic_sig()).
 */
#define TRAFFIC_LIST_SQL(a, b, c, table)                                    \
	"ifnull((SELECT group_concat(x, char(30)) FROM (SELECT ifnull(" a     \
	", '') || char(31) || ifnull(" b ", '') || char(31) || ifnull(" c     \
	", '') AS x FROM " table " WHERE record = r.id ORDER BY idx)), '')"
#define TRAFFIC_DKIM_SQL TRAFFIC_LIST_SQL("domain", "selector", "result", \
	"dkim_results")
#define TRAFFIC_SPF_SQL TRAFFIC_LIST_SQL("domain", "scope", "result",      \
	"spf_results")

/* Adds the records selected by `where` (over reports rp JOIN records r) to
 * the traffic rollup. */
#define TRAFFIC_COLUMNS_SQL                                                  \
	"(day, domain, adkim, aspf, source_ip, header_from, envelope_from, " \
	"dkim, spf, records, messages, dkim_aligned, spf_aligned, "         \
	"dmarc_pass, quarantined, rejected)"
#define TRAFFIC_FILL_SQL(where)                                              \
	"INSERT INTO traffic " TRAFFIC_COLUMNS_SQL " SELECT rp.begin_ts / 86400, rp.domain, "        \
	"ifnull(rp.adkim, ''), ifnull(rp.aspf, ''), ifnull(r.source_ip, ''), " \
	"ifnull(r.header_from, ''), ifnull(r.envelope_from, ''), "           \
	TRAFFIC_DKIM_SQL ", " TRAFFIC_SPF_SQL ", 1, r.count, "               \
	"iif(r.dkim = 'pass', r.count, 0), iif(r.spf = 'pass', r.count, 0), " \
	"iif(r.dkim = 'pass' OR r.spf = 'pass', r.count, 0), "               \
	"iif(r.disposition = 'quarantine', r.count, 0), "                    \
	"iif(r.disposition = 'reject', r.count, 0) "                         \
	"FROM reports rp JOIN records r ON r.report = rp.id " where " "       \
	TRAFFIC_UPSERT_SQL

#define TRAFFIC_UPSERT_SQL                                                   \
	"ON CONFLICT (day, domain, adkim, aspf, source_ip, header_from, "    \
	"envelope_from, dkim, spf) DO UPDATE SET "                          \
	"records = records + excluded.records, "                            \
	"messages = messages + excluded.messages, "                         \
	"dkim_aligned = dkim_aligned + excluded.dkim_aligned, "             \
	"spf_aligned = spf_aligned + excluded.spf_aligned, "                \
	"dmarc_pass = dmarc_pass + excluded.dmarc_pass, "                   \
	"quarantined = quarantined + excluded.quarantined, "                \
	"rejected = rejected + excluded.rejected"

/* SQL taking user_version from version-1 to version; NULL if unknown. */
const char *migration_step(int version);
/* The schema version this build writes. */
int migration_latest(void);
/* Steps 1..migration_released have shipped: their text is frozen. */
extern const int migration_released;

/* The same for PostgreSQL (pg-schema.c), whose steps are numbered on
 * their own (table dmarcsift_schema). */
const char *pg_migration_step(int version);
int pg_migration_latest(void);
extern const int pg_migration_released;

#endif
