"""DistributedDataParallel helpers for ``torchrun`` (one process per device; gloo on CPU, NCCL on CUDA).

Outside ``torchrun`` everything degrades to a single process with rank 0 and world size 1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    """Rank of this process, number of processes, and the device it trains on."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """True on rank 0, the only rank that logs, writes samples and checkpoints."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def launched_by_torchrun() -> bool:
    """True when the environment carries ``torchrun``'s ``RANK`` and ``WORLD_SIZE``."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def setup(device: torch.device) -> DistInfo:
    """Join the process group when launched by ``torchrun``; pick this rank's device.

    On CUDA each rank takes ``cuda:LOCAL_RANK`` and NCCL; on CPU all ranks use gloo.
    """
    if not launched_by_torchrun():
        return DistInfo(rank=0, world_size=1, device=device)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistInfo(rank=rank, world_size=world, device=device)


def teardown(info: DistInfo) -> None:
    """Leave the process group (no-op in a single process)."""
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def rank_seed(seed: int, rank: int) -> int:
    """Per-rank seed: distinct ranks draw distinct random streams from one run seed."""
    return (seed * 1_000_003 + rank) % (2**63)


def wrap(module: nn.Module, info: DistInfo, find_unused: bool = False) -> nn.Module:
    """Wrap ``module`` in DistributedDataParallel when distributed and it has trainable parameters.

    ``find_unused``: some parameters may get no gradient in a step (e.g. a branch gated by the
    defect mask on a batch without defects); DDP then searches for them each step.
    """
    if not info.enabled or not any(p.requires_grad for p in module.parameters()):
        return module
    ids = [info.device.index] if info.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids, find_unused_parameters=find_unused)


def mean_across_ranks(values: dict[str, float], info: DistInfo) -> dict[str, float]:
    """Average scalar logs over ranks (all ranks must call it; returns the input when not distributed)."""
    if not info.enabled or not values:
        return values
    keys = sorted(values)
    tensor = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=info.device)
    dist.all_reduce(tensor)
    return {k: float(v) / info.world_size for k, v in zip(keys, tensor.tolist(), strict=False)}


def barrier(info: DistInfo) -> None:
    """Wait for every rank (no-op in a single process)."""
    if info.enabled:
        dist.barrier()
