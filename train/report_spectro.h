/*
 * report_spectro.h — af-report's "typical track per genre" section: for each of the
 * model's genres the test track it classified right with the highest probability,
 * its stored audio decoded and analysed with the analysis library (analysis/: STFT,
 * mel, MFCC, exactly the features' code), drawn as a mel spectrogram and an MFCC
 * picture with labelled axes (inline SVG around BMP data: URIs, report_image.h).
 *
 * The audio is read where [audio] store put it (the database or the directory);
 * audio that is not kept (store = none), missing or unreadable is said in the report,
 * not an error: only the database failing fails the section.
 */
#ifndef AF_TRAIN_REPORT_SPECTRO_H
#define AF_TRAIN_REPORT_SPECTRO_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "strbuf.h"

/* Picture size: time columns (frames averaged in groups) x 128 mel bands. */
#define AF_SPECTRO_MAX_COLS 300

struct af_spectro {
    int cols;            /* time columns */
    double seconds;      /* audio analysed */
    uint8_t *mel;        /* cols x 128, row-major by band (band 0 = row 0 = bottom) */
    uint8_t *mfcc;       /* cols x 20, by coefficient (each scaled to its own range) */
    float mel_db_max;    /* dB of the loudest cell; the picture spans 80 dB below it */
};

/* Analyses n mono samples at 22050 Hz into out (release with af_spectro_free). */
int af_spectro_compute(const float *samples, size_t n, struct af_spectro *out, af_err *err);
void af_spectro_free(struct af_spectro *s);

/* Slaney mel of a frequency (librosa htk=False), as the mel filterbank spaces bands. */
double af_hz_to_mel_slaney(double hz);

/* Appends the section for model_id. */
int af_report_spectro_section(PGconn *db, long long model_id, af_sb *out, af_err *err);

#endif
