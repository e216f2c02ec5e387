"""The albumentations adapter gives the same bytes as the pipeline and carries masks."""

import albumentations as A
import numpy as np

from oldphoto import degrade


def test_adapter_equals_pipeline_with_recorded_seed(photo):
    pipe = degrade.preset("bopbtl-code")
    out = A.Compose([degrade.to_albumentations(pipe)], seed=5)(image=photo)
    direct = pipe(photo, seed=out["degrade_params"]["seed"])
    np.testing.assert_array_equal(out["image"], direct.image)
    np.testing.assert_array_equal(out["clean"], direct.target)
    np.testing.assert_array_equal(degrade.replay(photo, out["degrade_params"]).image, out["image"])


def test_adapter_is_reproducible_under_compose_seed(photo):
    pipe = degrade.preset("bopbtl-code")
    a = A.Compose([degrade.to_albumentations(pipe)], seed=9)(image=photo)["image"]
    b = A.Compose([degrade.to_albumentations(pipe)], seed=9)(image=photo)["image"]
    c = A.Compose([degrade.to_albumentations(pipe)], seed=10)(image=photo)["image"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_mask_target_follows_spatial_ops(photo):
    pipe = degrade.Pipeline([degrade.HorizontalFlip(p=1), degrade.GaussianNoise(p=1)])
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[:, :5] = 1
    out = A.Compose([degrade.to_albumentations(pipe)], seed=0)(image=photo, mask=mask)
    assert out["mask"][:, -5:].all() and not out["mask"][:, :-5].any()
    np.testing.assert_array_equal(out["clean"], photo[:, ::-1])
    assert out["defect_masks"] == {}


def test_adapter_chains_with_albumentations_transforms(photo):
    chain = A.Compose([A.CenterCrop(64, 64), degrade.to_albumentations(degrade.preset("bopbtl-code"))], seed=1)
    assert chain(image=photo)["image"].shape == (64, 64, 3)
