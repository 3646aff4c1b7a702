/*
 * main.c - dmarc-ingest: import DMARC aggregate reports into the database.
 *
 * This file owns the command line, the run locks and the exit status; the
 * work is done by the sources and the importer (import.c).  With PATHs,
 * those are read (fetch.h); without, every mailbox of the configuration
 * ([imap], [imap "name"]: config.c) is drained (source.h), each under a
 * lock of its own, or only the one --mailbox names.  With --watch, one
 * mailbox is drained that way again on every new message (watch.h).
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
#include "source.h"
#include "store.h"
#include "watch.h"

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
	OPT_MAILBOX,
	OPT_HANDLED,
	OPT_MBOX_HANDLED,
	OPT_WATCH,
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
    {"mailbox", required_argument, NULL, OPT_MAILBOX},
    {"maildir-handled", required_argument, NULL, OPT_HANDLED},
    {"mbox-handled", required_argument, NULL, OPT_MBOX_HANDLED},
    {"watch", no_argument, NULL, OPT_WATCH},
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
	    "Without PATH, the IMAP mailboxes of the configuration are fetched.\n"
	    "\n"
	    "      --config FILE       configuration (default $DMARCSIFT_CONFIG,\n"
	    "                          ~/.config/dmarcsift/config, /etc/dmarcsift/config)\n"
	    "      --db PATH|URL       a SQLite file or postgresql://... (default\n"
	    "                          $DMARCSIFT_DB, ~/.local/share/dmarcsift/dmarc.db)\n"
	    "      --all               IMAP: every message, read or not\n"
	    "      --mailbox NAME      IMAP: only [imap \"NAME\"] ([imap]: default)\n"
	    "      --watch             IMAP: stay, fetch new mail as it arrives\n"
	    "      --maildir-handled keep|seen|move, --mbox-handled keep|move\n"
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
	    "IMAP settings, as the [imap] keys of the configuration (never a\n"
	    "password): --host --port --tls --user --auth --password-file\n"
	    "--password-command --oauth2-token-command --folder --archive-folder\n"
	    "--failed-folder --ca-file --timeout --batch --max-response --mark-seen\n"
	    "\n"
	    "Exit status: 0 all handled (duplicates included), 65 something was\n"
	    "rejected, 66 a PATH is missing, 69 server unreachable, 73/74 database\n"
	    "error, 75 try again later (lock held, connection lost), 77 certificate\n"
	    "or login refused, 78 bad configuration, 64 usage. See dmarc-ingest(1).\n",
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
	if (scope == NULL) /* mailboxes: each is locked when drained */
		return 0;
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

static void
add_stats(struct source_stats *sum, const struct source_stats *s)
{
	sum->fetched += s->fetched;
	sum->failed += s->failed;
	sum->too_large += s->too_large;
	sum->moved += s->moved;
}

/* Drains one mailbox under its own lock (two runs may drain two
 * mailboxes at once, never one); returns the exit status. */
static int
drain_mailbox(const struct source_config *m, struct fetch_ctx *fc,
    struct store *st, const char *dbpath, const struct source_run *run,
    int all, struct source_stats *sum)
{
	struct store_lock *lock = NULL;
	struct source *s;
	char scope[1200];
	struct err e;
	int rc, ex;

	m->kind->lock_scope(m->cfg, scope, sizeof(scope));
	if ((rc = store_lock(dbpath, scope, &lock, &e)) != 0) {
		log_error(fc->lg, "%s", e.msg);
		return rc == 1 ? EX_TEMPFAIL : EX_CANTCREAT;
	}
	if (m->kind->open(m->cfg, m->name, all, st, fc->lg, fc->lim, &s, &e) ==
	    -1) {
		log_error(fc->lg, "%s", e.msg);
		store_unlock(lock);
		return EX_OSERR;
	}
	rc = source_drain(s, run, &ex, &e);
	fetch_progress_done(fc);
	if (rc == -1)
		log_error(fc->lg, "%s", e.msg);
	add_stats(sum, &s->stats);
	s->ops->close(s);
	store_unlock(lock);
	return ex;
}

/* Drains the mailboxes (the one picked, or all, in the order of the
 * file); a mailbox that fails does not keep the others from being
 * drained, unless the store failed.  Returns the exit status: the first
 * failure's. */
static int
run_mailboxes(struct fetch_ctx *fc, struct store *st, struct config *cfg,
    int all, const char *dbpath, const int *stop_fd, struct logger *lg)
{
	struct source_stats sum;
	struct source_run run;
	const struct import_stats *s;
	char conflicts[160];
	char statedir[PATH_MAX];
	struct err e;
	size_t i;
	int status = EX_OK, ex;

	if (store_state_dir(dbpath, statedir, sizeof(statedir), &e) == -1) {
		log_error(lg, "%s", e.msg);
		return EX_CANTCREAT;
	}
	memset(&sum, 0, sizeof(sum));
	memset(&run, 0, sizeof(run));
	run.fc = fc;
	run.statedir = statedir;
	run.dots_progress = 1;
	run.stop_fd = stop_fd;
	for (i = 0; i < cfg->nmailboxes && status != EX_IOERR; i++) {
		if (cfg->pick != NULL &&
		    strcmp(cfg->mailboxes[i].name, cfg->pick) != 0)
			continue;
		ex = drain_mailbox(&cfg->mailboxes[i], fc, st, dbpath, &run,
		    all, &sum);
		if (status == EX_OK || ex == EX_IOERR)
			status = ex;
	}
	s = import_stats(fc->imp);
	log_info(lg, "fetched %lu, reports stored %lu, duplicates %lu, "
		     "failed %lu, moved %lu%s",
	    sum.fetched, s->stored, s->duplicates, sum.failed, sum.moved,
	    conflicts_said(s, conflicts, sizeof(conflicts)));
	if (status == EX_OK && (sum.failed > 0 || s->rejected > 0))
		status = EX_DATAERR;
	return status;
}

/* What the command line says. */
struct opts {
	const char *dbopt, *config_opt, *dns_server, *mailbox, *handled,
	    *mbox_handled;
	const char *from_store; /* --from-store: from-store.c */
	char **keys; /* IMAP settings: (name, value) pairs, in order */
	int nkeys;
	int all, migrate_only, offline, level, watch;
	struct limits lim;
};

/* One of the --max-* options into lim; -1 (said) when the value is bad. */
static int
parse_limit(int c, const char *arg, struct limits *lim)
{
	unsigned long long n;
	uint64_t sz;

	switch (c) {
	case OPT_MAX_INPUT:
		return parse_size(arg, "--max-input", &lim->max_input);
	case OPT_MAX_XML:
		return parse_size(arg, "--max-xml-size", &lim->max_decompressed);
	case OPT_MAX_TEXT:
		if (parse_size(arg, "--max-text", &sz))
			return -1;
		if (sz > (8u << 20)) {
			fprintf(stderr, "dmarc-ingest: --max-text: at most 8M\n");
			return -1;
		}
		lim->xml.max_text = (size_t)sz;
		return 0;
	case OPT_MAX_RATIO:
		if (parse_count(arg, "--max-ratio", 100000, &n))
			return -1;
		lim->max_ratio = (unsigned)n;
		return 0;
	case OPT_MAX_DEPTH:
		if (parse_count(arg, "--max-depth", 255, &n))
			return -1;
		lim->xml.max_depth = (unsigned)n;
		return 0;
	case OPT_MAX_RECORDS:
		if (parse_count(arg, "--max-records", 1ULL << 40, &n))
			return -1;
		lim->xml.max_records = n;
		return 0;
	case OPT_MAX_ZIP:
		if (parse_count(arg, "--max-zip-members", 100000, &n))
			return -1;
		lim->max_zip_members = (unsigned)n;
		return 0;
	default: /* OPT_MAX_PARTS */
		if (parse_count(arg, "--max-mime-parts", 100000, &n))
			return -1;
		lim->max_mime_parts = (unsigned)n;
		return 0;
	}
}

/* One option other than a limit; -1 (said) for a usage error. */
static int
parse_option(int c, int idx, struct opts *o)
{
	switch (c) {
	case OPT_DB:
		o->dbopt = optarg;
		return 0;
	case OPT_CONFIG:
		o->config_opt = optarg;
		return 0;
	case OPT_ALL:
		o->all = 1;
		return 0;
	case OPT_MIGRATE_ONLY:
		o->migrate_only = 1;
		return 0;
	case OPT_FROM_STORE:
		o->from_store = optarg;
		return 0;
	case OPT_OFFLINE:
		o->offline = 1;
		return 0;
	case OPT_DNS_SERVER:
		o->dns_server = optarg;
		return 0;
	case OPT_MAILBOX:
		o->mailbox = optarg;
		return 0;
	case OPT_HANDLED:
		o->handled = optarg;
		return 0;
	case OPT_MBOX_HANDLED:
		o->mbox_handled = optarg;
		return 0;
	case OPT_WATCH:
		o->watch = 1;
		return 0;
	case OPT_PASSWORD:
		fprintf(stderr, "dmarc-ingest: --password: a password is never "
				"taken from the command line, where other "
				"users can see it; use password_file, "
				"password_command or DMARCSIFT_IMAP_PASSWORD\n");
		return -1;
	case 'v':
		o->level = o->level < LOG_NORMAL ? LOG_VERBOSE : o->level + 1;
		return 0;
	case 'q':
		o->level = LOG_QUIET;
		return 0;
	}
	if (c >= OPT_MAX_INPUT && c <= OPT_MAX_PARTS)
		return parse_limit(c, optarg, &o->lim);
	if (c >= OPT_KEY && c <= OPT_KEY_LAST) {
		o->keys[o->nkeys++] = (char *)longopts[idx].name;
		o->keys[o->nkeys++] = optarg;
		return 0;
	}
	usage(stderr);
	return -1;
}

/* The command line into o.  Returns -1 to go on, or the exit status
 * (--help, --version, a usage error). */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	int c, idx;

	memset(o, 0, sizeof(*o));
	o->level = LOG_NORMAL;
	limits_default(&o->lim);
	/* at most one (name, value) pair per argument */
	if ((o->keys = calloc((size_t)argc * 2 + 2, sizeof(*o->keys))) ==
	    NULL) {
		fprintf(stderr, "dmarc-ingest: out of memory\n");
		return EX_OSERR;
	}
	while ((c = getopt_long(argc, argv, "vqhV", longopts, &idx)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return EX_OK;
		}
		if (c == 'V') {
			printf("dmarc-ingest (dmarcsift) %s\n",
			    DMARCSIFT_VERSION);
			return EX_OK;
		}
		if (parse_option(c, idx, o) == -1)
			return EX_USAGE;
	}
	return -1;
}

/* Options that do not go with the mode (paths, mailboxes, migrating). */
static int
check_mode(const struct opts *o, int npaths, int imap)
{
	if (o->watch && !imap) {
		fprintf(stderr, "dmarc-ingest: --watch watches an IMAP mailbox; "
				"it takes no PATH, --from-store or "
				"--migrate-only\nTry 'dmarc-ingest --help'.\n");
		return EX_USAGE;
	}
	if (o->migrate_only && (npaths > 0 || o->nkeys > 0 || o->all ||
				   o->mailbox || o->handled || o->mbox_handled)) {
		fprintf(stderr, "dmarc-ingest: --migrate-only takes no PATH "
				"and no IMAP setting\n");
		return EX_USAGE;
	}
	if (!imap && !o->migrate_only && (o->nkeys > 0 || o->all || o->mailbox)) {
		fprintf(stderr, "dmarc-ingest: %s is for fetching over IMAP, "
				"which is done when no PATH is given\n"
				"Try 'dmarc-ingest --help'.\n",
		    o->all ? "--all" : o->mailbox ? "--mailbox" : "an IMAP setting");
		return EX_USAGE;
	}
	if (imap && (o->handled || o->mbox_handled)) {
		fprintf(stderr, "dmarc-ingest: --%s-handled is for %s "
				"PATHs\nTry 'dmarc-ingest --help'.\n",
		    o->handled ? "maildir" : "mbox",
		    o->handled ? "maildir" : "mbox");
		return EX_USAGE;
	}
	return 0;
}

/* The configuration, with what the command line says over it; the
 * mailboxes checked when they are to be drained.  Returns 0 or an exit
 * status.  The file is read in every mode: [store] db applies to all. */
static int
load_config(struct config *cfg, struct opts *o, int imap,
    const struct logger *lg)
{
	const char *env;
	struct err e;
	int rc;

	if (o->mailbox != NULL && config_pick(cfg, o->mailbox, &e) == -1) {
		log_error(lg, "%s", e.msg);
		return EX_USAGE;
	}
	if ((rc = configure(cfg, o->config_opt, o->keys, o->nkeys, lg)) != 0)
		return rc;
	if ((o->dns_server != NULL &&
		config_set_option(cfg, "dns-server", o->dns_server, &e) ==
		    -1) ||
	    (o->handled != NULL &&
		config_set_option(cfg, "maildir-handled", o->handled, &e) ==
		    -1) ||
	    (o->mbox_handled != NULL &&
		config_set_option(cfg, "mbox-handled", o->mbox_handled, &e) ==
		    -1)) {
		log_error(lg, "%s", e.msg);
		return EX_USAGE;
	}
	/* DMARCSIFT_OFFLINE=1 is --offline (the test suite sets it) */
	if ((env = getenv("DMARCSIFT_OFFLINE")) != NULL && env[0] != '\0' &&
	    strcmp(env, "0") != 0)
		o->offline = 1;
	if (imap && config_check_mailboxes(cfg, &e) == -1) {
		log_error(lg, "%s", e.msg);
		return EX_CONFIG;
	}
	return 0;
}

/* What one run holds. */
struct run {
	char dbpath[PATH_MAX];
	struct store_lock *lock;
	struct store *st;
	struct importer *imp;
};

/* Finds, locks and opens the store, and makes the importer.  Returns 0
 * or an exit status (what was taken is released by close_store()). */
static int
open_store(struct run *r, const struct config *cfg, const struct opts *o,
    int imap, struct logger *lg)
{
	const char *env, *dbopt = o->dbopt;
	char scope[512];
	struct err e;
	int rc;

	/* --db, then $DMARCSIFT_DB, then [store] db, then the default */
	if (dbopt == NULL &&
	    ((env = getenv("DMARCSIFT_DB")) == NULL || env[0] == '\0'))
		dbopt = cfg->db;
	if (store_locate(dbopt, 1, r->dbpath, sizeof(r->dbpath), &e) == -1) {
		log_error(lg, "%s", e.msg);
		return EX_CANTCREAT;
	}
	/* Writers of one store take turns per mailbox (run_mailboxes()),
	 * or per host for paths (a server store may have several ingest
	 * hosts). */
	if (gethostname(scope + 5, sizeof(scope) - 6) == 0) {
		memcpy(scope, "host:", 5);
		scope[sizeof(scope) - 1] = '\0';
	} else {
		snprintf(scope, sizeof(scope), "host:");
	}
	if ((rc = take_lock(r->dbpath, imap ? NULL : scope, &r->lock, lg)) !=
	    0)
		return rc;
	if (store_open(r->dbpath, STORE_READWRITE, &r->st, &e) == -1) {
		log_error(lg, "%s", e.msg);
		return EX_CANTCREAT;
	}
	if ((r->imp = importer_new(r->st, &o->lim, lg)) == NULL) {
		log_error(lg, "out of memory");
		return EX_OSERR;
	}
	importer_keep_failure_bodies(r->imp, cfg->keep_failure_bodies);
	return 0;
}

static void
close_store(struct run *r)
{
	importer_free(r->imp);
	store_close(r->st);
	store_unlock(r->lock);
}

/* Reads the reports kept in from_store (--from-store, or NULL), then the
 * PATHs; returns the exit status. */
static int
run_paths(struct fetch_ctx *fc, const char *from_store, char **paths, int n,
    struct logger *lg)
{
	const struct import_stats *s;
	char conflicts[160];
	struct err e;
	int i, rc = 0, status = EX_OK;

	if (from_store != NULL)
		rc = from_store_import(fc, from_store, &e);
	for (i = 0; i < n && rc == 0; i++)
		rc = fetch_path(fc, paths[i], &e);
	if (rc == 0)
		rc = import_flush(fc->imp, &e);
	fetch_progress_done(fc);
	if (rc == -1) {
		log_error(lg, "%s", e.msg);
		status = EX_IOERR;
	}
	s = import_stats(fc->imp);
	log_info(lg,
	    "inputs %lu, reports stored %lu (salvaged %lu), duplicates %lu, "
	    "rejected %lu, records stored %lu%s",
	    s->inputs, s->stored, s->salvaged, s->duplicates, s->rejected,
	    s->records, conflicts_said(s, conflicts, sizeof(conflicts)));
	if (status == EX_OK && fc->missing)
		status = EX_NOINPUT;
	if (status == EX_OK && s->rejected > 0)
		status = EX_DATAERR;
	return status;
}

/* Imports from the PATHs or the mailboxes (stop_fd: see source_run);
 * returns the exit status. */
static int
run_import(struct run *r, struct config *cfg, const struct opts *o,
    char **paths, int npaths, const int *stop_fd, struct logger *lg)
{
	struct fetch_ctx fc;
	struct err e;
	int status;

	memset(&fc, 0, sizeof(fc));
	fc.imp = r->imp;
	fc.lim = &o->lim;
	fc.lg = lg;
	fc.progress = o->level >= LOG_NORMAL && o->level < LOG_VERBOSE &&
		      isatty(STDERR_FILENO);
	fc.handled = cfg->maildir_handled;
	fc.mbox_handled = cfg->mbox_handled;
	if (npaths > 0 || o->from_store != NULL) {
		status = run_paths(&fc, o->from_store, paths, npaths, lg);
	} else {
		/* a server that hangs up must be an error, not a signal */
		signal(SIGPIPE, SIG_IGN);
		status = run_mailboxes(&fc, r->st, cfg, o->all, r->dbpath,
		    stop_fd, lg);
		if (status != EX_IOERR && import_flush(r->imp, &e) == -1) {
			log_error(lg, "%s", e.msg);
			status = EX_IOERR;
		}
	}
	/* a lost server connection: rolled back, the next run redoes it */
	if (status == EX_IOERR && store_lost(r->st))
		status = EX_TEMPFAIL;
	return status;
}

/* After the import, whatever it found: [store] keep, then names for the
 * new senders, once their reports are committed. */
static int
after_import(struct run *r, const struct config *cfg, const struct opts *o,
    int status, struct logger *lg)
{
	struct err e;

	if (store_lost(r->st))
		return status;
	if (cfg->keep_days > 0 && status != EX_IOERR &&
	    retention_run(r->st, cfg->keep_days, lg, &e) == -1) {
		log_error(lg, "%s", e.msg);
		status = EX_IOERR;
	}
	if (!o->offline && cfg->dns_resolve && status != EX_IOERR)
		dns_after_import(r->st, cfg->dns_servers, cfg->dns_budget, lg);
	return status;
}

/* What a drain of watch mode needs. */
struct watch_ctx {
	struct run *r;
	struct config *cfg;
	const struct opts *o;
	struct logger *lg;
};

/* One drain of watch mode: the run a cron job makes (run_import(), then
 * after_import()), with an importer of its own so that its summary line
 * counts this drain. */
static int
watch_drain(void *ctx, int stop_fd)
{
	struct watch_ctx *w = ctx;
	struct run *r = w->r;
	int status;

	importer_free(r->imp);
	if ((r->imp = importer_new(r->st, &w->o->lim, w->lg)) == NULL) {
		log_error(w->lg, "out of memory");
		return EX_OSERR;
	}
	importer_keep_failure_bodies(r->imp, w->cfg->keep_failure_bodies);
	status = run_import(r, w->cfg, w->o, NULL, 0, &stop_fd, w->lg);
	status = after_import(r, w->cfg, w->o, status, w->lg);
	/* a store server that went away is not waited for: exit, and let
	 * the service manager start again */
	return store_lost(r->st) ? EX_IOERR : status;
}

/* --watch: the one mailbox picked, or the only one (watch.h). */
static int
run_watch(struct run *r, struct config *cfg, const struct opts *o,
    struct logger *lg)
{
	struct watch_ctx ctx = {r, cfg, o, lg};

	return watch_run(cfg, watch_drain, &ctx, lg);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct config cfg;
	struct logger lg;
	struct run r;
	int imap, npaths, status;

	if ((status = parse_args(argc, argv, &o)) != -1) {
		free(o.keys);
		return status;
	}
	log_init(&lg, "dmarc-ingest", o.level);
	store_process_init();
	npaths = argc - optind;
	imap = npaths == 0 && !o.migrate_only && o.from_store == NULL;
	if ((status = check_mode(&o, npaths, imap)) != 0) {
		free(o.keys);
		return status;
	}
	config_init(&cfg);
	memset(&r, 0, sizeof(r));
	status = load_config(&cfg, &o, imap, &lg);
	free(o.keys);
	if (status == 0 && (status = open_store(&r, &cfg, &o, imap, &lg)) == 0) {
		if (o.migrate_only)
			log_info(&lg, "schema of %s up to date", r.dbpath);
		else if (o.watch)
			status = run_watch(&r, &cfg, &o, &lg);
		else
			status = run_import(&r, &cfg, &o, argv + optind, npaths,
			    NULL, &lg);
		if (!o.watch)
			status = after_import(&r, &cfg, &o, status, &lg);
	}
	close_store(&r);
	config_free(&cfg);
	return status;
}
