"""Fixtures for the model tests."""

import pytest
import torch


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    """Run every model test module's torch work on one thread: small networks run fastest (and steadiest on a
    busy 2-core machine) that way; the previous thread count is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
