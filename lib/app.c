/* app.c — start-up and shut-down shared by every program; see app.h. */
#include "app.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio_store.h"
#include "db.h"
#include "exitcode.h"
#include "http.h"
#include "log.h"
#include "migrate.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int signo)
{
    stop_requested = 1;
    signal(signo, SIG_DFL); /* a second signal ends the program at once */
}

bool af_app_stop_requested(void) { return stop_requested != 0; }

void af_app_init(struct af_app *app, const char *program, const char *usage, int argc,
                 char **argv)
{
    memset(app, 0, sizeof *app);
    app->program = program;
    app->usage = usage;
    app->argc = argc;
    app->argv = argv;
    af_log_init(program);
}

_Noreturn void af_app_usage_error(const struct af_app *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", app->program);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", app->program);
    exit(AF_EXIT_USAGE);
}

long af_app_parse_count(const struct af_app *app, const char *option, const char *text, long min)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || errno || value < min)
        af_app_usage_error(app, "%s: '%s' is not a whole number of at least %ld", option, text,
                           min);
    return value;
}

bool af_app_option(struct af_app *app, int opt, const char *arg)
{
    switch (opt) {
    case AF_OPT_DB:
        app->db_flag = arg;
        return true;
    case AF_OPT_CONFIG:
        app->config_path = arg;
        return true;
    case AF_OPT_EXCLUSIVE:
        app->exclusive = true;
        return true;
    case 'q':
        app->verbosity = -1;
        return true;
    case 'v':
        app->verbosity = 1;
        return true;
    case 'h':
        fputs(app->usage, stdout);
        fputs("\n" AF_APP_COMMON_HELP, stdout);
        exit(AF_EXIT_OK);
    case AF_OPT_VERSION:
        printf("%s (AudioFiler) %s\n", app->program, AF_VERSION);
        exit(AF_EXIT_OK);
    case '?':
    case ':':
        fprintf(stderr, "Try '%s --help' for more information.\n", app->program);
        exit(AF_EXIT_USAGE);
    default:
        return false;
    }
}

void af_app_override(struct af_app *app, const char *key, const char *value, const char *origin)
{
    if (app->n_overrides == AF_APP_MAX_OVERRIDES)
        af_app_usage_error(app, "too many options");
    app->overrides[app->n_overrides].key = key;
    app->overrides[app->n_overrides].value = value;
    app->overrides[app->n_overrides].origin = origin;
    app->n_overrides++;
}

static int load_config(struct af_app *app, af_err *err)
{
    app->cfg = af_config_new();
    if (!app->cfg)
        return af_err_set(err, "out of memory");
    const char *path = app->config_path ? app->config_path : af_config_default_path();
    if (path && af_config_load(app->cfg, path, err) != 0)
        return -1;
    for (int i = 0; i < app->n_overrides; i++)
        if (af_config_set(app->cfg, app->overrides[i].key, app->overrides[i].value,
                          app->overrides[i].origin, err) != 0)
            return -1;
    af_http_set_allow_private_addresses(af_config_bool(app->cfg, "http.allow_private_addresses"));
    return 0;
}

static int apply_log_level(struct af_app *app, af_err *err)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    const char *configured = af_config_str(app->cfg, "log.level");
    enum af_log_level level = AF_LOG_INFO;
    int known = 0;
    for (int i = 0; i < 4; i++)
        if (strcmp(configured, names[i]) == 0)
            level = (enum af_log_level)i, known = 1;
    if (!known)
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "[log] level: '%s' is not one of debug, info, warn, error",
                               configured);
    if (app->verbosity < 0)
        level = AF_LOG_WARN;
    else if (app->verbosity > 0)
        level = AF_LOG_DEBUG;
    af_log_set_level(level);
    return 0;
}

static void install_signal_handlers(void)
{
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a dead peer is an error return, not a death */
}

static int connect_database(struct af_app *app, enum af_app_flags flags, af_err *err)
{
    const char *conninfo =
        af_db_choose_conninfo(app->db_flag, af_config_str(app->cfg, "database.conninfo"));
    af_db_set_dead_peer_seconds((int)af_config_int(app->cfg, "database.dead_peer_seconds"));
    app->db = af_db_connect(conninfo, err);
    if (!app->db)
        return -1;
    if (flags == AF_APP_DB_ANY_SCHEMA)
        return 0;
    if (af_migrate_check_schema(app->db, err) != 0)
        return -1;
    app->run = af_run_begin(app->db, app->program, app->argc, app->argv, err);
    if (!app->run)
        return -1;
    /* After the run record, so that a run refused by the lock is recorded too. */
    return app->exclusive ? af_db_try_stage_lock(app->db, app->program, err) : 0;
}

int af_app_start(struct af_app *app, enum af_app_flags flags, af_err *err)
{
    if (load_config(app, err) != 0 || apply_log_level(app, err) != 0 ||
        af_audio_store_configure(app->cfg, err) != 0)
        return -1;
    install_signal_handlers();
    if (flags == AF_APP_NO_DB)
        return 0;
    return connect_database(app, flags, err);
}

int af_app_finish(struct af_app *app, int exit_code, const char *error)
{
    const char *status = exit_code == AF_EXIT_OK ? (stop_requested ? "interrupted" : "succeeded")
                                                 : "failed";
    af_progress_end();
    af_run_end(app->run, status, error);
    app->run = NULL;
    if (app->db)
        PQfinish(app->db);
    app->db = NULL;
    af_config_free(app->cfg);
    app->cfg = NULL;
    return exit_code;
}

int af_app_fail(struct af_app *app, const af_err *err)
{
    log_error("%s", err->msg);
    return af_app_finish(app, err->code ? err->code : AF_EXIT_FAILURE, err->msg);
}
