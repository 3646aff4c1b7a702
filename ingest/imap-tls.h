/*
 * imap-tls.h - is the server at the other end of this TLS stream the one
 * we meant to reach?
 *
 * libetpan does the TLS handshake (with GnuTLS) but verifies nothing: a
 * self-signed certificate or one for another host is accepted.  This file
 * verifies the chain the server presented with GnuTLS, against the system
 * trust store plus the configured ca_file, for the configured host name
 * (an IP address is matched against the certificate's IP addresses), for
 * the TLS server purpose.  It is called after the handshake and before a
 * single byte of credentials is sent, for IMAPS and STARTTLS alike.
 *
 * On failure the message says what is wrong with the certificate (unknown
 * issuer, expired, not yet valid, issued for other names, revoked...) and
 * what the operator can do about it.
 */
#ifndef DMARCSIFT_IMAP_TLS_H
#define DMARCSIFT_IMAP_TLS_H

#include <libetpan/libetpan.h>

#include "err.h"

enum tls_verdict {
	TLS_TRUSTED,
	TLS_REFUSED,	/* the certificate is not acceptable */
	TLS_BAD_CA_FILE /* ca_file cannot be used: a configuration error */
};

/* Verifies the peer of `s` for `host`; ca_file may be NULL. */
enum tls_verdict imap_tls_verify(mailstream *s, const char *host,
    const char *ca_file, struct err *e);

#endif
