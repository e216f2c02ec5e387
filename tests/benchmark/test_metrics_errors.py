"""Bad input gives a MetricError naming the metric and the problem."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oldphoto.benchmark import metrics
from oldphoto.benchmark.metrics import MetricError

IMG = np.zeros((32, 32, 3), np.uint8)


@pytest.mark.parametrize("pred,target,match", [
    (IMG, np.zeros((32, 30, 3), np.uint8), r"psnr: pair 0 shapes differ"),
    (IMG.astype(np.float64), IMG, r"psnr: pred\[0\] has dtype float64"),
    ([IMG, IMG], [IMG], r"psnr: 2 prediction\(s\) but 1 target"),
    (torch.full((1, 3, 8, 8), 2.0), torch.zeros(1, 3, 8, 8), r"psnr: pred tensor values span \[2, 2\]"),
    (torch.full((1, 3, 8, 8), float("nan")), torch.zeros(1, 3, 8, 8), r"psnr: pred tensor contains NaN"),
    (torch.zeros(3, 8, 8), torch.zeros(3, 8, 8), r"psnr: pred tensor has shape \(3, 8, 8\)"),
    (np.zeros((8, 8, 4), np.uint8), np.zeros((8, 8, 4), np.uint8), r"psnr: pred\[0\] has shape \(8, 8, 4\)"),
    ("a.png", IMG, r"psnr: pred is str"),
])
def test_psnr_bad_pairs(pred, target, match):
    with pytest.raises(MetricError, match=match):
        metrics.create("psnr").update(pred, target)


def test_missing_target():
    with pytest.raises(MetricError, match="ssim: needs a target"):
        metrics.create("ssim").update(IMG)


def test_too_small_for_window():
    with pytest.raises(MetricError, match=r"ssim: image 0 is 10x10; needs at least 11 px"):
        metrics.create("ssim").update(np.zeros((10, 10, 3), np.uint8), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(MetricError, match=r"niqe: image 0 is 32x32; needs at least 192 px"):
        metrics.create("niqe").update(IMG)


def test_unknown_metric_and_options():
    with pytest.raises(MetricError, match="unknown metric 'mse'"):
        metrics.create("mse")
    with pytest.raises(MetricError, match="ssim: bad options"):
        metrics.create("ssim", window=7)
    with pytest.raises(MetricError, match="ssim: channel must be"):
        metrics.create("ssim", channel="lab")
    with pytest.raises(MetricError, match="psnr: image 32x32 is too small for crop_border=16"):
        metrics.create("psnr", crop_border=16).update(IMG, IMG)


def test_set_metric_errors():
    m = metrics.create("wasserstein", features="external")
    with pytest.raises(MetricError, match="wasserstein: no pred samples"):
        m.compute()
    with pytest.raises(MetricError, match=r"wasserstein: pred features have shape \(3,\)"):
        m.update_features(pred=np.zeros(3))
    with pytest.raises(MetricError, match="wasserstein: target features contain NaN"):
        m.update_features(target=np.full((2, 3), np.nan))
    m.update_features(pred=np.zeros((4, 3)), target=np.zeros((4, 2)))
    with pytest.raises(MetricError, match="wasserstein: feature sizes differ"):
        m.compute()
    with pytest.raises(MetricError, match="features='external' takes features via update_features"):
        m.update(IMG, IMG)
    with pytest.raises(MetricError, match="no such folder"):
        metrics.create("fd-vgg16").add_folder("/nonexistent/folder")
