"""The figures of ``oldphoto realism``: one PNG per comparison, written atomically into ``figures/``.

- ``features.png``: each feature distance (KID, FD, ...) per preset with its 95% interval.
- ``nps.png``: each set's mean noise power spectrum with the 95% bootstrap band of the mean.
- ``grain.png``, ``colour.png``, ``coverage.png``: per-image values of each set (dots) with the set
  mean and its 95% interval (bar); colour also plots every crop's (a*, b*).

Needs matplotlib (``pip install 'oldphoto[extras]'``); drawn with the Agg backend, no text metadata
beyond what matplotlib always writes, so a rerun writes the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from oldphoto.infra.files import write_bytes

from . import photo_stats
from .intervals import Bootstrap, mean_draws

REAL_COLOUR = "black"


def _save(fig, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    write_bytes(path, buffer.getvalue())
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def _colours(sets) -> dict[str, str]:
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
    return {s.name: palette[k % len(palette)] for k, s in enumerate(sets)}


def _mean_interval(values: np.ndarray, bootstrap: Bootstrap) -> tuple[float, float, float]:
    draws = mean_draws(values, bootstrap.indices((len(values),), bootstrap.resamples)[0])
    return (float(np.nanmean(values)), *bootstrap.interval(draws))


def _strips(ax, title: str, unit: str, groups: list[tuple[str, np.ndarray, str]], bootstrap: Bootstrap) -> None:
    """Dots of each group's values (deterministic jitter) and its mean with the 95% interval."""
    jitter = np.random.default_rng(0)
    for k, (_label, values, colour) in enumerate(groups):
        ax.scatter(k + jitter.uniform(-0.25, 0.25, len(values)), values, s=6, alpha=0.35, color=colour, linewidths=0)
        mean, low, high = _mean_interval(values, bootstrap)
        ax.errorbar([k], [mean], yerr=[[mean - low], [high - mean]], fmt="o", color=colour, capsize=5, ms=6,
                    markeredgecolor="white")
    ax.set_xticks(range(len(groups)), [g[0] for g in groups], rotation=20, ha="right", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(unit, fontsize=8)


def _groups(stat: str, sets, real) -> list[tuple[str, np.ndarray, str]]:
    colours = _colours(sets)
    return ([(s.name, s.features[stat][:, 0], colours[s.name]) for s in sets]
            + [("real", real.features[stat][:, 0], REAL_COLOUR)])


def _features_figure(plt, costly, rows, sets):
    fig, axes = plt.subplots(1, len(costly), figsize=(4 * len(costly), 1.4 + 0.45 * len(sets)), squeeze=False)
    colours = _colours(sets)
    for ax, stat in zip(axes[0], costly, strict=False):
        stat_rows = [r for r in rows if r["statistic"] == stat.name]
        for k, r in enumerate(stat_rows):
            ax.barh(k, r["distance"], color=colours[r["preset"]],
                    xerr=[[max(r["distance"] - r["ci_low"], 0)], [max(r["ci_high"] - r["distance"], 0)]], capsize=4)
        ax.set_yticks(range(len(stat_rows)), [r["preset"] for r in stat_rows], fontsize=8)
        ax.set_title(f"{stat.name} to the real crops (lower: closer)", fontsize=9)
        ax.set_xlabel("whiskers: 95% bootstrap interval (biased upwards)", fontsize=7)
    fig.tight_layout()
    return fig


def _nps_figure(plt, sets, real, bootstrap):
    fig, ax = plt.subplots(figsize=(6, 4))
    freq = photo_stats.ring_frequencies()
    colours = {**_colours(sets), "real": REAL_COLOUR}
    for s in [*sets, real]:
        curves = s.features["nps"]
        idx = bootstrap.indices((len(curves),), bootstrap.resamples)[0]
        draws = np.nanmean(curves[idx], axis=1)
        low, high = np.nanpercentile(draws, [(1 - bootstrap.level) / 2 * 100, (1 + bootstrap.level) / 2 * 100], axis=0)
        ax.fill_between(freq, low, high, color=colours[s.name], alpha=0.2, linewidth=0)
        ax.plot(freq, np.nanmean(curves, axis=0), color=colours[s.name], label=f"{s.name} (n={len(curves)})")
    ax.set_xlabel("radial frequency (cycles / px)")
    ax.set_ylabel("power (dB, grey levels²)")
    ax.set_title("Noise power spectrum of the luma (mean, 95% band)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def write_figures(folder: Path, statistics, sets, real, rows: list[dict], bootstrap: Bootstrap) -> list[Path]:
    """Write the figures of the statistics present; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = {s.name: s for s in statistics}
    written = []
    costly = [s for s in statistics if s.costly]
    if costly:
        written.append(_save(_features_figure(plt, costly, rows, sets), folder / "features.png"))
    written.append(_save(_nps_figure(plt, sets, real, bootstrap), folder / "nps.png"))
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    for ax, stat in zip(axes, ("grain-sigma", "grain-kurtosis", "grain-corr"), strict=False):
        _strips(ax, stat, names[stat].unit, _groups(stat, sets, real), bootstrap)
    fig.tight_layout()
    written.append(_save(fig, folder / "grain.png"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    colours = {**_colours(sets), "real": REAL_COLOUR}
    for s in [*sets, real]:
        ab = s.features["colour-cast"]
        left.scatter(ab[:, 0], ab[:, 1], s=8, alpha=0.4, color=colours[s.name], linewidths=0)
        left.scatter(*ab.mean(axis=0), s=90, marker="X", color=colours[s.name], edgecolors="white", label=s.name)
    left.axhline(0, color="#999", lw=0.5)
    left.axvline(0, color="#999", lw=0.5)
    left.set_xlabel("mean a* (green - red)")
    left.set_ylabel("mean b* (blue - yellow)")
    left.set_title("Colour cast per crop (X: set mean)", fontsize=10)
    left.legend(fontsize=8)
    _strips(right, "chroma", names["chroma"].unit, _groups("chroma", sets, real), bootstrap)
    fig.tight_layout()
    written.append(_save(fig, folder / "colour.png"))
    if "coverage-gt" in names:
        fig, axes = plt.subplots(1, 2, figsize=(9, 4))
        _strips(axes[0], "preset ground truth vs detector on real", "% px", _groups("coverage-gt", sets, real),
                bootstrap)
        _strips(axes[1], "detector on both", "% px", _groups("coverage-detected", sets, real), bootstrap)
        fig.tight_layout()
        written.append(_save(fig, folder / "coverage.png"))
    return written
