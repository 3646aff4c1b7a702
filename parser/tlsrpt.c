/*
 * tlsrpt.c - see tlsrpt.h.
 *
 * The document is small (a few KB a day per receiving domain) and arrives
 * whole, so it is parsed in one piece with json_loadb(); the caller has
 * already capped its size.  Every string the report keeps is either a
 * pointer into the jansson tree or a copy registered with the owner, so one
 * tlsrpt_free() releases everything.
 */
#include "tlsrpt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "normalize.h"

struct owner {
	json_t *root;
	struct tlsrpt_policy *policies;
	char **strs;
	size_t nstrs, cap;
};

int
tlsrpt_looks_like(const unsigned char *p, size_t n)
{
	size_t i = 0;

	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < n &&
	       (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i >= n || p[i] != '{')
		return 0;
	return memmem(p, n, "\"organization-name\"", 19) != NULL ||
	       memmem(p, n, "\"report-id\"", 11) != NULL ||
	       memmem(p, n, "\"policies\"", 10) != NULL;
}

void
tlsrpt_free(struct tlsrpt_report *r)
{
	struct owner *o;
	size_t i;

	if (r == NULL || (o = r->owner) == NULL)
		return;
	for (i = 0; i < r->npolicies; i++)
		free(r->policies[i].failures);
	free(o->policies);
	for (i = 0; i < o->nstrs; i++)
		free(o->strs[i]);
	free(o->strs);
	json_decref(o->root);
	free(o);
	r->owner = NULL;
}

/* Registers a malloc'd string with the owner; NULL when out of memory
 * (s is then freed). */
static char *
keep(struct owner *o, char *s, struct err *e)
{
	char **n;

	if (s == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	if (o->nstrs == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		if ((n = realloc(o->strs, o->cap * sizeof(*n))) == NULL) {
			free(s);
			err_set(e, "out of memory");
			return NULL;
		}
		o->strs = n;
	}
	o->strs[o->nstrs++] = s;
	return s;
}

/* A member of an object: NULL when absent; the path names it in errors. */
static json_t *
member(json_t *obj, const char *key)
{
	return json_object_get(obj, key);
}

/* A string member.  Absent or null is NULL (an error when required); a
 * string that is empty after trimming counts as absent. */
static int
get_string(json_t *obj, const char *path, const char *key, int required,
           const char **out, struct err *e)
{
	json_t *v = member(obj, key);
	const char *s;

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return err_set(e,
			               "%s%s: missing (required by RFC 8460)",
			               path, key);
		return 0;
	}
	if (!json_is_string(v))
		return err_set(e, "%s%s: not a string", path, key);
	s = json_string_value(v);
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s == '\0') {
		if (required)
			return err_set(e, "%s%s: empty", path, key);
		return 0;
	}
	*out = s;
	return 0;
}

/* A count: an integer from 0 to TLSRPT_MAX_COUNT. */
static int
get_count(json_t *obj, const char *path, const char *key, int64_t *out,
          struct err *e)
{
	json_t *v = member(obj, key);
	json_int_t n;

	if (v == NULL)
		return err_set(e, "%s%s: missing (required by RFC 8460)", path,
		               key);
	if (!json_is_integer(v))
		return err_set(e, "%s%s: not an integer", path, key);
	n = json_integer_value(v);
	if (n < 0 || n > TLSRPT_MAX_COUNT)
		return err_set(e, "%s%s: %lld is out of range (0 to 10^15)",
		               path, key, (long long)n);
	*out = (int64_t)n;
	return 0;
}

/* An RFC 3339 date-time: 2016-04-01T00:00:00Z, with optional fractions
 * of a second and a numeric offset instead of Z. */
static int
parse_datetime(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	int64_t t;

	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
	           &sec, &n) != 6 ||
	    n == 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || y < 1970 || y > 9999)
		return -1;
	s += n;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm);
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if ((*s == '+' || *s == '-') &&
	           sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5 &&
	           oh <= 23 && om <= 59) {
		t -= (*s == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
		s += 6;
	} else {
		return -1;
	}
	if (*s != '\0')
		return -1;
	*out = t;
	return 0;
}

static int
get_datetime(json_t *obj, const char *path, const char *key, int64_t *out,
             struct err *e)
{
	const char *s;

	if (get_string(obj, path, key, 1, &s, e) == -1)
		return -1;
	if (parse_datetime(s, out) == -1)
		return err_set(e,
		               "%s%s: '%.40s' is not an RFC 3339 date-time "
		               "(like 2016-04-01T00:00:00Z)",
		               path, key, s);
	return 0;
}

/* A domain name as the store keeps it (lower case, no trailing dot). */
static int
get_domain(struct owner *o, json_t *obj, const char *path, const char *key,
           int required, const char **out, struct err *e)
{
	const char *s;
	char *c;

	if (get_string(obj, path, key, required, &s, e) == -1)
		return -1;
	if (s == NULL)
		return 0;
	if ((c = keep(o, strdup(s), e)) == NULL)
		return -1;
	if ((*out = norm_domain(c)) == NULL && required)
		return err_set(e, "%s%s: empty", path, key);
	return 0;
}

/* An address in canonical form; kept as written when it is not one (the
 * report is still worth storing). */
static int
get_ip(struct owner *o, json_t *obj, const char *path, const char *key,
       const char **out, struct err *e)
{
	char ip[NORM_IP_MAX];
	const char *s;

	if (get_string(obj, path, key, 0, &s, e) == -1)
		return -1;
	*out = s;
	if (s != NULL && norm_ip(s, ip) == 0 &&
	    (*out = keep(o, strdup(ip), e)) == NULL)
		return -1;
	return 0;
}

/* An array of strings (a lone string is taken as one), joined by "\n". */
static int
get_lines(struct owner *o, json_t *obj, const char *path, const char *key,
          const char **out, struct err *e)
{
	json_t *v = member(obj, key), *x;
	size_t i, len = 0;
	char *s;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		*out = json_string_value(v);
		return 0;
	}
	if (!json_is_array(v))
		return err_set(e, "%s%s: not an array of strings", path, key);
	json_array_foreach(v, i, x)
	{
		if (!json_is_string(x))
			return err_set(e, "%s%s[%zu]: not a string", path, key,
			               i);
		len += json_string_length(x) + 1;
	}
	if (len == 0)
		return 0;
	if ((s = keep(o, calloc(1, len), e)) == NULL)
		return -1;
	json_array_foreach(v, i, x)
	{
		if (i > 0)
			strcat(s, "\n");
		strcat(s, json_string_value(x));
	}
	*out = s;
	return 0;
}

static int
parse_failure(struct owner *o, json_t *fd, const char *path,
              struct tlsrpt_failure *f, struct err *e)
{
	if (!json_is_object(fd))
		return err_set(e, "%s: not an object", path);
	memset(f, 0, sizeof(*f));
	char p[200];
	snprintf(p, sizeof(p), "%s.", path);
	if (get_string(fd, p, "result-type", 1, &f->result_type, e) == -1 ||
	    get_ip(o, fd, p, "sending-mta-ip", &f->sending_mta_ip, e) == -1 ||
	    get_domain(o, fd, p, "receiving-mx-hostname", 0,
	               &f->receiving_mx_hostname, e) == -1 ||
	    get_string(fd, p, "receiving-mx-helo", 0, &f->receiving_mx_helo,
	               e) == -1 ||
	    get_ip(o, fd, p, "receiving-ip", &f->receiving_ip, e) == -1 ||
	    get_count(fd, p, "failed-session-count", &f->failed_sessions, e) ==
	        -1 ||
	    get_string(fd, p, "additional-information", 0, &f->additional_info,
	               e) == -1 ||
	    get_string(fd, p, "failure-reason-code", 0, &f->failure_reason_code,
	               e) == -1)
		return -1;
	return 0;
}

static int
policy_type(json_t *pol, const char *path, const char **out, struct err *e)
{
	static const char *const types[] = {"sts", "tlsa", "no-policy-found"};
	size_t i;

	if (get_string(pol, path, "policy-type", 1, out, e) == -1)
		return -1;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(*out, types[i]) == 0) {
			*out = types[i];
			return 0;
		}
	return err_set(e,
	               "%spolicy-type: '%.40s' is not sts, tlsa or "
	               "no-policy-found",
	               path, *out);
}

static int
parse_policy(struct owner *o, json_t *item, size_t idx, struct tlsrpt_policy *p,
             struct err *e)
{
	char path[64], sub[160];
	json_t *pol, *sum, *fds, *fd;
	size_t i;

	snprintf(path, sizeof(path), "policies[%zu]", idx);
	if (!json_is_object(item))
		return err_set(e, "%s: not an object", path);
	if ((pol = member(item, "policy")) == NULL || !json_is_object(pol))
		return err_set(e, "%s.policy: %s", path,
		               pol ? "not an object"
		                   : "missing (required by RFC 8460)");
	snprintf(sub, sizeof(sub), "%s.policy.", path);
	if (policy_type(pol, sub, &p->policy_type, e) == -1 ||
	    get_domain(o, pol, sub, "policy-domain", 1, &p->policy_domain, e) ==
	        -1 ||
	    get_lines(o, pol, sub, "policy-string", &p->policy_string, e) ==
	        -1 ||
	    get_lines(o, pol, sub, "mx-host", &p->mx_host, e) == -1)
		return -1;
	if ((sum = member(item, "summary")) == NULL || !json_is_object(sum))
		return err_set(e, "%s.summary: %s", path,
		               sum ? "not an object"
		                   : "missing (required by RFC 8460)");
	snprintf(sub, sizeof(sub), "%s.summary.", path);
	if (get_count(sum, sub, "total-successful-session-count",
	              &p->successful, e) == -1 ||
	    get_count(sum, sub, "total-failure-session-count", &p->failed, e) ==
	        -1)
		return -1;
	fds = member(item, "failure-details");
	if (fds == NULL || json_is_null(fds))
		return 0;
	if (!json_is_array(fds))
		return err_set(e, "%s.failure-details: not an array", path);
	if (json_array_size(fds) == 0)
		return 0;
	if ((p->failures =
	         calloc(json_array_size(fds), sizeof(*p->failures))) == NULL)
		return err_set(e, "out of memory");
	json_array_foreach(fds, i, fd)
	{
		snprintf(sub, sizeof(sub), "%s.failure-details[%zu]", path, i);
		if (parse_failure(o, fd, sub, &p->failures[i], e) == -1)
			return -1;
		p->nfailures++;
	}
	return 0;
}

static int
parse_top(struct owner *o, struct tlsrpt_report *r, struct err *e)
{
	json_t *root = o->root, *dr, *pols, *item;
	size_t i;

	if (get_string(root, "", "organization-name", 1, &r->organization, e) ==
	        -1 ||
	    get_string(root, "", "report-id", 1, &r->report_id, e) == -1 ||
	    get_string(root, "", "contact-info", 0, &r->contact_info, e) == -1)
		return -1;
	if ((dr = member(root, "date-range")) == NULL || !json_is_object(dr))
		return err_set(e, "date-range: %s",
		               dr ? "not an object"
		                  : "missing (required by RFC 8460)");
	if (get_datetime(dr, "date-range.", "start-datetime", &r->begin, e) ==
	        -1 ||
	    get_datetime(dr, "date-range.", "end-datetime", &r->end, e) == -1)
		return -1;
	if (r->end < r->begin)
		return err_set(e, "date-range: ends before it starts");
	if ((pols = member(root, "policies")) == NULL || !json_is_array(pols))
		return err_set(e, "policies: %s",
		               pols ? "not an array"
		                    : "missing (required by RFC 8460)");
	if (json_array_size(pols) == 0)
		return err_set(e, "policies: empty (a report has at least one "
		                  "policy)");
	if ((o->policies =
	         calloc(json_array_size(pols), sizeof(*o->policies))) == NULL)
		return err_set(e, "out of memory");
	r->policies = o->policies;
	json_array_foreach(pols, i, item)
	{
		r->npolicies++;
		if (parse_policy(o, item, i, &r->policies[i], e) == -1)
			return -1;
		r->successful += r->policies[i].successful;
		r->failed += r->policies[i].failed;
	}
	return 0;
}

int
tlsrpt_parse(const unsigned char *data, size_t len, struct tlsrpt_report *r,
             struct err *e)
{
	json_error_t je;
	struct owner *o;

	memset(r, 0, sizeof(*r));
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return err_set(e, "out of memory");
	r->owner = o;
	/* Duplicate keys would let two readers see two different reports in
	 * the same bytes; a byte order mark is skipped. */
	if (len >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf) {
		data += 3;
		len -= 3;
	}
	o->root =
	    json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
	if (o->root == NULL) {
		tlsrpt_free(r);
		return err_set(e, "not valid JSON: %s (line %d, column %d)",
		               je.text, je.line, je.column);
	}
	if (!json_is_object(o->root)) {
		tlsrpt_free(r);
		return err_set(e, "the JSON document is not an object");
	}
	if (parse_top(o, r, e) == -1) {
		tlsrpt_free(r);
		return err_prefix(e, "SMTP TLS report");
	}
	return 0;
}
