#!/usr/bin/env python3
"""First out-of-distribution numbers of the demo models (UNCERTAINTY.md §2-4), with onnxruntime
and numpy (no torch):
- pixel AUROC, on the ambiguous test drives: unknown-object pixels (254) vs known-class pixels,
  scored by PE and MI of each model's member set (MoE: "stacked" {p_moe, p_1..p_E}, simple gate
  also "weighted" {p_e, w = g_e}; ensemble: uniform; MC dropout: the passes);
- frame AUROC: ambiguous test frames vs highway + urban test frames, scored by gate entropy
  (classwise: mean over pixels of the predicted class's gate distribution) and by mean MI.

    ood.py models/demo [--every 5] [--pixels 4000] [--json out/train/ood.json]
Also prints each frame score's distribution per domain (mean and 10/50/90th percentiles).
"MI weighted" is the MI moeseg publishes for a simple gate, "MI stacked" the one for a classwise
gate (UNCERTAINTY.md §2)."""
from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path

import numpy as np

from common import load_split
from onnx_sessions import Sessions, softmax
from normalisation import to_input

UNKNOWN = 254


def entropy(p: np.ndarray, axis: int) -> np.ndarray:
    return -(p * np.log(np.clip(p, 1e-12, None))).sum(axis)


def pe_mi(members: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """members [S, C, H, W], weights [S] or [S, H, W] -> (PE, MI) maps normalised by ln C."""
    c = members.shape[1]
    w = weights.reshape(weights.shape[0], 1, *weights.shape[1:]) if weights.ndim == 3 else weights[:, None, None, None]
    mean = (w * members).sum(0)
    h_mean = entropy(mean, 0)
    mi = h_mean - (w[:, 0] * entropy(members, 1)).sum(0)
    return h_mean / np.log(c), np.clip(mi, 0, None) / np.log(c)


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Mann-Whitney U / (n_pos n_neg), ties counted half."""
    scores = np.concatenate([positive, negative])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks over ties
    unique, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    u = ranks[:len(positive)].sum() - len(positive) * (len(positive) + 1) / 2
    return float(u / (len(positive) * len(negative)))


def scores(name: str, folder: Path, manifest: dict, x: np.ndarray, sessions: Sessions, seed: int,
           cache: dict) -> dict:
    """Uncertainty maps (and frame gate entropy) of one manifest on input x; `cache` holds this
    frame's expert outputs by file, shared by the variants."""
    experts = manifest["experts"]
    out = {}
    if "mc_dropout" in manifest:
        mc = manifest["mc_dropout"]
        path = folder / experts[0]["file"]
        shape = sessions.input_shape(path, "dropout_mask")
        rng = np.random.default_rng(seed)
        members = np.stack([softmax(sessions.run(path, {"image": x, "dropout_mask": (rng.random(shape) >= mc["rate"])
                                                        .astype(np.float32)})["logits"][0], 0)
                            for _ in range(mc["passes"])])
        out["PE"], out["MI"] = pe_mi(members, np.full(len(members), 1 / len(members)))
        return out
    outputs = sessions.expert_outputs(folder, experts, x, cache)
    p = np.stack([softmax(o["logits"][0], 0) for o in outputs])  # [E, C, H, W]
    gate = manifest.get("gate")
    if gate is None:
        out["PE"], out["MI"] = pe_mi(p, np.full(len(p), 1 / len(p)))
        return out
    feeds = {n: o["features"] for n, o in zip(gate["inputs"], outputs)}
    g = softmax(sessions.run(folder / gate["file"], feeds)[gate["output"]][0], 0)  # [E] or [E, C]
    z = np.stack([o["logits"][0] for o in outputs])
    w = g[:, None, None, None] if g.ndim == 1 else g[:, :, None, None]
    mixed = (w * z).sum(0).astype(np.float32)
    if "conv" in manifest.get("combine", {}):
        mixed = sessions.run(folder / manifest["combine"]["conv"], {"moe_logits": mixed[None]})["logits"][0]
    p_moe = softmax(mixed, 0)
    stacked = np.concatenate([p_moe[None], p])
    out["PE"], out["MI stacked"] = pe_mi(stacked, np.full(len(stacked), 1 / len(stacked)))
    if g.ndim == 1:
        _, out["MI weighted"] = pe_mi(p, g)
        out["gate entropy"] = float(entropy(g, 0) / np.log(len(g)))
    else:
        predicted = p_moe.argmax(0)
        out["gate entropy"] = float((entropy(g, 0) / np.log(g.shape[0]))[predicted].mean())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--pixels", type=int, default=4000, help="known pixels sampled per frame")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write AUROCs and per-frame scores here")
    args = parser.parse_args()
    manifests = {p.parent.name: (p.parent, tomllib.loads(p.read_text())) for p in sorted(args.models.rglob("moe.toml"))}
    sessions = Sessions(args.threads)
    rng = np.random.default_rng(0)
    pixel = {n: {} for n in manifests}     # name -> score -> (pos list, neg list)
    frame = {n: {} for n in manifests}     # name -> score -> {domain: list}
    for domain in ("highway", "urban", "ambiguous"):
        images, labels = load_split("test", [domain], args.every)
        for index in range(len(images)):
            x = to_input(images[index])[None]
            label = labels[index]
            unknown = label == UNKNOWN
            known = np.flatnonzero(label.ravel() < 14)
            sample = rng.choice(known, min(args.pixels, len(known)), replace=False)
            cache: dict = {}
            for name, (folder, manifest) in manifests.items():
                result = scores(name, folder, manifest, x, sessions, seed=index, cache=cache)
                for key, value in result.items():
                    if np.isscalar(value):
                        frame[name].setdefault(key, {}).setdefault(domain, []).append(value)
                        continue
                    frame[name].setdefault(f"mean {key}", {}).setdefault(domain, []).append(float(value.mean()))
                    if domain == "ambiguous":
                        pos, neg = pixel[name].setdefault(key, ([], []))
                        pos.append(value[unknown])
                        neg.append(value.ravel()[sample])
    report = {"frames_per_domain": {d: len(v) for d, v in next(iter(next(iter(frame.values())).values())).items()},
              "auroc": {}, "frame_scores": frame}
    print("| model | score | pixel AUROC (unknown vs known, ambiguous) | frame AUROC of the score (maps: frame mean), ambiguous vs highway+urban |")
    print("|---|---|---:|---:|")
    for name in manifests:
        for key in sorted(set(pixel[name]) | {k.removeprefix("mean ") for k in frame[name]}):
            pix = None
            if key in pixel[name] and sum(len(a) for a in pixel[name][key][0]):
                pos, neg = (np.concatenate(a) for a in pixel[name][key])
                pix = auroc(pos, neg)
            fkey = key if key in frame[name] else f"mean {key}"
            f = frame[name][fkey]
            fr = auroc(np.array(f["ambiguous"]), np.array(f["highway"] + f["urban"]))
            report["auroc"].setdefault(name, {})[key] = {"pixel": pix, "frame": fr}
            print(f"| {name} | {key} | {'' if pix is None else f'{pix:.3f}'} | {fr:.3f} |")
    print()
    print("| model | frame score | highway mean (p10/p50/p90) | urban | ambiguous |")
    print("|---|---|---|---|---|")
    for name in manifests:
        for key, by_domain in frame[name].items():
            if key in ("mean PE",):
                continue
            cells = [f"{np.mean(v):.3f} ({np.percentile(v, 10):.3f}/{np.percentile(v, 50):.3f}/{np.percentile(v, 90):.3f})"
                     for v in (by_domain[d] for d in ("highway", "urban", "ambiguous"))]
            print(f"| {name} | {key} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
