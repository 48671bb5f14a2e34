// Portable scalar int8 kernels: the reference every SIMD path is tested against, and the path
// that runs where no SIMD path applies. Written for clarity, not speed.
#include "Internal.h"

#include <string.h>

// q_load, q_store, q_round_clamp, q_min and q_max are shared with the SIMD paths' tails (Internal.h).

size_t ck_qgemm_packed_a_size(int m, int k) {
    if (m <= 0 || k <= 0) return 0;
    size_t panels = (size_t)((m + CK_QGEMM_MR - 1) / CK_QGEMM_MR);
    size_t groups = (size_t)((k + 3) / 4);
    return panels * groups * CK_QGEMM_MR * 4;
}

void ck_qgemm_pack_a(int m, int k, const int8_t *a, int lda, void *packed) {
    if (m <= 0 || k <= 0) return;
    int8_t *dst = (int8_t *)packed;
    int groups = (k + 3) / 4;
    for (int p = 0; p < (m + CK_QGEMM_MR - 1) / CK_QGEMM_MR; p++) {
        for (int g = 0; g < groups; g++) {
            for (int r = 0; r < CK_QGEMM_MR; r++) {
                int row = p * CK_QGEMM_MR + r;
                for (int t = 0; t < 4; t++) {
                    int kk = g * 4 + t;
                    *dst++ = (row < m && kk < k) ? a[(size_t)row * (size_t)lda + (size_t)kk] : 0;
                }
            }
        }
    }
}

/// A[row][kk] read back from the packed layout.
CK_INLINE int32_t packed_a_at(const int8_t *packed, int k, int row, int kk) {
    size_t groups = (size_t)((k + 3) / 4);
    size_t panel = (size_t)(row / CK_QGEMM_MR), r = (size_t)(row % CK_QGEMM_MR);
    return packed[((panel * groups + (size_t)(kk / 4)) * CK_QGEMM_MR + r) * 4 + (size_t)(kk % 4)];
}

void ck_qgemm_scalar(int m, int n, int k, const void *packed_a, const uint8_t *b, int ldb, int b_signed,
                     void *c, int ldc, const ck_requant *rq, int m_begin, int m_end, int n_begin, int n_end) {
    const int8_t *pa = (const int8_t *)packed_a;
    uint8_t *out = (uint8_t *)c;
    for (int i = m_begin; i < m_end; i++) {
        for (int j = n_begin; j < n_end; j++) {
            int32_t acc = 0;
            for (int kk = 0; kk < k; kk++) {
                int32_t x = b[(size_t)kk * (size_t)ldb + (size_t)j];
                if (b_signed) x = (int32_t)(int8_t)x + 128;
                acc += packed_a_at(pa, k, i, kk) * x;
            }
            acc += rq->bias[i];
            int32_t q = ck_q_round_clamp((float)acc * rq->scale[i], rq->zero_point, rq->qmin, rq->qmax);
            ck_q_store(out, (size_t)i * (size_t)ldc + (size_t)j, q, rq->out_signed);
        }
    }
}

void ck_qdepthwise_conv2d_scalar(const void *in, ck_qparams in_q, const int8_t *weight, const ck_requant *rq,
                                 void *out, const ck_window *g, int c_begin, int c_end) {
    const size_t in_plane = (size_t)g->in_h * (size_t)g->in_w;
    const size_t out_plane = (size_t)g->out_h * (size_t)g->out_w;
    const int taps = g->kernel_h * g->kernel_w;
    for (int c = c_begin; c < c_end; c++) {
        const int8_t *w = weight + (size_t)c * (size_t)taps;
        for (int oh = 0; oh < g->out_h; oh++) {
            for (int ow = 0; ow < g->out_w; ow++) {
                int32_t acc = 0;
                for (int kh = 0; kh < g->kernel_h; kh++) {
                    int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
                    if (ih < 0 || ih >= g->in_h) continue;
                    for (int kw = 0; kw < g->kernel_w; kw++) {
                        int iw = ow * g->stride_w - g->pad_left + kw * g->dilation_w;
                        if (iw < 0 || iw >= g->in_w) continue;
                        int32_t x = ck_q_load(in, (size_t)c * in_plane + (size_t)ih * (size_t)g->in_w + (size_t)iw,
                                           in_q.is_signed);
                        acc += (x - in_q.zero_point) * (int32_t)w[kh * g->kernel_w + kw];
                    }
                }
                acc += rq->bias[c];
                int32_t q = ck_q_round_clamp((float)acc * rq->scale[c], rq->zero_point, rq->qmin, rq->qmax);
                ck_q_store(out, (size_t)c * out_plane + (size_t)oh * (size_t)g->out_w + (size_t)ow, q, rq->out_signed);
            }
        }
    }
}

void ck_quantize_scalar(const float *in, void *out, size_t n, ck_qparams p) {
    int32_t lo = ck_q_min(p.is_signed), hi = ck_q_max(p.is_signed);
    for (size_t i = 0; i < n; i++) ck_q_store(out, i, ck_q_round_clamp(in[i] / p.scale, p.zero_point, lo, hi), p.is_signed);
}

void ck_dequantize_scalar(const void *in, float *out, size_t n, ck_qparams p) {
    for (size_t i = 0; i < n; i++) out[i] = (float)(ck_q_load(in, i, p.is_signed) - p.zero_point) * p.scale;
}

void ck_qadd_scalar(const void *a, ck_qparams pa, const void *b, ck_qparams pb, void *c, ck_qparams pc, size_t n) {
    float ra = pa.scale / pc.scale, rb = pb.scale / pc.scale;
    float fixed = ck_qadd_fixed(pa, pb, pc);
    int32_t lo = ck_q_min(pc.is_signed), hi = ck_q_max(pc.is_signed);
    for (size_t i = 0; i < n; i++) {
        float t = fmaf((float)ck_q_load(b, i, pb.is_signed), rb, fixed);
        float v = fmaf((float)ck_q_load(a, i, pa.is_signed), ra, t);
        ck_q_store(c, i, ck_q_round_clamp(v, 0, lo, hi), pc.is_signed);
    }
}

void ck_qrequantize_scalar(const void *in, ck_qparams pin, void *out, ck_qparams pout, size_t n) {
    if (pin.scale == pout.scale && pin.zero_point == pout.zero_point && pin.is_signed == pout.is_signed) {
        memmove(out, in, n);
        return;
    }
    float r = pin.scale / pout.scale;
    int32_t lo = ck_q_min(pout.is_signed), hi = ck_q_max(pout.is_signed);
    for (size_t i = 0; i < n; i++) {
        float v = r * (float)(ck_q_load(in, i, pin.is_signed) - pin.zero_point);
        ck_q_store(out, i, ck_q_round_clamp(v, pout.zero_point, lo, hi), pout.is_signed);
    }
}

void ck_qglobal_avgpool_scalar(const void *in, ck_qparams pin, void *out, ck_qparams pout, int spatial,
                               int c_begin, int c_end) {
    if (spatial <= 0) return;
    float scale = pin.scale / (pout.scale * (float)spatial);
    int32_t lo = ck_q_min(pout.is_signed), hi = ck_q_max(pout.is_signed);
    for (int c = c_begin; c < c_end; c++) {
        int32_t acc = -pin.zero_point * spatial;
        for (int i = 0; i < spatial; i++) acc += ck_q_load(in, (size_t)c * (size_t)spatial + (size_t)i, pin.is_signed);
        ck_q_store(out, (size_t)c, ck_q_round_clamp((float)acc * scale, pout.zero_point, lo, hi), pout.is_signed);
    }
}
