"""How close a new version of a degradation op is to version 1: the statistics of what each adds.

Both versions of an op draw the same parameters for a call seed (their ``sample`` is shared), so
the comparison is paired: per call, the added pattern ``degraded - clean`` (float, grey levels) is
summarised by its mean, its standard deviation, its high-frequency energy (RMS of the pattern
minus its Gaussian blur of sigma ``HF_SIGMA`` px), the share of pixels it changes by at least
``MASK_THRESHOLD`` levels, and, for structured defects, the mask coverage; the statistics are then
averaged over calls and photos. Run ``python -m oldphoto.benchmark.speed.versions`` for the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import cv2
import numpy as np

from oldphoto import degrade
from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb
from oldphoto.degrade.functional.blend import MASK_THRESHOLD
from oldphoto.degrade.presets import preset_dict

HF_SIGMA = 1.5
STATS = ("mean", "std", "hf", "changed", "coverage")
PHOTOS = ("astronaut", "camera", "coffee", "chelsea")


def pattern_stats(clean: np.ndarray, degraded: np.ndarray, masks: dict[str, np.ndarray]) -> dict[str, float]:
    """Statistics of ``degraded - clean`` (uint8 images of one shape; grey levels, shares 0-1)."""
    diff = degraded.astype(np.float32) - clean.astype(np.float32)
    high = diff - cv2.GaussianBlur(diff, (0, 0), HF_SIGMA)
    moved = np.abs(diff) >= MASK_THRESHOLD
    return {"mean": float(diff.mean()), "std": float(diff.std()), "hf": float(np.sqrt(np.mean(high * high))),
            "changed": float((moved.any(axis=2) if moved.ndim == 3 else moved).mean()),
            "coverage": float(masks["defects"].mean()) if "defects" in masks else 0.0}


def pipeline_stats(pipe: degrade.Pipeline, images: Iterable[np.ndarray], seeds: int) -> dict[str, float]:
    """Mean of :func:`pattern_stats` over ``seeds`` calls of ``pipe`` (seeds 0 to ``seeds - 1``) on
    each of ``images`` (against the clean target, so greyscale targets compare as such)."""
    rows = [pattern_stats((res := pipe(image, seed=seed)).target, res.image, res.masks)
            for image in images for seed in range(seeds)]
    return {name: float(np.mean([row[name] for row in rows])) for name in STATS}


def version_stats(op: dict, version: int, images: Iterable[np.ndarray], seeds: int) -> dict[str, float]:
    """:func:`pipeline_stats` of the op described by ``op`` (its dict form) at ``version``, always applied."""
    return pipeline_stats(degrade.Pipeline([degrade.from_dict({**op, "version": version, "p": 1.0})]), images, seeds)


def compare(op: dict, images: list[np.ndarray], seeds: int, version: int = 2) -> dict[str, dict[str, float]]:
    """``{"v1": stats, "v<version>": stats}`` of :func:`version_stats` on the same images and seeds."""
    return {"v1": version_stats(op, 1, images, seeds), f"v{version}": version_stats(op, version, images, seeds)}


def preset_ops(name: str) -> Iterator[dict]:
    """The dict form of every op of preset ``name`` that has a version 2, version field removed."""
    stack = [preset_dict(name)]
    while stack:
        node = stack.pop(0)
        stack[:0] = node.get("transforms", [])
        cls = degrade.REGISTRY[node["type"]]
        if issubclass(cls, degrade.Op) and 2 in cls.VERSIONS:
            yield {k: v for k, v in node.items() if k != "version"}


def photos(size: int) -> list[np.ndarray]:
    """The builtin photos of ``PHOTOS`` resized to ``size`` x ``size`` RGB."""
    return [cv2.resize(read_rgb(builtin_paths()[name]), (size, size), interpolation=cv2.INTER_AREA)
            for name in PHOTOS]


def _lines(label: str, stats: dict[str, dict[str, float]]) -> Iterator[str]:
    for name in STATS:
        one, two = stats["v1"][name], stats["v2"][name]
        ratio = f"{two / one:>8.3f}" if one else f"{'-':>8}"
        yield f"{label:<16}{name:<10}{one:>10.4f}{two:>10.4f}{ratio}"


def report(preset: str = "bopbtl-paper", size: int = 256, seeds: int = 200) -> Iterator[str]:
    """Table lines: per op of ``preset`` with a version 2, each statistic for v1 and v2 and their
    ratio, then the same for the whole preset against its ``-v2`` twin."""
    images = photos(size)
    yield f"{len(images)} photos at {size} px x {seeds} seeds; grey levels (mean, std, hf), shares (changed, coverage)"
    yield f"{'op':<16}{'stat':<10}{'v1':>10}{'v2':>10}{'v2/v1':>8}"
    for op in preset_ops(preset):
        yield from _lines(op["type"], compare(op, images, seeds))
    whole = {f"v{v}": pipeline_stats(degrade.preset(name), images, seeds)
             for v, name in ((1, preset), (2, f"{preset}-v2"))}
    yield from _lines(preset, whole)


if __name__ == "__main__":
    cv2.setNumThreads(1)
    for line in report():
        print(line)
