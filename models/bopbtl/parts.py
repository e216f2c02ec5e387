"""The bopbtl stage-export format: each training stage exports one part of the network with the
config it was trained with; restorers load those parts (see :mod:`.shipped` and :mod:`.assemble`).

An export is a restorer weight file (:mod:`oldphoto.models.weights`) named after its stage
(``bopbtl-vae-old``, ``bopbtl-vae-clean``, ``bopbtl-mapping``, ``bopbtl-detector``, ``bopbtl-fusion``)
whose ``config`` is a :class:`BopbtlStageConfig` and whose ``meta["network"]`` is the whole network
config (:class:`~.configs.BopbtlConfig`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from torch import nn

from ..checkpoint import CheckpointError, load_checkpoint
from ..weights import load_weights
from .configs import VARIANTS, BopbtlConfig, get_config


@dataclass
class BopbtlStageConfig:
    """``size``: ``"small"`` or ``"full"``; ``model``: the registered variant (global branch and
    VAE/plain AE); ``real_folder``: real old photos for ``bopbtl-vae-old`` (None: the stand-in);
    ``vae_old_weights``/``vae_clean_weights``: exported VAE files, needed by ``bopbtl-mapping`` and
    ``bopbtl-fusion``; ``mapping_weights``: the exported mapping, needed by ``bopbtl-fusion``;
    ``fusion_weights``: a ``bopbtl-fusion`` export that a fusion run starts from instead of the
    zero-started head (a second training phase on other data or losses; resuming still continues
    from the run's own checkpoint); ``denoiser_weights``: a ``sequential`` export (its width and
    depth equal to the fusion head's) that starts the head's residual body after that (see
    :meth:`~.fusion.FusionHead.start_from_denoiser`), so a fusion run begins as that denoiser."""

    size: str = "small"
    model: str = "bopbtl"
    real_folder: str | None = None
    vae_old_weights: str | None = None
    vae_clean_weights: str | None = None
    mapping_weights: str | None = None
    fusion_weights: str | None = None
    denoiser_weights: str | None = None

    def __post_init__(self) -> None:
        if self.model not in VARIANTS:
            raise ValueError(f"model {self.model!r}: expected one of {sorted(VARIANTS)}")
        get_config(self.size)

    def network_config(self) -> BopbtlConfig:
        return get_config(self.size).variant(*VARIANTS[self.model])


def recorded_network(payload: dict) -> BopbtlConfig:
    """The network config a stage export was trained with. Exports written before the config was
    recorded name only the size; all of them were trained with InstanceNorm, the only norm then."""
    meta = payload.get("meta") or {}
    if "network" in meta:
        return BopbtlConfig.from_dict(meta["network"])
    named = BopbtlStageConfig(**payload["config"]).network_config()
    return dataclasses.replace(named, vae=dataclasses.replace(named.vae, norm="instance"),
                               mapping=dataclasses.replace(named.mapping, norm="instance"))


# Fields that only steer inference (a decision threshold, a memory bound): any value fits the weights.
INFERENCE_FIELDS = {"detector": ("threshold",), "mapping": ("attention_chunk_elements",)}


def weight_fields(config: BopbtlConfig, part: str):
    """``config``'s ``part`` without its :data:`INFERENCE_FIELDS`: what a part's weights must match."""
    fields = INFERENCE_FIELDS.get(part, ())
    value = getattr(config, part)
    return dataclasses.replace(value, **{name: getattr(type(value)(), name) for name in fields})


def load_stage_weights(module: nn.Module, stage: str, path: str | os.PathLike, expected: BopbtlConfig,
                       part: str) -> dict:
    """Load ``stage``'s export at ``path`` into ``module`` after checking that its ``part`` of the
    network config (``"vae"``, ``"mapping"``, ``"detector"`` or ``"fusion"``) equals ``expected``'s
    (inference-only fields aside, see :func:`weight_fields`); returns meta."""
    payload = load_checkpoint(path, required=("config",))
    try:
        stored = recorded_network(payload)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a bopbtl stage export ({exc})") from None
    if weight_fields(stored, part) != weight_fields(expected, part):
        raise CheckpointError(f"{path}: {part} was trained as {getattr(stored, part)}, "
                              f"expected {getattr(expected, part)}")
    return load_weights(module, stage, path)
