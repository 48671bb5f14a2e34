"""ResNet with bottleneck blocks (He et al. 2016) as a segmentation backbone: configurable depth
and width, atrous last stages for output stride 8 or 16, no classifier."""

import torch
from torch import nn

from .layers import conv_bn_act, strides_and_dilations

DEPTHS = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}
EXPANSION = 4


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 (strided/dilated) -> 1x1 expand, plus identity or projected shortcut."""

    def __init__(self, in_channels: int, width: int, stride: int, dilation: int):
        super().__init__()
        out_channels = width * EXPANSION
        self.body = nn.Sequential(
            conv_bn_act(in_channels, width, 1),
            conv_bn_act(width, width, 3, stride=stride, dilation=dilation),
            conv_bn_act(width, out_channels, 1, activation=None),
        )
        self.shortcut = (conv_bn_act(in_channels, out_channels, 1, stride=stride, activation=None)
                         if stride != 1 or in_channels != out_channels else nn.Identity())
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class ResNetBackbone(nn.Module):
    """Returns (low-level features at stride 4, high-level features at `output_stride`).

    `base_width` is the first stage's bottleneck width (64 in ResNet-50/101); `depths` gives the
    blocks per stage (ResNet-50: [3, 4, 6, 3])."""

    def __init__(self, depths: list[int] | None = None, base_width: int = 64, output_stride: int = 16):
        super().__init__()
        if output_stride not in (8, 16, 32):
            raise ValueError(f"output_stride must be 8, 16 or 32, got {output_stride}")
        depths = depths or DEPTHS[50]
        if len(depths) != 4 or min(depths) < 1:
            raise ValueError(f"depths needs 4 positive entries, got {depths}")

        self.stem = nn.Sequential(
            conv_bn_act(3, base_width, 7, stride=2),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
        schedule = strides_and_dilations([1, 2, 2, 2], output_stride, initial_stride=4)
        stages = []
        in_channels = base_width
        for stage_index, (count, (stride, dilation)) in enumerate(zip(depths, schedule)):
            width = base_width * 2 ** stage_index
            blocks = []
            for index in range(count):
                blocks.append(Bottleneck(in_channels, width, stride if index == 0 else 1, dilation))
                in_channels = width * EXPANSION
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.low_level_channels = base_width * EXPANSION
        self.out_channels = in_channels

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.stem(x)
        low_level = x
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index == 0:
                low_level = x
        return low_level, x
