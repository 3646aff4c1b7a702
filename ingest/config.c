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

#include "config-mailbox.h"
#include "config-value.h"
#include "dns.h"
#include "source.h"

enum ktype {
	KT_PATH,
	KT_PERCENT, /* 0..100, "0.5" or "0.5%" */
	KT_DAYS,    /* 1..36500, "3" or "3d" */
	KT_BOOL, /* yes/no, true/false, on/off, 1/0 */
	KT_KEEP_DAYS, /* [store] keep: "400d" or "400" */
	KT_DNS_BOOL,	/* yes | no */
	KT_DNS_SERVERS, /* dns_check_servers() */
	KT_DNS_BUDGET,	/* seconds */
	KT_HANDLED,	/* [maildir] handled: keep | seen | move */
	KT_MBOX_HANDLED, /* [mbox] handled: keep | move */
};

/* The order is the one of config.line[] and of the switch in field(). */
enum {
	K_DB,
	K_SOURCES,
	K_TOLERANCE,
	K_MAX_AGE,
	K_KEEP,
	K_KEEP_BODIES,
	K_DNS_RESOLVE,
	K_DNS_SERVERS,
	K_DNS_BUDGET,
	K_HANDLED,
	K_MBOX_HANDLED,
	K_COUNT
};

struct key {
	const char *section;
	const char *name;
	enum ktype type;
};

static const struct key keys[K_COUNT] = {
    [K_DB] = {"store", "db", KT_PATH},
    [K_SOURCES] = {"report", "sources", KT_PATH},
    [K_TOLERANCE] = {"report", "tolerance", KT_PERCENT},
    [K_MAX_AGE] = {"report", "max_age", KT_DAYS},
    [K_KEEP] = {"store", "keep", KT_KEEP_DAYS},
    [K_KEEP_BODIES] = {"store", "keep_failure_bodies", KT_BOOL},
    [K_DNS_RESOLVE] = {"dns", "resolve", KT_DNS_BOOL},
    [K_DNS_SERVERS] = {"dns", "servers", KT_DNS_SERVERS},
    [K_DNS_BUDGET] = {"dns", "budget", KT_DNS_BUDGET},
    [K_HANDLED] = {"maildir", "handled", KT_HANDLED},
    [K_MBOX_HANDLED] = {"mbox", "handled", KT_MBOX_HANDLED},
};

_Static_assert(K_COUNT == CONFIG_NKEYS, "config.line[] has one slot per key");

#define MAX_VALUE CONFIG_MAX_VALUE

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
	c->report.tolerance = 0.5;
	c->report.max_age = 3;
	c->dns_resolve = 1;
	c->dns_budget = 20;
	for (i = 0; i < K_COUNT; i++)
		c->line[i] = -1;
}

void
config_wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
config_free(struct config *c)
{
	config_mailboxes_free(c);
	free(c->file);
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

int
config_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int
config_parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
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

unsigned
config_parse_bool(const char *v)
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

int
config_parse_word(const char *v, const struct config_word *w, int *out,
    struct err *e)
{
	char list[256];
	size_t used = 0;
	int i;

	for (i = 0; w[i].word != NULL; i++)
		if (strcasecmp(v, w[i].word) == 0) {
			*out = w[i].value;
			return 0;
		}
	list[0] = '\0';
	for (i = 0; w[i].word != NULL && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used,
		    "%s%s", i > 0 ? ", " : "", w[i].word);
	return err_set(e, "'%s' is not one of %s", v, list);
}

int
config_expand_path(const char *v, const char *dir, char **out, struct err *e)
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

int
config_check_path(const char *v, const char *dir, char **out, struct err *e)
{
	if (v[0] == '\0')
		return err_set(e, "empty path");
	if (config_has_control(v))
		return err_set(e, "control characters are not allowed in a "
				  "path");
	return config_expand_path(v, dir, out, e);
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
		if (config_parse_uint(num, 1, 36500, &n) == -1)
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

static const struct config_word handled_words[] = {
    {"keep", MAILDIR_KEEP}, {"seen", MAILDIR_SEEN}, {"move", MAILDIR_MOVE},
    {NULL, 0}};

static const struct config_word mbox_handled_words[] = {
    {"keep", MBOX_KEEP}, {"move", MBOX_MOVE}, {NULL, 0}};

/* Checks v for key k and stores it.  dir: see expand_path(). */
static int
set_value(struct config *c, int k, const char *v, const char *dir,
    struct err *e)
{
	char **f = field(c, k), *copy = NULL;
	unsigned n;
	int w;

	if (strlen(v) > MAX_VALUE)
		return err_set(e, "value longer than %d bytes", MAX_VALUE);
	switch (keys[k].type) {
	case KT_PATH:
		if (config_check_path(v, dir, &copy, e) == -1)
			return -1;
		break;
	case KT_PERCENT:
	case KT_DAYS:
		return set_report_number(c, k, v, e);
	case KT_BOOL:
		if ((n = config_parse_bool(v)) > 1)
			return err_set(e, "'%s' is not yes or no", v);
		c->keep_failure_bodies = (int)n;
		return 0;
	case KT_HANDLED:
		if (config_parse_word(v, handled_words, &w, e) == -1)
			return -1;
		c->maildir_handled = (enum maildir_handled)w;
		return 0;
	case KT_MBOX_HANDLED:
		if (config_parse_word(v, mbox_handled_words, &w, e) == -1)
			return -1;
		c->mbox_handled = (enum mbox_handled)w;
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
		    config_parse_uint(num, 1, 100000, &n) == -1)
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
		if (config_parse_uint(v, 1, 3600, &n) == -1)
			return err_set(e, "'%s' is not a number of seconds "
					  "between 1 and 3600",
			    v);
		c->dns_budget = n;
		return 0;
	}
	if (copy == NULL && (copy = strdup(v)) == NULL)
		return err_set(e, "out of memory");
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

/* "value" and "" are accepted for values with spaces or empty.  -1 when
 * too long. */
static int
unquote(const char *value, char *v, size_t vlen)
{
	size_t len = strlen(value);

	if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
		snprintf(v, vlen, "%.*s", (int)(len - 2), value + 1);
		return 0;
	}
	return (size_t)snprintf(v, vlen, "%s", value) >= vlen ? -1 : 0;
}

static int
on_key(void *arg, const char *section, const char *name, const char *value)
{
	struct load *ld = arg;
	struct err e;
	char v[MAX_VALUE + 1];
	int k, handled, rc;

	if (section[0] == '\0')
		return load_fail(ld, "'%s' is outside any section; put it "
				     "under [imap], [store], [report] or [dns]",
		    name);
	if (unquote(value, v, sizeof(v)) == -1)
		return load_fail(ld, "[%s] %s: value longer than %d bytes",
		    section, name, MAX_VALUE);
	rc = config_mailbox_key(ld->c, section, name, v, ld->dir, ld->lineno,
	    &handled, &e);
	explicit_bzero(v, sizeof(v));
	if (handled)
		return rc == -1 ? load_fail(ld, "%s", e.msg) : 1;
	if ((k = find_key(section, name)) == -1) {
		if (find_key(section, "db") == -1 &&
		    find_key(section, "sources") == -1 &&
		    find_key(section, "resolve") == -1 &&
		    find_key(section, "handled") == -1)
			return load_fail(ld, "unknown section [%s] (key "
					     "'%s'); the sections are [imap], "
					     "[imap \"name\"], [store], "
					     "[report], [dns], [maildir] "
					     "and [mbox]",
			    section, name);
		return load_fail(ld, "unknown key '%s' in [%s]", name,
		    section);
	}
	if (ld->c->line[k] > 0)
		return load_fail(ld, "[%s] %s: set twice (first on line %d; a "
				     "value cannot continue on an indented "
				     "line)",
		    keys[k].section, keys[k].name, ld->c->line[k]);
	unquote(value, v, sizeof(v));
	rc = set_value(ld->c, k, v, ld->dir, &e);
	explicit_bzero(v, sizeof(v));
	if (rc == -1)
		return load_fail(ld, "[%s] %s: %s", keys[k].section,
		    keys[k].name, e.msg);
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
option_key(const char *name)
{
	if (strcmp(name, "db") == 0)
		return K_DB;
	if (find_key("report", name) != -1)
		return find_key("report", name);
	if (strcmp(name, "dns_server") == 0)
		return K_DNS_SERVERS;
	if (strcmp(name, "maildir_handled") == 0)
		return K_HANDLED;
	if (strcmp(name, "mbox_handled") == 0)
		return K_MBOX_HANDLED;
	return -1;
}

int
config_set_option(struct config *c, const char *option, const char *value,
    struct err *e)
{
	char name[64];
	size_t i;
	int k;

	if (strlen(option) >= sizeof(name))
		return err_set(e, "--%s: no such setting", option);
	for (i = 0; option[i] != '\0'; i++)
		name[i] = option[i] == '-' ? '_' : option[i];
	name[i] = '\0';
	if ((k = option_key(name)) == -1)
		return config_set_mailbox_option(c, option, name, value, e);
	if (set_value(c, k, value, NULL, e) == -1)
		return err_prefix(e, "--%s", option);
	c->line[k] = 0;
	return 0;
}

int
config_env_password(void)
{
	const char *p = getenv("DMARCSIFT_IMAP_PASSWORD");

	return p != NULL && p[0] != '\0';
}

int
config_set_default(char **f, const char *v, struct err *e)
{
	if (*f == NULL && (*f = strdup(v)) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

