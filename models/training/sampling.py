"""Batch index streams that are a pure function of (seed, step, rank): exact resume for free."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


def epoch_permutation(size: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled order of ``size`` items in ``epoch`` (a fresh generator per epoch)."""
    gen = torch.Generator().manual_seed((seed * 7919 + epoch) % (2**63))
    return torch.randperm(size, generator=gen)


class StepBatchSampler(Sampler[list[int]]):
    """Yields the dataset indices of steps ``start_step .. steps-1`` for one rank.

    Step ``s`` of rank ``r`` takes global positions ``(s * world + r) * batch + j`` of the
    concatenation of per-epoch permutations, so ranks see disjoint items and a run resumed at
    step ``s`` sees exactly the batches an uninterrupted run would.
    """

    def __init__(self, size: int, batch_size: int, seed: int, steps: int, start_step: int = 0,
                 rank: int = 0, world_size: int = 1) -> None:
        if size < 1:
            raise ValueError("the training dataset is empty")
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.steps, self.start_step, self.rank, self.world_size = steps, start_step, rank, world_size

    def indices(self, step: int) -> list[int]:
        """Dataset indices of ``step`` for this rank."""
        first = (step * self.world_size + self.rank) * self.batch_size
        out, cached_epoch, perm = [], -1, None
        for position in range(first, first + self.batch_size):
            epoch = position // self.size
            if epoch != cached_epoch:
                perm, cached_epoch = epoch_permutation(self.size, self.seed, epoch), epoch
            out.append(int(perm[position % self.size]))
        return out

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.steps):
            yield self.indices(step)

    def __len__(self) -> int:
        return max(0, self.steps - self.start_step)
