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
 * Each slot is a struct record_copy (record-copy.h): strings by offset
 * until the consumer side makes them pointers, where the buffer no longer
 * moves.  A slot whose buffer grew large is trimmed before reuse, and the
 * ring as a whole holds at most RING_BYTES, so memory stays flat even for
 * hostile records.
 */
#include "pipeline.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "record-copy.h"

#define NSLOTS	   256
#define WAKE_AT	   32 /* records queued before the consumer is woken */
#define RING_BYTES (8u << 20)
#define SLOT_KEEP  (64u << 10) /* a slot buffer larger than this is freed */


struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv_worker;   /* the worker waits here */
	pthread_cond_t cv_consumer; /* the calling thread waits here */

	struct record_copy slots[NSLOTS];
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
	struct record_copy *s;
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
	if (record_copy(s, r) == -1)
		return err_set(e, "out of memory copying a record");
	bytes = record_copy_bytes(s);

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
	struct record_copy *s;
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
				bytes += record_copy_bytes(s);
				if (pp->aborted || h->record == NULL)
					continue;
				record_copy_view(s);
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
		record_copy_init(&pp->slots[i], 2u << 20, SLOT_KEEP);
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
	for (i = 0; i < NSLOTS; i++)
		record_copy_free(&pp->slots[i]);
	pthread_cond_destroy(&pp->cv_worker);
	pthread_cond_destroy(&pp->cv_consumer);
	pthread_mutex_destroy(&pp->mu);
	free(pp);
	return st;
}
