/*
 * test_imap_defects.c - regressions of issue 11's defects in the IMAP code:
 * imap_utf7_encode() freed its scratch buffer twice when the last
 * allocation failed (imap-name.c).
 *
 * The allocation failure is made by this binary's own realloc(), which
 * the dynamic linker prefers to libc's for every caller; it fails once
 * when armed.  Under AddressSanitizer or valgrind (their allocators
 * replace malloc) the case only checks the normal result.
 */
#include "check.h"

#include <stdlib.h>

#include "err.h"
#include "imap-name.h"

#if defined(__SANITIZE_ADDRESS__)
#define OWN_REALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OWN_REALLOC 0
#endif
#endif
#ifndef OWN_REALLOC
#define OWN_REALLOC 1
#endif

static int fail_next_realloc;

#if OWN_REALLOC
extern void *__libc_realloc(void *, size_t);

void *
realloc(void *p, size_t n)
{
	if (fail_next_realloc) {
		fail_next_realloc = 0;
		return NULL;
	}
	return __libc_realloc(p, n);
}
#endif

static int
under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

TEST(utf7_empty_name_when_memory_runs_out)
{
	struct err e;
	char *out = NULL;

	CHECK(imap_utf7_encode("", &out, &e) == 0);
	CHECK(out != NULL && out[0] == '\0');
	free(out);
	out = NULL;
	if (!OWN_REALLOC || under_valgrind())
		return;
	/* the output buffer's only allocation fails: an error, no crash
	 * (glibc aborted on the double free before) */
	fail_next_realloc = 1;
	CHECK(imap_utf7_encode("", &out, &e) == -1);
	CHECK(out == NULL);
	CHECK(strstr(e.msg, "memory") != NULL);
	fail_next_realloc = 0;
}

TEST(utf7_names)
{
	struct err e;
	char *out = NULL;

	CHECK(imap_utf7_encode("DMARC/Trait\xc3\xa9s & co", &out, &e) == 0);
	CHECK(out != NULL && strcmp(out, "DMARC/Trait&AOk-s &- co") == 0);
	free(out);
}
