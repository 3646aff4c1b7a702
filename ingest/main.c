/*
 * main.c - dmarc-ingest: import DMARC aggregate reports into the database.
 *
 * This file owns the command line, the run lock and the exit status; the
 * work is done by the sources (fetch-*.c) and the importer (import.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sysexits.h>
#include <unistd.h>

#include "dbpath.h"
#include "fetch.h"
#include "import.h"
#include "input-limits.h"
#include "log.h"
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
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fputs(
	    "Usage: dmarc-ingest [OPTION]... PATH...\n"
	    "Import DMARC aggregate reports into the database.\n"
	    "\n"
	    "PATH is a report (.xml, .xml.gz, .zip), an e-mail, a directory\n"
	    "(read recursively), a maildir, an mbox, or - for standard input.\n"
	    "\n"
	    "      --db PATH           database (default $DMARCSIFT_DB, else\n"
	    "                          ~/.local/share/dmarcsift/dmarc.db)\n"
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
	    "  -h, --help              show this help and exit\n"
	    "  -V, --version           show the version and exit\n"
	    "\n"
	    "Exit status: 0 all handled (duplicates included), 65 something\n"
	    "was rejected, 66 a PATH is missing, 73/74 database error, 75\n"
	    "another dmarc-ingest is running, 64 usage.  See dmarc-ingest(1).\n",
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

/* One run per database at a time: a second cron run that starts while the
 * first still drains a backlog exits at once instead of racing it. */
static int
take_lock(const char *db, int *fd, struct logger *lg)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s.lock", db) >= sizeof(path)) {
		log_error(lg, "database path too long");
		return EX_USAGE;
	}
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd == -1) {
		log_error(lg, "cannot create the lock file %s: %s", path,
		    strerror(errno));
		return EX_CANTCREAT;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			log_error(lg, "another dmarc-ingest is running on %s "
				      "(lock %s held); try again later",
			    db, path);
			return EX_TEMPFAIL;
		}
		log_error(lg, "cannot lock %s: %s", path, strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char dbpath[PATH_MAX];
	const char *dbopt = NULL;
	struct limits lim;
	struct logger lg;
	struct fetch_ctx fc;
	struct store *st = NULL;
	struct importer *imp = NULL;
	const struct import_stats *s;
	unsigned long long n;
	struct err e;
	int c, i, level = LOG_NORMAL, lockfd = -1, rc, status = EX_OK;

	limits_default(&lim);
	while ((c = getopt_long(argc, argv, "vqhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			dbopt = optarg;
			break;
		case 'v':
			level = level < LOG_NORMAL ? LOG_VERBOSE : level + 1;
			break;
		case 'q':
			level = LOG_QUIET;
			break;
		case OPT_MAX_INPUT:
			if (parse_size(optarg, "--max-input", &lim.max_input))
				return EX_USAGE;
			break;
		case OPT_MAX_XML:
			if (parse_size(optarg, "--max-xml-size",
				&lim.max_decompressed))
				return EX_USAGE;
			break;
		case OPT_MAX_RATIO:
			if (parse_count(optarg, "--max-ratio", 100000, &n))
				return EX_USAGE;
			lim.max_ratio = (unsigned)n;
			break;
		case OPT_MAX_DEPTH:
			if (parse_count(optarg, "--max-depth", 255, &n))
				return EX_USAGE;
			lim.xml.max_depth = (unsigned)n;
			break;
		case OPT_MAX_TEXT: {
			uint64_t sz;
			if (parse_size(optarg, "--max-text", &sz))
				return EX_USAGE;
			if (sz > (8u << 20)) {
				fprintf(stderr, "dmarc-ingest: --max-text: at "
						"most 8M\n");
				return EX_USAGE;
			}
			lim.xml.max_text = (size_t)sz;
			break;
		}
		case OPT_MAX_RECORDS:
			if (parse_count(optarg, "--max-records", 1ULL << 40, &n))
				return EX_USAGE;
			lim.xml.max_records = n;
			break;
		case OPT_MAX_ZIP:
			if (parse_count(optarg, "--max-zip-members", 100000, &n))
				return EX_USAGE;
			lim.max_zip_members = (unsigned)n;
			break;
		case OPT_MAX_PARTS:
			if (parse_count(optarg, "--max-mime-parts", 100000, &n))
				return EX_USAGE;
			lim.max_mime_parts = (unsigned)n;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("dmarc-ingest (dmarcsift) %s\n",
			    DMARCSIFT_VERSION);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	log_init(&lg, "dmarc-ingest", level);
	if (optind >= argc) {
		fprintf(stderr, "dmarc-ingest: no PATH given\n"
				"Try 'dmarc-ingest --help'.\n");
		return EX_USAGE;
	}

	if (db_path_resolve(dbopt, 1, dbpath, sizeof(dbpath), &e) == -1) {
		log_error(&lg, "%s", e.msg);
		return EX_CANTCREAT;
	}
	if ((rc = take_lock(dbpath, &lockfd, &lg)) != 0)
		return rc;
	if (store_open(dbpath, STORE_READWRITE, &st, &e) == -1) {
		log_error(&lg, "%s", e.msg);
		close(lockfd);
		return EX_CANTCREAT;
	}
	if ((imp = importer_new(st, &lim, &lg)) == NULL) {
		log_error(&lg, "out of memory");
		store_close(st);
		close(lockfd);
		return EX_OSERR;
	}

	memset(&fc, 0, sizeof(fc));
	fc.imp = imp;
	fc.lim = &lim;
	fc.lg = &lg;
	fc.progress = level >= LOG_NORMAL && level < LOG_VERBOSE &&
		      isatty(STDERR_FILENO);
	rc = 0;
	for (i = optind; i < argc && rc == 0; i++)
		rc = fetch_path(&fc, argv[i], &e);
	if (rc == 0)
		rc = import_flush(imp, &e);
	fetch_progress_done(&fc);
	if (rc == -1) {
		log_error(&lg, "%s", e.msg);
		status = EX_IOERR;
	}

	s = import_stats(imp);
	log_info(&lg,
	    "inputs %lu, reports stored %lu (salvaged %lu), duplicates %lu, "
	    "rejected %lu, records stored %lu",
	    s->inputs, s->stored, s->salvaged, s->duplicates, s->rejected,
	    s->records);
	if (status == EX_OK && fc.missing)
		status = EX_NOINPUT;
	if (status == EX_OK && s->rejected > 0)
		status = EX_DATAERR;

	importer_free(imp);
	store_close(st);
	close(lockfd);
	return status;
}
