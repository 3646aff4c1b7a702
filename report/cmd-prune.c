/*
 * cmd-prune.c - `dmarc-report prune --older-than Nd | --before DATE
 * [--domain D]... [--dry-run]`: removes old reports of every kind through
 * store_prune() (store.h), which keeps the traffic rollup equal to the
 * records that remain.
 *
 * The only command that writes: it drops main()'s read-only store, takes
 * the lock dmarc-ingest takes (store_lock()), so that an import and a
 * prune never interleave, and opens the store read-write.  It says what
 * went (or, with --dry-run, what would go) on standard output.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "command.h"

static const struct column cols[] = {
    {"dry_run", NULL, COL_BOOL, 0},
    {"before", NULL, COL_TEXT, 0},
    {"reports", NULL, COL_INT, 0},
    {"records", NULL, COL_INT, 0},
    {"messages", NULL, COL_INT, 0},
    {"tls_reports", NULL, COL_INT, 0},
    {"failure_reports", NULL, COL_INT, 0},
    {"payloads", NULL, COL_INT, 0},
    {"payload_bytes", NULL, COL_INT, 0},
    {"file_bytes_before", NULL, COL_INT, 0},
    {"file_bytes_after", NULL, COL_INT, 0},
};

static int
say(struct report_ctx *ctx, const struct store_prune_result *r,
    const char *before)
{
	struct output out;
	struct cell c[sizeof(cols) / sizeof(cols[0])];

	if (ctx->format == &output_table) {
		fprintf(
		    ctx->out,
		    "%s reports that began before %s UTC:\n"
		    "  %llu aggregate reports (%llu records, %llu messages)\n"
		    "  %llu SMTP TLS reports\n"
		    "  %llu DMARC failure reports\n"
		    "  %llu raw payloads (%llu bytes)\n",
		    ctx->dry_run ? "Would remove (dry run, nothing changed)"
		                 : "Removed",
		    before, (unsigned long long)r->reports,
		    (unsigned long long)r->records,
		    (unsigned long long)r->messages,
		    (unsigned long long)r->tls_reports,
		    (unsigned long long)r->failure_reports,
		    (unsigned long long)r->payloads,
		    (unsigned long long)r->payload_bytes);
		if (!ctx->dry_run)
			fprintf(ctx->out,
			        "Database file: %lld bytes, now %lld\n",
			        (long long)r->file_before,
			        (long long)r->file_after);
		return 0;
	}
	memset(c, 0, sizeof(c));
	c[0].i = ctx->dry_run;
	c[1].s = before;
	c[2].i = (int64_t)r->reports;
	c[3].i = (int64_t)r->records;
	c[4].i = (int64_t)r->messages;
	c[5].i = (int64_t)r->tls_reports;
	c[6].i = (int64_t)r->failure_reports;
	c[7].i = (int64_t)r->payloads;
	c[8].i = (int64_t)r->payload_bytes;
	c[9].i = r->file_before;
	c[10].i = r->file_after;
	if (output_begin(&out, ctx->format, ctx->out, cols,
	                 sizeof(cols) / sizeof(cols[0])) == -1 ||
	    output_row(&out, c) == -1 || output_end(&out) == -1)
		return -1;
	return 0;
}

static int
prune_run(struct report_ctx *ctx, struct err *e)
{
	struct store_prune p;
	struct store_prune_result r;
	struct store_lock *lock = NULL;
	char before[32];
	int rc;

	if (ctx->prune_before == 0 || ctx->filter.since || ctx->filter.until) {
		ctx->fail_status = EX_USAGE;
		return err_set(e, "prune: give --older-than Nd or --before "
		                  "YYYY-MM-DD (and not --since/--until)");
	}
	store_close(ctx->st);
	ctx->st = NULL;
	/* the writers' lock: a prune never runs beside an import */
	if ((rc = store_lock(ctx->dbpath, "prune", &lock, e)) != 0) {
		ctx->fail_status = rc == 1 ? EX_TEMPFAIL : EX_CANTCREAT;
		return err_prefix(e, "prune");
	}
	if (store_open(ctx->dbpath, STORE_READWRITE, &ctx->st, e) == -1) {
		store_unlock(lock);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.before = ctx->prune_before;
	p.domains = ctx->filter.domains;
	p.dry_run = ctx->dry_run;
	rc = store_prune(ctx->st, &p, &r, e);
	store_unlock(lock);
	if (rc == -1)
		return -1;
	format_time(ctx->prune_before, before, sizeof(before));
	before[10] = '\0';
	if (say(ctx, &r, before) == -1)
		return err_set(e, "cannot write the output");
	return 0;
}

const struct command cmd_prune = {
    "prune", "remove old reports (--older-than Nd, --before DATE; --dry-run)",
    prune_run, 1};
