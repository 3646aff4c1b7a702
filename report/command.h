/*
 * command.h - the subcommands of dmarc-report, one file each (cmd-*.c),
 * listed in the table in main.c.  A command gets the open store, the
 * selection and the chosen output format, queries, and writes rows.
 */
#ifndef DMARCSIFT_COMMAND_H
#define DMARCSIFT_COMMAND_H

#include <stdio.h>

#include "err.h"
#include "output.h"
#include "store.h"

struct classifier;
struct align;

struct report_ctx {
	struct store *st;
	struct store_filter filter;
	const struct output_ops *format;
	FILE *out;
	int exit_code;	   /* --exit-code given */
	int problems;	   /* rows that are problems (--exit-code) */
	int filtered;	   /* a --domain/--since/--until was given */
	const char *sources_file; /* --sources or $DMARCSIFT_SOURCES, or NULL */
	struct classifier *cl;	  /* opened by tools_open(), closed by main() */
	struct align *al;
	int fail_status;	  /* exit status when run() fails; 0: 74 */
};

struct command {
	const char *name;
	const char *summary;
	/* Returns 0 or -1 (e filled). */
	int (*run)(struct report_ctx *ctx, struct err *e);
};

extern const struct command cmd_reports;
extern const struct command cmd_sources;
extern const struct command cmd_ses;
extern const struct command cmd_records;
extern const struct command cmd_policy;

/* "YYYY-MM-DD HH:MM:SS" in UTC. */
void format_time(int64_t t, char *out, size_t len);

/* Prints the one line shown when nothing was selected. */
void say_empty(struct report_ctx *ctx, const char *what);

/* Opens ctx->cl (the senders table with the user's --sources file) and
 * ctx->al (the Public Suffix List) for the commands that classify; on
 * failure the exit status becomes 64, a usage error. */
int tools_open(struct report_ctx *ctx, struct err *e);

/* The name a source is shown by: the sender's name, else its address,
 * else "(no address)". */
const char *source_label(const char *name, const char *ip);

#endif
