/*
 * sum-runs.h - a report's traffic sums, when they fill their memory
 * budget (traffic.h), written out as sorted runs to a temporary file, and
 * merged back at the report's end: every key once, its counters summed,
 * in key order.
 *
 * Why: a big report's groups can then go into the rollup as one stream of
 * distinct rows (a COPY, or an INSERT without GROUP BY) however many times
 * its sums filled, with the memory they take still bounded.  The file is
 * the process's alone (tmpfile(): $TMPDIR or /tmp, gone when closed), and
 * holds what the sums held: some 100 bytes a group.
 */
#ifndef DMARCSIFT_SUM_RUNS_H
#define DMARCSIFT_SUM_RUNS_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "traffic.h"

struct sum_runs {
	FILE *f;        /* opened with the first run */
	long long *end; /* run i ends at end[i], starts at end[i - 1] */
	size_t n, cap;  /* runs written, room in end */
};

void sum_runs_init(struct sum_runs *sr);
void sum_runs_free(struct sum_runs *sr);
/* Forgets the runs (a report rolled back, or merged). */
void sum_runs_reset(struct sum_runs *sr);
/* How many runs are waiting. */
size_t sum_runs_count(const struct sum_runs *sr);

/* t's entries written out as one more run; t is emptied.  0, or -1 with e
 * filled (the file cannot be created or written). */
int sum_runs_add(struct sum_runs *sr, struct traffic *t, struct err *e);

/* Calls cb once for every key of the runs and of t, its counters summed,
 * in traffic_sorted()'s order; then t is emptied and the runs forgotten.
 * 0, or -1 when cb returned -1 (e filled by it) or with e filled here. */
int sum_runs_merge(struct sum_runs *sr, struct traffic *t,
                   int (*cb)(void *arg, const struct traffic_entry *en),
                   void *arg, struct err *e);

#endif
