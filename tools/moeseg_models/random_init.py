"""Random but well-conditioned parameters for untrained networks (no pretrained weights here).

Plain random init lets activations explode or vanish through deep nets, and default BatchNorm
buffers (mean 0, var 1, weight 1, bias 0) make BN folding a no-op, so conformance fixtures would
test neither. This sets every BatchNorm's running statistics from the activations it actually
sees on a sample input, perturbed, and randomises its affine parameters."""

import torch
from torch import nn


@torch.no_grad()
def randomize_batchnorm(model: nn.Module, sample: torch.Tensor | tuple[torch.Tensor, ...],
                        generator: torch.Generator,
                        *, mean_jitter: float = 0.2, var_range: tuple[float, float] = (0.6, 1.6),
                        weight_range: tuple[float, float] = (0.5, 1.5), bias_std: float = 0.3) -> None:
    """Runs `sample` (a tensor or a tuple of inputs) through `model` once in eval mode; each
    BatchNorm, just before it runs, gets running_var = the channel's mean square (at least half
    the layer's average) x a random factor, running_mean = a random offset of `mean_jitter` x the
    channel's RMS, and a random weight and bias, so its output is O(1) but not normalised exactly.

    Why not the channels' true mean and variance: random nets on small maps then amplify fp32
    rounding layer after layer (subtracting a mean that dwarfs the spread; scaling up dead or
    1x1 channels), until two correct fp32 implementations differ by more than the conformance
    tolerance (1e-4 relative). Dividing by the RMS and keeping the mean keeps them ~1e-5 apart."""

    def uniform(shape, low, high):
        return low + (high - low) * torch.rand(shape, generator=generator)

    def before_batchnorm(module: nn.BatchNorm2d, inputs: tuple[torch.Tensor, ...]) -> None:
        x = inputs[0].double()
        channels = x.shape[1]
        power = x.square().mean(dim=(0, 2, 3))
        var = torch.maximum(power, 0.5 * power.mean()) + 1e-6
        offset = mean_jitter * var.sqrt() * torch.randn(channels, generator=generator, dtype=torch.float64)
        module.running_mean.copy_(offset)
        module.running_var.copy_(var * uniform(channels, *var_range).double())
        module.weight.copy_(uniform(channels, *weight_range))
        module.bias.copy_(bias_std * torch.randn(channels, generator=generator))

    model.eval()
    handles = [m.register_forward_pre_hook(before_batchnorm)
               for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    try:
        model(*(sample if isinstance(sample, tuple) else (sample,)))
    finally:
        for handle in handles:
            handle.remove()
