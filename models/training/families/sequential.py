"""``oldphoto train sequential``: the DnCNN-style denoiser of :mod:`oldphoto.models.baselines.sequential`
with an L1 loss to the clean image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from oldphoto.models.baselines.sequential import DnCNN, SequentialConfig
from oldphoto.models.configs import config_dict
from oldphoto.models.weights import save_weights

from ..config import TrainConfig
from ..losses import l1_loss
from ..registry import register_trainer
from ..stage import Stage


@dataclass
class SequentialTrainConfig(TrainConfig):
    lr: float = 1e-3


@register_trainer("sequential")
class SequentialStage(Stage):
    """Trains the denoiser with an L1 loss between its output and the clean image."""

    model_config_cls = SequentialConfig
    train_config_cls = SequentialTrainConfig

    def build(self):
        net = DnCNN(self.model_config.width, self.model_config.depth)
        return {"denoiser": net}, {"denoiser": torch.optim.Adam(net.parameters(), lr=self.train_config.lr)}

    def train_step(self, batch):
        with self.autocast():
            loss = l1_loss(self.nets["denoiser"](batch["degraded"]).float(), batch["clean"])
        self.optimize(loss, "denoiser")
        return {"l1": loss.item()}

    def sample(self, batch):
        return [batch["degraded"], self.modules["denoiser"](batch["degraded"]), batch["clean"]]

    def export(self, path: Path, meta: dict) -> Path:
        return save_weights(path, "sequential", config_dict(self.model_config), self.modules["denoiser"], meta)
