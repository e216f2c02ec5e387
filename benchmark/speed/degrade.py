"""`oldphoto bench degrade`: images/s on one thread for every op and preset, beside albumentations.

Each registered op is timed alone (wrapped in a Pipeline with p=1), each preset as a whole, on a
builtin photo resized to each size; the albumentations transform that does the same job (where one
exists) is timed on the same image in the same run, and the ratio printed (>1: oldphoto faster).
Below each preset, where its time goes: every op's milliseconds per image (replaying the recorded
ops of the calls one at a time, which gives the same bytes) and the rest of the call (drawing
parameters, seeding, records).

Ops with a version 2 are also timed at it (``NAME-v2``), and presets with a ``NAME-v2`` twin (every
op at version 2 where it has one) beside them; a ``-v2`` row has the albumentations peer of its
version-1 name. ``--only NAME`` measures the twin too. ``--repeats N`` measures every subject of a
size N times in turn and prints medians with the rounds' range (the rates of a shared machine drift
by 10-30% within minutes).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator

import cv2

from oldphoto import degrade
from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb
from oldphoto.degrade.compose import State, apply_op


def albumentations_peers() -> dict[str, Callable]:
    """Op or preset name -> factory of the albumentations transform doing the same job (p=1)."""
    import albumentations as A

    def bopbtl_code():
        return A.Compose([
            A.RandomOrder([
                A.GaussianBlur(blur_limit=(3, 7), sigma_limit=(1, 5), p=0.7),
                A.OneOf([A.GaussNoise(std_range=(5 / 255, 50 / 255), p=1),
                         A.MultiplicativeNoise(multiplier=(0.8, 1.2), elementwise=True, p=1),
                         A.SaltAndPepper(amount=(0, 0.01), salt_vs_pepper=(0.3, 0.8), p=1)], p=0.7),
                A.Downscale(scale_range=(0.5, 1.0), interpolation_pair={"downscale": cv2.INTER_CUBIC,
                                                                        "upscale": cv2.INTER_LINEAR}, p=0.7),
                A.ImageCompression(quality_range=(40, 100), p=0.7)], n=4, p=1),
            A.ToGray(p=0.1)], seed=0)

    return {
        "GaussianBlur": lambda: A.GaussianBlur(blur_limit=(3, 7), sigma_limit=(1, 5), p=1),
        "DefocusBlur": lambda: A.Defocus(radius=(1, 4), p=1),
        "MotionBlur": lambda: A.MotionBlur(blur_limit=(3, 15), p=1),
        "GaussianNoise": lambda: A.GaussNoise(std_range=(5 / 255, 50 / 255), p=1),
        "SpeckleNoise": lambda: A.MultiplicativeNoise(multiplier=(0.8, 1.2), elementwise=True, p=1),
        "SaltPepperNoise": lambda: A.SaltAndPepper(amount=(0, 0.01), salt_vs_pepper=(0.3, 0.8), p=1),
        "PoissonNoise": lambda: A.ShotNoise(scale_range=(0.005, 0.05), p=1),
        "JpegCompression": lambda: A.ImageCompression(quality_range=(40, 100), p=1),
        "Resample": lambda: A.Downscale(scale_range=(0.5, 1.0), p=1),
        "Fade": lambda: A.ColorJitter(brightness=0, contrast=(0.6, 0.9), saturation=(0.3, 0.8), hue=0, p=1),
        "Sepia": lambda: A.ToSepia(p=1),
        "BrightnessContrast": lambda: A.RandomBrightnessContrast(p=1),
        "Grayscale": lambda: A.ToGray(p=1),
        "HorizontalFlip": lambda: A.HorizontalFlip(p=1),
        "bopbtl-code": bopbtl_code,
    }


def _rates(fns: list[Callable[[int], object]], n: int) -> list[float]:
    """Calls per second of each of ``fns``: one warm-up call each, then ``n`` calls each (arguments 1
    to n), taken in turn call by call, so load from other processes falls on all of them alike."""
    for fn in fns:
        fn(0)
    spent = [0.0] * len(fns)
    for i in range(n):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            fn(i + 1)
            spent[k] += time.perf_counter() - start
    return [n / t for t in spent]


def op_breakdown(pipe: degrade.Pipeline, image, n: int) -> tuple[dict[str, float], Counter, float]:
    """Where ``n`` calls of ``pipe`` on ``image`` spend their time: op name -> ms per image, op name
    -> calls, and the ms per image spent outside the ops (parameters, seeding, records)."""
    spent, calls, total = Counter(), Counter(), 0.0
    for i in range(n):
        start = time.perf_counter()
        result = pipe(image, seed=i + 1)
        total += time.perf_counter() - start
        state = State(image=image, target=image)
        for record in result.params["ops"]:
            op = degrade.from_dict(record["op"])
            start = time.perf_counter()
            apply_op(state, op, record["params"])
            label = record["op"]["type"] + (f" v{op.version}" if op.version != 1 else "")
            spent[label] += time.perf_counter() - start
            calls[label] += 1
    per_image = {name: 1000 * t / n for name, t in spent.most_common()}
    return per_image, calls, 1000 * total / n - sum(per_image.values())


def _breakdown_lines(pipe: degrade.Pipeline, image, n: int) -> Iterator[str]:
    per_image, calls, rest = op_breakdown(pipe, image, n)
    for name, ms in per_image.items():
        yield f"  {name:<20}{ms:>8.2f} ms/img  ({calls[name] / n:.2f} calls/img)"
    yield f"  {'(rest of the call)':<20}{rest:>8.2f} ms/img"


def _subjects() -> dict[str, degrade.Pipeline]:
    """Name -> pipeline of every op (alone, p=1; ``NAME-vN`` at each later version) and preset."""
    subjects = {}
    for name, cls in sorted(degrade.REGISTRY.items()):
        if isinstance(cls, type) and issubclass(cls, degrade.Op):
            for version in cls.VERSIONS:
                op = cls(p=1.0, version=version)
                subjects[name if version == 1 else f"{name}-v{version}"] = degrade.Pipeline([op])
    for name in degrade.list_presets():
        subjects[name] = degrade.preset(name)
    return subjects


def base_name(name: str) -> str:
    """The version-1 name of a subject (``bopbtl-code-v2`` -> ``bopbtl-code``; others as they are)."""
    stem, _, version = name.rpartition("-v")
    return stem if stem and version.isdigit() else name


def _selected(subjects: dict[str, degrade.Pipeline], names: list[str] | None) -> list[str]:
    """The subjects to measure, in order: ``names`` (all when None) and the later versions of each."""
    if not names:
        return list(subjects)
    unknown = sorted(set(names) - set(subjects))
    if unknown:
        raise ValueError(f"bench degrade: unknown op/preset names {unknown}; known: {sorted(subjects)}")
    return [name for name in subjects if name in names or base_name(name) in names]


def _row(name: str, size: int, rounds: list[list[float]]) -> str:
    """A report line from the rates of each round ([oldphoto] or [oldphoto, albumentations]):
    medians, and with several rounds the range of oldphoto's rate and of the ratio."""
    ours = [r[0] for r in rounds]
    ratios = [r[0] / r[1] for r in rounds] if len(rounds[0]) == 2 else []
    line = f"{name:<22}{size:>6}{statistics.median(ours):>11.1f}"
    if ratios:
        line += f"{statistics.median(r[1] for r in rounds):>11.1f}{statistics.median(ratios):>8.2f}"
    else:
        line += f"{'-':>11}{'-':>8}"
    if len(rounds) > 1:
        line += f"   rounds {min(ours):.1f}-{max(ours):.1f}"
        if ratios:
            line += f", ratio {min(ratios):.2f}-{max(ratios):.2f}"
    return line


def bench_degrade(sizes=(256, 512, 1024), n: int = 100, names: list[str] | None = None,
                  interleave: bool = False, repeats: int = 1) -> Iterator[str]:
    """Yield report lines: name, size, oldphoto img/s, albumentations img/s, ratio. ``interleave``:
    time oldphoto and albumentations call by call in turn instead of ``n`` calls of one, then of
    the other (steadier ratios on a loaded machine). ``repeats``: rounds of every measurement of a
    size in turn; the figures are then medians over the rounds (the ratio: the median of the rounds'
    ratios), with the range of the rounds beside them, so a machine whose speed drifts shows it."""
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        photo = read_rgb(builtin_paths()["astronaut"])
        peers = albumentations_peers()
        subjects = _subjects()
        selected = _selected(subjects, names)
        presets = set(degrade.list_presets())
        yield ("one thread (cv2.setNumThreads(1)); images/s; ratio = oldphoto / albumentations"
               + (f"; medians of {repeats} rounds" if repeats > 1 else ""))
        yield f"{'name':<22}{'size':>6}{'oldphoto':>11}{'albument.':>11}{'ratio':>8}"
        for size in sizes:
            image = cv2.resize(photo, (size, size), interpolation=cv2.INTER_AREA)
            rounds = {name: [] for name in selected}
            for _ in range(repeats):
                for name in selected:
                    pipe = subjects[name]
                    fns = [lambda i: pipe(image, seed=i)]  # noqa: B023 - _rates calls it at once, in this iteration
                    if base_name(name) in peers:
                        peer = peers[base_name(name)]()
                        fns.append(lambda i: peer(image=image))  # noqa: B023 - _rates calls it at once, in this iteration
                    rounds[name].append(_rates(fns, n) if interleave else [_rates([fn], n)[0] for fn in fns])
            for name in selected:
                yield _row(name, size, rounds[name])
                if name in presets:
                    yield from _breakdown_lines(subjects[name], image, n)
    finally:
        cv2.setNumThreads(previous)
