#!/usr/bin/env python3
"""Trains one demo expert (or the MC-dropout baseline) from scratch on moeseg synth recordings.

    train_expert.py --domain highway|urban|both [--dropout 0.1] --out out/train/<name> [--steps N]

DeepLabv3+ / MobileNetV2 (tools/train/demo_model.py), random 256x128 crops of the 512x256 frames
plus horizontal flips, AdamW, cosine LR with warm-up, cross-entropy ignoring 255 and 254. Fixed
seeds and single-process data loading: the same command gives the same weights on the same
machine. Writes OUT/expert.pt (arch, weights, metrics) and OUT/log.json (loss curve, val mIoU,
wall time)."""
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
from common import DOMAINS, evaluate, load_split, seed_everything
from demo_model import ARCH, NUM_CLASSES, build_expert, count_macs
from metrics import iou_per_class, mean_iou


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", choices=sorted(DOMAINS), required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dropout", type=float, default=0.0, help="rate of the dropout before the classifier")
    parser.add_argument("--steps", type=int, default=450)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--crop", default="256x128", help="WIDTHxHEIGHT of the random crops")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val-every", type=int, default=5, help="use every n-th val frame for the mIoU")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    crop = tuple(int(v) for v in args.crop.split("x"))

    domains = DOMAINS[args.domain]
    images, labels = load_split("train", domains)
    val_images, val_labels = load_split("val", domains, args.val_every)
    data = dataset.make_crop_dataset(images, labels, crop, args.seed)
    sampler = torch.utils.data.RandomSampler(data, replacement=True, num_samples=args.steps * args.batch,
                                             generator=torch.Generator().manual_seed(args.seed))
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch, sampler=sampler, num_workers=0)

    model = build_expert(args.dropout)
    macs = count_macs(model)
    print(f"{args.domain}: {len(images)} train frames, {len(val_images)} val frames, "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.3f} M params, {macs / 1e6:.0f} MMAC per 512x256 frame")
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    warmup = max(1, args.steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))

    log = {"args": {k: str(v) for k, v in vars(args).items()}, "arch": ARCH, "macs": macs, "loss": []}
    start = time.monotonic()
    model.train()
    for step, (x, y) in enumerate(loader, 1):
        loss = F.cross_entropy(model(x)[0], y, ignore_index=dataset.IGNORE)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        log["loss"].append(round(loss.item(), 5))
        if step % 25 == 0 or step == args.steps:
            elapsed = time.monotonic() - start
            print(f"step {step}/{args.steps} loss {np.mean(log['loss'][-25:]):.4f} "
                  f"lr {schedule.get_last_lr()[0]:.2e} {elapsed:.0f} s", flush=True)
    train_seconds = time.monotonic() - start

    model.eval()
    matrix = evaluate(lambda x: model(x)[0], val_images, val_labels, NUM_CLASSES)
    log.update(train_seconds=round(train_seconds, 1), val_miou=mean_iou(matrix),
               val_iou=[None if math.isnan(v) else round(float(v), 4) for v in iou_per_class(matrix)])
    print(f"{args.domain}: val mIoU {log['val_miou']:.4f} after {args.steps} steps, {train_seconds:.0f} s training")
    torch.save({"arch": ARCH, "dropout": args.dropout, "domain": args.domain,
                "state_dict": model.state_dict(), "val_miou": log["val_miou"]}, args.out / "expert.pt")
    (args.out / "log.json").write_text(json.dumps(log, indent=1))


if __name__ == "__main__":
    main()
