"""bopbtl networks: shapes at odd sizes, parameter counts of `full`, the restorer and its weights."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from oldphoto import models
from oldphoto.models.bopbtl.configs import FULL, SMALL, BopbtlConfig, get_config
from oldphoto.models.bopbtl.detector import ScratchDetector
from oldphoto.models.bopbtl.mapping import Mapping
from oldphoto.models.bopbtl.model import BopbtlNet
from oldphoto.models.bopbtl.vae import VAE
from oldphoto.models.training import CheckpointError
from oldphoto.models.training.discriminators import MultiScaleDiscriminator, latent_discriminator
from oldphoto.models.weights import save_weights

torch.set_num_threads(2)


def millions(module: torch.nn.Module) -> float:
    return sum(p.numel() for p in module.parameters()) / 1e6


@pytest.mark.parametrize("size", [(17, 23), (36, 40), (5, 9)])
def test_vae_latent_and_reconstruction_shapes(size):
    vae = VAE(SMALL.vae).eval()
    height, width = (s + (-s) % 4 for s in size)
    image = torch.rand(2, 3, height, width)
    recon, latent, kl = vae(image, torch.Generator().manual_seed(0))
    assert latent.shape == (2, 64, height // 4, width // 4)
    assert recon.shape == image.shape and 0.0 <= recon.min() and recon.max() <= 1.0
    assert kl.ndim == 0 and kl >= 0


def test_plain_autoencoder_has_no_noise_and_no_kl():
    vae = VAE(get_config("small").variant("local", variational=False).vae).eval()
    image = torch.rand(1, 3, 16, 16)
    first, kl = vae.encode(image, torch.Generator().manual_seed(1))
    second, _ = vae.encode(image, torch.Generator().manual_seed(2))
    assert torch.equal(first, second) and float(kl) == 0.0


def test_variational_latent_is_mean_plus_unit_noise():
    vae = VAE(SMALL.vae).eval()
    image = torch.rand(1, 3, 32, 32)
    mean, kl = vae.encode(image)
    sampled, _ = vae.encode(image, torch.Generator().manual_seed(3))
    noise = sampled - mean
    assert abs(float(noise.detach().std()) - 1.0) < 0.1
    assert torch.isclose(kl, 0.5 * mean.pow(2).mean())


def offset_response(part: str, norm: str) -> float:
    """How much a network's output moves when its input is made darker, flatter and offset per
    channel, relative to how much it moves for a different input of the same statistics."""
    torch.manual_seed(0)
    if part == "vae":
        vae = VAE(dataclasses.replace(SMALL.vae, norm=norm)).eval()
        channels, size = 3, 32

        def run(x: torch.Tensor) -> torch.Tensor:
            return vae.encode(x)[0]
    else:
        run = Mapping(dataclasses.replace(SMALL.mapping, global_branch="local", norm=norm), 64).eval()
        channels, size = 64, 8
    first, other = torch.rand(2, channels, size, size).split(1)
    offset = 0.6 * first + torch.rand(1, channels, 1, 1) * 0.4
    with torch.inference_mode():
        out, out_offset, out_other = run(first), run(offset), run(other)
    return float((out_offset - out).norm() / (out_other - out).norm())


@pytest.mark.parametrize("part", ["vae", "mapping"])
def test_instance_norm_is_blind_to_brightness_contrast_and_colour_offset(part):
    assert offset_response(part, "instance") < 1e-3  # only InstanceNorm's epsilon tells them apart
    assert offset_response(part, "none") > 0.1
    assert SMALL.vae.norm == SMALL.mapping.norm == "none" and FULL.vae.norm == FULL.mapping.norm == "instance"


def test_norm_is_validated_and_old_configs_default_to_instance_norm():
    with pytest.raises(ValueError, match="vae norm 'batch'"):
        BopbtlConfig(vae=dataclasses.replace(FULL.vae, norm="batch"))
    with pytest.raises(ValueError, match="mapping norm"):
        BopbtlConfig(mapping=dataclasses.replace(FULL.mapping, norm=""))
    stored = FULL.to_dict()
    del stored["vae"]["norm"], stored["mapping"]["norm"]  # a config written before the option existed
    assert BopbtlConfig.from_dict(stored) == FULL


def test_patch_fusion_is_validated_and_old_configs_default_to_the_papers_replace():
    assert SMALL.mapping.patch_fusion == "residual" and FULL.mapping.patch_fusion == "replace"
    with pytest.raises(ValueError, match="patch_fusion 'add'"):
        BopbtlConfig(mapping=dataclasses.replace(FULL.mapping, patch_fusion="add"))
    stored = SMALL.to_dict()
    del stored["mapping"]["patch_fusion"]  # every export written before the option used replace
    assert BopbtlConfig.from_dict(stored).mapping.patch_fusion == "replace"


@pytest.mark.parametrize("branch", ["local", "nonlocal", "partial-nonlocal", "patch-attention"])
def test_net_keeps_odd_sizes(branch):
    net = BopbtlNet(SMALL.variant(branch, True)).eval()
    image = torch.rand(1, 3, 37, 29)
    mask = torch.zeros(1, 1, 37, 29)
    mask[..., 5:15, 3:20] = 1.0
    with torch.no_grad():
        out = net(image, mask)
        probability = net.detect(image)
    assert out.shape == image.shape and probability.shape == (1, 1, 37, 29)
    assert torch.isfinite(out).all() and 0.0 <= probability.min() and probability.max() <= 1.0


def test_detector_handles_sizes_not_multiple_of_16():
    detector = ScratchDetector(SMALL.detector).eval()
    with torch.no_grad():
        assert detector(torch.rand(2, 1, 21, 50)).shape == (2, 1, 21, 50)


def test_full_config_parameter_counts_match_the_reference():
    """Figures of the released networks (facts file), built on the meta device (no memory)."""
    with torch.device("meta"):
        counts = {
            branch: BopbtlNet(FULL.variant(branch, True)) for branch in ("local", "partial-nonlocal", "patch-attention")
        }
        image_d = MultiScaleDiscriminator(3, FULL.discriminator)
        latent_d = latent_discriminator(FULL.vae.channels, FULL.discriminator)
    net = counts["local"]
    assert millions(net.vae_old.encoder) == pytest.approx(0.44, rel=0.03)
    assert millions(net.vae_old.decoder) == pytest.approx(0.44, rel=0.03)
    assert millions(counts["local"].mapping) == pytest.approx(36.1, rel=0.03)
    assert millions(counts["partial-nonlocal"].mapping) == pytest.approx(51.3, rel=0.03)
    assert millions(counts["patch-attention"].mapping) == pytest.approx(73.9, rel=0.03)
    assert millions(net.detector) == pytest.approx(37.6, rel=0.10)
    assert millions(image_d) == pytest.approx(5.5, rel=0.03)
    assert millions(latent_d) == pytest.approx(2.8, rel=0.03)


def test_small_config_is_a_few_million_parameters():
    restorer = models.create("bopbtl", config="small", pretrained=False, device="cpu")
    assert 1e6 < restorer.num_parameters < 6e6
    local = models.create("bopbtl-local", config="small", pretrained=False, device="cpu")
    assert local.num_parameters < restorer.num_parameters  # no patch attention, no detector


def test_config_round_trips_and_rejects_bad_values():
    assert BopbtlConfig.from_dict(SMALL.to_dict()) == SMALL
    with pytest.raises(ValueError, match="global_branch"):
        SMALL.variant("dense", True)
    with pytest.raises(ValueError, match="bopbtl config"):
        get_config("huge")


@pytest.mark.parametrize("name", ["bopbtl", "bopbtl-pnl", "bopbtl-local", "bopbtl-ae"])
def test_registered_restorers_restore_any_size(name):
    restorer = models.create(name, config="small", pretrained=False, device="cpu")
    rng = np.random.default_rng(0)
    for shape in ((19, 31), (3, 5)):
        image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        mask = np.zeros(shape, bool)
        mask[1:3, 2:4] = True
        assert restorer.restore(image, mask).shape == image.shape
        assert restorer.restore(image).shape == image.shape


def test_detector_runs_only_without_mask_and_in_scratch_mode():
    restorer = models.create("bopbtl-pnl", config="small", pretrained=False, device="cpu")
    calls = []
    restorer.net.detector.register_forward_hook(lambda *args: calls.append(1))
    image = np.full((16, 20, 3), 128, np.uint8)
    restorer.restore(image, np.zeros((16, 20), bool))
    assert calls == []
    restorer.restore(image)
    assert calls == [1]
    restorer.scratches = False
    restorer.restore(image)
    assert calls == [1]


def test_missing_checkpoint_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(CheckpointError, match="bopbtl-full"):  # only the small checkpoints ship
        models.create("bopbtl", config="full", pretrained=True, device="cpu")
    missing = tmp_path / "nowhere.pt"
    with pytest.raises(CheckpointError, match="nowhere.pt"):
        models.create("bopbtl", config="small", pretrained=str(missing), device="cpu")


def test_weights_round_trip_and_wrong_model_is_rejected(tmp_path):
    source = models.create("bopbtl-local", config="small", pretrained=False, device="cpu")
    path = save_weights(tmp_path / "local.pt", "bopbtl-local", source.net.config.to_dict(), source.net, {})
    loaded = models.create("bopbtl-local", config="small", pretrained=str(path), device="cpu")
    for key, value in source.net.state_dict().items():
        assert torch.equal(value.half().float(), loaded.net.state_dict()[key].float()), key
    with pytest.raises(CheckpointError, match="bopbtl-local"):
        models.create("bopbtl", config="small", pretrained=str(path), device="cpu")
