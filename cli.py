"""The ``oldphoto`` command line: every command is a thin wrapper over a library function.

Heavy libraries (torch, albumentations) are imported inside the commands that need them.
Run as ``oldphoto ...``, ``python -m oldphoto ...`` or ``python cli.py ...``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from oldphoto import __version__

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="oldphoto")
def main() -> None:
    """oldphoto: old-photo degradation synthesis, datasets, restoration models and benchmarks."""


def _load_pipeline(preset: str | None, config: str | None):
    from oldphoto import degrade

    if (preset is None) == (config is None):
        raise click.UsageError("give exactly one of --preset NAME or --config FILE")
    try:
        return degrade.load(config) if config else degrade.preset(preset)
    except degrade.DegradeError as exc:
        raise click.BadParameter(str(exc)) from None


def _expand_inputs(inputs: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        elif path.exists():
            files.append(path)
        else:
            raise click.BadParameter(f"{path}: no such file or folder", param_hint="IN")
    return files


# --- degradation (issue: engine core) -------------------------------------------------------------

@main.command("degrade")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--preset", default=None, help="Preset name (see `oldphoto presets`).")
@click.option("--config", default=None, type=click.Path(exists=True, dir_okay=False), help="Pipeline JSON/YAML.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Base seed; file k uses seed+k.")
@click.option("--save-params", is_flag=True, help="Write NAME.json (replayable params) beside each output.")
def degrade_cmd(inputs, out_dir, preset, config, seed, save_params) -> None:
    """Degrade image files (or every image in folders); outputs keep the input stems as PNG."""
    from oldphoto.datasets.imageio import ImageReadError, read_rgb, write_bytes, write_image

    pipe = _load_pipeline(preset, config)
    files = _expand_inputs(inputs)
    out = Path(out_dir)
    failed = 0
    for k, path in enumerate(files):
        try:
            res = pipe(read_rgb(path), seed=seed + k)
        except (ImageReadError, ValueError) as exc:
            click.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        write_image(out / f"{path.stem}.png", res.image)
        if save_params:
            write_bytes(out / f"{path.stem}.json", (json.dumps(res.params) + "\n").encode())
    click.echo(f"degraded {len(files) - failed} of {len(files)} file(s) into {out}")
    if failed:
        sys.exit(1)


@main.command("presets")
@click.option("--show", default=None, metavar="NAME", help="Print the preset's full YAML.")
@click.option("--gallery", default=None, type=click.Path(dir_okay=False), help="Write a contact sheet PNG.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
def presets_cmd(show, gallery, seed) -> None:
    """List presets, show one, or write a gallery (clean | degraded | mask overlay per preset)."""
    import yaml

    from oldphoto import degrade

    if show:
        try:
            click.echo(yaml.safe_dump(degrade.preset(show).to_dict(), sort_keys=False), nl=False)
        except degrade.DegradeError as exc:
            raise click.BadParameter(str(exc), param_hint="--show") from None
        return
    if gallery:
        from oldphoto.demo import preset_gallery

        preset_gallery(Path(gallery), seed=seed)
        click.echo(f"wrote {gallery}")
        return
    for name in degrade.list_presets():
        click.echo(name)


@main.command("demo")
@click.option("--out", "out_dir", default="demo-out", show_default=True, type=click.Path(file_okay=False))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
def demo_cmd(out_dir, seed) -> None:
    """The main job on the embedded default photos (no download needed)."""
    from oldphoto.demo import run_demo

    for line in run_demo(Path(out_dir), seed=seed):
        click.echo(line)


# --- speed benchmarks ------------------------------------------------------------------------------

@main.group("bench")
def bench() -> None:
    """Speed and memory benchmarks that print figures (ratios against peers in the same run)."""


@bench.command("degrade")
@click.option("--size", "sizes", multiple=True, type=int, help="Square image side(s); default 256, 512, 1024.")
@click.option("--n", default=100, show_default=True, type=click.IntRange(min=1), help="Calls per measurement.")
@click.option("--only", default=None, help="Comma-separated op/preset names to measure.")
def bench_degrade_cmd(sizes, n, only) -> None:
    """Images/s on one thread for every op and preset, beside albumentations equivalents."""
    from oldphoto.benchmark.speed.degrade import bench_degrade

    names = only.split(",") if only else None
    for line in bench_degrade(sizes or (256, 512, 1024), n, names):
        click.echo(line)


if __name__ == "__main__":
    main()


# --- models and training (issue 6) ----------------------------------------------------------------

@main.command("models")
def models_cmd() -> None:
    """List every registered model: parameters, whether it needs a mask / training, description."""
    from oldphoto import models

    rows = [models.model_info(name) for name in models.list_models()]
    width = max(len(r["name"]) for r in rows)
    click.echo(f"{'model':<{width}}  {'parameters':>10}  mask  training  description")
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['parameters']:>10,}  {'yes' if r['needs_mask'] else 'no':<4}  "
                   f"{'yes' if r['needs_training'] else 'no':<8}  {r['description']}")


@main.command("train")
@click.argument("name", metavar="MODEL")
@click.option("--data", "data_dir", default=None, type=click.Path(file_okay=False), help="Folder written by `oldphoto synthesize`.")
@click.option("--source", default=None, help="`builtin` or a folder of clean photos, degraded on the fly.")
@click.option("--config", "config_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="YAML/JSON with sections `model` and `train` (defaults when omitted).")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False), help="Run folder [default: runs/MODEL].")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its checkpoint.")
@click.option("--steps", default=None, type=click.IntRange(min=1), help="Total steps (overrides the config).")
@click.option("--seed", default=None, type=click.IntRange(min=0), help="Run seed [default: 0; on resume, the stored one].")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N.")
def train_cmd(name, data_dir, source, config_file, out_dir, resume, steps, seed, device) -> None:
    """Train MODEL (a registered trainer, e.g. sequential, pix2pix); writes checkpoint.pt, log.jsonl,
    samples/*.png and weights.pt into the run folder. Launch with `torchrun` for several processes."""
    from oldphoto.models.training import CheckpointError, list_trainers, train_from_config

    if name not in list_trainers():
        raise click.BadParameter(f"no trainer {name!r}; available: {', '.join(list_trainers())}", param_hint="MODEL")
    out = Path(out_dir) if out_dir else Path("runs") / name
    try:
        result = train_from_config(name, config_file, out, data_dir=data_dir, source=source, resume=resume,
                                   steps=steps, seed=seed, device=device)
    except (CheckpointError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    losses = ", ".join(f"{k} {v:.4f}" for k, v in result.losses.items())
    click.echo(f"trained {name} to step {result.step} in {result.seconds:.0f} s ({losses}); run folder {result.out}")
    if result.weights:
        click.echo(f"inference weights: {result.weights}")
