"""Structured defects with pixel-exact masks: scratches, paper, dust, foxing, holes, tears, folds, stains.

Each op's ``apply`` returns ``(image, {family: bool HxW mask})``; see ``functional.blend`` for the
mask convention (changed by >= ``MASK_THRESHOLD`` grey levels; elsewhere bit-identical).
"""

from .folds import Fold
from .holes import Holes, Tears
from .paper import PaperTexture
from .scratches import Scratches
from .spots import Dust, Foxing
from .stains import Stains

__all__ = ["Dust", "Fold", "Foxing", "Holes", "PaperTexture", "Scratches", "Stains", "Tears"]
