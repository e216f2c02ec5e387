"""Fixtures for the benchmark tests."""

import pytest

from oldphoto.infra import weights


@pytest.fixture()
def needs_weights():
    """``needs_weights(name)`` skips the test, saying why, when cached weights ``name`` are absent
    (``make test`` runs ``oldphoto weights fetch`` first, so they are there unless fetching failed)."""

    def check(name: str) -> None:
        try:
            weights.verify(name)
        except weights.WeightsError as exc:
            pytest.skip(str(exc))

    return check
