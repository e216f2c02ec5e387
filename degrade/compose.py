"""Ops, compositions, the seeded Pipeline, its Result, and exact replay.

Randomness: every node of a pipeline draws from its own ``numpy.random.Generator`` seeded by
``SeedSequence(call_seed, spawn_key=node_path)``, so results never depend on global state, on
which other ops happened to run, or on the process that runs them.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from . import serialize
from .functional._util import warm_allocator
from .seeding import SEED_MAX, node_generator
from .serialize import jsonable, register
from .validate import DegradeError, check_image, check_probability, check_range, check_version

Masks = dict[str, np.ndarray]
PARAMS_VERSION = 1


def node_rng(seed: int, path: tuple[int, ...]) -> np.random.Generator:
    """The generator of the pipeline node at ``path`` for a call with ``seed``: the same generator as
    ``default_rng(SeedSequence(seed, spawn_key=path))``, built faster (see :mod:`.seeding`)."""
    return node_generator(seed, path)


@functools.cache
def field_names(cls: type) -> tuple[str, ...]:
    """The argument field names of op class ``cls``, in order, ``version`` aside (looked up once per
    class)."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.name != "version")


def pick(rng: np.random.Generator, choices: Sequence):
    """One of ``choices``, drawn uniformly: the element ``rng.choice(choices)`` picks, from the same
    draw, without building an array (a few microseconds instead of about 15)."""
    return choices[int(rng.integers(len(choices)))]


def pick_weighted(rng: np.random.Generator, weights: np.ndarray) -> int:
    """Index drawn with probabilities ``weights / weights.sum()`` (float64, sum > 0): the index
    ``rng.choice(len(weights), p=...)`` returns, from the same draw, without its checks."""
    cdf = np.cumsum(weights / weights.sum())
    cdf /= cdf[-1]
    return int(cdf.searchsorted(rng.random(), side="right"))


@dataclass
class State:
    """What flows through a pipeline call: the degraded image, the clean target, masks, records."""

    image: np.ndarray
    target: np.ndarray
    masks: Masks = field(default_factory=dict)
    records: list = field(default_factory=list)


class Transform:
    """Base of ops and compositions: a probability ``p`` and a dict form."""

    p: float

    def run(self, state: State, seed: int, path: tuple[int, ...], force: bool = False) -> None:
        raise NotImplementedError

    def to_dict(self) -> dict:
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> None:
        """Write the dict form as JSON, or YAML for ``.yaml``/``.yml`` paths."""
        Path(path).write_text(serialize.dumps(self.to_dict(), path))


@dataclass
class Op(Transform):
    """One degradation. Subclasses are dataclasses whose fields are the constructor arguments.

    ``version`` (keyword only, one of the class's ``VERSIONS``) picks the algorithm: 1, the default,
    gives the bytes the op has always given; a later version is a faster algorithm for the same
    degradation (same arguments and meaning, other random draws, so other bytes). The dict form
    names the version only when it is not 1, so version-1 pipelines serialise as they always did.

    ``sample(rng, shape)`` holds all the randomness and returns JSON-serialisable params;
    ``apply(image, params)`` is pure and returns the new image or ``(image, masks)``.
    Spatial ops (``spatial = True``) move pixels: masks and the clean target follow them via
    ``apply_to_mask``/``apply``. Ops whose ``affects_target()`` is true are applied to the target too.
    """

    spatial: ClassVar[bool] = False
    VERSIONS: ClassVar[tuple[int, ...]] = (1,)
    version: int = field(default=1, kw_only=True)

    def __post_init__(self) -> None:
        self.p = check_probability(type(self).__name__, self.p)
        self.version = check_version(type(self).__name__, self.version, self.VERSIONS)
        self.validate()

    def validate(self) -> None:
        """Check and normalise the constructor arguments (ranges become tuples)."""

    def range(self, name: str, lo: float, hi: float, integer: bool = False) -> tuple:
        """Check the range argument ``name`` against [``lo``, ``hi``] and store it normalised. Every range
        has a maximum, so a small config cannot ask for hours of work."""
        value = check_range(type(self).__name__, name, getattr(self, name), lo, hi, integer)
        setattr(self, name, value)
        return value

    def affects_target(self) -> bool:
        return self.spatial

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> dict:
        return {}

    def apply(self, image: np.ndarray, params: dict):
        raise NotImplementedError

    def apply_to_mask(self, mask: np.ndarray, params: dict) -> np.ndarray:
        return mask

    def to_dict(self) -> dict:
        head = {"type": type(self).__name__}
        if self.version != 1:
            head["version"] = self.version
        return {**head, **{name: jsonable(getattr(self, name)) for name in field_names(type(self))}}

    def run(self, state: State, seed: int, path: tuple[int, ...], force: bool = False) -> None:
        rng = node_rng(seed, path)
        if not force and rng.random() >= self.p:
            return
        apply_op(state, self, jsonable(self.sample(rng, state.image.shape)))


def apply_op(state: State, op: Op, params: dict) -> None:
    """Apply ``op`` with ``params`` to ``state`` and record it (shared by calls and replay)."""
    out = op.apply(state.image, params)
    image, masks = out if isinstance(out, tuple) else (out, {})
    if op.spatial:
        state.masks = {k: op.apply_to_mask(m, params) for k, m in state.masks.items()}
    for name, mask in masks.items():
        state.masks[name] = state.masks[name] | mask if name in state.masks else mask
    if op.affects_target():
        target = op.apply(state.target, params)
        state.target = target[0] if isinstance(target, tuple) else target
    state.image = image
    state.records.append({"op": op.to_dict(), "params": params})


class Composition(Transform):
    """A node holding child transforms."""

    def __init__(self, transforms: list[Transform], p: float = 1.0) -> None:
        name = type(self).__name__
        self.p = check_probability(name, p)
        self.transforms = list(transforms)
        for t in self.transforms:
            if not isinstance(t, Transform):
                raise DegradeError(f"{name}: 'transforms' must hold ops or compositions, got {type(t).__name__}")
        self.op_count = sum(t.op_count if isinstance(t, Composition) else 1 for t in self.transforms)
        if self.op_count > serialize.MAX_OPS:
            raise DegradeError(f"{name}: more than {serialize.MAX_OPS} ops in one pipeline (got {self.op_count}, "
                               "counted through every nesting level)")

    def extra_dict(self) -> dict:
        return {}

    def to_dict(self) -> dict:
        return {"type": type(self).__name__, "p": self.p, **self.extra_dict(),
                "transforms": [t.to_dict() for t in self.transforms]}

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.transforms!r}, p={self.p})"

    def run(self, state: State, seed: int, path: tuple[int, ...], force: bool = False) -> None:
        rng = node_rng(seed, path)
        if not force and rng.random() >= self.p:
            return
        self.run_children(state, seed, path, rng)

    def run_children(self, state: State, seed: int, path: tuple[int, ...], rng: np.random.Generator) -> None:
        raise NotImplementedError


@register
class Compose(Composition):
    """Apply every child in order, each with its own probability."""

    def run_children(self, state, seed, path, rng):
        for i, t in enumerate(self.transforms):
            t.run(state, seed, path + (i,))


@register
class RandomOrder(Composition):
    """Apply the children in a random order, each with its own probability."""

    def run_children(self, state, seed, path, rng):
        for i in rng.permutation(len(self.transforms)):
            self.transforms[i].run(state, seed, path + (int(i),))


@register
class OneOf(Composition):
    """Apply exactly one child, chosen with weights proportional to the children's ``p``."""

    def run_children(self, state, seed, path, rng):
        weights = np.array([t.p for t in self.transforms], np.float64)
        if weights.sum() <= 0:
            return
        i = pick_weighted(rng, weights)
        self.transforms[i].run(state, seed, path + (i,), force=True)


@register
class SomeOf(Composition):
    """Apply ``n`` distinct children (``n`` an int or a (low, high) range), chosen uniformly.

    The chosen children run in the order drawn and are always applied (their ``p`` is ignored).
    """

    def __init__(self, transforms: list[Transform], n=1, p: float = 1.0) -> None:
        super().__init__(transforms, p)
        self.n = check_range("SomeOf", "n", n, 0, len(self.transforms), integer=True)

    def extra_dict(self) -> dict:
        return {"n": list(self.n)}

    def run_children(self, state, seed, path, rng):
        count = int(rng.integers(self.n[0], self.n[1], endpoint=True))
        for i in rng.choice(len(self.transforms), size=count, replace=False):
            self.transforms[int(i)].run(state, seed, path + (int(i),), force=True)


@dataclass
class Result:
    """Output of a pipeline call.

    ``image``: degraded uint8 image, same shape as the input. ``target``: the clean image after
    the ops that also apply to the target (spatial ops, target-wide greyscale); use it as the
    ground truth of a pair. ``masks``: bool HxW masks per defect family plus ``defects``, their
    union (empty when no structured defect ran). ``params``: JSON record for :func:`replay`.
    """

    image: np.ndarray
    target: np.ndarray
    masks: Masks
    params: dict


def union(masks: list[np.ndarray]) -> np.ndarray:
    """The union of one or more HxW masks as a new bool array: ``np.logical_or.reduce(masks)``,
    without stacking them first (about 2x faster for one or two 512 px masks)."""
    out = masks[0].astype(bool)
    for mask in masks[1:]:
        np.logical_or(out, mask, out=out)
    return out


def _finish(state: State, shape: tuple[int, ...], params: dict) -> Result:
    masks = dict(state.masks)
    families = [m for k, m in masks.items() if k != "defects"]
    if families:
        masks["defects"] = union(families)
    image, target = state.image, state.target
    if len(shape) == 3 and shape[2] == 1:
        image, target = image[:, :, None], target[:, :, None]
    return Result(image=image, target=target, masks=masks, params=params)


def _start(owner: str, image: np.ndarray, masks: Masks | None) -> tuple[State, tuple[int, ...]]:
    image = check_image(owner, image)
    shape = image.shape
    if image.ndim == 3 and shape[2] == 1:
        image = image[:, :, 0]
    state_masks = {}
    for name, m in (masks or {}).items():
        m = np.asarray(m)
        if m.shape != shape[:2]:
            raise DegradeError(f"{owner}: mask {name!r} has shape {m.shape}, image is {shape[:2]}")
        state_masks[name] = m.astype(bool)
    return State(image=image, target=image, masks=state_masks), shape


@register
class Pipeline(Compose):
    """A named, seeded top-level composition: ``pipe(image, seed=...) -> Result``.

    ``seed`` given to the constructor seeds the pipeline's own generator, which supplies call
    seeds when a call passes none (the global RNG is never used).
    """

    def __init__(self, transforms: list[Transform], p: float = 1.0, name: str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(transforms, p)
        self.name = name
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def extra_dict(self) -> dict:
        return {"name": self.name} if self.name else {}

    @classmethod
    def from_dict(cls, data: dict) -> Pipeline:
        """Build from a dict; a bare op or composition is wrapped in a Pipeline."""
        built = serialize.from_dict(data)
        return built if isinstance(built, Pipeline) else cls([built])

    def __call__(self, image: np.ndarray, seed: int | None = None, masks: Masks | None = None) -> Result:
        """Degrade ``image`` (uint8 HxW, HxWx1 or HxWx3, never modified) with call ``seed`` (int >= 0).

        ``masks`` (optional bool HxW arrays) are carried through spatial ops into ``Result.masks``.
        """
        if seed is None:
            seed = int(self._rng.integers(SEED_MAX))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise DegradeError(f"Pipeline: 'seed' must be an integer >= 0, got {seed!r}")
        seed = int(seed)
        warm_allocator()
        state, shape = _start("Pipeline", image, masks)
        self.run(state, seed, ())
        params = {"version": PARAMS_VERSION, "seed": seed, "shape": list(shape), "ops": state.records}
        return _finish(state, shape, params)


def replay(image: np.ndarray, params: dict, masks: Masks | None = None) -> Result:
    """Re-apply the ops recorded in ``params`` (a ``Result.params``) to ``image``: same bytes out."""
    warm_allocator()
    state, shape = _start("replay", image, masks)
    if list(shape) != list(params.get("shape", shape)):
        raise DegradeError(f"replay: params were recorded for shape {params['shape']}, image is {list(shape)}")
    for record in params["ops"]:
        op = serialize.from_dict(record["op"])
        apply_op(state, op, record["params"])
    return _finish(state, shape, dict(params))
