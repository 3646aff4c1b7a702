/*
 * percent.h - the one way dmarc-report turns counts into a share.
 *
 * Owns the rounding of every percentage the commands print (table cells
 * of type COL_PERCENT and the prose around tables).
 *
 * Promises: a share is in tenths of a percent, rounded to the nearest,
 * except that it is never 1000 (100.0%) while part < whole, nor 0 (0.0%)
 * while part > 0: 9,996 of 10,000 is 99.9%, not 100.0%; 1 of 10,000 is
 * 0.1%, not 0.0%.  An empty whole is 0.  So "100.0%" always means every
 * message and "0.0%" none, which is what a reader acts on.
 */
#ifndef DMARCSIFT_PERCENT_H
#define DMARCSIFT_PERCENT_H

#include <stddef.h>
#include <stdint.h>

/* part of whole in tenths of a percent, 0..1000, as promised above. */
int64_t percent_permille(uint64_t part, uint64_t whole);

/* Writes the share as "99.9%" into out (at least 8 bytes); returns out. */
char *percent_format(uint64_t part, uint64_t whole, char *out, size_t len);

#endif
