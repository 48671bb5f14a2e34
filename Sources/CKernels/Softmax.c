// Softmax with the maximum subtracted before exponentiation, so no finite input overflows.
// Contiguous axes (inner == 1) vectorise along the axis; strided axes vectorise across the
// inner dimension, where neighbouring lanes are independent softmax groups.
#include "Internal.h"

static void softmax_scalar(const float *in, float *out, int outer, int axis_len, int inner) {
    size_t group = (size_t)axis_len * (size_t)inner;
    for (int o = 0; o < outer; o++) {
        const float *x = in + (size_t)o * group;
        float *y = out + (size_t)o * group;
        for (int i = 0; i < inner; i++) {
            float m = -INFINITY;
            for (int k = 0; k < axis_len; k++) {
                float v = x[(size_t)k * inner + i];
                m = v > m ? v : m;
            }
            float sum = 0.0f;
            for (int k = 0; k < axis_len; k++) {
                float e = expf(x[(size_t)k * inner + i] - m);
                y[(size_t)k * inner + i] = e;
                sum += e;
            }
            float inv = 1.0f / sum;
            for (int k = 0; k < axis_len; k++) y[(size_t)k * inner + i] *= inv;
        }
    }
}

#if CK_X86
CK_AVX2 CK_INLINE float hmax8(__m256 v) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

CK_AVX2 CK_INLINE float hsum8(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/// One contiguous group of n values.
CK_AVX2 static void softmax_row_avx2(const float *x, float *y, int n) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 mv = ninf;
    int k = 0;
    for (; k + 8 <= n; k += 8) mv = _mm256_max_ps(_mm256_loadu_ps(x + k), mv);
    __m256i tail = ck_tail_mask(n - k);
    if (k < n) {
        // Masked-off lanes load as 0; blend them to -inf so they cannot win the maximum.
        __m256 v = _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + k, tail), _mm256_castsi256_ps(tail));
        mv = _mm256_max_ps(v, mv);
    }
    __m256 m = _mm256_set1_ps(hmax8(mv));
    __m256 sv = _mm256_setzero_ps();
    for (k = 0; k + 8 <= n; k += 8) {
        __m256 e = ck_exp8(_mm256_sub_ps(_mm256_loadu_ps(x + k), m));
        _mm256_storeu_ps(y + k, e);
        sv = _mm256_add_ps(sv, e);
    }
    if (k < n) {
        __m256 e = ck_exp8(_mm256_sub_ps(_mm256_maskload_ps(x + k, tail), m));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(tail));
        _mm256_maskstore_ps(y + k, tail, e);
        sv = _mm256_add_ps(sv, e);
    }
    __m256 inv = _mm256_set1_ps(1.0f / hsum8(sv));
    for (k = 0; k + 8 <= n; k += 8) _mm256_storeu_ps(y + k, _mm256_mul_ps(_mm256_loadu_ps(y + k), inv));
    if (k < n) _mm256_maskstore_ps(y + k, tail, _mm256_mul_ps(_mm256_maskload_ps(y + k, tail), inv));
}

/// Up to 8 neighbouring groups (lanes [i, i + lanes) of the inner dimension) at once.
CK_AVX2 static void softmax_lanes_avx2(const float *x, float *y, int axis_len, size_t inner,
                                       __m256i mask) {
    __m256 m = _mm256_set1_ps(-INFINITY);
    for (int k = 0; k < axis_len; k++)
        m = _mm256_max_ps(_mm256_maskload_ps(x + (size_t)k * inner, mask), m);
    __m256 sv = _mm256_setzero_ps();
    for (int k = 0; k < axis_len; k++) {
        __m256 e = ck_exp8(_mm256_sub_ps(_mm256_maskload_ps(x + (size_t)k * inner, mask), m));
        _mm256_maskstore_ps(y + (size_t)k * inner, mask, e);
        sv = _mm256_add_ps(sv, e);
    }
    __m256 inv = _mm256_div_ps(_mm256_set1_ps(1.0f), sv);
    for (int k = 0; k < axis_len; k++) {
        float *p = y + (size_t)k * inner;
        _mm256_maskstore_ps(p, mask, _mm256_mul_ps(_mm256_maskload_ps(p, mask), inv));
    }
}

CK_AVX2 static void softmax_avx2(const float *in, float *out, int outer, int axis_len, int inner) {
    size_t group = (size_t)axis_len * (size_t)inner;
    for (int o = 0; o < outer; o++) {
        const float *x = in + (size_t)o * group;
        float *y = out + (size_t)o * group;
        if (inner == 1) {
            softmax_row_avx2(x, y, axis_len);
            continue;
        }
        const __m256i all = _mm256_set1_epi32(-1);
        int i = 0;
        for (; i + 8 <= inner; i += 8) softmax_lanes_avx2(x + i, y + i, axis_len, (size_t)inner, all);
        if (i < inner)
            softmax_lanes_avx2(x + i, y + i, axis_len, (size_t)inner, ck_tail_mask(inner - i));
    }
}
#endif

void ck_softmax(const float *in, float *out, int outer, int axis_len, int inner) {
    if (outer <= 0 || axis_len <= 0 || inner <= 0) return;
#if CK_X86
    if (ck_use_avx2()) {
        softmax_avx2(in, out, outer, axis_len, inner);
        return;
    }
#endif
    softmax_scalar(in, out, outer, axis_len, inner);
}
