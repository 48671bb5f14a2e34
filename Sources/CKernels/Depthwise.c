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
    int W, KW, out_w;
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
    r->out_w = g->out_w;
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
// The AVX2 path works on pairs of output rows of one channel whenever both rows see the same
// vertical taps (all rows but a few at the top and bottom). The pair shares every weight
// broadcast and doubles the independent accumulator chains, which is what hides FMA latency:
// with 4 vectors per row and 2 rows there are 8 chains in flight.

CK_AVX2 CK_INLINE __m256 dw_init8(const dw_row *r, __m256 bias, int ow) {
    return r->rrow ? _mm256_add_ps(bias, _mm256_loadu_ps(r->rrow + ow)) : bias;
}

CK_AVX2 CK_INLINE const float *dw_tap_row(const dw_row *r, int kh) {
    return r->plane + (size_t)(r->ih0 + kh * r->dh) * (size_t)r->W;
}

/// Lanes j in [lo, hi) of an 8-lane mask.
CK_AVX2 CK_INLINE __m256i dw_range_mask(int lo, int hi) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i below_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), lanes);
    __m256i below_lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(lo), lanes);
    return _mm256_andnot_si256(below_lo, below_hi);
}

/// Stride 1, `NV` vectors (8*NV outputs from column t) of `NR` rows, every tap inside the image.
CK_AVX2 CK_INLINE void dw_s1_block(const dw_row *const *rows, const int NR, const int NV,
                                   const int KW, int t, __m256 bias) {
    const dw_row *r0 = rows[0];
    __m256 acc[2][4];
    for (int q = 0; q < NR; q++)
        for (int v = 0; v < NV; v++) acc[q][v] = dw_init8(rows[q], bias, t + 8 * v);
    for (int kh = r0->kh_lo; kh < r0->kh_hi; kh++) {
        const float *s[2];
        for (int q = 0; q < NR; q++) s[q] = dw_tap_row(rows[q], kh) + (t - r0->pl);
        const float *wk = r0->w + kh * KW;
        for (int kw = 0; kw < KW; kw++) {
            __m256 wv = _mm256_broadcast_ss(wk + kw);
            int off = kw * r0->dw;
            for (int q = 0; q < NR; q++)
                for (int v = 0; v < NV; v++)
                    acc[q][v] = _mm256_fmadd_ps(_mm256_loadu_ps(s[q] + off + 8 * v), wv, acc[q][v]);
        }
    }
    for (int q = 0; q < NR; q++)
        for (int v = 0; v < NV; v++) _mm256_storeu_ps(rows[q]->orow + t + 8 * v, ck_act8(acc[q][v], r0->act));
}

/// Stride 1, 8 outputs from column t where some taps fall outside the image or the row ends:
/// each tap loads through a mask of its in-image lanes, so padding reads as 0 and nothing
/// outside the image is touched (masked-off lanes are never accessed, even when the tap's
/// first column lies left of the row).
CK_AVX2 CK_INLINE void dw_s1_edge(const dw_row *const *rows, const int NR, const int KW, int t,
                                  __m256 bias) {
    const dw_row *r0 = rows[0];
    int n_out = ck_min_int(8, r0->out_w - t);
    __m256i mo = ck_tail_mask(n_out);
    __m256 acc[2];
    for (int q = 0; q < NR; q++)
        acc[q] = rows[q]->rrow ? _mm256_add_ps(bias, _mm256_maskload_ps(rows[q]->rrow + t, mo)) : bias;
    for (int kh = r0->kh_lo; kh < r0->kh_hi; kh++) {
        const float *wk = r0->w + kh * KW;
        for (int kw = 0; kw < KW; kw++) {
            int col = t - r0->pl + kw * r0->dw;   // input column of lane 0
            __m256i m = dw_range_mask(-col, r0->W - col);
            __m256 wv = _mm256_broadcast_ss(wk + kw);
            for (int q = 0; q < NR; q++) {
                const float *p = (const float *)((uintptr_t)dw_tap_row(rows[q], kh) + (intptr_t)col * 4);
                acc[q] = _mm256_fmadd_ps(_mm256_maskload_ps(p, m), wv, acc[q]);
            }
        }
    }
    for (int q = 0; q < NR; q++) _mm256_maskstore_ps(rows[q]->orow + t, mo, ck_act8(acc[q], r0->act));
}

/// A whole stride-1 row (or row pair): masked edge steps up to the interior, 32- then 8-wide
/// unchecked steps through it, masked steps to the end. No scalar border code.
CK_AVX2 CK_INLINE void dw_s1_rows(const dw_row *const *rows, const int NR, const int KW) {
    const dw_row *r0 = rows[0];
    const __m256 bias = _mm256_set1_ps(r0->bias);
    int t = 0;
    for (; t < r0->lo; t += 8) dw_s1_edge(rows, NR, KW, t, bias);
    for (; t + 32 <= r0->hi; t += 32) dw_s1_block(rows, NR, 4, KW, t, bias);
    if (t + 16 <= r0->hi) {
        dw_s1_block(rows, NR, 2, KW, t, bias);
        t += 16;
    }
    if (t + 8 <= r0->hi) {
        dw_s1_block(rows, NR, 1, KW, t, bias);
        t += 8;
    }
    for (; t < r0->out_w; t += 8) dw_s1_edge(rows, NR, KW, t, bias);
}

/// Stride 2, `NV` vectors of `NR` rows from column t, all taps inside and every 16-float load
/// inside the row. Two consecutive loads at p hold p[0..15]; shuffle 0x88 takes the even
/// elements and 0xDD the odd ones, in the lane order ck_swap_mid undoes. With dilation 1 the
/// odd half of tap kw's loads is tap kw+1, so two taps cost two loads.
CK_AVX2 CK_INLINE void dw_s2_block(const dw_row *const *rows, const int NR, const int NV,
                                   const int KW, int t, __m256 bias) {
    const dw_row *r0 = rows[0];
    __m256 acc[2][4];
    for (int q = 0; q < NR; q++)
        for (int v = 0; v < NV; v++)
            acc[q][v] = rows[q]->rrow
                            ? _mm256_add_ps(bias, ck_swap_mid(_mm256_loadu_ps(rows[q]->rrow + t + 8 * v)))
                            : bias;
    for (int kh = r0->kh_lo; kh < r0->kh_hi; kh++) {
        const float *s[2];
        for (int q = 0; q < NR; q++) s[q] = dw_tap_row(rows[q], kh) + (2 * t - r0->pl);
        const float *wk = r0->w + kh * KW;
        if (r0->dw == 1) {
            int kw = 0;
            for (; kw + 1 < KW; kw += 2) {
                __m256 we = _mm256_broadcast_ss(wk + kw), wo = _mm256_broadcast_ss(wk + kw + 1);
                for (int q = 0; q < NR; q++)
                    for (int v = 0; v < NV; v++) {
                        const float *p = s[q] + kw + 16 * v;
                        __m256 v0 = _mm256_loadu_ps(p), v1 = _mm256_loadu_ps(p + 8);
                        acc[q][v] = _mm256_fmadd_ps(_mm256_shuffle_ps(v0, v1, 0x88), we, acc[q][v]);
                        acc[q][v] = _mm256_fmadd_ps(_mm256_shuffle_ps(v0, v1, 0xDD), wo, acc[q][v]);
                    }
            }
            if (kw < KW) {
                __m256 we = _mm256_broadcast_ss(wk + kw);
                for (int q = 0; q < NR; q++)
                    for (int v = 0; v < NV; v++) {
                        const float *p = s[q] + kw + 16 * v;
                        __m256 e = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), 0x88);
                        acc[q][v] = _mm256_fmadd_ps(e, we, acc[q][v]);
                    }
            }
        } else {
            for (int kw = 0; kw < KW; kw++) {
                __m256 wv = _mm256_broadcast_ss(wk + kw);
                for (int q = 0; q < NR; q++)
                    for (int v = 0; v < NV; v++) {
                        const float *p = s[q] + kw * r0->dw + 16 * v;
                        __m256 e = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), 0x88);
                        acc[q][v] = _mm256_fmadd_ps(e, wv, acc[q][v]);
                    }
            }
        }
    }
    for (int q = 0; q < NR; q++)
        for (int v = 0; v < NV; v++)
            _mm256_storeu_ps(rows[q]->orow + t + 8 * v, ck_act8(ck_swap_mid(acc[q][v]), r0->act));
}

/// Stride 2, up to 8 interior outputs of one row through masked loads (row ends).
CK_AVX2 CK_INLINE void dw_s2_masked(const dw_row *r, const int KW, int t, int n, __m256 bias) {
    // Lane j reads tap offsets 2j; n lanes need offsets 0 .. 2n-2 of each tap.
    __m256i m0 = ck_tail_mask(2 * n - 1), m1 = ck_tail_mask(2 * n - 9), mo = ck_tail_mask(n);
    __m256 a = r->rrow ? _mm256_add_ps(bias, ck_swap_mid(_mm256_maskload_ps(r->rrow + t, mo))) : bias;
    for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
        const float *s = dw_tap_row(r, kh) + (2 * t - r->pl);
        const float *wk = r->w + kh * KW;
        for (int kw = 0; kw < KW; kw++) {
            const float *p = s + kw * r->dw;
            __m256 v0 = _mm256_maskload_ps(p, m0), v1 = _mm256_maskload_ps(p + 8, m1);
            a = _mm256_fmadd_ps(_mm256_shuffle_ps(v0, v1, 0x88), _mm256_broadcast_ss(wk + kw), a);
        }
    }
    _mm256_maskstore_ps(r->orow + t, mo, ck_act8(ck_swap_mid(a), r->act));
}

/// A whole stride-2 row (or row pair): scalar borders (a column or two), vector interior.
CK_AVX2 CK_INLINE void dw_s2_rows(const dw_row *const *rows, const int NR, const int KW) {
    const dw_row *r0 = rows[0];
    const __m256 bias = _mm256_set1_ps(r0->bias);
    for (int q = 0; q < NR; q++) dw_pixels_checked(rows[q], 0, r0->lo);
    // A step starting at t reads up to input column 2t - pl + last_tap + 16*NV - 1, one past
    // the last column it uses; steps whose reads would leave the row go to the masked tail.
    int last_tap = (KW - 1) * r0->dw;
    int t = r0->lo;
    for (; t + 32 <= r0->hi && 2 * t - r0->pl + last_tap + 63 < r0->W; t += 32)
        dw_s2_block(rows, NR, 4, KW, t, bias);
    for (; t + 16 <= r0->hi && 2 * t - r0->pl + last_tap + 31 < r0->W; t += 16)
        dw_s2_block(rows, NR, 2, KW, t, bias);
    for (; t + 8 <= r0->hi && 2 * t - r0->pl + last_tap + 15 < r0->W; t += 8)
        dw_s2_block(rows, NR, 1, KW, t, bias);
    for (; t < r0->hi; t += 8)
        for (int q = 0; q < NR; q++) dw_s2_masked(rows[q], KW, t, ck_min_int(8, r0->hi - t), bias);
    for (int q = 0; q < NR; q++) dw_pixels_checked(rows[q], r0->hi, r0->out_w);
}

typedef void (*dw_rows_fn)(const dw_row *const *rows);

#define CK_DW_VARIANT(name, body, nr, kw) \
    CK_AVX2 static void name(const dw_row *const *rows) { body(rows, nr, kw); }
CK_DW_VARIANT(dw_s1_k3_r1, dw_s1_rows, 1, 3)
CK_DW_VARIANT(dw_s1_k3_r2, dw_s1_rows, 2, 3)
CK_DW_VARIANT(dw_s1_k5_r1, dw_s1_rows, 1, 5)
CK_DW_VARIANT(dw_s1_k5_r2, dw_s1_rows, 2, 5)
CK_DW_VARIANT(dw_s1_k7_r1, dw_s1_rows, 1, 7)
CK_DW_VARIANT(dw_s1_k7_r2, dw_s1_rows, 2, 7)
CK_DW_VARIANT(dw_s1_any_r1, dw_s1_rows, 1, rows[0]->KW)
CK_DW_VARIANT(dw_s1_any_r2, dw_s1_rows, 2, rows[0]->KW)
CK_DW_VARIANT(dw_s2_k3_r1, dw_s2_rows, 1, 3)
CK_DW_VARIANT(dw_s2_k3_r2, dw_s2_rows, 2, 3)
CK_DW_VARIANT(dw_s2_k5_r1, dw_s2_rows, 1, 5)
CK_DW_VARIANT(dw_s2_k5_r2, dw_s2_rows, 2, 5)
CK_DW_VARIANT(dw_s2_k7_r1, dw_s2_rows, 1, 7)
CK_DW_VARIANT(dw_s2_k7_r2, dw_s2_rows, 2, 7)
CK_DW_VARIANT(dw_s2_any_r1, dw_s2_rows, 1, rows[0]->KW)
CK_DW_VARIANT(dw_s2_any_r2, dw_s2_rows, 2, rows[0]->KW)
#undef CK_DW_VARIANT

/// Other horizontal strides: scalar borders and interior, one row at a time.
static void dw_other_r1(const dw_row *const *rows) {
    const dw_row *r = rows[0];
    dw_pixels_checked(r, 0, r->lo);
    dw_interior_scalar(r);
    dw_pixels_checked(r, r->hi, r->out_w);
}

static void dw_pick_avx2(int stride_w, int kernel_w, dw_rows_fn *one, dw_rows_fn *two) {
    static const dw_rows_fn s1[4][2] = {{dw_s1_k3_r1, dw_s1_k3_r2}, {dw_s1_k5_r1, dw_s1_k5_r2},
                                        {dw_s1_k7_r1, dw_s1_k7_r2}, {dw_s1_any_r1, dw_s1_any_r2}};
    static const dw_rows_fn s2[4][2] = {{dw_s2_k3_r1, dw_s2_k3_r2}, {dw_s2_k5_r1, dw_s2_k5_r2},
                                        {dw_s2_k7_r1, dw_s2_k7_r2}, {dw_s2_any_r1, dw_s2_any_r2}};
    int k = kernel_w == 3 ? 0 : kernel_w == 5 ? 1 : kernel_w == 7 ? 2 : 3;
    if (stride_w == 1 || stride_w == 2) {
        const dw_rows_fn *pair = stride_w == 1 ? s1[k] : s2[k];
        *one = pair[0];
        *two = pair[1];
    } else {
        *one = dw_other_r1;
        *two = NULL;
    }
}

CK_AVX2 static void depthwise_avx2(const float *in, const float *weight, const float *bias,
                                   const float *residual, float *out, const ck_window *g,
                                   int c_begin, int c_end, ck_activation act) {
    dw_rows_fn one, two;
    dw_pick_avx2(g->stride_w, g->kernel_w, &one, &two);
    size_t out_plane = (size_t)g->out_h * (size_t)g->out_w;
    for (int c = c_begin; c < c_end; c++) {
        dw_row r[2];
        dw_channel_setup(&r[0], in, weight, bias, g, c, act);
        r[1] = r[0];
        const dw_row *rows[2] = {&r[0], &r[1]};
        int oh = 0;
        while (oh < g->out_h) {
            for (int q = 0; q < 2 && oh + q < g->out_h; q++) {
                size_t row_off = (size_t)c * out_plane + (size_t)(oh + q) * (size_t)g->out_w;
                r[q].orow = out + row_off;
                r[q].rrow = residual ? residual + row_off : NULL;
                dw_row_setup(&r[q], g, oh + q);
            }
            int pair = two && oh + 1 < g->out_h && r[0].kh_lo == r[1].kh_lo && r[0].kh_hi == r[1].kh_hi;
            if (pair) {
                two(rows);
                oh += 2;
            } else {
                one(rows);
                oh += 1;
            }
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
