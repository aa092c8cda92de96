/* baselines.c — logistic regression and RBF SVM to compare the network with; see baselines.h. */
#include "baselines.h"

#include <cblas.h>
#include <libsvm/svm.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *af_classifier_name(int classifier)
{
    switch (classifier) {
    case AF_CLF_NETWORK: return "network";
    case AF_CLF_LOGREG: return "logreg";
    case AF_CLF_SVM: return "svm";
    default: return "?";
    }
}

/* ---- logistic regression ---- */

void af_logreg_options_default(af_logreg_options *o)
{
    o->c = 1.0;
    o->iterations = 300;
}

void af_logreg_free(af_logreg *m)
{
    free(m->w);
    free(m->b);
    memset(m, 0, sizeof *m);
}

/* z = x W + b, then softmax per row, in place. */
static void logreg_probs(const af_logreg *m, const float *x, size_t n, float *z)
{
    int k = m->n_classes;
    for (size_t i = 0; i < n; i++)
        memcpy(z + i * (size_t)k, m->b, (size_t)k * sizeof *z);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, k, m->dim, 1.0f, x, m->dim,
                m->w, k, 1.0f, z, k);
    for (size_t i = 0; i < n; i++) {
        float *r = z + i * (size_t)k, top = r[0], sum = 0.0f;
        for (int c = 1; c < k; c++)
            top = r[c] > top ? r[c] : top;
        for (int c = 0; c < k; c++)
            sum += r[c] = expf(r[c] - top);
        for (int c = 0; c < k; c++)
            r[c] /= sum;
    }
}

int af_logreg_fit(af_logreg *m, const float *x, const int *y, size_t n, int dim, int n_classes,
                  const af_logreg_options *o, af_err *err)
{
    memset(m, 0, sizeof *m);
    if (n == 0 || dim < 1 || n_classes < 2 || !(o->c > 0.0) || o->iterations < 1)
        return af_err_set(err, "logistic regression: needs rows, features, two classes, C > 0");
    size_t np = (size_t)dim * (size_t)n_classes + (size_t)n_classes;
    m->dim = dim;
    m->n_classes = n_classes;
    m->w = calloc((size_t)dim * (size_t)n_classes, sizeof *m->w);
    m->b = calloc((size_t)n_classes, sizeof *m->b);
    float *z = malloc(n * (size_t)n_classes * sizeof *z);
    float *g = malloc(np * sizeof *g), *am = calloc(np, sizeof *am), *av = calloc(np, sizeof *av);
    if (!m->w || !m->b || !z || !g || !am || !av) {
        free(z), free(g), free(am), free(av);
        af_logreg_free(m);
        return af_err_set(err, "out of memory");
    }
    const float lambda = (float)(1.0 / (o->c * (double)n)), lr = 0.01f;
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    size_t nw = (size_t)dim * (size_t)n_classes;
    float p1 = 1.0f, p2 = 1.0f;
    for (int it = 0; it < o->iterations; it++) {
        logreg_probs(m, x, n, z);
        /* d(mean CE)/dz = (p - onehot) / n */
        for (size_t i = 0; i < n; i++) {
            z[i * (size_t)n_classes + (size_t)y[i]] -= 1.0f;
            for (int c = 0; c < n_classes; c++)
                z[i * (size_t)n_classes + (size_t)c] /= (float)n;
        }
        memcpy(g, m->w, nw * sizeof *g);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dim, n_classes, (int)n, 1.0f, x, dim,
                    z, n_classes, lambda, g, n_classes);
        for (int c = 0; c < n_classes; c++) {
            float s = 0.0f;
            for (size_t i = 0; i < n; i++)
                s += z[i * (size_t)n_classes + (size_t)c];
            g[nw + (size_t)c] = s;
        }
        p1 *= b1;
        p2 *= b2;
        for (size_t j = 0; j < np; j++) {
            am[j] = b1 * am[j] + (1 - b1) * g[j];
            av[j] = b2 * av[j] + (1 - b2) * g[j] * g[j];
            float step = lr * (am[j] / (1 - p1)) / (sqrtf(av[j] / (1 - p2)) + eps);
            if (j < nw)
                m->w[j] -= step;
            else
                m->b[j - nw] -= step;
        }
    }
    free(z), free(g), free(am), free(av);
    return 0;
}

int af_logreg_predict(const af_logreg *m, const float *x, size_t n, float *probs, af_err *err)
{
    if (n)
        logreg_probs(m, x, n, probs);
    return 0;
}

/* ---- RBF SVM (libsvm) ---- */

void af_svm_options_default(af_svm_options *o)
{
    o->c = 10.0;
    o->gamma = 0.0;
}

struct af_svm {
    struct svm_model *model;
    struct svm_node *nodes; /* the training rows: libsvm's support vectors point into them */
    int dim, n_classes, nr_class;
    int *label;             /* libsvm's class order -> our class index */
};

static void svm_quiet(const char *s) { (void)s; }

/* Row i of x as libsvm nodes (dense: every index, then the -1 terminator). */
static void fill_nodes(struct svm_node *nodes, const float *row, int dim)
{
    for (int j = 0; j < dim; j++) {
        nodes[j].index = j + 1;
        nodes[j].value = row[j];
    }
    nodes[dim].index = -1;
}

static double scale_gamma(const float *x, size_t n, int dim)
{
    double sum = 0.0, sq = 0.0, count = (double)n * (double)dim;
    for (size_t i = 0; i < n * (size_t)dim; i++) {
        sum += x[i];
        sq += (double)x[i] * x[i];
    }
    double var = sq / count - (sum / count) * (sum / count);
    return var > 0.0 ? 1.0 / ((double)dim * var) : 1.0;
}

int af_svm_fit(af_svm **out, const float *x, const int *y, size_t n, int dim, int n_classes,
               const af_svm_options *o, af_err *err)
{
    *out = NULL;
    if (n == 0 || dim < 1 || n_classes < 2 || !(o->c > 0.0))
        return af_err_set(err, "SVM: needs rows, features, two classes, C > 0");
    if (n > (size_t)1 << 30)
        return af_err_set(err, "SVM: too many rows (%zu) for libsvm", n);
    af_svm *m = calloc(1, sizeof *m);
    struct svm_problem prob = {.l = (int)n};
    prob.y = malloc(n * sizeof *prob.y);
    prob.x = malloc(n * sizeof *prob.x);
    if (m)
        m->nodes = malloc(n * ((size_t)dim + 1) * sizeof *m->nodes);
    if (!m || !prob.y || !prob.x || !m->nodes) {
        free(prob.y), free(prob.x);
        af_svm_free(m);
        return af_err_set(err, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        prob.x[i] = m->nodes + i * ((size_t)dim + 1);
        fill_nodes(prob.x[i], x + i * (size_t)dim, dim);
        prob.y[i] = y[i];
    }
    struct svm_parameter param = {
        .svm_type = C_SVC, .kernel_type = RBF, .degree = 3,
        .gamma = o->gamma > 0.0 ? o->gamma : scale_gamma(x, n, dim),
        .cache_size = 200, .eps = 1e-3, .C = o->c, .shrinking = 1, .probability = 0};
    const char *bad = svm_check_parameter(&prob, &param);
    int rc = 0;
    if (bad) {
        rc = af_err_set(err, "SVM: %s", bad);
    } else {
        svm_set_print_string_function(svm_quiet);
        m->model = svm_train(&prob, &param);
        m->dim = dim;
        m->n_classes = n_classes;
        m->nr_class = m->model ? svm_get_nr_class(m->model) : 0;
        m->label = malloc(((size_t)m->nr_class + 1) * sizeof *m->label);
        if (!m->model || !m->label)
            rc = af_err_set(err, "SVM: training failed (out of memory?)");
        else
            svm_get_labels(m->model, m->label);
    }
    free(prob.y);
    free(prob.x);
    if (rc != 0) {
        af_svm_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int af_svm_predict(const af_svm *m, const float *x, size_t n, float *scores, af_err *err)
{
    int k = m->nr_class, pairs = k * (k - 1) / 2;
    struct svm_node *nodes = malloc(((size_t)m->dim + 1) * sizeof *nodes);
    double *dec = malloc(((size_t)pairs + 1) * sizeof *dec);
    if (!nodes || !dec) {
        free(nodes), free(dec);
        return af_err_set(err, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        float *s = scores + i * (size_t)m->n_classes;
        memset(s, 0, (size_t)m->n_classes * sizeof *s);
        fill_nodes(nodes, x + i * (size_t)m->dim, m->dim);
        if (k < 2) { /* one class in the training rows: it gets every vote */
            s[m->label[0]] = 1.0f;
            continue;
        }
        svm_predict_values(m->model, nodes, dec);
        int p = 0;
        for (int a = 0; a < k; a++)
            for (int b = a + 1; b < k; b++, p++)
                s[dec[p] > 0 ? m->label[a] : m->label[b]] += 1.0f / (float)pairs;
    }
    free(nodes);
    free(dec);
    return 0;
}

void af_svm_free(af_svm *m)
{
    if (!m)
        return;
    if (m->model)
        svm_free_and_destroy_model(&m->model);
    free(m->nodes);
    free(m->label);
    free(m);
}
