// Per-channel scaling and binary element-wise arithmetic. IEEE add/sub/mul/div are exactly
// rounded in both paths, so the scalar and AVX2 results are bit-identical.
#include "Internal.h"

static inline float binary_op(float a, float b, int kind) {
    switch (kind) {
    case CK_SUB: return a - b;
    case CK_MUL: return a * b;
    case CK_DIV: return a / b;
    default: return a + b;
    }
}

static void channel_scale_scalar(const float *in, const float *scale, float *out, int spatial,
                                 int c_begin, int c_end) {
    for (int c = c_begin; c < c_end; c++) {
        const float *x = in + (size_t)c * (size_t)spatial;
        float *y = out + (size_t)c * (size_t)spatial;
        float s = scale[c];
        for (int i = 0; i < spatial; i++) y[i] = x[i] * s;
    }
}

// One loop per kind, so each loop body is branch-free and vectorisable.
static void binary_same_scalar(const float *a, const float *b, float *out, size_t n, int kind) {
    switch (kind) {
    case CK_SUB: for (size_t i = 0; i < n; i++) out[i] = a[i] - b[i]; break;
    case CK_MUL: for (size_t i = 0; i < n; i++) out[i] = a[i] * b[i]; break;
    case CK_DIV: for (size_t i = 0; i < n; i++) out[i] = a[i] / b[i]; break;
    default: for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i]; break;
    }
}

static void binary_scalar_scalar(const float *a, float s, float *out, size_t n, int kind,
                                 int scalar_on_left) {
    if (scalar_on_left) {
        for (size_t i = 0; i < n; i++) out[i] = binary_op(s, a[i], kind);
    } else {
        for (size_t i = 0; i < n; i++) out[i] = binary_op(a[i], s, kind);
    }
}

#if CK_X86
CK_AVX2 CK_INLINE __m256 binary8(__m256 a, __m256 b, int kind) {
    switch (kind) {
    case CK_SUB: return _mm256_sub_ps(a, b);
    case CK_MUL: return _mm256_mul_ps(a, b);
    case CK_DIV: return _mm256_div_ps(a, b);
    default: return _mm256_add_ps(a, b);
    }
}

CK_AVX2 static void channel_scale_avx2(const float *in, const float *scale, float *out,
                                       int spatial, int c_begin, int c_end) {
    for (int c = c_begin; c < c_end; c++) {
        const float *x = in + (size_t)c * (size_t)spatial;
        float *y = out + (size_t)c * (size_t)spatial;
        __m256 s = _mm256_set1_ps(scale[c]);
        int i = 0;
        for (; i + 16 <= spatial; i += 16) {
            _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), s));
            _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(_mm256_loadu_ps(x + i + 8), s));
        }
        for (; i + 8 <= spatial; i += 8)
            _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), s));
        if (i < spatial) {
            __m256i m = ck_tail_mask(spatial - i);
            _mm256_maskstore_ps(y + i, m, _mm256_mul_ps(_mm256_maskload_ps(x + i, m), s));
        }
    }
}

CK_AVX2 static void binary_same_avx2(const float *a, const float *b, float *out, size_t n,
                                     int kind) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, binary8(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), kind));
    binary_same_scalar(a + i, b + i, out + i, n - i, kind);
}

CK_AVX2 static void binary_scalar_avx2(const float *a, float s, float *out, size_t n, int kind,
                                       int scalar_on_left) {
    const __m256 sv = _mm256_set1_ps(s);
    size_t i = 0;
    if (scalar_on_left) {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, binary8(sv, _mm256_loadu_ps(a + i), kind));
    } else {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, binary8(_mm256_loadu_ps(a + i), sv, kind));
    }
    binary_scalar_scalar(a + i, s, out + i, n - i, kind, scalar_on_left);
}
#endif

void ck_channel_scale(const float *in, const float *scale, float *out, int spatial, int c_begin,
                      int c_end) {
    if (spatial <= 0 || c_begin >= c_end) return;
#if CK_X86
    if (ck_use_avx2()) {
        channel_scale_avx2(in, scale, out, spatial, c_begin, c_end);
        return;
    }
#endif
    channel_scale_scalar(in, scale, out, spatial, c_begin, c_end);
}

void ck_binary_same(const float *a, const float *b, float *out, size_t n, int kind) {
#if CK_X86
    if (ck_use_avx2()) {
        binary_same_avx2(a, b, out, n, kind);
        return;
    }
#endif
    binary_same_scalar(a, b, out, n, kind);
}

void ck_binary_scalar(const float *a, float s, float *out, size_t n, int kind,
                      int scalar_on_left) {
#if CK_X86
    if (ck_use_avx2()) {
        binary_scalar_avx2(a, s, out, n, kind, scalar_on_left);
        return;
    }
#endif
    binary_scalar_scalar(a, s, out, n, kind, scalar_on_left);
}
