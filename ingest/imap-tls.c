/*
 * imap-tls.c - see imap-tls.h.
 */
#include "imap-tls.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The names a certificate is for: its DNS and IP subject alternative
 * names, else its common name.  For "it is for X, not Y". */
static void
cert_names(gnutls_x509_crt_t crt, char *out, size_t len)
{
	char name[256], ip[INET6_ADDRSTRLEN];
	size_t sz, used = 0;
	unsigned i;
	int type;

	out[0] = '\0';
	for (i = 0; used + 1 < len; i++) {
		sz = sizeof(name) - 1;
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, name, &sz,
		    NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_SAN_DNSNAME && sz < sizeof(name)) {
			name[sz] = '\0';
		} else if (type == GNUTLS_SAN_IPADDRESS && (sz == 4 || sz == 16)) {
			if (inet_ntop(sz == 4 ? AF_INET : AF_INET6, name, ip,
				sizeof(ip)) == NULL)
				continue;
			snprintf(name, sizeof(name), "%s", ip);
		} else {
			continue;
		}
		used += (size_t)snprintf(out + used, len - used, "%s%s",
		    used ? ", " : "", name);
	}
	if (used >= len)
		out[len - 1] = '\0';
	if (out[0] == '\0') {
		sz = len;
		if (gnutls_x509_crt_get_dn_by_oid(crt,
			GNUTLS_OID_X520_COMMON_NAME, 0, 0, out, &sz) < 0)
			snprintf(out, len, "no name at all");
	}
}

static void
format_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, len, "an unknown date");
	else
		strftime(out, len, "%Y-%m-%d %H:%M UTC", &tm);
}

/* Appends "; what" to a message being built. */
static void
add(char *msg, size_t len, const char *what)
{
	size_t n = strlen(msg);

	snprintf(msg + n, len - n, "%s%s", n ? "; " : "", what);
}

static void
explain(unsigned status, gnutls_x509_crt_t *crts, unsigned n,
    const char *host, char *msg, size_t len, char *advice, size_t alen)
{
	gnutls_datum_t dn = {NULL, 0};
	gnutls_datum_t out = {NULL, 0};
	char what[600], names[400], when[40];

	msg[0] = advice[0] = '\0';
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) {
		if (gnutls_x509_crt_get_issuer_dn3(crts[n - 1], &dn, 0) < 0)
			dn.data = NULL;
		snprintf(what, sizeof(what), "it is issued by an authority "
					     "this machine does not trust (%s)",
		    dn.data ? (const char *)dn.data : "issuer unknown");
		gnutls_free(dn.data);
		add(msg, len, what);
		snprintf(advice, alen, "if the server uses a private or "
				       "self-signed certificate, set ca_file "
				       "in [imap] to the PEM file of the "
				       "authority that issued it");
	}
	if (status & GNUTLS_CERT_SIGNER_NOT_CA)
		add(msg, len, "its issuer is not a certificate authority");
	if (status & GNUTLS_CERT_EXPIRED) {
		format_time(gnutls_x509_crt_get_expiration_time(crts[0]), when,
		    sizeof(when));
		snprintf(what, sizeof(what), "it expired on %s", when);
		add(msg, len, what);
		if (advice[0] == '\0')
			snprintf(advice, alen, "the server's certificate must "
					       "be renewed (or this machine's "
					       "clock is wrong)");
	}
	if (status & GNUTLS_CERT_NOT_ACTIVATED) {
		format_time(gnutls_x509_crt_get_activation_time(crts[0]), when,
		    sizeof(when));
		snprintf(what, sizeof(what), "it is not valid before %s",
		    when);
		add(msg, len, what);
		if (advice[0] == '\0')
			snprintf(advice, alen, "check this machine's clock");
	}
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER) {
		cert_names(crts[0], names, sizeof(names));
		snprintf(what, sizeof(what), "it is for %s, not %s", names,
		    host);
		add(msg, len, what);
		if (advice[0] == '\0')
			snprintf(advice, alen, "set host in [imap] to a name "
					       "the certificate covers");
	}
	if (status & GNUTLS_CERT_REVOKED)
		add(msg, len, "it is revoked");
	if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		add(msg, len, "it is signed with an insecure algorithm");
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		add(msg, len, "it is not meant for a TLS server");
	if (msg[0] == '\0') {
		if (gnutls_certificate_verification_status_print(status,
			GNUTLS_CRT_X509, &out, 0) == 0) {
			add(msg, len, (const char *)out.data);
			gnutls_free(out.data);
		} else {
			add(msg, len, "it does not verify");
		}
	}
}

static enum tls_verdict
load_trust(gnutls_x509_trust_list_t *tl, const char *ca_file, struct err *e)
{
	int r;

	if ((r = gnutls_x509_trust_list_init(tl, 0)) < 0) {
		err_set(e, "GnuTLS: %s", gnutls_strerror(r));
		return TLS_REFUSED;
	}
	/* no system trust at all is not an error: ca_file may be enough */
	(void)gnutls_x509_trust_list_add_system_trust(*tl, 0, 0);
	if (ca_file == NULL)
		return TLS_TRUSTED;
	r = gnutls_x509_trust_list_add_trust_file(*tl, ca_file, NULL,
	    GNUTLS_X509_FMT_PEM, 0, 0);
	if (r < 0 && r != GNUTLS_E_NO_CERTIFICATE_FOUND) {
		err_set(e, "ca_file %s: %s", ca_file,
		    r == GNUTLS_E_FILE_ERROR ? "cannot be read"
					     : gnutls_strerror(r));
		return TLS_BAD_CA_FILE;
	}
	if (r <= 0) {
		err_set(e, "ca_file %s holds no PEM certificate (-----BEGIN "
			   "CERTIFICATE-----)",
		    ca_file);
		return TLS_BAD_CA_FILE;
	}
	return TLS_TRUSTED;
}

enum tls_verdict
imap_tls_verify(mailstream *s, const char *host, const char *ca_file,
    struct err *e)
{
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t *crts = NULL;
	gnutls_typed_vdata_st vd[2];
	gnutls_datum_t d;
	MMAPString *der;
	carray *chain;
	enum tls_verdict v = TLS_REFUSED;
	char msg[800], advice[300];
	unsigned n = 0, i, status = 0;
	int r;

	if ((chain = mailstream_get_certificate_chain(s)) == NULL ||
	    carray_count(chain) == 0) {
		err_set(e, "the server presented no certificate");
		goto out;
	}
	/* an array of handles (pointers): sizeof(*crts) is one handle */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	if ((crts = calloc(carray_count(chain), sizeof(*crts))) == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	for (n = 0; n < carray_count(chain); n++) {
		der = carray_get(chain, n);
		d.data = (unsigned char *)der->str;
		d.size = (unsigned)der->len;
		if ((r = gnutls_x509_crt_init(&crts[n])) < 0 ||
		    (r = gnutls_x509_crt_import(crts[n], &d,
			 GNUTLS_X509_FMT_DER)) < 0) {
			if (r < 0 && crts[n] != NULL)
				n++;
			err_set(e, "cannot read the server's certificate: %s",
			    gnutls_strerror(r));
			goto out;
		}
	}
	if ((v = load_trust(&tl, ca_file, e)) != TLS_TRUSTED)
		goto out;
	v = TLS_REFUSED;
	memset(vd, 0, sizeof(vd));
	vd[0].type = GNUTLS_DT_DNS_HOSTNAME;
	vd[0].data = (unsigned char *)host;
	vd[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	r = gnutls_x509_trust_list_verify_crt2(tl, crts, n, vd, 2, 0, &status,
	    NULL);
	if (r < 0) {
		err_set(e, "cannot verify the server's certificate: %s",
		    gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		explain(status, crts, n, host, msg, sizeof(msg), advice,
		    sizeof(advice));
		err_set(e, "the server's certificate is refused: %s%s%s", msg,
		    advice[0] ? "; " : "", advice);
		goto out;
	}
	v = TLS_TRUSTED;
out:
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	return v;
}
