// AVX2+FMA driver of ck_gemm_packed, for CPUs without AVX-512. With 16 ymm registers the tile
// is 4 rows x 24 columns (12 accumulators, 3 B vectors, 1 broadcast): each 8-row A panel is
// processed as two 4-row halves reading the same packed panel with its stride of 8. Blocking
// and the fused epilogue follow GemmAVX512.c.
#include "Internal.h"

#if CK_X86

#define NR 24
#define PREFETCH_ROWS 4
#define TILE_ROWS 4

/// Packs kc rows x nc columns of B into panels of 24 columns: panel q is kc rows of 24 floats at
/// dst + q*kc*24; a last, narrower panel of w columns uses ceil(w/8)*8 floats a row, zero-padded.
CK_AVX2 static void pack_b(const float *b, int ldb, int kc, int nc, float *dst) {
    int full = nc / NR, rem = nc - full * NR;
    int rem_nv = (rem + 7) / 8;
    float *tail = dst + (size_t)full * (size_t)kc * NR;
    __m256i m0 = ck_tail_mask(rem), m1 = ck_tail_mask(rem - 8), m2 = ck_tail_mask(rem - 16);
    for (int p = 0; p < kc; p++) {
        const float *src = b + (size_t)p * (size_t)ldb;
        float *d = dst + (size_t)p * NR;
        // Rows of B are ldb apart, often pages apart, which the hardware prefetcher does not
        // follow: fetch the row PREFETCH_ROWS ahead while this one is copied.
        const char *ahead = (const char *)(src + (size_t)PREFETCH_ROWS * (size_t)ldb);
        if (p + PREFETCH_ROWS < kc)
            for (int off = 0; off < nc * 4; off += 64) _mm_prefetch(ahead + off, _MM_HINT_T0);
        for (int q = 0; q < full; q++) {
            const float *s = src + q * NR;
            float *o = d + (size_t)q * (size_t)kc * NR;
            _mm256_storeu_ps(o, _mm256_loadu_ps(s));
            _mm256_storeu_ps(o + 8, _mm256_loadu_ps(s + 8));
            _mm256_storeu_ps(o + 16, _mm256_loadu_ps(s + 16));
        }
        if (rem) {
            const float *s = src + full * NR;
            float *o = tail + (size_t)p * (size_t)rem_nv * 8;
            _mm256_storeu_ps(o, _mm256_maskload_ps(s, m0));
            if (rem_nv > 1) _mm256_storeu_ps(o + 8, _mm256_maskload_ps(s + 8, m1));
            if (rem_nv > 2) _mm256_storeu_ps(o + 16, _mm256_maskload_ps(s + 16, m2));
        }
    }
}

/// Where one tile goes and which parts of the epilogue it applies.
typedef struct {
    float *c;                // C at (row0, col)
    const float *residual;   // residual at (row0, col), or NULL
    const float *bias;       // bias at row0, or NULL
    int ldc, ldr;
    int r_lo, r_hi;          // tile rows to store
    int width;               // valid columns (1..NV*8)
    int first, last;         // first / last K block
    ck_activation act;
} tile_out;

/// kc steps of the full 4 x 24 tile. Written as asm blocks (two steps each) because the tile needs
/// exactly the 16 ymm registers (12 accumulators, 3 B vectors, 1 broadcast) and the compiler's
/// scheduling otherwise takes a second broadcast register and spills an accumulator every step,
/// which halves the speed.
CK_AVX2 CK_INLINE void full_width_steps(int kc, const float *a, const float *b, __m256 acc[TILE_ROWS][3]) {
    __m256 c00 = acc[0][0], c01 = acc[0][1], c02 = acc[0][2], c10 = acc[1][0], c11 = acc[1][1],
           c12 = acc[1][2], c20 = acc[2][0], c21 = acc[2][1], c22 = acc[2][2], c30 = acc[3][0],
           c31 = acc[3][1], c32 = acc[3][2];
    int p = 0;
    // Two steps per block halve the loop overhead.
    for (; p + 2 <= kc; p += 2) {
        __m256 b0, b1, b2, t;
        __asm__("vmovups 0(%[b]), %[b0]\n\t"
                "vmovups 32(%[b]), %[b1]\n\t"
                "vmovups 64(%[b]), %[b2]\n\t"
                "vbroadcastss 0(%[a]), %[t]\n\t"
                "vfmadd231ps %[b0], %[t], %[c00]\n\t"
                "vfmadd231ps %[b1], %[t], %[c01]\n\t"
                "vfmadd231ps %[b2], %[t], %[c02]\n\t"
                "vbroadcastss 4(%[a]), %[t]\n\t"
                "vfmadd231ps %[b0], %[t], %[c10]\n\t"
                "vfmadd231ps %[b1], %[t], %[c11]\n\t"
                "vfmadd231ps %[b2], %[t], %[c12]\n\t"
                "vbroadcastss 8(%[a]), %[t]\n\t"
                "vfmadd231ps %[b0], %[t], %[c20]\n\t"
                "vfmadd231ps %[b1], %[t], %[c21]\n\t"
                "vfmadd231ps %[b2], %[t], %[c22]\n\t"
                "vbroadcastss 12(%[a]), %[t]\n\t"
                "vfmadd231ps %[b0], %[t], %[c30]\n\t"
                "vfmadd231ps %[b1], %[t], %[c31]\n\t"
                "vfmadd231ps %[b2], %[t], %[c32]\n\t"
                "vmovups 96(%[b]), %[b0]\n\t"
                "vmovups 128(%[b]), %[b1]\n\t"
                "vmovups 160(%[b]), %[b2]\n\t"
                "vbroadcastss 32(%[a]), %[t]\n\t"
                "vfmadd231ps %[b0], %[t], %[c00]\n\t"
                "vfmadd231ps %[b1], %[t], %[c01]\n\t"
                "vfmadd231ps %[b2], %[t], %[c02]\n\t"
                "vbroadcastss 36(%[a]), %[t]\n\t"
                "vfmadd231ps %[b0], %[t], %[c10]\n\t"
                "vfmadd231ps %[b1], %[t], %[c11]\n\t"
                "vfmadd231ps %[b2], %[t], %[c12]\n\t"
                "vbroadcastss 40(%[a]), %[t]\n\t"
                "vfmadd231ps %[b0], %[t], %[c20]\n\t"
                "vfmadd231ps %[b1], %[t], %[c21]\n\t"
                "vfmadd231ps %[b2], %[t], %[c22]\n\t"
                "vbroadcastss 44(%[a]), %[t]\n\t"
                "vfmadd231ps %[b0], %[t], %[c30]\n\t"
                "vfmadd231ps %[b1], %[t], %[c31]\n\t"
                "vfmadd231ps %[b2], %[t], %[c32]\n\t"
                : [c00] "+x"(c00), [c01] "+x"(c01), [c02] "+x"(c02), [c10] "+x"(c10), [c11] "+x"(c11),
                  [c12] "+x"(c12), [c20] "+x"(c20), [c21] "+x"(c21), [c22] "+x"(c22), [c30] "+x"(c30),
                  [c31] "+x"(c31), [c32] "+x"(c32), [b0] "=&x"(b0), [b1] "=&x"(b1), [b2] "=&x"(b2),
                  [t] "=&x"(t)
                : [a] "r"(a), [b] "r"(b)
                : "memory");
        a += 2 * CK_GEMM_MR;
        b += 48;
    }
    if (p < kc) {
        __m256 b0, b1, b2, t;
        __asm__("vmovups 0(%[b]), %[b0]\n\t"
                "vmovups 32(%[b]), %[b1]\n\t"
                "vmovups 64(%[b]), %[b2]\n\t"
                "vbroadcastss 0(%[a]), %[t]\n\t"
                "vfmadd231ps %[b0], %[t], %[c00]\n\t"
                "vfmadd231ps %[b1], %[t], %[c01]\n\t"
                "vfmadd231ps %[b2], %[t], %[c02]\n\t"
                "vbroadcastss 4(%[a]), %[t]\n\t"
                "vfmadd231ps %[b0], %[t], %[c10]\n\t"
                "vfmadd231ps %[b1], %[t], %[c11]\n\t"
                "vfmadd231ps %[b2], %[t], %[c12]\n\t"
                "vbroadcastss 8(%[a]), %[t]\n\t"
                "vfmadd231ps %[b0], %[t], %[c20]\n\t"
                "vfmadd231ps %[b1], %[t], %[c21]\n\t"
                "vfmadd231ps %[b2], %[t], %[c22]\n\t"
                "vbroadcastss 12(%[a]), %[t]\n\t"
                "vfmadd231ps %[b0], %[t], %[c30]\n\t"
                "vfmadd231ps %[b1], %[t], %[c31]\n\t"
                "vfmadd231ps %[b2], %[t], %[c32]\n\t"
                : [c00] "+x"(c00), [c01] "+x"(c01), [c02] "+x"(c02), [c10] "+x"(c10), [c11] "+x"(c11),
                  [c12] "+x"(c12), [c20] "+x"(c20), [c21] "+x"(c21), [c22] "+x"(c22), [c30] "+x"(c30),
                  [c31] "+x"(c31), [c32] "+x"(c32), [b0] "=&x"(b0), [b1] "=&x"(b1), [b2] "=&x"(b2),
                  [t] "=&x"(t)
                : [a] "r"(a), [b] "r"(b)
                : "memory");
    }
    acc[0][0] = c00; acc[0][1] = c01; acc[0][2] = c02;
    acc[1][0] = c10; acc[1][1] = c11; acc[1][2] = c12;
    acc[2][0] = c20; acc[2][1] = c21; acc[2][2] = c22;
    acc[3][0] = c30; acc[3][1] = c31; acc[3][2] = c32;
}

/// One 4 x (NV*8) tile over kc steps (A rows 8 floats apart), then epilogue and store.
CK_AVX2 CK_INLINE void tile(const int NV, int kc, const float *a, const float *b, const tile_out *t) {
    __m256 acc[TILE_ROWS][3];
#pragma clang loop unroll(full)
    for (int r = 0; r < TILE_ROWS; r++)
        for (int v = 0; v < 3; v++) acc[r][v] = _mm256_setzero_ps();
    if (NV == 3) {
        full_width_steps(kc, a, b, acc);
        kc = 0;
    }
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b);
        __m256 b1 = NV > 1 ? _mm256_loadu_ps(b + 8) : b0;
        __m256 b2 = NV > 2 ? _mm256_loadu_ps(b + 16) : b0;
#pragma clang loop unroll(full)
        for (int r = 0; r < TILE_ROWS; r++) {
            __m256 ar = _mm256_broadcast_ss(a + r);
            acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
            if (NV > 1) acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
            if (NV > 2) acc[r][2] = _mm256_fmadd_ps(ar, b2, acc[r][2]);
        }
        a += CK_GEMM_MR;
        b += NV * 8;
    }
    int last_lanes = t->width - (NV - 1) * 8;
    __m256i last_mask = ck_tail_mask(last_lanes);
#pragma clang loop unroll(full)
    for (int r = 0; r < TILE_ROWS; r++) {
        if (r < t->r_lo || r >= t->r_hi) continue;
        float *cr = t->c + (size_t)r * (size_t)t->ldc;
        const float *rr = t->first && t->residual ? t->residual + (size_t)r * (size_t)t->ldr : NULL;
        __m256 bias = _mm256_set1_ps(t->first && t->bias ? t->bias[r] : 0.0f);
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) {
            int full = v < NV - 1 || last_lanes >= 8;
            __m256 x = acc[r][v];
            if (t->first) {
                x = _mm256_add_ps(x, bias);
                if (rr) x = _mm256_add_ps(x, full ? _mm256_loadu_ps(rr + v * 8) : _mm256_maskload_ps(rr + v * 8, last_mask));
            } else {
                x = _mm256_add_ps(x, full ? _mm256_loadu_ps(cr + v * 8) : _mm256_maskload_ps(cr + v * 8, last_mask));
            }
            if (t->last) x = ck_act8(x, t->act);
            if (full)
                _mm256_storeu_ps(cr + v * 8, x);
            else
                _mm256_maskstore_ps(cr + v * 8, last_mask, x);
        }
    }
}

CK_AVX2 static void tile_any(int nv, int kc, const float *a, const float *b, const tile_out *t) {
    switch (nv) {
    case 3: tile(3, kc, a, b, t); break;
    case 2: tile(2, kc, a, b, t); break;
    default: tile(1, kc, a, b, t); break;
    }
}

CK_AVX2 void ck_gemm_avx2(const ck_gemm_args *g) {
    int ncols = g->n_end - g->n_begin;
    int nblocks = (ncols + CK_GEMM_NC_AVX2 - 1) / CK_GEMM_NC_AVX2;
    int nc_step = (ncols + nblocks - 1) / nblocks;
    nc_step = (nc_step + NR - 1) / NR * NR;
    int kblocks = (g->k + CK_GEMM_KC_AVX2 - 1) / CK_GEMM_KC_AVX2;
    int kc_step = (g->k + kblocks - 1) / kblocks;
    int half_lo = g->m_begin / TILE_ROWS;
    int half_hi = (g->m_end + TILE_ROWS - 1) / TILE_ROWS;
    for (int jc = g->n_begin; jc < g->n_end; jc += nc_step) {
        int nc = ck_min_int(nc_step, g->n_end - jc);
        for (int pc = 0; pc < g->k; pc += kc_step) {
            int kc = ck_min_int(kc_step, g->k - pc);
            pack_b(g->b + (size_t)pc * (size_t)g->ldb + jc, g->ldb, kc, nc, g->scratch);
            tile_out t;
            t.ldc = g->ldc;
            t.ldr = g->ldr;
            t.first = pc == 0;
            t.last = pc + kc >= g->k;
            t.act = g->act;
            // Half-panels of 4 rows: half h is rows [4h, 4h+4) of 8-row panel h/2, at offset 4*(h%2).
            for (int half = half_lo; half < half_hi; half++) {
                int row0 = half * TILE_ROWS;
                t.r_lo = ck_max_int(g->m_begin - row0, 0);
                t.r_hi = ck_min_int(g->m_end - row0, TILE_ROWS);
                t.bias = g->bias ? g->bias + row0 : NULL;
                int panel = half / 2;
                const float *ap = g->a + (size_t)panel * CK_GEMM_MR * (size_t)g->k +
                                  (size_t)pc * CK_GEMM_MR + (size_t)(half % 2) * TILE_ROWS;
                for (int q = 0; q * NR < nc; q++) {
                    int col = jc + q * NR;
                    t.width = ck_min_int(NR, nc - q * NR);
                    t.c = g->c + (size_t)row0 * (size_t)g->ldc + col;
                    t.residual = g->residual ? g->residual + (size_t)row0 * (size_t)g->ldr + col : NULL;
                    const float *bp = g->scratch + (size_t)q * (size_t)kc * NR;
                    tile_any((t.width + 7) / 8, kc, ap, bp, &t);
                }
            }
        }
    }
}

#endif
