"""Training infrastructure shared by every trainable model family.

A family subclasses :class:`Stage` for each stage, registers it with ``@register_trainer(name)``,
and the shared :func:`train` loop (``oldphoto train NAME``) handles seeds, data order, mixed
precision, DDP under ``torchrun``, progress, sample grids, checkpoints and exact resume.
"""

from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .loop import TrainResult, train
from .registry import get_trainer, list_trainers, register_trainer
from .run import load_run_config, train_from_config
from .stage import Stage

__all__ = ["CheckpointError", "Stage", "TrainConfig", "TrainResult", "get_trainer", "list_trainers",
           "load_checkpoint", "load_run_config", "register_trainer", "save_checkpoint", "train",
           "train_from_config"]
