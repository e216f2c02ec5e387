"""`oldphoto study claims`: the paper's claims measured on our data, written to ``leaderboard/claims.md``.

The protocol (every step resumes from ``OUT`` when rerun; docs/intervals-and-realism.md):

1. ``OUT/data``: ``synthesize`` of the source (builtin: its 14 photos) with ``bopbtl-paper``,
   ``per_image`` crops of ``crop`` px per photo (20 x 256 px by default: 280 crops), seed ``seed``.
2. ``OUT/run``: ``oldphoto benchmark`` of the baselines, ``bopbtl``, ``bopbtl-pnl``, ``bopbtl-local``
   and ``bopbtl-ae`` (skipped, with the reason, when its weights are not shipped) with the ground-truth
   masks; metrics psnr, ssim, lpips, their ``-defects`` / ``-outside`` variants, wasserstein (and fid
   where its weights are present); paired differences against input, bopbtl and bopbtl-local.
3. ``OUT/latent_gap.csv``: the latent gap (``wasserstein-latent``) of bopbtl and bopbtl-ae between
   the real photos and the synthetic degraded crops, with bootstrap intervals.
4. ``OUT/memory.json``: ``oldphoto bench restore`` of the patch-attention and partial-nonlocal
   branches on one ``memory_mp`` megapixel photo, each in a fresh process.
5. ``OUT/realism``: ``oldphoto realism`` of bopbtl-paper and bopbtl-code against crops of the real photos.

Then :mod:`oldphoto.benchmark.claims` turns the measurements into verdicts. Timings go to
``OUT/study.json``; claims.md holds no date or timing, so a rerun on the same code and weights writes
the same bytes.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from oldphoto.infra.files import write_bytes

from . import claims, rundir
from .claims import Claim, Evidence, evidence_table
from .intervals import Bootstrap, set_draws

FULL, PNL, LOCAL, AE = "bopbtl", "bopbtl-pnl", "bopbtl-local", "bopbtl-ae"
BASELINES = ("input", "classical", "sequential", "pix2pix")  # dip: about 1100 s/MP on a CPU, add it by name
PAIRED = ("psnr", "ssim", "lpips")
DEFECTS = ("psnr-defects", "ssim-defects", "lpips-defects")
OUTSIDE = ("psnr-outside", "ssim-outside", "lpips-outside")
METRICS = (*PAIRED, *DEFECTS, *OUTSIDE, "fid", "wasserstein")
PRESETS = ("bopbtl-paper", "bopbtl-code")
FEATURE_STATS = ("fid", "kid", "kid-vgg16", "fd-vgg16")
# How much worse patch attention may be and still "match" partial nonlocal, and what counts as "a
# fraction of the memory" (its working memory over partial nonlocal's).
MATCH_MARGINS = {"psnr": 0.5, "ssim": 0.01, "lpips": 0.01}
MEMORY_FRACTION = 0.5
PAPER_GAP = {"AE two-stage": 1.432, "full (VAE)": 0.581}
GAP_COLUMNS = ("model", "gap", "ci_low", "ci_high", "n_real", "n_synthetic", "resamples", "seed", "convention", "error")


def _relative(text: str) -> str:
    """``text`` without this machine's paths: the checkout's (messages name shipped files) and the
    weights cache's (``$OLDPHOTO_HOME``)."""
    from oldphoto.infra import weights

    return text.replace(str(Path(__file__).resolve().parent.parent) + os.sep, "").replace(str(weights.home()),
                                                                                         "$OLDPHOTO_HOME")


def study_metrics() -> tuple[str, ...]:
    """:data:`METRICS`, without fid when its Inception weights are absent (said once, in claims.md)."""
    from oldphoto.infra import weights

    try:
        weights.verify("fid-inception")
    except weights.WeightsError:
        return tuple(m for m in METRICS if m != "fid")
    return METRICS


def _differences(run: dict, model: str, reference: str, metrics: tuple[str, ...], label: str,
                 winner_is_model: bool, margins: dict | None = None) -> list[Evidence]:
    info = run["run"]["metrics"]
    rows = {d["metric"]: d for d in run["differences"] if (d["model"], d["reference"]) == (model, reference)}
    return [Evidence.from_difference(rows[m], label, info[m]["higher_is_better"], winner_is_model,
                                     (margins or {}).get(m, 0.0)) for m in metrics if m in rows]


def _failed(run: dict, models: list[str]) -> dict[str, str]:
    """Models of ``models`` that did not finish, with their status and error."""
    status = {s["model"]: s for s in run["models"]}
    return {m: (f"{status[m]['status']}: {_relative(status[m]['error'])}" if m in status else "not run")
            for m in models if m not in status or status[m]["status"] != "ok"}


def claim_a(run: dict, baselines: list[str]) -> Claim:
    set_level = [m for m in ("fid", "wasserstein") if any(s["metric"] == m for s in run["summary"])]
    metrics = [*PAIRED, *set_level]
    missing = _failed(run, [FULL, *baselines])
    rows = {b: _differences(run, b, FULL, tuple(metrics), b, winner_is_model=False)
            for b in baselines if b not in missing}
    evidence = [e for es in rows.values() for e in es]
    body = evidence_table({f"`{FULL}` − `{b}`": es for b, es in rows.items()}, metrics, "difference")
    body += [""] + [f"Not measured: `{m}` ({why})." for m, why in missing.items()]
    verdict = claims.UNAVAILABLE if FULL in missing else claims.verdict(evidence)
    return Claim("a", f"The full model (`{FULL}`) beats every baseline on PSNR, SSIM, LPIPS and a set-level score",
                 verdict, f"supported when `{FULL}` is better than every baseline on every metric "
                 f"({', '.join(metrics)}; "
                 "the set-level score is FID where its weights are present, else the sliced Wasserstein distance on "
                 "VGG16 features); not supported when a baseline is better on one; otherwise inconclusive.",
                 body, missing.get(FULL, ""))


def claim_b(run: dict) -> Claim:
    missing = _failed(run, [PNL, LOCAL])
    inside = _differences(run, PNL, LOCAL, DEFECTS, "inside the defect masks", winner_is_model=True)
    outside = _differences(run, PNL, LOCAL, OUTSIDE, "outside them (context, not in the verdict)", winner_is_model=True)
    body = evidence_table({f"`{PNL}` − `{LOCAL}`, inside the masks": inside}, list(DEFECTS), "region")
    body += [""] + evidence_table({f"`{PNL}` − `{LOCAL}`, outside (context)": outside}, list(OUTSIDE), "region")
    return Claim("b", f"Partial nonlocal (`{PNL}`) beats local-only (`{LOCAL}`) inside defect regions",
                 claims.UNAVAILABLE if missing else claims.verdict(inside),
                 "PSNR, SSIM and LPIPS restricted to each crop's ground-truth defect mask (crops without defects "
                 f"have no value); supported when `{PNL}` is better on all three.", body,
                 "; ".join(f"`{m}` {why}" for m, why in missing.items()))


def claim_c(run: dict, memory: dict) -> Claim:
    missing = _failed(run, [FULL, PNL])
    quality = _differences(run, PNL, FULL, PAIRED, "quality", winner_is_model=False, margins=MATCH_MARGINS)
    body = evidence_table({f"`{FULL}` − `{PNL}`": quality}, list(PAIRED), "difference")
    rows, work = [], {}
    for branch, result in memory.items():
        if "error" in result:
            rows.append(f"| {branch} | error: {_relative(result['error'])} | | |")
            continue
        work[branch] = result["peak_bytes"] - result["baseline_bytes"]
        rows.append(f"| {branch} | {result['peak_bytes'] / 2**30:.2f} | {work[branch] / 2**30:.2f} | "
                    f"{result['total_s']:.1f} |")
    mp = next((r["megapixels"] for r in memory.values() if "megapixels" in r), math.nan)
    body += ["", f"Memory on one {mp:g} MP photo (`oldphoto bench restore`, CPU peak RSS of a fresh process; working "
             "memory = peak minus the process's resident memory before the photo):", "",
             "| branch | peak GiB | working GiB | seconds |", "|---|---:|---:|---:|", *rows]
    if len(work) == 2:
        ratio = work["patch-attention"] / work["partial-nonlocal"]
        body += ["", f"Working-memory ratio patch attention / partial nonlocal: {ratio:.2f}."]
        memory_verdict = claims.SUPPORTED if ratio <= MEMORY_FRACTION else claims.NOT_SUPPORTED
    else:
        memory_verdict = claims.UNAVAILABLE
    quality_verdict = claims.UNAVAILABLE if missing else claims.verdict(quality)
    margins = ", ".join(f"{m} {v:g}" for m, v in MATCH_MARGINS.items())
    return Claim("c", f"Patch attention (`{FULL}`) matches partial nonlocal (`{PNL}`) at a fraction of the memory",
                 claims.combine(quality_verdict, memory_verdict),
                 f"quality matches when, on each of PSNR, SSIM and LPIPS, the interval of `{FULL}` − `{PNL}` rules out "
                 f"`{FULL}` being worse by more than a margin ({margins}); a fraction of the memory: working memory at "
                 f"most {MEMORY_FRACTION:g} x. Both must hold.", body,
                 f"quality: {quality_verdict}; memory: {memory_verdict}")


def claim_d(gaps: list[dict], bootstrap: Bootstrap) -> Claim:
    by_model = {g["model"]: g for g in gaps}
    lines = ["| model | latent gap (sliced W2) | 95% interval | real photos | synthetic crops |",
             "|---|---:|---|---:|---:|"]
    for g in gaps:
        lines.append(f"| `{g['model']}` | {g['gap']:.4g} | [{g['ci_low']:.4g}, {g['ci_high']:.4g}] | {g['n_real']} | "
                     f"{g['n_synthetic']} |"
                     if not g["error"] else f"| `{g['model']}` | unavailable: {g['error']} | | | |")
    paper = ", ".join(f"{k} {v}" for k, v in PAPER_GAP.items())
    lines += ["", f"The paper's ablation (its own latent features, not comparable in scale): {paper}."]
    unavailable = [g for g in gaps if g["error"]]
    if unavailable:
        verdict, why = claims.UNAVAILABLE, "; ".join(f"`{g['model']}`: {g['error']}" for g in unavailable)
    else:
        ae, full = by_model[AE], by_model[FULL]
        diff = full["draws"] - ae["draws"]
        evidence = Evidence("latent gap", "wasserstein-latent", full["gap"] - ae["gap"],
                            *bootstrap.interval(diff), higher_is_better=False)
        lines = evidence_table({f"`{FULL}` − `{AE}`": [evidence]}, ["wasserstein-latent"], "difference") + [""] + lines
        verdict, why = claims.verdict([evidence]), ""
    return Claim("d", f"VAE latent translation (`{FULL}`) narrows the real/synthetic latent gap compared with plain "
                 f"autoencoders (`{AE}`)", verdict,
                 f"supported when the interval of the gap difference `{FULL}` − `{AE}` is below 0 (both encoders "
                 "resampled with the same draws of real photos and synthetic crops).", lines, why)


def claim_e(realism_rows: list[dict], pairs: list[dict], unavailable: dict) -> Claim:
    paper, code = PRESETS
    pair = {p["statistic"]: p for p in pairs if (p["preset"], p["other"]) == (paper, code)}
    evidence = [Evidence(f"{paper} − {code}", s, p["difference"], p["ci_low"], p["ci_high"], higher_is_better=False)
                for s, p in pair.items() if s in FEATURE_STATS]
    others = [Evidence(f"{paper} − {code}", s, p["difference"], p["ci_low"], p["ci_high"], higher_is_better=False)
              for s, p in pair.items() if s not in FEATURE_STATS]
    label = f"`{paper}` − `{code}`, distance to real"
    body = evidence_table({label: evidence}, [e.metric for e in evidence], "feature distances")
    body += ["", "Per statistic (what to change in a preset; not in the verdict):", "",
             *evidence_table({label: others}, [e.metric for e in others], "statistic")]
    rows = {(r["preset"], r["statistic"]): r for r in realism_rows}
    body += ["", "| statistic | unit | " + " | ".join(f"{p} distance [95%]" for p in PRESETS) + " |",
             "|---|---|" + "---|" * len(PRESETS)]
    for stat in dict.fromkeys(r["statistic"] for r in realism_rows):
        cells = [f"{rows[(p, stat)]['distance']:.4g} "
                 f"[{rows[(p, stat)]['ci_low']:.4g}, {rows[(p, stat)]['ci_high']:.4g}]"
                 for p in PRESETS]
        body.append(f"| {stat} | {rows[(paper, stat)]['unit']} | " + " | ".join(cells) + " |")
    reasons: dict[str, list[str]] = {}
    for name, reason in unavailable.items():
        reasons.setdefault(_relative(reason), []).append(name)
    body += [""] + [f"Left out: {', '.join(names)} ({reason})." for reason, names in reasons.items()]
    return Claim("e", f"The paper-style preset (`{paper}`) is closer to real old photos than the released code's "
                 f"recipe (`{code}`)", claims.verdict(evidence),
                 "distances between each preset's degraded crops and crops of the real photos (paired over the same "
                 f"source crops); supported when `{paper}` is closer on every feature distance "
                 f"({', '.join(e.metric for e in evidence)}).", body)


def latent_gaps(real: str | os.PathLike, data: Path, bootstrap: Bootstrap, device: str,
                log: Callable[[str], None]) -> list[dict]:
    """The latent-gap rows of bopbtl and bopbtl-ae (with their bootstrap draws in ``draws``)."""
    from oldphoto import models

    from .data import load_paired, load_real
    from .domain_gap import LatentGap
    from .scoring import MetricFailures

    failures = MetricFailures(log)
    gap = LatentGap(load_real(real), load_paired(data), failures, log)
    out = []
    for name in (FULL, AE):
        row = {"model": name, "gap": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n_real": len(gap.real.samples),
               "n_synthetic": len(gap.synthetic.samples), "resamples": bootstrap.set_resamples, "seed": bootstrap.seed,
               "convention": gap.convention, "error": "", "draws": None}
        try:
            rows = gap.score(name, models.create(name, device=device))
        except Exception as exc:  # noqa: BLE001 - a model without weights is reported, not fatal
            row["error"] = _relative(f"{type(exc).__name__}: {exc}")
            out.append(row)
            continue
        if not rows:
            row["error"] = _relative(next(iter(failures.errors.values()), {}).get("first_error", "no latent codes"))
        else:
            row["gap"] = rows[0]["mean"]
            row["draws"] = set_draws(gap.metric.distance, *gap.metric.feature_sets(), bootstrap, paired=False)
            row["ci_low"], row["ci_high"] = bootstrap.interval(row["draws"])
        out.append(row)
    return out


@dataclass
class StepTimer:
    """Runs the study's steps: logs each one's start and end and keeps its wall time (s) in ``seconds``."""

    log: Callable[[str], None]
    seconds: dict[str, float] = field(default_factory=dict)

    def __call__(self, step: str, func: Callable, *args, **kwargs):
        began = time.perf_counter()
        self.log(f"study: {step} ...")
        result = func(*args, **kwargs)
        self.seconds[step] = round(time.perf_counter() - began, 1)
        self.log(f"study: {step} done in {self.seconds[step]:.0f} s")
        return result


def run_study(out: str | os.PathLike, real: str | os.PathLike, board: str | os.PathLike = "leaderboard",
              source: str = "builtin", root: str | os.PathLike | None = None, split: str | None = None,
              per_image: int = 20, crop: int = 256, real_per_image: int = 16, limit: int | None = None, seed: int = 0,
              baselines: tuple[str, ...] = BASELINES, configs: dict | None = None, memory_mp: float = 1.0,
              bootstrap: Bootstrap = Bootstrap(), device: str = "auto", log: Callable[[str], None] = print) -> Path:
    """Run the protocol of the module notes into ``out`` and write ``board/claims.md``; returns its path.
    ``limit``: only the first N source photos; ``configs``: model config overrides (e.g. for ``dip``)."""
    from oldphoto.datasets.sources import make_source
    from oldphoto.datasets.synthesize import synthesize

    from .realism import realism
    from .runner import environment, run_benchmark
    from .speed.restore import run_isolated

    out = Path(out)
    timed = StepTimer(log)
    data = out / "data"
    summary = timed("data", synthesize, make_source(source, root, split), data, preset=PRESETS[0], seed=seed, crop=crop,
                    per_image=per_image, limit=limit, progress=False)
    names = [*baselines, FULL, PNL, LOCAL, AE]
    timed("benchmark", run_benchmark, names, data, out / "run", metric_names=study_metrics(), device=device, mask="gt",
          configs=configs, progress=False, log=log, skip_missing_weights=True, references=("input", FULL, LOCAL),
          bootstrap=bootstrap)
    run = rundir.load_run(out / "run")
    gaps = timed("latent gap", latent_gaps, real, data, bootstrap, device, log)
    rundir.write_csv(out / "latent_gap.csv", GAP_COLUMNS, gaps)
    memory = timed("memory", lambda: {b: run_isolated(memory_mp, b, "small", "cpu", None, 1800)
                                      for b in ("patch-attention", "partial-nonlocal")})
    rundir.write_json(out / "memory.json", memory)
    looks = timed("realism", realism, list(PRESETS), real, out / "realism", source=source, root=root, split=split,
                  crop=crop, per_image=per_image, real_per_image=real_per_image, limit=limit, seed=seed,
                  bootstrap=bootstrap, device=device, log=log)
    env = environment()
    results = [claim_a(run, list(baselines)), claim_b(run), claim_c(run, memory), claim_d(gaps, bootstrap),
               claim_e(looks.rows, looks.pairs, looks.unavailable)]
    preamble = _preamble(env, summary.written, gaps[0]["n_real"], looks.rows[0]["n_real"] if looks.rows else 0,
                         real, source, crop, per_image, seed, bootstrap, baselines)
    path = Path(board) / "claims.md"
    write_bytes(path, claims.render(results, preamble).encode())
    rundir.write_json(out / "study.json", {"seconds": timed.seconds, "claims": {c.key: c.verdict for c in results},
                                           "environment": env, "crops": summary.written})
    return path


def _preamble(env: dict, crops: int, photos: int, real_crops: int, real: str | os.PathLike, source: str, crop: int,
              per_image: int, seed: int, bootstrap: Bootstrap, baselines: tuple[str, ...]) -> list[str]:
    """claims.md's opening paragraphs: what generated it, the data, the intervals, the caveats."""
    from oldphoto import __version__

    commit = (env.get("git_commit") or "unknown")[:10] + ("+dirty" if env.get("git_dirty") else "")
    return [
        f"Generated by `oldphoto study claims` (oldphoto {__version__}, commit {commit}); do not edit by hand. Each "
        "claim of the paper is measured on our data with the shipped weights and given the verdict its evidence "
        "supports: supported, not supported, inconclusive at this n, or unavailable (the reason is named).",
        "",
        f"Data: {crops} crops of {crop} px ({per_image} per photo, seed {seed}) of source {source}, degraded "
        f"with `{PRESETS[0]}`, ground-truth masks given to the models; real old photos: {photos} photos from "
        f"`{Path(real).name}` (whole photos for the latent gap, {real_crops} crops of {crop} px for realism). "
        f"Intervals: 95% percentile bootstrap, {bootstrap.resamples} resamples of per-image means and "
        f"{bootstrap.set_resamples} of set-level distances, seed {bootstrap.seed}; p-values: two-sided Wilcoxon "
        f"signed-rank. Baselines: {', '.join(f'`{b}`' for b in baselines)} (`dip`, about 1100 s/MP on a CPU, only "
        "when named). Run folder layout and conventions: docs/intervals-and-realism.md.",
        "",
        "Caveats: crops of one photo are not independent samples, so intervals over crops are narrower than "
        "intervals over photos would be; the builtin photos are among the photos the shipped checkpoints were "
        "trained on (other crops and degradations), and the real photos were the real domain of `bopbtl`'s old-photo "
        "VAE; the shipped checkpoints are small CPU-trained ones (their model cards), so a verdict here is about "
        "these weights, not about the method at the paper's scale.",
    ]
