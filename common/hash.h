/*
 * hash.h - FNV-1a (64-bit), the one string hash of the tree.
 *
 * Promises: the standard offset basis and prime (the test vectors of the
 * FNV reference, tests/unit/test_common.c, pin them), inline so the hot
 * paths that hash every record or every key pay no call.  Not for
 * anything an attacker could exploit by collisions in a table of unbounded
 * size: the tables that use it bound their probing or their size.
 */
#ifndef DMARCSIFT_HASH_H
#define DMARCSIFT_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_BASIS 14695981039346656037ULL
#define FNV1A_PRIME 1099511628211ULL

/* Adds one byte to the hash h. */
static inline uint64_t
fnv1a_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV1A_PRIME;
}

/* Adds n bytes to the hash h (start with FNV1A_BASIS). */
static inline uint64_t
fnv1a_mem(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n-- > 0)
		h = fnv1a_byte(h, *s++);
	return h;
}

/* Adds a NUL-terminated string to the hash h; *len gets its length when
 * len is not NULL. */
static inline uint64_t
fnv1a_str(uint64_t h, const char *s, size_t *len)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		h = fnv1a_byte(h, (unsigned char)*p);
	if (len != NULL)
		*len = (size_t)(p - s);
	return h;
}

#endif
