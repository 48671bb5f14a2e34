// AVX-512 VNNI driver of ck_qgemm. C is computed in tiles held in zmm int32 accumulators: per
// group of 4 k a tile loads vectors of a packed B panel (16 columns x 4 u8 each) and issues
// vpdpbusd against the 4 s8 weights of each row broadcast from the packed A panel (u8 x s8
// products summed exactly in int32; vpdpbusd, unlike vpmaddubsw, has no int16 intermediate, and
// the non-saturating form is used). B is packed per call into the thread's scratch, XOR 0x80
// turning int8 into int8 + 128. All of K is packed for a block of columns (an int8 C cannot carry
// partial sums), the block sized to stay in L2 (ck_qgemm_nc_avx512); an A panel (k4 x 8 bytes)
// stays in L1 while the tiles sweep the block. The epilogue requantises in registers and stores
// bytes. Tiles are 4 rows x 64 columns (16 accumulators) whenever a block holds 64 columns
// (k4 <= 8192), otherwise 8 rows x 48 columns (24 accumulators) over [k/4][48 columns][4 bytes]
// panels.
#include "Internal.h"

#if CK_X86

#define NR CK_QGEMM_NR_AVX512
#define PANEL_GROUP_BYTES (NR * 4)   // one k group of a full panel
#define PREFETCH_GROUPS 2

typedef int32_t ck_unaligned_i32 __attribute__((may_alias, aligned(1)));

/// Packs all k rows x nc columns of B (row-major, ldb) into 48-column panels: panel q is
/// groups x 192 bytes at dst + q*groups*192; a last, narrower panel of w columns uses
/// ceil(w/16)*64 bytes a group. Rows past k are zero; columns past nc inside the last vector
/// hold filler whose results are never stored.
CK_AVX512VNNI static void pack_b(const uint8_t *b, int ldb, int k, int nc, int flip, uint8_t *dst) {
    const int groups = (k + 3) / 4;
    const int full = nc / NR, rem = nc - full * NR;
    const int rem_nv = (rem + 15) / 16;
    const __m512i x80 = _mm512_set1_epi8(flip ? (char)0x80 : 0);
    for (int g = 0; g < groups; g++) {
        const int rows = ck_min_int(4, k - 4 * g);
        const uint8_t *src[4];
        for (int t = 0; t < 4; t++) src[t] = b + (size_t)(4 * g + (t < rows ? t : 0)) * (size_t)ldb;
        const int ahead = 4 * (g + PREFETCH_GROUPS) + 3 < k;
        for (int c0 = 0; c0 < nc; c0 += 64) {
            int w = nc - c0;
            __mmask64 mask = w >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << w) - 1);
            __m512i r[4];
            for (int t = 0; t < 4; t++) {
                // Rows of B are ldb apart, often pages apart, which the hardware prefetcher does
                // not follow: fetch the group PREFETCH_GROUPS ahead while this one is copied.
                if (ahead) _mm_prefetch((const char *)(src[t] + (size_t)(4 * PREFETCH_GROUPS) * (size_t)ldb + c0), _MM_HINT_T0);
                r[t] = t < rows ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, src[t] + c0), x80)
                                : _mm512_setzero_si512();
            }
            // Byte transpose: u_i holds, per 128-bit lane L, columns 16L+4i..16L+4i+3 as 4-byte groups.
            __m512i t0 = _mm512_unpacklo_epi8(r[0], r[1]), t1 = _mm512_unpackhi_epi8(r[0], r[1]);
            __m512i t2 = _mm512_unpacklo_epi8(r[2], r[3]), t3 = _mm512_unpackhi_epi8(r[2], r[3]);
            __m512i u0 = _mm512_unpacklo_epi16(t0, t2), u1 = _mm512_unpackhi_epi16(t0, t2);
            __m512i u2 = _mm512_unpacklo_epi16(t1, t3), u3 = _mm512_unpackhi_epi16(t1, t3);
            // 4x4 transpose of 128-bit lanes: out[L] = columns 16L..16L+15 = (u0.L, u1.L, u2.L, u3.L).
            __m512i v0 = _mm512_shuffle_i32x4(u0, u1, 0x44), v1 = _mm512_shuffle_i32x4(u2, u3, 0x44);
            __m512i v2 = _mm512_shuffle_i32x4(u0, u1, 0xEE), v3 = _mm512_shuffle_i32x4(u2, u3, 0xEE);
            __m512i out[4] = {_mm512_shuffle_i32x4(v0, v1, 0x88), _mm512_shuffle_i32x4(v0, v1, 0xDD),
                              _mm512_shuffle_i32x4(v2, v3, 0x88), _mm512_shuffle_i32x4(v2, v3, 0xDD)};
            for (int l = 0; l < 4; l++) {
                int chunk = c0 / 16 + l;   // 16-column chunk: vector chunk % 3 of panel chunk / 3
                if (chunk * 16 >= nc) break;
                int q = chunk / 3, v = chunk - 3 * q;
                int panel_nv = q < full ? 3 : rem_nv;
                uint8_t *d = dst + (size_t)q * (size_t)groups * PANEL_GROUP_BYTES + (size_t)g * (size_t)panel_nv * 64 +
                             (size_t)v * 64;
                _mm512_storeu_si512((void *)d, out[l]);
            }
        }
    }
}

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

/// One 8 x (NV*16) tile over all k groups of the packed panels, then its epilogue.
CK_AVX512VNNI CK_INLINE void tile(const int NV, const int FAST, int groups, const uint8_t *a, const uint8_t *b, const qtile_out *t) {
    // The accumulators start at the bias (int32 sums are exact in any order); rows outside the
    // stored range (possibly past m) start at 0 and are never stored.
    __m512i acc[CK_QGEMM_MR][3];
#pragma clang loop unroll(full)
    for (int r = 0; r < CK_QGEMM_MR; r++) {
        __m512i start = r >= t->r_lo && r < t->r_hi ? _mm512_set1_epi32(t->bias[r]) : _mm512_setzero_si512();
        for (int v = 0; v < 3; v++) acc[r][v] = start;
    }
    for (int g = 0; g < groups; g++) {
        __m512i b0 = _mm512_loadu_si512((const void *)b);
        __m512i b1 = NV > 1 ? _mm512_loadu_si512((const void *)(b + 64)) : b0;
        __m512i b2 = NV > 2 ? _mm512_loadu_si512((const void *)(b + 128)) : b0;
#pragma clang loop unroll(full)
        for (int r = 0; r < CK_QGEMM_MR; r++) {
            __m512i ar = _mm512_set1_epi32(*(const ck_unaligned_i32 *)(a + 4 * r));
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], b0, ar);
            if (NV > 1) acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], b1, ar);
            if (NV > 2) acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], b2, ar);
        }
        a += CK_QGEMM_MR * 4;
        b += NV * 64;
    }
    int last = t->width - (NV - 1) * 16;
    if (FAST) {
        // float(acc) * scale cannot leave the int32 range (the driver checked), so it is rounded
        // first and clamped in integers: clamp(round(x)) == round(clamp(x)) for integer bounds.
        // vpackssdw saturates to int16, vpaddsw adds the zero point, vpack{us,ss}wb saturates to
        // the output type and a byte min/max applies a narrowed qmin/qmax; each step is monotone
        // and leaves values inside [qmin, qmax] unchanged, so the result is the clamp exactly.
        // Per 128-bit lane L the bytes come out as dwords (v0.L, v1.L, v2.L, v2.L), v.L being
        // columns 16v+4L..16v+4L+3; vpermd puts them in column order.
        const __m512i zp16 = _mm512_set1_epi16((short)t->zp);
        const __m512i qlo = _mm512_set1_epi8((char)t->qmin), qhi = _mm512_set1_epi8((char)t->qmax);
        const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        const __mmask64 store_mask = t->width >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << t->width) - 1);
#pragma clang loop unroll(full)
        for (int r = 0; r < CK_QGEMM_MR; r++) {
            if (r < t->r_lo || r >= t->r_hi) continue;
            __m512 scale = _mm512_set1_ps(t->scale[r]);
            __m512i x0 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[r][0]), scale));
            __m512i x1 = NV > 1 ? _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[r][1]), scale)) : x0;
            __m512i x2 = NV > 2 ? _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[r][2]), scale)) : x0;
            __m512i w01 = _mm512_adds_epi16(_mm512_packs_epi32(x0, x1), zp16);
            __m512i w2 = NV > 2 ? _mm512_adds_epi16(_mm512_packs_epi32(x2, x2), zp16) : w01;
            __m512i bytes;
            if (t->out_signed)
                bytes = _mm512_min_epi8(_mm512_max_epi8(_mm512_packs_epi16(w01, w2), qlo), qhi);
            else
                bytes = _mm512_min_epu8(_mm512_max_epu8(_mm512_packus_epi16(w01, w2), qlo), qhi);
            _mm512_mask_storeu_epi8(t->c + (size_t)r * (size_t)t->ldc, store_mask, _mm512_permutexvar_epi32(order, bytes));
        }
        return;
    }
    const __m512 flo = _mm512_set1_ps(t->flo), fhi = _mm512_set1_ps(t->fhi);
    const __m512i zp = _mm512_set1_epi32(t->zp);
    __mmask16 last_mask = last >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << last) - 1u);
#pragma clang loop unroll(full)
    for (int r = 0; r < CK_QGEMM_MR; r++) {
        if (r < t->r_lo || r >= t->r_hi) continue;
        uint8_t *cr = t->c + (size_t)r * (size_t)t->ldc;
        __m512 scale = _mm512_set1_ps(t->scale[r]);
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) {
            __m512i q = requant16(acc[r][v], scale, flo, fhi, zp);
            // vpmovdb keeps the low byte of each lane, as the scalar (u)int8 store does.
            if (v < NV - 1)
                _mm_storeu_si128((__m128i *)(cr + 16 * v), _mm512_cvtepi32_epi8(q));
            else
                _mm512_mask_cvtepi32_storeu_epi8(cr + 16 * v, last_mask, q);
        }
    }
}

CK_AVX512VNNI static void tile_any(int nv, int groups, const uint8_t *a, const uint8_t *b, const qtile_out *t) {
    switch (nv) {
    case 3: tile(3, 0, groups, a, b, t); break;
    case 2: tile(2, 0, groups, a, b, t); break;
    default: tile(1, 0, groups, a, b, t); break;
    }
}

CK_AVX512VNNI static void tile_any_fast(int nv, int groups, const uint8_t *a, const uint8_t *b, const qtile_out *t) {
    switch (nv) {
    case 3: tile(3, 1, groups, a, b, t); break;
    case 2: tile(2, 1, groups, a, b, t); break;
    default: tile(1, 1, groups, a, b, t); break;
    }
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
// 4 x 64 tiles (every K whose column block holds 64 columns, i.e. k4 <= 8192). Measured faster
// than the 8 x 48 tiles at every layer size, most at small K, where the per-element work outside
// the k loop (packing B, the epilogue) costs as much as the vpdpbusd: B is packed without the
// 128-bit lane transpose, a 64-column panel being, per k group, the 4 vectors u_0..u_3 the
// byte/word unpacks give, lane L of u_i holding columns 16L+4i..16L+4i+3, and the epilogue's
// in-lane packs (vpackssdw u_0,u_1 / u_2,u_3, then vpack{us,ss}wb) put those columns back in
// order with no permute, 64 output bytes a row in one store. Tiles are 4 rows (half an A panel).

#define NR64 64
#define PANEL64_GROUP_BYTES (NR64 * 4)

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
            __m512i t0 = _mm512_unpacklo_epi8(r[0], r[1]), t1 = _mm512_unpackhi_epi8(r[0], r[1]);
            __m512i t2 = _mm512_unpacklo_epi8(r[2], r[3]), t3 = _mm512_unpackhi_epi8(r[2], r[3]);
            _mm512_storeu_si512((void *)d, _mm512_unpacklo_epi16(t0, t2));
            _mm512_storeu_si512((void *)(d + 64), _mm512_unpackhi_epi16(t0, t2));
            _mm512_storeu_si512((void *)(d + 128), _mm512_unpacklo_epi16(t1, t3));
            _mm512_storeu_si512((void *)(d + 192), _mm512_unpackhi_epi16(t1, t3));
        }
    }
}

CK_AVX512VNNI static void pack_b64(const uint8_t *b, int ldb, int k, int nc, int flip, uint8_t *dst) {
    if (flip) pack_b64_body(1, b, ldb, k, nc, dst);
    else pack_b64_body(0, b, ldb, k, nc, dst);
}

/// One 4 x 64 tile (rows at `a` inside the 8-row A panel, groups 32 bytes apart) over all k
/// groups of a 64-column panel, then its epilogue (FAST as in tile()).
CK_AVX512VNNI CK_INLINE void tile64(const int FAST, int groups, const uint8_t *a, const uint8_t *b, const qtile_out *t) {
    __m512i acc[4][4];
#pragma clang loop unroll(full)
    for (int r = 0; r < 4; r++) {
        __m512i start = r >= t->r_lo && r < t->r_hi ? _mm512_set1_epi32(t->bias[r]) : _mm512_setzero_si512();
        for (int v = 0; v < 4; v++) acc[r][v] = start;
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
    tile64(1, groups, a, b, t);
}
CK_AVX512VNNI static void tile64_general(int groups, const uint8_t *a, const uint8_t *b, const qtile_out *t) {
    tile64(0, groups, a, b, t);
}

/// The 4 x 64 driver: column blocks of at most nc_max rounded down to 64 columns (so the packed
/// block still fits the scratch), half-panel tiles.
CK_AVX512VNNI static void qgemm_4x64(int k, const void *packed_a, const uint8_t *b, int ldb, int b_signed, void *c,
                                        int ldc, const ck_requant *rq, int m_begin, int m_end, int n_begin, int n_end,
                                        uint8_t *packed_b, qtile_out t, int fast) {
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
        pack_b64(b + jc, ldb, k, nc, b_signed, packed_b);
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

CK_AVX512VNNI void ck_qgemm_avx512vnni(int m, int n, int k, const void *packed_a, const uint8_t *b, int ldb,
                                       int b_signed, void *c, int ldc, const ck_requant *rq, int m_begin,
                                       int m_end, int n_begin, int n_end, void *scratch) {
    (void)m;
    (void)n;
    const int groups = (k + 3) / 4;
    const int nc_max = ck_qgemm_nc_avx512(k);
    int ncols = n_end - n_begin;
    int nblocks = (ncols + nc_max - 1) / nc_max;
    int nc_step = (ncols + nblocks - 1) / nblocks;
    nc_step = (nc_step + NR - 1) / NR * NR;
    const int panel_lo = m_begin / CK_QGEMM_MR, panel_hi = (m_end + CK_QGEMM_MR - 1) / CK_QGEMM_MR;
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
    if (ck_qgemm_nc_avx512(k) >= NR64) {
        qgemm_4x64(k, packed_a, b, ldb, b_signed, c, ldc, rq, m_begin, m_end, n_begin, n_end, packed_b, t, fast);
        return;
    }
    void (*run_tile)(int, int, const uint8_t *, const uint8_t *, const qtile_out *) = fast ? tile_any_fast : tile_any;
    for (int jc = n_begin; jc < n_end; jc += nc_step) {
        int nc = ck_min_int(nc_step, n_end - jc);
        pack_b(b + jc, ldb, k, nc, b_signed, packed_b);
        for (int panel = panel_lo; panel < panel_hi; panel++) {
            int row0 = panel * CK_QGEMM_MR;
            t.r_lo = ck_max_int(m_begin - row0, 0);
            t.r_hi = ck_min_int(m_end - row0, CK_QGEMM_MR);
            t.bias = rq->bias + row0;
            t.scale = rq->scale + row0;
            const uint8_t *ap = (const uint8_t *)packed_a + (size_t)panel * (size_t)groups * CK_QGEMM_MR * 4;
            for (int q = 0; q * NR < nc; q++) {
                t.width = ck_min_int(NR, nc - q * NR);
                t.c = (uint8_t *)c + (size_t)row0 * (size_t)ldc + (size_t)(jc + q * NR);
                run_tile((t.width + 15) / 16, groups, ap, packed_b + (size_t)q * (size_t)groups * PANEL_GROUP_BYTES, &t);
            }
        }
    }
}

#endif
