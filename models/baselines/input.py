"""``input``: the degraded image itself, the floor of every results table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base import Restorer
from ..configs import make_config
from ..registry import register_model


@dataclass
class InputConfig:
    """No options: the identity has nothing to configure."""


class InputRestorer(Restorer):
    name = "input"

    def restore_one(self, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return image.copy()


@register_model("input")
def create_input(config=None, pretrained: bool = True, device: str = "auto") -> InputRestorer:
    """The degraded input returned unchanged (the table's floor)."""
    make_config(InputConfig, config, "input")
    return InputRestorer()
