/*
 * main.c - dmarc-report: summaries of the stored reports.
 *
 * Owns the command line (global options, then a command), the settings
 * (command line > environment > configuration file > default, as
 * dmarc-ingest), opening the store read-only (prune alone reopens it
 * read-write: cmd-prune.c), and the exit status.  Each
 * command lives in its own cmd-*.c; their shared helpers in command.c.
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
#include "ascii.h"
#include "classify.h"
#include "command.h"
#include "config.h"
#include "dbpath.h"
#include "dns.h"
#include "help.h"
#include "freshness.h"
#include "log.h"
#include "outfile.h"
#include "output.h"
#include "selection.h"
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
    &cmd_tls,
    &cmd_failures,
    &cmd_prune,
    &cmd_resolve,
    &cmd_check_dns,
    &cmd_html,
};

enum {
	OPT_DB = 256,
	OPT_FORMAT,
	OPT_DOMAIN,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_EXIT_CODE,
	OPT_SOURCES,
	OPT_CONFIG,
	OPT_TOLERANCE,
	OPT_MAX_AGE,
	OPT_WIDE,
	OPT_OLDER_THAN,
	OPT_BEFORE,
	OPT_DRY_RUN,
	OPT_DNS_SERVER,
	OPT_DNS_TIMEOUT,
	OPT_DNS_BUDGET,
	OPT_CHECK_DNS,
};

static const struct option longopts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"since", required_argument, NULL, OPT_SINCE},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"exit-code", optional_argument, NULL, OPT_EXIT_CODE},
    {"sources", required_argument, NULL, OPT_SOURCES},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"tolerance", required_argument, NULL, OPT_TOLERANCE},
    {"max-age", required_argument, NULL, OPT_MAX_AGE},
    {"wide", no_argument, NULL, OPT_WIDE},
    {"older-than", required_argument, NULL, OPT_OLDER_THAN},
    {"before", required_argument, NULL, OPT_BEFORE},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
    {"dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT},
    {"dns-budget", required_argument, NULL, OPT_DNS_BUDGET},
    {"check-dns", no_argument, NULL, OPT_CHECK_DNS},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	size_t i;

	fputs("Usage: dmarc-report [OPTION]... COMMAND\n"
	      "Summarise the DMARC reports stored by dmarc-ingest.\n"
	      "\n"
	      "Commands:\n",
	    f);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name,
		    commands[i]->summary);
	fputs("\n"
	      "Options:\n"
	      "      --config FILE    configuration (default $DMARCSIFT_CONFIG,\n"
	      "                       ~/.config/dmarcsift/config, "
	      "/etc/dmarcsift/config)\n"
	      "      --db PATH        database (default $DMARCSIFT_DB, [store] "
	      "db,\n"
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
	      "                       (default $DMARCSIFT_SOURCES, [report] "
	      "sources)\n"
	      "      --tolerance PCT  policy: share of an identified source's\n"
	      "                       messages that may fail (default 0.5)\n"
	      "      --exit-code[=warn]  ses, policy: exit 1 on findings (ses "
	      "fail\n"
	      "                       rows, =warn also warn rows; policy: a "
	      "domain\n"
	      "                       not ready), 3 on no or old reports\n"
	      "                       (tls: a day with failed sessions)\n"
	      "      --max-age DAYS   with --exit-code: newest report older "
	      "than\n"
	      "                       this exits 3 (default 3); check-dns:\n"
	      "                       1 on errors or warnings, 3 nothing to "
	      "check\n"
	      "      --dns-server ADDR[:PORT][,...]  resolve, check-dns: DNS\n"
	      "                       servers (default [dns] servers, the "
	      "system's)\n"
	      "      --dns-timeout MS first try of a DNS query (1500)\n"
	      "      --dns-budget S   resolve, check-dns: time for all "
	      "lookups (20)\n"
	      "      --check-dns      html: add check-dns's findings (asks "
	      "DNS)\n"
	      "      --wide           tables as wide as their content\n"
	      "      --older-than Nd  prune: reports that began more than N "
	      "days ago\n"
	      "      --before DATE    prune: reports that began before DATE\n"
	      "      --dry-run        prune: say what would go, change "
	      "nothing\n"
	      "  -o, --output FILE    write to FILE (replaced only when the\n"
	      "                       command succeeds) instead of stdout\n"
	      "  -h, --help           show this help and exit\n"
	      "  -V, --version        show the version and exit\n"
	      "\n"
	      "'dmarc-report help COMMAND' or 'COMMAND --help': its options and\n"
	      "columns.\n"
	      "\n"
	      "Exit status: 0 success, 1 with --exit-code: findings shown,\n"
	      "3 with --exit-code: no report, or none newer than --max-age,\n"
	      "64 usage, 66 no database, 74 database error, 75 prune: an "
	      "import\nholds the lock, 78 bad configuration.\n"
	      "See dmarc-report(1).\n",
	    f);
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


/* What the command line says, before the settings are merged. */
struct args {
	const char *db, *config, *sources, *tolerance, *max_age, *output;
	const char *domains[MAX_DOMAINS + 1];
	size_t nd;
	const struct command *cmd;
	int help; /* -h: the general help, or the command's */
};

/* --dns-server, --dns-timeout, --dns-budget; returns -1 to go on, else
 * the exit status. */
static int
dns_option(struct report_ctx *ctx, int c, const char *v)
{
	unsigned long n;
	char *end;
	struct err e;

	if (c == OPT_DNS_SERVER) {
		if (dns_check_servers(v, &e) == -1) {
			fprintf(stderr, "dmarc-report: --dns-server: %s\n",
			    e.msg);
			return EX_USAGE;
		}
		ctx->dns_servers = v;
		return -1;
	}
	n = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || n < 1 ||
	    n > (c == OPT_DNS_TIMEOUT ? 60000ul : 3600ul)) {
		fprintf(stderr, "dmarc-report: %s: '%s' is not a number "
				"between 1 and %s\n",
		    c == OPT_DNS_TIMEOUT ? "--dns-timeout" : "--dns-budget", v,
		    c == OPT_DNS_TIMEOUT ? "60000 (milliseconds)"
					 : "3600 (seconds)");
		return EX_USAGE;
	}
	if (c == OPT_DNS_TIMEOUT)
		ctx->dns_timeout_ms = (unsigned)n;
	else
		ctx->dns_budget_s = (unsigned)n;
	return -1;
}

/* One global option; returns -1 to go on, else the exit status. */
static int
one_option(int c, struct report_ctx *ctx, struct args *a)
{
	struct err e;
	int64_t t;

	switch (c) {
	case OPT_DB:
		a->db = optarg;
		return -1;
	case OPT_CONFIG:
		a->config = optarg;
		return -1;
	case OPT_SOURCES:
		a->sources = optarg;
		return -1;
	case OPT_TOLERANCE:
		a->tolerance = optarg;
		return -1;
	case OPT_MAX_AGE:
		a->max_age = optarg;
		return -1;
	case OPT_FORMAT:
		if ((ctx->format = output_find(optarg)) != NULL)
			return -1;
		fprintf(stderr, "dmarc-report: --format: '%s' is not table, "
				"csv or json\n",
		    optarg);
		return EX_USAGE;
	case OPT_DOMAIN:
		if (a->nd == MAX_DOMAINS) {
			fprintf(stderr, "dmarc-report: at most %d --domain "
					"options\n",
			    MAX_DOMAINS);
			return EX_USAGE;
		}
		a->domains[a->nd++] = optarg;
		ctx->filtered = 1;
		return -1;
	case OPT_SINCE:
	case OPT_UNTIL:
		if (parse_date(optarg, &t) == -1) {
			fprintf(stderr, "dmarc-report: %s: '%s' is not "
					"YYYY-MM-DD or Nd\n",
			    c == OPT_SINCE ? "--since" : "--until", optarg);
			return EX_USAGE;
		}
		if (selection_date(c == OPT_SINCE ? "--since" : "--until",
			optarg, t, (int64_t)time(NULL), stderr, &e) == -1) {
			fprintf(stderr, "dmarc-report: %s\n", e.msg);
			return EX_USAGE;
		}
		if (c == OPT_SINCE)
			ctx->filter.since = t;
		else /* through the end of that day */
			ctx->filter.until = t + 86400;
		ctx->filtered = 1;
		return -1;
	case OPT_OLDER_THAN:
	case OPT_BEFORE:
		/* Nd is midnight UTC N days ago, like --since */
		if (parse_date(optarg, &t) == -1 ||
		    (c == OPT_OLDER_THAN) !=
			(optarg[strlen(optarg) - 1] == 'd')) {
			fprintf(stderr, "dmarc-report: %s: '%s' is not %s\n",
			    c == OPT_BEFORE ? "--before" : "--older-than",
			    optarg, c == OPT_BEFORE ? "YYYY-MM-DD" : "Nd");
			return EX_USAGE;
		}
		ctx->prune_before = t;
		return -1;
	case OPT_DRY_RUN:
		ctx->dry_run = 1;
		return -1;
	case OPT_CHECK_DNS:
		ctx->html_check_dns = 1;
		return -1;
	case OPT_EXIT_CODE:
		if (optarg == NULL) {
			ctx->exit_code = EXIT_MODE_FAIL;
			return -1;
		}
		if (strcmp(optarg, "warn") == 0) {
			ctx->exit_code = EXIT_MODE_WARN;
			return -1;
		}
		fprintf(stderr, "dmarc-report: --exit-code: '%s' is not warn "
				"(--exit-code or --exit-code=warn)\n",
		    optarg);
		return EX_USAGE;
	case OPT_WIDE: /* output_width(): no limit */
		setenv("COLUMNS", "0", 1);
		return -1;
	case OPT_DNS_SERVER:
	case OPT_DNS_TIMEOUT:
	case OPT_DNS_BUDGET:
		return dns_option(ctx, c, optarg);
	case 'o':
		a->output = optarg;
		return -1;
	case 'h':
		a->help = 1;
		return -1;
	case 'V':
		printf("dmarc-report (dmarcsift) %s\n", DMARCSIFT_VERSION);
		return EX_OK;
	default:
		usage(stderr);
		return EX_USAGE;
	}
}

/* The options and the command; returns -1 to go on, else the exit
 * status. */
static int
parse_args(int argc, char **argv, struct report_ctx *ctx, struct args *a)
{
	struct err e;
	size_t i;
	int c, rc;

	while ((c = getopt_long(argc, argv, "hVo:", longopts, NULL)) != -1)
		if ((rc = one_option(c, ctx, a)) != -1)
			return rc;
	if (a->help || (optind < argc && strcmp(argv[optind], "help") == 0))
		return help_main(argc - optind, argv + optind, a->help, usage);
	if (optind >= argc) {
		fprintf(stderr, "dmarc-report: no command given\n"
				"Try 'dmarc-report --help'.\n");
		return EX_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i]->name) == 0)
			a->cmd = commands[i];
	/* check-dns takes domains */
	if (a->cmd == &cmd_check_dns) {
		ctx->args = argv + optind + 1;
		ctx->nargs = argc - optind - 1;
	}
	if (a->cmd == NULL || (optind + 1 != argc && a->cmd != &cmd_check_dns)) {
		fprintf(stderr, "dmarc-report: %s '%s'\nTry 'dmarc-report "
				"--help'.\n",
		    a->cmd == NULL ? "unknown command" : "unexpected argument",
		    argv[a->cmd == NULL ? optind : optind + 1]);
		return EX_USAGE;
	}
	if (a->cmd != &cmd_prune && (ctx->prune_before != 0 || ctx->dry_run)) {
		fprintf(stderr, "dmarc-report: --older-than, --before and "
				"--dry-run are options of prune\n");
		return EX_USAGE;
	}
	if (a->cmd != &cmd_html && ctx->html_check_dns) {
		fprintf(stderr, "dmarc-report: --check-dns is an option of html "
				"(the check-dns command checks on its own)\n");
		return EX_USAGE;
	}
	a->domains[a->nd] = NULL;
	for (i = 0; i < a->nd; i++) /* stored domains are lower case */
		ascii_lower_str((char *)a->domains[i]);
	ctx->filter.domains = a->nd ? a->domains : NULL;
	if (selection_check(&ctx->filter, (char **)a->domains, stderr, &e) ==
	    -1) {
		fprintf(stderr, "dmarc-report: %s\n", e.msg);
		return EX_USAGE;
	}
	return -1;
}

/* A variable that is set and not empty, else NULL. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Reads the configuration file and merges it under the command line and
 * the environment (the order dmarc-ingest uses): fills cfg (the strings
 * ctx points into live there) and ctx.  Returns -1 to go on, else the
 * exit status. */
static int
configure(const struct args *a, struct config *cfg, struct report_ctx *ctx)
{
	struct logger lg;
	struct err e;
	char *path = NULL;

	log_init(&lg, "dmarc-report", LOG_NORMAL);
	if (config_locate(a->config, &path, &e) == -1 ||
	    (path != NULL && config_load(cfg, path, &lg, &e) == -1)) {
		fprintf(stderr, "dmarc-report: %s\n", e.msg);
		free(path);
		return EX_CONFIG;
	}
	free(path);
	if ((a->tolerance != NULL &&
		config_set_option(cfg, "tolerance", a->tolerance, &e) == -1) ||
	    (a->max_age != NULL &&
		config_set_option(cfg, "max-age", a->max_age, &e) == -1)) {
		fprintf(stderr, "dmarc-report: %s\n", e.msg);
		return EX_USAGE;
	}
	ctx->tolerance = cfg->report.tolerance;
	if (ctx->dns_servers == NULL)
		ctx->dns_servers = cfg->dns_servers;
	ctx->sources_file = a->sources;
	if (ctx->sources_file == NULL &&
	    (ctx->sources_file = env("DMARCSIFT_SOURCES")) == NULL)
		ctx->sources_file = cfg->report.sources;
	return -1;
}

/* With --exit-code, ses and policy say so when the selection is empty or
 * old (ingestion may be broken); returns EXIT_STALE then, else 0. */
static int
check_fresh(const struct command *cmd, struct report_ctx *ctx,
    unsigned max_age_days)
{
	enum freshness state;
	struct err e;
	char why[300];

	if (ctx->exit_code == EXIT_MODE_OFF ||
	    (cmd != &cmd_ses && cmd != &cmd_policy))
		return 0;
	if (freshness_check(ctx->st, &ctx->filter, (int64_t)time(NULL),
		(int64_t)max_age_days * 86400, &state, why, sizeof(why),
		&e) == -1) {
		fprintf(stderr, "dmarc-report: %s\n", e.msg);
		return EX_IOERR;
	}
	if (state == FRESH)
		return 0;
	fprintf(stderr, "dmarc-report: %s\n", why);
	return EXIT_STALE;
}

/* Opens the store, runs the command; returns the exit status.  dbpath
 * (PATH_MAX bytes, the caller's: ctx keeps pointing at it) receives the
 * store's location. */
static int
run(const struct args *a, const struct config *cfg, struct report_ctx *ctx,
    char *dbpath)
{
	const char *dbopt = a->db;
	struct outfile of;
	struct err e;
	int rc, fresh, exists;

	if (a->cmd == NULL) /* parse_args returns -1 only with one */
		return EX_SOFTWARE;
	/* --db, then $DMARCSIFT_DB, then [store] db, then the default */
	if (dbopt == NULL && env("DMARCSIFT_DB") == NULL)
		dbopt = cfg->db;
	if (store_locate(dbopt, 0, dbpath, PATH_MAX, &e) == -1) {
		fprintf(stderr, "dmarc-report: %s\n", e.msg);
		return EX_USAGE;
	}
	if (store_exists(dbpath, &exists, &e) == -1) {
		fprintf(stderr, "dmarc-report: %s\n", e.msg);
		return EX_NOINPUT;
	}
	if (!exists) {
		fprintf(stderr, "dmarc-report: no database at %s: import "
				"reports with dmarc-ingest first, or give --db\n",
		    dbpath);
		return EX_NOINPUT;
	}
	/* resolve writes names into the store */
	if (store_open(dbpath,
		a->cmd == &cmd_resolve ? STORE_READWRITE : STORE_READONLY,
		&ctx->st, &e) == -1) {
		fprintf(stderr, "dmarc-report: %s\n", e.msg);
		return EX_IOERR;
	}
	if (store_note(ctx->st) != NULL)
		fprintf(stderr, "dmarc-report: note: %s\n", store_note(ctx->st));
	if (ctx->filter.domains != NULL && !a->cmd->any_domain &&
	    selection_known_domains(ctx->st, ctx->filter.domains, &e) == -1) {
		fprintf(stderr, "dmarc-report: %s\n", e.msg);
		store_close(ctx->st);
		return EX_USAGE;
	}
	ctx->dbpath = dbpath;
	if (a->output != NULL) {
		if (outfile_open(&of, a->output, &e) == -1) {
			fprintf(stderr, "dmarc-report: %s\n", e.msg);
			store_close(ctx->st);
			return EX_CANTCREAT;
		}
		ctx->out = of.f;
	}
	rc = a->cmd->run(ctx, &e);
	if (a->output != NULL) {
		if (rc == 0 && outfile_commit(&of, &e) == -1) {
			rc = -1;
			ctx->fail_status = EX_CANTCREAT;
		}
		outfile_abort(&of);
		ctx->out = stdout;
	}
	fresh = rc == 0 ? check_fresh(a->cmd, ctx, cfg->report.max_age) : 0;
	store_close(ctx->st);
	classify_close(ctx->cl);
	align_close(ctx->al);
	if (rc == -1) {
		fprintf(stderr, "dmarc-report: %s\n", e.msg);
		return ctx->fail_status ? ctx->fail_status : EX_IOERR;
	}
	/* stale data outranks findings: the findings may be long fixed */
	if (fresh != 0)
		return fresh;
	if (ctx->exit_code != EXIT_MODE_OFF && ctx->nothing_checked)
		return EXIT_STALE;
	return ctx->exit_code != EXIT_MODE_OFF && ctx->problems > 0 ? 1
								    : EX_OK;
}

int
main(int argc, char **argv)
{
	char dbpath[PATH_MAX];
	struct report_ctx ctx;
	struct config cfg;
	struct args a;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	memset(&a, 0, sizeof(a));
	ctx.format = &output_table;
	ctx.out = stdout;
	if ((rc = parse_args(argc, argv, &ctx, &a)) != -1)
		return rc;
	store_process_init();
	config_init(&cfg);
	if ((rc = configure(&a, &cfg, &ctx)) == -1)
		rc = run(&a, &cfg, &ctx, dbpath);
	config_free(&cfg);
	return rc;
}
