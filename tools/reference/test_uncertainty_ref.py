#!/usr/bin/env python3
"""Self-checks of uncertainty_ref.py on cases whose answers follow from the definitions.

Plain python (no pytest): `python tools/reference/test_uncertainty_ref.py`; exits non-zero
on the first failure.
"""

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uncertainty_ref as ref  # noqa: E402

CHECKS = []


def check(function):
    CHECKS.append(function)
    return function


def close(a, b, tol=1e-9):
    return np.all(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) <= tol)


def random_case(rng, experts, classes, gate, h=3, w=4):
    z = rng.normal(0, 3, size=(experts, classes, h, w))
    a = rng.normal(0, 1.5, size=(experts,) if gate == "simple" else (experts, classes))
    return z, a


@check
def generator_known_answers():
    # xoshiro256** from state (1, 2, 3, 4): first words 11520, 0 (worked by hand from the
    # algorithm: rotl(2*5, 7)*9 = 11520; after one step s1 = 0).
    rng = ref.Xoshiro256StarStar([1, 2, 3, 4])
    assert rng.next() == 11520
    assert rng.next() == 0
    # SplitMix64 seeded with 0: first output 0xE220A8397B1DCDAF (the published test value).
    assert ref.splitmix_mix(ref.GOLDEN) == 0xE220A8397B1DCDAF


@check
def gumbel_statistics():
    rng = ref.Xoshiro256StarStar.for_frame(7, 0)
    draws = np.array([rng.gumbel() for _ in range(20000)])
    # Standard Gumbel: mean = Euler-Mascheroni constant, variance = pi^2/6.
    assert abs(draws.mean() - 0.5772156649) < 0.03, draws.mean()
    assert abs(draws.var() - math.pi ** 2 / 6) < 0.08, draws.var()


@check
def one_hot_and_uniform():
    classes = 5
    z = np.full((2, classes, 2, 2), -200.0)
    z[:, 3] = 200.0                                  # both experts one-hot on class 3
    maps = ref.mixture_maps(z, np.zeros(2), member_sets=("stacked", "weighted", "ensemble"))
    for name in ("pe_stacked", "pe_weighted", "pe_ensemble", "mi_stacked", "expert_variance"):
        assert close(maps[name], 0), name
    assert np.all(maps["prediction"] == 3)
    uniform = ref.mixture_maps(np.zeros((3, classes, 2, 2)), np.zeros(3), member_sets=("stacked", "ensemble"))
    assert close(uniform["pe_stacked"], 1) and close(uniform["pe_ensemble"], 1)
    assert close(uniform["mi_stacked"], 0)
    assert np.all(uniform["prediction"] == 0)        # ties go to the lowest class
    assert close(uniform["gate_entropy"], 1)


@check
def identical_experts_have_no_disagreement():
    rng = np.random.default_rng(1)
    for gate in ("simple", "classwise"):
        one = rng.normal(0, 3, size=(1, 4, 3, 3))
        z = np.repeat(one, 3, axis=0)
        a = rng.normal(size=(3,) if gate == "simple" else (3, 4))
        sets = ("stacked", "ensemble") + (("weighted",) if gate == "simple" else ())
        maps = ref.mixture_maps(z, a, gate=gate, member_sets=sets,
                                routing={"samples": 4, "temperature": 0.5, "seed": 3})
        for name in ("mi_stacked", "mi_ensemble", "expert_variance", "routing_mi"):
            assert close(maps[name], 0, 1e-12), name
        assert close(maps["pe_ensemble"], ref.entropy(ref.softmax(one[0], 0)) / math.log(4))


@check
def gate_at_zero_and_one():
    rng = np.random.default_rng(2)
    z = rng.normal(0, 3, size=(2, 2, 4, 4))          # C = 2
    maps = ref.mixture_maps(z, np.array([0.0, -1000.0]), member_sets=("stacked", "weighted", "ensemble"))
    assert close(maps["gate_weights"], [1, 0])
    p0 = ref.softmax(z[0], 0)
    assert close(maps["probabilities"], p0)
    assert close(maps["mi_weighted"], 0)             # one member with weight 1
    assert close(maps["pe_weighted"], ref.entropy(p0) / math.log(2))
    assert close(maps["gate_entropy"], 0)
    # EV with p_moe = p_0: |p_1 - p_0| / sqrt(2) at the predicted class.
    p1 = ref.softmax(z[1], 0)
    c = np.argmax(z[0], axis=0)
    expected = np.abs(np.take_along_axis(p1 - p0, c[None], 0)[0]) / math.sqrt(2)
    assert close(maps["expert_variance"], expected)


@check
def probability_rule_matches_eq1_and_weighted_mean():
    rng = np.random.default_rng(3)
    z, a = random_case(rng, 3, 6, "simple")
    maps = ref.mixture_maps(z, a, combine="probabilities", member_sets=("weighted",))
    g = ref.softmax(a, 0)
    p = ref.softmax(z, 1)
    assert close(maps["probabilities"], np.einsum("e,echw->chw", g, p))
    assert close(maps["pe_weighted"], ref.entropy(maps["probabilities"]) / math.log(6))
    z, a = random_case(rng, 3, 6, "classwise")
    maps = ref.mixture_maps(z, a, gate="classwise", combine="probabilities")
    assert close(np.sum(maps["probabilities"], axis=0), 1)


@check
def weighted_is_refused_for_classwise():
    z, a = random_case(np.random.default_rng(4), 2, 3, "classwise")
    try:
        ref.mixture_maps(z, a, gate="classwise", member_sets=("weighted",))
    except ref.WeightedRefused:
        return
    raise AssertionError("weighted with a classwise gate was not refused")


@check
def maps_stay_in_unit_interval():
    rng = np.random.default_rng(5)
    for experts in (2, 3, 5):
        for gate in ("simple", "classwise"):
            z, a = random_case(rng, experts, 12, gate)
            sets = ("stacked", "ensemble") + (("weighted",) if gate == "simple" else ())
            maps = ref.mixture_maps(z, a, gate=gate, member_sets=sets,
                                    routing={"samples": 5, "temperature": 1.0, "seed": 9})
            for name, value in maps.items():
                if name.startswith(("pe_", "mi_", "routing_pe", "routing_mi", "expert_variance", "gate_entropy")):
                    assert np.all(value >= 0) and np.all(value <= 1), name


@check
def routing_samples_are_reproducible_and_distinct():
    a = np.array([[0.3, -1.0], [0.1, 0.4], [-0.2, 0.0]])
    first = ref.routing_gate_samples(a, 4, 1.0, seed=11, frame_index=5)
    assert np.array_equal(first, ref.routing_gate_samples(a, 4, 1.0, seed=11, frame_index=5))
    assert not np.allclose(first, ref.routing_gate_samples(a, 4, 1.0, seed=12, frame_index=5))
    assert not np.allclose(first, ref.routing_gate_samples(a, 4, 1.0, seed=11, frame_index=6))
    assert close(np.sum(first, axis=1), 1)


@check
def routing_temperature_limits_tempered():
    """The design card's form softmax((a + G)/T)."""
    rng = np.random.default_rng(6)
    z, a = random_case(rng, 3, 12, "simple")
    tempered = {"seed": 2, "samples": 16, "form": "tempered"}
    hard = ref.mixture_maps(z, a, routing=dict(tempered, temperature=0.0))
    near = ref.mixture_maps(z, a, routing=dict(tempered, temperature=1e-4))
    # T -> 0: samples become one-hot Gumbel-max draws (the T = 0 rule), not g itself.
    assert np.all(np.isin(hard["routing_gates"], [0.0, 1.0]))
    assert close(near["routing_gates"], hard["routing_gates"], 1e-6)
    assert close(near["routing_mi"], hard["routing_mi"], 1e-6)
    # T -> infinity: every sample tends to uniform routing, so they agree and MI -> 0.
    flat = ref.mixture_maps(z, a, routing=dict(tempered, temperature=1e6))
    assert np.max(flat["routing_mi"]) < 1e-6
    # A decisive gate routes every hard sample to the same expert: routing MI = 0.
    decisive = ref.mixture_maps(z, np.array([40.0, 0.0, 0.0]), routing=dict(tempered, temperature=0.0))
    assert close(decisive["routing_mi"], 0)


@check
def routing_temperature_limits_scaled_noise():
    """The default form softmax(a + T G): T scales the noise, so T -> 0 collapses every sample onto g."""
    rng = np.random.default_rng(6)
    z, a = random_case(rng, 3, 12, "simple")
    g = ref.gate_weights(a)
    zero = ref.mixture_maps(z, a, routing={"samples": 16, "temperature": 0.0, "seed": 2})
    assert close(zero["routing_gates"], np.broadcast_to(g, zero["routing_gates"].shape), 1e-12)
    assert np.max(zero["routing_mi"]) < 1e-12
    mis = [np.mean(ref.mixture_maps(z, a, routing={"samples": 16, "temperature": t, "seed": 2})["routing_mi"])
           for t in (2.0, 0.5, 0.1, 0.01, 0.001)]
    assert mis[0] > 1e-3 and all(x > y for x, y in zip(mis, mis[1:])) and mis[-1] < 1e-6, mis
    one = ref.mixture_maps(z, a, routing={"samples": 16, "temperature": 1.0, "seed": 2})
    card = ref.mixture_maps(z, a, routing={"samples": 16, "temperature": 1.0, "seed": 2, "form": "tempered"})
    assert close(one["routing_gates"], card["routing_gates"], 1e-12)  # the forms agree at T = 1


@check
def sample_set_matches_ensemble_member_set():
    rng = np.random.default_rng(7)
    z, a = random_case(rng, 4, 5, "simple")
    mixture = ref.mixture_maps(z, a, member_sets=("ensemble",))
    samples = ref.sample_maps(z)
    assert close(samples["pe"], mixture["pe_ensemble"]) and close(samples["mi"], mixture["mi_ensemble"])
    assert close(samples["mean"], np.mean(ref.softmax(z, 1), axis=0))


@check
def cli_reads_npy_and_npz_cases():
    import json
    import tempfile
    rng = np.random.default_rng(8)
    z, a = random_case(rng, 2, 4, "classwise")
    config = {"gate": "classwise", "combine": "logits", "member_sets": ["stacked"],
              "routing": {"samples": 3, "temperature": 0.5, "seed": str(2 ** 64 - 5)}, "frame_index": "7"}
    expected = ref.mixture_maps(z, a, gate="classwise", member_sets=("stacked",),
                                routing={"samples": 3, "temperature": 0.5, "seed": 2 ** 64 - 5}, frame_index=7)
    with tempfile.TemporaryDirectory() as root:
        for form in ("npy", "npz"):
            case = os.path.join(root, form)
            os.makedirs(case)
            with open(os.path.join(case, "config.json"), "w") as f:
                json.dump(config, f)
            if form == "npy":
                np.save(os.path.join(case, "expert_logits.npy"), z.astype(np.float32))
                np.save(os.path.join(case, "gate_logits.npy"), a.astype(np.float32))
            else:
                np.savez(os.path.join(case, "inputs.npz"), expert_logits=z.astype(np.float32),
                         gate_logits=a.astype(np.float32))
            assert ref.main(["uncertainty_ref.py", case]) == 0
            for name in ("routing_mi", "pe_stacked", "gate_entropy_map"):
                got = np.load(os.path.join(case, "reference", name + ".npy"))
                assert close(got, expected[name], 1e-5), (form, name)


def main():
    failures = 0
    for function in CHECKS:
        try:
            function()
            print("ok   %s" % function.__name__)
        except AssertionError as error:
            failures += 1
            print("FAIL %s: %s" % (function.__name__, error))
    print("%d checks, %d failed" % (len(CHECKS), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
