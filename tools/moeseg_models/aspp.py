"""Atrous Spatial Pyramid Pooling (DeepLabv3): parallel 1x1, dilated 3x3 and image-pooling
branches, concatenated and projected."""

import torch
import torch.nn.functional as F
from torch import nn

from .layers import conv_bn_act, separable_conv_bn_act


class ImagePooling(nn.Module):
    """Global average -> 1x1 conv -> bilinear back to the feature map's size."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.project = conv_bn_act(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.pool(x))
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """Output has `out_channels` channels at the input's resolution; `separable` makes the atrous
    branches depthwise-separable (as DeepLabv3+ does), much cheaper on wide inputs."""

    def __init__(self, in_channels: int, out_channels: int = 256,
                 atrous_rates: tuple[int, ...] = (6, 12, 18), dropout: float = 0.1, separable: bool = False):
        super().__init__()
        atrous = separable_conv_bn_act if separable else conv_bn_act
        branches: list[nn.Module] = [conv_bn_act(in_channels, out_channels, 1)]
        branches += [atrous(in_channels, out_channels, 3, dilation=rate) for rate in atrous_rates]
        branches.append(ImagePooling(in_channels, out_channels))
        self.branches = nn.ModuleList(branches)
        self.project = nn.Sequential(
            conv_bn_act(len(branches) * out_channels, out_channels, 1),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([branch(x) for branch in self.branches], dim=1))
