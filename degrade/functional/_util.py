"""Small helpers shared by the pure degradation functions (uint8 in, uint8 out)."""

from __future__ import annotations

import functools
import threading

import cv2
import numpy as np
from scipy.special import ndtri

BAND_ELEMENTS = 1 << 17  # values per band of :func:`row_bands` (512 KB of float32)
WARM_BYTES = 16 << 20  # block freed by :func:`warm_allocator`: 1.3x a 1024 x 1024 float32 RGB array
SCRATCH_ARRAYS = 8  # scratch arrays kept per thread by :func:`scratch`
_SCRATCH = threading.local()


def add_float(image: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Return ``round(image + delta)`` saturated to uint8; ``delta`` is float32 in 0-255 units.

    ``delta`` may be HxW for an HxWxC image (the same value is added to every channel, plane by
    plane: cheaper than repeating ``delta`` into a float HxWxC array).
    """
    if delta.ndim == 2 and image.ndim == 3:
        return cv2.merge([cv2.add(plane, delta, dtype=cv2.CV_8U) for plane in cv2.split(image)])
    return cv2.add(image, delta, dtype=cv2.CV_8U)


def _spread(plane: np.ndarray, channels: int) -> np.ndarray:
    """A uint8 HxW plane repeated into ``channels`` channels (``cvtColor`` for 3: 2x faster than ``merge``)."""
    return cv2.cvtColor(plane, cv2.COLOR_GRAY2RGB) if channels == 3 else cv2.merge([plane] * channels)


def add_rounded(image: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """``image + rint(delta)`` saturated to uint8, as :func:`add_float` (``delta`` float32 in grey
    levels, HxW or ``image``'s shape) but in 8-bit passes: the positive and negative parts of
    ``delta`` rounded to uint8 (half to even), then added and subtracted with saturation. The same
    as :func:`add_float` except where ``image + delta`` (float32) ends in exactly .5: there the two
    can be a grey level apart (version-2 ops).
    """
    up = cv2.convertScaleAbs(cv2.max(delta, 0.0))
    down = cv2.convertScaleAbs(cv2.min(delta, 0.0))
    if delta.ndim == 2 and image.ndim == 3:
        up, down = _spread(up, image.shape[2]), _spread(down, image.shape[2])
    return cv2.subtract(cv2.add(image, up.reshape(image.shape)), down.reshape(image.shape)).reshape(image.shape)


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Round float values (0-255 units) to the nearest integer and saturate to uint8."""
    out = np.empty(values.shape, np.uint8)
    np.clip(np.rint(values, out=values), 0, 255, out=values)
    out[...] = values
    return out


@functools.cache
def warm_allocator(size: int = WARM_BYTES) -> None:
    """Allocate and free one ``size``-byte block, once per process, so glibc's malloc serves the
    engine's image-sized temporaries from its heap.

    glibc hands blocks over its mmap threshold (128 KB at start) straight back to the OS when freed,
    and a fresh one takes a page fault per 4 KB when filled: on a busy 2-core machine that made
    whole presets up to 1.7x slower. Freeing a large block makes glibc raise the threshold to that
    size (its own adaptive rule, which any big temporary triggers sooner or later); doing it first
    makes the speed independent of the order of events. The process may keep up to ``2 * size``
    bytes of freed memory for reuse. Other allocators just see one (untouched) allocation.
    """
    np.empty(size, np.uint8)


def unit_to_uint8(values: np.ndarray) -> np.ndarray:
    """``to_uint8(values * float32(255))`` for float32 values in 0-1 (any values: negatives give 0),
    in two passes instead of four; ``values`` is clamped at 0 in place.

    OpenCV's ``convertScaleAbs`` computes ``float32(x * 255)``, rounds half to even and saturates,
    as :func:`to_uint8` does, once its absolute value is harmless (x >= 0).
    """
    np.maximum(values, np.float32(0.0), out=values)
    return cv2.convertScaleAbs(values, alpha=255.0).reshape(values.shape)


def scratch(tag: str, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """A reusable, uninitialised array for a temporary that never leaves the function filling it:
    one per ``tag``, shape, dtype and thread (the last ``SCRATCH_ARRAYS`` used are kept).

    Full-size float temporaries are megabytes: glibc gives such blocks back to the OS when they are
    freed, and a fresh one costs a page fault per 4 KB when it is filled (about 1 ms per two 512 x 512
    fields on a busy machine). The values never depend on the reuse: every user overwrites the
    whole array before reading it.
    """
    pool = _SCRATCH.__dict__.setdefault("pool", {})
    key = (tag, tuple(shape), np.dtype(dtype).str)
    array = pool.pop(key, None)
    if array is None:
        array = np.empty(shape, dtype)
        if len(pool) >= SCRATCH_ARRAYS:
            pool.pop(next(iter(pool)))
    pool[key] = array
    return array


def row_bands(shape: tuple[int, ...], elements: int = BAND_ELEMENTS) -> list[slice]:
    """Row slices that split an array of ``shape`` (H, ...) into bands of about ``elements`` values.

    Element-wise float work done band by band keeps its temporaries in the CPU cache instead of
    allocating (and page-faulting) full-size arrays; the values are the same.
    """
    row = max(1, int(np.prod(shape[1:])))
    step = max(1, elements // row)
    return [slice(y, y + step) for y in range(0, shape[0], step)]


def luma8(image: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB uint8 image as uint8 HxW (grey images are returned as they are)."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


@functools.cache
def normal_quantiles() -> np.ndarray:
    """The unit table of :func:`normal_table` (65,536 float32 quantiles of N(0, 1); read only)."""
    q = ndtri((np.arange(65536, dtype=np.float64) + 0.5) / 65536.0)
    q /= q.std()
    return q.astype(np.float32)


@functools.cache
def _byte_quantiles() -> np.ndarray:
    q = ndtri((np.arange(256, dtype=np.float64) + 0.5) / 256.0)
    q /= q.std()
    return q.astype(np.float32)


def byte_normal(rng: np.random.Generator, shape: tuple[int, ...], std: float, mean: float = 0.0) -> np.ndarray:
    """float32 N(``mean``, ``std``) deviates of ``shape``, one random byte each (the version-2 noise draws).

    Each byte picks one of 256 equiprobable quantiles of N(0, 1) (rescaled to unit std, tails cut
    at +-2.9 sigma) through ``cv2.LUT``: half the random bits and about half the time of
    :func:`normal_indices` and its lookup; once added to 8-bit images the difference is a slightly
    shorter tail (0.4% of deviates lie beyond 2.9 sigma in a true Gaussian).
    """
    count = int(np.prod(shape))
    raw = random_bytes(rng, count).reshape(shape[0] if len(shape) > 1 else 1, -1)
    return cv2.LUT(raw, _byte_quantiles() * np.float32(std) + np.float32(mean)).reshape(shape)


def random_bytes(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` random bytes (uint8 array): the bytes of ``rng.bytes(count)``, about twice as fast,
    leaving ``rng`` to draw the same numbers afterwards.

    numpy builds ``bytes`` from ``max(1, ceil(count / 4))`` 32-bit draws, which PCG64 serves as the
    low then the high half of each 64-bit output, so the 64-bit outputs read little-endian are the
    same byte stream; a half left over is kept in the generator as numpy keeps it. Other bit
    generators use ``rng.bytes``.
    """
    bitgen = rng.bit_generator
    if type(bitgen) is not np.random.PCG64 or bitgen.state["has_uint32"]:
        return np.frombuffer(rng.bytes(count), np.uint8)
    words = max(1, -(-count // 4))
    raw = bitgen.random_raw(-(-words // 2))
    if words % 2:
        state = bitgen.state
        state["has_uint32"], state["uinteger"] = 1, int(raw[-1] >> np.uint64(32))
        bitgen.state = state
    return raw.astype("<u8", copy=False).view(np.uint8)[:count]


def normal_table(std: float = 1.0) -> np.ndarray:
    """Quantiles of N(0, ``std``) indexed by :func:`normal_indices`: 65,536 float32 values.

    The unit table is scaled by ``float32(std)``, which gives the same float32 values as scaling
    every looked-up deviate.
    """
    return normal_quantiles() * np.float32(std)


def normal_indices(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """uint16 indices into :func:`normal_table`: ``table.take(indices)`` are normal deviates, about
    4x faster than ``rng.standard_normal`` (``mode="wrap"`` is faster still, and the same: every
    index is in range).

    Inverse-CDF lookup of 16-bit uniform integers: 65,536 equiprobable quantiles of N(0, 1)
    (rescaled to unit std; tails truncated at +-4.3 sigma), which is indistinguishable from exact
    Gaussian noise once added to 8-bit images.
    """
    count = int(np.prod(shape))
    return random_bytes(rng, 2 * count).view(np.uint16).reshape(shape)
