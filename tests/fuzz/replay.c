/*
 * replay.c - a main() for the fuzz targets without libFuzzer.
 *
 * The normal and ASan builds link each target (fuzz_<name>.c) with this
 * file as replay_<name> and run it over tests/fuzz/regressions/<name>/:
 * every input a fuzzer ever crashed on stays a test, in every build, with
 * the target's own invariants (FUZZ_CHECK aborts) and, under ASan or
 * valgrind, its memory checks.  Arguments are files or directories (their
 * files, in name order); no input at all is an error, so a test that lost
 * its inputs fails instead of passing empty.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
replay_file(const char *path)
{
	struct stat sb;
	uint8_t *data;
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &sb) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	n = (size_t)sb.st_size;
	/* exactly n bytes, as libFuzzer gives them, so that ASan sees a
	 * read past the end (an empty file: a 1-byte buffer, not NULL) */
	if ((data = malloc(n > 0 ? n : 1)) == NULL ||
	    fread(data, 1, n, f) != n) {
		fprintf(stderr, "replay: %s: cannot read it\n", path);
		free(data);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	printf("replay: %s: ok\n", path);
	return 0;
}

static int
replay_dir(const char *path, unsigned *count)
{
	struct dirent **ents;
	char child[4096];
	int n, i, rc = 0;

	if ((n = scandir(path, &ents, NULL, alphasort)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			snprintf(child, sizeof(child), "%s/%s", path,
			    ents[i]->d_name);
			if (replay_file(child) == -1)
				rc = -1;
			else
				(*count)++;
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat sb;
	unsigned count = 0;
	int i, rc = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
			if (replay_dir(argv[i], &count) == -1)
				rc = 1;
		} else if (replay_file(argv[i]) == -1) {
			rc = 1;
		} else {
			count++;
		}
	}
	if (count == 0) {
		fprintf(stderr, "replay: no input replayed\n");
		return 1;
	}
	printf("replay: %u inputs, no invariant broken\n", count);
	return rc;
}
