/*
 * fetch-maildir.c - a maildir (new/ and cur/): each file is one message.
 * The maildir is only read, nothing moved or flagged, unless
 * --maildir-handled says otherwise: then source-maildir.c drains it.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "fetch.h"
#include "source.h"

static int
is_dir(const char *path, const char *sub)
{
	char p[PATH_MAX];
	struct stat sb;

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", path, sub) >= sizeof(p))
		return 0;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int
maildir_accepts(const char *path)
{
	return is_dir(path, "cur") && is_dir(path, "new");
}

static int
maildir_sub(struct fetch_ctx *fc, const char *path, const char *sub,
    struct err *e)
{
	struct dirent **ents = NULL;
	enum input_result res;
	char dir[PATH_MAX], file[PATH_MAX];
	struct origin o;
	struct stat sb;
	int n, i, rc = 0;

	snprintf(dir, sizeof(dir), "%s/%s", path, sub);
	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		char why[300];
		snprintf(why, sizeof(why), "cannot read the maildir: %s",
		    strerror(errno));
		return import_reject_input(fc->imp, dir, why, e);
	}
	for (i = 0; i < n; i++) {
		if (rc == 0 && ents[i]->d_name[0] != '.' &&
		    (size_t)snprintf(file, sizeof(file), "%s/%s", dir,
			ents[i]->d_name) < sizeof(file) &&
		    stat(file, &sb) == 0 && S_ISREG(sb.st_mode)) {
			memset(&o, 0, sizeof(o));
			o.kind = ORIGIN_FILE;
			o.path = file;
			rc = fetch_import(fc, &o, file, &res, e);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int
maildir_run(struct fetch_ctx *fc, const char *path, struct err *e)
{
	if (fc->handled != MAILDIR_KEEP)
		return source_maildir_drain(fc, path, e);
	if (maildir_sub(fc, path, "new", e) == -1)
		return -1;
	return maildir_sub(fc, path, "cur", e);
}

const struct fetch fetch_maildir = {"maildir", maildir_accepts, maildir_run};
