/*
 * unpack.c - see unpack.h.
 *
 * Content, not names, decides: Google's zips come as application/zip,
 * Amazon's gzip as application/octet-stream, some reporters send a zip
 * named .xml.gz, and a rua mailbox also collects failure reports, TLS
 * reports, bounces and spam.  Every leaf part is looked at.
 */
#include "unpack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mime.h"
#include "tlsrpt.h"

/* Documents one after another in one stream, read each (see walk_xml()). */
#define MAX_DOCS      64
#define MAX_DOCS_TEXT "64"

enum sniff {
	SN_EMPTY,
	SN_GZIP,
	SN_ZLIB,
	SN_ZIP,
	SN_XML,
	SN_JSON,
	SN_MBOX,
	SN_MESSAGE,
	SN_TEXT,
	SN_BINARY,
};

struct walker {
	const struct limits *lim;
	const struct unpack_sink *sink;
	struct unpack_result *res;
	int fatal;
	struct err fatal_err;
};

static int walk(struct walker *w, struct unpack_payload *pl,
    const struct origin *o, const char *where, unsigned depth);

/* What binary data is, by its first bytes: what an operator who finds it
 * in a rua mailbox needs to know.  One line per kind. */
static const struct magic {
	const char *bytes;
	size_t len;
	const char *what;
} magics[] = {
    {"\x89PNG\r\n\x1a\n", 8, "a PNG image"},
    {"\xff\xd8\xff", 3, "a JPEG image"},
    {"GIF8", 4, "a GIF image"},
    {"%PDF", 4, "a PDF document"},
    {"BZh", 3, "bzip2-compressed data (not supported: reports come as "
	       "gzip or zip; bunzip2 it and import the result)"},
    {"\xfd" "7zXZ\0", 6, "xz-compressed data (not supported: reports "
			  "come as gzip or zip; unxz it and import the "
			  "result)"},
    {"\x28\xb5\x2f\xfd", 4, "zstd-compressed data (not supported: "
			     "reports come as gzip or zip; unzstd it and "
			     "import the result)"},
    {"7z\xbc\xaf\x27\x1c", 6, "a 7-Zip archive (not supported)"},
    {"Rar!\x1a\x07", 6, "a RAR archive (not supported)"},
    {"\x78\x9f\x3e\x22", 4, "a TNEF attachment (winmail.dat: the "
			     "sender's Outlook wrapped the attachments; "
			     "unpack it with tnef and import them)"},
    {"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "an MS Office document"},
};

static const char *
binary_kind(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (n >= magics[i].len &&
		    memcmp(p, magics[i].bytes, magics[i].len) == 0)
			return magics[i].what;
	return NULL;
}

static enum sniff
sniff(const unsigned char *p, size_t n)
{
	size_t i = 0, printable = 0;

	if (n == 0)
		return SN_EMPTY;
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return SN_GZIP;
	if (n >= 4 && p[0] == 'P' && p[1] == 'K' &&
	    ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6)))
		return SN_ZIP;
	if (n >= 2 && ((p[0] == 0xff && p[1] == 0xfe) ||
			  (p[0] == 0xfe && p[1] == 0xff)))
		return SN_XML; /* UTF-16 with a byte order mark */
	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
			    p[i] == '\n'))
		i++;
	if (i < n && p[i] == '<')
		return SN_XML;
	if (i < n && (p[i] == '{' || p[i] == '['))
		return SN_JSON;
	if (n >= 5 && memcmp(p, "From ", 5) == 0)
		return SN_MBOX;
	if (mime_looks_like_message(p, n))
		return SN_MESSAGE;
	if (n >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 &&
	    (p[1] & 0x20) == 0 && ((p[0] << 8) | p[1]) % 31 == 0)
		return SN_ZLIB;
	if (binary_kind(p, n) != NULL)
		return SN_BINARY;
	for (i = 0; i < n; i++)
		if ((p[i] >= ' ' && p[i] < 0x7f) || p[i] == '\n' ||
		    p[i] == '\r' || p[i] == '\t' || p[i] >= 0x80)
			printable++;
	return printable == n ? SN_TEXT : SN_BINARY;
}

/* Keeps the most specific explanation of why nothing was found. */
static void
note(struct walker *w, int strength, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
note(struct walker *w, int strength, const char *fmt, ...)
{
	va_list ap;

	if (strength <= w->res->note_strength)
		return;
	w->res->note_strength = strength;
	va_start(ap, fmt);
	vsnprintf(w->res->note, sizeof(w->res->note), fmt, ap);
	va_end(ap);
}

/* A name from the input (a zip member, an attachment's file name) as it
 * goes into messages: its control characters become '?', so that a name
 * cannot send escape sequences to the operator's terminal or forge a line
 * of the log.  C1 controls (U+0080..U+009F in UTF-8) too. */
static const char *
printable_name(const char *name, char *out, size_t len)
{
	unsigned char *c;

	snprintf(out, len, "%s", name);
	for (c = (unsigned char *)out; *c != '\0'; c++) {
		if (*c < 0x20 || *c == 0x7f) {
			*c = '?';
		} else if (*c == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f) {
			c[0] = '?';
			c[1] = '?';
			c++;
		}
	}
	return out;
}

static void
failure(struct walker *w, const char *where, const char *msg)
{
	w->res->failures++;
	if (w->res->failure[0] == '\0')
		snprintf(w->res->failure, sizeof(w->res->failure),
		    "%.300s%s%.200s", where, where[0] ? ": " : "", msg);
}

/* 1 when the text has a uuencode "begin 644 name" line. */
static int
uuencoded(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 10 <= n; i++)
		if ((i == 0 || p[i - 1] == '\n') &&
		    memcmp(p + i, "begin ", 6) == 0 && p[i + 6] >= '0' &&
		    p[i + 6] <= '7' && p[i + 7] >= '0' && p[i + 7] <= '7' &&
		    p[i + 8] >= '0' && p[i + 8] <= '7' && p[i + 9] == ' ')
			return 1;
	return 0;
}

/* notable: the bytes came out of an archive or a named attachment, so
 * what they are says more than "the message has no report" does (a text
 * body part, on the other hand, is just the human-readable summary). */
static void
describe_other(struct walker *w, enum sniff k, const unsigned char *p,
    size_t n, const char *where, int notable)
{
	char text[48];
	size_t i, j = 0;
	const char *sep = where[0] ? ": " : "", *kind;

	switch (k) {
	case SN_EMPTY:
		note(w, 2, "%s%sempty (0 bytes)", where, sep);
		break;
	case SN_JSON:
		if (memmem(p, n, "\"policies\"", 10) != NULL ||
		    memmem(p, n, "\"organization-name\"", 19) != NULL)
			note(w, 4, "%s%san SMTP TLS report (RFC 8460 JSON), "
				   "not a DMARC aggregate report",
			    where, sep);
		else
			note(w, 3, "%s%sJSON data, not a DMARC aggregate "
				   "report",
			    where, sep);
		break;
	case SN_TEXT:
		if (uuencoded(p, n)) {
			note(w, 5, "%s%suuencoded data (decode it with uudecode "
				   "and import the file it holds), not a "
				   "report",
			    where, sep);
			break;
		}
		for (i = 0; i < n && j < sizeof(text) - 1; i++)
			text[j++] = (p[i] < ' ' || p[i] > '~') ? ' ' : (char)p[i];
		text[j] = '\0';
		while (j > 0 && text[j - 1] == ' ')
			text[--j] = '\0';
		note(w, notable ? 4 : 1, "%s%splain text, not a report "
		    "(\"%s%s\")", where, sep, text, n > j ? "..." : "");
		break;
	default:
		if ((kind = binary_kind(p, n)) != NULL)
			note(w, notable ? 4 : 2, "%s%s%s, not a report", where,
			    sep, kind);
		else
			note(w, 2,
			    "%s%sunrecognised binary data (starts with "
			    "%02x %02x %02x %02x), not a report",
			    where, sep, p[0], n > 1 ? p[1] : 0, n > 2 ? p[2] : 0,
			    n > 3 ? p[3] : 0);
		break;
	}
}

/* ---------------------------------------------------------------------
 * zip
 */

/* libzip's reasons, in the words of what they mean for an input. */
static const char *
zip_why(zip_error_t *ze)
{
	switch (zip_error_code_zip(ze)) {
	case ZIP_ER_EXISTS:
		return "two members have the same name (duplicate or "
		       "overlapping entries, as in zip bombs)";
	case ZIP_ER_INCONS:
		return "its directory does not match the members' headers "
		       "(damaged, or forged as in zip bombs)";
	default:
		return zip_error_strerror(ze);
	}
}

/* 1 when the members' compressed data add up to more than the archive:
 * then they overlap, which no zip writer does.  Overlapping members are
 * how a 100 KB zip unpacks to gigabytes (every member inflates the same
 * data again), and libzip does not look for them. */
static int
members_overlap(zip_t *z, zip_int64_t n, uint64_t size, uint64_t *total)
{
	zip_stat_t st;
	zip_int64_t i;

	*total = 0;
	for (i = 0; i < n; i++) {
		zip_stat_init(&st);
		if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) == 0 &&
		    (st.valid & ZIP_STAT_COMP_SIZE))
			*total += st.comp_size;
	}
	return *total > size;
}

static void
walk_zip(struct walker *w, struct unpack_payload *pl, zip_t *z,
    uint64_t size, const char *where, unsigned depth)
{
	char sub[512], msg[200], name[256];
	zip_int64_t n, i;
	zip_stat_t st;
	struct origin o;
	uint64_t total;
	unsigned found = 0;

	n = zip_get_num_entries(z, 0);
	if (n < 0) {
		failure(w, where, "cannot read the zip directory");
		return;
	}
	if ((uint64_t)n > w->lim->max_zip_members) {
		snprintf(msg, sizeof(msg), "zip archive has %lld members, "
		    "over the limit of %u (--max-zip-members)",
		    (long long)n, w->lim->max_zip_members);
		failure(w, where, msg);
		return;
	}
	if (members_overlap(z, n, size, &total)) {
		snprintf(msg, sizeof(msg), "zip members overlap: their "
		    "compressed data add up to %llu bytes in a %llu-byte "
		    "archive (a zip bomb)",
		    (unsigned long long)total, (unsigned long long)size);
		failure(w, where, msg);
		return;
	}
	for (i = 0; i < n && !w->fatal; i++) {
		zip_stat_init(&st);
		if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) == -1) {
			failure(w, where, zip_strerror(z));
			continue;
		}
		snprintf(sub, sizeof(sub), "%s%szip member '%s'", where,
		    where[0] ? " > " : "",
		    (st.valid & ZIP_STAT_NAME) && st.name && st.name[0]
			? printable_name(st.name, name, sizeof(name))
			: "(no name)");
		if ((st.valid & ZIP_STAT_NAME) && st.name != NULL &&
		    st.name[0] != '\0' && st.name[strlen(st.name) - 1] == '/')
			continue; /* a directory */
		if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
		    st.encryption_method != ZIP_EM_NONE) {
			failure(w, sub, "member is encrypted and cannot be read");
			continue;
		}
		memset(&o, 0, sizeof(o));
		o.kind = ORIGIN_ZIP;
		o.zip = z;
		o.index = (zip_uint64_t)i;
		o.comp_size = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0;
		found++;
		walk(w, pl, &o, sub, depth + 1);
	}
	if (found == 0)
		note(w, 2, "%s%sempty zip archive", where, where[0] ? ": " : "");
}

static void
open_zip(struct walker *w, struct unpack_payload *pl, struct stream *s,
    const char *where, unsigned depth)
{
	unsigned char *mem = NULL;
	size_t len = 0;
	zip_source_t *src = NULL;
	zip_error_t zerr;
	zip_t *z = NULL;
	struct err e;
	struct stat sb;
	uint64_t size = 0;
	int code = 0;

	zip_error_init(&zerr);
	if (s->o.kind == ORIGIN_FILE && s->o.layers == 0) {
		if (fstat(s->fd, &sb) == 0)
			size = (uint64_t)sb.st_size;
		z = zip_open(s->o.path, ZIP_RDONLY | ZIP_CHECKCONS, &code);
		if (z == NULL)
			zip_error_init_with_code(&zerr, code);
		stream_close(s);
	} else {
		if (s->o.kind == ORIGIN_MEM && s->o.layers == 0) {
			mem = NULL; /* the buffer is usable as is */
			size = s->o.len;
			src = zip_source_buffer_create(s->o.mem, s->o.len, 0,
			    &zerr);
		} else {
			/* zip needs random access: the inner archive is
			 * inflated into memory, within the size limit */
			if (stream_slurp(s, w->lim->max_decompressed, &mem, &len,
				&e) == -1) {
				stream_close(s);
				failure(w, where, e.msg);
				return;
			}
			size = len;
			src = zip_source_buffer_create(mem, len, 0, &zerr);
		}
		stream_close(s);
		if (src != NULL) {
			z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS,
			    &zerr);
			if (z == NULL)
				zip_source_free(src);
		}
	}
	if (z == NULL) {
		char msg[256];
		snprintf(msg, sizeof(msg), "not a readable zip archive: %s",
		    zip_why(&zerr));
		failure(w, where, msg);
	} else {
		walk_zip(w, pl, z, size, where, depth);
		zip_discard(z);
	}
	zip_error_fini(&zerr);
	free(mem);
}

/* ---------------------------------------------------------------------
 * messages
 */

struct msg_ctx {
	struct walker *w;
	const char *where;
	unsigned depth;
};

static int
on_part(void *arg, const struct mime_part *p, struct err *e)
{
	struct msg_ctx *m = arg;
	struct unpack_payload pl;
	char sub[512], name[256];

	(void)e;
	memset(&pl, 0, sizeof(pl));
	pl.o.kind = ORIGIN_MEM;
	pl.o.mem = p->data;
	pl.o.len = p->len;
	pl.o.charset = p->charset;
	pl.name = p->filename;
	if (p->filename[0] != '\0')
		snprintf(sub, sizeof(sub), "%s%sattachment '%s'", m->where,
		    m->where[0] ? " > " : "",
		    printable_name(p->filename, name, sizeof(name)));
	else
		snprintf(sub, sizeof(sub), "%s%spart %u (%s)", m->where,
		    m->where[0] ? " > " : "", p->index, p->type);
	/* A text body part is expected in a report mail; only an attached
	 * text file's content is worth mentioning when nothing is found. */
	walk(m->w, &pl, &pl.o, sub, m->depth + 1);
	return m->w->fatal ? -1 : 0;
}

static void
walk_message(struct walker *w, const unsigned char *msg, size_t len,
    const char *where, unsigned depth)
{
	struct msg_ctx ctx = {w, where, depth};
	struct mime_handler h = {&ctx, on_part};
	struct mime_info info;
	const char *sep = where[0] ? ": " : "";
	struct err e;

	/* a single message with an mbox "From " line in front */
	if (len >= 5 && memcmp(msg, "From ", 5) == 0) {
		const unsigned char *nl = memchr(msg, '\n', len);
		if (nl == NULL)
			return;
		len -= (size_t)(nl + 1 - msg);
		msg = nl + 1;
	}
	if (mime_walk(msg, len, w->lim, &h, &info, &e) == -1) {
		if (!w->fatal)
			failure(w, where, e.msg);
		return;
	}
	switch (info.kind) {
	case MIME_ARF:
		if (w->sink->arf != NULL) {
			w->res->other++;
			if (w->sink->arf(w->sink->arg, msg, len, where,
				&w->fatal_err) == -1)
				w->fatal = 1;
			break;
		}
		note(w, 9, "%s%sa DMARC failure (forensic) report (ARF, RFC "
			   "6591), not an aggregate report",
		    where, sep);
		break;
	case MIME_TLSRPT:
		note(w, 9, "%s%san SMTP TLS report (RFC 8460), not a DMARC "
			   "aggregate report",
		    where, sep);
		break;
	case MIME_DSN:
		note(w, 9, "%s%sa delivery status notification (bounce), not a "
			   "report",
		    where, sep);
		break;
	case MIME_REPORT:
		note(w, 5, "%s%sa multipart/report (report-type=%s) without an "
			   "aggregate report",
		    where, sep, info.report_type);
		break;
	default:
		if (info.leaves == info.html)
			note(w, 3, "%s%sa message without attachments (only an "
				   "HTML body)",
			    where, sep);
		else
			note(w, 3, "%s%sa message without an aggregate report "
				   "(no part holds XML, gzip or zip)",
			    where, sep);
		break;
	}
}

/* ---------------------------------------------------------------------
 * the walk
 */

/* Where the document after one that ended at `end` starts: the first
 * byte after white space, when it opens a tag.  0 when none does. */
static uint64_t
next_start(struct walker *w, const struct origin *xo, uint64_t end)
{
	struct origin o = *xo;
	struct stream s;
	const unsigned char *p;
	struct err e;
	size_t n, i;
	uint64_t at = 0;

	o.skip = end;
	if (stream_open(&s, &o, w->lim, NULL, &e) == -1)
		return 0;
	if (stream_peek(&s, &p, &n, &e) == 0) {
		for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t' ||
					 p[i] == '\r' || p[i] == '\n');
		     i++)
			;
		if (i < n && p[i] == '<')
			at = end + i;
	}
	stream_close(&s);
	return at;
}

/* Hands each XML document of the stream to the sink: usually one, several
 * when reports were concatenated (cat a.xml b.xml, or the members of a
 * multi-member gzip).  Each further document costs inflating the stream
 * up to it again, hence the bound. */
static void
walk_xml(struct walker *w, struct unpack_payload *pl, struct origin *xo,
    const char *where)
{
	char here[600];
	unsigned docs = 0;
	uint64_t end;

	for (;;) {
		w->res->xml++;
		pl->next_doc = 0;
		if (docs == 0)
			snprintf(here, sizeof(here), "%s", where);
		else
			snprintf(here, sizeof(here), "%s%sreport %u in the "
			    "stream", where, where[0] ? ", " : "", docs + 1);
		if (w->sink->xml(w->sink->arg, pl, xo, here, &w->fatal_err) ==
		    -1) {
			w->fatal = 1;
			return;
		}
		if (pl->next_doc == 0)
			return;
		end = xo->skip + pl->next_doc;
		if (++docs >= MAX_DOCS) {
			failure(w, where, "more than " MAX_DOCS_TEXT " reports "
			    "one after another in one stream (limit)");
			return;
		}
		if ((xo->skip = next_start(w, xo, end)) == 0)
			return;
	}
}

/* One input: peel compression layers, then dispatch on what is inside.
 * Long because each kind's limit check and message sits in its case; the
 * kinds read best side by side. */
static int
walk(struct walker *w, struct unpack_payload *pl, const struct origin *o,
    const char *where, unsigned depth)
{
	struct stream s;
	const unsigned char *p;
	unsigned char *mem;
	size_t n, len;
	enum sniff k;
	struct err e;
	char msg[120];
	int top = o->kind != ORIGIN_ZIP && o->layers == 0 && o == &pl->o;

	if (depth > w->lim->max_nesting + 8) {
		failure(w, where, "containers nested too deeply");
		return 0;
	}
	if (stream_open(&s, o, w->lim, NULL, &e) == -1) {
		failure(w, where, e.msg);
		return 0;
	}
	for (;;) {
		if (stream_peek(&s, &p, &n, &e) == -1) {
			stream_close(&s);
			failure(w, where, e.msg);
			return 0;
		}
		k = sniff(p, n);
		if (top && pl->format == NULL)
			pl->format = k == SN_GZIP ? "gzip"
			    : k == SN_ZLIB	  ? "zlib"
			    : k == SN_ZIP	  ? "zip"
			    : k == SN_XML	  ? "xml"
			    : k == SN_JSON	  ? "json"
					  : "other";
		if (k != SN_GZIP && k != SN_ZLIB)
			break;
		if (s.nlayers >= w->lim->max_nesting) {
			stream_close(&s);
			snprintf(msg, sizeof(msg), "compressed data nested "
			    "more than %u levels deep (gzip in gzip...)",
			    w->lim->max_nesting);
			failure(w, where, msg);
			return 0;
		}
		if (stream_push_inflate(&s, &e) == -1) {
			stream_close(&s);
			failure(w, where, e.msg);
			return 0;
		}
	}
	switch (k) {
	case SN_XML: {
		struct origin xo = s.o;
		stream_close(&s);
		if (xo.layers > 0)
			xo.charset = NULL; /* the part's charset is not the
					      compressed document's */
		walk_xml(w, pl, &xo, where);
		break;
	}
	case SN_ZIP:
		if (depth >= w->lim->max_nesting + 2) {
			stream_close(&s);
			snprintf(msg, sizeof(msg), "archives nested too "
			    "deeply (%u containers deep: zip in zip...)",
			    depth + 1);
			failure(w, where, msg);
			break;
		}
		open_zip(w, pl, &s, where, depth);
		break;
	case SN_MESSAGE:
	case SN_MBOX:
		if (depth >= w->lim->max_nesting + 4) {
			stream_close(&s);
			failure(w, where, "messages nested too deeply");
			break;
		}
		if (s.o.kind == ORIGIN_MEM && s.o.layers == 0) {
			struct origin mo = s.o;
			stream_close(&s);
			walk_message(w, mo.mem, mo.len, where, depth);
			break;
		}
		if (stream_slurp(&s, w->lim->max_input, &mem, &len, &e) == -1) {
			stream_close(&s);
			failure(w, where, e.msg);
			break;
		}
		stream_close(&s);
		walk_message(w, mem, len, where, depth);
		free(mem);
		break;
	case SN_JSON:
		if (w->sink->tlsrpt != NULL && tlsrpt_looks_like(p, n)) {
			struct origin jo = s.o;
			stream_close(&s);
			w->res->other++;
			if (w->sink->tlsrpt(w->sink->arg, pl, &jo, where,
				&w->fatal_err) == -1)
				w->fatal = 1;
			break;
		}
		/* FALLTHROUGH */
	default:
		describe_other(w, k, p, n, where,
		    s.nlayers > 0 || o->kind == ORIGIN_ZIP ||
			(pl->name != NULL && pl->name[0] != '\0'));
		stream_close(&s);
		break;
	}
	return w->fatal ? -1 : 0;
}

int
unpack_input(const struct origin *o, const char *name,
    const struct limits *lim, const struct unpack_sink *sink,
    struct unpack_result *res, struct err *e)
{
	struct unpack_payload pl;
	struct walker w;

	(void)name;
	memset(res, 0, sizeof(*res));
	memset(&w, 0, sizeof(w));
	w.lim = lim;
	w.sink = sink;
	w.res = res;
	memset(&pl, 0, sizeof(pl));
	pl.o = *o;
	pl.name = name;
	walk(&w, &pl, &pl.o, "", 0);
	if (w.fatal) {
		err_set(e, "%s", w.fatal_err.msg);
		return -1;
	}
	return 0;
}
