/*
 * arf.c - see arf.h.
 */
#include "arf.h"

#include <gnutls/crypto.h>
#include <libetpan/libetpan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mime-decode.h"
#include "normalize.h"

struct parts {
	struct mailmime *feedback; /* message/feedback-report */
	struct mailmime *original; /* message/rfc822, text/rfc822-headers */
};

/* "message/feedback-report" and the like: compares a part's type. */
static int
is_type(struct mailmime *m, int composite, int major, const char *sub)
{
	struct mailmime_content *ct = m->mm_content_type;
	struct mailmime_type *t;

	if (ct == NULL || (t = ct->ct_type) == NULL || ct->ct_subtype == NULL ||
	    strcasecmp(ct->ct_subtype, sub) != 0)
		return 0;
	if (composite)
		return t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
		       t->tp_data.tp_composite_type->ct_type == major;
	return t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
	       t->tp_data.tp_discrete_type->dt_type == major;
}

/* The first feedback part and the first original after it, anywhere in the
 * report (some reporters wrap them in multipart/mixed); not inside the
 * original itself. */
static void
find_parts(struct mailmime *m, struct parts *p, unsigned depth)
{
	clistiter *it;

	if (m == NULL || depth > 32)
		return;
	if (is_type(m, 1, MAILMIME_COMPOSITE_TYPE_MESSAGE, "feedback-report") &&
	    p->feedback == NULL) {
		p->feedback = m;
		return;
	}
	if ((is_type(m, 1, MAILMIME_COMPOSITE_TYPE_MESSAGE, "rfc822") ||
	     is_type(m, 0, MAILMIME_DISCRETE_TYPE_TEXT, "rfc822-headers")) &&
	    depth > 0 && p->original == NULL) {
		p->original = m;
		return;
	}
	if (m->mm_type == MAILMIME_MULTIPLE) {
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
		     it != NULL; it = clist_next(it))
			find_parts(clist_content(it), p, depth + 1);
	} else if (m->mm_type == MAILMIME_MESSAGE && depth == 0) {
		find_parts(m->mm_data.mm_message.mm_msg_mime, p, depth + 1);
	}
}

/* The body of a part, its transfer encoding undone, as a malloc'd string
 * with "\r\n" turned into "\n". */
static int
part_text(struct mailmime *m, char **out, size_t *outlen, struct err *e)
{
	struct mailmime_single_fields sf;
	struct mailmime_data *d = m->mm_body;
	const char *data;
	char *decoded = NULL, *s;
	size_t n, dlen = 0, i, j;
	int rc;

	if (d != NULL && d->dt_type == MAILMIME_DATA_TEXT) {
		data = d->dt_data.dt_text.dt_data;
		n = d->dt_data.dt_text.dt_length;
	} else {
		data = m->mm_mime_start;
		n = data ? m->mm_length : 0;
	}
	memset(&sf, 0, sizeof(sf));
	mailmime_single_fields_init(&sf, m->mm_mime_fields, m->mm_content_type);
	/* room unknown (the part may end the message): a padded copy */
	rc = mime_decode(&sf, data, n, 0, &decoded, &dlen);
	if (rc == -2)
		return err_set(e, "out of memory");
	if (rc == -1)
		return err_set(e, "cannot decode a part of the report");
	if ((s = malloc(dlen + 1)) == NULL) {
		mmap_string_unref(decoded);
		return err_set(e, "out of memory");
	}
	for (i = j = 0; i < dlen; i++)
		if (!(decoded[i] == '\r' && i + 1 < dlen &&
		      decoded[i + 1] == '\n'))
			s[j++] = decoded[i];
	s[j] = '\0';
	mmap_string_unref(decoded);
	*out = s;
	*outlen = j;
	return 0;
}

/* Length of the header block of text (up to the first empty line). */
static size_t
header_len(const char *s, size_t n)
{
	size_t i;

	if (n > 0 && s[0] == '\n')
		return 0;
	for (i = 0; i + 1 < n; i++)
		if (s[i] == '\n' && s[i + 1] == '\n')
			return i + 1;
	return n;
}

/* The unfolded value of header field `name` in a block with "\n" line
 * ends, trimmed; the values of repeated fields joined by ", " when `all`.
 * NULL when absent or empty. */
static char *
field(const char *block, size_t n, const char *name, int all)
{
	size_t nl = strlen(name), i = 0, j, k, cap = 0, len = 0;
	char *out = NULL, *t;

	while (i < n) {
		if (n - i > nl && strncasecmp(block + i, name, nl) == 0) {
			for (j = i + nl;
			     j < n && (block[j] == ' ' || block[j] == '\t');
			     j++)
				;
			if (j < n && block[j] == ':') {
				j++;
				while (j < n &&
				       (block[j] == ' ' || block[j] == '\t'))
					j++;
				/* to the end of the folded field */
				for (k = j; k < n; k++)
					if (block[k] == '\n' &&
					    (k + 1 >= n ||
					     (block[k + 1] != ' ' &&
					      block[k + 1] != '\t')))
						break;
				if (len + (k - j) + 3 > cap) {
					cap = len + (k - j) + 3;
					if ((t = realloc(out, cap)) == NULL) {
						free(out);
						return NULL;
					}
					out = t;
				}
				if (len > 0) {
					memcpy(out + len, ", ", 2);
					len += 2;
				}
				for (; j < k; j++) {
					char c = block[j];
					if (c == '\n' || c == '\t')
						c = ' ';
					out[len++] = c;
				}
				out[len] = '\0';
				if (!all)
					break;
			}
		}
		/* the next line that is not a continuation */
		while (i < n && block[i] != '\n')
			i++;
		i++;
	}
	if (out == NULL)
		return NULL;
	t = norm_trim(out);
	if (t == NULL) {
		free(out);
		return NULL;
	}
	memmove(out, t, strlen(t) + 1);
	return out;
}

/* RFC 5322 date to epoch seconds; 0 when it cannot be read. */
static int64_t
date_value(const char *s)
{
	struct mailimf_date_time *dt = NULL;
	size_t idx = 0;
	struct tm tm;
	int64_t t;
	int zone;

	if (s == NULL || mailimf_date_time_parse(s, strlen(s), &idx, &dt) !=
	                     MAILIMF_NO_ERROR)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = dt->dt_year < 100 ? dt->dt_year + 100 : dt->dt_year - 1900;
	tm.tm_mon = dt->dt_month - 1;
	tm.tm_mday = dt->dt_day;
	tm.tm_hour = dt->dt_hour;
	tm.tm_min = dt->dt_min;
	tm.tm_sec = dt->dt_sec;
	zone = dt->dt_zone; /* +0200 is 200 */
	mailimf_date_time_free(dt);
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_year < 70)
		return 0;
	t = (int64_t)timegm(&tm);
	return t - (int64_t)((zone / 100) * 3600 + (zone % 100) * 60);
}

/* A header value decoded from RFC 2047 to UTF-8 (as is when that fails). */
static char *
decode_words(char *s)
{
	char *out = NULL;
	size_t idx = 0;

	if (s == NULL)
		return NULL;
	if (mailmime_encoded_phrase_parse("utf-8", s, strlen(s), &idx, "utf-8",
	                                  &out) != MAILIMF_NO_ERROR ||
	    out == NULL)
		return s;
	free(s);
	return out;
}

void
arf_free(struct arf_report *r)
{
	char **f[] = {&r->feedback_type,
	              &r->auth_failure,
	              &r->source_ip,
	              &r->reported_domain,
	              &r->original_mail_from,
	              &r->original_rcpt_to,
	              &r->arrival_date,
	              &r->dkim_domain,
	              &r->dkim_selector,
	              &r->identity_alignment,
	              &r->delivery_result,
	              &r->reporter,
	              &r->subject,
	              &r->feedback,
	              &r->headers};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
	free(r->body);
	r->body = NULL;
}

/* Normalises a field in place with fn; frees it when nothing is left. */
static void
normalise(char **v, char *(*fn)(char *))
{
	char *t;

	if (*v == NULL)
		return;
	if ((t = fn(*v)) == NULL) {
		free(*v);
		*v = NULL;
		return;
	}
	memmove(*v, t, strlen(t) + 1);
}

static void
read_fields(struct arf_report *r, const char *fb, size_t n)
{
	char ip[NORM_IP_MAX], *canon;

	r->feedback_type = field(fb, n, "Feedback-Type", 0);
	r->auth_failure = field(fb, n, "Auth-Failure", 0);
	r->source_ip = field(fb, n, "Source-IP", 0);
	r->reported_domain = field(fb, n, "Reported-Domain", 0);
	r->original_mail_from = field(fb, n, "Original-Mail-From", 0);
	r->original_rcpt_to = field(fb, n, "Original-Rcpt-To", 1);
	r->arrival_date = field(fb, n, "Arrival-Date", 0);
	if (r->arrival_date == NULL) /* RFC 5965's older spelling */
		r->arrival_date = field(fb, n, "Received-Date", 0);
	r->dkim_domain = field(fb, n, "DKIM-Domain", 0);
	r->dkim_selector = field(fb, n, "DKIM-Selector", 0);
	r->identity_alignment = field(fb, n, "Identity-Alignment", 0);
	r->delivery_result = field(fb, n, "Delivery-Result", 0);
	r->reporter = field(fb, n, "User-Agent", 0);
	if (r->reporter == NULL)
		r->reporter = field(fb, n, "Reporting-MTA", 0);
	normalise(&r->feedback_type, norm_word);
	normalise(&r->auth_failure, norm_word);
	normalise(&r->reported_domain, norm_domain);
	normalise(&r->dkim_domain, norm_domain);
	normalise(&r->delivery_result, norm_word);
	if (r->original_mail_from != NULL &&
	    strcmp(r->original_mail_from, "<>") == 0) {
		free(r->original_mail_from);
		r->original_mail_from = NULL;
	}
	/* the canonical form may be longer than what was written */
	if (r->source_ip != NULL && norm_ip(r->source_ip, ip) == 0 &&
	    (canon = strdup(ip)) != NULL) {
		free(r->source_ip);
		r->source_ip = canon;
	}
}

static int
fingerprint(struct arf_report *r, struct err *e)
{
	unsigned char md[32];
	size_t fl = strlen(r->feedback),
	       hl = r->headers ? strlen(r->headers) : 0;
	char *all;
	int i;

	if ((all = malloc(fl + hl + 1)) == NULL)
		return err_set(e, "out of memory");
	memcpy(all, r->feedback, fl);
	all[fl] = '\0'; /* a separator that cannot occur in either */
	if (hl > 0)
		memcpy(all + fl + 1, r->headers, hl);
	i = gnutls_hash_fast(GNUTLS_DIG_SHA256, all, fl + 1 + hl, md);
	free(all);
	if (i != 0)
		return err_set(e, "cannot compute the report's fingerprint");
	for (i = 0; i < 32; i++)
		snprintf(r->fingerprint + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* The original message: its headers, the subject, and the body when asked. */
static int
read_original(struct arf_report *r, struct mailmime *m, int keep_body,
              struct err *e)
{
	char *text;
	size_t n, hl, keep;

	if (part_text(m, &text, &n, e) == -1)
		return -1;
	hl = header_len(text, n);
	keep = hl > ARF_MAX_HEADERS ? ARF_MAX_HEADERS : hl;
	r->subject = decode_words(field(text, keep, "Subject", 0));
	if (keep_body && hl < n) {
		size_t start = hl + (text[hl] == '\n' ? 1 : 0);
		r->body_len = n - start;
		if ((r->body = malloc(r->body_len + 1)) == NULL) {
			free(text);
			return err_set(e, "out of memory");
		}
		memcpy(r->body, text + start, r->body_len);
	}
	text[keep] = '\0';
	r->headers = text;
	return 0;
}

static int
read_report(struct arf_report *r, struct mailmime *mime, const char *top,
            size_t toplen, int keep_body, struct err *e)
{
	struct parts p = {NULL, NULL};
	char *date;
	size_t n;

	find_parts(mime, &p, 0);
	if (p.feedback == NULL)
		return err_set(e, "no message/feedback-report part");
	if (part_text(p.feedback, &r->feedback, &n, e) == -1)
		return -1;
	if (n > ARF_MAX_FEEDBACK)
		return err_set(e,
		               "its feedback part has %zu bytes, more than "
		               "the %u a report needs",
		               n, ARF_MAX_FEEDBACK);
	read_fields(r, r->feedback, n);
	if (r->feedback_type == NULL)
		return err_set(e, "its feedback part has no Feedback-Type");
	if (strcmp(r->feedback_type, "auth-failure") != 0)
		return err_set(e,
		               "Feedback-Type is '%.40s' (a complaint or "
		               "other feedback), not auth-failure",
		               r->feedback_type);
	if (r->reported_domain == NULL && r->source_ip == NULL)
		return err_set(e, "it has neither Reported-Domain nor "
		                  "Source-IP: nothing says what failed");
	if (p.original != NULL &&
	    read_original(r, p.original, keep_body, e) == -1)
		return -1;
	if (r->reporter == NULL)
		r->reporter = decode_words(field(top, toplen, "From", 0));
	if ((r->at = date_value(r->arrival_date)) == 0) {
		date = field(top, toplen, "Date", 0);
		r->at = date_value(date);
		free(date);
	}
	return fingerprint(r, e);
}

int
arf_parse(const unsigned char *msg, size_t len, int keep_body,
          struct arf_report *r, struct err *e)
{
	struct mailmime *mime = NULL;
	size_t idx = 0, i, j, hl;
	char *top;
	int rc;

	memset(r, 0, sizeof(*r));
	if (mailmime_parse((const char *)msg, len, &idx, &mime) !=
	    MAILIMF_NO_ERROR)
		return err_set(e, "a DMARC failure report (ARF) whose MIME "
		                  "structure cannot be parsed");
	/* the report's own header block, "\n" line ends */
	for (hl = 0; hl + 1 < len; hl++)
		if (msg[hl] == '\n' && (msg[hl + 1] == '\n' ||
		                        (msg[hl + 1] == '\r' && hl + 2 < len &&
		                         msg[hl + 2] == '\n')))
			break;
	if ((top = malloc(hl + 2)) == NULL) {
		mailmime_free(mime);
		return err_set(e, "out of memory");
	}
	for (i = j = 0; i < hl + 1 && i < len; i++)
		if (msg[i] != '\r')
			top[j++] = (char)msg[i];
	top[j] = '\0';
	rc = read_report(r, mime, top, j, keep_body, e);
	free(top);
	mailmime_free(mime);
	if (rc == -1) {
		arf_free(r);
		return err_prefix(e, "a DMARC failure (forensic) report (ARF, "
		                     "RFC 6591) that cannot be used");
	}
	return 0;
}
