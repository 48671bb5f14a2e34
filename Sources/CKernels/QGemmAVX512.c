// AVX-512 VNNI driver of ck_qgemm. C is computed in 4 x 64 tiles held in 16 zmm int32
// accumulators: per group of 4 k a tile loads the 4 vectors of a packed B panel (64 columns x 4 u8)
// and issues vpdpbusd against the 4 s8 weights of each row broadcast from the packed A panel (u8 x
// s8 products summed exactly in int32; vpdpbusd, unlike vpmaddubsw, has no int16 intermediate, and
// the non-saturating form is used). B is packed per call into the thread's scratch, XOR 0x80
// turning int8 into int8 + 128. Up to k4 = 2048, all of K is packed for a block of columns sized to
// stay in L2 (ck_qgemm_nc_avx512; at least 256 columns), an A half-panel (k4 x 4 bytes) staying in
// L1 while the tiles sweep the block, and the epilogue requantises in registers and stores bytes.
// Past that, K is blocked (qgemm_kblocked): int32 sums wait in scratch between K blocks. B is a
// matrix in memory (ck_qgemm) or the implicit im2col of a convolution's input (ck_qgemm_conv).
#include "Internal.h"

#if CK_X86

typedef int32_t ck_unaligned_i32 __attribute__((may_alias, aligned(1)));

/// Where one tile goes and how it is requantised.
typedef struct {
    uint8_t *c;             // C at (row0, col), bytes
    int ldc;
    int r_lo, r_hi;         // tile rows to store
    int width;              // valid columns (1..NV*16)
    const int32_t *bias;    // at row0
    const float *scale;     // at row0
    float flo, fhi;         // clamp bounds before rounding: qmin - zp, qmax - zp
    int32_t zp;
    int32_t qmin, qmax;
    int out_signed;
} qtile_out;

/// acc (bias included) -> requantised int32: float(acc) * scale, clamp, round half to even, + zp.
CK_AVX512VNNI CK_INLINE __m512i requant16(__m512i acc, __m512 scale, __m512 flo, __m512 fhi, __m512i zp) {
    __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
    x = _mm512_min_ps(_mm512_max_ps(x, flo), fhi);
    return _mm512_add_epi32(_mm512_cvtps_epi32(x), zp);
}

/// Nonzero when the integer-clamp epilogue is exact for rows [m_begin, m_end): every
/// float(acc) * scale is finite and inside the int32 range (|acc| <= |bias| + 128 * 255 * k4) and
/// the zero point and bounds fit the saturating int16 / byte steps.
static int fast_epilogue_ok(const ck_requant *rq, int k, int m_begin, int m_end) {
    if (rq->zero_point < -255 || rq->zero_point > 255) return 0;
    if (rq->qmin > rq->qmax || rq->qmin < ck_q_min(rq->out_signed) || rq->qmax > ck_q_max(rq->out_signed)) return 0;
    double products = 128.0 * 255.0 * (double)ck_qgemm_k4(k);
    for (int i = m_begin; i < m_end; i++) {
        double bound = fabs((double)rq->scale[i]) * (fabs((double)rq->bias[i]) + products);
        if (!(bound < 2.0e9)) return 0;   // also rejects NaN and infinite scales
    }
    return 1;
}

// ---------------------------------------------------------------------------------------------
// 4 x 64 tiles. Measured faster than 8 x 48 tiles (the earlier driver) at every layer size, most
// at small K, where the per-element work outside
// the k loop (packing B, the epilogue) costs as much as the vpdpbusd: B is packed without the
// 128-bit lane transpose, a 64-column panel being, per k group, the 4 vectors u_0..u_3 the
// byte/word unpacks give, lane L of u_i holding columns 16L+4i..16L+4i+3, and the epilogue's
// in-lane packs (vpackssdw u_0,u_1 / u_2,u_3, then vpack{us,ss}wb) put those columns back in
// order with no permute, 64 output bytes a row in one store. Tiles are 4 rows (half an A panel).

#define NR64 64
#define PANEL64_GROUP_BYTES (NR64 * 4)

/// One k group of a 64-column panel from its 4 rows of 64 bytes: the byte/word unpacks give the
/// vectors u_0..u_3 the 4 x 64 tiles read (lane L of u_i holds columns 16L+4i..16L+4i+3).
CK_AVX512VNNI CK_INLINE void store_group64(const __m512i r[4], uint8_t *d) {
    __m512i t0 = _mm512_unpacklo_epi8(r[0], r[1]), t1 = _mm512_unpackhi_epi8(r[0], r[1]);
    __m512i t2 = _mm512_unpacklo_epi8(r[2], r[3]), t3 = _mm512_unpackhi_epi8(r[2], r[3]);
    _mm512_storeu_si512((void *)d, _mm512_unpacklo_epi16(t0, t2));
    _mm512_storeu_si512((void *)(d + 64), _mm512_unpackhi_epi16(t0, t2));
    _mm512_storeu_si512((void *)(d + 128), _mm512_unpacklo_epi16(t1, t3));
    _mm512_storeu_si512((void *)(d + 192), _mm512_unpackhi_epi16(t1, t3));
}

/// Packs k rows x nc columns of B into ceil(nc/64) panels of groups x 256 bytes; columns past nc
/// and rows past k are zero.
CK_AVX512VNNI CK_INLINE void pack_b64_body(const int FLIP, const uint8_t *b, int ldb, int k, int nc, uint8_t *dst) {
    const int groups = (k + 3) / 4;
    const __m512i x80 = _mm512_set1_epi8((char)0x80);
    for (int g = 0; g < groups; g++) {
        const int rows = ck_min_int(4, k - 4 * g);
        const uint8_t *src[4];
        for (int t = 0; t < 4; t++) src[t] = b + (size_t)(4 * g + (t < rows ? t : 0)) * (size_t)ldb;
        uint8_t *d = dst + (size_t)g * PANEL64_GROUP_BYTES;
        for (int c0 = 0; c0 < nc; c0 += NR64, d += (size_t)groups * PANEL64_GROUP_BYTES) {
            int w = nc - c0;
            __mmask64 mask = w >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << w) - 1);
            __m512i r[4];
            for (int t = 0; t < 4; t++) {
                r[t] = _mm512_setzero_si512();
                if (t < rows) {
                    r[t] = w >= 64 ? _mm512_loadu_si512((const void *)(src[t] + c0)) : _mm512_maskz_loadu_epi8(mask, src[t] + c0);
                    // Past column nc the flipped filler is never stored, so no need to re-mask.
                    if (FLIP) r[t] = _mm512_xor_si512(r[t], x80);
                }
            }
            store_group64(r, d);
        }
    }
}

CK_AVX512VNNI static void pack_b64(const uint8_t *b, int ldb, int k, int nc, int flip, uint8_t *dst) {
    if (flip) pack_b64_body(1, b, ldb, k, nc, dst);
    else pack_b64_body(0, b, ldb, k, nc, dst);
}

// Implicit im2col (ck_qgemm_conv): B is the im2col of a C x H x W byte tensor for a stride-1-wide
// window, never written out. Row r of B is tap (c, kh, kw) = (r / taps, r % taps / kw, r % kw),
// column j output pixel (oh, ow) = (j / out_w, j % out_w), and B[r][j] = in[c][ih][iw] with
// ih = oh * stride_h - pad_top + kh * dilation_h, iw = ow - pad_left + kw * dilation_w, or the pad
// byte outside the image. A 64-column chunk splits into runs of one output row each (segments);
// a run of a row is one masked load straight from the input row over a vector of pad bytes. The
// rows a block needs (a few input rows per channel) stay in L2, where an im2col buffer of K x
// columns bytes would go out to L3 and come back.

/// Where B comes from when it is implicit.
typedef struct {
    const uint8_t *in;
    const ck_window *w;
    uint8_t pad;
} conv_source;

/// Output pixels of lanes [lane, end) of a chunk: output row oh, from column ow.
typedef struct {
    int lane, end, oh, ow;
} conv_segment;

/// At most this many segments per 64-column chunk: ck_qgemm_conv needs out_w >= 16.
#define CONV_SEGMENTS 6

/// The segments of columns [j0, j0 + width); returns their count.
static int conv_segments(int j0, int width, int out_w, conv_segment *seg) {
    int n = 0;
    for (int lane = 0; lane < width;) {
        int j = j0 + lane, oh = j / out_w, ow = j - oh * out_w;
        int len = ck_min_int(out_w - ow, width - lane);
        seg[n++] = (conv_segment){lane, lane + len, oh, ow};
        lane += len;
    }
    return n;
}

/// Lanes [lo, hi) of a 64-lane mask (0 <= lo <= hi <= 64).
CK_INLINE __mmask64 lane_range(int lo, int hi) {
    __mmask64 below_hi = hi >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << hi) - 1);
    __mmask64 below_lo = lo >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << lo) - 1);
    return below_hi & ~below_lo;
}

/// Row (c, ih0 = kh * dilation_h - pad_top, iw0 = kw * dilation_w - pad_left) of B over one chunk.
CK_AVX512VNNI CK_INLINE __m512i conv_row(const conv_source *src, const uint8_t *channel, int ih0, int iw0,
                                         const conv_segment *seg, int segments, __m512i fill) {
    const ck_window *w = src->w;
    __m512i v = fill;
    for (int s = 0; s < segments; s++) {
        int ih = seg[s].oh * w->stride_h + ih0;
        if ((unsigned)ih >= (unsigned)w->in_h) continue;
        int iw = seg[s].ow + iw0;   // input column of lane seg[s].lane
        int lo = ck_max_int(seg[s].lane, seg[s].lane - iw), hi = ck_min_int(seg[s].end, seg[s].lane + w->in_w - iw);
        if (hi <= lo) continue;
        // Lane i reads the row's byte iw + i - lane; the masked-off lanes are not read.
        uintptr_t base = (uintptr_t)(channel + (size_t)ih * (size_t)w->in_w) + (uintptr_t)(intptr_t)(iw - seg[s].lane);
        v = _mm512_mask_loadu_epi8(v, lane_range(lo, hi), (const void *)base);
    }
    return v;
}

/// pack_b64 of rows [r0, r0 + k) and columns [j0, j0 + nc) of the implicit B.
CK_AVX512VNNI CK_INLINE void pack_b64_conv_body(const int FLIP, const conv_source *src, int r0, int k, int j0, int nc,
                                                uint8_t *dst) {
    const ck_window *w = src->w;
    const int groups = (k + 3) / 4, taps = w->kernel_h * w->kernel_w;
    const int chunks = (nc + NR64 - 1) / NR64;
    const size_t plane = (size_t)w->in_h * (size_t)w->in_w;
    conv_segment seg[CK_QGEMM_NC_MAX / NR64][CONV_SEGMENTS];
    int segments[CK_QGEMM_NC_MAX / NR64];
    for (int q = 0; q < chunks; q++) segments[q] = conv_segments(j0 + q * NR64, ck_min_int(NR64, nc - q * NR64), w->out_w, seg[q]);
    const __m512i fill = _mm512_set1_epi8((char)src->pad), x80 = _mm512_set1_epi8((char)0x80);
    // (c, kh, kw) of row r, advanced one row at a time.
    int c = r0 / taps, kh = r0 % taps / w->kernel_w, kw = r0 % w->kernel_w;
    for (int g = 0; g < groups; g++) {
        const int rows = ck_min_int(4, k - 4 * g);
        const uint8_t *channel[4];
        int ih0[4], iw0[4];
        for (int t = 0; t < rows; t++) {
            channel[t] = src->in + (size_t)c * plane;
            ih0[t] = kh * w->dilation_h - w->pad_top;
            iw0[t] = kw * w->dilation_w - w->pad_left;
            if (++kw == w->kernel_w) {
                kw = 0;
                if (++kh == w->kernel_h) kh = 0, c++;
            }
        }
        uint8_t *d = dst + (size_t)g * PANEL64_GROUP_BYTES;
        for (int q = 0; q < chunks; q++, d += (size_t)groups * PANEL64_GROUP_BYTES) {
            __m512i r[4];
            for (int t = 0; t < 4; t++) {
                r[t] = _mm512_setzero_si512();
                if (t < rows) {
                    r[t] = conv_row(src, channel[t], ih0[t], iw0[t], seg[q], segments[q], fill);
                    if (FLIP) r[t] = _mm512_xor_si512(r[t], x80);
                }
            }
            store_group64(r, d);
        }
    }
}

/// Packs rows [r0, r0 + k) x columns [j0, j0 + nc) of B: from memory (b, ldb) or, with src, implicit.
CK_AVX512VNNI static void pack_block(const conv_source *src, const uint8_t *b, int ldb, int r0, int k, int j0, int nc,
                                     int flip, uint8_t *dst) {
    if (!src) {
        pack_b64(b + (size_t)r0 * (size_t)ldb + j0, ldb, k, nc, flip, dst);
    } else if (flip) {
        pack_b64_conv_body(1, src, r0, k, j0, nc, dst);
    } else {
        pack_b64_conv_body(0, src, r0, k, j0, nc, dst);
    }
}

/// One 4 x 64 tile (rows at `a` inside the 8-row A panel, groups 32 bytes apart) over `groups` k
/// groups of a 64-column panel, then its epilogue (FAST as in tile()). With K blocked, the sums
/// start from `in` (4 x 64 int32 of the previous K blocks; NULL: the bias) and, unless this is
/// the last K block, go to `out` instead of the epilogue.
CK_AVX512VNNI CK_INLINE void tile64(const int FAST, int groups, const uint8_t *a, const uint8_t *b, const qtile_out *t,
                                    const int32_t *in, int32_t *out) {
    __m512i acc[4][4];
#pragma clang loop unroll(full)
    for (int r = 0; r < 4; r++) {
        __m512i start = r >= t->r_lo && r < t->r_hi ? _mm512_set1_epi32(t->bias[r]) : _mm512_setzero_si512();
        for (int v = 0; v < 4; v++) acc[r][v] = in ? _mm512_load_si512((const void *)(in + r * 64 + v * 16)) : start;
    }
    for (int g = 0; g < groups; g++) {
        __m512i b0 = _mm512_loadu_si512((const void *)b), b1 = _mm512_loadu_si512((const void *)(b + 64));
        __m512i b2 = _mm512_loadu_si512((const void *)(b + 128)), b3 = _mm512_loadu_si512((const void *)(b + 192));
#pragma clang loop unroll(full)
        for (int r = 0; r < 4; r++) {
            __m512i ar = _mm512_set1_epi32(*(const ck_unaligned_i32 *)(a + 4 * r));
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], b0, ar);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], b1, ar);
            acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], b2, ar);
            acc[r][3] = _mm512_dpbusd_epi32(acc[r][3], b3, ar);
        }
        a += CK_QGEMM_MR * 4;
        b += PANEL64_GROUP_BYTES;
    }
    if (out) {
#pragma clang loop unroll(full)
        for (int r = 0; r < 4; r++)
            for (int v = 0; v < 4; v++) _mm512_store_si512((void *)(out + r * 64 + v * 16), acc[r][v]);
        return;
    }
    const __mmask64 store_mask = t->width >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << t->width) - 1);
    if (FAST) {
        // As tile(): round, then clamp through the saturating packs and a byte min/max.
        const __m512i zp16 = _mm512_set1_epi16((short)t->zp);
        const __m512i qlo = _mm512_set1_epi8((char)t->qmin), qhi = _mm512_set1_epi8((char)t->qmax);
#pragma clang loop unroll(full)
        for (int r = 0; r < 4; r++) {
            if (r < t->r_lo || r >= t->r_hi) continue;
            __m512 scale = _mm512_set1_ps(t->scale[r]);
            __m512i x[4];
#pragma clang loop unroll(full)
            for (int v = 0; v < 4; v++) x[v] = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[r][v]), scale));
            __m512i w01 = _mm512_adds_epi16(_mm512_packs_epi32(x[0], x[1]), zp16);
            __m512i w23 = _mm512_adds_epi16(_mm512_packs_epi32(x[2], x[3]), zp16);
            __m512i bytes;
            if (t->out_signed)
                bytes = _mm512_min_epi8(_mm512_max_epi8(_mm512_packs_epi16(w01, w23), qlo), qhi);
            else
                bytes = _mm512_min_epu8(_mm512_max_epu8(_mm512_packus_epi16(w01, w23), qlo), qhi);
            _mm512_mask_storeu_epi8(t->c + (size_t)r * (size_t)t->ldc, store_mask, bytes);
        }
        return;
    }
    // The general epilogue (float clamp, + zp); each lane's low byte kept, as the scalar store does:
    // masked to 0..255 first, the unsigned-saturating packs are exact truncation.
    const __m512 flo = _mm512_set1_ps(t->flo), fhi = _mm512_set1_ps(t->fhi);
    const __m512i zp = _mm512_set1_epi32(t->zp), low = _mm512_set1_epi32(0xFF);
#pragma clang loop unroll(full)
    for (int r = 0; r < 4; r++) {
        if (r < t->r_lo || r >= t->r_hi) continue;
        __m512 scale = _mm512_set1_ps(t->scale[r]);
        __m512i x[4];
#pragma clang loop unroll(full)
        for (int v = 0; v < 4; v++) x[v] = _mm512_and_si512(requant16(acc[r][v], scale, flo, fhi, zp), low);
        __m512i bytes = _mm512_packus_epi16(_mm512_packus_epi32(x[0], x[1]), _mm512_packus_epi32(x[2], x[3]));
        _mm512_mask_storeu_epi8(t->c + (size_t)r * (size_t)t->ldc, store_mask, bytes);
    }
}

CK_AVX512VNNI static void tile64_fast(int groups, const uint8_t *a, const uint8_t *b, const qtile_out *t) {
    tile64(1, groups, a, b, t, NULL, NULL);
}
CK_AVX512VNNI static void tile64_general(int groups, const uint8_t *a, const uint8_t *b, const qtile_out *t) {
    tile64(0, groups, a, b, t, NULL, NULL);
}
CK_AVX512VNNI static void tile64_blocked_fast(int groups, const uint8_t *a, const uint8_t *b, const qtile_out *t,
                                              const int32_t *in, int32_t *out) {
    tile64(1, groups, a, b, t, in, out);
}
CK_AVX512VNNI static void tile64_blocked_general(int groups, const uint8_t *a, const uint8_t *b, const qtile_out *t,
                                                 const int32_t *in, int32_t *out) {
    tile64(0, groups, a, b, t, in, out);
}

/// The K-blocked 4 x 64 driver for large K (k4 > CK_QGEMM_KBLOCK_FROM), where a block of all-K
/// columns would not fit L2 with more than a few columns, so the packed weights (M x K) would
/// stream from memory once per few columns. Here K is cut into near-equal blocks of at most
/// CK_QGEMM_KBLOCK_K, B is packed per (K block, CK_QGEMM_KBLOCK_NC columns) and stays in L2 while
/// every row of the chunk passes over it, and the int32 sums of up to CK_QGEMM_KBLOCK_MC rows wait
/// in scratch between K blocks (int32 sums are exact in any order, so the result is unchanged).
CK_AVX512VNNI static void qgemm_kblocked(int k, const void *packed_a, const conv_source *src, const uint8_t *b, int ldb,
                                         int b_signed, void *c, int ldc, const ck_requant *rq, int m_begin, int m_end,
                                         int n_begin, int n_end, uint8_t *scratch, qtile_out t, int fast) {
    const int groups = (k + 3) / 4;
    const int max_groups = CK_QGEMM_KBLOCK_K / 4;
    const int kblocks = (groups + max_groups - 1) / max_groups;
    const int kc_groups = (groups + kblocks - 1) / kblocks;
    uint8_t *packed_b = scratch;
    int32_t *sums = (int32_t *)(scratch + (size_t)CK_QGEMM_KBLOCK_K * CK_QGEMM_KBLOCK_NC);
    void (*run)(int, const uint8_t *, const uint8_t *, const qtile_out *, const int32_t *, int32_t *) =
        fast ? tile64_blocked_fast : tile64_blocked_general;
    const int half_lo = m_begin / 4, half_hi = (m_end + 3) / 4;
    for (int h0 = half_lo; h0 < half_hi; h0 += CK_QGEMM_KBLOCK_MC / 4) {
        const int h1 = ck_min_int(half_hi, h0 + CK_QGEMM_KBLOCK_MC / 4);
        for (int jc = n_begin; jc < n_end; jc += CK_QGEMM_KBLOCK_NC) {
            const int nc = ck_min_int(CK_QGEMM_KBLOCK_NC, n_end - jc);
            const int panels = (nc + NR64 - 1) / NR64;
            for (int kb = 0; kb < kblocks; kb++) {
                const int g0 = kb * kc_groups, gn = ck_min_int(kc_groups, groups - g0);
                pack_block(src, b, ldb, 4 * g0, ck_min_int(4 * gn, k - 4 * g0), jc, nc, b_signed, packed_b);
                int32_t *sum = sums;
                for (int half = h0; half < h1; half++) {
                    int row0 = half * 4;
                    t.r_lo = ck_max_int(m_begin - row0, 0);
                    t.r_hi = ck_min_int(m_end - row0, 4);
                    t.bias = rq->bias + row0;
                    t.scale = rq->scale + row0;
                    const uint8_t *ap = (const uint8_t *)packed_a + (size_t)(half / 2) * (size_t)groups * CK_QGEMM_MR * 4 +
                                        (size_t)(half % 2) * 16 + (size_t)g0 * CK_QGEMM_MR * 4;
                    uint8_t *crow = (uint8_t *)c + (size_t)row0 * (size_t)ldc + (size_t)jc;
                    for (int q = 0; q < panels; q++, sum += 4 * NR64) {
                        t.width = ck_min_int(NR64, nc - q * NR64);
                        t.c = crow + (size_t)q * NR64;
                        run(gn, ap, packed_b + (size_t)q * (size_t)gn * PANEL64_GROUP_BYTES, &t,
                            kb == 0 ? NULL : sum, kb == kblocks - 1 ? NULL : sum);
                    }
                }
            }
        }
    }
}

/// The 4 x 64 driver: column blocks of at most nc_max rounded down to 64 columns (so the packed
/// block still fits the scratch), half-panel tiles.
CK_AVX512VNNI static void qgemm_4x64(int k, const void *packed_a, const conv_source *src, const uint8_t *b, int ldb,
                                     int b_signed, void *c, int ldc, const ck_requant *rq, int m_begin, int m_end,
                                     int n_begin, int n_end, uint8_t *packed_b, qtile_out t, int fast) {
    const int groups = (k + 3) / 4;
    const int nc_max = ck_qgemm_nc_avx512(k) / NR64 * NR64;
    int ncols = n_end - n_begin;
    int nblocks = (ncols + nc_max - 1) / nc_max;
    int nc_step = (ncols + nblocks - 1) / nblocks;
    nc_step = (nc_step + NR64 - 1) / NR64 * NR64;
    const int half_lo = m_begin / 4, half_hi = (m_end + 3) / 4;
    void (*run)(int, const uint8_t *, const uint8_t *, const qtile_out *) = fast ? tile64_fast : tile64_general;
    for (int jc = n_begin; jc < n_end; jc += nc_step) {
        int nc = ck_min_int(nc_step, n_end - jc);
        pack_block(src, b, ldb, 0, k, jc, nc, b_signed, packed_b);
        for (int half = half_lo; half < half_hi; half++) {
            int row0 = half * 4;
            t.r_lo = ck_max_int(m_begin - row0, 0);
            t.r_hi = ck_min_int(m_end - row0, 4);
            t.bias = rq->bias + row0;
            t.scale = rq->scale + row0;
            const uint8_t *ap = (const uint8_t *)packed_a + (size_t)(half / 2) * (size_t)groups * CK_QGEMM_MR * 4 +
                                (size_t)(half % 2) * 16;
            uint8_t *crow = (uint8_t *)c + (size_t)row0 * (size_t)ldc + (size_t)jc;
            for (int q = 0; q * NR64 < nc; q++) {
                t.width = ck_min_int(NR64, nc - q * NR64);
                t.c = crow + (size_t)q * NR64;
                run(groups, ap, packed_b + (size_t)q * (size_t)groups * PANEL64_GROUP_BYTES, &t);
            }
        }
    }
}

/// Both entry points: B from memory (src NULL) or the implicit im2col of src.
CK_AVX512VNNI static void qgemm_any(int k, const void *packed_a, const conv_source *src, const uint8_t *b, int ldb,
                                    int b_signed, void *c, int ldc, const ck_requant *rq, int m_begin, int m_end,
                                    int n_begin, int n_end, void *scratch) {
    uint8_t *packed_b = (uint8_t *)scratch;
    qtile_out t;
    t.ldc = ldc;
    t.flo = (float)(rq->qmin - rq->zero_point);
    t.fhi = (float)(rq->qmax - rq->zero_point);
    t.zp = rq->zero_point;
    t.qmin = rq->qmin;
    t.qmax = rq->qmax;
    t.out_signed = rq->out_signed;
    const int fast = fast_epilogue_ok(rq, k, m_begin, m_end);
    if (ck_qgemm_k4(k) > CK_QGEMM_KBLOCK_FROM) {
        qgemm_kblocked(k, packed_a, src, b, ldb, b_signed, c, ldc, rq, m_begin, m_end, n_begin, n_end, packed_b, t, fast);
        return;
    }
    qgemm_4x64(k, packed_a, src, b, ldb, b_signed, c, ldc, rq, m_begin, m_end, n_begin, n_end, packed_b, t, fast);
}

CK_AVX512VNNI void ck_qgemm_avx512vnni(int m, int n, int k, const void *packed_a, const uint8_t *b, int ldb,
                                       int b_signed, void *c, int ldc, const ck_requant *rq, int m_begin,
                                       int m_end, int n_begin, int n_end, void *scratch) {
    (void)m;
    (void)n;
    qgemm_any(k, packed_a, NULL, b, ldb, b_signed, c, ldc, rq, m_begin, m_end, n_begin, n_end, scratch);
}

CK_AVX512VNNI int ck_qgemm_conv_avx512vnni(int m, int k, const void *packed_a, const uint8_t *in, const ck_window *win,
                                           uint8_t pad, int b_signed, void *c, int ldc, const ck_requant *rq,
                                           int m_begin, int m_end, int n_begin, int n_end, void *scratch) {
    (void)m;
    if (!ck_qgemm_conv_fits(win, k)) return 0;
    conv_source src = {in, win, pad};
    qgemm_any(k, packed_a, &src, NULL, 0, b_signed, c, ldc, rq, m_begin, m_end, n_begin, n_end, scratch);
    return 1;
}

#endif
