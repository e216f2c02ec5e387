"""Scoring restored images: the metrics of a run, one image's value, failures and means."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .data import BenchData, BenchmarkError
from .intervals import counted_values


@dataclass
class MetricSet:
    """Created metrics by name, and the requested ones that could not be created (name -> reason)."""

    metrics: dict
    unavailable: dict

    def applicable(self, data: BenchData, have_reference_set: bool) -> dict:
        """Metrics that can score ``data``: on real photos, per-image metrics without a reference,
        and set-level metrics when a clean reference set exists."""
        out = {}
        for name, m in self.metrics.items():
            set_level = getattr(m, "set_level", False)
            if set_level and not have_reference_set:
                continue
            if data.real and m.needs_reference and not set_level:
                continue
            out[name] = m
        return out

    def describe(self) -> dict:
        return {name: {"convention": m.convention, "higher_is_better": bool(m.higher_is_better),
                       "needs_reference": bool(m.needs_reference), "set_level": bool(getattr(m, "set_level", False))}
                for name, m in self.metrics.items()}


def create_metrics(names: list[str], device: str) -> MetricSet:
    """``metrics.create(name, device=device)`` for each name; failures (e.g. missing weights) are kept
    with their reason so the run goes on without that metric."""
    from oldphoto.benchmark import metrics as metric_lib

    known = metric_lib.list_metrics()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BenchmarkError(f"--metrics: unknown metric(s) {unknown}; known: {', '.join(known)}")
    created, unavailable = {}, {}
    for name in names:
        try:
            created[name] = metric_lib.create(name, device=device)
        except Exception as exc:  # noqa: BLE001 - any failure (weights, packages) leaves this metric out
            unavailable[name] = f"{type(exc).__name__}: {exc}"
    return MetricSet(created, unavailable)


def score_one(metric, pred: np.ndarray, target: np.ndarray | None, mask: np.ndarray | None = None) -> float:
    """One per-image value of ``metric`` for ``pred`` (against ``target`` when it needs one; a
    masked metric also gets the ground-truth defect ``mask``)."""
    metric.reset()
    if getattr(metric, "needs_mask", False):
        metric.update(pred, target, mask)
    else:
        metric.update(pred, target if metric.needs_reference else None)
    return float(metric.per_image[0])


class MetricFailures:
    """Metric errors (an image under a metric's minimum size, missing weights of a set-level metric):
    the value is left empty, the first error per (metric, dataset) is logged, all are counted for run.json."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.errors: dict[str, dict] = {}

    def record(self, metric: str, dataset: str, what: str, exc: Exception) -> None:
        """Count a failure of ``metric`` on ``what`` (a sample, or a model's set for set-level metrics)."""
        key = f"{metric} on {dataset}"
        if key not in self.errors:
            self.log(f"warning: {key}: no value for {what} (nor for others it fails on): {type(exc).__name__}: {exc}")
            self.errors[key] = {"first_error": f"{type(exc).__name__}: {exc}", "count": 0}
        self.errors[key]["count"] += 1


def mean_std(metric, values: list[float]) -> tuple[float, float]:
    """The metric's own mean of ``values`` (its ``compute()``, e.g. PSNR clips ``inf``) and the
    sample standard deviation of the values as that mean counts them (NaN for one value)."""
    counted = counted_values(metric, values)
    std = float(np.std(counted, ddof=1)) if len(counted) > 1 else math.nan
    metric.per_image = list(values)
    return metric.compute(), std
