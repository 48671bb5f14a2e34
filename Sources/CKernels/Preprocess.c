// Frame preprocessing (CKPreprocess.h). The per-pixel format switch of the earlier Swift loop is
// hoisted out of the column loops, source rows are resampled into planar rows (so the vertical
// blend and normalisation is a contiguous loop the compiler vectorises), and a row shared by
// consecutive output rows is resampled once.
#include "Internal.h"

// The results must match the reference arithmetic bit for bit: no fused multiply-adds.
#pragma STDC FP_CONTRACT OFF

size_t ck_preprocess_scratch_floats(int out_w) { return 6 * (size_t)(out_w > 0 ? out_w : 0); }

CK_INLINE float pp_clamp255(float f) { return f < 0 ? 0 : (f > 255 ? 255 : f); }

/// RGB of pixel x of a YUYV row, as floats in 0...255.
CK_INLINE void pp_yuyv(const uint8_t *line, int x, float *r, float *g, float *b) {
    const uint8_t *pair = line + (x / 2) * 4;
    float yv = 1.164383f * ((float)pair[(x & 1) * 2] - 16);
    float u = (float)pair[1] - 128, v = (float)pair[3] - 128;
    *r = pp_clamp255(yv + 1.596027f * v);
    *g = pp_clamp255(yv - 0.391762f * u - 0.812968f * v);
    *b = pp_clamp255(yv + 2.017232f * u);
}

/// Source row `row` resampled to out_w columns into three planes (R, G, B) of `dst`.
static void pp_horizontal(const ck_preprocess_args *a, int row, float *dst) {
    const uint8_t *line = a->pixels + (size_t)row * (size_t)a->stride;
    const int n = a->out_w;
    float *red = dst, *green = dst + n, *blue = dst + 2 * n;
    const int32_t *x0 = a->x0, *x1 = a->x1;
    const float *wx = a->wx;
    switch (a->format) {
    case CK_PIXEL_RGB8:
    case CK_PIXEL_BGR8: {
        const int ri = a->format == CK_PIXEL_RGB8 ? 0 : 2, bi = 2 - ri;
        for (int x = 0; x < n; x++) {
            const uint8_t *l = line + 3 * x0[x], *r = line + 3 * x1[x];
            float t = wx[x];
            float lr = (float)l[ri], lg = (float)l[1], lb = (float)l[bi];
            red[x] = lr + ((float)r[ri] - lr) * t;
            green[x] = lg + ((float)r[1] - lg) * t;
            blue[x] = lb + ((float)r[bi] - lb) * t;
        }
        break;
    }
    case CK_PIXEL_MONO8:
        for (int x = 0; x < n; x++) {
            float l = (float)line[x0[x]];
            float v = l + ((float)line[x1[x]] - l) * wx[x];
            red[x] = v;
            green[x] = v;
            blue[x] = v;
        }
        break;
    default:   // CK_PIXEL_YUYV
        for (int x = 0; x < n; x++) {
            float lr, lg, lb, rr, rg, rb;
            pp_yuyv(line, x0[x], &lr, &lg, &lb);
            pp_yuyv(line, x1[x], &rr, &rg, &rb);
            float t = wx[x];
            red[x] = lr + (rr - lr) * t;
            green[x] = lg + (rg - lg) * t;
            blue[x] = lb + (rb - lb) * t;
        }
        break;
    }
}

/// dst = (top + (bottom − top)·t)·gain + offset over n floats.
static void pp_vertical(const float *restrict top, const float *restrict bottom, float t, float gain, float offset,
                        float *restrict dst, int n) {
    for (int x = 0; x < n; x++) dst[x] = (top[x] + (bottom[x] - top[x]) * t) * gain + offset;
}

void ck_preprocess_rows(const ck_preprocess_args *a, int y_begin, int y_end, float *scratch) {
    if (a->out_w <= 0 || y_begin < 0 || y_end > a->out_h || y_begin >= y_end) return;
    const int n = a->out_w;
    const size_t plane = (size_t)n * (size_t)a->out_h;
    float *slot[2] = {scratch, scratch + 3 * (size_t)n};
    int held[2] = {-1, -1};   // source row in each slot
    for (int y = y_begin; y < y_end; y++) {
        const int want[2] = {a->y0[y], a->y1[y]};
        int use[2];
        for (int i = 0; i < 2; i++) {
            int s = held[0] == want[i] ? 0 : (held[1] == want[i] ? 1 : -1);
            if (s < 0) {
                // Never evict the row the other tap of this output row holds.
                s = i == 0 ? (held[0] == want[1] ? 1 : 0) : 1 - use[0];
                pp_horizontal(a, want[i], slot[s]);
                held[s] = want[i];
            }
            use[i] = s;
        }
        const float t = a->wy[y];
        for (int c = 0; c < 3; c++) {
            const int ch = a->order[c];
            pp_vertical(slot[use[0]] + (size_t)ch * n, slot[use[1]] + (size_t)ch * n, t, a->gain[c], a->offset[c],
                        a->out + (size_t)c * plane + (size_t)y * (size_t)n, n);
        }
    }
}
