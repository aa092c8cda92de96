/*
 * audio_id.h — the identity of a file's audio, for af-ingest dir: the sha256 of its
 * audio stream's packets, as demuxed (nothing is decoded).
 *
 * Tags live outside those packets (ID3v1/v2 and APE around MP3 frames, FLAC
 * metadata blocks, Ogg comment headers, MP4 'udta', WAV LIST chunks), so editing a
 * file's tags, or renaming it, leaves its audio identity unchanged, while the sha256
 * of its bytes changes.  That is how a re-tagged file finds the track it already
 * is (issue: 100 re-tagged files became 100 more tracks, leaking into train and test
 * at once).  A re-encode is a different identity: same music, other audio bytes.
 */
#ifndef AF_INGEST_AUDIO_ID_H
#define AF_INGEST_AUDIO_ID_H

#include <stddef.h>

#include "error.h"

/* Writes the identity of the audio in data (a whole file) to id.  -1 (err set) when
 * FFmpeg cannot demux it or it has no audio stream. */
int af_audio_identity(const void *data, size_t len, unsigned char id[32], af_err *err);

#endif
