// im2col: each column-matrix row (c, kh, kw) is the input channel sampled at one tap offset
// over all output pixels. For one tap, the valid output columns form a single run per output
// row, so a row is zero fill + copy (memcpy at stride 1) + zero fill.
#include "Internal.h"

#include <string.h>

typedef void (*strided_copy_fn)(float *dst, const float *src, int n, int stride);

static void copy_strided_scalar(float *dst, const float *src, int n, int stride) {
    if (stride == 1) {
        memcpy(dst, src, (size_t)n * sizeof(float));
        return;
    }
    for (int i = 0; i < n; i++) dst[i] = src[(size_t)i * (size_t)stride];
}

#if CK_X86
CK_AVX2 static void copy_strided_avx2(float *dst, const float *src, int n, int stride) {
    if (stride != 2) {
        copy_strided_scalar(dst, src, n, stride);
        return;
    }
    // 8 outputs read src[2i .. 2i+15]; src[2i+15] lies one past the last element this run
    // uses (src[2n-2]), so vector steps stop where that extra read would leave the run.
    int i = 0;
    for (; 2 * i + 15 <= 2 * n - 2; i += 8) {
        __m256 v0 = _mm256_loadu_ps(src + 2 * i), v1 = _mm256_loadu_ps(src + 2 * i + 8);
        _mm256_storeu_ps(dst + i, ck_swap_mid(_mm256_shuffle_ps(v0, v1, 0x88)));
    }
    for (; i < n; i++) dst[i] = src[2 * i];
}
#endif

static void im2col_impl(const float *in, float *col, const ck_window *g, int row_begin,
                        int row_end, strided_copy_fn copy) {
    const int taps = g->kernel_h * g->kernel_w;
    const size_t out_w = (size_t)g->out_w;
    const size_t columns = (size_t)g->out_h * out_w;
    const size_t plane = (size_t)g->in_h * (size_t)g->in_w;
    for (int row = row_begin; row < row_end; row++) {
        int c = row / taps, kh = (row % taps) / g->kernel_w, kw = row % g->kernel_w;
        const float *src_plane = in + (size_t)c * plane;
        float *dst = col + (size_t)row * columns;
        int tap_x = kw * g->dilation_w - g->pad_left;
        // Output columns whose input column ow*sw + tap_x is inside [0, W).
        int lo, hi;
        ck_interior_range(g->in_w, g->out_w, 1, g->stride_w, -tap_x, 1, &lo, &hi);
        for (int oh = 0; oh < g->out_h; oh++) {
            float *d = dst + (size_t)oh * out_w;
            int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
            if (ih < 0 || ih >= g->in_h || hi == lo) {
                memset(d, 0, out_w * sizeof(float));
                continue;
            }
            memset(d, 0, (size_t)lo * sizeof(float));
            const float *s = src_plane + (size_t)ih * (size_t)g->in_w + (lo * g->stride_w + tap_x);
            copy(d + lo, s, hi - lo, g->stride_w);
            memset(d + hi, 0, (out_w - (size_t)hi) * sizeof(float));
        }
    }
}

void ck_im2col(const float *in, float *col, const ck_window *win, int row_begin, int row_end) {
    if (row_begin >= row_end || win->out_h <= 0 || win->out_w <= 0 || win->in_h <= 0 ||
        win->in_w <= 0 || win->kernel_h <= 0 || win->kernel_w <= 0 || win->stride_h <= 0 ||
        win->stride_w <= 0 || win->dilation_h <= 0 || win->dilation_w <= 0)
        return;
#if CK_X86
    if (ck_use_avx2()) {
        im2col_impl(in, col, win, row_begin, row_end, copy_strided_avx2);
        return;
    }
#endif
    im2col_impl(in, col, win, row_begin, row_end, copy_strided_scalar);
}
