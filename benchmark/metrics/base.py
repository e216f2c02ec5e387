"""Metric base classes, input checking and the colour conversions shared by the metrics.

Inputs everywhere: a uint8 HxWx3 (or HxW grey) numpy array, a list of them, or an NCHW torch tensor
(uint8, or float in [0, 1]) with 1 or 3 channels. Internally each image is float32 HxWx3 in [0, 255].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from oldphoto.infra.colour import BT601_LUMA
from oldphoto.infra.device import resolve_device
from oldphoto.infra.registry import UnknownNameError


class MetricError(ValueError):
    """Bad input for a metric; the message names the metric and the problem."""


class UnknownMetricError(UnknownNameError, MetricError):
    """A metric name that is not registered: an UnknownNameError and a MetricError."""


# BT.601 luma as used by MATLAB rgb2gray (and pyiqa's YIQ "Y"): weights on R, G, B.
LUMA601 = np.array(BT601_LUMA)
# BT.601 YCbCr luma for 8-bit video range (16..235), applied to RGB in [0, 255].
YCBCR601 = np.array([65.481, 128.553, 24.966]) / 255.0


def gray601(image: np.ndarray) -> np.ndarray:
    """Rounded BT.601 luma of a float HxWx3 image in [0, 255], as float64 HxW in [0, 255]."""
    return np.round(image.astype(np.float64) @ LUMA601)


def y_ycbcr601(image: np.ndarray) -> np.ndarray:
    """BT.601 YCbCr Y (16..235) of a float HxWx3 image in [0, 255], float64 HxW, not rounded."""
    return 16.0 + image.astype(np.float64) @ YCBCR601


def _one_array(metric: str, arg: str, array: np.ndarray, index: int) -> np.ndarray:
    where = f"{arg}[{index}]"
    if array.dtype != np.uint8:
        raise MetricError(f"{metric}: {where} has dtype {array.dtype}; expected uint8 in [0, 255] "
                          "(for floats in [0, 1] pass an NCHW torch tensor)")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3):
        raise MetricError(f"{metric}: {where} has shape {array.shape}; expected HxWx3 or HxW")
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return array.astype(np.float32)


def _from_tensor(metric: str, arg: str, tensor) -> list[np.ndarray]:
    import torch

    if tensor.ndim != 4 or tensor.shape[1] not in (1, 3):
        raise MetricError(f"{metric}: {arg} tensor has shape {tuple(tensor.shape)}; expected NCHW with C 1 or 3")
    t = tensor.detach().to("cpu")
    if t.dtype == torch.uint8:
        t = t.float()
    elif t.is_floating_point():
        if torch.isnan(t).any():
            raise MetricError(f"{metric}: {arg} tensor contains NaN")
        lo, hi = float(t.min()), float(t.max())
        if lo < 0.0 or hi > 1.0:
            raise MetricError(f"{metric}: {arg} tensor values span [{lo:.4g}, {hi:.4g}]; "
                              "float tensors must be in [0, 1]")
        t = t.float() * 255.0
    else:
        raise MetricError(f"{metric}: {arg} tensor has dtype {t.dtype}; expected uint8 or float in [0, 1]")
    if t.shape[1] == 1:
        t = t.expand(-1, 3, -1, -1)
    return list(t.permute(0, 2, 3, 1).contiguous().numpy())


def as_images(metric: str, arg: str, images: Any) -> list[np.ndarray]:
    """Check and convert ``images`` (see module doc) to a list of float32 HxWx3 arrays in [0, 255]."""
    if isinstance(images, np.ndarray):
        if images.ndim == 4:
            return [_one_array(metric, arg, a, i) for i, a in enumerate(images)]
        return [_one_array(metric, arg, images, 0)]
    if type(images).__module__.startswith("torch"):
        return _from_tensor(metric, arg, images)
    if isinstance(images, (list, tuple)):
        out = []
        for i, item in enumerate(images):
            if not isinstance(item, np.ndarray):
                raise MetricError(f"{metric}: {arg}[{i}] is {type(item).__name__}; expected a uint8 numpy array")
            out.append(_one_array(metric, arg, item, i))
        return out
    raise MetricError(f"{metric}: {arg} is {type(images).__name__}; expected uint8 HxWx3 array(s) or an NCHW tensor")


def check_min_size(metric: str, images: Sequence[np.ndarray], min_side: int, why: str) -> None:
    for i, image in enumerate(images):
        if min(image.shape[:2]) < min_side:
            raise MetricError(f"{metric}: image {i} is {image.shape[1]}x{image.shape[0]}; "
                              f"needs at least {min_side} px per side ({why})")


def group_by_shape(images: Sequence[np.ndarray]) -> dict[tuple[int, ...], list[int]]:
    """Indices of ``images`` grouped by shape (for batching same-size images)."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, image in enumerate(images):
        groups.setdefault(image.shape, []).append(i)
    return groups


class Metric:
    """Common state: accumulated ``per_image`` values, ``compute()`` their mean, ``reset()``.

    Subclasses set ``name``, ``higher_is_better``, ``needs_reference`` and ``convention``.
    """

    name: str = ""
    higher_is_better: bool = True
    needs_reference: bool = True
    set_level: bool = False

    def __init__(self, device: str | None = "cpu") -> None:
        self.device = str(resolve_device(device))
        self.per_image: list[float] = []

    @property
    def convention(self) -> str:
        raise NotImplementedError

    def reset(self) -> None:
        self.per_image = []

    def update(self, pred: Any, target: Any = None) -> None:
        preds = as_images(self.name, "pred", pred)
        if self.needs_reference:
            if target is None:
                raise MetricError(f"{self.name}: needs a target (reference) image for every prediction")
            targets = as_images(self.name, "target", target)
            if len(preds) != len(targets):
                raise MetricError(f"{self.name}: {len(preds)} prediction(s) but {len(targets)} target(s)")
            for i, (p, t) in enumerate(zip(preds, targets, strict=False)):
                if p.shape != t.shape:
                    raise MetricError(f"{self.name}: pair {i} shapes differ: pred {p.shape}, target {t.shape}")
            self.per_image.extend(float(v) for v in self._score(preds, targets))
        else:
            self.per_image.extend(float(v) for v in self._score(preds, None))

    def _score(self, preds: list[np.ndarray], targets: list[np.ndarray] | None) -> Sequence[float]:
        raise NotImplementedError

    def compute(self) -> float:
        """Mean of ``per_image`` (NaN when nothing was added)."""
        return float(np.mean(self.per_image)) if self.per_image else math.nan

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.convention} n={len(self.per_image)}>"
