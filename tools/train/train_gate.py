#!/usr/bin/env python3
"""Trains mixture-of-experts gates (simple or classwise, optionally "+conv") over frozen experts.

    train_gate.py --experts out/train/highway/expert.pt out/train/urban/expert.pt \
        --variants simple classwise simple+conv classwise+conv --out-dir out/train [--steps N]
Each variant goes to OUT_DIR/gate_<kind>[_conv]/; all variants share one cache of expert outputs.

Experts are frozen in eval mode (BatchNorm statistics fixed, no dropout); their outputs on the
whole 512x256 frames (the gate needs fixed feature size) are computed once per frame and cached
in memory as float16. Training data: highway + urban train recordings, shuffled with a fixed seed.
Loss: cross-entropy of the mixed logits, ignoring 255 and 254. Adam, cosine LR. Writes
gate.pt and log.json (val mIoU of the mixture, wall time) per variant."""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import dataset
from common import evaluate, load_split, seed_everything
from demo_model import NUM_CLASSES, PooledGate, load_expert
from metrics import mean_iou
from mixture import Mixture
from normalisation import to_input


@torch.no_grad()
def expert_outputs(experts, images, batch=8, logit_stride=2):
    """Per frame: expert logits (float16, subsampled by logit_stride) and features (float32)."""
    logits, features = [], []
    for start in range(0, len(images), batch):
        x = torch.from_numpy(to_input(images[start:start + batch]))
        outs = [e(x) for e in experts]
        logits.append(torch.stack([o[0][:, :, ::logit_stride, ::logit_stride] for o in outs], 1).half())
        features.append(torch.stack([o[1] for o in outs], 1))
    return torch.cat(logits), torch.cat(features)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=Path, nargs="+", required=True)
    parser.add_argument("--variants", nargs="+", default=["simple", "classwise", "simple+conv", "classwise+conv"],
                        choices=["simple", "classwise", "simple+conv", "classwise+conv"])
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--every", type=int, default=3, help="use every n-th train frame")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val-every", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", type=Path, help="expert outputs: computed and saved here if missing, else loaded "
                        "(so several processes can train variants side by side)")
    parser.add_argument("--cache-only", action="store_true", help="fill --cache and exit")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    experts = [load_expert(p) for p in args.experts]
    for e in experts:
        e.requires_grad_(False)

    start = time.monotonic()
    if args.cache is not None and args.cache.exists():
        cached_logits, cached_features, targets = torch.load(args.cache, weights_only=True)
    else:
        images, labels = load_split("train", ["highway", "urban"], args.every)
        cached_logits, cached_features = expert_outputs(experts, images)
        targets = torch.from_numpy(dataset.training_targets(labels[:, ::2, ::2]))
        if args.cache is not None:
            args.cache.parent.mkdir(parents=True, exist_ok=True)
            torch.save((cached_logits, cached_features, targets), args.cache.with_suffix(".part"))
            args.cache.with_suffix(".part").replace(args.cache)
    cache_seconds = time.monotonic() - start
    print(f"cached expert outputs of {len(cached_logits)} frames in {cache_seconds:.0f} s; "
          f"features {tuple(cached_features.shape[2:])}", flush=True)
    if args.cache_only:
        return

    for variant in args.variants:
        kind, conv = variant.split("+")[0], variant.endswith("+conv")
        train_variant(args, kind, conv, experts, cached_logits, cached_features, targets, cache_seconds)


def train_variant(args, kind: str, conv: bool, experts, cached_logits, cached_features, targets, cache_seconds):
    """Trains one gate (+conv) on the cached expert outputs and writes OUT_DIR/gate_<kind>[_conv]/."""
    seed_everything(args.seed)
    out = args.out_dir / f"gate_{kind}{'_conv' if conv else ''}"
    out.mkdir(parents=True, exist_ok=True)
    images_count = len(cached_logits)
    feature_channels, fh, fw = cached_features.shape[2:]
    gate = PooledGate(len(experts), feature_channels, (fh, fw),
                      num_classes=NUM_CLASSES if kind == "classwise" else None)
    mixture = Mixture(experts, gate, NUM_CLASSES, conv)
    trainable = list(gate.parameters()) + (list(mixture.conv.parameters()) if conv else [])
    optimizer = torch.optim.Adam(trainable, lr=args.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
    generator = torch.Generator().manual_seed(args.seed)
    log = {"args": {k: str(v) for k, v in vars(args).items()}, "loss": [], "cache_seconds": round(cache_seconds, 1)}

    train_start = time.monotonic()
    gate.train()
    order = torch.randperm(images_count, generator=generator)
    position = 0
    for step in range(1, args.steps + 1):
        if position + args.batch > len(order):
            order, position = torch.randperm(images_count, generator=generator), 0
        index = order[position:position + args.batch]
        position += args.batch
        logits = list(cached_logits[index].float().unbind(1))
        features = list(cached_features[index].unbind(1))
        mixed, _ = mixture.mix(logits, features)
        loss = F.cross_entropy(mixed, targets[index], ignore_index=dataset.IGNORE)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        log["loss"].append(round(loss.item(), 5))
        if step % 50 == 0 or step == args.steps:
            print(f"step {step}/{args.steps} loss {np.mean(log['loss'][-50:]):.4f}", flush=True)
    train_seconds = time.monotonic() - train_start

    gate.eval()
    val = {}
    for domain in ("highway", "urban"):
        v_images, v_labels = load_split("val", [domain], args.val_every)
        matrix = evaluate(lambda x: mixture(x)[0], v_images, v_labels, NUM_CLASSES)
        val[domain] = mean_iou(matrix)
    log.update(train_seconds=round(train_seconds, 1), val_miou=val)
    print(f"gate {kind}{'+conv' if conv else ''}: val mIoU " +
          ", ".join(f"{d} {m:.4f}" for d, m in val.items()) + f"; {train_seconds:.0f} s training")
    torch.save({"kind": kind, "conv": conv, "experts": [str(p) for p in args.experts],
                "feature_channels": int(feature_channels), "feature_size": [int(fh), int(fw)],
                "gate": gate.state_dict(),
                "combine_conv": mixture.conv.state_dict() if conv else None,
                "val_miou": val}, out / "gate.pt")
    (out / "log.json").write_text(json.dumps(log, indent=1))


if __name__ == "__main__":
    main()
