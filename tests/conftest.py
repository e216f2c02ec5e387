"""Shared fixtures: small deterministic test images."""

import numpy as np
import pytest

from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real 128x128 RGB photo (the builtin astronaut, down-sampled)."""
    import cv2

    return cv2.resize(read_rgb(builtin_paths()["astronaut"]), (128, 128), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def grey(photo) -> np.ndarray:
    """The same photo as HxW grey."""
    import cv2

    return cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)


@pytest.fixture()
def flat() -> np.ndarray:
    """A flat mid-grey 96x80 RGB image (for measuring noise statistics)."""
    return np.full((96, 80, 3), 128, np.uint8)
