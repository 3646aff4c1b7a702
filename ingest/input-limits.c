/*
 * input-limits.c - defaults for input-limits.h.  The defaults are generous for real
 * reports (the largest Google reports seen are tens of MB of XML) and small
 * enough that a hostile input cannot exhaust a small VM.
 */
#include "input-limits.h"

#include <stdlib.h>

void
limits_default(struct limits *l)
{
	l->max_input = 100ULL << 20;
	l->max_decompressed = 512ULL << 20;
	/* Real reports compress 10-60:1 (long runs of identical markup);
	 * deflate's best case is about 1030:1, which only bombs reach. */
	l->max_ratio = 250;
	l->max_zip_members = 100;
	l->max_mime_parts = 200;
	l->max_mime_depth = 10;
	l->max_nesting = 4;
	parse_limits_default(&l->xml);
}

int
limits_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	unsigned shift = 0;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	default:
		return -1;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end != '\0' || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}
