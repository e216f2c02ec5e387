"""Face detection (MTCNN) on the builtin face photos, colour variants, and alignment geometry."""

import cv2
import numpy as np
import pytest

from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb
from oldphoto.models.face.align import (
    align_face,
    invert,
    similarity_transform,
    template,
    transform_points,
    warp_from_template,
    warp_to_template,
)
from oldphoto.models.face.detect import DetectorConfig, FaceDetector, stretch_contrast, to_three_channels
from oldphoto.models.face.errors import FaceStageError

# A point inside each face, read off the photos by eye (x, y in pixels).
FACE_POINTS = {"astronaut": (225, 115), "grace_hopper": (265, 230)}
SEPIA = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(device="cpu")


@pytest.fixture(scope="module")
def faces_photos():
    return {name: read_rgb(builtin_paths()[name]) for name in FACE_POINTS}


@pytest.fixture(scope="module")
def detections(detector, faces_photos):
    return {name: detector(image) for name, image in faces_photos.items()}


def sepia(image, faded=False):
    out = image.astype(np.float64) @ SEPIA.T
    if faded:  # a washed-out print: contrast halved, lifted towards white
        out = out * 0.5 + 90
    return np.clip(out, 0, 255).astype(np.uint8)


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def check_sensible(face, point, shape):
    x0, y0, x1, y1 = face.box
    assert x0 <= point[0] <= x1 and y0 <= point[1] <= y1
    assert 0 <= x0 < x1 <= shape[1] and 0 <= y0 < y1 <= shape[0]
    left_eye, right_eye, nose, mouth_left, mouth_right = face.landmarks
    assert left_eye[0] < nose[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])
    assert np.all((face.landmarks[:, 0] > x0) & (face.landmarks[:, 0] < x1))
    assert np.all((face.landmarks[:, 1] > y0) & (face.landmarks[:, 1] < y1))
    eye_distance = np.hypot(*(right_eye - left_eye))
    assert 0.3 < eye_distance / (x1 - x0) < 0.7
    assert face.score >= 0.9


@pytest.mark.parametrize("name", sorted(FACE_POINTS))
def test_one_face_with_sensible_landmarks(detections, faces_photos, name):
    image = faces_photos[name]
    faces = detections[name]
    assert len(faces) == 1
    check_sensible(faces[0], FACE_POINTS[name], image.shape)


@pytest.mark.parametrize("name", sorted(FACE_POINTS))
@pytest.mark.parametrize("variant", ["grey", "sepia", "faded-sepia"])
def test_grey_and_sepia_find_the_same_face(detector, detections, faces_photos, name, variant):
    image = faces_photos[name]
    reference = detections[name][0]
    shown = {"grey": cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), "sepia": sepia(image),
             "faded-sepia": sepia(image, faded=True)}[variant]
    faces = detector(shown)
    assert len(faces) == 1
    check_sensible(faces[0], FACE_POINTS[name], image.shape)
    assert iou(faces[0].box, reference.box) > 0.8
    assert np.abs(faces[0].landmarks - reference.landmarks).max() < 0.08 * (reference.box[2] - reference.box[0])


def test_no_face_in_coffee_and_min_size_filters(detector, faces_photos):
    assert detector(read_rgb(builtin_paths()["coffee"])) == []
    big_only = FaceDetector(DetectorConfig(min_face_size=300), device="cpu")
    assert big_only(faces_photos["astronaut"]) == []


def test_large_scan_is_detected_on_a_reduced_copy(detections, faces_photos):
    reduced = FaceDetector(DetectorConfig(max_side=256), device="cpu")(faces_photos["astronaut"])
    full = detections["astronaut"]  # 512 px: under the default max_side, so detected at full size
    assert len(reduced) == len(full) == 1
    assert iou(reduced[0].box, full[0].box) > 0.75  # coordinates come back in input pixels


def test_grey_inputs_become_three_channels():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for shown in (grey, grey[:, :, None]):
        rgb = to_three_channels(shown)
        assert rgb.shape == (3, 4, 3) and all(np.array_equal(rgb[..., c], grey) for c in range(3))


def test_detector_rejects_bad_input_and_config(detector):
    with pytest.raises(FaceStageError, match="'input'.*uint8"):
        detector(np.zeros((32, 32, 3), np.float32))
    with pytest.raises(FaceStageError, match="'input'.*shape"):
        detector(np.zeros((32, 32, 4), np.uint8))
    for bad in ({"threshold": 1.5}, {"min_face_size": 0}, {"max_side": 10}, {"stretch": 60}):
        with pytest.raises(ValueError):
            DetectorConfig(**bad)


def test_contrast_stretch_maps_percentiles_to_full_range():
    ramp = np.tile(np.linspace(100, 150, 256).round().astype(np.uint8), (8, 1))
    stretched = stretch_contrast(np.repeat(ramp[..., None], 3, axis=2), 1.0)
    assert stretched.min() == 0 and stretched.max() == 255
    assert np.all(np.diff(stretched[0, :, 0].astype(int)) >= 0)  # monotone
    flat = np.full((8, 8, 3), 77, np.uint8)
    assert np.array_equal(stretch_contrast(flat, 1.0), flat)


def test_similarity_transform_recovers_a_known_similarity():
    rng = np.random.default_rng(0)
    angle, scale, shift = 0.4, 1.7, np.array([12.5, -30.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    truth = np.hstack([scale * rotation, shift[:, None]])
    src = rng.uniform(0, 200, (5, 2))
    assert np.allclose(similarity_transform(src, transform_points(src, truth)), truth, atol=1e-9)
    back = transform_points(transform_points(src, truth), invert(truth))
    assert np.allclose(back, src, atol=1e-9)
    with pytest.raises(FaceStageError, match="degenerate"):
        similarity_transform(np.ones((5, 2)), src)


@pytest.mark.parametrize("size", [256, 512])
def test_alignment_puts_landmarks_on_the_template(detections, faces_photos, size):
    aligned = align_face(faces_photos["grace_hopper"], detections["grace_hopper"][0], size)
    assert aligned.image.shape == (size, size, 3) and aligned.image.dtype == np.uint8
    residual = np.hypot(*(transform_points(aligned.face.landmarks, aligned.matrix) - template(size)).T)
    assert residual.max() < 0.05 * size


def blob_centroids(image, centres, radius):
    out = []
    for cx, cy in centres:
        x0, y0 = int(cx) - radius, int(cy) - radius
        patch = image[y0:y0 + 2 * radius + 1, x0:x0 + 2 * radius + 1].astype(np.float64)
        ys, xs = np.mgrid[y0:y0 + 2 * radius + 1, x0:x0 + 2 * radius + 1]
        out.append(((patch * xs).sum() / patch.sum(), (patch * ys).sum() / patch.sum()))
    return np.array(out)


@pytest.mark.parametrize("angle,scale", [(0.0, 1.0), (0.35, 2.3), (-0.2, 0.6)])
def test_warp_and_inverse_warp_round_trip_within_a_pixel(angle, scale):
    height, width = 300, 340
    centres = np.array([[150.3, 120.7], [190.0, 160.2], [130.6, 175.5], [170.2, 140.1]])
    ys, xs = np.mgrid[0:height, 0:width]
    image = np.zeros((height, width), np.float64)
    for cx, cy in centres:
        image += 200 * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * 4.0**2))
    rgb = np.repeat(np.clip(image, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    size = 256
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = np.hstack([rotation, (np.array([size / 2, size / 2]) - rotation @ centres.mean(0))[:, None]])
    aligned = warp_to_template(rgb, matrix, size)
    moved = blob_centroids(aligned[..., 0], transform_points(centres, matrix), radius=int(12 * scale) + 2)
    assert np.abs(moved - transform_points(centres, matrix)).max() < 1.0
    back = warp_from_template(aligned, matrix, (height, width))
    assert np.abs(blob_centroids(back[..., 0], centres, radius=12) - centres).max() < 1.0
    assert np.abs(back[..., 0].astype(int) - rgb[..., 0].astype(int))[100:200, 120:220].mean() < 3.0
