"""The model-level mixture in PyTorch, as moeseg computes it (docs/model-format.md): softmax of
the gate logits over experts, weighted sum of expert logits (classwise: per class), optional
3x3 C->C "+conv" without bias."""
from __future__ import annotations

import torch
from torch import nn


class Mixture(nn.Module):
    """forward(x) -> (mixed logits [N,C,H,W], gate weights [N,E] or [N,E,C]); experts return
    (logits, features) and the gate returns logits."""

    def __init__(self, experts: list[nn.Module], gate: nn.Module, num_classes: int, conv: bool):
        super().__init__()
        self.experts = nn.ModuleList(experts)
        self.gate = gate
        self.conv = nn.Conv2d(num_classes, num_classes, 3, padding=1, bias=False) if conv else None
        if self.conv is not None:
            with torch.no_grad():  # start as identity so "+conv" begins from the plain mixture
                self.conv.weight.zero_()
                self.conv.weight[:, :, 1, 1].copy_(torch.eye(num_classes))

    def expert_outputs(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        outputs = [expert(x) for expert in self.experts]
        return [o[0] for o in outputs], [o[1] for o in outputs]

    def mix(self, logits: list[torch.Tensor], features: list[torch.Tensor]):
        weights = torch.softmax(self.gate(*features), dim=1)
        stacked = torch.stack(logits, dim=1)  # [N, E, C, H, W]
        w = weights[:, :, None, None, None] if weights.dim() == 2 else weights[:, :, :, None, None]
        mixed = (w * stacked).sum(1)
        if self.conv is not None:
            mixed = self.conv(mixed)
        return mixed, weights

    def forward(self, x: torch.Tensor):
        return self.mix(*self.expert_outputs(x))
