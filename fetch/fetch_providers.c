/* fetch_providers.c — shared helpers of the provider formats; see fetch_providers.h. */
#include "fetch_providers.h"

#include <stdlib.h>

void af_fetch_results_free(struct af_fetch_results *results)
{
    for (int i = 0; i < results->n; i++) {
        free(results->items[i].artists);
        free(results->items[i].title);
        free(results->items[i].preview_url);
    }
    free(results->items);
    results->items = NULL;
    results->n = 0;
}
