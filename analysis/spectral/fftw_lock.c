/* fftw_lock.c — the process-wide FFTW planner lock; see fftw_lock.h. */
#include "fftw_lock.h"

#include <pthread.h>

static pthread_mutex_t planner = PTHREAD_MUTEX_INITIALIZER;

void af_fftw_planner_lock(void)
{
    pthread_mutex_lock(&planner);
}

void af_fftw_planner_unlock(void)
{
    pthread_mutex_unlock(&planner);
}
