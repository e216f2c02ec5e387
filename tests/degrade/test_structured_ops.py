"""Structured defect ops: masks, determinism, replay, serialization, grey/colour, bad input, presets."""

import numpy as np
import pytest

from oldphoto import degrade
from oldphoto.degrade.functional.paper import texture_files

FAMILY = {"Scratches": "scratch", "Dust": "dust", "Foxing": "dust", "Holes": "hole", "Tears": "tear",
          "Fold": "fold", "Stains": "stain"}
MASKED = sorted(FAMILY)
STRUCTURED = MASKED + ["PaperTexture"]


def photo(shape, seed=0):
    """A smooth synthetic photo with some texture (uint8)."""
    rng = np.random.default_rng(seed)
    h, w = shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 128 + 60 * np.sin(x / 11.0) * np.cos(y / 17.0) + rng.normal(0, 4, (h, w))
    if len(shape) == 2:
        return np.clip(base, 0, 255).astype(np.uint8)
    return np.clip(np.stack([base, base * 0.8 + 30, 255 - base], axis=2), 0, 255).astype(np.uint8)


def run_op(name, image, seed, **kwargs):
    return degrade.Pipeline([degrade.REGISTRY[name](p=1.0, **kwargs)])(image, seed=seed)


def changed(a, b):
    return (a != b).any(axis=2) if a.ndim == 3 else a != b


@pytest.mark.parametrize("name", MASKED)
@pytest.mark.parametrize("shape", [(96, 128, 3), (80, 64)])
def test_mask_is_exactly_the_changed_pixels(name, shape):
    image = photo(shape)
    before = image.copy()
    seen = False
    for seed in range(4):
        res = run_op(name, image, seed)
        assert res.image.shape == image.shape and res.image.dtype == np.uint8
        assert set(res.masks) == {FAMILY[name], "defects"}
        mask = res.masks[FAMILY[name]]
        assert mask.dtype == bool and mask.shape == shape[:2]
        np.testing.assert_array_equal(mask, changed(res.image, image))
        seen |= bool(mask.any())
    assert seen, f"{name} never changed a pixel in 4 seeds"
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("name", STRUCTURED)
def test_determinism_and_replay(name):
    image = photo((72, 90, 3), 1)
    a, b = run_op(name, image, 7), run_op(name, image, 7)
    np.testing.assert_array_equal(a.image, b.image)
    again = degrade.replay(image, a.params)
    np.testing.assert_array_equal(again.image, a.image)
    assert again.masks.keys() == a.masks.keys()
    for k in a.masks:
        np.testing.assert_array_equal(again.masks[k], a.masks[k])
    assert any(not np.array_equal(run_op(name, image, s).image, a.image) for s in (8, 9, 10))


@pytest.mark.parametrize("name", STRUCTURED)
def test_serialization_round_trip(name, tmp_path):
    op = degrade.REGISTRY[name](p=0.5)
    pipe = degrade.Pipeline([op])
    assert degrade.Pipeline.from_dict(pipe.to_dict()) == pipe
    pipe.save(tmp_path / "p.yaml")
    assert degrade.load(tmp_path / "p.yaml").to_dict() == pipe.to_dict()


@pytest.mark.parametrize("name", STRUCTURED)
@pytest.mark.parametrize("shape", [(8, 8), (8, 8, 3), (9, 31, 1)])
def test_tiny_and_odd_images(name, shape):
    image = photo(shape)
    res = run_op(name, image, 3)
    assert res.image.shape == image.shape and res.image.dtype == np.uint8


def test_paper_texture_changes_the_whole_image_without_a_mask():
    image = photo((64, 64, 3))
    res = run_op("PaperTexture", image, 0, opacity=(0.3, 0.3), modes=["multiply"])
    assert res.masks == {}
    assert changed(res.image, image).mean() > 0.9
    grey = run_op("PaperTexture", photo((64, 64)), 0)
    assert grey.image.shape == (64, 64)


def write_textures(folder, n=2):
    import cv2

    folder.mkdir()
    rng = np.random.default_rng(5)
    for i in range(n):
        tex = cv2.GaussianBlur(rng.integers(120, 255, (50, 70, 3), dtype=np.uint8), (0, 0), 2.0)
        cv2.imwrite(str(folder / f"paper{i}.png"), tex)
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_paper_texture_from_a_user_folder(tmp_path):
    folder = write_textures(tmp_path / "papers")
    assert texture_files(folder) == ["paper0.png", "paper1.png"]
    image = photo((96, 80, 3))
    op = dict(textures=str(folder), opacity=(0.5, 0.5), modes=["multiply"], elastic=(3.0, 3.0))
    res = run_op("PaperTexture", image, 4, **op)
    params = res.params["ops"][0]["params"]
    assert params["texture"]["file"] in ("paper0.png", "paper1.png")
    np.testing.assert_array_equal(degrade.replay(image, res.params).image, res.image)
    # multiply by a texture of values 120-255 only darkens
    assert (res.image.astype(int) <= image.astype(int) + 1).all() and changed(res.image, image).any()
    files = {run_op("PaperTexture", image, s, **op).params["ops"][0]["params"]["texture"]["file"] for s in range(12)}
    assert files == {"paper0.png", "paper1.png"}
    holes = run_op("Holes", image, 2, textures=str(folder), count=(3, 3), size=(0.2, 0.2))
    assert holes.masks["hole"].any()


@pytest.mark.parametrize("kwargs, word", [
    (dict(textures="/nonexistent/folder"), "textures"),
    (dict(opacity=(0.5, 1.5)), "opacity"),
    (dict(modes=["overlay"]), "modes"),
    (dict(scale=(0.0, 1.0)), "scale"),
])
def test_paper_bad_arguments(kwargs, word):
    with pytest.raises(degrade.DegradeError, match=f"PaperTexture.*{word}"):
        degrade.REGISTRY["PaperTexture"](**kwargs)


def test_empty_texture_folder_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(degrade.DegradeError, match="holds no texture images"):
        degrade.REGISTRY["Holes"](textures=str(tmp_path / "empty"))


@pytest.mark.parametrize("name, kwargs, word", [
    ("Scratches", dict(count=(5, 2)), "count"), ("Scratches", dict(dark=1.5), "dark"),
    ("Scratches", dict(bright_modes=["multiply"]), "bright_modes"), ("Scratches", dict(width=-1), "width"),
    ("Dust", dict(radius=(0, 2)), "radius"), ("Foxing", dict(strength=(0.2, 1.2)), "strength"),
    ("Holes", dict(feather=(-1, 2)), "feather"), ("Tears", dict(background=["pink"]), "background"),
    ("Fold", dict(width=(0, 0.1)), "width"), ("Stains", dict(kinds=["ink"]), "kinds"),
    ("Dust", dict(p=1.5), "p"),
])
def test_bad_arguments_name_op_and_argument(name, kwargs, word):
    with pytest.raises(degrade.DegradeError, match=f"{name}.*'{word}'"):
        degrade.REGISTRY[name](**kwargs)


def test_masks_follow_spatial_ops():
    image = photo((64, 96, 3))
    plain = degrade.Pipeline([degrade.Scratches(p=1.0, count=(6, 6))])(image, seed=3)
    flipped = degrade.Pipeline([degrade.Scratches(p=1.0, count=(6, 6)), degrade.HorizontalFlip(p=1.0)])(image, seed=3)
    assert plain.masks["scratch"].any()
    np.testing.assert_array_equal(flipped.masks["scratch"], plain.masks["scratch"][:, ::-1])


def test_union_of_families_and_albumentations_pass_through():
    image = photo((64, 64, 3))
    pipe = degrade.Pipeline([degrade.Scratches(p=1.0), degrade.Dust(p=1.0, specks=(20, 20))])
    res = pipe(image, seed=1)
    np.testing.assert_array_equal(res.masks["defects"], res.masks["scratch"] | res.masks["dust"])
    out = degrade.to_albumentations(pipe)(image=image, mask=np.zeros((64, 64), np.uint8))
    assert set(out["defect_masks"]) == {"scratch", "dust", "defects"}


@pytest.mark.parametrize("shape", [(128, 160, 3), (96, 96)])
def test_scratches_only_preset_is_bit_exact_outside_defects(shape):
    image = photo(shape, 2)
    pipe = degrade.preset("scratches-only")
    inside_same = inside = 0
    for seed in range(6):
        res = pipe(image, seed=seed)
        defects = res.masks.get("defects", np.zeros(shape[:2], bool))
        diff = changed(res.image, image)
        assert not diff[~defects].any(), "a pixel outside the defect mask changed"
        inside += int(defects.sum())
        inside_same += int((defects & ~diff).sum())
    assert inside > 0
    # Each op's mask is exact; two ops can only cancel on a pixel by coincidence.
    assert inside_same <= 0.001 * inside


@pytest.mark.parametrize("name", ["bopbtl-paper", "old-photo-light", "old-photo-heavy", "scratches-only"])
def test_new_presets_run_and_replay(name):
    image = photo((64, 80, 3), 3)
    pipe = degrade.preset(name)
    assert degrade.Pipeline.from_dict(pipe.to_dict()) == pipe
    for seed in range(3):
        res = pipe(image, seed=seed)
        assert res.image.shape == image.shape
        assert all(m.dtype == bool and m.shape == (64, 80) for m in res.masks.values())
        np.testing.assert_array_equal(degrade.replay(image, res.params).image, res.image)
