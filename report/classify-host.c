/*
 * classify-host.c - what the sending host itself shows, for classify.c
 * (see classify.h): the senders its forward-confirmed PTR name names, and
 * whether SES mail came from a host that is not SES's (changed in
 * transit).
 */
#include "classify.h"
#include "netaddr.h"
#include "ses-region.h"

#include <string.h>

/*
 * THE PTR TABLE: the names the services give their sending hosts, as
 * their messages' Received headers show them (dmarc-and-ses-notes.md,
 * "Other big senders"; parsedmarc's base_reverse_dns_map has the same
 * bases).  Only the part of the name a service controls is listed, under
 * the service's own domain; a forward-confirmed PTR proves the address
 * belongs to whoever controls that zone.  Amazon SES is not here:
 * smtp-out.[<region>.]amazonses.com also names the region (ses-region.h).
 * Last checked 2026-11, with the senders table.
 */
static const struct {
	const char *suffix;
	const char *name;
} ptr_table[] = {
    {"outbound.protection.outlook.com", "Microsoft 365"},
    {"google.com", "Google Workspace"}, /* mail-*-f*.google.com */
    {"outbound-mail.sendgrid.net", "SendGrid"},
    {"mailgun.net", "Mailgun"},
    {"mcsv.net", "Mailchimp"},
    {"mcdlv.net", "Mailchimp"},
    {"rsgsv.net", "Mailchimp"},
    {"mandrillapp.com", "Mailchimp Transactional"},
    {"mtasv.net", "Postmark"},
    {"sparkpostmail.com", "SparkPost"},
    {"zdsys.com", "Zendesk"},
    {"hubspotemail.net", "HubSpot"},
    {"mta.salesforce.com", "Salesforce"},
    {"exacttarget.com", "Salesforce Marketing Cloud"},
};

const char *
classify_ptr_sender(const char *ptr)
{
	size_t i;

	if (ptr == NULL)
		return NULL;
	for (i = 0; i < sizeof(ptr_table) / sizeof(ptr_table[0]); i++)
		if (ses_domain_matches(ptr, ptr_table[i].suffix))
			return ptr_table[i].name;
	return NULL;
}

/* What the SPF results for an SES MAIL FROM say of the sending host: 1
 * SES authorised it (pass), -1 it did not (fail, softfail), 0 neither or
 * no such result. */
static int
ses_spf_verdict(const struct classify_input *in)
{
	char region[REGION_MAX];
	int verdict = 0;
	size_t i;

	for (i = 0; i < in->nspf; i++) {
		const char *res = in->spf[i].result;

		if ((in->spf[i].scope != NULL &&
		     strcmp(in->spf[i].scope, "helo") == 0) ||
		    !ses_domain_region(in->spf[i].domain, region,
		                       sizeof(region)) ||
		    res == NULL)
			continue;
		if (strcmp(res, "pass") == 0)
			return 1;
		if (strcmp(res, "fail") == 0 || strcmp(res, "softfail") == 0)
			verdict = -1;
	}
	return verdict;
}

int
classify_in_transit(const struct classifier *c, const struct classify_input *in)
{
	char region[REGION_MAX];
	int verdict = ses_spf_verdict(in), broken = verdict == -1;
	struct net a;
	size_t i;

	if (verdict == 1)
		return 0;
	for (i = 0; i < in->ndkim; i++) {
		if (in->dkim[i].domain == NULL ||
		    !ses_domain_matches(in->dkim[i].domain, "amazonses.com"))
			continue;
		if (in->dkim[i].result != NULL &&
		    strcmp(in->dkim[i].result, "pass") == 0)
			return 0;
		broken = 1;
	}
	/* an address that is no address is not known to be elsewhere */
	if (!broken || in->source_ip == NULL ||
	    net_parse_addr(in->source_ip, &a) == -1 ||
	    classify_ip_is_ses(c, in->source_ip))
		return 0;
	return !ses_ptr_region(in->ptr, region, sizeof(region));
}

const char *
classify_signal_name(enum signal s)
{
	switch (s) {
	case SIGNAL_BOUNCE:
		return "mail-from";
	case SIGNAL_DKIM:
		return "dkim";
	case SIGNAL_IP:
		return "ip";
	case SIGNAL_PTR:
		return "ptr";
	default:
		return NULL;
	}
}
