"""Fixtures for the benchmark tests."""

import pytest

from oldphoto.datasets.sources import make_source
from oldphoto.datasets.synthesize import synthesize
from oldphoto.infra import weights


@pytest.fixture(scope="session")
def paired_set(tmp_path_factory):
    """``paired_set(preset, limit)``: a paired dataset of 48 px crops of the first ``limit`` builtin
    photos degraded with ``preset`` (one per arguments and session)."""
    made = {}

    def make(preset: str, limit: int):
        if (preset, limit) not in made:
            made[preset, limit] = tmp_path_factory.mktemp("data") / "set"
            synthesize(make_source("builtin"), made[preset, limit], preset=preset, crop=48, limit=limit,
                       progress=False)
        return made[preset, limit]

    return make


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
