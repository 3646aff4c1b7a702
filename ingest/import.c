/*
 * import.c - see import.h.
 *
 * A report's journey: the parser streams it in strict mode into an open
 * store savepoint.  If the XML turns out to be malformed before the report
 * is complete, the savepoint is rolled back and the same bytes are parsed
 * again in salvage mode (libxml2 recovery, UTF-8 repair).  A report whose
 * key is already stored is not written again: the parse goes on without
 * storing so that its content can be compared with the stored copy, and a
 * different report under the same key is reported, not silently dropped.
 *
 * Commits are batched (BATCH_REPORTS reports or BATCH_SECONDS seconds) so a
 * maildir of ten thousand small reports does not pay ten thousand fsyncs;
 * what a crash interrupts is simply imported again by the next run.
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include "import-other.h"
#include "parser.h"
#include "pipeline.h"
#include "unpack.h"

#define BATCH_REPORTS 500
#define BATCH_SECONDS 2
/* Reports whose compressed input is at least this large are parsed on a
 * second thread while the first stores (pipeline.h); for small ones the
 * thread would cost more than it saves. */
#define PIPELINE_BYTES (256u << 10)

struct importer {
	struct store *st;
	const struct limits *lim;
	const struct logger *lg;
	struct parser *parser;
	struct import_stats stats;
	unsigned batch_reports;
	time_t batch_started;
	int fatal;
	int keep_bodies; /* [store] keep_failure_bodies */
};

/* State of the report being parsed. */
enum report_mode {
	RM_NONE,    /* header not seen yet */
	RM_STORE,   /* writing into an open store report */
	RM_COMPARE, /* key already stored: only compare */
};

struct report_ctx {
	struct importer *imp;
	struct store_payload *raw;
	enum report_mode mode;
	struct store_existing existing;
	int store_failed;
	struct err store_err;
};

struct input_ctx {
	struct importer *imp;
	const char *source;
	unsigned rejected;
};

struct importer *
importer_new(struct store *st, const struct limits *lim,
    const struct logger *lg)
{
	struct importer *imp;

	if ((imp = calloc(1, sizeof(*imp))) == NULL)
		return NULL;
	imp->st = st;
	imp->lim = lim;
	imp->lg = lg;
	if ((imp->parser = parser_new(&lim->xml)) == NULL) {
		free(imp);
		return NULL;
	}
	return imp;
}

void
importer_free(struct importer *imp)
{
	if (imp == NULL)
		return;
	if (store_in_batch(imp->st))
		store_batch_rollback(imp->st);
	parser_free(imp->parser);
	free(imp);
}

void
importer_keep_failure_bodies(struct importer *imp, int keep)
{
	imp->keep_bodies = keep;
}

const struct import_stats *
import_stats(const struct importer *imp)
{
	return &imp->stats;
}

int
import_flush(struct importer *imp, struct err *e)
{
	imp->batch_reports = 0;
	return store_batch_commit(imp->st, e);
}

static int
batch_ensure(struct importer *imp, struct err *e)
{
	if (store_in_batch(imp->st))
		return 0;
	imp->batch_started = time(NULL);
	imp->batch_reports = 0;
	return store_batch_begin(imp->st, e);
}

static int
batch_maybe_commit(struct importer *imp, struct err *e)
{
	if (imp->batch_reports >= BATCH_REPORTS ||
	    time(NULL) - imp->batch_started >= BATCH_SECONDS)
		return import_flush(imp, e);
	return 0;
}

static void
format_day(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		snprintf(out, len, "%lld", (long long)t);
	else
		strftime(out, len, "%Y-%m-%d", &tm);
}

/* The -v line for one report. */
static void
say_report(struct importer *imp, const char *outcome,
    const struct dmarc_meta *m, uint64_t records, const char *where)
{
	char b[16], en[16];

	format_day(m->begin, b, sizeof(b));
	format_day(m->end, en, sizeof(en));
	log_info(imp->lg, "%-9s %s %s %s %s..%s %llu records  %s", outcome,
	    m->org_name ? m->org_name : "-", m->report_id ? m->report_id : "-",
	    m->domain ? m->domain : "-", b, en, (unsigned long long)records,
	    where);
}

/* A rejection: under -v in the per-report format (with the reason), else
 * as an error line, so that each rejection is said exactly once. */
static void
say_rejected(struct importer *imp, const struct dmarc_meta *m,
    const char *source, const char *why)
{
	char b[16] = "-", en[16] = "-";

	if (imp->lg->level < LOG_VERBOSE) {
		log_error(imp->lg, "%s: rejected: %s", source, why);
		return;
	}
	if (m != NULL && m->has_begin)
		format_day(m->begin, b, sizeof(b));
	if (m != NULL && m->has_end)
		format_day(m->end, en, sizeof(en));
	log_info(imp->lg, "%-9s %s %s %s %s..%s 0 records  %s: %s", "rejected",
	    m && m->org_name ? m->org_name : "-",
	    m && m->report_id ? m->report_id : "-",
	    m && m->domain ? m->domain : "-", b, en, source, why);
}

/* --- parser callbacks ------------------------------------------------ */

static int
on_begin(void *arg, const struct dmarc_meta *m, int complete, struct err *e)
{
	struct report_ctx *rc = arg;
	int found = 0;

	if (complete) {
		if (store_find_report(rc->imp->st, m, &rc->existing, &found,
			e) == -1)
			goto fail;
		if (found) {
			rc->mode = RM_COMPARE;
			return 0;
		}
	}
	if (store_report_begin(rc->imp->st, m, rc->raw, e) == -1)
		goto fail;
	rc->mode = RM_STORE;
	return 0;
fail:
	rc->store_failed = 1;
	rc->store_err = *e;
	return -1;
}

static int
on_record(void *arg, const struct dmarc_record *r, struct err *e)
{
	struct report_ctx *rc = arg;

	if (rc->mode != RM_STORE)
		return 0;
	if (store_report_record(rc->imp->st, r, e) == -1) {
		rc->store_failed = 1;
		rc->store_err = *e;
		return -1;
	}
	return 0;
}

/* --- one report -------------------------------------------------------- */

static void
join_warnings(const struct warnings *a, const struct warnings *b, char *out,
    size_t len)
{
	size_t n;

	warn_format(a, out, len);
	n = strlen(out);
	if (n > 0 && b->n > 0 && n + 2 < len) {
		memcpy(out + n, "; ", 3);
		n += 2;
	}
	warn_format(b, out + n, len - n);
}

static int
log_outcome(struct importer *imp, const char *source, const char *outcome,
    const struct dmarc_meta *m, int64_t id, const char *msg)
{
	struct err e;

	if (store_log(imp->st, source, outcome, m, id, msg, &e) == -1) {
		log_error(imp->lg, "%s", e.msg);
		imp->fatal = 1;
		return -1;
	}
	return 0;
}

static uint64_t
origin_size(const struct origin *o)
{
	struct stat sb;

	switch (o->kind) {
	case ORIGIN_MEM:
		return o->len;
	case ORIGIN_ZIP:
		return o->comp_size;
	default:
		return stat(o->path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	}
}

static int
parse_once(struct importer *imp, struct report_ctx *rc,
    const struct origin *o, enum parse_mode mode, struct parse_result *res,
    struct warnings *sw, struct err *e)
{
	struct parse_handler h = {rc, on_begin, on_record};
	struct stream s;
	struct reader rd;
	enum parse_status st;

	warn_init(sw);
	if (stream_open(&s, o, imp->lim, sw, e) == -1)
		return PARSE_REJECT;
	rd = stream_reader(&s);
	rc->mode = RM_NONE;
	if (origin_size(o) >= PIPELINE_BYTES)
		st = pipeline_parse(imp->parser, &rd, mode, &h, res, e);
	else
		st = parser_run(imp->parser, &rd, mode, &h, res, e);
	stream_close(&s);
	return st;
}

static int
sink_xml(void *arg, struct unpack_payload *pl, const struct origin *o,
    const char *where, struct err *fatal)
{
	struct input_ctx *ic = arg;
	struct importer *imp = ic->imp;
	struct report_ctx rc;
	struct parse_result res;
	struct store_report_info info;
	struct store_existing ex;
	struct store_payload raw;
	enum store_outcome outcome;
	struct warnings sw;
	const struct dmarc_meta *m;
	char src[1024], warnings[2048], defect[256] = "";
	struct err e;
	int st;

	imp->stats.reports++;
	snprintf(src, sizeof(src), "%s%s%s", ic->source, where[0] ? ": " : "",
	    where);
	/* A large report gets a transaction of its own: inside a batch it
	 * would be a nested savepoint, and SQLite keeps a statement journal
	 * for those that costs more than the whole import.  Small reports
	 * share a batch, one savepoint each. */
	if (origin_size(o) >= PIPELINE_BYTES) {
		if (import_flush(imp, fatal) == -1)
			return -1;
	} else if (batch_ensure(imp, fatal) == -1) {
		return -1;
	}

	/* The store keeps the payload's bytes: one row per payload, shared
	 * by every report it holds (pl->stored_id remembers it). */
	memset(&raw, 0, sizeof(raw));
	raw.name = pl->name;
	raw.format = pl->format;
	raw.mem = pl->o.kind == ORIGIN_MEM ? pl->o.mem : NULL;
	raw.len = pl->o.len;
	raw.path = pl->o.kind == ORIGIN_FILE ? pl->o.path : NULL;
	raw.stored_id = pl->stored_id;

	memset(&rc, 0, sizeof(rc));
	rc.imp = imp;
	rc.raw = &raw;
	st = parse_once(imp, &rc, o, PARSE_STRICT, &res, &sw, &e);
	if (st == PARSE_TRY_SALVAGE && !rc.store_failed) {
		snprintf(defect, sizeof(defect), "%s", res.defect);
		store_report_abort(imp->st);
		st = parse_once(imp, &rc, o, PARSE_SALVAGE, &res, &sw, &e);
	}
	if (rc.store_failed) {
		store_report_abort(imp->st);
		err_set(fatal, "%s", rc.store_err.msg);
		return -1;
	}
	pl->stored_id = raw.stored_id;
	m = parser_meta(imp->parser);
	if (st != PARSE_OK) {
		store_report_abort(imp->st);
		pl->stored_id = raw.stored_id;
		imp->stats.rejected++;
		ic->rejected++;
		say_rejected(imp, m, src, e.msg);
		if (log_outcome(imp, src, "rejected", m, 0, e.msg) == -1)
			return err_set(fatal, "cannot write the ingest log");
		return 0;
	}
	if (res.salvaged && defect[0] == '\0')
		snprintf(defect, sizeof(defect), "%s", res.defect);
	/* the stored report says what was wrong with it */
	warnings[0] = '\0';
	if (res.salvaged)
		snprintf(warnings, sizeof(warnings), "salvaged: %s%s", defect,
		    sw.n + res.warnings.n ? "; " : "");
	join_warnings(&sw, &res.warnings, warnings + strlen(warnings),
	    sizeof(warnings) - strlen(warnings));

	if (rc.mode == RM_COMPARE) {
		outcome = STORE_DUPLICATE;
		ex = rc.existing;
	} else {
		memset(&info, 0, sizeof(info));
		info.records = res.records;
		info.messages = res.messages;
		info.hash = res.hash;
		info.salvaged = res.salvaged;
		info.warnings = warnings[0] ? warnings : NULL;
		info.source = ic->source;
		info.member = where;
		if (store_report_finish(imp->st, m, &info, &outcome, &ex,
			fatal) == -1)
			return -1;
		pl->stored_id = raw.stored_id;
	}

	if (outcome == STORE_DUPLICATE) {
		imp->stats.duplicates++;
		if (ex.records != res.records || ex.messages != res.messages ||
		    ex.hash != res.hash) {
			char msg[768], counts[128] = "same counts";
			if (ex.records != res.records ||
			    ex.messages != res.messages)
				snprintf(counts, sizeof(counts),
				    "%llu records/%llu messages here, %llu/%llu "
				    "stored",
				    (unsigned long long)res.records,
				    (unsigned long long)res.messages,
				    (unsigned long long)ex.records,
				    (unsigned long long)ex.messages);
			snprintf(msg, sizeof(msg),
			    "same key as the report stored from %.400s, but "
			    "different records (%s): kept the first",
			    ex.source, counts);
			log_warn(imp->lg, "%s: %s", src, msg);
			if (log_outcome(imp, src, "duplicate", m, ex.id, msg) ==
			    -1)
				return err_set(fatal, "cannot write the log");
		} else if (log_outcome(imp, src, "duplicate", m, ex.id, NULL) ==
			   -1) {
			return err_set(fatal, "cannot write the ingest log");
		}
		say_report(imp, "duplicate", m, res.records, src);
		return batch_maybe_commit(imp, fatal);
	}

	imp->stats.stored++;
	imp->stats.records += res.records;
	imp->batch_reports++;
	if (res.salvaged) {
		imp->stats.salvaged++;
		log_warn(imp->lg, "%s: stored as salvaged: %s", src, defect);
	}
	if (warnings[0] != '\0' && !res.salvaged)
		log_info(imp->lg, "%s: note: %s", src, warnings);
	if (log_outcome(imp, src, res.salvaged ? "salvaged" : "stored", m,
		ex.id, res.salvaged ? defect : (warnings[0] ? warnings : NULL)) ==
	    -1)
		return err_set(fatal, "cannot write the ingest log");
	say_report(imp, res.salvaged ? "salvaged" : "stored", m, res.records,
	    src);
	return batch_maybe_commit(imp, fatal);
}

/* SMTP TLS and failure reports: import-other.c, inside the batch. */
static void
other_ctx(struct input_ctx *ic, struct other_ctx *c)
{
	c->st = ic->imp->st;
	c->lim = ic->imp->lim;
	c->lg = ic->imp->lg;
	c->stats = &ic->imp->stats;
	c->keep_bodies = ic->imp->keep_bodies;
	c->source = ic->source;
	c->rejected = &ic->rejected;
}

static int
sink_tlsrpt(void *arg, struct unpack_payload *pl, const struct origin *o,
    const char *where, struct err *fatal)
{
	struct input_ctx *ic = arg;
	struct other_ctx c;

	other_ctx(ic, &c);
	if (batch_ensure(ic->imp, fatal) == -1 ||
	    import_tlsrpt(&c, pl, o, where, fatal) == -1)
		return -1;
	return batch_maybe_commit(ic->imp, fatal);
}

static int
sink_arf(void *arg, const unsigned char *msg, size_t len, const char *where,
    struct err *fatal)
{
	struct input_ctx *ic = arg;
	struct other_ctx c;

	other_ctx(ic, &c);
	if (batch_ensure(ic->imp, fatal) == -1 ||
	    import_arf(&c, msg, len, where, fatal) == -1)
		return -1;
	return batch_maybe_commit(ic->imp, fatal);
}

int
import_reject_input(struct importer *imp, const char *source, const char *why,
    struct err *e)
{
	imp->stats.inputs++;
	imp->stats.rejected++;
	say_rejected(imp, NULL, source, why);
	if (batch_ensure(imp, e) == -1)
		return -1;
	if (log_outcome(imp, source, "rejected", NULL, 0, why) == -1)
		return err_set(e, "cannot write the ingest log");
	return batch_maybe_commit(imp, e);
}

int
import_input(struct importer *imp, const struct origin *o, const char *source,
    enum input_result *result, struct err *e)
{
	struct unpack_sink sink;
	struct unpack_result ur;
	struct input_ctx ic;
	const char *why;

	memset(&ic, 0, sizeof(ic));
	ic.imp = imp;
	ic.source = source;
	sink.arg = &ic;
	sink.xml = sink_xml;
	sink.tlsrpt = sink_tlsrpt;
	sink.arf = sink_arf;
	imp->stats.inputs++;
	*result = INPUT_OK;
	if (unpack_input(o, source, imp->lim, &sink, &ur, e) == -1 ||
	    imp->fatal) {
		store_batch_rollback(imp->st);
		return -1;
	}
	if (ur.failures > 0) {
		/* a part that could not be read: corrupt, encrypted, over a
		 * limit; the reports that could be read are stored */
		imp->stats.rejected += ur.failures;
		ic.rejected += ur.failures;
		say_rejected(imp, NULL, source, ur.failure);
		if (batch_ensure(imp, e) == -1 ||
		    log_outcome(imp, source, "rejected", NULL, 0, ur.failure) ==
			-1)
			return -1;
	} else if (ur.xml == 0 && ur.other == 0) {
		why = ur.note[0] ? ur.note : "no aggregate report found";
		imp->stats.rejected++;
		ic.rejected++;
		say_rejected(imp, NULL, source, why);
		if (batch_ensure(imp, e) == -1 ||
		    log_outcome(imp, source, "rejected", NULL, 0, why) == -1)
			return -1;
	}
	if (ic.rejected > 0)
		*result = INPUT_REJECTED;
	return 0;
}
