"""Analytic values, agreement with scikit-image, folder feature cache, registry and weights helpers."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from oldphoto.benchmark import metrics
from oldphoto.benchmark.metrics.base import gray601, y_ycbcr601
from oldphoto.benchmark.metrics.fid import frechet_distance
from oldphoto.benchmark.metrics.kid import kid_mmd2
from oldphoto.benchmark.metrics.nss import imresize
from oldphoto.benchmark.metrics.wasserstein import sliced_wasserstein
from oldphoto.datasets.imageio import write_image
from oldphoto.infra import weights


def _pair(rng, shape=(48, 64, 3), noise=30):
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-noise, noise + 1, shape), 0, 255).astype(np.uint8)
    return a, b




def test_registry_lists_every_issue_metric():
    masked = {f"{kind}-{region}" for kind in ("psnr", "ssim", "lpips") for region in ("defects", "outside")}
    assert set(metrics.list_metrics()) == {"psnr", "psnr-y", "ssim", "lpips", "fid", "kid", "fd-vgg16",
                                           "brisque", "niqe", "wasserstein", *masked}


@pytest.mark.parametrize("seed", range(3))
def test_psnr_and_ssim_agree_with_skimage(seed):
    rng = np.random.default_rng(seed)
    a, b = _pair(rng)
    psnr, psnr_y = metrics.create("psnr"), metrics.create("psnr-y")
    ssim_rgb, ssim_gray = metrics.create("ssim", channel="rgb"), metrics.create("ssim")
    for m in (psnr, psnr_y, ssim_rgb, ssim_gray):
        m.update(a, b)
    assert psnr.per_image[0] == pytest.approx(peak_signal_noise_ratio(b, a, data_range=255), abs=1e-9)
    ya, yb = y_ycbcr601(a.astype(np.float32)), y_ycbcr601(b.astype(np.float32))
    assert psnr_y.per_image[0] == pytest.approx(peak_signal_noise_ratio(yb, ya, data_range=255), abs=1e-9)
    kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    assert ssim_rgb.per_image[0] == pytest.approx(structural_similarity(a, b, channel_axis=2, **kw), abs=1e-9)
    ga, gb = gray601(a.astype(np.float32)), gray601(b.astype(np.float32))
    assert ssim_gray.per_image[0] == pytest.approx(structural_similarity(ga, gb, **kw), abs=1e-9)


def test_identical_inputs():
    rng = np.random.default_rng(0)
    a, _ = _pair(rng, (64, 64, 3))
    psnr = metrics.create("psnr", max_db=80)
    psnr.update([a, a], [a, a // 2])
    assert psnr.per_image[0] == float("inf")
    assert psnr.compute() == pytest.approx((80 + psnr.per_image[1]) / 2)
    ssim = metrics.create("ssim")
    ssim.update(a, a)
    assert ssim.compute() == pytest.approx(1.0, abs=1e-12)


def test_identical_inputs_lpips_and_fd_vgg16(needs_weights):
    needs_weights("lpips-alex")
    needs_weights("lpips-vgg16")
    rng = np.random.default_rng(1)
    a, b = _pair(rng, (64, 64, 3))
    lp = metrics.create("lpips")
    lp.update([a, a], [a, 255 - a])
    assert lp.per_image[0] == pytest.approx(0.0, abs=1e-7) and lp.per_image[1] > 0.1
    images = [_pair(rng, (40, 40, 3))[0] for _ in range(4)]
    fd = metrics.create("fd-vgg16")
    fd.update(images, images)
    assert abs(fd.compute()) < 1e-3


def test_torch_input_matches_numpy():
    import torch

    rng = np.random.default_rng(2)
    a, b = _pair(rng)
    ref = metrics.create("ssim")
    ref.update(a, b)
    tensor = metrics.create("ssim")
    tensor.update(torch.from_numpy(a).permute(2, 0, 1)[None] / 255.0, torch.from_numpy(b).permute(2, 0, 1)[None])
    assert tensor.per_image[0] == pytest.approx(ref.per_image[0], abs=1e-6)


def test_ssim_torch_path_matches_cpu_path():
    import torch

    from oldphoto.benchmark.metrics.ssim import ssim_cpu, ssim_per_image

    rng = np.random.default_rng(3)
    a, b = (x.astype(np.float64) for x in _pair(rng))

    def to_t(x):
        return torch.from_numpy(x).permute(2, 0, 1)[None]

    assert float(ssim_per_image(to_t(a), to_t(b))[0]) == pytest.approx(ssim_cpu(a, b), abs=1e-12)


def test_frechet_distance_equal_covariances_is_squared_mean_distance():
    rng = np.random.default_rng(4)
    m = rng.standard_normal((6, 6))
    cov = m @ m.T + np.eye(6)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    assert frechet_distance(mu1, cov, mu2, cov) == pytest.approx(float(np.sum((mu1 - mu2) ** 2)), rel=1e-6)


def test_sliced_wasserstein_of_shifted_sets():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 8))
    shift = np.array([3.0, -1, 0, 2, 0, 0, 1, 0])
    # W2 along direction t is |t . shift|; averaged over the sphere E[(t . s)^2] = |s|^2 / d.
    expected = np.sqrt(shift @ shift / 8)
    assert sliced_wasserstein(x, x + shift, n_projections=4096) == pytest.approx(expected, rel=0.03)
    assert sliced_wasserstein(x, x) == 0.0
    # unequal set sizes: a set against itself repeated twice is at distance 0
    assert sliced_wasserstein(x, np.concatenate([x, x])) == pytest.approx(0.0, abs=1e-12)


def test_wasserstein_metric_on_latent_codes():
    rng = np.random.default_rng(6)
    m = metrics.create("wasserstein", features="external", n_projections=2048)
    codes = rng.standard_normal((100, 4))
    m.update_features(pred=codes, target=codes + np.array([2.0, 0, 0, 0]))
    assert m.compute() == pytest.approx(1.0, rel=0.05)
    assert m.per_image == [] and m.set_level


def test_kid_same_distribution_near_zero_and_shift_positive():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((400, 16)), rng.standard_normal((400, 16))
    same = kid_mmd2(x, y, n_subsets=10, subset_size=200)
    shifted = kid_mmd2(x, y + 0.5, n_subsets=10, subset_size=200)
    assert abs(same) < 0.02 < 0.5 < shifted
    assert (kid_mmd2(x, y, n_subsets=10, subset_size=200, seed=3)
            == kid_mmd2(x, y, n_subsets=10, subset_size=200, seed=3))


def test_imresize_half_keeps_linear_ramps_and_constants():
    ramp = np.tile(np.arange(40.0), (12, 1))
    out = imresize(ramp, 0.5)
    assert out.shape == (6, 20)
    np.testing.assert_allclose(out[:, 2:-2], np.tile(np.arange(4.5, 36, 2.0), (6, 1)), atol=1e-12)
    np.testing.assert_allclose(imresize(np.full((9, 7), 3.0), 0.5), 3.0)


def test_folder_feature_cache(tmp_path, monkeypatch, needs_weights):
    needs_weights("lpips-vgg16")
    from oldphoto.benchmark.metrics.features import FeatureExtractor, folder_cache_key, folder_features, folder_files

    rng = np.random.default_rng(8)
    folder = tmp_path / "imgs"
    for k in range(3):
        write_image(folder / f"{k}.png", rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    extractor = FeatureExtractor("vgg16", "cpu")  # loads weights from the real cache
    monkeypatch.setenv("OLDPHOTO_HOME", str(tmp_path / "cache"))  # features go to an empty one
    first = folder_features(folder, extractor)
    assert first.shape == (3, 512) and len(list((tmp_path / "cache" / "features").glob("*.npy"))) == 1
    calls = []
    monkeypatch.setattr(extractor, "_net", lambda x: calls.append(x))
    np.testing.assert_array_equal(folder_features(folder, extractor), first)  # served from the cache
    assert not calls
    key = folder_cache_key(folder_files(folder), extractor.convention)
    os.utime(folder / "0.png", ns=(1, 1))
    assert folder_cache_key(folder_files(folder), extractor.convention) != key


def test_unpickler_refuses_non_numpy_globals():
    payload = pickle.dumps({"a": np.arange(3.0), "b": {"c": np.ones((2, 2), np.float32)}})
    loaded = weights.load_numpy_pickle(payload)
    np.testing.assert_array_equal(loaded["a"], np.arange(3.0))
    with pytest.raises(pickle.UnpicklingError, match="refused global"):
        weights.load_numpy_pickle(pickle.dumps(os.getcwd))


def test_libsvm_and_range_parsers():
    model = weights.parse_libsvm_model(
        "svm_type epsilon_svr\nkernel_type rbf\ngamma 0.5\nnr_class 2\ntotal_sv 2\nrho 1.5\nSV\n"
        "2 1:0.5 3:-1 \n-1 2:0.25 \n")
    np.testing.assert_array_equal(model["sv"], [[0.5, 0, -1], [0, 0.25, 0]])
    np.testing.assert_array_equal(model["sv_coef"], [2, -1])
    assert float(model["rho"]) == 1.5 and float(model["gamma"]) == 0.5
    rows = ", ".join(["[-1, 1]"] + [f"[{k}, {k + 1}]" for k in range(36)])
    ranges = weights.parse_brisque_ranges("class B:\n    def __init__(self):\n"
                                          f"        self._scaler = np.array([{rows}])\n")
    assert ranges.shape == (36, 2) and ranges[5].tolist() == [5, 6]
    with pytest.raises(weights.WeightsError, match="_scaler"):
        weights.parse_brisque_ranges("x = 1\n")


def test_verify_detects_corruption(tmp_path, monkeypatch):
    monkeypatch.setenv("OLDPHOTO_HOME", str(tmp_path))
    with pytest.raises(weights.WeightsError, match="oldphoto weights fetch"):
        weights.verify("niqe")
    target = weights._store(weights.SPECS["niqe"], weights._save_npz({"mu": np.zeros(36), "cov": np.eye(36)}))
    assert weights.verify("niqe") == target
    target.write_bytes(target.read_bytes() + b"x")
    with pytest.raises(weights.WeightsError, match="sha256"):
        weights.verify("niqe")
