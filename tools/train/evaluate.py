#!/usr/bin/env python3
"""mIoU of exported moeseg model directories on the test recordings, computed with onnxruntime
and numpy exactly as docs/model-format.md defines the combination (no torch).

    evaluate.py out/models/demo [--every 5] [--json out/eval.json]
For every moe.toml under the folder (and every expert alone) prints mIoU on the highway, urban and
ambiguous test drives (classes 0..C-1; 254/255 skipped), on highway + urban pooled ("combined") and
on all three pooled, plus the mean gate weight per domain."""
from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

from common import load_split
from metrics import confusion, mean_iou
from normalisation import to_input
from onnx_sessions import Sessions, softmax


def predict(manifest: dict, folder: Path, x: np.ndarray, sessions: Sessions, cache: dict, seed: int):
    """(class probabilities [1,C,H,W], gate weights or None) of one manifest on input x."""
    experts = manifest["experts"]
    if "mc_dropout" in manifest:
        mc = manifest["mc_dropout"]
        path = folder / experts[0]["file"]
        mask_shape = sessions.input_shape(path, "dropout_mask")
        rng = np.random.default_rng(seed)
        probabilities = 0
        for _ in range(mc["passes"]):
            mask = (rng.random(mask_shape) >= mc["rate"]).astype(np.float32)
            probabilities = probabilities + softmax(sessions.run(path, {"image": x, "dropout_mask": mask})["logits"], 1)
        return probabilities / mc["passes"], None
    outputs = sessions.expert_outputs(folder, experts, x, cache)
    logits = np.stack([o["logits"] for o in outputs], 1)  # [1, E, C, H, W]
    gate = manifest.get("gate")
    if gate is None:
        return softmax(logits, 2).mean(1), None
    feeds = {name: o["features"] for name, o in zip(gate["inputs"], outputs)}
    weights = softmax(sessions.run(folder / gate["file"], feeds)[gate["output"]], 1)
    w = weights[:, :, None, None, None] if weights.ndim == 2 else weights[:, :, :, None, None]
    combine = manifest.get("combine", {})
    if combine.get("rule", "logits") == "probabilities":
        return (w * softmax(logits, 2)).sum(1), weights
    mixed = (w * logits).sum(1).astype(np.float32)
    if "conv" in combine:
        mixed = sessions.run(folder / combine["conv"], {"moe_logits": mixed})["logits"]
    return softmax(mixed, 1), weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path)
    parser.add_argument("--every", type=int, default=5, help="every n-th test frame of each drive")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    manifests = {p.parent.name: (p.parent, tomllib.loads(p.read_text())) for p in sorted(args.models.rglob("moe.toml"))}
    # every expert alone, as a single-model manifest
    for folder, manifest in list(manifests.values()):
        for e in manifest["experts"]:
            if "mc_dropout" not in manifest:
                manifests.setdefault(f"expert:{e['name']}", (folder, {**manifest, "experts": [e], "gate": None}))
    for name, (folder, manifest) in manifests.items():
        if manifest.get("gate") is None:
            manifest.pop("gate", None)
    sessions = Sessions(args.threads)
    num_classes = len(next(iter(manifests.values()))[1]["classes"]["names"])
    results = {name: {} for name in manifests}
    start = time.monotonic()
    for domain in ("highway", "urban", "ambiguous"):
        images, labels = load_split("test", [domain], args.every)
        matrices = {name: np.zeros((num_classes, num_classes), np.int64) for name in manifests}
        gate_sums = {name: 0.0 for name in manifests}
        for index in range(len(images)):
            x = to_input(images[index])[None]
            cache: dict = {}
            for name, (folder, manifest) in manifests.items():
                probabilities, weights = predict(manifest, folder, x, sessions, cache, seed=index)
                matrices[name] += confusion(probabilities[0].argmax(0), labels[index], num_classes)
                if weights is not None:
                    gate_sums[name] = gate_sums[name] + weights.reshape(weights.shape[1], -1).mean(1)
        for name in manifests:
            results[name][domain] = {"miou": mean_iou(matrices[name]), "confusion": matrices[name].tolist()}
            if not np.isscalar(gate_sums[name]):
                results[name][domain]["gate_mean"] = [round(float(v), 3) for v in gate_sums[name] / len(images)]
        print(f"{domain}: {len(images)} frames done, {time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)

    # Pooled confusion matrices: "combined" = the in-distribution test sets (highway + urban), "all" adds ambiguous.
    for by_domain in results.values():
        for pooled, domains in (("combined", ("highway", "urban")), ("all", ("highway", "urban", "ambiguous"))):
            by_domain[pooled] = {"miou": mean_iou(sum(np.array(by_domain[d]["confusion"]) for d in domains))}
    columns = ("highway", "urban", "ambiguous", "combined", "all")
    print("| model | highway | urban | ambiguous | combined (highway + urban) | all three | mean gate weight (highway expert, urban expert) per domain |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, by_domain in results.items():
        gates = "; ".join(f"{d}: {v['gate_mean']}" for d, v in by_domain.items() if "gate_mean" in v)
        print(f"| {name} | " + " | ".join(f"{by_domain[d]['miou']:.3f}" for d in columns) + f" | {gates} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
