"""The datasets a benchmark runs on: a synthesized paired folder or a folder of real old photos."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from oldphoto.datasets.imageio import ImageReadError, read_rgb
from oldphoto.degrade.validate import MIN_SIDE


class BenchmarkError(ValueError):
    """Bad benchmark arguments or data; the message names the argument or file."""


def digest(data) -> str:
    """sha256 hex of ``data`` as canonical JSON (sorted keys): the identity of a protocol or sample list."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass
class BenchSample:
    """One sample: its degraded input, clean target (None for real photos) and packed mask PNG (or None)."""

    id: str
    degraded: Path
    clean: Path | None = None
    mask: Path | None = None


@dataclass
class BenchData:
    """A dataset to benchmark on. ``identity`` is machine-independent (no absolute paths) and
    defines the protocol; ``real`` datasets have no clean targets and no ground-truth masks.
    ``skipped``: (path, reason) of the files left out (unreadable, too small, not images)."""

    name: str
    real: bool
    root: Path
    samples: list[BenchSample]
    description: str
    identity: dict
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def data_id(self) -> str:
        """What restored images depend on: the dataset without its sample count (so --limit reuses them)."""
        return digest({k: v for k, v in self.identity.items() if k not in ("n", "samples")})[:12]


def load_paired(root: str | os.PathLike, limit: int | None = None) -> BenchData:
    """A folder written by ``oldphoto synthesize`` (clean/, degraded/, masks/, manifest.csv)."""
    from oldphoto.datasets.synthesize import dataset_info, read_manifest

    root = Path(root)
    try:
        info = dataset_info(root)
    except ValueError as exc:
        raise BenchmarkError(f"--data {exc}") from None
    args = info["arguments"]
    if info.get("status") != "complete":
        raise BenchmarkError(f"--data {root}: the dataset is incomplete; rerun its `oldphoto synthesize` to finish it")
    if args["pipeline"] is None:
        raise BenchmarkError(f"--data {root}: an unpaired dataset (no clean images); pass it as --real")
    rows = read_manifest(root)[:limit]
    if not rows:
        raise BenchmarkError(f"--data {root}: the manifest lists no samples")
    source = args["source"]
    source_name = source["kind"] if source["root"] is None else f"{source['kind']}:{Path(source['root']).name}"
    samples = [BenchSample(r["id"], root / "degraded" / f"{r['id']}.png", root / "clean" / f"{r['id']}.png",
                           root / "masks" / f"{r['id']}.png") for r in rows]
    for s in samples:
        for path in (s.degraded, s.clean):
            if not path.is_file():
                raise BenchmarkError(f"--data {root}: {path.relative_to(root)} is missing")
    identity = {"kind": "paired", "source": source_name, "split": source.get("split"), "preset": args["preset"],
                "pipeline": digest(args["pipeline"])[:12], "crop": args["crop"], "seed": args["seed"],
                "per_image": args["per_image"], "n": len(rows),
                "samples": digest([[r["id"], r["source_sha256"], r["params"]] for r in rows])[:12]}
    name = f"{source_name.replace(':', '-')}-{args['preset']}"
    crop = f"{args['crop']} px crops" if args["crop"] else "whole photos"
    description = (f"{len(rows)} samples of source {source_name}"
                   + (f" ({source['split']})" if source.get("split") else "")
                   + f", degraded with preset {args['preset']} ({crop}, seed {args['seed']}, "
                     f"{args['per_image']} per photo)")
    return BenchData(name, False, root, samples, description, identity)


def _under(path: str, root: Path) -> str:
    """``path`` relative to ``root`` where it lies under it, else as given (for one-line messages)."""
    for base in (root, root.resolve()):
        try:
            return Path(path).relative_to(base).as_posix()
        except ValueError:
            pass
    return path


def load_real(root: str | os.PathLike, limit: int | None = None) -> BenchData:
    """Real old photos: an unpaired synthesized folder or any folder of images. Files that cannot be
    read as images, or with a side under ``MIN_SIDE`` px, are left out and listed in ``skipped``."""
    from oldphoto.datasets.sources import SourceError
    from oldphoto.datasets.torch import UnpairedDataset

    root = Path(root)
    try:
        dataset = UnpairedDataset(root)
    except (SourceError, ValueError) as exc:
        raise BenchmarkError(f"--real {exc}") from None
    skipped = [(str(p), reason) for p, reason in dataset.skipped]
    samples, hashes = [], []
    for sid, p in dataset.files[:limit]:
        try:
            data = Path(p).read_bytes()
            height, width = read_rgb(p, data=data).shape[:2]
        except (OSError, ImageReadError) as exc:
            skipped.append((str(p), str(exc).removeprefix(f"{p}: ") if isinstance(exc, ImageReadError)
                            else f"cannot read ({exc.strerror})"))
            continue
        if min(width, height) < MIN_SIDE:
            skipped.append((str(p), f"too small: {width}x{height}, a side is under {MIN_SIDE} px"))
            continue
        samples.append(BenchSample(sid, Path(p)))
        hashes.append([sid, hashlib.sha256(data).hexdigest()])
    if not samples:  # run_benchmark logs skipped entries only once loading succeeded: say why here
        shown = "; ".join(f"{_under(p, root)}: {reason}" for p, reason in skipped[:5])
        more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        raise BenchmarkError(f"--real {root}: no readable images found"
                             + (f" ({len(skipped)} skipped: {shown}{more})" if skipped else ""))
    identity = {"kind": "real", "source": root.name, "n": len(samples), "samples": digest(hashes)[:12]}
    description = f"{len(samples)} real old photos from folder {root.name} (no clean targets, no ground-truth masks)"
    return BenchData(f"real-{root.name}", True, root, samples, description, identity, skipped)


def read_mask(sample: BenchSample) -> np.ndarray | None:
    """The sample's ground-truth ``defects`` mask (bool HxW), or None when it has no mask file."""
    from oldphoto.datasets.masks import read_masks

    if sample.mask is None or not sample.mask.is_file():
        return None
    return read_masks(sample.mask)["defects"]
