// Depthwise 2-D convolution with bias, residual and activation fused. Each output row is split
// into border pixels (some taps fall outside the image: bounds-checked scalar code) and an
// interior run (every tap inside: no checks). The accumulator starts at bias + residual, so
// the residual is read before the output is written and may alias it.
#include "Internal.h"

/// One output row of one channel: everything the row kernels need.
typedef struct {
    const float *plane;   // input channel [H][W]
    const float *w;       // this channel's [KH][KW] weights
    const float *rrow;    // residual row or NULL
    float *orow;          // output row
    int W, KW;
    int sw, pl, dh, dw;
    int ih0;              // input row of tap kh = 0
    int kh_lo, kh_hi;     // taps whose input row is inside the image
    int lo, hi;           // interior output columns
    float bias;
    ck_activation act;
} dw_row;

/// Output columns [from, to) with bounds checks on every tap.
static void dw_pixels_checked(const dw_row *r, int from, int to) {
    for (int ow = from; ow < to; ow++) {
        float acc = r->bias + (r->rrow ? r->rrow[ow] : 0.0f);
        int iw0 = ow * r->sw - r->pl;
        for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *in = r->plane + (size_t)(r->ih0 + kh * r->dh) * (size_t)r->W;
            const float *wk = r->w + kh * r->KW;
            for (int kw = 0; kw < r->KW; kw++) {
                int iw = iw0 + kw * r->dw;
                if (iw >= 0 && iw < r->W) acc += wk[kw] * in[iw];
            }
        }
        r->orow[ow] = ck_act_scalar(acc, r->act);
    }
}

/// Interior columns without checks: one multiply-add sweep per tap over the whole run, which
/// the compiler vectorises for the baseline ISA when the stride is 1.
static void dw_interior_scalar(const dw_row *r) {
    int n = r->hi - r->lo;
    if (n <= 0) return;
    float *o = r->orow + r->lo;
    for (int i = 0; i < n; i++) o[i] = r->bias + (r->rrow ? r->rrow[r->lo + i] : 0.0f);
    for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
        const float *in = r->plane + (size_t)(r->ih0 + kh * r->dh) * (size_t)r->W;
        for (int kw = 0; kw < r->KW; kw++) {
            float wv = r->w[kh * r->KW + kw];
            const float *src = in + (r->lo * r->sw - r->pl + kw * r->dw);
            if (r->sw == 1) {
                for (int i = 0; i < n; i++) o[i] += wv * src[i];
            } else {
                int sw = r->sw;
                for (int i = 0; i < n; i++) o[i] += wv * src[i * sw];
            }
        }
    }
    ck_act_row_scalar(o, o, (size_t)n, r->act);
}

/// Fills the per-row fields that depend on the output row index.
static void dw_row_setup(dw_row *r, const ck_window *g, int oh) {
    r->ih0 = oh * g->stride_h - g->pad_top;
    // Taps kh with 0 <= ih0 + kh*dh < H.
    int lo = r->ih0 >= 0 ? 0 : ck_ceil_div(-r->ih0, g->dilation_h);
    int hi = ck_floor_div(g->in_h - 1 - r->ih0, g->dilation_h) + 1;
    lo = ck_max_int(0, ck_min_int(lo, g->kernel_h));
    r->kh_lo = lo;
    r->kh_hi = ck_max_int(lo, ck_min_int(hi, g->kernel_h));
}

static int dw_geometry_ok(const ck_window *g, int c_begin, int c_end) {
    return c_begin < c_end && g->out_h > 0 && g->out_w > 0 && g->in_h > 0 && g->in_w > 0 &&
           g->kernel_h > 0 && g->kernel_w > 0 && g->stride_h > 0 && g->stride_w > 0 &&
           g->dilation_h > 0 && g->dilation_w > 0;
}

static void dw_channel_setup(dw_row *r, const float *in, const float *weight, const float *bias,
                             const ck_window *g, int c, ck_activation act) {
    r->plane = in + (size_t)c * (size_t)g->in_h * (size_t)g->in_w;
    r->w = weight + (size_t)c * (size_t)g->kernel_h * (size_t)g->kernel_w;
    r->W = g->in_w;
    r->KW = g->kernel_w;
    r->sw = g->stride_w;
    r->pl = g->pad_left;
    r->dh = g->dilation_h;
    r->dw = g->dilation_w;
    r->bias = bias ? bias[c] : 0.0f;
    r->act = act;
    ck_interior_range(g->in_w, g->out_w, g->kernel_w, g->stride_w, g->pad_left, g->dilation_w,
                      &r->lo, &r->hi);
}

static void depthwise_scalar(const float *in, const float *weight, const float *bias,
                             const float *residual, float *out, const ck_window *g,
                             int c_begin, int c_end, ck_activation act) {
    size_t out_plane = (size_t)g->out_h * (size_t)g->out_w;
    for (int c = c_begin; c < c_end; c++) {
        dw_row r;
        dw_channel_setup(&r, in, weight, bias, g, c, act);
        for (int oh = 0; oh < g->out_h; oh++) {
            size_t row_off = (size_t)c * out_plane + (size_t)oh * (size_t)g->out_w;
            r.orow = out + row_off;
            r.rrow = residual ? residual + row_off : NULL;
            dw_row_setup(&r, g, oh);
            dw_pixels_checked(&r, 0, r.lo);
            dw_interior_scalar(&r);
            dw_pixels_checked(&r, r.hi, g->out_w);
        }
    }
}

#if CK_X86
/// Stride-1 interior: 32, then 8 outputs per step, then a masked tail. KW is a compile-time
/// constant in the specialised callers, so the tap loop unrolls.
CK_AVX2 CK_INLINE void dw_s1_impl(const dw_row *r, const int KW) {
    const __m256 b = _mm256_set1_ps(r->bias);
    const size_t W = (size_t)r->W;
    int ow = r->lo;
    for (; ow + 32 <= r->hi; ow += 32) {
        __m256 a0 = b, a1 = b, a2 = b, a3 = b;
        if (r->rrow) {
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(r->rrow + ow));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(r->rrow + ow + 8));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(r->rrow + ow + 16));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(r->rrow + ow + 24));
        }
        for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *s = r->plane + (size_t)(r->ih0 + kh * r->dh) * W + (ow - r->pl);
            const float *wk = r->w + kh * KW;
            for (int kw = 0; kw < KW; kw++) {
                __m256 wv = _mm256_broadcast_ss(wk + kw);
                const float *p = s + kw * r->dw;
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(p), wv, a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(p + 8), wv, a1);
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(p + 16), wv, a2);
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(p + 24), wv, a3);
            }
        }
        _mm256_storeu_ps(r->orow + ow, ck_act8(a0, r->act));
        _mm256_storeu_ps(r->orow + ow + 8, ck_act8(a1, r->act));
        _mm256_storeu_ps(r->orow + ow + 16, ck_act8(a2, r->act));
        _mm256_storeu_ps(r->orow + ow + 24, ck_act8(a3, r->act));
    }
    for (; ow + 8 <= r->hi; ow += 8) {
        __m256 a = r->rrow ? _mm256_add_ps(b, _mm256_loadu_ps(r->rrow + ow)) : b;
        for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *s = r->plane + (size_t)(r->ih0 + kh * r->dh) * W + (ow - r->pl);
            const float *wk = r->w + kh * KW;
            for (int kw = 0; kw < KW; kw++)
                a = _mm256_fmadd_ps(_mm256_loadu_ps(s + kw * r->dw), _mm256_broadcast_ss(wk + kw), a);
        }
        _mm256_storeu_ps(r->orow + ow, ck_act8(a, r->act));
    }
    if (ow < r->hi) {
        // Masked lanes are never read, so the tail cannot touch memory past the image.
        __m256i m = ck_tail_mask(r->hi - ow);
        __m256 a = r->rrow ? _mm256_add_ps(b, _mm256_maskload_ps(r->rrow + ow, m)) : b;
        for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *s = r->plane + (size_t)(r->ih0 + kh * r->dh) * W + (ow - r->pl);
            const float *wk = r->w + kh * KW;
            for (int kw = 0; kw < KW; kw++)
                a = _mm256_fmadd_ps(_mm256_maskload_ps(s + kw * r->dw, m), _mm256_broadcast_ss(wk + kw), a);
        }
        _mm256_maskstore_ps(r->orow + ow, m, ck_act8(a, r->act));
    }
}

/// Stride-2 interior. Two consecutive loads at p hold taps p[0..15]; shuffle 0x88 picks the even
/// elements and 0xDD the odd ones, both in the permuted lane order undone by ck_swap_mid before the
/// store. With dilation 1, tap kw+1 is the odd half of tap kw's loads, halving the loads.
CK_AVX2 CK_INLINE void dw_s2_impl(const dw_row *r, const int KW) {
    const __m256 b = _mm256_set1_ps(r->bias);
    const size_t W = (size_t)r->W;
    // A full step reads 16 floats from its last tap, one past that tap's last used element;
    // steps whose extra element would leave the row go to the masked tail instead.
    int last_tap = (KW - 1) * r->dw;
    int max_start = ck_floor_div(r->W - 16 + r->pl - last_tap, 2);
    int ow = r->lo;
    for (; ow + 8 <= r->hi && ow <= max_start; ow += 8) {
        __m256 a = r->rrow ? _mm256_add_ps(b, ck_swap_mid(_mm256_loadu_ps(r->rrow + ow))) : b;
        for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *s = r->plane + (size_t)(r->ih0 + kh * r->dh) * W + (2 * ow - r->pl);
            const float *wk = r->w + kh * KW;
            if (r->dw == 1) {
                int kw = 0;
                for (; kw + 1 < KW; kw += 2) {
                    __m256 v0 = _mm256_loadu_ps(s + kw), v1 = _mm256_loadu_ps(s + kw + 8);
                    a = _mm256_fmadd_ps(_mm256_shuffle_ps(v0, v1, 0x88), _mm256_broadcast_ss(wk + kw), a);
                    a = _mm256_fmadd_ps(_mm256_shuffle_ps(v0, v1, 0xDD), _mm256_broadcast_ss(wk + kw + 1), a);
                }
                if (kw < KW) {
                    __m256 v0 = _mm256_loadu_ps(s + kw), v1 = _mm256_loadu_ps(s + kw + 8);
                    a = _mm256_fmadd_ps(_mm256_shuffle_ps(v0, v1, 0x88), _mm256_broadcast_ss(wk + kw), a);
                }
            } else {
                for (int kw = 0; kw < KW; kw++) {
                    const float *p = s + kw * r->dw;
                    __m256 v0 = _mm256_loadu_ps(p), v1 = _mm256_loadu_ps(p + 8);
                    a = _mm256_fmadd_ps(_mm256_shuffle_ps(v0, v1, 0x88), _mm256_broadcast_ss(wk + kw), a);
                }
            }
        }
        _mm256_storeu_ps(r->orow + ow, ck_act8(ck_swap_mid(a), r->act));
    }
    while (ow < r->hi) {
        int n = ck_min_int(8, r->hi - ow);
        // Lanes j < n read tap offsets 0..2n-2 relative to each tap's start.
        __m256i m0 = ck_tail_mask(2 * n - 1), m1 = ck_tail_mask(2 * n - 9);
        __m256i mo = ck_tail_mask(n);
        __m256 a = r->rrow ? _mm256_add_ps(b, ck_swap_mid(_mm256_maskload_ps(r->rrow + ow, mo))) : b;
        for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *s = r->plane + (size_t)(r->ih0 + kh * r->dh) * W + (2 * ow - r->pl);
            const float *wk = r->w + kh * KW;
            for (int kw = 0; kw < KW; kw++) {
                const float *p = s + kw * r->dw;
                __m256 v0 = _mm256_maskload_ps(p, m0), v1 = _mm256_maskload_ps(p + 8, m1);
                a = _mm256_fmadd_ps(_mm256_shuffle_ps(v0, v1, 0x88), _mm256_broadcast_ss(wk + kw), a);
            }
        }
        _mm256_maskstore_ps(r->orow + ow, mo, ck_act8(ck_swap_mid(a), r->act));
        ow += n;
    }
}

CK_AVX2 static void dw_s1_k3(const dw_row *r) { dw_s1_impl(r, 3); }
CK_AVX2 static void dw_s1_k5(const dw_row *r) { dw_s1_impl(r, 5); }
CK_AVX2 static void dw_s1_k7(const dw_row *r) { dw_s1_impl(r, 7); }
CK_AVX2 static void dw_s1_any(const dw_row *r) { dw_s1_impl(r, r->KW); }
CK_AVX2 static void dw_s2_k3(const dw_row *r) { dw_s2_impl(r, 3); }
CK_AVX2 static void dw_s2_k5(const dw_row *r) { dw_s2_impl(r, 5); }
CK_AVX2 static void dw_s2_k7(const dw_row *r) { dw_s2_impl(r, 7); }
CK_AVX2 static void dw_s2_any(const dw_row *r) { dw_s2_impl(r, r->KW); }

typedef void (*dw_row_fn)(const dw_row *);

static dw_row_fn dw_pick_avx2(int stride_w, int kernel_w) {
    if (stride_w == 1) {
        switch (kernel_w) {
        case 3: return dw_s1_k3;
        case 5: return dw_s1_k5;
        case 7: return dw_s1_k7;
        default: return dw_s1_any;
        }
    }
    if (stride_w == 2) {
        switch (kernel_w) {
        case 3: return dw_s2_k3;
        case 5: return dw_s2_k5;
        case 7: return dw_s2_k7;
        default: return dw_s2_any;
        }
    }
    return dw_interior_scalar;
}

CK_AVX2 static void depthwise_avx2(const float *in, const float *weight, const float *bias,
                                   const float *residual, float *out, const ck_window *g,
                                   int c_begin, int c_end, ck_activation act) {
    dw_row_fn interior = dw_pick_avx2(g->stride_w, g->kernel_w);
    size_t out_plane = (size_t)g->out_h * (size_t)g->out_w;
    for (int c = c_begin; c < c_end; c++) {
        dw_row r;
        dw_channel_setup(&r, in, weight, bias, g, c, act);
        for (int oh = 0; oh < g->out_h; oh++) {
            size_t row_off = (size_t)c * out_plane + (size_t)oh * (size_t)g->out_w;
            r.orow = out + row_off;
            r.rrow = residual ? residual + row_off : NULL;
            dw_row_setup(&r, g, oh);
            dw_pixels_checked(&r, 0, r.lo);
            if (r.hi > r.lo) interior(&r);
            dw_pixels_checked(&r, r.hi, g->out_w);
        }
    }
}
#endif

void ck_depthwise_conv2d(const float *in, const float *weight, const float *bias,
                         const float *residual, float *out, const ck_window *win,
                         int c_begin, int c_end, ck_activation act) {
    if (!dw_geometry_ok(win, c_begin, c_end)) return;
#if CK_X86
    if (ck_use_avx2()) {
        depthwise_avx2(in, weight, bias, residual, out, win, c_begin, c_end, act);
        return;
    }
#endif
    depthwise_scalar(in, weight, bias, residual, out, win, c_begin, c_end, act);
}
