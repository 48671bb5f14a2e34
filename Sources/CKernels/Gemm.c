// Packed single-precision GEMM for convolutions: C = act(A*B + bias (+ residual)), with A (the
// weights) packed once at load time and the epilogue fused into the store. This file holds the
// public entry points, the A packing every path shares and the portable scalar path; the SIMD
// drivers live in GemmAVX512.c and GemmAVX2.c.
#include "Internal.h"

#include <string.h>

size_t ck_gemm_packed_a_size(int m, int k) {
    if (m <= 0 || k <= 0) return 0;
    size_t panels = ((size_t)m + CK_GEMM_MR - 1) / CK_GEMM_MR;
    return panels * CK_GEMM_MR * (size_t)k;
}

void ck_gemm_pack_a(int m, int k, const float *a, int lda, float *packed) {
    if (m <= 0 || k <= 0 || lda < k) return;
    int panels = (m + CK_GEMM_MR - 1) / CK_GEMM_MR;
    for (int p = 0; p < panels; p++) {
        float *dst = packed + (size_t)p * CK_GEMM_MR * (size_t)k;
        for (int r = 0; r < CK_GEMM_MR; r++) {
            int row = p * CK_GEMM_MR + r;
            if (row < m) {
                const float *src = a + (size_t)row * (size_t)lda;
                for (int kk = 0; kk < k; kk++) dst[(size_t)kk * CK_GEMM_MR + r] = src[kk];
            } else {
                for (int kk = 0; kk < k; kk++) dst[(size_t)kk * CK_GEMM_MR + r] = 0.0f;
            }
        }
    }
}

size_t ck_gemm_scratch_size(int k) {
    if (k <= 0) return 0;
    size_t avx512 = (size_t)ck_min_int(k, CK_GEMM_KC_AVX512) * CK_GEMM_NC_AVX512;
    size_t avx2 = (size_t)ck_min_int(k, CK_GEMM_KC_AVX2) * CK_GEMM_NC_AVX2;
    return avx512 > avx2 ? avx512 : avx2;
}

// Column chunk of the scalar path: 8 rows x 64 accumulators stay on the stack (2 KiB).
#define SCALAR_NC 64

// Plain loops the compiler can auto-vectorise for the baseline ISA; sums run in k order.
void ck_gemm_scalar(const ck_gemm_args *g) {
    float acc[CK_GEMM_MR][SCALAR_NC];
    int panel_lo = g->m_begin / CK_GEMM_MR;
    int panel_hi = (g->m_end + CK_GEMM_MR - 1) / CK_GEMM_MR;
    for (int panel = panel_lo; panel < panel_hi; panel++) {
        int row0 = panel * CK_GEMM_MR;
        int r_lo = ck_max_int(g->m_begin - row0, 0), r_hi = ck_min_int(g->m_end - row0, CK_GEMM_MR);
        const float *ap = g->a + (size_t)row0 * (size_t)g->k;
        for (int j0 = g->n_begin; j0 < g->n_end; j0 += SCALAR_NC) {
            int w = ck_min_int(SCALAR_NC, g->n_end - j0);
            for (int r = r_lo; r < r_hi; r++)
                for (int j = 0; j < w; j++) acc[r][j] = 0.0f;
            for (int kk = 0; kk < g->k; kk++) {
                const float *brow = g->b + (size_t)kk * (size_t)g->ldb + j0;
                const float *a8 = ap + (size_t)kk * CK_GEMM_MR;
                for (int r = r_lo; r < r_hi; r++) {
                    float av = a8[r];
                    for (int j = 0; j < w; j++) acc[r][j] += av * brow[j];
                }
            }
            for (int r = r_lo; r < r_hi; r++) {
                int i = row0 + r;
                float bias = g->bias ? g->bias[i] : 0.0f;
                float *crow = g->c + (size_t)i * (size_t)g->ldc + j0;
                const float *rrow = g->residual ? g->residual + (size_t)i * (size_t)g->ldr + j0 : NULL;
                for (int j = 0; j < w; j++) {
                    float x = acc[r][j] + bias;
                    if (rrow) x += rrow[j];
                    crow[j] = x;
                }
                ck_act_row_scalar(crow, crow, (size_t)w, g->act);
            }
        }
    }
}

void ck_gemm_packed(int m, int n, int k, const float *packed_a, const float *b, int ldb, float *c,
                    int ldc, const float *bias, const float *residual, int ldr, ck_activation act,
                    int m_begin, int m_end, int n_begin, int n_end, float *scratch) {
    if (m <= 0 || n <= 0 || k <= 0 || ldb < n || ldc < n || (residual && ldr < n)) return;
    m_begin = ck_max_int(m_begin, 0);
    m_end = ck_min_int(m_end, m);
    n_begin = ck_max_int(n_begin, 0);
    n_end = ck_min_int(n_end, n);
    if (m_begin >= m_end || n_begin >= n_end) return;
    ck_gemm_args g = {m, n, k, packed_a, b, ldb, c, ldc, bias, residual, ldr, act,
                      m_begin, m_end, n_begin, n_end, scratch};
    // The dispatch table's driver (ck_gemm_avx512, ck_gemm_avx2 or ck_gemm_scalar); the SIMD
    // paths pack B into the scratch, so without one the scalar path still gives the answer.
    if (scratch)
        ck_platform_get()->gemm(&g);
    else
        ck_gemm_scalar(&g);
}
