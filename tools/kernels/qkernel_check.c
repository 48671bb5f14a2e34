// Bit-exactness check of every int8 kernel path (CKQuant.h) against the scalar reference
// (QuantScalar.c), on random shapes and on the edge cases the SIMD paths could get wrong: m not a
// multiple of 8, k not a multiple of 4, column tails, sub-ranges, int8/uint8 inputs and outputs,
// narrowed qmin/qmax, all-extreme operands with k = 4096 and 16384 (no int16 saturation), depthwise 3x3 /
// 5x5 (and other sizes) with strides, dilations, paddings, tiny images and channel ranges,
// quantisation ties, NaN and huge values. Each path is reached through ck_set_dispatch (0 =
// scalar, 1 = automatic, 2 = no AVX-512, 3 = AVX2 without VNNI); outputs outside the requested
// ranges and the bytes after the scratch must stay untouched. Exits 1 on any mismatch.
//
// Build and run from the repository root (clang: MixtureTile.c needs its vector extensions):
//   clang -O2 -fno-math-errno -D_GNU_SOURCE -ISources/CKernels/include -ISources/CKernels Sources/CKernels/*.c tools/kernels/qkernel_check.c -lm -o /tmp/qkernel_check && /tmp/qkernel_check
#include "Internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------------------------
// Helpers

static uint64_t g_state = 0x1234567ULL;
static uint64_t next_u64(void) {
    g_state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = g_state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static int rnd(int lo, int hi) { return lo + (int)(next_u64() % (uint64_t)(hi - lo + 1)); }
static float rndf(float lo, float hi) { return lo + (hi - lo) * (float)(next_u64() >> 40) / 16777216.0f; }
static int pick(const int *v, int n) { return v[rnd(0, n - 1)]; }

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void *xaligned(size_t n) {
    void *p = aligned_alloc(64, (n + 63) / 64 * 64 + 64);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/// Bytes after each output buffer that must stay untouched.
#define GUARD 64

#define NMODES 4
static const int k_modes[NMODES] = {0, 1, 2, 3};
static const char *g_mode_names[NMODES];

typedef struct {
    const char *name;
    long cases[NMODES], bad[NMODES];
} tally;

enum { T_GEMM, T_GEMM_SPLIT, T_GEMM_EXTREME, T_DW, T_QUANT, T_DEQUANT, T_QADD, T_REQUANT, T_AVGPOOL, T_IM2COL, T_CONV,
       T_MAXPOOL, T_RESIZE, T_COUNT };
static const char *const k_test_names[T_COUNT] = {"qgemm",    "qgemm split", "qgemm extreme", "qdepthwise",     "quantize",
                                                 "dequantize", "qadd",       "qrequantize",   "qglobal_avgpool",
                                                 "im2col_u8",  "qgemm_conv",  "maxpool2d_q8", "resize_bilinear_q8"};
static tally g_tally[T_COUNT];
static int g_reported = 0;

/// Records one comparison; prints the first few mismatches with their context.
static void record(int test, int mode_index, const void *got, const void *want, size_t bytes, const char *what) {
    g_tally[test].cases[mode_index]++;
    if (memcmp(got, want, bytes) == 0) return;
    g_tally[test].bad[mode_index]++;
    if (g_reported++ < 20) {
        size_t i = 0;
        while (((const uint8_t *)got)[i] == ((const uint8_t *)want)[i]) i++;
        fprintf(stderr, "MISMATCH %s [%s] %s: first differing byte %zu: got 0x%02x want 0x%02x\n", g_tally[test].name,
                g_mode_names[mode_index], what, i, ((const uint8_t *)got)[i], ((const uint8_t *)want)[i]);
    }
}

// ---------------------------------------------------------------------------------------------
// GEMM

typedef struct {
    int m, n, k, lda, ldb, ldc, b_signed, out_signed;
    int m0, m1, n0, n1;
    int8_t *a;
    uint8_t *b;
    int32_t *bias;
    float *scale;
    ck_requant rq;
} gemm_case;

static void gemm_free(gemm_case *g) {
    free(g->a);
    free(g->b);
    free(g->bias);
    free(g->scale);
}

/// A random problem; `fill` 0 = random operands, otherwise all A = fill_a and all B = fill_b.
static gemm_case gemm_make(int m, int n, int k, int sub, int narrow, int fill, int fill_a, int fill_b) {
    gemm_case g;
    memset(&g, 0, sizeof g);
    g.m = m, g.n = n, g.k = k;
    g.lda = k + rnd(0, 3);
    g.ldb = n + (rnd(0, 2) ? 0 : rnd(1, 70));
    g.ldc = n + (rnd(0, 2) ? 0 : rnd(1, 9));
    g.b_signed = rnd(0, 1);
    g.out_signed = rnd(0, 1);
    g.m0 = 0, g.m1 = m, g.n0 = 0, g.n1 = n;
    if (sub) {
        g.m0 = rnd(0, m - 1), g.m1 = rnd(g.m0 + 1, m);
        g.n0 = rnd(0, n - 1), g.n1 = rnd(g.n0 + 1, n);
    }
    g.a = xmalloc((size_t)m * (size_t)g.lda);
    g.b = xmalloc((size_t)k * (size_t)g.ldb);
    g.bias = xmalloc(sizeof(int32_t) * (size_t)m);
    g.scale = xmalloc(sizeof(float) * (size_t)m);
    for (size_t i = 0; i < (size_t)m * (size_t)g.lda; i++) g.a[i] = fill ? (int8_t)fill_a : (int8_t)rnd(-128, 127);
    for (size_t i = 0; i < (size_t)k * (size_t)g.ldb; i++) g.b[i] = fill ? (uint8_t)fill_b : (uint8_t)rnd(0, 255);
    // Scales that spread the typical |acc| ~ sqrt(k) * 128 * 74 over the output range, with
    // some saturation on both ends.
    float typical = sqrtf((float)k) * 128.0f * 74.0f;
    for (int i = 0; i < m; i++) {
        g.bias[i] = rnd(-1, 1) * rnd(0, 1 << 20);
        g.scale[i] = rndf(20.0f, 300.0f) / typical;
    }
    int lo = g.out_signed ? -128 : 0, hi = g.out_signed ? 127 : 255;
    g.rq.bias = g.bias;
    g.rq.scale = g.scale;
    g.rq.zero_point = rnd(lo, hi);
    g.rq.qmin = lo;
    g.rq.qmax = hi;
    if (narrow) {
        // A fused Relu (qmin = zero point) or Relu6-like clip.
        g.rq.qmin = g.rq.zero_point;
        if (narrow > 1) g.rq.qmax = ck_min_int(hi, g.rq.zero_point + rnd(1, 120));
    }
    g.rq.out_signed = g.out_signed;
    return g;
}

static void gemm_describe(const gemm_case *g, char *buf, size_t len) {
    snprintf(buf, len, "M%d N%d K%d lda %d ldb %d ldc %d rows %d..%d cols %d..%d b_signed %d out_signed %d zp %d q[%d,%d]",
             g->m, g->n, g->k, g->lda, g->ldb, g->ldc, g->m0, g->m1, g->n0, g->n1, g->b_signed, g->out_signed,
             g->rq.zero_point, g->rq.qmin, g->rq.qmax);
}

/// Runs the case on every mode (whole ranges, or split into blocks like threads) and compares the
/// whole C buffer and the scratch guard against the reference.
static void gemm_check(gemm_case *g, int test, int split) {
    size_t packed_size = ck_qgemm_packed_a_size(g->m, g->k);
    void *packed = xaligned(packed_size);
    ck_qgemm_pack_a(g->m, g->k, g->a, g->lda, packed);
    size_t c_bytes = (size_t)g->m * (size_t)g->ldc + GUARD;   // + a guard against overruns
    uint8_t *want = xmalloc(c_bytes), *got = xmalloc(c_bytes);
    memset(want, 0xA5, c_bytes);
    ck_qgemm_scalar(g->m, g->n, g->k, packed, g->b, g->ldb, g->b_signed, want, g->ldc, &g->rq, g->m0, g->m1, g->n0,
                    g->n1);
    size_t scratch_size = ck_qgemm_scratch_size(g->k);
    uint8_t *scratch = xaligned(scratch_size + 64);
    char desc[256];
    gemm_describe(g, desc, sizeof desc);
    for (int mi = 0; mi < NMODES; mi++) {
        ck_set_dispatch(k_modes[mi]);
        memset(got, 0xA5, c_bytes);
        memset(scratch + scratch_size, 0x5A, 64);
        if (!split) {
            ck_qgemm(g->m, g->n, g->k, packed, g->b, g->ldb, g->b_signed, got, g->ldc, &g->rq, g->m0, g->m1, g->n0,
                     g->n1, scratch);
        } else {
            // Arbitrary row and column cuts, as a caller's threads would make.
            int mc = rnd(g->m0, g->m1), nc1 = rnd(g->n0, g->n1), nc2 = rnd(nc1, g->n1);
            int rows[3] = {g->m0, mc, g->m1}, cols[4] = {g->n0, nc1, nc2, g->n1};
            for (int r = 0; r < 2; r++)
                for (int c = 0; c < 3; c++)
                    ck_qgemm(g->m, g->n, g->k, packed, g->b, g->ldb, g->b_signed, got, g->ldc, &g->rq, rows[r],
                             rows[r + 1], cols[c], cols[c + 1], scratch);
        }
        record(test, mi, got, want, c_bytes, desc);
        for (int i = 0; i < 64; i++)
            if (scratch[scratch_size + i] != 0x5A) {
                g_tally[test].bad[mi]++;
                fprintf(stderr, "SCRATCH OVERRUN [%s] %s\n", g_mode_names[mi], desc);
                break;
            }
    }
    ck_set_dispatch(1);
    free(packed);
    free(want);
    free(got);
    free(scratch);
}

static void gemm_tests(void) {
    static const int ks[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 27, 31, 32, 33, 48, 63, 64, 96, 144, 192, 288, 576, 1000, 2305};
    static const int ms[] = {1, 2, 3, 5, 7, 8, 9, 13, 15, 16, 17, 24, 31, 33, 47};
    // Random shapes, whole and sub-ranges, full and narrowed output ranges.
    for (int it = 0; it < 700; it++) {
        int k = it < 600 ? pick(ks, (int)(sizeof ks / sizeof ks[0])) : rnd(1, 3000);
        int m = pick(ms, (int)(sizeof ms / sizeof ms[0]));
        int n = rnd(1, 100);
        if (it % 50 == 0) n = rnd(100, 2200);  // several column blocks (K permitting)
        if ((size_t)m * (size_t)n * (size_t)k > 40000000) n = ck_max_int(1, (int)(40000000 / ((size_t)m * (size_t)k)));
        gemm_case g = gemm_make(m, n, k, it % 3 == 1, it % 4 == 3 ? rnd(1, 2) : 0, 0, 0, 0);
        gemm_check(&g, T_GEMM, 0);
        gemm_free(&g);
    }
    // Column tails 1..100 for a few K, every row count 1..17.
    for (int n = 1; n <= 100; n++) {
        gemm_case g = gemm_make(rnd(1, 17), n, pick(ks, 12), 0, 0, 0, 0, 0);
        gemm_check(&g, T_GEMM, 0);
        gemm_free(&g);
    }
    // Shapes of real layers, with multi-block columns (K = 2880 leaves 176 columns a block on
    // AVX-512, so 700 columns take several).
    static const int layers[][3] = {{16, 700, 2880}, {48, 333, 648}, {96, 1500, 16}, {320, 100, 960}, {24, 2049, 144},
                                    {9, 700, 1100}, {3, 650, 600}};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        gemm_case g = gemm_make(layers[i][0], layers[i][1], layers[i][2], i % 2, 0, 0, 0, 0);
        gemm_check(&g, T_GEMM, 0);
        gemm_free(&g);
    }
    // Small K, many columns (the stem's im2col GEMM and the pointwise layers at 64x128 / 32x64),
    // whole, sub-ranges and the 48-column thread splits; then rows whose requantisation can leave
    // the int32 range (huge, infinite or NaN scales, which the SIMD paths' fast epilogues must
    // leave to their general one).
    static const int small_ks[] = {1, 3, 8, 16, 24, 27, 32, 48, 63, 64, 65};
    for (int it = 0; it < 60; it++) {
        int k = pick(small_ks, (int)(sizeof small_ks / sizeof small_ks[0]));
        gemm_case g = gemm_make(rnd(1, 33), rnd(1500, 5000), k, it % 3 == 1, it % 4 == 3 ? rnd(1, 2) : 0, 0, 0, 0);
        if (it % 3 == 2) {   // a thread's share: columns [48a, 48b)
            int blocks = (g.n + 47) / 48, a0 = rnd(0, blocks - 1), a1 = rnd(a0 + 1, blocks);
            g.m0 = 0, g.m1 = g.m, g.n0 = 48 * a0, g.n1 = ck_min_int(g.n, 48 * a1);
        }
        gemm_check(&g, T_GEMM, 0);
        gemm_free(&g);
    }
    static const float odd_scales[] = {1e6f, 3e9f, 1e30f, INFINITY, -INFINITY, NAN, -1e7f};
    for (int it = 0; it < 80; it++) {
        int k = it % 2 ? pick(small_ks, (int)(sizeof small_ks / sizeof small_ks[0])) : pick(ks, (int)(sizeof ks / sizeof ks[0]));
        int n = rnd(1, 300);
        if ((size_t)k * (size_t)n > 4000000) n = 4000000 / k;
        gemm_case g = gemm_make(rnd(1, 20), n, k, it % 3 == 1, it % 4 == 3 ? rnd(1, 2) : 0, 0, 0, 0);
        g.scale[rnd(0, g.m - 1)] = odd_scales[it % (int)(sizeof odd_scales / sizeof odd_scales[0])];
        if (it % 5 == 0) g.bias[rnd(0, g.m - 1)] = 2000000000;
        gemm_check(&g, T_GEMM, 0);
        gemm_free(&g);
    }
    // The AVX-512 path's K-blocked driver (k4 > 2048): several K blocks (uneven, and k not a
    // multiple of 4), more rows than one chunk of int32 sums (512), several 256-column blocks, and
    // row / column sub-ranges off the 4-row and 64-column boundaries.
    static const int kblocked[][3] = {{600, 300, 2052}, {33, 520, 4608}, {9, 257, 18432}, {520, 70, 6001}, {64, 256, 4100}, {5, 3, 2049}};
    for (size_t i = 0; i < sizeof kblocked / sizeof kblocked[0]; i++) {
        for (int sub = 0; sub < 2; sub++) {
            gemm_case g = gemm_make(kblocked[i][0], kblocked[i][1], kblocked[i][2], i % 2, i % 3 == 2, 0, 0, 0);
            if (sub) g.m0 = g.m / 3 | 1, g.m1 = g.m - g.m / 5, g.n0 = g.n / 4, g.n1 = g.n - g.n / 7;
            gemm_check(&g, T_GEMM, 0);
            gemm_free(&g);
        }
    }
    // Larger K (the 4 x 64 tiles over K blocks of up to 2048, 5 blocks at 9000 * 4).
    for (int it = 0; it < 6; it++) {
        gemm_case g = gemm_make(rnd(1, 20), rnd(1, 150), rnd(8193 * 4 - 3, 9000 * 4), it % 2, it % 3 == 2, 0, 0, 0);
        gemm_check(&g, T_GEMM, 0);
        gemm_free(&g);
    }
    // Blocks split at arbitrary boundaries equal one call.
    for (int it = 0; it < 120; it++) {
        gemm_case g = gemm_make(rnd(2, 40), rnd(2, 300), rnd(1, 700), it % 2, it % 5 == 0, 0, 0, 0);
        gemm_check(&g, T_GEMM_SPLIT, 1);
        gemm_free(&g);
    }
    // Extremes with k = 4096: |acc| = 128 * 255 * 4096 needs int32, any int16 pair sum would
    // saturate. Every sign combination of A and (flipped) B.
    // The last repetition uses k = 16384, whose sums cross 8 K blocks (|acc| up to 5.3e8).
    static const int fills[][3] = {{-128, 255, 0}, {127, 255, 0}, {-128, 0x7F, 1}, {127, 0x7F, 1}, {-128, 0x80, 1}, {127, 0, 0}};
    for (size_t i = 0; i < sizeof fills / sizeof fills[0]; i++) {
        for (int rep = 0; rep < 5; rep++) {
            int kx = rep == 4 ? 16384 : 4096;
            gemm_case g = gemm_make(rnd(1, 20), rnd(1, 130), kx, rep == 3, 0, 1, fills[i][0], fills[i][1]);
            g.b_signed = fills[i][2];
            for (int r = 0; r < g.m; r++) {
                g.bias[r] = 0;
                g.scale[r] = 100.0f / (128.0f * 255.0f * (float)kx);   // acc -> about +-100
            }
            gemm_check(&g, T_GEMM_EXTREME, 0);
            // The reference itself: every element is zp + round(acc * scale), clamped.
            gemm_free(&g);
        }
    }
    // The closed form of one extreme case, to show the reference (and so every path) is exact.
    {
        gemm_case g = gemm_make(8, 16, 4096, 0, 0, 1, -128, 255);
        g.b_signed = 0;
        g.out_signed = 1;
        g.rq.out_signed = 1;
        g.rq.zero_point = 0;
        g.rq.qmin = -128;
        g.rq.qmax = 127;
        for (int r = 0; r < 8; r++) g.bias[r] = 0, g.scale[r] = 1.0f / 1048576.0f;   // -133693440 / 2^20 = -127.5
        void *packed = xaligned(ck_qgemm_packed_a_size(8, 4096));
        ck_qgemm_pack_a(8, 4096, g.a, g.lda, packed);
        void *scratch = xaligned(ck_qgemm_scratch_size(4096));
        for (int mi = 0; mi < NMODES; mi++) {
            int8_t c[8 * 200];
            ck_set_dispatch(k_modes[mi]);
            ck_qgemm(8, 16, 4096, packed, g.b, g.ldb, 0, c, g.ldc, &g.rq, 0, 8, 0, 16, scratch);
            int8_t expect = -128;   // round_half_even(-127.5) = -128
            g_tally[T_GEMM_EXTREME].cases[mi]++;
            for (int r = 0; r < 8; r++)
                for (int j = 0; j < 16; j++)
                    if (c[r * g.ldc + j] != expect) {
                        g_tally[T_GEMM_EXTREME].bad[mi]++;
                        fprintf(stderr, "EXTREME closed form [%s]: got %d want %d\n", g_mode_names[mi], c[r * g.ldc + j], expect);
                        r = 8;
                        break;
                    }
        }
        ck_set_dispatch(1);
        free(packed);
        free(scratch);
        gemm_free(&g);
    }
}

// ---------------------------------------------------------------------------------------------
// Depthwise

static int out_len(int size, int kernel, int stride, int dilation, int pad_begin, int pad_end) {
    int span = size + pad_begin + pad_end - ((kernel - 1) * dilation + 1);
    return span < 0 ? 0 : span / stride + 1;
}

static void dw_case(int C, int H, int W, int KH, int KW, int sh, int sw, int dh, int dw, int pt, int pb, int pl,
                    int pr, int in_signed, int zp_in, int narrow, int sub) {
    ck_window g;
    g.channels = C, g.in_h = H, g.in_w = W;
    g.out_h = out_len(H, KH, sh, dh, pt, pb);
    g.out_w = out_len(W, KW, sw, dw, pl, pr);
    if (g.out_h <= 0 || g.out_w <= 0) return;
    g.kernel_h = KH, g.kernel_w = KW, g.stride_h = sh, g.stride_w = sw, g.pad_top = pt, g.pad_left = pl;
    g.dilation_h = dh, g.dilation_w = dw;
    size_t in_n = (size_t)C * H * W, out_n = (size_t)C * g.out_h * g.out_w + GUARD;
    uint8_t *in = xmalloc(in_n), *want = xmalloc(out_n), *got = xmalloc(out_n);
    int8_t *w = xmalloc((size_t)C * KH * KW);
    int32_t *bias = xmalloc(sizeof(int32_t) * C);
    float *scale = xmalloc(sizeof(float) * C);
    for (size_t i = 0; i < in_n; i++) in[i] = (uint8_t)rnd(0, 255);
    for (int i = 0; i < C * KH * KW; i++) w[i] = (int8_t)rnd(-128, 127);
    int out_signed = rnd(0, 1), lo = out_signed ? -128 : 0, hi = out_signed ? 127 : 255;
    for (int c = 0; c < C; c++) {
        bias[c] = rnd(-20000, 20000);
        scale[c] = rndf(0.5f, 8.0f) / (sqrtf((float)(KH * KW)) * 128.0f * 80.0f);
    }
    ck_requant rq = {bias, scale, rnd(lo, hi), lo, hi, out_signed};
    if (narrow) rq.qmin = rq.zero_point, rq.qmax = ck_min_int(hi, rq.zero_point + rnd(1, 100));
    ck_qparams q = {0.05f, zp_in, in_signed};
    int c0 = 0, c1 = C;
    if (sub) c0 = rnd(0, C - 1), c1 = rnd(c0 + 1, C);
    memset(want, 0xA5, out_n);
    ck_qdepthwise_conv2d_scalar(in, q, w, &rq, want, &g, c0, c1);
    char desc[256];
    snprintf(desc, sizeof desc, "C%d %dx%d k%dx%d s%d,%d d%d,%d pads t%d l%d b%d r%d -> %dx%d ch %d..%d in_signed %d zp %d q[%d,%d] out_signed %d",
             C, H, W, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, g.out_h, g.out_w, c0, c1, in_signed, zp_in, rq.qmin,
             rq.qmax, out_signed);
    for (int mi = 0; mi < NMODES; mi++) {
        ck_set_dispatch(k_modes[mi]);
        memset(got, 0xA5, out_n);
        ck_qdepthwise_conv2d(in, q, w, &rq, got, &g, c0, c1);
        record(T_DW, mi, got, want, out_n, desc);
    }
    ck_set_dispatch(1);
    free(in);
    free(want);
    free(got);
    free(w);
    free(bias);
    free(scale);
}

static void dw_tests(void) {
    static const int sizes[] = {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 40, 64, 65, 100, 129};
    static const int dils[] = {1, 1, 2, 4};
    const int nsizes = (int)(sizeof sizes / sizeof sizes[0]);
    for (int it = 0; it < 1500; it++) {
        int k = it % 2 ? 5 : 3;
        int KH = k, KW = k;
        if (it % 10 == 9) {
            // Other kernel sizes: the generic SIMD row kernel or the scalar fallback.
            static const int other[][2] = {{1, 1}, {3, 1}, {1, 3}, {7, 7}, {3, 5}, {2, 2}, {9, 9}};
            int o = rnd(0, 6);
            KH = other[o][0], KW = other[o][1];
        }
        int sh = rnd(1, 2), sw = rnd(1, 2);
        if (it % 17 == 0) sh = rnd(1, 4), sw = rnd(3, 4);
        int dh = pick(dils, 4), dw = pick(dils, 4);
        int H = pick(sizes, nsizes), W = pick(sizes, nsizes);
        if (it % 7 == 0) H = rnd(1, 3), W = rnd(1, 3);
        int pt = rnd(0, (KH - 1) * dh), pb = rnd(0, (KH - 1) * dh), pl = rnd(0, (KW - 1) * dw), pr = rnd(0, (KW - 1) * dw);
        int in_signed = rnd(0, 1);
        int zp = in_signed ? rnd(-128, 127) : rnd(0, 255);
        if (it % 53 == 0) zp = rnd(-1000, 1000);          // odd but still int16-safe
        if (it % 211 == 0) zp = 40000;                      // outside the SIMD paths' range: fallback
        int C = it % 5 == 0 ? rnd(1, 3) : rnd(1, 12);
        dw_case(C, H, W, KH, KW, sh, sw, dh, dw, pt, pb, pl, pr, in_signed, zp, it % 6 == 5, it % 3 == 1);
    }
    // Planes too large to stage whole (the ring of rows), with every stride and dilation.
    for (int it = 0; it < 80; it++) {
        int k = it % 2 ? 5 : 3, sh = rnd(1, 2), sw = rnd(1, 2), dh = pick(dils, 4), dw = pick(dils, 4);
        int H = rnd(60, 140), W = rnd(100, 400), in_signed = rnd(0, 1);
        dw_case(rnd(1, 2), H, W, k, k, sh, sw, dh, dw, rnd(0, (k - 1) * dh), rnd(0, (k - 1) * dh), rnd(0, (k - 1) * dw),
                rnd(0, (k - 1) * dw), in_signed, in_signed ? rnd(-128, 127) : rnd(0, 255), it % 4 == 3, it % 3 == 1);
    }
    // Negative top/left padding (windows starting inside the image, as a row-tiling caller makes).
    for (int it = 0; it < 40; it++) {
        int k = it % 2 ? 5 : 3, in_signed = rnd(0, 1);
        dw_case(rnd(1, 3), rnd(5, 40), rnd(5, 70), k, k, rnd(1, 2), rnd(1, 2), rnd(1, 2), rnd(1, 2), -rnd(0, 3), rnd(0, 2),
                -rnd(0, 3), rnd(0, 2), in_signed, in_signed ? rnd(-128, 127) : rnd(0, 255), 0, it % 2);
    }
    // DeepLab-like geometries: "same" padding, dilation 2 and 4, wide rows (several chunks).
    dw_case(8, 16, 32, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 0, 128, 0, 0);
    dw_case(8, 16, 32, 3, 3, 1, 1, 4, 4, 4, 4, 4, 4, 1, -3, 1, 1);
    dw_case(4, 20, 3000, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 7, 0, 0);
    dw_case(4, 20, 3000, 5, 5, 1, 2, 1, 1, 2, 2, 2, 2, 1, 0, 0, 0);
    dw_case(3, 40, 700, 3, 3, 1, 1, 18, 18, 18, 18, 18, 18, 0, 100, 0, 0);
    dw_case(3, 8, 9, 5, 5, 2, 2, 4, 4, 8, 8, 8, 8, 0, 255, 0, 0);
}

// ---------------------------------------------------------------------------------------------
// Element-wise

static float special_float(void) {
    static const float v[] = {0.0f, -0.0f, 1e30f, -1e30f, 3.4e38f, -3.4e38f, 1e-40f, -1e-40f, 2147483648.0f, -2147483904.0f};
    int i = rnd(0, 12);
    if (i < 10) return v[i];
    if (i == 10) return INFINITY;
    if (i == 11) return -INFINITY;
    return NAN;
}

static ck_qparams rand_params(void) {
    ck_qparams p;
    p.is_signed = rnd(0, 1);
    p.zero_point = p.is_signed ? rnd(-128, 127) : rnd(0, 255);
    p.scale = rndf(0.001f, 0.2f);
    return p;
}

static void quant_tests(void) {
    for (int it = 0; it < 3000; it++) {
        size_t n = (size_t)(it < 2900 ? rnd(0, 300) : rnd(1000, 5000));
        ck_qparams p = rand_params();
        int kind = it % 4;
        if (kind == 1) p.scale = ldexpf(1.0f, rnd(-8, 2));   // power-of-two scales: exact ties
        float *x = xmalloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++) {
            int r = rnd(0, 9);
            if (kind == 1 || r < 3) {
                // x / scale = k + 0.5 exactly (power-of-two scale) or as near as rounding gets.
                x[i] = ((float)rnd(-300, 300) + 0.5f) * p.scale;
            } else if (r == 3) {
                x[i] = special_float();
            } else {
                x[i] = rndf(-300.0f, 300.0f) * p.scale;
            }
        }
        uint8_t *want = xmalloc(n + 16), *got = xmalloc(n + 16);
        memset(want, 0xA5, n + 16);
        ck_quantize_scalar(x, want, n, p);
        char desc[128];
        snprintf(desc, sizeof desc, "n %zu scale %g zp %d signed %d", n, p.scale, p.zero_point, p.is_signed);
        for (int mi = 0; mi < NMODES; mi++) {
            ck_set_dispatch(k_modes[mi]);
            memset(got, 0xA5, n + 16);
            ck_quantize(x, got, n, p);
            record(T_QUANT, mi, got, want, n + 16, desc);
        }
        free(x);
        free(want);
        free(got);
    }
    ck_set_dispatch(1);
}

static void dequant_tests(void) {
    for (int it = 0; it < 1000; it++) {
        size_t n = (size_t)rnd(0, 300);
        ck_qparams p = rand_params();
        if (it % 10 == 0) p.zero_point = rnd(-100000, 100000);
        uint8_t *x = xmalloc(n);
        for (size_t i = 0; i < n; i++) x[i] = (uint8_t)rnd(0, 255);
        float *want = xmalloc((n + 4) * sizeof(float)), *got = xmalloc((n + 4) * sizeof(float));
        memset(want, 0xA5, (n + 4) * sizeof(float));
        ck_dequantize_scalar(x, want, n, p);
        char desc[128];
        snprintf(desc, sizeof desc, "n %zu scale %g zp %d signed %d", n, p.scale, p.zero_point, p.is_signed);
        for (int mi = 0; mi < NMODES; mi++) {
            ck_set_dispatch(k_modes[mi]);
            memset(got, 0xA5, (n + 4) * sizeof(float));
            ck_dequantize(x, got, n, p);
            record(T_DEQUANT, mi, got, want, (n + 4) * sizeof(float), desc);
        }
        free(x);
        free(want);
        free(got);
    }
    ck_set_dispatch(1);
}

static void qadd_requant_tests(void) {
    for (int it = 0; it < 2000; it++) {
        size_t n = (size_t)(it % 100 == 0 ? rnd(1000, 4000) : rnd(0, 300));
        ck_qparams pa = rand_params(), pb = rand_params(), pc = rand_params();
        if (it % 5 == 0) pc.scale = pa.scale;          // ratios of exactly 1 and ties
        if (it % 7 == 0) pc.scale = 2.0f * pb.scale;
        uint8_t *a = xmalloc(n), *b = xmalloc(n);
        for (size_t i = 0; i < n; i++) a[i] = (uint8_t)rnd(0, 255), b[i] = (uint8_t)rnd(0, 255);
        uint8_t *want = xmalloc(n + 16), *got = xmalloc(n + 16);
        char desc[192];
        snprintf(desc, sizeof desc, "n %zu a(%g,%d,%d) b(%g,%d,%d) c(%g,%d,%d)", n, pa.scale, pa.zero_point, pa.is_signed,
                 pb.scale, pb.zero_point, pb.is_signed, pc.scale, pc.zero_point, pc.is_signed);
        memset(want, 0xA5, n + 16);
        ck_qadd_scalar(a, pa, b, pb, want, pc, n);
        for (int mi = 0; mi < NMODES; mi++) {
            ck_set_dispatch(k_modes[mi]);
            memset(got, 0xA5, n + 16);
            ck_qadd(a, pa, b, pb, got, pc, n);
            record(T_QADD, mi, got, want, n + 16, desc);
        }
        // Requantisation (equal encodings: the byte copy).
        ck_qparams pout = it % 9 == 0 ? pa : pc;
        memset(want, 0xA5, n + 16);
        ck_qrequantize_scalar(a, pa, want, pout, n);
        for (int mi = 0; mi < NMODES; mi++) {
            ck_set_dispatch(k_modes[mi]);
            memset(got, 0xA5, n + 16);
            ck_qrequantize(a, pa, got, pout, n);
            record(T_REQUANT, mi, got, want, n + 16, desc);
        }
        free(a);
        free(b);
        free(want);
        free(got);
    }
    ck_set_dispatch(1);
}

static void avgpool_tests(void) {
    for (int it = 0; it < 800; it++) {
        int C = rnd(1, 10);
        int spatial = it % 50 == 0 ? rnd(2000, 70000) : rnd(0, 300);
        ck_qparams pin = rand_params(), pout = rand_params();
        size_t total = (size_t)C * (size_t)(spatial > 0 ? spatial : 0);
        uint8_t *x = xmalloc(total);
        int fill = it % 13 == 0 ? rnd(0, 255) : -1;   // constant planes: sums at the extremes
        for (size_t i = 0; i < total; i++) x[i] = (uint8_t)(fill >= 0 ? fill : rnd(0, 255));
        int c0 = 0, c1 = C;
        if (it % 3 == 1) c0 = rnd(0, C - 1), c1 = rnd(c0 + 1, C);
        uint8_t want[16], got[16];
        char desc[160];
        snprintf(desc, sizeof desc, "C %d spatial %d ch %d..%d in(%g,%d,%d) out(%g,%d,%d)", C, spatial, c0, c1, pin.scale,
                 pin.zero_point, pin.is_signed, pout.scale, pout.zero_point, pout.is_signed);
        memset(want, 0xA5, sizeof want);
        ck_qglobal_avgpool_scalar(x, pin, want, pout, spatial, c0, c1);
        for (int mi = 0; mi < NMODES; mi++) {
            ck_set_dispatch(k_modes[mi]);
            memset(got, 0xA5, sizeof got);
            ck_qglobal_avgpool(x, pin, got, pout, spatial, c0, c1);
            record(T_AVGPOOL, mi, got, want, sizeof got, desc);
        }
        free(x);
    }
    ck_set_dispatch(1);
}

// ---------------------------------------------------------------------------------------------
// im2col (no scalar kernel of its own: the reference is the definition, element by element)

static void im2col_tests(void) {
    for (int it = 0; it < 1500; it++) {
        int K = rnd(1, 5), s = it % 3 ? 2 : rnd(1, 4), d = it % 4 ? 1 : rnd(1, 3);
        int C = rnd(1, 4), H = rnd(1, 40), W = it % 10 == 0 ? rnd(100, 600) : rnd(1, 150);
        int pt = rnd(0, K), pl = rnd(0, K), pb = rnd(0, K), pr = rnd(0, K);
        int oh = (H + pt + pb - (K - 1) * d - 1) / s + 1, ow = (W + pl + pr - (K - 1) * d - 1) / s + 1;
        if (oh <= 0 || ow <= 0) continue;
        ck_window g = {C, H, W, oh, ow, K, K, s, s, pt, pl, d, d};
        int rows = C * K * K, r0 = it % 3 == 1 ? rnd(0, rows - 1) : 0, r1 = it % 3 == 1 ? rnd(r0 + 1, rows) : rows;
        size_t cols = (size_t)oh * ow, total = (size_t)rows * cols + GUARD;
        // Reads past the input show under -fsanitize=address (each input is its own allocation).
        size_t in_n = (size_t)C * H * W;
        uint8_t *in = xmalloc(in_n);
        for (size_t i = 0; i < in_n; i++) in[i] = (uint8_t)rnd(0, 255);
        uint8_t pad = (uint8_t)rnd(0, 255);
        uint8_t *want = xmalloc(total), *got = xmalloc(total);
        memset(want, 0x5A, total);
        for (int row = r0; row < r1; row++) {
            int c = row / (K * K), kh = row % (K * K) / K, kw = row % K;
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    int ih = y * s - pt + kh * d, iw = x * s - pl + kw * d;
                    want[(size_t)row * cols + (size_t)y * ow + x] =
                        ih >= 0 && ih < H && iw >= 0 && iw < W ? in[((size_t)c * H + ih) * W + iw] : pad;
                }
        }
        char desc[160];
        snprintf(desc, sizeof desc, "C%d %dx%d k%d s%d d%d pad %d,%d rows %d..%d", C, H, W, K, s, d, pt, pl, r0, r1);
        for (int mi = 0; mi < NMODES; mi++) {
            ck_set_dispatch(k_modes[mi]);
            memset(got, 0x5A, total);
            ck_im2col_u8(in, got, &g, r0, r1, pad);
            record(T_IM2COL, mi, got, want, total, desc);
        }
        free(in); free(want); free(got);
    }
    ck_set_dispatch(1);
}

// ck_qgemm_conv (implicit im2col) against the scalar GEMM of the explicit im2col, on windows of
// every kind: strides (across: 1, which it takes, or 2, which it must decline), dilations, pads,
// output rows shorter and longer than a 64-column chunk, K past the K-blocking threshold, row and
// column sub-ranges and thread-like splits. Where a path declines, the caller's fallback (im2col +
// ck_qgemm) must give the same bytes. Counts the cases the implicit path really took.
static long g_conv_taken;

static void conv_tests(void) {
    for (int it = 0; it < 400; it++) {
        int K = rnd(1, 5), sh = rnd(1, 2), sw = it % 8 == 7 ? 2 : 1, d = it % 3 ? 1 : rnd(1, 4);
        int C = it % 10 == 0 ? rnd(200, 320) : rnd(1, 40);
        int H = rnd(1, 20), W = it % 5 == 0 ? rnd(100, 200) : rnd(8, 80);
        int pt = rnd(0, K), pl = rnd(0, K), pb = rnd(0, K), pr = rnd(0, K);
        int oh = (H + pt + pb - (K - 1) * d - 1) / sh + 1, ow = (W + pl + pr - (K - 1) * d - 1) / sw + 1;
        if (oh <= 0 || ow <= 0) continue;
        ck_window w = {C, H, W, oh, ow, K, K, sh, sw, pt, pl, d, d};
        int k = C * K * K, n = oh * ow, m = it % 7 == 0 ? rnd(40, 90) : rnd(1, 40);
        if ((size_t)m * (size_t)n * (size_t)k > 60000000) continue;
        gemm_case g = gemm_make(m, n, k, it % 3 == 1, it % 4 == 3 ? rnd(1, 2) : 0, 0, 0, 0);
        g.ldb = n;
        g.ldc = n + (it % 2 ? 0 : rnd(1, 9));
        free(g.b);
        uint8_t *in = xmalloc((size_t)C * H * W);
        for (size_t i = 0; i < (size_t)C * H * W; i++) in[i] = (uint8_t)rnd(0, 255);
        uint8_t pad = (uint8_t)rnd(0, 255);
        g.b = xmalloc((size_t)k * (size_t)n);
        ck_set_dispatch(0);
        ck_im2col_u8(in, g.b, &w, 0, k, pad);
        void *packed = xaligned(ck_qgemm_packed_a_size(m, k));
        ck_qgemm_pack_a(m, k, g.a, g.lda, packed);
        size_t c_bytes = (size_t)m * (size_t)g.ldc + GUARD, scratch_size = ck_qgemm_scratch_size(k);
        uint8_t *want = xmalloc(c_bytes), *got = xmalloc(c_bytes), *scratch = xaligned(scratch_size + 64);
        memset(want, 0xA5, c_bytes);
        ck_qgemm_scalar(m, n, k, packed, g.b, g.ldb, g.b_signed, want, g.ldc, &g.rq, g.m0, g.m1, g.n0, g.n1);
        char desc[256];
        snprintf(desc, sizeof desc, "C%d %dx%d k%d s%d,%d d%d pad %d,%d M%d rows %d..%d cols %d..%d", C, H, W, K, sh, sw, d,
                 pt, pl, m, g.m0, g.m1, g.n0, g.n1);
        for (int mi = 0; mi < NMODES; mi++) {
            ck_set_dispatch(k_modes[mi]);
            memset(got, 0xA5, c_bytes);
            memset(scratch + scratch_size, 0x5A, 64);
            // Whole, or cut into two row and three column ranges as threads would.
            int mc = rnd(g.m0, g.m1), n1 = rnd(g.n0, g.n1), n2 = rnd(n1, g.n1);
            int rows[3] = {g.m0, mc, g.m1}, cols[4] = {g.n0, n1, n2, g.n1};
            int split = it % 4 == 2;
            for (int r = 0; r < (split ? 2 : 1); r++)
                for (int c = 0; c < (split ? 3 : 1); c++) {
                    int r0 = split ? rows[r] : g.m0, r1 = split ? rows[r + 1] : g.m1;
                    int c0 = split ? cols[c] : g.n0, c1 = split ? cols[c + 1] : g.n1;
                    if (ck_qgemm_conv(m, k, packed, in, &w, pad, g.b_signed, got, g.ldc, &g.rq, r0, r1, c0, c1, scratch)) {
                        if (r0 < r1 && c0 < c1) g_conv_taken++;
                    } else {
                        ck_qgemm(m, n, k, packed, g.b, g.ldb, g.b_signed, got, g.ldc, &g.rq, r0, r1, c0, c1, scratch);
                    }
                }
            record(T_CONV, mi, got, want, c_bytes, desc);
            for (int i = 0; i < 64; i++)
                if (scratch[scratch_size + i] != 0x5A) {
                    g_tally[T_CONV].bad[mi]++;
                    fprintf(stderr, "SCRATCH OVERRUN [%s] %s\n", g_mode_names[mi], desc);
                    break;
                }
        }
        ck_set_dispatch(1);
        free(in); free(packed); free(want); free(got); free(scratch);
        gemm_free(&g);
    }
}

// ck_maxpool2d_q8 against its definition (the max of the in-image taps, int8 compared as signed),
// strides 1-3 with the stride-2 AVX-512 path's block edges: widths around multiples of 32 outputs.
static void maxpool_tests(void) {
    for (int it = 0; it < 600; it++) {
        int K = rnd(1, 4), s = it % 3 ? 2 : rnd(1, 3), d = it % 5 ? 1 : 2, is_signed = rnd(0, 1);
        int C = rnd(1, 3), H = rnd(1, 20), W = it % 4 == 0 ? 64 * rnd(1, 4) + rnd(-2, 2) : rnd(1, 150);
        int pt = rnd(0, K - 1), pl = rnd(0, K - 1), pb = rnd(0, K - 1), pr = rnd(0, K - 1);
        if (W < 1) W = 1;
        int oh = (H + pt + pb - (K - 1) * d - 1) / s + 1, ow = (W + pl + pr - (K - 1) * d - 1) / s + 1;
        if (oh <= 0 || ow <= 0) continue;
        ck_window g = {C, H, W, oh, ow, K, K, s, s, pt, pl, d, d};
        size_t in_n = (size_t)C * H * W, out_n = (size_t)C * oh * ow + GUARD;
        uint8_t *in = xmalloc(in_n), *want = xmalloc(out_n), *got = xmalloc(out_n);
        for (size_t i = 0; i < in_n; i++) in[i] = (uint8_t)rnd(0, 255);
        memset(want, 0x5A, out_n);
        for (int c = 0; c < C; c++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    int best = is_signed ? -128 : 0;
                    for (int kh = 0; kh < K; kh++)
                        for (int kw = 0; kw < K; kw++) {
                            int ih = y * s - pt + kh * d, iw = x * s - pl + kw * d;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                            uint8_t b = in[((size_t)c * H + ih) * W + iw];
                            int v = is_signed ? (int)(int8_t)b : (int)b;
                            if (v > best) best = v;
                        }
                    want[((size_t)c * oh + y) * ow + x] = (uint8_t)best;
                }
        char desc[160];
        snprintf(desc, sizeof desc, "C%d %dx%d k%d s%d d%d pad %d,%d signed %d", C, H, W, K, s, d, pt, pl, is_signed);
        for (int mi = 0; mi < NMODES; mi++) {
            ck_set_dispatch(k_modes[mi]);
            memset(got, 0x5A, out_n);
            ck_maxpool2d_q8(in, got, is_signed, &g, 0, C);
            record(T_MAXPOOL, mi, got, want, out_n, desc);
        }
        free(in); free(want); free(got);
    }
    ck_set_dispatch(1);
}

// ck_resize_bilinear_q8: every path against the scalar one (mode 0), up- and downsampling (the
// AVX-512 corner permute takes 16 columns whose sources span under 32 floats, the rest falls
// back), codes / dequantized values, byte / fused-float output, row tails.
static void resize_tests(void) {
    for (int it = 0; it < 300; it++) {
        int in_h = rnd(1, 24), in_w = rnd(1, 140), is_signed = rnd(0, 1);
        float sh = rndf(0.25f, 4.5f), sw = it % 3 ? 4.0f : rndf(0.25f, 4.5f);
        int out_h = ck_max_int(1, (int)(in_h * sh)), out_w = ck_max_int(1, (int)(in_w * sw)), C = rnd(1, 3);
        int32_t *y0 = xmalloc(4 * (size_t)out_h), *y1 = xmalloc(4 * (size_t)out_h), *x0 = xmalloc(4 * (size_t)out_w),
                *x1 = xmalloc(4 * (size_t)out_w);
        float *wy = xmalloc(4 * (size_t)out_h), *wx = xmalloc(4 * (size_t)out_w);
        // half_pixel source coordinates, clamped as onnxruntime does.
        for (int y = 0; y < out_h; y++) {
            float src = ((float)y + 0.5f) * (float)in_h / (float)out_h - 0.5f;
            if (src < 0) src = 0;
            int a = (int)src; if (a > in_h - 1) a = in_h - 1;
            y0[y] = a, y1[y] = ck_min_int(a + 1, in_h - 1), wy[y] = src - (float)a;
        }
        for (int x = 0; x < out_w; x++) {
            float src = ((float)x + 0.5f) * (float)in_w / (float)out_w - 0.5f;
            if (src < 0) src = 0;
            int a = (int)src; if (a > in_w - 1) a = in_w - 1;
            x0[x] = a, x1[x] = ck_min_int(a + 1, in_w - 1), wx[x] = src - (float)a;
        }
        size_t in_n = (size_t)C * in_h * in_w, out_n = (size_t)C * out_h * out_w;
        uint8_t *in = xmalloc(in_n);
        for (size_t i = 0; i < in_n; i++) in[i] = (uint8_t)rnd(0, 255);
        ck_qparams rq = {rndf(0.01f, 0.2f), is_signed ? rnd(-20, 20) : rnd(100, 150), is_signed};
        // A power-of-two scale makes v / scale land exactly on half-integers (the weights of an x4
        // upsample are multiples of 1/8): the rounding ties the reciprocal fast path must divide for.
        if (it % 5 == 1) rq.scale = 1.0f / (float)(1 << rnd(2, 7));
        ck_qparams dq = {rndf(0.01f, 0.2f), is_signed ? rnd(-20, 20) : rnd(100, 150), is_signed};
        int variant = it % 4;   // 0: codes, bytes; 1: requant, bytes; 2: requant + dequant; 3: codes + dequant
        const ck_qparams *r = variant == 1 || variant == 2 ? &rq : NULL, *d = variant >= 2 ? &dq : NULL;
        size_t bytes = (d ? 4 : 1) * out_n + GUARD;
        uint8_t *want = xmalloc(bytes), *got = xmalloc(bytes);
        float *scratch = xmalloc(sizeof(float) * CK_RESIZE_Q8_SCRATCH(in_w, out_w));
        char desc[160];
        snprintf(desc, sizeof desc, "%dx%d -> %dx%d C%d signed %d variant %d", in_h, in_w, out_h, out_w, C, is_signed, variant);
        for (int mi = 0; mi < NMODES; mi++) {
            ck_set_dispatch(k_modes[mi]);
            uint8_t *dst = mi == 0 ? want : got;
            memset(dst, 0x5A, bytes);
            ck_resize_bilinear_q8(in, dst, is_signed, r, d, in_h, in_w, out_h, out_w, y0, y1, wy, x0, x1, wx, 0, C, scratch);
            record(T_RESIZE, mi, dst, want, bytes, desc);
        }
        free(y0); free(y1); free(x0); free(x1); free(wy); free(wx); free(in); free(want); free(got); free(scratch);
    }
    ck_set_dispatch(1);
}

// ---------------------------------------------------------------------------------------------

int main(void) {
    for (int t = 0; t < T_COUNT; t++) g_tally[t].name = k_test_names[t];
    int features = ck_cpu_features();
    printf("ck_cpu_features() = %d (1 AVX2+FMA, 2 AVX-512, 4 AVX-512 VNNI, 8 AVX-VNNI)\n", features);
    for (int mi = 0; mi < NMODES; mi++) {
        ck_set_dispatch(k_modes[mi]);
        g_mode_names[mi] = ck_qgemm_path();
        printf("dispatch mode %d: ck_qgemm_path() = %s\n", k_modes[mi], g_mode_names[mi]);
    }
    ck_set_dispatch(1);
    if (ck_qgemm_scratch_size(0) < 64 || ck_qgemm_packed_a_size(0, 3) != 0 || ck_qgemm_packed_a_size(9, 5) != 2 * 2 * 32) {
        fprintf(stderr, "size functions wrong\n");
        return 1;
    }
    gemm_tests();
    dw_tests();
    quant_tests();
    dequant_tests();
    qadd_requant_tests();
    avgpool_tests();
    im2col_tests();
    conv_tests();
    maxpool_tests();
    resize_tests();
    long total_bad = 0;
    printf("%-18s", "cases (bad)");
    for (int mi = 0; mi < NMODES; mi++) printf(" | mode %d %-12s", k_modes[mi], g_mode_names[mi]);
    printf("\n");
    for (int t = 0; t < T_COUNT; t++) {
        printf("%-18s", g_tally[t].name);
        for (int mi = 0; mi < NMODES; mi++) {
            printf(" | %7ld (%ld)%*s", g_tally[t].cases[mi], g_tally[t].bad[mi], 8, "");
            total_bad += g_tally[t].bad[mi];
        }
        printf("\n");
    }
    printf("qgemm_conv: the implicit im2col took %ld calls\n", g_conv_taken);
    if ((features & 4) && g_conv_taken == 0) {   // an AVX-512 VNNI CPU must have run it
        fprintf(stderr, "qgemm_conv never took the implicit path\n");
        total_bad++;
    }
    printf(total_bad ? "FAILED: %ld mismatches\n" : "all paths bit-identical to the scalar reference\n", total_bad);
    return total_bad ? 1 : 0;
}
