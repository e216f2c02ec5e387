"""Latent domain gap (``wasserstein-latent``): how far a model's latent codes of real old photos lie
from those of the synthetic old photos it was trained on, as in the paper's latent-space ablation.

For every model with a latent space (``encode_latents``, see :class:`oldphoto.models.base.Restorer`:
the old-photo latent, pooled per channel to its spatial mean and standard deviation), the sliced
2-Wasserstein distance between the features of the real photos (``--real``) and those of the
synthetic degraded inputs (``--data``), with the projections and seed of the ``wasserstein``
metric. It is a summary row on the real dataset (``n`` = real photos, no standard deviation);
models without a latent space get none. Lower is better: the encoder maps both kinds of old photo
to the same region. It depends only on the inputs and the encoder, so it is recomputed on each run
(an encoder pass over both sets per model, no restoration) rather than journalled.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from oldphoto.datasets.imageio import read_rgb

from .data import BenchData
from .scoring import MetricFailures

METRIC = "wasserstein-latent"
POOLING = "old-photo-latent,channel-mean+std"


class LatentGap:
    """Scores the latent gap between ``real`` and the degraded inputs of ``synthetic`` per model."""

    def __init__(self, real: BenchData, synthetic: BenchData, failures: MetricFailures,
                 log: Callable[[str], None] = print) -> None:
        from oldphoto.benchmark import metrics

        self.real, self.synthetic = real, synthetic
        self.failures, self.log = failures, log
        self.metric = metrics.create("wasserstein", features="external")

    @classmethod
    def for_run(cls, datasets: list[BenchData], metric_names, failures: MetricFailures,
                log: Callable[[str], None] = print) -> LatentGap | None:
        """The gap of a run, or None unless it has a paired and a real dataset and asks for ``wasserstein``."""
        real = next((d for d in datasets if d.real), None)
        synthetic = next((d for d in datasets if not d.real), None)
        if real is None or synthetic is None or "wasserstein" not in metric_names:
            return None
        return cls(real, synthetic, failures, log)

    @property
    def convention(self) -> str:
        return (f"{METRIC}:sliced-w2,{POOLING},real-vs-synthetic-degraded,"
                f"proj{self.metric.n_projections},seed{self.metric.seed}")

    def describe(self) -> dict:
        """The run.json ``metrics`` entry of ``wasserstein-latent``."""
        return {"convention": self.convention, "higher_is_better": False, "needs_reference": False, "set_level": True}

    def score(self, model_name: str, restorer) -> list[dict]:
        """The summary row of ``restorer`` (none without ``encode_latents`` or when encoding fails,
        which is recorded in ``failures``)."""
        if not hasattr(restorer, "encode_latents"):
            return []
        try:
            real = restorer.encode_latents([read_rgb(s.degraded) for s in self.real.samples])
            synthetic = restorer.encode_latents([read_rgb(s.degraded) for s in self.synthetic.samples])
            self.metric.reset()
            self.metric.update_features(real, synthetic)
            value = self.metric.compute()
        except Exception as exc:  # noqa: BLE001 - one model's latents must not stop the run
            self.failures.record(METRIC, self.real.name, f"the latents of {model_name}", exc)
            return []
        self.log(f"{model_name}: latent gap {self.real.name} vs {self.synthetic.name} = {value:.4g}")
        return [{"model": model_name, "dataset": self.real.name, "metric": METRIC, "convention": self.convention,
                 "mean": value, "std": math.nan, "n": len(self.real.samples), "higher_is_better": False}]
