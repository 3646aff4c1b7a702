/*
 * fileio.h - writing files durably: the two steps every writer that
 * renames a finished file into place needs (quarantine.c, source-mbox.c).
 */
#ifndef DMARCSIFT_FILEIO_H
#define DMARCSIFT_FILEIO_H

#include <stddef.h>

/* Writes all len bytes at p to fd, across short writes and EINTR.
 * Returns 0, or -1 with errno set. */
int fd_write_all(int fd, const void *p, size_t len);

/* fsyncs the directory dir, so that a rename or a new name in it is on
 * disk.  Returns 0, or -1 with errno set. */
int dir_sync(const char *dir);

#endif
