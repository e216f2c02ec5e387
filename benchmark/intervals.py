"""Bootstrap intervals of benchmark means and paired comparisons between models.

Conventions (docs/intervals-and-realism.md says more):

- Percentile bootstrap: ``resamples`` draws of the samples with replacement, the statistic on each
  draw, the interval between the (1 - level) / 2 and (1 + level) / 2 quantiles of the draws
  (``numpy.percentile``, linear). Level 0.95, seed 0 unless given.
- The draws depend only on the seed and the number of samples, so every model of a dataset is
  resampled with the same draws: the difference of two models' draws is the paired bootstrap of
  their difference.
- Per-image metrics: the statistic is the mean of the values as the metric's own mean counts them
  (PSNR clips ``inf`` at its ``max_db``); samples without a value (NaN) are left out of each draw.
- Set-level metrics (FID, KID, FD-VGG16, Wasserstein): the statistic is the metric's distance on
  the drawn features. Sets of the same samples (a model's restorations and the clean targets) are
  drawn together (the same indices); unrelated sets (real photos against synthetic ones) are drawn
  independently. A draw repeats samples, which biases a set distance (KID's unbiased estimator
  counts repeated pairs; covariances shrink), so these intervals are rougher than the per-image ones.
- Paired differences ``model - reference`` per sample, with the two-sided Wilcoxon signed-rank
  p-value (``scipy.stats.wilcoxon``, zero differences dropped; 1.0 when every difference is 0);
  set-level differences get the bootstrap interval only. A difference counts as real only when its
  interval excludes 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

WILCOXON = "wilcoxon-signed-rank,two-sided,zeros-dropped"
SET_TEST = "none:set-level,bootstrap-interval-only"


@dataclass(frozen=True)
class Bootstrap:
    """How intervals are drawn: ``resamples`` for means of per-image values, ``set_resamples`` for
    set-level metrics (each draw recomputes the distance, e.g. a 512 x 512 matrix square root)."""

    resamples: int = 1000
    set_resamples: int = 200
    seed: int = 0
    level: float = 0.95

    def __post_init__(self) -> None:
        if self.resamples < 2 or self.set_resamples < 2:
            raise ValueError(f"resamples must be >= 2, got {self.resamples} and {self.set_resamples}")
        if not 0 < self.level < 1:
            raise ValueError(f"level must be in (0, 1), got {self.level}")

    def indices(self, sizes: tuple[int, ...], resamples: int) -> list[np.ndarray]:
        """One (resamples, n) index array per set size in ``sizes``, drawn in turn from one generator
        seeded with ``seed``: the same sizes always give the same draws."""
        rng = np.random.default_rng(self.seed)
        return [rng.integers(0, n, (resamples, n)) for n in sizes]

    def interval(self, draws: np.ndarray) -> tuple[float, float]:
        """The percentile interval of ``draws`` (NaN draws left out; NaN with fewer than 2 left)."""
        finite = np.asarray(draws, np.float64)
        finite = finite[np.isfinite(finite)]
        if len(finite) < 2:
            return math.nan, math.nan
        tail = (1 - self.level) / 2 * 100
        low, high = np.percentile(finite, [tail, 100 - tail])
        return float(low), float(high)


def counted_values(metric, values) -> np.ndarray:
    """Each value as ``metric``'s mean counts it (its ``compute()`` of that value alone: PSNR clips
    ``inf`` at ``max_db``); NaN stays NaN."""
    out = []
    for v in values:
        metric.reset()
        metric.per_image = [v]
        out.append(metric.compute())
    metric.reset()
    return np.asarray(out, np.float64)


def mean_draws(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Mean of ``values`` (NaN left out) over each row of ``indices``; NaN for a row with no value."""
    drawn = np.asarray(values, np.float64)[indices]
    present = ~np.isnan(drawn)
    counts = present.sum(axis=1)
    sums = np.where(present, drawn, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def set_draws(distance: Callable[[np.ndarray, np.ndarray], float], pred: np.ndarray, target: np.ndarray,
              bootstrap: Bootstrap, paired: bool) -> np.ndarray:
    """``distance`` on ``bootstrap.set_resamples`` draws of the feature sets ``pred`` (N, D) and
    ``target`` (M, D): the same rows of both when ``paired`` (N == M), else independent draws."""
    if paired:
        if len(pred) != len(target):
            raise ValueError(f"paired sets differ in size: {len(pred)} and {len(target)}")
        (rows,) = bootstrap.indices((len(pred),), bootstrap.set_resamples)
        pairs = zip(rows, rows, strict=False)
    else:
        pairs = zip(*bootstrap.indices((len(pred), len(target)), bootstrap.set_resamples), strict=False)
    return np.asarray([distance(pred[i], target[j]) for i, j in pairs], np.float64)


def wilcoxon_p(differences: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired ``differences`` (NaN left out; zeros
    dropped); 1.0 when every difference is 0, NaN when there is none."""
    from scipy.stats import wilcoxon

    d = np.asarray(differences, np.float64)
    d = d[~np.isnan(d)]
    if len(d) == 0:
        return math.nan
    if not np.any(d != 0):
        return 1.0
    return float(wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def better_of(difference_low: float, difference_high: float, higher_is_better: bool) -> str:
    """"model", "reference", or "neither" (the interval of ``model - reference`` holds 0 or is NaN)."""
    if not (difference_low > 0 or difference_high < 0):
        return "neither"
    return "model" if (difference_low > 0) == bool(higher_is_better) else "reference"


class RunIntervals:
    """The intervals of one benchmark run: set-level draws are added while the run has the features
    (:meth:`add_set`), per-image ones come from the rows at the end (:meth:`finish`)."""

    def __init__(self, bootstrap: Bootstrap, references: tuple[str, ...] | list[str],
                 on_error: Callable[[str, str, str, Exception], None] | None = None) -> None:
        self.bootstrap = bootstrap
        self.references = tuple(references)
        self.on_error = on_error
        self._set_draws: dict[tuple[str, str, str], np.ndarray] = {}

    def describe(self) -> dict:
        """The run.json ``intervals`` entry."""
        return {**asdict(self.bootstrap), "method": "percentile-bootstrap", "references": list(self.references),
                "paired_test": WILCOXON}

    def add_set(self, model: str, dataset: str, metric_name: str, metric, paired: bool) -> None:
        """Draws of set-level ``metric`` (holding the features it just computed on) for one model;
        a failure is passed to ``on_error`` (metric, dataset, what, exception) and leaves no interval."""
        try:
            pred, target = metric.feature_sets()
            self._set_draws[(model, dataset, metric_name)] = set_draws(metric.distance, pred, target,
                                                                       self.bootstrap, paired)
        except Exception as exc:  # noqa: BLE001 - a failed bootstrap leaves the mean without an interval
            if self.on_error is None:
                raise
            self.on_error(metric_name, dataset, f"the bootstrap of {model}'s set", exc)

    def finish(self, summary: list[dict], rows: dict, samples: dict[str, list[str]], metrics: dict) -> list[dict]:
        """Add ``ci_low``, ``ci_high``, ``resamples`` and ``seed`` to every ``summary`` row and return
        the rows of ``differences.csv``. ``rows``: per-image rows keyed (model, dataset, sample);
        ``samples``: each dataset's sample ids; ``metrics``: the per-image metric objects by name."""
        boot = self.bootstrap
        draws, values = {}, {}
        for row in summary:
            key = (row["model"], row["dataset"], row["metric"])
            if key in self._set_draws:
                draws[key], row["resamples"] = self._set_draws[key], boot.set_resamples
            elif row["metric"] in metrics:
                found = [rows.get((key[0], key[1], s), {}).get(key[2], math.nan) for s in samples[key[1]]]
                values[key] = counted_values(metrics[key[2]], found)
                draws[key], row["resamples"] = self._mean_draws(values[key]), boot.resamples
            else:
                continue
            row["ci_low"], row["ci_high"] = boot.interval(draws[key])
            row["seed"] = boot.seed
        out = []
        by_key = {(r["model"], r["dataset"], r["metric"]): r for r in summary}
        for key, row in by_key.items():
            for ref_key in ((reference, *key[1:]) for reference in self.references if reference != key[0]):
                if key in draws and ref_key in draws:
                    out.append(self._difference(row, by_key[ref_key], draws, values))
        return out

    def _mean_draws(self, values: np.ndarray) -> np.ndarray:
        return mean_draws(values, self.bootstrap.indices((len(values),), self.bootstrap.resamples)[0])

    def _difference(self, row: dict, ref: dict, draws: dict, values: dict) -> dict:
        """The differences.csv row of ``row``'s model against ``ref``'s (same dataset and metric)."""
        key, ref_key = ((r["model"], r["dataset"], r["metric"]) for r in (row, ref))
        if key in values:
            d = values[key] - values[ref_key]
            present = d[~np.isnan(d)]
            diff_draws, resamples = self._mean_draws(d), self.bootstrap.resamples
            n, difference = len(present), float(present.mean()) if len(present) else math.nan
            p, test = wilcoxon_p(d), WILCOXON
        else:
            diff_draws, resamples = draws[key] - draws[ref_key], self.bootstrap.set_resamples
            n, difference, p, test = row["n"], float(row["mean"]) - float(ref["mean"]), math.nan, SET_TEST
        low, high = self.bootstrap.interval(diff_draws)
        higher = str(row["higher_is_better"]) in ("True", "true", "1")
        return {"model": key[0], "reference": ref_key[0], "dataset": key[1], "metric": key[2], "n": n,
                "difference": difference, "ci_low": low, "ci_high": high, "p_value": p, "test": test,
                "resamples": resamples, "seed": self.bootstrap.seed, "better": better_of(low, high, higher)}
