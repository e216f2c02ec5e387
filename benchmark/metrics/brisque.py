"""BRISQUE (Mittal et al. 2012): 36 NSS features at two scales and the classic libsvm RBF SVR."""

from __future__ import annotations

import numpy as np

from oldphoto.infra import weights

from .base import Metric, check_min_size, gray601
from .nss import aggd_beta, aggd_fit, aggd_mean_factor, ggd_fit, imresize, mscn, pair_products


def brisque_features(gray: np.ndarray) -> np.ndarray:
    """36 features of a float HxW image in [0, 255]: per scale GGD (alpha, sigma^2) of the MSCN map,
    then per neighbour direction AGGD (alpha, mean, left var, right var) of the pairwise products.
    The second scale is MATLAB ``imresize(gray, 0.5)``; MSCN uses a 7x7 Gaussian with zero padding.
    """
    feats: list[float] = []
    for scale in range(2):
        coeffs = mscn(gray, padding="zero")
        feats.extend(ggd_fit(coeffs))
        for product in pair_products(coeffs):
            alpha, left_std, right_std = aggd_fit(product)
            mean = (aggd_beta(right_std, alpha) - aggd_beta(left_std, alpha)) * aggd_mean_factor(alpha)
            feats.extend((alpha, mean, left_std ** 2, right_std ** 2))
        if scale == 0:
            gray = imresize(gray, 0.5)
    return np.array(feats)


class BRISQUE(Metric):
    """No-reference quality, roughly 0 (best) .. 100+ (worst); lower is better.

    Image: rounded BT.601 luma. Features scaled to [-1, 1] with the classic ranges, then the classic
    LIVE-trained epsilon-SVR (RBF, gamma 0.05) from the ``brisque`` weights (``oldphoto weights fetch``).
    """

    name = "brisque"
    higher_is_better = False
    needs_reference = False

    def __init__(self, device: str | None = "cpu") -> None:
        super().__init__(device)
        model = weights.load_npz("brisque")
        self._sv, self._coef = model["sv"], model["sv_coef"]
        self._rho, self._gamma = float(model["rho"]), float(model["gamma"])
        self._lo, self._hi = model["ranges"][:, 0], model["ranges"][:, 1]

    @property
    def convention(self) -> str:
        return "brisque:gray601-round,mscn7x7-zero-flat0,2scales-imresize-bicubic,libsvm-allmodel-live"

    def predict(self, features: np.ndarray) -> float:
        scaled = 2.0 * (features - self._lo) / (self._hi - self._lo) - 1.0
        sq_dist = np.sum((self._sv - scaled[None, :]) ** 2, axis=1)
        return float(self._coef @ np.exp(-self._gamma * sq_dist) - self._rho)

    def _score(self, preds, targets):
        check_min_size(self.name, preds, 16, "two scales of 7x7 MSCN statistics")
        return [self.predict(brisque_features(gray601(p))) for p in preds]
