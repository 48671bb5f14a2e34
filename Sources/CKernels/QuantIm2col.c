// im2col of an 8-bit tensor: for one tap, the in-image output columns of an output row form one run,
// so a row is a pad fill, a copy and a pad fill, with no per-element test. At stride 1 AVX-512 does
// a row as masked 64-byte loads over the pad byte and stores; otherwise memset, memcpy, memset.
// At stride 2 (the stems) the copy takes every other byte: AVX-512 BW truncates 64 loaded bytes'
// words to their low bytes (vpmovwb), the run's last block a masked load and store (so it never
// reads past the run's last byte); AVX2 packs two 32-byte loads' masked words (vpackuswb) while
// a whole block stays inside the input row, and finishes the run in scalar code.
#include "Internal.h"

#include <string.h>

#if CK_X86
/// d[i] = s[2i], i in [0, n).
CK_AVX512 static void copy_stride2_avx512(uint8_t *d, const uint8_t *s, int n) {
    int i = 0;
    // A whole block reads s[2i .. 2i+63]: only while output i+32 exists is byte 2i+63 in the run.
    for (; i + 32 < n; i += 32) {
        __m512i v = _mm512_loadu_si512((const void *)(s + 2 * i));
        _mm256_storeu_si256((__m256i *)(d + i), _mm512_cvtepi16_epi8(v));
    }
    if (i < n) {
        int left = n - i;   // 1..32 outputs from 2*left - 1 bytes
        __mmask64 lm = ((__mmask64)1 << (2 * left - 1)) - 1;
        __m512i v = _mm512_maskz_loadu_epi8(lm, s + 2 * i);
        _mm256_mask_storeu_epi8(d + i, (__mmask32)(0xFFFFFFFFu >> (32 - left)), _mm512_cvtepi16_epi8(v));
    }
}

/// One stride-1 output row: d[ow] = s[ow] for ow in [lo, hi), pad elsewhere, 64 columns a masked
/// load and store. The taps of a 3x3 layer at 32x64 are rows of 64 bytes, for which a memset,
/// memcpy, memset call sequence cost several times the copy. Masked-off lanes are not read, so
/// s may point before the row (negative offsets at the left pad).
CK_AVX512 static void copy_row_avx512(uint8_t *d, const uint8_t *s, int out_w, int lo, int hi, uint8_t pad) {
    const __m512i fill = _mm512_set1_epi8((char)pad);
    for (int x0 = 0; x0 < out_w; x0 += 64) {
        int w = ck_min_int(64, out_w - x0);
        int a = ck_max_int(lo - x0, 0), b = ck_min_int(hi - x0, w);
        __mmask64 valid = 0;
        if (b > a) valid = (b - a == 64 ? ~(__mmask64)0 : (((__mmask64)1 << (b - a)) - 1)) << a;
        __m512i v = _mm512_mask_loadu_epi8(fill, valid, s + x0);
        if (w == 64) _mm512_storeu_si512((void *)(d + x0), v);
        else _mm512_mask_storeu_epi8(d + x0, ((__mmask64)1 << w) - 1, v);
    }
}

/// d[i] = s[2i], i in [0, n), reading at most s[0 .. limit) (limit >= 2n - 1).
CK_AVX2 static void copy_stride2_avx2(uint8_t *d, const uint8_t *s, int n, int limit) {
    const __m256i low = _mm256_set1_epi16(0xFF);
    int i = 0;
    for (; i + 32 <= n && 2 * i + 64 <= limit; i += 32) {
        __m256i a = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(s + 2 * i)), low);
        __m256i b = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(s + 2 * i + 32)), low);
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8);
        _mm256_storeu_si256((__m256i *)(d + i), p);
    }
    for (; i + 16 <= n && 2 * i + 32 <= limit; i += 16) {
        __m256i a = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(s + 2 * i)), low);
        __m128i p = _mm_packus_epi16(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
        _mm_storeu_si128((__m128i *)(d + i), p);
    }
    for (; i < n; i++) d[i] = s[2 * i];
}
#endif

void ck_im2col_u8(const uint8_t *in, uint8_t *col, const ck_window *g, int row_begin, int row_end,
                  uint8_t pad) {
    if (g->out_h <= 0 || g->out_w <= 0 || g->kernel_h <= 0 || g->kernel_w <= 0 || g->stride_h <= 0 ||
        g->stride_w <= 0 || g->dilation_h <= 0 || g->dilation_w <= 0)
        return;
    const int taps = g->kernel_h * g->kernel_w;
    const size_t out_w = (size_t)g->out_w;
    const size_t columns = (size_t)g->out_h * out_w;
    const size_t plane = (size_t)g->in_h * (size_t)g->in_w;
    // 2: AVX-512 BW, 1: AVX2, 0: portable (ck_use_* follow ck_set_dispatch).
    int isa = 0;
#if CK_X86
    if (g->stride_w <= 2) isa = ck_use_avx512() ? 2 : (ck_use_avx2() ? 1 : 0);
#endif
    for (int row = row_begin; row < row_end; row++) {
        int c = row / taps, tap = row % taps;
        int kh = tap / g->kernel_w, kw = tap % g->kernel_w;
        const uint8_t *src = in + (size_t)c * plane;
        uint8_t *dst = col + (size_t)row * columns;
        // Output columns whose input column ow*stride - pad + kw*dilation lies in [0, in_w).
        int offset = kw * g->dilation_w - g->pad_left;
        int lo = ck_max_int(0, ck_ceil_div(-offset, g->stride_w));
        int hi = ck_min_int(g->out_w, ck_floor_div(g->in_w - 1 - offset, g->stride_w) + 1);
        if (hi < lo) hi = lo;
        for (int oh = 0; oh < g->out_h; oh++) {
            uint8_t *d = dst + (size_t)oh * out_w;
            int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
#if CK_X86
            if (isa == 2 && g->stride_w == 1) {
                int inside = ih >= 0 && ih < g->in_h;
                copy_row_avx512(d, inside ? src + (size_t)ih * (size_t)g->in_w + offset : src, g->out_w, lo, inside ? hi : lo, pad);
                continue;
            }
#endif
            if (ih < 0 || ih >= g->in_h || lo == hi) {
                memset(d, pad, out_w);
                continue;
            }
            memset(d, pad, (size_t)lo);
            const uint8_t *s = src + (size_t)ih * (size_t)g->in_w + offset;
            if (g->stride_w == 1) {
                memcpy(d + lo, s + lo, (size_t)(hi - lo));
#if CK_X86
            } else if (isa == 2) {
                copy_stride2_avx512(d + lo, s + 2 * (size_t)lo, hi - lo);
            } else if (isa == 1) {
                // The row holds in_w - (offset + 2*lo) bytes from the run's first one.
                copy_stride2_avx2(d + lo, s + 2 * (size_t)lo, hi - lo, g->in_w - offset - 2 * lo);
#endif
            } else {
                const int stride = g->stride_w;
                for (int ow = lo; ow < hi; ow++) d[ow] = s[(size_t)ow * (size_t)stride];
            }
            memset(d + hi, pad, out_w - (size_t)hi);
        }
    }
}
