"""Image-quality metrics with stated conventions: ``create(name, **options)`` and ``list_metrics()``.

Every metric has ``update(pred, target=None)``, ``compute()``, ``per_image``, ``reset()``,
``higher_is_better``, ``needs_reference``, ``set_level`` and a ``convention`` string. The masked
metrics (``psnr-defects``, ``ssim-outside``, ...; :mod:`.masked`) have ``needs_mask`` and take
``update(pred, target, mask)``.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import Metric, MetricError


def _psnr(**options) -> Metric:
    from .psnr import PSNR

    return PSNR(**options)


def _psnr_y(**options) -> Metric:
    from .psnr import PSNR

    return PSNR(channel="y", **options)


def _ssim(**options) -> Metric:
    from .ssim import SSIM

    return SSIM(**options)


def _lpips(**options) -> Metric:
    from .lpips import LPIPS

    return LPIPS(**options)


def _fid(**options) -> Metric:
    from .fid import FID

    return FID(**options)


def _fd_vgg16(**options) -> Metric:
    from .fid import FDVGG16

    return FDVGG16(**options)


def _kid(**options) -> Metric:
    from .kid import KID

    return KID(**options)


def _brisque(**options) -> Metric:
    from .brisque import BRISQUE

    return BRISQUE(**options)


def _niqe(**options) -> Metric:
    from .niqe import NIQE

    return NIQE(**options)


def _wasserstein(**options) -> Metric:
    from .wasserstein import SlicedWasserstein

    return SlicedWasserstein(**options)


def _masked(kind: str, region: str) -> Callable[..., Metric]:
    def factory(**options) -> Metric:
        from . import masked

        return {"psnr": masked.MaskedPSNR, "ssim": masked.MaskedSSIM, "lpips": masked.MaskedLPIPS}[kind](
            region=region, **options)

    return factory


_FACTORIES: dict[str, Callable[..., Metric]] = {
    "psnr": _psnr,
    "psnr-y": _psnr_y,
    "ssim": _ssim,
    "lpips": _lpips,
    "fid": _fid,
    "kid": _kid,
    "fd-vgg16": _fd_vgg16,
    "brisque": _brisque,
    "niqe": _niqe,
    "wasserstein": _wasserstein,
    **{f"{kind}-{region}": _masked(kind, region)
       for kind in ("psnr", "ssim", "lpips") for region in ("defects", "outside")},
}


def list_metrics() -> list[str]:
    """Names accepted by ``create``."""
    return list(_FACTORIES)


def create(name: str, **options) -> Metric:
    """A fresh metric ``name`` configured by ``options`` (e.g. ``device="cuda"``, ``channel="rgb"``)."""
    if name not in _FACTORIES:
        raise MetricError(f"unknown metric {name!r}; known: {', '.join(_FACTORIES)}")
    try:
        return _FACTORIES[name](**options)
    except TypeError as exc:
        raise MetricError(f"{name}: bad options {sorted(options)} ({exc})") from None


__all__ = ["Metric", "MetricError", "create", "list_metrics"]
