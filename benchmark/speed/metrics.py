"""`oldphoto bench metrics`: pairs/s per metric at each size, beside piq (and torchmetrics) in the same run.

Every implementation gets the same uint8 HxWx3 pairs (a builtin photo resized, and a noisy copy) and
does its own conversion, so the figures include input handling. Threads are limited to ``threads``
for torch and OpenCV alike. piq's LPIPS and BRISQUE download weights on first use; where that fails
the peer column says so. piq's SSIM runs with ``downsample=False`` (the convention oldphoto uses).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

from oldphoto.benchmark import metrics
from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb
from oldphoto.infra.colour import BT601_LUMA

Pair = tuple[np.ndarray, np.ndarray]


def make_pair(size: int, seed: int = 0) -> Pair:
    """A builtin photo resized to size x size and a copy with Gaussian noise (sigma 10)."""
    import cv2

    clean = cv2.resize(read_rgb(next(iter(builtin_paths().values()))), (size, size), interpolation=cv2.INTER_AREA)
    noise = np.random.default_rng(seed).normal(0, 10, clean.shape)
    return np.clip(clean + noise, 0, 255).astype(np.uint8), clean


def _tensor(image: np.ndarray, gray: bool = False):
    import torch

    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0
    if gray:
        x = (x * torch.tensor(BT601_LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True)
    return x


def _ours(name: str, **options) -> Callable[[Pair], float]:
    metric = metrics.create(name, **options)

    def run(pair: Pair) -> float:
        metric.reset()
        metric.update(pair[0], pair[1])
        return metric.compute()
    return run


def _piq_peers() -> dict[str, Callable[[], Callable[[Pair], float]]]:
    import piq

    return {
        "psnr": lambda: lambda p: float(piq.psnr(_tensor(p[0]), _tensor(p[1]), data_range=1.0)),
        "ssim": lambda: lambda p: float(piq.ssim(_tensor(p[0], True), _tensor(p[1], True), data_range=1.0,
                                                 downsample=False)),
        "ssim-rgb": lambda: lambda p: float(piq.ssim(_tensor(p[0]), _tensor(p[1]), data_range=1.0, downsample=False)),
        "lpips": lambda: (lambda m: lambda p: float(m(_tensor(p[0]), _tensor(p[1]))))(piq.LPIPS()),
        "brisque": lambda: lambda p: float(piq.brisque(_tensor(p[0]), data_range=1.0)),
    }


def _torchmetrics_peers() -> dict[str, Callable[[], Callable[[Pair], float]]]:
    try:
        from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure
    except ImportError:
        return {}
    return {
        "psnr": lambda: lambda p: float(peak_signal_noise_ratio(_tensor(p[0]), _tensor(p[1]), data_range=1.0)),
        "ssim": lambda: lambda p: float(structural_similarity_index_measure(_tensor(p[0], True), _tensor(p[1], True),
                                                                           data_range=1.0)),
    }


OURS: dict[str, Callable[[], Callable[[Pair], float]]] = {
    "psnr": lambda: _ours("psnr"),
    "psnr-y": lambda: _ours("psnr-y"),
    "ssim": lambda: _ours("ssim"),
    "ssim-rgb": lambda: _ours("ssim", channel="rgb"),
    "lpips": lambda: _ours("lpips"),
    "brisque": lambda: _ours("brisque"),
    "niqe": lambda: _ours("niqe"),
}


def _rate(fn: Callable[[Pair], float], pair: Pair, n: int) -> float:
    fn(pair)
    start = time.perf_counter()
    for _ in range(n):
        fn(pair)
    return n / (time.perf_counter() - start)


def _peer_rate(factory, pair: Pair, n: int) -> str:
    if factory is None:
        return "-"
    try:
        return f"{_rate(factory(), pair, n):.1f}"
    except Exception as exc:  # a peer that cannot run here (e.g. weights download) is reported, not fatal
        return f"n/a ({exc.__class__.__name__})"


def bench_metrics(sizes: tuple[int, ...] = (256, 512), n: int = 20, names: list[str] | None = None,
                  threads: int = 1) -> Iterator[str]:
    """Yield table lines: metric, size, ours pairs/s, piq pairs/s, ours/piq, torchmetrics pairs/s."""
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    names = names or list(OURS)
    unknown = [m for m in names if m not in OURS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(OURS)}")
    piq_peers, tm_peers = _piq_peers(), _torchmetrics_peers()
    yield f"pairs/s on CPU, {threads} thread(s), n={n} (torchmetrics {'found' if tm_peers else 'not installed'})"
    yield f"{'metric':10} {'size':>5} {'oldphoto':>10} {'piq':>16} {'ratio':>7} {'torchmetrics':>13}"
    for size in sizes:
        pair = make_pair(size)
        for name in names:
            ours = _rate(OURS[name](), pair, n)
            piq_rate = _peer_rate(piq_peers.get(name), pair, n)
            ratio = f"{ours / float(piq_rate):.2f}" if piq_rate.replace(".", "").isdigit() else "-"
            yield (f"{name:10} {size:>5} {ours:>10.1f} {piq_rate:>16} {ratio:>7} "
                   f"{_peer_rate(tm_peers.get(name), pair, n):>13}")
