// The fused mixture pass of CKMixtureTile.h. Its loops (MixtureTileBody.h) are written once with
// clang vectors and compiled three times, chosen at run time: AVX-512 (16-pixel blocks) and
// AVX2+FMA (8-pixel blocks), both with table-driven e^x and ln x (below), and the baseline (16)
// with the bit-operation exp/log of Cephes' expf/logf coefficients (within 2 ulp).
//
// Why it is shaped this way (measured on the demo model, 2 experts × 14 classes × 512×256):
// the earlier plane-by-plane loops spent more time moving per-pixel rows through memory than
// on arithmetic, and log's division was the slowest instruction in them. Here a block reads each
// expert logit once, keeps S, Σ e·t, entropies and accumulators in registers, reuses the block's
// exponentials (a few KB) for every member set, and no exp or log divides.
#include "Internal.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

// Every vector helper is always_inline, so no 16-lane vector ever crosses a call boundary and the
// baseline build's "AVX vector argument changes the ABI" warnings do not apply.
#pragma clang diagnostic ignored "-Wpsabi"

// 16 lanes for AVX-512 (one register) and the baseline; 8 for AVX2, since a 16-lane value in a
// function built for AVX but not AVX-512 would change the calling convention (clang rejects it).
// The body declares its own vector types per build; the AVX-512 exp/log below take 16 lanes.
typedef float vf16 __attribute__((ext_vector_type(16)));

/// Scratch is sized for the widest block.
#define MAX_LANES 16
#define MAX_EXPERTS 64

/// Where one block reads and writes: pixel pointers already offset to the block, class planes
/// `stride` floats apart (the frame's H·W, or LANES for a staged partial block).
typedef struct {
    const float *z[MAX_EXPERTS];
    const float *moe;
    ptrdiff_t stride;
    int32_t *prediction;
    float *probabilities, *moe_logits;
    float *pe_stacked, *mi_stacked, *pe_weighted, *mi_weighted, *pe_ensemble, *mi_ensemble;
    float *expert_variance, *routing_pe, *routing_mi;
} block_io;

/// Offsets every output of `a` to pixel `i` (NULL stays NULL).
#define AT(p, i) ((p) ? (p) + (i) : NULL)

#if CK_X86
// AVX-512 has a lane-wise lookup in a 32-entry table (vpermi2ps), exponent scaling (vscalefps) and
// exponent/mantissa extraction (vgetexpps/vgetmantps), so e^x and ln x need about half the
// instructions of the bit-operation forms: 2^(j/32) and ln of 32 mantissa centres come from
// tables and the remaining polynomial is a quadratic. Tables are filled by `tile_tables`.
static float exp2_table[32], mantissa_reciprocal[32], mantissa_log[32];
// AVX2 has an 8-entry lookup (vpermps on 256 bits): the same tables at 1/8 steps.
static float exp2_table8[8], mantissa_reciprocal8[8], mantissa_log8[8];

/// Fills `exp2` with 2^(j/n) and, for the n intervals of the mantissa [1, 2) centred on
/// 1 + (j + ½)/n, float reciprocals r_j and −ln r_j (then ln m = ln(m·r_j) − ln r_j).
static void fill_tables(int n, float *exp2_out, float *reciprocal_out, float *log_out) {
    for (int j = 0; j < n; j++) {
        exp2_out[j] = (float)exp2((double)j / n);
        double reciprocal = (double)(float)(1.0 / (1.0 + (j + 0.5) / n));
        reciprocal_out[j] = (float)reciprocal;
        log_out[j] = (float)-log(reciprocal);
    }
}

static void tile_tables(void) {
    fill_tables(32, exp2_table, mantissa_reciprocal, mantissa_log);
    fill_tables(8, exp2_table8, mantissa_reciprocal8, mantissa_log8);
}

/// A 32-entry table lookup by the low five bits of each lane of `index` (vpermi2ps).
CK_AVX512 CK_INLINE vf16 lookup32(__m512i index, const float *table) {
    return (vf16)_mm512_permutex2var_ps(_mm512_loadu_ps(table), index, _mm512_loadu_ps(table + 16));
}

/// e^x for x ≥ −110 (callers clamp; below −104 it is 0 in fp32): 2^(k/32) from k = round(32·x/ln 2)
/// by table and scaling, e^r − 1 for |r| ≤ ln 2/64 by r + r²/2 (relative error < 2.2e-7). One
/// rounded ln 2/32 suffices: its error times |k| stays below 1e-6 relative wherever e^x > 1e-9.
CK_AVX512 CK_INLINE vf16 exp_avx512(vf16 x) {
    const float shifter = 12582912.0f;
    vf16 shifted = x * 46.1662407f + shifter;  // 32/ln 2
    vf16 k = shifted - shifter;
    vf16 r = x - k * 0.0216608494f;            // ln 2/32
    vf16 t = lookup32(_mm512_castps_si512((__m512)shifted), exp2_table);
    vf16 p = (r * 0.5f) * r + r;
    return (vf16)_mm512_scalef_ps((__m512)(t * p + t), (__m512)(k * 0.03125f));
}

/// ln x for positive normal x: exponent and mantissa m in [1, 2) by instruction, ln m from the
/// table entry of m's top five mantissa bits and r − r²/2 for |r| ≤ 1/64 (abs error < 1.3e-6: the
/// maps sum q·ln q over a distribution, so an absolute error in ln q is at most that in the sum).
CK_AVX512 CK_INLINE vf16 log_avx512(vf16 x) {
    vf16 e = (vf16)_mm512_getexp_ps((__m512)x);
    vf16 m = (vf16)_mm512_getmant_ps((__m512)x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    __m512i index = _mm512_srli_epi32(_mm512_castps_si512((__m512)m), 18);
    vf16 r = m * lookup32(index, mantissa_reciprocal) - 1.0f;
    vf16 p = (r * -0.5f) * r + r;
    return e * 0.693147182f + (lookup32(index, mantissa_log) + p);
}

#define TILE(name) name##_avx512
#define TILE_FN CK_AVX512 CK_INLINE
#define TILE_LANES 16
#define TILE_EXP exp_avx512
#define TILE_LOG log_avx512
#include "MixtureTileBody.h"

typedef float vf8 __attribute__((ext_vector_type(8)));
typedef int32_t vi8 __attribute__((ext_vector_type(8)));

/// An 8-entry table lookup by the low three bits of each lane of `index` (vpermps).
CK_AVX2 CK_INLINE vf8 lookup8(vi8 index, const float *table) {
    return (vf8)_mm256_permutevar8x32_ps(_mm256_loadu_ps(table), (__m256i)index);
}

/// e^x for x ≤ 0 (the pass's only use: t = z − max), exactly 0 below −87: 2^(k/8) from
/// k = round(8·x/ln 2) by table and exponent bits, e^r − 1 for |r| ≤ ln 2/16 by a cubic
/// (relative error < 1.5e-7 before rounding).
CK_AVX2 CK_INLINE vf8 exp_avx2(vf8 x) {
    const float shifter = 12582912.0f;
    vf8 c = x > -87.0f ? x : -87.0f;
    vf8 shifted = c * 11.5415602f + shifter;  // 8/ln 2
    vf8 k = shifted - shifter;
    vf8 r = c - k * 0.0866433976f;            // ln 2/8
    vi8 whole = (vi8)shifted - 0x4B400000;     // k as an integer; its low three bits pick 2^(j/8)
    vf8 scale = (vf8)(((whole >> 3) + 127) << 23);
    vf8 t = lookup8(whole, exp2_table8);
    vf8 p = (r * (1.0f / 6.0f) + 0.5f) * (r * r) + r;
    return (vf8)((vi8)((t * p + t) * scale) & ~(vi8)(x < -87.0f));
}

/// ln x for positive normal x: exponent and mantissa from the bits, ln m from the table entry of
/// m's top three mantissa bits and a quartic in |r| ≤ 1/16 (abs error < 2e-7), no division.
CK_AVX2 CK_INLINE vf8 log_avx2(vf8 x) {
    vi8 bits = (vi8)x;
    vf8 e = __builtin_convertvector((bits >> 23) - 127, vf8);
    vi8 mantissa = (bits & 0x007FFFFF) | 0x3F800000;
    vi8 index = mantissa >> 20;
    vf8 r = (vf8)mantissa * lookup8(index, mantissa_reciprocal8) - 1.0f;
    vf8 p = ((r * -0.25f + (1.0f / 3.0f)) * r - 0.5f) * (r * r) + r;
    return e * 0.693147182f + (lookup8(index, mantissa_log8) + p);
}

#define TILE(name) name##_avx2
#define TILE_FN CK_AVX2 CK_INLINE
#define TILE_LANES 8
#define TILE_EXP exp_avx2
#define TILE_LOG log_avx2
#include "MixtureTileBody.h"
#endif

#define TILE(name) name##_baseline
#define TILE_FN CK_INLINE
#define TILE_LANES 16
#include "MixtureTileBody.h"

size_t ck_mix_tile_scratch_floats(int experts, int classes) {
    // Block rows (2·E·C + 4·C) and the partial-block stage ((E + 3)·C + 10 rows).
    return (2 * (size_t)experts * classes + 4 * (size_t)classes) * MAX_LANES
         + ((size_t)(experts + 3) * classes + 10) * MAX_LANES;
}

#if CK_X86
CK_AVX512 static void tile_avx512(const ck_mix_tile_args *a, ptrdiff_t start, ptrdiff_t count) {
    tile_body_avx512(a, start, count);
}
CK_AVX2 static void tile_avx2(const ck_mix_tile_args *a, ptrdiff_t start, ptrdiff_t count) {
    tile_body_avx2(a, start, count);
}
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
#endif

void ck_mix_tile(const ck_mix_tile_args *args, ptrdiff_t start, ptrdiff_t count) {
    if (args->experts < 1 || args->experts > MAX_EXPERTS || count <= 0) return;
#if CK_X86
    const int isa = args->instruction_set;
    if (isa == 0 && ck_use_avx512()) {
        pthread_once(&tables_once, tile_tables);
        tile_avx512(args, start, count);
        return;
    }
    if (isa != 1 && ck_use_avx2()) {
        pthread_once(&tables_once, tile_tables);
        tile_avx2(args, start, count);
        return;
    }
#endif
    tile_body_baseline(args, start, count);
}
