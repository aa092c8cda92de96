/* ensemble.c — averaged networks and their stored form; see ensemble.h. */
#include "ensemble.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"

static const uint8_t MAGIC[8] = {'A', 'F', 'E', 'N', 'S', '\r', '\n', 0x1a};

int af_ensemble_n_inputs(const af_ensemble *e) { return af_mlp_n_inputs(e->members[0]); }
int af_ensemble_n_classes(const af_ensemble *e) { return af_mlp_n_classes(e->members[0]); }

int af_ensemble_forward(af_ensemble *e, const float *x, size_t n, float *probs, af_err *err)
{
    if (e->n < 1)
        return af_err_set(err, "ensemble: no member");
    size_t cells = n * (size_t)af_ensemble_n_classes(e);
    if (af_mlp_forward(e->members[0], x, n, probs, err) != 0 || e->n == 1)
        return e->n == 1 ? 0 : -1;
    float *tmp = malloc((cells ? cells : 1) * sizeof *tmp);
    if (!tmp)
        return af_err_set(err, "out of memory");
    for (int i = 1; i < e->n; i++) {
        if (af_mlp_forward(e->members[i], x, n, tmp, err) != 0) {
            free(tmp);
            return -1;
        }
        for (size_t c = 0; c < cells; c++)
            probs[c] += tmp[c];
    }
    for (size_t c = 0; c < cells; c++)
        probs[c] /= (float)e->n;
    free(tmp);
    return 0;
}

int af_ensemble_serialise(const af_ensemble *e, uint8_t **buf, size_t *len, af_err *err)
{
    if (e->n < 1 || e->n > AF_ENSEMBLE_MAX)
        return af_err_set(err, "ensemble: %d members (1..%d)", e->n, AF_ENSEMBLE_MAX);
    if (e->n == 1)
        return af_mlp_serialise(e->members[0], &e->scaler, buf, len, err);
    uint8_t *part[AF_ENSEMBLE_MAX] = {0};
    size_t part_len[AF_ENSEMBLE_MAX] = {0}, size = sizeof MAGIC + 3 * 4 + 4;
    int rc = 0;
    for (int i = 0; i < e->n && rc == 0; i++) {
        rc = af_mlp_serialise(e->members[i], i == 0 ? &e->scaler : NULL, &part[i], &part_len[i],
                              err);
        size += 4 + part_len[i];
    }
    uint8_t *out = rc == 0 && size <= UINT32_MAX ? malloc(size) : NULL;
    if (rc == 0 && !out)
        rc = af_err_set(err, "ensemble: cannot hold a %zu-byte model", size);
    if (rc == 0) {
        af_writer w = {out};
        af_put_bytes(&w, MAGIC, sizeof MAGIC);
        af_put_u32(&w, AF_ENSEMBLE_FORMAT_VERSION);
        af_put_u32(&w, (uint32_t)size);
        af_put_u32(&w, (uint32_t)e->n);
        for (int i = 0; i < e->n; i++) {
            af_put_u32(&w, (uint32_t)part_len[i]);
            af_put_bytes(&w, part[i], part_len[i]);
        }
        af_put_u32(&w, af_crc32(out, size - 4));
        *buf = out;
        *len = size;
    }
    for (int i = 0; i < e->n; i++)
        free(part[i]);
    return rc;
}

static int read_members(const uint8_t *buf, size_t len, af_ensemble *e, af_err *err)
{
    af_reader r;
    af_reader_init(&r, buf + sizeof MAGIC, len - sizeof MAGIC - 4);
    uint32_t version = af_get_u32(&r), announced = af_get_u32(&r), n = af_get_u32(&r);
    if (version != AF_ENSEMBLE_FORMAT_VERSION)
        return af_err_set(err, "ensemble buffer has format version %u, this program reads %u",
                          version, AF_ENSEMBLE_FORMAT_VERSION);
    if (announced != len)
        return af_err_set(err, "ensemble buffer has %zu bytes, its header says %u", len,
                          announced);
    if (af_crc32(buf, len - 4) != (uint32_t)(buf[len - 4] | buf[len - 3] << 8 |
                                             buf[len - 2] << 16 | (uint32_t)buf[len - 1] << 24))
        return af_err_set(err, "ensemble buffer corrupt: checksum mismatch");
    if (n < 1 || n > AF_ENSEMBLE_MAX)
        return af_err_set(err, "ensemble buffer announces %u members (1..%d)", n,
                          AF_ENSEMBLE_MAX);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t part = af_get_u32(&r);
        if (r.overrun || part > af_reader_left(&r))
            return af_err_set(err, "ensemble buffer truncated in member %u", i);
        af_scaler sc = {0};
        if (af_mlp_deserialise(r.p, part, &e->members[i], i == 0 ? &e->scaler : &sc, err) != 0)
            return af_err_prefix(err, "ensemble member %u", i);
        af_scaler_free(&sc);
        e->n = (int)i + 1;
        r.p += part;
        if (af_mlp_n_inputs(e->members[i]) != af_mlp_n_inputs(e->members[0]) ||
            af_mlp_n_classes(e->members[i]) != af_mlp_n_classes(e->members[0]))
            return af_err_set(err, "ensemble member %u has another shape than member 0", i);
    }
    if (af_reader_left(&r) != 0)
        return af_err_set(err, "ensemble buffer has %zu trailing bytes", af_reader_left(&r));
    return 0;
}

int af_ensemble_deserialise(const uint8_t *buf, size_t len, af_ensemble *e, af_err *err)
{
    memset(e, 0, sizeof *e);
    if (!buf || len < sizeof MAGIC + 4 * 4 || memcmp(buf, MAGIC, sizeof MAGIC) != 0) {
        if (af_mlp_deserialise(buf, len, &e->members[0], &e->scaler, err) != 0)
            return -1;
        e->n = 1;
        return 0;
    }
    if (read_members(buf, len, e, err) != 0) {
        af_ensemble_free(e);
        return -1;
    }
    return 0;
}

void af_ensemble_free(af_ensemble *e)
{
    for (int i = 0; i < e->n; i++)
        af_mlp_free(e->members[i]);
    af_scaler_free(&e->scaler);
    memset(e, 0, sizeof *e);
}
