// Per-pixel kernels of the sample-set maps (ensembles, MC dropout; Sources/Mixture/PlaneKernels.swift
// calls them): softmax + entropy over class planes and p·ln p sums, compiled for AVX-512 and
// AVX2+FMA with a baseline fallback chosen at run time. Pointers are float planes of `n` pixels;
// class planes are `stride` floats apart.
#ifndef CKMIXTURE_H
#define CKMIXTURE_H

#include <stddef.h>

/// p = softmax over `classes` planes of `logits`, written to `probabilities`, and each pixel's
/// entropy H(p) to `entropy`; `maximum`, `sum`, `dot` are scratch rows of n floats.
void ck_mix_softmax_entropy(const float *logits, ptrdiff_t logit_stride, int classes, int n,
                            float *probabilities, ptrdiff_t probability_stride, float *entropy,
                            float *maximum, float *sum, float *dot);

/// acc += q ln q with q = scale·p (0 ln 0 = 0).
void ck_mix_accumulate_xlogx(const float *p, float scale, float *acc, int n);

#endif
