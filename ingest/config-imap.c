/*
 * config-imap.c - see config-imap.h.
 */
#include "config-imap.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config-value.h"
#include "config.h"
#include "input-limits.h"

enum ktype {
	KT_HOST,
	KT_USER,
	KT_PORT,
	KT_TLS,
	KT_AUTH,
	KT_SECRET,
	KT_PATH,
	KT_COMMAND,
	KT_FOLDER,       /* a folder name, never empty */
	KT_FOLDER_EMPTY, /* a folder name, or "" */
	KT_SECONDS,
	KT_BATCH,
	KT_SIZE, /* bytes, with an optional k, M or G */
	KT_BOOL, /* yes/no, true/false, on/off, 1/0 */
};

/* The order is the one of imap_config.line[] and of field(). */
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
	K_COUNT
};

static const struct {
	const char *name;
	enum ktype type;
} keys[K_COUNT] = {
    [K_HOST] = {"host", KT_HOST},
    [K_PORT] = {"port", KT_PORT},
    [K_TLS] = {"tls", KT_TLS},
    [K_USER] = {"user", KT_USER},
    [K_AUTH] = {"auth", KT_AUTH},
    [K_PASSWORD] = {"password", KT_SECRET},
    [K_PASSWORD_FILE] = {"password_file", KT_PATH},
    [K_PASSWORD_COMMAND] = {"password_command", KT_COMMAND},
    [K_OAUTH2_TOKEN_COMMAND] = {"oauth2_token_command", KT_COMMAND},
    [K_FOLDER] = {"folder", KT_FOLDER},
    [K_ARCHIVE_FOLDER] = {"archive_folder", KT_FOLDER_EMPTY},
    [K_FAILED_FOLDER] = {"failed_folder", KT_FOLDER_EMPTY},
    [K_CA_FILE] = {"ca_file", KT_PATH},
    [K_TIMEOUT] = {"timeout", KT_SECONDS},
    [K_BATCH] = {"batch", KT_BATCH},
    [K_MAX_RESPONSE] = {"max_response", KT_SIZE},
    [K_MARK_SEEN] = {"mark_seen", KT_BOOL},
};

_Static_assert(K_COUNT == IMAP_NKEYS, "imap_config.line[] has one slot per "
                                      "key");

#define MAX_FOLDER 512

void *
imap_config_new(void)
{
	struct imap_config *ic;
	int i;

	if ((ic = calloc(1, sizeof(*ic))) == NULL)
		return NULL;
	ic->tls = IMAP_TLS_IMAPS;
	ic->auth = IMAP_AUTH_LOGIN;
	ic->timeout = 60;
	ic->batch = 50;
	ic->max_response = 4u << 20; /* GUARD_DEFAULT_MAX_RESPONSE */
	ic->mark_seen = 1;
	for (i = 0; i < K_COUNT; i++)
		ic->line[i] = -1;
	return ic;
}

void
imap_config_free(void *cfg)
{
	struct imap_config *ic = cfg;

	if (ic == NULL)
		return;
	free(ic->host);
	free(ic->user);
	config_wipe_free(ic->password);
	free(ic->password_file);
	free(ic->password_command);
	free(ic->oauth2_token_command);
	free(ic->folder);
	free(ic->archive_folder);
	free(ic->failed_folder);
	free(ic->ca_file);
	free(ic->file);
	free(ic->section);
	free(ic);
}

/* The string a key is stored in, or NULL for the non-string keys. */
static char **
field(struct imap_config *ic, int k)
{
	switch (k) {
	case K_HOST:
		return &ic->host;
	case K_USER:
		return &ic->user;
	case K_PASSWORD:
		return &ic->password;
	case K_PASSWORD_FILE:
		return &ic->password_file;
	case K_PASSWORD_COMMAND:
		return &ic->password_command;
	case K_OAUTH2_TOKEN_COMMAND:
		return &ic->oauth2_token_command;
	case K_FOLDER:
		return &ic->folder;
	case K_ARCHIVE_FOLDER:
		return &ic->archive_folder;
	case K_FAILED_FOLDER:
		return &ic->failed_folder;
	case K_CA_FILE:
		return &ic->ca_file;
	default:
		return NULL;
	}
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
	if (config_has_control(v))
		return err_set(e, "control characters are not allowed in a "
		                  "folder name");
	if (v[0] == '/' || v[strlen(v) - 1] == '/' || strstr(v, "//"))
		return err_set(e,
		               "'%s' has an empty component; write "
		               "folders as Parent/Child",
		               v);
	for (; *p != '\0'; p += n)
		if ((n = utf8_seq(p)) == 0)
			return err_set(e, "the folder name is not valid UTF-8");
	return 0;
}

/* Checks a string value of type t; *copy is set for paths. */
static int
check_string(enum ktype t, const char *v, const char *dir, char **copy,
             struct err *e)
{
	switch (t) {
	case KT_HOST:
		if (v[0] == '\0' || strpbrk(v, " \t/@") != NULL ||
		    config_has_control(v))
			return err_set(e,
			               "'%s' is not a host name or "
			               "address",
			               v);
		return 0;
	case KT_USER:
	case KT_COMMAND:
		if (v[0] == '\0')
			return err_set(e, "empty value");
		if (config_has_control(v))
			return err_set(e, "control characters are not "
			                  "allowed");
		return 0;
	case KT_SECRET:
		if (v[0] == '\0')
			return err_set(e, "empty password");
		return 0;
	case KT_PATH:
		return config_check_path(v, dir, copy, e);
	case KT_FOLDER:
		if (v[0] == '\0')
			return err_set(e, "empty folder name");
		/* FALLTHROUGH */
	case KT_FOLDER_EMPTY:
		if (v[0] != '\0' && check_folder(v, e) == -1)
			return -1;
		return 0;
	default:
		return 0;
	}
}

static const struct config_word tls_words[] = {
    {"imaps", IMAP_TLS_IMAPS},
    {"starttls", IMAP_TLS_STARTTLS},
    {"none", IMAP_TLS_NONE},
    {NULL, 0}};
static const struct config_word auth_words[] = {
    {"login", IMAP_AUTH_LOGIN}, {"xoauth2", IMAP_AUTH_XOAUTH2}, {NULL, 0}};

/* Checks and stores a value of the non-string key k. */
static int
set_number(struct imap_config *ic, int k, const char *v, struct err *e)
{
	uint64_t size;
	unsigned n;
	int w;

	switch (keys[k].type) {
	case KT_PORT:
		if (config_parse_uint(v, 1, 65535, &n) == -1)
			return err_set(e,
			               "'%s' is not a port number "
			               "(1-65535)",
			               v);
		ic->port = n;
		return 0;
	case KT_TLS:
		if (config_parse_word(v, tls_words, &w, e) == -1)
			return -1;
		ic->tls = (enum imap_tls)w;
		return 0;
	case KT_AUTH:
		if (config_parse_word(v, auth_words, &w, e) == -1)
			return -1;
		ic->auth = (enum imap_auth)w;
		return 0;
	case KT_SECONDS:
		if (config_parse_uint(v, 1, 3600, &n) == -1)
			return err_set(e,
			               "'%s' is not a number of seconds "
			               "between 1 and 3600",
			               v);
		ic->timeout = n;
		return 0;
	case KT_BATCH:
		if (config_parse_uint(v, 1, 1000, &n) == -1)
			return err_set(e,
			               "'%s' is not a number between 1 and "
			               "1000",
			               v);
		ic->batch = n;
		return 0;
	case KT_SIZE:
		if (limits_parse_size(v, &size) == -1 || size < 4096 ||
		    size > (1ull << 32))
			return err_set(e,
			               "'%s' is not a size between 4k and "
			               "4G (e.g. 4M)",
			               v);
		ic->max_response = size;
		return 0;
	case KT_BOOL:
		if ((n = config_parse_bool(v)) > 1)
			return err_set(e, "'%s' is not yes or no", v);
		ic->mark_seen = (int)n;
		return 0;
	default:
		return err_set(e, "not a number");
	}
}

/* Whether values of type t are kept as strings (field() has them). */
static int
is_string(enum ktype t)
{
	switch (t) {
	case KT_HOST:
	case KT_USER:
	case KT_SECRET:
	case KT_PATH:
	case KT_COMMAND:
	case KT_FOLDER:
	case KT_FOLDER_EMPTY:
		return 1;
	default:
		return 0;
	}
}

static int
find_key(const char *name)
{
	int k;

	for (k = 0; k < K_COUNT; k++)
		if (strcasecmp(keys[k].name, name) == 0)
			return k;
	return -1;
}

int
imap_config_has_option(const char *key)
{
	return find_key(key) != -1;
}

int
imap_config_set(void *cfg, const char *key, const char *value, const char *dir,
                int line, struct err *e)
{
	struct imap_config *ic = cfg;
	char **f, *copy = NULL;
	int k;

	if ((k = find_key(key)) == -1)
		return 1;
	if (line > 0 && ic->line[k] > 0)
		return err_set(e,
		               "set twice (first on line %d; a value cannot "
		               "continue on an indented line)",
		               ic->line[k]);
	if (strlen(value) > CONFIG_MAX_VALUE)
		return err_set(e, "value longer than %d bytes",
		               CONFIG_MAX_VALUE);
	/* by type, not by field()'s NULL: &ic->host is never NULL */
	if (!is_string(keys[k].type)) {
		if (set_number(ic, k, value, e) == -1)
			return -1;
	} else {
		f = field(ic, k);
		if (check_string(keys[k].type, value, dir, &copy, e) == -1)
			return -1;
		if (copy == NULL && (copy = strdup(value)) == NULL)
			return err_set(e, "out of memory");
		if (keys[k].type == KT_SECRET)
			config_wipe_free(*f);
		else
			free(*f);
		*f = copy;
	}
	ic->line[k] = line;
	return 0;
}

/* --- checks across keys ----------------------------------------------------
 */

/* "FILE:LINE: [imap] key" or "--key", for a message about key k. */
static void
where(const struct imap_config *ic, int k, char *out, size_t len)
{
	char opt[64];
	size_t i;

	if (ic->line[k] > 0) {
		snprintf(out, len, "%s:%d: %s %s", ic->file, ic->line[k],
		         ic->section, keys[k].name);
		return;
	}
	snprintf(opt, sizeof(opt), "%s", keys[k].name);
	for (i = 0; opt[i] != '\0'; i++)
		if (opt[i] == '_')
			opt[i] = '-';
	snprintf(out, len, "--%s", opt);
}

static int
is_set(const struct imap_config *ic, int k)
{
	return ic->line[k] >= 0;
}

static int
same_folder(const char *a, const char *b)
{
	if (strcasecmp(a, "INBOX") == 0 && strcasecmp(b, "INBOX") == 0)
		return 1;
	return strcmp(a, b) == 0;
}

/* The password, password_file, password_command or token that fits
 * auth. */
static int
check_secret(const struct imap_config *ic, const char *file, struct err *e)
{
	char w[PATH_MAX + 128];
	int nsrc = is_set(ic, K_PASSWORD) + is_set(ic, K_PASSWORD_FILE) +
	           is_set(ic, K_PASSWORD_COMMAND);

	if (ic->auth == IMAP_AUTH_XOAUTH2) {
		if (ic->oauth2_token_command == NULL)
			return err_set(e,
			               "auth = xoauth2 needs "
			               "oauth2_token_command in %s of %s "
			               "(a command that prints a bearer "
			               "token)",
			               ic->section, file);
		if (nsrc > 0) {
			where(ic,
			      is_set(ic, K_PASSWORD) ? K_PASSWORD
			      : is_set(ic, K_PASSWORD_FILE)
			          ? K_PASSWORD_FILE
			          : K_PASSWORD_COMMAND,
			      w, sizeof(w));
			return err_set(e,
			               "%s: not used with auth = xoauth2; "
			               "remove it",
			               w);
		}
		return 0;
	}
	if (ic->oauth2_token_command != NULL) {
		where(ic, K_OAUTH2_TOKEN_COMMAND, w, sizeof(w));
		return err_set(e, "%s: only used with auth = xoauth2", w);
	}
	if (nsrc > 1)
		return err_set(e,
		               "%s: set only one of password, "
		               "password_file and password_command",
		               file);
	if (nsrc == 0 && !config_env_password())
		return err_set(e,
		               "no password for %s: set password_file or "
		               "password_command in %s of %s, or "
		               "DMARCSIFT_IMAP_PASSWORD",
		               ic->user, ic->section, file);
	return 0;
}

static int
check_folders(const struct imap_config *ic, struct err *e)
{
	char w[PATH_MAX + 128];

	if (same_folder(ic->archive_folder, ic->folder)) {
		where(ic, K_ARCHIVE_FOLDER, w, sizeof(w));
		return err_set(e,
		               "%s: the archive folder cannot be the "
		               "folder read (%s); use \"\" to only mark "
		               "messages as read",
		               w, ic->folder);
	}
	if (same_folder(ic->failed_folder, ic->folder)) {
		where(ic, K_FAILED_FOLDER, w, sizeof(w));
		return err_set(e,
		               "%s: the failed folder cannot be the "
		               "folder read (%s); use \"\" to leave "
		               "failed messages there, marked as read",
		               w, ic->folder);
	}
	return 0;
}

int
imap_config_check(void *cfg, const char *file, const char *section,
                  struct err *e)
{
	struct imap_config *ic = cfg;
	const char *shown = file ? file : "the command line";

	free(ic->file);
	free(ic->section);
	ic->file = strdup(file ? file : "");
	ic->section = strdup(section);
	if (ic->file == NULL || ic->section == NULL)
		return err_set(e, "out of memory");
	if (ic->host == NULL)
		return err_set(e,
		               "no IMAP server: set host in the %s section "
		               "of %s, or give --host (see "
		               "dmarc-ingest(1))",
		               section, file ? file : "a configuration file");
	if (ic->user == NULL)
		return err_set(e,
		               "no IMAP user: set user in %s of %s, or "
		               "give --user",
		               section, shown);
	if (ic->port == 0)
		ic->port = ic->tls == IMAP_TLS_IMAPS ? 993 : 143;
	if (config_set_default(&ic->folder, "INBOX", e) == -1 ||
	    config_set_default(&ic->archive_folder, "DMARC/Processed", e) ==
	        -1 ||
	    config_set_default(&ic->failed_folder, "DMARC/Failed", e) == -1)
		return -1;
	if (check_secret(ic, shown, e) == -1)
		return -1;
	return check_folders(ic, e);
}
