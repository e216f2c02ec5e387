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
from oldphoto.benchmark.cli_study import COMMANDS as STUDY_COMMANDS
from oldphoto.datasets.inputs import InputError, Inputs, expand_inputs, output_names


class _Main(click.Group):
    """The command group: an OSError no command handled (an unwritable --out, a full disk) becomes one
    line naming the path and the reason, exit 1, instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OSError as exc:
            from oldphoto.infra.files import WriteError

            if isinstance(exc, WriteError):
                message = str(exc)
            else:
                message = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror or str(exc)
            raise click.ClickException(message) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
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


def _expand_inputs(inputs: tuple[str, ...], out: str) -> Inputs:
    """The input files (:func:`~oldphoto.datasets.inputs.expand_inputs`), each skipped entry listed on
    stderr with its reason; finding no image file is a usage error (exit 2)."""
    try:
        found = expand_inputs(inputs, out)
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="IN") from None
    for path, reason in found.skipped:
        click.echo(f"skipped: {path}: {reason}", err=True)
    if not found.files:
        raise click.UsageError(f"no image files found in {', '.join(inputs)} "
                               f"(files under --out {out} are never inputs)")
    return found


# --- degradation ----------------------------------------------------------------------------------

@main.command("degrade")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--preset", default=None, help="Preset name (see `oldphoto presets`).")
@click.option("--config", default=None, type=click.Path(exists=True, dir_okay=False), help="Pipeline JSON/YAML.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Base seed; file k uses seed+k.")
@click.option("--save-params", is_flag=True, help="Write NAME.json (replayable params) beside each output.")
def degrade_cmd(inputs, out_dir, preset, config, seed, save_params) -> None:
    """Degrade image files (or every image in folders); outputs keep the input stems as PNG (a repeated
    stem gets -2, -3...). Exit 1 when a file failed or was skipped, or writing stopped (2: bad usage)."""
    from oldphoto.datasets.imageio import ImageReadError, read_rgb, write_image
    from oldphoto.infra.files import WriteError, write_bytes

    pipe = _load_pipeline(preset, config)
    found = _expand_inputs(inputs, out_dir)
    out = Path(out_dir)
    sources = {p.resolve() for p in found.files}
    failed = written = 0
    for k, (path, name) in enumerate(zip(found.files, output_names(found.files), strict=False)):
        target = out / f"{name}.png"
        try:
            if target.resolve() in sources:
                raise ValueError(f"its output {target} is an input file; choose another --out")
            res = pipe(read_rgb(path), seed=seed + k)
        except ValueError as exc:
            click.echo(f"error: {exc if isinstance(exc, ImageReadError) else f'{path}: {exc}'}", err=True)
            failed += 1
            continue
        try:
            write_image(target, res.image)
            if save_params:
                write_bytes(out / f"{name}.json", (json.dumps(res.params) + "\n").encode())
        except WriteError as exc:
            raise click.ClickException(f"{exc}; {written} of {len(found.files)} file(s) written into {out}") from None
        written += 1
    skipped = f", {len(found.skipped)} skipped" if found.skipped else ""
    click.echo(f"degraded {written} of {len(found.files)} file(s) into {out}{skipped}")
    if failed or found.skipped:
        sys.exit(1)


@main.command("presets")
@click.option("--show", default=None, metavar="NAME", help="Print the preset's full YAML.")
@click.option("--gallery", default=None, type=click.Path(dir_okay=False), help="Write a contact sheet PNG.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--photos", default="astronaut,chelsea,coffee", show_default=True,
              help="Comma-separated builtin photos shown in the gallery.")
def presets_cmd(show, gallery, seed, photos) -> None:
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

        try:
            preset_gallery(Path(gallery), seed=seed, photos=tuple(p.strip() for p in photos.split(",") if p.strip()))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--photos") from None
        click.echo(f"wrote {gallery}")
        return
    for name in degrade.list_presets():
        click.echo(name)


@main.command("demo")
@click.option("--out", "out_dir", default="demo-out", show_default=True, type=click.Path(file_okay=False))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--leaderboard", "board", default="leaderboard", show_default=True, type=click.Path(file_okay=False),
              help="Leaderboard folder the builtin benchmark is merged into.")
def demo_cmd(out_dir, seed, board) -> None:
    """The main job on the embedded default photos (no download needed)."""
    from oldphoto.demo import run_demo

    for line in run_demo(Path(out_dir), seed=seed, leaderboard=Path(board),
                         log=lambda line: click.echo(line, err=True)):
        click.echo(line)


# --- speed benchmarks -----------------------------------------------------------------------------

@main.group("bench")
def bench() -> None:
    """Speed and memory benchmarks that print figures (ratios against peers in the same run)."""


@bench.command("degrade")
@click.option("--size", "sizes", multiple=True, type=int, help="Square image side(s); default 256, 512, 1024.")
@click.option("--n", default=100, show_default=True, type=click.IntRange(min=1), help="Calls per measurement.")
@click.option("--only", default=None, help="Comma-separated op/preset names to measure (their NAME-vN versions too).")
@click.option("--interleave", is_flag=True, help="Time oldphoto and albumentations call by call in turn "
              "(steadier ratios on a loaded machine).")
@click.option("--repeats", default=1, show_default=True, type=click.IntRange(min=1),
              help="Rounds of every measurement in turn; figures are then medians, with the rounds' range.")
def bench_degrade_cmd(sizes, n, only, interleave, repeats) -> None:
    """Images/s on one thread for every op and preset, beside albumentations equivalents."""
    from oldphoto.benchmark.speed.degrade import bench_degrade

    names = only.split(",") if only else None
    for line in bench_degrade(sizes or (256, 512, 1024), n, names, interleave, repeats):
        click.echo(line)


# --- datasets -------------------------------------------------------------------------------------

_RESUMABLE = ("seed", "crop", "per_image", "limit", "min_side", "max_pixels", "png_stored")


def _resume_arguments(out: Path, given: dict) -> dict:
    """Fill the options not given on the command line from ``OUT/dataset.json`` (for --resume)."""
    from oldphoto.datasets.synthesize import dataset_info

    try:
        stored = dataset_info(out)["arguments"]
    except ValueError as exc:
        raise click.UsageError(f"--resume: {exc}") from None
    merged = dict(given)
    for key in _RESUMABLE:
        if merged[key] is None:
            merged[key] = stored[key]
    for key, value in stored["source"].items():
        merged[key] = value if merged.get(key) is None else merged[key]
    if merged["preset"] is None and merged["config"] is None and stored["pipeline"] is not None:
        merged["pipeline_dict"], merged["label"] = stored["pipeline"], stored["preset"]
    return merged


def _engine_options(command):
    """--engine and --scheduler (synthesize and benchmark)."""
    command = click.option("--scheduler", default=None, metavar="ADDRESS",
                           help="Dask scheduler address (tcp://HOST:8786); "
                                "default: a local cluster of --workers.")(command)
    return click.option("--engine", default="pool", show_default=True, type=click.Choice(["pool", "dask"]),
                        help="pool: local processes; dask: a Dask cluster (pip install 'oldphoto[dask]').")(command)


def _check_engine(engine: str, scheduler: str | None, workers: int) -> None:
    """Usage errors of --engine/--scheduler/--workers, and a missing Dask, before any work."""
    from oldphoto.datasets.engines import EngineError, check_engine

    if scheduler is not None and workers > 1:
        raise click.UsageError("--workers does not apply with --scheduler: the cluster's workers are started "
                               "with `dask worker ADDRESS --nthreads 1`")
    try:
        check_engine(engine, scheduler)
    except EngineError as exc:
        raise click.UsageError(str(exc)) from None


@main.command("synthesize")
@click.option("--source", "kind", default=None, help="builtin, folder, voc, div2k, ffhq or real.")
@click.option("--root", default=None, type=click.Path(file_okay=False), help="Source folder (all but builtin).")
@click.option("--split", default=None, help="voc: train/val/trainval; div2k, ffhq: train/val.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Dataset folder.")
@click.option("--preset", default=None, help="Preset name (see `oldphoto presets`).")
@click.option("--config", default=None, type=click.Path(exists=True, dir_okay=False), help="Pipeline JSON/YAML.")
@click.option("--seed", default=None, type=click.IntRange(min=0), help="Base seed [default: 0].")
@click.option("--crop", default=None, type=click.IntRange(min=0),
              help="Square crop side in px, 0 = whole photo [default: 256].")
@click.option("--per-image", "per_image", default=None, type=click.IntRange(min=1),
              help="Samples per photo [default: 1].")
@click.option("--limit", default=None, type=click.IntRange(min=0), help="Use only the first N photos (sorted by id).")
@click.option("--min-side", "min_side", default=None, type=click.IntRange(min=0),
              help="Skip photos with a side under this [default: --crop].")
@click.option("--max-pixels", "max_pixels", default=None, type=click.IntRange(min=1),
              help="Decompression-bomb limit, width*height [default: 2**27].")
@click.option("--png-stored", "png_stored", flag_value=True, default=None,
              help="Uncompressed PNGs: ~4x faster encoding, ~1.8x larger.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Processes, or local Dask workers (output does not depend on it).")
@_engine_options
@click.option("--resume", is_flag=True, help="Continue the dataset in --out with its stored arguments.")
@click.option("--force", is_flag=True, help="Replace a different dataset (or other files' outputs) in --out.")
@click.option("--download", is_flag=True, help="voc/div2k: fetch the official archives into --root first.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def synthesize_cmd(kind, root, split, out_dir, preset, config, seed, crop, per_image, limit, min_side, max_pixels,
                   png_stored, workers, engine, scheduler, resume, force, download, no_progress) -> None:
    """Write a paired dataset: clean/, degraded/, masks/ PNGs, manifest.csv, skipped.csv, dataset.json.
    With --engine dask the samples run on a Dask cluster (docs/cluster.md); the bytes are the same."""
    from oldphoto import degrade
    from oldphoto.datasets.download import DownloadError, ensure_downloaded
    from oldphoto.datasets.engines import EngineError
    from oldphoto.datasets.imageio import DEFAULT_MAX_PIXELS
    from oldphoto.datasets.sources import SourceError, make_source
    from oldphoto.datasets.synthesize import DatasetExistsError, synthesize

    _check_engine(engine, scheduler, workers)
    args = dict(kind=kind, root=root, split=split, preset=preset, config=config, seed=seed, crop=crop,
                per_image=per_image, limit=limit, min_side=min_side, max_pixels=max_pixels, png_stored=png_stored)
    if resume:
        args = _resume_arguments(Path(out_dir), args)
    if args["kind"] is None:
        raise click.UsageError("give --source (or --resume with an existing --out)")
    try:
        if download:
            ensure_downloaded(args["kind"], args["root"] or ".", args["split"], progress=not no_progress)
        source = make_source(args["kind"], args["root"], args["split"])
        if not source.paired and (args["preset"] or args["config"]):
            raise click.UsageError(f"--source {source.kind} has no clean photos: --preset/--config do not apply")
        if "pipeline_dict" in args:
            pipeline = degrade.Pipeline.from_dict(args["pipeline_dict"])
        else:
            pipeline = _load_pipeline(args["preset"], args["config"]) if source.paired else None
        summary = synthesize(
            source, out_dir, preset=args.get("label") or args["preset"] or "custom", pipeline=pipeline,
            seed=0 if args["seed"] is None else args["seed"], crop=256 if args["crop"] is None else args["crop"],
            per_image=args["per_image"] or 1, limit=args["limit"], min_side=args["min_side"],
            workers=workers, force=force, max_pixels=args["max_pixels"] or DEFAULT_MAX_PIXELS,
            png_stored=bool(args["png_stored"]), progress=not no_progress, engine=engine, scheduler=scheduler)
    except (SourceError, DatasetExistsError, DownloadError, EngineError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    for line in summary.lines():
        click.echo(line)
    if summary.written == 0:
        click.echo("error: no sample could be written", err=True)
        sys.exit(1)


@bench.command("synthesize")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=2), help="N for the N-worker run.")
@click.option("--crop", default=256, show_default=True, type=click.IntRange(min=8))
@click.option("--per-image", "per_image", default=8, show_default=True, type=click.IntRange(min=1))
@click.option("--preset", default="bopbtl-code", show_default=True)
@click.option("--repeats", default=1, show_default=True, type=click.IntRange(min=1),
              help="Rounds of all the runs in turn; figures are the medians over the rounds.")
def bench_synthesize_cmd(workers, crop, per_image, preset, repeats) -> None:
    """Samples/s of `oldphoto synthesize` on the builtin photos with 1 and N workers (process pool, and Dask
    when installed), as ratios against 1 process, and phase shares."""
    from oldphoto.benchmark.speed.synthesize import bench_synthesize

    for line in bench_synthesize(workers=workers, crop=crop, per_image=per_image, preset=preset, repeats=repeats):
        click.echo(line)


# --- benchmark runner, leaderboard and report -----------------------------------------------------

@main.command("benchmark")
@click.option("--models", "model_spec", default="all", show_default=True, help="`all` or comma-separated model names.")
@click.option("--data", "data_dir", default=None, type=click.Path(file_okay=False),
              help="Folder written by `oldphoto synthesize`.")
@click.option("--real", "real_dir", default=None, type=click.Path(file_okay=False),
              help="Folder of real old photos (no-reference metrics, domain gap).")
@click.option("--metrics", "metric_spec", default="psnr,ssim,lpips,fid,brisque,niqe,wasserstein", show_default=True,
              help="Comma-separated metric names; ones that cannot be created (missing weights) "
                   "are reported and left out.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Run folder (resumed when it exists).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N (models and metrics).")
@click.option("--mask", default="gt", show_default=True, type=click.Choice(["gt", "detected", "none"]),
              help="Defect masks given to the models: the dataset's, each model's detector, or none.")
@click.option("--limit", default=None, type=click.IntRange(min=1), help="Only the first N samples of each dataset.")
@click.option("--set", "overrides", multiple=True, metavar="MODEL.FIELD=VALUE",
              help="Model config override, e.g. dip.iterations=100.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
@click.option("--faces", is_flag=True,
              help="Also score aligned 256 px face crops (MTCNN on the clean images of --data) "
                   "as the dataset <name>-faces.")
@click.option("--reference", "reference_spec", default="input", show_default=True,
              help="Comma-separated model(s) every model is compared with in differences.csv (the first marks tables).")
@click.option("--resamples", default=1000, show_default=True, type=click.IntRange(min=2),
              help="Bootstrap resamples of per-image means.")
@click.option("--set-resamples", "set_resamples", default=200, show_default=True, type=click.IntRange(min=2),
              help="Bootstrap resamples of set-level metrics (each recomputes the distance).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Local Dask workers (--engine dask without --scheduler).")
@_engine_options
def benchmark_cmd(model_spec, data_dir, real_dir, metric_spec, out_dir, device, mask, limit, overrides, no_progress,
                  faces, reference_spec, resamples, set_resamples, workers, engine, scheduler) -> None:
    """Run models over a synthesized dataset (and real photos); write per-image rows, summary.csv
    (with 95% bootstrap intervals), differences.csv (paired against --reference), models.csv,
    environment.json, restored images and report.html into --out. Exit 1 if a model failed.
    With --models all, models whose weights are not shipped are skipped (listed with the reason).
    With --engine dask, samples x models run on a Dask cluster (docs/cluster.md); set-level metrics
    are computed here."""
    from oldphoto.benchmark.intervals import Bootstrap
    from oldphoto.benchmark.report import write_report
    from oldphoto.benchmark.runner import (
        BenchmarkError,
        iter_run_lines,
        parse_model_names,
        parse_overrides,
        run_benchmark,
    )

    if engine == "pool" and workers > 1:
        raise click.UsageError("--workers applies to --engine dask only (the default engine runs in this process)")
    _check_engine(engine, scheduler, workers)
    try:
        names = parse_model_names(model_spec)
        result = run_benchmark(names, data_dir, out_dir, real=real_dir,
                               metric_names=[m for m in metric_spec.split(",") if m],
                               device=device, mask=mask, limit=limit, configs=parse_overrides(overrides),
                               progress=not no_progress, log=lambda line: click.echo(line, err=True),
                               skip_missing_weights=model_spec.strip() == "all", faces=faces,
                               references=tuple(r.strip() for r in reference_spec.split(",") if r.strip()),
                               bootstrap=Bootstrap(resamples=resamples, set_resamples=set_resamples),
                               engine=engine, workers=workers, scheduler=scheduler)
    except BenchmarkError as exc:
        raise click.ClickException(str(exc)) from None
    for line in iter_run_lines(result):
        click.echo(line)
    click.echo(f"report: {write_report(result.out)}")
    if result.failed:
        sys.exit(1)


@main.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--samples", default=12, show_default=True, type=click.IntRange(min=0),
              help="Comparison grids per dataset.")
def report_cmd(run_dir, samples) -> None:
    """(Re)write RUN_DIR/report.html from a benchmark run folder."""
    from oldphoto.benchmark.report import write_report
    from oldphoto.benchmark.rundir import RunDirError

    try:
        click.echo(f"wrote {write_report(run_dir, max_samples=samples)}")
    except RunDirError as exc:
        raise click.ClickException(str(exc)) from None


@main.group("leaderboard")
def leaderboard() -> None:
    """The committed leaderboard: leaderboard/*.csv and its generated README.md."""


@leaderboard.command("update")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--dir", "board", default="leaderboard", show_default=True, type=click.Path(file_okay=False),
              help="Leaderboard folder.")
def leaderboard_update_cmd(run_dir, board) -> None:
    """Merge a benchmark run into the leaderboard CSVs and regenerate its README.md."""
    from oldphoto.benchmark.leaderboard import update
    from oldphoto.benchmark.rundir import RunDirError

    try:
        for path in update(run_dir, board):
            click.echo(f"wrote {path}")
    except RunDirError as exc:
        raise click.ClickException(str(exc)) from None


# --- metrics and weights --------------------------------------------------------------------------

@main.group("weights")
def weights_group() -> None:
    """The metric weights cache ($OLDPHOTO_HOME, default ~/.cache/oldphoto): fetch, list, path."""


@weights_group.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--fid-weights", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Local copy of pt_inception-2015-12-05-6726825d.pth for FID/KID.")
@click.option("--force", is_flag=True, help="Fetch and convert again even when verified files exist.")
def weights_fetch_cmd(names, fid_weights, force) -> None:
    """Fetch, convert and verify weights (default: all). FID's Inception is optional: its failure only warns."""
    from oldphoto.infra import weights

    try:
        results = weights.fetch(list(names) or None, fid_weights=fid_weights, force=force)
    except weights.WeightsError as exc:
        raise click.ClickException(str(exc)) from None
    required_failed = False
    for res in results:
        optional = res.name == "fid-inception" and not fid_weights
        label = "ok" if res.ok else ("missing (optional)" if optional else "FAILED")
        click.echo(f"{res.name:14} {label}: {res.message}", err=not res.ok)
        required_failed |= not res.ok and not optional
    if required_failed:
        sys.exit(1)


@weights_group.command("list")
def weights_list_cmd() -> None:
    """Every weights file: present (sha256 verified) or missing with the reason."""
    from oldphoto.infra import weights

    for item in weights.list_weights():
        click.echo(f"{item.name:14} {'present' if item.present else 'MISSING':8} {item.path}")
        click.echo(f"{'':14} {item.detail}")


@weights_group.command("path")
@click.argument("name", required=False)
def weights_path_cmd(name) -> None:
    """Print the cache folder, or the verified path of weights NAME."""
    from oldphoto.infra import weights

    if name is None:
        click.echo(weights.weights_dir())
        return
    try:
        click.echo(weights.verify(name))
    except weights.WeightsError as exc:
        raise click.ClickException(str(exc)) from None


@bench.command("metrics")
@click.option("--size", "sizes", multiple=True, type=int, help="Square image side(s); default 256 and 512.")
@click.option("--n", default=20, show_default=True, type=click.IntRange(min=1), help="Pairs per measurement.")
@click.option("--only", default=None, help="Comma-separated metric names to measure.")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(min=1))
def bench_metrics_cmd(sizes, n, only, threads) -> None:
    """Pairs/s per metric beside piq (and torchmetrics when installed), same pairs, same run."""
    from oldphoto.benchmark.speed.metrics import bench_metrics

    try:
        for line in bench_metrics(tuple(sizes) or (256, 512), n, only.split(",") if only else None, threads):
            click.echo(line)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--only") from None


# --- models and training --------------------------------------------------------------------------

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
@click.option("--data", "data_dir", default=None, type=click.Path(file_okay=False),
              help="Folder written by `oldphoto synthesize`.")
@click.option("--source", default=None, help="`builtin` or a folder of clean photos, degraded on the fly.")
@click.option("--config", "config_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="YAML/JSON with sections `model` and `train` (defaults when omitted).")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Run folder [default: runs/MODEL].")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its checkpoint.")
@click.option("--steps", default=None, type=click.IntRange(min=1), help="Total steps (overrides the config).")
@click.option("--seed", default=None, type=click.IntRange(min=0),
              help="Run seed [default: 0; on resume, the stored one].")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N.")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.FIELD=VALUE",
              help="Override a field of the config's `model` or `train` section (repeatable), "
                   "e.g. model.mapping_weights=runs/mapping/weights.pt.")
def train_cmd(name, data_dir, source, config_file, out_dir, resume, steps, seed, device, overrides) -> None:
    """Train MODEL (a registered trainer, e.g. sequential, pix2pix); writes checkpoint.pt, log.jsonl,
    samples/*.png and weights.pt into the run folder. Launch with `torchrun` for several processes."""
    from oldphoto.infra.overrides import parse_overrides
    from oldphoto.infra.registry import UnknownNameError
    from oldphoto.models.training import CheckpointError, get_trainer, train_from_config

    try:
        get_trainer(name)
    except UnknownNameError as exc:
        raise click.BadParameter(str(exc), param_hint="MODEL") from None
    out = Path(out_dir) if out_dir else Path("runs") / name
    try:
        sections = parse_overrides(overrides, owner="SECTION", example="train.steps=500")
        result = train_from_config(name, config_file, out, data_dir=data_dir, source=source, resume=resume,
                                   steps=steps, seed=seed, device=device, overrides=sections)
    except (CheckpointError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    losses = ", ".join(f"{k} {v:.4f}" for k, v in result.losses.items())
    click.echo(f"trained {name} to step {result.step} in {result.seconds:.0f} s ({losses}); run folder {result.out}")
    if result.weights:
        click.echo(f"inference weights: {result.weights}")


# --- restore and its benchmark --------------------------------------------------------------------

@main.command("restore")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--model", default="bopbtl", show_default=True,
              help="Any model of `oldphoto models`; the bopbtl ones detect defects and keep to --max-memory.")
@click.option("--config", "config_name", default="small", show_default=True, type=click.Choice(["small", "full"]))
@click.option("--weights", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Assembled weight file instead of the shipped checkpoints.")
@click.option("--scratches", default="auto", show_default=True, type=click.Choice(["auto", "off"]),
              help="auto: detect defects at full resolution and fill them; off: no detection.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N.")
@click.option("--save-masks", is_flag=True, help="Write the detected defect masks to OUT/masks/NAME.png.")
@click.option("--max-memory", "max_memory", default=None, type=float, metavar="GB",
              help="Working-memory budget on the device [default: 80% of a GPU, 4 GB on the CPU].")
@click.option("--grey-to-colour", is_flag=True, help="Let grey inputs come out in colour (default: they stay grey).")
@click.option("--faces", is_flag=True, help="Refine faces with the bopbtl-face stage.")
@click.option("--force", is_flag=True, help="Restore every file anew, replacing files in OUT (never an input).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def restore_cmd(inputs, out_dir, model, config_name, weights, scratches, device, save_masks, max_memory,
                grey_to_colour, faces, force, no_progress) -> None:
    """Restore photos of any size (files or folders) into OUT/NAME.png with OUT/restore.json (a repeated
    stem gets -2, -3...). A file that fails is reported and the others go on; exit 1 if any failed or
    was skipped. A rerun into OUT with the same options resumes: files restored before are kept."""
    from oldphoto.apps.restore import RestoreOptions, restore_files
    from oldphoto.models import CheckpointError

    found = _expand_inputs(inputs, out_dir)
    try:
        options = RestoreOptions(model=model, config=config_name, scratches=scratches, device=device,
                                 save_masks=save_masks, max_memory_gb=max_memory, grey_to_colour=grey_to_colour,
                                 faces=faces, weights=weights)
        records = restore_files(found.files, out_dir, options, progress=not no_progress,
                                log=lambda line: click.echo(line, err=True), force=force)
    except (CheckpointError, KeyError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    failed = sum(1 for r in records if r["error"] is not None)
    kept = sum(1 for r in records if r.get("resumed"))
    resumed = f", {kept} kept from an earlier run" if kept else ""
    skipped = f", {len(found.skipped)} skipped" if found.skipped else ""
    click.echo(f"restored {len(records) - failed} of {len(records)} file(s) into {out_dir}{resumed}{skipped} "
               "(report: restore.json)")
    if failed or found.skipped:
        sys.exit(1)


@bench.command("restore")
@click.option("--sizes", default="1,4,12,24", show_default=True, help="Comma-separated sizes in megapixels.")
@click.option("--config", "config_name", default="small", show_default=True, type=click.Choice(["small", "full"]))
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N.")
@click.option("--branches", default="patch-attention,partial-nonlocal,local", show_default=True,
              help="Comma-separated global branches: patch-attention, partial-nonlocal, local.")
@click.option("--max-memory", "max_memory", default=None, type=float, metavar="GB", help="As for `oldphoto restore`.")
@click.option("--timeout", default=None, type=float, help="Seconds allowed per measurement.")
def bench_restore_cmd(sizes, config_name, device, branches, max_memory, timeout) -> None:
    """Seconds and peak memory of detection + restoration per size and global branch (random weights),
    beside the memory of the reference's dense N x N attention."""
    from oldphoto.benchmark.speed.restore import bench_restore

    try:
        size_list = [float(s) for s in sizes.split(",") if s]
        branch_list = [b for b in branches.split(",") if b]
        for line in bench_restore(size_list, branch_list, config_name, device, max_memory, timeout):
            click.echo(line)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


# --- realism check and claims study (commands in benchmark/cli_study.py) --------------------------

for command in STUDY_COMMANDS:
    main.add_command(command)


if __name__ == "__main__":
    main()
