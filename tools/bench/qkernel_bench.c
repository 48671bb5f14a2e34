// Micro-benchmark of the int8 kernels (CKQuant.h) at the layer sizes of a DeepLabv3+ MobileNetV2
// on a 512x256 frame, single thread: ck_qgemm on each path (ck_set_dispatch 1 = AVX-512 VNNI,
// 2 = AVX-VNNI, 3 = plain AVX2, as far as the CPU has them) against the fp32 ck_gemm_packed
// (AVX-512 and AVX2) on the same M x K x N, both including their per-call B packing; then
// ck_qdepthwise_conv2d per path against the fp32 ck_depthwise_conv2d. GOP/s counts a
// multiply-add as 2 operations. Best of a few repetitions (the machine is shared, the minimum is
// the most stable figure). Build and run with `tools/bench/run.sh qkernels` (`qkernels gemm`,
// `qkernels dw` for one half; `qkernels small`: ms per call of the small-M/K GEMMs, the stem's
// im2col and the small-plane depthwise layers of the int8 demo expert; `qkernels resnet [1]`: ms per
// layer of ResNet50's large-K convolutions as QLinearConvOp issues them, `1` for the best path only).
#include "CKernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_timing.h"

static void *aligned_buffer(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

static unsigned g_seed = 12345u;
static unsigned next_rand(void) {
    g_seed = g_seed * 1664525u + 1013904223u;
    return g_seed >> 8;
}

static void fill_bytes(void *p, size_t n) {
    for (size_t i = 0; i < n; i++) ((uint8_t *)p)[i] = (uint8_t)next_rand();
}

static void fill_floats(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (float)next_rand() / 16777216.0f * 2.0f - 1.0f;
}

/// The int8 paths this CPU has: dispatch mode and name (filled in main).
static int g_qmodes[3], g_nq;
static const char *g_qnames[3];

typedef struct {
    int m, n, k;
    void *qa;           // packed int8 A
    uint8_t *qb, *qc;
    void *qscratch;
    int32_t *bias;
    float *scale;
    ck_requant rq;
    float *fa, *fb, *fc, *fbias, *fscratch;
} gemm_case;

static void run_qgemm(void *p) {
    gemm_case *g = p;
    ck_qgemm(g->m, g->n, g->k, g->qa, g->qb, g->n, 0, g->qc, g->n, &g->rq, 0, g->m, 0, g->n, g->qscratch);
}

static void run_fgemm(void *p) {
    gemm_case *g = p;
    ck_activation none = {CK_ACT_NONE, 0.0f, 0.0f};
    ck_gemm_packed(g->m, g->n, g->k, g->fa, g->fb, g->n, g->fc, g->n, g->fbias, NULL, 0, none, 0, g->m, 0, g->n,
                   g->fscratch);
}

static double g_sum_q512, g_sum_f512;   // summed times over the shapes (whole-network view)
static int g_ms;                          // `small` mode: int8 paths only, ms per call

static void bench_gemm(const char *name, int m, int k, int n) {
    gemm_case g;
    memset(&g, 0, sizeof g);
    g.m = m, g.n = n, g.k = k;
    int8_t *a = aligned_buffer((size_t)m * k);
    fill_bytes(a, (size_t)m * k);
    g.qa = aligned_buffer(ck_qgemm_packed_a_size(m, k));
    ck_qgemm_pack_a(m, k, a, k, g.qa);
    g.qb = aligned_buffer((size_t)k * n);
    fill_bytes(g.qb, (size_t)k * n);
    g.qc = aligned_buffer((size_t)m * n);
    g.qscratch = aligned_buffer(ck_qgemm_scratch_size(k));
    g.bias = aligned_buffer(sizeof(int32_t) * m);
    g.scale = aligned_buffer(sizeof(float) * m);
    for (int i = 0; i < m; i++) g.bias[i] = 1000 * (i % 7) - 3000, g.scale[i] = 1e-4f;
    g.rq = (ck_requant){g.bias, g.scale, 3, 0, 255, 0};
    float *fa = aligned_buffer(sizeof(float) * m * k);
    fill_floats(fa, (size_t)m * k);
    g.fa = aligned_buffer(sizeof(float) * ck_gemm_packed_a_size(m, k));
    ck_gemm_pack_a(m, k, fa, k, g.fa);
    g.fb = aligned_buffer(sizeof(float) * k * n);
    fill_floats(g.fb, (size_t)k * n);
    g.fc = aligned_buffer(sizeof(float) * m * n);
    g.fbias = aligned_buffer(sizeof(float) * m);
    fill_floats(g.fbias, (size_t)m);
    g.fscratch = aligned_buffer(sizeof(float) * ck_gemm_scratch_size(k));

    double ops = 2.0 * m * n * k;
    int reps = ops > 2e9 ? 3 : (ops > 2e8 ? 6 : 15);
    printf("%-34s", name);
    double q[3] = {0, 0, 0};
    for (int i = 0; i < g_nq; i++) {
        ck_set_dispatch(g_qmodes[i]);
        q[i] = best_ms(run_qgemm, &g, reps);
        printf(" %s %6.1f |", g_qnames[i], ops / q[i] * 1e-6);
    }
    if (g_ms) {
        for (int i = 0; i < g_nq; i++) printf(" %s %.4f ms |", g_qnames[i], q[i]);
        printf("\n");
        g_sum_q512 += q[0];
        free(a); free(g.qa); free(g.qb); free(g.qc); free(g.qscratch); free(g.bias); free(g.scale);
        free(fa); free(g.fa); free(g.fb); free(g.fc); free(g.fbias); free(g.fscratch);
        return;
    }
    ck_set_dispatch(1);
    double f512 = best_ms(run_fgemm, &g, reps);
    ck_set_dispatch(2);
    double f2 = best_ms(run_fgemm, &g, reps);
    ck_set_dispatch(1);
    printf(" fp32 avx512 %6.1f | fp32 avx2 %6.1f GOP/s | int8/fp32 x%.2f\n", ops / f512 * 1e-6, ops / f2 * 1e-6,
           f512 / q[0]);
    g_sum_q512 += q[0];
    g_sum_f512 += f512;
    free(a); free(g.qa); free(g.qb); free(g.qc); free(g.qscratch); free(g.bias); free(g.scale);
    free(fa); free(g.fa); free(g.fb); free(g.fc); free(g.fbias); free(g.fscratch);
}

typedef struct {
    ck_window win;
    uint8_t *in, *out;
    int8_t *w;
    int32_t *bias;
    float *scale;
    ck_requant rq;
    float *fin, *fw, *fb, *fout;
} dw_case;

static void run_qdw(void *p) {
    dw_case *c = p;
    ck_qparams q = {0.02f, 128, 0};
    ck_qdepthwise_conv2d(c->in, q, c->w, &c->rq, c->out, &c->win, 0, c->win.channels);
}

static void run_fdw(void *p) {
    dw_case *c = p;
    ck_activation none = {CK_ACT_NONE, 0.0f, 0.0f};
    ck_depthwise_conv2d(c->fin, c->fw, c->fb, NULL, c->fout, &c->win, 0, c->win.channels, none);
}

static void bench_dw(const char *name, int ch, int h, int w, int k, int s, int d) {
    int pad = (k - 1) / 2 * d;
    int oh = (h + 2 * pad - (k - 1) * d - 1) / s + 1, ow = (w + 2 * pad - (k - 1) * d - 1) / s + 1;
    dw_case c;
    memset(&c, 0, sizeof c);
    c.win = (ck_window){ch, h, w, oh, ow, k, k, s, s, pad, pad, d, d};
    size_t in_n = (size_t)ch * h * w, out_n = (size_t)ch * oh * ow;
    c.in = aligned_buffer(in_n);
    fill_bytes(c.in, in_n);
    c.out = aligned_buffer(out_n);
    c.w = aligned_buffer((size_t)ch * k * k);
    fill_bytes(c.w, (size_t)ch * k * k);
    c.bias = aligned_buffer(sizeof(int32_t) * ch);
    c.scale = aligned_buffer(sizeof(float) * ch);
    for (int i = 0; i < ch; i++) c.bias[i] = 100 * i, c.scale[i] = 2e-3f;
    c.rq = (ck_requant){c.bias, c.scale, 0, 0, 255, 0};
    c.fin = aligned_buffer(sizeof(float) * in_n);
    fill_floats(c.fin, in_n);
    c.fw = aligned_buffer(sizeof(float) * ch * k * k);
    fill_floats(c.fw, (size_t)ch * k * k);
    c.fb = aligned_buffer(sizeof(float) * ch);
    fill_floats(c.fb, (size_t)ch);
    c.fout = aligned_buffer(sizeof(float) * out_n);
    double ops = 2.0 * ch * oh * ow * k * k;
    printf("%-38s", name);
    if (g_ms) {
        for (int i = 0; i < g_nq; i++) {
            ck_set_dispatch(g_qmodes[i]);
            printf(" %s %.4f ms |", g_qnames[i], best_ms(run_qdw, &c, 30));
        }
        ck_set_dispatch(1);
        printf("\n");
        free(c.in); free(c.out); free(c.w); free(c.bias); free(c.scale);
        free(c.fin); free(c.fw); free(c.fb); free(c.fout);
        return;
    }
    ck_set_dispatch(0);
    double scalar = best_ms(run_qdw, &c, 3);
    printf(" scalar %5.1f |", ops / scalar * 1e-6);
    double q1 = 0;
    for (int i = 0; i < g_nq; i++) {
        ck_set_dispatch(g_qmodes[i]);
        double t = best_ms(run_qdw, &c, 10);
        if (i == 0) q1 = t;
        printf(" %s %5.1f |", g_qnames[i], ops / t * 1e-6);
    }
    ck_set_dispatch(1);
    double f = best_ms(run_fdw, &c, 10);
    printf(" fp32 avx2 %5.1f GOP/s | %s %.3f ms vs fp32 %.3f ms\n", ops / f * 1e-6, g_qnames[0], q1, f);
    free(c.in); free(c.out); free(c.w); free(c.bias); free(c.scale);
    free(c.fin); free(c.fw); free(c.fb); free(c.fout);
}

static void bench_gemms(void) {
    printf("ck_qgemm (u8 x s8 -> u8, B packed per call) vs fp32 ck_gemm_packed, GOP/s, one thread:\n");
    g_sum_q512 = g_sum_f512 = 0;
    bench_gemm("stem 3x3 s2 (im2col) M32 K27 N32768", 32, 27, 32768);
    bench_gemm("b0 project M16 K32 N32768", 16, 32, 32768);
    bench_gemm("b1 expand M96 K16 N32768", 96, 16, 32768);
    bench_gemm("b1 project M24 K96 N8192", 24, 96, 8192);
    bench_gemm("b2 expand M144 K24 N8192", 144, 24, 8192);
    bench_gemm("b3 project M32 K144 N2048", 32, 144, 2048);
    bench_gemm("b4 expand M192 K32 N2048", 192, 32, 2048);
    bench_gemm("b6 project M64 K192 N512", 64, 192, 512);
    bench_gemm("b7 expand M384 K64 N512", 384, 64, 512);
    bench_gemm("b10 project M96 K384 N512", 96, 384, 512);
    bench_gemm("b11 expand M576 K96 N512", 576, 96, 512);
    bench_gemm("b13 project M160 K576 N512", 160, 576, 512);
    bench_gemm("b14 expand M960 K160 N512", 960, 160, 512);
    bench_gemm("b16 project M320 K960 N512", 320, 960, 512);
    bench_gemm("ASPP 1x1 M256 K320 N512", 256, 320, 512);
    bench_gemm("decoder low-level M48 K24 N8192", 48, 24, 8192);
    bench_gemm("decoder 3x3 M48 K648 N8192", 48, (48 + 24) * 9, 8192);
    bench_gemm("large M256 K2304 N2048", 256, 2304, 2048);
    printf("sum over the shapes: %s %.2f ms, fp32 avx512 %.2f ms (x%.2f)\n", g_qnames[0], g_sum_q512, g_sum_f512,
           g_sum_f512 / g_sum_q512);
}

static void bench_dws(void) {
    printf("ck_qdepthwise_conv2d per path vs fp32 ck_depthwise_conv2d, GOP/s, one thread:\n");
    bench_dw("dw 3x3 s1 32ch 128x256", 32, 128, 256, 3, 1, 1);
    bench_dw("dw 3x3 s2 96ch 128x256 -> 64x128", 96, 128, 256, 3, 2, 1);
    bench_dw("dw 3x3 s1 144ch 64x128", 144, 64, 128, 3, 1, 1);
    bench_dw("dw 3x3 s2 144ch 64x128 -> 32x64", 144, 64, 128, 3, 2, 1);
    bench_dw("dw 3x3 s1 192ch 32x64", 192, 32, 64, 3, 1, 1);
    bench_dw("dw 3x3 s1 384ch 16x32", 384, 16, 32, 3, 1, 1);
    bench_dw("dw 3x3 s1 d2 960ch 16x32 (OS16)", 960, 16, 32, 3, 1, 2);
    bench_dw("dw 3x3 s1 d4 960ch 16x32", 960, 16, 32, 3, 1, 4);
    bench_dw("dw 5x5 s1 120ch 32x64", 120, 32, 64, 5, 1, 1);
    bench_dw("dw 5x5 s2 72ch 64x128 -> 32x64", 72, 64, 128, 5, 2, 1);
}

typedef struct {
    ck_window win;
    uint8_t *in, *col;
} im2col_case;

static void run_im2col(void *p) {
    im2col_case *c = p;
    ck_im2col_u8(c->in, c->col, &c->win, 0, c->win.channels * c->win.kernel_h * c->win.kernel_w, 7);
}

static void bench_im2col(const char *name, int ch, int h, int w, int k, int s) {
    int pad = (k - 1) / 2;
    int oh = (h + 2 * pad - k) / s + 1, ow = (w + 2 * pad - k) / s + 1;
    im2col_case c;
    c.win = (ck_window){ch, h, w, oh, ow, k, k, s, s, pad, pad, 1, 1};
    c.in = aligned_buffer((size_t)ch * h * w);
    fill_bytes(c.in, (size_t)ch * h * w);
    c.col = aligned_buffer((size_t)ch * k * k * oh * ow);
    printf("%-38s %.4f ms\n", name, best_ms(run_im2col, &c, 30));
    free(c.in); free(c.col);
}

/// The small-M / small-K layers of the int8 demo expert (MobileNetV2-0.35 DeepLabv3+), ms per call.
static void bench_small(void) {
    printf("ck_im2col_u8, one thread:\n");
    bench_im2col("stem im2col C3 3x3 s2 256x512", 3, 256, 512, 3, 2);
    printf("ck_qgemm small M/K (u8 B, packed per call), ms per call, one thread:\n");
    g_sum_q512 = 0;
    bench_gemm("stem M16 K27 N32768", 16, 27, 32768);
    bench_gemm("M16 K8 N8192", 16, 8, 8192);
    bench_gemm("M16 K16 N8192", 16, 16, 8192);
    bench_gemm("M24 K16 N8192", 24, 16, 8192);
    bench_gemm("M24 K24 N8192", 24, 24, 8192);
    bench_gemm("M32 K24 N8192", 32, 24, 8192);
    bench_gemm("M32 K32 N8192", 32, 32, 8192);
    bench_gemm("M16 K48 N8192", 16, 48, 8192);
    bench_gemm("M24 K48 N8192", 24, 48, 8192);
    bench_gemm("M32 K48 N8192", 32, 48, 8192);
    bench_gemm("M48 K24 N8192", 48, 24, 8192);
    bench_gemm("M48 K96 N2048", 48, 96, 2048);
    printf("sum %s %.3f ms\n", g_qnames[0], g_sum_q512);
    printf("ck_qdepthwise_conv2d small planes, ms per call, one thread:\n");
    bench_dw("dw 3x3 s1 16ch 128x256", 16, 128, 256, 3, 1, 1);
    bench_dw("dw 3x3 s2 48ch 128x256 -> 64x128", 48, 128, 256, 3, 2, 1);
    bench_dw("dw 3x3 s1 48ch 64x128", 48, 64, 128, 3, 1, 1);
    bench_dw("dw 3x3 s2 48ch 64x128 -> 32x64", 48, 64, 128, 3, 2, 1);
    bench_dw("dw 3x3 s1 96ch 32x64", 96, 32, 64, 3, 1, 1);
    bench_dw("dw 3x3 s2 96ch 32x64 -> 16x32", 96, 32, 64, 3, 2, 1);
    bench_dw("dw 3x3 s1 192ch 16x32", 192, 16, 32, 3, 1, 1);
    bench_dw("dw 3x3 s1 16ch 16x32", 16, 16, 32, 3, 1, 1);
    bench_dw("dw 3x3 d6 112ch 16x32 (ASPP)", 112, 16, 32, 3, 1, 6);
    bench_dw("dw 3x3 d12 112ch 16x32 (ASPP)", 112, 16, 32, 3, 1, 12);
    bench_dw("dw 3x3 d18 112ch 16x32 (ASPP)", 112, 16, 32, 3, 1, 18);
}

/// ResNet50 layers as QLinearConvOp.runIm2col issues them: M x K x N in calls of `cols` columns
/// (tileRows rows of outW: about 2^20 / K columns, at least 256), B a K x cols im2col buffer
/// (ldb = cols), C at column offset of the full M x N output (ldc = N); cols == N is one call.
typedef struct {
    int m, n, k, cols;
    void *qa;
    uint8_t *qb, *qc;
    void *qscratch;
    ck_requant rq;
} tiled_case;

static void run_tiled(void *p) {
    tiled_case *g = p;
    for (int j0 = 0; j0 < g->n; j0 += g->cols) {
        int cols = g->n - j0 < g->cols ? g->n - j0 : g->cols;
        ck_qgemm(g->m, cols, g->k, g->qa, g->qb, cols, 0, g->qc + j0, g->n, &g->rq, 0, g->m, 0, cols, g->qscratch);
    }
}

static void bench_tiled(const char *name, int m, int k, int n, int cols) {
    tiled_case g;
    g.m = m, g.n = n, g.k = k, g.cols = cols;
    int8_t *a = aligned_buffer((size_t)m * k);
    fill_bytes(a, (size_t)m * k);
    g.qa = aligned_buffer(ck_qgemm_packed_a_size(m, k));
    ck_qgemm_pack_a(m, k, a, k, g.qa);
    g.qb = aligned_buffer((size_t)k * cols);
    fill_bytes(g.qb, (size_t)k * cols);
    g.qc = aligned_buffer((size_t)m * n);
    g.qscratch = aligned_buffer(ck_qgemm_scratch_size(k));
    int32_t *bias = aligned_buffer(sizeof(int32_t) * m);
    float *scale = aligned_buffer(sizeof(float) * m);
    for (int i = 0; i < m; i++) bias[i] = 1000 * (i % 7) - 3000, scale[i] = 1e-5f;
    g.rq = (ck_requant){bias, scale, 3, 0, 255, 0};
    double ops = 2.0 * m * n * k;
    printf("%-44s", name);
    for (int i = 0; i < g_nq; i++) {
        ck_set_dispatch(g_qmodes[i]);
        double t = best_ms(run_tiled, &g, 7);
        printf(" %s %8.3f ms %6.1f GOP/s |", g_qnames[i], t, ops / t * 1e-6);
    }
    ck_set_dispatch(1);
    printf("\n");
    free(a); free(g.qa); free(g.qb); free(g.qc); free(g.qscratch); free(bias); free(scale);
}

static void bench_resnet(void) {
    printf("ck_qgemm ResNet50 layers (u8 B), ms per layer, one thread:\n");
    bench_tiled("M512 K18432 N2048, 64-col calls ldc 2048", 512, 18432, 2048, 64);
    bench_tiled("M512 K18432 N2048, 256-col calls", 512, 18432, 2048, 256);
    bench_tiled("M512 K4608 N2048, 256-col calls", 512, 4608, 2048, 256);
    bench_tiled("M512 K2048 N2048, one call", 512, 2048, 2048, 2048);
    bench_tiled("M512 K1024 N2048, one call", 512, 1024, 2048, 2048);
    bench_tiled("M512 K18432 N2048, one call", 512, 18432, 2048, 2048);
    bench_tiled("M256 K2304 N2048, 448-col calls", 256, 2304, 2048, 448);
    bench_tiled("M256 K2304 N2048, one call", 256, 2304, 2048, 2048);
    bench_tiled("M512 K4608 N512, 224-col calls", 512, 4608, 512, 224);
    bench_tiled("M512 K4608 N512, one call", 512, 4608, 512, 512);
}

int main(int argc, char **argv) {
    printf("ck_cpu_features() = %d (1 AVX2+FMA, 2 AVX-512, 4 AVX-512 VNNI, 8 AVX-VNNI)\n", ck_cpu_features());
    // Distinct int8 paths, best first.
    const int modes[3] = {1, 2, 3};
    for (int i = 0; i < 3; i++) {
        ck_set_dispatch(modes[i]);
        const char *name = ck_qgemm_path();
        if (g_nq > 0 && strcmp(name, g_qnames[g_nq - 1]) == 0) continue;
        g_qmodes[g_nq] = modes[i];
        g_qnames[g_nq++] = name;
    }
    ck_set_dispatch(1);
    if (argc >= 2 && strcmp(argv[1], "small") == 0) {
        g_ms = 1;
        bench_small();
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "resnet") == 0) {
        if (argc >= 3) g_nq = 1;   // `resnet 1`: the best path only
        bench_resnet();
        return 0;
    }
    int gemm = argc < 2 || strcmp(argv[1], "gemm") == 0, dw = argc < 2 || strcmp(argv[1], "dw") == 0;
    if (gemm) bench_gemms();
    if (dw) bench_dws();
    return 0;
}
