"""Exact band-by-band execution of the bopbtl convnets for images whose activations do not fit.

:class:`BandRunner` runs a module made of ``Sequential``, ``ResBlock``, reflection padding,
(transposed) convolutions, ``InstanceNorm2d`` and point-wise activations on a whole tensor kept on
a *storage* device (host memory), computing it in bands of rows on the *compute* device. Every
output row sees exactly the input rows it would see on the whole tensor, so the result equals the
whole-tensor forward pass up to float rounding: no tiles, no seams.

A module without InstanceNorm runs *fused*: each band of its output is computed through all its
layers at once from the input rows it depends on (each layer's receptive field, zero or
reflection padding applied where the whole tensor has its edges), so no intermediate activation
is ever stored whole. A module with InstanceNorm (whose statistics are those of the whole tensor,
accumulated band by band in float64) runs layer by layer, each layer's output stored whole.

Compute-device memory is bounded by ``band_elements``: elements of one band of an InstanceNorm
or a residual sum, and ``FUSED_BANDS`` times that for all the activations of one fused band.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import ResBlock

POINTWISE = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.Identity)
FUSED_BANDS = 8  # a fused band may hold this many times band_elements of activations


def reflect_rows(rows: torch.Tensor, height: int) -> torch.Tensor:
    """Row indices of a tensor of ``height`` rows seen through reflection padding (-1 -> 1, H -> H-2)."""
    rows = rows.abs()
    return torch.where(rows >= height, 2 * (height - 1) - rows, rows)


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
            return (module.dilation == (1, 1) and module.output_padding == (0, 0)
                    and module.kernel_size[0] >= module.stride[0])
        return isinstance(module, (nn.ReflectionPad2d, nn.InstanceNorm2d, *POINTWISE))

    def run(self, module: nn.Module, x: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        """``module(x)`` for N x C x H x W ``x`` on the storage device; the result stays there.
        A list ``x`` is the concatenation of its tensors along channels (never stored whole when
        ``module`` runs fused)."""
        if not self.supports(module):
            raise TypeError(f"BandRunner: cannot run {type(module).__name__} band by band")
        inputs = list(x) if isinstance(x, (list, tuple)) else [x]
        if not any(isinstance(m, nn.InstanceNorm2d) for m in module.modules()):
            return self._run_fused(module, inputs)
        return self._run_layers(module, inputs[0] if len(inputs) == 1 else torch.cat(inputs, dim=1))

    def _run_layers(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """A module holding InstanceNorm: its children one by one, each output stored whole."""
        if isinstance(module, nn.Sequential):
            for child in module:
                x = self.run(child, x)
            return x
        if isinstance(module, ResBlock):
            return self.add(x, self.run(module.body, x))
        return self._instance_norm(module, x)

    def _rows(self, channels: int, width: int) -> int:
        return max(1, self.band_elements // max(1, channels * width))

    def _bands(self, height: int, channels: int, width: int):
        rows = self._rows(channels, width)
        for start in range(0, height, rows):
            yield start, min(height, start + rows)

    def add(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``y += x`` band by band (``y`` is overwritten and returned)."""
        for a, b in self._bands(x.shape[-2], x.shape[1], x.shape[-1]):
            y[..., a:b, :] = (y[..., a:b, :].to(self.compute) + x[..., a:b, :].to(self.compute)).to(self.storage)
        return y

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

    # --- fused execution: every layer of a band at once ------------------------------------------

    def _run_fused(self, module: nn.Module, inputs: list[torch.Tensor]) -> torch.Tensor:
        batch, channels = inputs[0].shape[0], sum(t.shape[1] for t in inputs)
        height, width = inputs[0].shape[-2:]
        out_c, out_h, out_w, peak = _shape(module, channels, height, width)
        rows = max(1, FUSED_BANDS * self.band_elements * out_h // max(1, batch * peak))
        out = torch.empty((batch, out_c, out_h, out_w), dtype=inputs[0].dtype, device=self.storage)
        for a in range(0, out_h, rows):
            b = min(out_h, a + rows)
            low, high = _need(module, a, b, height)
            slab = torch.cat([t[..., low:high, :].to(self.compute) for t in inputs], dim=1)  # a copy
            out[..., a:b, :] = _forward(module, slab, low, height, a, b).to(self.storage)
        return out


def _conv_rows(module: nn.Conv2d, a: int, b: int) -> tuple[int, int]:
    """Input rows [low, high) that output rows [a, b) of ``module`` read, padding rows included."""
    (kh, _), (sh, _), (ph, _) = module.kernel_size, module.stride, module.padding
    return a * sh - ph, (b - 1) * sh - ph + kh


def _transposed_rows(module: nn.ConvTranspose2d, a: int, b: int, height: int) -> tuple[int, int]:
    """Input rows [first, last] that reach output rows [a, b) of transposed ``module``."""
    kh, sh, ph = module.kernel_size[0], module.stride[0], module.padding[0]
    return max(0, -((kh - 1 - a - ph) // sh)), min(height - 1, (b - 1 + ph) // sh)


def _shape(module: nn.Module, c: int, h: int, w: int) -> tuple[int, int, int, int]:
    """(channels, height, width) of ``module``'s output for a 1 x c x h x w input, and the most
    elements alive at once in a whole-tensor pass through it (inputs, outputs and kept skips)."""
    if isinstance(module, nn.Sequential):
        peak = c * h * w
        for child in module:
            c, h, w, child_peak = _shape(child, c, h, w)
            peak = max(peak, child_peak)
        return c, h, w, peak
    if isinstance(module, ResBlock):
        out_c, out_h, out_w, peak = _shape(module.body, c, h, w)
        return out_c, out_h, out_w, peak + c * h * w
    if isinstance(module, nn.ReflectionPad2d):
        left, right, top, bottom = module.padding
        out_c, out_h, out_w = c, h + top + bottom, w + left + right
    elif isinstance(module, nn.Conv2d):
        (kh, kw), (sh, sw), (ph, pw) = module.kernel_size, module.stride, module.padding
        out_c, out_h, out_w = module.out_channels, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    elif isinstance(module, nn.ConvTranspose2d):
        (kh, kw), (sh, sw), (ph, pw) = module.kernel_size, module.stride, module.padding
        out_c, out_h, out_w = module.out_channels, (h - 1) * sh - 2 * ph + kh, (w - 1) * sw - 2 * pw + kw
    else:
        out_c, out_h, out_w = c, h, w
    return out_c, out_h, out_w, c * h * w + out_c * out_h * out_w


def _child_heights(module: nn.Sequential, height: int) -> list[int]:
    """Input row counts of ``module``'s children, then its output's."""
    heights = [height]
    for child in module:
        heights.append(_shape(child, 1, heights[-1], 1)[1])
    return heights


def _need(module: nn.Module, a: int, b: int, height: int) -> tuple[int, int]:
    """Input rows [low, high) (within [0, height)) that output rows [a, b) of ``module`` depend on."""
    if isinstance(module, nn.Sequential):
        heights = _child_heights(module, height)
        for child, child_height in zip(reversed(module), reversed(heights[:-1]), strict=False):
            a, b = _need(child, a, b, child_height)
        return a, b
    if isinstance(module, ResBlock):
        low, high = _need(module.body, a, b, height)
        return min(low, a), max(high, b)
    if isinstance(module, nn.ReflectionPad2d):
        rows = reflect_rows(torch.arange(a, b) - module.padding[2], height)
        return int(rows.min()), int(rows.max()) + 1
    if isinstance(module, nn.Conv2d):
        low, high = _conv_rows(module, a, b)
        return max(low, 0), min(high, height)
    if isinstance(module, nn.ConvTranspose2d):
        first, last = _transposed_rows(module, a, b, height)
        return first, last + 1
    return a, b


def _forward(module: nn.Module, slab: torch.Tensor, offset: int, height: int, a: int, b: int) -> torch.Tensor:
    """Output rows [a, b) of ``module`` from ``slab``: its input's rows from ``offset`` on (covering
    :func:`_need`), the input having ``height`` rows in all."""
    if isinstance(module, nn.Sequential):
        heights, ranges = _child_heights(module, height), [(a, b)]
        for child, child_height in zip(reversed(module[1:]), reversed(heights[1:-1]), strict=False):
            ranges.insert(0, _need(child, *ranges[0], child_height))
        for child, child_height, (lo, hi) in zip(module, heights, ranges, strict=False):
            slab, offset = _forward(child, slab, offset, child_height, lo, hi), lo
        return slab
    if isinstance(module, ResBlock):
        return _forward(module.body, slab, offset, height, a, b) + slab[..., a - offset:b - offset, :]
    if isinstance(module, nn.ReflectionPad2d):
        left, right, top, _ = module.padding
        rows = reflect_rows(torch.arange(a, b) - top, height) - offset
        band = slab.index_select(-2, rows.to(slab.device))
        return F.pad(band, (left, right, 0, 0), mode="reflect") if left or right else band
    if isinstance(module, nn.Conv2d):
        low, high = _conv_rows(module, a, b)
        band = slab[..., max(low, 0) - offset:min(high, height) - offset, :]
        band = F.pad(band, (0, 0, max(0, -low), max(0, high - height)))
        return F.conv2d(band, module.weight, module.bias, stride=module.stride, padding=(0, module.padding[1]),
                        groups=module.groups)
    if isinstance(module, nn.ConvTranspose2d):
        first, last = _transposed_rows(module, a, b, height)
        y = F.conv_transpose2d(slab[..., first - offset:last + 1 - offset, :], module.weight, module.bias,
                               stride=module.stride, padding=(0, module.padding[1]), groups=module.groups)
        shift = module.padding[0] - first * module.stride[0]  # local row of output row 0
        return y[..., a + shift:b + shift, :]
    return module(slab[..., a - offset:b - offset, :])  # in place where the module is: the slab is ours
