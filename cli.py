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
