// The sample-set maps' per-pixel loops (ensembles, MC dropout; Sources/Mixture/PlaneKernels.swift)
// in C so that they can be compiled for AVX-512 and AVX2+FMA and chosen at run time (Swift cannot
// target one function at a wider ISA). The bodies are plain loops the compiler vectorises; exp is a
// degree-7 Taylor series after Cody–Waite reduction, log the atanh series to s^9.
#include "Internal.h"

#include <string.h>

#define LN2_HI 0.693145751953125f
#define LN2_LO 1.428606765330187e-06f

CK_INLINE float mix_exp(float x) {
    float c = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    const float shifter = 12582912.0f;
    float shifted = c * 1.44269502f + shifter;
    float k = shifted - shifter;
    float r = (c - k * LN2_HI) - k * LN2_LO;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits;
    memcpy(&bits, &shifted, 4);
    int32_t e = (bits - 0x4B400000 + 127) << 23;
    float scale;
    memcpy(&scale, &e, 4);
    return x < -87.0f ? 0.0f : p * scale;
}

CK_INLINE float mix_log(float x) {
    int32_t bits;
    memcpy(&bits, &x, 4);
    int32_t mbits = (bits & 0x007FFFFF) | 0x3F800000;
    float m;
    memcpy(&m, &mbits, 4);
    float e = (float)(bits >> 23) - 127.0f;
    int high = m > 1.41421354f;
    m = high ? m * 0.5f : m;
    e = high ? e + 1.0f : e;
    float f = m - 1.0f;
    float s = f / (2.0f + f);
    float s2 = s * s;
    float q = 1.0f / 9;
    q = q * s2 + 1.0f / 7;
    q = q * s2 + 1.0f / 5;
    q = q * s2 + 1.0f / 3;
    q = q * s2 + 1.0f;
    return e * LN2_HI + (e * LN2_LO + 2.0f * s * q);
}

CK_INLINE float mix_xlogx(float p) {
    const float smallest = 1.17549435e-38f;
    return p * mix_log(p > smallest ? p : smallest);
}

// e_c = exp(z_c − max) per class, S = Σ e_c in sum, Σ e_c (z_c − max) in dot.
CK_INLINE void exponentials(const float *restrict logits, ptrdiff_t logit_stride, int classes, int n,
                            float *restrict out, ptrdiff_t stride, float *restrict maximum, float *restrict sum,
                            float *restrict dot) {
    memcpy(maximum, logits, (size_t)n * sizeof(float));
    for (int c = 1; c < classes; c++) {
        const float *restrict row = logits + c * logit_stride;
        for (int i = 0; i < n; i++) maximum[i] = row[i] > maximum[i] ? row[i] : maximum[i];
    }
    memset(sum, 0, (size_t)n * sizeof(float));
    memset(dot, 0, (size_t)n * sizeof(float));
    for (int c = 0; c < classes; c++) {
        const float *restrict row = logits + c * logit_stride;
        float *restrict plane = out + c * stride;
        for (int i = 0; i < n; i++) {
            float t = row[i] - maximum[i];
            float tc = t < -100.0f ? -100.0f : t;
            float e = mix_exp(tc);
            plane[i] = e;
            sum[i] += e;
            dot[i] += e * tc;
        }
    }
}

CK_INLINE void softmax_entropy(const float *logits, ptrdiff_t logit_stride, int classes, int n, float *probabilities,
                               ptrdiff_t probability_stride, float *restrict entropy, float *maximum,
                               float *restrict sum, float *restrict dot) {
    exponentials(logits, logit_stride, classes, n, probabilities, probability_stride, maximum, sum, dot);
    for (int i = 0; i < n; i++) {
        float inverse = 1.0f / sum[i];
        entropy[i] = mix_log(sum[i]) - dot[i] * inverse;
        sum[i] = inverse;
    }
    for (int c = 0; c < classes; c++) {
        float *restrict out = probabilities + c * probability_stride;
        for (int i = 0; i < n; i++) out[i] *= sum[i];
    }
}

CK_INLINE void accumulate_xlogx(const float *restrict p, float scale, float *restrict acc, int n) {
    for (int i = 0; i < n; i++) acc[i] += mix_xlogx(scale * p[i]);
}

#if CK_X86
CK_AVX2 static void softmax_entropy_avx2(const float *l, ptrdiff_t ls, int c, int n, float *p, ptrdiff_t ps,
                                         float *h, float *m, float *s, float *d) {
    softmax_entropy(l, ls, c, n, p, ps, h, m, s, d);
}
CK_AVX2 static void accumulate_xlogx_avx2(const float *p, float scale, float *acc, int n) {
    accumulate_xlogx(p, scale, acc, n);
}
CK_AVX512 static void softmax_entropy_avx512(const float *l, ptrdiff_t ls, int c, int n, float *p, ptrdiff_t ps,
                                             float *h, float *m, float *s, float *d) {
    softmax_entropy(l, ls, c, n, p, ps, h, m, s, d);
}
CK_AVX512 static void accumulate_xlogx_avx512(const float *p, float scale, float *acc, int n) {
    accumulate_xlogx(p, scale, acc, n);
}
#endif

void ck_mix_softmax_entropy(const float *logits, ptrdiff_t logit_stride, int classes, int n, float *probabilities,
                            ptrdiff_t probability_stride, float *entropy, float *maximum, float *sum, float *dot) {
#if CK_X86
    if (ck_use_avx512()) {
        softmax_entropy_avx512(logits, logit_stride, classes, n, probabilities, probability_stride, entropy, maximum, sum, dot);
        return;
    }
    if (ck_use_avx2()) {
        softmax_entropy_avx2(logits, logit_stride, classes, n, probabilities, probability_stride, entropy, maximum, sum, dot);
        return;
    }
#endif
    softmax_entropy(logits, logit_stride, classes, n, probabilities, probability_stride, entropy, maximum, sum, dot);
}

void ck_mix_accumulate_xlogx(const float *p, float scale, float *acc, int n) {
#if CK_X86
    if (ck_use_avx512()) {
        accumulate_xlogx_avx512(p, scale, acc, n);
        return;
    }
    if (ck_use_avx2()) {
        accumulate_xlogx_avx2(p, scale, acc, n);
        return;
    }
#endif
    accumulate_xlogx(p, scale, acc, n);
}
