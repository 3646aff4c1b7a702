/*
 * fetch-file.c - files named on the command line, and directory trees
 * (walked in sorted order, so runs are reproducible).  A directory that is a
 * maildir, or a file that is an mbox, is handed to that source.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fetch.h"

#define MAX_DIR_DEPTH 32

static int
file_accepts(const char *path)
{
	(void)path;
	return 1;
}

static int
walk_dir(struct fetch_ctx *fc, const char *path, const struct stat *sb,
    struct err *e)
{
	struct dirent **ents = NULL;
	struct fetch_dir here;
	const struct fetch_dir *d;
	char child[PATH_MAX];
	int n, i, rc = 0;

	/* Directories are followed through symbolic links; two links back
	 * to a directory would otherwise be walked 2^MAX_DIR_DEPTH times. */
	for (d = fc->dirs; d != NULL; d = d->up)
		if (d->dev == sb->st_dev && d->ino == sb->st_ino) {
			log_warn(fc->lg, "%s: a link to a directory it is in "
					 "(a loop), skipped",
			    path);
			return 0;
		}
	if (fc->depth >= MAX_DIR_DEPTH) {
		log_warn(fc->lg, "%s: directories nested more than %d deep, "
				 "skipped",
		    path, MAX_DIR_DEPTH);
		return 0;
	}
	if ((n = scandir(path, &ents, NULL, alphasort)) == -1) {
		char why[300];
		snprintf(why, sizeof(why), "cannot read the directory: %s",
		    strerror(errno));
		return import_reject_input(fc->imp, path, why, e);
	}
	here.dev = sb->st_dev;
	here.ino = sb->st_ino;
	here.up = fc->dirs;
	fc->dirs = &here;
	fc->depth++;
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		if (rc == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
			if ((size_t)snprintf(child, sizeof(child), "%s/%s", path,
				name) >= sizeof(child))
				rc = import_reject_input(fc->imp, path,
				    "path too long", e);
			else
				rc = fetch_path(fc, child, e);
		}
		free(ents[i]);
	}
	free(ents);
	fc->depth--;
	fc->dirs = here.up;
	return rc;
}

static int
file_run(struct fetch_ctx *fc, const char *path, struct err *e)
{
	enum input_result res;
	struct origin o;
	struct stat sb;
	char why[300];
	int fd, rc;

	if (stat(path, &sb) == -1) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		if (errno == ENOENT && fc->depth == 0) {
			fc->missing = 1;
			log_error(fc->lg, "%s: %s", path, why);
			return 0;
		}
		return import_reject_input(fc->imp, path, why, e);
	}
	if (S_ISDIR(sb.st_mode))
		return walk_dir(fc, path, &sb, e);
	if (S_ISFIFO(sb.st_mode) && fc->depth == 0) {
		/* dmarc-ingest <(zcat r.xml.gz): a stream, like stdin */
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
			snprintf(why, sizeof(why), "%s", strerror(errno));
			return import_reject_input(fc->imp, path, why, e);
		}
		rc = fetch_stream(fc, fd, path, e);
		close(fd);
		return rc;
	}
	if (!S_ISREG(sb.st_mode)) {
		if (fc->depth == 0)
			log_warn(fc->lg, "%s: not a regular file, skipped", path);
		return 0;
	}
	memset(&o, 0, sizeof(o));
	o.kind = ORIGIN_FILE;
	o.path = path;
	return fetch_import(fc, &o, path, &res, e);
}

const struct fetch fetch_file = {"file", file_accepts, file_run};
