// Run-time choice between the scalar and the AVX2+FMA paths. The CPU is probed once; the
// answer and the test override live in atomics so any thread may ask at any time.
#include "Internal.h"

#include <stdatomic.h>

// -1 = not probed yet; otherwise the ck_cpu_features() bit set.
static _Atomic int g_features = -1;
// 1 = automatic dispatch, 0 = scalar forced by ck_set_dispatch(0).
static _Atomic int g_automatic = 1;

static int probe_features(void) {
#if CK_X86
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves YMM state (XCR0), so "avx2" here
    // means usable, not merely present.
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
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
    atomic_store_explicit(&g_automatic, automatic != 0, memory_order_relaxed);
}

int ck_use_avx2(void) {
    return atomic_load_explicit(&g_automatic, memory_order_relaxed) && (ck_cpu_features() & 1);
}
