/*
 * main.c - dmarc-report: summaries of the stored reports.
 *
 * Owns the command line (global options, then a command), opening the store
 * read-only, and the exit status.  Each command lives in its own cmd-*.c.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "align.h"
#include "classify.h"
#include "command.h"
#include "dbpath.h"
#include "output.h"
#include "store.h"

#ifndef DMARCSIFT_VERSION
#define DMARCSIFT_VERSION "0"
#endif

#define MAX_DOMAINS 64

static const struct command *const commands[] = {
    &cmd_reports,
    &cmd_sources,
    &cmd_ses,
    &cmd_records,
    &cmd_policy,
};

enum {
	OPT_DB = 256,
	OPT_FORMAT,
	OPT_DOMAIN,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_EXIT_CODE,
	OPT_SOURCES,
};

static const struct option longopts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"since", required_argument, NULL, OPT_SINCE},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"exit-code", no_argument, NULL, OPT_EXIT_CODE},
    {"sources", required_argument, NULL, OPT_SOURCES},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	size_t i;

	fputs("Usage: dmarc-report [OPTION]... COMMAND\n"
	      "Summarise the DMARC aggregate reports stored by dmarc-ingest.\n"
	      "\n"
	      "Commands:\n",
	    f);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name,
		    commands[i]->summary);
	fputs("\n"
	      "Options:\n"
	      "      --db PATH        database (default $DMARCSIFT_DB, else\n"
	      "                       ~/.local/share/dmarcsift/dmarc.db)\n"
	      "      --format FMT     table (default), csv or json\n"
	      "      --domain D       only reports for policy domain D\n"
	      "                       (repeatable)\n"
	      "      --since DATE     reports that begin on or after DATE\n"
	      "      --until DATE     reports that begin on or before DATE\n"
	      "                       DATE is YYYY-MM-DD (UTC) or Nd, N days "
	      "ago\n"
	      "      --sources FILE   your own senders, lines of "
	      "cidr_or_domain,name\n"
	      "                       (default $DMARCSIFT_SOURCES)\n"
	      "      --exit-code      ses: exit 1 when a problem is shown\n"
	      "  -h, --help           show this help and exit\n"
	      "  -V, --version        show the version and exit\n"
	      "\n"
	      "Exit status: 0 success, 1 with --exit-code: problems shown,\n"
	      "64 usage, 66 no database, 74 database error.  See "
	      "dmarc-report(1).\n",
	    f);
}

void
format_time(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		snprintf(out, len, "%lld", (long long)t);
	else
		strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

void
say_empty(struct report_ctx *ctx, const char *what)
{
	FILE *f = ctx->format == &output_table ? ctx->out : stderr;

	if (ctx->filtered)
		fprintf(f, "No %s match the selection (--domain, --since, "
			   "--until).\n",
		    what);
	else
		fprintf(f, "No %s in the database yet: import some with "
			   "dmarc-ingest.\n",
		    what);
}

int
tools_open(struct report_ctx *ctx, struct err *e)
{
	if (classify_open(&ctx->cl, ctx->sources_file, e) == -1 ||
	    align_open(&ctx->al, e) == -1) {
		ctx->fail_status = EX_USAGE;
		return -1;
	}
	return 0;
}

const char *
source_label(const char *name, const char *ip)
{
	return name != NULL ? name : ip != NULL ? ip : "(no address)";
}

/* Parses YYYY-MM-DD (UTC midnight) or Nd (N days before now).  The end of
 * a day range is handled by the caller. */
static int
parse_date(const char *s, int64_t *out)
{
	struct tm tm;
	char *end;
	long days;

	if (s[0] >= '0' && s[0] <= '9' && (end = strchr(s, 'd')) != NULL &&
	    end[1] == '\0') {
		errno = 0;
		days = strtol(s, &end, 10);
		if (errno != 0 || *end != 'd' || days < 0 || days > 100000)
			return -1;
		/* whole UTC days: "7d" is from midnight seven days ago, so
		 * the same command gives the same rows all day long */
		*out = ((int64_t)time(NULL) / 86400 - days) * 86400;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *domains[MAX_DOMAINS + 1];
	const struct command *cmd = NULL;
	struct report_ctx ctx;
	char dbpath[PATH_MAX];
	const char *dbopt = NULL;
	size_t i, nd = 0;
	int64_t t;
	struct err e;
	int c, rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.format = &output_table;
	ctx.out = stdout;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			dbopt = optarg;
			break;
		case OPT_FORMAT:
			if ((ctx.format = output_find(optarg)) == NULL) {
				fprintf(stderr, "dmarc-report: --format: '%s' "
						"is not table, csv or json\n",
				    optarg);
				return EX_USAGE;
			}
			break;
		case OPT_DOMAIN:
			if (nd == MAX_DOMAINS) {
				fprintf(stderr, "dmarc-report: at most %d "
						"--domain options\n",
				    MAX_DOMAINS);
				return EX_USAGE;
			}
			domains[nd++] = optarg;
			ctx.filtered = 1;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (parse_date(optarg, &t) == -1) {
				fprintf(stderr, "dmarc-report: %s: '%s' is not "
						"YYYY-MM-DD or Nd\n",
				    c == OPT_SINCE ? "--since" : "--until",
				    optarg);
				return EX_USAGE;
			}
			if (c == OPT_SINCE)
				ctx.filter.since = t;
			else /* through the end of that day */
				ctx.filter.until = t + 86400;
			ctx.filtered = 1;
			break;
		case OPT_EXIT_CODE:
			ctx.exit_code = 1;
			break;
		case OPT_SOURCES:
			ctx.sources_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("dmarc-report (dmarcsift) %s\n",
			    DMARCSIFT_VERSION);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "dmarc-report: no command given\n"
				"Try 'dmarc-report --help'.\n");
		return EX_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i]->name) == 0)
			cmd = commands[i];
	if (cmd == NULL || optind + 1 != argc) {
		fprintf(stderr, "dmarc-report: %s '%s'\nTry 'dmarc-report "
				"--help'.\n",
		    cmd == NULL ? "unknown command" : "unexpected argument",
		    argv[cmd == NULL ? optind : optind + 1]);
		return EX_USAGE;
	}
	if (ctx.sources_file == NULL &&
	    (ctx.sources_file = getenv("DMARCSIFT_SOURCES")) != NULL &&
	    ctx.sources_file[0] == '\0')
		ctx.sources_file = NULL;
	domains[nd] = NULL;
	for (i = 0; i < nd; i++) /* stored domains are lower case */
		for (char *p = (char *)domains[i]; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	ctx.filter.domains = nd ? domains : NULL;

	if (db_path_resolve(dbopt, 0, dbpath, sizeof(dbpath), &e) == -1) {
		fprintf(stderr, "dmarc-report: %s\n", e.msg);
		return EX_USAGE;
	}
	if (access(dbpath, F_OK) == -1) {
		fprintf(stderr, "dmarc-report: no database at %s: import "
				"reports with dmarc-ingest first, or give --db\n",
		    dbpath);
		return EX_NOINPUT;
	}
	if (store_open(dbpath, STORE_READONLY, &ctx.st, &e) == -1) {
		fprintf(stderr, "dmarc-report: %s\n", e.msg);
		return EX_IOERR;
	}
	rc = cmd->run(&ctx, &e);
	store_close(ctx.st);
	classify_close(ctx.cl);
	align_close(ctx.al);
	if (rc == -1) {
		fprintf(stderr, "dmarc-report: %s\n", e.msg);
		return ctx.fail_status ? ctx.fail_status : EX_IOERR;
	}
	return ctx.exit_code && ctx.problems > 0 ? 1 : EX_OK;
}
