"""Peak-memory probes: the CUDA allocator's peak on a CUDA device, else the process's peak resident
set (Linux ``VmHWM``, reset through ``/proc/self/clear_refs``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

GB = 1 << 30


def _is_cuda(device: str | torch.device) -> bool:
    return str(device).startswith("cuda")


def reset_peak_memory(device: str | torch.device) -> None:
    """Start a new peak-memory window: CUDA allocator peak, or the process's peak RSS (Linux)."""
    if _is_cuda(device):
        import torch

        torch.cuda.reset_peak_memory_stats(device)
        return
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        pass  # no reset possible: the peak below is then the process lifetime's


def peak_memory(device: str | torch.device) -> tuple[int | None, str]:
    """(bytes, kind) since :func:`reset_peak_memory`: ``cuda_max_allocated`` or ``cpu_peak_rss``
    (VmHWM of this process; None where /proc is unavailable)."""
    if _is_cuda(device):
        import torch

        return int(torch.cuda.max_memory_allocated(device)), "cuda_max_allocated"
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024, "cpu_peak_rss"
    except OSError:
        pass
    return None, "cpu_peak_rss"
