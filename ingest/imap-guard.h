/*
 * imap-guard.h - how much an IMAP server may make the client read, and for
 * how long: bytes, lines and literals per command, idle time and an overall
 * deadline per command.
 *
 * Why: libetpan reads a whole response line or literal into memory before
 * parsing it, keeps every untagged response of a command until its tagged
 * answer, and bounds only each single read by its timeout.  A server that
 * floods untagged lines, sends a 300 MB line or literal, or drips one byte
 * every few seconds would take all the memory or keep the run (and its
 * lock) alive for ever.
 *
 * How: a mailstream low-level driver wrapped around the socket or TLS one.
 * Every write from the client starts a new window (a command is being
 * sent; whatever the server says next answers it).  In a window the server
 * may send at most max_response bytes plus what the caller allowed for
 * message bodies, at most GUARD_MAX_LINES lines outside literals, no line
 * longer than max_response, and no literal announced larger than the bytes
 * it has left; it must say something every `timeout` seconds and be done
 * within `timeout` seconds (plus what the caller allowed for bodies).
 * Literals are recognised as they come: every "{N}" in a line is checked
 * when its "}" arrives (libetpan allocates N there, whatever follows), and
 * the one that ends a line starts a literal, so a literal's size is
 * refused when announced, before any of it is read.  A capability list
 * that lists nothing ("* CAPABILITY", "[CAPABILITY ]") is refused too:
 * libetpan 1.9.4 keeps it as no list at all and reads through NULL.  So
 * is a BADCHARSET code with a list ("[BADCHARSET (UTF-8)]"): libetpan
 * 1.9.4 reads through NULL parsing one in a greeting, and dmarc-ingest
 * never names a charset, the one thing a server answers it to.  Past
 * a limit the read fails: libetpan reports a stream error, the connection
 * is unusable, and imap_guard_explain() says which limit and what the
 * server did.
 *
 * Owns: nothing but its counters; the wrapper owns the wrapped driver.
 */
#ifndef DMARCSIFT_IMAP_GUARD_H
#define DMARCSIFT_IMAP_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <libetpan/libetpan.h>

/* Lines outside literals in the answer to one command: the largest
 * legitimate answers (the sizes of a batch, the EXPUNGE lines after a
 * MOVE) are one line per message of a batch (at most 1000). */
#define GUARD_MAX_LINES 100000

/* The default of max_response: every line, every literal and the whole
 * answer to one command, message bodies aside. */
#define GUARD_DEFAULT_MAX_RESPONSE (4u << 20)

enum guard_trip {
	GUARD_OK,
	GUARD_IDLE,	/* silent for `timeout` seconds */
	GUARD_DEADLINE, /* still sending after the deadline */
	GUARD_BYTES,	/* more bytes than the budget */
	GUARD_LINES,	/* more than GUARD_MAX_LINES lines */
	GUARD_LINE,	/* one line longer than max_response */
	GUARD_LITERAL,	/* a literal announced larger than allowed */
	GUARD_CAPABILITY, /* a capability list that lists nothing */
	GUARD_BADCHARSET, /* a BADCHARSET code with a list of charsets */
};

/* Where the current line is in a literal's announcement "{N}". */
enum guard_lit {
	LIT_NONE,
	LIT_OPEN,     /* "{" and blanks */
	LIT_DIGITS,   /* digits of N */
	LIT_BLANK,    /* blanks or "+" after them */
	LIT_CLOSED,   /* "}" and blanks: a literal if LF comes next */
	LIT_CLOSED_CR /* then CR */
};

struct imap_guard {
	/* settings */
	unsigned timeout;      /* seconds: idle, and per command */
	uint64_t max_response; /* bytes per command, bodies aside */
	uint64_t body_bytes;   /* allowed on top for the next commands */
	uint64_t body_literal; /* the largest body literal allowed */
	unsigned body_seconds; /* allowed on top of timeout */

	/* the window: since the client last wrote */
	struct timespec start;
	uint64_t used;	       /* bytes read */
	uint64_t lines;	       /* lines read, outside literals */
	uint64_t line_len;     /* bytes of the current line so far */
	uint64_t literal_left; /* bytes of the literal being read */
	enum guard_lit lit;    /* where the line is in a "{N}" */
	uint64_t lit_size;     /* its N so far */
	unsigned cap;	       /* letters of "CAPABILITY" matched + 1, or
	                          CAP_AFTER: all of them, then blanks */
	unsigned badcs;	       /* likewise for "[BADCHARSET" */
	int line_star;	       /* the line began with "*" */

	/* what tripped, for the message */
	enum guard_trip trip;
	uint64_t trip_value; /* the literal's announced size, or the bytes */
	double trip_after;   /* seconds into the window */
};

void imap_guard_init(struct imap_guard *g, unsigned timeout,
    uint64_t max_response);

/* Opens a window now: the greeting is read in the first one.  The
 * window's bytes, lines and clock start again; the line, "{N}" or literal
 * being read goes on. */
void imap_guard_start(struct imap_guard *g);

/* Message bodies for the next commands: `bytes` more may be read in all,
 * a literal may be as large as `literal`, and the deadline moves `seconds`
 * later.  imap_guard_allow(g, 0, 0, 0) goes back to the plain limits. */
void imap_guard_allow(struct imap_guard *g, uint64_t bytes, uint64_t literal,
    unsigned seconds);

/* Wraps `low` (socket or TLS): the returned driver owns it.  NULL when out
 * of memory, and low is then untouched. */
mailstream_low *imap_guard_wrap(struct imap_guard *g, mailstream_low *low);

/* Counts the bytes buf[0..n) that the server sent in the current window;
 * returns -1 once a limit is passed (the read must then fail).  Used by
 * the wrapper; public for the fuzz target. */
int imap_guard_account(struct imap_guard *g, const char *buf, size_t n);

/* When a limit was passed: describes what the server did into out (one
 * phrase, e.g. "the server sent more than 4194304 bytes in answer to one
 * command") and returns 1; else returns 0 and out is "". */
int imap_guard_explain(const struct imap_guard *g, char *out, size_t len);

#endif
