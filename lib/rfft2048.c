/*
 * rfft2048.c — the fixed-size double FFT described in rfft2048.h.
 *
 * Layout: a 32 x 32 complex matrix as two arrays (real, imaginary), row-major,
 * element n = 32 * n1 + n2 at [n1][n2].  A "row" is 32 doubles = 4 vectors of
 * 8, so the column FFTs below run 32 transforms at once, one per lane, with no
 * shuffles.  Decimation in frequency with radices 4, 4, 2 leaves the rows in
 * digit-reversed order (row_of); the twiddle/transpose and the final copy read
 * through that permutation.  Per frame: window + pack, column FFTs, twiddle +
 * 8 x 8 block transposes, column FFTs, unpack to bins 0..1024, magnitude.
 */
#include "rfft2048.h"

#include <math.h>
#include <string.h>

#if defined(__SSE__)
#include <immintrin.h>
#endif

#pragma GCC diagnostic ignored "-Wpsabi" /* vectors stay inside this file */

typedef double v8d __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));

#define SIDE AF_RFFT_SIDE

static inline __attribute__((always_inline)) v8d load8(const double *p)
{
    v8d v;
    memcpy(&v, p, sizeof v);
    return v;
}
#define VPR (SIDE / 8) /* vectors per row */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FFT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FFT_CLONES
#endif

void af_rfft2048_init(struct af_rfft2048 *p)
{
    for (int j = 0; j < SIDE; j++) {
        p->stage_re[j] = cos(2.0 * M_PI * j / SIDE);
        p->stage_im[j] = -sin(2.0 * M_PI * j / SIDE);
    }
    for (int k1 = 0; k1 < SIDE; k1++)
        for (int n2 = 0; n2 < SIDE; n2++) {
            p->twiddle_re[k1 * SIDE + n2] = cos(2.0 * M_PI * k1 * n2 / 1024.0);
            p->twiddle_im[k1 * SIDE + n2] = -sin(2.0 * M_PI * k1 * n2 / 1024.0);
        }
    for (int k = 0; k < AF_RFFT_BINS; k++) {
        p->post_re[k] = cos(2.0 * M_PI * k / AF_RFFT_N);
        p->post_im[k] = -sin(2.0 * M_PI * k / AF_RFFT_N);
    }
}

/* Row holding output frequency k after column_fft: DIF radices 4, 4, 2 leave
 * frequency a + 4b + 16c in row 8a + 2b + c. */
static inline __attribute__((always_inline)) unsigned row_of(unsigned k)
{
    return 8 * (k % 4) + 2 * ((k / 4) % 4) + k / 16;
}

static inline __attribute__((always_inline)) void cmul(v8d *re, v8d *im, double wr, double wi)
{
    v8d r = *re, i = *im;
    *re = r * wr - i * wi;
    *im = r * wi + i * wr;
}

/* Radix-4 DIF butterflies on rows j, j+q, j+2q, j+3q (j < q) of every group of 4q rows;
 * output a is multiplied by e^{-2 pi i j a / 4q} = stage[j * a * tw_step]. */
static inline __attribute__((always_inline)) void radix4_pass(const struct af_rfft2048 *p, double *re, double *im,
                                                              int q, int tw_step)
{
    for (int g = 0; g < SIDE; g += 4 * q)
        for (int j = 0; j < q; j++) {
            double *r0 = re + (g + j) * SIDE, *i0 = im + (g + j) * SIDE;
            for (int v = 0; v < SIDE; v += 8) {
                v8d x0r = load8(r0 + v), x0i = load8(i0 + v);
                v8d x1r = load8(r0 + q * SIDE + v), x1i = load8(i0 + q * SIDE + v);
                v8d x2r = load8(r0 + 2 * q * SIDE + v), x2i = load8(i0 + 2 * q * SIDE + v);
                v8d x3r = load8(r0 + 3 * q * SIDE + v), x3i = load8(i0 + 3 * q * SIDE + v);
                v8d t0r = x0r + x2r, t0i = x0i + x2i, t1r = x0r - x2r, t1i = x0i - x2i;
                v8d t2r = x1r + x3r, t2i = x1i + x3i;
                v8d t3r = x1i - x3i, t3i = x3r - x1r; /* (x1 - x3) * -i */
                v8d y0r = t0r + t2r, y0i = t0i + t2i, y1r = t1r + t3r, y1i = t1i + t3i;
                v8d y2r = t0r - t2r, y2i = t0i - t2i, y3r = t1r - t3r, y3i = t1i - t3i;
                if (j) {
                    cmul(&y1r, &y1i, p->stage_re[j * tw_step], p->stage_im[j * tw_step]);
                    cmul(&y2r, &y2i, p->stage_re[2 * j * tw_step], p->stage_im[2 * j * tw_step]);
                    cmul(&y3r, &y3i, p->stage_re[3 * j * tw_step], p->stage_im[3 * j * tw_step]);
                }
                memcpy(r0 + v, &y0r, sizeof y0r);
                memcpy(i0 + v, &y0i, sizeof y0i);
                memcpy(r0 + q * SIDE + v, &y1r, sizeof y1r);
                memcpy(i0 + q * SIDE + v, &y1i, sizeof y1i);
                memcpy(r0 + 2 * q * SIDE + v, &y2r, sizeof y2r);
                memcpy(i0 + 2 * q * SIDE + v, &y2i, sizeof y2i);
                memcpy(r0 + 3 * q * SIDE + v, &y3r, sizeof y3r);
                memcpy(i0 + 3 * q * SIDE + v, &y3i, sizeof y3i);
            }
        }
}

/* 32-point DIF FFT down the columns of (re, im), all 32 columns at once. */
static inline __attribute__((always_inline)) void column_fft(const struct af_rfft2048 *p, double *re, double *im)
{
    radix4_pass(p, re, im, 8, 1); /* 32 -> 4 x 8 */
    radix4_pass(p, re, im, 2, 4); /* 8 -> 4 x 2 */
    for (int g = 0; g < SIDE; g += 2) /* radix 2, no twiddles */
        for (int v = 0; v < SIDE; v += 8) {
            double *r0 = re + g * SIDE + v, *i0 = im + g * SIDE + v;
            v8d ar = load8(r0), ai = load8(i0), br = load8(r0 + SIDE), bi = load8(i0 + SIDE);
            v8d sr = ar + br, si = ai + bi, dr = ar - br, di = ai - bi;
            memcpy(r0, &sr, sizeof sr);
            memcpy(i0, &si, sizeof si);
            memcpy(r0 + SIDE, &dr, sizeof dr);
            memcpy(i0 + SIDE, &di, sizeof di);
        }
}

typedef long long v8l __attribute__((vector_size(64)));

/* Transposes the 8 x 8 block r[0..7] in place (row i, lane j) -> (row j, lane i). */
static inline __attribute__((always_inline)) void transpose8(v8d r[8])
{
    v8d t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shuffle(r[i], r[i + 1], (v8l){0, 8, 2, 10, 4, 12, 6, 14});
        t[i + 1] = __builtin_shuffle(r[i], r[i + 1], (v8l){1, 9, 3, 11, 5, 13, 7, 15});
    }
    for (int i = 0; i < 8; i += 4)
        for (int j = 0; j < 2; j++) {
            r[i + j] = __builtin_shuffle(t[i + j], t[i + j + 2], (v8l){0, 1, 8, 9, 4, 5, 12, 13});
            r[i + j + 2] = __builtin_shuffle(t[i + j], t[i + j + 2], (v8l){2, 3, 10, 11, 6, 7, 14, 15});
        }
    for (int j = 0; j < 4; j++) {
        t[j] = __builtin_shuffle(r[j], r[j + 4], (v8l){0, 1, 2, 3, 8, 9, 10, 11});
        t[j + 4] = __builtin_shuffle(r[j], r[j + 4], (v8l){4, 5, 6, 7, 12, 13, 14, 15});
    }
    for (int i = 0; i < 8; i++)
        r[i] = t[i];
}

/* out[n2][k1] = in[row_of(k1)][n2] * e^{-2 pi i k1 n2 / 1024}, in 8 x 8 blocks. */
static inline __attribute__((always_inline)) void twiddle_transpose(const struct af_rfft2048 *p,
                                                                    const double *in_re, const double *in_im,
                                                                    double *out_re, double *out_im)
{
    for (int kb = 0; kb < SIDE; kb += 8)
        for (int nb = 0; nb < SIDE; nb += 8) {
            v8d br[8], bi[8];
            for (int i = 0; i < 8; i++) {
                int k1 = kb + i;
                size_t row = row_of((unsigned)k1) * SIDE + nb;
                v8d xr = load8(in_re + row), xi = load8(in_im + row);
                v8d tr = load8(p->twiddle_re + k1 * SIDE + nb), ti = load8(p->twiddle_im + k1 * SIDE + nb);
                br[i] = xr * tr - xi * ti;
                bi[i] = xr * ti + xi * tr;
            }
            transpose8(br);
            transpose8(bi);
            for (int i = 0; i < 8; i++) {
                memcpy(out_re + (nb + i) * SIDE + kb, &br[i], sizeof br[i]);
                memcpy(out_im + (nb + i) * SIDE + kb, &bi[i], sizeof bi[i]);
            }
        }
}

/* z[n] = x[2n] + i x[2n+1] */
static inline __attribute__((always_inline)) void pack_pairs(const double *x, double *re, double *im)
{
    for (int n = 0; n < 1024; n += 8) {
        v8d a = load8(x + 2 * n), b = load8(x + 2 * n + 8);
        v8d e = __builtin_shuffle(a, b, (v8l){0, 2, 4, 6, 8, 10, 12, 14});
        v8d o = __builtin_shuffle(a, b, (v8l){1, 3, 5, 7, 9, 11, 13, 15});
        memcpy(re + n, &e, sizeof e);
        memcpy(im + n, &o, sizeof o);
    }
}

typedef float v16f __attribute__((vector_size(64)));
typedef int v16i __attribute__((vector_size(64)));

/* z[n] = y[2n] w[2n] + i y[2n+1] w[2n+1]: float samples times the double window
 * (given as its even and odd halves), packed in one pass. */
static inline __attribute__((always_inline)) void pack_windowed(const float *y, const double *w_even,
                                                                const double *w_odd, double *re, double *im)
{
    for (int n = 0; n < 1024; n += 8) {
        v16f x;
        memcpy(&x, y + 2 * n, sizeof x);
        v16f split = __builtin_shuffle(x, (v16i){0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15});
        v8f even, odd;
        memcpy(&even, &split, sizeof even);
        memcpy(&odd, (const float *)&split + 8, sizeof odd);
        v8d ev = __builtin_convertvector(even, v8d), od = __builtin_convertvector(odd, v8d);
        ev *= load8(w_even + n);
        od *= load8(w_odd + n);
        memcpy(re + n, &ev, sizeof ev);
        memcpy(im + n, &od, sizeof od);
    }
}

/* The complex 1024-point FFT of the packed samples (already in work[0..2048)),
 * in natural order in z (z[1024] = z[0]). */
static inline __attribute__((always_inline)) void complex_fft_packed(const struct af_rfft2048 *p, double *work,
                                                                     double **z_re, double **z_im)
{
    double *a_re = work, *a_im = work + 1024, *b_re = work + 2048, *b_im = work + 3072;
    double *zr = work + 4096, *zi = work + 4096 + 1032;
    column_fft(p, a_re, a_im);                     /* over n1: rows now row_of(k1) */
    twiddle_transpose(p, a_re, a_im, b_re, b_im);  /* [n2][k1] */
    column_fft(p, b_re, b_im);                     /* over n2: rows row_of(k2), columns k1 */
    for (int k2 = 0; k2 < SIDE; k2++) {            /* Z[k1 + 32 k2] */
        memcpy(zr + k2 * SIDE, b_re + row_of((unsigned)k2) * SIDE, SIDE * sizeof(double));
        memcpy(zi + k2 * SIDE, b_im + row_of((unsigned)k2) * SIDE, SIDE * sizeof(double));
    }
    zr[1024] = zr[0];
    zi[1024] = zi[0];
    *z_re = zr;
    *z_im = zi;
}

static inline __attribute__((always_inline)) void complex_fft(const struct af_rfft2048 *p, const double *x,
                                                              double *work, double **z_re, double **z_im)
{
    pack_pairs(x, work, work + 1024); /* n = 32 n1 + n2 at [n1][n2] */
    complex_fft_packed(p, work, z_re, z_im);
}

/* Bins k..k+7 from Z: X[k] = (Z[k] + conj Z[N-k]) / 2 + w^k (-i) (Z[k] - conj Z[N-k]) / 2 */
static inline __attribute__((always_inline)) void unpack8(const struct af_rfft2048 *p, const double *zr,
                                                          const double *zi, int k, v8d *xr, v8d *xi)
{
    const v8l reverse = {7, 6, 5, 4, 3, 2, 1, 0};
    v8d ar = load8(zr + k), ai = load8(zi + k);
    v8d br = __builtin_shuffle(load8(zr + 1017 - k), reverse);
    v8d bi = -__builtin_shuffle(load8(zi + 1017 - k), reverse);
    v8d er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
    v8d dr = 0.5 * (ar - br), di = 0.5 * (ai - bi);
    v8d c = load8(p->post_re + k), s = load8(p->post_im + k);
    *xr = er + c * di + s * dr;
    *xi = ei - c * dr + s * di;
}

FFT_CLONES
void af_rfft2048(const struct af_rfft2048 *p, const double *x, double *work, double *re, double *im)
{
    double *zr, *zi;
    complex_fft(p, x, work, &zr, &zi);
    for (int k = 0; k < 1024; k += 8) {
        v8d xr, xi;
        unpack8(p, zr, zi, k, &xr, &xi);
        memcpy(re + k, &xr, sizeof xr);
        memcpy(im + k, &xi, sizeof xi);
    }
    re[1024] = zr[0] - zi[0]; /* Nyquist: sum of even samples minus sum of odd ones */
    im[1024] = 0.0;
}

FFT_CLONES
void af_rfft2048_magnitude(const struct af_rfft2048 *p, const float *frame, const double *w_even,
                           const double *w_odd, double *work, float *mag)
{
    double *zr, *zi;
    pack_windowed(frame, w_even, w_odd, work, work + 1024);
    complex_fft_packed(p, work, &zr, &zi);
    for (int k = 0; k < 1024; k += 8) {
        v8d xr, xi;
        unpack8(p, zr, zi, k, &xr, &xi);
        /* librosa: complex64 spectrum, then |.| in float32 (correctly rounded hypot) */
        v8d fr = __builtin_convertvector(__builtin_convertvector(xr, v8f), v8d);
        v8d fi = __builtin_convertvector(__builtin_convertvector(xi, v8f), v8d);
        v8f m2 = __builtin_convertvector(fr * fr + fi * fi, v8f);
#if defined(__SSE__)
        /* SSE sqrt: part of every x86-64, so usable in all clones (libm sqrt would not vectorise) */
        __m128 lo, hi;
        memcpy(&lo, &m2, sizeof lo);
        memcpy(&hi, (const float *)&m2 + 4, sizeof hi);
        lo = _mm_sqrt_ps(lo);
        hi = _mm_sqrt_ps(hi);
        memcpy(mag + k, &lo, sizeof lo);
        memcpy(mag + k + 4, &hi, sizeof hi);
#else
        for (int j = 0; j < 8; j++)
            mag[k + j] = sqrtf(m2[j]);
#endif
    }
    float nyquist = (float)(zr[0] - zi[0]);
    mag[1024] = fabsf(nyquist);
}
