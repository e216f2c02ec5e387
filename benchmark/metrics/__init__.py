"""Image-quality metrics with stated conventions: ``create(name, **options)`` and ``list_metrics()`` over
``METRICS`` (a :class:`~oldphoto.infra.registry.Registry` of factories; ``METRICS.describe(name)``).

Every metric has ``update(pred, target=None)``, ``compute()``, ``per_image``, ``reset()``,
``higher_is_better``, ``needs_reference``, ``set_level`` and a ``convention`` string. The masked
metrics (``psnr-defects``, ``ssim-outside``, ...; :mod:`.masked`) have ``needs_mask`` and take
``update(pred, target, mask)``.
"""

from __future__ import annotations

from collections.abc import Callable

from oldphoto.infra.registry import Registry

from .base import Metric, MetricError, UnknownMetricError

METRICS: Registry[Callable[..., Metric]] = Registry("metric", error=UnknownMetricError)


@METRICS.register("psnr")
def _psnr(**options) -> Metric:
    """PSNR in dB on RGB (skimage convention), higher is better."""
    from .psnr import PSNR

    return PSNR(**options)


@METRICS.register("psnr-y")
def _psnr_y(**options) -> Metric:
    """PSNR in dB on BT.601 YCbCr luma (Y in 16..235), higher is better."""
    from .psnr import PSNR

    return PSNR(channel="y", **options)


@METRICS.register("ssim")
def _ssim(**options) -> Metric:
    """SSIM in [-1, 1] (MATLAB conventions, grey by default), higher is better."""
    from .ssim import SSIM

    return SSIM(**options)


@METRICS.register("lpips")
def _lpips(**options) -> Metric:
    """LPIPS distance (AlexNet by default), lower is better."""
    from .lpips import LPIPS

    return LPIPS(**options)


@METRICS.register("fid")
def _fid(**options) -> Metric:
    """Frechet Inception distance between two image sets, lower is better."""
    from .fid import FID

    return FID(**options)


@METRICS.register("fd-vgg16")
def _fd_vgg16(**options) -> Metric:
    """Frechet distance of VGG16 features between two image sets, lower is better."""
    from .fid import FDVGG16

    return FDVGG16(**options)


@METRICS.register("kid")
def _kid(**options) -> Metric:
    """Kernel Inception distance between two image sets, lower is better."""
    from .kid import KID

    return KID(**options)


@METRICS.register("brisque")
def _brisque(**options) -> Metric:
    """BRISQUE no-reference quality score, lower is better."""
    from .brisque import BRISQUE

    return BRISQUE(**options)


@METRICS.register("niqe")
def _niqe(**options) -> Metric:
    """NIQE no-reference quality score, lower is better."""
    from .niqe import NIQE

    return NIQE(**options)


@METRICS.register("wasserstein")
def _wasserstein(**options) -> Metric:
    """Sliced Wasserstein distance of VGG16 features between two image sets, lower is better."""
    from .wasserstein import SlicedWasserstein

    return SlicedWasserstein(**options)


def _masked(kind: str, region: str) -> Callable[..., Metric]:
    def factory(**options) -> Metric:
        from . import masked

        return {"psnr": masked.MaskedPSNR, "ssim": masked.MaskedSSIM, "lpips": masked.MaskedLPIPS}[kind](
            region=region, **options)

    return factory


def _register_masked() -> None:
    """``psnr``, ``ssim`` and ``lpips`` inside (``-defects``) and outside (``-outside``) the defect mask."""
    for kind in ("psnr", "ssim", "lpips"):
        for region, where in (("defects", "inside"), ("outside", "outside")):
            METRICS.register(f"{kind}-{region}", _masked(kind, region),
                             description=f"{kind.upper()} on the pixels {where} the ground-truth defect mask")


_register_masked()


def list_metrics() -> list[str]:
    """Names accepted by ``create``, sorted."""
    return METRICS.list()


def create(name: str, **options) -> Metric:
    """A fresh metric ``name`` configured by ``options`` (e.g. ``device="cuda"``, ``channel="rgb"``);
    an unknown name is an UnknownMetricError (a MetricError) listing the metrics."""
    try:
        return METRICS.create(name, **options)
    except TypeError as exc:
        raise MetricError(f"{name}: bad options {sorted(options)} ({exc})") from None


__all__ = ["METRICS", "Metric", "MetricError", "UnknownMetricError", "create", "list_metrics"]
