// Private helpers shared by the kernel families: the dispatch switch, scalar activations and,
// on x86-64, the AVX2+FMA activation and exp helpers. Never exported to Swift.
#ifndef CKERNELS_INTERNAL_H
#define CKERNELS_INTERNAL_H

#include "CKernels.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#define CK_X86 1
#include <immintrin.h>
#define CK_AVX2 __attribute__((target("avx2,fma")))
#define CK_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
/// AVX-512 plus VNNI (vpdpbusd / vpdpwssd on zmm): the int8 GEMM and depthwise kernels.
#define CK_AVX512VNNI __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx512vnni,fma")))
/// AVX2 plus AVX-VNNI (the VEX-encoded ymm vpdpbusd / vpdpwssd of Alder Lake, Zen 4 and later).
#define CK_AVXVNNI __attribute__((target("avx2,fma,avxvnni")))
#else
#define CK_X86 0
#endif

#define CK_INLINE static inline __attribute__((always_inline))

/// ck_cpu_features() bits (documented in CKernels.h).
#define CK_FEATURE_AVX2 1
#define CK_FEATURE_AVX512 2
#define CK_FEATURE_AVX512VNNI 4
#define CK_FEATURE_AVXVNNI 8

/// Nonzero when the AVX2+FMA path should run (CPU supports it and dispatch is automatic).
int ck_use_avx2(void);
/// Nonzero when the AVX-512 path should run (CPU supports F/DQ/BW/VL and dispatch is automatic).
int ck_use_avx512(void);

CK_INLINE int ck_min_int(int a, int b) { return a < b ? a : b; }
CK_INLINE int ck_max_int(int a, int b) { return a > b ? a : b; }

/// Floor division for a possibly negative numerator and a positive denominator.
CK_INLINE int ck_floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
/// Ceiling division for a possibly negative numerator and a positive denominator.
CK_INLINE int ck_ceil_div(int a, int b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/// Output index range [lo, hi) of one axis whose taps pos = o*stride - pad + k*dilation,
/// k in [0, kernel), all fall inside [0, size). Empty ranges come back as lo == hi.
CK_INLINE void ck_interior_range(int size, int out, int kernel, int stride, int pad, int dilation,
                                 int *lo, int *hi) {
    int first = ck_ceil_div(pad, stride);
    int last_tap = (kernel - 1) * dilation;
    int end = ck_floor_div(size - 1 - last_tap + pad, stride) + 1;
    first = ck_max_int(0, ck_min_int(first, out));
    end = ck_max_int(first, ck_min_int(end, out));
    *lo = first;
    *hi = end;
}

/// Scalar activation of one value; the same definitions as the header's enum comments.
CK_INLINE float ck_act_scalar(float x, ck_activation act) {
    switch (act.kind) {
    case CK_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case CK_ACT_CLIP: return fminf(fmaxf(x, act.a), act.b);
    case CK_ACT_HARDSWISH: {
        float g = x * (1.0f / 6.0f) + 0.5f;
        g = g < 0.0f ? 0.0f : (g > 1.0f ? 1.0f : g);
        return x * g;
    }
    case CK_ACT_HARDSIGMOID: {
        float g = act.a * x + act.b;
        return g < 0.0f ? 0.0f : (g > 1.0f ? 1.0f : g);
    }
    case CK_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case CK_ACT_LEAKYRELU: return x >= 0.0f ? x : act.a * x;
    default: return x;
    }
}

/// out[i] = act(in[i]) for n contiguous values, in may equal out (scalar path; loops stay simple
/// so the compiler can auto-vectorise them for the baseline ISA, e.g. SSE2 or NEON).
void ck_act_row_scalar(const float *in, float *out, size_t n, ck_activation act);

#if CK_X86
/// exp(x) for 8 lanes: Cody-Waite reduction by ln2 and a degree-7 Taylor polynomial on
/// |r| <= ln2/2 (truncation < 1e-8 relative). 2^n is applied in two halves so results overflow
/// to +inf above ~88.72 and underflow gradually to 0 below ~-87.3, like expf; NaN propagates.
CK_AVX2 CK_INLINE __m256 ck_exp8(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-104.0f);
    const __m256 hi = _mm256_set1_ps(89.0f);
    __m256 nan_mask = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    __m256 xc = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-0.693147182464599609375f), xc);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(1.904654323148236e-9f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1);
    __m256i n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    return _mm256_blendv_ps(y, x, nan_mask);
}

/// Activation of 8 lanes; the branch is on a loop-invariant kind, so it predicts perfectly.
CK_AVX2 CK_INLINE __m256 ck_act8(__m256 x, ck_activation act) {
    switch (act.kind) {
    case CK_ACT_RELU: return _mm256_max_ps(x, _mm256_setzero_ps());
    case CK_ACT_CLIP:
        return _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(act.a)), _mm256_set1_ps(act.b));
    case CK_ACT_HARDSWISH: {
        __m256 g = _mm256_fmadd_ps(x, _mm256_set1_ps(1.0f / 6.0f), _mm256_set1_ps(0.5f));
        g = _mm256_min_ps(_mm256_max_ps(g, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
        return _mm256_mul_ps(x, g);
    }
    case CK_ACT_HARDSIGMOID: {
        __m256 g = _mm256_fmadd_ps(x, _mm256_set1_ps(act.a), _mm256_set1_ps(act.b));
        return _mm256_min_ps(_mm256_max_ps(g, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
    }
    case CK_ACT_SIGMOID: {
        const __m256 one = _mm256_set1_ps(1.0f);
        __m256 e = ck_exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
        return _mm256_div_ps(one, _mm256_add_ps(one, e));
    }
    case CK_ACT_LEAKYRELU: {
        __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
        return _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(act.a)), neg);
    }
    default: return x;
    }
}

/// Mask selecting the first `n` (0..8) lanes for maskload/maskstore tails.
CK_AVX2 CK_INLINE __m256i ck_tail_mask(int n) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lanes);
}

/// Mask selecting lanes [lo, hi) (any integers; lanes outside 0..7 simply do not exist).
CK_AVX2 CK_INLINE __m256i ck_range_mask(int lo, int hi) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i below_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), lanes);
    __m256i below_lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(lo), lanes);
    return _mm256_andnot_si256(below_lo, below_hi);
}

/// _mm256_shuffle_ps(v0, v1, 0x88) on two consecutive 8-float loads picks the even elements in
/// lane order {0,1,4,5,2,3,6,7} (0xDD: the odd ones, same order). Swapping the middle 64-bit
/// quarters converts between that order and the natural one, in either direction.
CK_AVX2 CK_INLINE __m256 ck_swap_mid(__m256 v) {
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xD8));
}

/// out[i] = act(in[i]) for n contiguous values with AVX2, in may equal out.
CK_AVX2 void ck_act_row_avx2(const float *in, float *out, size_t n, ck_activation act);

/// exp(x) for 16 lanes, the same algorithm and limits as ck_exp8.
CK_AVX512 CK_INLINE __m512 ck_exp16(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-104.0f);
    const __m512 hi = _mm512_set1_ps(89.0f);
    __mmask16 nan_mask = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    __m512 xc = _mm512_max_ps(_mm512_min_ps(x, hi), lo);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-0.693147182464599609375f), xc);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(1.904654323148236e-9f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512i ni = _mm512_cvtps_epi32(n);
    __m512i n1 = _mm512_srai_epi32(ni, 1);
    __m512i n2 = _mm512_sub_epi32(ni, n1);
    const __m512i bias = _mm512_set1_epi32(127);
    __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n1, bias), 23));
    __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n2, bias), 23));
    __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
    return _mm512_mask_blend_ps(nan_mask, y, x);
}

/// Activation of 16 lanes; the same definitions as ck_act8.
CK_AVX512 CK_INLINE __m512 ck_act16(__m512 x, ck_activation act) {
    switch (act.kind) {
    case CK_ACT_RELU: return _mm512_max_ps(x, _mm512_setzero_ps());
    case CK_ACT_CLIP:
        return _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(act.a)), _mm512_set1_ps(act.b));
    case CK_ACT_HARDSWISH: {
        __m512 g = _mm512_fmadd_ps(x, _mm512_set1_ps(1.0f / 6.0f), _mm512_set1_ps(0.5f));
        g = _mm512_min_ps(_mm512_max_ps(g, _mm512_setzero_ps()), _mm512_set1_ps(1.0f));
        return _mm512_mul_ps(x, g);
    }
    case CK_ACT_HARDSIGMOID: {
        __m512 g = _mm512_fmadd_ps(x, _mm512_set1_ps(act.a), _mm512_set1_ps(act.b));
        return _mm512_min_ps(_mm512_max_ps(g, _mm512_setzero_ps()), _mm512_set1_ps(1.0f));
    }
    case CK_ACT_SIGMOID: {
        const __m512 one = _mm512_set1_ps(1.0f);
        __m512 e = ck_exp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
        return _mm512_div_ps(one, _mm512_add_ps(one, e));
    }
    case CK_ACT_LEAKYRELU: {
        __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(x, neg, x, _mm512_set1_ps(act.a));
    }
    default: return x;
    }
}
#endif

/// Rows per panel of the packed GEMM A operand (shared by every path): panel p holds rows
/// [8p, 8p+8) as k-major groups of 8 floats, rows past m zero-filled.
#define CK_GEMM_MR 8
/// Largest K block and column block each SIMD path packs B for (measured on a 1 MiB-L2 core);
/// ck_gemm_scratch_size covers the larger of the two products.
#define CK_GEMM_KC_AVX512 512
#define CK_GEMM_NC_AVX512 336
#define CK_GEMM_KC_AVX2 256
#define CK_GEMM_NC_AVX2 528

/// Arguments of one ck_gemm_packed call, passed whole to the per-ISA drivers.
typedef struct {
    int m, n, k;
    const float *a;          // packed A
    const float *b;
    int ldb;
    float *c;
    int ldc;
    const float *bias, *residual;
    int ldr;
    ck_activation act;
    int m_begin, m_end, n_begin, n_end;
    float *scratch;
} ck_gemm_args;

#if CK_X86
/// AVX-512 driver of ck_gemm_packed (ranges already validated and non-empty).
CK_AVX512 void ck_gemm_avx512(const ck_gemm_args *g);
/// AVX2+FMA driver of ck_gemm_packed (ranges already validated and non-empty).
CK_AVX2 void ck_gemm_avx2(const ck_gemm_args *g);
#endif

/// Whether ck_qgemm_conv's implicit im2col takes this window and k: stride 1 across, output rows of
/// at least 16 pixels (so a 64-column chunk has at most 6 runs), k = channels x taps.
CK_INLINE int ck_qgemm_conv_fits(const ck_window *w, int k) {
    return w->stride_w == 1 && w->out_w >= 16 && w->out_h > 0 && w->stride_h > 0 && w->dilation_h > 0 &&
           w->dilation_w > 0 && w->kernel_h > 0 && w->kernel_w > 0 && w->channels > 0 &&
           (long)w->channels * w->kernel_h * w->kernel_w == k;
}

/// Int8 kernel entry points that differ per path; the dispatch table (ck_platform) holds one
/// of each, chosen once from the CPU's features.
typedef void (*ck_qgemm_fn)(int m, int n, int k, const void *packed_a, const uint8_t *b, int ldb, int b_signed,
                            void *c, int ldc, const ck_requant *rq, int m_begin, int m_end, int n_begin,
                            int n_end, void *scratch);
typedef int (*ck_qgemm_conv_fn)(int m, int k, const void *packed_a, const uint8_t *in, const ck_window *win,
                                uint8_t pad, int b_signed, void *c, int ldc, const ck_requant *rq, int m_begin,
                                int m_end, int n_begin, int n_end, void *scratch);
typedef void (*ck_qdepthwise_fn)(const void *in, ck_qparams in_q, const int8_t *weight, const ck_requant *rq,
                                 void *out, const ck_window *win, int c_begin, int c_end);
typedef void (*ck_quantize_fn)(const float *in, void *out, size_t n, ck_qparams p);
typedef void (*ck_dequantize_fn)(const void *in, float *out, size_t n, ck_qparams p);
typedef void (*ck_qadd_fn)(const void *a, ck_qparams pa, const void *b, ck_qparams pb, void *c, ck_qparams pc,
                           size_t n);
typedef void (*ck_qrequantize_fn)(const void *in, ck_qparams pin, void *out, ck_qparams pout, size_t n);
typedef void (*ck_qavgpool_fn)(const void *in, ck_qparams pin, void *out, ck_qparams pout, int spatial,
                               int c_begin, int c_end);
/// Driver of ck_gemm_packed (ranges validated and non-empty, scratch present).
typedef void (*ck_gemm_driver_fn)(const ck_gemm_args *g);

/// The dispatch table, like onnxruntime's MLAS platform: one entry per kernel that has several
/// paths. Dispatch.c fills one immutable table per ck_set_dispatch mode, once, from the probed
/// CPU features, and ck_set_dispatch only selects which one is current, so readers on other
/// threads never see a half-written table. The fp32 families other than the GEMM still branch on
/// ck_use_avx2 / ck_use_avx512, which read the `avx2` / `avx512` flags of the current table.
typedef struct {
    int mode;                  // the ck_set_dispatch mode this table serves
    int features;              // the ck_cpu_features() bits this table may use
    int avx2, avx512;          // answers of ck_use_avx2 / ck_use_avx512
    ck_gemm_driver_fn gemm;    // fp32 ck_gemm_packed
    const char *qgemm_name;    // ck_qgemm_path()
    int qgemm_columns;         // ck_qgemm_column_step()
    ck_qgemm_fn qgemm;
    ck_qgemm_conv_fn qgemm_conv;   // NULL: ck_qgemm_conv declines (the caller uses im2col + ck_qgemm)
    ck_qdepthwise_fn qdepthwise;
    ck_quantize_fn quantize;
    ck_dequantize_fn dequantize;
    ck_qadd_fn qadd;
    ck_qrequantize_fn qrequantize;
    ck_qavgpool_fn qglobal_avgpool;
} ck_platform;

/// The table of the current dispatch mode (never NULL).
const ck_platform *ck_platform_get(void);

/// Portable scalar driver of ck_gemm_packed (Gemm.c).
void ck_gemm_scalar(const ck_gemm_args *g);

/// Keeps the compiler from fusing a scalar product into the next addition (no FMA), since results
/// must round like onnxruntime's.
#define CK_OPAQUE_SCALAR(x) __asm__ volatile("" : "+x"(x))

/// The constant part of onnxruntime's QLinearAdd, zc - (za * sa/sc + zb * sb/sc): its kernel computes
/// fma(a, sa/sc, fma(b, sb/sc, fixed)) and rounds that (it already holds the output zero point).
CK_INLINE float ck_qadd_fixed(ck_qparams pa, ck_qparams pb, ck_qparams pc) {
    // onnxruntime's build contracts za * ra + zb * rb into one fused multiply-add.
    float tb = (pb.scale / pc.scale) * (float)pb.zero_point;
    CK_OPAQUE_SCALAR(tb);
    return (float)pc.zero_point - fmaf((float)pa.zero_point, pa.scale / pc.scale, tb);
}

/// Scalar requantisation helpers shared by the reference and the SIMD paths' tails.
CK_INLINE int32_t ck_q_load(const void *p, size_t i, int is_signed) {
    return is_signed ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const uint8_t *)p)[i];
}

CK_INLINE void ck_q_store(void *p, size_t i, int32_t v, int is_signed) {
    if (is_signed) ((int8_t *)p)[i] = (int8_t)v;
    else ((uint8_t *)p)[i] = (uint8_t)v;
}

/// round_half_even(x) + zp clamped to [lo, hi]; the clamp happens in float first so huge or
/// non-finite x cannot overflow the integer conversion (NaN maps to lo, as onnxruntime's does).
/// The SIMD paths do the same steps: max_ps(x, flo) (NaN -> flo), min_ps(x, fhi), cvtps2dq
/// (round half to even under the default MXCSR), + zp, then keep the low byte.
CK_INLINE int32_t ck_q_round_clamp(float x, int32_t zp, int32_t lo, int32_t hi) {
    float flo = (float)(lo - zp), fhi = (float)(hi - zp);
    x = x > flo ? x : flo;  // NaN fails the comparison and becomes flo
    x = x < fhi ? x : fhi;
    return (int32_t)nearbyintf(x) + zp;
}

CK_INLINE int32_t ck_q_min(int is_signed) { return is_signed ? -128 : 0; }
CK_INLINE int32_t ck_q_max(int is_signed) { return is_signed ? 127 : 255; }

/// The scalar reference kernels (QuantScalar.c).
void ck_qgemm_scalar(int m, int n, int k, const void *packed_a, const uint8_t *b, int ldb, int b_signed,
                     void *c, int ldc, const ck_requant *rq, int m_begin, int m_end, int n_begin, int n_end);
void ck_qdepthwise_conv2d_scalar(const void *in, ck_qparams in_q, const int8_t *weight, const ck_requant *rq,
                                 void *out, const ck_window *win, int c_begin, int c_end);
void ck_quantize_scalar(const float *in, void *out, size_t n, ck_qparams p);
void ck_dequantize_scalar(const void *in, float *out, size_t n, ck_qparams p);
void ck_qadd_scalar(const void *a, ck_qparams pa, const void *b, ck_qparams pb, void *c, ck_qparams pc, size_t n);
void ck_qrequantize_scalar(const void *in, ck_qparams pin, void *out, ck_qparams pout, size_t n);
void ck_qglobal_avgpool_scalar(const void *in, ck_qparams pin, void *out, ck_qparams pout, int spatial,
                               int c_begin, int c_end);

/// Int8 GEMM blocking. The AVX-VNNI and AVX2 paths pack B for all of K and a block of columns at
/// a time (an int8 C cannot hold partial sums across K blocks), so the column block shrinks as K
/// grows to keep the packed block within the path's L2 budget; each path's scratch is its largest
/// block. The AVX-512 path does the same up to k4 = CK_QGEMM_KBLOCK_FROM and blocks K past it.
#define CK_QGEMM_NR_AVX512 48      // column granularity of its blocks (the 4 x 64 driver rounds to 64)
#define CK_QGEMM_NR_AVXVNNI 24     // 3 ymm of 8 int32
#define CK_QGEMM_NR_AVX2 16        // 2 ymm of 8 int32
#define CK_QGEMM_BUDGET_AVX512 (512 * 1024)
#define CK_QGEMM_BUDGET_AVXVNNI (384 * 1024)
#define CK_QGEMM_BUDGET_AVX2 (256 * 1024)
#define CK_QGEMM_NC_MAX 1536       // column block cap (small K)

/// k rounded up to the 4-byte groups of the packed layouts.
CK_INLINE size_t ck_qgemm_k4(int k) { return (size_t)(k + 3) / 4 * 4; }

/// Column block for a packed-B row of `bytes_per_column` bytes, a multiple of `nr` in [nr, NC_MAX].
CK_INLINE int ck_qgemm_nc(size_t bytes_per_column, size_t budget, int nr) {
    size_t nc = budget / bytes_per_column / (size_t)nr * (size_t)nr;
    if (nc < (size_t)nr) nc = (size_t)nr;
    if (nc > CK_QGEMM_NC_MAX) nc = CK_QGEMM_NC_MAX / nr * nr;
    return (int)nc;
}

/// AVX-512 VNNI and AVX-VNNI: B packed as [k/4][columns][4 bytes]: k4 bytes per column.
CK_INLINE int ck_qgemm_nc_avx512(int k) {
    return ck_qgemm_nc(ck_qgemm_k4(k), CK_QGEMM_BUDGET_AVX512, CK_QGEMM_NR_AVX512);
}
/// Past k4 = CK_QGEMM_KBLOCK_FROM the AVX-512 path blocks K instead (qgemm_kblocked): K blocks of
/// at most KBLOCK_K, a packed B block of KBLOCK_K x KBLOCK_NC bytes (512 KiB) and the int32 sums of
/// KBLOCK_MC x KBLOCK_NC (1 MiB). On the ResNet head (M 512, K 18432, N 2048) 1024 x 512 blocks
/// measured 93-98 ms against 97-102 ms for 2048 x 256 (interleaved runs, implicit im2col).
#define CK_QGEMM_KBLOCK_FROM 2048
#define CK_QGEMM_KBLOCK_K 1024
#define CK_QGEMM_KBLOCK_NC 512
#define CK_QGEMM_KBLOCK_MC 512
CK_INLINE size_t ck_qgemm_scratch_avx512(int k) {
    if (ck_qgemm_k4(k) > CK_QGEMM_KBLOCK_FROM)
        return (size_t)CK_QGEMM_KBLOCK_K * CK_QGEMM_KBLOCK_NC + (size_t)CK_QGEMM_KBLOCK_MC * CK_QGEMM_KBLOCK_NC * 4;
    return ck_qgemm_k4(k) * (size_t)ck_qgemm_nc_avx512(k);
}
CK_INLINE int ck_qgemm_nc_avxvnni(int k) {
    return ck_qgemm_nc(ck_qgemm_k4(k), CK_QGEMM_BUDGET_AVXVNNI, CK_QGEMM_NR_AVXVNNI);
}
CK_INLINE size_t ck_qgemm_scratch_avxvnni(int k) { return ck_qgemm_k4(k) * (size_t)ck_qgemm_nc_avxvnni(k); }
/// AVX2: B packed as [k/2][columns][2 int16] (2*k4 bytes per column), followed by the current
/// A panel widened to int16 (8 rows x k4 x 2 bytes).
CK_INLINE int ck_qgemm_nc_avx2(int k) {
    return ck_qgemm_nc(2 * ck_qgemm_k4(k), CK_QGEMM_BUDGET_AVX2, CK_QGEMM_NR_AVX2);
}
CK_INLINE size_t ck_qgemm_scratch_avx2(int k) {
    return 2 * ck_qgemm_k4(k) * (size_t)ck_qgemm_nc_avx2(k) + 16 * ck_qgemm_k4(k);
}

#if CK_X86
/// SIMD int8 paths (ranges validated and non-empty; scratch non-NULL, 64-byte aligned, of at least
/// the path's ck_qgemm_scratch_* bytes).
CK_AVX512VNNI void ck_qgemm_avx512vnni(int m, int n, int k, const void *packed_a, const uint8_t *b, int ldb,
                                       int b_signed, void *c, int ldc, const ck_requant *rq, int m_begin,
                                       int m_end, int n_begin, int n_end, void *scratch);
/// ck_qgemm_conv on AVX-512 VNNI (ranges validated); 0 when the window does not fit it.
CK_AVX512VNNI int ck_qgemm_conv_avx512vnni(int m, int k, const void *packed_a, const uint8_t *in, const ck_window *win,
                                           uint8_t pad, int b_signed, void *c, int ldc, const ck_requant *rq,
                                           int m_begin, int m_end, int n_begin, int n_end, void *scratch);
CK_AVXVNNI void ck_qgemm_avxvnni(int m, int n, int k, const void *packed_a, const uint8_t *b, int ldb,
                                 int b_signed, void *c, int ldc, const ck_requant *rq, int m_begin, int m_end,
                                 int n_begin, int n_end, void *scratch);
CK_AVX2 void ck_qgemm_avx2(int m, int n, int k, const void *packed_a, const uint8_t *b, int ldb, int b_signed,
                           void *c, int ldc, const ck_requant *rq, int m_begin, int m_end, int n_begin, int n_end,
                           void *scratch);
/// Depthwise (geometry validated, channel range non-empty); each falls back to the scalar
/// reference for geometries it does not cover.
void ck_qdepthwise_avx512vnni(const void *in, ck_qparams in_q, const int8_t *weight, const ck_requant *rq,
                              void *out, const ck_window *win, int c_begin, int c_end);
void ck_qdepthwise_avxvnni(const void *in, ck_qparams in_q, const int8_t *weight, const ck_requant *rq,
                           void *out, const ck_window *win, int c_begin, int c_end);
void ck_qdepthwise_avx2(const void *in, ck_qparams in_q, const int8_t *weight, const ck_requant *rq,
                        void *out, const ck_window *win, int c_begin, int c_end);
/// Element-wise int8 kernels (QElementwise.c).
CK_AVX2 void ck_quantize_avx2(const float *in, void *out, size_t n, ck_qparams p);
CK_AVX2 void ck_dequantize_avx2(const void *in, float *out, size_t n, ck_qparams p);
CK_AVX2 void ck_qadd_avx2(const void *a, ck_qparams pa, const void *b, ck_qparams pb, void *c, ck_qparams pc,
                          size_t n);
CK_AVX2 void ck_qrequantize_avx2(const void *in, ck_qparams pin, void *out, ck_qparams pout, size_t n);
CK_AVX2 void ck_qglobal_avgpool_avx2(const void *in, ck_qparams pin, void *out, ck_qparams pout, int spatial,
                                     int c_begin, int c_end);
#endif

#endif
