// The fused block and tile loops of MixtureTile.c, included once per instruction set with
//   TILE(name)  the function's name for this instruction set,
//   TILE_FN     its attributes (target and always_inline),
//   TILE_LANES  pixels per block (the vector width),
//   TILE_EXP, TILE_LOG  e^x and ln x (default: the bit-operation forms below).
// Deliberately without an include guard; each inclusion #undefs these again at its end.

#define vf TILE(vf)
#define vi TILE(vi)
#define LANES TILE_LANES
typedef float vf __attribute__((ext_vector_type(TILE_LANES)));
typedef int32_t vi __attribute__((ext_vector_type(TILE_LANES)));
typedef float TILE(vf_unaligned) __attribute__((ext_vector_type(TILE_LANES), aligned(4)));
typedef int32_t TILE(vi_unaligned) __attribute__((ext_vector_type(TILE_LANES), aligned(4)));
#define vf_unaligned TILE(vf_unaligned)
#define vi_unaligned TILE(vi_unaligned)
#define load TILE(load)
#define store TILE(store)
#define vmax TILE(vmax)
#define vmin TILE(vmin)
#define unit TILE(unit)
#ifndef TILE_EXP
#define TILE_EXP TILE(exp_bits)
#define TILE_LOG TILE(log_bits)
#endif

TILE_FN vf TILE(load)(const float *p) { return *(const vf_unaligned *)p; }
TILE_FN void TILE(store)(float *p, vf v) { *(vf_unaligned *)p = v; }
// x86's max/min (the second operand when either is NaN), not IEEE maxNum: one instruction, and
// the block's values are never NaN.
TILE_FN vf TILE(vmax)(vf a, vf b) { return a > b ? a : b; }
TILE_FN vf TILE(vmin)(vf a, vf b) { return a < b ? a : b; }

/// e^x from bit operations (the baseline build); exactly 0 below −87 (those terms are only
/// ever summed), e^88 above 88.
TILE_FN vf TILE(exp_bits)(vf x) {
    vf c = vmin(vmax(x, -87.0f), 88.0f);
    const float shifter = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer in the low bits
    vf shifted = c * 1.44269502f + shifter;
    vf k = shifted - shifter;
    vf r = (c - k * 0.693145751953125f) - k * 1.428606765330187e-06f;
    vf p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    vf y = p * (r * r) + r + 1.0f;
    vf scale = (vf)(((vi)shifted - 0x4B400000 + 127) << 23);
    return (vf)((vi)(y * scale) & ~(vi)(x < -87.0f));
}

/// ln x for positive normal x from bit operations (the baseline build).
TILE_FN vf TILE(log_bits)(vf x) {
    vi bits = (vi)x;
    vf m = (vf)((bits & 0x007FFFFF) | 0x3F800000);
    vf e = __builtin_convertvector(bits >> 23, vf) - 127.0f;
    vi high = m > 1.41421354f;
    m = high ? m * 0.5f : m;
    e = high ? e + 1.0f : e;
    vf f = m - 1.0f;  // in [√½ − 1, √2 − 1]
    vf z = f * f;
    vf p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    vf y = f * z * p + e * -2.12194440e-4f - 0.5f * z;
    return f + y + e * 0.693359375f;
}

/// Clamps to [0, 1] (PE and MI are there in exact arithmetic; fp32 can step a hair outside).
TILE_FN vf TILE(unit)(vf v) { return vmin(vmax(v, 0.0f), 1.0f); }

/// q ln q with 0 ln 0 = 0.
TILE_FN vf TILE(xlogx)(vf q) { return q * TILE_LOG(vmax(q, 1.17549435e-38f)); }

/// e_c = exp(z_c − m) for C rows of LANES (`z`, whose maximum is m) into `x`, 1/S into `inverse`,
/// and H = ln S − Σ e·t / S (one log per pixel, not C).
TILE_FN vf TILE(exp_rows)(const float *z, int classes, vf m, float *x, vf *inverse) {
    vf s = 0.0f, d = 0.0f;
    for (int c = 0; c < classes; c++) {
        // Below −110, e^t is 0 in fp32 (a −∞ logit gives p = 0 exactly) and e·t stays 0, not NaN.
        vf t = vmax(load(z + c * LANES) - m, -110.0f);
        vf e = TILE_EXP(t);
        store(x + c * LANES, e);
        s += e;
        d += e * t;
    }
    vf inv = 1.0f / s;
    *inverse = inv;
    return TILE_LOG(s) - d * inv;
}

/// Class `c` of the ties-to-lowest argmax: the running maximum and its class.
TILE_FN void TILE(argmax_step)(vf v, int c, vf *best, vi *label) {
    if (c == 0) {
        *best = v;
        *label = 0;
        return;
    }
    vi better = v > *best;
    *best = better ? v : *best;
    *label = (*label & ~better) | ((vi)c & better);
}

/// PE = H(mean)/ln C and MI = (H(mean) − mean member entropy)/ln C from −Σ q ln q; no PE if NULL.
TILE_FN void TILE(entropy_maps)(vf sum_xlogx, vf member_entropy, float inverse_log_classes, float *pe, float *mi) {
    vf h = -sum_xlogx;
    if (pe) store(pe, unit(h * inverse_log_classes));
    store(mi, unit((h - member_entropy) * inverse_log_classes));
}

/// One block for E experts. Inlined with E a constant for the common sizes, so the per-expert
/// values (maxima, 1/S, entropies, gate weights) live in registers: the loops are bound by L1
/// loads and stores as much as by arithmetic, so every row read or written once fewer counts.
TILE_FN void TILE(mix_block_for)(const ck_mix_tile_args *a, const block_io *io, const int E) {
    const int C = a->classes;
    const ptrdiff_t s = io->stride;
    const int simple = !a->classwise;
    float *z = a->scratch;                        // E·C rows: the block's expert logits
    float *x = z + (size_t)E * C * LANES;         // E·C rows: the experts' exponentials
    float *xm = x + (size_t)E * C * LANES;        // C rows: p_moe's exponentials (or p_moe)
    float *zm = xm + (size_t)C * LANES;           // C rows: z_moe, then a routing sample's z
    float *xk = zm + (size_t)C * LANES;           // C rows: a routing sample's exponentials
    float *pk = xk + (size_t)C * LANES;           // C rows: Σ_k p^(k)
    vf maximum[MAX_EXPERTS], inverse[MAX_EXPERTS], entropy[MAX_EXPERTS], gate[MAX_EXPERTS];
    if (simple)
        for (int e = 0; e < E; e++) gate[e] = a->mix[e * C];

    // One pass over the classes: copy the logits into contiguous rows (the class planes are H·W
    // floats apart, a multiple of 4 KB on common frame sizes, so they all map to one L1 set and
    // would miss on every re-read), each expert's maximum, and z_moe with its argmax.
    const int logits_rule = !a->probabilities_rule;
    vf best = 0.0f;
    vi label = 0;
    for (int c = 0; c < C; c++) {
        vf mixed = 0.0f;
        for (int e = 0; e < E; e++) {
            // E·C streams are more than the hardware prefetchers follow: ask for the rows eight
            // blocks ahead (5-9 % less time per pixel when the logits come from memory).
            const float *row = io->z[e] + c * s;
            __builtin_prefetch(row + 8 * LANES);
            vf v = load(row);
            store(z + ((size_t)e * C + c) * LANES, v);
            maximum[e] = c == 0 ? v : vmax(maximum[e], v);
            if (logits_rule && !io->moe) mixed += (simple ? gate[e] : (vf)a->mix[e * C + c]) * v;
        }
        if (logits_rule) {
            if (io->moe) {
                __builtin_prefetch(io->moe + c * s + 8 * LANES);
                mixed = load(io->moe + c * s);
            }
            store(zm + c * LANES, mixed);
            if (io->moe_logits) store(io->moe_logits + c * s, mixed);
            TILE(argmax_step)(mixed, c, &best, &label);
        }
    }
    // Only the softmaxes some output needs: the prediction alone needs none, the weighted set no p_moe.
    const int stacked = io->mi_stacked != NULL, weighted = io->mi_weighted != NULL;
    const int ensemble = io->mi_ensemble != NULL, variance = io->expert_variance != NULL;
    const int moe_needed = stacked || variance || io->probabilities || !logits_rule;
    const int members_needed = moe_needed || weighted || ensemble;
    if (members_needed)
        for (int e = 0; e < E; e++)
            entropy[e] = TILE(exp_rows)(z + (size_t)e * C * LANES, C, maximum[e], x + (size_t)e * C * LANES, &inverse[e]);

    // p_moe (as exponentials times `moe_scale`) and its entropy.
    vf moe_entropy = 0.0f, moe_scale = 0.0f;
    if (logits_rule) {
        if (moe_needed) moe_entropy = TILE(exp_rows)(zm, C, best, xm, &moe_scale);
    } else {
        vf total = 0.0f;
        for (int c = 0; c < C; c++) {
            vf p = 0.0f;
            for (int e = 0; e < E; e++)
                p += (simple ? gate[e] : (vf)a->mix[e * C + c]) * (load(x + ((size_t)e * C + c) * LANES) * inverse[e]);
            store(xm + c * LANES, p);
            total += p;
        }
        // Classwise weights do not sum to 1 over classes; renormalise so p_moe is a distribution.
        moe_scale = a->classwise ? 1.0f / total : (vf)1.0f;
        // H(p_moe) is a member entropy of the stacked set only.
        vf sum = 0.0f;
        for (int c = 0; c < C; c++) {
            vf p = load(xm + c * LANES) * moe_scale;
            TILE(argmax_step)(p, c, &best, &label);
            if (stacked) sum += TILE(xlogx)(p);
        }
        moe_entropy = -sum;
    }
    if (io->prediction) *(vi_unaligned *)io->prediction = label;

    // Member sets and EV, class by class from the block's exponentials.
    const float stack_weight = 1.0f / (float)(E + 1), member_weight = 1.0f / (float)E;
    vf weight[MAX_EXPERTS];
    if (weighted)
        for (int e = 0; e < E; e++) weight[e] = a->weighted[e];
    vf acc_stacked = 0.0f, acc_weighted = 0.0f, acc_ensemble = 0.0f, squares = 0.0f;
    for (int c = 0; c < (members_needed ? C : 0); c++) {
        vf pm = moe_needed ? load(xm + c * LANES) * moe_scale : (vf)0.0f;
        if (io->probabilities) store(io->probabilities + c * s, pm);
        vf sum = 0.0f, mean = 0.0f, deviation = 0.0f;
        for (int e = 0; e < E; e++) {
            vf p = load(x + ((size_t)e * C + c) * LANES) * inverse[e];
            sum += p;
            if (weighted) mean += weight[e] * p;
            if (variance) deviation += (p - pm) * (p - pm);
        }
        if (stacked) acc_stacked += TILE(xlogx)((sum + pm) * stack_weight);
        if (ensemble) acc_ensemble += TILE(xlogx)(sum * member_weight);
        // With the probabilities rule and a simple gate, Σ_e g_e p_e is p_moe itself.
        if (weighted) acc_weighted += TILE(xlogx)(a->probabilities_rule ? pm : mean);
        if (variance) squares = label == c ? deviation : squares;
    }
    const float ilc = a->inverse_log_classes;
    if (stacked || weighted || ensemble) {
        vf sum = 0.0f, mean = 0.0f;
        for (int e = 0; e < E; e++) {
            sum += entropy[e];
            if (weighted) mean += weight[e] * entropy[e];
        }
        if (stacked) TILE(entropy_maps)(acc_stacked, (sum + moe_entropy) * stack_weight, ilc, io->pe_stacked, io->mi_stacked);
        if (weighted) TILE(entropy_maps)(acc_weighted, mean, ilc, io->pe_weighted, io->mi_weighted);
        if (ensemble) TILE(entropy_maps)(acc_ensemble, sum * member_weight, ilc, io->pe_ensemble, io->mi_ensemble);
    }
    if (variance) store(io->expert_variance, __builtin_elementwise_sqrt(squares * member_weight));

    // Routing: each sample recombines the logits (still in L1) and adds its softmax to Σ_k p^(k).
    if (a->samples > 0 && io->routing_mi) {
        vf entropy_sum = 0.0f;
        for (int k = 0; k < a->samples; k++) {
            const float *table = a->routing + (size_t)k * E * C;
            vf sample_max = 0.0f;
            for (int c = 0; c < C; c++) {
                vf mixed = 0.0f;
                for (int e = 0; e < E; e++) mixed += table[e * C + c] * load(z + ((size_t)e * C + c) * LANES);
                store(zm + c * LANES, mixed);
                sample_max = c == 0 ? mixed : vmax(sample_max, mixed);
            }
            vf inv;
            entropy_sum += TILE(exp_rows)(zm, C, sample_max, xk, &inv);
            for (int c = 0; c < C; c++) {
                vf p = load(xk + c * LANES) * inv;
                store(pk + c * LANES, k == 0 ? p : load(pk + c * LANES) + p);
            }
        }
        const float per_sample = 1.0f / (float)a->samples;
        vf acc = 0.0f;
        for (int c = 0; c < C; c++) acc += TILE(xlogx)(load(pk + c * LANES) * per_sample);
        TILE(entropy_maps)(acc, entropy_sum * per_sample, ilc, io->routing_pe, io->routing_mi);
    }
}

/// The block, with E a compile-time constant for two to four experts.
TILE_FN void TILE(mix_block)(const ck_mix_tile_args *a, const block_io *io) {
    switch (a->experts) {
    case 2: TILE(mix_block_for)(a, io, 2); break;
    case 3: TILE(mix_block_for)(a, io, 3); break;
    case 4: TILE(mix_block_for)(a, io, 4); break;
    default: TILE(mix_block_for)(a, io, a->experts); break;
    }
}

/// Frame-score sums of one call, kept as lane vectors and added to the caller's float64 totals
/// every `SCORE_FLUSH` blocks (a lane-by-lane reduction per block would cost more than the sums).
typedef struct {
    vf sum[4];
    vi above[4];
    int blocks;
} TILE(scores);

#define SCORE_FLUSH 16

TILE_FN void TILE(scores_flush)(const ck_mix_tile_args *a, TILE(scores) *acc) {
    for (int m = 0; m < 4; m++) {
        double sum = 0;
        int64_t above = 0;
        for (int l = 0; l < LANES; l++) {
            sum += acc->sum[m][l];
            above -= acc->above[m][l];
        }
        a->mi_sum[m] += sum;
        a->mi_above[m] += above;
        acc->sum[m] = 0.0f;
        acc->above[m] = 0;
    }
    acc->blocks = 0;
}

/// The outputs a block writes besides the maps: bytes of ĉ, the fill map, the frame-score sums
/// (the first `lanes` pixels count).
TILE_FN void TILE(block_extras)(const ck_mix_tile_args *a, const block_io *io, ptrdiff_t i, int lanes,
                                TILE(scores) *acc) {
    if (a->prediction_bytes)
        for (int l = 0; l < lanes; l++) a->prediction_bytes[i + l] = (uint8_t)io->prediction[l];
    if (a->fill) {
        if (lanes == LANES) store(a->fill + i, (vf)a->fill_value);
        else for (int l = 0; l < lanes; l++) a->fill[i + l] = a->fill_value;
    }
    if (!a->mi_sum) return;
    const float *maps[4] = {io->mi_stacked, io->mi_weighted, io->mi_ensemble, io->routing_mi};
    for (int m = 0; m < 4; m++) {
        if (!maps[m]) continue;
        if (lanes == LANES) {
            vf v = load(maps[m]);
            acc->sum[m] += v;
            acc->above[m] += v > a->score_threshold;  // −1 where above
        } else {
            for (int l = 0; l < lanes; l++) {
                a->mi_sum[m] += maps[m][l];
                a->mi_above[m] += maps[m][l] > a->score_threshold;
            }
        }
    }
    if (++acc->blocks == SCORE_FLUSH) TILE(scores_flush)(a, acc);
}

TILE_FN void TILE(tile_body)(const ck_mix_tile_args *a, ptrdiff_t start, ptrdiff_t count) {
    const int E = a->experts, C = a->classes;
    block_io io;
    io.stride = a->plane;
    ptrdiff_t i = start, end = start + count;
    // ĉ is needed as int32 for the bytes too, so a block writes it somewhere even if the caller
    // wants bytes only.
    int32_t labels[LANES];
    TILE(scores) acc = {.blocks = 0};
    for (int m = 0; m < 4; m++) {
        acc.sum[m] = 0.0f;
        acc.above[m] = 0;
    }
    for (; i + LANES <= end; i += LANES) {
        for (int e = 0; e < E; e++) io.z[e] = a->expert_logits[e] + i;
        io.moe = AT(a->moe_logits, i);
        io.prediction = a->prediction ? a->prediction + i : labels;
        io.probabilities = AT(a->probabilities, i);
        io.moe_logits = AT(a->moe_logits_out, i);
        io.pe_stacked = AT(a->pe_stacked, i);
        io.mi_stacked = AT(a->mi_stacked, i);
        io.pe_weighted = AT(a->pe_weighted, i);
        io.mi_weighted = AT(a->mi_weighted, i);
        io.pe_ensemble = AT(a->pe_ensemble, i);
        io.mi_ensemble = AT(a->mi_ensemble, i);
        io.expert_variance = AT(a->expert_variance, i);
        io.routing_pe = AT(a->routing_pe, i);
        io.routing_mi = AT(a->routing_mi, i);
        TILE(mix_block)(a, &io);
        TILE(block_extras)(a, &io, i, LANES, &acc);
    }
    if (a->mi_sum) TILE(scores_flush)(a, &acc);
    if (i == end) return;

    // A partial block: stage its inputs as LANES-wide rows (zero-padded), compute, copy out.
    const int rest = (int)(end - i);
    float *stage = a->scratch + ck_mix_tile_scratch_floats(E, C) - ((size_t)(E + 3) * C + 10) * MAX_LANES;
    memset(stage, 0, ((size_t)(E + 3) * C + 10) * MAX_LANES * sizeof(float));
    for (int e = 0; e < E; e++) {
        float *rows = stage + (size_t)e * C * LANES;
        for (int c = 0; c < C; c++) memcpy(rows + c * LANES, a->expert_logits[e] + c * a->plane + i, rest * sizeof(float));
        io.z[e] = rows;
    }
    float *moe = stage + (size_t)E * C * LANES, *probabilities = moe + C * LANES, *moe_out = probabilities + C * LANES;
    float *maps = moe_out + C * LANES;
    if (a->moe_logits)
        for (int c = 0; c < C; c++) memcpy(moe + c * LANES, a->moe_logits + c * a->plane + i, rest * sizeof(float));
    float *const outputs[9] = {a->pe_stacked, a->mi_stacked, a->pe_weighted, a->mi_weighted, a->pe_ensemble,
                               a->mi_ensemble, a->expert_variance, a->routing_pe, a->routing_mi};
    float **staged[9] = {&io.pe_stacked, &io.mi_stacked, &io.pe_weighted, &io.mi_weighted, &io.pe_ensemble,
                         &io.mi_ensemble, &io.expert_variance, &io.routing_pe, &io.routing_mi};
    for (int m = 0; m < 9; m++) *staged[m] = outputs[m] ? maps + m * LANES : NULL;
    io.moe = a->moe_logits ? moe : NULL;
    io.stride = LANES;
    io.prediction = (int32_t *)(maps + 9 * LANES);
    io.probabilities = a->probabilities ? probabilities : NULL;
    io.moe_logits = a->moe_logits_out ? moe_out : NULL;
    TILE(mix_block)(a, &io);
    TILE(block_extras)(a, &io, i, rest, &acc);
    for (int m = 0; m < 9; m++)
        if (outputs[m]) memcpy(outputs[m] + i, maps + m * LANES, rest * sizeof(float));
    if (a->prediction) memcpy(a->prediction + i, maps + 9 * LANES, rest * sizeof(int32_t));
    for (int c = 0; c < C; c++) {
        if (a->probabilities) memcpy(a->probabilities + c * a->plane + i, probabilities + c * LANES, rest * sizeof(float));
        if (a->moe_logits_out) memcpy(a->moe_logits_out + c * a->plane + i, moe_out + c * LANES, rest * sizeof(float));
    }
}

#undef vf
#undef vi
#undef LANES
#undef vf_unaligned
#undef vi_unaligned
#undef load
#undef store
#undef vmax
#undef vmin
#undef unit
#undef TILE_EXP
#undef TILE_LOG
#undef TILE_LANES
#undef TILE
#undef TILE_FN
#undef SCORE_FLUSH
