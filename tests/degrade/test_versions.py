"""Op versions: version 2 of the slow ops, the -v2 presets, version 1 left as it was, and v1/v2 statistics."""

import json
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from oldphoto import degrade
from oldphoto.benchmark.speed import degrade as speed_degrade
from oldphoto.benchmark.speed.degrade import bench_degrade
from oldphoto.benchmark.speed.versions import compare, pattern_stats, photos, preset_ops
from oldphoto.degrade import DegradeError
from oldphoto.degrade.functional._util import add_float, add_rounded
from oldphoto.degrade.functional.blend import MODES, blend, blend8, blend_passes, blend_where
from oldphoto.degrade.functional.blur import gaussian_blur
from oldphoto.degrade.presets import UPGRADED, at_version, preset_dict

VERSIONED = sorted((name, v) for name, cls in degrade.REGISTRY.items()
                   if issubclass(cls, degrade.Op) for v in cls.VERSIONS if v > 1)
FAMILY = {"Scratches": "scratch", "Holes": "hole"}


def always(name, version, **kwargs):
    return degrade.Pipeline([degrade.REGISTRY[name](p=1.0, version=version, **kwargs)])


def test_the_slow_ops_have_a_version_2():
    assert {name for name, _ in VERSIONED} >= {"PaperTexture", "Scratches", "FilmGrain", "GaussianNoise",
                                                "SpeckleNoise", "Holes", "GaussianBlur"}


# --- smoke ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,version", VERSIONED)
def test_version_2_runs_on_rgb_grey_and_odd_sizes_without_mutating(name, version, photo, grey):
    for image in (photo, grey, grey[:, :, None], np.ascontiguousarray(photo[:9, :31]), grey[:8, :8].copy()):
        before = image.copy()
        res = always(name, version)(image, seed=3)
        assert res.image.shape == image.shape and res.image.dtype == np.uint8
        np.testing.assert_array_equal(image, before)
    assert not np.array_equal(always(name, version)(photo, seed=3).image, photo)


@pytest.mark.parametrize("name,version", [(n, v) for n, v in VERSIONED if n in FAMILY])
@pytest.mark.parametrize("shape", [(96, 128, 3), (80, 64)])
def test_version_2_masks_are_exactly_the_changed_pixels(name, version, shape, photo):
    image = cv2.resize(photo, shape[1::-1])
    image = image if len(shape) == 3 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    for seed in range(4):
        res = always(name, version)(image, seed=seed)
        moved = res.image != image
        np.testing.assert_array_equal(res.masks[FAMILY[name]], moved.any(axis=2) if moved.ndim == 3 else moved)
        assert res.masks[FAMILY[name]].any()


def test_scratches_v2_with_no_or_many_scratches(photo):
    for count, film in ((0, 0), (0, 3), (40, 0)):
        res = always("Scratches", 2, count=count, film=film, cluster=1.0)(photo, seed=1)
        assert res.masks["scratch"].any() == bool(count + film)


@pytest.mark.parametrize("grey_image", [False, True])
def test_version_2_papers_from_a_user_folder(grey_image, photo, tmp_path):
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(tmp_path / f"paper{i}.png"), rng.integers(120, 256, (40, 50, 3), dtype=np.uint8))
    image = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY) if grey_image else photo
    res = always("PaperTexture", 2, textures=str(tmp_path), opacity=0.5, modes="multiply", elastic=3.0)(image, seed=4)
    assert res.params["ops"][0]["params"]["texture"]["file"] in ("paper0.png", "paper1.png")
    assert (res.image.astype(int) <= image.astype(int) + 1).all() and (res.image != image).any()
    np.testing.assert_array_equal(degrade.replay(image, res.params).image, res.image)
    holes = always("Holes", 2, textures=str(tmp_path), count=3, size=0.2)(image, seed=2)
    assert holes.masks["hole"].any()


# --- determinism ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,version", VERSIONED)
def test_version_2_is_deterministic_replayable_and_thread_independent(name, version, photo):
    pipe = always(name, version)
    serial = [pipe(photo, seed=s).image for s in range(6)]
    with ThreadPoolExecutor(3) as pool:
        threaded = list(pool.map(lambda s: pipe(photo, seed=s).image, range(6)))
    for a, b in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(a, b)
    res = pipe(photo, seed=4)
    again = degrade.replay(photo, json.loads(json.dumps(res.params)))
    np.testing.assert_array_equal(again.image, res.image)
    assert res.params["ops"][0]["op"]["version"] == version


# --- 8-bit and one-pass helpers of version 2 -----------------------------------------------------------

@pytest.mark.parametrize("mode", sorted(MODES))
def test_blend8_is_within_one_grey_level_of_the_float_blend(mode):
    base, layer = np.random.default_rng(0).integers(0, 256, (2, 64, 48, 3), dtype=np.uint8)
    for opacity in (0.0, 0.05, 0.3, 0.7, 1.0):
        exact = blend(base / np.float32(255), layer / np.float32(255), mode, opacity) * 255
        assert np.abs(blend8(base, layer, mode, opacity) - exact).max() <= 1.0, opacity


def test_add_rounded_is_add_float_but_at_half_levels(photo, grey):
    rng = np.random.default_rng(1)
    for image in (photo, grey, grey[:, :, None]):
        for shape in {image.shape[:2], image.shape}:
            delta = rng.normal(0, 40, shape).astype(np.float32)  # saturates at both ends too
            half = np.full(shape, 0.5, np.float32)
            apart, at_half = (np.abs(add_rounded(image, d).astype(int) - add_float(image, d).reshape(image.shape))
                              for d in (delta, half))
            assert add_rounded(image, delta).shape == image.shape
            assert apart.max() <= 1 and apart.mean() < 1e-3 and at_half.max() == 1


@pytest.mark.parametrize("ksize", [1, 3, 5, 7, 15])
def test_gaussian_blur_v2_is_within_one_grey_level_of_v1(ksize, photo, grey):
    for image in (photo, grey, np.ascontiguousarray(photo[:5, :9])):
        for sigma in (0.0, 1.0, 3.0, 5.0):
            one, two = (gaussian_blur(image, ksize, sigma, version) for version in (1, 2))
            apart = one.astype(int) - two
            assert two.shape == one.shape and np.abs(apart).max() <= 1, sigma
            if image.size > 1000:  # the few pixels of a tiny crop may all round apart
                assert np.abs(apart).mean() < 0.15 and abs(apart.mean()) < 0.05, sigma


def test_blend_passes_of_one_pass_is_blend_where(photo):
    support = cv2.GaussianBlur((np.random.default_rng(2).random(photo.shape[:2]) > 0.97).astype(np.uint8) * 255,
                               (0, 0), 1.5)
    for mode, layer in (("screen", support), ("multiply", (0.4, 0.3, 0.2)), ("normal", photo[::-1].copy())):
        one, two = blend_where(photo, support, layer, mode, 0.6), blend_passes(photo, support, [(layer, mode, 0.6)])
        np.testing.assert_array_equal(one[0], two[0])
        np.testing.assert_array_equal(one[1], two[1])


def test_blend_passes_masks_exactly_what_both_passes_moved(photo):
    rng = np.random.default_rng(3)
    bright, dark = (cv2.GaussianBlur((rng.random(photo.shape[:2]) > 0.98).astype(np.uint8) * 200, (0, 0), 1.0)
                    for _ in range(2))
    out, mask = blend_passes(photo, cv2.max(bright, dark), [(bright, "addition", 0.5),
                                                             (cv2.bitwise_not(dark), "multiply", 0.5)])
    np.testing.assert_array_equal(mask, (out != photo).any(axis=2))
    assert mask.any() and not mask[(bright == 0) & (dark == 0)].any()
    assert (np.abs(out.astype(int) - photo)[mask].max(axis=1) >= 3).all()


# --- serialization ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name,version", VERSIONED)
def test_version_is_named_after_the_type_and_only_when_not_1(name, version, tmp_path):
    cls = degrade.REGISTRY[name]
    record = cls(version=version).to_dict()
    assert list(record)[:2] == ["type", "version"] and record["version"] == version
    assert degrade.from_dict(json.loads(json.dumps(record))) == cls(version=version) != cls()
    assert "version" not in cls().to_dict() and "version" not in cls(version=1).to_dict()
    no_version = {k: v for k, v in record.items() if k != "version"}
    assert degrade.from_dict(no_version).version == 1
    pipe = degrade.Pipeline([cls(version=version)])
    pipe.save(tmp_path / "p.yaml")
    assert degrade.load(tmp_path / "p.yaml") == pipe


@pytest.mark.parametrize("name", sorted(UPGRADED))
def test_v2_presets_are_the_v1_files_with_ops_at_version_2(name):
    v1, v2 = preset_dict(name), preset_dict(f"{name}-v{UPGRADED[name]}")
    assert "version" not in json.dumps(v1) and '"version": 2' in json.dumps(v2)
    assert v2 == {**at_version(v1, 2), "name": f"{name}-v2"}
    assert degrade.preset(f"{name}-v2").to_dict()["name"] == f"{name}-v2"


# --- version 1 unchanged -----------------------------------------------------------------------------

@pytest.mark.parametrize("name,version", VERSIONED)
def test_version_1_given_or_not_gives_the_same_bytes_and_dict(name, version, photo):
    cls = degrade.REGISTRY[name]
    assert cls(version=1) == cls() and cls(version=1).to_dict() == cls().to_dict()
    plain, given = degrade.Pipeline([cls(p=1.0)]), always(name, 1)
    for seed in range(3):
        a, b, two = plain(photo, seed=seed), given(photo, seed=seed), always(name, version)(photo, seed=seed)
        np.testing.assert_array_equal(a.image, b.image)
        assert a.params == b.params and "version" not in json.dumps(a.params["ops"])
        assert not np.array_equal(a.image, two.image)


@pytest.mark.parametrize("name", sorted(UPGRADED))
def test_v1_presets_name_no_version(name):
    assert "version" not in json.dumps(degrade.preset(name).to_dict())


# --- exceptions ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,bad,valid", [
    ("PaperTexture", 3, "[1, 2]"), ("Scratches", 0, "[1, 2]"), ("FilmGrain", "2", "[1, 2]"),
    ("GaussianNoise", True, "[1, 2]"), ("GaussianNoise", 2.0, "[1, 2]"), ("GaussianBlur", 3, "[1, 2]"),
    ("MotionBlur", 2, "[1]"),
])
def test_invalid_versions_name_the_op_and_the_valid_versions(name, bad, valid):
    message = f"{name}: argument 'version' must be one of {valid}"
    with pytest.raises(DegradeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        degrade.REGISTRY[name](version=bad)
    with pytest.raises(DegradeError, match=name):
        degrade.from_dict({"type": name, "version": bad})


def test_an_invalid_version_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("type: Pipeline\ntransforms:\n  - type: Scratches\n    version: 9\n")
    with pytest.raises(DegradeError, match=r"p.yaml: Scratches: argument 'version' must be one of \[1, 2\]"):
        degrade.load(path)


# --- statistics: v2 is the same degradation -----------------------------------------------------------

TOLERANCE = {"std": 0.12, "hf": 0.12, "changed": 0.15, "coverage": 0.2}  # relative, on 2 photos x 24 seeds


@pytest.mark.parametrize("op", list(preset_ops("bopbtl-paper")), ids=lambda op: op["type"])
def test_version_2_adds_a_pattern_statistically_close_to_version_1(op):
    images = photos(96)[:2]
    stats = compare({k: v for k, v in op.items() if k != "version"}, images, seeds=24)
    one, two = stats["v1"], stats["v2"]
    assert abs(two["mean"] - one["mean"]) <= 0.1 * one["std"]
    for name, tolerance in TOLERANCE.items():
        assert two[name] == pytest.approx(one[name], rel=tolerance, abs=1e-4), name


def test_the_statistics_tell_a_no_op_from_the_degradation(photo):
    res = always("Scratches", 2)(photo, seed=1)
    still = pattern_stats(photo, photo, {})
    moved = pattern_stats(photo, res.image, res.masks)
    assert still == {"mean": 0.0, "std": 0.0, "hf": 0.0, "changed": 0.0, "coverage": 0.0}
    assert moved["std"] > 0 and moved["hf"] > 0 and moved["coverage"] == moved["changed"] > 0


# --- bench degrade -----------------------------------------------------------------------------------

@pytest.mark.parametrize("interleave", [False, True])
def test_bench_degrade_reports_v2_rows_beside_v1(interleave):
    lines = list(bench_degrade((32,), 2, ["bopbtl-code", "FilmGrain"], interleave))
    rows = {line.split()[0]: line.split() for line in lines[2:] if not line.startswith(" ")}
    assert list(rows) == ["FilmGrain", "FilmGrain-v2", "bopbtl-code", "bopbtl-code-v2"]
    assert rows["FilmGrain-v2"][3:] == ["-", "-"]
    for name in ("bopbtl-code", "bopbtl-code-v2"):
        ours, theirs, ratio = map(float, rows[name][2:])
        assert ratio == pytest.approx(ours / theirs, abs=0.01)
    assert sum("(rest of the call)" in line for line in lines) == 2  # a breakdown under each preset
    with pytest.raises(ValueError, match="unknown op/preset names"):
        list(bench_degrade((32,), 1, ["nope"]))


def test_bench_degrade_repeats_reports_medians_and_the_rounds_range(monkeypatch):
    rounds = iter([[100.0, 50.0], [300.0, 100.0], [200.0, 40.0]])
    monkeypatch.setattr(speed_degrade, "_rates", lambda fns, n: next(rounds)[:len(fns)])
    lines = list(bench_degrade((32,), 1, ["JpegCompression"], interleave=True, repeats=3))
    assert "medians of 3 rounds" in lines[0]
    row = next(line for line in lines if line.startswith("JpegCompression "))
    assert row.split()[:5] == ["JpegCompression", "32", "200.0", "50.0", "3.00"]  # ratios 2, 3, 5
    assert row.endswith("rounds 100.0-300.0, ratio 2.00-5.00")
