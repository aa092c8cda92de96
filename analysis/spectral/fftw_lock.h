/*
 * fftw_lock.h — the one lock around FFTW's planner for the whole process.
 *
 * FFTW's planner (plan creation, wisdom import/export, plan destruction) shares
 * global state and is not thread-safe; only fftw_execute* on an existing plan
 * is.  Every module that plans (spectral/stft.c, rhythm/tempo.c, ...) makes its
 * plans inside af_fftw_planner_lock/unlock, so that two threads starting
 * analysis contexts at once (af-extract's workers, af-features' threads) never
 * enter the planner together, even from different pthread_once blocks.
 */
#ifndef AF_FFTW_LOCK_H
#define AF_FFTW_LOCK_H

void af_fftw_planner_lock(void);
void af_fftw_planner_unlock(void);

#endif
