// MaxPool of 8-bit tensors on the codes: max commutes with the (monotonic) dequantization, so this
// equals DequantizeLinear → MaxPool → QuantizeLinear of one encoding exactly, as onnxruntime runs it.
#include "Internal.h"

void ck_maxpool2d_q8(const void *in, void *out, int is_signed, const ck_window *g, int c_begin, int c_end) {
    if (g->out_h <= 0 || g->out_w <= 0 || g->stride_h <= 0 || g->stride_w <= 0 || g->dilation_h <= 0 ||
        g->dilation_w <= 0)
        return;
    const size_t in_plane = (size_t)g->in_h * (size_t)g->in_w, out_plane = (size_t)g->out_h * (size_t)g->out_w;
    const int lowest = is_signed ? -128 : 0;
    for (int c = c_begin; c < c_end; c++) {
        for (int oh = 0; oh < g->out_h; oh++) {
            for (int ow = 0; ow < g->out_w; ow++) {
                int best = lowest;
                for (int kh = 0; kh < g->kernel_h; kh++) {
                    int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
                    if (ih < 0 || ih >= g->in_h) continue;
                    for (int kw = 0; kw < g->kernel_w; kw++) {
                        int iw = ow * g->stride_w - g->pad_left + kw * g->dilation_w;
                        if (iw < 0 || iw >= g->in_w) continue;
                        size_t i = (size_t)c * in_plane + (size_t)ih * (size_t)g->in_w + (size_t)iw;
                        int v = is_signed ? ((const int8_t *)in)[i] : ((const uint8_t *)in)[i];
                        best = v > best ? v : best;
                    }
                }
                size_t o = (size_t)c * out_plane + (size_t)oh * (size_t)g->out_w + (size_t)ow;
                if (is_signed) ((int8_t *)out)[o] = (int8_t)best;
                else ((uint8_t *)out)[o] = (uint8_t)best;
            }
        }
    }
}
