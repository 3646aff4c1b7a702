/*
 * percent.c - see percent.h.
 */
#include "percent.h"

#include <stdio.h>

int64_t
percent_permille(uint64_t part, uint64_t whole)
{
	int64_t p;

	if (whole == 0)
		return 0;
	if (part >= whole)
		return 1000;
	/* long double: counts up to 2^53 keep their exact ratio */
	p = (int64_t)(((long double)part * 1000.0L) / (long double)whole +
	              0.5L);
	if (p >= 1000)
		return 999;
	if (p <= 0 && part > 0)
		return 1;
	return p;
}

char *
percent_format(uint64_t part, uint64_t whole, char *out, size_t len)
{
	int64_t p = percent_permille(part, whole);

	snprintf(out, len, "%lld.%lld%%", (long long)(p / 10),
	         (long long)(p % 10));
	return out;
}
