/*
 * fuzz_tlsrpt.c - the SMTP TLS report parser (parser/tlsrpt.c) on raw
 * bytes: tlsrpt_looks_like() on the first bytes, then tlsrpt_parse() on
 * all of them, twice.
 *
 * Invariants beyond the sanitizers: the two parses agree (the same
 * outcome, the same message or the same values); a parsed report has an
 * organization, a report id, at least one policy of a known type with a
 * lower-case domain without a trailing dot, counts within 0..10^15 whose
 * sums are the report's totals, and every failure detail has a result type.
 */
#include "fuzz.h"
#include "tlsrpt.h"

static void
check(const struct tlsrpt_report *r)
{
	int64_t ok = 0, failed = 0;
	size_t i, k;
	const char *c;

	FUZZ_CHECK(r->organization != NULL && r->organization[0] != '\0');
	FUZZ_CHECK(r->report_id != NULL && r->report_id[0] != '\0');
	FUZZ_CHECK(r->begin <= r->end);
	FUZZ_CHECK(r->npolicies > 0);
	for (i = 0; i < r->npolicies; i++) {
		const struct tlsrpt_policy *p = &r->policies[i];
		FUZZ_CHECK(strcmp(p->policy_type, "sts") == 0 ||
		           strcmp(p->policy_type, "tlsa") == 0 ||
		           strcmp(p->policy_type, "no-policy-found") == 0);
		FUZZ_CHECK(p->policy_domain != NULL &&
		           p->policy_domain[0] != '\0');
		for (c = p->policy_domain; *c != '\0'; c++)
			FUZZ_CHECK(*c < 'A' || *c > 'Z');
		FUZZ_CHECK(c[-1] != '.' || c - p->policy_domain == 1);
		FUZZ_CHECK(p->successful >= 0 &&
		           p->successful <= TLSRPT_MAX_COUNT);
		FUZZ_CHECK(p->failed >= 0 && p->failed <= TLSRPT_MAX_COUNT);
		ok += p->successful;
		failed += p->failed;
		for (k = 0; k < p->nfailures; k++) {
			FUZZ_CHECK(p->failures[k].result_type != NULL);
			FUZZ_CHECK(p->failures[k].failed_sessions >= 0);
		}
	}
	FUZZ_CHECK(ok == r->successful && failed == r->failed);
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsrpt_report a, b;
	struct err ea, eb;
	int ra, rb;
	size_t i;

	(void)tlsrpt_looks_like(data, size < 512 ? size : 512);
	ra = tlsrpt_parse(data, size, &a, &ea);
	rb = tlsrpt_parse(data, size, &b, &eb);
	FUZZ_CHECK(ra == rb);
	if (ra == -1) {
		FUZZ_CHECK(strcmp(ea.msg, eb.msg) == 0);
		FUZZ_CHECK(ea.msg[0] != '\0');
		return 0;
	}
	check(&a);
	FUZZ_CHECK(same(a.organization, b.organization) &&
	           same(a.report_id, b.report_id) && a.begin == b.begin &&
	           a.npolicies == b.npolicies);
	for (i = 0; i < a.npolicies; i++)
		FUZZ_CHECK(same(a.policies[i].policy_domain,
		                b.policies[i].policy_domain) &&
		           same(a.policies[i].policy_string,
		                b.policies[i].policy_string) &&
		           a.policies[i].nfailures == b.policies[i].nfailures);
	tlsrpt_free(&a);
	tlsrpt_free(&b);
	return 0;
}
