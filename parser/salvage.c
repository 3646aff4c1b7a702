/*
 * salvage.c - the salvage mode's input filter: leading white space before
 * the XML declaration dropped, invalid UTF-8 replaced with U+FFFD, the
 * same output however the input is cut into chunks.
 */
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser-impl.h"

/* ---------------------------------------------------------------------
 * Input filter for salvage mode
 */

/* Length of the UTF-8 sequence starting with byte c, 0 if c cannot start
 * one. */
static size_t
utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && s[0] == 0xe0 && s[1] < 0xa0)
		return 0;
	if (n == 3 && s[0] == 0xed && s[1] >= 0xa0)
		return 0; /* surrogates */
	if (n == 4 && s[0] == 0xf0 && s[1] < 0x90)
		return 0;
	if (n == 4 && s[0] == 0xf4 && s[1] >= 0x90)
		return 0;
	return 1;
}

/* Declared encoding of the document, from its XML declaration; 1 when it
 * is UTF-8 or not declared (so invalid UTF-8 can be repaired). */
static int
declares_utf8(const unsigned char *s, size_t n)
{
	char head[256], *enc, q;
	size_t i, k = 0;

	for (i = 0; i < n && k < sizeof(head) - 1; i++) {
		if (s[i] == '>')
			break;
		head[k++] = (char)s[i];
	}
	head[k] = '\0';
	if (strncmp(head, "<?xml", 5) != 0 ||
	    (enc = strstr(head, "encoding")) == NULL)
		return 1;
	enc += 8;
	while (*enc == ' ' || *enc == '=')
		enc++;
	q = *enc++;
	if (q != '"' && q != '\'')
		return 1;
	return strncasecmp(enc, "utf-8", 5) == 0 ||
	       strncasecmp(enc, "utf8", 4) == 0 ||
	       strncasecmp(enc, "us-ascii", 8) == 0;
}

static size_t
put_fffd(unsigned char *out, struct salvage_filter *f)
{
	out[0] = 0xef;
	out[1] = 0xbf;
	out[2] = 0xbd;
	f->replaced++;
	return 3;
}

/* Filters one chunk into out (which must hold 3 * n + 12 bytes).  Returns
 * the number of bytes written.  The output does not depend on how the
 * input is cut into chunks. */
size_t
parser_salvage_chunk(struct salvage_filter *f, const unsigned char *in,
                     size_t n, unsigned char *out, int last)
{
	size_t i = 0, o = 0, need, k, taken;
	unsigned char seq[4];

	if (!f->started) {
		if (n >= 3 && in[0] == 0xef && in[1] == 0xbb && in[2] == 0xbf)
			i = 3;
		while (i < n && (in[i] == ' ' || in[i] == '\t' ||
		                 in[i] == '\r' || in[i] == '\n'))
			i++;
		if (i == n && !last)
			return 0;
		f->started = 1;
		f->repair = !f->foreign && declares_utf8(in + i, n - i);
	}
	if (!f->repair) {
		memcpy(out, in + i, n - i);
		return n - i;
	}
	while (f->npend > 0 || i < n) {
		if (f->npend > 0) {
			/* A sequence split across chunks: its first bytes,
			 * from the previous chunk, are in pend (at most 3,
			 * not checked yet, so pend[0] may be a byte left
			 * over from an invalid sequence). */
			need = utf8_len(f->pend[0]);
			if (need <= 1) {
				if (need == 1)
					out[o++] = f->pend[0];
				else
					o += put_fffd(out + o, f);
				memmove(f->pend, f->pend + 1, --f->npend);
				continue;
			}
			memcpy(seq, f->pend, f->npend);
			for (k = f->npend, taken = 0; k < need && i < n;
			     taken++)
				seq[k++] = in[i++];
			if (k < need && !last) {
				/* still incomplete: all of it is pending */
				memcpy(f->pend, seq, k);
				f->npend = k;
				return o;
			}
			if (k == need && utf8_valid(seq, need)) {
				memcpy(out + o, seq, need);
				o += need;
				f->npend = 0;
				continue;
			}
			/* Invalid: replace the lead byte and look again at
			 * what followed it, the bytes taken from this chunk
			 * where they are, the others from pend. */
			o += put_fffd(out + o, f);
			i -= taken;
			memmove(f->pend, f->pend + 1, --f->npend);
			continue;
		}
		need = utf8_len(in[i]);
		if (need == 1) {
			out[o++] = in[i++];
		} else if (need == 0) {
			o += put_fffd(out + o, f);
			i++;
		} else if (i + need > n) {
			memcpy(f->pend, in + i, n - i);
			f->npend = n - i;
			i = n;
		} else if (utf8_valid(in + i, need)) {
			memcpy(out + o, in + i, need);
			o += need;
			i += need;
		} else {
			o += put_fffd(out + o, f);
			i++;
		}
	}
	return o;
}
