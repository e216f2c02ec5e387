"""The Stage interface: what one trainable stage provides to the shared training loop."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from ..checkpoint import CheckpointError, load_state
from . import distributed
from .config import TrainConfig
from .data import build_dataset


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
        return build_dataset(train_config, seed, data_dir=data_dir, source=source)

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
        for key in ("modules", "optimizers"):
            expected, found = set(getattr(self, key)), set(state.get(key, {}))
            if expected != found:
                raise CheckpointError(f"{source}: checkpoint has {key} {sorted(found)}, "
                                      f"stage {self.name!r} has {sorted(expected)}")
        for name, module in self.modules.items():
            load_state(module, state["modules"][name], source, what=f"network {name!r}")
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
