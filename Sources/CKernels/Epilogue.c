// Bias + residual + activation applied in place after a GEMM-based convolution, one pass over
// each channel so the data is read and written once.
#include "Internal.h"

static void bias_activation_scalar(float *data, int spatial, const float *bias,
                                   const float *residual, int c_begin, int c_end,
                                   ck_activation act) {
    for (int c = c_begin; c < c_end; c++) {
        float *x = data + (size_t)c * (size_t)spatial;
        float b = bias ? bias[c] : 0.0f;
        if (residual) {
            const float *r = residual + (size_t)c * (size_t)spatial;
            for (int i = 0; i < spatial; i++) x[i] = x[i] + b + r[i];
        } else if (bias) {
            for (int i = 0; i < spatial; i++) x[i] += b;
        }
        ck_act_row_scalar(x, x, (size_t)spatial, act);
    }
}

#if CK_X86
CK_AVX2 CK_INLINE __m256 epilogue8(__m256 x, __m256 b, const float *r, ck_activation act) {
    x = _mm256_add_ps(x, b);
    if (r) x = _mm256_add_ps(x, _mm256_loadu_ps(r));
    return ck_act8(x, act);
}

CK_AVX2 static void bias_activation_avx2(float *data, int spatial, const float *bias,
                                         const float *residual, int c_begin, int c_end,
                                         ck_activation act) {
    for (int c = c_begin; c < c_end; c++) {
        float *x = data + (size_t)c * (size_t)spatial;
        const float *r = residual ? residual + (size_t)c * (size_t)spatial : NULL;
        __m256 b = _mm256_set1_ps(bias ? bias[c] : 0.0f);
        int i = 0;
        for (; i + 8 <= spatial; i += 8)
            _mm256_storeu_ps(x + i, epilogue8(_mm256_loadu_ps(x + i), b, r ? r + i : NULL, act));
        if (i < spatial) {
            __m256i mask = ck_tail_mask(spatial - i);
            __m256 v = _mm256_add_ps(_mm256_maskload_ps(x + i, mask), b);
            if (r) v = _mm256_add_ps(v, _mm256_maskload_ps(r + i, mask));
            _mm256_maskstore_ps(x + i, mask, ck_act8(v, act));
        }
    }
}
#endif

void ck_bias_activation(float *data, int spatial, const float *bias, const float *residual,
                        int c_begin, int c_end, ck_activation act) {
    if (spatial <= 0 || c_begin >= c_end) return;
#if CK_X86
    if (ck_use_avx2()) {
        bias_activation_avx2(data, spatial, bias, residual, c_begin, c_end, act);
        return;
    }
#endif
    bias_activation_scalar(data, spatial, bias, residual, c_begin, c_end, act);
}
