/* `todod migrate`: applies the pending sql/NNN_*.sql files in order over
 * one admin connection, recording each in schema_migrations. */
#ifndef TODOD_MIGRATE_H
#define TODOD_MIGRATE_H

struct config;

/* The schema version this binary needs (the highest sql/NNN_*.sql). */
#define SCHEMA_VERSION 4

/* Applies every migration of dir not yet recorded. Logs progress and the
 * reason of a failure. Returns 0 or -1. */
int migrate_run(const struct config *cfg, const char *dir);

#endif
