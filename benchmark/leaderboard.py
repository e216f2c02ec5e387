"""`oldphoto leaderboard update RUN_DIR`: merge a benchmark run into ``leaderboard/`` and regenerate its README.

Files (all generated; never edit them by hand):

    leaderboard/DATASET.csv    one row per (model, config, dataset, protocol): n, each metric's mean,
                               std and bootstrap interval (_ci_low, _ci_high), its paired difference
                               to the run's reference model (_diff, _diff_ci_low, _diff_ci_high,
                               Wilcoxon _p; the model in ``reference``), seconds per megapixel,
                               parameters, peak memory, device, oldphoto version, git commit and the
                               date of the run (rows of older runs have no interval columns)
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

from oldphoto.infra.files import write_bytes

from . import rundir
from .intervals import better_of
from .rundir import metric_sort_key, parse_float

KEY = ("model", "config", "dataset", "protocol")
LEAD = (*KEY, "n")
TAIL = ("seconds_per_mp", "params", "peak_memory_mib", "memory_kind", "device", "oldphoto_version", "commit", "date",
        "reference")
# Per-metric columns beside the mean, in order: spread, interval, paired difference to the reference.
SUFFIXES = ("_std", "_ci_low", "_ci_high", "_diff", "_diff_ci_low", "_diff_ci_high", "_p")
PROTOCOL_COLUMNS = ("protocol", "dataset", "description", "metrics")
MARKS = {"model": "▲", "reference": "▼"}


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
                m = s["metric"]
                row[m], row[f"{m}_std"], row[f"{m}_ci_low"], row[f"{m}_ci_high"] = (
                    s["mean"], s["std"], s.get("ci_low", ""), s.get("ci_high", ""))
        reference = ((meta.get("intervals") or {}).get("references") or [""])[0]
        for d in run["differences"]:
            if (d["model"], d["dataset"], d["reference"]) == (status["model"], status["dataset"], reference):
                m = d["metric"]
                row["reference"] = reference
                row[f"{m}_diff"], row[f"{m}_diff_ci_low"], row[f"{m}_diff_ci_high"], row[f"{m}_p"] = (
                    d["difference"], d["ci_low"], d["ci_high"], d["p_value"])
        rows.setdefault(status["dataset"], []).append(row)
    for name, dataset in meta["datasets"].items():
        used = {m: meta["metrics"][m] for m in meta["metrics"]
                if any(s["dataset"] == name and s["metric"] == m for s in run["summary"])}
        protocols.append({"protocol": dataset["protocol"], "dataset": name, "description": dataset["protocol_text"],
                          "metrics": json.dumps({m: {"convention": v["convention"],
                                                     "higher_is_better": v["higher_is_better"]}
                                                 for m, v in sorted(used.items())}, sort_keys=True)})
    return rows, protocols


def _columns(rows: list[dict]) -> list[str]:
    metrics = sorted({k for r in rows for k in r if k not in (*LEAD, *TAIL) and not k.endswith(SUFFIXES)},
                     key=metric_sort_key)
    return [*LEAD, *(c for m in metrics for c in (m, *(m + suffix for suffix in SUFFIXES))), *TAIL]


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


def half_width(row: dict, metric: str) -> float:
    """Half the width of ``metric``'s interval in ``row`` (NaN where the row has none)."""
    return (parse_float(row.get(f"{metric}_ci_high", "")) - parse_float(row.get(f"{metric}_ci_low", ""))) / 2


def mark(row: dict, metric: str, higher_is_better: bool) -> str:
    """▲ (better) or ▼ (worse than the row's reference) when the interval of the paired difference
    excludes 0, else ""."""
    low, high = (parse_float(row.get(f"{metric}_diff_ci_{end}", "")) for end in ("low", "high"))
    return MARKS.get(better_of(low, high, higher_is_better), "")


def metric_cell(row: dict, metric: str, higher_is_better: bool, bold: bool) -> str:
    """``mean ± half-width`` (the mean in bold when ``bold``) and the difference mark."""
    mean = _cell(parse_float(row.get(metric, "")))
    hw = half_width(row, metric)
    text = (f"**{mean}**" if bold else mean) + ("" if math.isnan(hw) else f" ± {hw:.2g}")
    sign = mark(row, metric, higher_is_better)
    return f"{text} {sign}" if sign else text


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
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header) - 3) + ["---"] * 2) + "|"]
    for r in rows:
        cells = []
        for m in names:
            v = parse_float(r.get(m, ""))
            cells.append(metric_cell(r, m, metrics[m]["higher_is_better"], best[m] is not None and v == best[m]))
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
           "`mean ± h`: h is half the width of the 95% percentile-bootstrap interval of the mean (samples",
           "resampled; set-level metrics by resampling the sets; the CSV has both ends, as the interval need",
           "not be symmetric). ▲ / ▼: better / worse than the reference model named under the table, shown",
           "only where the 95% interval of the paired difference excludes 0 (its Wilcoxon p-value is in the",
           "CSV); no mark means this n cannot tell them apart. Rows without ± come from runs made before",
           "intervals were recorded. Standard deviations, peak memory and run dates are in the CSV files.", ""]
    for path in sorted(board.glob("*.csv")):
        if path.name == "protocols.csv":
            continue
        rows = rundir.read_csv(path)
        for dataset, pid in sorted({(r["dataset"], r["protocol"]) for r in rows}):
            proto = protocols.get((dataset, pid))
            if proto is None:
                raise rundir.RunDirError(f"{path}: protocol {pid} is not described in {board / 'protocols.csv'}")
            table_rows = [r for r in rows if r["protocol"] == pid and r["dataset"] == dataset]
            references = sorted({r["reference"] for r in table_rows if r.get("reference")})
            compared = [f"Marks compare with `{', '.join(references)}`.", ""] if references else []
            out += [f"## {proto['dataset']} (protocol `{pid}`)", "", f"Protocol: {proto['description']}.", "",
                    *render_table(table_rows, json.loads(proto["metrics"])), "", *compared,
                    f"Data: [`{path.name}`]({path.name})", ""]
    return "\n".join(out).rstrip() + "\n"
