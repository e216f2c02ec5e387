"""Baselines: what each one does to an image (numbers), determinism, and weight-file errors."""

import os

import numpy as np
import pytest
import torch

from oldphoto import models
from oldphoto.models.training import CheckpointError
from oldphoto.models.weights import save_weights


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b) ** 2)))


@pytest.fixture(scope="module")
def noisy_pair(request):
    photo = request.getfixturevalue("photo")[32:96, 32:96]
    noise = np.random.default_rng(0).normal(0, 25, photo.shape)
    return photo, np.clip(photo + noise, 0, 255).astype(np.uint8)


@pytest.fixture()
def scratched():
    """A smooth 40x48 gradient with a black horizontal scratch, and the scratch mask."""
    yy, xx = np.mgrid[0:40, 0:48]
    clean = np.stack([60 + 3 * xx, 80 + 2 * yy, 120 + xx + yy], -1).clip(0, 255).astype(np.uint8)
    mask = np.zeros((40, 48), bool)
    mask[18:21, 5:43] = True
    damaged = clean.copy()
    damaged[mask] = 0
    return clean, damaged, mask


def hole_error(out, clean, mask):
    return float(np.abs(out[mask].astype(float) - clean[mask]).mean())


def test_input_is_the_identity(photo):
    out = models.create("input").restore(photo)
    assert np.array_equal(out, photo) and out is not photo


def test_classical_denoises_and_inpaints(noisy_pair, scratched):
    clean, noisy = noisy_pair
    restorer = models.create("classical")
    assert psnr(restorer.restore(noisy), clean) > psnr(noisy, clean) + 1.5
    clean, damaged, mask = scratched
    out = restorer.restore(damaged, mask)
    assert hole_error(out, clean, mask) < 0.1 * hole_error(damaged, clean, mask)


def held_out_mse(name: str) -> tuple[float, float]:
    """Mean squared error of input and of restored vs clean on 14 unseen bopbtl-code pairs (seed 1)."""
    from oldphoto.datasets.torch import OnTheFlyDataset
    from oldphoto.models.tensors import tensor_to_image

    restorer = models.create(name, device="cpu")
    data = OnTheFlyDataset("builtin", preset="bopbtl-code", crop=48, seed=1, per_image=1)
    before, after = [], []
    for i in range(len(data)):
        degraded, clean = tensor_to_image(data[i]["degraded"]), tensor_to_image(data[i]["clean"]).astype(float)
        before.append(np.mean((degraded - clean) ** 2))
        after.append(np.mean((restorer.restore(degraded) - clean) ** 2))
    return float(np.mean(before)), float(np.mean(after))


def test_sequential_shipped_weights_restore_unseen_pairs():
    before, after = held_out_mse("sequential")
    assert after < 0.85 * before


def test_sequential_inpaints_only_the_mask(scratched):
    clean, damaged, mask = scratched
    restorer = models.create("sequential", device="cpu")
    plain, filled = restorer.restore(damaged), restorer.restore(damaged, mask)
    assert hole_error(filled, clean, mask) < 0.2 * hole_error(damaged, clean, mask)
    # Telea changes masked pixels only; the learned denoiser is the same with or without a mask.
    assert np.array_equal(plain[~mask], filled[~mask])


def test_pix2pix_shipped_weights_are_deterministic_and_act(photo):
    restorer = models.create("pix2pix", device="cpu")
    first, second = restorer.restore(photo[:45, :61]), restorer.restore(photo[:45, :61])
    assert np.array_equal(first, second)
    assert np.abs(first.astype(int) - photo[:45, :61]).mean() > 0.5


def test_pix2pix_pads_images_smaller_than_its_multiple():
    restorer = models.create("pix2pix", pretrained=False, device="cpu")
    image = np.random.default_rng(2).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    assert restorer.restore(image).shape == (5, 7, 3)


def test_dip_is_deterministic_and_seeded(noisy_pair):
    _, noisy = noisy_pair
    small = noisy[:24, :24]
    run = lambda seed: models.create("dip", {"iterations": 20, "seed": seed}).restore(small)  # noqa: E731
    assert np.array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_dip_masked_loss_fills_the_hole(scratched):
    clean, damaged, mask = scratched
    restorer = models.create("dip", {"iterations": 150, "width": 16, "levels": 3})
    out = restorer.restore(damaged, mask)
    assert hole_error(out, clean, mask) < 0.3 * hole_error(damaged, clean, mask)
    # Without the mask DIP fits the scratch as if it were image content.
    assert hole_error(restorer.restore(damaged), clean, mask) > 2 * hole_error(out, clean, mask)


def test_missing_weights_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "nothere.pt"
    with pytest.raises(CheckpointError, match=f"{path}: checkpoint file not found"):
        models.create("sequential", {"weights": str(path)})


def test_every_family_takes_a_weight_file_as_pretrained(tmp_path):
    trained = models.create("sequential", {"width": 8, "depth": 3}, pretrained=False)
    path = save_weights(tmp_path / "seq.pt", "sequential", {"width": 8, "depth": 3}, trained.network, {})
    by_path = models.create("sequential", {"width": 8, "depth": 3}, pretrained=str(path))
    by_field = models.create("sequential", {"width": 8, "depth": 3, "weights": str(path)})
    assert by_path.fingerprint == by_field.fingerprint  # the float16 file, loaded either way
    with pytest.raises(CheckpointError, match=f"{tmp_path / 'none.pt'}: checkpoint file not found"):
        models.create("pix2pix", pretrained=tmp_path / "none.pt")


def test_corrupt_weights_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "corrupt.pt"
    path.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match=f"{path}: cannot read checkpoint"):
        models.create("pix2pix", {"weights": str(path)})


def test_weights_for_another_model_or_shape_are_errors(tmp_path):
    seq = models.create("sequential", {"width": 8, "depth": 3}, pretrained=False)
    path = save_weights(tmp_path / "w.pt", "sequential", {}, seq.network, {"steps": 1})
    with pytest.raises(CheckpointError, match="weights are for model 'sequential', not 'pix2pix'"):
        models.create("pix2pix", {"weights": str(path)})
    with pytest.raises(CheckpointError, match=f"{path}: weights do not match the network"):
        models.create("sequential", {"width": 16, "depth": 3, "weights": str(path)})
    loaded = models.create("sequential", {"width": 8, "depth": 3, "weights": str(path)})
    assert loaded.weights_meta == {"steps": 1}
    for ours, theirs in zip(loaded.network.parameters(), seq.network.parameters(), strict=False):
        assert torch.equal(ours, theirs.half().float())


def test_dip_bytes_do_not_depend_on_the_callers_thread_count(noisy_pair):
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: torch cannot run the control fit on 2 threads")
    _, noisy = noisy_pair
    image = noisy[:64, :64]
    before = torch.get_num_threads()

    def fit(caller_threads: int, fixed: int) -> np.ndarray:
        torch.set_num_threads(caller_threads)
        try:
            return models.create("dip", {"iterations": 10, "threads": fixed}, device="cpu").restore(image)
        finally:
            torch.set_num_threads(before)

    assert np.array_equal(fit(1, 1), fit(2, 1))
    assert not np.array_equal(fit(1, 0), fit(2, 0))  # the control: left to the caller, the bytes differ
    with pytest.raises(ValueError, match="threads must be >= 0"):
        models.create("dip", {"threads": -1})
