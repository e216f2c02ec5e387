"""LPIPS (Zhang et al. 2018) through the ``lpips`` package, backbones from the oldphoto weights cache."""

from __future__ import annotations

import warnings

import numpy as np

from oldphoto.infra import weights

from .base import Metric, MetricError, check_min_size
from .torch_util import batches, to_nchw


def load_backbone_convs(module, name: str) -> None:
    """Copy the converted convs of weights ``name`` (lpips-alex / lpips-vgg16) into ``module``'s Conv2d
    layers, in order; shapes must match exactly."""
    import torch

    arrays = weights.load_npz(name)
    convs = [m for m in module.modules() if isinstance(m, torch.nn.Conv2d)]
    if len(convs) * 2 != len(arrays):
        raise MetricError(f"{name}: {len(arrays) // 2} converted convs for a network with {len(convs)}")
    with torch.no_grad():
        for k, conv in enumerate(convs):
            conv.weight.copy_(torch.from_numpy(arrays[f"conv{k}.weight"]))
            conv.bias.copy_(torch.from_numpy(arrays[f"conv{k}.bias"]))


class LPIPS(Metric):
    """Learned perceptual distance, 0 (identical) upwards; lower is better.

    ``net``: "alex" (default) or "vgg"; lpips v0.1 linear heads (shipped by ``lpips``), inputs
    scaled to [-1, 1], spatial average. Batches same-size pairs (``batch_size``).
    """

    name = "lpips"
    higher_is_better = False
    needs_reference = True
    _weights = {"alex": "lpips-alex", "vgg": "lpips-vgg16"}
    _spatial = False  # True: the network returns each pair's N x 1 x H x W distance map
    _reduction = "spatial-mean"

    def __init__(self, net: str = "alex", batch_size: int = 16, device: str | None = "cpu") -> None:
        super().__init__(device)
        if net not in self._weights:
            raise MetricError(f"{self.name}: net must be 'alex' or 'vgg', got {net!r}")
        import lpips

        self.net, self.batch_size = net, int(batch_size)
        with warnings.catch_warnings():  # lpips calls torchvision with the deprecated `pretrained=` argument
            warnings.simplefilter("ignore", UserWarning)
            model = lpips.LPIPS(net=net, version="0.1", pretrained=True, pnet_rand=True, verbose=False,
                                spatial=self._spatial)
        load_backbone_convs(model.net, self._weights[net])
        self._model = model.eval().to(self.device)

    @property
    def convention(self) -> str:
        return f"lpips:{self.net},v0.1,input[-1,1],{self._reduction}"

    def distances(self, preds, targets):
        """Yield ``(indices, distances)``: the network's output for batches of same-size pairs."""
        import torch

        check_min_size(self.name, preds, 32, f"{self.net} backbone down-sampling")
        with torch.no_grad():
            for idx, x in batches(preds, self.device, max_batch=self.batch_size):
                y = to_nchw([targets[i] for i in idx], self.device)
                yield idx, self._model(x / 127.5 - 1.0, y / 127.5 - 1.0)

    def _score(self, preds, targets):
        out = np.empty(len(preds))
        for idx, dist in self.distances(preds, targets):
            out[idx] = dist.reshape(-1).double().cpu().numpy()
        return out
