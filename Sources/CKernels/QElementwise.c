// AVX2 paths of the element-wise int8 kernels: QuantizeLinear, DequantizeLinear, QLinearAdd,
// the requantisation of QLinearConcat and QLinearGlobalAveragePool. Each does exactly the scalar
// reference's float operations lane by lane (a true division for quantize, as onnxruntime does,
// no reciprocal; products and sums kept apart where the reference rounds them apart, so no FMA
// contraction), the same clamp (max_ps / min_ps behave like the reference's comparisons, NaN
// included) and cvtps2dq, which rounds half to even under the default MXCSR like nearbyintf.
// Tails shorter than a block run through the scalar reference itself.
#include "Internal.h"

#include <string.h>

#if CK_X86

/// Clamp bounds of a requantisation to [lo, hi] with zero point zp, as ck_q_round_clamp's.
typedef struct {
    __m256 flo, fhi;
    __m256i zp;
} q_bounds;

CK_AVX2 CK_INLINE q_bounds make_bounds(int32_t zp, int32_t lo, int32_t hi) {
    q_bounds b;
    b.flo = _mm256_set1_ps((float)(lo - zp));
    b.fhi = _mm256_set1_ps((float)(hi - zp));
    b.zp = _mm256_set1_epi32(zp);
    return b;
}

CK_AVX2 CK_INLINE __m256i round_clamp8(__m256 x, const q_bounds *b) {
    x = _mm256_min_ps(_mm256_max_ps(x, b->flo), b->fhi);
    return _mm256_add_epi32(_mm256_cvtps_epi32(x), b->zp);
}

/// The low bytes of 4 x 8 int32 lanes, in order (exact truncation, like the scalar store).
CK_AVX2 CK_INLINE __m256i low_bytes32(__m256i q0, __m256i q1, __m256i q2, __m256i q3) {
    const __m256i low = _mm256_set1_epi32(0xFF);
    __m256i w01 = _mm256_packus_epi32(_mm256_and_si256(q0, low), _mm256_and_si256(q1, low));
    __m256i w23 = _mm256_packus_epi32(_mm256_and_si256(q2, low), _mm256_and_si256(q3, low));
    __m256i bytes = _mm256_packus_epi16(w01, w23);   // dwords q0.L0 q1.L0 q2.L0 q3.L0 | q0.L1 ...
    return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/// 8 bytes from p widened to int32 (sign- or zero-extended).
CK_AVX2 CK_INLINE __m256i load8_i32(const uint8_t *p, int is_signed) {
    __m128i x = _mm_loadl_epi64((const __m128i *)p);
    return is_signed ? _mm256_cvtepi8_epi32(x) : _mm256_cvtepu8_epi32(x);
}

/// Keeps a value in a register as it is: the compiler may not fuse the multiply that made it
/// into a following add (GCC contracts vector mul + add into an FMA under its default
/// -ffp-contract=fast), which would round differently from the scalar reference.
#define CK_OPAQUE(v) __asm__("" : "+x"(v))

CK_AVX2 void ck_quantize_avx2(const float *in, void *out, size_t n, ck_qparams p) {
    const q_bounds b = make_bounds(p.zero_point, ck_q_min(p.is_signed), ck_q_max(p.is_signed));
    const __m256 scale = _mm256_set1_ps(p.scale);
    uint8_t *o = (uint8_t *)out;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i q[4];
        for (int j = 0; j < 4; j++) q[j] = round_clamp8(_mm256_div_ps(_mm256_loadu_ps(in + i + 8 * j), scale), &b);
        _mm256_storeu_si256((__m256i *)(o + i), low_bytes32(q[0], q[1], q[2], q[3]));
    }
    if (i < n) ck_quantize_scalar(in + i, o + i, n - i, p);
}

CK_AVX2 void ck_dequantize_avx2(const void *in, float *out, size_t n, ck_qparams p) {
    const uint8_t *x = (const uint8_t *)in;
    const __m256 scale = _mm256_set1_ps(p.scale);
    const __m256i zp = _mm256_set1_epi32(p.zero_point);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        for (int j = 0; j < 4; j++) {
            __m256i q = _mm256_sub_epi32(load8_i32(x + i + 8 * j, p.is_signed), zp);
            _mm256_storeu_ps(out + i + 8 * j, _mm256_mul_ps(_mm256_cvtepi32_ps(q), scale));
        }
    }
    if (i < n) ck_dequantize_scalar(x + i, out + i, n - i, p);
}

CK_AVX2 void ck_qadd_avx2(const void *a, ck_qparams pa, const void *b, ck_qparams pb, void *c, ck_qparams pc,
                          size_t n) {
    const uint8_t *xa = (const uint8_t *)a, *xb = (const uint8_t *)b;
    uint8_t *xc = (uint8_t *)c;
    const float ra_s = pa.scale / pc.scale, rb_s = pb.scale / pc.scale;
    const __m256 ra = _mm256_set1_ps(ra_s), rb = _mm256_set1_ps(rb_s);
    const __m256 fixed = _mm256_set1_ps(ck_qadd_fixed(pa, pb, pc));
    const q_bounds bounds = make_bounds(0, ck_q_min(pc.is_signed), ck_q_max(pc.is_signed));
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i q[4];
        for (int j = 0; j < 4; j++) {
            // onnxruntime's order: fma(b, rb, fixed) first, then fma(a, ra, that).
            __m256 t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(load8_i32(xb + i + 8 * j, pb.is_signed)), rb, fixed);
            __m256 v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(load8_i32(xa + i + 8 * j, pa.is_signed)), ra, t);
            q[j] = round_clamp8(v, &bounds);
        }
        _mm256_storeu_si256((__m256i *)(xc + i), low_bytes32(q[0], q[1], q[2], q[3]));
    }
    if (i < n) ck_qadd_scalar(xa + i, pa, xb + i, pb, xc + i, pc, n - i);
}

CK_AVX2 void ck_qrequantize_avx2(const void *in, ck_qparams pin, void *out, ck_qparams pout, size_t n) {
    if (pin.scale == pout.scale && pin.zero_point == pout.zero_point && pin.is_signed == pout.is_signed) {
        memmove(out, in, n);
        return;
    }
    const uint8_t *x = (const uint8_t *)in;
    uint8_t *y = (uint8_t *)out;
    const __m256 r = _mm256_set1_ps(pin.scale / pout.scale);
    const __m256i zin = _mm256_set1_epi32(pin.zero_point);
    const q_bounds bounds = make_bounds(pout.zero_point, ck_q_min(pout.is_signed), ck_q_max(pout.is_signed));
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i q[4];
        for (int j = 0; j < 4; j++) {
            __m256i v = _mm256_sub_epi32(load8_i32(x + i + 8 * j, pin.is_signed), zin);
            q[j] = round_clamp8(_mm256_mul_ps(r, _mm256_cvtepi32_ps(v)), &bounds);
        }
        _mm256_storeu_si256((__m256i *)(y + i), low_bytes32(q[0], q[1], q[2], q[3]));
    }
    if (i < n) ck_qrequantize_scalar(x + i, pin, y + i, pout, n - i);
}

/// Sum of n bytes (as int8 when is_signed) with vpsadbw; int8 is summed as int8 + 128.
CK_AVX2 static int64_t byte_sum(const uint8_t *x, int n, int is_signed) {
    const __m256i zero = _mm256_setzero_si256(), flip = _mm256_set1_epi8(is_signed ? (char)0x80 : 0);
    __m256i s0 = zero, s1 = zero;
    int i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm256_add_epi64(s0, _mm256_sad_epu8(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(x + i)), flip), zero));
        s1 = _mm256_add_epi64(s1, _mm256_sad_epu8(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(x + i + 32)), flip), zero));
    }
    for (; i + 32 <= n; i += 32)
        s0 = _mm256_add_epi64(s0, _mm256_sad_epu8(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(x + i)), flip), zero));
    s0 = _mm256_add_epi64(s0, s1);
    __m128i h = _mm_add_epi64(_mm256_castsi256_si128(s0), _mm256_extracti128_si256(s0, 1));
    int64_t sum = _mm_cvtsi128_si64(h) + _mm_extract_epi64(h, 1);
    if (is_signed) sum -= 128 * (int64_t)i;
    for (; i < n; i++) sum += ck_q_load(x, (size_t)i, is_signed);
    return sum;
}

CK_AVX2 void ck_qglobal_avgpool_avx2(const void *in, ck_qparams pin, void *out, ck_qparams pout, int spatial,
                                     int c_begin, int c_end) {
    if (spatial <= 0) return;
    const float scale = pin.scale / (pout.scale * (float)spatial);
    const int32_t lo = ck_q_min(pout.is_signed), hi = ck_q_max(pout.is_signed);
    for (int c = c_begin; c < c_end; c++) {
        int64_t sum = byte_sum((const uint8_t *)in + (size_t)c * (size_t)spatial, spatial, pin.is_signed);
        // The reference's int32 sum, -zero_point * spatial included (wrapping like it would).
        int32_t acc = (int32_t)((uint32_t)sum - (uint32_t)pin.zero_point * (uint32_t)spatial);
        ck_q_store(out, (size_t)c, ck_q_round_clamp((float)acc * scale, pout.zero_point, lo, hi), pout.is_signed);
    }
}

#endif
