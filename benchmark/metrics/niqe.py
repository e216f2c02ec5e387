"""NIQE (Mittal et al. 2013): distance between an image's NSS Gaussian and a pristine model."""

from __future__ import annotations

import numpy as np

from oldphoto.infra import weights

from .base import Metric, check_min_size, gray601
from .nss import aggd_beta, aggd_fit, aggd_mean_factor, imresize, mscn, pair_products


def _block_features(block: np.ndarray) -> list[float]:
    alpha, left_std, right_std = aggd_fit(block)
    beta_l, beta_r = aggd_beta(left_std, alpha), aggd_beta(right_std, alpha)
    feats = [alpha, (beta_l + beta_r) / 2]
    for product in pair_products(block):
        alpha, left_std, right_std = aggd_fit(product)
        beta_l, beta_r = aggd_beta(left_std, alpha), aggd_beta(right_std, alpha)
        feats.extend((alpha, (beta_r - beta_l) * aggd_mean_factor(alpha), beta_l, beta_r))
    return feats


def niqe_features(gray: np.ndarray, block: int = 96) -> np.ndarray:
    """(n_blocks, 36) features of a float HxW image in [0, 255], cropped to whole ``block`` tiles.

    Per scale (full, then MATLAB ``imresize`` by 0.5 with half-size tiles): MSCN with replicate
    padding, then per tile an AGGD fit of the coefficients and of four circular neighbour products.
    """
    h, w = (gray.shape[0] // block) * block, (gray.shape[1] // block) * block
    gray = gray[:h, :w]
    per_scale = []
    for size in (block, block // 2):
        coeffs = mscn(gray, padding="replicate")
        per_scale.append([_block_features(coeffs[r:r + size, c:c + size])
                          for r in range(0, coeffs.shape[0] - size + 1, size)
                          for c in range(0, coeffs.shape[1] - size + 1, size)])
        gray = imresize(gray, 0.5)
    return np.hstack([np.array(f) for f in per_scale])


class NIQE(Metric):
    """No-reference quality, 0 (pristine) upwards; lower is better.

    Image: rounded BT.601 luma, 96x96 tiles. Score: sqrt((mu_p - mu)^T pinv((S_p + S)/2) (mu_p - mu))
    with the pristine model (mu_p, S_p) from the ``niqe`` weights (``oldphoto weights fetch``).
    """

    name = "niqe"
    higher_is_better = False
    needs_reference = False

    def __init__(self, block: int = 96, device: str | None = "cpu") -> None:
        super().__init__(device)
        params = weights.load_npz("niqe")
        self._mu, self._cov, self.block = params["mu"], params["cov"], int(block)

    @property
    def convention(self) -> str:
        return f"niqe:gray601-round,block{self.block},mscn7x7-replicate-flat0,2scales,matlab-pristine-params"

    def score_features(self, feats: np.ndarray) -> float:
        diff = self._mu - np.nanmean(feats, axis=0)
        cov = np.cov(feats, rowvar=False)
        return float(np.sqrt(diff @ np.linalg.pinv((self._cov + cov) / 2) @ diff))

    def _score(self, preds, targets):
        check_min_size(self.name, preds, 2 * self.block, f"needs several {self.block}x{self.block} tiles")
        return [self.score_features(niqe_features(gray601(p), self.block)) for p in preds]
