/*
 * paths.h — where a program finds its files, in the source tree or installed.
 *
 * A program started from the tree it was built in (build/bin, build-asan/bin, the
 * tests) uses that tree: config/ and the project's own cluster under var/run.  Any
 * other copy is installed (`make install`, the Debian package) and never looks at
 * the tree, which may be gone: its configuration is in SYSCONFDIR (/etc/audiofiler
 * unless `make SYSCONFDIR=...`), the shipped defaults in <prefix>/share/audiofiler,
 * <prefix> being where the program itself lives (<prefix>/bin/af-x), and its
 * database is libpq's default (the distribution's cluster) unless configured.
 * The tree's path and SYSCONFDIR come from build-gen/paths.h, remade by the
 * Makefile when either changes.
 */
#ifndef AF_PATHS_H
#define AF_PATHS_H

#include <stdbool.h>

/* Whether this program runs from the source tree it was built in. */
bool af_paths_in_tree(void);

/* The source tree the program was built in (whether or not it still exists). */
const char *af_paths_project(void);

/* The configuration directory of an installed program (SYSCONFDIR). */
const char *af_paths_sysconfdir(void);

/* <prefix>/share/audiofiler of an installed program ("" when unknown). */
const char *af_paths_datadir(void);

/* The configuration file NAME (audiofiler.conf, genres.conf): in the tree,
 * config/NAME; installed, SYSCONFDIR/NAME, else the default shipped in the data
 * directory.  Returns a path that stays valid (static storage), or NULL when no
 * such file is readable. */
const char *af_paths_config_file(const char *name);

#endif
