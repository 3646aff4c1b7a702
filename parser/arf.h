/*
 * arf.h - DMARC failure reports (RFC 6591, "ruf="): an ARF message
 * (RFC 5965, multipart/report; report-type=feedback-report) whose
 * message/feedback-report part says Feedback-Type: auth-failure.
 *
 * Owns: finding the feedback part (decoded whatever its transfer encoding)
 * and the original message (message/rfc822 or text/rfc822-headers), reading
 * the feedback fields (unfolded; a repeated Original-Rcpt-To joined by
 * ", "), the original's headers and, only when asked, its body; the
 * original's Subject decoded from RFC 2047; the time of the failure
 * (Arrival-Date, else the report's Date, else 0); and a fingerprint that
 * identifies the report whatever its line ends (SHA-256 of the feedback
 * fields and the original headers), for duplicates.
 *
 * Privacy: the original body is someone's mail; it is read only when
 * keep_body is set ([store] keep_failure_bodies), and never otherwise.
 *
 * The message must already have passed mime_walk() (ingest/mime.c), whose
 * shape limits protect libetpan; arf_parse() parses it again.
 */
#ifndef DMARCSIFT_ARF_H
#define DMARCSIFT_ARF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ARF_MAX_FEEDBACK (64u << 10) /* bytes of feedback fields */
#define ARF_MAX_HEADERS  (1u << 20)  /* bytes of original headers kept */

struct arf_report {
	/* the feedback fields, NULL when absent */
	char *feedback_type, *auth_failure, *source_ip, *reported_domain,
	    *original_mail_from, *original_rcpt_to, *arrival_date, *dkim_domain,
	    *dkim_selector, *identity_alignment, *delivery_result;
	char *reporter; /* User-Agent, else Reporting-MTA, else the From */
	char *subject;  /* of the original, decoded to UTF-8 */
	int64_t at;     /* when the message arrived, epoch seconds; 0 unknown */
	char *feedback; /* the feedback part, line ends as "\n" */
	char *headers;  /* the original's header block, or NULL */
	unsigned char *body; /* the original's body (keep_body only) */
	size_t body_len;
	char fingerprint[65]; /* hex SHA-256 */
};

/* Reads a failure report out of a whole message.  Returns 0 with r filled
 * (free with arf_free()), or -1 with e saying why the message is not a
 * usable DMARC failure report (another feedback type, no feedback part,
 * nothing that identifies the failure); r then needs no freeing. */
int arf_parse(const unsigned char *msg, size_t len, int keep_body,
              struct arf_report *r, struct err *e);
void arf_free(struct arf_report *r);

#endif
