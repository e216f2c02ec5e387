"""The FID Inception pool3 network built by oldphoto.benchmark.metrics.inception gives the features of
pytorch-fid's own ``InceptionV3([3])`` for the same weights (random ones here: the real file is not needed)."""

from __future__ import annotations

import pytest
import torch
from pytorch_fid import inception as pytorch_fid_inception

from oldphoto.benchmark.metrics.inception import fid_inception_v3, inception_pool3


@pytest.fixture(scope="module")
def random_state() -> dict[str, torch.Tensor]:
    """A state dict of the FID Inception with seeded random weights and batch-norm statistics."""
    generator = torch.Generator().manual_seed(0)
    state = fid_inception_v3().state_dict()
    for name, value in state.items():
        if value.is_floating_point():
            noise = torch.rand(value.shape, generator=generator)
            state[name] = 0.5 + noise if name.endswith("running_var") else 0.1 * (noise - 0.5)
    return state


def test_features_equal_pytorch_fids_inception(random_state, monkeypatch):
    monkeypatch.setattr(pytorch_fid_inception, "load_state_dict_from_url", lambda *args, **kwargs: random_state)
    reference = pytorch_fid_inception.InceptionV3([3]).eval()
    ours = inception_pool3(random_state).eval()
    images = torch.rand((2, 3, 75, 90), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, got = reference(images)[0].flatten(1), ours(images)
    assert got.shape == (2, 2048)
    assert expected.abs().max() > 0
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_a_state_of_another_network_is_refused():
    state = fid_inception_v3().state_dict()
    state.pop("fc.weight")
    with pytest.raises(RuntimeError, match="fc.weight"):
        inception_pool3(state)
