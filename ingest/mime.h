/*
 * mime.h - the MIME structure of one e-mail message, through libetpan.
 *
 * Owns: parsing a message (RFC 5322 + MIME), recognising messages that are
 * some other kind of report (DMARC failure reports in ARF, SMTP TLS reports,
 * bounces), and handing every leaf part to the caller decoded from base64 or
 * quoted-printable, whatever its Content-Type.  Deciding what a part holds is
 * the caller's business (unpack.c sniffs the bytes): reporters label gzip as
 * application/octet-stream, zip as application/x-zip-compressed, and so on.
 *
 * A message is parsed from memory; the walk never copies it.  Before
 * libetpan sees a message, its Content-Type headers are counted: libetpan's
 * parse time grows quadratically with nesting depth, so deep or very wide
 * messages are refused up front.
 */
#ifndef DMARCSIFT_MIME_H
#define DMARCSIFT_MIME_H

#include <stddef.h>

#include "err.h"
#include "input-limits.h"

enum mime_kind {
	MIME_PLAIN,   /* an ordinary message: look at its parts */
	MIME_ARF,     /* a DMARC failure (forensic) report, RFC 6591 */
	MIME_TLSRPT,  /* an SMTP TLS report, RFC 8460 */
	MIME_DSN,     /* a delivery status notification (bounce) */
	MIME_REPORT,  /* some other multipart/report */
};

struct mime_part {
	const unsigned char *data; /* decoded body */
	size_t len;
	const char *type;     /* "application/gzip", lower case */
	const char *filename; /* may be "" */
	const char *charset;  /* Content-Type's charset parameter, or NULL:
				 what an XML part without an encoding
				 declaration is in (RFC 7303) */
	unsigned index;	      /* 1-based number of the leaf part */
};

struct mime_info {
	enum mime_kind kind;
	char report_type[64]; /* report-type of a multipart/report */
	unsigned leaves;      /* leaf parts seen */
	unsigned html;	      /* text/html parts skipped */
};

struct mime_handler {
	void *arg;
	int (*part)(void *arg, const struct mime_part *p, struct err *e);
};

/* Walks the message.  For MIME_ARF and MIME_DSN no part is handed over (a
 * failure report carries someone's original message, which must not be
 * mistaken for anything of ours); an SMTP TLS report's parts are. */
int mime_walk(const unsigned char *msg, size_t len, const struct limits *lim,
    const struct mime_handler *h, struct mime_info *info, struct err *e);

/* 1 when the bytes look like the start of an RFC 5322 message. */
int mime_looks_like_message(const unsigned char *p, size_t n);

#endif
