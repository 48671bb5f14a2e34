#!/usr/bin/env python3
"""Reference implementation of moeseg's mixture uncertainty maps (numpy, float64).

Written from /work/shared/design/UNCERTAINTY.md sections 1-3 and docs/uncertainty.md,
not from the Swift code, so the Swift tests can compare against it. Clarity over speed.

Layout: expert logits z have shape (E, C, H, W); gate logits a have shape (E,) for a
simple gate or (E, C) for a classwise gate.

Routing sample generator (must match the Swift side exactly):
  * SplitMix64: state += 0x9E3779B97F4A7C15; out = mix(state), where
    mix(z): z = (z ^ z>>30) * 0xBF58476D1CE4E5B9; z = (z ^ z>>27) * 0x94D049BB133111EB;
    return z ^ z>>31   (all arithmetic mod 2^64).
  * Per frame: a SplitMix64 seeder starts at seed ^ mix(frame_index + 0x9E3779B97F4A7C15);
    its next four outputs are the xoshiro256** state s0..s3.
  * xoshiro256** 1.0 produces one 64-bit word per draw; u = ((word >> 11) + 0.5) * 2^-53
    is uniform on (0, 1) open; Gumbel = -ln(-ln u) in float64 (C library log).
  * Draw order: for k in samples, for e in experts, for c in gate columns (1 for simple).
  * form "scaled_noise" (the default): g^(k)[:, c] = softmax(a[:, c] + T * G[:, c]) over
    experts; T = 0 gives softmax(a) for every sample, so routing MI -> 0 as T -> 0.
  * form "tempered" (the design card's formula): g^(k)[:, c] = softmax((a[:, c] + G[:, c]) / T);
    T = 0 means one-hot at the first maximum of a[:, c] + G[:, c] (Gumbel-max).

CLI:
  uncertainty_ref.py CASE_DIR [CASE_DIR ...]
Each CASE_DIR holds config.json and its arrays, as .npy files or in one inputs.npz:
  mixture: expert_logits.npy (E,C,H,W) and gate_logits.npy (E,) or (E,C), config keys
           "gate" ("simple"|"classwise"), "combine" ("logits"|"probabilities"),
           "member_sets" (list), "routing": {"samples", "temperature", "seed",
           "form" ("scaled_noise" default | "tempered")}, "frame_index"
           (seed and frame_index may be decimal strings, so 64-bit values survive JSON)
  samples: config "kind": "samples" and sample_logits.npy (S,C,H,W)
and gets CASE_DIR/reference/<map>.npy (float64) for every map.
"""

import json
import math
import os
import sys

import numpy as np

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


class WeightedRefused(ValueError):
    """The "weighted" member set was asked for with a classwise gate."""


# ---------------------------------------------------------------- random routing samples

def splitmix_mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK64


class Xoshiro256StarStar:
    def __init__(self, state):
        self.s = list(state)

    @classmethod
    def for_frame(cls, seed, frame_index):
        seeder = (seed ^ splitmix_mix((frame_index + GOLDEN) & MASK64)) & MASK64
        words = []
        for _ in range(4):
            seeder = (seeder + GOLDEN) & MASK64
            words.append(splitmix_mix(seeder))
        return cls(words)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def gumbel(self):
        u = ((self.next() >> 11) + 0.5) * 2.0 ** -53
        return -math.log(-math.log(u))


def routing_gate_samples(gate_logits, samples, temperature, seed, frame_index, form="scaled_noise"):
    """K gate samples, shaped like gate_logits with a leading K axis."""
    a = np.asarray(gate_logits, dtype=np.float64)
    experts = a.shape[0]
    columns = 1 if a.ndim == 1 else a.shape[1]
    a2 = a.reshape(experts, columns)
    rng = Xoshiro256StarStar.for_frame(int(seed) & MASK64, int(frame_index) & MASK64)
    out = np.zeros((samples, experts, columns))
    for k in range(samples):
        noise = np.array([[rng.gumbel() for _ in range(columns)] for _ in range(experts)])
        if form == "scaled_noise":
            for c in range(columns):
                out[k, :, c] = softmax(a2[:, c] + temperature * noise[:, c], axis=0)
            continue
        if form != "tempered":
            raise ValueError("unknown routing form %r" % form)
        perturbed = a2 + noise
        for c in range(columns):
            if temperature == 0:
                out[k, int(np.argmax(perturbed[:, c])), c] = 1.0  # np.argmax: first maximum
            else:
                out[k, :, c] = softmax(perturbed[:, c] / temperature, axis=0)
    return out.reshape((samples,) + a.shape)


# ---------------------------------------------------------------- distributions

def softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def entropy(p, axis=0):
    """H(p) = -sum p ln p with 0 ln 0 = 0."""
    p = np.asarray(p, dtype=np.float64)
    safe = np.where(p > 0, p, 1.0)
    return -np.sum(np.where(p > 0, p * np.log(safe), 0.0), axis=axis)


def pe_mi(members, weights, classes):
    """Normalised PE and MI of member distributions members[s] (C,H,W) with weights w_s.

    Both are clamped to [0, 1]; MI is >= 0 in exact arithmetic (Jensen)."""
    w = np.asarray(weights, dtype=np.float64).reshape(-1, 1, 1, 1)
    mean = np.sum(w * members, axis=0)
    h_mean = entropy(mean, axis=0)
    h_members = np.sum(w[:, :, 0] * entropy(members, axis=1), axis=0)
    pe = np.clip(h_mean / math.log(classes), 0.0, 1.0)
    mi = np.clip((h_mean - h_members) / math.log(classes), 0.0, 1.0)
    return pe, mi


def gate_weights(gate_logits):
    """g = softmax over experts (axis 0), for (E,) and (E, C) gate logits."""
    return softmax(np.asarray(gate_logits, dtype=np.float64), axis=0)


def mix_logits(expert_logits, g):
    """z_moe = sum_e g_e z_e (classwise: per class)."""
    weights = g.reshape(g.shape[0], 1, 1, 1) if g.ndim == 1 else g[:, :, None, None]
    return np.sum(weights * expert_logits, axis=0)


# ---------------------------------------------------------------- the mixture

def mixture_maps(expert_logits, gate_logits, gate="simple", combine="logits",
                 member_sets=("stacked", "ensemble"), routing=None, frame_index=0, moe_transform=None):
    """All maps of one frame. `moe_transform` (logits rule only) maps z_moe (C,H,W) to the
    final logits, e.g. the "+conv"; p_moe, the prediction, the stacked set and EV use its
    output, the weighted and ensemble sets and the routing samples do not (docs/mixture.md)."""
    z = np.asarray(expert_logits, dtype=np.float64)
    experts, classes = z.shape[0], z.shape[1]
    a = np.asarray(gate_logits, dtype=np.float64)
    if gate == "classwise" and "weighted" in member_sets:
        raise WeightedRefused("the weighted member set needs a simple gate")
    if (gate == "simple") != (a.ndim == 1):
        raise ValueError("gate logits shape %s does not fit a %s gate" % (a.shape, gate))

    g = gate_weights(a)
    p_experts = softmax(z, axis=1)                                   # (E, C, H, W)
    maps = {"gate_weights": g}

    if combine == "logits":
        z_moe = mix_logits(z, g)
        if moe_transform is not None:
            z_moe = moe_transform(z_moe)
        maps["moe_logits"] = z_moe
        p_moe = softmax(z_moe, axis=0)
        prediction = np.argmax(z_moe, axis=0)                      # ties: first maximum
    elif combine == "probabilities":
        if moe_transform is not None:
            raise ValueError("a combine conv needs the logits rule")
        weights = g.reshape(experts, 1, 1, 1) if g.ndim == 1 else g[:, :, None, None]
        p_moe = np.sum(weights * p_experts, axis=0)
        if gate == "classwise":                                      # renormalise over classes
            p_moe = p_moe / np.sum(p_moe, axis=0, keepdims=True)
        prediction = np.argmax(p_moe, axis=0)
    else:
        raise ValueError("unknown combine rule %r" % combine)
    maps["probabilities"] = p_moe
    maps["prediction"] = prediction.astype(np.float64)

    if "stacked" in member_sets:
        members = np.concatenate([p_moe[None], p_experts], axis=0)
        maps["pe_stacked"], maps["mi_stacked"] = pe_mi(members, np.full(experts + 1, 1.0 / (experts + 1)), classes)
    if "weighted" in member_sets:
        maps["pe_weighted"], maps["mi_weighted"] = pe_mi(p_experts, g, classes)
    if "ensemble" in member_sets:
        maps["pe_ensemble"], maps["mi_ensemble"] = pe_mi(p_experts, np.full(experts, 1.0 / experts), classes)

    # EV (Eq. 3) at the predicted class, around p_moe.
    chosen = prediction[None, None]                                  # (1, 1, H, W)
    p_e_hat = np.take_along_axis(p_experts, np.broadcast_to(chosen, (experts, 1) + prediction.shape), axis=1)[:, 0]
    p_moe_hat = np.take_along_axis(p_moe, prediction[None], axis=0)[0]
    maps["expert_variance"] = np.sqrt(np.mean((p_e_hat - p_moe_hat) ** 2, axis=0))

    # Gate entropy H(g)/ln E: one value (simple) or a map over g[:, c_hat(x)] (classwise).
    column_entropy = entropy(g, axis=0) / math.log(experts)
    if gate == "simple":
        maps["gate_entropy"] = np.array(column_entropy)
    else:
        gate_map = column_entropy[prediction]
        maps["gate_entropy_map"] = gate_map
        maps["gate_entropy"] = np.array(np.mean(gate_map))

    if routing and routing.get("samples", 0) > 0:
        gates = routing_gate_samples(a, routing["samples"], routing["temperature"], routing["seed"], frame_index,
                                     routing.get("form", "scaled_noise"))
        sample_probabilities = np.stack([softmax(mix_logits(z, gk), axis=0) for gk in gates])
        k = gates.shape[0]
        maps["routing_pe"], maps["routing_mi"] = pe_mi(sample_probabilities, np.full(k, 1.0 / k), classes)
        maps["routing_gates"] = gates
    return maps


def sample_maps(sample_logits):
    """MC dropout / ensemble: S member distributions, uniform weights."""
    z = np.asarray(sample_logits, dtype=np.float64)
    samples, classes = z.shape[0], z.shape[1]
    p = softmax(z, axis=1)
    mean = np.mean(p, axis=0)
    pe, mi = pe_mi(p, np.full(samples, 1.0 / samples), classes)
    return {"mean": mean, "prediction": np.argmax(mean, axis=0).astype(np.float64), "pe": pe, "mi": mi}


# ---------------------------------------------------------------- CLI

def load_inputs(directory):
    """Arrays by name: from inputs.npz if present, else from the directory's .npy files."""
    bundle = os.path.join(directory, "inputs.npz")
    if os.path.exists(bundle):
        with np.load(bundle) as archive:
            return {name: archive[name] for name in archive.files}
    return {name[:-4]: np.load(os.path.join(directory, name))
            for name in os.listdir(directory) if name.endswith(".npy")}


def run_case(directory):
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    inputs = load_inputs(directory)
    if config.get("kind") == "samples":
        maps = sample_maps(inputs["sample_logits"])
    else:
        maps = mixture_maps(inputs["expert_logits"], inputs["gate_logits"],
                            gate=config["gate"], combine=config["combine"],
                            member_sets=tuple(config.get("member_sets", ["stacked", "ensemble"])),
                            routing=config.get("routing"), frame_index=int(config.get("frame_index", 0)))
        if not config.get("keep_moe_logits", False):
            maps.pop("moe_logits", None)
    out = os.path.join(directory, "reference")
    os.makedirs(out, exist_ok=True)
    for name, value in maps.items():
        np.save(os.path.join(out, name + ".npy"), np.asarray(value, dtype=np.float64))


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    for directory in argv[1:]:
        try:
            run_case(directory)
        except (OSError, ValueError, KeyError) as error:
            print("uncertainty_ref: %s: %s" % (directory, error), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
