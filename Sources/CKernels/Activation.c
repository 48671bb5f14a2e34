// Element-wise activations over contiguous rows; also the row helpers other kernels' epilogues
// reuse.
#include "Internal.h"

#include <string.h>

void ck_act_row_scalar(const float *in, float *out, size_t n, ck_activation act) {
    // One loop per kind keeps each body branch-free, so the compiler can vectorise it.
    switch (act.kind) {
    case CK_ACT_RELU:
        for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
        break;
    case CK_ACT_CLIP:
        for (size_t i = 0; i < n; i++) out[i] = fminf(fmaxf(in[i], act.a), act.b);
        break;
    case CK_ACT_HARDSWISH:
    case CK_ACT_HARDSIGMOID:
    case CK_ACT_SIGMOID:
    case CK_ACT_LEAKYRELU:
        for (size_t i = 0; i < n; i++) out[i] = ck_act_scalar(in[i], act);
        break;
    default:
        if (in != out) memmove(out, in, n * sizeof(float));
        break;
    }
}

#if CK_X86
CK_AVX2 void ck_act_row_avx2(const float *in, float *out, size_t n, ck_activation act) {
    if (act.kind == CK_ACT_NONE) {
        if (in != out) memmove(out, in, n * sizeof(float));
        return;
    }
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = ck_act8(_mm256_loadu_ps(in + i), act);
        __m256 b = ck_act8(_mm256_loadu_ps(in + i + 8), act);
        _mm256_storeu_ps(out + i, a);
        _mm256_storeu_ps(out + i + 8, b);
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, ck_act8(_mm256_loadu_ps(in + i), act));
    if (i < n) {
        __m256i mask = ck_tail_mask((int)(n - i));
        __m256 v = ck_act8(_mm256_maskload_ps(in + i, mask), act);
        _mm256_maskstore_ps(out + i, mask, v);
    }
}
#endif

void ck_activation_apply(const float *in, float *out, size_t n, ck_activation act) {
#if CK_X86
    if (ck_use_avx2()) {
        ck_act_row_avx2(in, out, n, act);
        return;
    }
#endif
    ck_act_row_scalar(in, out, n, act);
}
