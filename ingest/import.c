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
 * what a crash interrupts is simply imported again by the next run.  What
 * a batch did is said (the -v lines, the counts of the summary) only once
 * it is committed: a "stored" line means the report is on disk.  When a
 * report fails on the way (a full disk), the reports before it in the
 * batch are committed if the database still can; the failed one's
 * savepoint is already gone.
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include "buf.h"
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
	struct import_stats stats; /* committed */
	struct import_stats pend;  /* done in the open batch, not committed */
	struct buf lines;	   /* -v lines of the open batch */
	unsigned batch_reports;
	time_t batch_started;
	int fatal;
	int unlogged; /* a report is in the batch without its log line */
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
	int64_t replace;  /* the salvaged copy this one is to replace */
	int replaced;	  /* ... and did */
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
	buf_init(&imp->lines, 4u << 20); /* 500 lines of a batch, and more */
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
	buf_free(&imp->lines);
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

void
import_stats_live(const struct importer *imp, struct import_stats *out)
{
	*out = imp->stats;
	out->stored += imp->pend.stored;
	out->salvaged += imp->pend.salvaged;
	out->duplicates += imp->pend.duplicates;
	out->conflicts += imp->pend.conflicts;
	out->records += imp->pend.records;
}

/* The batch is committed: its lines are printed, its counts count. */
static void
pending_publish(struct importer *imp)
{
	struct import_stats *s = &imp->stats, *p = &imp->pend;
	char *line, *nl;

	for (line = imp->lines.data; line != NULL && *line != '\0';
	     line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		*nl = '\0';
		log_info(imp->lg, "%s", line);
	}
	buf_reset(&imp->lines);
	s->stored += p->stored;
	s->salvaged += p->salvaged;
	s->duplicates += p->duplicates;
	s->conflicts += p->conflicts;
	s->records += p->records;
	memset(p, 0, sizeof(*p));
}

/* The batch is rolled back: nothing of it is said as done. */
static void
pending_drop(struct importer *imp)
{
	unsigned long n = imp->pend.stored + imp->pend.duplicates +
			  imp->pend.conflicts;

	if (n > 0)
		log_warn(imp->lg, "%lu report%s read since the last commit %s "
				  "not recorded (rolled back); the next run "
				  "reads %s again",
		    n, n == 1 ? "" : "s", n == 1 ? "was" : "were",
		    n == 1 ? "it" : "them");
	buf_reset(&imp->lines);
	memset(&imp->pend, 0, sizeof(imp->pend));
}

int
import_flush(struct importer *imp, struct err *e)
{
	imp->batch_reports = 0;
	if (store_batch_commit(imp->st, e) == -1) {
		pending_drop(imp);
		return -1;
	}
	pending_publish(imp);
	return 0;
}

/* After a failure in the middle of a batch: the reports before it are
 * committed if the database can still take it, else rolled back. */
static void
salvage_batch(struct importer *imp)
{
	struct err ce;

	if (!store_in_batch(imp->st) || imp->unlogged) {
		store_batch_rollback(imp->st);
		pending_drop(imp);
		imp->unlogged = 0;
		return;
	}
	/* SQLite may already have rolled the transaction back (a full
	 * disk): then the commit fails and pending_drop() says so; the
	 * caller prints the first error, the one that matters */
	(void)import_flush(imp, &ce);
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
	char b[16], en[16], line[2048];
	struct err be;

	if (imp->lg->level < LOG_VERBOSE)
		return;
	format_day(m->begin, b, sizeof(b));
	format_day(m->end, en, sizeof(en));
	snprintf(line, sizeof(line), "%-9s %s %s %s %s..%s %llu record%s  %s\n",
	    outcome, m->org_name ? m->org_name : "-",
	    m->report_id ? m->report_id : "-", m->domain ? m->domain : "-", b,
	    en, (unsigned long long)records, records == 1 ? "" : "s", where);
	/* said when committed (pending_publish); a line that cannot be
	 * kept is said now rather than never */
	if (buf_append(&imp->lines, line, strlen(line), &be) == -1)
		log_info(imp->lg, "%.*s", (int)strlen(line) - 1, line);
}

/* Appends " word" to out when word is set: the -v rejection line names
 * only what is known of the report. */
static void
add_field(char *out, size_t len, const char *word)
{
	size_t n = strlen(out);

	if (word != NULL && word[0] != '\0' && n + 1 < len)
		snprintf(out + n, len - n, " %s", word);
}

/* A rejection: under -v in the per-report format (with the reason), else
 * as an error line, so that each rejection is said exactly once. */
static void
say_rejected(struct importer *imp, const struct dmarc_meta *m,
    const char *source, const char *why)
{
	char b[16], en[16], dates[40] = "", known[700] = "";

	if (imp->lg->level < LOG_VERBOSE) {
		log_error(imp->lg, "%s: rejected: %s", source, why);
		return;
	}
	if (m != NULL) {
		add_field(known, sizeof(known), m->org_name);
		add_field(known, sizeof(known), m->report_id);
		add_field(known, sizeof(known), m->domain);
		if (m->has_begin && m->has_end) {
			format_day(m->begin, b, sizeof(b));
			format_day(m->end, en, sizeof(en));
			snprintf(dates, sizeof(dates), "%s..%s", b, en);
			add_field(known, sizeof(known), dates);
		}
	}
	/* "rejected  SOURCE: WHY", with what is known of the report
	 * between (no "-" placeholders, no "0 records") */
	log_info(imp->lg, "%-9s%s%s %s: %s", "rejected", known,
	    known[0] ? " " : "", source, why);
}

/* --- parser callbacks ------------------------------------------------ */

/* The second parse of a complete copy whose key a salvaged copy holds:
 * written in the place of that copy, in the report's own savepoint. */
static int
begin_replacing(struct report_ctx *rc, const struct dmarc_meta *m,
    struct err *e)
{
	if (store_report_begin(rc->imp->st, m, rc->raw, e) == -1 ||
	    store_report_replace(rc->imp->st, rc->replace, &rc->replaced,
		e) == -1) {
		rc->store_failed = 1;
		rc->store_err = *e;
		return -1;
	}
	if (!rc->replaced) {
		store_report_abort(rc->imp->st);
		rc->mode = RM_COMPARE;
		return 0;
	}
	rc->mode = RM_STORE;
	return 0;
}

static int
on_begin(void *arg, const struct dmarc_meta *m, int complete, struct err *e)
{
	struct report_ctx *rc = arg;
	int found = 0;

	if (rc->replace != 0)
		return begin_replacing(rc, m, e);
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

/* Writes the ingest log's line for source; on failure e says why (every
 * caller returns it: the run stops). */
static int
log_outcome(struct importer *imp, const char *source, const char *outcome,
    const struct dmarc_meta *m, int64_t id, const char *msg, struct err *e)
{
	if (store_log(imp->st, source, outcome, m, id, msg, e) == -1) {
		imp->fatal = 1;
		return err_prefix(e, "cannot write the ingest log");
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
	/* a stream that does not open leaves res as it is: next_doc read
	 * by the caller must not be the stack's garbage */
	memset(res, 0, sizeof(*res));
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

/* 1 when the copy parsed has the records of the stored one, in any order
 * (reports stored before the order-independent hash have the ordered
 * one). */
static int
same_content(const struct store_existing *ex, const struct parse_result *res)
{
	return ex->records == res->records && ex->messages == res->messages &&
	       (ex->hash == res->hash || ex->hash == res->hash_ordered ||
		   (ex->hash ^ PARSE_HASH_SALVAGED) == res->hash);
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
	struct store_existing ex, old;
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
	import_raw(&raw, pl);

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
	pl->next_doc = res.next_doc; /* another report follows: unpack.c */
	if (st != PARSE_OK) {
		store_report_abort(imp->st);
		pl->stored_id = raw.stored_id;
		imp->stats.rejected++;
		ic->rejected++;
		say_rejected(imp, m, src, e.msg);
		if (log_outcome(imp, src, "rejected", m, 0, e.msg, fatal) == -1)
			return -1;
		return 0;
	}
	if (res.salvaged && defect[0] == '\0')
		snprintf(defect, sizeof(defect), "%s", res.defect);
	if (res.lost > 0)
		snprintf(defect + strlen(defect), sizeof(defect) - strlen(defect),
		    "; %llu of the %llu records could not be read",
		    (unsigned long long)res.lost,
		    (unsigned long long)(res.lost + res.records));
	/* the stored report says what was wrong with it */
	warnings[0] = '\0';
	if (res.salvaged)
		snprintf(warnings, sizeof(warnings), "salvaged: %s%s", defect,
		    sw.n + res.warnings.n ? "; " : "");
	join_warnings(&sw, &res.warnings, warnings + strlen(warnings),
	    sizeof(warnings) - strlen(warnings));

	memset(&info, 0, sizeof(info));
	info.records = res.records;
	info.messages = res.messages;
	info.hash = res.hash ^ (res.salvaged ? PARSE_HASH_SALVAGED : 0);
	info.salvaged = res.salvaged;
	info.warnings = warnings[0] ? warnings : NULL;
	info.source = ic->source;
	info.member = where;
	if (rc.mode == RM_COMPARE) {
		outcome = STORE_DUPLICATE;
		ex = rc.existing;
	} else {
		if (store_report_finish(imp->st, m, &info, &outcome, &ex,
			fatal) == -1)
			return -1;
		/* stored in the batch, its log line not yet: a failure
		 * until then must not commit the report without it */
		imp->unlogged = outcome != STORE_DUPLICATE;
		pl->stored_id = raw.stored_id;
	}
	/* The best copy wins: a complete copy takes the key of a salvaged
	 * one (its second parse writes it in the salvaged copy's place). */
	if (outcome == STORE_DUPLICATE && !res.salvaged &&
	    ex.hash != res.hash && ex.hash != res.hash_ordered) {
		old = ex;
		rc.replace = ex.id;
		st = parse_once(imp, &rc, o, PARSE_STRICT, &res, &sw, &e);
		if (rc.store_failed || (rc.replaced && st != PARSE_OK)) {
			store_report_abort(imp->st);
			return err_set(fatal, "%s", rc.store_failed
				? rc.store_err.msg : e.msg);
		}
		if (rc.replaced && store_report_finish(imp->st, m, &info,
				       &outcome, &ex, fatal) == -1)
			return -1;
		imp->unlogged = outcome != STORE_DUPLICATE;
		pl->stored_id = raw.stored_id;
		if (rc.replaced && outcome == STORE_STORED) {
			snprintf(defect, sizeof(defect), "replaced the salvaged "
			    "copy stored from %.150s (%llu records, %llu "
			    "messages)", old.source,
			    (unsigned long long)old.records,
			    (unsigned long long)old.messages);
			log_info(imp->lg, "%s: %s", src, defect);
		} else {
			ex = old;
		}
	}

	if (outcome == STORE_DUPLICATE) {
		if (!same_content(&ex, &res)) {
			char msg[768], counts[128] = "same counts";

			/* a conflict, not a duplicate: this copy's data is
			 * kept out */
			imp->pend.conflicts++;
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
			if (log_outcome(imp, src, "duplicate", m, ex.id, msg,
				fatal) == -1)
				return -1;
			say_report(imp, "conflict", m, res.records, src);
			return batch_maybe_commit(imp, fatal);
		}
		imp->pend.duplicates++;
		if (log_outcome(imp, src, "duplicate", m, ex.id, NULL, fatal) ==
		    -1)
			return -1;
		say_report(imp, "duplicate", m, res.records, src);
		return batch_maybe_commit(imp, fatal);
	}

	imp->pend.stored++;
	imp->pend.records += res.records;
	imp->batch_reports++;
	if (rc.replaced) {
		if (log_outcome(imp, src, "stored", m, ex.id, defect, fatal) ==
		    -1)
			return -1;
		imp->unlogged = 0;
		say_report(imp, "replaced", m, res.records, src);
		return batch_maybe_commit(imp, fatal);
	}
	if (res.salvaged) {
		imp->pend.salvaged++;
		log_warn(imp->lg, "%s: stored as salvaged: %s", src, defect);
	}
	if (warnings[0] != '\0' && !res.salvaged)
		log_info(imp->lg, "%s: note: %s", src, warnings);
	if (log_outcome(imp, src, res.salvaged ? "salvaged" : "stored", m,
		ex.id, res.salvaged ? defect : (warnings[0] ? warnings : NULL),
		fatal) == -1)
		return -1;
	imp->unlogged = 0;
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
import_failure_kept(struct importer *imp, const struct arf_report *r,
    const char *source, struct err *fatal)
{
	struct input_ctx ic;
	struct other_ctx c;

	memset(&ic, 0, sizeof(ic));
	ic.imp = imp;
	ic.source = source;
	imp->stats.inputs++;
	other_ctx(&ic, &c);
	if (batch_ensure(imp, fatal) == -1 ||
	    import_arf_kept(&c, r, fatal) == -1) {
		salvage_batch(imp);
		return -1;
	}
	return batch_maybe_commit(imp, fatal);
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
	if (log_outcome(imp, source, "rejected", NULL, 0, why, e) == -1)
		return -1;
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
		salvage_batch(imp);
		return -1;
	}
	if (ur.failures > 0) {
		/* a part that could not be read: corrupt, encrypted, over a
		 * limit; the reports that could be read are stored */
		imp->stats.rejected += ur.failures;
		ic.rejected += ur.failures;
		say_rejected(imp, NULL, source, ur.failure);
		if (batch_ensure(imp, e) == -1 ||
		    log_outcome(imp, source, "rejected", NULL, 0, ur.failure,
			e) == -1)
			return -1;
	} else if (ur.xml == 0 && ur.other == 0) {
		why = ur.note[0] ? ur.note : "no aggregate report found";
		imp->stats.rejected++;
		ic.rejected++;
		say_rejected(imp, NULL, source, why);
		if (batch_ensure(imp, e) == -1 ||
		    log_outcome(imp, source, "rejected", NULL, 0, why, e) == -1)
			return -1;
	}
	if (ic.rejected > 0)
		*result = INPUT_REJECTED;
	return 0;
}
