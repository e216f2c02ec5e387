"""`oldphoto realism`: how close degradation presets come to real old photos.

For each preset, crops of the clean source photos are degraded (``oldphoto synthesize``, into
``OUT/data/presets/NAME``) and compared, as a set, with crops of the real old photos (the same
crop side, taken at their own resolution by ``synthesize --source real`` into ``OUT/data/real``).
Every statistic is a distance between the two sets (0 = indistinguishable by it), with a
percentile-bootstrap interval (:mod:`oldphoto.benchmark.intervals`: both sets resampled
independently). Presets are made from the same source crops, so they share their draws and the
difference of two presets' distances gets a paired interval (``realism_pairs.csv``).

Statistics (see ``docs/intervals-and-realism.md``):

- ``kid-vgg16``, ``fd-vgg16``: KID and Frechet distance on VGG16 relu5_3 features (512-d, images
  resized to 224 px; non-standard, not comparable to published FID/KID); ``fid`` and ``kid`` on the
  Inception pool3 features where the ``fid-inception`` weights are present.
- ``nps``: RMS over frequency rings of the difference of the sets' mean noise power spectra (dB).
- ``grain-sigma``, ``grain-kurtosis``, ``grain-corr``, ``chroma``: |difference of the set means|.
- ``colour-cast``: distance between the sets' mean (a*, b*) (CIELAB units).
- ``coverage-gt``: |mean defect coverage the preset draws (its ground-truth masks) - mean coverage
  the detector finds on the real crops| (% of pixels); ``coverage-detected``: the detector on both.

Outputs: ``realism.csv`` (one row per preset and statistic: the distance, its interval, the two
set means for scalar statistics), ``realism_pairs.csv``, ``realism.json`` (arguments, conventions,
set sizes, statistics left out and why) and one figure per comparison in ``figures/``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from oldphoto import degrade
from oldphoto.datasets.imageio import read_rgb

from . import photo_stats, rundir
from .intervals import Bootstrap, better_of, set_draws

RESULTS = "realism.csv"
PAIRS = "realism_pairs.csv"
META = "realism.json"
FIGURES = "figures"
RESULT_COLUMNS = ("preset", "statistic", "unit", "distance", "ci_low", "ci_high", "preset_mean", "real_mean",
                  "difference", "difference_ci_low", "difference_ci_high", "n_preset", "n_real", "resamples", "seed",
                  "convention")
PAIR_COLUMNS = ("preset", "other", "statistic", "difference", "ci_low", "ci_high", "closer", "resamples", "seed")


class RealismError(ValueError):
    """Bad realism arguments; the message names the argument."""


def _mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Difference of the means of one-column feature sets, a - b."""
    return float(a[:, 0].mean() - b[:, 0].mean())


def _mean_gap(a: np.ndarray, b: np.ndarray) -> float:
    """|difference of the means| of one-column feature sets."""
    return abs(_mean_difference(a, b))


def _mean_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between the mean rows."""
    return float(np.linalg.norm(a.mean(axis=0) - b.mean(axis=0)))


def _spectrum_gap(a: np.ndarray, b: np.ndarray) -> float:
    """RMS over rings of the difference of the mean spectra (rings without data left out)."""
    diff = np.nanmean(a, axis=0) - np.nanmean(b, axis=0)
    return float(np.sqrt(np.nanmean(diff ** 2)))


@dataclass(frozen=True)
class Statistic:
    """One comparison: per-image features -> a set distance. ``scalar``: one value per image (its
    set means are reported); ``costly``: the distance is heavy (bootstrapped ``set_resamples`` times)."""

    name: str
    unit: str
    convention: str
    distance: Callable[[np.ndarray, np.ndarray], float]
    scalar: bool = False
    costly: bool = False


@dataclass
class PhotoSet:
    """Crops of one set: a preset's degraded crops (with ground-truth masks) or the real crops."""

    name: str
    folder: Path
    ids: list[str]
    masks: list[np.ndarray] | None = None
    features: dict[str, np.ndarray] = field(default_factory=dict)

    def images(self) -> list[np.ndarray]:
        return [read_rgb(self.folder / "degraded" / f"{i}.png") for i in self.ids]

    def network_features(self, extractor) -> np.ndarray:
        """``extractor``'s features of the crops in ``ids`` order, through the per-folder feature cache."""
        from .metrics.features import folder_features, folder_files

        row = {path.stem: k for k, path in enumerate(folder_files(self.folder / "degraded"))}
        return folder_features(self.folder / "degraded", extractor)[[row[i] for i in self.ids]]


@dataclass
class RealismResult:
    """What :func:`realism` wrote: its rows, pair rows, left-out statistics (name -> reason) and files."""

    out: Path
    rows: list[dict]
    pairs: list[dict]
    unavailable: dict[str, str]
    figures: list[Path]

    def lines(self) -> list[str]:
        """A console summary: one line per preset and statistic, then the pairs that differ."""
        out = [f"{r['preset']:>16}  {r['statistic']:<18} {r['distance']:.4g} [{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
               f" {r['unit']}" for r in self.rows]
        out += [f"{p['preset']} vs {p['other']} on {p['statistic']}: "
                f"{p[p['closer']] if p['closer'] != 'neither' else 'neither'}"
                f" closer ({p['difference']:+.4g} [{p['ci_low']:.4g}, {p['ci_high']:.4g}])" for p in self.pairs]
        out += [f"left out: {name} ({reason})" for name, reason in self.unavailable.items()]
        return out + [f"results: {self.out / RESULTS}"]


def _synthesize(source, out: Path, pipeline: degrade.Pipeline | None, crop: int, per_image: int, limit: int | None,
                seed: int) -> PhotoSet:
    from oldphoto.datasets.masks import read_masks
    from oldphoto.datasets.synthesize import read_manifest, synthesize

    summary = synthesize(source, out, preset=pipeline.name if pipeline else "none", pipeline=pipeline, seed=seed,
                         crop=crop, per_image=per_image, limit=limit, progress=False)
    if summary.written < 2:
        raise RealismError(f"{out}: {summary.written} crop(s) written; "
                           "needs at least 2 (smaller --crop or more photos)")
    ids = [r["id"] for r in read_manifest(out)]
    masks = [read_masks(out / "masks" / f"{i}.png")["defects"] for i in ids] if pipeline is not None else None
    return PhotoSet(pipeline.name if pipeline else "real", out, ids, masks)


def _feature_statistics(device: str, unavailable: dict[str, str]) -> dict[str, tuple[Statistic, object]]:
    """The feature-set statistics that can be made here, with the metric that extracts their features."""
    from oldphoto.benchmark import metrics
    from oldphoto.infra import weights

    made = {}
    candidates = [("kid-vgg16", "kid", {"features": "vgg16"}), ("fd-vgg16", "fd-vgg16", {}), ("fid", "fid", {}),
                  ("kid", "kid", {})]
    for name, metric_name, options in candidates:
        if name in ("fid", "kid"):
            try:
                weights.verify("fid-inception")
            except weights.WeightsError as exc:
                unavailable[name] = str(exc)
                continue
        metric = metrics.create(metric_name, device=device, **options)
        made[name] = (Statistic(name, "", metric.convention, metric.distance, costly=True), metric)
    return made


def _image_statistics() -> list[Statistic]:
    grain, colour = photo_stats.GRAIN_CONVENTION, photo_stats.COLOUR_CONVENTION
    return [Statistic("nps", "dB", f"{photo_stats.NPS_CONVENTION},rms-of-mean-difference", _spectrum_gap),
            Statistic("grain-sigma", "grey levels", f"{grain},std,abs-mean-difference", _mean_gap, scalar=True),
            Statistic("grain-kurtosis", "", f"{grain},excess-kurtosis,abs-mean-difference", _mean_gap, scalar=True),
            Statistic("grain-corr", "", f"{grain},lag1-autocorrelation,abs-mean-difference", _mean_gap, scalar=True),
            Statistic("colour-cast", "delta E(a*b*)", f"{colour},a*b*,distance-of-means", _mean_distance),
            Statistic("chroma", "C*ab", f"{colour},chroma,abs-mean-difference", _mean_gap, scalar=True)]


def _coverage_statistics(detector: str) -> list[Statistic]:
    rule = f"percent-of-pixels,detector-{detector}-detect_defects"
    return [Statistic("coverage-gt", "% px", f"coverage:preset-gt-defects-vs-real-{rule},abs-mean-difference",
                      _mean_gap, scalar=True),
            Statistic("coverage-detected", "% px", f"coverage:{rule}-on-both,abs-mean-difference", _mean_gap,
                      scalar=True)]


def _image_features(images: list[np.ndarray]) -> dict[str, np.ndarray]:
    grains = np.array([photo_stats.grain(im) for im in images])
    colours = np.array([photo_stats.colour(im) for im in images])
    return {"nps": np.array([photo_stats.noise_power_spectrum(im) for im in images]),
            "grain-sigma": grains[:, :1], "grain-kurtosis": grains[:, 1:2], "grain-corr": grains[:, 2:],
            "colour-cast": colours[:, :2], "chroma": colours[:, 2:]}


def _make_detector(name: str, device: str, unavailable: dict[str, str], log: Callable[[str], None]):
    from oldphoto import models

    try:
        restorer = models.create(name, device=device)
    except Exception as exc:  # noqa: BLE001 - missing weights leave the coverage statistics out
        reason = f"detector {name} unavailable: {type(exc).__name__}: {exc}"
    else:
        if hasattr(restorer, "detect_defects"):
            return restorer
        reason = f"model {name} has no defect detector"
    for stat in ("coverage-gt", "coverage-detected"):
        unavailable[stat] = reason
    log(f"warning: coverage statistics left out: {reason}")
    return None


def _rows(stat: Statistic, sets: list[PhotoSet], real: PhotoSet, bootstrap: Bootstrap) -> tuple[list[dict], dict]:
    """realism.csv rows of ``stat`` for each preset, and each preset's bootstrap draws."""
    resamples = bootstrap.set_resamples if stat.costly else bootstrap.resamples
    boot = Bootstrap(bootstrap.resamples, resamples, bootstrap.seed, bootstrap.level)
    rows, draws = [], {}
    target = real.features[stat.name]
    for s in sets:
        pred = s.features[stat.name]
        row = {"preset": s.name, "statistic": stat.name, "unit": stat.unit, "distance": stat.distance(pred, target),
               "n_preset": len(pred), "n_real": len(target), "resamples": resamples, "seed": bootstrap.seed,
               "convention": stat.convention}
        if stat.scalar:  # the signed difference has an unbiased interval; the distance is its size
            signed = set_draws(_mean_difference, pred, target, boot, paired=False)
            draws[s.name] = np.abs(signed)
            row.update(preset_mean=float(pred[:, 0].mean()), real_mean=float(target[:, 0].mean()),
                       difference=_mean_difference(pred, target))
            row["difference_ci_low"], row["difference_ci_high"] = boot.interval(signed)
        else:
            draws[s.name] = set_draws(stat.distance, pred, target, boot, paired=False)
        row["ci_low"], row["ci_high"] = boot.interval(draws[s.name])
        rows.append(row)
    return rows, draws


def _pairs(stat_rows: list[dict], draws: dict, sets: list[PhotoSet], bootstrap: Bootstrap) -> list[dict]:
    """realism_pairs.csv rows: for presets made from the same source crops, distance(a) - distance(b)."""
    by_name = {r["preset"]: r for r in stat_rows}
    out = []
    for a, b in itertools.combinations(sets, 2):
        if a.ids != b.ids:
            continue
        low, high = bootstrap.interval(draws[a.name] - draws[b.name])
        closer = {"model": "other", "reference": "preset"}.get(better_of(low, high, higher_is_better=True), "neither")
        row = by_name[a.name]
        out.append({"preset": a.name, "other": b.name, "statistic": row["statistic"],
                    "difference": row["distance"] - by_name[b.name]["distance"], "ci_low": low, "ci_high": high,
                    "closer": closer, "resamples": row["resamples"], "seed": row["seed"]})
    return out


def realism(presets: list[str | degrade.Pipeline], real: str | os.PathLike, out: str | os.PathLike,
            source: str = "builtin", root: str | os.PathLike | None = None, split: str | None = None,
            crop: int = 256, per_image: int = 8, real_per_image: int = 16, limit: int | None = None, seed: int = 0,
            bootstrap: Bootstrap = Bootstrap(), device: str = "auto", detector: str | None = "bopbtl",
            figures: bool = True, log: Callable[[str], None] = print) -> RealismResult:
    """Compare each of ``presets`` (names or pipelines) with the real old photos in ``real``.

    ``source``/``root``/``split``: the clean photos (as for ``oldphoto synthesize``); ``per_image``
    crops of side ``crop`` per source photo (the first ``limit`` photos), ``real_per_image`` per real
    photo, all seeded by ``seed``. ``detector``: the model whose ``detect_defects`` gives the coverage
    statistics (None: leave them out). Writes the files of the module notes into ``out``.
    """
    from oldphoto.datasets.sources import SourceError, make_source
    from oldphoto.infra.device import resolve_device

    if not presets:
        raise RealismError("give at least one --preset")
    device = str(resolve_device(device))
    out = Path(out)
    pipelines = _pipelines(presets)
    try:
        clean, real_source = make_source(source, root, split), make_source("real", real)
    except SourceError as exc:
        raise RealismError(str(exc)) from None
    sets = [_synthesize(clean, out / "data" / "presets" / p.name, p, crop, per_image, limit, seed) for p in pipelines]
    real_set = _synthesize(real_source, out / "data" / "real", None, crop, real_per_image, None, seed)
    log(f"realism: {', '.join(f'{s.name} {len(s.ids)}' for s in sets)} crops against {len(real_set.ids)} real crops")
    unavailable: dict[str, str] = {}
    feature_stats = _feature_statistics(device, unavailable)
    restorer = _make_detector(detector, device, unavailable, log) if detector else None
    if detector is None:
        unavailable.update({s: "no --detector" for s in ("coverage-gt", "coverage-detected")})
    statistics = [stat for stat, _ in feature_stats.values()] + _image_statistics()
    if restorer is not None:
        statistics += _coverage_statistics(detector)
    for s in [*sets, real_set]:
        _measure(s, feature_stats, restorer)
        log(f"realism: statistics of {s.name} done")
    rows, pairs = _compare(statistics, sets, real_set, bootstrap)
    rundir.write_csv(out / RESULTS, RESULT_COLUMNS, rows)
    rundir.write_csv(out / PAIRS, PAIR_COLUMNS, pairs)
    written = []
    if figures:
        from .realism_figures import write_figures

        written = write_figures(out / FIGURES, statistics, sets, real_set, rows, bootstrap)
    arguments = {"presets": [p.name for p in pipelines], "real": str(Path(real).resolve()),
                 "source": clean.describe(), "crop": crop, "per_image": per_image, "real_per_image": real_per_image,
                 "limit": limit, "seed": seed, "detector": detector, "bootstrap": asdict(bootstrap)}
    rundir.write_json(out / META, _meta(out, arguments, [*sets, real_set], statistics, unavailable, written))
    return RealismResult(out, rows, pairs, unavailable, written)


def _pipelines(presets: list[str | degrade.Pipeline]) -> list[degrade.Pipeline]:
    """``presets`` as pipelines (RealismError for an unknown name or a preset given twice)."""
    try:
        pipelines = [p if isinstance(p, degrade.Pipeline) else degrade.preset(p) for p in presets]
    except degrade.DegradeError as exc:
        raise RealismError(f"--preset: {exc}") from None
    names = [p.name for p in pipelines]
    if len(set(names)) != len(names):
        raise RealismError(f"--preset: each preset once, got {names}")
    return pipelines


def _measure(photo_set: PhotoSet, feature_stats: dict[str, tuple[Statistic, object]], restorer) -> None:
    """Fill ``photo_set.features``: the image statistics, each feature statistic's network features and,
    with a ``restorer`` that detects defects, the coverage (% of pixels) it detects and the ground truth's."""
    images = photo_set.images()
    photo_set.features.update(_image_features(images))
    for name, (_, metric) in feature_stats.items():
        photo_set.features[name] = photo_set.network_features(metric.extractor)
    if restorer is None:
        return
    detected = np.array([[100.0 * restorer.detect_defects(im).mean()] for im in images])
    photo_set.features["coverage-detected"] = detected
    photo_set.features["coverage-gt"] = (np.array([[100.0 * m.mean()] for m in photo_set.masks])
                                         if photo_set.masks is not None else detected)


def _compare(statistics: list[Statistic], sets: list[PhotoSet], real: PhotoSet,
             bootstrap: Bootstrap) -> tuple[list[dict], list[dict]]:
    """realism.csv and realism_pairs.csv rows of every statistic."""
    rows, pairs = [], []
    for stat in statistics:
        stat_rows, draws = _rows(stat, sets, real, bootstrap)
        rows += stat_rows
        pairs += _pairs(stat_rows, draws, sets, bootstrap)
    return rows, pairs


def _meta(out: Path, arguments: dict, sets: list[PhotoSet], statistics: list[Statistic], unavailable: dict[str, str],
          figures: list[Path]) -> dict:
    """realism.json: the arguments, each set's size and folder, the statistics' conventions, what was left out."""
    return {"arguments": arguments,
            "sets": {s.name: {"n": len(s.ids), "folder": str(s.folder.relative_to(out))} for s in sets},
            "statistics": {s.name: {"unit": s.unit, "convention": s.convention} for s in statistics},
            "unavailable": unavailable, "figures": [str(p.relative_to(out)) for p in figures]}
