"""Degradation ops: one small class per family over the pure functions in ``degrade.functional``."""

from .blur import DefocusBlur, GaussianBlur, MotionBlur
from .compression import JpegCompression, Resample
from .geometry import HorizontalFlip
from .grain import FilmGrain
from .noise import GaussianNoise, PoissonNoise, SaltPepperNoise, SpeckleNoise
from .structured import Dust, Fold, Foxing, Holes, PaperTexture, Scratches, Stains, Tears
from .tone import BrightnessContrast, Fade, Grayscale, PhotoTone, Sepia, UnevenExposure, Yellowing

__all__ = [
    "BrightnessContrast", "DefocusBlur", "Fade", "FilmGrain", "GaussianBlur", "GaussianNoise",
    "Grayscale", "HorizontalFlip", "JpegCompression", "MotionBlur", "PhotoTone", "PoissonNoise", "Resample",
    "SaltPepperNoise", "Sepia", "SpeckleNoise", "UnevenExposure", "Yellowing",
    "Dust", "Fold", "Foxing", "Holes", "PaperTexture", "Scratches", "Stains", "Tears",
]
