/*
 * pipeline.c - see pipeline.h.
 *
 * The worker runs parser_run() with a proxy handler.  The proxy's begin
 * callback is a rendezvous: the worker waits until the calling thread has
 * run the real begin callback (which decides whether the report is new and
 * opens it in the store), so the header it hands over cannot change under
 * the reader.  The proxy's record callback copies the record into the next
 * free slot of a ring; the calling thread turns the slot back into a
 * struct dmarc_record and calls the real record callback.
 *
 * Copies keep their strings in the slot's own buffer and refer to them by
 * offset; pointers are made on the consumer side, where the buffer no
 * longer moves.  A slot whose buffer grew large is trimmed before reuse, and
 * the ring as a whole holds at most RING_BYTES, so memory stays flat even
 * for hostile records.
 */
#include "pipeline.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define NSLOTS	   256
#define WAKE_AT	   32 /* records queued before the consumer is woken */
#define RING_BYTES (8u << 20)
#define SLOT_KEEP  (64u << 10) /* a slot buffer larger than this is freed */

struct slot {
	struct buf data;
	struct dmarc_record rec; /* string fields hold offset + 1, 0 = NULL */
	struct dmarc_reason *reasons;
	struct dmarc_dkim *dkim;
	struct dmarc_spf *spf;
	size_t capreasons, capdkim, capspf;
};

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv_worker;   /* the worker waits here */
	pthread_cond_t cv_consumer; /* the calling thread waits here */

	struct slot slots[NSLOTS];
	unsigned head, tail, count;
	size_t queued_bytes;

	int begin_pending;
	const struct dmarc_meta *begin_meta;
	int begin_complete, begin_rc;

	int worker_waiting;
	int consumer_waiting;
	int done;     /* the worker's parse is over */
	int aborted;  /* the handler failed: the worker must stop */
	struct err abort_err;

	/* the worker's job */
	struct parser *p;
	struct reader *in;
	enum parse_mode mode;
	struct parse_result *res;
	enum parse_status status;
	struct err err;
};

/* --- copying records ---------------------------------------------------- */

static const char *
put(struct buf *b, const char *s, int *oom)
{
	size_t off = b->len;
	struct err e;

	if (s == NULL)
		return NULL;
	if (buf_append(b, s, strlen(s) + 1, &e) == -1) {
		*oom = 1;
		return NULL;
	}
	return (const char *)(uintptr_t)(off + 1);
}

static const char *
fix(const struct buf *b, const char *off)
{
	return off == NULL ? NULL : b->data + ((uintptr_t)off - 1);
}

static int
grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n <= *cap)
		return 0;
	if ((p = realloc(*arr, n * size)) == NULL)
		return -1;
	*arr = p;
	*cap = n;
	return 0;
}

static int
slot_fill(struct slot *s, const struct dmarc_record *r)
{
	struct dmarc_record *c = &s->rec;
	int oom = 0;
	size_t i;

	if (s->data.cap > SLOT_KEEP)
		buf_free(&s->data);
	buf_reset(&s->data);
	if (grow((void **)&s->reasons, &s->capreasons, r->nreasons,
		sizeof(*s->reasons)) == -1 ||
	    grow((void **)&s->dkim, &s->capdkim, r->ndkim, sizeof(*s->dkim)) ==
		-1 ||
	    grow((void **)&s->spf, &s->capspf, r->nspf, sizeof(*s->spf)) == -1)
		return -1;
	*c = *r;
	c->source_ip = put(&s->data, r->source_ip, &oom);
	c->disposition = put(&s->data, r->disposition, &oom);
	c->dkim = put(&s->data, r->dkim, &oom);
	c->spf = put(&s->data, r->spf, &oom);
	c->header_from = put(&s->data, r->header_from, &oom);
	c->envelope_from = put(&s->data, r->envelope_from, &oom);
	c->envelope_to = put(&s->data, r->envelope_to, &oom);
	for (i = 0; i < r->nreasons; i++) {
		s->reasons[i].type = put(&s->data, r->reasons[i].type, &oom);
		s->reasons[i].type_original =
		    put(&s->data, r->reasons[i].type_original, &oom);
		s->reasons[i].comment = put(&s->data, r->reasons[i].comment, &oom);
	}
	for (i = 0; i < r->ndkim; i++) {
		s->dkim[i].domain = put(&s->data, r->dkim_results[i].domain, &oom);
		s->dkim[i].selector =
		    put(&s->data, r->dkim_results[i].selector, &oom);
		s->dkim[i].result = put(&s->data, r->dkim_results[i].result, &oom);
		s->dkim[i].human_result =
		    put(&s->data, r->dkim_results[i].human_result, &oom);
	}
	for (i = 0; i < r->nspf; i++) {
		s->spf[i].domain = put(&s->data, r->spf_results[i].domain, &oom);
		s->spf[i].scope = put(&s->data, r->spf_results[i].scope, &oom);
		s->spf[i].result = put(&s->data, r->spf_results[i].result, &oom);
		s->spf[i].human_result =
		    put(&s->data, r->spf_results[i].human_result, &oom);
	}
	return oom ? -1 : 0;
}

/* Turns the slot back into a record whose strings point into the slot. */
static void
slot_fixup(struct slot *s)
{
	struct dmarc_record *c = &s->rec;
	const struct buf *b = &s->data;
	size_t i;

	c->source_ip = fix(b, c->source_ip);
	c->disposition = fix(b, c->disposition);
	c->dkim = fix(b, c->dkim);
	c->spf = fix(b, c->spf);
	c->header_from = fix(b, c->header_from);
	c->envelope_from = fix(b, c->envelope_from);
	c->envelope_to = fix(b, c->envelope_to);
	for (i = 0; i < c->nreasons; i++) {
		s->reasons[i].type = fix(b, s->reasons[i].type);
		s->reasons[i].type_original = fix(b, s->reasons[i].type_original);
		s->reasons[i].comment = fix(b, s->reasons[i].comment);
	}
	for (i = 0; i < c->ndkim; i++) {
		s->dkim[i].domain = fix(b, s->dkim[i].domain);
		s->dkim[i].selector = fix(b, s->dkim[i].selector);
		s->dkim[i].result = fix(b, s->dkim[i].result);
		s->dkim[i].human_result = fix(b, s->dkim[i].human_result);
	}
	for (i = 0; i < c->nspf; i++) {
		s->spf[i].domain = fix(b, s->spf[i].domain);
		s->spf[i].scope = fix(b, s->spf[i].scope);
		s->spf[i].result = fix(b, s->spf[i].result);
		s->spf[i].human_result = fix(b, s->spf[i].human_result);
	}
	c->reasons = s->reasons;
	c->dkim_results = s->dkim;
	c->spf_results = s->spf;
}

/* --- the worker's side --------------------------------------------------- */

static int
proxy_begin(void *arg, const struct dmarc_meta *m, int complete, struct err *e)
{
	struct pipe *pp = arg;
	int rc;

	pthread_mutex_lock(&pp->mu);
	pp->begin_meta = m;
	pp->begin_complete = complete;
	pp->begin_pending = 1;
	pthread_cond_signal(&pp->cv_consumer);
	while (pp->begin_pending)
		pthread_cond_wait(&pp->cv_worker, &pp->mu);
	rc = pp->begin_rc;
	if (rc == -1)
		*e = pp->abort_err;
	pthread_mutex_unlock(&pp->mu);
	return rc;
}

static int
proxy_record(void *arg, const struct dmarc_record *r, struct err *e)
{
	struct pipe *pp = arg;
	struct slot *s;
	size_t bytes;

	pthread_mutex_lock(&pp->mu);
	while ((pp->count == NSLOTS || pp->queued_bytes >= RING_BYTES) &&
	       !pp->aborted) {
		pp->worker_waiting = 1;
		pthread_cond_wait(&pp->cv_worker, &pp->mu);
		pp->worker_waiting = 0;
	}
	if (pp->aborted) {
		*e = pp->abort_err;
		pthread_mutex_unlock(&pp->mu);
		return -1;
	}
	s = &pp->slots[pp->head];
	pthread_mutex_unlock(&pp->mu);

	/* the slot is the worker's until it is counted in */
	if (slot_fill(s, r) == -1)
		return err_set(e, "out of memory copying a record");
	bytes = s->data.len;

	pthread_mutex_lock(&pp->mu);
	pp->head = (pp->head + 1) % NSLOTS;
	pp->queued_bytes += bytes;
	pp->count++;
	/* Waking the consumer for every record costs a context switch per
	 * record; wake it when a batch is ready (or at the end). */
	if (pp->consumer_waiting &&
	    (pp->count >= WAKE_AT || pp->queued_bytes >= RING_BYTES / 2))
		pthread_cond_signal(&pp->cv_consumer);
	pthread_mutex_unlock(&pp->mu);
	return 0;
}

static void *
worker(void *arg)
{
	struct pipe *pp = arg;
	struct parse_handler proxy = {pp, proxy_begin, proxy_record};

	pp->status = parser_run(pp->p, pp->in, pp->mode, &proxy, pp->res,
	    &pp->err);
	pthread_mutex_lock(&pp->mu);
	pp->done = 1;
	pthread_cond_signal(&pp->cv_consumer);
	pthread_mutex_unlock(&pp->mu);
	return NULL;
}

/* --- the calling thread's side ------------------------------------------- */

static void
fail_consumer(struct pipe *pp, const struct err *e)
{
	pthread_mutex_lock(&pp->mu);
	if (!pp->aborted) {
		pp->aborted = 1;
		pp->abort_err = *e;
	}
	pthread_cond_broadcast(&pp->cv_worker);
	pthread_mutex_unlock(&pp->mu);
}

static void
consume(struct pipe *pp, const struct parse_handler *h)
{
	struct slot *s;
	struct err e;
	unsigned n, i, tail;
	size_t bytes;
	int rc;

	pthread_mutex_lock(&pp->mu);
	for (;;) {
		if (pp->begin_pending) {
			pthread_mutex_unlock(&pp->mu);
			rc = h->begin ? h->begin(h->arg, pp->begin_meta,
					    pp->begin_complete, &e)
				      : 0;
			if (rc == -1)
				fail_consumer(pp, &e);
			pthread_mutex_lock(&pp->mu);
			pp->begin_rc = rc;
			pp->begin_pending = 0;
			pthread_cond_broadcast(&pp->cv_worker);
			continue;
		}
		if (pp->count > 0) {
			/* take every queued record in one go */
			n = pp->count;
			tail = pp->tail;
			pthread_mutex_unlock(&pp->mu);
			bytes = 0;
			for (i = 0; i < n; i++) {
				s = &pp->slots[(tail + i) % NSLOTS];
				bytes += s->data.len;
				if (pp->aborted || h->record == NULL)
					continue;
				slot_fixup(s);
				if (h->record(h->arg, &s->rec, &e) == -1)
					fail_consumer(pp, &e);
			}
			pthread_mutex_lock(&pp->mu);
			pp->tail = (tail + n) % NSLOTS;
			pp->count -= n;
			pp->queued_bytes -= bytes;
			if (pp->worker_waiting)
				pthread_cond_signal(&pp->cv_worker);
			continue;
		}
		if (pp->done)
			break;
		pp->consumer_waiting = 1;
		pthread_cond_wait(&pp->cv_consumer, &pp->mu);
		pp->consumer_waiting = 0;
	}
	pthread_mutex_unlock(&pp->mu);
}

enum parse_status
pipeline_parse(struct parser *p, struct reader *in, enum parse_mode mode,
    const struct parse_handler *h, struct parse_result *res, struct err *e)
{
	struct pipe *pp;
	pthread_t t;
	enum parse_status st;
	size_t i;

	if ((pp = calloc(1, sizeof(*pp))) == NULL) {
		err_set(e, "out of memory");
		return PARSE_REJECT;
	}
	for (i = 0; i < NSLOTS; i++)
		buf_init(&pp->slots[i].data, 2u << 20);
	pthread_mutex_init(&pp->mu, NULL);
	pthread_cond_init(&pp->cv_worker, NULL);
	pthread_cond_init(&pp->cv_consumer, NULL);
	pp->p = p;
	pp->in = in;
	pp->mode = mode;
	pp->res = res;

	if (pthread_create(&t, NULL, worker, pp) != 0) {
		/* no thread: parse here, just slower */
		st = parser_run(p, in, mode, h, res, e);
	} else {
		consume(pp, h);
		pthread_join(t, NULL);
		st = pp->status;
		/* The worker may have parsed to the end before the handler
		 * refused one of the last records: the worker then never saw
		 * the abort, but the parse failed all the same, as
		 * parser_run() would have said. */
		if (pp->aborted)
			st = PARSE_REJECT;
		if (st != PARSE_OK)
			*e = pp->aborted ? pp->abort_err : pp->err;
	}
	for (i = 0; i < NSLOTS; i++) {
		buf_free(&pp->slots[i].data);
		free(pp->slots[i].reasons);
		free(pp->slots[i].dkim);
		free(pp->slots[i].spf);
	}
	pthread_cond_destroy(&pp->cv_worker);
	pthread_cond_destroy(&pp->cv_consumer);
	pthread_mutex_destroy(&pp->mu);
	free(pp);
	return st;
}
