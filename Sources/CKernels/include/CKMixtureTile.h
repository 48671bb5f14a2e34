// One fused pass over a pixel range for a mixture's prediction and uncertainty maps
// (UNCERTAINTY.md §1–3; Sources/Mixture/MixtureUncertainty.swift sets it up). Every
// per-pixel quantity of a 16-pixel block stays in registers or a few KB of scratch, so each
// expert logit is read from memory once per frame however many maps and routing samples use it.
#ifndef CKMIXTURETILE_H
#define CKMIXTURETILE_H

#include <stddef.h>
#include <stdint.h>

/// What one `ck_mix_tile` call computes and where it writes. Pixel-indexed pointers point at
/// pixel 0 of H·W planes (class planes `plane` floats apart); NULL outputs are not computed.
typedef struct ck_mix_tile_args {
    int experts, classes;
    /// Floats between class planes (H·W).
    ptrdiff_t plane;
    /// E pointers, each to an expert's C class planes.
    const float *const *expert_logits;
    /// z_moe given from outside (after a "+conv"; logits rule), or NULL to mix Σ_e g_e,c z_e,c.
    const float *moe_logits;
    /// Nonzero: p_moe = Σ_e g_e,c p_e,c (renormalised when `classwise`); zero: softmax(z_moe).
    int probabilities_rule;
    int classwise;
    /// E×C gate weights g_e,c used for mixing (a simple gate's weight repeated per class).
    const float *mix;
    /// E weights of the "weighted" member set (read when pe_weighted is set).
    const float *weighted;
    /// K routing samples, each an E×C table like `mix`.
    int samples;
    const float *routing;
    /// 1 / ln C.
    float inverse_log_classes;

    int32_t *prediction;
    /// ĉ again as bytes (C ≤ 256), for callers that publish it so; NULL = not written.
    uint8_t *prediction_bytes;
    /// A map every pixel of which is set to `fill_value` (a simple gate's frame gate entropy).
    float *fill, fill_value;
    /// p_moe (C planes) and z_moe (C planes, logits rule) when kept.
    float *probabilities, *moe_logits_out;
    /// PE and MI per member set; a set is computed when its MI is wanted, its PE may be NULL.
    float *pe_stacked, *mi_stacked, *pe_weighted, *mi_weighted, *pe_ensemble, *mi_ensemble;
    float *expert_variance;
    /// Routing PE and MI (MI when samples > 0; PE may be NULL).
    float *routing_pe, *routing_mi;
    /// Frame-score sums: for the stacked, weighted, ensemble and routing MI maps (index 0–3) that
    /// this call computes, Σ MI is added to mi_sum[i] and the count of MI > score_threshold to
    /// mi_above[i] (both NULL: no sums).
    double *mi_sum;
    int64_t *mi_above;
    float score_threshold;
    /// Per-thread scratch of `ck_mix_tile_scratch_floats` floats.
    float *scratch;
    /// 0: the widest instruction set the CPU has (and ck_set_dispatch allows); 1: the baseline
    /// build; 2: at most AVX2+FMA. Lets tests check every build on one machine.
    int instruction_set;
} ck_mix_tile_args;

/// Floats of scratch one concurrent `ck_mix_tile` caller needs.
size_t ck_mix_tile_scratch_floats(int experts, int classes);

/// Computes every requested output for pixels [start, start + count).
void ck_mix_tile(const ck_mix_tile_args *args, ptrdiff_t start, ptrdiff_t count);

#endif
