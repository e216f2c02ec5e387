"""Exact band-by-band execution of the bopbtl convnets for images whose activations do not fit.

:class:`BandRunner` runs a module made of ``Sequential``, ``ResBlock``, reflection padding,
(transposed) convolutions, ``InstanceNorm2d`` and point-wise activations on a whole tensor kept on
a *storage* device (host memory), computing each layer in bands of rows on the *compute* device.
Every output row of a convolution sees exactly the input rows it would see on the whole tensor,
and InstanceNorm uses the statistics of the whole tensor (accumulated band by band in float64),
so the result equals the whole-tensor forward pass up to float rounding: no tiles, no seams.

Compute-device memory is bounded by ``band_elements`` (elements of one band's output); storage
holds the input and output of the current layer at full size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import ResBlock

POINTWISE = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.Identity)


class BandRunner:
    """Runs supported modules band by band (see the module notes).

    ``compute``: device the arithmetic runs on; ``storage``: device holding whole activations;
    ``band_elements``: largest number of elements of one band's output (rows are chosen from it).
    """

    def __init__(self, compute: torch.device, storage: torch.device, band_elements: int = 1 << 24) -> None:
        if band_elements < 1:
            raise ValueError(f"band_elements must be >= 1, got {band_elements}")
        self.compute, self.storage, self.band_elements = compute, storage, band_elements

    def supports(self, module: nn.Module) -> bool:
        """True when :meth:`run` can execute ``module`` band by band."""
        if isinstance(module, (nn.Sequential, ResBlock)):
            return all(self.supports(child) for child in module.children())
        if isinstance(module, nn.Conv2d):
            return module.padding_mode == "zeros" and module.dilation == (1, 1) and isinstance(module.padding, tuple)
        if isinstance(module, nn.ConvTranspose2d):
            return module.dilation == (1, 1) and module.output_padding == (0, 0) and module.kernel_size[0] >= module.stride[0]
        return isinstance(module, (nn.ReflectionPad2d, nn.InstanceNorm2d, *POINTWISE))

    def run(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """``module(x)`` for N x C x H x W ``x`` on the storage device; the result stays there."""
        if isinstance(module, nn.Sequential):
            for child in module:
                x = self.run(child, x)
            return x
        if isinstance(module, ResBlock):
            return self.add(x, self.run(module.body, x))
        if isinstance(module, nn.ReflectionPad2d):
            return F.pad(x, module.padding, mode="reflect")
        if isinstance(module, nn.Conv2d):
            return self._conv(module, x)
        if isinstance(module, nn.ConvTranspose2d):
            return self._conv_transpose(module, x)
        if isinstance(module, nn.InstanceNorm2d):
            return self._instance_norm(module, x)
        if isinstance(module, POINTWISE):
            return self._pointwise(module, x)
        raise TypeError(f"BandRunner: cannot run {type(module).__name__} band by band")

    def _rows(self, channels: int, width: int) -> int:
        return max(1, self.band_elements // max(1, channels * width))

    def _bands(self, height: int, channels: int, width: int):
        rows = self._rows(channels, width)
        for start in range(0, height, rows):
            yield start, min(height, start + rows)

    def _pointwise(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for a, b in self._bands(x.shape[-2], x.shape[1], x.shape[-1]):
            out[..., a:b, :] = module(x[..., a:b, :].to(self.compute)).to(self.storage)
        return out

    def add(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``y += x`` band by band (``y`` is overwritten and returned)."""
        for a, b in self._bands(x.shape[-2], x.shape[1], x.shape[-1]):
            y[..., a:b, :] = (y[..., a:b, :].to(self.compute) + x[..., a:b, :].to(self.compute)).to(self.storage)
        return y

    def _conv(self, conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (sh, sw), (ph, pw) = conv.kernel_size, conv.stride, conv.padding
        height, width = x.shape[-2:]
        out_h, out_w = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
        out = torch.empty((x.shape[0], conv.out_channels, out_h, out_w), dtype=x.dtype, device=self.storage)
        for a, b in self._bands(out_h, conv.out_channels, out_w):
            low, high = a * sh - ph, (b - 1) * sh - ph + kh  # input rows [low, high), may leave the tensor
            band = x[..., max(low, 0):min(high, height), :].to(self.compute)
            band = F.pad(band, (0, 0, max(0, -low), max(0, high - height)))
            y = F.conv2d(band, conv.weight, conv.bias, stride=(sh, sw), padding=(0, pw), groups=conv.groups)
            out[..., a:b, :] = y.to(self.storage)
        return out

    def _conv_transpose(self, conv: nn.ConvTranspose2d, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (sh, sw), (ph, pw) = conv.kernel_size, conv.stride, conv.padding
        height, width = x.shape[-2:]
        out_h, out_w = (height - 1) * sh - 2 * ph + kh, (width - 1) * sw - 2 * pw + kw
        out = torch.empty((x.shape[0], conv.out_channels, out_h, out_w), dtype=x.dtype, device=self.storage)
        for a, b in self._bands(out_h, conv.out_channels, out_w):
            # input rows i reach output row o = i*sh - ph + t (t < kh): all i feeding rows [a, b)
            first = max(0, -((kh - 1 - a - ph) // sh))
            last = min(height - 1, (b - 1 + ph) // sh)
            y = F.conv_transpose2d(x[..., first:last + 1, :].to(self.compute), conv.weight, conv.bias,
                                   stride=(sh, sw), padding=(0, pw), groups=conv.groups)
            offset = ph - first * sh  # local row of global output row 0
            out[..., a:b, :] = y[..., a + offset:b + offset, :].to(self.storage)
        return out

    def _instance_norm(self, norm: nn.InstanceNorm2d, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        total = torch.zeros((batch, channels), dtype=torch.float64, device=self.compute)
        squares = torch.zeros_like(total)
        for a, b in self._bands(height, channels, width):
            band = x[..., a:b, :].to(self.compute, torch.float64)
            total += band.sum(dim=(2, 3))
            squares += band.square().sum(dim=(2, 3))
        count = height * width
        mean = total / count
        variance = (squares / count - mean.square()).clamp_min(0)
        scale = (variance + norm.eps).rsqrt()
        shift = -mean * scale
        if norm.affine:
            scale = scale * norm.weight.double()
            shift = shift * norm.weight.double() + norm.bias.double()
        scale, shift = scale.to(x.dtype)[..., None, None], shift.to(x.dtype)[..., None, None]
        out = torch.empty_like(x)
        for a, b in self._bands(height, channels, width):
            out[..., a:b, :] = (x[..., a:b, :].to(self.compute) * scale + shift).to(self.storage)
        return out
