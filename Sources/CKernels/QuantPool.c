// MaxPool of 8-bit tensors on the codes: max commutes with the (monotonic) dequantization, so this
// equals DequantizeLinear → MaxPool → QuantizeLinear of one encoding exactly, as onnxruntime runs it.
// Per output row and tap, the in-image output columns form one run, so the inner loop is a plain
// element-wise max the compiler vectorises at stride 1 (int8 codes are compared as uint8 after flipping
// the sign bit); at stride 2 AVX-512 takes the even bytes of 64-byte loads.
#include "Internal.h"

#include <string.h>

#if CK_X86
/// row[ow] = max(row[ow], s[2 ow] ^ flip) for ow in [lo, hi): 32 outputs from each 64-byte load,
/// whose words' low bytes (vpmovwb) are the even bytes. The ResNet stem's 3x3 / 2 pool ran at about
/// a byte per cycle in the scalar loop (3.2 ms against onnxruntime's 0.3 ms on 64 x 128 x 256).
CK_AVX512 static void max_stride2_avx512(uint8_t *row, const uint8_t *s, int lo, int hi, uint8_t flip) {
    const __m256i f = _mm256_set1_epi8((char)flip);
    int ow = lo;
    // A whole block reads s[2 ow .. 2 ow + 63]; byte 2 ow + 63 is in the run while output ow + 32 is.
    for (; ow + 32 < hi; ow += 32) {
        __m256i v = _mm256_xor_si256(_mm512_cvtepi16_epi8(_mm512_loadu_si512((const void *)(s + 2 * (size_t)ow))), f);
        __m256i r = _mm256_loadu_si256((const __m256i *)(row + ow));
        _mm256_storeu_si256((__m256i *)(row + ow), _mm256_max_epu8(r, v));
    }
    if (ow < hi) {
        int left = hi - ow;   // 1..32 outputs from 2 * left - 1 bytes
        __mmask64 lm = ((__mmask64)1 << (2 * left - 1)) - 1;
        __mmask32 om = (__mmask32)(0xFFFFFFFFu >> (32 - left));
        __m256i v = _mm256_xor_si256(_mm512_cvtepi16_epi8(_mm512_maskz_loadu_epi8(lm, s + 2 * (size_t)ow)), f);
        __m256i r = _mm256_maskz_loadu_epi8(om, row + ow);
        _mm256_mask_storeu_epi8(row + ow, om, _mm256_max_epu8(r, v));
    }
}
#endif

void ck_maxpool2d_q8(const void *in, void *out, int is_signed, const ck_window *g, int c_begin, int c_end) {
    if (g->out_h <= 0 || g->out_w <= 0 || g->stride_h <= 0 || g->stride_w <= 0 || g->dilation_h <= 0 ||
        g->dilation_w <= 0)
        return;
    const size_t in_plane = (size_t)g->in_h * (size_t)g->in_w, out_plane = (size_t)g->out_h * (size_t)g->out_w;
    const uint8_t flip = is_signed ? 0x80 : 0;
#if CK_X86
    const int wide = g->stride_w == 2 && ck_use_avx512();
#endif
    for (int c = c_begin; c < c_end; c++) {
        const uint8_t *src = (const uint8_t *)in + (size_t)c * in_plane;
        uint8_t *dst = (uint8_t *)out + (size_t)c * out_plane;
        for (int oh = 0; oh < g->out_h; oh++) {
            uint8_t *row = dst + (size_t)oh * (size_t)g->out_w;
            memset(row, 0, (size_t)g->out_w);  // the lowest code (after the flip)
            for (int kh = 0; kh < g->kernel_h; kh++) {
                int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
                if (ih < 0 || ih >= g->in_h) continue;
                const uint8_t *line = src + (size_t)ih * (size_t)g->in_w;
                for (int kw = 0; kw < g->kernel_w; kw++) {
                    int offset = kw * g->dilation_w - g->pad_left;
                    int lo = ck_max_int(0, ck_ceil_div(-offset, g->stride_w));
                    int hi = ck_min_int(g->out_w, ck_floor_div(g->in_w - 1 - offset, g->stride_w) + 1);
                    const uint8_t *s = line + offset;
                    const int stride = g->stride_w;
#if CK_X86
                    if (wide) {
                        if (lo < hi) max_stride2_avx512(row, s, lo, hi, flip);
                        continue;
                    }
#endif
                    for (int ow = lo; ow < hi; ow++) {
                        uint8_t v = (uint8_t)(s[(size_t)ow * (size_t)stride] ^ flip);
                        row[ow] = v > row[ow] ? v : row[ow];
                    }
                }
            }
            if (flip)
                for (int ow = 0; ow < g->out_w; ow++) row[ow] ^= flip;
        }
    }
}
