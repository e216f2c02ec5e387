"""The ``bopbtl`` model family: VAEs, latent mapping with global attention, identity-safe fusion
head, scratch detector.

Importing this package registers the models ``bopbtl``, ``bopbtl-pnl``, ``bopbtl-local`` and
``bopbtl-ae`` and the trainers ``bopbtl-vae-old``, ``bopbtl-vae-clean``, ``bopbtl-mapping``,
``bopbtl-fusion`` and ``bopbtl-detector``.
"""

from . import train  # registers the training stages
from .configs import BopbtlConfig, get_config
from .model import BopbtlNet, BopbtlRestorer

__all__ = ["BopbtlConfig", "BopbtlNet", "BopbtlRestorer", "get_config"]
