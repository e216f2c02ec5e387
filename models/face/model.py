"""``bopbtl-face``: the face-refinement stage as a Restorer (``models.create("bopbtl-face")``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from oldphoto.infra.device import resolve_device

from ..base import Restorer
from ..configs import make_config
from ..registry import register_model
from ..tensors import count_parameters, module_digest
from ..weights import load_weights, shipped_weights
from .blend import BlendConfig
from .detect import DetectorConfig, FaceDetector
from .generator import FaceGenerator, FaceGeneratorConfig, get_face_config
from .pipeline import enhance_faces

MODEL_NAME = "bopbtl-face"


@dataclass
class FaceEnhancerConfig:
    """``generator``: "small" or "full" (the shipped checkpoint is ``bopbtl-face-<generator>.pt``) or
    a dict of FaceGeneratorConfig fields (for weights trained with other sizes; no shipped file).
    ``detector`` / ``blend``: their configs. ``max_faces``: enhance the N best faces (None = all)."""

    generator: str | dict = "small"
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    blend: BlendConfig = field(default_factory=BlendConfig)
    max_faces: int | None = None


def make_enhancer_config(config) -> FaceEnhancerConfig:
    """None, "small" / "full", a FaceEnhancerConfig, or a dict (nested dicts for detector / blend)."""
    if isinstance(config, str):
        return FaceEnhancerConfig(generator=config)
    return make_config(FaceEnhancerConfig, config, MODEL_NAME)


class FaceRestorer(Restorer):
    """Runs :func:`~.pipeline.enhance_faces` on each photo; ``last_faces`` holds the last photo's faces_info."""

    name = MODEL_NAME
    needs_training = True

    def __init__(self, config: FaceEnhancerConfig, generator_config: FaceGeneratorConfig, device: str = "auto") -> None:
        self.config = config
        self._device = resolve_device(device)
        self.generator = FaceGenerator(generator_config).to(self._device).eval()
        self.detector = FaceDetector(config.detector, str(self._device))
        self.weights_meta: dict = {}
        self.last_faces: list[dict] = []

    @property
    def num_parameters(self) -> int:
        return count_parameters(self.generator)

    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def fingerprint(self) -> str:
        return module_digest(self.generator)

    def load(self, path: str | os.PathLike) -> None:
        """Load generator weights (a CheckpointError naming the file when missing or unfitting)."""
        self.weights_meta = load_weights(self.generator, MODEL_NAME, path)

    def restore_one(self, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        out, self.last_faces = enhance_faces(image, self.generator, self.detector, blend=self.config.blend,
                                             max_faces=self.config.max_faces)
        return out


def build(config=None, pretrained: bool | str | Path = True, device: str = "auto") -> FaceRestorer:
    """The face enhancer. ``pretrained``: True loads ``models/checkpoints/bopbtl-face-<generator>.pt``
    (missing = CheckpointError naming it), a path loads that file, False keeps random weights."""
    cfg = make_enhancer_config(config)
    named = isinstance(cfg.generator, str)
    generator_config = (get_face_config(cfg.generator) if named
                        else make_config(FaceGeneratorConfig, cfg.generator, f"{MODEL_NAME} generator config"))
    restorer = FaceRestorer(cfg, generator_config, device)
    if pretrained is True:
        if not named:
            raise ValueError(f"{MODEL_NAME}: only the named generator configs have a shipped checkpoint; "
                             "pass pretrained=PATH for a custom generator config")
        restorer.load(shipped_file(cfg.generator))
    elif pretrained:
        restorer.load(pretrained)
    return restorer


def shipped_file(generator: str) -> Path:
    """The shipped checkpoint of named generator config ``generator``: ``bopbtl-face-<generator>.pt``."""
    return shipped_weights(f"{MODEL_NAME}-{generator}")


def default_shipped_files() -> list[Path]:
    """The file ``create("bopbtl-face")`` reads (the default generator config's checkpoint)."""
    return [shipped_file(FaceEnhancerConfig().generator)]


@register_model(MODEL_NAME, "Face refinement: MTCNN, FFHQ alignment, SPADE-style generator, feathered blend",
                weights=default_shipped_files)
def create_face_enhancer(config=None, pretrained=True, device="auto") -> FaceRestorer:
    return build(config, pretrained, device)

