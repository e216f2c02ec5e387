"""DDP smoke test: `torchrun` with 2 CPU processes (gloo) trains like one process with twice the batch."""

import json
import os
import socket
import subprocess
import sys

import torch

from oldphoto.models.training import load_checkpoint, train

SCRIPT = """
import sys
import torch
from oldphoto.datasets.torch import OnTheFlyDataset
from oldphoto.models.training import train

torch.set_num_threads(1)
data = OnTheFlyDataset("builtin", crop=32, seed=0, per_image=1)
train("sequential", data, sys.argv[1], model_config={"width": 8, "depth": 3}, seed=3, device="cpu",
      progress=False, train_config={"steps": 4, "batch_size": 2, "lr": 1e-3, "log_every": 2,
                                    "checkpoint_every": 2, "sample_every": 0, "samples": 2})
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_gloo_processes_match_one_process_with_double_batch(tmp_path):
    from oldphoto.datasets.torch import OnTheFlyDataset

    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
           "--master-port", str(free_port()), str(script), str(tmp_path / "ddp")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]

    ddp = load_checkpoint(tmp_path / "ddp" / "checkpoint.pt")
    assert ddp["step"] == 4 and len(ddp["rng"]) == 2  # one RNG state per rank
    rows = [json.loads(line) for line in (tmp_path / "ddp" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4]  # rank 0 logs, once per interval

    torch.set_num_threads(1)
    data = OnTheFlyDataset("builtin", crop=32, seed=0, per_image=1)
    train("sequential", data, tmp_path / "single", model_config={"width": 8, "depth": 3}, seed=3, device="cpu",
          progress=False, train_config={"steps": 4, "batch_size": 4, "lr": 1e-3, "log_every": 2,
                                        "checkpoint_every": 0, "sample_every": 0, "samples": 2})
    single = load_checkpoint(tmp_path / "single" / "checkpoint.pt")
    for key, value in single["state"]["modules"]["denoiser"].items():
        assert torch.allclose(value, ddp["state"]["modules"]["denoiser"][key], atol=1e-6), key


GATED = """
import sys
import torch
from torch import nn
from oldphoto.models.training import distributed

class Gated(nn.Module):
    def __init__(self):
        super().__init__()
        self.always, self.holes_only = nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x, has_holes):
        return self.holes_only(self.always(x)) if has_holes else self.always(x)

torch.manual_seed(0)
info = distributed.setup(torch.device("cpu"))
net = distributed.wrap(Gated(), info, find_unused=sys.argv[1] == "1")
for _ in range(3):
    net(torch.randn(2, 4), has_holes=False).sum().backward()
distributed.teardown(info)
"""


def run_gated(tmp_path, find_unused: bool) -> subprocess.CompletedProcess:
    script = tmp_path / "gated.py"
    script.write_text(GATED)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
           "--master-port", str(free_port()), str(script), "1" if find_unused else "0"]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=120)


def test_mask_gated_branches_train_under_ddp_only_with_find_unused(tmp_path):
    """A batch without defects leaves the global branch unused: DDP must be told to look for that."""
    from oldphoto.models.training.families.bopbtl import MappingStage

    assert MappingStage.unused_parameters
    ok = run_gated(tmp_path, find_unused=True)
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert run_gated(tmp_path, find_unused=False).returncode != 0
