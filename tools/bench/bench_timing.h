// Timing helpers shared by the kernel benchmarks (kernel_bench.c, qkernel_bench.c).
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef void (*bench_fn)(void *ctx);

/// Best time in milliseconds over `reps` runs after one warm-up run.
static double best_ms(bench_fn fn, void *ctx, int reps) {
    fn(ctx);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_seconds();
        fn(ctx);
        double t = now_seconds() - t0;
        if (t < best) best = t;
    }
    return best * 1e3;
}

#endif
