// Run-time choice between the scalar, AVX2+FMA, AVX-VNNI and AVX-512 (VNNI) paths. The CPU is
// probed once; from its features one immutable dispatch table (ck_platform) per ck_set_dispatch
// mode is filled, once, and the current mode (an atomic) picks the table, so any thread may ask
// at any time and a mode change never exposes a half-written table.
#include "Internal.h"

#include <stdatomic.h>

// -1 = not probed yet; otherwise the ck_cpu_features() bit set.
static _Atomic int g_features = -1;
// ck_set_dispatch mode: 1 = automatic, 0 = scalar forced, 2 = automatic without AVX-512,
// 3 = AVX2 without AVX-512 and without any VNNI.
static _Atomic int g_mode = 1;

#define MODES 4
static ck_platform g_tables[MODES];
// 0 = not filled, 1 = being filled by one thread, 2 = ready (readers acquire it).
static _Atomic int g_tables_state = 0;

static int probe_features(void) {
    int features = 0;
#if CK_X86
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves YMM state (XCR0), so "avx2" here
    // means usable, not merely present.
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) features |= CK_FEATURE_AVX2;
    // The AVX-512 kernels are compiled for F+DQ+BW+VL (plus FMA), so all must be present; like
    // "avx2", these checks include the OS saving ZMM and mask state.
    if ((features & CK_FEATURE_AVX2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        features |= CK_FEATURE_AVX512;
    if ((features & CK_FEATURE_AVX512) && __builtin_cpu_supports("avx512vnni")) features |= CK_FEATURE_AVX512VNNI;
    if ((features & CK_FEATURE_AVX2) && __builtin_cpu_supports("avxvnni")) features |= CK_FEATURE_AVXVNNI;
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

/// The features a mode lets the kernels use.
static int mode_features(int mode, int features) {
    switch (mode) {
    case 0: return 0;
    case 2: return features & ~(CK_FEATURE_AVX512 | CK_FEATURE_AVX512VNNI);
    case 3: return features & CK_FEATURE_AVX2;
    default: return features;
    }
}

/// One table: the scalar reference everywhere, then each entry upgraded to the best path the
/// allowed features have (later, wider paths override earlier ones).
static void fill_table(ck_platform *t, int mode, int all_features) {
    int f = mode_features(mode, all_features);
    t->mode = mode;
    t->features = f;
    t->avx2 = 0;
    t->avx512 = 0;
    t->gemm = ck_gemm_scalar;
    t->qgemm_name = "scalar";
    t->qgemm_columns = 1;
    t->qgemm = NULL;  // QuantDispatch.c calls the scalar reference directly
    t->qdepthwise = ck_qdepthwise_conv2d_scalar;
    t->quantize = ck_quantize_scalar;
    t->dequantize = ck_dequantize_scalar;
    t->qadd = ck_qadd_scalar;
    t->qrequantize = ck_qrequantize_scalar;
    t->qglobal_avgpool = ck_qglobal_avgpool_scalar;
#if CK_X86
    if (f & CK_FEATURE_AVX2) {
        t->avx2 = 1;
        t->gemm = ck_gemm_avx2;
        t->qgemm_name = "avx2";
        t->qgemm_columns = CK_QGEMM_NR_AVX2;
        t->qgemm = ck_qgemm_avx2;
        t->qdepthwise = ck_qdepthwise_avx2;
        t->quantize = ck_quantize_avx2;
        t->dequantize = ck_dequantize_avx2;
        t->qadd = ck_qadd_avx2;
        t->qrequantize = ck_qrequantize_avx2;
        t->qglobal_avgpool = ck_qglobal_avgpool_avx2;
    }
    if (f & CK_FEATURE_AVXVNNI) {
        t->qgemm_name = "avx-vnni";
        t->qgemm_columns = CK_QGEMM_NR_AVXVNNI;
        t->qgemm = ck_qgemm_avxvnni;
        t->qdepthwise = ck_qdepthwise_avxvnni;
    }
    if (f & CK_FEATURE_AVX512) {
        t->avx512 = 1;
        t->gemm = ck_gemm_avx512;
    }
    if (f & CK_FEATURE_AVX512VNNI) {
        t->qgemm_name = "avx512-vnni";
        t->qgemm_columns = 64;   // the 4 x 64 tiles
        t->qgemm = ck_qgemm_avx512vnni;
        t->qgemm_conv = ck_qgemm_conv_avx512vnni;
        t->qdepthwise = ck_qdepthwise_avx512vnni;
    }
#else
    (void)f;
#endif
}

const ck_platform *ck_platform_get(void) {
    if (atomic_load_explicit(&g_tables_state, memory_order_acquire) != 2) {
        int expected = 0;
        if (atomic_compare_exchange_strong_explicit(&g_tables_state, &expected, 1, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            int features = ck_cpu_features();
            for (int mode = 0; mode < MODES; mode++) fill_table(&g_tables[mode], mode, features);
            atomic_store_explicit(&g_tables_state, 2, memory_order_release);
        } else {
            // Another thread is filling the tables (a few hundred nanoseconds): wait for it.
            while (atomic_load_explicit(&g_tables_state, memory_order_acquire) != 2) {
            }
        }
    }
    return &g_tables[atomic_load_explicit(&g_mode, memory_order_relaxed)];
}

void ck_set_dispatch(int automatic) {
    int mode = automatic == 0 || automatic == 2 || automatic == 3 ? automatic : 1;
    atomic_store_explicit(&g_mode, mode, memory_order_relaxed);
}

int ck_use_avx2(void) { return ck_platform_get()->avx2; }

int ck_use_avx512(void) { return ck_platform_get()->avx512; }
