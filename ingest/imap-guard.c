/*
 * imap-guard.c - see imap-guard.h.
 *
 * libetpan facts this file depends on (1.9.4): the socket and TLS drivers
 * wait for each read at most the low-level stream's timeout (seconds; 0
 * means the global 300 s), so the wrapper sets it before every read to
 * what is left of the window; a read that fails makes the command fail
 * with MAILIMAP_ERROR_STREAM; mailstream_low_free() calls the driver's
 * free, which must free the mailstream_low itself.
 */
#include "imap-guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct guard_low {
	struct imap_guard *g;
	mailstream_low *inner;
};

void
imap_guard_init(struct imap_guard *g, unsigned timeout,
    uint64_t max_response)
{
	memset(g, 0, sizeof(*g));
	g->timeout = timeout;
	g->max_response =
	    max_response > 0 ? max_response : GUARD_DEFAULT_MAX_RESPONSE;
	imap_guard_start(g);
}

void
imap_guard_start(struct imap_guard *g)
{
	/* Only the window's counters: where the stream is (in a line, in a
	 * "{N}", in a literal) goes on, since libetpan may already hold the
	 * start of the next answer when the client writes (fuzz_imap: a
	 * "{N}" begun in the greeting's last read and ended in the
	 * CAPABILITY window went unchecked). */
	clock_gettime(CLOCK_MONOTONIC, &g->start);
	g->used = g->lines = 0;
}

void
imap_guard_allow(struct imap_guard *g, uint64_t bytes, uint64_t literal,
    unsigned seconds)
{
	g->body_bytes = bytes;
	g->body_literal = literal;
	g->body_seconds = seconds;
}

static double
elapsed(const struct imap_guard *g)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - g->start.tv_sec) +
	       (double)(now.tv_nsec - g->start.tv_nsec) / 1e9;
}

static int
trip(struct imap_guard *g, enum guard_trip why, uint64_t value)
{
	if (g->trip == GUARD_OK) {
		g->trip = why;
		g->trip_value = value;
		g->trip_after = elapsed(g);
	}
	return -1;
}

/* The largest literal the server may still announce. */
static uint64_t
literal_room(const struct imap_guard *g)
{
	uint64_t budget = g->max_response + g->body_bytes;
	uint64_t left = g->used < budget ? budget - g->used : 0;
	uint64_t cap = g->body_literal > g->max_response ? g->body_literal
							  : g->max_response;

	return left < cap ? left : cap;
}

/*
 * Follows the "{N}" a line announces, one byte at a time.  libetpan
 * (1.9.4, unstrict syntax) reads "{", blanks, digits, blanks and "}",
 * and allocates N bytes there and then, before it looks at what follows
 * (found by fuzz_imap: "{N} x" or "{N} \r\n" made it allocate 4 GiB
 * while only "{N}\r\n" was checked).  So every "{N}" of a line is
 * checked against the room left as soon as its "}" is seen, and a
 * literal starts only when the line ends right after it the way
 * libetpan's CRLF does: blanks, an optional CR, then LF.  Digits past
 * 2^64 saturate: libetpan would keep their low 32 bits, zeros in front
 * are read like any digit.  Returns -1 when a size is refused.
 */
static int
literal_scan(struct imap_guard *g, const char *p, size_t k)
{
	const char *end = p + k;
	unsigned d;

	for (; p < end; p++) {
		if (*p == '{') {
			g->lit = LIT_OPEN;
			g->lit_size = 0;
			continue;
		}
		d = (unsigned)(unsigned char)*p - '0';
		switch (g->lit) {
		case LIT_NONE:
			break;
		case LIT_OPEN:
		case LIT_DIGITS:
			if (d <= 9) {
				g->lit_size =
				    g->lit_size > (UINT64_MAX - 9) / 10
				        ? UINT64_MAX
				        : g->lit_size * 10 + d;
				g->lit = LIT_DIGITS;
			} else if (*p == ' ' || *p == '\t')
				g->lit =
				    g->lit == LIT_OPEN ? LIT_OPEN : LIT_BLANK;
			else if (*p == '+' && g->lit == LIT_DIGITS)
				g->lit = LIT_BLANK;
			else if (*p == '}' && g->lit == LIT_DIGITS)
				g->lit = LIT_CLOSED;
			else
				g->lit = LIT_NONE;
			break;
		case LIT_BLANK:
			if (*p == '}')
				g->lit = LIT_CLOSED;
			else if (*p != ' ' && *p != '\t' && *p != '+')
				g->lit = LIT_NONE;
			break;
		case LIT_CLOSED:
			if (*p == '\r')
				g->lit = LIT_CLOSED_CR;
			else if (*p != ' ' && *p != '\t')
				g->lit = LIT_NONE;
			break;
		case LIT_CLOSED_CR:
			g->lit = LIT_NONE;
			break;
		}
		if (g->lit == LIT_CLOSED && g->lit_size > literal_room(g))
			return trip(g, GUARD_LITERAL, g->lit_size);
	}
	return 0;
}

/*
 * A capability list that lists nothing: "* CAPABILITY" at the start of a
 * line, or "[CAPABILITY" anywhere, then only blanks to the end of the line
 * or to "]".  libetpan 1.9.4 keeps it as data without a list, and
 * mailimap_capability() and mailimap_has_*() then read through NULL
 * (fuzz_imap).  No server needs to send one: RFC 3501 puts IMAP4rev1 in
 * every list.  pos is where p starts in its line; the end of the line is
 * checked by the caller (capability_empty()).
 */
#define CAP_WORD  "CAPABILITY"
#define CAP_AFTER (sizeof(CAP_WORD)) /* matched, blanks since */

/*
 * "[BADCHARSET" and blanks, then "(": a response code listing charsets.
 * libetpan 1.9.4 reads through NULL parsing one in a greeting (fuzz_imap:
 * "* OK [BADCHARSET (UTF-8)]" is enough).  A server sends it only in
 * answer to a SEARCH that names a charset, which dmarc-ingest never does.
 */
#define BADCS_WORD  "BADCHARSET"
#define BADCS_AFTER (sizeof(BADCS_WORD))

enum { W_FREE, W_TAKEN, W_END };

/* Byte c through a match of word (upper case; after: its length + 1) in
 * *m: 0 outside it, i + 1 after i letters, after once all of them were
 * matched, blanks since.  W_TAKEN when c belongs to the match, W_END when
 * c is the first byte after the whole word and its blanks (the match is
 * over), W_FREE otherwise. */
static int
word_step(unsigned *m, const char *word, unsigned after, unsigned char c)
{
	if (*m == after) {
		if (c == ' ' || c == '\t' || c == '\r')
			return W_TAKEN;
		*m = 0;
		return W_END;
	}
	if (*m > 0) {
		if ((c & ~0x20u) == (unsigned char)word[*m - 1]) {
			(*m)++;
			return W_TAKEN;
		}
		*m = 0;
	}
	return W_FREE;
}

static int
capability_scan(struct imap_guard *g, const char *p, size_t k, uint64_t pos)
{
	unsigned char c;
	size_t i;
	int cap, bad;

	for (i = 0; i < k; i++, pos++) {
		c = (unsigned char)p[i];
		cap = word_step(&g->cap, CAP_WORD, CAP_AFTER, c);
		if (cap == W_END && c == ']')
			return trip(g, GUARD_CAPABILITY, 0);
		bad = word_step(&g->badcs, BADCS_WORD, BADCS_AFTER, c);
		if (bad == W_END && c == '(')
			return trip(g, GUARD_BADCHARSET, 0);
		/* what may come before the words */
		if (cap != W_TAKEN &&
		    (c == '[' || (pos == 1 && c == ' ' && g->line_star)))
			g->cap = 1;
		if (bad != W_TAKEN && c == '[')
			g->badcs = 1;
		if (pos == 0)
			g->line_star = c == '*';
	}
	return 0;
}

/* At the end of a line: "* CAPABILITY" and blanks, nothing listed. */
static int
capability_empty(const struct imap_guard *g)
{
	return g->cap == CAP_AFTER;
}

int
imap_guard_account(struct imap_guard *g, const char *buf, size_t n)
{
	const char *p = buf, *end = buf + n, *nl;
	size_t k;

	if (g->trip != GUARD_OK)
		return -1;
	g->used += n;
	if (g->used > g->max_response + g->body_bytes)
		return trip(g, GUARD_BYTES, g->used);
	while (p < end) {
		if (g->literal_left > 0) {
			k = (size_t)(end - p);
			if ((uint64_t)k > g->literal_left)
				k = (size_t)g->literal_left;
			p += k;
			g->literal_left -= k;
			continue;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		k = (size_t)((nl != NULL ? nl : end) - p);
		g->line_len += k;
		if (g->line_len > g->max_response)
			return trip(g, GUARD_LINE, g->line_len);
		if (literal_scan(g, p, k) == -1 ||
		    capability_scan(g, p, k, g->line_len - k) == -1)
			return -1;
		if (nl == NULL)
			break;
		if (capability_empty(g))
			return trip(g, GUARD_CAPABILITY, 0);
		p = nl + 1;
		if (++g->lines > GUARD_MAX_LINES)
			return trip(g, GUARD_LINES, g->lines);
		if (g->lit == LIT_CLOSED || g->lit == LIT_CLOSED_CR)
			g->literal_left = g->lit_size;
		g->line_len = 0;
		g->lit = LIT_NONE;
		g->cap = 0;
		g->badcs = 0;
	}
	return 0;
}

int
imap_guard_explain(const struct imap_guard *g, char *out, size_t len)
{
	unsigned long long v = (unsigned long long)g->trip_value;
	unsigned long long budget =
	    (unsigned long long)(g->max_response + g->body_bytes);

	switch (g->trip) {
	case GUARD_OK:
		if (len > 0)
			out[0] = '\0';
		return 0;
	case GUARD_IDLE:
		snprintf(out, len, "the server said nothing for %u s "
				   "(timeout)",
		    g->timeout);
		break;
	case GUARD_DEADLINE:
		snprintf(out, len, "the server was still answering one "
				   "command after %u s (timeout), %llu bytes "
				   "so far: it sends too slowly",
		    g->timeout + g->body_seconds,
		    (unsigned long long)g->used);
		break;
	case GUARD_BYTES:
		snprintf(out, len, "the server sent more than %llu bytes in "
				   "answer to one command (max_response%s)",
		    budget, g->body_bytes ? " plus the announced message sizes"
					  : "");
		break;
	case GUARD_LINES:
		snprintf(out, len, "the server sent more than %d lines in "
				   "answer to one command (a flood of untagged "
				   "responses)",
		    GUARD_MAX_LINES);
		break;
	case GUARD_LINE:
		snprintf(out, len, "the server sent a line longer than %llu "
				   "bytes (max_response)",
		    (unsigned long long)g->max_response);
		break;
	case GUARD_CAPABILITY:
		snprintf(out, len,
		         "the server sent a capability list that "
		         "lists nothing (not even IMAP4rev1)");
		break;
	case GUARD_BADCHARSET:
		snprintf(out, len,
		         "the server sent a BADCHARSET list of charsets, "
		         "which dmarc-ingest never asks for and cannot read "
		         "safely");
		break;
	case GUARD_LITERAL:
		snprintf(out, len, "the server announced a literal of %llu "
				   "bytes, more than the %llu allowed%s",
		    v, (unsigned long long)literal_room(g),
		    g->body_literal ? " (the message is larger than the "
				      "server said)"
				    : " (max_response)");
		break;
	}
	return 1;
}

/* --- the driver ---------------------------------------------------------- */

static ssize_t
guard_read(mailstream_low *s, void *buf, size_t count)
{
	struct guard_low *gl = s->data;
	struct imap_guard *g = gl->g;
	double t0, left;
	unsigned wait;
	ssize_t n;

	if (g->trip != GUARD_OK)
		return -1;
	t0 = elapsed(g);
	left = (double)g->timeout + (double)g->body_seconds - t0;
	if (left <= 0)
		return trip(g, GUARD_DEADLINE, g->used);
	wait = (unsigned)left;
	if ((double)wait < left)
		wait++;
	if (wait > g->timeout)
		wait = g->timeout;
	mailstream_low_set_timeout(gl->inner, wait > 0 ? wait : 1);
	n = gl->inner->driver->mailstream_read(gl->inner, buf, count);
	if (n < 0 && elapsed(g) - t0 >= (double)wait - 0.5)
		return trip(g, wait < g->timeout ? GUARD_DEADLINE : GUARD_IDLE,
		    g->used);
	if (n > 0 && imap_guard_account(g, buf, (size_t)n) == -1)
		return -1;
	return n;
}

static ssize_t
guard_write(mailstream_low *s, const void *buf, size_t count)
{
	struct guard_low *gl = s->data;

	if (gl->g->trip != GUARD_OK)
		return -1;
	imap_guard_start(gl->g); /* a command: the answer starts afresh */
	mailstream_low_set_timeout(gl->inner, gl->g->timeout);
	return gl->inner->driver->mailstream_write(gl->inner, buf, count);
}

static int
guard_close(mailstream_low *s)
{
	return mailstream_low_close(((struct guard_low *)s->data)->inner);
}

static int
guard_get_fd(mailstream_low *s)
{
	return mailstream_low_get_fd(((struct guard_low *)s->data)->inner);
}

static void
guard_free(mailstream_low *s)
{
	struct guard_low *gl = s->data;

	mailstream_low_free(gl->inner);
	free(gl);
	free(s);
}

static void
guard_cancel(mailstream_low *s)
{
	mailstream_low_cancel(((struct guard_low *)s->data)->inner);
}

static struct mailstream_cancel *
guard_get_cancel(mailstream_low *s)
{
	return mailstream_low_get_cancel(((struct guard_low *)s->data)->inner);
}

static carray *
guard_certificates(mailstream_low *s)
{
	return mailstream_low_get_certificate_chain(
	    ((struct guard_low *)s->data)->inner);
}

static mailstream_low_driver guard_driver = {
    .mailstream_read = guard_read,
    .mailstream_write = guard_write,
    .mailstream_close = guard_close,
    .mailstream_get_fd = guard_get_fd,
    .mailstream_free = guard_free,
    .mailstream_cancel = guard_cancel,
    .mailstream_get_cancel = guard_get_cancel,
    .mailstream_get_certificate_chain = guard_certificates,
};

mailstream_low *
imap_guard_wrap(struct imap_guard *g, mailstream_low *low)
{
	struct guard_low *gl;
	mailstream_low *s;

	if ((gl = calloc(1, sizeof(*gl))) == NULL)
		return NULL;
	gl->g = g;
	gl->inner = low;
	if ((s = mailstream_low_new(gl, &guard_driver)) == NULL) {
		free(gl);
		return NULL;
	}
	mailstream_low_set_timeout(low, g->timeout);
	return s;
}
