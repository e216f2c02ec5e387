"""Pipeline, compositions, determinism, replay, serialization and bad input."""

import json

import numpy as np
import pytest

from oldphoto import degrade
from oldphoto.degrade import DegradeError


def all_op_classes():
    return sorted((n, c) for n, c in degrade.REGISTRY.items() if issubclass(c, degrade.Op))


def always(op_cls, **kw):
    return degrade.Pipeline([op_cls(p=1.0, **kw)])


# --- smoke --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,cls", all_op_classes())
def test_every_op_runs_on_rgb_and_grey_without_mutating(name, cls, photo, grey):
    for image in (photo, grey, grey[:, :, None]):
        before = image.copy()
        res = always(cls)(image, seed=3)
        assert res.image.shape == image.shape and res.image.dtype == np.uint8
        assert res.target.shape == image.shape
        np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("name", degrade.list_presets())
def test_every_preset_runs(name, photo):
    res = degrade.preset(name)(photo, seed=0)
    assert res.image.shape == photo.shape
    json.dumps(res.params)


def test_tiny_and_odd_sizes(photo):
    pipe = degrade.preset("bopbtl-code")
    for h, w in ((8, 8), (9, 17), (31, 8)):
        assert pipe(np.ascontiguousarray(photo[:h, :w]), seed=1).image.shape == (h, w, 3)


def test_non_contiguous_view_gives_same_result_as_copy(photo):
    view = photo[::2, ::2]
    assert not view.flags.c_contiguous
    pipe = degrade.preset("bopbtl-code")
    np.testing.assert_array_equal(pipe(view, seed=5).image, pipe(view.copy(), seed=5).image)


# --- determinism and replay ------------------------------------------------------------------------

@pytest.mark.parametrize("name,cls", all_op_classes())
def test_op_determinism_and_replay(name, cls, photo):
    pipe = always(cls)
    a, b = pipe(photo, seed=11), pipe(photo, seed=11)
    np.testing.assert_array_equal(a.image, b.image)
    again = degrade.replay(photo, json.loads(json.dumps(a.params)))
    np.testing.assert_array_equal(again.image, a.image)
    np.testing.assert_array_equal(again.target, a.target)
    assert again.masks.keys() == a.masks.keys()
    for key in a.masks:
        np.testing.assert_array_equal(again.masks[key], a.masks[key])


def test_different_seeds_differ(photo):
    pipe = degrade.preset("bopbtl-code")
    outs = {pipe(photo, seed=s).image.tobytes() for s in range(6)}
    assert len(outs) == 6


def test_pipeline_never_uses_global_rng(photo):
    pipe = degrade.preset("bopbtl-code")
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    a = pipe(photo, seed=4).image
    np.random.seed(123)
    b = pipe(photo, seed=4).image
    np.testing.assert_array_equal(a, b)
    np.random.seed(0)
    pipe(photo, seed=9)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_owned_generator_supplies_seeds(photo):
    a = degrade.preset("bopbtl-code", seed=7)
    b = degrade.preset("bopbtl-code", seed=7)
    ra, rb = [a(photo) for _ in range(3)], [b(photo) for _ in range(3)]
    assert [r.params["seed"] for r in ra] == [r.params["seed"] for r in rb]
    assert len({r.params["seed"] for r in ra}) == 3


def test_op_randomness_independent_of_other_ops(photo):
    """Removing an op that did not run never changes what the others draw."""
    blur = degrade.GaussianBlur(p=1.0)
    noise = degrade.GaussianNoise(p=1.0)
    one = degrade.Pipeline([degrade.Compose([blur, noise])])(photo, seed=2)
    two = degrade.Pipeline([degrade.Compose([blur, degrade.Compose([noise])])])(photo, seed=2)
    assert one.params["ops"][0]["params"] == two.params["ops"][0]["params"]


def test_replay_rejects_wrong_shape(photo):
    res = degrade.preset("bopbtl-code")(photo, seed=1)
    with pytest.raises(DegradeError, match="shape"):
        degrade.replay(photo[:64], res.params)


# --- compositions ------------------------------------------------------------------------------

def applied_types(res):
    return [r["op"]["type"] for r in res.params["ops"]]


def test_compose_respects_order_and_probability(photo):
    pipe = degrade.Pipeline([degrade.Compose([degrade.GaussianBlur(p=1), degrade.Sepia(p=0),
                                              degrade.GaussianNoise(p=1)])])
    assert applied_types(pipe(photo, seed=0)) == ["GaussianBlur", "GaussianNoise"]


def test_one_of_applies_exactly_one_with_weights(photo):
    pipe = degrade.Pipeline([degrade.OneOf([degrade.GaussianBlur(p=0.25), degrade.Sepia(p=0.75)])])
    counts = {"GaussianBlur": 0, "Sepia": 0}
    for s in range(200):
        types = applied_types(pipe(photo[:16, :16], seed=s))
        assert len(types) == 1
        counts[types[0]] += 1
    assert 0.15 < counts["GaussianBlur"] / 200 < 0.35  # weight 1 of 4


def test_some_of_counts_and_random_order(photo):
    ops = [degrade.GaussianBlur(p=1), degrade.Sepia(p=1), degrade.Fade(p=1), degrade.Grayscale(p=1)]
    some = degrade.Pipeline([degrade.SomeOf(ops, n=(1, 2))])
    order = degrade.Pipeline([degrade.RandomOrder(ops)])
    sizes, orders = set(), set()
    for s in range(40):
        types = applied_types(some(photo[:16, :16], seed=s))
        assert len(set(types)) == len(types)
        sizes.add(len(types))
        orders.add(tuple(applied_types(order(photo[:16, :16], seed=s))))
    assert sizes == {1, 2}
    assert len(orders) > 5 and all(len(o) == 4 for o in orders)


def test_bopbtl_code_probabilities(photo):
    """Each of the four ops runs with p 0.7; greyscale with p 0.1 (on input and target)."""
    pipe = degrade.preset("bopbtl-code")
    n = 400
    counts: dict[str, int] = {}
    for s in range(n):
        res = pipe(photo[:16, :16], seed=s)
        for t in set(applied_types(res)):
            counts[t] = counts.get(t, 0) + 1
        if "Grayscale" in applied_types(res):
            assert np.ptp(res.target.astype(int), axis=2).max() == 0
    for t in ("GaussianBlur", "Resample", "JpegCompression"):
        assert abs(counts[t] / n - 0.7) < 0.07, (t, counts[t])
    noise = sum(counts.get(t, 0) for t in ("GaussianNoise", "SpeckleNoise", "SaltPepperNoise"))
    assert abs(noise / n - 0.7) < 0.07
    assert abs(counts["Grayscale"] / n - 0.1) < 0.04


def test_spatial_op_moves_masks_and_target(photo):
    mask = np.zeros(photo.shape[:2], bool)
    mask[:, :10] = True
    res = degrade.Pipeline([degrade.HorizontalFlip(p=1)])(photo, seed=0, masks={"scratch": mask})
    assert res.masks["scratch"][:, -10:].all() and not res.masks["scratch"][:, :-10].any()
    assert res.masks["defects"].sum() == mask.sum()
    np.testing.assert_array_equal(res.target, photo[:, ::-1])


def test_non_spatial_op_leaves_target_clean(photo):
    res = degrade.Pipeline([degrade.GaussianNoise(p=1)])(photo, seed=0)
    np.testing.assert_array_equal(res.target, photo)
    assert res.masks == {}


# --- serialization --------------------------------------------------------------------------------

@pytest.mark.parametrize("name,cls", all_op_classes())
def test_op_round_trip(name, cls):
    op = cls()
    assert degrade.from_dict(json.loads(json.dumps(op.to_dict()))) == op


@pytest.mark.parametrize("name", degrade.list_presets())
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_preset_round_trip_through_files(name, suffix, tmp_path, photo):
    pipe = degrade.preset(name)
    path = tmp_path / f"pipe{suffix}"
    pipe.save(path)
    loaded = degrade.load(path)
    assert loaded == pipe
    assert degrade.Pipeline.from_dict(pipe.to_dict()) == pipe
    np.testing.assert_array_equal(loaded(photo, seed=3).image, pipe(photo, seed=3).image)


def test_bare_op_dict_is_wrapped_in_a_pipeline(photo):
    pipe = degrade.Pipeline.from_dict({"type": "Sepia", "strength": [1, 1], "p": 1})
    assert isinstance(pipe, degrade.Pipeline)
    assert applied_types(pipe(photo, seed=0)) == ["Sepia"]


# --- exceptions -------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad,match", [
    (np.zeros((16, 16, 3), np.float32), "uint8"),
    (np.zeros((16, 16, 4), np.uint8), "RGBA"),
    (np.zeros((16, 16, 2), np.uint8), "channels"),
    (np.zeros((7, 16, 3), np.uint8), ">= 8"),
    (np.zeros((0, 0), np.uint8), ">= 8"),
    (np.zeros((4, 16, 16, 3), np.uint8), "HxW"),
    ([[1, 2], [3, 4]], "numpy array"),
])
def test_bad_images_are_rejected(bad, match):
    with pytest.raises(DegradeError, match=match):
        degrade.preset("bopbtl-code")(bad, seed=0)


@pytest.mark.parametrize("make,match", [
    (lambda: degrade.GaussianNoise(sigma=(30, 5)), "GaussianNoise: argument 'sigma' has low > high"),
    (lambda: degrade.GaussianNoise(sigma=(-1, 5)), "GaussianNoise: argument 'sigma' must be >= 0"),
    (lambda: degrade.GaussianBlur(p=1.5), "GaussianBlur: argument 'p'"),
    (lambda: degrade.GaussianBlur(ksize=(4,)), "GaussianBlur: argument 'ksize' has invalid"),
    (lambda: degrade.JpegCompression(quality=(0, 101)), "JpegCompression: argument 'quality'"),
    (lambda: degrade.Resample(up=("cubicle",)), "Resample: argument 'up'"),
    (lambda: degrade.Fade(contrast="lots"), "Fade: argument 'contrast'"),
    (lambda: degrade.OneOf([degrade.Sepia(), "blur"]), "OneOf: 'transforms'"),
    (lambda: degrade.SomeOf([degrade.Sepia()], n=3), "SomeOf: argument 'n'"),
    (lambda: degrade.from_dict({"type": "Nope"}), "unknown transform type 'Nope'"),
    (lambda: degrade.from_dict({"type": "Sepia", "bogus": 1}), "Sepia:"),
    (lambda: degrade.preset("nope"), "unknown preset 'nope'"),
])
def test_bad_arguments_name_the_op_and_argument(make, match):
    with pytest.raises(DegradeError, match=match):
        make()


def test_bad_seed_and_mask(photo):
    pipe = degrade.preset("bopbtl-code")
    with pytest.raises(DegradeError, match="seed"):
        pipe(photo, seed=-1)
    with pytest.raises(DegradeError, match="mask 'scratch'"):
        pipe(photo, seed=0, masks={"scratch": np.zeros((3, 3), bool)})


def test_load_reports_file_problems(tmp_path):
    with pytest.raises(DegradeError, match="cannot read"):
        degrade.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DegradeError, match="bad.json"):
        degrade.load(bad)
