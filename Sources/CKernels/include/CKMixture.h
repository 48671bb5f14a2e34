// Per-pixel kernels of the mixture's uncertainty maps (Sources/Mixture/PlaneKernels.swift
// calls them): softmax + entropy over class planes and p·ln p sums, with the same exp/log
// polynomials as the Swift FastMath, compiled for AVX-512 and AVX2+FMA with a baseline fallback chosen
// at run time. Pointers are float planes of `n` pixels; class planes are `stride` floats apart.
#ifndef CKMIXTURE_H
#define CKMIXTURE_H

#include <stddef.h>

/// p = softmax over `classes` planes of `logits`, written to `probabilities`, and each pixel's
/// entropy H(p) to `entropy`; `maximum`, `sum`, `dot` are scratch rows of n floats.
void ck_mix_softmax_entropy(const float *logits, ptrdiff_t logit_stride, int classes, int n,
                            float *probabilities, ptrdiff_t probability_stride, float *entropy,
                            float *maximum, float *sum, float *dot);

/// probability_sum += softmax(logits) (planes `sum_stride` apart) and entropy_sum += H; the
/// exponentials go to `scratch` (classes planes of n).
void ck_mix_accumulate_softmax_entropy(const float *logits, ptrdiff_t logit_stride, int classes, int n,
                                       float *scratch, float *probability_sum, ptrdiff_t sum_stride,
                                       float *entropy_sum, float *maximum, float *sum, float *dot);

/// acc += q ln q with q = scale·p (0 ln 0 = 0).
void ck_mix_accumulate_xlogx(const float *p, float scale, float *acc, int n);

/// acc += q ln q with q = scale·(p + r).
void ck_mix_accumulate_xlogx_sum(const float *p, const float *r, float scale, float *acc, int n);

#endif
