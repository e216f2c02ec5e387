"""The ``bopbtl`` model family: VAEs, latent mapping with global attention, scratch detector.

Importing this package registers ``bopbtl``, ``bopbtl-pnl``, ``bopbtl-local`` and ``bopbtl-ae``.
"""

from .configs import BopbtlConfig, get_config
from .model import BopbtlNet, BopbtlRestorer

__all__ = ["BopbtlConfig", "BopbtlNet", "BopbtlRestorer", "get_config"]
