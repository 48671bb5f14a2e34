// Depthwise 2-D convolution with bias, residual and activation fused. The accumulator starts at
// bias + residual, so the residual is read before the output is written and may alias it.
// Scalar path: each output row splits into border pixels (some taps fall outside the image:
// bounds-checked) and an interior run (no checks, one multiply-add sweep per tap). The AVX2
// path (further down) stages zero-padded input rows in a stack ring instead, so it has no
// border code at all.
#include "Internal.h"

#include <string.h>

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
    int ih0 = oh * g->stride_h - g->pad_top;
    int KH = g->kernel_h, dh = g->dilation_h;
    r->ih0 = ih0;
    // Taps kh with 0 <= ih0 + kh*dh < H. Counting them off one by one is cheaper than the two
    // divisions of a closed form: only the few rows near the top and bottom edges loop at all.
    int lo = 0, hi = KH;
    while (lo < KH && ih0 + lo * dh < 0) lo++;
    while (hi > lo && ih0 + (hi - 1) * dh >= g->in_h) hi--;
    r->kh_lo = lo;
    r->kh_hi = hi;
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
// AVX2 path for horizontal strides 1 and 2. Input rows are first copied into a ring of padded
// row buffers on the stack: zeros stand in for the padding, and for stride 2 each row is split
// into its even and odd columns. Every tap of every output is then a plain unaligned load at a
// fixed offset, so there is no border code and no shuffle in the inner loop; each input row is
// copied once per channel (per column chunk) and reused by all output rows that need it.
// Output rows are processed in pairs whenever both see the same vertical taps: the pair shares
// the weight broadcasts and, with 4 vectors per row, keeps 8 independent FMA chains in flight.

#define CK_DW_RING_FLOATS 8192   // 32 KB of stack for the ring
#define CK_DW_MAX_TAPS 16        // kernel_h, kernel_w limit of the ring path
#define CK_DW_MAX_SLOTS 64

typedef struct {
    const float *tap[2][CK_DW_MAX_TAPS];   // ring slot of each vertical tap, per row
    float *orow[2];                        // output rows at the chunk's first column
    const float *rrow[2];                  // residual rows likewise, or NULL
    const int *off;                        // per horizontal tap: float offset inside a slot
    const float *w;                        // channel weights [KH][KW]
    int kh_lo, kh_hi;
    ck_activation act;
} dw_pair;

/// Outputs [t, t + 8*NV) of NR rows.
CK_AVX2 CK_INLINE void dw_block(const dw_pair *p, const int NR, const int NV, const int KW, int t,
                                __m256 bias) {
    __m256 acc[2][4];
    for (int q = 0; q < NR; q++)
        for (int v = 0; v < NV; v++)
            acc[q][v] = p->rrow[q] ? _mm256_add_ps(bias, _mm256_loadu_ps(p->rrow[q] + t + 8 * v)) : bias;
    for (int kh = p->kh_lo; kh < p->kh_hi; kh++) {
        const float *wk = p->w + kh * KW;
        const float *s0 = p->tap[0][kh] + t, *s1 = p->tap[NR - 1][kh] + t;
        for (int kw = 0; kw < KW; kw++) {
            __m256 wv = _mm256_broadcast_ss(wk + kw);
            int o = p->off[kw];
            for (int v = 0; v < NV; v++) acc[0][v] = _mm256_fmadd_ps(_mm256_loadu_ps(s0 + o + 8 * v), wv, acc[0][v]);
            if (NR == 2)
                for (int v = 0; v < NV; v++) acc[1][v] = _mm256_fmadd_ps(_mm256_loadu_ps(s1 + o + 8 * v), wv, acc[1][v]);
        }
    }
    for (int q = 0; q < NR; q++)
        for (int v = 0; v < NV; v++) _mm256_storeu_ps(p->orow[q] + t + 8 * v, ck_act8(acc[q][v], p->act));
}

/// The last n < 8 outputs from t: the ring holds zeros past the row, so only the residual load
/// and the store need masks.
CK_AVX2 CK_INLINE void dw_tail(const dw_pair *p, const int NR, const int KW, int t, int n, __m256 bias) {
    __m256i m = ck_tail_mask(n);
    __m256 acc[2];
    for (int q = 0; q < NR; q++)
        acc[q] = p->rrow[q] ? _mm256_add_ps(bias, _mm256_maskload_ps(p->rrow[q] + t, m)) : bias;
    for (int kh = p->kh_lo; kh < p->kh_hi; kh++) {
        const float *wk = p->w + kh * KW;
        for (int kw = 0; kw < KW; kw++) {
            __m256 wv = _mm256_broadcast_ss(wk + kw);
            for (int q = 0; q < NR; q++)
                acc[q] = _mm256_fmadd_ps(_mm256_loadu_ps(p->tap[q][kh] + t + p->off[kw]), wv, acc[q]);
        }
    }
    for (int q = 0; q < NR; q++) _mm256_maskstore_ps(p->orow[q] + t, m, ck_act8(acc[q], p->act));
}

CK_AVX2 CK_INLINE void dw_rows(const dw_pair *p, const int NR, const int KW, int n, float bias_value) {
    const __m256 bias = _mm256_set1_ps(bias_value);
    int t = 0;
    for (; t + 32 <= n; t += 32) dw_block(p, NR, 4, KW, t, bias);
    if (t + 16 <= n) {
        dw_block(p, NR, 2, KW, t, bias);
        t += 16;
    }
    if (t + 8 <= n) {
        dw_block(p, NR, 1, KW, t, bias);
        t += 8;
    }
    if (t < n) dw_tail(p, NR, KW, t, n - t, bias);
}

typedef void (*dw_rows_fn)(const dw_pair *p, int n, float bias);

#define CK_DW_VARIANT(name, nr, kw) \
    CK_AVX2 static void name(const dw_pair *p, int n, float bias) { dw_rows(p, nr, kw, n, bias); }
CK_DW_VARIANT(dw_k3_r1, 1, 3)
CK_DW_VARIANT(dw_k3_r2, 2, 3)
CK_DW_VARIANT(dw_k5_r1, 1, 5)
CK_DW_VARIANT(dw_k5_r2, 2, 5)
CK_DW_VARIANT(dw_k7_r1, 1, 7)
CK_DW_VARIANT(dw_k7_r2, 2, 7)
#undef CK_DW_VARIANT

/// One padded input row: dst[j] = row[col0 + j] inside the image, 0 outside, j in [0, len),
/// len a multiple of 8. Vector loads throughout (rows here are often only a few vectors long,
/// where libc calls would cost more than the copy); edge vectors load through a mask of their
/// in-image lanes, which never touches memory outside the row.
CK_AVX2 static void dw_fill_s1(const float *row, int W, int col0, float *dst, int len) {
    int j = 0;
    for (; j < len && (col0 + j < 0 || col0 + j + 8 > W); j += 8) {
        if (col0 + j >= W) break;   // the rest lies right of the row
        int c = col0 + j;
        const float *p = (const float *)((uintptr_t)row + (intptr_t)c * (intptr_t)sizeof(float));
        _mm256_store_ps(dst + j, _mm256_maskload_ps(p, ck_range_mask(-c, W - c)));
    }
    for (; j < len && col0 + j + 8 <= W; j += 8) _mm256_store_ps(dst + j, _mm256_loadu_ps(row + col0 + j));
    for (; j < len; j += 8) {
        int c = col0 + j;
        const float *p = (const float *)((uintptr_t)row + (intptr_t)c * (intptr_t)sizeof(float));
        _mm256_store_ps(dst + j, _mm256_maskload_ps(p, ck_range_mask(-c, W - c)));
    }
}

/// One padded input row split by column parity: even[i] = P(2i), odd[i] = P(2i + 1) with
/// P(j) = row[col0 + j] inside the image and 0 outside, i in [0, len).
CK_AVX2 static void dw_fill_s2(const float *row, int W, int col0, float *even, float *odd, int len) {
    int i = 0;
    for (; i < len && col0 + 2 * i < 0; i++) {
        int j = col0 + 2 * i;
        even[i] = 0.0f;
        odd[i] = j + 1 >= 0 && j + 1 < W ? row[j + 1] : 0.0f;
    }
    for (; i + 8 <= len && col0 + 2 * i + 15 < W; i += 8) {
        const float *src = row + col0 + 2 * i;
        __m256 v0 = _mm256_loadu_ps(src), v1 = _mm256_loadu_ps(src + 8);
        _mm256_storeu_ps(even + i, ck_swap_mid(_mm256_shuffle_ps(v0, v1, 0x88)));
        _mm256_storeu_ps(odd + i, ck_swap_mid(_mm256_shuffle_ps(v0, v1, 0xDD)));
    }
    for (; i < len; i++) {
        int j = col0 + 2 * i;
        even[i] = j >= 0 && j < W ? row[j] : 0.0f;
        odd[i] = j + 1 >= 0 && j + 1 < W ? row[j + 1] : 0.0f;
    }
}

/// The ring's shape for one geometry; `ok` is 0 when the geometry does not fit the ring path.
typedef struct {
    int ok;
    int slots;        // rows a row pair can touch: (KH-1)*dh + 1 + stride_h
    int chunk;        // output columns per pass (multiple of 8, or all of out_w)
    int slot_floats;  // floats per ring slot
    int half;         // stride 2: offset of the odd-column half inside a slot
} dw_ring_shape;

static long dw_round8(long n) { return (n + 7) / 8 * 8; }

static dw_ring_shape dw_ring_plan(const ck_window *g) {
    dw_ring_shape r = {0, 0, 0, 0, 0};
    if (g->stride_w > 2 || g->kernel_h > CK_DW_MAX_TAPS || g->kernel_w > CK_DW_MAX_TAPS) return r;
    long span = (long)(g->kernel_w - 1) * g->dilation_w;   // extra input columns per chunk
    long slots = (long)(g->kernel_h - 1) * g->dilation_h + 1 + g->stride_h;
    if (slots > CK_DW_MAX_SLOTS) return r;
    // Slots (and stride 2's halves) are whole vectors, so fills store full vectors and every
    // slot stays 32-byte aligned. A chunk of c outputs needs c + span columns (stride 1), or
    // two halves of c + span/2 (stride 2).
    long per_slot = CK_DW_RING_FLOATS / slots / 8 * 8;
    long budget = g->stride_w == 1 ? per_slot : per_slot / 2 / 8 * 8;
    long reach = g->stride_w == 1 ? span : span / 2;
    long chunk = (budget - dw_round8(reach)) / 8 * 8;
    long out_w8 = dw_round8(g->out_w);
    if (chunk > out_w8) chunk = out_w8;
    if (chunk < 8) return r;
    r.ok = 1;
    r.slots = (int)slots;
    r.chunk = (int)chunk;
    r.half = g->stride_w == 1 ? 0 : (int)dw_round8(chunk + reach);
    r.slot_floats = g->stride_w == 1 ? (int)dw_round8(chunk + reach) : 2 * r.half;
    return r;
}

static void dw_scalar_row(const dw_row *r) {
    dw_pixels_checked(r, 0, r->lo);
    dw_interior_scalar(r);
    dw_pixels_checked(r, r->hi, r->out_w);
}

CK_AVX2 static void depthwise_avx2(const float *in, const float *weight, const float *bias,
                                   const float *residual, float *out, const ck_window *g,
                                   int c_begin, int c_end, ck_activation act) {
    size_t out_plane = (size_t)g->out_h * (size_t)g->out_w;
    dw_ring_shape shape = dw_ring_plan(g);
    if (!shape.ok) {
        // Strides above 2, huge kernels or dilations: the bounds-checked scalar rows.
        for (int c = c_begin; c < c_end; c++) {
            dw_row r;
            dw_channel_setup(&r, in, weight, bias, g, c, act);
            for (int oh = 0; oh < g->out_h; oh++) {
                size_t row_off = (size_t)c * out_plane + (size_t)oh * (size_t)g->out_w;
                r.orow = out + row_off;
                r.rrow = residual ? residual + row_off : NULL;
                dw_row_setup(&r, g, oh);
                dw_scalar_row(&r);
            }
        }
        return;
    }
    const int KW = g->kernel_w, sw = g->stride_w;
    dw_rows_fn one = NULL, two = NULL;
    if (KW == 3) one = dw_k3_r1, two = dw_k3_r2;
    if (KW == 5) one = dw_k5_r1, two = dw_k5_r2;
    if (KW == 7) one = dw_k7_r1, two = dw_k7_r2;

    _Alignas(32) float ring[CK_DW_RING_FLOATS];
    int tag[CK_DW_MAX_SLOTS];
    int off[CK_DW_MAX_TAPS];
    for (int kw = 0; kw < KW; kw++) {
        int x = kw * g->dilation_w;
        off[kw] = sw == 1 ? x : (x & 1) * shape.half + x / 2;
    }
    for (int c = c_begin; c < c_end; c++) {
        const float *plane = in + (size_t)c * (size_t)g->in_h * (size_t)g->in_w;
        float bias_value = bias ? bias[c] : 0.0f;
        dw_pair p;
        p.off = off;
        p.w = weight + (size_t)c * (size_t)g->kernel_h * (size_t)KW;
        p.act = act;
        for (int c0 = 0; c0 < g->out_w; c0 += shape.chunk) {
            int n = ck_min_int(shape.chunk, g->out_w - c0);
            int col0 = c0 * sw - g->pad_left;   // input column of ring column 0
            for (int i = 0; i < shape.slots; i++) tag[i] = -1;
            int oh = 0;
            while (oh < g->out_h) {
                dw_row rows[2];
                int nr = oh + 1 < g->out_h ? 2 : 1;
                for (int q = 0; q < nr; q++) dw_row_setup(&rows[q], g, oh + q);
                if (nr == 2 && (rows[1].kh_lo != rows[0].kh_lo || rows[1].kh_hi != rows[0].kh_hi)) nr = 1;
                p.kh_lo = rows[0].kh_lo;
                p.kh_hi = rows[0].kh_hi;
                // Slot of input row ih is ih mod slots; one division per pair, then steps.
                int first_slot = (rows[0].ih0 + p.kh_lo * g->dilation_h) % shape.slots;
                for (int q = 0; q < nr; q++) {
                    size_t row_off = (size_t)c * out_plane + (size_t)(oh + q) * (size_t)g->out_w + (size_t)c0;
                    p.orow[q] = out + row_off;
                    p.rrow[q] = residual ? residual + row_off : NULL;
                    int slot = first_slot + q * g->stride_h;
                    while (slot >= shape.slots) slot -= shape.slots;
                    for (int kh = p.kh_lo; kh < p.kh_hi; kh++) {
                        int ih = rows[q].ih0 + kh * g->dilation_h;
                        if (kh > p.kh_lo) {
                            slot += g->dilation_h;
                            while (slot >= shape.slots) slot -= shape.slots;
                        }
                        float *dst = ring + (size_t)slot * (size_t)shape.slot_floats;
                        if (tag[slot] != ih) {
                            const float *src = plane + (size_t)ih * (size_t)g->in_w;
                            if (sw == 1)
                                dw_fill_s1(src, g->in_w, col0, dst, shape.slot_floats);
                            else
                                dw_fill_s2(src, g->in_w, col0, dst, dst + shape.half, shape.half);
                            tag[slot] = ih;
                        }
                        p.tap[q][kh] = dst;
                    }
                }
                dw_rows_fn fn = nr == 2 ? two : one;
                if (fn)
                    fn(&p, n, bias_value);
                else if (nr == 2)
                    dw_rows(&p, 2, KW, n, bias_value);
                else
                    dw_rows(&p, 1, KW, n, bias_value);
                oh += nr;
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
