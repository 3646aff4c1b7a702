/*
 * import-other.c - see import-other.h.
 */
#include "import-other.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arf.h"
#include "tlsrpt.h"

static void
day(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(out, len, "-");
	else
		strftime(out, len, "%Y-%m-%d", &tm);
}

static void
reject(struct other_ctx *c, const char *src, const char *why)
{
	c->stats->rejected++;
	(*c->rejected)++;
	if (c->lg->level < LOG_VERBOSE)
		log_error(c->lg, "%s: rejected: %s", src, why);
	else
		log_info(c->lg, "%-9s %s: %s", "rejected", src, why);
}

static int
log_line(struct other_ctx *c, const char *src, const char *outcome,
         const struct dmarc_meta *m, const char *msg, struct err *fatal)
{
	if (store_log(c->st, src, outcome, m, 0, msg, fatal) == -1)
		return err_prefix(fatal, "cannot write the ingest log");
	return 0;
}

/* The document, read within the limit: --max-xml-size, and never more
 * than TLSRPT_MAX_BYTES (jansson holds it several times over). */
static int
slurp(struct other_ctx *c, const struct origin *o, unsigned char **mem,
      size_t *len, struct err *e)
{
	uint64_t max = c->lim->max_decompressed;
	unsigned char *p = NULL, *np;
	size_t cap = 0, used = 0;
	struct stream s;
	ssize_t r;

	if (max > TLSRPT_MAX_BYTES)
		max = TLSRPT_MAX_BYTES;
	if (stream_open(&s, o, c->lim, NULL, e) == -1)
		return -1;
	do {
		if (used > max) {
			err_set(e,
			        "SMTP TLS report larger than %llu bytes "
			        "(limit --max-xml-size, at most %u MiB for "
			        "JSON)",
			        (unsigned long long)max,
			        TLSRPT_MAX_BYTES >> 20);
			goto fail;
		}
		if (cap - used < 4096) {
			cap = cap ? cap * 2 : 65536;
			if ((np = realloc(p, cap)) == NULL) {
				err_set(e, "out of memory");
				goto fail;
			}
			p = np;
		}
		if ((r = stream_read(&s, p + used, cap - used, e)) < 0)
			goto fail;
		used += (size_t)r;
	} while (r > 0);
	stream_close(&s);
	*mem = p;
	*len = used;
	return 0;
fail:
	stream_close(&s);
	free(p);
	return -1;
}

void
import_raw(struct store_payload *raw, const struct unpack_payload *pl)
{
	memset(raw, 0, sizeof(*raw));
	raw->name = pl->name;
	raw->format = pl->format;
	raw->mem = pl->o.kind == ORIGIN_MEM ? pl->o.mem : NULL;
	raw->len = pl->o.len;
	raw->path = pl->o.kind == ORIGIN_FILE ? pl->o.path : NULL;
	raw->stored_id = pl->stored_id;
}

static int
store_tls(struct other_ctx *c, struct unpack_payload *pl,
          const struct tlsrpt_report *r, const char *src, const char *where,
          struct err *fatal)
{
	struct store_payload raw;
	enum store_outcome outcome;
	struct dmarc_meta m;
	char b[16], en[16];
	int64_t id = 0;

	import_raw(&raw, pl);
	if (store_tls_report(c->st, r, &raw, c->source, where, &outcome, &id,
	                     fatal) == -1)
		return -1;
	pl->stored_id = raw.stored_id;
	memset(&m, 0, sizeof(m));
	m.org_name = r->organization;
	m.report_id = r->report_id;
	m.domain = r->policies[0].policy_domain;
	m.begin = r->begin;
	m.end = r->end;
	m.has_begin = m.has_end = 1;
	if (outcome == STORE_DUPLICATE)
		c->stats->duplicates++;
	else
		c->stats->stored++;
	c->stats->tls++;
	day(r->begin, b, sizeof(b));
	day(r->end, en, sizeof(en));
	log_info(c->lg, "%-9s TLS %s %s %s %s..%s %lld ok %lld failed  %s",
	         outcome == STORE_DUPLICATE ? "duplicate" : "stored",
	         r->organization, r->report_id, m.domain, b, en,
	         (long long)r->successful, (long long)r->failed, src);
	return log_line(c, src,
	                outcome == STORE_DUPLICATE ? "duplicate" : "stored", &m,
	                "SMTP TLS report", fatal);
}

int
import_tlsrpt(struct other_ctx *c, struct unpack_payload *pl,
              const struct origin *o, const char *where, struct err *fatal)
{
	struct tlsrpt_report r;
	unsigned char *mem = NULL;
	char src[1024];
	size_t len = 0;
	struct err e;
	int rc;

	c->stats->reports++;
	snprintf(src, sizeof(src), "%s%s%s", c->source, where[0] ? ": " : "",
	         where);
	if (slurp(c, o, &mem, &len, &e) == -1 ||
	    tlsrpt_parse(mem, len, &r, &e) == -1) {
		free(mem);
		reject(c, src, e.msg);
		return log_line(c, src, "rejected", NULL, e.msg, fatal);
	}
	free(mem);
	rc = store_tls(c, pl, &r, src, where, fatal);
	tlsrpt_free(&r);
	return rc;
}

/* Stores a parsed failure report, counts it, says so (-v) and logs it. */
static int
store_arf(struct other_ctx *c, const struct arf_report *r, const char *src,
          struct err *fatal)
{
	enum store_outcome outcome;
	struct dmarc_meta m;
	char when[16];
	int64_t id = 0;

	if (store_failure_report(c->st, r, c->source, &outcome, &id, fatal) ==
	    -1)
		return -1;
	if (outcome == STORE_DUPLICATE)
		c->stats->duplicates++;
	else
		c->stats->stored++;
	c->stats->failures++;
	memset(&m, 0, sizeof(m));
	m.org_name = r->reporter;
	m.domain = r->reported_domain;
	m.begin = m.end = r->at;
	m.has_begin = m.has_end = r->at != 0;
	day(r->at, when, sizeof(when));
	log_info(c->lg, "%-9s failure %s %s %s %s  %s",
	         outcome == STORE_DUPLICATE ? "duplicate" : "stored",
	         r->reported_domain ? r->reported_domain : "-",
	         r->source_ip ? r->source_ip : "-",
	         r->auth_failure ? r->auth_failure : "-", when, src);
	return log_line(c, src,
	                outcome == STORE_DUPLICATE ? "duplicate" : "stored", &m,
	                "DMARC failure report", fatal);
}

int
import_arf(struct other_ctx *c, const unsigned char *msg, size_t len,
           const char *where, struct err *fatal)
{
	struct arf_report r;
	char src[1024];
	struct err e;
	int rc;

	c->stats->reports++;
	snprintf(src, sizeof(src), "%s%s%s", c->source, where[0] ? ": " : "",
	         where);
	if (arf_parse(msg, len, c->keep_bodies, &r, &e) == -1) {
		reject(c, src, e.msg);
		return log_line(c, src, "rejected", NULL, e.msg, fatal);
	}
	rc = store_arf(c, &r, src, fatal);
	arf_free(&r);
	return rc;
}

int
import_arf_kept(struct other_ctx *c, const struct arf_report *kept,
                struct err *fatal)
{
	struct arf_report r = *kept;

	c->stats->reports++;
	if (!c->keep_bodies) {
		r.body = NULL;
		r.body_len = 0;
	}
	return store_arf(c, &r, c->source, fatal);
}
