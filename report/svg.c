/*
 * svg.c - bar, line and spark charts as inline SVG (svg.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "html.h"
#include "svg.h"

/* The view box; CSS scales it to the page's width. */
#define W      720.0
#define H      220.0
#define LEFT   58.0
#define RIGHT  8.0
#define TOP    10.0
#define BOTTOM 24.0
#define PW     (W - LEFT - RIGHT)
#define PH     (H - TOP - BOTTOM)

void
svg_day(int64_t day, char *out, size_t len)
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%d", &tm) == 0)
		snprintf(out, len, "?");
}

/* The smallest 1, 2, 2.5 or 5 times a power of ten that is >= x. */
static double
nice_step(double x)
{
	double p = 1;

	while (p * 10 <= x)
		p *= 10;
	while (p > x && p > 1)
		p /= 10;
	if (p >= x)
		return p;
	if (2 * p >= x)
		return 2 * p;
	if (2.5 * p >= x)
		return 2.5 * p;
	if (5 * p >= x)
		return 5 * p;
	return 10 * p;
}

static void
open_svg(FILE *f, const struct svg_chart *c)
{
	fprintf(f, "<figure>\n<figcaption id=\"%s-t\">", c->id);
	html_text(f, c->title);
	fprintf(f,
	        "</figcaption>\n<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
	        "aria-labelledby=\"%s-t %s-d\">\n<desc id=\"%s-d\">",
	        W, H, c->id, c->id, c->id);
	html_text(f, c->desc);
	fputs("</desc>\n", f);
}

/* Gridlines and labels for the y axis from 0 to top, in steps of step;
 * pct: the values are tenths of a percent. */
static void
y_axis(FILE *f, double top, double step, int pct)
{
	unsigned k;

	/* an integer counter: a double summed step by step drifts */
	for (k = 0; (double)k * step <= top + step / 2; k++) {
		double v = (double)k * step;
		double y = TOP + PH - v / top * PH;

		fprintf(
		    f,
		    "<line class=\"grid\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" "
		    "y2=\"%.1f\"/>",
		    LEFT, y, W - RIGHT, y);
		if (pct)
			fprintf(f,
			        "<text x=\"%.0f\" y=\"%.1f\" "
			        "text-anchor=\"end\">%.0f%%</text>\n",
			        LEFT - 6, y + 4, v / 10);
		else
			fprintf(f,
			        "<text x=\"%.0f\" y=\"%.1f\" "
			        "text-anchor=\"end\">%.15g</text>\n",
			        LEFT - 6, y + 4, v);
	}
}

/* Dates under the first, middle and last buckets. */
static void
x_axis(FILE *f, const struct svg_chart *c)
{
	static const char *const anchor[] = {"start", "middle", "end"};
	size_t at[3], i, n = 0;
	char day[16];

	at[n++] = 0;
	if (c->nb > 2)
		at[n++] = c->nb / 2;
	if (c->nb > 1)
		at[n++] = c->nb - 1;
	fprintf(f,
	        "<line class=\"axis\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" "
	        "y2=\"%.1f\"/>\n",
	        LEFT, TOP + PH, W - RIGHT, TOP + PH);
	for (i = 0; i < n; i++) {
		double bw = PW / (double)c->nb;
		double x = LEFT + bw * (double)at[i] + bw / 2;
		const char *a = anchor[n == 1       ? 1
		                       : i == 0     ? 0
		                       : i == n - 1 ? 2
		                                    : 1];

		if (a == anchor[0])
			x = LEFT;
		else if (a == anchor[2])
			x = W - RIGHT;
		svg_day(c->start + (int64_t)at[i] * c->days, day, sizeof(day));
		fprintf(f,
		        "<text x=\"%.1f\" y=\"%.0f\" "
		        "text-anchor=\"%s\">%s</text>\n",
		        x, H - 6, a, day);
	}
}

static void
legend(FILE *f, const struct svg_chart *c)
{
	size_t s;

	fputs("<ul class=\"legend\">", f);
	for (s = 0; s < c->ns; s++) {
		fprintf(f, "<li><span class=\"sw %s\">&nbsp;</span>",
		        c->classes[s]);
		html_text(f, c->labels[s]);
		fputs("</li>", f);
	}
	fputs("</ul>\n", f);
}

/* The bucket's dates as the first cell of a data row. */
static void
bucket_cell(FILE *f, const struct svg_chart *c, size_t b)
{
	char from[16], to[16];
	int64_t d = c->start + (int64_t)b * c->days;

	svg_day(d, from, sizeof(from));
	if (c->days == 1) {
		fprintf(f, "<tr><td>%s</td>", from);
		return;
	}
	svg_day(d + c->days - 1, to, sizeof(to));
	fprintf(f, "<tr><td>%s to %s</td>", from, to);
}

static void
table_head(FILE *f, const struct svg_chart *c)
{
	size_t s;

	fputs("<details><summary>The numbers</summary>\n<table><thead><tr>"
	      "<th>Days</th>",
	      f);
	for (s = 0; s < c->ns; s++) {
		fputs("<th class=\"n\">", f);
		html_text(f, c->labels[s]);
		fputs("</th>", f);
	}
	fputs("</tr></thead><tbody>\n", f);
}

static void
close_figure(FILE *f)
{
	fputs("</tbody></table></details>\n</figure>\n", f);
}

int
svg_stacked(FILE *f, const struct svg_chart *c, const uint64_t *v)
{
	double max = 0, top, step, bw, gap;
	uint64_t *base;
	size_t b, s;

	for (b = 0; b < c->nb; b++) {
		uint64_t sum = 0;

		for (s = 0; s < c->ns; s++)
			sum += v[b * c->ns + s];
		if ((double)sum > max)
			max = (double)sum;
	}
	step = nice_step(max > 0 ? max / 4 : 1);
	top = step * (double)(uint64_t)((max + step - 1e-9) / step);
	if (top <= 0)
		top = step;
	bw = PW / (double)c->nb;
	gap = bw > 4 ? bw * 0.15 : 0;
	/* calloc(0) may be NULL, which is not "out of memory" */
	if ((base = calloc(c->nb > 0 ? c->nb : 1, sizeof(*base))) == NULL)
		return -1;
	open_svg(f, c);
	y_axis(f, top, step, 0);
	for (s = 0; s < c->ns; s++) {
		fprintf(f, "<path class=\"%s\" d=\"", c->classes[s]);
		for (b = 0; b < c->nb; b++) {
			uint64_t x = v[b * c->ns + s];
			double y0, h;

			if (x == 0)
				continue;
			y0 = TOP + PH - (double)base[b] / top * PH;
			h = (double)x / top * PH;
			fprintf(f, "M%.1f %.2fh%.1fv%.2fh%.1fz",
			        LEFT + bw * (double)b + gap / 2, y0 - h,
			        bw - gap, h, -(bw - gap));
			base[b] += x;
		}
		fputs("\"/>\n", f);
	}
	free(base);
	x_axis(f, c);
	fputs("</svg>\n", f);
	legend(f, c);
	if (!c->table) {
		fputs("</figure>\n", f);
		return 0;
	}
	table_head(f, c);
	for (b = 0; b < c->nb; b++) {
		bucket_cell(f, c, b);
		for (s = 0; s < c->ns; s++)
			fprintf(f, "<td class=\"n\">%" PRIu64 "</td>",
			        v[b * c->ns + s]);
		fputs("</tr>\n", f);
	}
	close_figure(f);
	return 0;
}

/* The point of series s in bucket b. */
static void
line_xy(const struct svg_chart *c, size_t b, int v, double *x, double *y)
{
	double bw = PW / (double)c->nb;

	*x = LEFT + bw * (double)b + bw / 2;
	*y = TOP + PH - (double)v / 1000.0 * PH;
}

/* One polyline per run of buckets with data; a run of one bucket, which
 * a line cannot show, is a dot, and so is every point of a short chart. */
static void
line_series(FILE *f, const struct svg_chart *c, const int *v, size_t s)
{
	size_t b, from;
	double x, y;

	for (b = 0; b < c->nb; b++) {
		if (v[b * c->ns + s] < 0)
			continue;
		for (from = b; b + 1 < c->nb && v[(b + 1) * c->ns + s] >= 0;)
			b++;
		if (b > from) {
			fprintf(f, "<polyline class=\"%s\" points=\"",
			        c->classes[s]);
			for (size_t i = from; i <= b; i++) {
				line_xy(c, i, v[i * c->ns + s], &x, &y);
				fprintf(f, "%s%.1f,%.1f", i > from ? " " : "",
				        x, y);
			}
			fputs("\"/>\n", f);
		}
		for (size_t i = from; i <= b; i++) {
			if (b > from && c->nb > 40)
				break;
			line_xy(c, i, v[i * c->ns + s], &x, &y);
			fprintf(f,
			        "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" "
			        "r=\"3\"/>",
			        c->classes[s], x, y);
		}
	}
}

void
svg_lines(FILE *f, const struct svg_chart *c, const int *v)
{
	size_t b, s;

	open_svg(f, c);
	y_axis(f, 1000, 250, 1);
	for (s = 0; s < c->ns; s++)
		line_series(f, c, v, s);
	x_axis(f, c);
	fputs("</svg>\n", f);
	legend(f, c);
	if (!c->table) {
		fputs("</figure>\n", f);
		return;
	}
	table_head(f, c);
	for (b = 0; b < c->nb; b++) {
		bucket_cell(f, c, b);
		for (s = 0; s < c->ns; s++) {
			int x = v[b * c->ns + s];

			if (x < 0)
				fputs("<td class=\"n\">-</td>", f);
			else
				fprintf(f, "<td class=\"n\">%d.%d%%</td>",
				        x / 10, x % 10);
		}
		fputs("</tr>\n", f);
	}
	close_figure(f);
}

void
svg_spark(FILE *f, const uint64_t *v, size_t n, const char *label)
{
	uint64_t max = 0;
	double w;
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	w = n > 0 ? 150.0 / (double)n : 150.0;
	fputs("<svg viewBox=\"0 0 150 24\" role=\"img\"><title>", f);
	html_text(f, label);
	fputs("</title><path class=\"spark\" d=\"", f);
	for (i = 0; i < n && max > 0; i++) {
		double h = v[i] ? 1 + 22.0 * (double)v[i] / (double)max : 0;

		if (h > 0)
			fprintf(f, "M%.1f %.1fh%.1fv%.1fh%.1fz", w * (double)i,
			        24 - h, w > 2 ? w - 0.5 : w, h,
			        -(w > 2 ? w - 0.5 : w));
	}
	fputs("\"/></svg>", f);
}
