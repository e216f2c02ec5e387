"""The Stage interface: what one trainable stage provides to the shared training loop."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from . import distributed


@dataclass
class TrainConfig:
    """Options of the shared loop; a stage may subclass it to add its loss weights.

    ``crop``: training crop side in pixels. ``preset``: degradation preset for on-the-fly data;
    ``per_image``: on-the-fly samples per source photo (distinct crops and degradations);
    ``grey_fraction``: share of on-the-fly samples whose photo is turned grey (BT.601, the clean
    target too) before the preset degrades it, as for a black-and-white print (0 = the preset alone;
    the presets grey 10% of samples only after degrading them).
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
        for name in ("lr_decay", "grey_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a fraction in [0, 1], got {getattr(self, name)}")

    def lr_factor(self, step: int) -> float:
        """Learning-rate multiplier for the step after ``step`` completed ones (see ``lr_decay``)."""
        decay_steps = self.lr_decay * self.steps
        if decay_steps == 0:
            return 1.0
        return min(1.0, max(0.0, (self.steps - step) / decay_steps))


class Stage(ABC):
    """One trainable stage (e.g. ``pix2pix``, ``bopbtl-vae-old``), registered with ``register_trainer``.

    Subclasses set ``model_config_cls`` (a dataclass) and optionally ``train_config_cls``, and
    implement :meth:`build`, :meth:`train_step` and :meth:`sample`. Inside ``train_step`` call
    networks through ``self.nets[name]`` (DDP-wrapped when distributed), run forward passes in
    ``with self.autocast():`` and update with :meth:`optimize`. Randomness inside a step must come
    from ``self.generator`` (seeded per rank, saved in checkpoints).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    model_config_cls: ClassVar[type]
    train_config_cls: ClassVar[type] = TrainConfig
    # True when some parameters may get no gradient in a step (a mask-gated branch): DDP looks for them.
    unused_parameters: ClassVar[bool] = False

    def __init__(self, model_config, train_config: TrainConfig, dist_info: distributed.DistInfo,
                 generator: torch.Generator) -> None:
        self.model_config = model_config
        self.train_config = train_config
        self.dist = dist_info
        self.device = dist_info.device
        self.generator = generator
        self.amp = bool(train_config.amp) and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        modules, optimizers = self.build()
        self.modules = {k: m.to(self.device) for k, m in modules.items()}
        self.nets = {k: distributed.wrap(m, dist_info, self.unused_parameters) for k, m in self.modules.items()}
        self.optimizers = optimizers

    @abstractmethod
    def build(self) -> tuple[dict[str, nn.Module], dict[str, torch.optim.Optimizer]]:
        """Create the networks (all saved in checkpoints) and their optimisers."""

    @abstractmethod
    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """One optimisation step on ``batch`` (tensors on ``self.device``); returns scalar losses."""

    @abstractmethod
    def sample(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        """Columns of the sample grid for ``batch``, each NxCxHxW in [0, 1] (e.g. input | output | target)."""

    @classmethod
    def make_dataset(cls, train_config: TrainConfig, seed: int, data_dir=None, source=None):
        """The training set for ``oldphoto train`` (default: :func:`~.data.build_dataset`);
        override for stages that need other data (e.g. real photos)."""
        from .data import build_dataset

        return build_dataset(train_config, seed, data_dir=data_dir, source=source)

    @staticmethod
    def defect_mask(batch: dict[str, torch.Tensor]) -> torch.Tensor | None:
        """The union defect mask Nx1xHxW in {0, 1}: ``mask``, else the last channel of ``masks``, else None."""
        if "mask" in batch:
            return batch["mask"] if batch["mask"].ndim == 4 else batch["mask"][:, None]
        if "masks" in batch:
            return batch["masks"][:, -1:]
        return None

    def export(self, path: Path, meta: dict) -> Path | None:
        """Write inference weights (what a restorer loads) to ``path``; None when the stage has none."""
        return None

    def autocast(self):
        """Mixed-precision context (float16 on CUDA when ``amp``), a no-op otherwise."""
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=torch.float16)

    def optimize(self, loss: torch.Tensor, optimizer: str) -> None:
        """Zero the optimiser's gradients, back-propagate ``loss`` (scaled under AMP) and step it."""
        opt = self.optimizers[optimizer]
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(opt)

    def state_dict(self) -> dict:
        """Networks, optimisers and the gradient scaler (for checkpoints)."""
        return {
            "modules": {k: m.state_dict() for k, m in self.modules.items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "scaler": self.scaler.state_dict(),
        }

    def load_state_dict(self, state: dict, source: Path) -> None:
        """Restore :meth:`state_dict`; mismatches are errors naming ``source``."""
        from .checkpoint import CheckpointError, load_state

        for key in ("modules", "optimizers"):
            expected, found = set(getattr(self, key)), set(state.get(key, {}))
            if expected != found:
                raise CheckpointError(f"{source}: checkpoint has {key} {sorted(found)}, stage {self.name!r} has {sorted(expected)}")
        for name, module in self.modules.items():
            load_state(module, state["modules"][name], source, what=f"network {name!r}")
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
