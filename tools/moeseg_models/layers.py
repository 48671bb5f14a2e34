"""Small building blocks shared by the backbones and heads."""

from torch import nn


def conv_bn_act(in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1,
                dilation: int = 1, groups: int = 1, activation: type[nn.Module] | None = nn.ReLU
                ) -> nn.Sequential:
    """Conv (no bias, "same" padding for odd kernels) + BatchNorm + optional activation."""
    padding = dilation * (kernel_size - 1) // 2
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                  dilation=dilation, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    if activation is not None:
        layers.append(activation())
    return nn.Sequential(*layers)


def separable_conv_bn_act(in_channels: int, out_channels: int, kernel_size: int, *, dilation: int = 1
                          ) -> nn.Sequential:
    """Atrous separable convolution (DeepLabv3+): depthwise conv + BN + ReLU, then 1x1 conv + BN + ReLU."""
    return nn.Sequential(
        conv_bn_act(in_channels, in_channels, kernel_size, dilation=dilation, groups=in_channels),
        conv_bn_act(in_channels, out_channels, 1),
    )


def make_divisible(value: float, divisor: int = 8) -> int:
    """Rounds a scaled channel count to a multiple of `divisor`, never dropping below 90 %."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def strides_and_dilations(strides: list[int], output_stride: int, initial_stride: int
                          ) -> list[tuple[int, int]]:
    """Turns per-stage strides into (stride, dilation) pairs that stop downsampling at
    `output_stride`: later strides become 1 and their stages dilate instead (atrous)."""
    current_stride = initial_stride
    dilation = 1
    result = []
    for stride in strides:
        if current_stride * stride > output_stride:
            dilation *= stride
            result.append((1, dilation))
        else:
            current_stride *= stride
            result.append((stride, dilation))
    return result
