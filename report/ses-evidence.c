/*
 * ses-evidence.c - DMARC failure reports (RFC 6591) as evidence for the
 * rows of `dmarc-report ses` (issue 14 item 2).  See ses-model.h.
 *
 * A failure report describes one message: its Source-IP, the DKIM
 * signature it carried (DKIM-Domain, DKIM-Selector), its MAIL FROM and
 * what failed (Auth-Failure).  Classified like a record (classify.h), a
 * report from an SES source is matched to the flagged row with its
 * address and From domain (Reported-Domain), else to a row of the region
 * its own signals name with that From domain.  Its DKIM result is not in
 * the report, so the signature is classified with no result: the address
 * and the MAIL FROM say SES, the selector only names a region.
 *
 * Honesty: the reports add no messages (a receiver sends one for some
 * failed messages, not all); a region they name is said as theirs
 * (ses_row_evidence()), the row's region stays what the aggregate
 * reports show.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "ses-model.h"

/* A lookup's value: the row a key leads to. */
struct row_ref {
	struct ses_row *r;
};

/* Lookups built once from the flagged rows; values are struct row_ref. */
struct join {
	struct ses_model *m;
	const struct classifier *cl;
	struct strmap by_ip;     /* canonical address US From domain */
	struct strmap by_region; /* region US From domain */
	int indexed;             /* the maps are built: at the first report */
};

/* The address in one spelling (IPv6 zeros, case), so that the report's
 * "2001:DB8::0:1" finds the record's "2001:db8::1"; the text itself when
 * it is no address. */
static void
canonical_ip(const char *ip, char *out, size_t len)
{
	struct net n;
	size_t i, o = 0;

	if (ip == NULL || net_parse_addr(ip, &n) == -1) {
		snprintf(out, len, "%s", ip ? ip : "");
		return;
	}
	/* hex by hand: cheaper than a snprintf per byte, once per row */
	for (i = 0; i < (n.family == AF_INET ? 4u : 16u) && o + 2 < len; i++) {
		out[o++] = "0123456789abcdef"[n.addr[i] >> 4];
		out[o++] = "0123456789abcdef"[n.addr[i] & 15];
	}
	out[o] = '\0';
}

static void
lower(const char *s, char *out, size_t len)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[len ? i : 0] = '\0';
}

static int
index_row(struct strmap *map, const char *a, const char *hf, struct ses_row *r)
{
	char key[600], low[256];
	const char *parts[2];
	struct row_ref *v;
	int created;

	lower(hf, low, sizeof(low));
	parts[0] = a;
	parts[1] = low;
	strmap_key(key, sizeof(key), parts, 2);
	if ((v = strmap_upsert(map, key, sizeof(*v), &created)) == NULL)
		return -1;
	/* a region's match: the fail row with the most messages */
	if (created || r->severity > v->r->severity ||
	    (r->severity == v->r->severity && r->messages > v->r->messages))
		v->r = r;
	return 0;
}

static int
build_index(struct join *j)
{
	char ip[64];
	size_t i;

	for (i = 0; i < strmap_len(&j->m->rows); i++) {
		struct ses_row *r = strmap_at(&j->m->rows, i)->value;

		if (!r->flagged || r->hf == NULL)
			continue;
		canonical_ip(r->ip, ip, sizeof(ip));
		if (index_row(&j->by_ip, ip, r->hf, r) == -1 ||
		    (!r->unknown &&
		     index_row(&j->by_region, r->region, r->hf, r) == -1))
			return -1;
	}
	return 0;
}

/* The row for a report: its address and From domain, else its region's. */
static struct ses_row *
match(const struct join *j, const struct store_failure_row *f,
      const struct sender *snd, int *same_ip)
{
	char ip[64], key[600], low[256];
	const char *parts[2];
	const struct row_ref *v;

	lower(f->reported_domain, low, sizeof(low));
	canonical_ip(f->source_ip, ip, sizeof(ip));
	parts[0] = ip;
	parts[1] = low;
	strmap_key(key, sizeof(key), parts, 2);
	*same_ip = 1;
	if (f->source_ip != NULL && (v = strmap_get(&j->by_ip, key)) != NULL)
		return v->r;
	*same_ip = 0;
	if (strcmp(snd->region, REGION_UNKNOWN) == 0)
		return NULL;
	parts[0] = snd->region;
	strmap_key(key, sizeof(key), parts, 2);
	return (v = strmap_get(&j->by_region, key)) != NULL ? v->r : NULL;
}

static unsigned
auth_bits(const char *af)
{
	if (af == NULL || af[0] == '\0')
		return SES_AF_OTHER;
	if (strcasecmp(af, "spf") == 0)
		return SES_AF_SPF;
	if (strcasecmp(af, "dmarc") == 0)
		return SES_AF_DMARC;
	if (strcasecmp(af, "signature") == 0 ||
	    strcasecmp(af, "bodyhash") == 0 || strcasecmp(af, "revoked") == 0 ||
	    strcasecmp(af, "adsp") == 0)
		return SES_AF_DKIM;
	return SES_AF_OTHER;
}

/* The domain of a MAIL FROM address ("<a@b>", "a@b", "b"); NULL when
 * empty (a bounce's null sender). */
static const char *
mail_from_domain(const char *mf, char *out, size_t len)
{
	const char *at;
	size_t n;

	if (mf == NULL)
		return NULL;
	if ((at = strrchr(mf, '@')) != NULL)
		mf = at + 1;
	else if (*mf == '<')
		mf++;
	n = strcspn(mf, "> \t");
	if (n == 0 || n >= len)
		return NULL;
	memcpy(out, mf, n);
	out[n] = '\0';
	return out;
}

static int
keep(struct ses_model *m, const char **dst, const char *s)
{
	if (*dst != NULL || s == NULL || s[0] == '\0')
		return 0;
	return (*dst = strmap_intern(&m->pool, s)) == NULL ? -1 : 0;
}

/* Adds what one report says to its row. */
static int
note(struct ses_model *m, struct ses_row *r, const struct store_failure_row *f,
     const char *mf, const struct sender *snd, int same_ip)
{
	struct ses_failures *x = &r->failures;

	x->reports++;
	x->same_ip += (uint64_t)same_ip;
	x->auth |= auth_bits(f->auth_failure);
	if (strcmp(snd->region, REGION_UNKNOWN) != 0) {
		if (x->region[0] == '\0') {
			snprintf(x->region, sizeof(x->region), "%s",
			         snd->region);
			x->region_by = snd->evidence;
		} else if (strcmp(x->region, snd->region) != 0)
			x->regions_differ = 1;
	}
	if (x->dkim_domain == NULL && f->dkim_domain != NULL &&
	    (keep(m, &x->dkim_domain, f->dkim_domain) == -1 ||
	     keep(m, &x->dkim_selector, f->dkim_selector) == -1))
		return -1;
	return keep(m, &x->mail_from, mf) == -1 ||
	               keep(m, &x->subject, f->subject) == -1
	           ? -1
	           : 0;
}

static int
each_failure(void *arg, const struct store_failure_row *f, struct err *e)
{
	struct join *j = arg;
	struct dmarc_dkim sig = {f->dkim_domain, f->dkim_selector, NULL, NULL};
	char mfbuf[256];
	const char *mf =
	    mail_from_domain(f->original_mail_from, mfbuf, sizeof(mfbuf));
	struct classify_input ci = {
	    f->source_ip, NULL, mf, NULL, 0, &sig, f->dkim_domain != NULL};
	struct sender snd;
	struct ses_row *r;
	int same_ip;

	/* built on the first report, not before: a store that keeps no
	 * failure reports for the selection pays nothing */
	if (!j->indexed) {
		if (build_index(j) == -1)
			return err_set(e, "out of memory");
		j->indexed = 1;
	}

	classify_record(j->cl, &ci, &snd);
	if (!snd.ses || snd.in_transit || f->reported_domain == NULL)
		return 0;
	if ((r = match(j, f, &snd, &same_ip)) == NULL) {
		j->m->failure_unmatched++;
		return 0;
	}
	j->m->failure_matched++;
	if (note(j->m, r, f, mf, &snd, same_ip) == -1)
		return err_set(e, "out of memory");
	return 0;
}

int
ses_join_failures(struct ses_model *m, struct store *st,
                  const struct store_filter *f, const struct classifier *cl,
                  struct err *e)
{
	struct join j;
	int rc;

	memset(&j, 0, sizeof(j));
	j.m = m;
	j.cl = cl;
	if (m->fails + m->warns == 0 || !store_has_failures(st))
		return 0; /* no finding to back, or no failure reports kept */
	rc = store_each_failure(st, f, each_failure, &j, e);
	strmap_free(&j.by_ip, NULL);
	strmap_free(&j.by_region, NULL);
	return rc;
}

/* "spf, dmarc" */
static void
auth_text(unsigned bits, char *out, size_t len)
{
	static const char *const names[] = {"spf", "dkim", "dmarc", "other"};
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < 4 && o < len; i++)
		if (bits & (1u << i))
			o += (size_t)snprintf(out + o, len - o, "%s%s",
			                      o ? ", " : "", names[i]);
}

/* What the reports confirm of the row's causes: an SES MAIL FROM (the
 * default, not aligned) and an amazonses.com signature only. */
static void
confirms(const struct ses_row *r, char *out, size_t len)
{
	const struct ses_failures *x = &r->failures;
	char region[REGION_MAX];
	size_t o = 0;

	out[0] = '\0';
	if ((r->causes & CAUSE_DEFAULT_MAIL_FROM) && x->mail_from != NULL &&
	    classify_ses_domain(x->mail_from, region, sizeof(region)))
		o += (size_t)snprintf(out, len, "the SES MAIL FROM");
	if ((r->causes & CAUSE_NO_EASY_DKIM) && x->dkim_domain != NULL &&
	    classify_ses_domain(x->dkim_domain, region, sizeof(region)) &&
	    o < len)
		snprintf(out + o, len - o, "%sthe amazonses.com-only signature",
		         o ? " and " : "");
}

void
ses_row_evidence(const struct ses_row *r, char *out, size_t len)
{
	const struct ses_failures *x = &r->failures;
	char auth[64], conf[128];
	size_t o;

	out[0] = '\0';
	if (x->reports == 0)
		return;
	auth_text(x->auth, auth, sizeof(auth));
	o = (size_t)snprintf(
	    out, len,
	    "%llu failure report%s (RFC 6591), %llu from this address",
	    (unsigned long long)x->reports, x->reports == 1 ? "" : "s",
	    (unsigned long long)x->same_ip);
#define ADD(...)                                                               \
	do {                                                                   \
		if (o < len)                                                   \
			o += (size_t)snprintf(out + o, len - o, __VA_ARGS__);  \
	} while (0)
	ADD("; Auth-Failure %s", auth);
	if (x->dkim_domain != NULL)
		ADD("; DKIM d=%s s=%s", x->dkim_domain,
		    x->dkim_selector ? x->dkim_selector : "(none)");
	if (x->mail_from != NULL)
		ADD("; MAIL FROM %s", x->mail_from);
	if (x->region[0] != '\0' && x->regions_differ)
		ADD("; they name more than one region");
	else if (x->region[0] != '\0' && r->unknown)
		ADD("; they name region %s (by %s; the aggregate reports do "
		    "not)",
		    x->region, region_evidence_name(x->region_by));
	else if (x->region[0] != '\0' && strcmp(x->region, r->region) != 0)
		ADD("; they name region %s (by %s), not %s", x->region,
		    region_evidence_name(x->region_by), r->region);
	else if (x->region[0] != '\0')
		ADD("; region %s by %s too", x->region,
		    region_evidence_name(x->region_by));
	confirms(r, conf, sizeof(conf));
	if (conf[0] != '\0')
		ADD("; they confirm %s", conf);
	if (x->subject != NULL)
		ADD("; a subject: \"%s\"", x->subject);
#undef ADD
}
