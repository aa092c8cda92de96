/*
 * hpss_kernel.h — body of the HPSS median filters, included by hpss.c once
 * per instruction set (AVX-512, AVX2, SSE2, scalar) with these macros set:
 *   KSUFFIX, KTARGET          function-name suffix, target attribute
 *   V, M, LANES               vector type, comparison-mask type, lanes
 *   VLOAD(p), VSTORE(p, v)    unaligned load / store of LANES floats
 *   VSET1(x), VMIN, VMAX      broadcast, lane-wise min / max
 *   VLT(a, b), VBLEND(m, t, f) a < b as a mask; m ? t : f
 *   VANY(m)                   whether any lane of mask m is set
 *   VADD, VMUL, VDIV          arithmetic
 *   VTRANSPOSE(rows, col, dst) dst[c * LANES + r] = rows[r][col + c] for r, c < LANES
 * and undefines them all at its end, ready for the next instruction set.
 *
 * Both filters run the same lane-wise running median of 31 (median31) over
 * a sequence of vectors padded by reflection: LANES adjacent bins along time
 * for the harmonic filter, LANES frames along frequency (after an in-register
 * transpose) for the percussive one.  median31_block computes 32 medians at a
 * time by splitting groups of windows around their shared core (see there);
 * everything is min/max of whole vectors, with no data-dependent branch:
 * ~28 min/max per LANES outputs.  The sorted-list scheme it replaced took ~45,
 * and sliding one sorted window of 31 before that ~120 operations, a third of
 * them compares and blends (HPSS 4.2 -> 2.3 -> 1.4 ms per 30 s clip with
 * AVX-512, bench_frames).
 *
 * The two filters are interleaved (hpss_advance): each block of 32 time medians
 * is followed by the frequency filter on the frames it completed, while their
 * rows are still in cache, and only a ring of 64 rows of time medians is kept
 * (2.33 -> 2.15 ms, and 5 MB less per worker).
 */

#define KCAT2(a, b) a##b
#define KCAT(a, b) KCAT2(a, b)

/* Inserts x into the ascending list s of m values, keeping its MED_CAP smallest.
 * Called with constant m, so it unrolls completely. */
static KTARGET inline __attribute__((always_inline)) void KCAT(capped_insert, KSUFFIX)(V *s, int m, V x)
{
    int n = m < MED_CAP ? m + 1 : MED_CAP;
#pragma GCC unroll 16
    for (int j = n - 1; j >= 1; j--)
        s[j] = VMAX(s[j - 1], j < m ? VMIN(s[j], x) : x);
    s[0] = m > 0 ? VMIN(s[0], x) : x;
}

/* Compare-exchange: afterwards a <= b. */
#define KSORT2(a, b)                                                                                         \
    do {                                                                                                     \
        V lo_ = VMIN((a), (b));                                                                              \
        (b) = VMAX((a), (b));                                                                                \
        (a) = lo_;                                                                                           \
    } while (0)

/* Batcher's odd-even merge of s[0 .. 2n-1] whose halves are sorted (n = 1, 2, 4, 8). */
static KTARGET inline __attribute__((always_inline)) void KCAT(merge_halves, KSUFFIX)(V *s, int n)
{
#pragma GCC unroll 8
    for (int i = 0; i < n; i++)
        KSORT2(s[i], s[i + n]);
#pragma GCC unroll 4
    for (int level = 1; level <= 3; level++) {
        int d = n >> level;
        if (d == 0)
            break;
#pragma GCC unroll 16
        for (int i = d; i + d < 2 * n; i += 2 * d)
#pragma GCC unroll 8
            for (int j = 0; j < d; j++)
                KSORT2(s[i + j], s[i + j + d]);
    }
}

/* Sorts the bitonic sequence h[0 .. g-1] (g = 1, 2, 4, 8). */
static KTARGET inline __attribute__((always_inline)) void KCAT(bitonic_merge, KSUFFIX)(V *h, int g)
{
#pragma GCC unroll 4
    for (int level = 1; level <= 3; level++) {
        int d = g >> level;
        if (d == 0)
            break;
#pragma GCC unroll 8
        for (int i = 0; i < g; i++)
            if (!(i & d))
                KSORT2(h[i], h[i + d]);
    }
}

/* out = ranks g+1 .. 2g of the union of sorted r (2g values) and sorted b (g values),
 * sorted.  min(r[i], b[2g-1-i]) with b padded by +inf are the 2g smallest of the union
 * as one bitonic sequence; max(x[i], x[i+g]) is its upper half, still bitonic. */
static KTARGET inline __attribute__((always_inline)) void KCAT(middle_ranks, KSUFFIX)(const V *r, const V *b, int g,
                                                                                     V *out)
{
#pragma GCC unroll 8
    for (int i = 0; i < g; i++)
        out[i] = VMAX(r[i], VMIN(r[i + g], b[g - 1 - i]));
    KCAT(bitonic_merge, KSUFFIX)(out, g);
}

#define SEQ(j) VLOAD(src + (ptrdiff_t)(j) * src_stride)

/* out = seq[p .. p + n - 1] sorted (n = 1, 2, 4, 8), by merging sorted halves. */
static KTARGET inline __attribute__((always_inline)) void KCAT(sorted_chunk, KSUFFIX)(const float *src,
                                                                                     ptrdiff_t src_stride, int p,
                                                                                     int n, V *out)
{
#pragma GCC unroll 8
    for (int j = 0; j < n; j++)
        out[j] = SEQ(p + j);
#pragma GCC unroll 4
    for (int level = 0; level < 3; level++) {
        int half = 1 << level;
        if (half >= n)
            break;
#pragma GCC unroll 4
        for (int j = 0; j < n; j += 2 * half)
            KCAT(merge_halves, KSUFFIX)(out + j, half);
    }
}

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
 *
 * Sixteen windows i = s .. s + 15 share the core seq[s + 15 .. s + 30]; the sixteen
 * values of that core are the only ones of its ranks that can be a median (the
 * windows add at most 15 values either side).  Halving the group adds the values of
 * a half (8 on its left or on its right) to the core, and again only 8 ranks of the
 * result can be the median of a window of the half: the middle 8 (middle_ranks).
 * So on down to one window and one rank, its median.  The added values are sorted
 * chunks of 8, 4, 2 and 1 at aligned positions.  The chunks of 8 are sorted first;
 * those of 4 and 2 are sorted again from their loaded values where they are used,
 * which costs fewer cycles than keeping them: with every chunk sorted up front, the
 * block stored 136 vectors on the stack and waited on them (888 min/max per block,
 * 38 stack stores; ~30% faster). */
static KTARGET inline __attribute__((always_inline)) void KCAT(median31_block, KSUFFIX)(const float *src,
                                                                                       ptrdiff_t src_stride,
                                                                                       float *dst,
                                                                                       ptrdiff_t dst_stride)
{
    V sorted8[MED_BLOCK + HPSS_KERNEL - 7]; /* [p .. p + 7]: seq[p .. p + 7] sorted */
#pragma GCC unroll 8
    for (int p = 8; p < 56; p += 8)
        KCAT(sorted_chunk, KSUFFIX)(src, src_stride, p, 8, sorted8 + p);
    /* A group of w windows at offset o (windows b + 1 + o ..) splits into halves whose
     * added values start at b + o + w/2 (left) and b + o + 32 (right). */
#pragma GCC unroll 2
    for (int b = 0; b < MED_BLOCK; b += 16) {
        V core[16];
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++)
            core[j] = sorted8[b + 16 + j];
        KCAT(merge_halves, KSUFFIX)(core, 8);
#pragma GCC unroll 2
        for (int o8 = 0; o8 < 16; o8 += 8) {
            V r8[8];
            KCAT(middle_ranks, KSUFFIX)(core, sorted8 + b + (o8 ? 32 : 8), 8, r8);
#pragma GCC unroll 2
            for (int o4 = o8; o4 < o8 + 8; o4 += 4) {
                V r4[4], quad[4];
                KCAT(sorted_chunk, KSUFFIX)(src, src_stride, b + (o4 > o8 ? o8 + 32 : o8 + 4), 4, quad);
                KCAT(middle_ranks, KSUFFIX)(r8, quad, 4, r4);
#pragma GCC unroll 2
                for (int o2 = o4; o2 < o4 + 4; o2 += 2) {
                    V r2[2], pair[2];
                    KCAT(sorted_chunk, KSUFFIX)(src, src_stride, b + (o2 > o4 ? o4 + 32 : o4 + 2), 2, pair);
                    KCAT(middle_ranks, KSUFFIX)(r4, pair, 2, r2);
#pragma GCC unroll 2
                    for (int o = o2; o < o2 + 2; o++) {
                        V one = SEQ(b + (o > o2 ? o2 + 32 : o2 + 1)), median;
                        KCAT(middle_ranks, KSUFFIX)(r2, &one, 1, &median);
                        VSTORE(dst + (b + o) * dst_stride, median);
                    }
                }
            }
        }
    }
}

#undef SEQ

/* median31_block with its strides built in, so that every address is a constant
 * offset: between magnitude rows (harmonic filter), between vectors (the rest). */
static KTARGET void KCAT(median31_block_rows, KSUFFIX)(const float *src, float *dst)
{
    KCAT(median31_block, KSUFFIX)(src, AF_MAG_STRIDE, dst, AF_MAG_STRIDE);
}

static KTARGET void KCAT(median31_block_vectors, KSUFFIX)(const V *src, V *dst)
{
    KCAT(median31_block, KSUFFIX)((const float *)src, LANES, (float *)dst, LANES);
}

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
    /* seq[j] is frame base + j - 15 */
    bool inside = base >= HPSS_HALF && base + MED_BLOCK + HPSS_KERNEL - 1 - HPSS_HALF < n_frames;
    float *dst = ring + hpss_ring_row(base + 1) * AF_MAG_STRIDE; /* MED_BLOCK consecutive rows */
    for (size_t k0 = 0; k0 < AF_MAG_STRIDE; k0 += LANES) {
        if (inside) {
            KCAT(median31_block_rows, KSUFFIX)(mag + (base - HPSS_HALF) * AF_MAG_STRIDE + k0, dst + k0);
            continue;
        }
        for (int j = 0; j < MED_BLOCK + HPSS_KERNEL; j++) {
            ptrdiff_t t = (ptrdiff_t)base + j - HPSS_HALF;
            edge[j] = t < (ptrdiff_t)n_frames + HPSS_HALF ? VLOAD(mag + hpss_reflect(t, n_frames) * AF_MAG_STRIDE + k0)
                                                           : VSET1(0.0f);
        }
        KCAT(median31_block_vectors, KSUFFIX)(edge, out);
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
        KCAT(median31_block_vectors, KSUFFIX)(seq + base, perc + base + 1);
    V e_harm = VSET1(0.0f), e_perc = VSET1(0.0f);
    for (size_t k = 0; k < AF_N_BINS; k++) {
        V h = t_harm[k], p = perc[k], spec = seq[HPSS_HALF + k];
        /* util.softmask(X, X_ref, power=2, split_zeros=True); see soft_masks() in hpss.c */
        V z = VMAX(h, p);
        M small_lanes = VLT(z, small);
        if (VANY(small_lanes)) { /* rare (near-silence): x * 1 is exact, so skipping it changes nothing */
            V scale = VBLEND(small_lanes, scale_up, one);
            h = VMUL(h, scale);
            p = VMUL(p, scale);
        }
        V h2 = VMUL(h, h), p2 = VMUL(p, p);
        V inv = VDIV(one, VADD(h2, p2));
        V mask_h = VMUL(h2, inv), mask_p = VMUL(p2, inv);
        if (VANY(small_lanes)) { /* only lanes below HPSS_SMALL can be below FLT_MIN */
            M bad = VLT(z, tiny);
            mask_h = VBLEND(bad, half, mask_h);
            mask_p = VBLEND(bad, half, mask_p);
        }
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
 * ring of 64 harmonic rows is enough.  Goes as far as rows 0 .. ready - 1 allow: a
 * block of time medians reads 15 frames past its last one. */
static KTARGET void KCAT(hpss_advance, KSUFFIX)(struct af_hpss_run *r, size_t ready)
{
    const size_t n = r->n_frames;
    float *ring = r->scratch, *work = r->scratch + HPSS_RING * AF_MAG_STRIDE;
    if (!r->started) {
        if (ready < (n < HPSS_HALF + 1 ? n : HPSS_HALF + 1))
            return;
        KCAT(median_time_first, KSUFFIX)(r->mag, n, ring);
        r->started = true;
    }
    for (; r->next_block + 1 < n; r->next_block += MED_BLOCK) {
        size_t base = r->next_block, needs = base + MED_BLOCK + HPSS_HALF + 1;
        if (ready < (needs < n ? needs : n))
            return;
        KCAT(median_time_block, KSUFFIX)(r->mag, n, base, ring);
        size_t done = base + MED_BLOCK < n - 1 ? base + MED_BLOCK : n - 1;
        for (; r->next_group + LANES < n && r->next_group + LANES - 1 <= done; r->next_group += LANES)
            KCAT(median_freq_energy, KSUFFIX)(r->mag, ring, n, r->next_group, work, r->harmonic_energy,
                                              r->percussive_energy);
    }
    if (r->finished || ready < n)
        return;
    /* the last group ends at the last frame (it may overlap the one before) */
    KCAT(median_freq_energy, KSUFFIX)(r->mag, ring, n, n > LANES ? n - LANES : 0, work, r->harmonic_energy,
                                      r->percussive_energy);
    r->finished = true;
}

#undef KSORT2
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
#undef VANY
#undef VADD
#undef VMUL
#undef VDIV
#undef VTRANSPOSE
