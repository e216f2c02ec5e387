"""oldphoto.models: restoration models behind one registry, and their training.

>>> from oldphoto import models
>>> models.list_models()
>>> restorer = models.create("classical")
>>> restored = restorer.restore(image, mask)
"""

from .base import Restorer
from .checkpoint import CheckpointError
from .registry import create, describe, list_models, missing_weights, model_info, register_model

__all__ = ["CheckpointError", "Restorer", "create", "describe", "list_models", "missing_weights", "model_info",
           "register_model"]
