// Run-time choice between the scalar, AVX2+FMA and (for the GEMM) AVX-512 paths. The CPU is probed once; the
// answer and the test override live in atomics so any thread may ask at any time.
#include "Internal.h"

#include <stdatomic.h>

// -1 = not probed yet; otherwise the ck_cpu_features() bit set.
static _Atomic int g_features = -1;
// ck_set_dispatch mode: 1 = automatic, 0 = scalar forced, 2 = automatic without AVX-512.
static _Atomic int g_mode = 1;

static int probe_features(void) {
#if CK_X86
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves YMM state (XCR0), so "avx2" here
    // means usable, not merely present.
    int features = 0;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) features |= 1;
    // The AVX-512 kernels are compiled for F+DQ+BW+VL (plus FMA), so all must be present; like
    // "avx2", these checks include the OS saving ZMM and mask state.
    if ((features & 1) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        features |= 2;
#endif
    return features;
}

int ck_cpu_features(void) {
    int features = atomic_load_explicit(&g_features, memory_order_relaxed);
    if (features < 0) {
        // Probing is idempotent, so a race between first callers only repeats the work.
        features = probe_features();
        atomic_store_explicit(&g_features, features, memory_order_relaxed);
    }
    return features;
}

void ck_set_dispatch(int automatic) {
    atomic_store_explicit(&g_mode, automatic == 0 ? 0 : (automatic == 2 ? 2 : 1), memory_order_relaxed);
}

int ck_use_avx2(void) {
    return atomic_load_explicit(&g_mode, memory_order_relaxed) != 0 && (ck_cpu_features() & 1);
}

int ck_use_avx512(void) {
    return atomic_load_explicit(&g_mode, memory_order_relaxed) == 1 && (ck_cpu_features() & 2);
}
