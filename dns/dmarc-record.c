/*
 * dmarc-record.c - parsing a DMARC policy record and reading SES host
 * names (see records.h).  No DNS traffic here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "records.h"

/* Skips spaces and tabs (the WSP of RFC 7489's ABNF). */
static const char *
wsp(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int
records_is_dmarc(const char *txt)
{
	txt = wsp(txt);
	if (strncmp(txt, "v", 1) != 0)
		return 0;
	txt = wsp(txt + 1);
	if (*txt != '=')
		return 0;
	txt = wsp(txt + 1);
	return strncmp(txt, "DMARC1", 6) == 0 &&
	       (txt[6] == '\0' || txt[6] == ';' || txt[6] == ' ' ||
	        txt[6] == '\t');
}

static int
is_disposition(const char *v)
{
	return strcmp(v, "none") == 0 || strcmp(v, "quarantine") == 0 ||
	       strcmp(v, "reject") == 0;
}

/* The domains of a comma-separated list of mailto: URIs (an optional
 * !size suffix of RFC 7489 is allowed and ignored). */
static int
parse_uris(const char *tag, const char *v, char (*out)[DNS_NAME_MAX], size_t *n,
           char *why, size_t len)
{
	char item[1024], esc[128], *at, *bang;
	const char *p = v, *comma;
	size_t l;

	*n = 0;
	for (;;) {
		comma = strchr(p, ',');
		l = comma ? (size_t)(comma - p) : strlen(p);
		if (l >= sizeof(item))
			l = sizeof(item) - 1;
		memcpy(item, p, l);
		item[l] = '\0';
		while (l > 0 && (item[l - 1] == ' ' || item[l - 1] == '\t'))
			item[--l] = '\0';
		dns_escape(wsp(item), esc, sizeof(esc));
		if (strncasecmp(wsp(item), "mailto:", 7) != 0 ||
		    (at = strrchr(item, '@')) == NULL) {
			snprintf(why, len, "%s: '%s' is not a mailto: address",
			         tag, esc);
			return -1;
		}
		if ((bang = strchr(at, '!')) != NULL)
			*bang = '\0';
		if (*n < RECORDS_MAX_URIS) {
			if (dns_name_check(at + 1, out[*n], DNS_NAME_MAX, 0) ==
			    -1) {
				snprintf(why, len,
				         "%s: '%s' has no valid "
				         "domain",
				         tag, esc);
				return -1;
			}
			(*n)++;
		}
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* One tag=value of the record into out. */
static int
parse_tag(const char *tag, const char *v, struct dmarc_policy *out, char *why,
          size_t len)
{
	char esc[64];
	long n;
	char *end;

	dns_escape(v, esc, sizeof(esc));
	if (strcmp(tag, "p") == 0 || strcmp(tag, "sp") == 0 ||
	    strcmp(tag, "np") == 0) {
		if (!is_disposition(v)) {
			snprintf(why, len,
			         "%s=%s is not none, quarantine or "
			         "reject",
			         tag, esc);
			return -1;
		}
		snprintf(tag[0] == 'p'   ? out->p
		         : tag[0] == 's' ? out->sp
		                         : out->np,
		         sizeof(out->p), "%s", v);
	} else if (strcmp(tag, "pct") == 0) {
		n = strtol(v, &end, 10);
		if (*v < '0' || *v > '9' || *end != '\0' || n > 100) {
			snprintf(why, len, "pct=%s is not 0 to 100", esc);
			return -1;
		}
		out->pct = (int)n;
	} else if (strcmp(tag, "adkim") == 0 || strcmp(tag, "aspf") == 0) {
		if (strcmp(v, "r") != 0 && strcmp(v, "s") != 0) {
			snprintf(why, len, "%s=%s is not r or s", tag, esc);
			return -1;
		}
		*(tag[1] == 'd' ? &out->adkim : &out->aspf) = v[0];
	} else if (strcmp(tag, "rua") == 0) {
		return parse_uris("rua", v, out->rua, &out->nrua, why, len);
	} else if (strcmp(tag, "ruf") == 0) {
		return parse_uris("ruf", v, out->ruf, &out->nruf, why, len);
	} else if (strcmp(tag, "t") == 0) {
		out->t = v[0] == 'y' ? 'y' : 'n';
	}
	return 0; /* unknown tags are ignored */
}

int
records_dmarc_parse(const char *txt, struct dmarc_policy *out, char *why,
                    size_t len)
{
	char buf[DNS_TXT_MAX + 1], *tok, *save = NULL, *eq, *k, *v, *x;

	memset(out, 0, sizeof(*out));
	out->pct = -1;
	why[0] = '\0';
	if (!records_is_dmarc(txt)) {
		snprintf(why, len, "does not start with v=DMARC1");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", txt);
	for (tok = strtok_r(buf, ";", &save); tok != NULL;
	     tok = strtok_r(NULL, ";", &save)) {
		k = (char *)wsp(tok);
		if (*k == '\0')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			char esc[64];
			dns_escape(k, esc, sizeof(esc));
			snprintf(why, len, "'%s' is not tag=value", esc);
			return -1;
		}
		v = (char *)wsp(eq + 1);
		for (x = eq; x > k && (x[-1] == ' ' || x[-1] == '\t'); x--)
			;
		*x = '\0';
		for (x = v + strlen(v);
		     x > v && (x[-1] == ' ' || x[-1] == '\t'); x--)
			;
		*x = '\0';
		if (parse_tag(k, v, out, why, len) == -1)
			return -1;
	}
	return 0;
}

int
records_ses_region(const char *name, const char *kind, char *out, size_t len)
{
	static const char suffix[] = ".amazonses.com";
	size_t n = strlen(name), sl = sizeof(suffix) - 1, kl = strlen(kind);
	const char *k, *r;

	if (n <= sl || strcmp(name + n - sl, suffix) != 0)
		return 0;
	/* "<kind>.amazonses.com": the region-less us-east-1 form */
	if (n - sl >= kl && strncmp(name + n - sl - kl, kind, kl) == 0 &&
	    (n - sl == kl || name[n - sl - kl - 1] == '.')) {
		if (strcmp(kind, "smtp-out") != 0)
			return 0;
		snprintf(out, len, "us-east-1");
		return 1;
	}
	/* "<kind>.<region>.amazonses.com" */
	for (k = name; (k = strstr(k, kind)) != NULL; k++) {
		if ((k != name && k[-1] != '.') || k[kl] != '.')
			continue;
		r = k + kl + 1;
		if ((size_t)(name + n - sl - r) == 0 ||
		    memchr(r, '.', (size_t)(name + n - sl - r)) != NULL ||
		    (size_t)(name + n - sl - r) >= len)
			continue;
		snprintf(out, len, "%.*s", (int)(name + n - sl - r), r);
		return 1;
	}
	return 0;
}
