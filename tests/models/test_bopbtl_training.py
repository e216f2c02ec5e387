"""bopbtl training stages on the shared loop: a few CPU steps on tiny images make the losses fall."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from oldphoto import models
from oldphoto.models.baselines.sequential import DnCNN
from oldphoto.models.bopbtl import configs
from oldphoto.models.bopbtl.assemble import assemble_weights
from oldphoto.models.bopbtl.configs import BopbtlConfig
from oldphoto.models.bopbtl.mapping import Mapping
from oldphoto.models.bopbtl.model import BopbtlNet
from oldphoto.models.bopbtl.parts import load_stage_weights
from oldphoto.models.bopbtl.vae import VAE
from oldphoto.models.training import CheckpointError, Stage, get_trainer, load_checkpoint, save_checkpoint, train
from oldphoto.models.training.distributed import DistInfo
from oldphoto.models.training.families.bopbtl import BopbtlTrainConfig, identity_pairs
from oldphoto.models.weights import save_weights

torch.set_num_threads(2)

TINY = configs.BopbtlConfig(
    name="tiny",
    vae=configs.VAEConfig(channels=16, res_blocks=1),
    mapping=configs.MappingConfig(widths=(24, 32), res_blocks=1, nonlocal_res_blocks=1, patch_sizes=(4, 2),
                                  patch_res_blocks=1, attention_chunk_elements=256),
    detector=configs.DetectorConfig(base_channels=8, depth=2),
    discriminator=configs.DiscriminatorConfig(channels=8, layers=2, scales=2),
    fusion=configs.FusionConfig(tone=8),
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
    from oldphoto.infra.weights import WeightsError, verify

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


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / (a.clamp(0, 1) - b).pow(2).mean()))


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
    fusion = run_stage("bopbtl-fusion", tmp_path / "fusion",
                       {**mapping_config, "mapping_weights": str(tmp_path / "mapping" / "weights.pt")},
                       gan_weight=0.0, feature_matching_weight=0.0)
    assert all(np.isfinite(row["l1"]) for row in fusion)
    # A second phase starts from the first phase's head: at a negligible learning rate it exports it again.
    phase_two = {**mapping_config, "mapping_weights": str(tmp_path / "mapping" / "weights.pt"),
                 "fusion_weights": str(tmp_path / "fusion" / "weights.pt")}
    run_stage("bopbtl-fusion", tmp_path / "fusion-2", phase_two, lr=1e-12, gan_weight=0.0, feature_matching_weight=0.0)
    first, second = (BopbtlNet(TINY).fusion for _ in range(2))
    load_stage_weights(first, "bopbtl-fusion", tmp_path / "fusion" / "weights.pt", TINY, "fusion")
    load_stage_weights(second, "bopbtl-fusion", tmp_path / "fusion-2" / "weights.pt", TINY, "fusion")
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0, msg=name)
    # A run started from a denoiser export (at a negligible learning rate) exports a head that is that
    # denoiser outside the mask; one of another depth is refused, naming the file.
    denoiser = DnCNN(TINY.fusion.width, TINY.fusion.depth)
    save_weights(tmp_path / "denoiser.pt", "sequential", {"width": TINY.fusion.width, "depth": TINY.fusion.depth},
                 denoiser, {})
    from_denoiser = {**mapping_config, "mapping_weights": str(tmp_path / "mapping" / "weights.pt"),
                     "denoiser_weights": str(tmp_path / "denoiser.pt")}
    run_stage("bopbtl-fusion", tmp_path / "fusion-d", from_denoiser, lr=1e-12, gan_weight=0.0,
              feature_matching_weight=0.0)
    started = BopbtlNet(TINY).fusion
    load_stage_weights(started, "bopbtl-fusion", tmp_path / "fusion-d" / "weights.pt", TINY, "fusion")
    image = ScratchedStripes()[2]["degraded"][None]
    with torch.no_grad():
        torch.testing.assert_close(started(image, image * 0), denoiser(image), atol=1e-4, rtol=0)
    save_weights(tmp_path / "deep.pt", "sequential", {"width": TINY.fusion.width, "depth": TINY.fusion.depth + 1},
                 DnCNN(TINY.fusion.width, TINY.fusion.depth + 1), {})
    with pytest.raises(CheckpointError, match="deep.pt"):
        run_stage("bopbtl-fusion", tmp_path / "fusion-e",
                  {**from_denoiser, "denoiser_weights": str(tmp_path / "deep.pt")})

    weights = assemble_weights("bopbtl-pnl", tiny_size, tmp_path / "old" / "weights.pt",
                               tmp_path / "clean" / "weights.pt", tmp_path / "mapping" / "weights.pt",
                               tmp_path / "detector" / "weights.pt", tmp_path / "bopbtl-pnl-tiny.pt",
                               fusion=tmp_path / "fusion" / "weights.pt")
    restorer = models.create("bopbtl-pnl", config=tiny_size, pretrained=str(weights), device="cpu")
    image = (ScratchedStripes()[0]["degraded"].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    assert restorer.restore(image).shape == image.shape
    # Identity safety after training: a clean photo comes back (almost) unchanged, which the latent
    # translation alone, the same trained network without the fusion head, cannot do.
    clean = ScratchedStripes()[1]["clean"][None]
    with torch.no_grad():
        assert psnr(restorer.net(clean), clean) > 30.0
        assert psnr(restorer.net.translate(clean, None), clean) < 25.0
    with pytest.raises(CheckpointError, match="fusion"):
        assemble_weights("bopbtl-pnl", tiny_size, tmp_path / "old" / "weights.pt", tmp_path / "clean" / "weights.pt",
                         tmp_path / "mapping" / "weights.pt", tmp_path / "detector" / "weights.pt", tmp_path / "y.pt")
    with pytest.raises(CheckpointError, match="mapping"):
        assemble_weights("bopbtl", tiny_size, tmp_path / "old" / "weights.pt", tmp_path / "clean" / "weights.pt",
                         tmp_path / "mapping" / "weights.pt", tmp_path / "detector" / "weights.pt", tmp_path / "x.pt",
                         fusion=tmp_path / "fusion" / "weights.pt")


def test_mapping_stage_needs_the_vae_exports(tmp_path, tiny_size):
    with pytest.raises(CheckpointError, match="vae_old_weights"):
        run_stage("bopbtl-mapping", tmp_path / "m", {"size": tiny_size})
    with pytest.raises(CheckpointError, match="missing.pt"):
        run_stage("bopbtl-mapping", tmp_path / "m2", {"size": tiny_size,
                                                      "vae_old_weights": str(tmp_path / "missing.pt"),
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


def train_tiny_chain(tmp_path, size: str) -> dict:
    """Tiny VAE and mapping exports (4 steps each): the frozen parts under the fusion stage."""
    config = {"size": size, "model": "bopbtl"}
    for stage, run in (("bopbtl-vae-old", "old"), ("bopbtl-vae-clean", "clean")):
        train(stage, ScratchedStripes(), tmp_path / run, model_config=config, train_config={**TRAIN, "steps": 4},
            seed=0, device="cpu", progress=False)
    config.update(vae_old_weights=str(tmp_path / "old" / "weights.pt"),
                  vae_clean_weights=str(tmp_path / "clean" / "weights.pt"))
    train("bopbtl-mapping", ScratchedStripes(), tmp_path / "mapping", model_config=config,
          train_config={**TRAIN, "steps": 4}, seed=0, device="cpu", progress=False)
    return {**config, "mapping_weights": str(tmp_path / "mapping" / "weights.pt")}


class TestFusionHead:
    """The identity-safe fusion head: exact identity outside defects by construction, its stage."""

    def test_an_untrained_head_returns_the_input_exactly_and_the_translation_inside_the_mask(self):
        torch.manual_seed(0)
        net = BopbtlNet(TINY).eval()
        image = ScratchedStripes()[0]["clean"][None]
        mask = torch.zeros(1, 1, SIZE, SIZE)
        mask[..., 5:9, :] = 1.0
        with torch.no_grad():
            assert torch.equal(net(image), image)
            restored, translated = net(image, mask), net.translate(image, mask)
        assert torch.equal(restored[mask.expand_as(image) == 0], image[mask.expand_as(image) == 0])
        assert torch.allclose(restored[mask.expand_as(image) == 1], translated[mask.expand_as(image) == 1])
        # Without the mechanism the same network regenerates the photo from its latent: far from it.
        without = BopbtlNet(dataclasses.replace(TINY, fusion=configs.FusionConfig(mode="none"))).eval()
        without.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith("fusion.")})
        with torch.no_grad():
            assert psnr(without(image), image) < 20.0

    def test_identity_pairs_replace_a_fraction_of_the_batch_with_clean_photos(self):
        batch = {k: torch.stack([ScratchedStripes(16)[i][k] for i in range(16)]) for k in ("degraded", "clean", "mask")}
        image, mask = identity_pairs(batch, 0.5, torch.Generator().manual_seed(0))
        same = [torch.equal(image[i], batch["clean"][i]) for i in range(16)]
        assert 2 <= sum(same) <= 14
        for i in range(16):
            assert torch.equal(image[i], batch["clean"][i] if same[i] else batch["degraded"][i])
            assert torch.equal(mask[i], torch.zeros_like(mask[i]) if same[i] else batch["mask"][i])
        assert torch.equal(identity_pairs(batch, 0.0, torch.Generator())[0], batch["degraded"])
        with pytest.raises(ValueError, match="identity_fraction"):
            BopbtlTrainConfig(identity_fraction=1.5)

    def test_the_stage_needs_a_mapping_and_a_config_with_a_head(self, tmp_path, tiny_size):
        with pytest.raises(CheckpointError, match="mapping_weights"):
            run_stage("bopbtl-fusion", tmp_path / "f",
                      {"size": tiny_size, "vae_old_weights": "x", "vae_clean_weights": "x"})
        plain = dataclasses.replace(TINY, name="tiny-plain", fusion=configs.FusionConfig(mode="none"))
        with pytest.MonkeyPatch.context() as patch:
            patch.setitem(configs.CONFIGS, "tiny-plain", plain)
            with pytest.raises(ValueError, match="no fusion head"):
                run_stage("bopbtl-fusion", tmp_path / "g", {"size": "tiny-plain", "mapping_weights": "x"})

    def test_the_l1_loss_on_degraded_items_falls(self, tmp_path, tiny_size):
        config = train_tiny_chain(tmp_path, tiny_size)
        result = train("bopbtl-fusion", ScratchedStripes(), tmp_path / "f", model_config=config,
                       train_config={**TRAIN, "steps": 40, "lr": 3e-3, "identity_fraction": 0.0, "gan_weight": 0.0,
                                     "feature_matching_weight": 0.0, "sample_every": 0},
                       seed=0, device="cpu", progress=False)
        logs = [json.loads(line) for line in (result.out / "log.jsonl").read_text().splitlines()]
        assert falls(logs, "l1", 0.8)

    def test_resume_gives_the_weights_of_an_uninterrupted_run(self, tmp_path, tiny_size):
        config = train_tiny_chain(tmp_path, tiny_size)
        settings = {**TRAIN, "steps": 6, "gan_weight": 1.0, "feature_matching_weight": 10.0}
        whole = train("bopbtl-fusion", ScratchedStripes(), tmp_path / "whole", model_config=config,
                      train_config=settings, seed=1, device="cpu", progress=False)
        train("bopbtl-fusion", ScratchedStripes(), tmp_path / "part", model_config=config,
              train_config={**settings, "steps": 3}, seed=1, device="cpu", progress=False)
        resumed = train("bopbtl-fusion", ScratchedStripes(), tmp_path / "part", resume=True, steps=6,
                        device="cpu", progress=False)
        states = [load_checkpoint(run / "checkpoint.pt")["state"]["modules"]
                  for run in (tmp_path / "whole", tmp_path / "part")]
        for name in ("fusion", "disc"):
            a, b = states[0][name], states[1][name]
            assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        assert resumed.losses == whole.losses


def one_step(stage_name: str, model_config: dict, weights: dict) -> Stage:
    """A stage built as the loop builds it, after one train_step with only ``weights`` switched on."""
    stage_cls = get_trainer(stage_name)
    off = {"l1_weight": 0.0, "kl_weight": 0.0, "gan_weight": 0.0, "feature_matching_weight": 0.0,
           "perceptual_weight": 0.0, "latent_gan_weight": 0.0, "latent_l1_weight": 0.0}
    train_config = stage_cls.train_config_cls(**{**TRAIN, **off, **weights})
    torch.manual_seed(0)
    info = DistInfo(0, 1, torch.device("cpu"))
    stage = stage_cls(stage_cls.model_config_cls(**model_config), train_config, info, torch.Generator().manual_seed(0))
    data = ScratchedStripes(4)
    stage.train_step({k: torch.stack([data[i][k] for i in range(4)]) for k in ("degraded", "clean", "mask")})
    return stage


def reached(module: torch.nn.Module) -> bool:
    """True when some parameter of ``module`` has a non-zero gradient."""
    return any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in module.parameters())


VAE_TERMS = {"l1_weight": ("encoder", "decoder"), "kl_weight": ("encoder",), "gan_weight": ("encoder", "decoder"),
             "feature_matching_weight": ("encoder", "decoder")}


@pytest.mark.parametrize("stage_name,term,reaches", [
    *(("bopbtl-vae-clean", term, parts) for term, parts in VAE_TERMS.items()),
    *(("bopbtl-vae-old", term, parts) for term, parts in {**VAE_TERMS, "latent_gan_weight": ("encoder",)}.items()),
])
def test_each_vae_loss_term_reaches_exactly_its_parameters(stage_name, term, reaches, tiny_size):
    stage = one_step(stage_name, {"size": tiny_size, "model": "bopbtl"}, {term: 1.0})
    vae = stage.modules["vae"]
    assert {part for part in ("encoder", "decoder") if reached(getattr(vae, part))} == set(reaches)


@pytest.mark.parametrize("term", ["latent_l1_weight", "gan_weight", "feature_matching_weight", "l1_weight"])
def test_each_mapping_and_fusion_loss_term_reaches_only_the_trained_network(term, tmp_path, tiny_size):
    config = train_tiny_chain(tmp_path, tiny_size)
    stage_name, trained = ("bopbtl-fusion", "fusion") if term == "l1_weight" else ("bopbtl-mapping", "mapping")
    if term != "latent_l1_weight":
        fusion = one_step("bopbtl-fusion", config, {term: 1.0})
        assert reached(fusion.modules["fusion"].body) and reached(fusion.modules["fusion"].tone)
        assert not any(p.grad is not None
                       for m in (fusion.vae_old, fusion.vae_clean, fusion.mapping) for p in m.parameters())
    if term != "l1_weight":
        stage = one_step(stage_name, config, {term: 1.0})
        assert reached(stage.modules[trained])
        assert not any(p.grad is not None for m in (stage.vae_old, stage.vae_clean) for p in m.parameters())


@pytest.mark.skipif(not vgg_available(), reason="the converted VGG16 weights are not cached (make test fetches them)")
@pytest.mark.parametrize("stage_name", ["bopbtl-vae-clean", "bopbtl-fusion"])
def test_the_perceptual_term_reaches_the_trained_network(stage_name, tmp_path, tiny_size):
    config = train_tiny_chain(tmp_path, tiny_size) if stage_name == "bopbtl-fusion" else {"size": tiny_size}
    stage = one_step(stage_name, config, {"perceptual_weight": 1.0})
    module = stage.modules["fusion"] if stage_name == "bopbtl-fusion" else stage.modules["vae"].decoder
    assert reached(module)
