/* config.c — table-driven configuration parsed with inih; see config.h. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"

enum key_type { KEY_STRING, KEY_INT, KEY_DOUBLE, KEY_BOOL };

struct key_spec {
    const char *full_name; /* "section.name" */
    enum key_type type;
    const char *default_value;
    double min, max;
};

#define AF_KEY(section, name, type, def, lo, hi) {#section "." #name, KEY_##type, def, lo, hi},
static const struct key_spec key_specs[] = {
#include "config_keys.def"
};
#undef AF_KEY
#define N_KEYS ((int)(sizeof key_specs / sizeof key_specs[0]))

struct af_config {
    char *values[N_KEYS];
};

static int find_key(const char *full_name)
{
    for (int i = 0; i < N_KEYS; i++)
        if (strcmp(key_specs[i].full_name, full_name) == 0)
            return i;
    return -1;
}

const char *af_config_key_at(int index)
{
    return index >= 0 && index < N_KEYS ? key_specs[index].full_name : NULL;
}

static int parse_bool(const char *text, bool *out)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(text, no[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

static int parse_number(const char *text, enum key_type type, double *out)
{
    errno = 0;
    char *end;
    if (type == KEY_INT) {
        long long v = strtoll(text, &end, 10);
        *out = (double)v;
    } else {
        *out = strtod(text, &end);
    }
    if (errno || end == text || *end != '\0' || !isfinite(*out))
        return -1;
    return 0;
}

/* Checks text against the key's type and range; on failure writes the reason. */
static int validate(const struct key_spec *spec, const char *text, char *why, size_t why_len)
{
    bool b;
    double v;
    switch (spec->type) {
    case KEY_STRING:
        return 0;
    case KEY_BOOL:
        if (parse_bool(text, &b) == 0)
            return 0;
        snprintf(why, why_len, "'%s' is not a boolean (use true or false)", text);
        return -1;
    case KEY_INT:
    case KEY_DOUBLE:
        if (parse_number(text, spec->type, &v) != 0) {
            snprintf(why, why_len, "'%s' is not %s", text,
                     spec->type == KEY_INT ? "a whole number" : "a number");
            return -1;
        }
        if (v < spec->min || v > spec->max) {
            snprintf(why, why_len, "%s is out of range (%g to %g)", text, spec->min, spec->max);
            return -1;
        }
        return 0;
    }
    return -1;
}

static int store(struct af_config *cfg, int index, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return -1;
    free(cfg->values[index]);
    cfg->values[index] = copy;
    return 0;
}

struct af_config *af_config_new(void)
{
    struct af_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    for (int i = 0; i < N_KEYS; i++) {
        if (store(cfg, i, key_specs[i].default_value) != 0) {
            af_config_free(cfg);
            return NULL;
        }
    }
    return cfg;
}

void af_config_free(struct af_config *cfg)
{
    if (!cfg)
        return;
    for (int i = 0; i < N_KEYS; i++)
        free(cfg->values[i]);
    free(cfg);
}

int af_config_set(struct af_config *cfg, const char *key, const char *value, const char *origin,
                  af_err *err)
{
    int index = find_key(key);
    if (index < 0)
        return af_err_set_code(err, AF_EXIT_USAGE, "%s: unknown configuration key '%s'", origin,
                               key);
    char why[256];
    if (validate(&key_specs[index], value, why, sizeof why) != 0)
        return af_err_set_code(err, AF_EXIT_USAGE, "%s: %s", origin, why);
    if (store(cfg, index, value) != 0)
        return af_err_set(err, "%s: out of memory", origin);
    return 0;
}

/* Lines longer than inih's fixed line buffer (INI_MAX_LINE, 200 in Debian's build)
 * are read here whole: inih would split one into a bogus second key.  The reader
 * gives inih such a line as "name=\1N" and keeps its value in long_values[N],
 * which on_ini_entry puts back; the value is cut as inih cuts one (inline
 * comment after whitespace, surrounding spaces). */
#define LONG_VALUE_MARK '\1'

struct load_state {
    struct af_config *cfg;
    char first_problem[1024]; /* inih reports only the line; we keep the key and reason */
    FILE *fp;
    char *line;
    size_t line_capacity;
    char **long_values;
    size_t n_long_values;
};

static char *strip(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* A long line as inih would have read it with a big enough buffer, rewritten to fit. */
static void shorten_long_line(struct load_state *state, char *line, char *str, int num)
{
    char *p = strip(line);
    if (*p == ';' || *p == '#') { /* a long comment */
        snprintf(str, (size_t)num, "\n");
        return;
    }
    char *eq = strpbrk(p, "=:");
    char **grown = realloc(state->long_values, (state->n_long_values + 1) * sizeof *grown);
    if (grown)
        state->long_values = grown;
    if (!eq || *p == '[' || !grown) {
        if (!state->first_problem[0])
            snprintf(state->first_problem, sizeof state->first_problem,
                     "a line of %zu characters that is not key = value", strlen(p));
        snprintf(str, (size_t)num, "?\n"); /* a syntax error at this line */
        return;
    }
    *eq = '\0';
    char *value = eq + 1;
    for (char *c = value; *c; c++)
        if (*c == ';' && c > value && (c[-1] == ' ' || c[-1] == '\t')) {
            *c = '\0';
            break;
        }
    char *name = strip(p);
    char *copy = strdup(strip(value));
    if (!copy || (int)strlen(name) + 24 >= num) {
        free(copy);
        if (!state->first_problem[0])
            snprintf(state->first_problem, sizeof state->first_problem,
                     "a key name of %zu characters", strlen(name));
        snprintf(str, (size_t)num, "?\n");
        return;
    }
    state->long_values[state->n_long_values] = copy;
    snprintf(str, (size_t)num, "%s=%c%zu\n", name, LONG_VALUE_MARK, state->n_long_values++);
}

/* inih's reader (fgets-like): one whole line per call, however long. */
static char *read_line(char *str, int num, void *stream)
{
    struct load_state *state = stream;
    ssize_t len = getline(&state->line, &state->line_capacity, state->fp);
    if (len < 0 || num < 2)
        return NULL;
    if (len < num)
        memcpy(str, state->line, (size_t)len + 1);
    else
        shorten_long_line(state, state->line, str, num);
    return str;
}

static const char *long_value(const struct load_state *state, const char *value)
{
    if (value[0] != LONG_VALUE_MARK)
        return value;
    size_t i = (size_t)strtoul(value + 1, NULL, 10);
    return i < state->n_long_values ? state->long_values[i] : value;
}

static int on_ini_entry(void *user, const char *section, const char *name, const char *raw_value)
{
    struct load_state *state = user;
    const char *value = long_value(state, raw_value);
    char full_name[256];
    snprintf(full_name, sizeof full_name, "%s.%s", section, name);
    int index = find_key(full_name);
    char why[256] = "";
    if (index < 0) {
        snprintf(why, sizeof why, "unknown key '%s' in section [%s]", name, section);
    } else if (validate(&key_specs[index], value, why, sizeof why) == 0) {
        return store(state->cfg, index, value) == 0;
    }
    if (!state->first_problem[0]) {
        if (index < 0)
            snprintf(state->first_problem, sizeof state->first_problem, "%s", why);
        else
            snprintf(state->first_problem, sizeof state->first_problem, "key '%s': %s",
                     full_name, why);
    }
    return 0;
}

static int parse_file(struct load_state *state, const char *path, af_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return af_err_set_code(err, AF_EXIT_USAGE, "%s: cannot open configuration file: %s",
                               path, strerror(errno));
    if (!S_ISREG(st.st_mode)) /* a directory reads as empty, a FIFO blocks */
        return af_err_set_code(err, AF_EXIT_USAGE,
                               "%s: cannot open configuration file: not a regular file%s", path,
                               S_ISDIR(st.st_mode) ? " (a directory)" : "");
    state->fp = fopen(path, "r");
    if (!state->fp)
        return af_err_set_code(err, AF_EXIT_USAGE, "%s: cannot open configuration file: %s",
                               path, strerror(errno));
    int line = ini_parse_stream(read_line, state, on_ini_entry, state);
    fclose(state->fp);
    if (line == -2)
        return af_err_set_code(err, AF_EXIT_USAGE, "%s: out of memory while reading", path);
    if (line > 0)
        return af_err_set_code(err, AF_EXIT_USAGE, "%s:%d: %s", path, line,
                               state->first_problem[0] ? state->first_problem
                                                       : "syntax error (expected key = value)");
    return 0;
}

int af_config_load(struct af_config *cfg, const char *path, af_err *err)
{
    struct load_state state = {.cfg = cfg};
    int rc = parse_file(&state, path, err);
    free(state.line);
    for (size_t i = 0; i < state.n_long_values; i++)
        free(state.long_values[i]);
    free(state.long_values);
    return rc;
}

const char *af_config_default_path(void)
{
    const char *env = getenv("AUDIOFILER_CONFIG");
    if (env && *env)
        return env;
    static const char project_config[] = AF_PROJECT_DIR "/config/audiofiler.conf";
    return access(project_config, R_OK) == 0 ? project_config : NULL;
}

static int require_key(const char *key, enum key_type type)
{
    int index = find_key(key);
    if (index < 0 || key_specs[index].type != type) {
        fprintf(stderr, "internal error: configuration key '%s' unknown or of another type\n",
                key);
        abort();
    }
    return index;
}

const char *af_config_str(const struct af_config *cfg, const char *key)
{
    return cfg->values[require_key(key, KEY_STRING)];
}

long af_config_int(const struct af_config *cfg, const char *key)
{
    return strtol(cfg->values[require_key(key, KEY_INT)], NULL, 10);
}

double af_config_double(const struct af_config *cfg, const char *key)
{
    return strtod(cfg->values[require_key(key, KEY_DOUBLE)], NULL);
}

bool af_config_bool(const struct af_config *cfg, const char *key)
{
    bool value = false;
    parse_bool(cfg->values[require_key(key, KEY_BOOL)], &value);
    return value;
}
