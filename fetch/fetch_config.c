/*
 * fetch_config.c — the provider settings shared by af-fetch and the look-up; see
 * fetch_config.h.
 */
#include "fetch_config.h"

#include <stdio.h>
#include <string.h>

#include "exitcode.h"

const char *const af_fetch_provider_names[AF_FETCH_PROVIDERS] = {"spotify", "deezer", "itunes"};

void af_fetch_read_settings(const struct af_config *cfg, struct af_fetch_settings *s)
{
    s->search_results = (int)af_config_int(cfg, "fetch.search_results");
    s->max_retries = (int)af_config_int(cfg, "fetch.max_retries");
    s->retry_base = af_config_double(cfg, "fetch.retry_base_seconds");
    s->retry_max = af_config_double(cfg, "fetch.retry_max_seconds");
    s->max_retry_after = af_config_double(cfg, "fetch.max_retry_after_seconds");
    s->min_score = af_config_double(cfg, "fetch.min_match_score");
    s->verify_audio = af_config_bool(cfg, "fetch.verify_audio");
    s->min_preview = af_config_double(cfg, "fetch.min_preview_seconds");
    s->max_preview = af_config_double(cfg, "fetch.max_preview_seconds");
    s->accounts_url = af_config_str(cfg, "spotify.accounts_url");
    s->spotify_market = af_config_str(cfg, "spotify.market");
    s->itunes_country = af_config_str(cfg, "itunes.country");
}

int af_fetch_parse_providers(const char *list, enum af_fetch_provider kinds[AF_FETCH_PROVIDERS],
                             af_err *err)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", list);
    int n = 0;
    for (char *save = NULL, *name = strtok_r(copy, ", ", &save); name;
         name = strtok_r(NULL, ", ", &save)) {
        int k = -1;
        for (int i = 0; i < AF_FETCH_PROVIDERS; i++)
            if (strcmp(name, af_fetch_provider_names[i]) == 0)
                k = i;
        if (k < 0)
            return af_err_set_code(err, AF_EXIT_USAGE,
                                   "unknown provider '%s' (known: spotify, deezer, itunes)", name);
        int seen = 0;
        for (int i = 0; i < n; i++)
            seen |= kinds[i] == (enum af_fetch_provider)k;
        if (!seen)
            kinds[n++] = (enum af_fetch_provider)k;
    }
    return n;
}

int af_fetch_check_providers(const char *list, af_err *err)
{
    enum af_fetch_provider kinds[AF_FETCH_PROVIDERS];
    int n = af_fetch_parse_providers(list, kinds, err);
    if (n < 0)
        return -1;
    if (n == 0)
        return af_err_set_code(err, AF_EXIT_USAGE, "no provider given");
    return 0;
}

void af_fetch_http_options(const struct af_config *cfg, struct af_http_options *ho)
{
    af_http_default_options(ho);
    ho->connect_timeout_seconds = af_config_double(cfg, "fetch.connect_timeout_seconds");
    ho->timeout_seconds = af_config_double(cfg, "fetch.timeout_seconds");
    ho->low_speed_bytes_per_second = af_config_int(cfg, "fetch.low_speed_bytes_per_second");
    ho->low_speed_seconds = af_config_int(cfg, "fetch.low_speed_seconds");
    ho->max_body_bytes = (size_t)af_config_int(cfg, "fetch.max_body_bytes");
}

const char *af_fetch_provider_setup(const struct af_config *cfg, enum af_fetch_provider kind,
                                    struct af_rate_limiter *rl)
{
    char key[64];
    snprintf(key, sizeof key, "%s.requests_per_second", af_fetch_provider_names[kind]);
    /* A bucket of 1.5: never more than rate * t + 1 requests in any t seconds, yet a
     * token is not lost when the loop wakes a little late (e.g. during a save). */
    af_rate_limiter_init(rl, af_config_double(cfg, key), 1.5);
    snprintf(key, sizeof key, "%s.api_url", af_fetch_provider_names[kind]);
    return af_config_str(cfg, key);
}
