// ymm drivers of ck_qgemm for CPUs without AVX-512: AVX-VNNI (vpdpbusd, VEX) and plain AVX2.
// Both compute tiles of 4 rows (half of an 8-row A panel) and blocks of columns like
// QGemmAVX512.c, packing all of K for a column block into the thread's scratch.
//  - AVX-VNNI: B packed as [k/4][24 columns][4 u8] panels, tiles of 4 x 24 (12 accumulators,
//    3 B vectors, 1 broadcast: the 16 ymm registers), vpdpbusd with the 4 s8 weights of a row
//    broadcast from the packed A panel.
//  - AVX2: there is no exact u8 x s8 byte instruction (vpmaddubsw saturates its int16 pair sums),
//    so B is packed zero-extended to int16 as [k/2][16 columns][2 int16] panels and each A panel
//    is widened to int16 pairs once per column block; vpmaddwd then sums two exact products
//    (|u8 x s8| <= 32640) into int32 and vpaddd accumulates. Tiles of 4 x 16.
// XOR 0x80 turns int8 B into int8 + 128 while packing. The epilogue requantises in registers
// (float(acc + bias) * scale, clamp, cvtps2dq rounding half to even, + zp) and stores the low
// bytes; partial rows go through a small stack buffer (AVX2 has no byte-masked store).
#include "Internal.h"

#if CK_X86

#include <string.h>

typedef int32_t ck_unaligned_i32 __attribute__((may_alias, aligned(1)));

#define TILE_ROWS 4
#define NR_VNNI CK_QGEMM_NR_AVXVNNI
#define NR_AVX2 CK_QGEMM_NR_AVX2
#define PREFETCH_ROWS 8

/// Where one tile goes and how it is requantised.
typedef struct {
    uint8_t *c;             // C at (row0, col), bytes
    int ldc;
    int r_lo, r_hi;         // tile rows to store (0..4)
    int width;              // valid columns (1..NV*8)
    const int32_t *bias;    // at row0
    const float *scale;     // at row0
    float flo, fhi;         // qmin - zp, qmax - zp
    int32_t zp;
} qtile_out;

/// Loads 32 bytes of a B row from column c0, or the w < 32 bytes left, zero-filled after them.
CK_AVX2 CK_INLINE __m256i load_row32(const uint8_t *src, int w) {
    if (w >= 32) return _mm256_loadu_si256((const __m256i *)src);
    _Alignas(32) uint8_t buf[32] = {0};
    memcpy(buf, src, (size_t)w);
    return _mm256_load_si256((const __m256i *)buf);
}

/// The same for 16 bytes.
CK_AVX2 CK_INLINE __m128i load_row16(const uint8_t *src, int w) {
    if (w >= 16) return _mm_loadu_si128((const __m128i *)src);
    _Alignas(16) uint8_t buf[16] = {0};
    memcpy(buf, src, (size_t)w);
    return _mm_load_si128((const __m128i *)buf);
}

/// acc -> requantised int32 (float(acc + bias) * scale, clamp, round half to even, + zp).
CK_AVX2 CK_INLINE __m256i requant8(__m256i acc, __m256i bias, __m256 scale, __m256 flo, __m256 fhi, __m256i zp) {
    __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc, bias)), scale);
    x = _mm256_min_ps(_mm256_max_ps(x, flo), fhi);
    return _mm256_add_epi32(_mm256_cvtps_epi32(x), zp);
}

/// Stores the low bytes of up to 3 vectors of 8 int32 (columns 0..23) to dst, `width` bytes.
/// Masking each lane to its low byte first makes the unsigned-saturating packs exact truncation.
CK_AVX2 CK_INLINE void store_bytes(uint8_t *dst, const int NV, const __m256i *q, int width) {
    const __m256i low = _mm256_set1_epi32(0xFF);
    __m256i q0 = _mm256_and_si256(q[0], low);
    __m256i q1 = NV > 1 ? _mm256_and_si256(q[1], low) : _mm256_setzero_si256();
    __m256i q2 = NV > 2 ? _mm256_and_si256(q[2], low) : _mm256_setzero_si256();
    __m256i w01 = _mm256_packus_epi32(q0, q1);                 // [q0.L0 q1.L0 | q0.L1 q1.L1] as u16
    __m256i w2 = _mm256_packus_epi32(q2, _mm256_setzero_si256());
    __m256i bytes = _mm256_packus_epi16(w01, w2);              // dwords: q0.L0 q1.L0 q2.L0 0 | q0.L1 q1.L1 q2.L1 0
    bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    if (width == 8 * NV) {
        if (NV == 1) {
            _mm_storel_epi64((__m128i *)dst, _mm256_castsi256_si128(bytes));
        } else {
            _mm_storeu_si128((__m128i *)dst, _mm256_castsi256_si128(bytes));
            if (NV == 3) _mm_storel_epi64((__m128i *)(dst + 16), _mm256_extracti128_si256(bytes, 1));
        }
    } else {
        _Alignas(32) uint8_t buf[32];
        _mm256_store_si256((__m256i *)buf, bytes);
        memcpy(dst, buf, (size_t)width);
    }
}

/// The epilogue of a 4 x (NV*8) tile.
CK_AVX2 CK_INLINE void tile_store(const int NV, __m256i acc[TILE_ROWS][3], const qtile_out *t) {
    const __m256 flo = _mm256_set1_ps(t->flo), fhi = _mm256_set1_ps(t->fhi);
    const __m256i zp = _mm256_set1_epi32(t->zp);
#pragma clang loop unroll(full)
    for (int r = 0; r < TILE_ROWS; r++) {
        if (r < t->r_lo || r >= t->r_hi) continue;
        __m256i bias = _mm256_set1_epi32(t->bias[r]);
        __m256 scale = _mm256_set1_ps(t->scale[r]);
        __m256i q[3];
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) q[v] = requant8(acc[r][v], bias, scale, flo, fhi, zp);
        store_bytes(t->c + (size_t)r * (size_t)t->ldc, NV, q, t->width);
    }
}

// ---------------------------------------------------------------------------------------------
// AVX-VNNI

/// Packs all k rows x nc columns of B into 24-column panels of [k/4][24][4 bytes]: panel q is
/// groups x 96 bytes at dst + q*groups*96; a last, narrower panel of w columns uses
/// ceil(w/8)*32 bytes a group. Rows past k are zero.
CK_AVX2 static void pack_b_quads(const uint8_t *b, int ldb, int k, int nc, int flip, uint8_t *dst) {
    const int groups = (k + 3) / 4;
    const int full = nc / NR_VNNI, rem = nc - full * NR_VNNI;
    const int rem_nv = (rem + 7) / 8;
    const __m256i x80 = _mm256_set1_epi8(flip ? (char)0x80 : 0);
    for (int g = 0; g < groups; g++) {
        const int rows = ck_min_int(4, k - 4 * g);
        const uint8_t *src[4];
        for (int t = 0; t < 4; t++) src[t] = b + (size_t)(4 * g + (t < rows ? t : 0)) * (size_t)ldb;
        const int ahead = 4 * g + 3 + PREFETCH_ROWS < k;
        for (int c0 = 0; c0 < nc; c0 += 32) {
            int w = nc - c0;
            __m256i r[4];
            for (int t = 0; t < 4; t++) {
                if (ahead) _mm_prefetch((const char *)(src[t] + (size_t)PREFETCH_ROWS * (size_t)ldb + c0), _MM_HINT_T0);
                r[t] = t < rows ? _mm256_xor_si256(load_row32(src[t] + c0, w), x80) : _mm256_setzero_si256();
            }
            // u_i holds, per 128-bit lane L, columns 16L+4i..16L+4i+3 as 4-byte groups.
            __m256i t0 = _mm256_unpacklo_epi8(r[0], r[1]), t1 = _mm256_unpackhi_epi8(r[0], r[1]);
            __m256i t2 = _mm256_unpacklo_epi8(r[2], r[3]), t3 = _mm256_unpackhi_epi8(r[2], r[3]);
            __m256i u0 = _mm256_unpacklo_epi16(t0, t2), u1 = _mm256_unpackhi_epi16(t0, t2);
            __m256i u2 = _mm256_unpacklo_epi16(t1, t3), u3 = _mm256_unpackhi_epi16(t1, t3);
            __m256i out[4] = {_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u2, u3, 0x20),
                              _mm256_permute2x128_si256(u0, u1, 0x31), _mm256_permute2x128_si256(u2, u3, 0x31)};
            for (int l = 0; l < 4; l++) {
                int chunk = c0 / 8 + l;   // 8-column chunk: vector chunk % 3 of panel chunk / 3
                if (chunk * 8 >= nc) break;
                int q = chunk / 3, v = chunk - 3 * q;
                int panel_nv = q < full ? 3 : rem_nv;
                uint8_t *d = dst + (size_t)q * (size_t)groups * (NR_VNNI * 4) + (size_t)g * (size_t)panel_nv * 32 +
                             (size_t)v * 32;
                _mm256_storeu_si256((__m256i *)d, out[l]);
            }
        }
    }
}

// One k group of the full 4 x 24 tile: 3 B vectors at byte offset BOFF of the panel, the 4 rows'
// weights at A0..A3 bytes. %{vex%} forces the VEX (AVX-VNNI) encoding: the EVEX one needs AVX-512.
#define VNNI_ROW(AOFF, C0, C1, C2)                  \
    "vpbroadcastd " #AOFF "(%[a]), %[t]\n\t"         \
    "%{vex%} vpdpbusd %[t], %[b0], %[" #C0 "]\n\t" \
    "%{vex%} vpdpbusd %[t], %[b1], %[" #C1 "]\n\t" \
    "%{vex%} vpdpbusd %[t], %[b2], %[" #C2 "]\n\t"
#define VNNI_GROUP(BOFF0, BOFF1, BOFF2, A0, A1, A2, A3) \
    "vmovdqu " #BOFF0 "(%[b]), %[b0]\n\t"             \
    "vmovdqu " #BOFF1 "(%[b]), %[b1]\n\t"             \
    "vmovdqu " #BOFF2 "(%[b]), %[b2]\n\t"             \
    VNNI_ROW(A0, c00, c01, c02) VNNI_ROW(A1, c10, c11, c12) VNNI_ROW(A2, c20, c21, c22) VNNI_ROW(A3, c30, c31, c32)
#define VNNI_OPERANDS                                                                                          \
    : [c00] "+x"(c00), [c01] "+x"(c01), [c02] "+x"(c02), [c10] "+x"(c10), [c11] "+x"(c11), [c12] "+x"(c12),  \
      [c20] "+x"(c20), [c21] "+x"(c21), [c22] "+x"(c22), [c30] "+x"(c30), [c31] "+x"(c31), [c32] "+x"(c32),  \
      [b0] "=&x"(b0), [b1] "=&x"(b1), [b2] "=&x"(b2), [t] "=&x"(t)                                           \
    : [a] "r"(a), [b] "r"(b)                                                                                  \
    : "memory"

/// All k groups of the full 4 x 24 tile. Written as asm blocks (two groups each) because the tile
/// needs exactly the 16 ymm registers (12 accumulators, 3 B vectors, 1 broadcast) and the
/// compiler's allocation otherwise spills an accumulator every group (as in GemmAVX2.c).
CK_AVXVNNI CK_INLINE void vnni_full_width(int groups, const uint8_t *a, const uint8_t *b, __m256i acc[TILE_ROWS][3]) {
    __m256i c00 = acc[0][0], c01 = acc[0][1], c02 = acc[0][2], c10 = acc[1][0], c11 = acc[1][1],
            c12 = acc[1][2], c20 = acc[2][0], c21 = acc[2][1], c22 = acc[2][2], c30 = acc[3][0],
            c31 = acc[3][1], c32 = acc[3][2];
    int g = 0;
    for (; g + 2 <= groups; g += 2) {
        __m256i b0, b1, b2, t;
        __asm__(VNNI_GROUP(0, 32, 64, 0, 4, 8, 12) VNNI_GROUP(96, 128, 160, 32, 36, 40, 44) VNNI_OPERANDS);
        a += 2 * CK_QGEMM_MR * 4;
        b += 2 * NR_VNNI * 4;
    }
    if (g < groups) {
        __m256i b0, b1, b2, t;
        __asm__(VNNI_GROUP(0, 32, 64, 0, 4, 8, 12) VNNI_OPERANDS);
    }
    acc[0][0] = c00; acc[0][1] = c01; acc[0][2] = c02;
    acc[1][0] = c10; acc[1][1] = c11; acc[1][2] = c12;
    acc[2][0] = c20; acc[2][1] = c21; acc[2][2] = c22;
    acc[3][0] = c30; acc[3][1] = c31; acc[3][2] = c32;
}

/// One 4 x (NV*8) tile over all k groups; `a` points at the tile's first row inside the
/// 8-row packed A panel (groups are 32 bytes apart).
CK_AVXVNNI CK_INLINE void tile_vnni(const int NV, int groups, const uint8_t *a, const uint8_t *b, const qtile_out *t) {
    __m256i acc[TILE_ROWS][3];
#pragma clang loop unroll(full)
    for (int r = 0; r < TILE_ROWS; r++)
        for (int v = 0; v < 3; v++) acc[r][v] = _mm256_setzero_si256();
    if (NV == 3) {
        vnni_full_width(groups, a, b, acc);
        groups = 0;
    }
    for (int g = 0; g < groups; g++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)b);
        __m256i b1 = NV > 1 ? _mm256_loadu_si256((const __m256i *)(b + 32)) : b0;
        __m256i b2 = NV > 2 ? _mm256_loadu_si256((const __m256i *)(b + 64)) : b0;
#pragma clang loop unroll(full)
        for (int r = 0; r < TILE_ROWS; r++) {
            __m256i ar = _mm256_set1_epi32(*(const ck_unaligned_i32 *)(a + 4 * r));
            acc[r][0] = _mm256_dpbusd_avx_epi32(acc[r][0], b0, ar);
            if (NV > 1) acc[r][1] = _mm256_dpbusd_avx_epi32(acc[r][1], b1, ar);
            if (NV > 2) acc[r][2] = _mm256_dpbusd_avx_epi32(acc[r][2], b2, ar);
        }
        a += CK_QGEMM_MR * 4;
        b += NV * 32;
    }
    tile_store(NV, acc, t);
}

CK_AVXVNNI static void tile_vnni_any(int nv, int groups, const uint8_t *a, const uint8_t *b, const qtile_out *t) {
    switch (nv) {
    case 3: tile_vnni(3, groups, a, b, t); break;
    case 2: tile_vnni(2, groups, a, b, t); break;
    default: tile_vnni(1, groups, a, b, t); break;
    }
}

/// Column step of a driver: the column range split into equal blocks of at most nc_max columns,
/// rounded up to whole tiles.
static int column_step(int ncols, int nc_max, int nr) {
    int nblocks = (ncols + nc_max - 1) / nc_max;
    int step = (ncols + nblocks - 1) / nblocks;
    return (step + nr - 1) / nr * nr;
}

CK_AVXVNNI void ck_qgemm_avxvnni(int m, int n, int k, const void *packed_a, const uint8_t *b, int ldb,
                                 int b_signed, void *c, int ldc, const ck_requant *rq, int m_begin, int m_end,
                                 int n_begin, int n_end, void *scratch) {
    (void)m;
    (void)n;
    const int groups = (k + 3) / 4;
    const int nc_step = column_step(n_end - n_begin, ck_qgemm_nc_avxvnni(k), NR_VNNI);
    const int half_lo = m_begin / TILE_ROWS, half_hi = (m_end + TILE_ROWS - 1) / TILE_ROWS;
    uint8_t *packed_b = (uint8_t *)scratch;
    qtile_out t;
    t.ldc = ldc;
    t.flo = (float)(rq->qmin - rq->zero_point);
    t.fhi = (float)(rq->qmax - rq->zero_point);
    t.zp = rq->zero_point;
    for (int jc = n_begin; jc < n_end; jc += nc_step) {
        int nc = ck_min_int(nc_step, n_end - jc);
        pack_b_quads(b + jc, ldb, k, nc, b_signed, packed_b);
        // Half-panels of 4 rows: half h is rows [4h, 4h+4) of 8-row panel h/2, at byte offset 16*(h%2).
        for (int half = half_lo; half < half_hi; half++) {
            int row0 = half * TILE_ROWS;
            t.r_lo = ck_max_int(m_begin - row0, 0);
            t.r_hi = ck_min_int(m_end - row0, TILE_ROWS);
            t.bias = rq->bias + row0;
            t.scale = rq->scale + row0;
            const uint8_t *ap = (const uint8_t *)packed_a + (size_t)(half / 2) * (size_t)groups * CK_QGEMM_MR * 4 +
                                (size_t)(half % 2) * TILE_ROWS * 4;
            for (int q = 0; q * NR_VNNI < nc; q++) {
                t.width = ck_min_int(NR_VNNI, nc - q * NR_VNNI);
                t.c = (uint8_t *)c + (size_t)row0 * (size_t)ldc + (size_t)(jc + q * NR_VNNI);
                tile_vnni_any((t.width + 7) / 8, groups, ap, packed_b + (size_t)q * (size_t)groups * (NR_VNNI * 4), &t);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// AVX2 (vpmaddwd)

/// Packs all k rows x nc columns of B into 16-column panels of [k4/2][16][2 int16] (u8 or
/// int8 + 128 zero-extended): panel q is pairs x 64 bytes at dst + q*pairs*64. Rows past k are
/// zero; columns past nc in the last panel hold filler whose results are never stored.
CK_AVX2 static void pack_b_pairs(const uint8_t *b, int ldb, int k, int nc, int flip, uint8_t *dst) {
    const int pairs = (int)(ck_qgemm_k4(k) / 2);
    const __m128i x80 = _mm_set1_epi8(flip ? (char)0x80 : 0);
    for (int p = 0; p < pairs; p++) {
        int k0 = 2 * p, k1 = 2 * p + 1;
        // Rows past k are never read (their pointers stay at row 0).
        const uint8_t *s0 = b + (size_t)(k0 < k ? k0 : 0) * (size_t)ldb, *s1 = b + (size_t)(k1 < k ? k1 : 0) * (size_t)ldb;
        const int ahead = k1 + PREFETCH_ROWS < k;
        for (int c0 = 0; c0 < nc; c0 += 16) {
            int w = nc - c0;
            if (ahead && (c0 & 63) == 0) {
                _mm_prefetch((const char *)(s0 + (size_t)PREFETCH_ROWS * (size_t)ldb + c0), _MM_HINT_T0);
                _mm_prefetch((const char *)(s1 + (size_t)PREFETCH_ROWS * (size_t)ldb + c0), _MM_HINT_T0);
            }
            __m128i x0 = k0 < k ? _mm_xor_si128(load_row16(s0 + c0, w), x80) : _mm_setzero_si128();
            __m128i x1 = k1 < k ? _mm_xor_si128(load_row16(s1 + c0, w), x80) : _mm_setzero_si128();
            uint8_t *d = dst + (size_t)(c0 / 16) * (size_t)pairs * 64 + (size_t)p * 64;
            _mm256_storeu_si256((__m256i *)d, _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(x0, x1)));
            _mm256_storeu_si256((__m256i *)(d + 32), _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(x0, x1)));
        }
    }
}

/// Widens one packed 8-row A panel (groups of 8 rows x 4 s8) to int16 pairs: pair p of row r is
/// the int32 at dst[p*8 + r] holding (A[r][2p], A[r][2p+1]) as two int16.
CK_AVX2 static void widen_a_panel(const uint8_t *a, int groups, int32_t *dst) {
    for (int g = 0; g < groups; g++) {
        __m256i y = _mm256_loadu_si256((const __m256i *)(a + (size_t)g * 32));
        // Rows 0-3 and 4-7 as int16; in int32 units: [r0 p0, r0 p1, r1 p0, r1 p1, ...].
        __m256 lo = _mm256_castsi256_ps(_mm256_cvtepi8_epi16(_mm256_castsi256_si128(y)));
        __m256 hi = _mm256_castsi256_ps(_mm256_cvtepi8_epi16(_mm256_extracti128_si256(y, 1)));
        // shuffle_ps 0x88 / 0xDD pick the even / odd int32 in lane order {0,1,4,5,2,3,6,7} of rows.
        __m256i even = _mm256_permute4x64_epi64(_mm256_castps_si256(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8);
        __m256i odd = _mm256_permute4x64_epi64(_mm256_castps_si256(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8);
        _mm256_storeu_si256((__m256i *)(dst + (size_t)g * 16), even);
        _mm256_storeu_si256((__m256i *)(dst + (size_t)g * 16 + 8), odd);
    }
}

/// One 4 x (NV*8) tile over all k pairs; `a` points at the tile's first row of the widened panel.
CK_AVX2 CK_INLINE void tile_madd(const int NV, int pairs, const int32_t *a, const uint8_t *b, const qtile_out *t) {
    __m256i acc[TILE_ROWS][3];
#pragma clang loop unroll(full)
    for (int r = 0; r < TILE_ROWS; r++)
        for (int v = 0; v < 3; v++) acc[r][v] = _mm256_setzero_si256();
    for (int p = 0; p < pairs; p++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)b);
        __m256i b1 = NV > 1 ? _mm256_loadu_si256((const __m256i *)(b + 32)) : b0;
#pragma clang loop unroll(full)
        for (int r = 0; r < TILE_ROWS; r++) {
            __m256i ar = _mm256_set1_epi32(a[r]);
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(b0, ar));
            if (NV > 1) acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(b1, ar));
        }
        a += CK_QGEMM_MR;
        b += 64;
    }
    tile_store(NV, acc, t);
}

CK_AVX2 static void tile_madd_any(int nv, int pairs, const int32_t *a, const uint8_t *b, const qtile_out *t) {
    if (nv == 2)
        tile_madd(2, pairs, a, b, t);
    else
        tile_madd(1, pairs, a, b, t);
}

CK_AVX2 void ck_qgemm_avx2(int m, int n, int k, const void *packed_a, const uint8_t *b, int ldb, int b_signed,
                           void *c, int ldc, const ck_requant *rq, int m_begin, int m_end, int n_begin, int n_end,
                           void *scratch) {
    (void)m;
    (void)n;
    const int groups = (k + 3) / 4, pairs = 2 * groups;
    const int nc_max = ck_qgemm_nc_avx2(k);
    const int nc_step = column_step(n_end - n_begin, nc_max, NR_AVX2);
    const int panel_lo = m_begin / CK_QGEMM_MR, panel_hi = (m_end + CK_QGEMM_MR - 1) / CK_QGEMM_MR;
    uint8_t *packed_b = (uint8_t *)scratch;
    int32_t *wide_a = (int32_t *)(packed_b + (size_t)pairs * 4 * (size_t)nc_max);
    qtile_out t;
    t.ldc = ldc;
    t.flo = (float)(rq->qmin - rq->zero_point);
    t.fhi = (float)(rq->qmax - rq->zero_point);
    t.zp = rq->zero_point;
    for (int jc = n_begin; jc < n_end; jc += nc_step) {
        int nc = ck_min_int(nc_step, n_end - jc);
        pack_b_pairs(b + jc, ldb, k, nc, b_signed, packed_b);
        for (int panel = panel_lo; panel < panel_hi; panel++) {
            widen_a_panel((const uint8_t *)packed_a + (size_t)panel * (size_t)groups * CK_QGEMM_MR * 4, groups, wide_a);
            for (int h = 0; h < 2; h++) {
                int row0 = panel * CK_QGEMM_MR + h * TILE_ROWS;
                t.r_lo = ck_max_int(m_begin - row0, 0);
                t.r_hi = ck_min_int(m_end - row0, TILE_ROWS);
                if (t.r_lo >= t.r_hi) continue;
                t.bias = rq->bias + row0;
                t.scale = rq->scale + row0;
                for (int q = 0; q * NR_AVX2 < nc; q++) {
                    t.width = ck_min_int(NR_AVX2, nc - q * NR_AVX2);
                    t.c = (uint8_t *)c + (size_t)row0 * (size_t)ldc + (size_t)(jc + q * NR_AVX2);
                    tile_madd_any((t.width + 7) / 8, pairs, wide_a + h * TILE_ROWS,
                                  packed_b + (size_t)q * (size_t)pairs * 64, &t);
                }
            }
        }
    }
}

#endif
