"""bopbtl global branches: partial nonlocal against a dense reference, memory growth, patch attention."""

from __future__ import annotations

import weakref

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from oldphoto.models.bopbtl.attention import MultiScalePatchAttention, NonLocalBlock, PatchAttention, chunked_attention

torch.set_num_threads(2)


def random_mask(height: int, width: int, fraction: float, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(1, 1, height, width, generator=generator) < fraction).float()


def partial_block(channels: int, chunk_elements: int, seed: int = 0) -> NonLocalBlock:
    torch.manual_seed(seed)
    block = NonLocalBlock(channels, post_res_blocks=1, partial=True, chunk_elements=chunk_elements).eval()
    torch.nn.init.normal_(block.W.weight, std=0.3)  # W starts at zero; make the attention visible
    return block


def dense_partial_reference(block: NonLocalBlock, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The paper's formula with the whole N x N matrix: s_ij = (1-m_j) f_ij / sum_k (1-m_k) f_ik."""
    theta, phi, g = (conv(x).flatten(2)[0].double() for conv in (block.theta, block.phi, block.g))
    valid = (mask.flatten() < 0.5).double()
    f = torch.exp((theta.T @ phi) - (theta.T @ phi).max(dim=1, keepdim=True).values)
    s = f * valid[None, :]
    s = s / s.sum(dim=1, keepdim=True)
    y = (s @ g.T).T * (1.0 - valid)[None, :]
    fused = block.post(x + block.W(y.float().view_as(x)))
    return (1.0 - mask) * x + mask * fused


@pytest.mark.parametrize("chunk_elements", [37, 1 << 24])
def test_chunked_partial_nonlocal_equals_dense_reference(chunk_elements):
    block = partial_block(8, chunk_elements)
    x = torch.randn(1, 8, 9, 11)
    mask = random_mask(9, 11, 0.3, seed=1)
    with torch.no_grad():
        torch.testing.assert_close(block(x, mask), dense_partial_reference(block, x, mask), atol=1e-5, rtol=1e-4)


def test_chunked_attention_equals_softmax_attention():
    generator = torch.Generator().manual_seed(2)
    q, k, v = (torch.randn(n, 6, generator=generator) for n in (23, 17, 17))
    expected = torch.softmax(q @ k.T, dim=-1) @ v
    torch.testing.assert_close(chunked_attention(q, k, v, chunk_elements=40), expected)


def test_valid_positions_keep_their_features():
    block = partial_block(8, 64)
    x = torch.randn(2, 8, 10, 7)
    mask = torch.cat([random_mask(10, 7, 0.4, seed=3), random_mask(10, 7, 0.2, seed=4)])
    with torch.no_grad():
        out = block(x, mask)
    valid = mask.expand_as(x) < 0.5
    assert torch.equal(out[valid], x[valid])
    assert not torch.allclose(out[~valid], x[~valid])


def test_partial_nonlocal_without_holes_or_without_valid_keys():
    block = partial_block(4, 64)
    x = torch.randn(1, 4, 5, 6)
    with torch.no_grad():
        assert torch.equal(block(x, torch.zeros(1, 1, 5, 6)), x)
        assert torch.isfinite(block(x, torch.ones(1, 1, 5, 6))).all()


def test_plain_nonlocal_gradients_flow():
    block = NonLocalBlock(4, post_res_blocks=0, partial=False, chunk_elements=10)
    torch.nn.init.normal_(block.W.weight, std=0.3)
    x = torch.randn(1, 4, 4, 5, requires_grad=True)
    block(x).sum().backward()
    assert x.grad is not None and block.theta.weight.grad.abs().sum() > 0


class PeakLiveStorage(TorchDispatchMode):
    """Peak bytes of tensor storages created inside the mode and still alive (a CPU allocation meter)."""

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[int, int] = {}
        self.current = 0
        self.peak = 0

    def _release(self, key: int) -> None:
        self.current -= self.live.pop(key)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for item in tree_flatten(out)[0]:
            if isinstance(item, torch.Tensor):
                storage = item.untyped_storage()
                key = storage._cdata
                if key not in self.live:
                    self.live[key] = storage.nbytes()
                    self.current += storage.nbytes()
                    self.peak = max(self.peak, self.current)
                    weakref.finalize(storage, self._release, key)
        return out


def peak_bytes(run) -> int:
    with torch.no_grad(), PeakLiveStorage() as meter:
        run()
    return meter.peak


def test_partial_nonlocal_memory_grows_about_linearly():
    """Peak live memory at 4x the latent pixels is about 4x, where a dense N x N block is about 16x."""
    block = partial_block(8, chunk_elements=1 << 12)
    peaks, dense_peaks = [], []
    for side in (32, 64):
        x = torch.randn(1, 8, side, side)
        mask = random_mask(side, side, 0.3, seed=side)
        peaks.append(peak_bytes(lambda: block(x, mask)))  # noqa: B023 - called at once by peak_bytes
        dense_peaks.append(peak_bytes(lambda: dense_partial_reference(block, x, mask)))  # noqa: B023 - called at once by peak_bytes
    assert dense_peaks[1] / dense_peaks[0] > 10, "the meter must see the quadratic growth of the dense block"
    assert peaks[1] / peaks[0] < 4 * 1.25, f"peaks {peaks}"
    assert peaks[1] < dense_peaks[1] / 5


def test_patch_attention_copies_the_most_similar_mostly_valid_patch():
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(1, 3, 12, 12, generator=generator)
    mask = torch.zeros(1, 1, 12, 12)
    hole, source, decoy = (slice(0, 4), slice(0, 4)), (slice(8, 12), slice(4, 8)), (slice(4, 8), slice(8, 12))
    x[..., hole[0], hole[1]] = 2.0 * x[..., source[0], source[1]]
    x[..., decoy[0], decoy[1]] = x[..., hole[0], hole[1]]  # identical, but 75% masked: not a key
    mask[..., hole[0], hole[1]] = 1.0
    mask[..., 4:7, 8:12] = 1.0
    attention = PatchAttention(3, patch=4, max_masked=0.6)
    copied = attention.copy_patches(x, mask)
    torch.testing.assert_close(copied[..., hole[0], hole[1]], x[..., source[0], source[1]])
    untouched = torch.ones(12, 12, dtype=torch.bool)
    untouched[0:4, 0:4] = untouched[4:8, 8:12] = False
    assert torch.equal(copied[..., untouched], x[..., untouched])


def test_patch_attention_leaves_defect_free_border_patches_alone():
    """Padding to the patch grid is never a hole: without defects nothing is copied."""
    x = torch.randn(1, 4, 13, 10)
    attention = PatchAttention(4, patch=4, max_masked=0.6)
    assert torch.equal(attention.copy_patches(x, torch.zeros(1, 1, 13, 10)), x)
    mask = torch.zeros(1, 1, 13, 10)
    mask[..., 0:2, 0:2] = 1.0
    copied = attention.copy_patches(x, mask)
    assert torch.equal(copied[..., 4:, :], x[..., 4:, :]) and torch.equal(copied[..., :, 4:], x[..., :, 4:])


def test_residual_fusion_starts_as_the_identity_and_adds_the_fused_convolution():
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(1, 6, 12, 16, generator=generator)
    mask = random_mask(12, 16, 0.3, seed=4)
    torch.manual_seed(0)
    residual, replace = PatchAttention(6, patch=4, residual=True), PatchAttention(6, patch=4)
    with torch.no_grad():
        assert torch.equal(residual(x, mask), x)
        assert (replace(x, mask) - x).abs().mean() > 0.1  # the paper's fusion replaces the features
        torch.nn.init.normal_(residual.fuse[1].weight, std=0.1)
        fused = residual.fuse(torch.cat([x, residual.copy_patches(x, mask), mask], dim=1))
        torch.testing.assert_close(residual(x, mask), x + fused)
        torch.testing.assert_close(replace(x, mask),
                                   replace.fuse(torch.cat([x, replace.copy_patches(x, mask), mask], dim=1)))


@pytest.mark.parametrize("size", [(13, 10), (7, 9), (3, 2)])
def test_patch_attention_handles_sizes_not_multiple_of_the_patch(size):
    module = MultiScalePatchAttention(6, (8, 4, 2), max_masked=0.6, post_res_blocks=1, chunk_elements=50).eval()
    x = torch.randn(2, 6, *size)
    mask = torch.cat([random_mask(*size, 0.3, seed=6), torch.zeros(1, 1, *size)])
    with torch.no_grad():
        out = module(x, mask)
    assert out.shape == x.shape and torch.isfinite(out).all()
