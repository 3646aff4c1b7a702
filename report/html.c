/*
 * html.c - the page's frame, its style sheet and its escaping (html.h).
 */
#include <stdint.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "html.h"

/*
 * One style sheet, pinned in the CSP by its hash: a page that ends up
 * holding a <style> or style="" of a report's making would not apply it.
 * The palette is Okabe and Ito's, distinguishable with every common colour
 * vision deficiency; the charts never rely on colour alone (legends name
 * every series, each chart has its data as a table).
 */
static const char css[] =
    ":root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fff;--mute:#5f5f5f;"
    "--line:#d0d0d0;--card:#f6f6f6;--pass:#0072b2;--fail:#d55e00;"
    "--c0:#0072b2;--c1:#e69f00;--c2:#009e73;--c3:#cc79a7;--c4:#56b4e9;"
    "--c5:#d55e00;--c6:#f0e442;--c7:#8f8f8f}\n"
    "@media (prefers-color-scheme:dark){:root{--fg:#e8e8e8;--bg:#161616;"
    "--mute:#a8a8a8;--line:#3a3a3a;--card:#222;--pass:#56b4e9;"
    "--c0:#56b4e9;--c4:#9ad0f0}}\n"
    "body{font:15px/1.45 system-ui,sans-serif;color:var(--fg);"
    "background:var(--bg);margin:0 auto;max-width:1100px;padding:1em}\n"
    "h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.25em;margin:1.6em 0 "
    ".3em;border-bottom:1px solid var(--line)}h3{font-size:1.05em;"
    "margin:1.1em 0 .3em}\n"
    "p.meta,.mute{color:var(--mute)}\n"
    "table{border-collapse:collapse;margin:.3em 0 .8em}"
    "th,td{padding:.2em .6em;border-bottom:1px solid var(--line);"
    "text-align:left;vertical-align:top}td.n,th.n{text-align:right;"
    "font-variant-numeric:tabular-nums}\n"
    ".verdict{border-left:6px solid var(--c7);background:var(--card);"
    "padding:.5em .9em;margin:.5em 0}.verdict b{font-size:1.1em}\n"
    ".v-ready{border-color:var(--c2)}.v-not-ready{border-color:var(--fail)}"
    ".v-review{border-color:var(--c1)}td.v-not-ready{color:var(--fail);"
    "font-weight:600}td.v-review{color:var(--c1);font-weight:600}\n"
    ".sev-fail{color:var(--fail);font-weight:600}.sev-warn{color:var(--c1);"
    "font-weight:600}\n"
    "figure{margin:.6em 0 1em}figcaption{font-weight:600}"
    "svg{width:100%;height:auto;display:block}\n"
    "svg text{fill:var(--mute);font-size:11px}svg .grid{stroke:var(--line);"
    "stroke-width:1}svg .axis{stroke:var(--mute);stroke-width:1}\n"
    ".c0{fill:var(--c0)}.c1{fill:var(--c1)}.c2{fill:var(--c2)}"
    ".c3{fill:var(--c3)}.c4{fill:var(--c4)}.c5{fill:var(--c5)}"
    ".c6{fill:var(--c6)}.c7{fill:var(--c7)}.pass{fill:var(--pass)}"
    ".fail{fill:var(--fail)}\n"
    ".l0{stroke:var(--c0)}.l1{stroke:var(--c1)}.l2{stroke:var(--c2)}"
    ".l3{stroke:var(--c3)}.l4{stroke:var(--c4)}.l5{stroke:var(--c5)}"
    ".l6{stroke:var(--c6)}.l7{stroke:var(--c7)}polyline{fill:none;"
    "stroke-width:2}\n"
    "ul.legend{list-style:none;padding:0;margin:.2em 0;display:flex;"
    "flex-wrap:wrap;gap:.3em 1.2em}.sw{display:inline-block;width:.9em;"
    "height:.9em;margin-right:.35em;vertical-align:-.1em}\n"
    ".sw.c0{background:var(--c0)}.sw.c1{background:var(--c1)}"
    ".sw.c2{background:var(--c2)}.sw.c3{background:var(--c3)}"
    ".sw.c4{background:var(--c4)}.sw.c5{background:var(--c5)}"
    ".sw.c6{background:var(--c6)}.sw.c7{background:var(--c7)}"
    ".sw.pass{background:var(--pass)}.sw.fail{background:var(--fail)}\n"
    ".sw.l0{background:var(--c0)}.sw.l1{background:var(--c1)}"
    ".sw.l2{background:var(--c2)}.sw.l3{background:var(--c3)}"
    ".sw.l4{background:var(--c4)}.sw.l7{background:var(--c7)}\n"
    "circle.l0{fill:var(--c0)}circle.l1{fill:var(--c1)}circle.l2{fill:"
    "var(--c2)}circle.l3{fill:var(--c3)}circle.l4{fill:var(--c4)}"
    "circle.l7{fill:var(--c7)}path.spark{fill:var(--pass)}\n"
    "details{margin:.2em 0 .6em}summary{cursor:pointer;color:var(--mute)}\n"
    "td.spark{width:160px}td.spark svg{width:150px}\n"
    "@media print{@page{size:A4;margin:12mm}body{max-width:none;"
    "font-size:10pt}section.domain{break-before:page}figure,table"
    "{break-inside:avoid}details{display:none}}\n";

/* Bytes a browser would hide, act on, or reorder are shown as text. */
static int
invisible(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	       c == 0x200e || c == 0x200f || c == 0x061c;
}

/* Length of the UTF-8 sequence at s (1 to 4), with its code point in *cp;
 * 0 when s does not start a valid, shortest-form sequence. */
static size_t
utf8_seq(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp = c;
	return n;
}

void
html_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	if (s == NULL)
		return;
	while (*p != '\0') {
		if ((n = utf8_seq(p, &cp)) == 0) {
			fprintf(f, "\\x%02X", *p++);
			continue;
		}
		if (invisible(cp)) {
			if (cp < 0x100)
				fprintf(f, "\\x%02X", (unsigned)cp);
			else
				fprintf(f, "\\u%04X", (unsigned)cp);
		} else if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '"')
			fputs("&quot;", f);
		else if (cp == '\'')
			fputs("&#39;", f);
		else
			fwrite(p, 1, n, f);
		p += n;
	}
}

/* The CSP source for the style sheet: 'sha256-<base64 of its digest>'. */
static int
css_hash(char *out, size_t len, struct err *e)
{
	unsigned char digest[32];
	gnutls_datum_t in, b64;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, css, sizeof(css) - 1, digest) !=
	    0)
		return err_set(e, "cannot hash the page's style sheet");
	in.data = digest;
	in.size = sizeof(digest);
	if (gnutls_base64_encode2(&in, &b64) != 0)
		return err_set(e, "cannot hash the page's style sheet");
	snprintf(out, len, "%.*s", (int)b64.size, (const char *)b64.data);
	gnutls_free(b64.data);
	return 0;
}

int
html_begin(FILE *f, const char *title, struct err *e)
{
	char hash[64];

	if (css_hash(hash, sizeof(hash), e) == -1)
		return -1;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n",
	      f);
	/* default-src 'none' covers every fetch (images, fonts, frames,
	 * connections); form-action and base-uri are not covered by it */
	fprintf(f,
	        "<meta http-equiv=\"Content-Security-Policy\" "
	        "content=\"default-src 'none'; style-src 'sha256-%s'; "
	        "base-uri 'none'; form-action 'none'\">\n",
	        hash);
	fputs("<meta name=\"viewport\" content=\"width=device-width, "
	      "initial-scale=1\">\n<meta name=\"referrer\" "
	      "content=\"no-referrer\">\n<title>",
	      f);
	html_text(f, title);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
	return 0;
}

void
html_end(FILE *f)
{
	fputs("</body>\n</html>\n", f);
}
