"""``bopbtl-tone``: retrain the global tone stage of a trained fusion head on its own.

The fusion head's :class:`~oldphoto.models.bopbtl.fusion.GlobalTone` maps whole-image statistics
to a colour matrix and offset. Trained inside the head (image L1, batches of 4 crops) it learns
the average correction of its training data, so it darkens bright, flat photos that were never
faded as if they were (docs/bopbtl-quality.md, "The tone stage on photos that were not faded").
This stage trains a fresh tone stage alone, on many more items for the same CPU time, against a
loss that weighs a photo that needs no correction as much as one that does: the per-image PSNR
of the toned photo, capped at ``tone_psnr_cap`` dB (the mean PSNR the benchmark reports).

The tone stage sees only statistics and applies one affine map per image, so training needs no
full-size image: every item is reduced once, when the data is built, to the statistics of the
degraded and clean crops and their ``TONE_SIDE``-pixel area means (an affine map commutes with
area averaging). The statistics are standardised by a batch norm whose running mean and
variance are folded into the first layer at export; the export is the whole head of the model
config's ``fusion_weights`` with the new tone stage, a ``bopbtl-fusion`` weight file.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from oldphoto.models.bopbtl.fusion import FusionHead, GlobalTone, channel_statistics
from oldphoto.models.bopbtl.parts import BopbtlStageConfig, load_stage_weights
from oldphoto.models.checkpoint import CheckpointError

from ..config import TrainConfig
from ..data import build_dataset
from ..registry import register_trainer
from ..stage import Stage
from .bopbtl import BopbtlTrainConfig, adam, export_stage, identity_items

TONE_SIDE = 32  # px: side of the area means a training item keeps of its crop


class ReducedToneItems(Dataset):
    """The items of a training set reduced to what the tone stage needs, computed once: the
    :func:`channel_statistics` of ``degraded`` and ``clean`` (3 x TONE_STATISTICS each) and their
    ``TONE_SIDE`` x ``TONE_SIDE`` area means."""

    def __init__(self, dataset: Dataset, progress: bool = True) -> None:
        self.items = []
        for index in tqdm(range(len(dataset)), desc="tone items", disable=not progress, dynamic_ncols=True):
            item = dataset[index]
            pair = torch.stack([item["degraded"], item["clean"]])
            statistics = channel_statistics(pair)
            small = F.adaptive_avg_pool2d(pair, TONE_SIDE)
            self.items.append({"id": item.get("id", str(index)), "statistics": statistics[0],
                               "clean_statistics": statistics[1], "degraded": small[0], "clean": small[1]})

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        return self.items[index]


class StandardizedTone(nn.Module):
    """A :class:`GlobalTone` of ``hidden`` units behind a batch norm of its input statistics (no
    affine part; running averages over all of training)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.tone = GlobalTone(hidden)
        first = self.tone.mlp[0]
        self.norm = nn.BatchNorm1d(first.in_features, affine=False, momentum=None)

    def forward(self, statistics: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        standard = self.norm(statistics.flatten(1)).view_as(statistics)
        return GlobalTone.apply(image, *self.tone.coefficients_from(standard))

    def folded(self) -> GlobalTone:
        """A plain :class:`GlobalTone` computing what this module computes in eval mode."""
        tone = GlobalTone(self.tone.mlp[0].out_features)
        tone.load_state_dict(self.tone.state_dict())
        scale = (self.norm.running_var + self.norm.eps).rsqrt()
        first = tone.mlp[0]
        with torch.no_grad():
            first.bias -= first.weight @ (self.norm.running_mean * scale)
            first.weight *= scale
        return tone


def capped_psnr(image: torch.Tensor, target: torch.Tensor, cap: float) -> torch.Tensor:
    """Per-image PSNR in dB of B x C x H x W ``image`` against ``target`` (both in [0, 1]), with
    ``10 ** (-cap / 10)`` added to the mean squared error so no image counts above about ``cap``."""
    error = (image - target).square().flatten(1).mean(1)
    return -10 * torch.log10(error + 10 ** (-cap / 10))


@register_trainer("bopbtl-tone")
class ToneStage(Stage):
    """A fresh global tone stage for the head of ``fusion_weights``, trained alone to maximise the
    capped per-image PSNR of the toned photo, ``identity_fraction`` of the items being the clean
    photo itself."""

    model_config_cls = BopbtlStageConfig
    train_config_cls = BopbtlTrainConfig

    @classmethod
    def make_dataset(cls, train_config: TrainConfig, seed: int, data_dir=None, source=None):
        return ReducedToneItems(build_dataset(train_config, seed, data_dir=data_dir, source=source))

    def build(self):
        config = self.model_config.network_config()
        path = self.model_config.fusion_weights
        if not path:
            raise CheckpointError("bopbtl-tone: the model config needs fusion_weights (the bopbtl-fusion export)")
        if config.fusion.mode == "none" or not config.fusion.tone:
            raise ValueError(f"bopbtl-tone: config {config.name!r} has no fusion tone stage "
                             "(fusion mode 'none' or tone 0)")
        self.head = FusionHead(config.fusion)
        load_stage_weights(self.head, "bopbtl-fusion", path, config, "fusion")
        tone = StandardizedTone(config.fusion.tone)
        return {"tone": tone}, {"tone": adam(tone, lr=self.train_config.lr)}

    def train_step(self, batch):
        cfg = self.train_config
        identity = identity_items(batch, cfg.identity_fraction, self.generator)
        statistics = torch.where(identity[:, None, None], batch["clean_statistics"], batch["statistics"])
        image = torch.where(identity[:, None, None, None], batch["clean"], batch["degraded"])
        psnr = capped_psnr(self.nets["tone"](statistics, image), batch["clean"], cfg.tone_psnr_cap)
        loss = -psnr.mean()
        self.optimize(loss, "tone")
        return {"loss": loss.item(), "psnr": psnr.mean().item()}

    def sample(self, batch):
        toned = self.modules["tone"](batch["statistics"], batch["degraded"]).clamp(0, 1)
        return [batch["degraded"], toned, batch["clean"]]

    def export(self, path: Path, meta: dict) -> Path:
        self.head.tone = copy.deepcopy(self.modules["tone"]).cpu().folded()
        return export_stage(self, path, self.head, meta, kind="bopbtl-fusion")
