/* embeddings.c — track embeddings under a model; see embeddings.h. */
#include "embeddings.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "run.h"
#include "strbuf.h"

#define FLOAT4OID 700
#define COPY_FLUSH_BYTES (1 << 20)

int af_embed_windows(af_mlp *m, const af_scaler *sc, const float *x, size_t rows, float *out,
                     af_err *err)
{
    int width = af_mlp_n_inputs(m), dim = af_mlp_embedding_dim(m);
    if (rows == 0)
        return af_err_set(err, "no windows to embed");
    float *xs = malloc(rows * (size_t)width * sizeof *xs);
    float *emb = malloc(rows * (size_t)dim * sizeof *emb);
    int rc = -1;
    if (!xs || !emb) {
        af_err_set(err, "out of memory");
        goto out;
    }
    memcpy(xs, x, rows * (size_t)width * sizeof *xs);
    if (sc && sc->dim == width)
        af_scaler_apply(sc, xs, rows);
    if (af_mlp_embed(m, xs, rows, emb, err) != 0)
        goto out;
    for (int j = 0; j < dim; j++) {
        double sum = 0;
        for (size_t r = 0; r < rows; r++)
            sum += emb[r * (size_t)dim + (size_t)j];
        out[j] = (float)(sum / (double)rows);
    }
    rc = 0;
out:
    free(xs);
    free(emb);
    return rc;
}

char *af_cube_literal(const float *v, int dim)
{
    af_sb b = {0};
    af_sb_puts(&b, "(");
    for (int j = 0; j < dim; j++)
        af_sb_printf(&b, "%s%.9g", j ? ", " : "", (double)v[j]);
    af_sb_puts(&b, ")");
    if (!af_sb_ok(&b)) {
        af_sb_free(&b);
        return NULL;
    }
    return b.s;
}

static uint32_t be32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

/* A binary float4[] of exactly dim values without NULLs into out. */
static int parse_vector(const char *p, int len, int dim, float *out, const char *track,
                        af_err *err)
{
    if (len < 20 || (int)be32(p) != 1 || be32(p + 8) != FLOAT4OID || (int)be32(p + 12) != dim ||
        len != 20 + 8 * dim)
        return af_err_set(err, "track %s: a window's feature vector is not %d float4 values "
                               "without NULLs (mismatched dimensions?)", track, dim);
    const char *e = p + 20;
    for (int i = 0; i < dim; i++, e += 8) {
        uint32_t bits = be32(e + 4);
        memcpy(&out[i], &bits, 4);
    }
    return 0;
}

struct embed_state {
    PGconn *db;
    af_mlp *m;
    const af_scaler *sc;
    const char *model;
    int width, dim;
    float *x;           /* the current track's windows */
    size_t rows, cap;
    char track[24];     /* the current track ("" before the first) */
    float *emb;
    af_sb copy;         /* COPY text not sent yet */
    long long n_tracks;
};

static int flush_copy(struct embed_state *s, af_err *err)
{
    if (s->copy.len == 0)
        return 0;
    if (!af_sb_ok(&s->copy))
        return af_err_set(err, "out of memory");
    if (af_db_copy_begin(s->db, "COPY track_embeddings (model_id, track_id, n_windows, embedding)"
                                " FROM STDIN", err) != 0 ||
        af_db_copy_put(s->db, s->copy.s, s->copy.len, err) != 0 || af_db_copy_end(s->db, err) != 0)
        return -1;
    s->copy.len = 0;
    s->copy.s[0] = '\0';
    return 0;
}

/* The current track's windows -> one COPY line. */
static int finish_track(struct embed_state *s, af_err *err)
{
    if (s->rows == 0)
        return 0;
    if (af_embed_windows(s->m, s->sc, s->x, s->rows, s->emb, err) != 0)
        return af_err_prefix(err, "track %s", s->track);
    char *cube = af_cube_literal(s->emb, s->dim);
    if (!cube)
        return af_err_set(err, "out of memory");
    af_sb_printf(&s->copy, "%s\t%s\t%zu\t%s\n", s->model, s->track, s->rows, cube);
    free(cube);
    s->rows = 0;
    s->n_tracks++;
    return s->copy.len >= COPY_FLUSH_BYTES ? flush_copy(s, err) : 0;
}

static int add_window(struct embed_state *s, const char *track, const char *vec, int len,
                      af_err *err)
{
    if (strcmp(track, s->track) != 0) {
        if (finish_track(s, err) != 0)
            return -1;
        snprintf(s->track, sizeof s->track, "%s", track);
    }
    if (s->rows == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        float *x = realloc(s->x, cap * (size_t)s->width * sizeof *x);
        if (!x)
            return af_err_set(err, "out of memory");
        s->x = x;
        s->cap = cap;
    }
    return parse_vector(vec, len, s->width, s->x + s->rows * (size_t)s->width, track, err) == 0
               ? (s->rows++, 0)
               : -1;
}

static int stream_windows(struct embed_state *s, int feature_set_id, int chunk, af_err *err)
{
    char fs[16], fetch[64];
    snprintf(fs, sizeof fs, "%d", feature_set_id);
    snprintf(fetch, sizeof fetch, "FETCH FORWARD %d FROM af_embed_windows", chunk > 0 ? chunk : 4096);
    const char *p[] = {fs};
    /* Text track id, binary vector: column formats are all-or-nothing, so the id is
     * sent as text inside a binary result. */
    if (af_db_command(s->db,
                      "DECLARE af_embed_windows NO SCROLL BINARY CURSOR FOR"
                      " SELECT track_id::text, feature_values FROM window_features"
                      " WHERE feature_set_id = $1 ORDER BY track_id, window_index",
                      1, p, err) != 0)
        return -1;
    for (;;) {
        PGresult *res = af_db_query_binary(s->db, fetch, 0, NULL, NULL, NULL, 1, err);
        if (!res)
            return -1;
        int n = PQntuples(res);
        for (int i = 0; i < n; i++) {
            char track[24];
            snprintf(track, sizeof track, "%.*s", PQgetlength(res, i, 0), PQgetvalue(res, i, 0));
            if (add_window(s, track, PQgetvalue(res, i, 1), PQgetlength(res, i, 1), err) != 0) {
                PQclear(res);
                return -1;
            }
        }
        PQclear(res);
        if (n == 0)
            break;
    }
    if (af_db_command(s->db, "CLOSE af_embed_windows", 0, NULL, err) != 0)
        return -1;
    return finish_track(s, err) == 0 ? flush_copy(s, err) : -1;
}

int af_embeddings_store(PGconn *db, long long model_id, int feature_set_id, af_mlp *m,
                        const af_scaler *sc, int chunk, long long *n_tracks, af_err *err)
{
    char model[24];
    snprintf(model, sizeof model, "%lld", model_id);
    struct embed_state s = {.db = db, .m = m, .sc = sc, .model = model,
                            .width = af_mlp_n_inputs(m), .dim = af_mlp_embedding_dim(m)};
    *n_tracks = -1;
    if (s.dim > AF_EMBEDDING_MAX_DIM)
        return 0;
    s.emb = malloc((size_t)s.dim * sizeof *s.emb);
    if (!s.emb)
        return af_err_set(err, "out of memory");
    const char *p[] = {model};
    int rc = af_db_begin(db, err);
    if (rc == 0)
        rc = af_db_command(db, "DELETE FROM track_embeddings WHERE model_id = $1", 1, p, err);
    if (rc == 0)
        rc = stream_windows(&s, feature_set_id, chunk, err);
    if (rc == 0)
        rc = af_db_commit(db, err);
    else
        af_db_rollback(db);
    if (rc == 0)
        *n_tracks = s.n_tracks;
    free(s.x);
    free(s.emb);
    af_sb_free(&s.copy);
    return rc;
}

int af_ensemble_embedding_dim(const af_ensemble *e)
{
    return af_mlp_embedding_dim(e->members[0]);
}

int af_embed_ensemble_windows(const af_ensemble *e, const float *x, size_t rows, float *out,
                              af_err *err)
{
    return af_embed_windows(e->members[0], &e->scaler, x, rows, out, err);
}

int af_embeddings_after_training(PGconn *db, struct af_run *run, long long model_id,
                                 int feature_set_id, const af_ensemble *net, af_err *err)
{
    long long n = 0;
    af_mlp *m = net->members[0]; /* the ensemble's embedding: its first network's */
    if (af_embeddings_store(db, model_id, feature_set_id, m, &net->scaler, 4096, &n, err) != 0)
        return af_err_prefix(err, "storing the embeddings of model %lld", model_id);
    if (n < 0) {
        log_warn("model %lld: its last hidden layer has %d units, more than the %d a cube "
                 "holds: no embeddings stored (af-similar and af-cluster --embeddings cannot "
                 "use this model)", model_id, af_mlp_embedding_dim(m), AF_EMBEDDING_MAX_DIM);
        return 0;
    }
    log_info("model %lld: stored the %d-dimensional embeddings of %lld track(s)", model_id,
             af_mlp_embedding_dim(m), n);
    af_run_count(run, "embeddings", n);
    return 0;
}
