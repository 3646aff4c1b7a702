/*
 * outfile.c - write to a temporary file, rename on success (outfile.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

int
outfile_open(struct outfile *o, const char *path, struct err *e)
{
	mode_t mask;
	int fd;

	memset(o, 0, sizeof(*o));
	if (path[0] == '\0')
		return err_set(e, "-o: the file name is empty");
	if ((o->path = strdup(path)) == NULL ||
	    (o->tmp = malloc(strlen(path) + 8)) == NULL) {
		outfile_abort(o);
		return err_set(e, "out of memory");
	}
	snprintf(o->tmp, strlen(path) + 8, "%s.XXXXXX", path);
	if ((fd = mkstemp(o->tmp)) == -1) {
		err_errno(e, "-o: cannot create a file beside %s", path);
		free(o->tmp);
		o->tmp = NULL;
		outfile_abort(o);
		return -1;
	}
	/* mkstemp makes 0600; a page is for others to read */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0644 & ~mask) == -1 ||
	    (o->f = fdopen(fd, "w")) == NULL) {
		err_errno(e, "-o: cannot write %s", o->tmp);
		close(fd);
		outfile_abort(o);
		return -1;
	}
	return 0;
}

int
outfile_commit(struct outfile *o, struct err *e)
{
	FILE *f = o->f;

	o->f = NULL;
	if (fflush(f) == EOF || fsync(fileno(f)) == -1 || ferror(f)) {
		err_errno(e, "-o: cannot write %s", o->tmp);
		fclose(f);
		outfile_abort(o);
		return -1;
	}
	if (fclose(f) == EOF) {
		err_errno(e, "-o: cannot write %s", o->tmp);
		outfile_abort(o);
		return -1;
	}
	if (rename(o->tmp, o->path) == -1) {
		err_errno(e, "-o: cannot replace %s", o->path);
		outfile_abort(o);
		return -1;
	}
	free(o->tmp);
	o->tmp = NULL;
	outfile_abort(o);
	return 0;
}

void
outfile_abort(struct outfile *o)
{
	if (o->f != NULL)
		fclose(o->f);
	if (o->tmp != NULL)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
}
