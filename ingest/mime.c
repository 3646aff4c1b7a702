/*
 * mime.c - see mime.h.
 */
#include "mime.h"

#include <libetpan/libetpan.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Counts header lines that start a MIME part. */
static unsigned
count_content_types(const unsigned char *p, size_t n)
{
	static const char needle[] = "content-type:";
	size_t i, k = sizeof(needle) - 1;
	unsigned count = 0;

	for (i = 0; i + k <= n; i++) {
		if ((i == 0 || p[i - 1] == '\n') &&
		    strncasecmp((const char *)p + i, needle, k) == 0)
			count++;
	}
	return count;
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
	for (char *c = out; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
}

struct walk {
	const struct limits *lim;
	const struct mime_handler *h;
	struct mime_info *info;
	struct err *e;
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
	size_t idx = 0, dlen = 0;
	int enc, rc;

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
	enc = sf.fld_encoding ? sf.fld_encoding->enc_type
			      : MAILMIME_MECHANISM_8BIT;
	if (enc == MAILMIME_MECHANISM_ERROR || enc == MAILMIME_MECHANISM_TOKEN)
		enc = MAILMIME_MECHANISM_8BIT;
	if (mailmime_part_parse(d->dt_data.dt_text.dt_data,
		d->dt_data.dt_text.dt_length, &idx, enc, &decoded,
		&dlen) != MAILIMF_NO_ERROR)
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
				     "(limit --max-mime-depth)",
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
	size_t idx = 0;
	unsigned n;
	int rc;

	memset(info, 0, sizeof(*info));
	n = count_content_types(msg, len);
	if (n > lim->max_mime_parts + 1)
		return err_set(e, "message has %u Content-Type headers, more "
				  "than the %u MIME parts allowed "
				  "(--max-mime-parts)",
		    n, lim->max_mime_parts);
	if (mailmime_parse((const char *)msg, len, &idx, &mime) !=
	    MAILIMF_NO_ERROR)
		return err_set(e, "cannot parse the message's MIME structure");
	classify(mime, info, 0);
	if (info->kind == MIME_PLAIN && info->report_type[0] != '\0')
		info->kind = MIME_REPORT;
	rc = 0;
	if (info->kind == MIME_PLAIN || info->kind == MIME_REPORT) {
		w.lim = lim;
		w.h = h;
		w.info = info;
		w.e = e;
		rc = visit(&w, mime, 0);
	}
	mailmime_free(mime);
	return rc;
}
