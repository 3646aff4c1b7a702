/*
 * answer.c - reads the answer section of a DNS message (RFC 1035 section
 * 4.1), bounds-checked at every step; c-ares expands the compressed names.
 * Whatever does not parse is dropped (see dns-impl.h), never passed on.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dns-impl.h"

struct cursor {
	const unsigned char *buf;
	size_t len, pos;
};

static int
get16(struct cursor *c, uint16_t *v)
{
	if (c->len - c->pos < 2)
		return -1;
	*v = (uint16_t)(c->buf[c->pos] << 8 | c->buf[c->pos + 1]);
	c->pos += 2;
	return 0;
}

static int
get32(struct cursor *c, uint32_t *v)
{
	uint16_t hi, lo;

	if (get16(c, &hi) == -1 || get16(c, &lo) == -1)
		return -1;
	*v = (uint32_t)hi << 16 | lo;
	return 0;
}

/* Expands the (possibly compressed) name at p into out when out is not
 * NULL; *used is its length in the message.  -1 if it does not parse or
 * does not fit. */
static int
get_name(struct cursor *c, const unsigned char *p, char *out, size_t len,
         long *used)
{
	char *name = NULL;
	int rc = 0;

	if (ares_expand_name(p, c->buf, (int)c->len, &name, used) !=
	    ARES_SUCCESS)
		return -1;
	if (out != NULL) {
		if (strlen(name) >= len)
			rc = -1;
		else
			strcpy(out, name);
	}
	ares_free_string(name);
	return rc;
}

static int
skip_name(struct cursor *c)
{
	long used;

	if (c->pos >= c->len ||
	    get_name(c, c->buf + c->pos, NULL, 0, &used) == -1 || used <= 0 ||
	    (size_t)used > c->len - c->pos)
		return -1;
	c->pos += (size_t)used;
	return 0;
}

/* A host name in rdata (PTR, CNAME, MX target) into out, checked: 0,
 * 1 when it is not a host name (dropped), -1 when it does not parse.
 * The root name "" (a null MX, RFC 7505) is kept as "". */
static int
rdata_name(struct cursor *c, size_t at, size_t end, char *out, int underscore)
{
	char raw[1025];
	long used;

	if (at >= end ||
	    get_name(c, c->buf + at, raw, sizeof(raw), &used) == -1 ||
	    used <= 0 || (size_t)used > end - at)
		return -1;
	if (raw[0] == '\0') {
		out[0] = '\0';
		return 0;
	}
	return dns_name_check(raw, out, DNS_NAME_MAX, underscore) == -1 ? 1 : 0;
}

/* TXT: <len><bytes>..., joined.  1 when dropped. */
static int
rdata_txt(const unsigned char *p, size_t n, char **out)
{
	char *s;
	size_t i = 0, used = 0, l;

	if (n > DNS_TXT_MAX + 255 || (s = malloc(n + 1)) == NULL)
		return 1;
	while (i < n) {
		l = p[i++];
		if (l > n - i || memchr(p + i, '\0', l) != NULL) {
			free(s);
			return 1;
		}
		memcpy(s + used, p + i, l);
		used += l;
		i += l;
	}
	if (used > DNS_TXT_MAX) {
		free(s);
		return 1;
	}
	s[used] = '\0';
	*out = s;
	return 0;
}

static int
push(struct dns_answer *out, struct dns_rr **rr)
{
	struct dns_rr *grown;

	if (out->n >= 64) /* more records of one type than anyone needs */
		return 1;
	grown = realloc(out->rr, (out->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	out->rr = grown;
	*rr = &grown[out->n];
	memset(*rr, 0, sizeof(**rr));
	return 0;
}

/* One answer record's data of the wanted type into out: 0 kept, 1
 * dropped, -1 does not parse. */
static int
read_rdata(struct cursor *c, uint16_t type, uint32_t ttl, size_t rdlen,
           struct dns_answer *out)
{
	size_t at = c->pos, end = c->pos + rdlen;
	char text[INET6_ADDRSTRLEN];
	struct dns_rr *rr;
	uint16_t pref = 0;
	int rc;

	if (type == DNS_T_MX) {
		if (rdlen < 3)
			return -1;
		pref = (uint16_t)(c->buf[at] << 8 | c->buf[at + 1]);
		at += 2;
	}
	if ((rc = push(out, &rr)) != 0)
		return rc;
	rr->type = type;
	rr->ttl = ttl;
	rr->pref = pref;
	switch (type) {
	case DNS_T_PTR:
	case DNS_T_MX:
	case DNS_T_CNAME:
		rc = rdata_name(c, at, end, rr->target, type == DNS_T_CNAME);
		break;
	case DNS_T_TXT:
		rc = rdata_txt(c->buf + at, rdlen, &rr->txt);
		break;
	case DNS_T_A:
	case DNS_T_AAAA:
		if (rdlen != (type == DNS_T_A ? 4u : 16u))
			return -1;
		inet_ntop(type == DNS_T_A ? AF_INET : AF_INET6, c->buf + at,
		          text, sizeof(text));
		rc = (rr->txt = strdup(text)) == NULL ? 1 : 0;
		break;
	default:
		rc = 1;
	}
	if (rc == 0)
		out->n++;
	return rc;
}

/* The CNAME's target, kept as out->cname (a chain: the last one). */
static int
read_cname(struct cursor *c, size_t rdlen, struct dns_answer *out)
{
	char target[DNS_NAME_MAX];
	int rc = rdata_name(c, c->pos, c->pos + rdlen, target, 1);

	if (rc == 0)
		memcpy(out->cname, target, sizeof(target));
	return rc;
}

int
dns_parse_answer(const unsigned char *abuf, int alen, int type,
                 struct dns_answer *out, unsigned long *malformed)
{
	struct cursor c = {abuf, (size_t)(alen > 0 ? alen : 0), 12};
	uint16_t qd, an, rtype, rclass, rdlen, i;
	uint32_t ttl;
	int rc;

	if (abuf == NULL || alen < 12 || alen > DNS_ANSWER_MAX)
		goto bad;
	qd = (uint16_t)(abuf[4] << 8 | abuf[5]);
	an = (uint16_t)(abuf[6] << 8 | abuf[7]);
	for (i = 0; i < qd; i++)
		if (skip_name(&c) == -1 || c.len - c.pos < 4)
			goto bad;
		else
			c.pos += 4;
	for (i = 0; i < an; i++) {
		if (skip_name(&c) == -1 || get16(&c, &rtype) == -1 ||
		    get16(&c, &rclass) == -1 || get32(&c, &ttl) == -1 ||
		    get16(&c, &rdlen) == -1 || rdlen > c.len - c.pos)
			goto bad;
		if (ttl > 0x7fffffff) /* RFC 2181 section 8 */
			ttl = 0;
		if (rclass != 1)
			rc = 0; /* not IN: ignored */
		else if (rtype == (uint16_t)type)
			rc = read_rdata(&c, rtype, ttl, rdlen, out);
		else if (rtype == DNS_T_CNAME)
			rc = read_cname(&c, rdlen, out);
		else
			rc = 0; /* another type (DNAME, RRSIG): ignored */
		if (rc == -1)
			goto bad;
		if (rc == 1)
			(*malformed)++;
		c.pos += rdlen;
	}
	return 0;
bad:
	(*malformed)++;
	return -1;
}

void
dns_answer_free(struct dns_answer *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->rr[i].txt);
	free(a->rr);
	a->rr = NULL;
	a->n = 0;
}
