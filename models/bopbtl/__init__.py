"""The ``bopbtl`` model family: VAEs, latent mapping with global attention, identity-safe fusion
head, scratch detector.

Importing this package registers the models ``bopbtl``, ``bopbtl-pnl``, ``bopbtl-local`` and
``bopbtl-ae``; their training stages live in :mod:`oldphoto.models.training.families.bopbtl`.
"""

from .configs import BopbtlConfig, get_config
from .model import BopbtlNet, BopbtlRestorer

__all__ = ["BopbtlConfig", "BopbtlNet", "BopbtlRestorer", "get_config"]
