// MaxPool of 8-bit tensors on the codes: max commutes with the (monotonic) dequantization, so this
// equals DequantizeLinear → MaxPool → QuantizeLinear of one encoding exactly, as onnxruntime runs it.
// Per output row and tap, the in-image output columns form one run, so the inner loop is a plain
// element-wise max the compiler vectorises (int8 codes are compared as uint8 after flipping the sign bit).
#include "Internal.h"

#include <string.h>

void ck_maxpool2d_q8(const void *in, void *out, int is_signed, const ck_window *g, int c_begin, int c_end) {
    if (g->out_h <= 0 || g->out_w <= 0 || g->stride_h <= 0 || g->stride_w <= 0 || g->dilation_h <= 0 ||
        g->dilation_w <= 0)
        return;
    const size_t in_plane = (size_t)g->in_h * (size_t)g->in_w, out_plane = (size_t)g->out_h * (size_t)g->out_w;
    const uint8_t flip = is_signed ? 0x80 : 0;
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
