"""The one error type of the face stage: says which stage failed (and for which face) and why."""

from __future__ import annotations

FACE_STAGES = ("input", "detect", "align", "enhance", "blend")


class FaceStageError(RuntimeError):
    """A face-refinement stage failed. ``stage`` is one of FACE_STAGES; ``face`` the face index or None."""

    def __init__(self, stage: str, reason: str, face: int | None = None) -> None:
        self.stage, self.reason, self.face = stage, reason, face
        where = f"face {face}: " if face is not None else ""
        super().__init__(f"face stage {stage!r}: {where}{reason}")
