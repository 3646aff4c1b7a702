/*
 * mime.c - see mime.h.
 */
#include "mime.h"

#include <libetpan/libetpan.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "mime-decode.h"

/* Multipart and message parts in one message, whatever --max-mime-parts
 * says (see mime_walk()); a report mail has one or two. */
#define MAX_CONTAINERS 1000
/* Header fields in one message, all parts together, and their bytes; a
 * report mail has a few dozen, a few KB. */
#define MAX_FIELDS	20000
#define MAX_FIELD_BYTES (1u << 20)

/* Skips what may come between a header field's name and its colon: white
 * space, folding (a line break followed by white space) and comments.
 * libetpan takes all three there (RFC 5322's obsolete syntax), so
 * "Content-Type :" and "Content-Type\r\n :" start a part as well, and a
 * count that missed them let a 5 MB message nest 70,000 levels deep (and
 * overflow the stack).  Liberal on purpose: a line counted too many costs
 * nothing.  Stops at a line break not followed by white space, so each scan
 * stays within one header. */
static size_t
skip_cfws(const unsigned char *p, size_t i, size_t n)
{
	unsigned depth = 0;
	size_t j;

	while (i < n) {
		if (p[i] == '\r' || p[i] == '\n') {
			j = i + (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n' ? 2 : 1);
			if (j >= n || (p[j] != ' ' && p[j] != '\t'))
				return i;
			i = j;
			continue;
		}
		if (p[i] == '(') {
			depth++;
		} else if (depth > 0) {
			if (p[i] == ')')
				depth--;
			else if (p[i] == '\\' && i + 1 < n && p[i + 1] != '\r' &&
				 p[i + 1] != '\n')
				i++;
		} else if (p[i] != ' ' && p[i] != '\t') {
			return i;
		}
		i++;
	}
	return i;
}

/* What the message is made of, counted before libetpan parses it. */
struct shape {
	unsigned fields;     /* header fields */
	size_t field_bytes;  /* ... and their size, folded lines included */
	unsigned types;	     /* Content-Type fields: MIME parts */
	unsigned containers; /* ... of multipart/ and message/: parts that nest */
};

static int
line_empty(const unsigned char *p, size_t i, size_t n)
{
	return (i < n && p[i] == '\n') ||
	       (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n');
}

/* Header fields are counted where libetpan reads header fields: at the
 * top, after a line that may be a boundary ("--..."), and at the start of
 * a part declared message/...; up to the empty line that ends the block.
 * Content-Type fields are counted everywhere, to be safe. */
static void
measure(const unsigned char *p, size_t n, struct shape *sh)
{
	size_t i, j, k, end;
	int in_header = 1, embedded = 0;

	memset(sh, 0, sizeof(*sh));
	for (i = 0; i < n; i++) {
		if (i > 0 && p[i - 1] != '\n')
			continue;
		if (line_empty(p, i, n)) {
			/* a message/... part's body begins with headers */
			in_header = in_header && embedded;
			embedded = 0;
			continue;
		}
		if (!in_header && n - i >= 2 && p[i] == '-' && p[i + 1] == '-') {
			in_header = 1;
			continue;
		}
		/* a field name: printable ASCII but ':', then the colon */
		for (k = i; k < n && p[k] > ' ' && p[k] < 127 && p[k] != ':'; k++)
			;
		if (k == i || (j = skip_cfws(p, k, n)) >= n || p[j] != ':')
			continue;
		if (in_header) {
			sh->fields++;
			/* to the end of the field: a line break not followed
			 * by white space */
			for (end = j; end < n; end++)
				if (p[end] == '\n' &&
				    (end + 1 >= n || (p[end + 1] != ' ' &&
							 p[end + 1] != '\t')))
					break;
			sh->field_bytes += end - i;
		}
		if (k - i != 12 ||
		    strncasecmp((const char *)p + i, "content-type", 12) != 0)
			continue;
		sh->types++;
		j = skip_cfws(p, j + 1, n);
		if (n - j >= 9 &&
		    strncasecmp((const char *)p + j, "multipart", 9) == 0) {
			sh->containers++;
		} else if (n - j >= 7 &&
			   strncasecmp((const char *)p + j, "message", 7) == 0) {
			sh->containers++;
			embedded = in_header;
		}
	}
}

int
mime_looks_like_message(const unsigned char *p, size_t n)
{
	size_t i;

	/* A header field name: printable ASCII except ':', then ':'. */
	for (i = 0; i < n && i < 80; i++) {
		if (p[i] == ':')
			return i > 0;
		if (p[i] <= ' ' || p[i] > '~')
			return 0;
	}
	return 0;
}

static void
type_string(struct mailmime_content *ct, char *out, size_t outlen)
{
	const char *major = "application";
	struct mailmime_type *t;

	if (ct == NULL || (t = ct->ct_type) == NULL) {
		snprintf(out, outlen, "text/plain");
		return;
	}
	if (t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
		switch (t->tp_data.tp_discrete_type->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT:
			major = "text";
			break;
		case MAILMIME_DISCRETE_TYPE_IMAGE:
			major = "image";
			break;
		case MAILMIME_DISCRETE_TYPE_AUDIO:
			major = "audio";
			break;
		case MAILMIME_DISCRETE_TYPE_VIDEO:
			major = "video";
			break;
		case MAILMIME_DISCRETE_TYPE_EXTENSION:
			major = t->tp_data.tp_discrete_type->dt_extension;
			break;
		default:
			break;
		}
	} else if (t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE) {
		switch (t->tp_data.tp_composite_type->ct_type) {
		case MAILMIME_COMPOSITE_TYPE_MESSAGE:
			major = "message";
			break;
		case MAILMIME_COMPOSITE_TYPE_MULTIPART:
			major = "multipart";
			break;
		default:
			major = t->tp_data.tp_composite_type->ct_token;
			break;
		}
	}
	snprintf(out, outlen, "%s/%s", major ? major : "application",
	    ct->ct_subtype ? ct->ct_subtype : "octet-stream");
	ascii_lower_str(out);
}

struct walk {
	const struct limits *lim;
	const struct mime_handler *h;
	struct mime_info *info;
	struct err *e;
	const unsigned char *msg; /* the message parsed, for its bounds */
	size_t len;
};

/* First pass: is this some other kind of report? */
static void
classify(struct mailmime *m, struct mime_info *info, unsigned depth)
{
	char type[128];
	clistiter *it;
	char *rt;

	if (m == NULL || depth > 64)
		return;
	type_string(m->mm_content_type, type, sizeof(type));
	if (strcmp(type, "message/feedback-report") == 0)
		info->kind = MIME_ARF;
	else if (strncmp(type, "application/tlsrpt", 18) == 0 &&
		 info->kind == MIME_PLAIN)
		info->kind = MIME_TLSRPT;
	else if ((strcmp(type, "message/delivery-status") == 0 ||
		     strcmp(type, "message/global-delivery-status") == 0) &&
		 info->kind == MIME_PLAIN)
		info->kind = MIME_DSN;
	if (strcmp(type, "multipart/report") == 0 && m->mm_content_type &&
	    (rt = mailmime_content_param_get(m->mm_content_type,
		 "report-type")) != NULL) {
		if (info->report_type[0] == '\0')
			snprintf(info->report_type, sizeof(info->report_type),
			    "%s", rt);
		if (strcasecmp(rt, "feedback-report") == 0)
			info->kind = MIME_ARF;
		else if (strcasecmp(rt, "tlsrpt") == 0 &&
			 info->kind == MIME_PLAIN)
			info->kind = MIME_TLSRPT;
		else if (strcasecmp(rt, "delivery-status") == 0 &&
			 info->kind == MIME_PLAIN)
			info->kind = MIME_DSN;
	}
	switch (m->mm_type) {
	case MAILMIME_MULTIPLE:
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
		     it != NULL; it = clist_next(it))
			classify(clist_content(it), info, depth + 1);
		break;
	case MAILMIME_MESSAGE:
		/* Only the top-level message: a forwarded message inside a
		 * report-type part belongs to someone else. */
		if (depth == 0)
			classify(m->mm_data.mm_message.mm_msg_mime, info,
			    depth + 1);
		break;
	default:
		break;
	}
}

static int
visit_single(struct walk *w, struct mailmime *m)
{
	struct mailmime_single_fields sf;
	struct mailmime_data *d = m->mm_data.mm_single;
	struct mime_part part;
	char type[128], *decoded = NULL;
	const char *data;
	size_t dlen = 0, n;
	uintptr_t at, lo, hi;
	int rc;

	type_string(m->mm_content_type, type, sizeof(type));
	w->info->leaves++;
	if (w->info->leaves > w->lim->max_mime_parts)
		return err_set(w->e, "message has more than %u MIME parts "
				     "(limit --max-mime-parts)",
		    w->lim->max_mime_parts);
	if (strcmp(type, "text/html") == 0) {
		/* the human-readable summary some reporters add */
		w->info->html++;
		return 0;
	}
	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
		return 0;
	memset(&sf, 0, sizeof(sf));
	mailmime_single_fields_init(&sf, m->mm_mime_fields, m->mm_content_type);
	data = d->dt_data.dt_text.dt_data;
	n = d->dt_data.dt_text.dt_length;
	/* the message's bytes after the part, when it lies inside it: a part
	 * with room enough after it is decoded in place, not copied */
	at = (uintptr_t)data;
	lo = (uintptr_t)w->msg;
	hi = lo + w->len;
	rc = mime_decode(&sf, data, n,
	    at < lo || at > hi || n > hi - at ? 0 : hi - at - n, &decoded,
	    &dlen);
	if (rc == -2)
		return err_set(w->e, "out of memory");
	if (rc == -1)
		return err_set(w->e, "part %u (%s): cannot decode its "
				     "content-transfer-encoding",
		    w->info->leaves, type);
	part.data = (const unsigned char *)decoded;
	part.len = dlen;
	part.type = type;
	part.filename = sf.fld_disposition_filename ? sf.fld_disposition_filename
		      : sf.fld_content_name	    ? sf.fld_content_name
						    : "";
	part.index = w->info->leaves;
	part.charset = sf.fld_content_charset;
	rc = w->h->part(w->h->arg, &part, w->e);
	mmap_string_unref(decoded);
	return rc;
}

static int
visit(struct walk *w, struct mailmime *m, unsigned depth)
{
	clistiter *it;

	if (m == NULL)
		return 0;
	if (depth > w->lim->max_mime_depth)
		return err_set(w->e, "MIME parts nested deeper than %u levels "
				     "(multipart in multipart...)",
		    w->lim->max_mime_depth);
	switch (m->mm_type) {
	case MAILMIME_SINGLE:
		return visit_single(w, m);
	case MAILMIME_MULTIPLE:
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
		     it != NULL; it = clist_next(it))
			if (visit(w, clist_content(it), depth + 1) == -1)
				return -1;
		return 0;
	case MAILMIME_MESSAGE:
		/* the message itself, or a forwarded message/rfc822 */
		return visit(w, m->mm_data.mm_message.mm_msg_mime, depth + 1);
	default:
		return 0;
	}
}

int
mime_walk(const unsigned char *msg, size_t len, const struct limits *lim,
    const struct mime_handler *h, struct mime_info *info, struct err *e)
{
	struct mailmime *mime = NULL;
	struct walk w;
	struct shape sh;
	size_t idx = 0;
	int rc;

	memset(info, 0, sizeof(*info));
	measure(msg, len, &sh);
	if (sh.types > lim->max_mime_parts + 1)
		return err_set(e, "message has %u Content-Type headers, more "
				  "than the %u MIME parts allowed "
				  "(--max-mime-parts)",
		    sh.types, lim->max_mime_parts);
	/* Whatever --max-mime-parts allows: libetpan's time grows with the
	 * square of the nesting and its stack with the nesting (70,000
	 * levels overflow it), and only containers nest. */
	if (sh.containers > MAX_CONTAINERS)
		return err_set(e, "message has %u multipart or message parts, "
				  "more than the %u that can be parsed safely",
		    sh.containers, MAX_CONTAINERS);
	/* libetpan turns header fields into structures many times their
	 * size: a million fields (14 MB) took 180 MB, 200,000 parameters in
	 * one Content-Type (2.5 MB) 42 MB. */
	if (sh.fields > MAX_FIELDS || sh.field_bytes > MAX_FIELD_BYTES)
		return err_set(e, "message has %u header fields (%zu bytes), "
				  "more than the %u (%u bytes) that can be "
				  "parsed safely",
		    sh.fields, sh.field_bytes, MAX_FIELDS, MAX_FIELD_BYTES);
	if (mailmime_parse((const char *)msg, len, &idx, &mime) !=
	    MAILIMF_NO_ERROR)
		return err_set(e, "cannot parse the message's MIME structure");
	classify(mime, info, 0);
	if (info->kind == MIME_PLAIN && info->report_type[0] != '\0')
		info->kind = MIME_REPORT;
	rc = 0;
	/* An SMTP TLS report's parts are walked too: its attachment is the
	 * report (application/tlsrpt+gzip or +json). */
	if (info->kind == MIME_PLAIN || info->kind == MIME_REPORT ||
	    info->kind == MIME_TLSRPT) {
		w.lim = lim;
		w.h = h;
		w.info = info;
		w.e = e;
		w.msg = msg;
		w.len = len;
		rc = visit(&w, mime, 0);
	}
	mailmime_free(mime);
	return rc;
}
