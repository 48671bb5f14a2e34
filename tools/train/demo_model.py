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
ARCH = dict(width_mult=0.5, output_stride=16, aspp_channels=64, low_level_channels=24,
            decoder_channels=64, decoder_convs=2, separable=True, atrous_rates=(6, 12, 18))


def build_expert(dropout: float = 0.0, arch: dict | None = None) -> nn.Module:
    """A DeepLabV3Plus returning (logits [N,14,H,W], features [N,F,H/16,W/16])."""
    arch = dict(ARCH if arch is None else arch)
    arch["atrous_rates"] = tuple(arch["atrous_rates"])
    model = deeplabv3plus_mobilenetv2(NUM_CLASSES, return_features=True, **arch)
    dropouts = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Dropout)]
    for name, module in dropouts:
        module.p = 0.0
    last_name, last = dropouts[-1]
    assert last_name.startswith("decoder."), last_name
    last.p = dropout
    return model


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
