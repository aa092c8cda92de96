/*
 * mlp.h — the genre classifier's multi-layer perceptron (training and
 * inference), computed with OpenBLAS.
 *
 * af-train builds an af_mlp, runs af_mlp_train_epoch / af_mlp_evaluate per
 * epoch with an af_mlp_early_stop, then stores af_mlp_serialise's buffer (which
 * carries the feature standardiser, see scaler.h) in a bytea; af-predict reads
 * it back with af_mlp_deserialise and calls af_mlp_forward.  Nothing here
 * touches the database or prints.
 *
 * Network: inputs -> [Linear -> ReLU -> inverted dropout] x hidden -> Linear
 * -> softmax.  Loss: cross-entropy, optionally weighted per class; the mean
 * over a batch is sum(w_i * loss_i) / sum(w_i) (as PyTorch's
 * CrossEntropyLoss(weight=...)).  L2: 0.5 * l2 * sum(W^2) over weights, not
 * biases, added to the gradient before Adam (PyTorch's Adam weight_decay, not
 * AdamW).  Adam as PyTorch's (bias-corrected, eps added after the square
 * root).  Initialisation: He-uniform, W ~ U(-sqrt(6/fan_in), +sqrt(6/fan_in)),
 * biases 0 — uniform rather than Gaussian so the initial weights need no libm
 * call and are bit-identical on every platform.
 *
 * Determinism: initialisation, the per-epoch shuffle and the dropout masks all
 * come from one xoshiro256** stream seeded by cfg.seed, so the same seed, data
 * and call sequence give a bit-identical model, provided OpenBLAS computes
 * identical sums.  Measured with this OpenBLAS (0.3.21 pthread, Cooperlake
 * kernels on an AMD EPYC): sgemm results, and so whole trained models, are
 * identical from run to run with the same thread count, and also between 1
 * and 2 threads (consistent with its gemm splitting the output among threads,
 * not the sums).  test_mlp checks run-to-run identity, bench_mlp 1 vs 2 threads.
 * With the Prescott kernels OpenBLAS picks on another CPU, 1 and 2 threads give
 * different models (bench_mlp, 2026-12); run to run they stay identical.
 * Another OpenBLAS version or CPU kernel may round differently: store the
 * seed with the model, but do not promise that retraining elsewhere
 * reproduces its bytes.
 *
 * Threads: an af_mlp owns its scratch buffers, so one af_mlp must not be used
 * by two threads at once; distinct models are independent.  The number of
 * OpenBLAS threads is the caller's choice (openblas_set_num_threads).
 */
#ifndef AF_TRAIN_MLP_H
#define AF_TRAIN_MLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "scaler.h"

#define AF_MLP_MAX_HIDDEN 8       /* hidden layers */
#define AF_MLP_MAX_WIDTH 65536    /* units in one layer, inputs and classes included */
#define AF_MLP_FORMAT_VERSION 1u  /* of the serialised buffer */

typedef struct af_mlp_config {
    int n_inputs;
    int n_classes;                  /* >= 2 */
    int n_hidden;                   /* number of hidden layers, 0..AF_MLP_MAX_HIDDEN */
    int hidden[AF_MLP_MAX_HIDDEN];  /* their widths */
    float dropout;                  /* probability of zeroing a hidden unit in training, [0, 1)
                                       (drawn with 16-bit resolution) */
    float l2;                       /* weight decay on weights (not biases), >= 0 */
    float input_dropout;            /* probability of zeroing an input value in training, [0, 1)
                                       (inverted: kept values scaled by 1/(1-p)) */
    float mixup;                    /* mixup: each training row blended with a random other
                                       row, partner share uniform in [0, mixup], the target
                                       blended likewise; [0, 0.5], 0 = off */
    float input_noise;              /* standard deviation of Gaussian noise added to every
                                       input value in training (standardised units), >= 0 */
    int key_stride;                 /* key shift: 0 = off; else the inputs hold 12 consecutive
                                       blocks of key_stride values, one per pitch class C..B
                                       (a chroma row's statistics), from input key_first on */
    int key_first;                  /* each training row is transposed by a uniform 0..11
                                       semitones: its blocks rotated, the rest untouched */
    float learning_rate;            /* Adam */
    float beta1, beta2, epsilon;    /* Adam */
    int batch_size;                 /* also the chunk size of forward/evaluate */
    uint64_t seed;
} af_mlp_config;

/* hidden 256,128,64; dropout 0.25; l2 0; no input dropout, noise or key shift; Adam 1e-3, 0.9, 0.999, 1e-8;
 * batch 256; seed 0. */
void af_mlp_config_default(af_mlp_config *cfg, int n_inputs, int n_classes);

typedef struct af_mlp af_mlp;

/* Loss and accuracy over a set.  loss is the class-weighted mean
 * cross-entropy (without the L2 term); accuracy is unweighted. */
typedef struct af_mlp_stats {
    double loss;
    double accuracy;
    size_t n; /* rows seen */
} af_mlp_stats;

/* Validates cfg and builds a freshly initialised network. */
int af_mlp_create(af_mlp **out, const af_mlp_config *cfg, af_err *err);
void af_mlp_free(af_mlp *m);

int af_mlp_n_inputs(const af_mlp *m);
int af_mlp_n_classes(const af_mlp *m);
const af_mlp_config *af_mlp_config_of(const af_mlp *m);

/* Class probabilities for n rows of x (row-major, n x n_inputs, already
 * standardised) into probs (n x n_classes).  Dropout is off. */
int af_mlp_forward(af_mlp *m, const float *x, size_t n, float *probs, af_err *err);

/* One pass over the n rows in an order shuffled from the model's stream, in
 * mini-batches of cfg.batch_size with dropout, one Adam step per batch.
 * y[i] in [0, n_classes).  class_weights: n_classes values >= 0 (not all 0),
 * or NULL for 1.  stats (may be NULL) gets the mean loss and the accuracy
 * measured on the fly (with dropout, before each step), as Keras reports them.
 * Fails if the loss becomes NaN or infinite (diverged). */
int af_mlp_train_epoch(af_mlp *m, const float *x, const int *y, size_t n,
                       const float *class_weights, af_mlp_stats *stats, af_err *err);

/* Loss and accuracy of the current weights on a set, dropout off.
 * class_weights as above; pass the training weights to early-stop on the same
 * objective that is optimised, or NULL for the plain loss. */
int af_mlp_evaluate(af_mlp *m, const float *x, const int *y, size_t n,
                    const float *class_weights, af_mlp_stats *stats, af_err *err);

/*
 * Early stopping: call update after each epoch with the validation loss; it
 * keeps a copy of the weights of the best epoch so far and sets *stop once
 * `patience` epochs in a row failed to improve on it by more than min_delta.
 * Then restore puts the best weights back into the model.
 */
typedef struct af_mlp_early_stop {
    int patience;
    double min_delta;   /* 0 after init: any decrease counts */
    int best_epoch;     /* -1 until the first update */
    double best_loss;
    int bad_epochs;     /* epochs since the best one */
    float *best_params;
    size_t n_params;
} af_mlp_early_stop;

int af_mlp_early_stop_init(af_mlp_early_stop *es, const af_mlp *m, int patience, af_err *err);
/* A NaN loss never counts as an improvement. */
int af_mlp_early_stop_update(af_mlp_early_stop *es, const af_mlp *m, int epoch, double val_loss,
                             bool *stop, af_err *err);
/* Fails if no epoch was recorded or the model has another shape. */
int af_mlp_early_stop_restore(const af_mlp_early_stop *es, af_mlp *m, af_err *err);
void af_mlp_early_stop_free(af_mlp_early_stop *es);

/*
 * Serialised model, little-endian throughout:
 *   8  magic "AFMLP\r\n\x1a" (the \r\n and ^Z catch text-mode mangling)
 *   u32 format version (AF_MLP_FORMAT_VERSION)
 *   u32 total length of the buffer in bytes, checksum included
 *   u32 L = number of weight layers (hidden layers + 1)
 *   u32 width[0..L]: inputs, hidden widths..., classes
 *   scaler block (scaler.h): u32 dim (0 = none, else = inputs), f32 mean[dim], f32 std[dim]
 *   f32 parameters: for each layer l, W_l (width[l] rows x width[l+1] columns,
 *       row-major) then b_l (width[l+1])
 *   u32 CRC-32 (zlib's) of all preceding bytes
 * Training state (Adam moments, PRNG, hyper-parameters) is not stored: a
 * deserialised model predicts; if trained further it starts a fresh Adam with
 * default hyper-parameters.
 */

/* *buf is malloc'd (free() it).  scaler may be NULL or must have dim
 * n_inputs. */
int af_mlp_serialise(const af_mlp *m, const af_scaler *scaler, uint8_t **buf, size_t *len,
                     af_err *err);
/* Rejects (with a message saying which check failed) bad magic, unknown
 * version, truncated or oversized buffers, implausible shapes, checksum
 * mismatch and non-finite values.  scaler (may be NULL) receives the stored
 * standardiser, dim 0 if none was stored; the caller frees it. */
int af_mlp_deserialise(const uint8_t *buf, size_t len, af_mlp **out, af_scaler *scaler,
                       af_err *err);

/*
 * Inspection, for tests and tools.  Parameters are one contiguous array in
 * the serialised order (W_0, b_0, W_1, b_1, ...).
 */
size_t af_mlp_n_params(const af_mlp *m);
float *af_mlp_params(af_mlp *m);
const float *af_mlp_gradients(const af_mlp *m);
/* Computes, without updating anything, the gradient of the full objective
 * (weighted mean cross-entropy over the n rows + 0.5 * l2 * sum(W^2)) into
 * af_mlp_gradients(); *objective gets its value.  Dropout is applied as in
 * training (draws from the model's stream) if cfg.dropout > 0.
 * n <= cfg.batch_size. */
int af_mlp_compute_gradients(af_mlp *m, const float *x, const int *y, size_t n,
                             const float *class_weights, double *objective, af_err *err);

/*
 * Embeddings: the activations of the last hidden layer (after ReLU, dropout off)
 * for n rows of x, into emb (n x af_mlp_embedding_dim).  A network without hidden
 * layers gives its (standardised) inputs back.  Used for similar tracks and clusters.
 */
int af_mlp_embedding_dim(const af_mlp *m);
int af_mlp_embed(af_mlp *m, const float *x, size_t n, float *emb, af_err *err);

#endif
