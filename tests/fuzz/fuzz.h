/*
 * fuzz.h - what the libFuzzer targets share.
 *
 * The targets, one file each:
 *   fuzz_parser   the report parser on raw bytes, strict then salvage as
 *                 the importer does, read whole and in small pieces, and
 *                 through the pipeline's worker thread; the three must
 *                 agree.
 *   fuzz_unpack   unpack_input() on an ORIGIN_MEM origin (content
 *                 detection, gzip, zlib, zip, nested containers, messages)
 *                 with a sink that parses every XML document it is given.
 *   fuzz_mime     mime_walk() on raw messages; every part handed over is
 *                 read to its last byte.
 *   fuzz_mbox     fetch_mbox_stream() on the input (fmemopen), into a real
 *                 store; afterwards no report may be half stored.
 *   fuzz_maildir  the input split into messages (at FUZZ_MAILDIR_SEP)
 *                 written into a temporary maildir, read by the maildir
 *                 source into a real store; same check.
 *   fuzz_tlsrpt   the SMTP TLS report parser (JSON) on raw bytes, twice;
 *                 the parses agree and a parsed report is well-typed.
 *
 * A target aborts (a crash for libFuzzer) when an invariant breaks, not
 * only when a sanitizer fires.  Everything here is test code: it is never
 * part of the library.
 */
#ifndef DMARCSIFT_FUZZ_H
#define DMARCSIFT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "reader.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Separates the messages of a maildir input (fuzz_maildir). */
#define FUZZ_MAILDIR_SEP "\n\x01\x02\n"

#define FUZZ_CHECK(cond)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",     \
			    __FILE__, __LINE__, #cond);                      \
			abort();                                             \
		}                                                            \
	} while (0)

/* A reader over a buffer.  With `small`, reads return 1 to 13 bytes, in a
 * pattern seeded by the length, so that chunk boundaries fall inside
 * tags, UTF-8 sequences and the XML declaration. */
struct fuzz_mem {
	const uint8_t *p;
	size_t len, pos;
	int small;
	uint32_t rng;
};

static inline ssize_t
fuzz_mem_read(void *ctx, void *buf, size_t n, struct err *e)
{
	struct fuzz_mem *m = ctx;

	(void)e;
	if (m->small) {
		m->rng = m->rng * 1103515245u + 12345u;
		if (n > 1 + (m->rng >> 16) % 13)
			n = 1 + (m->rng >> 16) % 13;
	}
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static inline struct reader
fuzz_mem_reader(struct fuzz_mem *m, const uint8_t *p, size_t len, int small)
{
	struct reader r = {fuzz_mem_read, m, NULL};

	m->p = p;
	m->len = len;
	m->pos = 0;
	m->small = small;
	m->rng = (uint32_t)len;
	return r;
}

/* FNV-1a over a string that must be readable to its NUL (ASan checks
 * that); NULL hashes differently from "". */
static inline uint64_t
fuzz_hash_str(uint64_t h, const char *s)
{
	if (s == NULL)
		return (h ^ 0xff) * 1099511628211ULL;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h ^ 0x1f) * 1099511628211ULL;
}

static inline uint64_t
fuzz_hash_mem(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ c[i]) * 1099511628211ULL;
	return h;
}

/* Every string of a report header, as a handler would store it. */
static inline uint64_t
fuzz_hash_meta(uint64_t h, const struct dmarc_meta *m)
{
	const char *const f[] = {m->xmlns, m->version, m->org_name, m->email,
	    m->extra_contact_info, m->report_id, m->errors, m->generator,
	    m->domain, m->adkim, m->aspf, m->p, m->sp, m->np, m->fo,
	    m->testing, m->discovery_method};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		h = fuzz_hash_str(h, f[i]);
	h = fuzz_hash_mem(h, &m->begin, sizeof(m->begin));
	return fuzz_hash_mem(h, &m->end, sizeof(m->end));
}

/* Every value of a record, as the store reads them. */
static inline uint64_t
fuzz_hash_record(uint64_t h, const struct dmarc_record *r)
{
	size_t i;

	h = fuzz_hash_str(h, r->source_ip);
	h = fuzz_hash_mem(h, &r->count, sizeof(r->count));
	h = fuzz_hash_str(h, r->disposition);
	h = fuzz_hash_str(h, r->dkim);
	h = fuzz_hash_str(h, r->spf);
	h = fuzz_hash_str(h, r->header_from);
	h = fuzz_hash_str(h, r->envelope_from);
	h = fuzz_hash_str(h, r->envelope_to);
	FUZZ_CHECK(r->nreasons == 0 || r->reasons != NULL);
	FUZZ_CHECK(r->ndkim == 0 || r->dkim_results != NULL);
	FUZZ_CHECK(r->nspf == 0 || r->spf_results != NULL);
	for (i = 0; i < r->nreasons; i++) {
		h = fuzz_hash_str(h, r->reasons[i].type);
		h = fuzz_hash_str(h, r->reasons[i].type_original);
		h = fuzz_hash_str(h, r->reasons[i].comment);
	}
	for (i = 0; i < r->ndkim; i++) {
		h = fuzz_hash_str(h, r->dkim_results[i].domain);
		h = fuzz_hash_str(h, r->dkim_results[i].selector);
		h = fuzz_hash_str(h, r->dkim_results[i].result);
		h = fuzz_hash_str(h, r->dkim_results[i].human_result);
	}
	for (i = 0; i < r->nspf; i++) {
		h = fuzz_hash_str(h, r->spf_results[i].domain);
		h = fuzz_hash_str(h, r->spf_results[i].scope);
		h = fuzz_hash_str(h, r->spf_results[i].result);
		h = fuzz_hash_str(h, r->spf_results[i].human_result);
	}
	return h;
}

#endif
