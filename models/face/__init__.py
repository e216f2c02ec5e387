"""Face refinement: detect faces (MTCNN), align them to an FFHQ-style template, enhance
them with a SPADE-style progressive generator and blend them back.

Importing this package registers the model ``bopbtl-face``; its training stage lives in
:mod:`oldphoto.models.training.families.face`.
"""

from .model import FaceEnhancerConfig, FaceRestorer, build
from .pipeline import enhance_faces

__all__ = ["FaceEnhancerConfig", "FaceRestorer", "build", "enhance_faces"]
