/*
 * check.h - a minimal unit-test harness: TEST(name) defines a case, CHECK
 * asserts, main() runs one case by name (as ctest does, one test per case:
 * tests/CMakeLists.txt finds the TEST(...) lines) or all of them.
 */
#ifndef DMARCSIFT_CHECK_H
#define DMARCSIFT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define MAX_CASES 256
#define MAX_TRACKED 4096
static struct test_case test_cases[MAX_CASES];
static int test_ncases, test_failed, test_checks;
static void *test_tracked[MAX_TRACKED];
static int test_ntracked;

/* Remembers an allocation made by a test, freed when the case ends, so the
 * suite stays clean under LeakSanitizer and valgrind. */
static inline void *
test_track(void *p)
{
	if (test_ntracked < MAX_TRACKED)
		test_tracked[test_ntracked++] = p;
	return p;
}

static inline void
test_register(const char *name, void (*fn)(void))
{
	if (test_ncases < MAX_CASES) {
		test_cases[test_ncases].name = name;
		test_cases[test_ncases++].fn = fn;
	}
}

#define TEST(name)                                                           \
	static void test_##name(void);                                       \
	__attribute__((constructor)) static void reg_##name(void)            \
	{                                                                    \
		test_register(#name, test_##name);                          \
	}                                                                    \
	static void test_##name(void)

#define CHECK(cond)                                                          \
	do {                                                                 \
		test_checks++;                                               \
		if (!(cond)) {                                               \
			test_failed++;                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",         \
			    __FILE__, __LINE__, #cond);                      \
		}                                                            \
	} while (0)

#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *a_ = (a), *b_ = (b);                             \
		test_checks++;                                               \
		if ((a_ == NULL) != (b_ == NULL) ||                          \
		    (a_ != NULL && strcmp(a_, b_) != 0)) {                   \
			test_failed++;                                       \
			fprintf(stderr, "%s:%d: CHECK_STR failed: %s is "    \
					"\"%s\", expected \"%s\"\n",         \
			    __FILE__, __LINE__, #a, a_ ? a_ : "(null)",      \
			    b_ ? b_ : "(null)");                             \
		}                                                            \
	} while (0)

#define CHECK_INT(a, b)                                                      \
	do {                                                                 \
		long long a_ = (long long)(a), b_ = (long long)(b);          \
		test_checks++;                                               \
		if (a_ != b_) {                                              \
			test_failed++;                                       \
			fprintf(stderr, "%s:%d: CHECK_INT failed: %s is "    \
					"%lld, expected %lld\n",             \
			    __FILE__, __LINE__, #a, a_, b_);                 \
		}                                                            \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                          \
	do {                                                                 \
		const char *h_ = (hay), *n_ = (needle);                      \
		test_checks++;                                               \
		if (h_ == NULL || strstr(h_, n_) == NULL) {                  \
			test_failed++;                                       \
			fprintf(stderr, "%s:%d: CHECK_CONTAINS failed: "     \
					"\"%s\" does not contain \"%s\"\n",  \
			    __FILE__, __LINE__, h_ ? h_ : "(null)", n_);     \
		}                                                            \
	} while (0)

int
main(int argc, char **argv)
{
	int i, ran = 0;

	for (i = 0; i < test_ncases; i++) {
		if (argc > 1 && strcmp(argv[1], test_cases[i].name) != 0)
			continue;
		test_cases[i].fn();
		while (test_ntracked > 0)
			free(test_tracked[--test_ntracked]);
		ran++;
	}
	if (ran == 0) {
		fprintf(stderr, "no test case named %s\n",
		    argc > 1 ? argv[1] : "(any)");
		return 2;
	}
	printf("%d case(s), %d checks, %d failed\n", ran, test_checks,
	    test_failed);
	return test_failed ? 1 : 0;
}

#endif
