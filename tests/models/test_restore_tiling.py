"""Band-by-band execution and blended tiles: exactness against whole-tensor passes (random weights)."""

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from oldphoto import models
from oldphoto.benchmark.speed.restore import dense_attention_bytes, image_shape
from oldphoto.models.bopbtl.blocks import ResBlock
from oldphoto.models.bopbtl.configs import SMALL
from oldphoto.models.bopbtl.model import BopbtlNet, BopbtlRestorer
from oldphoto.models.bopbtl.restore import PhotoRestorer, Plan
from oldphoto.models.bopbtl.streaming import BandRunner
from oldphoto.models.bopbtl.tiling import ramp, run_tiled, tile_windows

CPU = torch.device("cpu")


@pytest.mark.parametrize("length,tile,overlap,align", [(100, 32, 8, 1), (77, 24, 8, 8), (10, 32, 8, 1), (33, 16, 0, 1)])
def test_tile_windows_cover_with_overlap_and_alignment(length, tile, overlap, align):
    windows = tile_windows(length, tile, overlap, align)
    assert windows[0][0] == 0 and windows[-1][1] == length
    for (a0, a1), (b0, _b1) in zip(windows, windows[1:], strict=False):
        assert b0 % align == 0
        assert a1 - b0 >= overlap  # neighbours share at least the overlap
        assert b0 > a0


def test_ramp_is_smooth_and_positive():
    weights = ramp(40, 16, True, True)
    assert weights.min() > 0 and weights.max() == 1.0
    assert torch.all(weights[:16].diff() > 0) and torch.all(weights[-16:].diff() < 0)
    assert torch.all(ramp(40, 16, False, False) == 1.0)


def test_run_tiled_with_identity_returns_the_input():
    x = torch.rand(1, 3, 70, 95, generator=torch.Generator().manual_seed(0))
    out = run_tiled(lambda w, _: w, x, tile=32, overlap=12, out_channels=3)
    assert torch.allclose(out, x, atol=1e-6)


def test_run_tiled_blends_disagreeing_tiles_without_jumps():
    x = torch.zeros(1, 1, 1, 200)
    out = run_tiled(lambda w, s: torch.full_like(w, float(s[1].start)), x, tile=64, overlap=32, out_channels=1)
    steps = out[0, 0, 0].diff().abs()
    assert steps.max() < 0.25 * (out.max() - out.min())  # a seam would be one jump of a whole tile offset


def _random_runner_cases():
    """(module, input): with InstanceNorm (run layer by layer) and without (run fused)."""
    torch.manual_seed(0)
    conv_stack = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(3, 8, 7), nn.InstanceNorm2d(8, affine=True), nn.ReLU(),
                               nn.Conv2d(8, 8, 4, stride=2, padding=1), nn.LeakyReLU(0.2), ResBlock(8))
    up = nn.Sequential(nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1), nn.InstanceNorm2d(8), nn.Tanh())
    encoder = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(3, 8, 7), nn.ReLU(inplace=True),
                            nn.Conv2d(8, 8, 4, stride=2, padding=1), nn.ReLU(inplace=True),
                            nn.Conv2d(8, 6, 3, stride=2, padding=1), ResBlock(6, norm="none"),
                            nn.Sequential(ResBlock(6, norm="none"), nn.ReflectionPad2d(1), nn.Conv2d(6, 6, 3)))
    decoder = nn.Sequential(ResBlock(6, norm="none"), nn.ConvTranspose2d(6, 8, 4, stride=2, padding=1),
                            nn.LeakyReLU(0.2, inplace=True), nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1),
                            nn.ReflectionPad2d((2, 1, 3, 2)), nn.Conv2d(8, 3, 5, padding=(0, 1)), nn.Tanh())
    return [(conv_stack, torch.randn(2, 3, 37, 29)), (up, torch.randn(1, 8, 13, 11)),
            (encoder, torch.randn(2, 3, 41, 30)), (decoder, torch.randn(1, 6, 9, 14))]


@pytest.mark.parametrize("case", range(4))
@pytest.mark.parametrize("band_elements", [1, 8 * 29 * 3, 1 << 20])
def test_band_runner_equals_the_whole_forward_pass(case, band_elements):
    module, x = _random_runner_cases()[case]
    module.eval()
    runner = BandRunner(CPU, CPU, band_elements=band_elements)
    assert runner.supports(module)
    before = x.clone()
    with torch.no_grad():
        torch.testing.assert_close(runner.run(module, x), module(x.clone()), atol=1e-5, rtol=1e-5)
    assert torch.equal(x, before)  # in-place activations never reach the stored input


def test_band_runner_concatenates_a_list_of_inputs_band_by_band():
    torch.manual_seed(1)
    fuse = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(7, 4, 3), nn.ReLU()).eval()
    parts = [torch.randn(1, 3, 19, 23), torch.randn(1, 3, 19, 23), torch.rand(1, 1, 19, 23)]
    with torch.no_grad():
        torch.testing.assert_close(BandRunner(CPU, CPU, 50).run(fuse, parts), fuse(torch.cat(parts, dim=1)))


def test_band_runner_refuses_unsupported_modules():
    runner = BandRunner(CPU, CPU)
    assert not runner.supports(nn.BatchNorm2d(3))
    with pytest.raises(TypeError, match="BatchNorm2d"):
        runner.run(nn.BatchNorm2d(3), torch.zeros(1, 3, 4, 4))


@pytest.mark.parametrize("name", ["bopbtl", "bopbtl-pnl", "bopbtl-local"])
def test_streamed_restoration_equals_whole_for_every_branch(name):
    photo = PhotoRestorer(models.create(name, config="small", pretrained=False, device="cpu"))
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (45, 70, 3), dtype=np.uint8)
    mask = np.zeros(image.shape[:2], bool)
    mask[20:24, 5:60] = True
    whole = photo.restore(image, mask, Plan(False, None, 1 << 20)).astype(int)
    streamed = photo.restore(image, mask, Plan(True, None, 20_000))
    assert np.abs(whole - streamed).max() <= 1


@pytest.mark.parametrize("fusion", ["residual", "replace"])
def test_latent_tiled_patch_attention_equals_whole_when_one_tile_covers_the_latent(fusion):
    torch.manual_seed(0)
    net = BopbtlNet(dataclasses.replace(SMALL, mapping=dataclasses.replace(SMALL.mapping, patch_fusion=fusion))).eval()
    branch = net.mapping.global_branch
    for scale in branch.scales:
        torch.nn.init.normal_(scale.fuse[1].weight, std=0.02)  # a residual fusion starts at zero
    features = torch.randn(1, SMALL.mapping.widths[-1], 12, 18)
    mask = (torch.rand(1, 1, 12, 18) < 0.2).float()
    photo = PhotoRestorer(BopbtlRestorer("bopbtl", net, "cpu"))
    with torch.no_grad():
        whole = branch(features, mask)
        tiled = photo._global(features, mask, 24, BandRunner(CPU, CPU, 2_000))
    torch.testing.assert_close(tiled, whole, atol=1e-4, rtol=1e-4)


def test_plan_streams_and_tiles_when_the_budget_is_small():
    restorer = models.create("bopbtl", config="small", pretrained=False, device="cpu")
    assert not PhotoRestorer(restorer, max_memory=4 << 30).plan(256, 256).streamed
    small = PhotoRestorer(restorer, max_memory=64 << 20).plan(2000, 3000)
    assert small.streamed and small.latent_tile is not None and small.latent_tile % 8 == 0
    with pytest.raises(ValueError, match="max_memory"):
        PhotoRestorer(restorer, max_memory=0)


def test_dense_attention_memory_matches_the_reference_figures():
    # bopbtl-facts.md: the reference's N x N float32 matrix takes 13.4 GiB at 800x1200
    assert dense_attention_bytes(800, 1200) / 2**30 == pytest.approx(13.4, abs=0.05)
    height, width = image_shape(12)
    assert abs(height * width / 1e6 - 12) < 0.01 and width / height == pytest.approx(4 / 3, abs=0.01)
