"""Base class for restorers backed by one torch network (padding, device, weight loading)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from oldphoto.infra.device import resolve_device

from .base import Restorer
from .configs import make_config
from .tensors import count_parameters, crop_to, image_to_tensor, module_digest, pad_to_multiple, tensor_to_image
from .weights import load_weights, shipped_weights


class TorchRestorer(Restorer):
    """Runs ``self.network`` on one image: uint8 -> [0, 1] tensor, pad to ``multiple``, run, crop back.

    Subclasses implement :meth:`run` (1x3xHxW in [0, 1], padded mask or None -> 1x3xHxW) and may
    override :meth:`postprocess` for non-network steps on the uint8 result.
    """

    multiple: int = 1

    def __init__(self, network: nn.Module, device: str = "auto") -> None:
        self._device = resolve_device(device)
        self.network = network.to(self._device).eval()
        self.weights_meta: dict = {}

    @classmethod
    def build(cls, config_cls: type, config, pretrained: bool | str | os.PathLike, device: str) -> TorchRestorer:
        """``cls(config, device)`` from ``config`` (None, dict or ``config_cls``). ``pretrained``: a
        weight file's path (as for every family), True for the config's ``weights`` field or, when
        that is None, the shipped file, False for the random initialisation."""
        cfg = make_config(config_cls, config, cls.name)
        restorer = cls(cfg, device)
        if pretrained:
            restorer.load(cfg.weights if pretrained is True else pretrained)
        return restorer

    @property
    def num_parameters(self) -> int:
        return count_parameters(self.network)

    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def fingerprint(self) -> str:
        return module_digest(self.network)

    @classmethod
    def shipped_files(cls) -> list[Path]:
        """The shipped weight file ``load(None)`` reads: ``models/checkpoints/NAME-small.pt``."""
        return [shipped_weights(f"{cls.name}-small")]

    def load(self, weights: str | os.PathLike | None) -> None:
        """Load ``weights`` (a path), or the shipped file (:meth:`shipped_files`) when None.

        A missing or corrupt file is a :class:`~oldphoto.models.training.CheckpointError` naming it.
        """
        path = weights if weights is not None else self.shipped_files()[0]
        self.weights_meta = load_weights(self.network, self.name, path)

    def run(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.network(x)

    def postprocess(self, restored: np.ndarray, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return restored

    def restore_one(self, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        x, size = pad_to_multiple(image_to_tensor(image, self._device), self.multiple)
        m = None
        if mask is not None:
            m, _ = pad_to_multiple(torch.from_numpy(mask).to(self._device, torch.float32)[None, None], self.multiple)
        with torch.no_grad():
            y = crop_to(self.run(x, m), size)
        return self.postprocess(tensor_to_image(y), image, mask)
