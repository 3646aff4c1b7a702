/*
 * imap-conn.h - an authenticated IMAP session, ready to SELECT.
 *
 * Owns the order of the first steps, which is what keeps credentials
 * safe: connect (with the timeout set first, so connect, handshake and
 * every read are bounded), TLS (IMAPS, or STARTTLS which must be offered:
 * a server that does not offer it is refused, never used in clear text),
 * verification of the server's certificate, and only then the password or
 * token and LOGIN or AUTHENTICATE XOAUTH2.  tls = none is allowed only to
 * a loopback address, checked on the resolved addresses, and warned about.
 * Then the capabilities (MOVE, UIDPLUS) and the personal namespace
 * (NAMESPACE, else LIST) that folder names are translated with.
 *
 * Also owns what a failed libetpan call means: every failure fills a
 * struct err and an exit status (sysexits.h): 69 the server cannot be
 * reached, 77 the certificate or the login is refused, 78 the
 * configuration cannot work, 75 the connection was lost or the server
 * passed a limit of imap-guard.h (try again).  The connection is opened
 * here rather than by libetpan's helpers so that the guard sits under
 * libetpan from the first byte of the greeting.
 */
#ifndef DMARCSIFT_IMAP_CONN_H
#define DMARCSIFT_IMAP_CONN_H

#include <time.h>

#include <libetpan/libetpan.h>

#include "config.h"
#include "config-imap.h"
#include "err.h"
#include "imap-guard.h"
#include "log.h"

struct imap_conn {
	mailimap *imap;
	const struct imap_config *cfg;
	const struct logger *lg;
	char delim;   /* hierarchy delimiter; '\0' if the server has none */
	char *prefix; /* personal namespace prefix, e.g. "" or "INBOX." */
	int has_move, has_uidplus;
	time_t last_io; /* when the server last answered */
	int dead;	/* the stream cannot be used any more */
	int preauth;	/* the greeting was PREAUTH: no login needed */
	struct imap_guard guard; /* limits on what the server may send */
	int speaks_tls; /* no greeting in clear text: the port is IMAPS */
};

/* Connects, verifies, authenticates.  On failure *ex is the exit status
 * and c is closed. */
int imap_conn_open(struct imap_conn *c, const struct imap_config *cfg,
    const struct logger *lg, int *ex, struct err *e);

/* Logs out if the session is healthy, else just drops the connection (a
 * LOGOUT on a dead stream would wait for the whole timeout). */
void imap_conn_close(struct imap_conn *c);

/* Closes the stream without a word: after an aborted FETCH the server is
 * still sending, and nothing it says can be parsed any more. */
void imap_conn_drop(struct imap_conn *c);

/* Describes the libetpan error r of the command `what` into e, with the
 * server's words when it answered NO or BAD, and returns the exit status
 * that fits: 75 when the connection is gone (and marks it dead), else
 * `refused` (the status for "the server said no" to this command). */
int imap_conn_fail(struct imap_conn *c, int r, const char *what, int refused,
    struct err *e);

/* mailimap_capability() without its crash: libetpan 1.9.4 copies the
 * capabilities the server sent, and dereferences NULL when a server
 * answers OK without a CAPABILITY line, or after a greeting whose
 * "[CAPABILITY ]" listed nothing (both found by fuzz_imap).  An empty
 * list is put in place first. */
int imap_capability(mailimap *imap, struct mailimap_capability_data **cap);

/* Marks the end of a round trip, for imap_conn_keepalive(). */
void imap_conn_touch(struct imap_conn *c);

/* Sends NOOP when the session has been idle for a while (a long report
 * being parsed), so the server does not time the session out. */
int imap_conn_keepalive(struct imap_conn *c, int *ex, struct err *e);

#endif
