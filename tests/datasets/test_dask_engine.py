"""oldphoto synthesize --engine dask: same bytes as one worker, clear errors, items sent in batches,
resume after a killed client, a worker killed mid-batch changes nothing. One LocalCluster (2
one-thread worker processes) serves the module."""

from __future__ import annotations

import operator
import os
import re
import signal
import sys
import threading
import time

import pytest
from click.testing import CliRunner

from oldphoto.cli import main
from oldphoto.datasets import engines
from oldphoto.datasets.engines import EngineError, Job, batch_size, open_engine
from oldphoto.datasets.sources import make_source
from oldphoto.datasets.synthesize import JOURNAL, synthesize

CROP = 64
NEEDS_DASK = "dask/distributed not installed (pip install 'oldphoto[dask]'); the error path is tested without it"


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 one-thread worker processes, started in this process for the module."""
    distributed = pytest.importorskip("distributed", reason=NEEDS_DASK)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local:
        yield local


@pytest.fixture
def client(cluster):
    """A client of the module's cluster, once both workers are up (a killed one is restarted by its nanny)."""
    from distributed import Client

    with Client(cluster.scheduler_address) as c:
        c.wait_for_workers(2, timeout=60)
        yield c


def run(source, out, **kw):
    kw.setdefault("crop", CROP)
    return synthesize(source, out, progress=False, **kw)


# --- smoke ---------------------------------------------------------------------------------------

def test_same_bytes_as_one_worker(photos, tmp_path, helpers, client):
    (photos / "broken.png").write_bytes(b"not a png")  # a skipped.csv row, too
    source = make_source("folder", photos)
    run(source, tmp_path / "w1", per_image=2, seed=5)
    summary = run(source, tmp_path / "dask", per_image=2, seed=5, engine="dask", scheduler=client.scheduler.address)
    assert summary.made == 12 and summary.skipped == 2
    assert helpers.tree_digest(tmp_path / "w1") == helpers.tree_digest(tmp_path / "dask")
    assert "broken" in (tmp_path / "dask" / "skipped.csv").read_text()


def test_cli_starts_a_local_cluster_of_workers(photos, tmp_path, helpers):
    pytest.importorskip("distributed", reason=NEEDS_DASK)
    args = ["synthesize", "--source", "folder", "--root", str(photos), "--preset", "bopbtl-code", "--crop", str(CROP)]
    one = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "w1"), "--no-progress"])
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "dask"), "--engine", "dask", "--workers", "2"])
    assert one.exit_code == 0 and result.exit_code == 0, result.output
    assert "6 written of 6 planned" in result.output and "6/6" in result.output  # summary and progress bar
    assert re.search(r"s start-up, \d+\.\d s shut-down\)", result.output)
    assert helpers.tree_digest(tmp_path / "w1") == helpers.tree_digest(tmp_path / "dask")


def test_items_go_in_batches_and_each_result_comes_once(client):
    from distributed import get_task_stream

    items = list(range(40))
    with open_engine("dask", scheduler=client.scheduler.address) as engine, get_task_stream(client) as stream:
        results = list(engine.map(Job("batched", list, range(40), operator.getitem), items))
    assert sorted(results) == items
    tasks = [t for t in stream.data if not t["key"].startswith("batched-setup-")]
    assert len(tasks) == len(items) // batch_size(len(items), 2) == 20


def test_the_cli_local_cluster_skips_the_worker_profiler_and_times_its_start_and_stop():
    pytest.importorskip("distributed", reason=NEEDS_DASK)
    from dask.config import get

    with open_engine("dask", workers=1) as engine:
        assert list(engine.client.run(get, "distributed.worker.profile.enabled").values()) == [False]
        assert list(engine.client.run(get, "distributed.admin.tick.interval").values()) == ["1s"]
        assert engine.shutdown_s == 0
    assert engine.startup_s > 0 and engine.shutdown_s > 0  # stopping the cluster is timed apart from the work


# --- exceptions ----------------------------------------------------------------------------------

def test_without_dask_the_cli_says_how_to_install_it(photos, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    out = tmp_path / "ds"
    result = CliRunner().invoke(main, ["synthesize", "--source", "folder", "--root", str(photos), "--preset",
                                       "bopbtl-code", "--out", str(out), "--engine", "dask"])
    assert result.exit_code == 2 and "pip install 'oldphoto[dask]'" in result.output
    assert not out.exists()
    with pytest.raises(EngineError, match=re.escape("pip install 'oldphoto[dask]'")):
        run(make_source("folder", photos), out, engine="dask")


@pytest.mark.parametrize("extra, message", [
    (["--scheduler", "tcp://127.0.0.1:8786"], "needs --engine dask"),
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"], "--workers does not apply"),
    (["--engine", "ray"], "'ray' is not one of"),
])
def test_engine_usage_errors(photos, tmp_path, extra, message):
    result = CliRunner().invoke(main, ["synthesize", "--source", "builtin", "--preset", "bopbtl-code",
                                       "--out", str(tmp_path / "ds"), *extra])
    assert result.exit_code == 2 and message in result.output


def test_unreachable_scheduler_is_named(photos, tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason=NEEDS_DASK)
    monkeypatch.setattr(engines, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(EngineError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run(make_source("folder", photos), tmp_path / "ds", engine="dask", scheduler="tcp://127.0.0.1:9")


# --- numerical values: resume and lost workers keep the bytes -------------------------------------

def test_resume_after_a_killed_client(photos, tmp_path, helpers, client):
    helpers.add_big_photos(photos, 6)
    for i in range(26):  # 38 photos: tasks of 2 (the tiny ones are skipped as too small)
        helpers.save(photos / f"tiny{i}.png", helpers.make_photo(i, 24, 24))
    args = ["synthesize", "--source", "folder", "--root", str(photos), "--preset", "bopbtl-code", "--crop", "256",
            "--per-image", "3", "--no-progress"]
    killed = tmp_path / "killed"
    helpers.kill_mid_run([*args, "--out", str(killed), "--engine", "dask", "--scheduler", client.scheduler.address],
                         killed / JOURNAL)
    result = CliRunner().invoke(main, ["synthesize", "--out", str(killed), "--resume", "--no-progress",
                                       "--engine", "dask", "--scheduler", client.scheduler.address])
    assert result.exit_code == 0, result.output
    assert int(re.search(r"(\d+) kept from an earlier run", result.output).group(1)) > 0
    full = tmp_path / "full"
    assert CliRunner().invoke(main, [*args, "--out", str(full)]).exit_code == 0
    assert helpers.tree_digest(killed) == helpers.tree_digest(full)


def test_a_worker_killed_mid_batch_changes_nothing(photos, tmp_path, helpers, client, monkeypatch):
    monkeypatch.setattr(engines, "BATCHES_PER_WORKER", 1)  # 14 photos: 2 tasks of 7, the second of big photos
    helpers.add_big_photos(photos, 8)
    source, out = make_source("folder", photos), tmp_path / "dask"
    outcome: dict = {}

    def synthesize_on_the_cluster() -> None:
        try:
            outcome["summary"] = run(source, out, crop=256, per_image=3, engine="dask",
                                     scheduler=client.scheduler.address)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test thread below
            outcome["error"] = exc

    thread = threading.Thread(target=synthesize_on_the_cluster)
    thread.start()
    pids = client.run(os.getpid)
    victim, deadline = None, time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:  # once the first task is journalled and the
        written = list((out / "degraded").glob("zbig[1-7]_*.png")) if (out / "degraded").is_dir() else []
        if written and (out / JOURNAL).stat().st_size > 0:  # second has written samples, kill its worker
            victim = next((w for w, keys in client.processing().items() if keys), None)
        time.sleep(0.002)
    assert victim is not None and not (out / "manifest.csv").exists(), "no worker was busy mid-batch"
    os.kill(pids[victim], signal.SIGKILL)
    thread.join(timeout=120)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["summary"].made == 24 and not list(out.rglob(".*.tmp"))
    run(source, tmp_path / "w1", crop=256, per_image=3)
    assert helpers.tree_digest(out) == helpers.tree_digest(tmp_path / "w1")
