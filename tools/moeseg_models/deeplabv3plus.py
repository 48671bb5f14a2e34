"""DeepLabv3+ (Chen et al. 2018): backbone -> ASPP -> decoder that fuses stride-4 low-level
features -> class logits bilinearly upsampled to the input size (align_corners=False)."""

import torch
import torch.nn.functional as F
from torch import nn

from .aspp import ASPP
from .layers import conv_bn_act, separable_conv_bn_act
from .mobilenetv2 import MobileNetV2Backbone
from .resnet import ResNetBackbone


class DeepLabV3Plus(nn.Module):
    """Segmentation network returning logits [N, C, H, W], or (logits, ASPP features) when
    `return_features` is set; the features are what the mixture-of-experts gate consumes.

    The decoder refines [upsampled ASPP, projected low-level] features with `decoder_convs` 3x3
    convolutions (two in the paper); `separable` makes them and the atrous ASPP branches
    depthwise-separable, as the paper's "atrous separable convolution" does."""

    def __init__(self, backbone: nn.Module, num_classes: int, *,
                 atrous_rates: tuple[int, ...] = (6, 12, 18), aspp_channels: int = 256,
                 low_level_channels: int = 48, decoder_channels: int = 256, decoder_convs: int = 2,
                 separable: bool = False, return_features: bool = False):
        super().__init__()
        if decoder_convs < 1:
            raise ValueError("the decoder needs at least one 3x3 convolution")
        self.backbone = backbone
        self.aspp = ASPP(backbone.out_channels, aspp_channels, atrous_rates, separable=separable)
        self.low_level_project = conv_bn_act(backbone.low_level_channels, low_level_channels, 1)
        refine = separable_conv_bn_act if separable else conv_bn_act
        layers: list[nn.Module] = []
        in_channels = aspp_channels + low_level_channels
        for index in range(decoder_convs):
            layers += [refine(in_channels, decoder_channels, 3), nn.Dropout(0.5 if index == 0 else 0.1)]
            in_channels = decoder_channels
        self.decoder = nn.Sequential(*layers)
        self.classifier = nn.Conv2d(decoder_channels, num_classes, 1)
        self.return_features = return_features

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        input_size = x.shape[-2:]
        low_level, high_level = self.backbone(x)
        features = self.aspp(high_level)
        low_level = self.low_level_project(low_level)
        y = F.interpolate(features, size=low_level.shape[-2:], mode="bilinear", align_corners=False)
        y = self.decoder(torch.cat([y, low_level], dim=1))
        logits = F.interpolate(self.classifier(y), size=input_size, mode="bilinear", align_corners=False)
        if self.return_features:
            return logits, features
        return logits


def deeplabv3plus_mobilenetv2(num_classes: int, *, width_mult: float = 1.0, output_stride: int = 16,
                              block_counts: list[int] | None = None, **head) -> DeepLabV3Plus:
    """DeepLabv3+ on a MobileNetV2 backbone; `head` goes to DeepLabV3Plus (rates, channels, ...)."""
    backbone = MobileNetV2Backbone(width_mult, output_stride, block_counts)
    return DeepLabV3Plus(backbone, num_classes, **head)


def deeplabv3plus_resnet(num_classes: int, *, depths: list[int] | None = None, base_width: int = 64,
                         output_stride: int = 16, **head) -> DeepLabV3Plus:
    """DeepLabv3+ on a bottleneck ResNet (default ResNet-50); `head` goes to DeepLabV3Plus."""
    backbone = ResNetBackbone(depths, base_width, output_stride)
    return DeepLabV3Plus(backbone, num_classes, **head)
