"""``oldphoto bench restore``: seconds and peak memory of whole-photo restoration per size and branch.

Each (size, branch) runs in a fresh Python process, so CPU peak RSS (VmHWM) belongs to that one
measurement; on CUDA the figure is ``torch.cuda.max_memory_allocated``. Networks have random
weights (timing and memory do not depend on them); the input is a builtin photo resized to a 4:3
image of the requested megapixels with a fixed synthetic scratch mask (about 2% of pixels), so
the global branch has holes to fill. Beside each row: the bytes the reference's dense N x N
nonlocal attention would need for that size, 4 * (H*W/16)**2.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator

BRANCH_MODELS = {"patch-attention": "bopbtl", "partial-nonlocal": "bopbtl-pnl", "local": "bopbtl-local"}
MASK_LINES_PER_MP = 60


def image_shape(megapixels: float) -> tuple[int, int]:
    """(height, width) of a 4:3 landscape image of about ``megapixels`` million pixels."""
    height = max(8, round(math.sqrt(megapixels * 1e6 * 3 / 4)))
    return height, max(8, round(height * 4 / 3))


def dense_attention_bytes(height: int, width: int) -> int:
    """Bytes of the reference's float32 N x N attention matrix, N = (H/4)(W/4) latent positions."""
    return 4 * (height * width // 16) ** 2


def test_input(height: int, width: int):
    """A builtin photo resized to height x width and a seeded synthetic scratch mask (bool H x W)."""
    import cv2
    import numpy as np

    from oldphoto.datasets.builtin import builtin_paths
    from oldphoto.datasets.imageio import read_rgb

    image = cv2.resize(read_rgb(builtin_paths()["astronaut"]), (width, height), interpolation=cv2.INTER_LINEAR)
    mask = np.zeros((height, width), np.uint8)
    rng = np.random.default_rng(0)
    for _ in range(max(1, round(MASK_LINES_PER_MP * height * width / 1e6))):
        x0, x1 = rng.integers(0, width, 2)
        y0, y1 = rng.integers(0, height, 2)
        cv2.line(mask, (int(x0), int(y0)), (int(x1), int(y1)), 1, int(rng.integers(1, 4)))
    return image, mask.astype(bool)


def measure_one(megapixels: float, branch: str, config: str, device: str, max_memory_gb: float | None) -> dict:
    """Detect + restore one image in this process; seconds and peak memory (see the module notes)."""
    import time

    import torch

    from oldphoto import models
    from oldphoto.infra.memory import GB, peak_memory, reset_peak_memory
    from oldphoto.models.bopbtl.restore import PhotoRestorer

    restorer = models.create(BRANCH_MODELS[branch], config=config, pretrained=False, device=device)
    photo = PhotoRestorer(restorer, int(max_memory_gb * GB) if max_memory_gb else None)
    warm_image, warm_mask = test_input(64, 64)
    photo.detect(warm_image)
    photo.restore(warm_image, warm_mask)
    height, width = image_shape(megapixels)
    image, mask = test_input(height, width)
    dev = photo.device
    baseline = peak_memory(dev)[0] if dev.type == "cuda" else _current_rss()
    reset_peak_memory(dev)
    began = time.perf_counter()
    if photo.uses_mask:
        photo.detect(image)
    detected = time.perf_counter()
    plan = photo.plan(height, width)
    photo.restore(image, mask if photo.uses_mask else None, plan)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    done = time.perf_counter()
    peak, kind = peak_memory(dev)
    return {"megapixels": megapixels, "height": height, "width": width, "branch": branch, "config": config,
            "device": str(dev), "detect_s": detected - began, "restore_s": done - detected, "total_s": done - began,
            "peak_bytes": peak, "baseline_bytes": baseline, "memory_kind": kind, "streamed": plan.streamed,
            "latent_tile": plan.latent_tile, "dense_attention_bytes": dense_attention_bytes(height, width)}


def _current_rss() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def run_isolated(megapixels: float, branch: str, config: str, device: str, max_memory_gb: float | None,
                 timeout: float | None = None) -> dict:
    """:func:`measure_one` in a fresh interpreter; a failure comes back as ``{"error": ...}``."""
    args = json.dumps([megapixels, branch, config, device, max_memory_gb])
    code = "import json,sys; from oldphoto.benchmark.speed.restore import measure_one; " \
           "print('RESULT ' + json.dumps(measure_one(*json.loads(sys.argv[1]))))"
    try:
        done = subprocess.run([sys.executable, "-c", code, args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"megapixels": megapixels, "branch": branch, "error": f"timed out after {timeout} s"}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return {"megapixels": megapixels, "branch": branch, "error": f"exit {done.returncode}: {tail}"}


def _gib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**30:.2f}"


def format_row(row: dict) -> str:
    """One table line (GiB, seconds) for a :func:`measure_one` result or an error."""
    if "error" in row:
        return f"{row['megapixels']:>6g}  {row['branch']:<17}  error: {row['error']}"
    mode = ("whole" if not row["streamed"]
            else "bands" if row["latent_tile"] is None else f"bands+tiles{row['latent_tile']}")
    return (f"{row['megapixels']:>6g}  {row['branch']:<17}  {row['width']:>5}x{row['height']:<5}  {mode:<15}  "
            f"{row['detect_s']:>8.2f}  {row['restore_s']:>9.2f}  {row['total_s']:>8.2f}  {_gib(row['peak_bytes']):>9}  "
            f"{_gib(row['baseline_bytes']):>9}  {row['dense_attention_bytes'] / 2**30:>12.1f}")


HEADER = (f"{'MP':>6}  {'branch':<17}  {'size':<11}  {'mode':<15}  {'detect s':>8}  {'restore s':>9}  {'total s':>8}  "
          f"{'peak GiB':>9}  {'base GiB':>9}  {'dense NxN GiB':>12}")


def bench_restore(sizes: list[float], branches: list[str], config: str = "small", device: str = "auto",
                  max_memory_gb: float | None = None, timeout: float | None = None) -> Iterator[str]:
    """Lines of the table: one row per (size, branch), each measured in a fresh process."""
    unknown = [b for b in branches if b not in BRANCH_MODELS]
    if unknown:
        raise ValueError(f"unknown branch(es) {unknown}; choose from {sorted(BRANCH_MODELS)}")
    yield (f"oldphoto bench restore: config {config}, device {device}, random weights; peak = "
           "cuda max_memory_allocated or CPU peak RSS (VmHWM) of a fresh process, base = its RSS before the image")
    yield HEADER
    for megapixels in sizes:
        for branch in branches:
            yield format_row(run_isolated(megapixels, branch, config, device, max_memory_gb, timeout))
