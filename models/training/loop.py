"""The training loop shared by every stage: seeds, data order, AMP, DDP, logs, samples, checkpoints.

Layout of a run folder ``OUT``:
``checkpoint.pt`` (latest full state: config, seed, step, networks, optimisers, RNG states,
training seconds so far), ``log.jsonl`` (averaged losses every ``log_every`` steps),
``samples/step-NNNNNNN.png`` (grids), ``weights.pt`` (inference weights written at the end, when the
stage exports any; its meta records ``train_seconds``).

Training seconds count the wall time of the steps behind the current state, summed over resumed
segments: steps redone after an interruption count once, from the checkpoint they resumed from.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset, default_collate

from oldphoto.infra.device import resolve_device

from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..configs import config_dict, make_config
from . import distributed
from .config import TrainConfig
from .registry import get_trainer
from .sampling import StepBatchSampler
from .stage import Stage

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = "oldphoto-training/1"


@dataclass
class TrainResult:
    """What a finished run reports: where things are and the last logged losses."""

    out: Path
    step: int
    losses: dict[str, float] = field(default_factory=dict)
    weights: Path | None = None
    seconds: float = 0.0  # training seconds behind the weights, resumed segments included


def _rng_state(stage: Stage) -> dict:
    state = {"torch": torch.get_rng_state(), "generator": stage.generator.get_state()}
    if stage.device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(stage.device)
    return state


def _set_rng_state(stage: Stage, state: dict) -> None:
    torch.set_rng_state(state["torch"])
    stage.generator.set_state(state["generator"])
    if "cuda" in state and stage.device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"], stage.device)


def _write_grid(path: Path, columns: list[torch.Tensor]) -> None:
    from torchvision.utils import make_grid

    from oldphoto.datasets.imageio import write_image

    columns = [c.detach().float().cpu().clamp(0, 1) for c in columns]
    columns = [c.expand(-1, 3, -1, -1) if c.shape[1] == 1 else c for c in columns]
    rows = torch.stack(columns, dim=1).flatten(0, 1)
    grid = make_grid(rows, nrow=len(columns), padding=2, pad_value=1.0)
    write_image(path, grid.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy())


def _set_learning_rates(stage: Stage, factor: float) -> None:
    """Every optimiser's learning rates at ``factor`` times their values when training began."""
    for optimizer in stage.optimizers.values():
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
            group["lr"] = group["initial_lr"] * factor


def _current_lr(stage: Stage) -> float:
    return next(iter(stage.optimizers.values())).param_groups[0]["lr"] if stage.optimizers else 0.0


def _to_device(batch: dict, device: torch.device) -> dict:
    return {k: (v.to(device, non_blocking=True) if torch.is_tensor(v) else v) for k, v in batch.items()}


def _resolve_configs(stage_cls: type, out: Path, resume: bool, model_config, train_config, seed, steps):
    """Configs and seed for a fresh run, or those stored in the checkpoint when resuming.

    On resume, a given config must equal the stored one (``steps`` aside) and a given seed the
    stored seed; ``steps`` may raise or lower the target.
    """
    ckpt_path = out / CHECKPOINT_NAME
    name = stage_cls.name
    model_cfg = make_config(stage_cls.model_config_cls, model_config, f"{name} model config")
    train_cfg = make_config(stage_cls.train_config_cls, train_config, f"{name} train config")
    if not resume:
        if ckpt_path.exists():
            raise CheckpointError(f"{ckpt_path}: a run already exists here; pass --resume or choose another --out")
        if steps is not None:
            train_cfg = replace(train_cfg, steps=int(steps))
        return model_cfg, train_cfg, 0 if seed is None else int(seed), None
    payload = load_checkpoint(ckpt_path, required=("format", "stage", "seed", "step", "model_config",
                                                   "train_config", "state", "rng"))
    if payload["stage"] != name:
        raise CheckpointError(f"{ckpt_path}: checkpoint is for stage {payload['stage']!r}, not {name!r}")
    if seed is not None and int(seed) != payload["seed"]:
        raise CheckpointError(f"{ckpt_path}: run was seeded {payload['seed']}, resume asked for seed {seed}")
    stored_model = make_config(stage_cls.model_config_cls, payload["model_config"], f"{ckpt_path} model config")
    stored_train = make_config(stage_cls.train_config_cls, payload["train_config"], f"{ckpt_path} train config")
    for given, stored, what in ((model_config, stored_model, "model"), (train_config, stored_train, "train")):
        if given is None:
            continue
        given_dict, stored_dict = config_dict(make_config(type(stored), given, what)), config_dict(stored)
        given_dict.pop("steps", None), stored_dict.pop("steps", None)
        changed = sorted(k for k in stored_dict if given_dict[k] != stored_dict[k])
        if changed:
            raise CheckpointError(f"{ckpt_path}: resume with a different {what} config ({changed}); "
                                  "start a new run instead")
    target = steps if steps is not None else (make_config(type(stored_train), train_config, "train").steps
                                              if train_config is not None else stored_train.steps)
    return stored_model, replace(stored_train, steps=int(target)), int(payload["seed"]), payload


def train(name: str, dataset: Dataset | Callable[[TrainConfig, int], Dataset], out: str | Path, model_config=None,
          train_config=None, seed: int | None = None, device: str = "auto", resume: bool = False,
          steps: int | None = None, progress: bool = True) -> TrainResult:
    """Train stage ``name`` on ``dataset``, writing the run folder ``out``.

    ``dataset`` items are dicts of CHW float tensors in [0, 1]: ``degraded``, ``clean`` and
    optionally ``mask`` (1xHxW) or ``masks`` (KxHxW, last = union of defects); or ``dataset`` is a
    function ``(train_config, seed) -> Dataset``, called once the (possibly resumed) config is known.

    ``resume=True`` continues from ``out/checkpoint.pt`` with its configs and seed (only the
    number of steps may change) and gives the same weights as an uninterrupted run. ``steps``
    overrides the config's number of steps (the total, counted from step 0).
    Under ``torchrun`` every rank trains on its own part of each epoch; rank 0 writes files.
    """
    stage_cls = get_trainer(name)
    out = Path(out)
    model_cfg, train_cfg, seed, payload = _resolve_configs(stage_cls, out, resume, model_config, train_config, seed,
                                                           steps)
    info = distributed.setup(resolve_device(device))
    cuda_devices = [info.device] if info.device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(seed)  # identical initial weights on every rank
            generator = torch.Generator(info.device).manual_seed(distributed.rank_seed(seed, info.rank))
            stage = stage_cls(model_cfg, train_cfg, info, generator)
            torch.manual_seed(distributed.rank_seed(seed, info.rank))
            start, spent = 0, 0.0
            if payload is not None:
                stage.load_state_dict(payload["state"], out / CHECKPOINT_NAME)
                if len(payload["rng"]) != info.world_size:
                    raise CheckpointError(f"{out / CHECKPOINT_NAME}: written by {len(payload['rng'])} process(es); "
                                          f"resume with the same number (now {info.world_size})")
                _set_rng_state(stage, payload["rng"][info.rank])
                start = int(payload["step"])
                spent = float(payload.get("seconds", 0.0))
            if not isinstance(dataset, Dataset):
                dataset = dataset(train_cfg, seed)
            result = _run(stage, dataset, out, model_cfg, train_cfg, seed, start, spent, info, progress)
            distributed.barrier(info)  # every rank done with its collectives before the group is destroyed
            return result
    finally:
        distributed.teardown(info)


def _checkpoint(stage: Stage, out: Path, model_cfg, train_cfg, seed: int, step: int, seconds: float,
                info) -> None:
    rng = _rng_state(stage)
    gathered = [rng]
    if info.enabled:
        gathered = [None] * info.world_size
        torch.distributed.all_gather_object(gathered, {k: v.cpu() for k, v in rng.items()})
    if info.is_main:
        save_checkpoint(out / CHECKPOINT_NAME, {
            "format": CHECKPOINT_FORMAT, "stage": stage.name, "seed": seed, "step": step, "seconds": seconds,
            "model_config": config_dict(model_cfg), "train_config": config_dict(train_cfg),
            "state": stage.state_dict(), "rng": gathered,
        })
    distributed.barrier(info)


def _run(stage: Stage, dataset: Dataset, out: Path, model_cfg, train_cfg, seed: int, start: int,
         spent: float, info, progress: bool) -> TrainResult:
    """Steps ``start`` to ``train_cfg.steps``; ``spent``: training seconds of the steps before ``start``."""
    from tqdm.auto import tqdm

    sampler = StepBatchSampler(len(dataset), train_cfg.batch_size, seed, train_cfg.steps, start,
                               info.rank, info.world_size)
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=train_cfg.num_workers,
                        pin_memory=info.device.type == "cuda")
    preview = None
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        count = min(train_cfg.samples, len(dataset))
        preview = _to_device(default_collate([dataset[i] for i in range(count)]), info.device)
    bar = tqdm(total=train_cfg.steps, initial=start, desc=stage.name, disable=not (progress and info.is_main),
               dynamic_ncols=True)
    window: dict[str, list[float]] = {}
    last: dict[str, float] = {}
    began = time.perf_counter() - spent

    def seconds() -> float:
        return round(time.perf_counter() - began, 3)

    step = start
    for batch in loader:
        for module in stage.modules.values():
            module.train()
        _set_learning_rates(stage, train_cfg.lr_factor(step))
        logs = stage.train_step(_to_device(batch, info.device))
        stage.scaler.update()
        step += 1
        for key, value in logs.items():
            window.setdefault(key, []).append(float(value))
        if step % train_cfg.log_every == 0 or step == train_cfg.steps:
            last = distributed.mean_across_ranks({k: sum(v) / len(v) for k, v in window.items()}, info)
            window = {}
            if info.is_main:
                bar.set_postfix({k: f"{v:.4f}" for k, v in last.items()})
                row = {"step": step, **last, "lr": _current_lr(stage), "seconds": seconds()}
                with open(out / "log.jsonl", "a", encoding="utf-8") as log:
                    log.write(json.dumps(row) + "\n")
        if step == train_cfg.steps or (train_cfg.checkpoint_every and step % train_cfg.checkpoint_every == 0):
            _checkpoint(stage, out, model_cfg, train_cfg, seed, step, seconds(), info)
        # after the checkpoint: sampling may draw random numbers, which a resumed run must not see
        if info.is_main and (step == train_cfg.steps
                             or (train_cfg.sample_every and step % train_cfg.sample_every == 0)):
            with torch.no_grad():
                for module in stage.modules.values():
                    module.eval()
                _write_grid(out / "samples" / f"step-{step:07d}.png", stage.sample(preview))
        bar.update(1)
    bar.close()
    weights = None
    total = seconds()
    if info.is_main and step == start and (out / "weights.pt").is_file():
        weights = out / "weights.pt"  # a finished run resumed: its export stays as written (final losses too)
    elif info.is_main:
        meta = {"stage": stage.name, "seed": seed, "steps": step, "train_config": config_dict(train_cfg),
                "final_losses": last, "world_size": info.world_size, "device": str(info.device),
                "train_seconds": total}
        weights = stage.export(out / "weights.pt", meta)
    return TrainResult(out=out, step=step, losses=last, weights=weights, seconds=total)
