"""Held-out quality of a bopbtl-fusion run against its training CPU time (run by train.sh).

Usage: python fusion_curve.py WORK MODEL [RUN]
Reads the checkpoint snapshots ``WORK/RUN/ckpt-*.pt`` (RUN: ``fusion-MODEL``, the first phase, unless
given, e.g. ``fusion2-MODEL``) (copies of ``checkpoint.pt`` taken
as the run wrote them), the run's last ``checkpoint.pt`` and the exports of the frozen parts in
``WORK``; for each snapshot, the mean PSNR (dB) of the restored held-out crops (``WORK/heldout``,
``WORK/heldout-grey``, ground-truth masks; the crops' sides are multiples of 4, so no padding) and
of the undegraded ones (``WORK/heldout-clean``, ``WORK/heldout-grey-clean``). Writes
``WORK/RUN/curve.tsv``: step, CPU hours of the run (one thread), the four PSNRs.
"""

import sys
from pathlib import Path

import torch

from oldphoto.datasets.torch import PairedDataset
from oldphoto.models.bopbtl.configs import get_config
from oldphoto.models.bopbtl.model import VARIANTS, BopbtlNet
from oldphoto.models.bopbtl.parts import load_stage_weights
from oldphoto.models.training import load_checkpoint

SETS = ("heldout", "heldout-grey", "heldout-clean", "heldout-grey-clean")


def frozen_net(work: Path, model: str) -> BopbtlNet:
    net = BopbtlNet(get_config("small").variant(*VARIANTS[model]))
    for module, stage, run, part in ((net.vae_old, "bopbtl-vae-old", "vae-old", "vae"),
                                     (net.vae_clean, "bopbtl-vae-clean", "vae-clean", "vae"),
                                     (net.mapping, "bopbtl-mapping", f"mapping-{model}", "mapping")):
        load_stage_weights(module, stage, work / run / "weights.pt", net.config, part)
    return net.eval()


def translated_items(net: BopbtlNet, data: PairedDataset) -> list[tuple[torch.Tensor, ...]]:
    """(input, translation, mask, clean) per crop: the frozen parts run once, not once per snapshot."""
    items = []
    with torch.inference_mode():
        for item in data:
            image, mask = item["degraded"][None], item["masks"][-1:][None].float()
            items.append((image, net.translate(image, mask), mask, item["clean"][None]))
    return items


def mean_psnr(net: BopbtlNet, items: list[tuple[torch.Tensor, ...]]) -> float:
    values = []
    with torch.inference_mode():
        for image, translated, mask, clean in items:
            restored = net.fusion(image, translated, mask).clamp(0, 1).mul(255).round().div(255)
            mse = (restored - clean).pow(2).mean()
            values.append(float(10 * torch.log10(1 / mse.clamp_min(1e-10))))
    return sum(values) / len(values)


def main(work: str, model: str, run_name: str | None = None) -> None:
    work = Path(work)
    run = work / (run_name or f"fusion-{model}")
    net = frozen_net(work, model)
    items = {name: translated_items(net, PairedDataset(work / name)) for name in SETS}
    rows = ["step\tcpu_hours\t" + "\t".join(f"psnr_{name}" for name in SETS)]
    snapshots = {}
    for path in [*sorted(run.glob("ckpt-*.pt")), run / "checkpoint.pt"]:  # the last one may have no snapshot
        payload = load_checkpoint(path)
        snapshots[int(payload["step"])] = payload
    for step, payload in sorted(snapshots.items()):
        net.fusion.load_state_dict(payload["state"]["modules"]["fusion"])
        values = [mean_psnr(net, items[name]) for name in SETS]
        rows.append(f"{step}\t{payload.get('seconds', 0.0) / 3600:.3f}\t" + "\t".join(f"{v:.2f}" for v in values))
        print(rows[-1], flush=True)
    (run / "curve.tsv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
