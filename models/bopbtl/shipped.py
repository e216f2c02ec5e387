"""The bopbtl checkpoints shipped in ``models/checkpoints/bopbtl-<config>/``.

The three shipped models share their VAEs and scratch detector, so the folder holds each training
stage's export once (``vae-old.pt``, ``vae-clean.pt``, ``detector.pt``) and one mapping and one
fusion head per model (``mapping-<model>.pt``, ``fusion-<model>.pt``); :func:`load_shipped` assembles a
network from them, checking that every part was trained with the network's own config. The
the model cards ``<model>.md`` beside the files (written by ``recipes/bopbtl-small/train.sh``) say how
they were made.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from .. import weights
from ..checkpoint import CheckpointError
from .configs import SMALL, VARIANTS, BopbtlConfig
from .parts import load_stage_weights


def shipped_dir(config_name: str) -> Path:
    """Folder of the shipped parts for config ``config_name`` (``small``, ``full``)."""
    return weights.CHECKPOINT_DIR / f"bopbtl-{config_name}"


def shipped_parts(model: str, config_name: str, fusion: bool = True) -> list[tuple[str, str, Path]]:
    """(network attribute, training stage, file) of each part model ``model`` is assembled from
    (``fusion``: whether the network has a fusion head, exported per model as ``fusion-<model>.pt``).
    The VAE models share ``vae-old.pt`` and ``vae-clean.pt``; the plain-autoencoder ablation has its
    own, ``vae-old-ae.pt`` and ``vae-clean-ae.pt``."""
    folder = shipped_dir(config_name)
    latent = "" if VARIANTS[model][1] else "-ae"
    parts = [("mapping", "bopbtl-mapping", folder / f"mapping-{model}.pt"),
             ("vae_old", "bopbtl-vae-old", folder / f"vae-old{latent}.pt"),
             ("vae_clean", "bopbtl-vae-clean", folder / f"vae-clean{latent}.pt"),
             ("detector", "bopbtl-detector", folder / "detector.pt")]
    if fusion:
        parts.append(("fusion", "bopbtl-fusion", folder / f"fusion-{model}.pt"))
    return parts


def shipped_files(model: str, config: BopbtlConfig = SMALL) -> list[Path]:
    """The files :func:`load_shipped` reads for ``model`` at ``config`` (default: the shipped small one)."""
    return [path for _, _, path in shipped_parts(model, config.name, config.fusion.mode != "none")]


def load_shipped(net: nn.Module, model: str) -> dict:
    """Load the shipped parts of ``model`` into ``net`` (a :class:`~.model.BopbtlNet`); returns meta per
    stage (file and its meta).

    A missing part, or one trained with another config, is a CheckpointError naming the file.
    """
    parts_meta = {}
    for attribute, stage, path in shipped_parts(model, net.config.name, net.fusion is not None):
        if not path.is_file():
            raise CheckpointError(f"{path}: no shipped {stage} checkpoint for {model!r} at config "
                                  f"{net.config.name!r}; train one (see recipes/bopbtl-{net.config.name}/train.sh) "
                                  "or pass a weights file")
        part = "vae" if attribute.startswith("vae") else attribute
        meta = load_stage_weights(getattr(net, attribute), stage, path, net.config, part)
        parts_meta[stage] = {"file": str(path), **meta}
    return {"stages": parts_meta}
