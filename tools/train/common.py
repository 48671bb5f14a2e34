"""Shared bits of the demo training scripts: data paths, seeding, batched evaluation."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

import dataset
from metrics import confusion
from normalisation import to_input

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "out" / "data"
DOMAINS = {"highway": ["highway"], "urban": ["urban"], "both": ["highway", "urban"]}


def recordings(split: str, domains: list[str]) -> list[Path]:
    """out/data/<split>_<domain>_<seed>.mcap, all drives of the domains (written by make_data.sh)."""
    paths = []
    for domain in domains:
        found = sorted(p for p in DATA.glob(f"{split}_{domain}_*.mcap") if not p.name.endswith(".part.mcap"))
        if not found:
            raise SystemExit(f"no {split} recordings of {domain} in {DATA}: run tools/train/make_data.sh")
        paths += found
    return paths


def load_split(split: str, domains: list[str], every: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of every `every`-th frame of each drive of the split, in memory."""
    parts = [dataset.load(p) for p in recordings(split, domains)]
    return (np.concatenate([np.asarray(i[::every]) for i, _ in parts]),
            np.concatenate([np.asarray(l[::every]) for _, l in parts]))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


@torch.no_grad()
def evaluate(predict, images: np.ndarray, labels: np.ndarray, num_classes: int, batch: int = 4) -> np.ndarray:
    """Confusion matrix of predict(float input [N,3,H,W]) -> logits [N,C,H,W] over whole frames."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    for start in range(0, len(images), batch):
        x = torch.from_numpy(to_input(images[start:start + batch]))
        prediction = predict(x).argmax(1).numpy()
        matrix += confusion(prediction, np.asarray(labels[start:start + batch]), num_classes)
    return matrix
