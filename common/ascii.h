/*
 * ascii.h - ASCII case and size helpers that do not depend on the locale
 * (tolower() and isspace() change meaning under some locales, and the
 * values they are used on come from reports, DNS and mail).
 */
#ifndef DMARCSIFT_ASCII_H
#define DMARCSIFT_ASCII_H

#include <stddef.h>
#include <stdint.h>

/* 'A'..'Z' to 'a'..'z'; every other byte unchanged. */
static inline unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Lower-cases the ASCII letters of s in place; returns s. */
char *ascii_lower_str(char *s);

/* 1 when s contains a byte outside ASCII. */
int ascii_has_8bit(const char *s);

/* v in decimal into buf (room for 21 bytes), NUL-terminated: its length.
 * snprintf("%lld") without printf's machinery, for values written once
 * per record (snprintf() was a tenth of the client's instructions when
 * the PostgreSQL backend wrote a big report's rows). */
#define ASCII_DECIMAL_MAX 21
size_t ascii_decimal(char *buf, int64_t v);

/* a * b into *out; -1 (and *out untouched) when it overflows size_t. */
int size_mul(size_t a, size_t b, size_t *out);

/* a + b into *out; -1 (and *out untouched) when it overflows size_t. */
int size_add(size_t a, size_t b, size_t *out);

#endif
