/*
 * migrations.h - the SQLite schema steps (see migrations.c).
 */
#ifndef DMARCSIFT_MIGRATIONS_H
#define DMARCSIFT_MIGRATIONS_H

/* SQL taking user_version from version-1 to version; NULL if unknown. */
const char *migration_step(int version);
/* The schema version this build writes. */
int migration_latest(void);

#endif
