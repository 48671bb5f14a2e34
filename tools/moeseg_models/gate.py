"""The mixture-of-experts gate of Pavlitska et al.: one conv layer over the experts' concatenated
ASPP features, flatten, two fully connected layers, softmax over experts."""

import torch
from torch import nn


class MoEGate(nn.Module):
    """Takes E feature maps [N, F, h, w] (one per expert, fixed h x w) and returns gate weights:
    simple gate [N, E]; classwise gate (`num_classes` set) [N, E, C]; softmax over the expert
    axis (1), or the raw gate logits when `softmax` is False."""

    def __init__(self, num_experts: int, feature_channels: int, feature_size: tuple[int, int], *,
                 num_classes: int | None = None, conv_channels: int = 64, hidden: int = 128,
                 conv_stride: int = 2, softmax: bool = True):
        super().__init__()
        if num_experts < 2:
            raise ValueError("a gate needs at least two experts")
        self.num_experts = num_experts
        self.num_classes = num_classes
        self.conv = nn.Sequential(
            nn.Conv2d(num_experts * feature_channels, conv_channels, 3, stride=conv_stride, padding=1),
            nn.ReLU(),
        )
        height = (feature_size[0] - 1) // conv_stride + 1
        width = (feature_size[1] - 1) // conv_stride + 1
        outputs = num_experts * (num_classes or 1)
        self.fc = nn.Sequential(
            nn.Linear(conv_channels * height * width, hidden),
            nn.ReLU(),
            nn.Linear(hidden, outputs),
        )
        self.softmax = softmax

    def forward(self, *features: torch.Tensor) -> torch.Tensor:
        if len(features) != self.num_experts:
            raise ValueError(f"expected {self.num_experts} feature maps, got {len(features)}")
        x = self.conv(torch.cat(features, dim=1)).flatten(1)
        logits = self.fc(x)
        if self.num_classes is not None:
            logits = logits.reshape(-1, self.num_experts, self.num_classes)
        return torch.softmax(logits, dim=1) if self.softmax else logits
