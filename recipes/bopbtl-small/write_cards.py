"""Model cards of the shipped bopbtl-small checkpoints (run by train.sh after training).

Usage: python write_cards.py WORK DATE HARDWARE
WORK: train.sh's work folder: ``photos.tsv``, ``heldout.tsv``, ``heldout-grey.tsv``, one run folder
per stage (each with ``weights.pt`` and ``log.jsonl``; a fusion run also ``curve.tsv``), the held-out
datasets (``heldout/``, ``heldout-grey/`` and their undegraded twins ``*-clean/``) and their
``oldphoto benchmark`` runs ``<set>-run/``. Every figure in a card is read from those files or measured here (the
detector's precision and recall on the held-out masks, with the shipped files); the cards are written
beside the shipped files, ``models/checkpoints/bopbtl-small/<model>.md``.
"""

import csv
import re
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import torch

from oldphoto import models
from oldphoto.datasets.imageio import read_rgb
from oldphoto.datasets.masks import read_masks
from oldphoto.datasets.synthesize import read_manifest
from oldphoto.models.bopbtl.restore import PhotoRestorer
from oldphoto.models.tensors import image_to_tensor

REPO = "models/checkpoints/bopbtl-small"  # the shipped exports, run configs and cards, from the repository root
HERE = Path(__file__).resolve().parents[2] / REPO
RECIPE = "recipes/bopbtl-small"
MAPPINGS = {"bopbtl": "multi-scale patch attention (TPAMI)", "bopbtl-pnl": "partial nonlocal block (CVPR)",
            "bopbtl-local": "no global branch (local ResBlocks only)"}
SHARED = {"vae-old": ("bopbtl-vae-old", "VAE1, old photos (shared by all three models)"),
          "vae-clean": ("bopbtl-vae-clean", "VAE2, clean photos (shared)"),
          "detector": ("bopbtl-detector", "Scratch detector (shared)")}
HELDOUT_SETS = {"heldout": "colour photos, `bopbtl-paper`", "heldout-grey": "grey photos, `bopbtl-paper`",
                "heldout-clean": "colour photos, undegraded (an empty pipeline)",
                "heldout-grey-clean": "grey photos, undegraded (an empty pipeline)"}
HELDOUT_MODELS = ("input", "classical", "sequential", "pix2pix", "bopbtl", "bopbtl-pnl", "bopbtl-local", "bopbtl-ae")
HELDOUT_METRICS = ("psnr", "ssim", "lpips")
TOLERANCE_PX = 2
DENOISER = "models/checkpoints/sequential-small.pt"  # starts the last fusion phase's body (train.sh)


def frozen_parts(stage: str, run: str) -> str:
    """The ``--set`` options train.sh gives ``stage`` for the frozen parts it trains on ("" for none)."""
    if stage == "bopbtl-tone":
        return f" --set model.fusion_weights=$WORK/fusion-{run.split('-', 1)[1]}/weights.pt"
    if stage not in ("bopbtl-mapping", "bopbtl-fusion"):
        return ""
    parts = (" --set model.vae_old_weights=$WORK/vae-old/weights.pt"
             " --set model.vae_clean_weights=$WORK/vae-clean/weights.pt")
    if stage == "bopbtl-fusion":
        model = run.split("-", 1)[1]
        parts += f" --set model.mapping_weights=$WORK/mapping-{model}/weights.pt"
        if run.startswith("fusion2-"):
            parts += (f" --set model.fusion_weights=$WORK/tone-{model}/weights.pt"
                      f" --set model.denoiser_weights={DENOISER}")
    return parts


def stage_section(work: Path, run: str, stage: str, title: str, shipped_as: str | None = None) -> str:
    """One ``### title`` block: command, steps, time, final losses and size of a stage's export
    (shipped as ``shipped_as``.pt, by default ``run``.pt; "" when it is not shipped)."""
    weights = work / run / "weights.pt"
    payload = torch.load(weights, map_location="cpu", weights_only=False)
    meta, cfg = payload["meta"], payload["meta"]["train_config"]
    count = sum(t.numel() for t in payload["state_dict"].values() if t.is_floating_point())
    losses = ", ".join(f"{k} {v:.4f}" for k, v in meta["final_losses"].items())
    shipped_as = run if shipped_as is None else shipped_as
    size = (f"{(HERE / f'{shipped_as}.pt').stat().st_size / 1e6:.2f} MB" if shipped_as
            else "not shipped: the next phase starts from it")
    timing = (f"{meta['train_seconds'] / 3600:.2f} h of training" if "train_seconds" in meta
              else "training time not recorded (the export predates that record)")
    if not (work / run / "log.jsonl").is_file():
        timing = f"not retrained by this run; {timing}"
    return "\n".join([
        f"### {title} (" + (f"`{shipped_as}.pt`" if shipped_as else f"run `{run}`, not shipped") + ")", "",
        f"- command: `oldphoto train {stage} --source $WORK/photos --config {REPO}/{run}.yaml --out $WORK/{run} "
        f"--device cpu --seed {meta['seed']}{frozen_parts(stage, run)}`",
        f"- steps: {meta['steps']} (batch {cfg['batch_size']}, crops {cfg['crop']} px, preset `{cfg['preset']}`, "
        f"{cfg['per_image']} samples per photo, lr {cfg['lr']}, seed {meta['seed']}); {timing}",
        f"- loss: per-image PSNR of the toned photo, capped at {cfg['tone_psnr_cap']:g} dB, on 32 px area means; "
        f"identity pairs {cfg['identity_fraction']:.0%} of the items; {cfg['grey_fraction']:.0%} of the photos "
        "turned grey before degrading"
        if stage == "bopbtl-tone"
        else f"- loss weights: L1 {cfg['l1_weight']}, KL {cfg['kl_weight']}, GAN {cfg['gan_weight']}, feature matching "
        f"{cfg['feature_matching_weight']}, VGG {cfg['perceptual_weight']}, latent GAN {cfg['latent_gan_weight']}, "
        f"latent L1 {cfg['latent_l1_weight']}"
        + (f"; identity pairs {cfg['identity_fraction']:.0%} of the items" if stage == "bopbtl-fusion" else "")
        + (f"; {cfg['grey_fraction']:.0%} of the photos turned grey before degrading"
           if cfg.get("grey_fraction") else "")
        if stage != "bopbtl-detector"
        else f"- losses: focal (gamma {cfg['focal_gamma']}) + Dice x{cfg['dice_weight']}",
        f"- final losses (mean of the last {cfg['log_every']} steps): {losses}",
        f"- {count:,} weights, float16, {size}; device `{meta['device']}`", ""])


def photo_rows(tsv: Path) -> list[list[str]]:
    """(name, origin, size) of each photo listed by prepare_photos.py."""
    return [line.split("\t") for line in tsv.read_text().splitlines() if line]


def photo_list(tsv: Path) -> list[str]:
    return [f"  - `{name}`: {size} from `{source}`" for name, source, size in photo_rows(tsv)]


def origin_counts(tsv: Path) -> str:
    """How many photos come from each package, e.g. ``14 skimage, 12 mate-backgrounds``."""
    counts = Counter(re.split(r"[:/]", source, maxsplit=1)[0] for _, source, _ in photo_rows(tsv))
    return ", ".join(f"{n} {origin}" for origin, n in counts.items())


def heldout_table(run: Path) -> list[str]:
    """Mean (std) of each metric per model from the held-out run's summary.csv, and each model's
    restoration time (s/MP, models.csv: all models timed in the same run, one CPU thread)."""
    with open(run / "summary.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["metric"] in HELDOUT_METRICS]
    with open(run / "models.csv", newline="") as f:
        speed = {r["model"]: float(r["seconds_per_mp"]) for r in csv.DictReader(f)}
    cell = {(r["model"], r["metric"]): f"{float(r['mean']):.3f} ({float(r['std']):.3f})" for r in rows}
    count = next(r["n"] for r in rows)
    lines = [f"| model ({count} crops) | " + " | ".join(f"{m} ({'higher' if m != 'lpips' else 'lower'} is better)"
                                                      for m in HELDOUT_METRICS) + " | s/MP |",
             "|---|" + "---|" * (len(HELDOUT_METRICS) + 1)]
    for model in HELDOUT_MODELS:
        if (model, "psnr") in cell:
            lines.append(f"| `{model}` | " + " | ".join(cell[(model, m)] for m in HELDOUT_METRICS)
                         + f" | {speed[model]:.3g} |")
    return lines


def detector_check(data: Path) -> list[str]:
    """Pixel precision / recall / F1 of the shipped detector against the held-out defect masks, exact
    and with a TOLERANCE_PX-pixel tolerance (a detection within it of a true defect counts, and so
    does a true defect pixel within it of a detection)."""
    photo = PhotoRestorer(models.create("bopbtl", config="small", device="cpu"))
    threshold = photo.net.config.detector.threshold
    kernel = np.ones((2 * TOLERANCE_PX + 1,) * 2, np.uint8)
    counts = np.zeros(5)
    for row in read_manifest(data):
        truth = read_masks(data / "masks" / f"{row['id']}.png")["defects"]
        found = photo.detect(read_rgb(data / "degraded" / f"{row['id']}.png")) > threshold
        near_truth = cv2.dilate(truth.astype(np.uint8), kernel) > 0
        near_found = cv2.dilate(found.astype(np.uint8), kernel) > 0
        counts += [(found & truth).sum(), found.sum(), truth.sum(), (found & near_truth).sum(),
                   (truth & near_found).sum()]
    hit, found, truth, found_near, truth_near = counts

    def row(name: str, precision: float, recall: float) -> str:
        f1 = 2 * precision * recall / max(precision + recall, 1e-12)
        return f"| {name} | {precision:.3f} | {recall:.3f} | {f1:.3f} |"

    return ["| match | precision | recall | F1 |", "|---|---|---|---|",
            row("exact pixels", hit / max(found, 1), hit / max(truth, 1)),
            row(f"within {TOLERANCE_PX} px", found_near / max(found, 1), truth_near / max(truth, 1)),
            "", f"Defect pixels: {truth:.0f} true, {found:.0f} detected (threshold {threshold})."]


def center_crop(image: np.ndarray, size: int) -> np.ndarray:
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return image[top:top + size, left:left + size]


def error_figures(restored: torch.Tensor, clean: torch.Tensor) -> tuple[float, float, np.ndarray]:
    """PSNR (dB), PSNR after 4x area down-sampling of both (tone and geometry without fine detail)
    and the mean shift per channel (restored minus clean, grey levels)."""
    error = restored.clamp(0, 1) - clean
    coarse = torch.nn.functional.avg_pool2d(restored.clamp(0, 1), 4) - torch.nn.functional.avg_pool2d(clean, 4)
    return (-10 * np.log10(max(error.pow(2).mean().item(), 1e-10)),
            -10 * np.log10(max(coarse.pow(2).mean().item(), 1e-10)),
            error.mean((0, 2, 3)).numpy() * 255)


def cause_check(work: Path) -> list[str]:
    """Each part of the shipped bopbtl chain on undegraded crops, one at a time: VAE1 and VAE2 alone
    (encode, decode), the translation (VAE1 encoder, mapping, VAE2 decoder) and the whole restorer
    with its fusion head, on the training photos' and the held-out crops' centres."""
    net = models.create("bopbtl", config="small", device="cpu").net.eval()
    parts = {"VAE1 alone": lambda x: net.vae_old.decode(net.vae_old.encode(x)[0]),
             "VAE2 alone": lambda x: net.vae_clean.decode(net.vae_clean.encode(x)[0]),
             "translation, no fusion": lambda x: net.translate(x, None), "restorer (with fusion)": lambda x: net(x)}
    sets = {"training photos": sorted((work / "photos").glob("*.png")),
            "held-out colour": sorted((work / "heldout-clean" / "clean").glob("*.png")),
            "held-out grey": sorted((work / "heldout-grey-clean" / "clean").glob("*.png"))}
    lines = ["| part | photos | n | PSNR dB | PSNR at 1/4 size dB | mean shift R, G, B |", "|---|---|---|---|---|---|"]
    for part, run in parts.items():
        for name, paths in sets.items():
            figures = []
            for path in paths:
                image = read_rgb(path)
                if min(image.shape[:2]) < 256:
                    continue
                clean = image_to_tensor(center_crop(image, 256), torch.device("cpu"))
                with torch.inference_mode():
                    figures.append(error_figures(run(clean), clean))
            fine, coarse = np.mean([f[0] for f in figures]), np.mean([f[1] for f in figures])
            shift = ", ".join(f"{v:+.1f}" for v in np.mean([f[2] for f in figures], 0))
            lines.append(f"| {part} | {name} | {len(figures)} | {fine:.2f} | {coarse:.2f} | {shift} |")
    return lines


def curve_table(work: Path, run: str) -> list[str]:
    """A fusion run's held-out PSNR at each checkpoint against its CPU hours (fusion_curve.py)."""
    rows = photo_rows(work / run / "curve.tsv")
    head = ["step", "CPU hours", "colour", "grey", "colour undegraded", "grey undegraded"]
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in rows[1:])]


def tone_hours(work: Path, model: str) -> float:
    """CPU hours of a tone-stage run: its training seconds and the reduction of its items (the
    elapsed time of the last ``tone items`` progress bar in its log ``tone-MODEL.out``)."""
    trained = torch.load(work / f"tone-{model}" / "weights.pt", map_location="cpu", weights_only=False)["meta"]
    bars = re.findall(r"tone items: 100%[^\[]*\[(\d+):(\d+)", (work / f"tone-{model}.out").read_text())
    reduced = 60 * int(bars[-1][0]) + int(bars[-1][1]) if bars else 0
    return (trained["train_seconds"] + reduced) / 3600


def rerun_note(work: Path) -> list[str]:
    """A paragraph saying which stages this run did not retrain (``train.sh mappings``), if any."""
    runs = [*SHARED, *(f"mapping-{model}" for model in MAPPINGS)]
    kept = [f"`{run}.pt`" for run in runs if not (work / run / "log.jsonl").is_file()]
    if not kept:
        return []
    return [f"This run (`train.sh mappings` or `train.sh fusion`) did not retrain {', '.join(kept)}: they are the "
            "exports of an earlier run, unchanged; their sections give the steps and final losses recorded in the "
            "exports.", ""]


def card(model: str, what: str, sections: list[str], work: Path, checks: list[str], date: str, hardware: str) -> str:
    return "\n".join([
        f"# Model card: `{model}` small ({what})", "",
        f"**Trained on a CPU.** No GPU was lent to this work: every stage ran on {hardware}, one thread per "
        f"stage, on {date}{' (the stages this run kept: earlier, see below)' if rerun_note(work) else ''}. "
        "The weights are far from the paper's 200 epochs on 256 px crops; a later issue "
        "retrains them on a GPU. Do not quote their quality as the method's.", "",
        "## How it was made", "",
        f"`sh {RECIPE}/train.sh` from the repository root: the exact script. It downloads and unpacks Debian's "
        "photo packages named below and `opencv-doc` under `/tmp`, scales the training photos with "
        "`prepare_photos.py`, "
        "trains VAE2 and then the detector beside VAE1, the three mappings side by side once both VAEs are "
        "done, then the three fusion heads side by side on top of them (three phases each), copies the exports here, "
        "runs the held-out "
        "checks and writes these cards with `write_cards.py`. "
        "Deviations from the paper's "
        "recipe, for CPU time: 96 px crops (paper 256), batch 4, perceptual (VGG) loss weight 0 (the VGG16 "
        "forward/backward dominated a CPU step) and, because the VGG term is missing, KL x0.1 in the VAEs "
        "(paper x1: without the perceptual term it held the latent's signal below its unit training noise, "
        "17.8 against 18.7 dB VAE2 reconstruction PSNR after 1000 steps), and the mappings at lr 5e-5 (paper 2e-4, "
        "at which the patch-attention mapping did not learn: latent L1 about 0.96 over its first 600 steps; "
        "docs/models.md, \"The shipped bopbtl checkpoints\"); other loss weights as the paper. "
        "The fusion heads (our addition, docs/models.md, \"Identity "
        "safety\") train with image L1 only on 96 px crops, a quarter of the items identity pairs and 30% of the "
        "photos turned grey before degrading (old prints are mostly black and white; the preset greys only 10%, "
        "after degrading), in three phases. The first trains the whole head from a zero-started residual body. "
        "The second (`bopbtl-tone`) replaces its tone stage by a fresh one trained alone: "
        "6000 batches of 64 items, each a 128 px crop reduced once to its statistics and 32 px area means, "
        "to the per-image PSNR of the toned photo capped at 40 dB, because the tone stage trained inside the "
        "head with L1 darkened bright, flat photos that were never faded (docs/bopbtl-quality.md, \"The tone "
        "stage on photos that were not faded\"); it does not depend on the rest of the head, so the four "
        "heads' tone stages, trained with the same seed on the same data, are the same. "
        "The third keeps that tone stage fixed (`freeze_tone`) and restarts the body from the `sequential` "
        f"baseline's trained denoiser (`{DENOISER}`, same 8 x 32 shape; its toned-input channels take the "
        "denoiser's first convolution, the translation and mask channels start at zero), because the first "
        "phase's body never learned to denoise: on the held-out crops its residual was uncorrelated with the "
        "noise (-0.02 on a crop with noise of 23 grey levels, against 0.81 for the denoiser), as the image L1 "
        "on these items is dominated by tone errors the body cannot see. The body comes last so that it learns "
        "behind the tone stage it ships with: a body trained behind an earlier tone stage learns to undo that "
        "stage's small shifts, and loses undegraded photos when the tone stage is replaced under it "
        "(docs/models.md, \"The shipped bopbtl checkpoints\"). "
        "Architecture: the `small` config, without the paper's InstanceNorm in the VAEs and the mapping "
        "(InstanceNorm makes the encoder blind to a crop's brightness and colour; docs/models.md, \"Normalisation\"), "
        "with residual patch fusion in the patch attention (docs/models.md, \"Patch fusion\"), "
        "and with the identity-safe "
        "fusion head after the VAE2 decoder: out = x' + m (t - x') + r(x', t, m), r a zero-started 8-layer convnet "
        "at full resolution and x' = A x + b the input after the global tone stage (a colour matrix and offset "
        "per image, predicted from whole-image statistics, zero-started); an input whose block-mean chroma varies "
        "less than the config's `monochrome` threshold (0.02) is restored as a black-and-white print, the output's "
        "BT.601 luma on every channel (no weights; docs/models.md, \"Monochrome prints\").", "",
        *rerun_note(work),
        "## Data", "",
        f"- clean photos ({len(photo_rows(work / 'photos.tsv'))}: {origin_counts(work / 'photos.tsv')}): "
        "the builtin set (scikit-image / matplotlib "
        "wheels) and the photographs of Debian `mate-backgrounds` 1.26.0-1 (nature), `plasma-workspace-wallpapers` "
        "5.27.5-2, `lomiri-wallpapers-16.04` / `-20.04` 20.04.0-2 and `gcompris-qt-data` 3.1-2 (animals, monuments, "
        "fish, objects and tools, read from its Qt resource bundles by `qt_resources.py`), scaled to a long side of at "
        "most 768 px; degraded on the fly (`OnTheFlyDataset`, presets named below); none of them is committed:",
        *photo_list(work / "photos.tsv"),
        "- real domain of VAE1's latent alignment: the 8 real scanned old photos of the team's shared folder "
        "`/work/shared/real-old/` (read at run time, not redistributable, not committed).",
        "- masks: the pixel-exact defect masks of the `bopbtl-paper` preset (scratches, holes).", "",
        "## Files and stages", "", *sections,
        "## Held-out check", "",
        "Photos no stage saw: two 256 px crops (seed 0) of each of these Debian `opencv-doc` 4.6.0 example "
        "photos (`oldphoto synthesize --source folder --per-image 2`), degraded by `bopbtl-paper` and, as a "
        "second set of the same crops, not at all (an empty pipeline). Colour:",
        *photo_list(work / "heldout.tsv"), "", "Grey (grey photos as they are, colour ones turned grey):",
        *photo_list(work / "heldout-grey.tsv"), "", *checks, ""])


def main(work: str, date: str, hardware: str) -> None:
    work_dir = Path(work)
    shared = [stage_section(work_dir, run, stage, title) for run, (stage, title) in SHARED.items()]
    restoration = ["`oldphoto benchmark --metrics psnr,ssim,lpips` with the ground-truth masks given to the "
                   "models (as in the builtin leaderboard); mean (std) over the crops (an undegraded crop the "
                   "input matches exactly has an infinite PSNR)."]
    for name, what in HELDOUT_SETS.items():
        restoration += ["", f"{what}:", "", *heldout_table(work_dir / f"{name}-run")]
    restoration += ["", "Where the chain loses a photo, part by part, on undegraded centre 256 px crops (the PSNR at "
                    "1/4 size leaves fine detail out, so a low figure there is a tone or geometry error, a low "
                    "full-size figure beside a high 1/4-size one is lost detail):", "", *cause_check(work_dir)]
    for model, what in MAPPINGS.items():
        mapping = stage_section(work_dir, f"mapping-{model}", "bopbtl-mapping", f"Mapping, {what}")
        fusion = [stage_section(work_dir, f"fusion-{model}", "bopbtl-fusion", "Fusion head, first phase", ""),
                  stage_section(work_dir, f"tone-{model}", "bopbtl-tone",
                                "Fusion head, second phase (tone stage retrained alone)", ""),
                  stage_section(work_dir, f"fusion2-{model}", "bopbtl-fusion",
                                "Fusion head, third phase (body restarted from the denoiser, behind the fixed tone "
                                "stage)", f"fusion-{model}")]
        curve = ["", "Quality per CPU hour of the fusion runs (mean PSNR in dB of the held-out crops restored by "
                 "each checkpoint's fusion head, without the monochrome rule, `fusion_curve.py`). First phase:", "",
                 *curve_table(work_dir, f"fusion-{model}"), "",
                 "The second phase trains the tone stage alone in "
                 f"{tone_hours(work_dir, model):.2f} h of one core (reducing its items included). "
                 "Third phase (CPU hours of this phase alone; its body starts from the denoiser, behind the second "
                 "phase's tone stage):", "", *curve_table(work_dir, f"fusion2-{model}")]
        text = card(model, what, [mapping, *fusion, *shared], work_dir, restoration + curve, date, hardware)
        (HERE / f"{model}.md").write_text(text)
    detection = ["The shipped detector (`PhotoRestorer.detect`, full-resolution tiles) against the crops' "
                 "`defects` masks, pixels summed over all crops:", "", *detector_check(work_dir / "heldout")]
    detector = card("bopbtl-detector", "U-Net scratch detector", [shared[-1]], work_dir, detection, date, hardware)
    (HERE / "detector.md").write_text(detector)


if __name__ == "__main__":
    main(*sys.argv[1:])
