/*
 * inert.c - see inert.h.  One decoder step (next_unit) decides, for the
 * bytes at a position, how many to consume and what to show; the copy and
 * the check are loops over it.
 */
#include "inert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest escape: "\u202e" is 6 characters, "\x1b" 4. */
#define UNIT_MAX 8

/* Length of the valid UTF-8 sequence at p (1-4), with its code point in
 * *cp; 0 if the bytes at p are not one (overlong, surrogate, beyond
 * U+10FFFF, cut short). */
static size_t
utf8_seq(const unsigned char *p, size_t n, unsigned long *cp)
{
	size_t len, i;
	unsigned long c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, c = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

/* Code points shown as \uXXXX: C1 controls, and those that reorder or
 * break the text around them. */
static int
hidden_cp(unsigned long c)
{
	return (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f ||
	       c == 0x061c || c == 0x2028 || c == 0x2029;
}

/*
 * One step over s[0..n) (n > 0): sets *used to the bytes consumed and
 * returns what to show, either a pointer into s (*len bytes, copied as
 * they are) or the escape written to esc.
 */
static const char *
next_unit(const char *s, size_t n, char esc[UNIT_MAX], size_t *used,
    size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t k = utf8_seq(p, n, &cp);

	*used = k ? k : 1;
	if (k == 0) {
		*len = (size_t)snprintf(esc, UNIT_MAX, "\\x%02x", p[0]);
		return esc;
	}
	if (cp == '\n' || cp == '\r' || cp == '\t') {
		esc[0] = '\\';
		esc[1] = cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't';
		esc[2] = '\0';
		*len = 2;
		return esc;
	}
	if (cp < 0x20 || cp == 0x7f) {
		*len = (size_t)snprintf(esc, UNIT_MAX, "\\x%02lx", cp);
		return esc;
	}
	if (hidden_cp(cp)) {
		*len = (size_t)snprintf(esc, UNIT_MAX, "\\u%04lx", cp);
		return esc;
	}
	*len = k;
	return s;
}

size_t
inert_copy(char *out, size_t cap, const char *s, size_t n)
{
	char esc[UNIT_MAX];
	const char *unit;
	size_t i = 0, kept = 0, total = 0, used, len;
	int full = 0;

	while (i < n) {
		unit = next_unit(s + i, n - i, esc, &used, &len);
		/* once a unit does not fit, none after it is written: the
		 * text is cut, never shown with a hole */
		if (!full && kept + len < cap) {
			memcpy(out + kept, unit, len);
			kept += len;
		} else {
			full = 1;
		}
		total += len;
		i += used;
	}
	out[kept] = '\0';
	return total;
}

int
inert_is_clean(const char *s, size_t n)
{
	char esc[UNIT_MAX];
	size_t i = 0, used, len;

	while (i < n) {
		if (next_unit(s + i, n - i, esc, &used, &len) == esc)
			return 0;
		i += used;
	}
	return 1;
}

char *
inert_dup(const char *s)
{
	size_t n = strlen(s), need;
	char *out, one;

	need = inert_copy(&one, 1, s, n);
	if ((out = malloc(need + 1)) == NULL)
		return NULL;
	inert_copy(out, need + 1, s, n);
	return out;
}
