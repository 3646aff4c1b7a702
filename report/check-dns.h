/*
 * check-dns.h - the checks of `dmarc-report check-dns` (check-dns.c), one
 * function per record a domain needs; cmd-check-dns.c finds what each
 * domain needs from the stored reports and prints the findings.
 *
 * Every check adds findings: a check name, the DNS name it read, a
 * severity (error: mail fails or reports are lost; warning: a risk or a
 * setting to change; info: worth knowing; ok: the check passed) and, for
 * all but ok, the fix.  Text from DNS inside a finding is escaped
 * (dns_escape()).  The fixes keep to the SES guide's facts
 * (../shared/reference/ses-region-evidence.md section 3): one MX for every
 * region, SPF on the MAIL FROM domain, DKIM CNAMEs to the token's key.
 */
#ifndef DMARCSIFT_CHECK_DNS_H
#define DMARCSIFT_CHECK_DNS_H

#include <stddef.h>

#include "dns.h"
#include "err.h"

struct align;

struct finding {
	char *domain, *check, *name, *severity, *text, *fix;
};

struct findings {
	struct finding *v;
	size_t n, cap;
	const char *domain; /* the policy domain being checked */
};

/* Adds one finding (copies everything); -1 when out of memory. */
int finding_add(struct findings *f, const char *check, const char *name,
                const char *severity, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void findings_free(struct findings *f);

/* finding_add() in a check: out of memory returns -1 from the caller,
 * whose struct err is named e. */
#define CHECK_ADD(...)                                                         \
	do {                                                                   \
		if (finding_add(__VA_ARGS__) == -1)                            \
			return err_set(e, "out of memory");                    \
	} while (0)

/* A record that could not be read (timeout, SERVFAIL...): adds one
 * warning and returns 1; 0 when the answer is usable (NXDOMAIN and NODATA
 * are answers); -1 when out of memory. */
int check_unreadable(struct findings *f, const char *check, const char *name,
                     const struct dns_answer *a, struct err *e);

/* _dmarc.<domain>: one record, parsed; rua destinations in another
 * organisation need their authorisation record.  *aspf gets the record's
 * aspf ('r' when absent, 0 when there is no valid record). */
int check_dmarc(struct dns *d, const struct align *al, const char *domain,
                struct findings *f, char *aspf, struct err *e);

/* The domain's SPF: one record, syntax, lookups, void lookups. */
int check_spf(struct dns *d, const char *domain, struct findings *f,
              struct err *e);

/* A custom MAIL FROM domain seen with SES: exactly one MX, to
 * feedback-smtp.<region>.amazonses.com; an SPF record authorising
 * amazonses.com on it (and not only on the parent domain). region may be
 * "" when unknown. */
int check_mail_from(struct dns *d, const char *domain, const char *mail_from,
                    const char *region, char aspf, struct findings *f,
                    struct err *e);

/* <selector>._domainkey.<dkim_domain> for a customer signature seen with
 * SES: a CNAME to the token's key at SES (Easy DKIM), or a TXT with a key
 * (BYODKIM). */
int check_dkim(struct dns *d, const char *dkim_domain, const char *selector,
               const char *region, struct findings *f, struct err *e);

/* Everything `check-dns` checks for ctx's selection (its arguments, else
 * every policy domain the selection has), into f (zeroed here; free it
 * with findings_free() whatever this returns); ctx->nothing_checked when
 * there was no domain.  The command and the HTML page's --check-dns show
 * the same findings (cmd-check-dns.c). */
struct report_ctx;
int check_dns_collect(struct report_ctx *ctx, struct findings *f,
                      struct err *e);

#endif
