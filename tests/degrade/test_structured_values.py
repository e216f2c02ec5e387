"""Structured defects, numerical values: blend-mode formulas, elastic distortion, mask convention."""

import numpy as np
import pytest

from oldphoto.degrade.functional import blend as B
from oldphoto.degrade.functional.fields import elastic_distort
from oldphoto.degrade.functional.paper import procedural_paper


@pytest.mark.parametrize("mode, base, layer, expected", [
    ("addition", 0.5, 0.4, 0.9), ("addition", 0.8, 0.4, 1.0),
    ("lighten", 0.5, 0.4, 0.5), ("lighten", 0.3, 0.4, 0.4),
    ("screen", 0.5, 0.4, 0.7), ("screen", 0.2, 0.5, 0.6),
    ("multiply", 0.5, 0.4, 0.2), ("multiply", 1.0, 0.3, 0.3),
    ("darken", 0.5, 0.4, 0.4), ("darken", 0.3, 0.4, 0.3),
    ("normal", 0.5, 0.4, 0.4),
])
def test_blend_mode_formulas(mode, base, layer, expected):
    assert B.MODES[mode](np.float32(base), np.float32(layer)) == pytest.approx(expected, abs=1e-6)
    assert B.blend(base, layer, mode, 1.0) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("mode, expected", [("addition", 0.7), ("screen", 0.6), ("multiply", 0.35),
                                            ("lighten", 0.5), ("darken", 0.45)])
def test_blend_opacity_mixes_toward_the_mode(mode, expected):
    # base 0.5, layer 0.4, opacity 0.5: base + 0.5 * (mode - base)
    assert B.blend(0.5, 0.4, mode, 0.5) == pytest.approx(expected, abs=1e-6)


def test_blend_where_values_and_mask_on_a_known_patch():
    image = np.full((8, 8, 3), 100, np.uint8)
    support = np.zeros((8, 8), np.uint8)
    support[2, 3] = 255
    support[5, 5] = 255
    layer = np.zeros((8, 8), np.float32)
    layer[2, 3] = 0.4                         # 100/255 + 0.4 -> 202 grey levels
    layer[5, 5] = 0.004                       # +1 grey level: under the threshold, reverted
    out, mask = B.blend_where(image, support, layer, "addition", 1.0)
    assert out[2, 3].tolist() == [202, 202, 202]
    assert out[5, 5].tolist() == [100, 100, 100]
    assert mask.sum() == 1 and mask[2, 3]
    assert (image == 100).all()


def test_commit_threshold_is_the_documented_one():
    image = np.full((8, 8), 50, np.uint8)
    idx = np.array([0, 1, 2])
    values = np.array([[50 + B.MASK_THRESHOLD, 50 + B.MASK_THRESHOLD - 1, 50 - B.MASK_THRESHOLD]], np.float32)
    out, mask = B.commit(image, idx, values)
    assert mask.reshape(-1)[:3].tolist() == [True, False, True]
    assert out.reshape(-1)[:3].tolist() == [50 + B.MASK_THRESHOLD, 50, 50 - B.MASK_THRESHOLD]


def test_grey_images_get_the_luma_of_colour_layers():
    grey = np.full((8, 8), 200, np.uint8)
    out, _ = B.blend_where(grey, np.ones((8, 8), np.uint8), (1.0, 0.0, 0.0), "normal", 1.0)
    assert (out == round(255 * 0.299)).all()


def test_elastic_distortion_keeps_a_texture_mean():
    rng = np.random.default_rng(0)
    texture = (procedural_paper(256, 256, 0.4, 0.0, rng) * 255).astype(np.uint8)
    warped = elastic_distort(texture, 6.0, 32.0, np.random.default_rng(1))
    assert warped.shape == texture.shape and warped.dtype == np.uint8
    assert not np.array_equal(warped, texture)
    assert abs(float(warped.mean()) - float(texture.mean())) < 0.5
    assert np.abs(warped.astype(np.float32).mean((0, 1)) - texture.mean((0, 1))).max() < 0.5


def test_elastic_distortion_moves_pixels_by_about_alpha():
    ramp = np.tile(np.arange(256, dtype=np.float32), (256, 1))
    warped = elastic_distort(ramp, 4.0, 32.0, np.random.default_rng(2))
    shift = np.abs(warped - ramp)[16:-16, 16:-16]
    assert 1.0 < float(shift.mean()) < 8.0
