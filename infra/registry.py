"""Named registries: models, trainers, degradation ops, presets, metrics and dataset sources share one
:class:`Registry` and one :class:`UnknownNameError`.

>>> SHAPES = Registry("shape")
>>> @SHAPES.register("square", description="four equal sides")
... def square(side=1):
...     return side * side
>>> SHAPES.create("square", side=3), SHAPES.list(), SHAPES.describe("square")["description"]
(9, ['square'], 'four equal sides')

A registry is also a read-only mapping from name to the registered object (``REGISTRY[name]``,
``name in REGISTRY``, ``REGISTRY.items()``), iterated in sorted order.
"""

from __future__ import annotations

import builtins
import importlib
import reprlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlevel, _SHORT.maxlist = 60, 60, 3, 8


class UnknownNameError(KeyError, ValueError):
    """A name that no entry of a registry has; the message names the kind and the choices.

    A KeyError and a ValueError, so ``except KeyError`` and ``except ValueError`` both catch it.
    Registries of a package with its own error type raise a subclass that is that type too
    (e.g. a DegradeError for ops and presets).
    """

    def __init__(self, kind: str, name: object, choices: Iterable[str]) -> None:
        choices = tuple(choices)
        super().__init__(kind, name, choices)
        self.kind, self.name, self.choices = kind, name, choices

    def __str__(self) -> str:
        listed = ", ".join(self.choices) if self.choices else "(none registered)"
        return f"unknown {self.kind} {_SHORT.repr(self.name)}; choose one of: {listed}"


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered object: ``value`` (a factory or class), a one-line ``description`` and the
    extra keyword values given at registration (``info``)."""

    name: str
    value: T
    description: str = ""
    info: dict = field(default_factory=dict)


def first_line(value: object) -> str:
    """The first line of ``value``'s docstring ("" without one)."""
    lines = (getattr(value, "__doc__", None) or "").strip().splitlines()
    return lines[0] if lines else ""


def importing(modules: Iterable[str]) -> Callable[[], None]:
    """A registry ``load`` that imports each of ``modules`` (which register their entries when imported)."""
    names = tuple(modules)

    def load() -> None:
        for name in names:
            importlib.import_module(name)

    return load


class Registry(Mapping[str, T], Generic[T]):
    """Names of one ``kind`` ("model", "metric", ...) mapped to factories or classes.

    ``load``: called once before the first lookup (e.g. to import the modules that register
    entries); ``error``: the UnknownNameError subclass raised for a name not registered.
    """

    def __init__(self, kind: str, load: Callable[[], None] | None = None,
                 error: type[UnknownNameError] = UnknownNameError) -> None:
        self.kind = kind
        self.error = error
        self._load = load
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, value: T | None = None, *, description: str = "", **info: Any):
        """Register ``value`` under ``name``; without ``value``, a decorator that registers what it
        decorates. ``description`` defaults to the first line of ``value``'s docstring; ``info`` is
        kept for :meth:`describe`. A name taken by another object is a ValueError."""
        if value is None:
            return lambda decorated: self.register(name, decorated, description=description, **info)
        held = self._entries.get(name)
        if held is not None and held.value is not value:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = Entry(name, value, description or first_line(value), info)
        return value

    def entry(self, name: str) -> Entry[T]:
        """The entry of ``name``; an UnknownNameError naming the choices when there is none."""
        entries = self._loaded()
        found = entries.get(name) if isinstance(name, str) else None
        if found is None:
            raise self.error(self.kind, name, sorted(entries))
        return found

    def create(self, name: str, *args: Any, **kwargs: Any):
        """Call the object registered as ``name`` with ``args`` and ``kwargs`` (build the thing)."""
        return self.entry(name).value(*args, **kwargs)

    def describe(self, name: str) -> dict:
        """``{"name", "description", **info}`` of ``name``."""
        found = self.entry(name)
        return {"name": found.name, "description": found.description, **found.info}

    def list(self) -> builtins.list[str]:
        """Every registered name, sorted."""
        return sorted(self._loaded())

    def __getitem__(self, name: str) -> T:
        return self.entry(name).value

    def __iter__(self) -> Iterator[str]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self._loaded())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.list())})"

    def _loaded(self) -> dict[str, Entry[T]]:
        """The entries, after running ``load`` once (it runs again next time if it raised)."""
        load, self._load = self._load, None
        if load is not None:
            try:
                load()
            except BaseException:
                self._load = load
                raise
        return self._entries
