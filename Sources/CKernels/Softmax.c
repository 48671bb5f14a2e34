// Softmax with the maximum subtracted before exponentiation, so no finite input overflows.
// Contiguous axes (inner == 1) vectorise along the axis; strided axes vectorise across the
// inner dimension, where neighbouring lanes are independent softmax groups.
#include "Internal.h"

// Strided axes are processed CK_SOFTMAX_CHUNK neighbouring groups at a time, so each pass
// streams through axis_len contiguous runs instead of hopping `inner` floats per element.
#define CK_SOFTMAX_CHUNK 512

static void softmax_contiguous_scalar(const float *x, float *y, int n) {
    float m = -INFINITY;
    for (int k = 0; k < n; k++) m = x[k] > m ? x[k] : m;
    float sum = 0.0f;
    for (int k = 0; k < n; k++) {
        float e = expf(x[k] - m);
        y[k] = e;
        sum += e;
    }
    float inv = 1.0f / sum;
    for (int k = 0; k < n; k++) y[k] *= inv;
}

static void softmax_scalar(const float *in, float *out, int outer, int axis_len, int inner) {
    size_t group = (size_t)axis_len * (size_t)inner;
    float m[CK_SOFTMAX_CHUNK], sum[CK_SOFTMAX_CHUNK];
    for (int o = 0; o < outer; o++) {
        const float *x = in + (size_t)o * group;
        float *y = out + (size_t)o * group;
        if (inner == 1) {
            softmax_contiguous_scalar(x, y, axis_len);
            continue;
        }
        for (int i0 = 0; i0 < inner; i0 += CK_SOFTMAX_CHUNK) {
            int n = ck_min_int(CK_SOFTMAX_CHUNK, inner - i0);
            for (int i = 0; i < n; i++) {
                m[i] = -INFINITY;
                sum[i] = 0.0f;
            }
            for (int k = 0; k < axis_len; k++) {
                const float *xk = x + (size_t)k * inner + i0;
                for (int i = 0; i < n; i++) m[i] = xk[i] > m[i] ? xk[i] : m[i];
            }
            for (int k = 0; k < axis_len; k++) {
                const float *xk = x + (size_t)k * inner + i0;
                float *yk = y + (size_t)k * inner + i0;
                for (int i = 0; i < n; i++) {
                    float e = expf(xk[i] - m[i]);
                    yk[i] = e;
                    sum[i] += e;
                }
            }
            for (int i = 0; i < n; i++) sum[i] = 1.0f / sum[i];
            for (int k = 0; k < axis_len; k++) {
                float *yk = y + (size_t)k * inner + i0;
                for (int i = 0; i < n; i++) yk[i] *= sum[i];
            }
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

/// Groups [i0, i0 + n) of the inner dimension, n <= CK_SOFTMAX_CHUNK.
CK_AVX2 static void softmax_chunk_avx2(const float *x, float *y, int axis_len, size_t inner, int n) {
    _Alignas(32) float m[CK_SOFTMAX_CHUNK], sum[CK_SOFTMAX_CHUNK];
    int full = n / 8 * 8;
    __m256i tail = ck_tail_mask(n - full);
    for (int i = 0; i < n; i += 8) {
        _mm256_store_ps(m + i, _mm256_set1_ps(-INFINITY));
        _mm256_store_ps(sum + i, _mm256_setzero_ps());
    }
    for (int k = 0; k < axis_len; k++) {
        const float *xk = x + (size_t)k * inner;
        int i = 0;
        for (; i < full; i += 8) _mm256_store_ps(m + i, _mm256_max_ps(_mm256_loadu_ps(xk + i), _mm256_load_ps(m + i)));
        // Masked-off lanes load 0 into unused accumulator lanes: harmless.
        if (i < n) _mm256_store_ps(m + i, _mm256_max_ps(_mm256_maskload_ps(xk + i, tail), _mm256_load_ps(m + i)));
    }
    for (int k = 0; k < axis_len; k++) {
        const float *xk = x + (size_t)k * inner;
        float *yk = y + (size_t)k * inner;
        int i = 0;
        for (; i < full; i += 8) {
            __m256 e = ck_exp8(_mm256_sub_ps(_mm256_loadu_ps(xk + i), _mm256_load_ps(m + i)));
            _mm256_storeu_ps(yk + i, e);
            _mm256_store_ps(sum + i, _mm256_add_ps(_mm256_load_ps(sum + i), e));
        }
        if (i < n) {
            __m256 e = ck_exp8(_mm256_sub_ps(_mm256_maskload_ps(xk + i, tail), _mm256_load_ps(m + i)));
            _mm256_maskstore_ps(yk + i, tail, e);
            _mm256_store_ps(sum + i, _mm256_add_ps(_mm256_load_ps(sum + i), e));
        }
    }
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int i = 0; i < n; i += 8) _mm256_store_ps(sum + i, _mm256_div_ps(one, _mm256_load_ps(sum + i)));
    for (int k = 0; k < axis_len; k++) {
        float *yk = y + (size_t)k * inner;
        int i = 0;
        for (; i < full; i += 8) _mm256_storeu_ps(yk + i, _mm256_mul_ps(_mm256_loadu_ps(yk + i), _mm256_load_ps(sum + i)));
        if (i < n) _mm256_maskstore_ps(yk + i, tail, _mm256_mul_ps(_mm256_maskload_ps(yk + i, tail), _mm256_load_ps(sum + i)));
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
        for (int i0 = 0; i0 < inner; i0 += CK_SOFTMAX_CHUNK)
            softmax_chunk_avx2(x + i0, y + i0, axis_len, (size_t)inner, ck_min_int(CK_SOFTMAX_CHUNK, inner - i0));
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
