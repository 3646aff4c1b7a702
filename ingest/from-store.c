/*
 * from-store.c - dmarc-ingest --from-store (from-store.h).
 *
 * The payloads are what the store kept as received (plain XML kept
 * gzip-compressed: store/payload.h), so each is an input like a file: the
 * importer unpacks, parses, deduplicates and stores it in the target, with
 * a payload of its own.  Each is named "<store>#<payload id>:<name>" in
 * messages and the ingest log.
 *
 * DMARC failure reports have no payload (their message is the mail of
 * someone else and is not kept), so they are moved whole instead: every
 * field as the source store has it, under the same fingerprint, so that
 * moving twice stores each once.  Each is named "<store>#failure <id>:"
 * followed by the input it first came from.
 */
#include "from-store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store.h"

struct walk {
	struct fetch_ctx *fc;
	const char *location;
};

static int
one_payload(void *arg, const struct store_raw_row *r, struct err *e)
{
	struct walk *w = arg;
	enum input_result res;
	struct origin o;
	char name[1024];

	snprintf(name, sizeof(name), "%s#%" PRId64 ":%s", w->location, r->id,
	    r->name != NULL ? r->name : "");
	memset(&o, 0, sizeof(o));
	o.kind = ORIGIN_MEM;
	o.mem = r->data;
	o.len = r->len;
	return fetch_import(w->fc, &o, name, &res, e);
}

static int
one_failure(void *arg, const struct store_failure_kept *k, struct err *e)
{
	struct walk *w = arg;
	char name[1024];

	snprintf(name, sizeof(name), "%s#failure %" PRId64 ":%s", w->location,
	    k->id, k->source != NULL ? k->source : "");
	return import_failure_kept(w->fc->imp, k->r, name, e);
}

int
from_store_import(struct fetch_ctx *fc, const char *location, struct err *e)
{
	struct walk w = {fc, location};
	struct store *src;
	int exists, rc;

	if (store_exists(location, &exists, e) == -1)
		return err_prefix(e, "--from-store");
	if (!exists)
		return err_set(e, "--from-store %s: no store there", location);
	if (store_open(location, STORE_READONLY, &src, e) == -1)
		return err_prefix(e, "--from-store");
	rc = store_each_payload(src, one_payload, &w, e);
	if (rc == 0)
		rc = store_each_failure_kept(src, one_failure, &w, e);
	store_close(src);
	return rc;
}
