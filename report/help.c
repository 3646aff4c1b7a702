/*
 * help.c - see help.h.  The pages are data: what the command answers, its
 * options, and its columns in CSV order with their meanings; print_page()
 * lays them out with output_text(), at the terminal's width up to 80.
 */
#include "help.h"

#include <string.h>
#include <sysexits.h>

#include "output.h"

#define WRAP 80

struct help_column {
	const char *name;
	const char *meaning;
};

struct help_page {
	const char *command;
	const char *answers;
	const char *options; /* lines, each "--opt ARG<TAB>what" */
	const struct help_column *columns;
};

/* The options every command reads. */
static const char common_options[] =
    "--db PATH\tthe database (default $DMARCSIFT_DB, else "
    "~/.local/share/dmarcsift/dmarc.db)\n"
    "--format FMT\ttable (default), csv or json (docs/json.md)\n"
    "--domain D\tonly reports for policy domain D (repeatable)\n"
    "--since DATE\treports that begin on or after DATE (YYYY-MM-DD UTC, "
    "or Nd: N days ago)\n"
    "--until DATE\treports that begin on or before DATE\n"
    "--wide\tthe table is never cut to the terminal's width\n"
    "-o, --output FILE\twrite to FILE, replaced only when the command "
    "succeeds\n";

static const char classify_options[] =
    "--sources FILE\tyour own senders, lines of cidr_or_domain,name "
    "(default $DMARCSIFT_SOURCES)\n";

static const char html_options[] =
    "--sources FILE\tyour own senders, lines of cidr_or_domain,name "
    "(default $DMARCSIFT_SOURCES)\n"
    "--check-dns\tadd check-dns's findings per domain (asks DNS: "
    "--dns-server, --dns-timeout, --dns-budget)\n";

static const struct help_column reports_columns[] = {
    {"org_name", "the reporting organisation (report_metadata/org_name)"},
    {"report_id", "the report's id, as the reporter wrote it"},
    {"domain", "the policy domain the report is about"},
    {"begin", "start of the report's period (UTC)"},
    {"end", "end of the report's period (UTC)"},
    {"records", "the number of records stored"},
    {"messages", "the sum of the records' message counts"},
    {NULL, NULL},
};

static const struct help_column sources_columns[] = {
    {"source", "the sender (Amazon SES, Google Workspace, one of "
	       "--sources...), else the source IP address, or the "
	       "organisational domain of the confirmed DNS names of several "
	       "unidentified addresses"},
    {"region", "the Amazon SES region; empty for other senders"},
    {"ips", "distinct source addresses seen for it"},
    {"messages", "all its messages"},
    {"dmarc_pass", "messages passing DMARC (aligned SPF or aligned DKIM, "
		   "as the receivers judged)"},
    {"spf_aligned", "messages with aligned SPF"},
    {"dkim_aligned", "messages with aligned DKIM"},
    {"quarantined", "messages the receivers quarantined"},
    {"rejected", "messages the receivers rejected"},
    {"region_evidence", "for SES: what named the region (mail-from, "
			"dkim-selector, ptr, ip, none); empty for others"},
    {"domain", "the reports' policy domain (a row per source and domain)"},
    {"source_name", "unidentified sources: the address's DNS name (PTR), or "
		    "the organisational domain of several; empty without "
		    "one"},
    {"source_name_confirmed", "whether that name is forward-confirmed (its "
			      "A/AAAA hold the address); only a confirmed "
			      "name groups or classifies; empty without a "
			      "name"},
    {"name_evidence", "identified sources: what named the sender "
		      "(mail-from, dkim, ip, ptr: its confirmed DNS name)"},
    {NULL, NULL},
};

static const struct help_column ses_columns[] = {
    {"region", "the SES region (see region_evidence); unknown "
	       "when the mail does not show it"},
    {"source_ip", "the sending address"},
    {"header_from", "the From domain"},
    {"messages", "SES messages of the row, over every selected report"},
    {"spf_aligned", "those with aligned SPF"},
    {"dkim_aligned", "those with aligned DKIM"},
    {"envelope_from", "the MAIL FROM domains seen, joined with commas"},
    {"dkim_domains", "the DKIM domains (d=) seen, joined with commas"},
    {"cause", "why alignment fails, codes joined with ';': "
	      "default-mail-from, no-easy-dkim, dkim-fail, "
	      "mail-from-spf-fail, strict-alignment, region-gap "
	      "(docs/ses.md); empty when no SES setting explains it"},
    {"fix", "which SES setting and which DNS record to change"},
    {"severity", "fail: messages fail DMARC (enforcement would act on "
		 "them); warn: they pass through one mechanism only"},
    {"region_evidence", "what named the region: mail-from, dkim-selector, "
			"ptr, ip or none"},
    {"notes", "signals that disagree, amazonses.com selectors in no table, "
	      "the SES-based product"},
    {"evidence", "what the DMARC failure reports from this source say "
		 "(their count, DKIM signature, MAIL FROM, the region they "
		 "name, a subject); never part of the counts"},
    {NULL, NULL},
};

static const struct help_column records_columns[] = {
    {"org_name", "the reporting organisation"},
    {"org_email", "the reporter's contact address"},
    {"report_id", "the report's id"},
    {"begin_date", "start of the report's period (UTC)"},
    {"end_date", "end of the report's period (UTC)"},
    {"errors", "the report's error elements, joined with '|'"},
    {"domain", "the policy domain"},
    {"adkim", "published DKIM alignment mode: r or s"},
    {"aspf", "published SPF alignment mode: r or s"},
    {"p", "published policy"},
    {"sp", "published subdomain policy"},
    {"np", "published policy for non-existent subdomains (RFC 9990)"},
    {"pct", "published percentage (absent in RFC 9990 reports)"},
    {"fo", "published failure reporting options"},
    {"testing", "published t= (RFC 9990)"},
    {"source_ip_address", "the sending address"},
    {"source_name", "the sender's name; empty for unknown sources"},
    {"count", "messages of the record"},
    {"spf_aligned", "the receiver's verdict: SPF passed and aligned"},
    {"dkim_aligned", "the receiver's verdict: DKIM passed and aligned"},
    {"dmarc_aligned", "either of the two"},
    {"disposition", "what the receiver did: none, quarantine, reject"},
    {"policy_override_reasons", "why the receiver overrode the policy, "
				"joined with commas"},
    {"policy_override_comments", "their comments, joined with '|' (none "
				 "for a missing one)"},
    {"envelope_from", "the MAIL FROM domain"},
    {"header_from", "the From domain"},
    {"envelope_to", "the recipient domain"},
    {"dkim_domains", "the d= of each DKIM signature, in the report's "
		     "order"},
    {"dkim_selectors", "the s= of each signature (none when missing)"},
    {"dkim_results", "the result of each signature"},
    {"spf_domains", "the domain of each SPF check"},
    {"spf_scopes", "the scope of each SPF check: mfrom or helo"},
    {"spf_results", "the result of each SPF check"},
    {"ses_region", "the Amazon SES region; empty when not SES mail"},
    {"cause", "as for ses, for this record"},
    {"region_evidence", "as for ses, for this record"},
    {"source_reverse_dns", "the address's DNS name (PTR), confirmed or not "
			   "(dmarc-report resolve looks names up)"},
    {"source_base_domain", "the organisational domain of a confirmed name; "
			   "empty for an unconfirmed one"},
    {"source_name_confirmed", "whether the name is forward-confirmed; "
			      "empty without a name"},
    {"name_evidence", "what named the sender (mail-from, dkim, ip, ptr); "
		      "empty for unknown sources"},
    {NULL, NULL},
};

static const struct help_column policy_columns[] = {
    {"domain", "the policy domain"},
    {"p", "policy in the latest selected report"},
    {"sp", "its subdomain policy"},
    {"adkim", "its DKIM alignment mode"},
    {"aspf", "its SPF alignment mode"},
    {"pct", "its percentage"},
    {"reports", "selected reports for the domain"},
    {"days", "distinct days on which they begin"},
    {"first_day", "the first of those days"},
    {"last_day", "the last of those days"},
    {"domain_messages", "messages for the domain"},
    {"domain_dmarc_pass", "those passing DMARC"},
    {"domain_dmarc_pass_pct", "their share, in percent"},
    {"ready", "true when every known source passes DMARC for all its "
	      "messages: the domain can tighten its policy"},
    {"source", "the sender, as in sources"},
    {"region", "its SES region"},
    {"known_source", "whether the senders table or --sources names it"},
    {"messages", "its messages for the domain"},
    {"dmarc_pass", "those passing DMARC"},
    {"quarantine_at_pct25", "messages p=quarantine pct=25 would have "
			    "quarantined"},
    {"quarantine_at_pct100", "messages p=quarantine would have "
			     "quarantined"},
    {"verdict", "ready, not-ready, or review (no message to judge)"},
    {"reason", "the sentence that explains the verdict"},
    {"source_name", "as in sources: an unidentified source's DNS name"},
    {"source_name_confirmed", "as in sources"},
    {NULL, NULL},
};

static const struct help_page pages[] = {
    {"reports",
	"The stored reports: one row per report, by the start of its period, "
	"then by organisation (names compared without case).",
	NULL, reports_columns},
    {"sources",
	"Who sends mail as your domains, and how much of it aligns: one row "
	"per sending source, most messages first.  The table shows the three "
	"pass columns as shares, the twenty largest unknown sources and a "
	"total.",
	classify_options, sources_columns},
    {"ses",
	"Which Amazon SES traffic fails SPF or DKIM alignment, region by "
	"region, with the cause and the fix: one row per SES region, source "
	"IP and From domain that has failing messages.  With --exit-code, "
	"exit 1 when a row is shown.",
	"--exit-code\texit with status 1 when a problem is shown\n"
	"--sources FILE\tyour own senders (default $DMARCSIFT_SOURCES)\n",
	ses_columns},
    {"records",
	"Every stored record, for spreadsheets and scripts: one row per "
	"record, with parsedmarc's column names.  The n-th item of each "
	"per-signature list describes the n-th signature.  The table shows a "
	"few essential columns.",
	classify_options, records_columns},
    {"policy",
	"Per policy domain: the published policy, the share passing DMARC, "
	"whether it is ready to tighten, and what p=quarantine at pct=25 and "
	"pct=100 would have quarantined, by source.  CSV: one row per domain "
	"and source.",
	classify_options, policy_columns},
    {"html",
	"One self-contained HTML page for a person to look at: per domain the "
	"verdict of policy, the daily messages by source and by DMARC result, "
	"the pass rate of the biggest sources over time, the sources, the "
	"unidentified ones, who reported and how fresh that is; the SES "
	"findings with their failure-report evidence, and the SMTP TLS "
	"sessions when the store has TLS reports for the domain.  No script, "
	"nothing fetched; --format does not apply.",
	html_options, NULL},
};

static const struct help_page *
find_page(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		if (strcmp(pages[i].command, name) == 0)
			return &pages[i];
	return NULL;
}

int
help_has(const char *name)
{
	return find_page(name) != NULL;
}

/* Lines "--opt ARG<TAB>what", each as "  --opt ARG   what", wrapped. */
static void
print_options(FILE *f, const char *lines)
{
	char first[64], text[512];
	const char *p = lines, *tab, *nl;

	while (*p != '\0' && (tab = strchr(p, '\t')) != NULL &&
	    (nl = strchr(tab, '\n')) != NULL) {
		snprintf(first, sizeof(first), "  %-16.*s ", (int)(tab - p), p);
		snprintf(text, sizeof(text), "%.*s", (int)(nl - tab - 1),
		    tab + 1);
		output_text(f, 0, first, "                   ", text, WRAP);
		p = nl + 1;
	}
}

static void
print_page(FILE *f, const struct help_page *pg)
{
	const struct help_column *c;
	char first[64];

	fprintf(f, "Usage: dmarc-report [OPTION]... %s\n\n", pg->command);
	output_text(f, 0, "", "", pg->answers, WRAP);
	fputs("\nOptions:\n", f);
	print_options(f, common_options);
	if (pg->options != NULL)
		print_options(f, pg->options);
	print_options(f, "-h, --help\tthis help\n");
	if (pg->columns == NULL) {
		fprintf(f, "\nSee dmarc-report(1).\n");
		return;
	}
	fputs("\nColumns (CSV, in this order; the keys of the JSON "
	      "objects):\n",
	    f);
	for (c = pg->columns; c->name != NULL; c++) {
		snprintf(first, sizeof(first), "  %-24s ", c->name);
		/* a long name takes its own line */
		if (strlen(c->name) > 24) {
			fprintf(f, "  %s\n", c->name);
			snprintf(first, sizeof(first), "%27s", "");
		}
		output_text(f, 0, first, "                           ",
		    c->meaning, WRAP);
	}
	fprintf(f, "\nSee dmarc-report(1) and docs/json.md.\n");
}

int
help_main(int n, char **words, int flag, void (*usage)(FILE *))
{
	const struct help_page *pg;
	int i;

	if (flag && n > 0 && strcmp(words[0], "help") == 0)
		flag = 0; /* "help --help" */
	i = flag ? 0 : 1; /* the command's word */
	if (n <= i) {
		usage(stdout);
		return EX_OK;
	}
	if ((pg = find_page(words[i])) == NULL || n > i + 1) {
		fprintf(stderr,
		    "dmarc-report: help: %s '%s'\nCommands: reports, "
		    "sources, ses, records, policy, html.\n",
		    pg == NULL ? "no such command" : "unexpected argument",
		    words[pg == NULL ? i : i + 1]);
		return EX_USAGE;
	}
	print_page(stdout, pg);
	return EX_OK;
}
