"""bopbtl training stages on the shared loop: a few CPU steps on tiny images make the losses fall."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from oldphoto import models
from oldphoto.models.bopbtl import configs
from oldphoto.models.bopbtl.configs import BopbtlConfig
from oldphoto.models.bopbtl.mapping import Mapping
from oldphoto.models.bopbtl.train import assemble_weights, load_stage_weights
from oldphoto.models.bopbtl.vae import VAE
from oldphoto.models.training import CheckpointError, load_checkpoint, save_checkpoint, train
from oldphoto.models.weights import save_weights

torch.set_num_threads(2)

TINY = configs.BopbtlConfig(
    name="tiny",
    vae=configs.VAEConfig(channels=16, res_blocks=1),
    mapping=configs.MappingConfig(widths=(24, 32), res_blocks=1, nonlocal_res_blocks=1, patch_sizes=(4, 2),
                                  patch_res_blocks=1, attention_chunk_elements=256),
    detector=configs.DetectorConfig(base_channels=8, depth=2),
    discriminator=configs.DiscriminatorConfig(channels=8, layers=2, scales=2),
)
SIZE = 24


class ScratchedStripes(Dataset):
    """Smooth coloured stripes (clean); noise plus one white horizontal scratch (degraded, mask)."""

    def __init__(self, count: int = 8) -> None:
        rng = np.random.default_rng(0)
        yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
        self.items = []
        for _ in range(count):
            colour = rng.uniform(0.2, 0.8, (3, 1, 1))
            clean = colour * (0.5 + 0.5 * np.sin(rng.uniform(3, 9) * xx + 4 * yy))
            mask = np.zeros((1, SIZE, SIZE))
            row = rng.integers(3, SIZE - 4)
            mask[0, row: row + 2] = 1.0
            degraded = np.clip(clean + rng.normal(0, 0.08, clean.shape), 0, 1) * (1 - mask) + mask
            self.items.append({k: torch.tensor(v, dtype=torch.float32) for k, v in
                               (("degraded", degraded), ("clean", clean), ("mask", mask))})

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        return self.items[index]


@pytest.fixture()
def tiny_size(monkeypatch):
    monkeypatch.setitem(configs.CONFIGS, "tiny", TINY)
    return "tiny"


def vgg_available() -> bool:
    from oldphoto.benchmark.weights import WeightsError, verify

    try:
        verify("lpips-vgg16")
    except WeightsError:
        return False
    return True


TRAIN = {"steps": 16, "batch_size": 4, "crop": SIZE, "log_every": 1, "checkpoint_every": 0, "sample_every": 0,
         "samples": 2, "lr": 1e-3, "perceptual_weight": 0.0}


def run_stage(stage: str, out, model_config: dict, **train_overrides) -> list[dict]:
    result = train(stage, ScratchedStripes(), out, model_config=model_config, train_config={**TRAIN, **train_overrides},
                   seed=0, device="cpu", progress=False)
    assert result.weights is not None and result.weights.is_file()
    assert (out / "samples" / f"step-{TRAIN['steps']:07d}.png").is_file()
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def falls(logs: list[dict], key: str, ratio: float = 0.8) -> bool:
    """The mean of ``key`` over the last 4 steps is below ``ratio`` times that of the first 4."""
    first = np.mean([row[key] for row in logs[:4]])
    last = np.mean([row[key] for row in logs[-4:]])
    return last < ratio * first


def test_every_stage_trains_and_the_restorer_loads_the_assembled_weights(tmp_path, tiny_size):
    config = {"size": tiny_size, "model": "bopbtl-pnl"}
    # The clean VAE also trains with the VGG16 perceptual loss when the converted weights are cached.
    perceptual = 10.0 if vgg_available() else 0.0
    clean = run_stage("bopbtl-vae-clean", tmp_path / "clean", config, perceptual_weight=perceptual)
    old = run_stage("bopbtl-vae-old", tmp_path / "old", config)
    detector = run_stage("bopbtl-detector", tmp_path / "detector", config)
    assert falls(clean, "l1") and falls(old, "l1")
    assert falls(detector, "focal", 0.7) and falls(detector, "dice", 0.95)
    assert all(row["latent_d"] >= 0 and np.isfinite(row["latent_gan"]) for row in old)
    if perceptual:
        assert falls(clean, "vgg")

    mapping_config = {**config, "vae_old_weights": str(tmp_path / "old" / "weights.pt"),
                      "vae_clean_weights": str(tmp_path / "clean" / "weights.pt")}
    mapping = run_stage("bopbtl-mapping", tmp_path / "mapping", mapping_config)
    assert falls(mapping, "latent_l1")

    weights = assemble_weights("bopbtl-pnl", tiny_size, tmp_path / "old" / "weights.pt",
                               tmp_path / "clean" / "weights.pt", tmp_path / "mapping" / "weights.pt",
                               tmp_path / "detector" / "weights.pt", tmp_path / "bopbtl-pnl-tiny.pt")
    restorer = models.create("bopbtl-pnl", config=tiny_size, pretrained=str(weights), device="cpu")
    image = (ScratchedStripes()[0]["degraded"].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    assert restorer.restore(image).shape == image.shape
    with pytest.raises(CheckpointError, match="mapping"):
        assemble_weights("bopbtl", tiny_size, tmp_path / "old" / "weights.pt", tmp_path / "clean" / "weights.pt",
                         tmp_path / "mapping" / "weights.pt", tmp_path / "detector" / "weights.pt", tmp_path / "x.pt")


def test_mapping_stage_needs_the_vae_exports(tmp_path, tiny_size):
    with pytest.raises(CheckpointError, match="vae_old_weights"):
        run_stage("bopbtl-mapping", tmp_path / "m", {"size": tiny_size})
    with pytest.raises(CheckpointError, match="missing.pt"):
        run_stage("bopbtl-mapping", tmp_path / "m2", {"size": tiny_size, "vae_old_weights": str(tmp_path / "missing.pt"),
                                                      "vae_clean_weights": str(tmp_path / "missing.pt")})


def test_vae_old_stage_resumes_exactly(tmp_path, tiny_size):
    config = {"size": tiny_size, "model": "bopbtl-ae"}
    full = train("bopbtl-vae-old", ScratchedStripes(), tmp_path / "full", model_config=config,
                 train_config={**TRAIN, "steps": 4}, seed=3, device="cpu", progress=False)
    train("bopbtl-vae-old", ScratchedStripes(), tmp_path / "part", model_config=config,
          train_config={**TRAIN, "steps": 2}, seed=3, device="cpu", progress=False)
    resumed = train("bopbtl-vae-old", ScratchedStripes(), tmp_path / "part", resume=True, steps=4,
                    device="cpu", progress=False)
    assert resumed.step == 4 and resumed.losses == full.losses


def test_exports_record_the_network_and_a_changed_norm_cannot_load_them(tmp_path, tiny_size):
    run_stage("bopbtl-vae-clean", tmp_path / "clean", {"size": tiny_size})
    export = tmp_path / "clean" / "weights.pt"
    payload = load_checkpoint(export)
    assert BopbtlConfig.from_dict(payload["meta"]["network"]) == TINY
    without_norm = dataclasses.replace(TINY, vae=dataclasses.replace(TINY.vae, norm="none"))
    load_stage_weights(VAE(TINY.vae), "bopbtl-vae-clean", export, TINY, "vae")
    with pytest.raises(CheckpointError, match=f"{export}: vae was trained as .*norm='instance'.*norm='none'"):
        load_stage_weights(VAE(without_norm.vae), "bopbtl-vae-clean", export, without_norm, "vae")
    # An export from before the network was recorded names only its size: read as InstanceNorm.
    legacy = tmp_path / "legacy.pt"
    save_checkpoint(legacy, {**payload, "meta": {k: v for k, v in payload["meta"].items() if k != "network"}})
    with pytest.raises(CheckpointError, match="norm='instance'"):
        load_stage_weights(VAE(without_norm.vae), "bopbtl-vae-clean", legacy, without_norm, "vae")
    load_stage_weights(VAE(TINY.vae), "bopbtl-vae-clean", legacy, TINY, "vae")


def test_mapping_exports_from_before_patch_fusion_read_as_replace(tmp_path):
    residual = dataclasses.replace(TINY, mapping=dataclasses.replace(TINY.mapping, patch_fusion="residual"))
    network = TINY.to_dict()
    del network["mapping"]["patch_fusion"]  # recorded before the option existed: every export used replace
    export = tmp_path / "mapping.pt"
    save_weights(export, "bopbtl-mapping", {"size": "small", "model": "bopbtl"}, Mapping(TINY.mapping, 16),
                 {"network": network})
    load_stage_weights(Mapping(TINY.mapping, 16), "bopbtl-mapping", export, TINY, "mapping")
    with pytest.raises(CheckpointError, match=f"{export}: mapping was trained as .*patch_fusion='replace'"):
        load_stage_weights(Mapping(residual.mapping, 16), "bopbtl-mapping", export, residual, "mapping")
