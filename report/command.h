/*
 * command.h - the subcommands of dmarc-report, one file each (cmd-*.c),
 * listed in the table in main.c.  A command gets the open store, the
 * selection and the chosen output format, queries, and writes rows.
 *
 * The helpers declared here live in command.c, in the library, so a
 * command (or a test, or another front end) links without main.c.
 */
#ifndef DMARCSIFT_COMMAND_H
#define DMARCSIFT_COMMAND_H

#include <stdint.h>
#include <stdio.h>

#include "classify.h"
#include "err.h"
#include "output.h"
#include "store.h"

struct align;

/* What --exit-code asks for; commands other than ses and policy ignore
 * it. */
enum exit_mode {
	EXIT_MODE_OFF = 0,  /* not given: 0 on success */
	EXIT_MODE_FAIL = 1, /* --exit-code: 1 on findings */
	EXIT_MODE_WARN = 2, /* --exit-code=warn: warnings count too (ses) */
};

struct report_ctx {
	struct store *st;
	struct store_filter filter;
	const struct output_ops *format;
	FILE *out;
	int exit_code;            /* enum exit_mode */
	int problems;             /* findings that count for --exit-code */
	int filtered;             /* a --domain/--since/--until was given */
	const char *sources_file; /* --sources, $DMARCSIFT_SOURCES, [report]
	                             sources, or NULL */
	double tolerance;         /* policy: percent of an identified
	                             source's messages that may fail */
	struct classifier *cl;    /* opened by tools_open(), closed by main() */
	struct align *al;
	int fail_status; /* exit status when run() fails; 0: 74 */
	const char *dbpath;   /* the database ctx->st was opened from */
	int64_t prune_before; /* prune: --older-than/--before; 0 unset */
	int dry_run;	      /* prune: --dry-run */
	int nothing_checked;	  /* --exit-code: 3, nothing to check */
	char **args;		  /* check-dns: its arguments */
	int nargs;
	const char *dns_servers;  /* --dns-server, or NULL: the system's */
	unsigned dns_timeout_ms, dns_budget_s; /* 0: the defaults */
	int html_check_dns; /* html --check-dns: ask DNS, show the findings */
};

struct command {
	const char *name;
	const char *summary;
	/* Returns 0 or -1 (e filled). */
	int (*run)(struct report_ctx *ctx, struct err *e);
	/* --domain may name a domain that no aggregate report has (the
	 * command reads SMTP TLS or failure reports, or asks DNS). */
	int any_domain;
};

extern const struct command cmd_reports;
extern const struct command cmd_sources;
extern const struct command cmd_ses;
extern const struct command cmd_records;
extern const struct command cmd_policy;
extern const struct command cmd_tls;
extern const struct command cmd_failures;
extern const struct command cmd_prune;
extern const struct command cmd_resolve;
extern const struct command cmd_check_dns;
extern const struct command cmd_html;

/* What the receiving domain changes for an SMTP TLS failure type (RFC
 * 8460 4.3), as `tls` prints it; NULL for NULL (cmd-tls.c). */
const char *tls_fix_for(const char *type);

/* "YYYY-MM-DD HH:MM:SS" in UTC. */
void format_time(int64_t t, char *out, size_t len);

/* Prints the one line shown when nothing was selected. */
void say_empty(struct report_ctx *ctx, const char *what);

/* Opens ctx->cl (the senders table with the user's --sources file) and
 * ctx->al (the Public Suffix List) for the commands that classify; on
 * failure the exit status becomes 64, a usage error.  Once open, they
 * stay open for the next command run on the same ctx. */
int tools_open(struct report_ctx *ctx, struct err *e);

/* The DNS options of resolve and check-dns: the defaults (dns.h) with
 * --dns-server, --dns-timeout and --dns-budget over them. */
struct dns_options;
void report_dns_options(const struct report_ctx *ctx, struct dns_options *o);
/* -1 (exit 69) when DMARCSIFT_OFFLINE is set and no --dns-server (or
 * [dns] servers) was given: the test suite never asks the system's
 * resolver. */
int report_dns_allowed(struct report_ctx *ctx, struct err *e);

/* The name a source is shown by: the sender's name, else its address,
 * else "(no address)". */
const char *source_label(const char *name, const char *ip);

/* A group of records classified, with the two strings that tell its
 * source apart: label (source_label()) and region ("" unless SES).  An
 * unidentified source whose address has a confirmed name (the names the
 * classifier holds, source-names.h) is labelled by the name's
 * organisational domain instead, so that the addresses of one
 * organisation make one source (by_org). */
struct source_name;
struct source_id {
	struct sender snd;
	const char *label;
	const char *region; /* points into snd, or "" */
	const struct source_name *dns; /* the address's name entry, or NULL */
	int by_org;                    /* label is dns->org */
};

void source_identify(const struct classifier *cl, const struct store_group *g,
                     struct source_id *out);

/* The order every view lists sources in: most messages first, then by
 * name and region (qsort-style result). */
int source_cmp(uint64_t am, const char *an, const char *ar, uint64_t bm,
    const char *bn, const char *br);

/* "" for 1, "s" otherwise: "1 message", "2 messages". */
const char *plural(uint64_t n);

/*
 * The scaffolding every command repeats around output_begin/row/end, with
 * the project's two messages: each returns 0 or -1 with e filled, and
 * view_row() ends the output on failure (view_end() is then not called).
 */
int view_begin(struct output *o, const struct report_ctx *ctx,
               const struct column *cols, size_t ncols, struct err *e);
int view_row(struct output *o, const struct cell *cells, struct err *e);
int view_end(struct output *o, struct err *e);

/* Under a table cut at its first rows: "... and 3 more <kind> sources
 * with 12 messages (--format csv lists every one)."; nothing when none
 * were hidden. */
void view_hidden(const struct report_ctx *ctx, const char *kind,
                 size_t hidden, uint64_t messages);

/* For CSV and JSON when nothing was selected: the header line or "[]". */
int view_empty(const struct report_ctx *ctx, const struct column *cols,
               size_t ncols, struct err *e);

#endif
