"""`oldphoto leaderboard update RUN_DIR`: merge a benchmark run into ``leaderboard/`` and regenerate its README.

Files (all generated; never edit them by hand):

    leaderboard/DATASET.csv    one row per (model, config, dataset, protocol): n, each metric's mean
                               and std, seconds per megapixel, parameters, peak memory, device,
                               oldphoto version, git commit and the date of the run
    leaderboard/protocols.csv  one row per (protocol, dataset): the dataset, description, mask mode and the
                               conventions and directions of its metrics
    leaderboard/README.md      one table per (dataset, protocol) with the protocol stated above it
                               and the best value of each metric in bold

A protocol id is a hash of the data identity, the mask mode and the metric conventions, so only
numbers measured the same way share a table. Merging replaces rows with the same key and is
idempotent: merging the same run twice leaves the files byte-identical. Failed models are not merged.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

from oldphoto.datasets.imageio import write_bytes

from . import rundir
from .rundir import metric_sort_key, parse_float

KEY = ("model", "config", "dataset", "protocol")
LEAD = (*KEY, "n")
TAIL = ("seconds_per_mp", "params", "peak_memory_mib", "memory_kind", "device", "oldphoto_version", "commit", "date")
PROTOCOL_COLUMNS = ("protocol", "dataset", "description", "metrics")
def _file_name(dataset: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", dataset) + ".csv"


def run_rows(run_dir: str | os.PathLike) -> tuple[dict[str, list[dict]], list[dict]]:
    """Leaderboard rows of one run, grouped by dataset, and its protocol rows."""
    run = rundir.load_run(run_dir)
    meta, env = run["run"], run["environment"]
    commit = (env.get("git_commit") or "")[:10] + ("+dirty" if env.get("git_dirty") else "")
    rows: dict[str, list[dict]] = {}
    protocols = []
    for status in run["models"]:
        if status["status"] != "ok":
            continue
        dataset = meta["datasets"].get(status["dataset"])
        if dataset is None:
            raise rundir.RunDirError(f"{run_dir}: models.csv names dataset {status['dataset']!r}, run.json does not")
        row = {"model": status["model"], "config": status["config"], "dataset": status["dataset"],
               "protocol": dataset["protocol"], "n": status["samples"], "seconds_per_mp": status["seconds_per_mp"],
               "params": status["params"], "peak_memory_mib": status["peak_memory_mib"],
               "memory_kind": status["memory_kind"], "device": status["device"],
               "oldphoto_version": env.get("oldphoto_version", ""), "commit": commit, "date": meta.get("finished", "")}
        for s in run["summary"]:
            if s["model"] == status["model"] and s["dataset"] == status["dataset"]:
                row[s["metric"]], row[f"{s['metric']}_std"] = s["mean"], s["std"]
        rows.setdefault(status["dataset"], []).append(row)
    for name, dataset in meta["datasets"].items():
        used = {m: meta["metrics"][m] for m in meta["metrics"]
                if any(s["dataset"] == name and s["metric"] == m for s in run["summary"])}
        protocols.append({"protocol": dataset["protocol"], "dataset": name, "description": dataset["protocol_text"],
                          "metrics": json.dumps({m: {"convention": v["convention"], "higher_is_better": v["higher_is_better"]}
                                                 for m, v in sorted(used.items())}, sort_keys=True)})
    return rows, protocols


def _columns(rows: list[dict]) -> list[str]:
    metrics = sorted({k for r in rows for k in r if k not in (*LEAD, *TAIL) and not k.endswith("_std")}, key=metric_sort_key)
    return [*LEAD, *(c for m in metrics for c in (m, f"{m}_std")), *TAIL]


def _merge(existing: list[dict], new: list[dict], key: tuple[str, ...]) -> list[dict]:
    merged = {tuple(r[k] for k in key): r for r in existing}
    merged.update({tuple(str(r[k]) for k in key): {k: str(v) for k, v in r.items()} for r in new})
    return [merged[k] for k in sorted(merged)]


def update(run_dir: str | os.PathLike, board: str | os.PathLike = "leaderboard") -> list[Path]:
    """Merge the run in ``run_dir`` into the leaderboard folder ``board``; returns the files written."""
    board = Path(board)
    rows, protocols = run_rows(run_dir)
    written = []
    for dataset, new in rows.items():
        path = board / _file_name(dataset)
        existing = rundir.read_csv(path) if path.is_file() else []
        merged = _merge(existing, new, KEY)
        rundir.write_csv(path, _columns(merged), merged)
        written.append(path)
    proto_path = board / "protocols.csv"
    existing = rundir.read_csv(proto_path) if proto_path.is_file() else []
    rundir.write_csv(proto_path, PROTOCOL_COLUMNS, _merge(existing, protocols, ("protocol", "dataset")))
    readme = board / "README.md"
    write_bytes(readme, render_readme(board).encode())
    return [*written, proto_path, readme]


def _best(values: list[float], higher: bool) -> float | None:
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return None
    return max(finite) if higher else min(finite)


def _cell(value: float) -> str:
    if math.isnan(value):
        return "–"
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"


def _model_label(row: dict) -> str:
    if not row["config"]:
        return f"`{row['model']}`"
    overrides = ", ".join(f"{k}={v}" for k, v in json.loads(row["config"]).items())
    return f"`{row['model']}` ({overrides})"


def render_table(rows: list[dict], metrics: dict) -> list[str]:
    """Markdown table of ``rows`` (one protocol) with the best mean of each metric in bold."""
    names = sorted(metrics, key=metric_sort_key)
    header = ["Model", "n", *[f"{m} {'↑' if metrics[m]['higher_is_better'] else '↓'}" for m in names],
              "s/MP ↓", "Params", "Device", "Commit"]
    best = {m: _best([parse_float(r.get(m, "")) for r in rows], metrics[m]["higher_is_better"]) for m in names}
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 3) + ["---"] * 2) + "|"]
    for r in rows:
        cells = []
        for m in names:
            v = parse_float(r.get(m, ""))
            cells.append(f"**{_cell(v)}**" if best[m] is not None and v == best[m] else _cell(v))
        params = int(r["params"]) if r["params"] else 0
        lines.append("| " + " | ".join([_model_label(r), r["n"], *cells, _cell(parse_float(r["seconds_per_mp"])),
                                        f"{params / 1e6:.3g} M" if params else "0", r["device"], r["commit"]]) + " |")
    return lines


def render_readme(board: str | os.PathLike) -> str:
    """The leaderboard README from the CSVs in ``board``."""
    board = Path(board)
    protocols = {(p["dataset"], p["protocol"]): p for p in rundir.read_csv(board / "protocols.csv")}
    out = ["# Leaderboard", "",
           "Generated by `oldphoto leaderboard update RUN_DIR` from the CSV files in this folder; do not edit by hand.",
           "One table per dataset and protocol: only numbers measured on the same data, with the same masks and",
           "the same metric conventions share a table. Best mean per metric in **bold**; ↑ higher is better,",
           "↓ lower is better. s/MP: seconds of `restore` per megapixel on the device shown (first call included).",
           "Standard deviations, peak memory and run dates are in the CSV files.", ""]
    for path in sorted(board.glob("*.csv")):
        if path.name == "protocols.csv":
            continue
        rows = rundir.read_csv(path)
        for dataset, pid in sorted({(r["dataset"], r["protocol"]) for r in rows}):
            proto = protocols.get((dataset, pid))
            if proto is None:
                raise rundir.RunDirError(f"{path}: protocol {pid} is not described in {board / 'protocols.csv'}")
            table_rows = [r for r in rows if r["protocol"] == pid and r["dataset"] == dataset]
            out += [f"## {proto['dataset']} (protocol `{pid}`)", "", f"Protocol: {proto['description']}.", "",
                    *render_table(table_rows, json.loads(proto["metrics"])), "", f"Data: [`{path.name}`]({path.name})", ""]
    return "\n".join(out).rstrip() + "\n"
