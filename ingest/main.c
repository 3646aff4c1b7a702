/*
 * main.c - dmarc-ingest: import DMARC aggregate reports into the database.
 *
 * This file owns the command line, the run lock and the exit status; the
 * work is done by the sources (fetch-*.c) and the importer (import.c).
 * With PATHs, those are read; without, the IMAP folder of the
 * configuration (config.c) is fetched (fetch-imap.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "dns.h"
#include "fetch.h"
#include "from-store.h"
#include "import.h"
#include "input-limits.h"
#include "log.h"
#include "retention.h"
#include "store.h"

#ifndef DMARCSIFT_VERSION
#define DMARCSIFT_VERSION "0"
#endif

enum {
	OPT_DB = 256,
	OPT_MAX_INPUT,
	OPT_MAX_XML,
	OPT_MAX_RATIO,
	OPT_MAX_DEPTH,
	OPT_MAX_TEXT,
	OPT_MAX_RECORDS,
	OPT_MAX_ZIP,
	OPT_MAX_PARTS,
	OPT_CONFIG,
	OPT_ALL,
	OPT_PASSWORD,
	OPT_MIGRATE_ONLY,
	OPT_FROM_STORE,
	OPT_OFFLINE,
	OPT_DNS_SERVER,
	/* [imap] keys: the option's name is the key's.  Each has its own
	 * value so that getopt_long() sees "--f" as ambiguous instead of
	 * quietly picking --folder. */
	OPT_KEY,
	OPT_KEY_LAST = OPT_KEY + 31,
};

static const struct option longopts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"max-input", required_argument, NULL, OPT_MAX_INPUT},
    {"max-xml-size", required_argument, NULL, OPT_MAX_XML},
    {"max-ratio", required_argument, NULL, OPT_MAX_RATIO},
    {"max-depth", required_argument, NULL, OPT_MAX_DEPTH},
    {"max-text", required_argument, NULL, OPT_MAX_TEXT},
    {"max-records", required_argument, NULL, OPT_MAX_RECORDS},
    {"max-zip-members", required_argument, NULL, OPT_MAX_ZIP},
    {"max-mime-parts", required_argument, NULL, OPT_MAX_PARTS},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"all", no_argument, NULL, OPT_ALL},
    {"password", required_argument, NULL, OPT_PASSWORD},
    {"migrate-only", no_argument, NULL, OPT_MIGRATE_ONLY},
    {"from-store", required_argument, NULL, OPT_FROM_STORE},
    {"offline", no_argument, NULL, OPT_OFFLINE},
    {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
    {"host", required_argument, NULL, OPT_KEY},
    {"port", required_argument, NULL, OPT_KEY + 1},
    {"tls", required_argument, NULL, OPT_KEY + 2},
    {"user", required_argument, NULL, OPT_KEY + 3},
    {"auth", required_argument, NULL, OPT_KEY + 4},
    {"password-file", required_argument, NULL, OPT_KEY + 5},
    {"password-command", required_argument, NULL, OPT_KEY + 6},
    {"oauth2-token-command", required_argument, NULL, OPT_KEY + 7},
    {"folder", required_argument, NULL, OPT_KEY + 8},
    {"archive-folder", required_argument, NULL, OPT_KEY + 9},
    {"failed-folder", required_argument, NULL, OPT_KEY + 10},
    {"ca-file", required_argument, NULL, OPT_KEY + 11},
    {"timeout", required_argument, NULL, OPT_KEY + 12},
    {"batch", required_argument, NULL, OPT_KEY + 13},
    {"max-response", required_argument, NULL, OPT_KEY + 14},
    {"mark-seen", required_argument, NULL, OPT_KEY + 15},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fputs(
	    "Usage: dmarc-ingest [OPTION]... [PATH]...\n"
	    "Import DMARC aggregate reports into the database.\n"
	    "\n"
	    "PATH is a report (.xml, .xml.gz, .zip), an e-mail, a directory\n"
	    "(read recursively), a maildir, an mbox, or - for standard input.\n"
	    "Without PATH, the IMAP folder of the configuration is fetched.\n"
	    "\n"
	    "      --config FILE       configuration (default $DMARCSIFT_CONFIG,\n"
	    "                          ~/.config/dmarcsift/config, /etc/dmarcsift/config)\n"
	    "      --db PATH|URL       database: a SQLite file, or postgresql://...\n"
	    "                          (default $DMARCSIFT_DB, else\n"
	    "                          ~/.local/share/dmarcsift/dmarc.db)\n"
	    "      --all               IMAP: every message, read or not\n"
	    "      --migrate-only      upgrade the database's schema, import nothing\n"
	    "      --from-store DB     import again every report kept in DB\n"
	    "      --offline           no DNS lookups of new senders' names\n"
	    "      --dns-server LIST   DNS servers for them (default [dns] servers)\n"
	    "  -v, --verbose           a line per report and a summary\n"
	    "  -q, --quiet             print errors only\n"
	    "      --max-input SIZE    largest file or message (100M)\n"
	    "      --max-xml-size SIZE largest decompressed report (512M)\n"
	    "      --max-ratio N       largest compression ratio (250)\n"
	    "      --max-depth N       deepest XML nesting (32)\n"
	    "      --max-text SIZE     longest XML text value (64K)\n"
	    "      --max-records N     most records per report (10000000)\n"
	    "      --max-zip-members N most members per zip (100)\n"
	    "      --max-mime-parts N  most parts per message (200)\n"
	    "  -h, --help / -V, --version  this help / the version, and exit\n"
	    "\n"
	    "IMAP settings, as the [imap] keys of the configuration (a password\n"
	    "never is one): --host --port --tls --user --auth --password-file\n"
	    "--password-command --oauth2-token-command --folder --archive-folder\n"
	    "--failed-folder --ca-file --timeout --batch --max-response\n"
	    "--mark-seen\n"
	    "\n"
	    "Exit status: 0 all handled (duplicates included), 65 something\n"
	    "was rejected, 66 a PATH is missing, 69 server unreachable, 73/74\n"
	    "database error, 75 try again later (lock held, connection lost),\n"
	    "77 certificate or login refused, 78 bad configuration, 64 usage.\n"
	    "See dmarc-ingest(1).\n",
	    f);
}

static int
parse_count(const char *s, const char *opt, unsigned long long max,
    unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *s < '0' || *s > '9' ||
	    *out > max || *out == 0) {
		fprintf(stderr, "dmarc-ingest: %s: '%s' is not a number "
				"between 1 and %llu\n",
		    opt, s, max);
		return -1;
	}
	return 0;
}

static int
parse_size(const char *s, const char *opt, uint64_t *out)
{
	if (limits_parse_size(s, out) == -1 || *out == 0) {
		fprintf(stderr, "dmarc-ingest: %s: '%s' is not a size (like "
				"64K, 512M, 2G)\n",
		    opt, s);
		return -1;
	}
	return 0;
}

/* One run per store at a time (store_lock()): a second cron run that
 * starts while the first still drains a backlog exits at once instead of
 * racing it.  Returns 0 or an exit status. */
static int
take_lock(const char *db, const char *scope, struct store_lock **lock,
    struct logger *lg)
{
	struct err e;
	int exists, rc;

	/* a directory, say, is refused before a lock file is made beside it */
	if (store_exists(db, &exists, &e) == -1) {
		log_error(lg, "%s", e.msg);
		return EX_CANTCREAT;
	}
	if ((rc = store_lock(db, scope, lock, &e)) != 0) {
		log_error(lg, "%s", e.msg);
		return rc == 1 ? EX_TEMPFAIL : EX_CANTCREAT;
	}
	return 0;
}

/* The configuration: the file, then the options given on the command
 * line (kept in `keys`, in order) over it.  Returns 0 or an exit status. */
static int
configure(struct config *cfg, const char *file_opt, char **keys, int nkeys,
    const struct logger *lg)
{
	struct err e;
	char *path = NULL;
	int i;

	if (config_locate(file_opt, &path, &e) == -1) {
		log_error(lg, "%s", e.msg);
		return EX_CONFIG;
	}
	if (path != NULL && config_load(cfg, path, lg, &e) == -1) {
		log_error(lg, "%s", e.msg);
		free(path);
		return EX_CONFIG;
	}
	free(path);
	for (i = 0; i < nkeys; i += 2) {
		if (config_set_option(cfg, keys[i], keys[i + 1], &e) == -1) {
			log_error(lg, "%s", e.msg);
			return EX_USAGE;
		}
	}
	return 0;
}

/* Fetches the configured IMAP folder; returns the exit status. */
/* The end of the summary line for reports whose key was already stored
 * with other records (kept out, unlike duplicates): "" when none. */
static const char *
conflicts_said(const struct import_stats *s, char *out, size_t len)
{
	out[0] = '\0';
	if (s->conflicts > 0)
		snprintf(out, len, ", conflicts %lu (a stored report has the "
				   "same key and other records: %s kept out)",
		    s->conflicts, s->conflicts == 1 ? "this copy" : "these copies");
	return out;
}

static int
run_imap(struct fetch_ctx *fc, struct store *st, struct config *cfg,
    const char *dbpath, struct logger *lg)
{
	struct fetch_imap_result res;
	const struct import_stats *s;
	char conflicts[160];
	char statedir[PATH_MAX];
	struct err e;
	int status = EX_OK;

	if (store_state_dir(dbpath, statedir, sizeof(statedir), &e) == -1) {
		log_error(lg, "%s", e.msg);
		return EX_CANTCREAT;
	}
	if (fetch_imap(fc, st, &cfg->imap, statedir, &res, &e) == -1) {
		fetch_progress_done(fc);
		log_error(lg, "%s", e.msg);
		status = res.status;
	} else {
		fetch_progress_done(fc);
	}
	s = import_stats(fc->imp);
	log_info(lg, "fetched %lu, reports stored %lu, duplicates %lu, "
		     "failed %lu, moved %lu%s",
	    res.fetched, s->stored, s->duplicates, res.failed, res.moved,
	    conflicts_said(s, conflicts, sizeof(conflicts)));
	if (status == EX_OK && (res.failed > 0 || s->rejected > 0))
		status = EX_DATAERR;
	return status;
}

int
main(int argc, char **argv)
{
	char dbpath[PATH_MAX];
	const char *dbopt = NULL, *config_opt = NULL, *env;
	const char *from_store = NULL; /* --from-store: from-store.c */
	char **keys;
	struct config cfg;
	struct limits lim;
	struct logger lg;
	struct fetch_ctx fc;
	struct store *st = NULL;
	struct importer *imp = NULL;
	const struct import_stats *s;
	char conflicts[160];
	unsigned long long n;
	struct err e;
	struct store_lock *lock = NULL;
	int c, i, idx, level = LOG_NORMAL, rc, status = EX_OK;
	int nkeys = 0, all = 0, imap, migrate_only = 0;
	char scope[512];
	int offline = 0;
	const char *dns_server = NULL;

	/* at most one (name, value) pair per argument */
	if ((keys = calloc((size_t)argc * 2 + 2, sizeof(*keys))) == NULL) {
		fprintf(stderr, "dmarc-ingest: out of memory\n");
		return EX_OSERR;
	}
	limits_default(&lim);
	while ((c = getopt_long(argc, argv, "vqhV", longopts, &idx)) != -1) {
		switch (c) {
		case OPT_DB:
			dbopt = optarg;
			break;
		case OPT_CONFIG:
			config_opt = optarg;
			break;
		case OPT_ALL:
			all = 1;
			break;
		case OPT_MIGRATE_ONLY:
			migrate_only = 1;
			break;
		case OPT_FROM_STORE:
			from_store = optarg;
			break;
		case OPT_OFFLINE:
			offline = 1;
			break;
		case OPT_DNS_SERVER:
			dns_server = optarg;
			break;
		case OPT_PASSWORD:
			fprintf(stderr, "dmarc-ingest: --password: a password "
					"is never taken from the command line, "
					"where other users can see it; use "
					"password_file, password_command or "
					"DMARCSIFT_IMAP_PASSWORD\n");
			goto usage_error;
		case 'v':
			level = level < LOG_NORMAL ? LOG_VERBOSE : level + 1;
			break;
		case 'q':
			level = LOG_QUIET;
			break;
		case OPT_MAX_INPUT:
			if (parse_size(optarg, "--max-input", &lim.max_input))
				goto usage_error;
			break;
		case OPT_MAX_XML:
			if (parse_size(optarg, "--max-xml-size",
				&lim.max_decompressed))
				goto usage_error;
			break;
		case OPT_MAX_RATIO:
			if (parse_count(optarg, "--max-ratio", 100000, &n))
				goto usage_error;
			lim.max_ratio = (unsigned)n;
			break;
		case OPT_MAX_DEPTH:
			if (parse_count(optarg, "--max-depth", 255, &n))
				goto usage_error;
			lim.xml.max_depth = (unsigned)n;
			break;
		case OPT_MAX_TEXT: {
			uint64_t sz;
			if (parse_size(optarg, "--max-text", &sz))
				goto usage_error;
			if (sz > (8u << 20)) {
				fprintf(stderr, "dmarc-ingest: --max-text: at "
						"most 8M\n");
				goto usage_error;
			}
			lim.xml.max_text = (size_t)sz;
			break;
		}
		case OPT_MAX_RECORDS:
			if (parse_count(optarg, "--max-records", 1ULL << 40, &n))
				goto usage_error;
			lim.xml.max_records = n;
			break;
		case OPT_MAX_ZIP:
			if (parse_count(optarg, "--max-zip-members", 100000, &n))
				goto usage_error;
			lim.max_zip_members = (unsigned)n;
			break;
		case OPT_MAX_PARTS:
			if (parse_count(optarg, "--max-mime-parts", 100000, &n))
				goto usage_error;
			lim.max_mime_parts = (unsigned)n;
			break;
		case 'h':
			usage(stdout);
			free(keys);
			return EX_OK;
		case 'V':
			printf("dmarc-ingest (dmarcsift) %s\n",
			    DMARCSIFT_VERSION);
			free(keys);
			return EX_OK;
		default:
			if (c >= OPT_KEY && c <= OPT_KEY_LAST) {
				keys[nkeys++] = (char *)longopts[idx].name;
				keys[nkeys++] = optarg;
				break;
			}
			usage(stderr);
			goto usage_error;
		}
	}
	log_init(&lg, "dmarc-ingest", level);
	imap = optind >= argc && !migrate_only && from_store == NULL;
	if (migrate_only && (optind < argc || nkeys > 0 || all)) {
		fprintf(stderr, "dmarc-ingest: --migrate-only takes no PATH "
				"and no IMAP setting\n");
		goto usage_error;
	}
	if (!imap && (nkeys > 0 || all)) {
		fprintf(stderr, "dmarc-ingest: %s is for fetching over IMAP, "
				"which is done when no PATH is given\n"
				"Try 'dmarc-ingest --help'.\n",
		    all ? "--all" : "an IMAP setting");
		goto usage_error;
	}

	/* The file is read in both modes: [store] db applies to both. */
	config_init(&cfg);
	if ((rc = configure(&cfg, config_opt, keys, nkeys, &lg)) != 0) {
		config_free(&cfg);
		free(keys);
		return rc;
	}
	free(keys);
	cfg.imap.all = all;
	if (dns_server != NULL &&
	    config_set_option(&cfg, "dns-server", dns_server, &e) == -1) {
		log_error(&lg, "%s", e.msg);
		config_free(&cfg);
		return EX_USAGE;
	}
	/* DMARCSIFT_OFFLINE=1 is --offline (the test suite sets it) */
	if ((env = getenv("DMARCSIFT_OFFLINE")) != NULL && env[0] != '\0' &&
	    strcmp(env, "0") != 0)
		offline = 1;
	if (imap && config_check_imap(&cfg, &e) == -1) {
		log_error(&lg, "%s", e.msg);
		config_free(&cfg);
		return EX_CONFIG;
	}
	/* --db, then $DMARCSIFT_DB, then [store] db, then the default */
	if (dbopt == NULL &&
	    ((env = getenv("DMARCSIFT_DB")) == NULL || env[0] == '\0'))
		dbopt = cfg.db;
	if (store_locate(dbopt, 1, dbpath, sizeof(dbpath), &e) == -1) {
		log_error(&lg, "%s", e.msg);
		config_free(&cfg);
		return EX_CANTCREAT;
	}
	/* Writers of one store take turns per mailbox, or per host for
	 * paths (a server store may have several ingest hosts). */
	if (imap)
		snprintf(scope, sizeof(scope), "imap://%s@%s/%s",
		    cfg.imap.user ? cfg.imap.user : "", cfg.imap.host,
		    cfg.imap.folder ? cfg.imap.folder : "INBOX");
	else if (gethostname(scope + 5, sizeof(scope) - 6) == 0) {
		memcpy(scope, "host:", 5);
		scope[sizeof(scope) - 1] = '\0';
	}
	else
		snprintf(scope, sizeof(scope), "host:");
	if ((rc = take_lock(dbpath, scope, &lock, &lg)) != 0) {
		config_free(&cfg);
		return rc;
	}
	if (store_open(dbpath, STORE_READWRITE, &st, &e) == -1) {
		log_error(&lg, "%s", e.msg);
		store_unlock(lock);
		config_free(&cfg);
		return EX_CANTCREAT;
	}
	if ((imp = importer_new(st, &lim, &lg)) == NULL) {
		log_error(&lg, "out of memory");
		store_close(st);
		store_unlock(lock);
		config_free(&cfg);
		return EX_OSERR;
	}
	importer_keep_failure_bodies(imp, cfg.keep_failure_bodies);

	if (migrate_only) {
		log_info(&lg, "schema of %s up to date", dbpath);
		goto done;
	}
	memset(&fc, 0, sizeof(fc));
	fc.imp = imp;
	fc.lim = &lim;
	fc.lg = &lg;
	fc.progress = level >= LOG_NORMAL && level < LOG_VERBOSE &&
		      isatty(STDERR_FILENO);
	if (imap) {
		/* a server that hangs up must be an error, not a signal */
		signal(SIGPIPE, SIG_IGN);
		status = run_imap(&fc, st, &cfg, dbpath, &lg);
		if (status != EX_IOERR && import_flush(imp, &e) == -1) {
			log_error(&lg, "%s", e.msg);
			status = EX_IOERR;
		}
		goto done;
	}

	rc = from_store != NULL ? from_store_import(&fc, from_store, &e) : 0;
	for (i = optind; i < argc && rc == 0; i++)
		rc = fetch_path(&fc, argv[i], &e);
	if (rc == 0)
		rc = import_flush(imp, &e);
	fetch_progress_done(&fc);
	if (rc == -1) {
		log_error(&lg, "%s", e.msg);
		/* a lost server connection: rolled back, the next run redoes it */
		status = store_lost(st) ? EX_TEMPFAIL : EX_IOERR;
	}

	s = import_stats(imp);
	log_info(&lg,
	    "inputs %lu, reports stored %lu (salvaged %lu), duplicates %lu, "
	    "rejected %lu, records stored %lu%s",
	    s->inputs, s->stored, s->salvaged, s->duplicates, s->rejected,
	    s->records, conflicts_said(s, conflicts, sizeof(conflicts)));
	if (status == EX_OK && fc.missing)
		status = EX_NOINPUT;
	if (status == EX_OK && s->rejected > 0)
		status = EX_DATAERR;

done:
	/* [store] keep: after the import, whatever it found */
	if (cfg.keep_days > 0 && status != EX_IOERR && !store_lost(st) &&
	    retention_run(st, cfg.keep_days, &lg, &e) == -1) {
		log_error(&lg, "%s", e.msg);
		status = EX_IOERR;
	}
	/* names for the new senders, once their reports are committed */
	if (!offline && cfg.dns_resolve && status != EX_IOERR &&
	    !store_lost(st))
		dns_after_import(st, cfg.dns_servers, cfg.dns_budget, &lg);
	importer_free(imp);
	store_close(st);
	store_unlock(lock);
	config_free(&cfg);
	return status;

usage_error:
	free(keys);
	return EX_USAGE;
}
