"""Blending (untouched background, order independence, grey stays grey), enhance_faces end to end,
the generator's shapes and sizes, and the registered bopbtl-face restorer."""

import cv2
import numpy as np
import pytest
import torch

from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb
from oldphoto.models import create
from oldphoto.models.face.align import AlignedFace, similarity_transform, template, warp_from_template, warp_to_template
from oldphoto.models.face.blend import BlendConfig, blend_faces, face_mask, match_colour
from oldphoto.models.face.detect import DetectorConfig, Face, FaceDetector
from oldphoto.models.face.errors import FaceStageError
from oldphoto.models.face.generator import FaceGenerator, FaceGeneratorConfig, get_face_config
from oldphoto.models.face.pipeline import enhance_faces
from oldphoto.models.training import CheckpointError

SIZE = 64


@pytest.fixture(scope="module")
def tiny_generator():
    torch.manual_seed(0)
    return FaceGenerator(FaceGeneratorConfig(size=SIZE, ngf=2, spade_hidden=4)).eval()


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(device="cpu")


def synthetic_face(centre, eye_distance, size=SIZE, angle=0.0):
    """An AlignedFace whose landmarks are the template moved to ``centre`` (a similarity)."""
    base = template(size) - template(size).mean(0)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = base @ rot.T * (eye_distance / (base[1, 0] - base[0, 0])) + np.asarray(centre)
    matrix = similarity_transform(landmarks, template(size))
    face = Face((0.0, 0.0, 1.0, 1.0), landmarks, 1.0)
    return face, matrix


def make_pair(image, centre, eye_distance, value, angle=0.0):
    face, matrix = synthetic_face(centre, eye_distance, angle=angle)
    aligned = AlignedFace(warp_to_template(image, matrix, SIZE), matrix, face)
    return aligned, np.full((SIZE, SIZE, 3), value, np.uint8)


def test_blending_leaves_non_face_pixels_untouched():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    aligned, enhanced = make_pair(image, (80, 60), 20, value=(250, 10, 10))
    out = blend_faces(image, [(aligned, enhanced)], BlendConfig(colour_match=False))
    reach = warp_from_template(face_mask(SIZE, 0.04), aligned.matrix, image.shape[:2]) > 0
    assert np.array_equal(out[~reach], image[~reach])
    assert reach.mean() < 0.25 and (out != image).any(axis=2).mean() > 0.5 * reach.mean()
    centre = out[55:65, 75:85].astype(int)
    assert np.all(centre[..., 0] > 240) and np.all(centre[..., 1] < 20)  # the face core is the new face
    assert np.array_equal(blend_faces(image, []), image)


def test_blending_is_independent_of_list_order_and_keeps_grey():
    rng = np.random.default_rng(2)
    grey = rng.integers(0, 256, (100, 140), dtype=np.uint8)
    image = np.repeat(grey[..., None], 3, axis=2)
    pairs = [make_pair(image, (60, 50), 18, (200, 30, 30)), make_pair(image, (75, 52), 16, (20, 200, 90), angle=0.3)]
    first = blend_faces(image, pairs)
    assert np.array_equal(first, blend_faces(image, pairs[::-1]))
    assert np.array_equal(first[..., 0], first[..., 1]) and np.array_equal(first[..., 0], first[..., 2])


def test_colour_matching_moves_lab_statistics_to_the_original():
    rng = np.random.default_rng(3)
    original = np.clip(rng.normal((150, 110, 80), 20, (SIZE, SIZE, 3)), 0, 255).astype(np.uint8)
    enhanced = np.clip(rng.normal((90, 120, 170), 35, (SIZE, SIZE, 3)), 0, 255).astype(np.uint8)
    weights = np.ones((SIZE, SIZE), np.float32)
    matched = match_colour(enhanced, original, weights)

    def lab(im):
        return cv2.cvtColor(im.astype(np.float32) / 255, cv2.COLOR_RGB2LAB).reshape(-1, 3)

    assert np.allclose(lab(matched).mean(0), lab(original).mean(0), atol=1.0)
    assert np.allclose(lab(matched).std(0), lab(original).std(0), rtol=0.1, atol=0.5)


def test_blend_rejects_a_crop_of_the_wrong_size():
    image = np.zeros((80, 80, 3), np.uint8)
    aligned, _ = make_pair(image, (40, 40), 15, 0)
    with pytest.raises(FaceStageError, match="'blend': face 0"):
        blend_faces(image, [(aligned, np.zeros((SIZE + 1, SIZE, 3), np.uint8))])


def test_photo_without_faces_passes_through_unchanged(detector, tiny_generator):
    coffee = read_rgb(builtin_paths()["coffee"])
    out, info = enhance_faces(coffee, tiny_generator, detector)
    assert info == [] and np.array_equal(out, coffee)


def test_enhance_faces_on_a_portrait(detector, tiny_generator):
    image = read_rgb(builtin_paths()["astronaut"])
    out, info = enhance_faces(image, tiny_generator, detector)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert len(info) == 1 and info[0]["enhanced"] and info[0]["blended"]
    assert set(info[0]) >= {"box", "landmarks", "score"} and len(info[0]["landmarks"]) == 5
    x0, y0, x1, y1 = info[0]["box"]
    changed = (out != image).any(axis=2)
    ys, xs = np.nonzero(changed)
    assert changed.mean() > 0.01
    w, h = x1 - x0, y1 - y0  # every changed pixel lies near the detected face
    assert xs.min() > x0 - w and xs.max() < x1 + w and ys.min() > y0 - h and ys.max() < y1 + h
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    grey_out, grey_info = enhance_faces(grey, tiny_generator, detector)
    assert grey_out.shape == grey.shape and len(grey_info) == 1
    kept, kept_info = enhance_faces(image, tiny_generator, detector, max_faces=0)
    assert np.array_equal(kept, image)
    assert kept_info[0]["enhanced"] is False and "max_faces=0" in kept_info[0]["reason"]


def test_a_failing_stage_is_named(detector, tiny_generator):
    image = read_rgb(builtin_paths()["astronaut"])
    with pytest.raises(FaceStageError, match="'enhance'.*multiples of 32"):
        enhance_faces(image, tiny_generator, detector, size=48)
    with pytest.raises(FaceStageError, match="'input'"):
        enhance_faces(image.astype(np.float32), tiny_generator, detector)


@pytest.mark.parametrize("start", ["degraded", "latent"])
def test_generator_shapes(start):
    torch.manual_seed(0)
    net = FaceGenerator(FaceGeneratorConfig(size=64, ngf=2, spade_hidden=4, start=start, latent_dim=8))
    x = torch.rand(2, 3, 64, 64)
    y = net(x)
    assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1
    if start == "latent":
        assert not torch.equal(net(x, torch.randn(2, 8)), y)
    else:
        assert net(torch.rand(1, 3, 96, 128)).shape == (1, 3, 96, 128)
    with pytest.raises(ValueError, match="multiples of 32"):
        net(torch.rand(1, 3, 48, 64))


def test_full_and_small_configs():
    with torch.device("meta"):
        full = FaceGenerator(get_face_config("full"))
    assert abs(sum(p.numel() for p in full.parameters()) / 92.1e6 - 1) < 0.01  # paper: 92.1 M
    assert full.blocks[0].conv_0.parametrizations.weight.original.shape == (1024, 1024, 3, 3)
    assert full.to_rgb.in_channels == 64
    small = FaceGenerator(get_face_config("small"))
    assert sum(p.numel() for p in small.parameters()) < 3e6
    for bad in ({"size": 100}, {"ngf": 0}, {"start": "noise"}):
        with pytest.raises(ValueError):
            FaceGeneratorConfig(**bad)
    with pytest.raises(ValueError, match="unknown face generator config"):
        get_face_config("huge")


def test_restorer_is_registered_and_missing_weights_name_the_file(tmp_path):
    missing = tmp_path / "nowhere.pt"
    with pytest.raises(CheckpointError, match="nowhere.pt"):
        create("bopbtl-face", pretrained=missing, device="cpu")
    restorer = create("bopbtl-face", config={"detector": {"threshold": 0.95}}, pretrained=False, device="cpu")
    assert restorer.detector.config == DetectorConfig(threshold=0.95)
    coffee = read_rgb(builtin_paths()["coffee"])
    assert np.array_equal(restorer.restore(coffee), coffee) and restorer.last_faces == []
