"""Engines: how many items go to a worker at once, and worker processes of both engines keep freed
memory for reuse even when started with Dask's ``MALLOC_TRIM_THRESHOLD_=65536``.

Each memory case runs a small script in a fresh interpreter (started with that variable) whose job
counts the minor page faults of allocating, filling and freeing a 1 MiB block again and again; the
serial engine, which runs the job in the script's own process and changes nothing there, is the
control.
"""

from __future__ import annotations

import operator
import os
import subprocess
import sys

import pytest

from oldphoto.datasets.engines import MAX_BATCH, Job, PoolEngine, batch_size

BLOCKS, PAGES_PER_BLOCK = 100, 256  # 100 x 1 MiB (under numpy's 4 MiB huge-page hint), 4 KiB pages
SCRIPT = f"""
import resource, sys
import numpy as np
from oldphoto.datasets.engines import Job, open_engine

def nothing(spec):
    return None

def page_faults(state, item):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range({BLOCKS}):
        np.ones(1 << 20, np.uint8)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

if __name__ == "__main__":
    with open_engine(sys.argv[1], int(sys.argv[2])) as runner:
        print(max(runner.map(Job("faults", nothing, None, page_faults), [0, 1])))
"""

LINUX_ONLY = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings (Linux)")


@pytest.mark.parametrize("items, workers, size", [(0, 2, 1), (14, 2, 1), (40, 2, 2), (40, 1, 5),
                                                  (10_000, 4, MAX_BATCH)])
def test_batches_are_small_enough_to_share_the_items_out(items, workers, size):
    assert batch_size(items, workers) == size


@pytest.mark.parametrize("workers", [1, 2])
def test_the_pool_times_its_start_and_stop_apart_from_the_work(workers):
    engine = PoolEngine(workers)
    assert sorted(engine.map(Job("plus", abs, 10, operator.add), [1, 2, 3])) == [11, 12, 13]
    if workers == 1:
        assert engine.shutdown_s == 0  # serial: nothing to stop
    else:
        assert engine.startup_s > 0 and engine.shutdown_s > 0


def worker_page_faults(tmp_path, engine: str, workers: int) -> int:
    script = tmp_path / "faults.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(script), engine, str(workers)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


@LINUX_ONLY
def test_the_variable_makes_every_block_fault_in_an_untouched_process(tmp_path):
    assert worker_page_faults(tmp_path, "pool", 1) > BLOCKS * PAGES_PER_BLOCK // 2


@LINUX_ONLY
@pytest.mark.parametrize("engine, workers", [("pool", 2), ("dask", 1)])
def test_engine_workers_reuse_freed_blocks(tmp_path, engine, workers):
    if engine == "dask":
        pytest.importorskip("distributed", reason="dask/distributed not installed")
    assert worker_page_faults(tmp_path, engine, workers) < BLOCKS * PAGES_PER_BLOCK // 10
