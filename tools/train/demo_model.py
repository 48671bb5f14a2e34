"""The demo mixture's expert architecture: DeepLabv3+ on MobileNetV2 (moeseg_models), narrowed so
one expert costs a few hundred MFLOPs at 512x256, with (logits, ASPP features) outputs.

Dropout: only one Dropout is kept, right before the classifier (rate `dropout`, 0 = none); that is
the layer the MC-dropout export turns into a `dropout_mask` input (docs/model-format.md)."""
from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from moeseg_models import deeplabv3plus_mobilenetv2  # noqa: E402

NUM_CLASSES = 14
# Architecture of every demo expert; stored in checkpoints so the exporter rebuilds the same net.
# MobileNetV2 width 0.35 with one block fewer in the 160-channel stage, 48-channel separable ASPP and
# one separable decoder conv: ~0.43 GFLOP at 512x256 (the "a few hundred MFLOPs").
ARCH = dict(width_mult=0.35, output_stride=16, block_counts=[1, 2, 3, 3, 2, 2, 1], aspp_channels=48,
            low_level_channels=16, decoder_channels=48, decoder_convs=1, separable=True,
            atrous_rates=(6, 12, 18))


def build_expert(dropout: float = 0.0, arch: dict | None = None) -> nn.Module:
    """A DeepLabV3Plus returning (logits [N,14,H,W], features [N,F,H/16,W/16])."""
    arch = dict(ARCH if arch is None else arch)
    arch["atrous_rates"] = tuple(arch["atrous_rates"])
    if arch.get("block_counts") is not None:
        arch["block_counts"] = list(arch["block_counts"])
    model = deeplabv3plus_mobilenetv2(NUM_CLASSES, return_features=True, **arch)
    dropouts = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Dropout)]
    for name, module in dropouts:
        module.p = 0.0
    last_name, last = dropouts[-1]
    assert last_name.startswith("decoder."), last_name
    last.p = dropout
    return model


class PooledGate(nn.Module):
    """The paper's gate (conv over the concatenated expert features, two fully connected layers)
    with an average pool between conv and FCs, so the first FC sees pool_size cells instead of the
    whole map (8x fewer weights at 512x256). Returns gate LOGITS: [N, E] simple, [N, E, C]
    classwise (num_classes set); the softmax over experts is the runtime's."""

    def __init__(self, num_experts: int, feature_channels: int, feature_size: tuple[int, int], *,
                 num_classes: int | None = None, conv_channels: int = 32, hidden: int = 48,
                 pool_size: tuple[int, int] = (4, 8)):
        super().__init__()
        if num_experts < 2:
            raise ValueError("a gate needs at least two experts")
        height, width = (feature_size[0] + 1) // 2, (feature_size[1] + 1) // 2  # after the stride-2 conv
        if height % pool_size[0] or width % pool_size[1]:
            raise ValueError(f"conv output {height}x{width} is not a multiple of the pool grid {pool_size}")
        self.num_experts = num_experts
        self.num_classes = num_classes
        kernel = (height // pool_size[0], width // pool_size[1])
        self.conv = nn.Sequential(
            nn.Conv2d(num_experts * feature_channels, conv_channels, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AvgPool2d(kernel, kernel),  # exports as AveragePool (an explicit kernel, unlike adaptive pooling)
        )
        self.fc = nn.Sequential(
            nn.Linear(conv_channels * pool_size[0] * pool_size[1], hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_experts * (num_classes or 1)),
        )

    def forward(self, *features: torch.Tensor) -> torch.Tensor:
        if len(features) != self.num_experts:
            raise ValueError(f"expected {self.num_experts} feature maps, got {len(features)}")
        logits = self.fc(self.conv(torch.cat(features, dim=1)).flatten(1))
        if self.num_classes is not None:
            logits = logits.reshape(-1, self.num_experts, self.num_classes)
        return logits


def last_dropout(model: nn.Module) -> tuple[nn.Sequential, int]:
    """(decoder Sequential, index) of the Dropout right before the classifier."""
    decoder = model.decoder
    index = max(i for i, m in enumerate(decoder) if isinstance(m, nn.Dropout))
    return decoder, index


def count_macs(model: nn.Module, height: int = 256, width: int = 512) -> int:
    """Multiply-accumulates of Conv2d and Linear layers for one frame."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            total += output.numel() * k
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, height, width))
    model.train(was_training)
    for h in handles:
        h.remove()
    return total


class ExpertWithDropoutMask(nn.Module):
    """The MC-dropout form of a demo expert for export: forward(x, dropout_mask) with the decoder's
    last Dropout replaced by `activation * dropout_mask / (1 - p)` (docs/model-format.md); a mask
    filled with 1 - p gives the deterministic network."""

    def __init__(self, model: nn.Module, rate: float):
        super().__init__()
        if not 0.0 < rate < 1.0:
            raise ValueError(f"dropout rate must be in (0, 1), got {rate}")
        self.model = model
        self.scale = 1.0 / (1.0 - rate)
        decoder, index = last_dropout(model)
        self.before = decoder[:index]
        self.after = decoder[index + 1:]

    def mask_shape(self, height: int, width: int) -> tuple[int, int, int, int]:
        """[1, K, h, w] of the dropped activation for a height x width input."""
        return (1, self.model.classifier.in_channels, height // 4, width // 4)

    def forward(self, x: torch.Tensor, dropout_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        import torch.nn.functional as F

        m = self.model
        low_level, high_level = m.backbone(x)
        features = m.aspp(high_level)
        low_level = m.low_level_project(low_level)
        y = F.interpolate(features, size=low_level.shape[-2:], mode="bilinear", align_corners=False)
        y = self.before(torch.cat([y, low_level], dim=1))
        y = self.after(y * (dropout_mask * self.scale))
        logits = F.interpolate(m.classifier(y), size=x.shape[-2:], mode="bilinear", align_corners=False)
        return logits, features


def load_expert(path) -> nn.Module:
    """A trained expert from train_expert.py's expert.pt, in eval mode."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    model = build_expert(checkpoint["dropout"], checkpoint["arch"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()
