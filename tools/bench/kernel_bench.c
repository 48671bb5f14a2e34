// Micro-benchmark of the CKernels hot paths at the benchmark models' layer sizes, scalar path
// against the dispatched (AVX2+FMA) path, single thread; the GEMM also against its AVX-512 path
// and OpenBLAS's cblas_sgemm (run with the environment as is, e.g. OPENBLAS_CORETYPE); the fused
// mixture pass per build. Build and run with tools/bench/run.sh (`run.sh gemm`, `run.sh mixture`).
// Reports the best of several repetitions: the machine is shared, so the minimum is the most
// stable figure.
#include "CKernels.h"

#include <cblas.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_timing.h"

static float *random_buffer(size_t n) {
    float *p = malloc(n * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    unsigned s = 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)(s >> 8) / 16777216.0f * 2.0f - 1.0f;
    }
    return p;
}

typedef struct {
    const char *name;
    ck_window win;
    ck_activation act;
    float *in, *w, *b, *out;
} dw_case;

static void run_dw(void *p) {
    dw_case *c = p;
    ck_depthwise_conv2d(c->in, c->w, c->b, NULL, c->out, &c->win, 0, c->win.channels, c->act);
}

static void bench_depthwise(const char *name, int ch, int h, int w, int k, int s, int d, int act_kind) {
    int pad = (k - 1) / 2 * d;
    int oh = (h + 2 * pad - (k - 1) * d - 1) / s + 1, ow = (w + 2 * pad - (k - 1) * d - 1) / s + 1;
    dw_case c = {name, {ch, h, w, oh, ow, k, k, s, s, pad, pad, d, d}, {act_kind, 0.0f, 6.0f}, NULL, NULL, NULL, NULL};
    c.in = random_buffer((size_t)ch * h * w);
    c.w = random_buffer((size_t)ch * k * k);
    c.b = random_buffer((size_t)ch);
    c.out = random_buffer((size_t)ch * oh * ow);
    double flops = 2.0 * ch * oh * ow * k * k;
    ck_set_dispatch(0);
    double scalar = best_ms(run_dw, &c, 20);
    ck_set_dispatch(1);
    double vec = best_ms(run_dw, &c, 20);
    printf("%-44s scalar %7.3f ms %6.1f GFLOP/s | avx2 %7.3f ms %6.1f GFLOP/s | x%.1f\n", name, scalar,
           flops / scalar * 1e-6, vec, flops / vec * 1e-6, scalar / vec);
    free(c.in);
    free(c.w);
    free(c.b);
    free(c.out);
}

typedef struct {
    int ch, ih, iw, oh, ow;
    int32_t *y0, *y1, *x0, *x1;
    float *wy, *wx, *in, *out;
} resize_case;

static void run_resize(void *p) {
    resize_case *c = p;
    ck_resize_bilinear(c->in, c->out, c->ih, c->iw, c->oh, c->ow, c->y0, c->y1, c->wy, c->x0, c->x1,
                       c->wx, 0, c->ch);
}

static void half_pixel(int in, int out, int32_t *lo, int32_t *hi, float *wt) {
    for (int o = 0; o < out; o++) {
        double src = ((double)o + 0.5) * in / out - 0.5;
        if (src < 0) src = 0;
        int i0 = (int)src;
        if (i0 > in - 1) i0 = in - 1;
        lo[o] = i0;
        hi[o] = i0 + 1 < in ? i0 + 1 : in - 1;
        wt[o] = (float)(src - i0);
    }
}

static void bench_resize(int ch, int ih, int iw, int oh, int ow) {
    resize_case c = {ch, ih, iw, oh, ow};
    c.y0 = malloc(sizeof(int32_t) * oh);
    c.y1 = malloc(sizeof(int32_t) * oh);
    c.wy = malloc(sizeof(float) * oh);
    c.x0 = malloc(sizeof(int32_t) * ow);
    c.x1 = malloc(sizeof(int32_t) * ow);
    c.wx = malloc(sizeof(float) * ow);
    half_pixel(ih, oh, c.y0, c.y1, c.wy);
    half_pixel(iw, ow, c.x0, c.x1, c.wx);
    c.in = random_buffer((size_t)ch * ih * iw);
    c.out = random_buffer((size_t)ch * oh * ow);
    ck_set_dispatch(0);
    double scalar = best_ms(run_resize, &c, 10);
    ck_set_dispatch(1);
    double vec = best_ms(run_resize, &c, 10);
    double gb = (double)ch * oh * ow * 4 / 1e9;
    printf("bilinear %dch %dx%d -> %dx%d%*s scalar %7.3f ms %5.1f GB/s out | avx2 %7.3f ms %5.1f GB/s out | x%.1f\n",
           ch, ih, iw, oh, ow, 12, "", scalar, gb / scalar * 1e3, vec, gb / vec * 1e3, scalar / vec);
    free(c.y0); free(c.y1); free(c.wy); free(c.x0); free(c.x1); free(c.wx); free(c.in); free(c.out);
}

typedef struct {
    float *buf;
    size_t n;
    ck_activation act;
} act_case;

static void run_act(void *p) {
    act_case *c = p;
    ck_activation_apply(c->buf, c->buf, c->n, c->act);
}

static void bench_activation(const char *name, int kind, float a, float b) {
    act_case c = {random_buffer(1u << 20), 1u << 20, {kind, a, b}};
    ck_set_dispatch(0);
    double scalar = best_ms(run_act, &c, 20);
    ck_set_dispatch(1);
    double vec = best_ms(run_act, &c, 20);
    printf("%-44s scalar %7.3f ms %5.2f ns/val | avx2 %7.3f ms %5.2f ns/val | x%.1f\n", name, scalar,
           scalar * 1e6 / c.n, vec, vec * 1e6 / c.n, scalar / vec);
    free(c.buf);
}

typedef struct {
    float *in, *out;
    int outer, axis, inner;
} softmax_case;

static void run_softmax(void *p) {
    softmax_case *c = p;
    ck_softmax(c->in, c->out, c->outer, c->axis, c->inner);
}

static void bench_softmax(int outer, int axis, int inner) {
    size_t n = (size_t)outer * axis * inner;
    softmax_case c = {random_buffer(n), random_buffer(n), outer, axis, inner};
    ck_set_dispatch(0);
    double scalar = best_ms(run_softmax, &c, 10);
    ck_set_dispatch(1);
    double vec = best_ms(run_softmax, &c, 10);
    printf("softmax outer %d axis %d inner %-17d scalar %7.3f ms | avx2 %7.3f ms | x%.1f\n", outer, axis, inner,
           scalar, vec, scalar / vec);
    free(c.in);
    free(c.out);
}

typedef struct {
    float *src, *dst;
    size_t n;
} copy_case;

static void run_copy(void *p) {
    copy_case *c = p;
    memcpy(c->dst, c->src, c->n * sizeof(float));
    // Keeps the copy: the destination is never read otherwise.
    __asm__ volatile("" : : "r"(c->dst) : "memory");
}

/// memcpy of a buffer pair the size of a layer's input + output: the memory-bound floor.
static void bench_memcpy(const char *name, size_t bytes) {
    copy_case c = {random_buffer(bytes / 8), random_buffer(bytes / 8), bytes / 8};
    double ms = best_ms(run_copy, &c, 20);
    printf("%-44s %7.3f ms  %5.1f GB/s (read+write)\n", name, ms, (double)bytes / ms * 1e-6);
    free(c.src);
    free(c.dst);
}

typedef struct {
    ck_window win;
    float *in, *col;
    int rows;
} im2col_case;

static void run_im2col(void *p) {
    im2col_case *c = p;
    ck_im2col(c->in, c->col, &c->win, 0, c->rows);
}

/// im2col of the first `rows` column-matrix rows (a caller-sized panel of a dense conv).
static void bench_im2col(const char *name, int ch, int h, int w, int k, int s, int rows) {
    int pad = (k - 1) / 2;
    int oh = (h + 2 * pad - k) / s + 1, ow = (w + 2 * pad - k) / s + 1;
    im2col_case c = {{ch, h, w, oh, ow, k, k, s, s, pad, pad, 1, 1}, random_buffer((size_t)ch * h * w),
                     random_buffer((size_t)rows * oh * ow), rows};
    ck_set_dispatch(0);
    double scalar = best_ms(run_im2col, &c, 10);
    ck_set_dispatch(1);
    double vec = best_ms(run_im2col, &c, 10);
    double gb = (double)rows * oh * ow * 4 / 1e9;
    printf("%-44s scalar %7.3f ms %5.1f GB/s out | avx2 %7.3f ms %5.1f GB/s out\n", name, scalar, gb / scalar * 1e3,
           vec, gb / vec * 1e3);
    free(c.in);
    free(c.col);
}

typedef struct {
    int m, n, k;
    float *a, *packed_a, *b, *c, *bias, *scratch;
    ck_activation act;
} gemm_case;

static void run_gemm(void *p) {
    gemm_case *g = p;
    ck_gemm_packed(g->m, g->n, g->k, g->packed_a, g->b, g->n, g->c, g->n, g->bias, NULL, 0, g->act, 0, g->m,
                   0, g->n, g->scratch);
}

static void run_openblas(void *p) {
    gemm_case *g = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->m, g->n, g->k, 1.0f, g->a, g->k, g->b, g->n,
                0.0f, g->c, g->n);
}

static float *aligned_buffer(size_t n) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/// C = A*B of one layer (M output channels, K = input channels x taps, N pixels): ck_gemm_packed
/// without epilogue on each path (B packing included, A packed beforehand as at model load) and
/// with bias + ReLU6 fused, against cblas_sgemm with no epilogue.
static void bench_gemm(const char *name, int m, int k, int n) {
    gemm_case g = {m, n, k, random_buffer((size_t)m * k), NULL, random_buffer((size_t)k * n),
                   random_buffer((size_t)m * n), random_buffer((size_t)m), NULL, {CK_ACT_NONE, 0.0f, 0.0f}};
    g.packed_a = aligned_buffer(ck_gemm_packed_a_size(m, k));
    ck_gemm_pack_a(m, k, g.a, k, g.packed_a);
    g.scratch = aligned_buffer(ck_gemm_scratch_size(k));
    double flops = 2.0 * m * n * k;
    int reps = flops > 2e9 ? 3 : (flops > 2e8 ? 8 : 20);
    ck_set_dispatch(0);
    double scalar = best_ms(run_gemm, &g, flops > 2e9 ? 1 : 3);
    ck_set_dispatch(2);
    double avx2 = best_ms(run_gemm, &g, reps);
    ck_set_dispatch(1);
    double avx512 = best_ms(run_gemm, &g, reps);
    g.act = (ck_activation){CK_ACT_CLIP, 0.0f, 6.0f};
    double fused = best_ms(run_gemm, &g, reps);
    double blas = best_ms(run_openblas, &g, reps);
    printf("%-30s GFLOP/s scalar %6.1f | avx2 %6.1f | avx512 %6.1f (+bias+relu6 %6.1f) | openblas %6.1f | "
           "avx512/blas x%.2f avx2/blas x%.2f\n",
           name, flops / scalar * 1e-6, flops / avx2 * 1e-6, flops / avx512 * 1e-6, flops / fused * 1e-6,
           flops / blas * 1e-6, blas / avx512, blas / avx2);
    free(g.a);
    free(g.packed_a);
    free(g.b);
    free(g.c);
    free(g.bias);
    free(g.scratch);
}

typedef struct {
    ck_mix_tile_args args;
    ptrdiff_t pixels;
} mix_case;

static void run_mix(void *p) {
    mix_case *m = p;
    ck_mix_tile(&m->args, 0, m->pixels);
}

/// The fused mixture pass (CKMixtureTile.h) at the demo model's sizes (2 experts x 14 classes), per
/// build and per set of outputs, in ns per pixel: once over a 4096-pixel frame whose logits stay in
/// cache, once over a 512x256 frame whose 14.7 MB of logits come from memory.
static void bench_mixture(void) {
    const int experts = 2, classes = 14;
    const char *build_names[] = {"auto", "baseline", "avx2"};
    const struct {
        const char *name;
        int sets, variance, samples;
    } outputs[] = {{"prediction only", 0, 0, 0},   {"weighted", 2, 0, 0},         {"weighted + EV", 2, 1, 0},
                   {"stacked + weighted + EV", 3, 1, 0}, {"all sets + EV", 7, 1, 0}, {"stacked + weighted + EV, K=4", 3, 1, 4}};
    const ptrdiff_t sizes[] = {4096, 512 * 256};
    float mix[2 * 14], weighted[2] = {0.7f, 0.3f}, routing[4 * 2 * 14];
    for (int c = 0; c < classes; c++) {
        mix[c] = 0.7f;
        mix[classes + c] = 0.3f;
    }
    for (int i = 0; i < 4 * 2 * 14; i++) routing[i] = (i / classes) % 2 ? 0.4f : 0.6f;
    float *scratch = random_buffer(ck_mix_tile_scratch_floats(experts, classes));
    for (int size = 0; size < 2; size++) {
        const ptrdiff_t pixels = sizes[size];
        const float *logits[2] = {random_buffer((size_t)classes * pixels), random_buffer((size_t)classes * pixels)};
        for (int e = 0; e < 2; e++)
            for (ptrdiff_t i = 0; i < classes * pixels; i++) ((float *)logits[e])[i] *= 6.0f;
        float *maps = random_buffer(10 * (size_t)pixels);
        int32_t *prediction = malloc((size_t)pixels * sizeof(int32_t));
        printf("mixture pass, 2 experts x 14 classes, %td pixels%s, ns/pixel (auto / baseline / avx2):\n", pixels,
               size == 0 ? " (in cache)" : " (logits from memory)");
        for (size_t o = 0; o < sizeof outputs / sizeof outputs[0]; o++) {
            printf("  %-30s", outputs[o].name);
            for (int build = 0; build < 3; build++) {
                mix_case m = {.pixels = pixels};
                ck_mix_tile_args *a = &m.args;
                a->experts = experts;
                a->classes = classes;
                a->plane = pixels;
                a->expert_logits = logits;
                a->mix = mix;
                a->weighted = weighted;
                a->routing = routing;
                a->samples = outputs[o].samples;
                a->inverse_log_classes = 1.0f / 2.6390573f;
                a->prediction = prediction;
                if (outputs[o].sets & 1) a->pe_stacked = maps, a->mi_stacked = maps + pixels;
                if (outputs[o].sets & 2) a->pe_weighted = maps + 2 * pixels, a->mi_weighted = maps + 3 * pixels;
                if (outputs[o].sets & 4) a->pe_ensemble = maps + 4 * pixels, a->mi_ensemble = maps + 5 * pixels;
                if (outputs[o].variance) a->expert_variance = maps + 6 * pixels;
                if (outputs[o].samples) a->routing_pe = maps + 7 * pixels, a->routing_mi = maps + 8 * pixels;
                a->scratch = scratch;
                a->instruction_set = build;
                double ms = best_ms(run_mix, &m, size == 0 ? 200 : 15);
                printf(" %6.1f", ms * 1e6 / (double)pixels);
            }
            printf("\n");
        }
        free((void *)logits[0]);
        free((void *)logits[1]);
        free(maps);
        free(prediction);
    }
    free(scratch);
}

static void bench_gemms(void) {
    openblas_set_num_threads(1);
    bench_gemm("gemm M960 K160 N512", 960, 160, 512);
    bench_gemm("gemm M160 K960 N512", 160, 960, 512);
    bench_gemm("gemm M256 K960 N512 (LR-ASPP)", 256, 960, 512);
    bench_gemm("gemm M64 K16 N8192", 64, 16, 8192);
    bench_gemm("gemm M96 K576 N2048", 96, 576, 2048);
    bench_gemm("gemm M256 K2304 N512 (3x3)", 256, 2304, 512);
    bench_gemm("gemm M48 K24 N32768", 48, 24, 32768);
    bench_gemm("gemm M128 K2736 N8192 (3x3)", 128, 304 * 9, 8192);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "gemm") == 0) {
        bench_gemms();
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "mixture") == 0) {
        bench_mixture();
        return 0;
    }
    printf("ck_cpu_features() = %d (bit 1 = AVX2+FMA, bit 2 = AVX-512 path available)\n", ck_cpu_features());
    bench_memcpy("memcpy 9.4 MB (3x3 s1 layer in+out)", 2 * 144 * 64 * 128 * 4);
    bench_memcpy("memcpy 15.7 MB (3x3 s2 layer in+out)", 96 * (128 * 256 + 64 * 128) * 4);
    bench_memcpy("memcpy 0.5 MB (L2-resident)", 512 * 1024);
    bench_depthwise("dw 3x3 s1 16ch 64x128 (L2-resident)", 16, 64, 128, 3, 1, 1, CK_ACT_NONE);
    bench_depthwise("dw 3x3 s2 8ch 128x256 (L2-resident)", 8, 128, 256, 3, 2, 1, CK_ACT_NONE);
    bench_depthwise("dw 3x3 s1 144ch 64x128", 144, 64, 128, 3, 1, 1, CK_ACT_NONE);
    bench_depthwise("dw 3x3 s1 144ch 64x128 +ReLU6", 144, 64, 128, 3, 1, 1, CK_ACT_CLIP);
    bench_depthwise("dw 3x3 s2 96ch 128x256 -> 64x128", 96, 128, 256, 3, 2, 1, CK_ACT_NONE);
    bench_depthwise("dw 5x5 s1 120ch 32x64 +hardswish", 120, 32, 64, 5, 1, 1, CK_ACT_HARDSWISH);
    bench_depthwise("dw 5x5 s2 72ch 64x128 -> 32x64", 72, 64, 128, 5, 2, 1, CK_ACT_NONE);
    bench_depthwise("dw 5x5 s1 d2 960ch 16x32 +hardswish", 960, 16, 32, 5, 1, 2, CK_ACT_HARDSWISH);
    bench_depthwise("dw 3x3 s1 d4 960ch 16x32 (DeepLab rate)", 960, 16, 32, 3, 1, 4, CK_ACT_CLIP);
    bench_im2col("im2col 3x3 s1 304ch 64x128, rows 0..288", 304, 64, 128, 3, 1, 288);
    bench_im2col("im2col 3x3 s2 3ch 256x512 (stem), all 27 rows", 3, 256, 512, 3, 2, 27);
    bench_resize(19, 32, 64, 256, 512);
    bench_resize(21, 64, 128, 256, 512);
    bench_activation("sigmoid 1M values", CK_ACT_SIGMOID, 0, 0);
    bench_activation("hardswish 1M values", CK_ACT_HARDSWISH, 0, 0);
    bench_softmax(1, 19, 256 * 512);
    bench_softmax(1000, 19, 1);
    bench_gemms();
    bench_mixture();
    return 0;
}
