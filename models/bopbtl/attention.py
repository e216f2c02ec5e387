"""Global branches of the mapping: (partial) nonlocal attention and multi-scale patch attention.

Memory: no N x N matrix for the whole latent is ever built. Attention runs over row blocks of the
queries, each block's score matrix holding at most ``chunk_elements`` entries, so the working
memory is the features (linear in pixels) plus one bounded block. Under autograd each block's
softmax is kept for the backward pass, so training memory stays quadratic: train on crops.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import res_blocks


def _row_block(keys: int, chunk_elements: int) -> int:
    return max(1, chunk_elements // max(1, keys))


def chunked_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, chunk_elements: int) -> torch.Tensor:
    """softmax(query @ key^T) @ value over the keys, computed in blocks of query rows.

    ``query`` Nq x C, ``key`` Nk x C, ``value`` Nk x Cv -> Nq x Cv. Unscaled dot products, as in
    the paper (f_ij = exp(theta_i . phi_j)); each score block has at most ``chunk_elements`` entries.
    """
    rows = _row_block(key.shape[0], chunk_elements)
    blocks = [torch.softmax(q @ key.T, dim=-1) @ value for q in query.split(rows)]
    if not blocks:
        return value.new_zeros((0, value.shape[1]))
    return torch.cat(blocks)


class NonLocalBlock(nn.Module):
    """Nonlocal block with 1x1 theta/phi/g/W (W zero-initialised) and ResBlocks after W.

    ``partial=False``: every position attends to every position, out = post(x + W(y)).
    ``partial=True`` (the CVPR block): only hole positions (mask 1) query, and only valid positions
    (mask 0) are keys, so attention is renormalised over valid keys; the result is fused by the mask,
    out = (1 - m) * x + m * post(x + W(y)), so valid positions keep their features exactly.
    """

    def __init__(self, channels: int, post_res_blocks: int, partial: bool, chunk_elements: int = 1 << 24,
                 norm: str = "instance") -> None:
        super().__init__()
        self.partial = partial
        self.chunk_elements = chunk_elements
        self.theta = nn.Conv2d(channels, channels, 1)
        self.phi = nn.Conv2d(channels, channels, 1)
        self.g = nn.Conv2d(channels, channels, 1)
        self.W = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.W.weight)
        nn.init.zeros_(self.W.bias)
        self.post = res_blocks(channels, post_res_blocks, norm)

    def attend(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """The attended features y (B x C x H x W; zero at valid positions in the partial form)."""
        batch, channels, height, width = x.shape
        theta, phi, g = (conv(x).flatten(2) for conv in (self.theta, self.phi, self.g))
        outputs = []
        for b in range(batch):
            if mask is None:
                outputs.append(chunked_attention(theta[b].T, phi[b].T, g[b].T, self.chunk_elements).T)
                continue
            holes = mask[b].flatten() > 0.5
            hole_idx, valid_idx = holes.nonzero().squeeze(1), (~holes).nonzero().squeeze(1)
            y = g.new_zeros((channels, height * width))
            if hole_idx.numel() and valid_idx.numel():
                attended = chunked_attention(
                    theta[b][:, hole_idx].T, phi[b][:, valid_idx].T, g[b][:, valid_idx].T, self.chunk_elements
                )
                y = y.index_copy(1, hole_idx, attended.T)
            outputs.append(y)
        return torch.stack(outputs).view(batch, channels, height, width)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``mask``: B x 1 x H x W, 1 = hole (required when partial)."""
        if self.partial and mask is None:
            raise ValueError("partial nonlocal block: a defect mask is required")
        mask = mask if self.partial else None
        fused = self.post(x + self.W(self.attend(x, mask)))
        if mask is None:
            return fused
        return (1.0 - mask) * x + mask * fused


class PatchAttention(nn.Module):
    """One scale of the TPAMI patch attention: copy the most similar valid patch into each hole patch.

    Features are cut into non-overlapping ``patch`` x ``patch`` patches (padded by replication, so any
    size works). Every patch containing a hole is a query (padding is no hole); keys are the patches
    at most ``max_masked`` masked, padding counted as masked; similarity is the cosine of the flattened patches; the
    best key (never the query itself) is copied. Input, copied features and mask are fused by a 3x3
    convolution, whose output replaces the input or, with ``residual``, is added to it (the
    convolution then starts at zero, so the untrained scale is the identity).
    """

    def __init__(self, channels: int, patch: int, max_masked: float = 0.6, chunk_elements: int = 1 << 24,
                 residual: bool = False) -> None:
        super().__init__()
        self.patch = patch
        self.max_masked = max_masked
        self.chunk_elements = chunk_elements
        self.residual = residual
        self.fuse = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(2 * channels + 1, channels, 3))
        if residual:
            nn.init.zeros_(self.fuse[1].weight)
            nn.init.zeros_(self.fuse[1].bias)

    def copy_patches(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x with every hole-containing patch replaced by its best valid match (same shape as x)."""
        height, width = x.shape[-2:]
        pad_h, pad_w = (-height) % self.patch, (-width) % self.patch
        padded = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else x
        patches = F.unfold(padded, self.patch, stride=self.patch)
        hole_fraction = F.avg_pool2d(F.pad(mask, (0, pad_w, 0, pad_h), value=0.0), self.patch).flatten(1)
        invalid_fraction = F.avg_pool2d(F.pad(mask, (0, pad_w, 0, pad_h), value=1.0), self.patch).flatten(1)
        copied = [self._copy_one(patches[b], hole_fraction[b], invalid_fraction[b]) for b in range(x.shape[0])]
        folded = F.fold(torch.stack(copied), padded.shape[-2:], self.patch, stride=self.patch)
        return folded[..., :height, :width]

    def _copy_one(self, patches: torch.Tensor, hole_fraction: torch.Tensor,
                  invalid_fraction: torch.Tensor) -> torch.Tensor:
        query_idx = (hole_fraction > 0).nonzero().squeeze(1)
        key_idx = (invalid_fraction <= self.max_masked).nonzero().squeeze(1)
        if query_idx.numel() == 0 or key_idx.numel() == 0:
            return patches
        # A query whose only candidate is itself gets an all -inf row; argmax then picks that key.
        with torch.no_grad():
            unit = F.normalize(patches.T.float(), dim=1)
            keys = unit[key_idx]
            key_rank = torch.full((patches.shape[1],), -1, dtype=torch.long, device=patches.device)
            key_rank[key_idx] = torch.arange(key_idx.numel(), device=patches.device)
            best = []
            for rows in query_idx.split(_row_block(key_idx.numel(), self.chunk_elements)):
                similarity = unit[rows] @ keys.T
                own = key_rank[rows]
                is_key = own >= 0
                similarity[is_key.nonzero().squeeze(1), own[is_key]] = float("-inf")
                best.append(similarity.argmax(dim=1))
            source = key_idx[torch.cat(best)]
        return patches.index_copy(1, query_idx, patches[:, source])

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x`` B x C x H x W, ``mask`` B x 1 x H x W (1 = hole)."""
        fused = self.fuse(torch.cat([x, self.copy_patches(x, mask), mask], dim=1))
        return x + fused if self.residual else fused


class MultiScalePatchAttention(nn.Module):
    """Patch attention at each patch size in turn (coarse to fine), then ResBlocks."""

    def __init__(self, channels: int, patch_sizes, max_masked: float, post_res_blocks: int, chunk_elements: int,
                 norm: str = "instance", residual: bool = False) -> None:
        super().__init__()
        self.scales = nn.ModuleList(PatchAttention(channels, p, max_masked, chunk_elements, residual)
                                    for p in patch_sizes)
        self.post = res_blocks(channels, post_res_blocks, norm)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for scale in self.scales:
            x = scale(x, mask)
        return self.post(x)
