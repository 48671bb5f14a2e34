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
