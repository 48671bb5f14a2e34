// Bilinear and nearest resize from caller-built index/weight tables. Bilinear interpolates each
// needed source row horizontally once into a two-row cache and blends the cached rows
// vertically, so an upsample by k costs about one horizontal pass per source row plus one
// multiply-add per output value. Output columns are processed in chunks so the cache is a
// fixed-size stack buffer for any width.
#include "Internal.h"

#include <string.h>

#define CK_RESIZE_CHUNK 1024

typedef void (*hlerp_fn)(const float *row, const int32_t *x0, const int32_t *x1, const float *wx,
                         float *dst, int n);
typedef void (*vlerp_fn)(const float *a, const float *b, float w, float *dst, int n);

static void hlerp_scalar(const float *row, const int32_t *x0, const int32_t *x1, const float *wx,
                         float *dst, int n) {
    for (int i = 0; i < n; i++) {
        float a = row[x0[i]], b = row[x1[i]];
        dst[i] = a + wx[i] * (b - a);
    }
}

static void vlerp_scalar(const float *a, const float *b, float w, float *dst, int n) {
    for (int i = 0; i < n; i++) dst[i] = a[i] + w * (b[i] - a[i]);
}

#if CK_X86
CK_AVX2 static void hlerp_avx2(const float *row, const int32_t *x0, const int32_t *x1,
                               const float *wx, float *dst, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_i32gather_ps(row, _mm256_loadu_si256((const __m256i *)(x0 + i)), 4);
        __m256 b = _mm256_i32gather_ps(row, _mm256_loadu_si256((const __m256i *)(x1 + i)), 4);
        _mm256_storeu_ps(dst + i, _mm256_fmadd_ps(_mm256_loadu_ps(wx + i), _mm256_sub_ps(b, a), a));
    }
    hlerp_scalar(row, x0 + i, x1 + i, wx + i, dst + i, n - i);
}

CK_AVX2 static void vlerp_avx2(const float *a, const float *b, float w, float *dst, int n) {
    const __m256 wv = _mm256_set1_ps(w);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a0 = _mm256_loadu_ps(a + i), a1 = _mm256_loadu_ps(a + i + 8);
        __m256 b0 = _mm256_loadu_ps(b + i), b1 = _mm256_loadu_ps(b + i + 8);
        _mm256_storeu_ps(dst + i, _mm256_fmadd_ps(wv, _mm256_sub_ps(b0, a0), a0));
        _mm256_storeu_ps(dst + i + 8, _mm256_fmadd_ps(wv, _mm256_sub_ps(b1, a1), a1));
    }
    for (; i + 8 <= n; i += 8) {
        __m256 a0 = _mm256_loadu_ps(a + i), b0 = _mm256_loadu_ps(b + i);
        _mm256_storeu_ps(dst + i, _mm256_fmadd_ps(wv, _mm256_sub_ps(b0, a0), a0));
    }
    if (i < n) {
        __m256i m = ck_tail_mask(n - i);
        __m256 a0 = _mm256_maskload_ps(a + i, m), b0 = _mm256_maskload_ps(b + i, m);
        _mm256_maskstore_ps(dst + i, m, _mm256_fmadd_ps(wv, _mm256_sub_ps(b0, a0), a0));
    }
}
#endif

static void bilinear_impl(const float *in, float *out, int in_h, int in_w, int out_h, int out_w,
                          const int32_t *y0, const int32_t *y1, const float *wy,
                          const int32_t *x0, const int32_t *x1, const float *wx, int c_begin,
                          int c_end, hlerp_fn hlerp, vlerp_fn vlerp) {
    float cache[2][CK_RESIZE_CHUNK];
    size_t in_plane = (size_t)in_h * (size_t)in_w;
    size_t out_plane = (size_t)out_h * (size_t)out_w;
    for (int c = c_begin; c < c_end; c++) {
        const float *src = in + (size_t)c * in_plane;
        float *dst = out + (size_t)c * out_plane;
        for (int xs = 0; xs < out_w; xs += CK_RESIZE_CHUNK) {
            int n = ck_min_int(CK_RESIZE_CHUNK, out_w - xs);
            int held[2] = {-1, -1};   // source row in each cache slot
            for (int y = 0; y < out_h; y++) {
                int ya = y0[y], yb = y1[y];
                int sa = held[0] == ya ? 0 : (held[1] == ya ? 1 : -1);
                if (sa < 0) {
                    // Never evict the other row this output row needs.
                    sa = held[0] == yb ? 1 : 0;
                    hlerp(src + (size_t)ya * (size_t)in_w, x0 + xs, x1 + xs, wx + xs, cache[sa], n);
                    held[sa] = ya;
                }
                int sb = held[0] == yb ? 0 : (held[1] == yb ? 1 : -1);
                if (sb < 0) {
                    sb = 1 - sa;
                    hlerp(src + (size_t)yb * (size_t)in_w, x0 + xs, x1 + xs, wx + xs, cache[sb], n);
                    held[sb] = yb;
                }
                vlerp(cache[sa], cache[sb], wy[y], dst + (size_t)y * (size_t)out_w + xs, n);
            }
        }
    }
}

void ck_resize_bilinear(const float *in, float *out, int in_h, int in_w, int out_h, int out_w,
                        const int32_t *y0, const int32_t *y1, const float *wy,
                        const int32_t *x0, const int32_t *x1, const float *wx,
                        int c_begin, int c_end) {
    if (c_begin >= c_end || in_h <= 0 || in_w <= 0 || out_h <= 0 || out_w <= 0) return;
#if CK_X86
    if (ck_use_avx2()) {
        bilinear_impl(in, out, in_h, in_w, out_h, out_w, y0, y1, wy, x0, x1, wx, c_begin, c_end,
                      hlerp_avx2, vlerp_avx2);
        return;
    }
#endif
    bilinear_impl(in, out, in_h, in_w, out_h, out_w, y0, y1, wy, x0, x1, wx, c_begin, c_end,
                  hlerp_scalar, vlerp_scalar);
}

// ---- nearest ---------------------------------------------------------------------------------

typedef void (*gather_fn)(const float *row, const int32_t *xs, float *dst, int n);

static void gather_scalar(const float *row, const int32_t *xs, float *dst, int n) {
    for (int i = 0; i < n; i++) dst[i] = row[xs[i]];
}

#if CK_X86
CK_AVX2 static void gather_avx2(const float *row, const int32_t *xs, float *dst, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_i32gather_ps(row, _mm256_loadu_si256((const __m256i *)(xs + i)), 4));
    gather_scalar(row, xs + i, dst + i, n - i);
}
#endif

static void nearest_impl(const float *in, float *out, int in_h, int in_w, int out_h, int out_w,
                         const int32_t *ys, const int32_t *xs, int c_begin, int c_end,
                         gather_fn gather) {
    size_t in_plane = (size_t)in_h * (size_t)in_w;
    size_t out_plane = (size_t)out_h * (size_t)out_w;
    for (int c = c_begin; c < c_end; c++) {
        const float *src = in + (size_t)c * in_plane;
        float *dst = out + (size_t)c * out_plane;
        for (int y = 0; y < out_h; y++) {
            float *row = dst + (size_t)y * (size_t)out_w;
            // Upsampling repeats source rows: copy the previous output row instead of gathering.
            if (y > 0 && ys[y] == ys[y - 1])
                memcpy(row, row - out_w, (size_t)out_w * sizeof(float));
            else
                gather(src + (size_t)ys[y] * (size_t)in_w, xs, row, out_w);
        }
    }
}

void ck_resize_nearest(const float *in, float *out, int in_h, int in_w, int out_h, int out_w,
                       const int32_t *ys, const int32_t *xs, int c_begin, int c_end) {
    if (c_begin >= c_end || in_h <= 0 || in_w <= 0 || out_h <= 0 || out_w <= 0) return;
#if CK_X86
    if (ck_use_avx2()) {
        nearest_impl(in, out, in_h, in_w, out_h, out_w, ys, xs, c_begin, c_end, gather_avx2);
        return;
    }
#endif
    nearest_impl(in, out, in_h, in_w, out_h, out_w, ys, xs, c_begin, c_end, gather_scalar);
}
