/*
 * html-findings.h - the sections of `dmarc-report html` that other
 * commands' findings fill (issue 16): the SMTP TLS reports of a domain, as
 * `dmarc-report tls` reads them, and the DNS findings of `check-dns`
 * (only with --check-dns: it asks DNS, the rest of the page never does).
 *
 * Promises: the figures are the commands' own (the same store reads, the
 * same selection), so the page agrees with `tls --domain D` and
 * `check-dns` to the session and the finding; every value goes through
 * html_text(); a domain without TLS reports gets no TLS section.
 */
#ifndef DMARCSIFT_HTML_FINDINGS_H
#define DMARCSIFT_HTML_FINDINGS_H

#include <stdio.h>

#include "check-dns.h"
#include "command.h"

/* The TLS section of one domain (nothing when it has no TLS reports in
 * the selection); idx makes its chart's id unique.  -1 with e filled. */
int html_tls_section(FILE *f, struct report_ctx *ctx, const char *domain,
                     size_t idx, struct err *e);

/* The check-dns findings of one domain, from all (check_dns_collect()). */
void html_dns_section(FILE *f, const struct findings *all, const char *domain);

#endif
