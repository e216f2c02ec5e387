"""Options of the shared training loop."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainConfig:
    """Options of the shared loop; a stage may subclass it to add its loss weights.

    ``crop``: training crop side in pixels. ``preset``: degradation preset for on-the-fly data;
    ``per_image``: on-the-fly samples per source photo (distinct crops and degradations);
    ``grey_fraction``: share of on-the-fly samples whose photo is turned grey (BT.601, the clean
    target too) before the preset degrades it, as for a black-and-white print (0 = the preset alone;
    the presets grey 10% of samples only after degrading them).
    ``photo_tone``: share of on-the-fly samples whose photo first gets a random exposure and print
    contrast (``degrade.PhotoTone``, the clean target too), so flat, dim and bright photos are among
    the clean ones (0 = none).
    ``amp``: mixed precision (float16 autocast + gradient scaling), used on CUDA only.
    ``lr_decay``: fraction of ``steps`` at the end over which every learning rate falls linearly
    to 0 (0 = constant; the paper's bopbtl recipe, 100 epochs constant then 100 of decay, is 0.5).
    ``*_every``: intervals in steps (``checkpoint_every``/``sample_every`` 0 = only at the end).
    """

    steps: int = 2000
    batch_size: int = 8
    lr: float = 2e-4
    crop: int = 96
    preset: str = "bopbtl-code"
    per_image: int = 64
    grey_fraction: float = 0.0
    photo_tone: float = 0.0
    num_workers: int = 0
    log_every: int = 10
    checkpoint_every: int = 500
    sample_every: int = 500
    samples: int = 4
    amp: bool = True
    lr_decay: float = 0.0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "crop", "per_image", "log_every", "samples"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("num_workers", "checkpoint_every", "sample_every"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        for name in ("lr_decay", "grey_fraction", "photo_tone"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a fraction in [0, 1], got {getattr(self, name)}")

    def lr_factor(self, step: int) -> float:
        """Learning-rate multiplier for the step after ``step`` completed ones (see ``lr_decay``)."""
        decay_steps = self.lr_decay * self.steps
        if decay_steps == 0:
            return 1.0
        return min(1.0, max(0.0, (self.steps - step) / decay_steps))
