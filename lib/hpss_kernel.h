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
 * Both filters run the same lane-wise running median of 31 (median31) over
 * a sequence of vectors padded by reflection: LANES adjacent bins along time
 * for the harmonic filter, LANES frames along frequency (after an in-register
 * transpose) for the percussive one.  median31 cuts the sequence into blocks
 * of 32.  A window starting at offset i of block b is a suffix of b (32 - i
 * values) plus a prefix of b + 1 (i - 1 values), and the median of two sorted
 * lists is min over u + v = 16 of max(a[u-1], b[v-1]).  The sorted suffixes
 * of a block are built once, back to front, and the sorted prefixes of the
 * next block grow one value per output; both keep only their 16 smallest
 * values, which is all the median can use.  Everything is min/max of whole
 * vectors, with no data-dependent branch: ~45 min/max per LANES outputs,
 * against ~120 operations (a third of them compares and blends) for sliding
 * one sorted window of 31, which this replaced (HPSS 4.2 -> 2.2-2.6 ms per
 * 30 s clip with AVX-512, bench_frames).
 *
 * The two filters are interleaved (hpss_energies): each block of 32 time medians
 * is followed by the frequency filter on the frames it completed, while their
 * rows are still in cache, and only a ring of 64 rows of time medians is kept
 * (2.33 -> 2.15 ms, and 5 MB less per worker).
 */

#define KCAT2(a, b) a##b
#define KCAT(a, b) KCAT2(a, b)

/* Inserts x into the ascending list s of m values, keeping its MED_CAP smallest;
 * returns the new length.  Called with constant m, so it unrolls completely. */
static KTARGET inline __attribute__((always_inline)) int KCAT(capped_insert, KSUFFIX)(V *s, int m, V x)
{
    int n = m < MED_CAP ? m + 1 : MED_CAP;
#pragma GCC unroll 16
    for (int j = n - 1; j >= 1; j--)
        s[j] = VMAX(s[j - 1], j < m ? VMIN(s[j], x) : x);
    s[0] = m > 0 ? VMIN(s[0], x) : x;
    return n;
}

/* The 16th smallest of sorted a (na values) and sorted b (31 - na values), given
 * their MED_CAP smallest values: min over u + v = 16 of max(a[u-1], b[v-1]). */
static KTARGET inline __attribute__((always_inline)) V KCAT(median_of_two, KSUFFIX)(const V *a, int na,
                                                                                   const V *b)
{
    int nb = HPSS_KERNEL - na;
    int lo = MED_CAP - nb > 0 ? MED_CAP - nb : 0, hi = na < MED_CAP ? na : MED_CAP;
    V best = lo == 0 ? b[MED_CAP - 1] : lo == MED_CAP ? a[MED_CAP - 1] : VMAX(a[lo - 1], b[MED_CAP - lo - 1]);
#pragma GCC unroll 16
    for (int u = lo + 1; u <= hi; u++)
        best = VMIN(best, u == MED_CAP ? a[MED_CAP - 1] : VMAX(a[u - 1], b[MED_CAP - u - 1]));
    return best;
}

#define SEQ(j) VLOAD(src + (ptrdiff_t)(j) * src_stride)

/* The median of seq[0 .. 30], where seq[j] = src[j * src_stride]. */
static KTARGET inline V KCAT(median31_first, KSUFFIX)(const float *src, ptrdiff_t src_stride)
{
    V prefix[MED_CAP];
#pragma GCC unroll 32
    for (int j = 0; j < HPSS_KERNEL; j++)
        KCAT(capped_insert, KSUFFIX)(prefix, j, SEQ(j));
    return prefix[MED_CAP - 1];
}

/* The medians of the MED_BLOCK windows seq[i .. i + 30], i = 1 .. MED_BLOCK, into
 * dst[(i - 1) * dst_stride]; seq[j] = src[j * src_stride] for j < MED_BLOCK + 31.
 * Every loop has constant bounds, so all of it unrolls into straight min/max code. */
static KTARGET void KCAT(median31_block, KSUFFIX)(const float *src, ptrdiff_t src_stride, float *dst,
                                                  ptrdiff_t dst_stride)
{
    V prefix[MED_CAP], suffix[MED_CAP];
    V suffixes[MED_BLOCK][MED_CAP]; /* suffixes[na]: the MED_CAP smallest of seq[32 - na .. 31] */
#pragma GCC unroll 32
    for (int j = MED_BLOCK - 1; j >= 1; j--) {
        int na = MED_BLOCK - j, ns = KCAT(capped_insert, KSUFFIX)(suffix, na - 1, SEQ(j));
#pragma GCC unroll 16
        for (int u = na > MED_CAP ? na - MED_CAP : 0; u < ns; u++) /* what median_of_two reads */
            suffixes[na][u] = suffix[u];
    }
#pragma GCC unroll 32
    for (int i = 1; i < MED_BLOCK; i++) {
        if (i >= 2)
            KCAT(capped_insert, KSUFFIX)(prefix, i - 2, SEQ(MED_BLOCK + i - 2));
        VSTORE(dst + (i - 1) * dst_stride,
               KCAT(median_of_two, KSUFFIX)(suffixes[MED_BLOCK - i], MED_BLOCK - i, prefix));
    }
    /* the window that starts the next block is a prefix of 31 */
    KCAT(capped_insert, KSUFFIX)(prefix, HPSS_KERNEL - 1, SEQ(MED_BLOCK + HPSS_KERNEL - 1));
    VSTORE(dst + (MED_BLOCK - 1) * dst_stride, prefix[MED_CAP - 1]);
}

#undef SEQ

/* Harmonic filter: median over 31 frames (time), lanes = LANES adjacent bins.  Its
 * rows go to a ring of HPSS_RING rows (frame t in row hpss_ring_row(t)). */
static KTARGET void KCAT(median_time_first, KSUFFIX)(const float *mag, size_t n_frames, float *ring)
{
    V edge[HPSS_KERNEL];
    for (size_t k0 = 0; k0 < AF_MAG_STRIDE; k0 += LANES) {
        for (int j = 0; j < HPSS_KERNEL; j++)
            edge[j] = VLOAD(mag + hpss_reflect(j - HPSS_HALF, n_frames) * AF_MAG_STRIDE + k0);
        VSTORE(ring + hpss_ring_row(0) * AF_MAG_STRIDE + k0, KCAT(median31_first, KSUFFIX)((const float *)edge, LANES));
    }
}

/* Frames base + 1 .. base + MED_BLOCK (those < n_frames), across all bins: the 63
 * rows a block reads stay in cache.  Blocks that touch the edges read a reflected
 * copy instead. */
static KTARGET void KCAT(median_time_block, KSUFFIX)(const float *mag, size_t n_frames, size_t base, float *ring)
{
    V edge[MED_BLOCK + HPSS_KERNEL], out[MED_BLOCK];
    const ptrdiff_t stride = AF_MAG_STRIDE;
    /* seq[j] is frame base + j - 15 */
    bool inside = base >= HPSS_HALF && base + MED_BLOCK + HPSS_KERNEL - 1 - HPSS_HALF < n_frames;
    float *dst = ring + hpss_ring_row(base + 1) * AF_MAG_STRIDE; /* MED_BLOCK consecutive rows */
    for (size_t k0 = 0; k0 < AF_MAG_STRIDE; k0 += LANES) {
        if (inside) {
            KCAT(median31_block, KSUFFIX)(mag + (base - HPSS_HALF) * AF_MAG_STRIDE + k0, stride, dst + k0, stride);
            continue;
        }
        for (int j = 0; j < MED_BLOCK + HPSS_KERNEL; j++) {
            ptrdiff_t t = (ptrdiff_t)base + j - HPSS_HALF;
            edge[j] = t < (ptrdiff_t)n_frames + HPSS_HALF ? VLOAD(mag + hpss_reflect(t, n_frames) * AF_MAG_STRIDE + k0)
                                                           : VSET1(0.0f);
        }
        KCAT(median31_block, KSUFFIX)((const float *)edge, LANES, (float *)out, LANES);
        for (size_t i = 0; i < MED_BLOCK && base + 1 + i < n_frames; i++)
            VSTORE(dst + i * AF_MAG_STRIDE + k0, out[i]);
    }
}

/* Percussive filter for frames t0 .. t0 + LANES - 1 (short input: the last frame
 * repeated): median over 31 bins (frequency), lanes = LANES frames, fused with the
 * soft masks and the per-frame energy sums.  work: HPSS_WORK_VECTORS vectors. */
static KTARGET void KCAT(median_freq_energy, KSUFFIX)(const float *mag, const float *ring, size_t n_frames,
                                                        size_t t0, float *work_floats, float *harmonic_energy,
                                                        float *percussive_energy)
{
    V *work = (V *)(void *)work_floats;
    V *t_harm = work, *seq = work + AF_MAG_STRIDE, *perc = seq + AF_N_BINS + MED_BLOCK + HPSS_KERNEL;
    const V one = VSET1(1.0f), half = VSET1(0.5f), tiny = VSET1(FLT_MIN);
    const V small = VSET1(HPSS_SMALL), scale_up = VSET1(HPSS_SCALE_UP);
    const float *mag_rows[LANES], *harm_rows[LANES];
    for (size_t l = 0; l < LANES; l++) {
        size_t t = t0 + l < n_frames ? t0 + l : n_frames - 1;
        mag_rows[l] = mag + t * AF_MAG_STRIDE;
        harm_rows[l] = ring + hpss_ring_row(t) * AF_MAG_STRIDE;
    }
    /* seq[HPSS_HALF + k] = bin k, then the reflected ends */
    for (size_t k0 = 0; k0 < AF_MAG_STRIDE; k0 += LANES) {
        VTRANSPOSE(mag_rows, k0, (float *)(seq + HPSS_HALF + k0));
        VTRANSPOSE(harm_rows, k0, (float *)(t_harm + k0));
    }
    for (int j = 0; j < HPSS_HALF; j++) {
        seq[j] = seq[HPSS_HALF + hpss_reflect(j - HPSS_HALF, AF_N_BINS)];
        seq[HPSS_HALF + AF_N_BINS + j] = seq[HPSS_HALF + hpss_reflect(AF_N_BINS + j, AF_N_BINS)];
    }
    for (size_t j = AF_N_BINS + 2 * HPSS_HALF; j < AF_N_BINS + MED_BLOCK + HPSS_KERNEL; j++)
        seq[j] = VSET1(0.0f);
    perc[0] = KCAT(median31_first, KSUFFIX)((const float *)seq, LANES);
    for (size_t base = 0; base + 1 < AF_N_BINS; base += MED_BLOCK)
        KCAT(median31_block, KSUFFIX)((const float *)(seq + base), LANES, (float *)(perc + base + 1), LANES);
    V e_harm = VSET1(0.0f), e_perc = VSET1(0.0f);
    for (size_t k = 0; k < AF_N_BINS; k++) {
        V h = t_harm[k], p = perc[k], spec = seq[HPSS_HALF + k];
        /* util.softmask(X, X_ref, power=2, split_zeros=True); see soft_masks() in hpss.c */
        V z = VMAX(h, p);
        V scale = VBLEND(VLT(z, small), scale_up, one);
        h = VMUL(h, scale);
        p = VMUL(p, scale);
        V h2 = VMUL(h, h), p2 = VMUL(p, p);
        V inv = VDIV(one, VADD(h2, p2));
        M bad = VLT(z, tiny);
        V mask_h = VBLEND(bad, half, VMUL(h2, inv));
        V mask_p = VBLEND(bad, half, VMUL(p2, inv));
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
}

/* Both filters, interleaved: after each time block, the frequency filter takes every
 * group of LANES frames whose harmonic rows are complete, while their magnitude rows
 * are still in cache.  A group's rows are at most 48 frames behind the newest, so a
 * ring of 64 harmonic rows is enough. */
static KTARGET void KCAT(hpss_energies, KSUFFIX)(const float *mag, size_t n_frames, float *ring, float *work,
                                                   float *harmonic_energy, float *percussive_energy)
{
    KCAT(median_time_first, KSUFFIX)(mag, n_frames, ring);
    size_t next = 0; /* first frame of the next group */
    for (size_t base = 0; base + 1 < n_frames; base += MED_BLOCK) {
        KCAT(median_time_block, KSUFFIX)(mag, n_frames, base, ring);
        size_t done = base + MED_BLOCK < n_frames - 1 ? base + MED_BLOCK : n_frames - 1;
        for (; next + LANES < n_frames && next + LANES - 1 <= done; next += LANES)
            KCAT(median_freq_energy, KSUFFIX)(mag, ring, n_frames, next, work, harmonic_energy, percussive_energy);
    }
    /* the last group ends at the last frame (it may overlap the one before) */
    KCAT(median_freq_energy, KSUFFIX)(mag, ring, n_frames, n_frames > LANES ? n_frames - LANES : 0, work,
                                      harmonic_energy, percussive_energy);
}

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
