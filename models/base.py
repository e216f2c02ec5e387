"""The Restorer interface every model family implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


def check_rgb(name: str, image) -> None:
    """Raise ValueError naming model ``name`` unless ``image`` is a uint8 HxWx3 RGB array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise ValueError(f"{name}: expected a uint8 HxWx3 RGB array, got {type(image).__name__} {shape}")


class Restorer(ABC):
    """Restores uint8 RGB photos. Subclasses set the class attributes below.

    ``restore(image, mask=None)`` takes uint8 HxWx3 RGB (or a list of them) and an optional bool
    HxW defect mask (or a list) and returns uint8 RGB of the same size (or a list).

    Optional capability (no abstract method; callers test ``hasattr``): a model with a latent space
    implements ``encode_latents(images: list[np.ndarray]) -> np.ndarray``, float64 N x D features of
    N uint8 HxWx3 images in the latent of the *old-photo* domain, pooled to a fixed D whatever the
    image size: for each latent channel its spatial mean, then its spatial (population) standard
    deviation (D = 2 x channels). The benchmark's latent domain gap (``wasserstein-latent``,
    :mod:`oldphoto.benchmark.domain_gap`) compares these features of real and synthetic old photos.
    """

    name: str = ""
    needs_mask: bool = False
    needs_training: bool = False

    @property
    def num_parameters(self) -> int:
        """Learned parameter count (0 for classical methods)."""
        return 0

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def fingerprint(self) -> str:
        """What the restorer computes with beyond its config: a digest of its learned weights ("" for
        methods without any). The benchmark redoes a kept result whose fingerprint changed."""
        return ""

    @abstractmethod
    def restore_one(self, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Restore one uint8 HxWx3 image; ``mask`` is a bool HxW defect mask or None."""

    def restore(self, image, mask=None):
        """Restore one image or a list of images (with an optional mask or list of masks)."""
        if isinstance(image, (list, tuple)):
            masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(image)
            if len(masks) != len(image):
                raise ValueError(f"{self.name}: {len(image)} images but {len(masks)} masks")
            return [self.restore(im, m) for im, m in zip(image, masks, strict=False)]
        check_rgb(self.name, image)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != image.shape[:2]:
                raise ValueError(f"{self.name}: mask shape {mask.shape} does not match image {image.shape[:2]}")
        elif self.needs_mask:
            raise ValueError(f"{self.name}: this model needs a defect mask")
        out = self.restore_one(image, mask)
        if out.shape != image.shape or out.dtype != np.uint8:
            raise RuntimeError(f"{self.name}: restore_one returned {out.dtype} {out.shape} for {image.shape}")
        return out
