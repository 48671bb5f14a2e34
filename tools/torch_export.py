"""PyTorch -> ONNX export helpers shared by export_fixtures.py and export_full.py (offline only:
needs torch, torchvision and, for the dynamo exporter, onnxscript)."""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from moeseg_models import randomize_batchnorm


class OutputTuple(nn.Module):
    """Adapts a torchvision segmentation model (which returns a dict) to return its outputs as a
    tuple in a fixed order, so the ONNX graph's outputs get our names."""

    def __init__(self, model: nn.Module, keys: list[str]):
        super().__init__()
        self.model = model
        self.keys = keys

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        result = self.model(x)
        return tuple(result[key] for key in self.keys)


@torch.no_grad()
def randomize(model: nn.Module, sample: torch.Tensor | tuple[torch.Tensor, ...], seed: int) -> None:
    """Seeds every parameter reproducibly: He-normal convolutions and linears (fan-in, so
    activations keep their scale), small biases, then activation-driven BatchNorm statistics."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            fan_in = module.weight[0].numel()
            module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
            if module.bias is not None:
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))
    randomize_batchnorm(model, sample, generator)


@torch.no_grad()
def centre_class_logits(model: nn.Module, sample: tuple[torch.Tensor, ...], seed: int) -> None:
    """Random classifiers on non-negative (post-ReLU) features give each class a large constant
    offset, so one class wins almost everywhere. Shifts the bias of every biased Conv2d whose
    output count is the model's class count (the classifiers) so each class's logit averages a
    small random value over the sample, leaving a varied, non-degenerate argmax map."""
    outputs = model(*sample)
    first = outputs[0] if isinstance(outputs, tuple) else outputs
    num_classes = first.shape[1]
    generator = torch.Generator().manual_seed(seed + 1)
    means: dict[nn.Conv2d, torch.Tensor] = {}

    def record(module: nn.Conv2d, _inputs, output: torch.Tensor) -> None:
        means[module] = output.mean(dim=(0, 2, 3))

    classifiers = [m for m in model.modules()
                   if isinstance(m, nn.Conv2d) and m.bias is not None and m.out_channels == num_classes]
    handles = [m.register_forward_hook(record) for m in classifiers]
    try:
        model(*sample)
    finally:
        for handle in handles:
            handle.remove()
    for module, mean in means.items():
        module.bias.sub_(mean - 0.2 * torch.randn(num_classes, generator=generator))


@contextlib.contextmanager
def _without_batchnorm_fusion() -> Iterator[None]:
    """The dynamo exporter's optimizer (onnxscript) folds Conv+BatchNormalization since onnxscript
    0.3-ish; older versions left BatchNormalization nodes. Dropping that one rule reproduces those
    graphs (everything else optimised as usual)."""
    from onnxscript import rewriter
    from onnxscript.rewriter.rules.common import _fuse_batchnorm

    original = rewriter._DEFAULT_REWRITE_RULES
    fusion_rules = set(_fuse_batchnorm.rules)
    rewriter._DEFAULT_REWRITE_RULES = tuple(rule for rule in original if rule not in fusion_rules)
    try:
        yield
    finally:
        rewriter._DEFAULT_REWRITE_RULES = original


def export(model: nn.Module, inputs: tuple[torch.Tensor, ...], input_names: list[str],
           output_names: list[str], *, dynamo: bool = False, opset: int | None = None,
           keep_batchnorm: bool = False) -> onnx.ModelProto:
    """Exports `model` (eval mode, fixed shapes) and returns the ONNX model with weights inline.

    TorchScript exporter (dynamo=False, opset 17 by default) folds BatchNorm itself; the dynamo
    exporter (opset 18 by default, its lowest) optionally keeps BatchNormalization nodes."""
    model.eval()
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(scratch) / "model.onnx"
        fusion = _without_batchnorm_fusion() if dynamo and keep_batchnorm else contextlib.nullcontext()
        with fusion, contextlib.redirect_stdout(None):
            torch.onnx.export(model, inputs, str(path), input_names=input_names, output_names=output_names,
                              opset_version=opset or (18 if dynamo else 17), dynamo=dynamo,
                              **({"verbose": False} if dynamo else {"do_constant_folding": True}))
        return onnx.load(str(path), load_external_data=True)


@torch.no_grad()
def torch_outputs(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> list[np.ndarray]:
    """The PyTorch model's own outputs, as numpy, for a sanity check of the export."""
    result = model(*inputs)
    if isinstance(result, torch.Tensor):
        result = (result,)
    return [r.numpy() for r in result]
