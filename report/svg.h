/*
 * svg.h - the charts of dmarc-report's HTML page, drawn as inline SVG.
 *
 * Owns: the geometry (a fixed view box scaled by CSS), the axes with
 * "nice" steps, one <path> per series for bars (a few bytes a bar, so a
 * page with hundreds of domains stays small), polylines broken where a
 * bucket has no data, and the chart's text alternative: a <title> and a
 * <desc> inside the SVG, a legend naming every series, and the numbers
 * themselves as a table in a <details> element.
 *
 * Promises: series are coloured through the classes c0..c7 (bars) and
 * l0..l7 (lines) of html.c's style sheet; every label goes through
 * html_text(); a chart's figures are the caller's numbers, never
 * smoothed or rescaled.
 */
#ifndef DMARCSIFT_SVG_H
#define DMARCSIFT_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A chart over time: nb buckets of `days` days each from day `start`
 * (days since the epoch), ns series with their labels and colour classes
 * ("c0".."c7", "pass", "fail"). */
struct svg_chart {
	const char *id;    /* unique in the page, [a-z0-9-] */
	const char *title; /* the caption */
	const char *desc;  /* a sentence that says what it shows */
	int64_t start;     /* first bucket's day */
	unsigned days;     /* days per bucket */
	size_t nb, ns;
	const char *const *labels;  /* ns */
	const char *const *classes; /* ns */
	int table;                  /* add the numbers as a table */
};

/* Stacked bars: v[b * ns + s] is series s in bucket b.  Returns -1 when
 * out of memory (nothing written). */
int svg_stacked(FILE *f, const struct svg_chart *c, const uint64_t *v);

/* Lines of shares in tenths of a percent (0..1000); v[b * ns + s] < 0
 * means no data in that bucket (the line breaks there). */
void svg_lines(FILE *f, const struct svg_chart *c, const int *v);

/* A sparkline of n values for a table cell, with label as its title. */
void svg_spark(FILE *f, const uint64_t *v, size_t n, const char *label);

/* "YYYY-MM-DD" of a day since the epoch. */
void svg_day(int64_t day, char *out, size_t len);

#endif
