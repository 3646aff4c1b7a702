/*
 * config.c - see config.h.
 *
 * inih does the lexing; this file does everything that makes a value
 * right.  inih calls the handler once per "key = value" line without
 * saying which line it is, so the reader below counts lines itself (inih
 * asks it for exactly one line per call) and also catches lines too long
 * for inih's fixed buffer, which inih would otherwise cut in two and parse
 * the halves as separate lines.
 */
#include "config.h"

#include "input-limits.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns.h"

enum ktype {
	KT_HOST,
	KT_USER,
	KT_PORT,
	KT_TLS,
	KT_AUTH,
	KT_SECRET,
	KT_PATH,
	KT_COMMAND,
	KT_FOLDER,	 /* a folder name, never empty */
	KT_FOLDER_EMPTY, /* a folder name, or "" */
	KT_SECONDS,
	KT_BATCH,
	KT_PERCENT, /* 0..100, "0.5" or "0.5%" */
	KT_DAYS,    /* 1..36500, "3" or "3d" */
	KT_SIZE, /* bytes, with an optional k, M or G */
	KT_BOOL, /* yes/no, true/false, on/off, 1/0 */
	KT_KEEP_DAYS, /* [store] keep: "400d" or "400" */
	KT_DNS_BOOL,	/* yes | no */
	KT_DNS_SERVERS, /* dns_check_servers() */
	KT_DNS_BUDGET,	/* seconds */
};

/* The order is the one of config.line[] and of the switch in field(). */
enum {
	K_HOST,
	K_PORT,
	K_TLS,
	K_USER,
	K_AUTH,
	K_PASSWORD,
	K_PASSWORD_FILE,
	K_PASSWORD_COMMAND,
	K_OAUTH2_TOKEN_COMMAND,
	K_FOLDER,
	K_ARCHIVE_FOLDER,
	K_FAILED_FOLDER,
	K_CA_FILE,
	K_TIMEOUT,
	K_BATCH,
	K_MAX_RESPONSE,
	K_MARK_SEEN,
	K_DB,
	K_SOURCES,
	K_TOLERANCE,
	K_MAX_AGE,
	K_KEEP,
	K_KEEP_BODIES,
	K_DNS_RESOLVE,
	K_DNS_SERVERS,
	K_DNS_BUDGET,
	K_COUNT
};

struct key {
	const char *section;
	const char *name;
	enum ktype type;
};

static const struct key keys[K_COUNT] = {
    [K_HOST] = {"imap", "host", KT_HOST},
    [K_PORT] = {"imap", "port", KT_PORT},
    [K_TLS] = {"imap", "tls", KT_TLS},
    [K_USER] = {"imap", "user", KT_USER},
    [K_AUTH] = {"imap", "auth", KT_AUTH},
    [K_PASSWORD] = {"imap", "password", KT_SECRET},
    [K_PASSWORD_FILE] = {"imap", "password_file", KT_PATH},
    [K_PASSWORD_COMMAND] = {"imap", "password_command", KT_COMMAND},
    [K_OAUTH2_TOKEN_COMMAND] = {"imap", "oauth2_token_command", KT_COMMAND},
    [K_FOLDER] = {"imap", "folder", KT_FOLDER},
    [K_ARCHIVE_FOLDER] = {"imap", "archive_folder", KT_FOLDER_EMPTY},
    [K_FAILED_FOLDER] = {"imap", "failed_folder", KT_FOLDER_EMPTY},
    [K_CA_FILE] = {"imap", "ca_file", KT_PATH},
    [K_TIMEOUT] = {"imap", "timeout", KT_SECONDS},
    [K_BATCH] = {"imap", "batch", KT_BATCH},
    [K_MAX_RESPONSE] = {"imap", "max_response", KT_SIZE},
    [K_MARK_SEEN] = {"imap", "mark_seen", KT_BOOL},
    [K_DB] = {"store", "db", KT_PATH},
    [K_SOURCES] = {"report", "sources", KT_PATH},
    [K_TOLERANCE] = {"report", "tolerance", KT_PERCENT},
    [K_MAX_AGE] = {"report", "max_age", KT_DAYS},
    [K_KEEP] = {"store", "keep", KT_KEEP_DAYS},
    [K_KEEP_BODIES] = {"store", "keep_failure_bodies", KT_BOOL},
    [K_DNS_RESOLVE] = {"dns", "resolve", KT_DNS_BOOL},
    [K_DNS_SERVERS] = {"dns", "servers", KT_DNS_SERVERS},
    [K_DNS_BUDGET] = {"dns", "budget", KT_DNS_BUDGET},
};

_Static_assert(K_COUNT == CONFIG_NKEYS, "config.line[] has one slot per key");

#define MAX_VALUE  4096
#define MAX_FOLDER 512

/* State of one ini_parse_stream() over a file. */
struct load {
	struct config *c;
	const char *path;
	FILE *f;
	char dir[PATH_MAX]; /* the file's directory, for relative paths */
	int lineno;	    /* line last handed to inih */
	int failed;
	struct err e; /* the first error */
};

void
config_init(struct config *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->imap.tls = IMAP_TLS_IMAPS;
	c->imap.auth = IMAP_AUTH_LOGIN;
	c->imap.timeout = 60;
	c->imap.batch = 50;
	c->report.tolerance = 0.5;
	c->report.max_age = 3;
	c->imap.max_response = 4u << 20; /* GUARD_DEFAULT_MAX_RESPONSE */
	c->imap.mark_seen = 1;
	c->dns_resolve = 1;
	c->dns_budget = 20;
	for (i = 0; i < K_COUNT; i++)
		c->line[i] = -1;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
config_free(struct config *c)
{
	struct imap_config *ic = &c->imap;

	free(c->file);
	free(ic->host);
	free(ic->user);
	wipe_free(ic->password);
	free(ic->password_file);
	free(ic->password_command);
	free(ic->oauth2_token_command);
	free(ic->folder);
	free(ic->archive_folder);
	free(ic->failed_folder);
	free(ic->ca_file);
	free(c->db);
	free(c->report.sources);
	free(c->dns_servers);
	memset(c, 0, sizeof(*c));
}

/* The string a key is stored in, or NULL for the non-string keys. */
static char **
field(struct config *c, int k)
{
	switch (k) {
	case K_HOST:
		return &c->imap.host;
	case K_USER:
		return &c->imap.user;
	case K_PASSWORD:
		return &c->imap.password;
	case K_PASSWORD_FILE:
		return &c->imap.password_file;
	case K_PASSWORD_COMMAND:
		return &c->imap.password_command;
	case K_OAUTH2_TOKEN_COMMAND:
		return &c->imap.oauth2_token_command;
	case K_FOLDER:
		return &c->imap.folder;
	case K_ARCHIVE_FOLDER:
		return &c->imap.archive_folder;
	case K_FAILED_FOLDER:
		return &c->imap.failed_folder;
	case K_CA_FILE:
		return &c->imap.ca_file;
	case K_DB:
		return &c->db;
	case K_SOURCES:
		return &c->report.sources;
	case K_DNS_SERVERS:
		return &c->dns_servers;
	default:
		return NULL;
	}
}

/* --- checking values --------------------------------------------------- */

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Length of the UTF-8 sequence at s, or 0 if it is not valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t
utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n, i;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int
check_folder(const char *v, struct err *e)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t n;

	if (strlen(v) > MAX_FOLDER)
		return err_set(e, "folder name longer than %d bytes",
		    MAX_FOLDER);
	if (has_control(v))
		return err_set(e, "control characters are not allowed in a "
				  "folder name");
	if (v[0] == '/' || v[strlen(v) - 1] == '/' || strstr(v, "//"))
		return err_set(e, "'%s' has an empty component; write "
				  "folders as Parent/Child",
		    v);
	for (; *p != '\0'; p += n)
		if ((n = utf8_seq(p)) == 0)
			return err_set(e, "the folder name is not valid UTF-8");
	return 0;
}

static int
parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	unsigned long n;
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/* 1 for yes, 0 for no, 2 for neither. */
static unsigned
parse_bool(const char *v)
{
	static const char *yes[] = {"yes", "true", "on", "1"};
	static const char *no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return 2;
}

/* A path from the file: "~/" is the home directory, a relative path is
 * relative to the file's directory.  From the command line (dir NULL),
 * relative paths stay relative to the working directory. */
static int
expand_path(const char *v, const char *dir, char **out, struct err *e)
{
	const char *home;
	char buf[PATH_MAX];
	int n;

	if (v[0] == '~' && v[1] == '/') {
		if ((home = getenv("HOME")) == NULL || home[0] == '\0')
			return err_set(e, "'%s' starts with ~/ but HOME is "
					  "not set",
			    v);
		n = snprintf(buf, sizeof(buf), "%s%s", home, v + 1);
	} else if (v[0] != '/' && dir != NULL) {
		n = snprintf(buf, sizeof(buf), "%s/%s", dir, v);
	} else {
		n = snprintf(buf, sizeof(buf), "%s", v);
	}
	if (n < 0 || (size_t)n >= sizeof(buf))
		return err_set(e, "path too long");
	if ((*out = strdup(buf)) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

/* [report] tolerance (a percentage) and max_age (days). */
static int
set_report_number(struct config *c, int k, const char *v, struct err *e)
{
	char num[32], *end;
	size_t len = strlen(v);
	unsigned n;
	double d;

	if (len > 0 && v[len - 1] == (k == K_TOLERANCE ? '%' : 'd'))
		len--;
	if (len >= sizeof(num))
		len = 0; /* rejected below */
	snprintf(num, sizeof(num), "%.*s", (int)len, v);
	if (k == K_MAX_AGE) {
		if (parse_uint(num, 1, 36500, &n) == -1)
			return err_set(e, "'%s' is not a number of days "
					  "between 1 and 36500",
			    v);
		c->report.max_age = n;
		return 0;
	}
	errno = 0;
	d = strtod(num, &end);
	if ((num[0] < '0' || num[0] > '9') || errno != 0 || *end != '\0' ||
	    !(d >= 0.0 && d <= 100.0))
		return err_set(e, "'%s' is not a percentage between 0 and 100 "
				  "(0.5 or 0.5%%)",
		    v);
	c->report.tolerance = d;
	return 0;
}

/* Checks v for key k and stores it.  dir: see expand_path(). */
static int
set_value(struct config *c, int k, const char *v, const char *dir,
    struct err *e)
{
	struct imap_config *ic = &c->imap;
	char **f = field(c, k), *copy = NULL;
	uint64_t size;
	unsigned n;

	if (strlen(v) > MAX_VALUE)
		return err_set(e, "value longer than %d bytes", MAX_VALUE);
	switch (keys[k].type) {
	case KT_HOST:
		if (v[0] == '\0' || strpbrk(v, " \t/@") != NULL ||
		    has_control(v))
			return err_set(e, "'%s' is not a host name or "
					  "address",
			    v);
		break;
	case KT_USER:
	case KT_COMMAND:
		if (v[0] == '\0')
			return err_set(e, "empty value");
		if (has_control(v))
			return err_set(e, "control characters are not "
					  "allowed");
		break;
	case KT_SECRET:
		if (v[0] == '\0')
			return err_set(e, "empty password");
		break;
	case KT_PATH:
		if (v[0] == '\0')
			return err_set(e, "empty path");
		if (has_control(v))
			return err_set(e, "control characters are not "
					  "allowed in a path");
		if (expand_path(v, dir, &copy, e) == -1)
			return -1;
		break;
	case KT_FOLDER:
		if (v[0] == '\0')
			return err_set(e, "empty folder name");
		/* FALLTHROUGH */
	case KT_FOLDER_EMPTY:
		if (v[0] != '\0' && check_folder(v, e) == -1)
			return -1;
		break;
	case KT_PORT:
		if (parse_uint(v, 1, 65535, &n) == -1)
			return err_set(e, "'%s' is not a port number "
					  "(1-65535)",
			    v);
		ic->port = n;
		return 0;
	case KT_TLS:
		if (strcasecmp(v, "imaps") == 0)
			ic->tls = IMAP_TLS_IMAPS;
		else if (strcasecmp(v, "starttls") == 0)
			ic->tls = IMAP_TLS_STARTTLS;
		else if (strcasecmp(v, "none") == 0)
			ic->tls = IMAP_TLS_NONE;
		else
			return err_set(e, "'%s' is not one of imaps, "
					  "starttls, none",
			    v);
		return 0;
	case KT_AUTH:
		if (strcasecmp(v, "login") == 0)
			ic->auth = IMAP_AUTH_LOGIN;
		else if (strcasecmp(v, "xoauth2") == 0)
			ic->auth = IMAP_AUTH_XOAUTH2;
		else
			return err_set(e, "'%s' is not one of login, xoauth2",
			    v);
		return 0;
	case KT_SECONDS:
		if (parse_uint(v, 1, 3600, &n) == -1)
			return err_set(e, "'%s' is not a number of seconds "
					  "between 1 and 3600",
			    v);
		ic->timeout = n;
		return 0;
	case KT_BATCH:
		if (parse_uint(v, 1, 1000, &n) == -1)
			return err_set(e, "'%s' is not a number between 1 and "
					  "1000",
			    v);
		ic->batch = n;
		return 0;
	case KT_PERCENT:
	case KT_DAYS:
		return set_report_number(c, k, v, e);
	case KT_SIZE:
		if (limits_parse_size(v, &size) == -1 || size < 4096 ||
		    size > (1ull << 32))
			return err_set(e, "'%s' is not a size between 4k and "
					  "4G (e.g. 4M)",
			    v);
		ic->max_response = size;
		return 0;
	case KT_BOOL:
		if ((n = parse_bool(v)) > 1)
			return err_set(e, "'%s' is not yes or no", v);
		if (k == K_KEEP_BODIES)
			c->keep_failure_bodies = (int)n;
		else
			ic->mark_seen = (int)n;
		return 0;
	case KT_KEEP_DAYS: {
		/* whole days, at least one: "400d" or "400" */
		char num[16];
		size_t l = strlen(v);

		if (l > 0 && v[l - 1] == 'd')
			l--;
		if (l > 0 && l < sizeof(num)) {
			memcpy(num, v, l);
			num[l] = '\0';
		}
		if (l == 0 || l >= sizeof(num) ||
		    parse_uint(num, 1, 100000, &n) == -1)
			return err_set(e, "'%s' is not a number of days "
					  "between 1 and 100000 (like 400d)",
			    v);
		c->keep_days = n;
		return 0;
	}
	case KT_DNS_BOOL:
		if (strcasecmp(v, "yes") != 0 && strcasecmp(v, "no") != 0)
			return err_set(e, "'%s' is not yes or no", v);
		c->dns_resolve = strcasecmp(v, "yes") == 0;
		return 0;
	case KT_DNS_SERVERS:
		if (dns_check_servers(v, e) == -1)
			return -1;
		break;
	case KT_DNS_BUDGET:
		if (parse_uint(v, 1, 3600, &n) == -1)
			return err_set(e, "'%s' is not a number of seconds "
					  "between 1 and 3600",
			    v);
		c->dns_budget = n;
		return 0;
	}
	if (copy == NULL && (copy = strdup(v)) == NULL)
		return err_set(e, "out of memory");
	if (keys[k].type == KT_SECRET)
		wipe_free(*f);
	else
		free(*f);
	*f = copy;
	return 0;
}

static int
find_key(const char *section, const char *name)
{
	int k;

	for (k = 0; k < K_COUNT; k++)
		if (strcasecmp(keys[k].section, section) == 0 &&
		    strcasecmp(keys[k].name, name) == 0)
			return k;
	return -1;
}

/* --- the file ---------------------------------------------------------- */

static int
load_fail(struct load *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
load_fail(struct load *ld, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX / 2];
	va_list ap;

	if (!ld->failed) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		err_set(&ld->e, "%s:%d: %s", ld->path, ld->lineno, msg);
		ld->failed = 1;
	}
	return 0; /* inih: an error on this line */
}

static int
on_key(void *arg, const char *section, const char *name, const char *value)
{
	struct load *ld = arg;
	struct err e;
	char v[MAX_VALUE + 1];
	size_t len;
	int k;

	if (section[0] == '\0')
		return load_fail(ld, "'%s' is outside any section; put it "
				     "under [imap], [store], [report] or [dns]",
		    name);
	if ((k = find_key(section, name)) == -1) {
		if (find_key(section, "host") == -1 &&
		    find_key(section, "db") == -1 &&
		    find_key(section, "sources") == -1 &&
		    find_key(section, "resolve") == -1)
			return load_fail(ld, "unknown section [%s] (key "
					     "'%s'); the sections are [imap], "
					     "[store], [report] and [dns]",
			    section, name);
		return load_fail(ld, "unknown key '%s' in [%s]", name,
		    section);
	}
	if (ld->c->line[k] > 0)
		return load_fail(ld, "[%s] %s: set twice (first on line %d; a "
				     "value cannot continue on an indented "
				     "line)",
		    keys[k].section, keys[k].name, ld->c->line[k]);
	/* "value" and "" are accepted for values with spaces or empty */
	len = strlen(value);
	if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
		snprintf(v, sizeof(v), "%.*s", (int)(len - 2), value + 1);
	} else if ((size_t)snprintf(v, sizeof(v), "%s", value) >= sizeof(v)) {
		return load_fail(ld, "[%s] %s: value longer than %d bytes",
		    keys[k].section, keys[k].name, MAX_VALUE);
	}
	if (set_value(ld->c, k, v, ld->dir, &e) == -1) {
		explicit_bzero(v, sizeof(v));
		return load_fail(ld, "[%s] %s: %s", keys[k].section,
		    keys[k].name, e.msg);
	}
	explicit_bzero(v, sizeof(v));
	ld->c->line[k] = ld->lineno;
	return 1;
}

/* inih's line reader.  A line that does not fit inih's buffer becomes an
 * error instead of two lines. */
static char *
read_line(char *str, int num, void *arg)
{
	struct load *ld = arg;
	int c, n = 0, toolong = 0;

	if (num < 2)
		return NULL;
	while ((c = getc(ld->f)) != EOF) {
		if (n < num - 2)
			str[n++] = (char)c;
		else if (c != '\n')
			toolong = 1;
		if (c == '\n')
			break;
	}
	if (c == EOF && n == 0 && !toolong)
		return NULL;
	ld->lineno++;
	str[n] = '\0';
	if (toolong) {
		load_fail(ld, "line longer than %d characters", num - 3);
		str[0] = '\0';
	}
	return str;
}

int
config_load(struct config *c, const char *path, const struct logger *lg,
    struct err *e)
{
	struct load ld;
	struct stat sb;
	char *slash;
	int rc;

	memset(&ld, 0, sizeof(ld));
	ld.c = c;
	ld.path = path;
	if ((ld.f = fopen(path, "re")) == NULL)
		return err_errno(e, "cannot read the configuration %s", path);
	if (fstat(fileno(ld.f), &sb) == -1 || !S_ISREG(sb.st_mode)) {
		fclose(ld.f);
		return err_set(e, "the configuration %s is not a file", path);
	}
	if (config_trusted(path, &sb, "the configuration", e) == -1) {
		fclose(ld.f);
		return -1;
	}
	if (sb.st_mode & (S_IRGRP | S_IROTH))
		log_warn(lg, "%s is readable by group or others; it holds "
			     "the IMAP account's settings: chmod 600 %s",
		    path, path);
	snprintf(ld.dir, sizeof(ld.dir), "%s", path);
	if ((slash = strrchr(ld.dir, '/')) == NULL)
		snprintf(ld.dir, sizeof(ld.dir), ".");
	else if (slash == ld.dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	rc = ini_parse_stream(read_line, &ld, on_key, &ld);
	fclose(ld.f);
	if (ld.failed) {
		*e = ld.e;
		return -1;
	}
	if (rc != 0) /* a line inih could not parse: no "=", no "]" */
		return err_set(e, "%s:%d: not a [section], a key = value or a "
				  "comment",
		    path, rc > 0 ? rc : ld.lineno);
	free(c->file);
	if ((c->file = strdup(path)) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

int
config_trusted(const char *path, const struct stat *sb, const char *what,
    struct err *e)
{
	uid_t me = geteuid();
	struct passwd *pw;
	char owner[64];

	if (sb->st_mode & (S_IWGRP | S_IWOTH))
		return err_set(e, "%s %s is writable by %s: anyone who can "
				  "write it can make dmarc-ingest run "
				  "commands or send the password elsewhere; "
				  "refusing it (chmod go-w %s)",
		    what, path,
		    (sb->st_mode & S_IWOTH) ? "everyone" : "its group", path);
	if (sb->st_uid != me && sb->st_uid != 0) {
		if ((pw = getpwuid(sb->st_uid)) != NULL)
			snprintf(owner, sizeof(owner), "%s", pw->pw_name);
		else
			snprintf(owner, sizeof(owner), "uid %u",
			    (unsigned)sb->st_uid);
		return err_set(e, "%s %s belongs to %s, not to the user "
				  "running (uid %u) or root: another user "
				  "could change what it says; refusing it "
				  "(chown it to the user that runs "
				  "dmarc-ingest)",
		    what, path, owner, (unsigned)me);
	}
	return 0;
}

int
config_command_program(const char *cmd, char *out, size_t len)
{
	const char *p = cmd, *path, *end;
	char word[PATH_MAX], cand[PATH_MAX];
	size_t n;

	out[0] = '\0';
	for (;;) { /* skip VAR=value assignments in front */
		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t");
		if (n == 0 || n >= sizeof(word))
			return 0;
		memcpy(word, p, n);
		word[n] = '\0';
		if (strchr(word, '=') == NULL || strchr(word, '/') != NULL)
			break;
		p += n;
	}
	if (strchr(word, '/') != NULL) {
		snprintf(out, len, "%s", word);
		return 0;
	}
	if ((path = getenv("PATH")) == NULL || path[0] == '\0')
		path = "/usr/bin:/bin";
	for (; *path != '\0'; path = *end ? end + 1 : end) {
		end = path + strcspn(path, ":");
		if (end == path || (size_t)(end - path) + n + 2 > sizeof(cand))
			continue;
		memcpy(cand, path, (size_t)(end - path));
		cand[end - path] = '/';
		memcpy(cand + (end - path) + 1, word, n + 1);
		if (access(cand, X_OK) == 0) {
			snprintf(out, len, "%s", cand);
			return 0;
		}
	}
	return 0;
}

int
config_locate(const char *option, char **path, struct err *e)
{
	const char *env, *home;
	char buf[PATH_MAX];
	int n;

	*path = NULL;
	if (option == NULL && (env = getenv("DMARCSIFT_CONFIG")) != NULL &&
	    env[0] != '\0')
		option = env;
	if (option != NULL) {
		if (access(option, F_OK) == -1)
			return err_errno(e, "cannot read the configuration %s",
			    option);
		if ((*path = strdup(option)) == NULL)
			return err_set(e, "out of memory");
		return 0;
	}
	n = -1;
	if ((env = getenv("XDG_CONFIG_HOME")) != NULL && env[0] == '/')
		n = snprintf(buf, sizeof(buf), "%s/dmarcsift/config", env);
	else if ((home = getenv("HOME")) != NULL && home[0] != '\0')
		n = snprintf(buf, sizeof(buf), "%s/.config/dmarcsift/config",
		    home);
	if (n > 0 && (size_t)n < sizeof(buf) && access(buf, F_OK) == 0) {
		if ((*path = strdup(buf)) == NULL)
			return err_set(e, "out of memory");
		return 0;
	}
	if (access("/etc/dmarcsift/config", F_OK) == 0 &&
	    (*path = strdup("/etc/dmarcsift/config")) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

/* --- the command line -------------------------------------------------- */

static int
option_key(const char *option)
{
	char name[64];
	size_t i;

	if (strlen(option) >= sizeof(name))
		return -1;
	for (i = 0; option[i] != '\0'; i++)
		name[i] = option[i] == '-' ? '_' : option[i];
	name[i] = '\0';
	if (strcmp(name, "db") == 0)
		return K_DB;
	if (find_key("report", name) != -1)
		return find_key("report", name);
	if (strcmp(name, "dns_server") == 0)
		return K_DNS_SERVERS;
	return find_key("imap", name);
}

int
config_set_option(struct config *c, const char *option, const char *value,
    struct err *e)
{
	int k = option_key(option);

	if (k == -1)
		return err_set(e, "--%s: no such setting", option);
	if (keys[k].type == KT_SECRET)
		return err_set(e, "--%s: a password is never taken from the "
				  "command line; use password_file, "
				  "password_command or DMARCSIFT_IMAP_PASSWORD",
		    option);
	if (set_value(c, k, value, NULL, e) == -1)
		return err_prefix(e, "--%s", option);
	c->line[k] = 0;
	return 0;
}

/* --- checks across keys ------------------------------------------------ */

/* "FILE:LINE: [imap] key" or "--key", for a message about key k. */
static void
where(const struct config *c, int k, char *out, size_t len)
{
	char opt[64];
	size_t i;

	if (c->line[k] > 0) {
		snprintf(out, len, "%s:%d: [%s] %s", c->file, c->line[k],
		    keys[k].section, keys[k].name);
		return;
	}
	snprintf(opt, sizeof(opt), "%s", keys[k].name);
	for (i = 0; opt[i] != '\0'; i++)
		if (opt[i] == '_')
			opt[i] = '-';
	snprintf(out, len, "--%s", opt);
}

int
config_env_password(void)
{
	const char *p = getenv("DMARCSIFT_IMAP_PASSWORD");

	return p != NULL && p[0] != '\0';
}

static int
is_set(const struct config *c, int k)
{
	return c->line[k] >= 0;
}

static int
same_folder(const char *a, const char *b)
{
	if (strcasecmp(a, "INBOX") == 0 && strcasecmp(b, "INBOX") == 0)
		return 1;
	return strcmp(a, b) == 0;
}

static int
set_default(char **f, const char *v, struct err *e)
{
	if (*f == NULL && (*f = strdup(v)) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

int
config_check_imap(struct config *c, struct err *e)
{
	struct imap_config *ic = &c->imap;
	const char *file = c->file ? c->file : "the command line";
	char w[PATH_MAX + 64];
	int nsrc;

	if (ic->host == NULL)
		return err_set(e, "no IMAP server: set host in the [imap] "
				  "section of %s, or give --host (see "
				  "dmarc-ingest(1))",
		    c->file ? c->file : "a configuration file");
	if (ic->user == NULL)
		return err_set(e, "no IMAP user: set user in [imap] of %s, "
				  "or give --user",
		    file);
	if (ic->port == 0)
		ic->port = ic->tls == IMAP_TLS_IMAPS ? 993 : 143;
	if (set_default(&ic->folder, "INBOX", e) == -1 ||
	    set_default(&ic->archive_folder, "DMARC/Processed", e) == -1 ||
	    set_default(&ic->failed_folder, "DMARC/Failed", e) == -1)
		return -1;

	nsrc = is_set(c, K_PASSWORD) + is_set(c, K_PASSWORD_FILE) +
	       is_set(c, K_PASSWORD_COMMAND);
	if (ic->auth == IMAP_AUTH_XOAUTH2) {
		if (ic->oauth2_token_command == NULL)
			return err_set(e, "auth = xoauth2 needs "
					  "oauth2_token_command in [imap] of "
					  "%s (a command that prints a "
					  "bearer token)",
			    file);
		if (nsrc > 0) {
			where(c, is_set(c, K_PASSWORD) ? K_PASSWORD
			    : is_set(c, K_PASSWORD_FILE) ? K_PASSWORD_FILE
							  : K_PASSWORD_COMMAND,
			    w, sizeof(w));
			return err_set(e, "%s: not used with auth = xoauth2; "
					  "remove it",
			    w);
		}
	} else {
		if (ic->oauth2_token_command != NULL) {
			where(c, K_OAUTH2_TOKEN_COMMAND, w, sizeof(w));
			return err_set(e, "%s: only used with auth = xoauth2",
			    w);
		}
		if (nsrc > 1)
			return err_set(e, "%s: set only one of password, "
					  "password_file and "
					  "password_command",
			    file);
		if (nsrc == 0 && !config_env_password())
			return err_set(e, "no password for %s: set "
					  "password_file or password_command "
					  "in [imap] of %s, or "
					  "DMARCSIFT_IMAP_PASSWORD",
			    ic->user, file);
	}
	if (same_folder(ic->archive_folder, ic->folder)) {
		where(c, K_ARCHIVE_FOLDER, w, sizeof(w));
		return err_set(e, "%s: the archive folder cannot be the "
				  "folder read (%s); use \"\" to only mark "
				  "messages as read",
		    w, ic->folder);
	}
	if (same_folder(ic->failed_folder, ic->folder)) {
		where(c, K_FAILED_FOLDER, w, sizeof(w));
		return err_set(e, "%s: the failed folder cannot be the "
				  "folder read (%s); use \"\" to leave "
				  "failed messages there, marked as read",
		    w, ic->folder);
	}
	return 0;
}
