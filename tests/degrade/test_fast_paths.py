"""The speed-ups give the bytes of the plain numpy/OpenCV formulation they replace ."""

import dataclasses

import cv2
import numpy as np
import pytest

from oldphoto import degrade
from oldphoto.degrade.compose import node_rng, pick, pick_weighted, union
from oldphoto.degrade.functional import _util
from oldphoto.degrade.functional import blend as B
from oldphoto.degrade.functional._util import (
    add_float,
    normal_indices,
    normal_quantiles,
    normal_table,
    random_bytes,
    row_bands,
    scratch,
    to_uint8,
    unit_to_uint8,
)
from oldphoto.degrade.functional.grain import LEVELS, grain_amplitude
from oldphoto.degrade.functional.jpeg import jpeg_compress
from oldphoto.degrade.functional.noise import gaussian_noise, speckle_noise
from oldphoto.degrade.functional.paper import paper_blend, paper_layer, paper_rows
from oldphoto.degrade.seeding import node_generator


@pytest.mark.parametrize("count", [0, 1, 3, 4, 6, 8, 9, 16, 1001, 2 * 37 * 53 * 3])
def test_random_bytes_are_rng_bytes_and_leave_the_same_state(count):
    for seed in range(5):
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        assert random_bytes(ours, count).tobytes() == theirs.bytes(count)
        a, b = ours.bit_generator.state, theirs.bit_generator.state
        assert (a["state"], a["has_uint32"]) == (b["state"], b["has_uint32"])
        assert not a["has_uint32"] or a["uinteger"] == b["uinteger"]
        assert ours.integers(2**32, size=3).tolist() == theirs.integers(2**32, size=3).tolist()


def test_random_bytes_after_a_half_used_64_bit_word():
    ours, theirs = np.random.default_rng(7), np.random.default_rng(7)
    ours.bytes(4), theirs.bytes(4)
    assert random_bytes(ours, 12).tobytes() == theirs.bytes(12)
    assert ours.random() == theirs.random()


def test_normal_lookup_matches_scaling_every_deviate():
    index = normal_indices(np.random.default_rng(3), (17, 9, 3))
    for std in (1.0, 5.3, 49.99, 0.17):
        plain = normal_quantiles().take(index)
        plain *= np.float32(std)
        np.testing.assert_array_equal(normal_table(std).take(index), plain)


@pytest.mark.parametrize("shape", [(64, 48, 3), (131, 7), (300, 301, 3)])
def test_noise_matches_the_plain_formula(shape):
    image = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    deviates = normal_quantiles().take(normal_indices(np.random.default_rng(11), shape))
    gauss = deviates * np.float32(23.4)
    np.testing.assert_array_equal(gaussian_noise(image, 23.4, 11), cv2.add(image, gauss, dtype=cv2.CV_8U))
    speckle = deviates * np.float32(0.12)
    speckle *= image
    np.testing.assert_array_equal(speckle_noise(image, 0.12, 11), cv2.add(image, speckle, dtype=cv2.CV_8U))


def test_add_float_of_a_grey_delta_matches_repeating_it():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (33, 21, 3), dtype=np.uint8)
    delta = (rng.standard_normal((33, 21)) * 40).astype(np.float32)
    repeated = np.repeat(delta[:, :, None], 3, axis=2)
    np.testing.assert_array_equal(add_float(image, delta), cv2.add(image, repeated, dtype=cv2.CV_8U))


def test_grain_amplitude_table_matches_the_per_pixel_formula():
    luma = np.random.default_rng(9).integers(0, 256, (70, 90), dtype=np.uint8)
    for intensity in (3.0, 7.77, 12.0):
        np.testing.assert_array_equal(cv2.LUT(luma, grain_amplitude(LEVELS, intensity)),
                                      grain_amplitude(luma.astype(np.float32), intensity))


def test_scratch_arrays_are_reused_per_tag_and_shape_and_bounded():
    a = scratch("test-a", (5, 7))
    assert scratch("test-a", (5, 7)) is a and a.dtype == np.float32
    assert scratch("test-b", (5, 7)) is not a and scratch("test-a", (5, 8)) is not a
    for i in range(2 * _util.SCRATCH_ARRAYS):
        scratch(f"test-{i}", (2, 2))
    assert len(_util._SCRATCH.pool) == _util.SCRATCH_ARRAYS


def test_results_do_not_depend_on_reused_scratch_arrays(photo):
    pipe = degrade.preset("bopbtl-paper")
    first = [pipe(photo, seed=s).image for s in range(6)]
    for name in list(_util._SCRATCH.pool):
        _util._SCRATCH.pool[name].fill(np.nan)
    for s, image in enumerate(first):
        np.testing.assert_array_equal(pipe(photo, seed=s).image, image)


def test_row_bands_cover_every_row_once():
    for shape in [(1, 5), (512, 512, 3), (1000, 3), (7, 100000)]:
        rows = np.arange(shape[0])
        assert np.concatenate([rows[band] for band in row_bands(shape)]).tolist() == rows.tolist()


def test_unit_to_uint8_matches_scaling_rounding_and_clipping():
    rng = np.random.default_rng(8)
    values = rng.random((40, 61, 3), dtype=np.float32) * np.float32(1.2) - np.float32(0.1)
    halves = ((np.arange(255) + 0.5) / 255).astype(np.float32)
    near = np.concatenate([halves, np.nextafter(halves, np.float32(0)), np.nextafter(halves, np.float32(1))])
    values.reshape(-1)[:near.size] = near
    scaled = values * np.float32(255.0)
    np.testing.assert_array_equal(unit_to_uint8(values.copy()), to_uint8(scaled))
    np.testing.assert_array_equal(unit_to_uint8(values[:, :, 0].copy()), to_uint8(scaled[:, :, 0].copy()))


@pytest.mark.parametrize("mode", sorted(B.MODES))
def test_blend_in_place_matches_the_formula(mode):
    rng = np.random.default_rng(4)
    base, layer = rng.random((2, 3, 50), dtype=np.float32)
    opacity = rng.random((1, 50), dtype=np.float32)
    plain = {"addition": np.minimum(base + layer, np.float32(1.0)), "lighten": np.maximum(base, layer),
             "screen": base + layer - base * layer, "multiply": base * layer,
             "darken": np.minimum(base, layer), "normal": layer}[mode]
    np.testing.assert_array_equal(B.blend(base, layer, mode, opacity), base + opacity * (plain - base))


@pytest.mark.parametrize("grey", [False, True])
def test_banded_paper_blend_matches_the_whole_image_formula(grey):
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (300, 200) if grey else (300, 200, 3), dtype=np.uint8)
    paper = paper_layer(300, 200, 0.4, 3.0, 9, grey=grey)
    base = image.astype(np.float32)
    base *= np.float32(1.0 / 255.0)
    whole = base + np.float32(0.3) * (B.screen(base, paper) - base)
    whole *= np.float32(255.0)
    expected = to_uint8(whole)
    np.testing.assert_array_equal(paper_blend(image, paper, "screen", 0.3), expected)
    np.testing.assert_array_equal(paper_blend(image, paper_rows(300, 200, 0.4, 3.0, 9, grey=grey), "screen", 0.3),
                                  expected)


def test_jpeg_decoded_straight_to_rgb_matches_decoding_to_bgr():
    rng = np.random.default_rng(6)
    image = cv2.GaussianBlur(rng.integers(0, 256, (77, 91, 3), dtype=np.uint8), (0, 0), 2)
    for quality in (5, 40, 90, 100):
        _, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        expected = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(jpeg_compress(image, quality), expected)


@pytest.mark.parametrize("seed", [0, 1, 5, 2**32 - 1, 2**32, 2**63 - 1, 2**64 + 5, 2**130 + 7, 123456789])
def test_node_generators_match_numpy_seed_sequences(seed):
    for path in [(), (0,), (4,), (4, 1), (4, 2, 0), (0, 0, 0, 0, 0), (2**33, 1), (2**70,)]:
        ours = node_generator(seed, path)
        theirs = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=path))
        assert ours.bit_generator.state == theirs.bit_generator.state
        assert ours.random() == theirs.random()
    assert node_rng(seed, (3,)).random() == np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3,))).random()


def test_node_generator_refuses_negative_entries():
    with pytest.raises(ValueError):
        node_generator(1, (-1,))


def test_pick_draws_what_rng_choice_draws():
    for seed in range(200):
        for choices in [(3, 5, 7), ("bicubic",), ("nearest", "bilinear"), tuple("abcdef")]:
            ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
            assert pick(ours, choices) == type(choices[0])(theirs.choice(choices))
            assert ours.random() == theirs.random()
        weights = np.array([0.7, 0.0, 1.0, 0.3])
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        assert pick_weighted(ours, weights) == int(theirs.choice(len(weights), p=weights / weights.sum()))
        assert ours.random() == theirs.random()


def test_op_records_keep_every_field_in_order():
    op = degrade.Scratches(count=(2, 4))
    record = op.to_dict()
    assert list(record) == ["type", *(f.name for f in dataclasses.fields(op) if f.name != "version")]
    assert record["count"] == [2, 4] and degrade.from_dict(record).to_dict() == record


def test_union_is_logical_or_reduce_in_a_new_bool_array():
    masks = list(np.random.default_rng(7).random((3, 40, 30)) > 0.8)
    for count in (1, 2, 3):
        out = union(masks[:count])
        assert out.dtype == bool and not any(np.shares_memory(out, m) for m in masks)
        np.testing.assert_array_equal(out, np.logical_or.reduce(masks[:count]))
    np.testing.assert_array_equal(union([masks[0].astype(np.uint8) * 3]), masks[0])
