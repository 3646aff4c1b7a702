/*
 * selection.h - the checks on dmarc-report's selection options (--domain,
 * --since, --until) that catch a typo before it becomes an empty answer
 * (issue 12): each either refuses the option with a message naming it
 * (exit 64 in main.c) or normalises it and says so on stderr.
 *
 * Promises: a --domain is lower case without a trailing dot, never empty
 * and without white space or controls; a date is on or after 2000-01-01;
 * --since is not after --until; a --domain the database has no report for
 * is refused with the list of the domains it has.
 */
#ifndef DMARCSIFT_SELECTION_H
#define DMARCSIFT_SELECTION_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "store.h"

/* One --since/--until value, `t` the start of its UTC day as parsed from
 * `text`: refused before 2000; a note on `note` when it is after tomorrow
 * (no report can begin then: --since selects nothing, --until nothing
 * more).  `now` is the current time. */
int selection_date(const char *option, const char *text, int64_t t,
    int64_t now, FILE *note, struct err *e);

/* The whole selection once parsed: --since after --until refused; each of
 * the NULL-terminated domains normalised in place (lower case, a trailing
 * dot dropped with a note) or refused (empty, white space, controls). */
int selection_check(const struct store_filter *f, char **domains, FILE *note,
    struct err *e);

/* With the store open: refuses a --domain no stored report is for, naming
 * the domains the store has (nothing is refused when it has none: the
 * command says the database is empty). */
int selection_known_domains(struct store *st, const char *const *domains,
    struct err *e);

#endif
