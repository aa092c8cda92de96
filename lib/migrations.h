/* migrations.h — the sql/NNN_*.sql files, embedded at build time by scripts/embed-migrations. */
#ifndef AF_MIGRATIONS_H
#define AF_MIGRATIONS_H

struct af_migration {
    int version;
    const char *name; /* file name without .sql */
    const char *sql;
};

extern const struct af_migration af_migrations[];
extern const int af_migration_count;

#endif
