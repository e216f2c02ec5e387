"""Per-node generators: numpy's ``SeedSequence(seed, spawn_key=path)`` computed in pure Python.

A pipeline call seeds one PCG64 generator per node it visits, all from the same call seed. numpy's
SeedSequence costs about 18-28 us per generator (object set-up, an ``errstate`` context, array
conversions), and most of its hashing depends on the call seed and the parent's path only. Here
those parts are cached, so each node hashes only its last path entry (about 7 us in all): the
generators have the same state, so they draw the same numbers (the tests compare them with
numpy's for many seeds and paths).

The algorithm is numpy's (``numpy/random/bit_generator.pyx``): a pool of 4 uint32 words mixed
from the entropy words, then expanded to the 4 uint64 words PCG64 seeds itself with.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.random.bit_generator import ISeedSequence

SEED_MAX = 2**63  # seeds drawn for kernels and pipeline calls lie in [0, SEED_MAX)
MASK32 = 0xFFFFFFFF
POOL_SIZE = 4
INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875
INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED
MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
XSHIFT = 16


def int_words(value: int) -> list[int]:
    """A non-negative int as uint32 words, least significant first ([0] for 0), as numpy splits it."""
    if value < 0:
        raise ValueError(f"seeds and node paths must be integers >= 0, got {value}")
    words = [value & MASK32]
    value >>= 32
    while value:
        words.append(value & MASK32)
        value >>= 32
    return words


def hashmix(value: int, const: int) -> tuple[int, int]:
    """numpy's ``hashmix(value, &const)``: returns the mixed word and the updated constant."""
    value ^= const
    const = (const * MULT_A) & MASK32
    value = (value * const) & MASK32
    return value ^ (value >> XSHIFT), const


def mix(x: int, y: int) -> int:
    """numpy's ``mix(x, y)`` of two uint32 words."""
    result = (MIX_MULT_L * x - MIX_MULT_R * y) & MASK32
    return result ^ (result >> XSHIFT)


def mix_in(pool: tuple[int, ...], const: int, words: list[int]) -> tuple[tuple[int, ...], int]:
    """Mix each of ``words`` into every pool word; returns the new pool and hash constant."""
    mixed = list(pool)
    for word in words:
        for i in range(POOL_SIZE):
            hashed, const = hashmix(word, const)
            mixed[i] = mix(mixed[i], hashed)
    return tuple(mixed), const


def _hash_consts(init: int, mult: int, count: int) -> tuple[int, ...]:
    """The first ``count`` values of the hash constant ``init * mult**k`` (mod 2**32), k = 0, 1, ...:
    the constant numpy's hashing uses at each step depends only on how many steps came before."""
    consts, const = [], init
    for _ in range(count):
        consts.append(const)
        const = (const * mult) & MASK32
    return tuple(consts)


def _hash_steps(init: int, mult: int, count: int) -> tuple[tuple[int, int], ...]:
    """(xor, multiply) constants of ``count`` hashing steps: step k xors with ``init * mult**k`` and
    multiplies by ``init * mult**(k + 1)`` (mod 2**32)."""
    consts = _hash_consts(init, mult, count + 1)
    return tuple((consts[k], consts[k + 1]) for k in range(count))


# The (xor, multiply) constants of the expansion steps in ``node_state``.
_EXPAND = _hash_steps(INIT_B, MULT_B, 2 * POOL_SIZE)

# The same for the 16 hashing steps that seed the pool (4 to fill it, 12 to mix it), the order of
# those 12 (source, destination) pairs, and the hash constant after them.
_SEED_STEPS = _hash_steps(INIT_A, MULT_A, 16)
_MIX_ORDER = tuple((src, dst) for src in range(POOL_SIZE) for dst in range(POOL_SIZE) if src != dst)
_SEED_CONST = _hash_consts(INIT_A, MULT_A, 17)[16]


def mix_word(pool: tuple[int, ...], const: int, word: int) -> tuple[tuple[int, ...], int]:
    """``mix_in(pool, const, [word])`` with ``hashmix`` and ``mix`` inlined (the same words)."""
    mixed = []
    for value in pool:
        hashed = word ^ const
        const = (const * MULT_A) & MASK32
        hashed = (hashed * const) & MASK32
        result = (MIX_MULT_L * value - MIX_MULT_R * (hashed ^ (hashed >> XSHIFT))) & MASK32
        mixed.append(result ^ (result >> XSHIFT))
    return tuple(mixed), const


@functools.lru_cache(maxsize=64)
def node_pool(seed: int, path: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """The pool and hash constant once ``seed`` and ``path`` are mixed in. Cached: the nodes of one
    call share the seed and their parents' paths, so each node mixes in only its last path entry."""
    if path:
        pool, const = node_pool(seed, path[:-1])
        entry = path[-1]
        if 0 <= entry <= MASK32:
            return mix_word(pool, const, entry)
        return mix_in(pool, const, int_words(entry))
    words = int_words(seed)
    steps = iter(_SEED_STEPS)
    pool = []
    for i in range(POOL_SIZE):
        xor, mult = next(steps)
        value = (((words[i] if i < len(words) else 0) ^ xor) * mult) & MASK32
        pool.append(value ^ (value >> XSHIFT))
    for src, dst in _MIX_ORDER:
        xor, mult = next(steps)
        value = ((pool[src] ^ xor) * mult) & MASK32
        result = (MIX_MULT_L * pool[dst] - MIX_MULT_R * (value ^ (value >> XSHIFT))) & MASK32
        pool[dst] = result ^ (result >> XSHIFT)
    return mix_in(tuple(pool), _SEED_CONST, words[POOL_SIZE:])


def node_state(seed: int, path: tuple[int, ...]) -> np.ndarray:
    """``SeedSequence(seed, spawn_key=path).generate_state(4, np.uint64)``."""
    pool = node_pool(seed, path)[0]
    words = []
    for i, (xor, mult) in enumerate(_EXPAND):
        value = ((pool[i % POOL_SIZE] ^ xor) * mult) & MASK32
        words.append(value ^ (value >> XSHIFT))
    return np.array([words[0] | words[1] << 32, words[2] | words[3] << 32, words[4] | words[5] << 32,
                     words[6] | words[7] << 32], np.uint64)


class NodeSeed(ISeedSequence):
    """Seed material for one node: what ``SeedSequence(seed, spawn_key=path)`` gives PCG64."""

    def __init__(self, seed: int, path: tuple[int, ...]) -> None:
        self.seed, self.path = seed, path

    def generate_state(self, n_words, dtype=np.uint32):
        if n_words != POOL_SIZE or np.dtype(dtype) != np.uint64:
            return np.random.SeedSequence(self.seed, spawn_key=self.path).generate_state(n_words, dtype)
        return node_state(self.seed, self.path)


def node_generator(seed: int, path: tuple[int, ...]) -> np.random.Generator:
    """``default_rng(SeedSequence(seed, spawn_key=path))``, in well under half the time (``seed``, the
    path entries: ints >= 0)."""
    return np.random.Generator(np.random.PCG64(NodeSeed(seed, path)))
