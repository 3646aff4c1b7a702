/*
 * imap-conn.c - see imap-conn.h.
 *
 * libetpan facts this file depends on (Debian 12, libetpan 1.9.4 on
 * GnuTLS): a successful connect returns MAILIMAP_NO_ERROR_NON_AUTHENTICATED
 * or, for a PREAUTH greeting, MAILIMAP_NO_ERROR_AUTHENTICATED, not 0;
 * mailimap_set_timeout() must come before the connect to cover it; the
 * handshake verifies nothing (imap-tls.c does); MOVE and UIDPLUS are only
 * advertised after login, so CAPABILITY is asked again then; and
 * mailimap_free() on a dead stream sends LOGOUT and waits for the whole
 * timeout, so a dead stream is closed first.
 */
#include "imap-conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "imap-secret.h"
#include "imap-tls.h"

/* A session idle this long gets a NOOP before the next long step. */
#define KEEPALIVE_SECONDS 30

/* The server's last words, made printable, for messages. */
static void
server_said(const struct imap_conn *c, char *out, size_t len)
{
	const char *r = c->imap != NULL ? c->imap->imap_response : NULL;
	size_t i;

	if (r == NULL || r[0] == '\0') {
		snprintf(out, len, "no reason given");
		return;
	}
	snprintf(out, len, "%.200s", r);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = ' ';
}

void
imap_conn_drop(struct imap_conn *c)
{
	if (c->imap == NULL)
		return;
	if (c->imap->imap_stream != NULL) {
		mailstream_close(c->imap->imap_stream);
		c->imap->imap_stream = NULL;
	}
	c->dead = 1;
}

void
imap_conn_close(struct imap_conn *c)
{
	if (c->imap != NULL) {
		if (c->dead)
			imap_conn_drop(c);
		else if (c->imap->imap_stream != NULL &&
			 mailimap_logout(c->imap) != MAILIMAP_NO_ERROR)
			imap_conn_drop(c);
		mailimap_free(c->imap);
	}
	free(c->prefix);
	c->imap = NULL;
	c->prefix = NULL;
}

int
imap_conn_fail(struct imap_conn *c, int r, const char *what, int refused,
    struct err *e)
{
	const struct imap_config *ic = c->cfg;
	char said[256], why[300];


	/* a silent server reads as before: lost or timed out */
	if (c->guard.trip != GUARD_IDLE &&
	    imap_guard_explain(&c->guard, why, sizeof(why))) {
		imap_conn_drop(c);
		err_set(e, "%s: %s; connection to %s:%u dropped (what was "
			   "finished is kept, the next attempt goes on from "
			   "there)",
		    what, why, ic->host, ic->port);
		return EX_TEMPFAIL;
	}
	switch (r) {
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_PARSE:
	case MAILIMAP_ERROR_BAD_STATE:
		imap_conn_drop(c);
		err_set(e, "%s: the connection to %s:%u was lost or timed out "
			   "(timeout %u s); what was finished is kept, the "
			   "next attempt goes on from there",
		    what, ic->host, ic->port, ic->timeout);
		return EX_TEMPFAIL;
	case MAILIMAP_ERROR_MEMORY:
		imap_conn_drop(c);
		err_set(e, "%s: out of memory", what);
		return EX_OSERR;
	default:
		server_said(c, said, sizeof(said));
		err_set(e, "%s: the server said: %s", what, said);
		return refused;
	}
}

void
imap_conn_touch(struct imap_conn *c)
{
	c->last_io = time(NULL);
}

int
imap_conn_keepalive(struct imap_conn *c, int *ex, struct err *e)
{
	int r;

	if (time(NULL) - c->last_io < KEEPALIVE_SECONDS)
		return 0;
	log_debug(c->lg, "NOOP after %lld s without a command",
	    (long long)(time(NULL) - c->last_io));
	if ((r = mailimap_noop(c->imap)) != MAILIMAP_NO_ERROR) {
		*ex = imap_conn_fail(c, r, "NOOP", EX_TEMPFAIL, e);
		return -1;
	}
	imap_conn_touch(c);
	return 0;
}

/* --- connecting -------------------------------------------------------- */

static int
is_ip_literal(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 ||
	       inet_pton(AF_INET6, host, a) == 1;
}

static void
set_sni(struct mailstream_ssl_context *ctx, void *data)
{
	/* RFC 6066: no IP literals in server_name */
	if (!is_ip_literal(data))
		mailstream_ssl_set_server_name(ctx, data);
}

/* tls = none: every address of host must be a loopback address, and the
 * connection goes to the address checked, not to a second lookup. */
static int
loopback_only(const char *host, char *addr, size_t len, int *ex,
    struct err *e)
{
	struct addrinfo hints, *res, *ai;
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;
	int r, loop;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		*ex = EX_UNAVAILABLE;
		return err_set(e, "cannot resolve %s: %s", host,
		    gai_strerror(r));
	}
	addr[0] = '\0';
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		loop = 0;
		if (ai->ai_family == AF_INET) {
			s4 = (const struct sockaddr_in *)ai->ai_addr;
			loop = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
			if (loop && addr[0] == '\0')
				inet_ntop(AF_INET, &s4->sin_addr, addr,
				    (socklen_t)len);
		} else if (ai->ai_family == AF_INET6) {
			s6 = (const struct sockaddr_in6 *)ai->ai_addr;
			loop = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
			if (loop && addr[0] == '\0')
				inet_ntop(AF_INET6, &s6->sin6_addr, addr,
				    (socklen_t)len);
		}
		if (!loop) {
			freeaddrinfo(res);
			*ex = EX_CONFIG;
			return err_set(e, "tls = none is only allowed to a "
					  "loopback address, and %s is not "
					  "one; use tls = imaps or starttls",
			    host);
		}
	}
	freeaddrinfo(res);
	if (addr[0] == '\0') {
		*ex = EX_UNAVAILABLE;
		return err_set(e, "%s has no IPv4 or IPv6 address", host);
	}
	return 0;
}

/* libetpan reports a failed handshake on stderr, a line of its own
 * ("GnuTLS error: ..."): under cron that would be a second, bare line in
 * the mail.  It is caught here and folded into the one error message. */
struct caught {
	int saved, fd;
};

static void
catch_stderr(struct caught *q)
{
	fflush(stderr);
	q->saved = dup(STDERR_FILENO);
	q->fd = memfd_create("libetpan-stderr", MFD_CLOEXEC);
	if (q->saved == -1 || q->fd == -1 ||
	    dup2(q->fd, STDERR_FILENO) == -1) {
		if (q->saved != -1)
			close(q->saved);
		if (q->fd != -1)
			close(q->fd);
		q->saved = q->fd = -1;
	}
}

/* Restores stderr; out gets the last line written meanwhile. */
static void
release_stderr(struct caught *q, char *out, size_t len)
{
	char buf[1024], *line, *nl;
	ssize_t n;

	out[0] = '\0';
	if (q->saved == -1)
		return;
	fflush(stderr);
	dup2(q->saved, STDERR_FILENO);
	close(q->saved);
	n = pread(q->fd, buf, sizeof(buf) - 1, 0);
	close(q->fd);
	buf[n > 0 ? n : 0] = '\0';
	while ((nl = strrchr(buf, '\n')) != NULL && nl[1] == '\0')
		*nl = '\0';
	line = (nl = strrchr(buf, '\n')) != NULL ? nl + 1 : buf;
	if (strncmp(line, "GnuTLS error: ", 14) == 0)
		line += 14;
	n = (ssize_t)strlen(line);
	if ((size_t)n >= len)
		n = (ssize_t)len - 1;
	memcpy(out, line, (size_t)n);
	out[n] = '\0';
}

/* A TCP connection to host:port within `timeout` seconds, in blocking
 * mode (what libetpan's drivers expect); -1 with errno, or with *gai set
 * when the name does not resolve. */
static int
tcp_connect(const char *host, unsigned port, unsigned timeout, int *gai)
{
	struct addrinfo hints, *res, *ai;
	struct pollfd pfd;
	char serv[8];
	socklen_t len;
	int fd, r, err = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%u", port);
	*gai = 0;
	if ((r = getaddrinfo(host, serv, &hints, &res)) != 0) {
		*gai = r;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (fd == -1) {
			err = errno;
			continue;
		}
		r = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (r == -1 && errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			r = poll(&pfd, 1, (int)timeout * 1000);
			len = sizeof(err);
			if (r == 0)
				err = ETIMEDOUT;
			else if (r == -1)
				err = errno;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
				     &len) == -1)
				err = errno;
			r = r == 1 && err == 0 ? 0 : -1;
		} else if (r == -1) {
			err = errno;
		}
		if (r == 0 &&
		    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0) {
			freeaddrinfo(res);
			return fd;
		}
		close(fd);
	}
	freeaddrinfo(res);
	errno = err;
	return -1;
}

/* A plain IMAP server greets at once; an IMAPS server waits for the
 * client's TLS hello, and with tls = starttls both sides would wait for
 * the whole timeout.  1 if the greeting starts within GREETING_PATIENCE
 * seconds (or the timeout, when shorter). */
#define GREETING_PATIENCE 3

static int
greets_soon(int fd, unsigned timeout)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	unsigned wait = timeout < GREETING_PATIENCE ? timeout
						    : GREETING_PATIENCE;

	return poll(&pfd, 1, (int)wait * 1000) != 0;
}

/* 1 if a second connection to addr:port completes a TLS handshake: the
 * port speaks IMAPS.  Only asked when the greeting is late. */
static int
speaks_tls(const char *addr, unsigned port, unsigned timeout)
{
	mailstream_low *low;
	struct caught q;
	char said[300];
	int fd, gai;

	if ((fd = tcp_connect(addr, port, timeout, &gai)) == -1)
		return 0;
	catch_stderr(&q);
	low = mailstream_low_ssl_open_timeout(fd, (time_t)(
	    timeout < GREETING_PATIENCE ? timeout : GREETING_PATIENCE));
	release_stderr(&q, said, sizeof(said));
	if (low == NULL) {
		close(fd);
		return 0;
	}
	mailstream_low_close(low);
	mailstream_low_free(low);
	return 1;
}

/* Connects to addr, with TLS from the first byte when `tls`, puts the
 * guard under libetpan and reads the greeting.  Returns what
 * mailimap_connect() returns, or a MAILIMAP_ERROR_* of its own. */
static int
open_stream(struct imap_conn *c, const char *addr, int tls, char *sni_host,
    int *gai)
{
	const struct imap_config *ic = c->cfg;
	mailstream_low *low, *guarded;
	mailstream *stream;
	int fd;

	if ((fd = tcp_connect(addr, ic->port, ic->timeout, gai)) == -1)
		return MAILIMAP_ERROR_CONNECTION_REFUSED;
	if (!tls && !greets_soon(fd, ic->timeout) &&
	    speaks_tls(addr, ic->port, ic->timeout)) {
		close(fd);
		c->speaks_tls = 1;
		return MAILIMAP_ERROR_CONNECTION_REFUSED;
	}
	low = tls ? mailstream_low_ssl_open_with_callback_timeout(fd,
			(time_t)ic->timeout, set_sni, sni_host)
		  : mailstream_low_socket_open(fd);
	if (low == NULL) {
		close(fd);
		return tls ? MAILIMAP_ERROR_SSL : MAILIMAP_ERROR_MEMORY;
	}
	if ((guarded = imap_guard_wrap(&c->guard, low)) == NULL) {
		mailstream_low_close(low);
		mailstream_low_free(low);
		return MAILIMAP_ERROR_MEMORY;
	}
	if ((stream = mailstream_new(guarded, 8192)) == NULL) {
		mailstream_low_close(guarded);
		mailstream_low_free(guarded);
		return MAILIMAP_ERROR_MEMORY;
	}
	imap_guard_start(&c->guard);
	return mailimap_connect(c->imap, stream);
}

/* After STARTTLS libetpan has put a TLS driver of its own in place of the
 * guard (freeing it); the guard goes back on top. */
static int
reguard(struct imap_conn *c)
{
	mailstream_low *low = mailstream_get_low(c->imap->imap_stream);
	mailstream_low *guarded = imap_guard_wrap(&c->guard, low);

	if (guarded == NULL)
		return -1;
	mailstream_set_low(c->imap->imap_stream, guarded);
	return 0;
}

/* Why a connect failed, in words. */
static int
connect_failed(struct imap_conn *c, int r, int saved_errno, int timed_out,
    const char *said, struct err *e)
{
	const struct imap_config *ic = c->cfg;
	struct addrinfo hints, *res;
	char why[300];
	int g;

	if (c->speaks_tls)
		return err_set(e, "%s:%u speaks TLS from the first byte "
				  "(IMAPS), not STARTTLS: use tls = imaps "
				  "for this port, or the port of plain IMAP "
				  "(143) for tls = %s",
		    ic->host, ic->port,
		    ic->tls == IMAP_TLS_NONE ? "none" : "starttls");
	if (c->guard.trip != GUARD_IDLE &&
	    imap_guard_explain(&c->guard, why, sizeof(why)))
		return err_set(e, "%s:%u: %s before the end of its greeting; "
				  "connection dropped",
		    ic->host, ic->port, why);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((g = getaddrinfo(ic->host, NULL, &hints, &res)) != 0)
		return err_set(e, "cannot resolve %s: %s", ic->host,
		    gai_strerror(g));
	freeaddrinfo(res);
	if (timed_out)
		return err_set(e, "cannot connect to %s:%u: no %s within %u s "
				  "(timeout)",
		    ic->host, ic->port,
		    r == MAILIMAP_ERROR_SSL ? "TLS handshake" : "IMAP greeting",
		    ic->timeout);
	if (r == MAILIMAP_ERROR_SSL)
		return err_set(e, "TLS handshake with %s:%u failed%s%s%s; does "
				  "the port speak IMAPS?  (tls = starttls is "
				  "for port 143)",
		    ic->host, ic->port, said[0] ? " (" : "", said,
		    said[0] ? ")" : "");
	/* libetpan connects without blocking: errno is often just
	 * EINPROGRESS, which says nothing */
	if (r == MAILIMAP_ERROR_CONNECTION_REFUSED &&
	    saved_errno == ECONNREFUSED)
		return err_set(e, "cannot connect to %s:%u: connection refused",
		    ic->host, ic->port);
	if (r == MAILIMAP_ERROR_CONNECTION_REFUSED && saved_errno != 0 &&
	    saved_errno != EINPROGRESS && saved_errno != EAGAIN)
		return err_set(e, "cannot connect to %s:%u: %s", ic->host,
		    ic->port, strerror(saved_errno));
	if (r == MAILIMAP_ERROR_CONNECTION_REFUSED)
		return err_set(e, "cannot connect to %s:%u: connection refused "
				  "or network unreachable",
		    ic->host, ic->port);
	if (r == MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION)
		return err_set(e, "%s:%u does not accept connections (BYE "
				  "greeting)",
		    ic->host, ic->port);
	return err_set(e, "cannot connect to %s:%u (no IMAP greeting within "
			  "%u s)",
	    ic->host, ic->port, ic->timeout);
}

static int
verify(struct imap_conn *c, int *ex, struct err *e)
{
	const struct imap_config *ic = c->cfg;

	switch (imap_tls_verify(c->imap->imap_stream, ic->host, ic->ca_file,
	    e)) {
	case TLS_TRUSTED:
		return 0;
	case TLS_BAD_CA_FILE:
		*ex = EX_CONFIG;
		break;
	default:
		*ex = EX_NOPERM;
		break;
	}
	imap_conn_drop(c);
	return err_prefix(e, "%s:%u", ic->host, ic->port);
}

int
imap_capability(mailimap *imap, struct mailimap_capability_data **cap)
{
	struct mailimap_connection_info *ci = imap->imap_connection_info;
	clist *empty;

	*cap = NULL;
	if (ci != NULL && ci->imap_capability == NULL) {
		if ((empty = clist_new()) == NULL ||
		    (ci->imap_capability = mailimap_capability_data_new(
			 empty)) == NULL) {
			if (empty != NULL)
				clist_free(empty);
			return MAILIMAP_ERROR_MEMORY;
		}
	}
	/* "[CAPABILITY ]" in the greeting: libetpan keeps the data with no
	 * list at all, not an empty one */
	if (ci != NULL && ci->imap_capability->cap_list == NULL &&
	    (ci->imap_capability->cap_list = clist_new()) == NULL)
		return MAILIMAP_ERROR_MEMORY;
	return mailimap_capability(imap, cap);
}

static int
capability(struct imap_conn *c, int *ex, struct err *e)
{
	struct mailimap_capability_data *cap = NULL;
	int r;

	if ((r = imap_capability(c->imap, &cap)) != MAILIMAP_NO_ERROR) {
		*ex = imap_conn_fail(c, r, "CAPABILITY", EX_PROTOCOL, e);
		return -1;
	}
	mailimap_capability_data_free(cap);
	imap_conn_touch(c);
	return 0;
}

static int
connect_tls(struct imap_conn *c, int *ex, struct err *e)
{
	const struct imap_config *ic = c->cfg;
	char addr[INET6_ADDRSTRLEN], said[300], *host;
	struct caught q;
	time_t start = time(NULL);
	int r, saved, gai = 0;

	if ((host = strdup(ic->host)) == NULL) {
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	errno = 0;
	said[0] = '\0';
	switch (ic->tls) {
	case IMAP_TLS_IMAPS:
		catch_stderr(&q);
		r = open_stream(c, host, 1, host, &gai);
		saved = errno;
		release_stderr(&q, said, sizeof(said));
		errno = saved;
		break;
	case IMAP_TLS_STARTTLS:
		r = open_stream(c, host, 0, host, &gai);
		break;
	default:
		if (loopback_only(ic->host, addr, sizeof(addr), ex, e) == -1) {
			free(host);
			return -1;
		}
		log_warn(c->lg, "tls = none: talking to %s:%u in clear text "
				"(allowed because it is a loopback address)",
		    ic->host, ic->port);
		r = open_stream(c, addr, 0, host, &gai);
		break;
	}
	saved = errno;
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		free(host);
		imap_conn_drop(c);
		*ex = c->guard.trip != GUARD_OK && c->guard.trip != GUARD_IDLE
			  ? EX_TEMPFAIL
			  : EX_UNAVAILABLE;
		if (gai != 0)
			return err_set(e, "cannot resolve %s: %s", ic->host,
			    gai_strerror(gai));
		return connect_failed(c, r, saved,
		    time(NULL) - start >= (time_t)ic->timeout, said, e);
	}
	imap_conn_touch(c);
	c->preauth = r == MAILIMAP_NO_ERROR_AUTHENTICATED;
	if (ic->tls == IMAP_TLS_IMAPS) {
		free(host);
		return verify(c, ex, e);
	}
	if (ic->tls == IMAP_TLS_NONE) {
		free(host);
		return 0;
	}

	/* STARTTLS.  A PREAUTH greeting in clear text could come from
	 * anyone between us and the server: refuse it like a missing
	 * STARTTLS. */
	if (r == MAILIMAP_NO_ERROR_AUTHENTICATED ||
	    capability(c, ex, e) == -1 ||
	    !mailimap_has_extension(c->imap, "STARTTLS")) {
		free(host);
		if (c->dead)
			return -1;
		imap_conn_drop(c);
		*ex = EX_NOPERM;
		return err_set(e, "%s:%u does not offer STARTTLS; refusing to "
				  "log in over clear text (if the server has "
				  "IMAPS, use tls = imaps and port 993)",
		    ic->host, ic->port);
	}
	catch_stderr(&q);
	r = mailimap_socket_starttls_with_callback(c->imap, set_sni, host);
	release_stderr(&q, said, sizeof(said));
	free(host);
	if (r == MAILIMAP_NO_ERROR && reguard(c) == -1)
		r = MAILIMAP_ERROR_MEMORY;
	if (r != MAILIMAP_NO_ERROR) {
		imap_conn_drop(c);
		*ex = EX_UNAVAILABLE;
		return err_set(e, "%s:%u: STARTTLS failed (%s%s%s)", ic->host,
		    ic->port,
		    r == MAILIMAP_ERROR_SSL ? "TLS handshake failed"
					    : "the server refused it",
		    said[0] ? ": " : "", said);
	}
	if (verify(c, ex, e) == -1)
		return -1;
	/* what was said before the handshake cannot be trusted */
	return capability(c, ex, e);
}

static int
authenticate(struct imap_conn *c, int *ex, struct err *e)
{
	const struct imap_config *ic = c->cfg;
	char *secret = NULL, said[256], source[PATH_MAX + 64];
	int r;

	if (c->preauth) {
		log_info(c->lg, "%s:%u: already authenticated (PREAUTH)",
		    ic->host, ic->port);
		return 0;
	}
	if (ic->auth == IMAP_AUTH_XOAUTH2) {
		if (capability(c, ex, e) == -1)
			return -1;
		if (!mailimap_has_authentication(c->imap, "XOAUTH2")) {
			*ex = EX_NOPERM;
			return err_set(e, "%s:%u does not offer XOAUTH2 "
					  "(AUTH=XOAUTH2); use auth = login",
			    ic->host, ic->port);
		}
	}
	if (imap_secret_get(ic, c->lg, &secret, e) == -1) {
		*ex = EX_CONFIG;
		return -1;
	}
	if (ic->auth == IMAP_AUTH_XOAUTH2)
		r = mailimap_oauth2_authenticate(c->imap, ic->user, secret);
	else
		r = mailimap_login(c->imap, ic->user, secret);
	imap_secret_free(secret);
	if (r == MAILIMAP_NO_ERROR) {
		imap_conn_touch(c);
		return 0;
	}
	if (r == MAILIMAP_ERROR_LOGIN || r == MAILIMAP_ERROR_SASL) {
		server_said(c, said, sizeof(said));
		imap_secret_source(ic, source, sizeof(source));
		*ex = EX_NOPERM;
		return err_set(e, "%s:%u refused the %s of %s: %s (sent: %s; "
				  "%s)",
		    ic->host, ic->port,
		    ic->auth == IMAP_AUTH_XOAUTH2 ? "XOAUTH2 token"
						  : "password",
		    ic->user, said, source,
		    ic->auth == IMAP_AUTH_XOAUTH2
			? "an expired token, or one without the IMAP scope?"
			: "check it and user");
	}
	*ex = imap_conn_fail(c, r, "login", EX_NOPERM, e);
	return -1;
}

/* The personal namespace: NAMESPACE (RFC 2342) if the server has it,
 * else the delimiter from LIST "" "" and no prefix. */
static int
namespace(struct imap_conn *c, int *ex, struct err *e)
{
	struct mailimap_namespace_data *ns = NULL;
	struct mailimap_namespace_info *info;
	struct mailimap_mailbox_list *mb;
	clist *list = NULL;
	int r;

	if (mailimap_has_namespace(c->imap)) {
		if ((r = mailimap_namespace(c->imap, &ns)) !=
		    MAILIMAP_NO_ERROR) {
			*ex = imap_conn_fail(c, r, "NAMESPACE", EX_PROTOCOL,
			    e);
			return -1;
		}
		if (ns->ns_personal != NULL &&
		    !clist_isempty(ns->ns_personal->ns_data_list)) {
			info = clist_content(
			    clist_begin(ns->ns_personal->ns_data_list));
			c->delim = info->ns_delimiter;
			c->prefix = strdup(info->ns_prefix);
		}
		mailimap_namespace_data_free(ns);
		if (c->prefix != NULL)
			goto done;
	}
	if ((r = mailimap_list(c->imap, "", "", &list)) != MAILIMAP_NO_ERROR) {
		*ex = imap_conn_fail(c, r, "LIST", EX_PROTOCOL, e);
		return -1;
	}
	if (!clist_isempty(list)) {
		mb = clist_content(clist_begin(list));
		c->delim = mb->mb_delimiter;
	}
	mailimap_list_result_free(list);
	c->prefix = strdup("");
done:
	imap_conn_touch(c);
	if (c->prefix == NULL) {
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	log_debug(c->lg, "namespace: prefix \"%s\", delimiter '%c'",
	    c->prefix, c->delim ? c->delim : ' ');
	return 0;
}

int
imap_conn_open(struct imap_conn *c, const struct imap_config *cfg,
    const struct logger *lg, int *ex, struct err *e)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->lg = lg;
	if ((c->imap = mailimap_new(0, NULL)) == NULL) {
		*ex = EX_OSERR;
		return err_set(e, "out of memory");
	}
	mailimap_set_timeout(c->imap, (time_t)cfg->timeout);
	imap_guard_init(&c->guard, cfg->timeout, cfg->max_response);
	if (connect_tls(c, ex, e) == -1 || authenticate(c, ex, e) == -1 ||
	    capability(c, ex, e) == -1 || namespace(c, ex, e) == -1) {
		imap_conn_close(c);
		return -1;
	}
	c->has_move = mailimap_has_extension(c->imap, "MOVE");
	c->has_uidplus = mailimap_has_extension(c->imap, "UIDPLUS");
	log_debug(lg, "logged in to %s:%u as %s (MOVE %s, UIDPLUS %s)",
	    cfg->host, cfg->port, cfg->user, c->has_move ? "yes" : "no",
	    c->has_uidplus ? "yes" : "no");
	return 0;
}
