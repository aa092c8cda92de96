/*
 * hpss_kernel.h — body of the HPSS median filters, included by hpss.c once
 * per instruction set (AVX-512, AVX2, SSE2, scalar) with these macros set:
 *   KSUFFIX, KTARGET          function-name suffix, target attribute
 *   V, M, LANES               vector type, comparison-mask type, lanes
 *   VLOAD(p), VSTORE(p, v)    unaligned load / store of LANES floats
 *   VSET1(x), VMIN, VMAX      broadcast, lane-wise min / max
 *   VLT(a, b), VBLEND(m, t, f) a < b as a mask; m ? t : f
 *   VADD, VMUL, VDIV          arithmetic
 *   VTRANSPOSE(rows, col, dst) dst[c * LANES + r] = rows[r][col + c] for r, c < LANES
 * and undefines them all at its end, ready for the next instruction set.
 *
 * Both filters keep, per lane, the 31 values of the current window sorted
 * (s[0] <= ... <= s[30]; the median is s[15]).  Sliding one step removes the
 * value leaving the window and inserts the one entering, with a branch-free
 * pass of min/max/blend over the 31 vectors, so each step costs ~4 vector
 * operations per window slot for LANES outputs, whatever the data.
 * Recently loaded inputs are kept in a 32-slot ring indexed by position, so
 * the leaving value and the current centre value are never reloaded.  The
 * frequency filter first transposes its block of LANES frames (in-register
 * LANES x LANES tiles) so that it, too, reads contiguous vectors.
 */

#define KCAT2(a, b) a##b
#define KCAT(a, b) KCAT2(a, b)

/* Inserts x into sorted s[0..m) (m < HPSS_KERNEL). */
static KTARGET inline void KCAT(sorted_insert, KSUFFIX)(V *s, int m, V x)
{
    V neg_inf = VSET1(-INFINITY);
    for (int j = m; j >= 0; j--) {
        V below = j > 0 ? s[j - 1] : neg_inf;
        V here = j < m ? VMIN(x, s[j]) : x;
        s[j] = VMAX(below, here);
    }
}

/* Removes one instance of o (present in s) and inserts x, keeping s sorted. */
static KTARGET inline void KCAT(sorted_replace, KSUFFIX)(V *s, V o, V x)
{
    V prev = VSET1(-INFINITY); /* the slot below after removal */
#pragma GCC unroll 32
    for (int j = 0; j < HPSS_KERNEL - 1; j++) {
        V removed = VBLEND(VLT(s[j], o), s[j], s[j + 1]);
        s[j] = VMAX(prev, VMIN(x, removed));
        prev = removed;
    }
    s[HPSS_KERNEL - 1] = VMAX(prev, x);
}

#define RING_SLOT(pos) ((size_t)((pos) + 2 * HPSS_RING) & (HPSS_RING - 1))

/* Harmonic filter: median over 31 frames (time), lanes = LANES adjacent bins. */
static KTARGET void KCAT(median_time, KSUFFIX)(const float *mag, size_t n_frames, float *harm)
{
    V ring[HPSS_RING];
    V s[HPSS_KERNEL];
    for (size_t k0 = 0; k0 < AF_MAG_STRIDE; k0 += LANES) {
        const float *col = mag + k0;
        for (ptrdiff_t p = -HPSS_HALF; p <= HPSS_HALF; p++) {
            V x = VLOAD(col + hpss_reflect(p, n_frames) * AF_MAG_STRIDE);
            ring[RING_SLOT(p)] = x;
            KCAT(sorted_insert, KSUFFIX)(s, (int)(p + HPSS_HALF), x);
        }
        VSTORE(harm + k0, s[HPSS_HALF]);
        for (size_t t = 1; t < n_frames; t++) {
            ptrdiff_t enter = (ptrdiff_t)t + HPSS_HALF, leave = (ptrdiff_t)t - HPSS_HALF - 1;
            V x = VLOAD(col + hpss_reflect(enter, n_frames) * AF_MAG_STRIDE);
            KCAT(sorted_replace, KSUFFIX)(s, ring[RING_SLOT(leave)], x);
            ring[RING_SLOT(enter)] = x;
            VSTORE(harm + t * AF_MAG_STRIDE + k0, s[HPSS_HALF]);
        }
    }
}

/* Percussive filter: median over 31 bins (frequency), lanes = LANES frames, fused
 * with the soft masks (power 2, margin 1) and the per-frame energy sums.
 * block: 2 * AF_MAG_STRIDE * LANES floats of scratch. */
static KTARGET void KCAT(median_freq_energy, KSUFFIX)(const float *mag, const float *harm,
                                                        size_t n_frames, float *block,
                                                        float *harmonic_energy, float *percussive_energy)
{
    V ring[HPSS_RING];
    V s[HPSS_KERNEL];
    const V one = VSET1(1.0f), half = VSET1(0.5f), tiny = VSET1(FLT_MIN);
    float *t_mag = block, *t_harm = block + AF_MAG_STRIDE * LANES;
    for (size_t t0 = 0;; t0 += LANES) {
        bool last = t0 + LANES >= n_frames;
        if (last)
            t0 = n_frames > LANES ? n_frames - LANES : 0;
        const float *mag_rows[LANES], *harm_rows[LANES];
        for (size_t l = 0; l < LANES; l++) {
            size_t t = t0 + l < n_frames ? t0 + l : n_frames - 1; /* short input: repeat the last frame */
            mag_rows[l] = mag + t * AF_MAG_STRIDE;
            harm_rows[l] = harm + t * AF_MAG_STRIDE;
        }
        for (size_t k0 = 0; k0 < AF_MAG_STRIDE; k0 += LANES) {
            VTRANSPOSE(mag_rows, k0, t_mag + k0 * LANES);
            VTRANSPOSE(harm_rows, k0, t_harm + k0 * LANES);
        }
        for (ptrdiff_t p = -HPSS_HALF; p <= HPSS_HALF; p++) {
            V x = VLOAD(t_mag + hpss_reflect(p, AF_N_BINS) * LANES);
            ring[RING_SLOT(p)] = x;
            KCAT(sorted_insert, KSUFFIX)(s, (int)(p + HPSS_HALF), x);
        }
        V e_harm = VSET1(0.0f), e_perc = VSET1(0.0f);
        for (size_t k = 0; k < AF_N_BINS; k++) {
            if (k > 0) {
                ptrdiff_t enter = (ptrdiff_t)k + HPSS_HALF, leave = (ptrdiff_t)k - HPSS_HALF - 1;
                V x = VLOAD(t_mag + hpss_reflect(enter, AF_N_BINS) * LANES);
                KCAT(sorted_replace, KSUFFIX)(s, ring[RING_SLOT(leave)], x);
                ring[RING_SLOT(enter)] = x;
            }
            V p = s[HPSS_HALF];
            V h = VLOAD(t_harm + k * LANES);
            V spec = ring[RING_SLOT((ptrdiff_t)k)];
            /* util.softmask(X, X_ref, power=2, split_zeros=True): both masks scaled by
             * Z = max(H, P) so the squares cannot underflow or overflow */
            V z = VMAX(h, p);
            M bad = VLT(z, tiny);
            V inv_z = VDIV(one, VBLEND(bad, one, z));
            V a = VMUL(h, inv_z), b = VMUL(p, inv_z);
            a = VMUL(a, a);
            b = VMUL(b, b);
            V inv_den = VDIV(one, VADD(a, b));
            V mask_h = VBLEND(bad, half, VMUL(a, inv_den));
            V mask_p = VBLEND(bad, half, VMUL(b, inv_den));
            V hh = VMUL(spec, mask_h), pp = VMUL(spec, mask_p);
            e_harm = VADD(e_harm, VMUL(hh, hh));
            e_perc = VADD(e_perc, VMUL(pp, pp));
        }
        float eh[LANES], ep[LANES];
        VSTORE(eh, e_harm);
        VSTORE(ep, e_perc);
        for (size_t l = 0; l < LANES && t0 + l < n_frames; l++) {
            harmonic_energy[t0 + l] = eh[l];
            percussive_energy[t0 + l] = ep[l];
        }
        if (last)
            break;
    }
}

#undef RING_SLOT
#undef KCAT
#undef KCAT2
#undef KSUFFIX
#undef KTARGET
#undef V
#undef M
#undef LANES
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VMIN
#undef VMAX
#undef VLT
#undef VBLEND
#undef VADD
#undef VMUL
#undef VDIV
#undef VTRANSPOSE
