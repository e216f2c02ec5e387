"""Face refinement (issue 9): detect faces (MTCNN), align them to an FFHQ-style template, enhance
them with a SPADE-style progressive generator and blend them back.

Importing this package registers the model ``bopbtl-face`` and its trainer.
"""

from .model import FaceEnhancerConfig, FaceRestorer, build
from .pipeline import enhance_faces
from .train import FaceStage, FaceTrainConfig

__all__ = ["FaceEnhancerConfig", "FaceRestorer", "FaceStage", "FaceTrainConfig", "build", "enhance_faces"]
