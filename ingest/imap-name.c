/*
 * imap-name.c - see imap-name.h.
 */
#include "imap-name.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

/* RFC 3501's modified BASE64: "," instead of "/". */
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* Decodes one UTF-8 sequence at *p; returns the code point or -1. */
static long
utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned long cp;
	size_t n, i;

	if (s[0] < 0x80) {
		*p += 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*p += n;
	return (long)cp;
}

/* Appends the UTF-16 units in u[0..n) as one "&...-" run. */
static int
flush_run(struct buf *b, const uint16_t *u, size_t n, struct err *e)
{
	uint32_t acc = 0;
	size_t i;
	int bits = 0;

	if (n == 0)
		return 0;
	if (buf_appendc(b, '&', e) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		acc = (acc << 16) | u[i];
		bits += 16;
		while (bits >= 6) {
			bits -= 6;
			if (buf_appendc(b, b64[(acc >> bits) & 0x3f], e) == -1)
				return -1;
		}
	}
	if (bits > 0 &&
	    buf_appendc(b, b64[(acc << (6 - bits)) & 0x3f], e) == -1)
		return -1;
	return buf_appendc(b, '-', e);
}

int
imap_utf7_encode(const char *in, char **out, struct err *e)
{
	const unsigned char *p = (const unsigned char *)in;
	uint16_t *run;
	struct buf b;
	size_t nrun = 0;
	long cp;

	/* at most two UTF-16 units per input byte's code point */
	if ((run = calloc(strlen(in) * 2 + 2, sizeof(*run))) == NULL)
		return err_set(e, "out of memory");
	buf_init(&b, 0);
	while (*p != '\0') {
		if ((cp = utf8_next(&p)) == -1) {
			err_set(e, "'%s' is not valid UTF-8", in);
			goto fail;
		}
		if (cp >= 0x20 && cp <= 0x7e) {
			if (flush_run(&b, run, nrun, e) == -1)
				goto fail;
			nrun = 0;
			if (cp == '&' ? buf_append(&b, "&-", 2, e)
				      : buf_appendc(&b, (char)cp, e))
				goto fail;
		} else if (cp >= 0x10000) {
			cp -= 0x10000;
			run[nrun++] = (uint16_t)(0xd800 | (cp >> 10));
			run[nrun++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
		} else {
			run[nrun++] = (uint16_t)cp;
		}
	}
	if (flush_run(&b, run, nrun, e) == -1)
		goto fail;
	free(run);
	run = NULL; /* fail: frees it (a double free here once, on OOM) */
	if (b.data == NULL) { /* "" in, "" out: a string, not NULL */
		if (buf_reserve(&b, 1, e) == -1)
			goto fail;
		b.data[0] = '\0';
	}
	*out = buf_steal(&b, NULL);
	return 0;
fail:
	free(run);
	buf_free(&b);
	return -1;
}

int
imap_folder_name(const char *folder, char delim, const char *prefix,
    char **out, struct err *e)
{
	size_t plen = strlen(prefix), skip = 0, i, n;
	char *vname, c;
	int rc;

	if (strcasecmp(folder, "INBOX") == 0)
		return imap_utf7_encode("INBOX", out, e);
	if ((vname = malloc(plen + strlen(folder) + 1)) == NULL)
		return err_set(e, "out of memory");
	/* "INBOX/Reports" with the prefix "INBOX." is INBOX.Reports, not
	 * INBOX.INBOX.Reports: compare with the prefix written with "/". */
	for (i = 0; i < plen; i++)
		vname[i] = delim != '\0' && prefix[i] == delim ? '/' : prefix[i];
	if (plen > 0 && strncasecmp(folder, vname, plen) == 0)
		skip = plen;
	memcpy(vname, prefix, plen);
	for (n = plen, i = skip; folder[i] != '\0'; i++) {
		c = folder[i];
		if (c != '/' && c == delim) {
			free(vname);
			return err_set(e, "folder '%s': the server uses '%c' "
					  "between levels, so a level cannot "
					  "contain it",
			    folder, delim);
		}
		if (c == '/' && delim == '\0') {
			free(vname);
			return err_set(e, "folder '%s': the server has no "
					  "folder hierarchy, so '/' cannot be "
					  "used",
			    folder);
		}
		vname[n++] = c == '/' ? delim : c;
	}
	vname[n] = '\0';
	rc = imap_utf7_encode(vname, out, e);
	free(vname);
	return rc;
}
