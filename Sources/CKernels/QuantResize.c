// Resize of 8-bit tensors with onnxruntime's bilinear arithmetic: weights dx1 = |s - x0|,
// dx2 = |s - x1| (both 0.5 when x0 == x1), the four products summed in one fixed order in fp32
// without FMA. Its 8-bit Resize (QOperator models) reads the codes and truncates the sum; its QDQ
// graphs resize the dequantized values in float and quantize the sum. Both are reproduced here, so
// results match bit for bit. Rows are widened to floats in `scratch` so the AVX2 path can gather.
#include "Internal.h"

// The sums must round exactly as onnxruntime's do: no fused multiply-adds.
#pragma STDC FP_CONTRACT OFF

CK_INLINE float q8_at(const void *p, size_t i, int is_signed) {
    return is_signed ? (float)((const int8_t *)p)[i] : (float)((const uint8_t *)p)[i];
}

/// The horizontal weights of output column x, as onnxruntime computes them.
CK_INLINE void q8_weights(const int32_t *x0, const int32_t *x1, const float *wx, int x, float *d1, float *d2) {
    if (x0[x] == x1[x]) {
        *d1 = 0.5f;
        *d2 = 0.5f;
        return;
    }
    float s = (float)x0[x] + wx[x];
    *d1 = fabsf(s - (float)x0[x]);
    *d2 = fabsf(s - (float)x1[x]);
}

/// Stores one interpolated value: truncated (requant == NULL) or quantized with *requant; as a byte,
/// or dequantized with *dequant into a float output.
CK_INLINE void q8_store(void *out, size_t i, float v, int is_signed, const ck_qparams *requant,
                        const ck_qparams *dequant) {
    int32_t q;
    if (requant) {
        float lo = (float)((is_signed ? -128 : 0) - requant->zero_point);
        float hi = (float)((is_signed ? 127 : 255) - requant->zero_point);
        float x = v / requant->scale;
        x = x > lo ? x : lo;
        x = x < hi ? x : hi;
        q = (int32_t)nearbyintf(x) + requant->zero_point;
    } else {
        q = (int32_t)v;
    }
    int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
    q = q < lo ? lo : (q > hi ? hi : q);
    if (dequant) ((float *)out)[i] = (float)(q - dequant->zero_point) * dequant->scale;
    else if (is_signed) ((int8_t *)out)[i] = (int8_t)q;
    else ((uint8_t *)out)[i] = (uint8_t)q;
}

/// Row of codes as floats: the codes themselves, or their dequantized values (x - zp) * scale.
static void widen_row(const void *in, size_t offset, int n, int is_signed, const ck_qparams *dequant, float *dst) {
    for (int i = 0; i < n; i++) {
        float x = q8_at(in, offset + (size_t)i, is_signed);
        dst[i] = dequant ? (x - (float)dequant->zero_point) * dequant->scale : x;
    }
}

#if CK_X86
// Same operations in the same order as the scalar loop (mul, mul, add…; no FMA), so results are identical.
CK_AVX2 static int bilinear_row_avx2(const float *e00, const float *e01, const float *e10, const float *e11,
                                     const float *dx1s, const float *dx2s, float dy1, float dy2, int out_w,
                                     void *dst, int is_signed, const ck_qparams *requant, const ck_qparams *dequant) {
    __m256 vdy1 = _mm256_set1_ps(dy1), vdy2 = _mm256_set1_ps(dy2);
    __m256 lo = _mm256_setzero_ps(), hi = lo, scale = lo;
    __m256i zp = _mm256_setzero_si256();
    if (requant) {
        scale = _mm256_set1_ps(requant->scale);
        lo = _mm256_set1_ps((float)((is_signed ? -128 : 0) - requant->zero_point));
        hi = _mm256_set1_ps((float)((is_signed ? 127 : 255) - requant->zero_point));
        zp = _mm256_set1_epi32(requant->zero_point);
    }
    int x = 0;
    for (; x + 8 <= out_w; x += 8) {
        __m256 d1 = _mm256_loadu_ps(dx1s + x), d2 = _mm256_loadu_ps(dx2s + x);
        __m256 v = _mm256_mul_ps(_mm256_mul_ps(d2, vdy2), _mm256_loadu_ps(e00 + x));
        v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_mul_ps(d1, vdy2), _mm256_loadu_ps(e01 + x)));
        v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_mul_ps(d2, vdy1), _mm256_loadu_ps(e10 + x)));
        v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_mul_ps(d1, vdy1), _mm256_loadu_ps(e11 + x)));
        __m256i q;
        if (requant) {
            // The scalar q8_store's steps: divide, clamp, round half to even (the default MXCSR mode), add zp.
            __m256 t = _mm256_min_ps(_mm256_max_ps(_mm256_div_ps(v, scale), lo), hi);
            q = _mm256_add_epi32(_mm256_cvtps_epi32(t), zp);
        } else {
            q = _mm256_cvttps_epi32(v);
        }
        if (dequant) {
            // DequantizeLinear fused: (q - zp) * scale, as ck_dequantize computes it.
            __m256i qc = _mm256_max_epi32(q, _mm256_set1_epi32(is_signed ? -128 : 0));
            qc = _mm256_min_epi32(qc, _mm256_set1_epi32(is_signed ? 127 : 255));
            __m256 f = _mm256_cvtepi32_ps(_mm256_sub_epi32(qc, _mm256_set1_epi32(dequant->zero_point)));
            _mm256_storeu_ps((float *)dst + x, _mm256_mul_ps(f, _mm256_set1_ps(dequant->scale)));
            continue;
        }
        __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        __m128i b = is_signed ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
        _mm_storel_epi64((__m128i *)((uint8_t *)dst + x), b);
    }
    return x;
}

// The AVX-512 form of bilinear_row_avx2 (16 columns a step, same operations in the same order).
CK_AVX512 static int bilinear_row_avx512(const float *e00, const float *e01, const float *e10, const float *e11,
                                         const float *dx1s, const float *dx2s, float dy1, float dy2, int out_w,
                                         void *dst, int is_signed, const ck_qparams *requant, const ck_qparams *dequant) {
    __m512 vdy1 = _mm512_set1_ps(dy1), vdy2 = _mm512_set1_ps(dy2);
    const int qlo = is_signed ? -128 : 0, qhi = is_signed ? 127 : 255;
    __m512 lo = _mm512_setzero_ps(), hi = lo, scale = _mm512_set1_ps(1);
    __m512i zp = _mm512_setzero_si512();
    if (requant) {
        scale = _mm512_set1_ps(requant->scale);
        lo = _mm512_set1_ps((float)(qlo - requant->zero_point));
        hi = _mm512_set1_ps((float)(qhi - requant->zero_point));
        zp = _mm512_set1_epi32(requant->zero_point);
    }
    int x = 0;
    for (; x + 16 <= out_w; x += 16) {
        __m512 d1 = _mm512_loadu_ps(dx1s + x), d2 = _mm512_loadu_ps(dx2s + x);
        __m512 v = _mm512_mul_ps(_mm512_mul_ps(d2, vdy2), _mm512_loadu_ps(e00 + x));
        v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_mul_ps(d1, vdy2), _mm512_loadu_ps(e01 + x)));
        v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_mul_ps(d2, vdy1), _mm512_loadu_ps(e10 + x)));
        v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_mul_ps(d1, vdy1), _mm512_loadu_ps(e11 + x)));
        __m512i q;
        if (requant) {
            __m512 t = _mm512_min_ps(_mm512_max_ps(_mm512_div_ps(v, scale), lo), hi);
            q = _mm512_add_epi32(_mm512_cvtps_epi32(t), zp);
        } else {
            q = _mm512_cvttps_epi32(v);
        }
        q = _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(qlo)), _mm512_set1_epi32(qhi));
        if (dequant) {
            __m512 f = _mm512_cvtepi32_ps(_mm512_sub_epi32(q, _mm512_set1_epi32(dequant->zero_point)));
            _mm512_storeu_ps((float *)dst + x, _mm512_mul_ps(f, _mm512_set1_ps(dequant->scale)));
        } else {
            _mm_storeu_si128((__m128i *)((uint8_t *)dst + x), _mm512_cvtepi32_epi8(q));
        }
    }
    return x;
}

/// e00[x] = r0[x0[x]], e01[x] = r0[x1[x]], e10[x] = r1[x0[x]], e11[x] = r1[x1[x]] for x in [0, out_w),
/// 16 columns a step whenever their source columns fall in a 32-float window (always when
/// upsampling): two (masked) loads per row and a two-table permute per corner. The scalar copy
/// it replaces took about as long as the interpolation itself on the demo's x4 logit upsample.
/// Returns how many columns it did (the caller finishes the rest).
CK_AVX512 static int corners_avx512(const float *r0, const float *r1, const int32_t *x0, const int32_t *x1, int in_w,
                                    int out_w, float *e00, float *e01, float *e10, float *e11) {
    int x = 0;
    for (; x + 16 <= out_w; x += 16) {
        __m512i i0 = _mm512_loadu_si512((const void *)(x0 + x)), i1 = _mm512_loadu_si512((const void *)(x1 + x));
        int base = _mm512_reduce_min_epi32(_mm512_min_epi32(i0, i1));
        int top = _mm512_reduce_max_epi32(_mm512_max_epi32(i0, i1));
        if (base < 0 || top >= in_w || top - base >= 32) break;
        int left = in_w - base;   // floats of the row from base on (>= 1)
        __mmask16 m_lo = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
        __mmask16 m_hi = left >= 32 ? (__mmask16)0xFFFF : (left <= 16 ? (__mmask16)0 : (__mmask16)((1u << (left - 16)) - 1u));
        __m512 a_lo = _mm512_maskz_loadu_ps(m_lo, r0 + base), a_hi = _mm512_maskz_loadu_ps(m_hi, r0 + base + 16);
        __m512 b_lo = _mm512_maskz_loadu_ps(m_lo, r1 + base), b_hi = _mm512_maskz_loadu_ps(m_hi, r1 + base + 16);
        __m512i v = _mm512_set1_epi32(base);
        i0 = _mm512_sub_epi32(i0, v);
        i1 = _mm512_sub_epi32(i1, v);
        _mm512_storeu_ps(e00 + x, _mm512_permutex2var_ps(a_lo, i0, a_hi));
        _mm512_storeu_ps(e01 + x, _mm512_permutex2var_ps(a_lo, i1, a_hi));
        _mm512_storeu_ps(e10 + x, _mm512_permutex2var_ps(b_lo, i0, b_hi));
        _mm512_storeu_ps(e11 + x, _mm512_permutex2var_ps(b_lo, i1, b_hi));
    }
    return x;
}
#endif

void ck_resize_bilinear_q8(const void *in, void *out, int is_signed, const ck_qparams *requant,
                           const ck_qparams *dequant, int in_h, int in_w, int out_h, int out_w, const int32_t *y0,
                           const int32_t *y1, const float *wy, const int32_t *x0, const int32_t *x1, const float *wx,
                           int c_begin, int c_end, float *scratch) {
    if (in_h <= 0 || in_w <= 0 || out_h <= 0 || out_w <= 0) return;
    // scratch: two widened source rows, the horizontal weights, and the four corner values of
    // every output column, which consecutive output rows with the same source rows reuse.
    float *r0 = scratch, *r1 = r0 + in_w, *dx1s = r1 + in_w, *dx2s = dx1s + out_w;
    float *e00 = dx2s + out_w, *e01 = e00 + out_w, *e10 = e01 + out_w, *e11 = e10 + out_w;
    for (int x = 0; x < out_w; x++) q8_weights(x0, x1, wx, x, dx1s + x, dx2s + x);
    const size_t in_plane = (size_t)in_h * (size_t)in_w, out_plane = (size_t)out_h * (size_t)out_w;
    for (int c = c_begin; c < c_end; c++) {
        int cached0 = -1, cached1 = -1;
        for (int y = 0; y < out_h; y++) {
            float dy1, dy2;
            q8_weights(y0, y1, wy, y, &dy1, &dy2);
            if (y0[y] != cached0 || y1[y] != cached1) {
                widen_row(in, (size_t)c * in_plane + (size_t)y0[y] * (size_t)in_w, in_w, is_signed, requant, r0);
                widen_row(in, (size_t)c * in_plane + (size_t)y1[y] * (size_t)in_w, in_w, is_signed, requant, r1);
                int x = 0;
#if CK_X86
                if (ck_use_avx512()) x = corners_avx512(r0, r1, x0, x1, in_w, out_w, e00, e01, e10, e11);
#endif
                for (; x < out_w; x++) {
                    e00[x] = r0[x0[x]];
                    e01[x] = r0[x1[x]];
                    e10[x] = r1[x0[x]];
                    e11[x] = r1[x1[x]];
                }
                cached0 = y0[y];
                cached1 = y1[y];
            }
            size_t base = (size_t)c * out_plane + (size_t)y * (size_t)out_w;
            void *row = dequant ? (void *)((float *)out + base) : (void *)((uint8_t *)out + base);
            int x = 0;
#if CK_X86
            if (ck_use_avx512())
                x = bilinear_row_avx512(e00, e01, e10, e11, dx1s, dx2s, dy1, dy2, out_w, row, is_signed, requant, dequant);
            else if (ck_use_avx2())
                x = bilinear_row_avx2(e00, e01, e10, e11, dx1s, dx2s, dy1, dy2, out_w, row, is_signed, requant, dequant);
#endif
            for (; x < out_w; x++) {
                float d1 = dx1s[x], d2 = dx2s[x];
                float v = d2 * dy2 * e00[x];
                v = v + d1 * dy2 * e01[x];
                v = v + d2 * dy1 * e10[x];
                v = v + d1 * dy1 * e11[x];
                q8_store(out, base + (size_t)x, v, is_signed, requant, dequant);
            }
        }
    }
}

void ck_resize_nearest_q8(const uint8_t *in, uint8_t *out, int in_h, int in_w, int out_h, int out_w,
                          const int32_t *ys, const int32_t *xs, int c_begin, int c_end) {
    const size_t in_plane = (size_t)in_h * (size_t)in_w, out_plane = (size_t)out_h * (size_t)out_w;
    for (int c = c_begin; c < c_end; c++) {
        for (int y = 0; y < out_h; y++) {
            const uint8_t *row = in + (size_t)c * in_plane + (size_t)ys[y] * (size_t)in_w;
            uint8_t *dst = out + (size_t)c * out_plane + (size_t)y * (size_t)out_w;
            for (int x = 0; x < out_w; x++) dst[x] = row[xs[x]];
        }
    }
}
