"""Command-line wrappers of the realism check and the claims study (registered by ``oldphoto.cli``).

Only click is imported here; the library modules are imported inside the commands.
"""

from __future__ import annotations

import click

BOOTSTRAP_OPTIONS = [
    click.option("--resamples", default=1000, show_default=True, type=click.IntRange(min=2),
                 help="Bootstrap resamples of cheap statistics (means)."),
    click.option("--set-resamples", "set_resamples", default=200, show_default=True, type=click.IntRange(min=2),
                 help="Bootstrap resamples of set distances (KID, FD, Wasserstein: each recomputes the distance)."),
    click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Crop and bootstrap seed."),
]


def bootstrap_options(command):
    for option in reversed(BOOTSTRAP_OPTIONS):
        command = option(command)
    return command


@click.command("realism")
@click.option("--preset", "presets", multiple=True, required=True, metavar="NAME",
              help="Degradation preset to compare (repeat for several; see `oldphoto presets`).")
@click.option("--real", "real_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Folder of real old photos.")
@click.option("--source", default="builtin", show_default=True, help="Clean photos: builtin, folder, voc, div2k, ffhq.")
@click.option("--root", default=None, type=click.Path(file_okay=False), help="Source folder (all but builtin).")
@click.option("--split", default=None, help="voc: train/val/trainval; div2k, ffhq: train/val.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder (resumed).")
@click.option("--crop", default=256, show_default=True, type=click.IntRange(min=16), help="Square crop side in px.")
@click.option("--per-image", "per_image", default=8, show_default=True, type=click.IntRange(min=1),
              help="Crops per source photo.")
@click.option("--real-per-image", "real_per_image", default=16, show_default=True, type=click.IntRange(min=1),
              help="Crops per real photo.")
@click.option("--limit", default=None, type=click.IntRange(min=1), help="Only the first N source photos.")
@bootstrap_options
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N (features, detector).")
@click.option("--detector", default="bopbtl", show_default=True,
              help="Model whose defect detector gives the coverage statistics; `none` to leave them out.")
@click.option("--no-figures", is_flag=True, help="Write no PNG figures (no matplotlib needed).")
def realism_cmd(presets, real_dir, source, root, split, out_dir, crop, per_image, real_per_image, limit, resamples,
                set_resamples, seed, device, detector, no_figures) -> None:
    """How close each preset's degraded crops come to real old photos: KID / FD on VGG16 features
    (FID, KID on Inception where its weights are present), noise power spectrum, grain, colour cast
    and defect coverage, each with a 95% bootstrap interval. Writes realism.csv, realism_pairs.csv,
    realism.json and figures/*.png into --out."""
    from oldphoto.benchmark.intervals import Bootstrap
    from oldphoto.benchmark.realism import RealismError, realism

    try:
        result = realism(list(presets), real_dir, out_dir, source=source, root=root, split=split, crop=crop,
                         per_image=per_image, real_per_image=real_per_image, limit=limit, seed=seed,
                         bootstrap=Bootstrap(resamples=resamples, set_resamples=set_resamples, seed=seed),
                         device=device, detector=None if detector == "none" else detector, figures=not no_figures,
                         log=lambda line: click.echo(line, err=True))
    except (RealismError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    for line in result.lines():
        click.echo(line)


@click.group("study")
def study() -> None:
    """Studies that put the paper's claims to the test on our data."""


@study.command("claims")
@click.option("--real", "real_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Folder of real old photos (latent gap and realism).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Study folder (resumed).")
@click.option("--leaderboard", "board", default="leaderboard", show_default=True, type=click.Path(file_okay=False),
              help="Folder claims.md is written into.")
@click.option("--source", default="builtin", show_default=True, help="Clean photos: builtin, folder, voc, div2k, ffhq.")
@click.option("--root", default=None, type=click.Path(file_okay=False), help="Source folder (all but builtin).")
@click.option("--split", default=None, help="voc: train/val/trainval; div2k, ffhq: train/val.")
@click.option("--per-image", "per_image", default=20, show_default=True, type=click.IntRange(min=1),
              help="Crops per source photo (builtin: 14 photos, so 280 crops).")
@click.option("--crop", default=256, show_default=True, type=click.IntRange(min=16), help="Square crop side in px.")
@click.option("--real-per-image", "real_per_image", default=16, show_default=True, type=click.IntRange(min=1),
              help="Crops per real photo for the realism check.")
@click.option("--limit", default=None, type=click.IntRange(min=1), help="Only the first N source photos.")
@click.option("--baselines", default="input,classical,sequential,pix2pix", show_default=True,
              help="Comma-separated baseline models of claim (a) (dip takes hours here: --set dip.iterations=...).")
@click.option("--set", "overrides", multiple=True, metavar="MODEL.FIELD=VALUE", help="Model config override.")
@click.option("--memory-mp", "memory_mp", default=1.0, show_default=True, type=click.FloatRange(min=0.01),
              help="Photo size of the memory measurement of claim (c), megapixels.")
@bootstrap_options
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N (models and metrics).")
def claims_cmd(real_dir, out_dir, board, source, root, split, per_image, crop, real_per_image, limit, baselines,
               overrides, memory_mp, resamples, set_resamples, seed, device) -> None:
    """Rerun the paper's claims on our data (synthesized crops, the shipped weights, real old photos) and
    write LEADERBOARD/claims.md: each claim, its evidence with 95% intervals and a verdict."""
    from oldphoto.benchmark.intervals import Bootstrap
    from oldphoto.benchmark.realism import RealismError
    from oldphoto.benchmark.runner import BenchmarkError, parse_model_names, parse_overrides
    from oldphoto.benchmark.study import run_study

    try:
        path = run_study(out_dir, real_dir, board, source=source, root=root, split=split, per_image=per_image,
                         crop=crop, real_per_image=real_per_image, limit=limit, seed=seed,
                         baselines=tuple(parse_model_names(baselines)), configs=parse_overrides(overrides),
                         memory_mp=memory_mp, bootstrap=Bootstrap(resamples=resamples, set_resamples=set_resamples,
                                                                  seed=seed),
                         device=device, log=lambda line: click.echo(line, err=True))
    except (BenchmarkError, RealismError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path}")


COMMANDS = [realism_cmd, study]
