/*
 * fetch.c - the table of local sources, and what they share.
 */
#include <sys/stat.h>

#include "fetch.h"

#include <stdio.h>

static const struct fetch *const sources[] = {
    &fetch_stdin,
    &fetch_maildir,
    &fetch_mbox,
    &fetch_file, /* last: accepts anything */
};

int
fetch_path(struct fetch_ctx *fc, const char *path, struct err *e)
{
	struct stat sb;
	size_t i;

	/* the mbox a --mbox-handled move emptied is still the mbox */
	if (fc->mbox_handled && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size == 0)
		return fetch_mbox.run(fc, path, e);
	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (sources[i]->accepts(path))
			return sources[i]->run(fc, path, e);
	return 0;
}

static void
progress(struct fetch_ctx *fc)
{
	struct import_stats live, *s = &live;

	import_stats_live(fc->imp, &live);
	if (!fc->progress || (s->inputs % 25 != 0))
		return;
	fprintf(stderr, "\r%lu inputs, %lu reports stored, %lu duplicates, "
			"%lu rejected ",
	    s->inputs, s->stored, s->duplicates, s->rejected);
	fflush(stderr);
}

void
fetch_progress_done(struct fetch_ctx *fc)
{
	if (fc->progress)
		fprintf(stderr, "\r\033[K");
}

int
fetch_import(struct fetch_ctx *fc, const struct origin *o, const char *source,
    enum input_result *result, struct err *e)
{
	int rc = import_input(fc->imp, o, source, result, e);

	progress(fc);
	return rc;
}
