/* paths.c — where a program finds its files; see paths.h. */
#include "paths.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths_build.h" /* build-gen/: AF_BUILD_PROJECT_DIR, AF_SYSCONFDIR */

static char exe_dir[PATH_MAX];  /* directory of the running program, resolved */
static char datadir[PATH_MAX];
static bool in_tree;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void locate(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    snprintf(exe_dir, sizeof exe_dir, "%s", exe);
    /* The tree's path resolved too, so that a symbolic link to it still counts. */
    char project[PATH_MAX];
    const char *tree = realpath(AF_BUILD_PROJECT_DIR, project) ? project : AF_BUILD_PROJECT_DIR;
    size_t len = strlen(tree);
    in_tree = strncmp(exe_dir, tree, len) == 0 && exe_dir[len] == '/';
    char *prefix_end = strrchr(exe_dir, '/');
    if (prefix_end)
        snprintf(datadir, sizeof datadir, "%.*s/share/audiofiler", (int)(prefix_end - exe_dir),
                 exe_dir);
}

bool af_paths_in_tree(void)
{
    pthread_once(&once, locate);
    return in_tree;
}

const char *af_paths_project(void) { return AF_BUILD_PROJECT_DIR; }
const char *af_paths_sysconfdir(void) { return AF_SYSCONFDIR; }

const char *af_paths_datadir(void)
{
    pthread_once(&once, locate);
    return datadir;
}

/* The path of NAME, looked for as paths.h says; writes it to buf, returns false when
 * no such file is readable. */
static bool find_config(const char *name, char *buf, size_t len)
{
    if (af_paths_in_tree())
        return (size_t)snprintf(buf, len, "%s/config/%s", AF_BUILD_PROJECT_DIR, name) < len &&
               access(buf, R_OK) == 0;
    if ((size_t)snprintf(buf, len, "%s/%s", AF_SYSCONFDIR, name) < len && access(buf, R_OK) == 0)
        return true;
    return datadir[0] && (size_t)snprintf(buf, len, "%s/%s", datadir, name) < len &&
           access(buf, R_OK) == 0;
}

const char *af_paths_config_file(const char *name)
{
    /* Found once per name and kept: callers hold on to the path (error messages). */
    static struct {
        char name[32];
        char *path;
    } cache[8];
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    char buf[PATH_MAX];
    const char *result = NULL;
    pthread_mutex_lock(&lock);
    int i = 0;
    while (i < 8 && cache[i].name[0] && strcmp(cache[i].name, name) != 0)
        i++;
    if (i < 8 && cache[i].name[0]) {
        result = cache[i].path;
    } else if (find_config(name, buf, sizeof buf)) {
        char *path = strdup(buf);
        if (i < 8 && path && strlen(name) < sizeof cache[i].name) {
            snprintf(cache[i].name, sizeof cache[i].name, "%s", name);
            cache[i].path = path;
        }
        result = path; /* kept for the life of the program */
    }
    pthread_mutex_unlock(&lock);
    return result;
}
