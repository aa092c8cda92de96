/*
 * app.h — what every AudioFiler program does around its real work: common
 * options (--db, --config, --quiet, --verbose, --help, --version), loading the
 * configuration and applying flag overrides, connecting to the database and
 * checking its schema, the run record, graceful SIGINT/SIGTERM, and turning
 * the outcome into an exit code (exitcode.h).
 *
 * This is the one place outside main() that may print usage and exit (for
 * --help, --version and usage errors), so that all programs behave alike.
 *
 * A program's main():
 *     struct af_app app;
 *     af_app_init(&app, "af-x", usage_text, argc, argv);
 *     while ((opt = getopt_long(argc, argv, AF_APP_SHORT "x:", options, NULL)) != -1) {
 *         if (af_app_option(&app, opt, optarg)) continue;
 *         switch (opt) { case 'x': af_app_override(&app, "sec.key", optarg, "--x"); ... }
 *     }
 *     if (af_app_start(&app, AF_APP_DB, &err) != 0) return af_app_fail(&app, &err);
 *     ... work, checking af_app_stop_requested() between items ...
 *     return af_app_finish(&app, AF_EXIT_OK, NULL);
 */
#ifndef AF_APP_H
#define AF_APP_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "config.h"
#include "error.h"
#include "run.h"

enum {
    AF_OPT_DB = 1000,
    AF_OPT_CONFIG,
    AF_OPT_VERSION,
    AF_OPT_EXCLUSIVE,
    AF_OPT_FIRST_PROGRAM_OPTION = 1100
};

#define AF_APP_SHORT "qvh"
#define AF_APP_LONG_OPTIONS                                                                      \
    {"db", required_argument, NULL, AF_OPT_DB},                                                  \
        {"config", required_argument, NULL, AF_OPT_CONFIG},                                      \
        {"exclusive", no_argument, NULL, AF_OPT_EXCLUSIVE},                                      \
        {"quiet", no_argument, NULL, 'q'}, {"verbose", no_argument, NULL, 'v'},                  \
        {"help", no_argument, NULL, 'h'}, {                                                      \
        "version", no_argument, NULL, AF_OPT_VERSION                                             \
    }

#define AF_APP_COMMON_HELP                                                                       \
    "Common options:\n"                                                                          \
    "  --db CONNINFO     PostgreSQL connection string or URI (default: the PG* environment\n"   \
    "                    if set, else [database] conninfo, else the project's embedded\n"       \
    "                    database under var/; installed: dbname=audiofiler on the local\n"      \
    "                    server's default socket)\n"                                             \
    "  --config FILE     configuration file (default: $AUDIOFILER_CONFIG, else\n"               \
    "                    config/audiofiler.conf in the project; installed:\n"                    \
    "                    /etc/audiofiler/audiofiler.conf, else <prefix>/share/audiofiler/)\n"    \
    "  --exclusive       take this program's stage lock in the database first; exit 5 at\n"     \
    "                    once when another run holds it (what scripts/af-pipeline does)\n"      \
    "  -q, --quiet       only warnings and errors: no progress, no summary tables of the\n"      \
    "                    stages (af-ingest label, af-train); what cron should mail\n"            \
    "  -v, --verbose     debug messages too\n"                                                   \
    "  -h, --help        this help\n"                                                            \
    "      --version     print the version\n"                                                    \
    "\n"                                                                                         \
    "Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 database unavailable,\n"     \
    "4 schema version mismatch, 5 stage locked by another run, 6 API credentials rejected.\n"

enum af_app_flags {
    AF_APP_NO_DB = 0,       /* works without a database (af-features) */
    AF_APP_DB = 1,          /* connect, check the schema, record the run */
    AF_APP_DB_ANY_SCHEMA = 2 /* connect and record nothing, whatever the schema (af-db) */
};

#define AF_APP_MAX_OVERRIDES 64

struct af_app {
    const char *program;
    const char *usage;
    int argc;
    char **argv;
    const char *config_path;
    const char *db_flag;
    bool exclusive; /* --exclusive: hold the stage lock for the whole run */
    int verbosity; /* -1 quiet, 0 normal, 1 verbose */
    int n_overrides;
    struct {
        const char *key, *value, *origin;
    } overrides[AF_APP_MAX_OVERRIDES];
    struct af_config *cfg;
    PGconn *db;
    struct af_run *run;
};

void af_app_init(struct af_app *app, const char *program, const char *usage, int argc,
                 char **argv);

/* Handles a common option; returns true when it was one. Exits for --help, --version
 * and getopt's '?' (usage error, exit 2). */
bool af_app_option(struct af_app *app, int opt, const char *arg);

/* A flag that overrides a configuration key; checked when af_app_start loads the file. */
void af_app_override(struct af_app *app, const char *key, const char *value, const char *origin);

/* The value of a count option (--limit N): a whole number >= min, else a usage error. */
long af_app_parse_count(const struct af_app *app, const char *option, const char *text, long min);

/* Prints "prog: message" and a hint to --help, and exits 2. */
_Noreturn void af_app_usage_error(const struct af_app *app, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Config, logging, signals and (per flags) database, schema check and run record. */
int af_app_start(struct af_app *app, enum af_app_flags flags, af_err *err);

/* Ends the run record with the status matching exit_code, releases everything and
 * returns exit_code for main() to return. */
int af_app_finish(struct af_app *app, int exit_code, const char *error);

/* Logs err and finishes with its code (AF_EXIT_FAILURE when unset). */
int af_app_fail(struct af_app *app, const af_err *err);

/* True once SIGINT or SIGTERM arrived: finish the current item, commit, exit 0.
 * A second signal ends the program at once. */
bool af_app_stop_requested(void);

#endif
