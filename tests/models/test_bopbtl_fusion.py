"""Parts of the bopbtl fusion head: whole-image statistics, the global tone stage, and the
head's band-by-band execution in restoration."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from oldphoto import models
from oldphoto.models.baselines.sequential import DnCNN
from oldphoto.models.bopbtl import configs
from oldphoto.models.bopbtl.fusion import (
    TONE_QUANTILES,
    FusionHead,
    GlobalTone,
    channel_statistics,
    chroma_variation,
    keep_monochrome,
)
from oldphoto.models.bopbtl.restore import PhotoRestorer, Plan


def randomise_zero_parameters(module: torch.nn.Module) -> None:
    """Give the zero-started last layers random values, so every path of ``module`` counts."""
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for parameter in module.parameters():
            if not parameter.abs().sum():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)


class TestChannelStatistics:
    def test_mean_std_and_quantiles_match_torch(self):
        image = torch.rand(2, 3, 40, 30, generator=torch.Generator().manual_seed(0)) ** 2
        stats = channel_statistics(image)
        assert stats.shape == (2, 3, len(TONE_QUANTILES) + 2)
        flat = image.flatten(2)
        torch.testing.assert_close(stats[..., 0], flat.mean(2))
        torch.testing.assert_close(stats[..., 1], flat.std(2, correction=0))
        reference = torch.quantile(flat, torch.tensor(TONE_QUANTILES), dim=2).permute(1, 2, 0)
        assert (stats[..., 2:] - reference).abs().max() <= 1.5 / 255  # histogram of 256 bins

    def test_pieces_give_the_same_statistics_and_no_gradient(self):
        image = torch.rand(1, 3, 33, 17, requires_grad=True)
        whole = channel_statistics(image)
        assert torch.equal(whole, channel_statistics(image, chunk=10))
        assert not whole.requires_grad

    def test_a_constant_image_has_its_value_at_every_quantile(self):
        stats = channel_statistics(torch.full((1, 3, 8, 8), 0.4))
        assert torch.allclose(stats[..., 2:], torch.full_like(stats[..., 2:], round(0.4 * 255) / 255))
        assert torch.allclose(stats[..., 1], torch.zeros(1, 3), atol=1e-6)


class TestGlobalTone:
    def test_starts_as_the_identity(self):
        image = torch.rand(2, 3, 16, 12)
        assert torch.equal(GlobalTone(16)(image), image)

    def test_learns_to_undo_a_per_image_colour_cast(self):
        generator = torch.Generator().manual_seed(0)
        tone = GlobalTone(32)
        optimizer = torch.optim.Adam(tone.parameters(), lr=3e-3)
        errors = []
        for _ in range(300):
            clean = torch.rand(16, 3, 12, 12, generator=generator)
            gain = 0.6 + 0.4 * torch.rand(16, 3, 1, 1, generator=generator)
            offset = 0.3 * torch.rand(16, 3, 1, 1, generator=generator)
            cast = clean * gain + offset
            loss = (tone(cast) - clean).abs().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            errors.append(loss.item())
        assert np.mean(errors[-20:]) < 0.5 * np.mean(errors[:5])  # without the stage it stays at ~0.10


class TestFusionConfig:
    def test_the_head_with_a_tone_stage_starts_as_the_identity_outside_defects(self):
        head = FusionHead(configs.FusionConfig(tone=8))
        image, translated = torch.rand(1, 3, 16, 20), torch.rand(1, 3, 16, 20)
        assert torch.equal(head(image, translated), image)

    def test_the_tone_width_is_validated_and_old_exports_read_without_a_tone_stage(self):
        with pytest.raises(ValueError, match="tone width -1"):
            configs.BopbtlConfig(fusion=configs.FusionConfig(tone=-1))
        stored = configs.SMALL.to_dict()
        stored["fusion"] = {"mode": "residual", "width": 32, "depth": 8}  # written before the tone stage
        assert configs.BopbtlConfig.from_dict(stored).fusion.tone == 0


def test_streamed_restoration_with_the_tone_stage_equals_whole():
    config = dataclasses.replace(configs.SMALL, fusion=configs.FusionConfig(tone=16))
    restorer = models.create("bopbtl", config=config, pretrained=False, device="cpu")
    randomise_zero_parameters(restorer.net.fusion)
    photo = PhotoRestorer(restorer)
    image = np.random.default_rng(1).integers(0, 256, (45, 70, 3), dtype=np.uint8)
    mask = np.zeros(image.shape[:2], bool)
    mask[20:24, 5:60] = True
    whole = photo.restore(image, mask, Plan(False, None, 1 << 20)).astype(int)
    streamed = photo.restore(image, mask, Plan(True, None, 20_000))
    assert np.abs(whole - streamed).max() <= 1
    assert np.abs(whole - image).mean() > 1  # the randomised head changes the photo: the test sees it


def grey_print(seed: int = 0, noise: float = 0.05) -> torch.Tensor:
    """A 1 x 3 x 64 x 80 grey gradient with a uniform warm tint and per-channel pixel noise."""
    generator = torch.Generator().manual_seed(seed)
    grey = torch.linspace(0.2, 0.8, 80).expand(1, 1, 64, 80)
    tint = torch.tensor([0.04, 0.02, -0.03])[None, :, None, None]
    return (grey + tint + noise * torch.randn(1, 3, 64, 80, generator=generator)).clamp(0, 1)


def colour_photo() -> torch.Tensor:
    """A 1 x 3 x 64 x 80 image of red, green and blue vertical bands."""
    image = torch.full((1, 3, 64, 80), 0.2)
    for channel in range(3):
        image[:, channel, :, channel * 27:(channel + 1) * 27] = 0.8
    return image


class TestMonochrome:
    def test_chroma_variation_ignores_tint_and_pixel_noise_but_not_colours(self):
        assert chroma_variation(grey_print(noise=0.0)).item() < 1e-6
        assert chroma_variation(grey_print()).item() < configs.SMALL.monochrome
        assert chroma_variation(colour_photo()).item() > 10 * configs.SMALL.monochrome

    def test_grey_prints_come_back_grey_and_colour_photos_untouched(self):
        batch = torch.cat([grey_print(), colour_photo()])
        restored = batch.flip(3)  # any restoration, with colour in both items
        kept = keep_monochrome(batch, restored, configs.SMALL.monochrome)
        assert kept[0].std(0).max() < 1e-6 and restored[0].std(0).max() > 0.05
        assert torch.equal(kept[1], restored[1])
        assert keep_monochrome(batch, restored, 0.0) is restored

    def test_the_fingerprint_follows_the_threshold_as_well_as_the_weights(self):
        def fingerprint(threshold: float) -> str:
            config = dataclasses.replace(configs.SMALL, monochrome=threshold)
            torch.manual_seed(0)
            return models.create("bopbtl", config=config, pretrained=False, device="cpu").fingerprint

        assert fingerprint(0.02) == fingerprint(0.02) != fingerprint(0.0)

    def test_the_threshold_is_validated_and_old_configs_read_without_it(self):
        with pytest.raises(ValueError, match="monochrome threshold 2"):
            configs.BopbtlConfig(monochrome=2.0)
        stored = configs.SMALL.to_dict()
        del stored["monochrome"]
        assert configs.BopbtlConfig.from_dict(stored).monochrome == 0.0

    def test_whole_and_streamed_restoration_keep_a_grey_print_grey(self):
        restorer = models.create("bopbtl", config="small", pretrained=False, device="cpu")
        randomise_zero_parameters(restorer.net.fusion)
        photo = PhotoRestorer(restorer)
        image = (grey_print(seed=1)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        whole = photo.restore(image, None, Plan(False, None, 1 << 20))
        streamed = photo.restore(image, None, Plan(True, None, 20_000))
        assert np.ptp(whole.astype(int), axis=2).max() == 0 and np.ptp(streamed.astype(int), axis=2).max() == 0
        assert np.abs(whole.astype(int) - streamed).max() <= 1
        colour = dataclasses.replace(configs.SMALL, monochrome=0.0)
        free = models.create("bopbtl", config=colour, pretrained=False, device="cpu")
        free.net.load_state_dict(restorer.net.state_dict())
        coloured = PhotoRestorer(free).restore(image, None, Plan(False, None, 1 << 20))
        assert np.ptp(coloured.astype(int), axis=2).max() > 0


class TestStartFromDenoiser:
    def test_head_returns_the_denoisers_output_outside_the_mask(self):
        denoiser = DnCNN(16, 4)
        head = FusionHead(configs.FusionConfig(width=16, depth=4, tone=8))
        head.start_from_denoiser(denoiser.body)
        generator = torch.Generator().manual_seed(1)
        image, translated = torch.rand(2, 1, 3, 20, 24, generator=generator)
        mask = torch.zeros(1, 1, 20, 24)
        mask[..., 5:9, :] = 1
        with torch.no_grad():
            out, expected = head(image, translated, mask), denoiser(image)
        # The untrained tone stage is the identity, and the translation only counts inside the mask.
        torch.testing.assert_close(out * (1 - mask), expected * (1 - mask), atol=1e-6, rtol=0)
        torch.testing.assert_close(out * mask, (translated + expected - image) * mask, atol=1e-6, rtol=0)

    def test_a_denoiser_of_another_shape_is_refused(self):
        head = FusionHead(configs.FusionConfig(width=16, depth=4))
        with pytest.raises(ValueError, match="do not match"):
            head.start_from_denoiser(DnCNN(16, 5).body)
        with pytest.raises(ValueError, match="do not match"):
            head.start_from_denoiser(DnCNN(8, 4).body)
