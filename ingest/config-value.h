/*
 * config-value.h - the checks and conversions every section's values
 * share (config.c defines them; config-imap.c and the other sections use
 * them), so that "yes", a number or a path means the same everywhere.
 */
#ifndef DMARCSIFT_CONFIG_VALUE_H
#define DMARCSIFT_CONFIG_VALUE_H

#include "err.h"

#define CONFIG_MAX_VALUE 4096

/* 1 if s holds a control character. */
int config_has_control(const char *s);

/* A decimal number in [min, max]; -1 otherwise. */
int config_parse_uint(const char *v, unsigned min, unsigned max, unsigned *out);

/* 1 for yes/true/on/1, 0 for no/false/off/0, 2 for neither. */
unsigned config_parse_bool(const char *v);

/* A path from the file: "~/" is the home directory, a relative path is
 * relative to the file's directory `dir`.  From the command line (dir
 * NULL), relative paths stay relative to the working directory. */
int config_expand_path(const char *v, const char *dir, char **out,
                       struct err *e);

/* A path key's value checked (not empty, no control character) and
 * expanded as config_expand_path() does into *out. */
int config_check_path(const char *v, const char *dir, char **out,
                      struct err *e);

/* A word a key may take, and what it means. */
struct config_word {
	const char *word;
	int value;
};

/* v as one of the words of w (ended by a NULL word, ASCII case ignored):
 * *out gets its value; -1 with "'v' is not one of a, b, c" otherwise. */
int config_parse_word(const char *v, const struct config_word *w, int *out,
                      struct err *e);

/* Frees a secret after overwriting it. */
void config_wipe_free(char *s);

/* Sets *f to a copy of v when it is NULL. */
int config_set_default(char **f, const char *v, struct err *e);

#endif
