"""`oldphoto bench synthesize`: samples/s of dataset synthesis on the builtin photos, 1 vs N workers.

Rates exclude the process pool's start-up (reported separately); phase shares are the worker
seconds spent in each phase of a sample, summed over the serial run. Both runs' outputs are
compared file by file, so the benchmark also checks worker-count independence.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from oldphoto.datasets.sources import make_source
from oldphoto.datasets.synthesize import PHASES, synthesize


def tree_digest(folder: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def bench_synthesize(workers: int = 2, crop: int = 256, per_image: int = 8,
                     preset: str = "bopbtl-code") -> Iterator[str]:
    """Yield report lines: rates for 1 and ``workers`` processes, speed-up, phase shares
    (default and ``--png-stored`` encoding)."""
    source = make_source("builtin")
    yield (f"synthesize on {len(source)} builtin photos x {per_image} samples, {crop} px crops, preset {preset}, "
           f"{os.cpu_count()} CPUs")
    rates, digests = {}, {}
    with tempfile.TemporaryDirectory(prefix="oldphoto-bench-") as tmp:
        for n in (1, workers):
            out = Path(tmp) / f"w{n}"
            summary = synthesize(source, out, preset=preset, crop=crop, per_image=per_image, workers=n,
                                 progress=False)
            busy = summary.elapsed_s - summary.startup_s
            rates[n] = summary.made / busy
            digests[n] = tree_digest(out)
            yield (f"  {n} worker(s): {summary.made} samples in {busy:.2f} s = {rates[n]:.1f} samples/s "
                   f"(+{summary.startup_s:.2f} s pool start-up)")
            if n == 1:
                total = sum(summary.seconds.values())
                shares = {p: summary.seconds[p] / total for p in PHASES}
    yield f"  speed-up {workers} vs 1 worker: {rates[workers] / rates[1]:.2f}x (target >= 1.7x for 2 workers)"
    yield "  worker time: " + ", ".join(f"{p} {100 * shares[p]:.1f}%" for p in PHASES)
    yield (f"  file encoding + hashing: {100 * (shares['encode'] + shares['hash']):.1f}% of the total "
           f"(target < 30%); with writing: {100 * (shares['encode'] + shares['hash'] + shares['write']):.1f}%")
    same = digests[1] == digests[workers]
    yield f"  outputs of 1 and {workers} workers identical: {'yes' if same else 'NO'}"
    with tempfile.TemporaryDirectory(prefix="oldphoto-bench-") as tmp:
        summary = synthesize(source, Path(tmp), preset=preset, crop=crop, per_image=per_image, png_stored=True,
                             progress=False)
    share = (summary.seconds["encode"] + summary.seconds["hash"]) / sum(summary.seconds.values())
    yield (f"  with --png-stored, 1 worker: {summary.made / (summary.elapsed_s - summary.startup_s):.1f} "
           f"samples/s, encoding + hashing {100 * share:.1f}% of the total")
