/*
 * mlp.c — MLP forward/backward on row-major batch matrices with cblas_sgemm,
 * Adam, early stopping and the model buffer; see mlp.h for the maths and the
 * format.
 *
 * Memory: every parameter lives in one flat array (so Adam, the early-stop
 * copy and serialisation are single loops) and every batch-sized scratch
 * matrix is allocated once in af_mlp_create, so training allocates nothing per
 * batch.  Layer l maps act[l] (rows x width[l]) to act[l+1]; act[0] is the
 * gathered input batch.
 *
 * Dropout needs no mask buffer: a hidden activation is > 0 exactly when its
 * unit was active (ReLU passed it and dropout kept it), so the backward pass
 * reads the mask back from the activations.
 */
#include "mlp.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "kernels.h"
#include "rng.h"

#define MAX_LAYERS (AF_MLP_MAX_HIDDEN + 1) /* weight layers */
#define MAX_PARAMS ((size_t)1 << 28)        /* 1 GiB of floats: far beyond any sane model */
#define MAX_BATCH (1 << 20)

static const uint8_t MAGIC[8] = {'A', 'F', 'M', 'L', 'P', '\r', '\n', 0x1a};

struct af_mlp {
    af_mlp_config cfg;
    int n_layers;                  /* weight layers */
    int width[MAX_LAYERS + 1];     /* width[0] inputs ... width[n_layers] classes */
    size_t w_off[MAX_LAYERS];      /* offsets of W_l and b_l in params */
    size_t b_off[MAX_LAYERS];
    size_t n_params;
    float *params, *grads, *adam_m, *adam_v;
    long adam_steps;
    af_rng rng;

    int ws_rows;                   /* rows the scratch matrices hold (= batch size) */
    float *act[MAX_LAYERS + 1];    /* act[0] = gathered inputs; act[n_layers] = probabilities */
    float *delta[2];               /* gradients w.r.t. pre-activations, ping-pong */
    float *ones;                   /* ws_rows ones: bias gradient = delta^T * ones */
    float *row_weight;             /* class weight of each row of the batch */
    int *batch_labels;             /* labels of the gathered batch */
    int *mix_label;                /* mixup: the partner row's label, per batch row */
    float *mix_share;              /* mixup: the partner's share of the row (0: none) */
    bool mixing;                   /* mix_* apply to the current batch */
    float *key_scratch;            /* key shift: one row's 12 rotated blocks (NULL: off) */
    size_t *order;                 /* per-epoch permutation of the training rows */
    size_t order_cap;
};

/* ---- configuration ---- */

void af_mlp_config_default(af_mlp_config *cfg, int n_inputs, int n_classes)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->n_inputs = n_inputs;
    cfg->n_classes = n_classes;
    cfg->n_hidden = 3;
    cfg->hidden[0] = 256;
    cfg->hidden[1] = 128;
    cfg->hidden[2] = 64;
    cfg->dropout = 0.25f;
    cfg->l2 = 0.0f;
    cfg->learning_rate = 1e-3f;
    cfg->beta1 = 0.9f;
    cfg->beta2 = 0.999f;
    cfg->epsilon = 1e-8f;
    cfg->batch_size = 256;
    cfg->seed = 0;
}

static int check_width(const char *what, int w, af_err *err)
{
    if (w < 1 || w > AF_MLP_MAX_WIDTH)
        return af_err_set(err, "mlp: %s must be in 1..%d (got %d)", what, AF_MLP_MAX_WIDTH, w);
    return 0;
}

static int check_config(const af_mlp_config *c, af_err *err)
{
    if (check_width("input count", c->n_inputs, err) < 0 ||
        check_width("class count", c->n_classes, err) < 0)
        return -1;
    if (c->n_classes < 2)
        return af_err_set(err, "mlp: need at least 2 classes (got %d)", c->n_classes);
    if (c->n_hidden < 0 || c->n_hidden > AF_MLP_MAX_HIDDEN)
        return af_err_set(err, "mlp: hidden layer count must be in 0..%d (got %d)",
                          AF_MLP_MAX_HIDDEN, c->n_hidden);
    for (int i = 0; i < c->n_hidden; i++)
        if (check_width("hidden layer width", c->hidden[i], err) < 0)
            return -1;
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
        return af_err_set(err, "mlp: dropout must be in [0, 1) (got %g)", c->dropout);
    if (!(c->mixup >= 0.0f && c->mixup <= 0.5f))
        return af_err_set(err, "mlp: mixup must be in [0, 0.5] (got %g)", c->mixup);
    if (!(c->input_dropout >= 0.0f && c->input_dropout < 1.0f))
        return af_err_set(err, "mlp: input dropout must be in [0, 1) (got %g)", c->input_dropout);
    if (!(c->input_noise >= 0.0f) || !isfinite(c->input_noise))
        return af_err_set(err, "mlp: input noise must be finite and >= 0 (got %g)",
                          c->input_noise);
    if (c->key_stride < 0 ||
        (c->key_stride > 0 && (c->key_first < 0 || c->key_stride > c->n_inputs / 12 ||
                               c->key_first > c->n_inputs - 12 * c->key_stride)))
        return af_err_set(err, "mlp: key shift blocks (12 x %d from input %d) must lie within "
                               "the %d inputs", c->key_stride, c->key_first, c->n_inputs);
    if (!(c->l2 >= 0.0f) || !isfinite(c->l2))
        return af_err_set(err, "mlp: l2 must be finite and >= 0 (got %g)", c->l2);
    if (!(c->learning_rate > 0.0f) || !isfinite(c->learning_rate))
        return af_err_set(err, "mlp: learning rate must be positive (got %g)", c->learning_rate);
    if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f) || !(c->beta2 >= 0.0f && c->beta2 < 1.0f))
        return af_err_set(err, "mlp: Adam betas must be in [0, 1) (got %g, %g)", c->beta1,
                          c->beta2);
    if (!(c->epsilon > 0.0f) || !isfinite(c->epsilon))
        return af_err_set(err, "mlp: Adam epsilon must be positive (got %g)", c->epsilon);
    if (c->batch_size < 1 || c->batch_size > MAX_BATCH)
        return af_err_set(err, "mlp: batch size must be in 1..%d (got %d)", MAX_BATCH,
                          c->batch_size);
    return 0;
}

/* ---- construction ---- */

static int lay_out_params(af_mlp *m, af_err *err)
{
    size_t off = 0;
    for (int l = 0; l < m->n_layers; l++) {
        size_t in = (size_t)m->width[l], out = (size_t)m->width[l + 1];
        m->w_off[l] = off;
        off += in * out; /* widths <= 2^16, so no overflow per layer */
        m->b_off[l] = off;
        off += out;
        if (off > MAX_PARAMS)
            return af_err_set(err, "mlp: more than %zu parameters", MAX_PARAMS);
    }
    m->n_params = off;
    return 0;
}

static float *alloc_floats(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static int alloc_buffers(af_mlp *m, af_err *err)
{
    size_t rows = (size_t)m->ws_rows;
    int widest = 0;
    bool ok = true;
    m->params = alloc_floats(m->n_params);
    m->grads = alloc_floats(m->n_params);
    m->adam_m = alloc_floats(m->n_params);
    m->adam_v = alloc_floats(m->n_params);
    ok = m->params && m->grads && m->adam_m && m->adam_v;
    for (int l = 0; l <= m->n_layers; l++) {
        m->act[l] = alloc_floats(rows * (size_t)m->width[l]);
        ok = ok && m->act[l];
        if (m->width[l] > widest)
            widest = m->width[l];
    }
    for (int i = 0; i < 2; i++) {
        m->delta[i] = alloc_floats(rows * (size_t)widest);
        ok = ok && m->delta[i];
    }
    m->ones = alloc_floats(rows);
    m->row_weight = alloc_floats(rows);
    m->batch_labels = calloc(rows, sizeof *m->batch_labels);
    m->mix_label = calloc(rows, sizeof *m->mix_label);
    m->mix_share = alloc_floats(rows);
    ok = ok && m->ones && m->row_weight && m->batch_labels && m->mix_label && m->mix_share;
    if (m->cfg.key_stride > 0) {
        m->key_scratch = alloc_floats(12 * (size_t)m->cfg.key_stride);
        ok = ok && m->key_scratch;
    }
    if (!ok)
        return af_err_set(err, "mlp: out of memory (%zu parameters, batch %zu)", m->n_params,
                          rows);
    for (size_t i = 0; i < rows; i++)
        m->ones[i] = 1.0f;
    return 0;
}

/* He-uniform: Var(W) = bound^2 / 3 = 2 / fan_in keeps ReLU activations at a
 * stable scale through the layers. */
static void init_weights(af_mlp *m)
{
    for (int l = 0; l < m->n_layers; l++) {
        size_t n = (size_t)m->width[l] * (size_t)m->width[l + 1];
        float bound = sqrtf(6.0f / (float)m->width[l]);
        float *w = m->params + m->w_off[l];
        for (size_t i = 0; i < n; i++)
            w[i] = (float)((2.0 * af_rng_uniform(&m->rng) - 1.0) * bound);
        memset(m->params + m->b_off[l], 0, (size_t)m->width[l + 1] * sizeof(float));
    }
}

/* Builds the structure without initialising weights (shared with deserialise). */
static int mlp_alloc(af_mlp **out, const af_mlp_config *cfg, af_err *err)
{
    *out = NULL;
    if (check_config(cfg, err) < 0)
        return -1;
    af_mlp *m = calloc(1, sizeof *m);
    if (!m)
        return af_err_set(err, "mlp: out of memory");
    m->cfg = *cfg;
    m->n_layers = cfg->n_hidden + 1;
    m->width[0] = cfg->n_inputs;
    for (int i = 0; i < cfg->n_hidden; i++)
        m->width[i + 1] = cfg->hidden[i];
    m->width[m->n_layers] = cfg->n_classes;
    m->ws_rows = cfg->batch_size;
    af_rng_seed(&m->rng, cfg->seed);
    if (lay_out_params(m, err) < 0 || alloc_buffers(m, err) < 0) {
        af_mlp_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

int af_mlp_create(af_mlp **out, const af_mlp_config *cfg, af_err *err)
{
    if (mlp_alloc(out, cfg, err) < 0)
        return -1;
    init_weights(*out);
    return 0;
}

void af_mlp_free(af_mlp *m)
{
    if (!m)
        return;
    free(m->params);
    free(m->grads);
    free(m->adam_m);
    free(m->adam_v);
    for (int l = 0; l <= MAX_LAYERS; l++)
        free(m->act[l]);
    free(m->delta[0]);
    free(m->delta[1]);
    free(m->ones);
    free(m->row_weight);
    free(m->batch_labels);
    free(m->mix_label);
    free(m->mix_share);
    free(m->key_scratch);
    free(m->order);
    free(m);
}

int af_mlp_n_inputs(const af_mlp *m) { return m->width[0]; }
int af_mlp_n_classes(const af_mlp *m) { return m->width[m->n_layers]; }
const af_mlp_config *af_mlp_config_of(const af_mlp *m) { return &m->cfg; }
size_t af_mlp_n_params(const af_mlp *m) { return m->n_params; }
float *af_mlp_params(af_mlp *m) { return m->params; }
const float *af_mlp_gradients(const af_mlp *m) { return m->grads; }

/* ---- forward ---- */

/* What a forward pass with labels adds up over its rows. */
typedef struct batch_tally {
    double loss; /* sum of w_i * loss_i */
    double weight;
    size_t correct;
} batch_tally;

static int argmax_row(const float *p, int n)
{
    int best = 0;
    for (int c = 1; c < n; c++)
        if (p[c] > p[best])
            best = c;
    return best;
}

/* Per row: softmax of z + b in place.  If y is given, accumulates the
 * weighted cross-entropy (log-sum-exp form: finite even when a probability
 * underflows), the weight total and the correct predictions. */
static void softmax_rows(float *z, const float *b, int rows, int cols, const int *y,
                         const float *row_w, const int *y2, const float *share, batch_tally *t)
{
    for (int r = 0; r < rows; r++) {
        float *row = z + (size_t)r * (size_t)cols;
        float max = -INFINITY;
        for (int c = 0; c < cols; c++) {
            row[c] += b[c];
            if (row[c] > max)
                max = row[c];
        }
        float sum = 0.0f;
        float logit_y = y ? row[y[r]] : 0.0f;
        for (int c = 0; c < cols; c++) {
            row[c] = expf(row[c] - max);
            sum += row[c];
        }
        float inv = 1.0f / sum;
        for (int c = 0; c < cols; c++)
            row[c] *= inv;
        if (y) {
            double lse = (double)max + log((double)sum);
            double loss = lse - (double)logit_y;
            if (y2 && share[r] > 0.0f) /* mixup: the partner's label, by its share */
                loss = (1.0 - share[r]) * loss -
                       share[r] * log((double)(row[y2[r]] > 1e-30f ? row[y2[r]] : 1e-30f));
            t->loss += row_w[r] * loss;
            t->weight += row_w[r];
            t->correct += argmax_row(row, cols) == y[r];
        }
    }
}

/* Runs the network on rows x (rows x width[0], contiguous).  The output
 * probabilities land in act[n_layers]. */
static void forward_batch(af_mlp *m, const float *x, int rows, bool dropout, const int *y,
                          const float *row_w, batch_tally *t)
{
    float p = m->cfg.dropout;
    uint32_t drop_below = (uint32_t)lrintf(p * 65536.0f);
    float scale = 1.0f / (1.0f - p);
    const float *in = x;
    for (int l = 0; l < m->n_layers; l++) {
        int n_in = m->width[l], n_out = m->width[l + 1];
        float *out = m->act[l + 1];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n_out, n_in, 1.0f, in, n_in,
                    m->params + m->w_off[l], n_out, 0.0f, out, n_out);
        const float *b = m->params + m->b_off[l];
        if (l == m->n_layers - 1)
            softmax_rows(out, b, rows, n_out, y, row_w, m->mixing ? m->mix_label : NULL,
                         m->mix_share, t);
        else if (dropout && p > 0.0f)
            af_k_bias_relu_dropout(out, b, rows, n_out, &m->rng, drop_below, scale);
        else
            af_k_bias_relu(out, b, rows, n_out);
        in = out;
    }
}

/* ---- backward ---- */

/* delta = (P - onehot(y)) * w_i / sum(w): the gradient of the batch's weighted
 * mean cross-entropy w.r.t. the logits. */
static void output_delta(const float *probs, const int *y, const float *row_w, double weight_sum,
                         int rows, int cols, const int *y2, const float *share, float *delta)
{
    float inv_w = (float)(1.0 / weight_sum);
    for (int r = 0; r < rows; r++) {
        const float *p = probs + (size_t)r * (size_t)cols;
        float *d = delta + (size_t)r * (size_t)cols;
        float s = row_w[r] * inv_w;
        for (int c = 0; c < cols; c++)
            d[c] = p[c] * s;
        if (y2 && share[r] > 0.0f) { /* soft target: (1 - share) y + share y2 */
            d[y[r]] -= s * (1.0f - share[r]);
            d[y2[r]] -= s * share[r];
        } else {
            d[y[r]] -= s;
        }
    }
}

static void backward_batch(af_mlp *m, const float *x, int rows, const int *y, double weight_sum,
                           bool dropout)
{
    float scale = dropout ? 1.0f / (1.0f - m->cfg.dropout) : 1.0f;
    int top = m->n_layers;
    float *d = m->delta[0], *d_below = m->delta[1];
    output_delta(m->act[top], y, m->row_weight, weight_sum, rows, m->width[top],
                 m->mixing ? m->mix_label : NULL, m->mix_share, d);
    for (int l = top - 1; l >= 0; l--) {
        int n_in = m->width[l], n_out = m->width[l + 1];
        const float *in = l == 0 ? x : m->act[l];
        const float *w = m->params + m->w_off[l];
        float *gw = m->grads + m->w_off[l];
        /* dW = A_in^T * delta;  db = delta^T * 1 */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_in, n_out, rows, 1.0f, in, n_in, d,
                    n_out, 0.0f, gw, n_out);
        cblas_sgemv(CblasRowMajor, CblasTrans, rows, n_out, 1.0f, d, n_out, m->ones, 1, 0.0f,
                    m->grads + m->b_off[l], 1);
        if (m->cfg.l2 > 0.0f)
            cblas_saxpy(n_in * n_out, m->cfg.l2, w, 1, gw, 1);
        if (l == 0)
            break; /* nobody needs the gradient w.r.t. the inputs */
        /* delta_below = delta * W^T, then through the layer's ReLU/dropout */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, n_in, n_out, 1.0f, d, n_out, w,
                    n_out, 0.0f, d_below, n_in);
        /* through ReLU and dropout: the gradient passes (scaled by 1/(1-p))
         * where the unit was active, i.e. where its activation is positive */
        af_k_mask_inactive(d_below, m->act[l], (size_t)rows * (size_t)n_in, scale);
        float *tmp = d;
        d = d_below;
        d_below = tmp;
    }
}

/* ---- Adam ---- */

static void adam_step(af_mlp *m)
{
    const af_mlp_config *c = &m->cfg;
    m->adam_steps++;
    double t = (double)m->adam_steps;
    af_adam_step step = {
        .beta1 = c->beta1,
        .beta2 = c->beta2,
        .epsilon = c->epsilon,
        .step = (float)(c->learning_rate / (1.0 - pow(c->beta1, t))),
        .inv_sqrt_bc2 = (float)(1.0 / sqrt(1.0 - pow(c->beta2, t))),
    };
    af_k_adam(m->params, m->grads, m->adam_m, m->adam_v, m->n_params, &step);
}

/* ---- training and evaluation ---- */

static int check_labels(const af_mlp *m, const int *y, size_t n, af_err *err)
{
    int classes = af_mlp_n_classes(m);
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= classes)
            return af_err_set(err, "mlp: label %d of row %zu is not in 0..%d", y[i], i,
                              classes - 1);
    return 0;
}

static int check_class_weights(const af_mlp *m, const float *cw, af_err *err)
{
    if (!cw)
        return 0;
    bool any = false;
    for (int c = 0; c < af_mlp_n_classes(m); c++) {
        if (!isfinite(cw[c]) || cw[c] < 0.0f)
            return af_err_set(err, "mlp: class weight %d is %g (must be finite, >= 0)", c, cw[c]);
        any = any || cw[c] > 0.0f;
    }
    if (!any)
        return af_err_set(err, "mlp: all class weights are 0");
    return 0;
}

static int check_set(const af_mlp *m, const float *x, const int *y, size_t n, const float *cw,
                     af_err *err)
{
    if (n == 0)
        return af_err_set(err, "mlp: empty set");
    if (!x || !y)
        return af_err_set(err, "mlp: missing rows or labels");
    if (check_labels(m, y, n, err) < 0 || check_class_weights(m, cw, err) < 0)
        return -1;
    return 0;
}

static void fill_row_weights(af_mlp *m, const int *y, int rows, const float *cw)
{
    for (int r = 0; r < rows; r++)
        m->row_weight[r] = cw ? cw[y[r]] : 1.0f;
}

static int shuffled_order(af_mlp *m, size_t n, af_err *err)
{
    if (n > m->order_cap) {
        size_t *o = realloc(m->order, n * sizeof *o);
        if (!o)
            return af_err_set(err, "mlp: out of memory for %zu rows", n);
        m->order = o;
        m->order_cap = n;
    }
    for (size_t i = 0; i < n; i++)
        m->order[i] = i;
    for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = (size_t)af_rng_below(&m->rng, (uint64_t)i + 1);
        size_t t = m->order[i];
        m->order[i] = m->order[j];
        m->order[j] = t;
    }
    return 0;
}

/* Copies the batch's rows and labels into contiguous scratch (sgemm needs a
 * contiguous matrix; the shuffled rows are scattered). */
static void gather_batch(af_mlp *m, const float *x, const int *y, const size_t *idx, int rows,
                         int *y_batch)
{
    size_t width = (size_t)m->width[0];
    for (int r = 0; r < rows; r++) {
        memcpy(m->act[0] + (size_t)r * width, x + idx[r] * width, width * sizeof(float));
        y_batch[r] = y[idx[r]];
    }
}

/* Mixup: each gathered row is blended with a random training row (partner
 * share uniform in [0, cfg.mixup]); the loss then wants the partner's label
 * by that share.  Blending windows of different tracks smooths the decision
 * boundaries between genres, which a few hundred tracks leave ragged. */
static void mix_batch(af_mlp *m, const float *x, const int *y, size_t n, int rows)
{
    m->mixing = m->cfg.mixup > 0.0f;
    if (!m->mixing)
        return;
    size_t width = (size_t)m->width[0];
    for (int r = 0; r < rows; r++) {
        size_t j = (size_t)af_rng_below(&m->rng, (uint64_t)n);
        float share = m->cfg.mixup * (float)af_rng_uniform(&m->rng);
        float *row = m->act[0] + (size_t)r * width;
        const float *other = x + j * width;
        for (size_t c = 0; c < width; c++)
            row[c] = (1.0f - share) * row[c] + share * other[c];
        m->mix_label[r] = y[j];
        m->mix_share[r] = share;
    }
}

/* Training-time input corruption of the gathered batch: inverted dropout,
 * then Gaussian noise.  Both regularise a network that sees few artists: a
 * window must be recognised from a partial, blurred view of its features.
 * Draws come from the model's stream only when enabled, so a model trained
 * without them is bit-identical to one from before they existed. */
static void corrupt_inputs(af_mlp *m, int rows)
{
    float p = m->cfg.input_dropout, sigma = m->cfg.input_noise;
    if (p <= 0.0f && sigma <= 0.0f)
        return;
    float *x = m->act[0], keep_scale = 1.0f / (1.0f - p);
    size_t n = (size_t)rows * (size_t)m->width[0];
    for (size_t i = 0; i < n; i++) {
        if (p > 0.0f)
            x[i] = af_rng_uniform(&m->rng) < (double)p ? 0.0f : x[i] * keep_scale;
        if (sigma > 0.0f)
            x[i] += sigma * (float)af_rng_normal(&m->rng);
    }
}

/* Key shift: each gathered row transposed by a random number of semitones, its
 * 12 pitch-class blocks rotated.  A genre is played in every key, but a few
 * hundred tracks cover each genre's keys unevenly, and a network fed their
 * chroma learns the keys of the training artists; transposed copies teach it
 * that the key does not matter (on Emotify: +2 points of track accuracy on
 * unseen artists, config/audiofiler.conf). */
static void shift_keys(af_mlp *m, int rows)
{
    int stride = m->cfg.key_stride;
    if (stride == 0)
        return;
    size_t width = (size_t)m->width[0], block = (size_t)stride * sizeof(float);
    float *rotated = m->key_scratch;
    for (int r = 0; r < rows; r++) {
        int semitones = (int)af_rng_below(&m->rng, 12);
        float *chroma = m->act[0] + (size_t)r * width + m->cfg.key_first;
        for (int pc = 0; pc < 12; pc++)
            memcpy(rotated + (size_t)((pc + semitones) % 12) * (size_t)stride,
                   chroma + (size_t)pc * (size_t)stride, block);
        memcpy(chroma, rotated, 12 * block);
    }
}

static int finish_stats(af_mlp_stats *stats, const batch_tally *t, size_t n, af_err *err)
{
    double loss = t->weight > 0.0 ? t->loss / t->weight : 0.0;
    if (!isfinite(loss))
        return af_err_set(err, "mlp: loss is not finite (training diverged?)");
    if (stats) {
        stats->loss = loss;
        stats->accuracy = (double)t->correct / (double)n;
        stats->n = n;
    }
    return 0;
}

int af_mlp_train_epoch(af_mlp *m, const float *x, const int *y, size_t n,
                       const float *class_weights, af_mlp_stats *stats, af_err *err)
{
    if (check_set(m, x, y, n, class_weights, err) < 0 || shuffled_order(m, n, err) < 0)
        return -1;
    int *y_batch = m->batch_labels;
    batch_tally total = {0};
    for (size_t start = 0; start < n; start += (size_t)m->ws_rows) {
        int rows = (int)(n - start < (size_t)m->ws_rows ? n - start : (size_t)m->ws_rows);
        gather_batch(m, x, y, m->order + start, rows, y_batch);
        mix_batch(m, x, y, n, rows);
        shift_keys(m, rows);
        corrupt_inputs(m, rows);
        fill_row_weights(m, y_batch, rows, class_weights);
        batch_tally t = {0};
        forward_batch(m, m->act[0], rows, true, y_batch, m->row_weight, &t);
        total.loss += t.loss;
        total.weight += t.weight;
        total.correct += t.correct;
        if (t.weight <= 0.0)
            continue; /* only zero-weight classes in this batch: nothing to learn */
        backward_batch(m, m->act[0], rows, y_batch, t.weight, true);
        adam_step(m);
    }
    m->mixing = false;
    return finish_stats(stats, &total, n, err);
}

int af_mlp_evaluate(af_mlp *m, const float *x, const int *y, size_t n,
                    const float *class_weights, af_mlp_stats *stats, af_err *err)
{
    if (check_set(m, x, y, n, class_weights, err) < 0)
        return -1;
    size_t width = (size_t)m->width[0];
    batch_tally total = {0};
    for (size_t start = 0; start < n; start += (size_t)m->ws_rows) {
        int rows = (int)(n - start < (size_t)m->ws_rows ? n - start : (size_t)m->ws_rows);
        fill_row_weights(m, y + start, rows, class_weights);
        forward_batch(m, x + start * width, rows, false, y + start, m->row_weight, &total);
    }
    return finish_stats(stats, &total, n, err);
}

int af_mlp_forward(af_mlp *m, const float *x, size_t n, float *probs, af_err *err)
{
    if (n > 0 && (!x || !probs))
        return af_err_set(err, "mlp: missing input or output matrix");
    size_t width = (size_t)m->width[0], classes = (size_t)af_mlp_n_classes(m);
    for (size_t start = 0; start < n; start += (size_t)m->ws_rows) {
        int rows = (int)(n - start < (size_t)m->ws_rows ? n - start : (size_t)m->ws_rows);
        forward_batch(m, x + start * width, rows, false, NULL, NULL, NULL);
        memcpy(probs + start * classes, m->act[m->n_layers],
               (size_t)rows * classes * sizeof(float));
    }
    return 0;
}

static double l2_penalty(const af_mlp *m)
{
    double sum = 0.0;
    for (int l = 0; l < m->n_layers; l++) {
        const float *w = m->params + m->w_off[l];
        size_t n = (size_t)m->width[l] * (size_t)m->width[l + 1];
        for (size_t i = 0; i < n; i++)
            sum += (double)w[i] * w[i];
    }
    return 0.5 * m->cfg.l2 * sum;
}

int af_mlp_compute_gradients(af_mlp *m, const float *x, const int *y, size_t n,
                             const float *class_weights, double *objective, af_err *err)
{
    if (check_set(m, x, y, n, class_weights, err) < 0)
        return -1;
    if (n > (size_t)m->ws_rows)
        return af_err_set(err, "mlp: %zu rows exceed the batch size %d", n, m->ws_rows);
    bool dropout = m->cfg.dropout > 0.0f;
    int rows = (int)n;
    fill_row_weights(m, y, rows, class_weights);
    batch_tally t = {0};
    forward_batch(m, x, rows, dropout, y, m->row_weight, &t);
    if (t.weight <= 0.0)
        return af_err_set(err, "mlp: the rows' class weights sum to 0");
    backward_batch(m, x, rows, y, t.weight, dropout);
    *objective = t.loss / t.weight + l2_penalty(m);
    return 0;
}

/* ---- early stopping ---- */

int af_mlp_early_stop_init(af_mlp_early_stop *es, const af_mlp *m, int patience, af_err *err)
{
    memset(es, 0, sizeof *es);
    if (patience < 1)
        return af_err_set(err, "early stop: patience must be >= 1 (got %d)", patience);
    es->best_params = malloc(m->n_params * sizeof(float));
    if (!es->best_params)
        return af_err_set(err, "early stop: out of memory");
    es->n_params = m->n_params;
    es->patience = patience;
    es->best_epoch = -1;
    es->best_loss = INFINITY;
    return 0;
}

int af_mlp_early_stop_update(af_mlp_early_stop *es, const af_mlp *m, int epoch, double val_loss,
                             bool *stop, af_err *err)
{
    if (m->n_params != es->n_params)
        return af_err_set(err, "early stop: model has %zu parameters, expected %zu", m->n_params,
                          es->n_params);
    bool first = es->best_epoch < 0;
    if (isfinite(val_loss) && (first || val_loss < es->best_loss - es->min_delta)) {
        es->best_loss = val_loss;
        es->best_epoch = epoch;
        es->bad_epochs = 0;
        memcpy(es->best_params, m->params, m->n_params * sizeof(float));
    } else {
        es->bad_epochs++;
    }
    *stop = es->bad_epochs >= es->patience;
    return 0;
}

int af_mlp_early_stop_restore(const af_mlp_early_stop *es, af_mlp *m, af_err *err)
{
    if (es->best_epoch < 0)
        return af_err_set(err, "early stop: no epoch with a finite validation loss recorded");
    if (m->n_params != es->n_params)
        return af_err_set(err, "early stop: model has %zu parameters, expected %zu", m->n_params,
                          es->n_params);
    memcpy(m->params, es->best_params, m->n_params * sizeof(float));
    return 0;
}

void af_mlp_early_stop_free(af_mlp_early_stop *es)
{
    free(es->best_params);
    es->best_params = NULL;
    es->n_params = 0;
}

/* ---- serialisation ---- */

static size_t serialised_size(const af_mlp *m, const af_scaler *sc)
{
    return sizeof MAGIC + 3 * 4 + 4 * (size_t)(m->n_layers + 1) + af_scaler_serialised_size(sc) +
           4 * m->n_params + 4;
}

int af_mlp_serialise(const af_mlp *m, const af_scaler *scaler, uint8_t **buf, size_t *len,
                     af_err *err)
{
    af_scaler none = {0};
    const af_scaler *sc = scaler ? scaler : &none;
    if (sc->dim != 0 && sc->dim != m->width[0])
        return af_err_set(err, "mlp: scaler has %d features, model %d inputs", sc->dim,
                          m->width[0]);
    size_t size = serialised_size(m, sc);
    if (size > UINT32_MAX)
        return af_err_set(err, "mlp: model too large to serialise (%zu bytes)", size);
    uint8_t *out = malloc(size);
    if (!out)
        return af_err_set(err, "mlp: out of memory for a %zu-byte model", size);
    af_writer w = {out};
    af_put_bytes(&w, MAGIC, sizeof MAGIC);
    af_put_u32(&w, AF_MLP_FORMAT_VERSION);
    af_put_u32(&w, (uint32_t)size);
    af_put_u32(&w, (uint32_t)m->n_layers);
    for (int l = 0; l <= m->n_layers; l++)
        af_put_u32(&w, (uint32_t)m->width[l]);
    af_scaler_write(sc, &w);
    af_put_f32s(&w, m->params, m->n_params);
    af_put_u32(&w, af_crc32(out, size - 4));
    *buf = out;
    *len = size;
    return 0;
}

/* Checks everything that can be checked before trusting any size field:
 * magic, version, that the announced length is the received one, and the
 * checksum over the whole buffer. */
static int check_envelope(const uint8_t *buf, size_t len, af_err *err)
{
    size_t header = sizeof MAGIC + 8;
    if (!buf || len < header + 4)
        return af_err_set(err, "model buffer truncated: %zu bytes is shorter than any model", len);
    if (memcmp(buf, MAGIC, sizeof MAGIC) != 0)
        return af_err_set(err, "not a model buffer (bad magic)");
    af_reader r;
    af_reader_init(&r, buf + sizeof MAGIC, 8);
    uint32_t version = af_get_u32(&r);
    uint32_t announced = af_get_u32(&r);
    if (version != AF_MLP_FORMAT_VERSION)
        return af_err_set(err, "model buffer has format version %u, this program reads %u", version,
                          AF_MLP_FORMAT_VERSION);
    if (len < announced)
        return af_err_set(err, "model buffer truncated: %zu of %u bytes", len, announced);
    if (len > announced)
        return af_err_set(err, "model buffer has %zu bytes, its header says %u", len, announced);
    af_reader_init(&r, buf + len - 4, 4);
    uint32_t stored = af_get_u32(&r);
    if (af_crc32(buf, len - 4) != stored)
        return af_err_set(err, "model buffer corrupt: checksum mismatch");
    return 0;
}

static int read_shape(af_reader *r, af_mlp_config *cfg, af_err *err)
{
    uint32_t n_layers = af_get_u32(r);
    if (n_layers < 1 || n_layers > MAX_LAYERS)
        return af_err_set(err, "model buffer: %u layers, expected 1..%d", n_layers, MAX_LAYERS);
    uint32_t width[MAX_LAYERS + 1];
    for (uint32_t l = 0; l <= n_layers; l++) {
        width[l] = af_get_u32(r);
        if (width[l] < 1 || width[l] > AF_MLP_MAX_WIDTH)
            return af_err_set(err, "model buffer: layer width %u out of range", width[l]);
    }
    if (r->overrun)
        return af_err_set(err, "model buffer truncated in the layer sizes");
    af_mlp_config_default(cfg, (int)width[0], (int)width[n_layers]);
    cfg->n_hidden = (int)n_layers - 1;
    for (uint32_t l = 1; l < n_layers; l++)
        cfg->hidden[l - 1] = (int)width[l];
    return 0;
}

static int read_scaler(af_scaler *sc, af_reader *r, int n_inputs, af_err *err)
{
    if (af_scaler_read(sc, r, n_inputs, err) < 0)
        return af_err_prefix(err, "model buffer");
    if (sc->dim != 0 && sc->dim != n_inputs)
        return af_err_set(err, "model buffer: scaler has %d features, model %d inputs", sc->dim,
                          n_inputs);
    return 0;
}

static int read_params(af_mlp *m, af_reader *r, af_err *err)
{
    if (af_reader_left(r) != 4 * m->n_params + 4) /* + 4: the checksum */
        return af_err_set(err, "model buffer: %zu bytes after the scaler, expected %zu",
                          af_reader_left(r), 4 * m->n_params + 4);
    af_get_f32s(r, m->params, m->n_params);
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params[i]))
            return af_err_set(err, "model buffer: parameter %zu is not finite", i);
    return 0;
}

int af_mlp_deserialise(const uint8_t *buf, size_t len, af_mlp **out, af_scaler *scaler,
                       af_err *err)
{
    *out = NULL;
    if (check_envelope(buf, len, err) < 0)
        return -1;
    af_reader r;
    af_reader_init(&r, buf + sizeof MAGIC + 8, len - sizeof MAGIC - 8);
    af_mlp_config cfg;
    af_mlp *m = NULL;
    af_scaler sc = {0};
    if (read_shape(&r, &cfg, err) < 0 || mlp_alloc(&m, &cfg, err) < 0 ||
        read_scaler(&sc, &r, cfg.n_inputs, err) < 0 || read_params(m, &r, err) < 0) {
        af_scaler_free(&sc);
        af_mlp_free(m);
        return -1;
    }
    if (scaler)
        *scaler = sc;
    else
        af_scaler_free(&sc);
    *out = m;
    return 0;
}

/* ---- embeddings (af-similar, af-cluster) ---- */

int af_mlp_embedding_dim(const af_mlp *m) { return m->width[m->n_layers - 1]; }

/* The forward pass as af_mlp_forward, keeping the activations of the last hidden
 * layer (after ReLU) instead of the probabilities; without hidden layers, the inputs. */
int af_mlp_embed(af_mlp *m, const float *x, size_t n, float *emb, af_err *err)
{
    if (n > 0 && (!x || !emb))
        return af_err_set(err, "mlp: missing input or output matrix");
    size_t width = (size_t)m->width[0], dim = (size_t)af_mlp_embedding_dim(m);
    for (size_t start = 0; start < n; start += (size_t)m->ws_rows) {
        int rows = (int)(n - start < (size_t)m->ws_rows ? n - start : (size_t)m->ws_rows);
        const float *in = x + start * width;
        forward_batch(m, in, rows, false, NULL, NULL, NULL);
        const float *hidden = m->n_layers > 1 ? m->act[m->n_layers - 1] : in;
        memcpy(emb + start * dim, hidden, (size_t)rows * dim * sizeof(float));
    }
    return 0;
}
