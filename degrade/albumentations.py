"""Adapter: an oldphoto pipeline as an albumentations transform.

``DegradeTransform(pipe)(image=img, mask=m)`` returns the degraded ``image``; ``mask``/``masks``
targets follow the pipeline's spatial ops; the output also holds ``clean`` (the pipeline's
target image), ``defect_masks`` (``Result.masks``) and ``degrade_params`` (for ``replay``).
The call seed is drawn from the generator albumentations gives the transform, so
``A.Compose([...], seed=s)`` makes the whole chain reproducible.
"""

from __future__ import annotations

from typing import Any

import albumentations as A
import numpy as np

from .compose import Pipeline, Result
from .seeding import SEED_MAX
from .serialize import from_dict


class DegradeTransform(A.DualTransform):
    """Apply an oldphoto :class:`Pipeline` inside an albumentations chain."""

    def __init__(self, pipeline: Pipeline, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.pipeline = pipeline

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        seed = int(self.random_generator.integers(SEED_MAX))
        return {"degrade_result": self.pipeline(data["image"], seed=seed)}

    def apply(self, img: np.ndarray, degrade_result: Result, **params: Any) -> np.ndarray:
        return degrade_result.image

    def apply_to_mask(self, mask: np.ndarray, degrade_result: Result, **params: Any) -> np.ndarray:
        for record in degrade_result.params["ops"]:
            op = from_dict(record["op"])
            if op.spatial:
                mask = op.apply_to_mask(mask, record["params"])
        return mask

    def __call__(self, *args: Any, force_apply: bool = False, **kwargs: Any) -> Any:
        out = super().__call__(*args, force_apply=force_apply, **kwargs)
        result = self.params.get("degrade_result")
        if result is not None:
            out.update(clean=result.target, defect_masks=result.masks, degrade_params=result.params)
        return out

    def get_transform_init_args(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline.to_dict()}
