"""The old import path of the bopbtl stage-export helpers, kept for the recipe in docs/models.md and the
scripts in ``models/checkpoints/bopbtl-small/``. The training stages themselves live in
:mod:`oldphoto.models.training.families.bopbtl`; this module imports no training code."""

from .assemble import assemble_weights
from .parts import BopbtlStageConfig, load_stage_weights, recorded_network

__all__ = ["BopbtlStageConfig", "assemble_weights", "load_stage_weights", "recorded_network"]
