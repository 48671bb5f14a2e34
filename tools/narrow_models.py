"""Narrow, shallow versions of the torchvision segmentation architectures for the conformance
fixtures: same module classes (so the exporters emit the same op patterns), fewer channels and
blocks (so the committed ONNX files stay small)."""

from __future__ import annotations

from torch import nn
from torchvision.models import resnet as tv_resnet
from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf
from torchvision.models.segmentation.deeplabv3 import ASPP, DeepLabV3
from torchvision.models.segmentation.fcn import FCN, FCNHead
from torchvision.models.segmentation.lraspp import LRASPP
from torchvision.models._utils import IntermediateLayerGetter

# MobileNetV3-Large blocks dropped in the narrow versions: repeats whose twins stay (every kind of
# block survives: residual or strided, dilated or not, 3x5 or 5x5, ReLU or hardswish, with or without SE).
_DROPPED_V3_BLOCKS = (5, 8, 9, 11, 14)


def _narrow_mobilenet_v3_large(width_mult: float) -> MobileNetV3:
    # reduced_tail halves the dilated C4/C5 stage, as torchvision offers for detection backbones.
    setting, last_channel = _mobilenet_v3_conf("mobilenet_v3_large", width_mult=width_mult,
                                               reduced_tail=True, dilated=True)
    setting = [block for index, block in enumerate(setting) if index not in _DROPPED_V3_BLOCKS]
    return MobileNetV3(setting, last_channel)


def _stage_indices(features: nn.Sequential) -> list[int]:
    """torchvision's rule: the stem, every strided block, and the last layer."""
    return [0] + [i for i, b in enumerate(features) if getattr(b, "_is_cn", False)] + [len(features) - 1]


def lraspp_mobilenet_v3_large(num_classes: int, width_mult: float = 0.25, inter_channels: int = 32
                              ) -> nn.Module:
    """torchvision's LR-ASPP on a narrow dilated MobileNetV3-Large: low features from C2 (stride 8),
    high from C5 (stride 16), as torchvision's _lraspp_mobilenetv3 picks them."""
    features = _narrow_mobilenet_v3_large(width_mult).features
    stages = _stage_indices(features)
    low, high = stages[-4], stages[-1]
    backbone = IntermediateLayerGetter(features, return_layers={str(low): "low", str(high): "high"})
    return LRASPP(backbone, features[low].out_channels, features[high].out_channels, num_classes, inter_channels)


def _deeplab_head(in_channels: int, num_classes: int, channels: int) -> nn.Sequential:
    """torchvision's DeepLabHead layer for layer, with `channels` instead of 256."""
    return nn.Sequential(
        ASPP(in_channels, (12, 24, 36), channels),
        nn.Conv2d(channels, channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        nn.Conv2d(channels, num_classes, 1),
    )


def deeplabv3_mobilenet_v3_large(num_classes: int, width_mult: float = 0.25, head_channels: int = 24
                                 ) -> nn.Module:
    """torchvision's DeepLabV3 on a narrow dilated MobileNetV3-Large (C5 features, output stride 16)."""
    features = _narrow_mobilenet_v3_large(width_mult).features
    out_index = len(features) - 1
    backbone = IntermediateLayerGetter(features, return_layers={str(out_index): "out"})
    return DeepLabV3(backbone, _deeplab_head(features[out_index].out_channels, num_classes, head_channels))


class _NarrowResNet(tv_resnet.ResNet):
    """torchvision's ResNet with every stage's planes divided by `divisor` (stem unchanged)."""

    def __init__(self, layers: list[int], divisor: int):
        self._divisor = divisor
        super().__init__(tv_resnet.Bottleneck, layers, replace_stride_with_dilation=[False, True, True])

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        return super()._make_layer(block, planes // self._divisor, blocks, stride, dilate)


def _narrow_resnet50(divisor: int) -> tuple[nn.Module, int, int]:
    """Backbone returning layer4 ("out") and layer3 ("aux"), output stride 8 like torchvision's."""
    resnet = _NarrowResNet([1, 2, 1, 1], divisor)
    backbone = IntermediateLayerGetter(resnet, return_layers={"layer4": "out", "layer3": "aux"})
    return backbone, 2048 // divisor, 1024 // divisor


def deeplabv3_resnet50(num_classes: int, divisor: int = 16, head_channels: int = 16) -> nn.Module:
    """torchvision's DeepLabV3 on a narrow ResNet-50-style backbone (no aux head, as torchvision's default)."""
    backbone, out_channels, _ = _narrow_resnet50(divisor)
    backbone.return_layers = {"layer4": "out"}
    return DeepLabV3(backbone, _deeplab_head(out_channels, num_classes, head_channels))


def fcn_resnet50(num_classes: int, divisor: int = 16) -> nn.Module:
    """torchvision's FCN on a narrow ResNet-50-style backbone, with the aux head (two outputs)."""
    backbone, out_channels, aux_channels = _narrow_resnet50(divisor)
    return FCN(backbone, FCNHead(out_channels, num_classes), FCNHead(aux_channels, num_classes))
