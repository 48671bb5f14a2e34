// im2col of an 8-bit tensor: for one tap, the in-image output columns of an output row form one run,
// so a row is a pad fill, a copy (memcpy at stride 1) and a pad fill, with no per-element test.
#include "Internal.h"

#include <string.h>

void ck_im2col_u8(const uint8_t *in, uint8_t *col, const ck_window *g, int row_begin, int row_end,
                  uint8_t pad) {
    if (g->out_h <= 0 || g->out_w <= 0 || g->kernel_h <= 0 || g->kernel_w <= 0 || g->stride_h <= 0 ||
        g->stride_w <= 0 || g->dilation_h <= 0 || g->dilation_w <= 0)
        return;
    const int taps = g->kernel_h * g->kernel_w;
    const size_t out_w = (size_t)g->out_w;
    const size_t columns = (size_t)g->out_h * out_w;
    const size_t plane = (size_t)g->in_h * (size_t)g->in_w;
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
            if (ih < 0 || ih >= g->in_h || lo == hi) {
                memset(d, pad, out_w);
                continue;
            }
            memset(d, pad, (size_t)lo);
            const uint8_t *s = src + (size_t)ih * (size_t)g->in_w + offset;
            if (g->stride_w == 1) {
                memcpy(d + lo, s + lo, (size_t)(hi - lo));
            } else {
                const int stride = g->stride_w;
                for (int ow = lo; ow < hi; ow++) d[ow] = s[(size_t)ow * (size_t)stride];
            }
            memset(d + hi, pad, out_w - (size_t)hi);
        }
    }
}
