"""MobileNetV2 (Sandler et al. 2018) as a segmentation backbone: width multiplier, configurable
block counts, atrous (dilated) last stages for output stride 8 or 16, no classifier."""

import torch
from torch import nn

from .layers import conv_bn_act, make_divisible, strides_and_dilations

# (expansion t, output channels c, blocks n, first stride s) per stage, from the paper.
STAGES = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]
# Stage whose output is the decoder's low-level feature (output stride 4).
LOW_LEVEL_STAGE = 1


class InvertedResidual(nn.Module):
    """1x1 expand (ReLU6) -> 3x3 depthwise (ReLU6) -> 1x1 linear projection, residual if shapes match."""

    def __init__(self, in_channels: int, out_channels: int, expansion: int, stride: int, dilation: int):
        super().__init__()
        hidden = in_channels * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(conv_bn_act(in_channels, hidden, 1, activation=nn.ReLU6))
        layers.append(conv_bn_act(hidden, hidden, 3, stride=stride, dilation=dilation, groups=hidden,
                                  activation=nn.ReLU6))
        layers.append(conv_bn_act(hidden, out_channels, 1, activation=None))
        self.block = nn.Sequential(*layers)
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.use_residual else y


class MobileNetV2Backbone(nn.Module):
    """Returns (low-level features at stride 4, high-level features at `output_stride`)."""

    def __init__(self, width_mult: float = 1.0, output_stride: int = 16,
                 block_counts: list[int] | None = None):
        super().__init__()
        if output_stride not in (8, 16, 32):
            raise ValueError(f"output_stride must be 8, 16 or 32, got {output_stride}")
        counts = block_counts or [n for _, _, n, _ in STAGES]
        if len(counts) != len(STAGES) or min(counts) < 1:
            raise ValueError(f"block_counts needs {len(STAGES)} positive entries, got {counts}")

        stem_channels = make_divisible(32 * width_mult)
        self.stem = conv_bn_act(3, stem_channels, 3, stride=2, activation=nn.ReLU6)
        schedule = strides_and_dilations([s for _, _, _, s in STAGES], output_stride, initial_stride=2)

        stages = []
        in_channels = stem_channels
        for (expansion, channels, _, _), count, (stride, dilation) in zip(STAGES, counts, schedule):
            out_channels = make_divisible(channels * width_mult)
            blocks = []
            for index in range(count):
                blocks.append(InvertedResidual(in_channels, out_channels, expansion,
                                               stride if index == 0 else 1, dilation))
                in_channels = out_channels
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.low_level_channels = make_divisible(STAGES[LOW_LEVEL_STAGE][1] * width_mult)
        self.out_channels = in_channels

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.stem(x)
        low_level = x
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index == LOW_LEVEL_STAGE:
                low_level = x
        return low_level, x
