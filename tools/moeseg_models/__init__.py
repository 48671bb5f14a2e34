"""PyTorch definitions of the networks moeseg runs: DeepLabv3+ experts and the MoE gate.

Written for export to ONNX (fixed input size, batch 1) and for training the demo mixture.
"""

from .aspp import ASPP
from .deeplabv3plus import DeepLabV3Plus, deeplabv3plus_mobilenetv2, deeplabv3plus_resnet
from .gate import MoEGate
from .mobilenetv2 import MobileNetV2Backbone
from .random_init import randomize_batchnorm
from .resnet import ResNetBackbone

__all__ = [
    "ASPP",
    "DeepLabV3Plus",
    "MobileNetV2Backbone",
    "MoEGate",
    "ResNetBackbone",
    "deeplabv3plus_mobilenetv2",
    "deeplabv3plus_resnet",
    "randomize_batchnorm",
]
