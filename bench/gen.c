/*
 * gen.c - bench-gen: realistic, deterministic DMARC aggregate reports for
 * the benchmarks.
 *
 *   bench-gen [--seed N] [--records N] [--reports N] [--day N] [--compact]
 *             --format xml|gz|zip|eml --out FILE
 *   bench-gen ... --maildir DIR      (each report an e-mail in DIR/new)
 *   bench-gen ... --mbox FILE        (each report an e-mail in one mbox)
 *
 * Report k covers the UTC day 2026-11-24 minus (k + --day) days.  The same
 * seed gives the same bytes.  Records mix IPv4 and IPv6 sources,
 * Amazon SES (several regions, healthy and not), Google Workspace,
 * Microsoft 365, SendGrid and unknown senders, with one to three DKIM and one
 * or two SPF results each, in the shape Google writes (indented; --compact
 * writes one record per line, as Microsoft does).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>
#include <zlib.h>

struct rng {
	uint64_t s;
};

static uint64_t
next(struct rng *r)
{
	/* splitmix64: tiny, fast, and the same everywhere */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
below(struct rng *r, unsigned n)
{
	return (unsigned)(next(r) % n);
}

/* A growable text buffer; the generator's only allocation pattern. */
struct text {
	char *p;
	size_t len, cap;
};

static void
add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		t->cap = t->cap ? t->cap * 2 : 1 << 20;
		if ((t->p = realloc(t->p, t->cap)) == NULL) {
			perror("bench-gen");
			exit(1);
		}
	}
}

struct sender {
	const char *name;
	unsigned weight;
	const char *envelope; /* NULL: the From domain */
	const char *dkim[3];  /* "%s" = the From domain */
	const char *spf;      /* NULL: envelope */
	int dkim_pass, spf_pass;
	int v6;
	unsigned pool;	      /* distinct sending addresses */
	unsigned base;	      /* first octet of its IPv4 pool */
};

static const struct sender senders[] = {
    /* Real reports repeat the same sending addresses day after day (a
     * provider's pool); spoofing comes from a much larger, scattered set. */
    {"ses-us-east-1-default", 20, "amazonses.com",
	{"%s", "amazonses.com", NULL}, NULL, 1, 0, 0, 1500, 54},
    {"ses-eu-west-1-nodkim", 8, "eu-west-1.amazonses.com",
	{"amazonses.com", NULL, NULL}, NULL, 0, 0, 0, 500, 54},
    {"ses-healthy", 25, "mail.%s", {"%s", "amazonses.com", NULL}, NULL, 1,
	1, 0, 2000, 54},
    {"google", 20, NULL, {"%s", "%s.20230601.gappssmtp.com", NULL}, NULL,
	1, 1, 1, 1500, 209},
    {"microsoft", 10, NULL, {"%s", "tenant.onmicrosoft.com", NULL}, NULL, 1,
	1, 1, 1000, 40},
    {"sendgrid", 10, "em1234.%s", {"%s", "sendgrid.info", NULL},
	"sendgrid.net", 1, 0, 0, 300, 149},
    {"unknown", 7, "spoofer.test", {NULL, NULL, NULL}, NULL, 0, 0, 1,
	200000, 0},
};

static const char *const domains[] = {"example.com", "example.net",
    "shop.example.com", "example.org"};

static const struct sender *
pick_sender(struct rng *r)
{
	unsigned total = 0, k, i;

	for (i = 0; i < sizeof(senders) / sizeof(senders[0]); i++)
		total += senders[i].weight;
	k = below(r, total);
	for (i = 0; k >= senders[i].weight; i++)
		k -= senders[i].weight;
	return &senders[i];
}

/* An address from the sender's pool: the pool's n-th address is always the
 * same, so the same senders come back in every report. */
static unsigned
ip(struct rng *r, const struct sender *s, char *out, size_t len)
{
	unsigned n = below(r, s->pool);

	if (s->v6 && n % 4 == 0)
		snprintf(out, len, "2001:db8:%x:%x::%x", s->base, n >> 8,
		    (n & 255) + 1);
	else if (s->base == 54)
		snprintf(out, len, "54.240.%u.%u", (n >> 8) % 128, n % 254 + 1);
	else if (s->base != 0)
		snprintf(out, len, "%u.%u.%u.%u", s->base, (n >> 16) % 256,
		    (n >> 8) % 256, n % 254 + 1);
	else /* spoofers: scattered over the whole space */
		snprintf(out, len, "%u.%u.%u.%u", (n * 2654435761u >> 24) % 200 + 11,
		    (n * 40503u) % 256, (n >> 8) % 256, n % 254 + 1);
	return n;
}

static void
record(struct text *t, struct rng *r, int compact)
{
	const struct sender *s = pick_sender(r);
	/* most mail is from the main domain */
	const char *from = domains[below(r, 10) < 7 ? 0 : 1 + below(r, 3)];
	const char *nl = compact ? "" : "\n", *in2 = compact ? "" : "    ";
	const char *in3 = compact ? "" : "      ", *in4 = compact ? "" : "        ";
	char addr[64], env[128], d[128];
	unsigned count = below(r, 8) ? below(r, 20) + 1 : below(r, 2000) + 1;
	unsigned ndkim, nspf, i, n;

	/* a sender signs and is checked the same way every time: the number
	 * of results follows from the address, not from the dice */
	n = ip(r, s, addr, sizeof(addr));
	ndkim = 1 + n % 3;
	nspf = 1 + (n / 3) % 2;
	snprintf(env, sizeof(env), s->envelope ? s->envelope : "%s", from);
	add(t, "%s<record>%s%s<row>%s%s<source_ip>%s</source_ip>%s%s<count>%u"
	       "</count>%s%s<policy_evaluated>%s%s<disposition>none"
	       "</disposition>%s%s<dkim>%s</dkim>%s%s<spf>%s</spf>%s%s"
	       "</policy_evaluated>%s%s</row>%s",
	    compact ? "" : "  ", nl, in2, nl, in3, addr, nl, in3, count, nl, in3,
	    nl, in4, nl, in4, s->dkim_pass ? "pass" : "fail", nl, in4,
	    s->spf_pass ? "pass" : "fail", nl, in3, nl, in2, nl);
	add(t, "%s<identifiers>%s%s<header_from>%s</header_from>%s%s"
	       "<envelope_from>%s</envelope_from>%s%s</identifiers>%s%s"
	       "<auth_results>%s",
	    in2, nl, in3, from, nl, in3, env, nl, in2, nl, in2, nl);
	for (i = 0; i < ndkim; i++) {
		const char *dom = s->dkim[i < 3 ? i : 2];
		if (dom == NULL)
			dom = i == 0 ? "%s" : "amazonses.com";
		snprintf(d, sizeof(d), dom, from);
		/* a selector belongs to the signer, like an Easy DKIM
		 * token: the same one every time */
		add(t, "%s<dkim>%s%s<domain>%s</domain>%s%s<selector>"
		       "%.8s%u</selector>%s%s<result>%s</result>%s%s"
		       "</dkim>%s",
		    in3, nl, in4, d, nl, in4, s->name, (unsigned)strlen(d), nl,
		    in4,
		    s->dkim_pass || i > 0 ? "pass" : "fail", nl, in3, nl);
	}
	/* the MAIL FROM result, and sometimes the HELO one */
	for (i = 0; i < nspf; i++)
		add(t, "%s<spf>%s%s<domain>%s%s</domain>%s%s<scope>%s</scope>"
		       "%s%s<result>%s</result>%s%s</spf>%s",
		    in3, nl, in4, i ? "smtp." : "", s->spf ? s->spf : env, nl,
		    in4, i ? "helo" : "mfrom", nl, in4,
		    s->dkim_pass || s->spf_pass ? "pass" : "softfail", nl, in3,
		    nl);
	add(t, "%s</auth_results>%s%s</record>%s", in2, nl, compact ? "" : "  ",
	    "\n");
}

static void
report(struct text *t, struct rng *r, unsigned long n, unsigned idx,
    int compact)
{
	unsigned long i;
	uint64_t day = 1795478400 - (uint64_t)idx * 86400;

	add(t, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<feedback>\n"
	       "  <report_metadata>\n    <org_name>google.com</org_name>\n"
	       "    <email>noreply-dmarc-support@google.com</email>\n"
	       "    <report_id>bench-%u-%016" PRIx64 "</report_id>\n"
	       "    <date_range>\n      <begin>%" PRIu64 "</begin>\n"
	       "      <end>%" PRIu64 "</end>\n    </date_range>\n"
	       "  </report_metadata>\n  <policy_published>\n"
	       "    <domain>example.com</domain>\n    <adkim>r</adkim>\n"
	       "    <aspf>r</aspf>\n    <p>none</p>\n    <sp>none</sp>\n"
	       "    <pct>100</pct>\n  </policy_published>\n",
	    idx, next(r), day, day + 86399);
	for (i = 0; i < n; i++)
		record(t, r, compact);
	add(t, "</feedback>\n");
}

static void
gzip_mem(const struct text *in, struct text *out)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	/* level 6 and a fixed (zero) mtime: what gzip(1) -n would write */
	deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	out->len = 0;
	out->cap = deflateBound(&z, in->len) + 64;
	out->p = realloc(out->p, out->cap);
	z.next_in = (unsigned char *)in->p;
	z.avail_in = (uInt)in->len;
	z.next_out = (unsigned char *)out->p;
	z.avail_out = (uInt)out->cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		fprintf(stderr, "bench-gen: deflate failed\n");
		exit(1);
	}
	out->len = out->cap - z.avail_out;
	deflateEnd(&z);
}

static void
write_file(const char *path, const char *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "bench-gen: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static void
write_zip(const char *path, const struct text *xml, unsigned idx)
{
	zip_source_t *src;
	zip_t *z;
	char name[64];
	int err;

	remove(path);
	if ((z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err)) == NULL ||
	    (src = zip_source_buffer(z, xml->p, xml->len, 0)) == NULL) {
		fprintf(stderr, "bench-gen: cannot write %s\n", path);
		exit(1);
	}
	snprintf(name, sizeof(name), "google.com!example.com!%u.xml", idx);
	if (zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8) < 0 ||
	    zip_close(z) != 0) {
		fprintf(stderr, "bench-gen: cannot write %s\n", path);
		exit(1);
	}
}

/* A Google-style report mail: one base64 application/gzip attachment. */
static void
message(struct text *out, const struct text *gz, unsigned idx)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, col = 0;

	out->len = 0;
	add(out, "From: noreply-dmarc-support@google.com\r\n"
		 "To: dmarc-reports@example.com\r\n"
		 "Subject: Report domain: example.com Submitter: google.com "
		 "Report-ID: bench-%u\r\n"
		 "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
		 "Message-ID: <bench-%u@google.com>\r\nMIME-Version: 1.0\r\n"
		 "Content-Type: application/gzip; name=\"r%u.xml.gz\"\r\n"
		 "Content-Disposition: attachment; filename=\"r%u.xml.gz\"\r\n"
		 "Content-Transfer-Encoding: base64\r\n\r\n",
	    idx, idx, idx, idx);
	for (i = 0; i < gz->len; i += 3) {
		unsigned v = (unsigned char)gz->p[i] << 16;
		size_t left = gz->len - i;
		char q[5];

		if (left > 1)
			v |= (unsigned char)gz->p[i + 1] << 8;
		if (left > 2)
			v |= (unsigned char)gz->p[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = left > 1 ? b64[(v >> 6) & 63] : '=';
		q[3] = left > 2 ? b64[v & 63] : '=';
		q[4] = '\0';
		add(out, "%s", q);
		if ((col += 4) == 76) {
			add(out, "\r\n");
			col = 0;
		}
	}
	add(out, "\r\n");
}

static void
usage(void)
{
	fputs("usage: bench-gen [--seed N] [--records N] [--reports N] "
	      "[--compact]\n"
	      "                 (--format xml|gz|zip|eml --out FILE | "
	      "--maildir DIR | --mbox FILE)\n",
	    stderr);
	exit(64);
}

int
main(int argc, char **argv)
{
	const char *format = NULL, *out = NULL, *maildir = NULL, *mbox = NULL;
	unsigned long records = 1000, reports = 1, seed = 1, day = 0, k;
	struct text xml = {0}, gz = {0}, msg = {0};
	struct rng r;
	char path[4096];
	FILE *mb = NULL;
	int i, compact = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--compact") == 0)
			compact = 1;
		else if (i + 1 >= argc)
			usage();
		else if (strcmp(argv[i], "--seed") == 0)
			seed = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--day") == 0)
			day = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--records") == 0)
			records = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--reports") == 0)
			reports = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--format") == 0)
			format = argv[++i];
		else if (strcmp(argv[i], "--out") == 0)
			out = argv[++i];
		else if (strcmp(argv[i], "--maildir") == 0)
			maildir = argv[++i];
		else if (strcmp(argv[i], "--mbox") == 0)
			mbox = argv[++i];
		else
			usage();
	}
	if ((out == NULL || format == NULL) && maildir == NULL && mbox == NULL)
		usage();
	r.s = seed;
	if (maildir != NULL) {
		snprintf(path, sizeof(path), "%s/new", maildir);
		mkdir(maildir, 0700);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/cur", maildir);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/tmp", maildir);
		mkdir(path, 0700);
	}
	if (mbox != NULL && (mb = fopen(mbox, "wb")) == NULL) {
		perror(mbox);
		return 1;
	}
	for (k = 0; k < reports; k++) {
		xml.len = 0;
		report(&xml, &r, records, (unsigned)(k + day), compact);
		if (maildir != NULL || mbox != NULL) {
			gzip_mem(&xml, &gz);
			message(&msg, &gz, (unsigned)k);
			if (maildir != NULL) {
				snprintf(path, sizeof(path),
				    "%s/new/%010lu.bench.host", maildir, k);
				write_file(path, msg.p, msg.len);
			}
			if (mb != NULL)
				fprintf(mb, "From noreply@google.com Tue Nov 24 "
					    "10:00:00 2026\n%.*s\n",
				    (int)msg.len, msg.p);
			continue;
		}
		if (reports > 1)
			snprintf(path, sizeof(path), "%s.%lu", out, k);
		else
			snprintf(path, sizeof(path), "%s", out);
		if (strcmp(format, "xml") == 0) {
			write_file(path, xml.p, xml.len);
		} else if (strcmp(format, "gz") == 0) {
			gzip_mem(&xml, &gz);
			write_file(path, gz.p, gz.len);
		} else if (strcmp(format, "zip") == 0) {
			write_zip(path, &xml, (unsigned)k);
		} else if (strcmp(format, "eml") == 0) {
			gzip_mem(&xml, &gz);
			message(&msg, &gz, (unsigned)k);
			write_file(path, msg.p, msg.len);
		} else {
			usage();
		}
	}
	if (mb != NULL && fclose(mb) != 0) {
		perror(mbox);
		return 1;
	}
	free(xml.p);
	free(gz.p);
	free(msg.p);
	return 0;
}
