/*
 * imap-secret.c - see imap-secret.h.
 *
 * Buffers that held a secret are wiped before they are freed or go out of
 * scope: a core dump or a later heap overflow should find nothing.
 */
#include "imap-secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SECRET_MAX 16384 /* a JWT from Microsoft is ~2.5 KB */

void
imap_secret_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Keeps the first line of buf (len bytes) and, for tokens, drops
 * surrounding white space.  Passwords keep their spaces: only the line
 * end goes. */
static int
first_line(char *buf, size_t len, int token, const char *what, char **out,
    struct err *e)
{
	char *p = buf, *end;

	end = memchr(buf, '\n', len);
	if (end == NULL)
		end = buf + len;
	if (end > buf && end[-1] == '\r')
		end--;
	if (token) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
	}
	if (end == p)
		return err_set(e, "%s is empty", what);
	if (memchr(p, '\0', (size_t)(end - p)) != NULL)
		return err_set(e, "%s contains a NUL byte", what);
	if ((*out = strndup(p, (size_t)(end - p))) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

static int
read_file(const char *path, const struct logger *lg, char **out,
    struct err *e)
{
	char buf[SECRET_MAX], what[300];
	struct stat sb;
	ssize_t n;
	size_t len = 0;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_errno(e, "cannot read the password_file %s", path);
	if (fstat(fd, &sb) == -1) {
		close(fd);
		return err_errno(e, "cannot read the password_file %s", path);
	}
	if (config_trusted(path, &sb, "the password_file", e) == -1) {
		close(fd);
		return -1;
	}
	if (sb.st_mode & (S_IRGRP | S_IROTH))
		log_warn(lg, "the password file %s is readable by group or "
			     "others: chmod 600 %s",
		    path, path);
	while (len < sizeof(buf) &&
	       (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err_errno(e, "cannot read the password_file %s", path);
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	snprintf(what, sizeof(what), "the password_file %s", path);
	rc = first_line(buf, len, 0, what, out, e);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* Runs `cmd` with /bin/sh and collects its standard output, at most
 * SECRET_MAX bytes, within `timeout` seconds. */
static int
run_command(const char *key, const char *cmd, unsigned timeout, char *buf,
    size_t *len, struct err *e)
{
	struct pollfd pfd;
	char sink[4096];
	sigset_t none;
	time_t deadline;
	pid_t pid;
	ssize_t n;
	int fds[2], status, left, timedout = 0;

	*len = 0;
	if (pipe2(fds, O_CLOEXEC) == -1)
		return err_errno(e, "%s: cannot create a pipe", key);
	if ((pid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		return err_errno(e, "%s: cannot fork", key);
	}
	if (pid == 0) {
		/* dmarc-ingest ignores SIGPIPE; the command should not */
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(fds[1], STDOUT_FILENO) == -1)
			_exit(127);
		/* not the IMAP socket, the database, the lock: a helper that
		 * starts a daemon would keep them open */
		closefrom(STDERR_FILENO + 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	deadline = time(NULL) + timeout;
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		left = (int)(deadline - time(NULL));
		if (left <= 0) {
			timedout = 1;
			break;
		}
		n = poll(&pfd, 1, left * 1000);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			timedout = n == 0;
			break;
		}
		/* read to the end (a command cut off by a closed pipe dies
		 * of SIGPIPE); past SECRET_MAX, bytes are only counted */
		if (*len < SECRET_MAX)
			n = read(fds[0], buf + *len, SECRET_MAX - *len);
		else
			n = read(fds[0], sink, sizeof(sink));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (*len < SECRET_MAX)
			*len += (size_t)n;
	}
	explicit_bzero(sink, sizeof(sink));
	close(fds[0]);
	if (timedout)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return err_errno(e, "%s: waitpid", key);
	if (timedout)
		return err_set(e, "%s did not finish within %u s (the IMAP "
				  "timeout)",
		    key, timeout);
	if (WIFSIGNALED(status))
		return err_set(e, "%s was killed by signal %d", key,
		    WTERMSIG(status));
	if (WEXITSTATUS(status) == 127)
		return err_set(e, "%s: the command was not found (exit "
				  "status 127)",
		    key);
	if (WEXITSTATUS(status) != 0)
		return err_set(e, "%s failed (exit status %d)", key,
		    WEXITSTATUS(status));
	if (*len == SECRET_MAX && memchr(buf, '\n', *len) == NULL)
		return err_set(e, "%s printed a first line longer than %d "
				  "bytes",
		    key, SECRET_MAX);
	return 0;
}

/* The program a command starts must be as trusted as the configuration
 * that names it (config_trusted()). */
static int
check_program(const char *key, const char *cmd, struct err *e)
{
	char prog[PATH_MAX], what[64];
	struct stat sb;

	config_command_program(cmd, prog, sizeof(prog));
	if (prog[0] == '\0' || stat(prog, &sb) == -1)
		return 0; /* not found: the shell says so (127) */
	snprintf(what, sizeof(what), "the program of %s", key);
	return config_trusted(prog, &sb, what, e);
}

static int
from_command(const char *key, const char *cmd, unsigned timeout, int token,
    char **out, struct err *e)
{
	char buf[SECRET_MAX];
	size_t len;
	int rc;

	if (check_program(key, cmd, e) == -1)
		return -1;
	rc = run_command(key, cmd, timeout, buf, &len, e);
	if (rc == 0) {
		if (len == 0)
			rc = err_set(e, "%s printed nothing", key);
		else
			rc = first_line(buf, len, token,
			    token ? "the token printed by oauth2_token_command"
				  : "the password printed by "
				    "password_command",
			    out, e);
	}
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

void
imap_secret_source(const struct imap_config *ic, char *out, size_t len)
{
	const char *env = getenv("DMARCSIFT_IMAP_PASSWORD");

	if (ic->auth == IMAP_AUTH_XOAUTH2)
		snprintf(out, len, "the token printed by oauth2_token_command");
	else if (env != NULL && env[0] != '\0')
		snprintf(out, len, "the password from DMARCSIFT_IMAP_PASSWORD "
				   "(it overrides the configuration's)");
	else if (ic->password != NULL)
		snprintf(out, len, "the password written in the configuration");
	else if (ic->password_file != NULL)
		snprintf(out, len, "the password in password_file %s",
		    ic->password_file);
	else
		snprintf(out, len, "the password printed by password_command");
}

int
imap_secret_get(const struct imap_config *ic, const struct logger *lg,
    char **out, struct err *e)
{
	const char *env;

	*out = NULL;
	if (ic->auth == IMAP_AUTH_XOAUTH2)
		return from_command("oauth2_token_command",
		    ic->oauth2_token_command, ic->timeout, 1, out, e);
	if ((env = getenv("DMARCSIFT_IMAP_PASSWORD")) != NULL &&
	    env[0] != '\0') {
		if ((*out = strdup(env)) == NULL)
			return err_set(e, "out of memory");
		return 0;
	}
	if (ic->password != NULL) {
		if ((*out = strdup(ic->password)) == NULL)
			return err_set(e, "out of memory");
		return 0;
	}
	if (ic->password_file != NULL)
		return read_file(ic->password_file, lg, out, e);
	if (ic->password_command != NULL)
		return from_command("password_command", ic->password_command,
		    ic->timeout, 0, out, e);
	return err_set(e, "no password: set password_file or "
			  "password_command in [imap], or "
			  "DMARCSIFT_IMAP_PASSWORD");
}
