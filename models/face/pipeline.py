"""``enhance_faces``: detect, align, enhance and blend every face of one photo, in one process.

Every stage either succeeds for every face or raises :class:`~.errors.FaceStageError` naming the
stage and the face; the only faces left alone are those beyond ``max_faces``, and ``faces_info``
says so for each of them.
"""

from __future__ import annotations

import numpy as np
import torch

from .align import AlignedFace, align_face
from .blend import BlendConfig, blend_faces
from .detect import FaceDetector, to_three_channels
from .errors import FaceStageError
from .generator import FaceGenerator


def run_generator(generator: FaceGenerator, crops: list[np.ndarray], batch_size: int = 4) -> list[np.ndarray]:
    """Enhance uint8 size x size x 3 crops with ``generator`` (on its own device, no gradients);
    a failing or non-finite forward pass is a FaceStageError of stage "enhance"."""
    parameter = next(generator.parameters())
    results = []
    for start in range(0, len(crops), batch_size):
        batch = np.stack(crops[start:start + batch_size])
        x = torch.from_numpy(batch).to(parameter.device).permute(0, 3, 1, 2).to(parameter.dtype).div(255.0)
        try:
            with torch.no_grad():
                y = generator(x).float()
        except (RuntimeError, ValueError) as exc:
            raise FaceStageError("enhance", f"{type(exc).__name__}: {exc}") from None
        if not torch.isfinite(y).all():
            raise FaceStageError("enhance", f"the generator produced non-finite values for faces "
                                            f"{start}..{start + len(batch) - 1}")
        y = y.clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        results.extend(y)
    return results


def enhance_faces(image: np.ndarray, generator: FaceGenerator, detector: FaceDetector, *, size: int | None = None,
                  blend: BlendConfig | None = None, max_faces: int | None = None,
                  batch_size: int = 4) -> tuple[np.ndarray, list[dict]]:
    """Refine the faces of ``image`` (uint8 HxW, HxWx1 or HxWx3); returns (new image of the same
    shape, faces_info).

    ``size``: aligned face side in px (default: the generator's config size). ``max_faces``: enhance
    only the highest-scoring N faces (None = all). ``faces_info`` has one dict per detected face:
    ``box``, ``landmarks``, ``score`` (see :meth:`~.detect.Face.to_dict`), ``enhanced``, ``blended``
    and, for faces left alone, ``reason``. A photo without faces comes back unchanged.
    """
    rgb = to_three_channels(image)
    size = size or generator.config.size
    if max_faces is not None and max_faces < 0:
        raise FaceStageError("input", f"max_faces must be >= 0 or None, got {max_faces}")
    faces = detector(rgb)
    chosen = faces if max_faces is None else faces[:max_faces]
    aligned: list[AlignedFace] = []
    for index, face in enumerate(chosen):
        try:
            aligned.append(align_face(rgb, face, size))
        except FaceStageError as exc:
            raise FaceStageError("align", exc.reason, face=index) from None
    enhanced = run_generator(generator, [a.image for a in aligned], batch_size) if aligned else []
    out = blend_faces(rgb, list(zip(aligned, enhanced, strict=False)), blend) if aligned else rgb.copy()
    info = [dict(face.to_dict(), enhanced=True, blended=True) for face in chosen]
    info += [dict(face.to_dict(), enhanced=False, blended=False, reason=f"beyond max_faces={max_faces}")
             for face in faces[len(chosen):]]
    if image.ndim == 2:
        return out[..., 0], info
    return (out[..., :1] if image.shape[2] == 1 else out), info
