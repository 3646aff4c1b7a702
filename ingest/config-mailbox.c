/*
 * config-mailbox.c - the mailbox sections of the configuration ([imap],
 * [imap "name"]) and what the command line says about them (--mailbox,
 * --host...): see config-mailbox.h.
 */
#include "config-mailbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

/* The mailbox of kind k named `name` ("" for the default one), created
 * when missing. */
static struct source_config *
mailbox(struct config *c, const struct source_kind *k, const char *name,
        struct err *e)
{
	struct source_config *m;
	size_t i;

	for (i = 0; i < c->nmailboxes; i++)
		if (c->mailboxes[i].kind == k &&
		    strcmp(c->mailboxes[i].name, name) == 0)
			return &c->mailboxes[i];
	m = realloc(c->mailboxes, (c->nmailboxes + 1) * sizeof(*m));
	if (m == NULL) {
		err_set(e, "out of memory");
		return NULL;
	}
	c->mailboxes = m;
	m += c->nmailboxes;
	m->kind = k;
	if ((m->name = strdup(name)) == NULL ||
	    (m->cfg = k->config_new()) == NULL) {
		free(m->name);
		err_set(e, "out of memory");
		return NULL;
	}
	c->nmailboxes++;
	return m;
}

/* "[imap]" or "[imap \"work\"]", for messages. */
static void
section_label(const struct source_config *m, char *out, size_t len)
{
	if (m->name[0] == '\0')
		snprintf(out, len, "[%s]", m->kind->section);
	else
		snprintf(out, len, "[%s \"%s\"]", m->kind->section, m->name);
}

int
config_mailbox_key(struct config *c, const char *section, const char *key,
                   const char *v, const char *dir, int line, int *handled,
                   struct err *e)
{
	const struct source_kind *k;
	struct source_config *m;
	char base[32], name[80], label[128];
	const char *sp = strchr(section, ' ');
	size_t blen = sp ? (size_t)(sp - section) : strlen(section);
	int rc;

	*handled = 0;
	name[0] = '\0';
	if (blen >= sizeof(base))
		return 0;
	memcpy(base, section, blen);
	base[blen] = '\0';
	if ((k = source_kind_find(base)) == NULL)
		return 0;
	*handled = 1;
	if (sp != NULL) {
		size_t n = strlen(sp + 1);
		if (n < 3 || n - 2 >= sizeof(name) || sp[1] != '"' ||
		    sp[n] != '"')
			return err_set(e,
			               "[%s]: write a named mailbox as "
			               "[%s \"name\"]",
			               section, base);
		snprintf(name, sizeof(name), "%.*s", (int)(n - 2), sp + 2);
		if (strcmp(name, "default") == 0)
			name[0] = '\0'; /* [imap "default"] is [imap] */
		else if (!source_name_valid(name))
			return err_set(e,
			               "[%s]: '%s' is not a mailbox name "
			               "(letters, digits, '.', '_', '-'; at "
			               "most 64)",
			               section, name);
	}
	if ((m = mailbox(c, k, name, e)) == NULL)
		return -1;
	section_label(m, label, sizeof(label));
	if ((rc = k->config_set(m->cfg, key, v, dir, line, e)) == 1)
		return err_set(e, "unknown key '%s' in %s", key, label);
	if (rc == -1)
		return err_prefix(e, "%s %s", label, key);
	return 0;
}

static struct source_config *
find_mailbox(struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nmailboxes; i++)
		if (strcmp(c->mailboxes[i].name, name) == 0)
			return &c->mailboxes[i];
	return NULL;
}

/* The mailbox names of the file, for messages: "default, work". */
static void
mailbox_names(const struct config *c, char *out, size_t len)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < c->nmailboxes && n < len; i++)
		n += (size_t)snprintf(
		    out + n, len - n, "%s%s", i ? ", " : "",
		    c->mailboxes[i].name[0] ? c->mailboxes[i].name : "default");
}

/* The mailbox the command line's settings of kind k go to: the one
 * --mailbox picked, else the only one, else a new default one. */
static struct source_config *
option_mailbox(struct config *c, const struct source_kind *k, struct err *e)
{
	struct source_config *m = NULL;
	size_t i, n = 0;

	if (c->pick != NULL) {
		if ((m = find_mailbox(c, c->pick)) == NULL)
			err_set(e, "no mailbox named '%s'", c->pick);
		return m;
	}
	for (i = 0; i < c->nmailboxes; i++)
		if (c->mailboxes[i].kind == k && n++ == 0)
			m = &c->mailboxes[i];
	if (n > 1) {
		err_set(e,
		        "%s has %zu mailboxes: say which one this setting "
		        "is for with --mailbox NAME",
		        c->file ? c->file : "the configuration", n);
		return NULL;
	}
	if (m == NULL)
		m = mailbox(c, k, "", e);
	return m;
}

/* An option of a kind of mailbox (--host, --folder...). */
int
config_set_mailbox_option(struct config *c, const char *option,
                          const char *name, const char *value, struct err *e)
{
	const struct source_kind *k = NULL;
	struct source_config *m;
	size_t i;

	for (i = 0; source_kinds[i] != NULL && k == NULL; i++)
		if (source_kinds[i]->has_option(name))
			k = source_kinds[i];
	if (k == NULL)
		return err_set(e, "--%s: no such setting", option);
	if (strcmp(name, "password") == 0)
		return err_set(e,
		               "--%s: a password is never taken from the "
		               "command line; use password_file, "
		               "password_command or DMARCSIFT_IMAP_PASSWORD",
		               option);
	if ((m = option_mailbox(c, k, e)) == NULL ||
	    k->config_set(m->cfg, name, value, NULL, 0, e) == -1)
		return err_prefix(e, "--%s", option);
	return 0;
}

int
config_pick(struct config *c, const char *name, struct err *e)
{
	if (strcmp(name, "default") == 0)
		name = "";
	else if (!source_name_valid(name))
		return err_set(e,
		               "--mailbox: '%s' is not a mailbox name "
		               "(letters, digits, '.', '_', '-')",
		               name);
	free(c->pick);
	if ((c->pick = strdup(name)) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

int
config_check_mailboxes(struct config *c, struct err *e)
{
	const struct source_kind *imap = source_kind_find("imap");
	char label[128], names[512];
	size_t i;

	if (c->pick != NULL && find_mailbox(c, c->pick) == NULL) {
		mailbox_names(c, names, sizeof(names));
		return err_set(e, "--mailbox %s: %s has no [imap \"%s\"]%s%s",
		               c->pick[0] ? c->pick : "default",
		               c->file ? c->file : "the configuration", c->pick,
		               names[0] ? "; its mailboxes: " : "", names);
	}
	if (c->nmailboxes == 0 && mailbox(c, imap, "", e) == NULL)
		return -1;
	for (i = 0; i < c->nmailboxes; i++) {
		struct source_config *m = &c->mailboxes[i];
		if (c->pick != NULL && strcmp(m->name, c->pick) != 0)
			continue;
		section_label(m, label, sizeof(label));
		if (m->kind->config_check(m->cfg, c->file, label, e) == -1)
			return -1;
	}
	return 0;
}

void
config_mailboxes_free(struct config *c)
{
	size_t i;

	for (i = 0; i < c->nmailboxes; i++) {
		c->mailboxes[i].kind->config_free(c->mailboxes[i].cfg);
		free(c->mailboxes[i].name);
	}
	free(c->mailboxes);
	free(c->pick);
	c->mailboxes = NULL;
	c->nmailboxes = 0;
	c->pick = NULL;
}
