// AVX-512 driver of ck_gemm_packed. C is computed in tiles of 8 rows x 48 columns held in 24
// zmm accumulators: per k step the tile loads 3 vectors of a packed B panel and multiplies them
// by 8 A values broadcast straight from the packed A panel (embedded-broadcast FMAs), so the
// FMA units, not the loads, bound the loop. Blocking: a K block of A's 8-row panel (<= 16 KiB)
// stays in L1 while the tile sweeps the packed B block (<= CK_GEMM_KC_AVX512 x CK_GEMM_NC_AVX512
// floats, 672 KiB) from L2. K larger than one block accumulates in C; bias and residual join in the
// first K block (reading the residual before C is written keeps aliasing safe) and the
// activation in the last, so the epilogue never takes an extra pass over memory.
#include "Internal.h"

#if CK_X86

#define NR 48
#define PREFETCH_ROWS 4

/// Lanes [0, n) of a 16-lane mask (n clamped to 0..16).
CK_AVX512 CK_INLINE __mmask16 lane_mask(int n) {
    if (n >= 16) return (__mmask16)0xFFFF;
    if (n <= 0) return 0;
    return (__mmask16)((1u << n) - 1u);
}

/// Packs kc rows x nc columns of B into panels of 48 columns: panel q is kc rows of 48 floats at
/// dst + q*kc*48; a last, narrower panel of w columns uses ceil(w/16)*16 floats a row, zero-padded.
CK_AVX512 static void pack_b(const float *b, int ldb, int kc, int nc, float *dst) {
    int full = nc / NR, rem = nc - full * NR;
    int rem_nv = (rem + 15) / 16;
    float *tail = dst + (size_t)full * (size_t)kc * NR;
    __mmask16 m0 = lane_mask(rem), m1 = lane_mask(rem - 16), m2 = lane_mask(rem - 32);
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
            _mm512_storeu_ps(o, _mm512_loadu_ps(s));
            _mm512_storeu_ps(o + 16, _mm512_loadu_ps(s + 16));
            _mm512_storeu_ps(o + 32, _mm512_loadu_ps(s + 32));
        }
        if (rem) {
            const float *s = src + full * NR;
            float *o = tail + (size_t)p * (size_t)rem_nv * 16;
            _mm512_storeu_ps(o, _mm512_maskz_loadu_ps(m0, s));
            if (rem_nv > 1) _mm512_storeu_ps(o + 16, _mm512_maskz_loadu_ps(m1, s + 16));
            if (rem_nv > 2) _mm512_storeu_ps(o + 32, _mm512_maskz_loadu_ps(m2, s + 32));
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
    int width;               // valid columns (1..NV*16)
    int first, last;         // first / last K block
    ck_activation act;
} tile_out;

/// One 8 x (NV*16) tile over kc steps of the packed panels, then its epilogue and masked store.
CK_AVX512 CK_INLINE void tile(const int NV, int kc, const float *a, const float *b, const tile_out *t) {
    __m512 acc[CK_GEMM_MR][3];
#pragma clang loop unroll(full)
    for (int r = 0; r < CK_GEMM_MR; r++)
        for (int v = 0; v < 3; v++) acc[r][v] = _mm512_setzero_ps();
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(b);
        __m512 b1 = NV > 1 ? _mm512_loadu_ps(b + 16) : b0;
        __m512 b2 = NV > 2 ? _mm512_loadu_ps(b + 32) : b0;
#pragma clang loop unroll(full)
        for (int r = 0; r < CK_GEMM_MR; r++) {
            __m512 ar = _mm512_set1_ps(a[r]);
            acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
            if (NV > 1) acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
            if (NV > 2) acc[r][2] = _mm512_fmadd_ps(ar, b2, acc[r][2]);
        }
        a += CK_GEMM_MR;
        b += NV * 16;
    }
    __mmask16 last_mask = lane_mask(t->width - (NV - 1) * 16);
#pragma clang loop unroll(full)
    for (int r = 0; r < CK_GEMM_MR; r++) {
        if (r < t->r_lo || r >= t->r_hi) continue;
        float *cr = t->c + (size_t)r * (size_t)t->ldc;
        const float *rr = t->first && t->residual ? t->residual + (size_t)r * (size_t)t->ldr : NULL;
        __m512 bias = _mm512_set1_ps(t->first && t->bias ? t->bias[r] : 0.0f);
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) {
            __mmask16 mask = v == NV - 1 ? last_mask : (__mmask16)0xFFFF;
            __m512 x = acc[r][v];
            if (t->first) {
                x = _mm512_add_ps(x, bias);
                if (rr) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, rr + v * 16));
            } else {
                x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, cr + v * 16));
            }
            if (t->last) x = ck_act16(x, t->act);
            if (mask == 0xFFFF)
                _mm512_storeu_ps(cr + v * 16, x);
            else
                _mm512_mask_storeu_ps(cr + v * 16, mask, x);
        }
    }
}

CK_AVX512 static void tile_any(int nv, int kc, const float *a, const float *b, const tile_out *t) {
    switch (nv) {
    case 3: tile(3, kc, a, b, t); break;
    case 2: tile(2, kc, a, b, t); break;
    default: tile(1, kc, a, b, t); break;
    }
}

CK_AVX512 void ck_gemm_avx512(const ck_gemm_args *g) {
    int ncols = g->n_end - g->n_begin;
    int nblocks = (ncols + CK_GEMM_NC_AVX512 - 1) / CK_GEMM_NC_AVX512;
    int nc_step = (ncols + nblocks - 1) / nblocks;
    nc_step = (nc_step + NR - 1) / NR * NR;
    int kblocks = (g->k + CK_GEMM_KC_AVX512 - 1) / CK_GEMM_KC_AVX512;
    int kc_step = (g->k + kblocks - 1) / kblocks;
    int panel_lo = g->m_begin / CK_GEMM_MR;
    int panel_hi = (g->m_end + CK_GEMM_MR - 1) / CK_GEMM_MR;
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
            for (int panel = panel_lo; panel < panel_hi; panel++) {
                int row0 = panel * CK_GEMM_MR;
                t.r_lo = ck_max_int(g->m_begin - row0, 0);
                t.r_hi = ck_min_int(g->m_end - row0, CK_GEMM_MR);
                t.bias = g->bias ? g->bias + row0 : NULL;
                const float *ap = g->a + (size_t)row0 * (size_t)g->k + (size_t)pc * CK_GEMM_MR;
                for (int q = 0; q * NR < nc; q++) {
                    int col = jc + q * NR;
                    t.width = ck_min_int(NR, nc - q * NR);
                    t.c = g->c + (size_t)row0 * (size_t)g->ldc + col;
                    t.residual = g->residual ? g->residual + (size_t)row0 * (size_t)g->ldr + col : NULL;
                    const float *bp = g->scratch + (size_t)q * (size_t)kc * NR;
                    tile_any((t.width + 15) / 16, kc, ap, bp, &t);
                }
            }
        }
    }
}

#endif
