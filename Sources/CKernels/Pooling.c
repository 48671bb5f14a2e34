// Max, average and global average pooling with ONNX semantics. Like the depthwise kernel, each
// output row splits into bounds-checked border pixels and an unchecked interior run.
//
// ONNX Runtime's conventions, matched here: a max window with no in-image tap (only possible
// with dilation) gives -FLT_MAX; an average window with no tap to count gives 0; with
// count_include_pad the divisor counts the taps inside the padded extent
// [-pad_top, in_h + pad_bottom) x [-pad_left, in_w + pad_right), so ceil-mode windows that run
// past the padding are clipped.
#include "Internal.h"

#include <float.h>

typedef struct {
    const float *plane;   // input channel [H][W]
    float *orow;          // output row
    int W, KW, sw, pl, dh, dw;
    int ih0;              // input row of tap kh = 0
    int kh_lo, kh_hi;     // taps whose input row is inside the image
    int lo, hi;           // interior output columns (every tap inside the image)
    int w_extent;         // in_w + pad_right: columns at or past it are outside the padded extent
    int h_pad_taps;       // vertical taps inside the padded extent for this row
} pool_row;

static int pool_geometry_ok(const ck_window *g, int c_begin, int c_end) {
    return c_begin < c_end && g->out_h > 0 && g->out_w > 0 && g->in_h > 0 && g->in_w > 0 &&
           g->kernel_h > 0 && g->kernel_w > 0 && g->stride_h > 0 && g->stride_w > 0 &&
           g->dilation_h > 0 && g->dilation_w > 0;
}

/// Number of taps k in [0, kernel) with start + k*dilation < limit.
static inline int taps_below(int start, int limit, int kernel, int dilation) {
    if (start >= limit) return 0;
    return ck_min_int(kernel, (limit - 1 - start) / dilation + 1);
}

static void pool_row_setup(pool_row *r, const ck_window *g, int oh, int pad_bottom) {
    r->ih0 = oh * g->stride_h - g->pad_top;
    int lo = r->ih0 >= 0 ? 0 : ck_ceil_div(-r->ih0, g->dilation_h);
    int hi = ck_floor_div(g->in_h - 1 - r->ih0, g->dilation_h) + 1;
    lo = ck_max_int(0, ck_min_int(lo, g->kernel_h));
    r->kh_lo = lo;
    r->kh_hi = ck_max_int(lo, ck_min_int(hi, g->kernel_h));
    r->h_pad_taps = taps_below(r->ih0, g->in_h + pad_bottom, g->kernel_h, g->dilation_h);
}

static void pool_channel_setup(pool_row *r, const ck_window *g, int pad_right) {
    r->W = g->in_w;
    r->KW = g->kernel_w;
    r->sw = g->stride_w;
    r->pl = g->pad_left;
    r->dh = g->dilation_h;
    r->dw = g->dilation_w;
    r->w_extent = g->in_w + pad_right;
    ck_interior_range(g->in_w, g->out_w, g->kernel_w, g->stride_w, g->pad_left, g->dilation_w,
                      &r->lo, &r->hi);
}

static inline const float *pool_in_row(const pool_row *r, int kh) {
    return r->plane + (size_t)(r->ih0 + kh * r->dh) * (size_t)r->W;
}

// ---- max -------------------------------------------------------------------------------------

static void max_pixels_checked(const pool_row *r, int from, int to) {
    for (int ow = from; ow < to; ow++) {
        float acc = -INFINITY;
        int any = 0;
        int iw0 = ow * r->sw - r->pl;
        for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *in = pool_in_row(r, kh);
            for (int kw = 0; kw < r->KW; kw++) {
                int iw = iw0 + kw * r->dw;
                if (iw >= 0 && iw < r->W) {
                    acc = in[iw] > acc ? in[iw] : acc;
                    any = 1;
                }
            }
        }
        r->orow[ow] = any ? acc : -FLT_MAX;
    }
}

static void max_interior_scalar(const pool_row *r) {
    int n = r->hi - r->lo;
    float *o = r->orow + r->lo;
    for (int i = 0; i < n; i++) o[i] = -INFINITY;
    for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
        const float *in = pool_in_row(r, kh);
        for (int kw = 0; kw < r->KW; kw++) {
            const float *src = in + (r->lo * r->sw - r->pl + kw * r->dw);
            int sw = r->sw;
            for (int i = 0; i < n; i++) {
                float x = src[i * sw];
                o[i] = x > o[i] ? x : o[i];
            }
        }
    }
}

#if CK_X86
CK_AVX2 static void max_interior_avx2(const pool_row *r) {
    if (r->sw > 2) {
        max_interior_scalar(r);
        return;
    }
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    int ow = r->lo;
    if (r->sw == 1) {
        for (; ow + 8 <= r->hi; ow += 8) {
            __m256 a = ninf;
            for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
                const float *s = pool_in_row(r, kh) + (ow - r->pl);
                // max_ps returns its second operand when either is NaN: NaN inputs are skipped,
                // as in the scalar comparison.
                for (int kw = 0; kw < r->KW; kw++)
                    a = _mm256_max_ps(_mm256_loadu_ps(s + kw * r->dw), a);
            }
            _mm256_storeu_ps(r->orow + ow, a);
        }
        if (ow < r->hi) {
            __m256i m = ck_tail_mask(r->hi - ow);
            __m256 a = ninf;
            for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
                const float *s = pool_in_row(r, kh) + (ow - r->pl);
                for (int kw = 0; kw < r->KW; kw++)
                    a = _mm256_max_ps(_mm256_maskload_ps(s + kw * r->dw, m), a);
            }
            _mm256_maskstore_ps(r->orow + ow, m, a);
        }
        return;
    }
    // Stride 2: even elements of two consecutive loads (see ck_swap_mid). A full step reads one
    // float past its last tap's final element, so it must stay inside the row.
    int max_start = ck_floor_div(r->W - 16 + r->pl - (r->KW - 1) * r->dw, 2);
    for (; ow + 8 <= r->hi && ow <= max_start; ow += 8) {
        __m256 a = ninf;
        for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *s = pool_in_row(r, kh) + (2 * ow - r->pl);
            for (int kw = 0; kw < r->KW; kw++) {
                const float *p = s + kw * r->dw;
                __m256 v = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), 0x88);
                a = _mm256_max_ps(v, a);
            }
        }
        _mm256_storeu_ps(r->orow + ow, ck_swap_mid(a));
    }
    while (ow < r->hi) {
        int n = ck_min_int(8, r->hi - ow);
        __m256i m0 = ck_tail_mask(2 * n - 1), m1 = ck_tail_mask(2 * n - 9), mo = ck_tail_mask(n);
        __m256 a = ninf;
        for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *s = pool_in_row(r, kh) + (2 * ow - r->pl);
            for (int kw = 0; kw < r->KW; kw++) {
                const float *p = s + kw * r->dw;
                __m256 v = _mm256_shuffle_ps(_mm256_maskload_ps(p, m0),
                                             _mm256_maskload_ps(p + 8, m1), 0x88);
                a = _mm256_max_ps(v, a);
            }
        }
        _mm256_maskstore_ps(r->orow + ow, mo, ck_swap_mid(a));
        ow += n;
    }
}
#endif

static void maxpool_impl(const float *in, float *out, const ck_window *g, int c_begin,
                         int c_end, void (*interior)(const pool_row *)) {
    size_t in_plane = (size_t)g->in_h * (size_t)g->in_w;
    size_t out_plane = (size_t)g->out_h * (size_t)g->out_w;
    pool_row r;
    pool_channel_setup(&r, g, 0);
    for (int c = c_begin; c < c_end; c++) {
        r.plane = in + (size_t)c * in_plane;
        for (int oh = 0; oh < g->out_h; oh++) {
            r.orow = out + (size_t)c * out_plane + (size_t)oh * (size_t)g->out_w;
            pool_row_setup(&r, g, oh, 0);
            if (r.kh_lo == r.kh_hi) {
                for (int ow = 0; ow < g->out_w; ow++) r.orow[ow] = -FLT_MAX;
                continue;
            }
            max_pixels_checked(&r, 0, r.lo);
            if (r.hi > r.lo) interior(&r);
            max_pixels_checked(&r, r.hi, g->out_w);
        }
    }
}

void ck_maxpool2d(const float *in, float *out, const ck_window *win, int c_begin, int c_end) {
    if (!pool_geometry_ok(win, c_begin, c_end)) return;
#if CK_X86
    if (ck_use_avx2()) {
        maxpool_impl(in, out, win, c_begin, c_end, max_interior_avx2);
        return;
    }
#endif
    maxpool_impl(in, out, win, c_begin, c_end, max_interior_scalar);
}

// ---- average ---------------------------------------------------------------------------------

static void avg_pixels_checked(const pool_row *r, int from, int to, int include_pad) {
    for (int ow = from; ow < to; ow++) {
        float acc = 0.0f;
        int iw0 = ow * r->sw - r->pl;
        int w_in = 0;
        for (int kw = 0; kw < r->KW; kw++) {
            int iw = iw0 + kw * r->dw;
            w_in += iw >= 0 && iw < r->W;
        }
        for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *in = pool_in_row(r, kh);
            for (int kw = 0; kw < r->KW; kw++) {
                int iw = iw0 + kw * r->dw;
                if (iw >= 0 && iw < r->W) acc += in[iw];
            }
        }
        int count = include_pad
                        ? r->h_pad_taps * taps_below(iw0, r->w_extent, r->KW, r->dw)
                        : (r->kh_hi - r->kh_lo) * w_in;
        r->orow[ow] = count > 0 ? acc / (float)count : 0.0f;
    }
}

/// Interior sums; every horizontal tap is in the image, so only the row's vertical count varies.
static void avg_interior_scalar(const pool_row *r, int include_pad) {
    int n = r->hi - r->lo;
    float *o = r->orow + r->lo;
    for (int i = 0; i < n; i++) o[i] = 0.0f;
    for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
        const float *in = pool_in_row(r, kh);
        for (int kw = 0; kw < r->KW; kw++) {
            const float *src = in + (r->lo * r->sw - r->pl + kw * r->dw);
            int sw = r->sw;
            for (int i = 0; i < n; i++) o[i] += src[i * sw];
        }
    }
    int count = (include_pad ? r->h_pad_taps : r->kh_hi - r->kh_lo) * r->KW;
    float div = (float)count;
    for (int i = 0; i < n; i++) o[i] = o[i] / div;
}

#if CK_X86
CK_AVX2 static void avg_interior_avx2(const pool_row *r, int include_pad) {
    if (r->sw > 2) {
        avg_interior_scalar(r, include_pad);
        return;
    }
    int count = (include_pad ? r->h_pad_taps : r->kh_hi - r->kh_lo) * r->KW;
    const __m256 scale = _mm256_set1_ps(1.0f / (float)count);
    int ow = r->lo;
    if (r->sw == 1) {
        for (; ow + 8 <= r->hi; ow += 8) {
            __m256 a = _mm256_setzero_ps();
            for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
                const float *s = pool_in_row(r, kh) + (ow - r->pl);
                for (int kw = 0; kw < r->KW; kw++)
                    a = _mm256_add_ps(a, _mm256_loadu_ps(s + kw * r->dw));
            }
            _mm256_storeu_ps(r->orow + ow, _mm256_mul_ps(a, scale));
        }
        if (ow < r->hi) {
            __m256i m = ck_tail_mask(r->hi - ow);
            __m256 a = _mm256_setzero_ps();
            for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
                const float *s = pool_in_row(r, kh) + (ow - r->pl);
                for (int kw = 0; kw < r->KW; kw++)
                    a = _mm256_add_ps(a, _mm256_maskload_ps(s + kw * r->dw, m));
            }
            _mm256_maskstore_ps(r->orow + ow, m, _mm256_mul_ps(a, scale));
        }
        return;
    }
    int max_start = ck_floor_div(r->W - 16 + r->pl - (r->KW - 1) * r->dw, 2);
    for (; ow + 8 <= r->hi && ow <= max_start; ow += 8) {
        __m256 a = _mm256_setzero_ps();
        for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *s = pool_in_row(r, kh) + (2 * ow - r->pl);
            for (int kw = 0; kw < r->KW; kw++) {
                const float *p = s + kw * r->dw;
                a = _mm256_add_ps(a, _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), 0x88));
            }
        }
        _mm256_storeu_ps(r->orow + ow, _mm256_mul_ps(ck_swap_mid(a), scale));
    }
    while (ow < r->hi) {
        int n = ck_min_int(8, r->hi - ow);
        __m256i m0 = ck_tail_mask(2 * n - 1), m1 = ck_tail_mask(2 * n - 9), mo = ck_tail_mask(n);
        __m256 a = _mm256_setzero_ps();
        for (int kh = r->kh_lo; kh < r->kh_hi; kh++) {
            const float *s = pool_in_row(r, kh) + (2 * ow - r->pl);
            for (int kw = 0; kw < r->KW; kw++) {
                const float *p = s + kw * r->dw;
                a = _mm256_add_ps(a, _mm256_shuffle_ps(_mm256_maskload_ps(p, m0),
                                                       _mm256_maskload_ps(p + 8, m1), 0x88));
            }
        }
        _mm256_maskstore_ps(r->orow + ow, mo, _mm256_mul_ps(ck_swap_mid(a), scale));
        ow += n;
    }
}
#endif

static void avgpool_impl(const float *in, float *out, const ck_window *g, int pad_bottom,
                         int pad_right, int include_pad, int c_begin, int c_end,
                         void (*interior)(const pool_row *, int)) {
    size_t in_plane = (size_t)g->in_h * (size_t)g->in_w;
    size_t out_plane = (size_t)g->out_h * (size_t)g->out_w;
    pool_row r;
    pool_channel_setup(&r, g, pad_right);
    for (int c = c_begin; c < c_end; c++) {
        r.plane = in + (size_t)c * in_plane;
        for (int oh = 0; oh < g->out_h; oh++) {
            r.orow = out + (size_t)c * out_plane + (size_t)oh * (size_t)g->out_w;
            pool_row_setup(&r, g, oh, pad_bottom);
            if (r.kh_lo == r.kh_hi) {
                // No tap in the image: the sum is 0 whatever the divisor.
                for (int ow = 0; ow < g->out_w; ow++) r.orow[ow] = 0.0f;
                continue;
            }
            avg_pixels_checked(&r, 0, r.lo, include_pad);
            if (r.hi > r.lo) interior(&r, include_pad);
            avg_pixels_checked(&r, r.hi, g->out_w, include_pad);
        }
    }
}

void ck_avgpool2d_padded(const float *in, float *out, const ck_window *win, int pad_bottom,
                         int pad_right, int count_include_pad, int c_begin, int c_end) {
    if (!pool_geometry_ok(win, c_begin, c_end)) return;
    int include_pad = count_include_pad != 0;
#if CK_X86
    if (ck_use_avx2()) {
        avgpool_impl(in, out, win, pad_bottom, pad_right, include_pad, c_begin, c_end,
                     avg_interior_avx2);
        return;
    }
#endif
    avgpool_impl(in, out, win, pad_bottom, pad_right, include_pad, c_begin, c_end,
                 avg_interior_scalar);
}

void ck_avgpool2d(const float *in, float *out, const ck_window *win, int count_include_pad,
                  int c_begin, int c_end) {
    // The padding that the output size implies: just enough for the last window to fit.
    int pad_bottom = (win->out_h - 1) * win->stride_h + (win->kernel_h - 1) * win->dilation_h + 1 -
                     win->pad_top - win->in_h;
    int pad_right = (win->out_w - 1) * win->stride_w + (win->kernel_w - 1) * win->dilation_w + 1 -
                    win->pad_left - win->in_w;
    ck_avgpool2d_padded(in, out, win, ck_max_int(pad_bottom, 0), ck_max_int(pad_right, 0),
                        count_include_pad, c_begin, c_end);
}

// ---- global average --------------------------------------------------------------------------

static void global_avgpool_scalar(const float *in, float *out, int spatial, int c_begin,
                                  int c_end) {
    for (int c = c_begin; c < c_end; c++) {
        const float *x = in + (size_t)c * (size_t)spatial;
        // Double accumulation keeps large planes accurate to float rounding.
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= spatial; i += 4) {
            s0 += x[i];
            s1 += x[i + 1];
            s2 += x[i + 2];
            s3 += x[i + 3];
        }
        for (; i < spatial; i++) s0 += x[i];
        out[c] = (float)((s0 + s1 + s2 + s3) / (double)spatial);
    }
}

#if CK_X86
CK_AVX2 static void global_avgpool_avx2(const float *in, float *out, int spatial, int c_begin,
                                        int c_end) {
    for (int c = c_begin; c < c_end; c++) {
        const float *x = in + (size_t)c * (size_t)spatial;
        __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
        __m256d a2 = _mm256_setzero_pd(), a3 = _mm256_setzero_pd();
        int i = 0;
        for (; i + 16 <= spatial; i += 16) {
            __m256 v = _mm256_loadu_ps(x + i), w = _mm256_loadu_ps(x + i + 8);
            a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
            a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
            a2 = _mm256_add_pd(a2, _mm256_cvtps_pd(_mm256_castps256_ps128(w)));
            a3 = _mm256_add_pd(a3, _mm256_cvtps_pd(_mm256_extractf128_ps(w, 1)));
        }
        __m256d a = _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3));
        __m128d h = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
        double s = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
        for (; i < spatial; i++) s += x[i];
        out[c] = (float)(s / (double)spatial);
    }
}
#endif

void ck_global_avgpool(const float *in, float *out, int spatial, int c_begin, int c_end) {
    if (spatial <= 0 || c_begin >= c_end) return;
#if CK_X86
    if (ck_use_avx2()) {
        global_avgpool_avx2(in, out, spatial, c_begin, c_end);
        return;
    }
#endif
    global_avgpool_scalar(in, out, spatial, c_begin, c_end);
}
