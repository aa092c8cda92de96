/*
 * exitcode.h — exit codes shared by every AudioFiler program.
 * They are part of the user interface (cron jobs test them) and are
 * documented in README.md; never renumber them.
 */
#ifndef AF_EXITCODE_H
#define AF_EXITCODE_H

enum {
    AF_EXIT_OK = 0,             /* everything asked for was done */
    AF_EXIT_FAILURE = 1,        /* the run failed, or some items failed */
    AF_EXIT_USAGE = 2,          /* bad command line or configuration */
    AF_EXIT_DB_UNAVAILABLE = 3, /* cannot connect to the database */
    AF_EXIT_SCHEMA = 4,         /* database schema older or newer than this program */
    AF_EXIT_LOCKED = 5,         /* another run of the same stage holds its lock */
    AF_EXIT_CREDENTIALS = 6,    /* an external service rejected our API key */
};

#endif
