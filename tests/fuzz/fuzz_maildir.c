/*
 * fuzz_maildir.c - the maildir reader: the input is split into messages at
 * FUZZ_MAILDIR_SEP, written alternately into new/ and cur/ of a temporary
 * maildir, and read by fetch_path() into a real store (see fuzz-store.h).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "fuzz-store.h"

#define MAX_FILES 16

static char md[400];

static void
clear_sub(const char *sub, unsigned n)
{
	char path[512];
	unsigned i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s/%u.fuzz", md, sub, i);
		unlink(path);
	}
}

static void
put(unsigned i, const uint8_t *p, size_t n)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%u.fuzz", md,
	    i % 2 ? "cur" : "new", i);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		abort();
	if (n > 0 && write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char sub[512];

	(void)argc;
	(void)argv;
	fuzz_store_init();
	snprintf(md, sizeof(md), "%s/Maildir", fs.dir);
	if (mkdir(md, 0700) == -1)
		abort();
	snprintf(sub, sizeof(sub), "%s/new", md);
	if (mkdir(sub, 0700) == -1)
		abort();
	snprintf(sub, sizeof(sub), "%s/cur", md);
	if (mkdir(sub, 0700) == -1)
		abort();
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	if (mkdir(sub, 0700) == -1)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t seplen = sizeof(FUZZ_MAILDIR_SEP) - 1;
	const uint8_t *p = data, *end = data + size, *sep;
	unsigned n = 0;
	struct err e;

	while (n < MAX_FILES) {
		sep = n + 1 < MAX_FILES
		    ? memmem(p, (size_t)(end - p), FUZZ_MAILDIR_SEP, seplen)
		    : NULL;
		put(n++, p, sep ? (size_t)(sep - p) : (size_t)(end - p));
		if (sep == NULL)
			break;
		p = sep + seplen;
	}
	FUZZ_CHECK(fetch_path(&fs.fc, md, &e) == 0);
	clear_sub("new", n);
	clear_sub("cur", n);
	fuzz_store_after();
	return 0;
}
