/*
 * command.c - the helpers every command shares (see command.h): kept in
 * the library, not in main.c, so a command links on its own.
 */
#include "command.h"

#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "align.h"
#include "source-names.h"

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
		fprintf(f,
		        "No %s match the selection (--domain, --since, "
		        "--until).\n",
		        what);
	else
		fprintf(f,
		        "No %s in the database yet: import some with "
		        "dmarc-ingest.\n",
		        what);
}

/* The names of the source addresses (source-names.h), handed to the
 * classifier: every command that classifies sees the same PTR names. */
static int
tools_names(struct report_ctx *ctx, struct err *e)
{
	struct source_names *names = NULL;

	if (ctx->st == NULL)
		return 0;
	if (source_names_load(ctx->st, ctx->al, &names, e) == -1)
		return -1;
	classify_attach_names(ctx->cl, names);
	return 0;
}

int
tools_open(struct report_ctx *ctx, struct err *e)
{
	if (ctx->cl != NULL && ctx->al != NULL)
		return 0; /* a second command on the same ctx */
	if (classify_open(&ctx->cl, ctx->sources_file, e) == -1 ||
	    align_open(&ctx->al, e) == -1) {
		ctx->fail_status = EX_USAGE;
		return -1;
	}
	return tools_names(ctx, e);
}

const char *
source_label(const char *name, const char *ip)
{
	return name != NULL ? name : ip != NULL ? ip : "(no address)";
}

void
source_identify(const struct classifier *cl, const struct store_group *g,
                struct source_id *out)
{
	classify(cl, g->source_ip, g->envelope_from, g->spf, g->nspf, g->dkim,
	         g->ndkim, &out->snd);
	out->label = source_label(out->snd.name, g->source_ip);
	out->region = out->snd.ses ? out->snd.region : "";
	out->dns = source_names_get(classify_names(cl), g->source_ip);
	out->by_org = out->snd.name == NULL && out->dns != NULL &&
	              out->dns->org != NULL;
	if (out->by_org)
		out->label = out->dns->org;
}

const char *
plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

void
view_hidden(const struct report_ctx *ctx, const char *kind, size_t hidden,
    uint64_t messages)
{
	char line[200];

	if (hidden == 0)
		return;
	snprintf(line, sizeof(line),
	    "... and %zu more %s source%s with %llu message%s (--format csv "
	    "lists every one).",
	    hidden, kind, plural(hidden), (unsigned long long)messages,
	    plural(messages));
	output_text(ctx->out, 0, "", "", line, 100);
}

int
view_begin(struct output *o, const struct report_ctx *ctx,
           const struct column *cols, size_t ncols, struct err *e)
{
	if (output_begin(o, ctx->format, ctx->out, cols, ncols) == -1)
		return err_set(e, "out of memory");
	return 0;
}

int
view_row(struct output *o, const struct cell *cells, struct err *e)
{
	if (output_row(o, cells) == -1) {
		output_end(o);
		return err_set(e, "cannot write the output");
	}
	return 0;
}

int
view_end(struct output *o, struct err *e)
{
	if (output_end(o) == -1)
		return err_set(e, "cannot write the output");
	return 0;
}

int
view_empty(const struct report_ctx *ctx, const struct column *cols,
           size_t ncols, struct err *e)
{
	struct output o;

	if (view_begin(&o, ctx, cols, ncols, e) == -1)
		return -1;
	return view_end(&o, e);
}

int
source_cmp(uint64_t am, const char *an, const char *ar, uint64_t bm,
    const char *bn, const char *br)
{
	int c;

	if (am != bm)
		return am > bm ? -1 : 1;
	if ((c = strcmp(an, bn)) != 0)
		return c;
	return strcmp(ar, br);
}
