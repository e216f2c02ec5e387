"""`RUN_DIR/report.html`: the visual report of a benchmark run.

The page has no external JS, CSS or fonts. Images are referenced by *relative paths inside RUN_DIR*
(the restored images already live in ``RUN_DIR/images/``; inputs, targets and mask overlays of the
samples shown are copied to ``RUN_DIR/report/``), so the page works when opened from RUN_DIR and
keeps working when the whole folder is moved or archived, while staying small.

Sections: a sortable summary table per dataset (click a header), per-metric bar charts (inline
SVG), and a comparison grid per sample: degraded | each model | clean | mask overlay, with a zoomed
crop of the same box under each (the box with the most defect pixels, else the largest error).
After loading, the page checks itself and writes the result into ``#selftest``: every image loaded,
and a click on a numeric header sorts the rows.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path

import cv2
import numpy as np

from oldphoto.datasets.imageio import read_rgb, write_image
from oldphoto.degrade.gallery import overlay
from oldphoto.infra.files import write_bytes

from . import rundir
from .rundir import metric_sort_key, parse_float, restored_path

ASSETS = "report"
PAGE = "report.html"
TILE_PX = 224  # displayed width of each full image (CSS px)


def crop_box(defects: np.ndarray | None, error: np.ndarray | None, shape: tuple[int, int],
             side: int) -> tuple[int, int, int]:
    """(x, y, side) of the square with the most defect pixels, else the largest ``error`` sum (HxW
    float), else the centre; ``side`` is clipped to the image."""
    h, w = shape
    side = max(1, min(side, h, w))
    weight = defects.astype(np.float32) if defects is not None and defects.any() else error
    if weight is None or not np.any(weight > 0):
        return (w - side) // 2, (h - side) // 2, side
    summed = cv2.boxFilter(weight.astype(np.float32), -1, (side, side), normalize=False, borderType=cv2.BORDER_CONSTANT)
    half = side // 2
    valid = summed[half:h - side + half + 1, half:w - side + half + 1]
    y, x = np.unravel_index(int(np.argmax(valid)), valid.shape)
    return int(x), int(y), side


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "–"
    return f"{value:.4g}"


class _Page:
    """Collects the HTML sections of the report."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.parts: list[str] = []

    def rel(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.run_dir)).as_posix()


def _metric_cell(s: dict | None, diff: dict | None) -> str:
    """A summary cell: ``mean ± half-width`` and ▲/▼ when the paired difference to the reference
    excludes 0; the interval ends, std and the difference in its title. Older runs: ``mean (sd x)``."""
    from .leaderboard import MARKS

    mean = parse_float(s["mean"]) if s else math.nan
    std = parse_float(s["std"]) if s else math.nan
    low, high = (parse_float(s.get(k, "")) if s else math.nan for k in ("ci_low", "ci_high"))
    if not math.isnan(low):
        text = f"{_fmt(mean)} ± {(high - low) / 2:.2g}"
        title = f"95% interval [{_fmt(low)}, {_fmt(high)}] ({s['resamples']} bootstrap resamples)"
    else:
        text, title = _fmt(mean) + (f" (sd {_fmt(std)})" if not math.isnan(std) else ""), ""
    title += f"; sd {_fmt(std)}" if not math.isnan(std) else ""
    if diff is not None:
        text += f" {MARKS[diff['better']]}" if diff["better"] in MARKS else ""
        p = parse_float(diff["p_value"])
        title += (f"; minus {diff['reference']}: {_fmt(parse_float(diff['difference']))} "
                  f"[{_fmt(parse_float(diff['ci_low']))}, {_fmt(parse_float(diff['ci_high']))}]"
                  + (f", Wilcoxon p {p:.3g}" if not math.isnan(p) else ""))
    return f'<td data-v="{"" if math.isnan(mean) else mean}" title="{_e(title.lstrip("; "))}">{_e(text)}</td>'


def _summary_tables(page: _Page, run: dict) -> None:
    summary, statuses = run["summary"], run["models"]
    reference = ((run["run"].get("intervals") or {}).get("references") or [None])[0]
    diffs = {(d["model"], d["dataset"], d["metric"]): d for d in run["differences"] if d["reference"] == reference}
    for dataset, meta in run["run"]["datasets"].items():
        metrics = sorted((m for m in run["run"]["metrics"]
                          if any(s["dataset"] == dataset and s["metric"] == m for s in summary)),
                         key=metric_sort_key)
        cells = {(s["model"], s["metric"]): s for s in summary if s["dataset"] == dataset}
        head = "".join(f'<th data-type="num" data-higher="{int(run["run"]["metrics"][m]["higher_is_better"])}" '
                       f'title="{_e(run["run"]["metrics"][m]["convention"])}">{_e(m)} '
                       f'{"↑" if run["run"]["metrics"][m]["higher_is_better"] else "↓"}</th>' for m in metrics)
        rows = []
        for st in (s for s in statuses if s["dataset"] == dataset):
            tds = [_metric_cell(cells.get((st["model"], m)), diffs.get((st["model"], dataset, m))) for m in metrics]
            speed = parse_float(st["seconds_per_mp"])
            params = int(st["params"]) if st["params"] else 0
            memory = parse_float(st["peak_memory_mib"])
            status = st["status"] if st["status"] == "ok" else f'{st["status"]}: {st["error"]}'
            short = status if len(status) <= 60 else status[:57] + "..."
            config = f' <span class="cfg">{_e(st["config"])}</span>' if st["config"] else ""
            rows.append(f'<tr><td data-v="{_e(st["model"])}">{_e(st["model"])}{config}</td>{"".join(tds)}'
                        f'<td data-v="{"" if math.isnan(speed) else speed}">{_fmt(speed)}</td>'
                        f'<td data-v="{params}">{params / 1e6:.3g} M</td>'
                        f'<td data-v="{"" if math.isnan(memory) else memory}">{_fmt(memory)}</td>'
                        f'<td title="{_e(status)}">{_e(short)}</td></tr>')
        legend = (f'<p class="protocol">mean ± half-width of the 95% bootstrap interval; ▲ / ▼: better / worse than '
                  f'<code>{_e(reference)}</code> (the interval of the paired difference excludes 0; hover a cell for '
                  'the interval, the difference and its p-value).</p>' if diffs else "")
        page.parts.append(
            f'<h2>{_e(dataset)}</h2><p class="protocol">Protocol <code>{_e(meta["protocol"])}</code>: '
            f'{_e(meta["protocol_text"])}</p>{legend}'
            f'<table class="sortable"><thead><tr><th data-type="text">model</th>{head}'
            f'<th data-type="num" data-higher="0">s/MP ↓</th>'
            f'<th data-type="num">params</th><th data-type="num">peak MiB</th>'
            f'<th data-type="text">status</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def bar_chart(title: str, values: dict[str, float], higher_is_better: bool, width: int = 420) -> str:
    """Inline SVG: one horizontal bar per model, the best bar highlighted, values printed."""
    finite = {k: v for k, v in values.items() if not math.isnan(v) and not math.isinf(v)}
    label_w, bar_h, gap = 110, 16, 6
    height = 24 + len(values) * (bar_h + gap)
    scale = max((abs(v) for v in finite.values()), default=1.0) or 1.0
    best = (max if higher_is_better else min)(finite.values()) if finite else None
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" role="img" '
             f'aria-label="{_e(title)}"><text x="0" y="14" class="ct">{_e(title)} '
             f'({"higher" if higher_is_better else "lower"} is better)</text>']
    for i, (name, value) in enumerate(values.items()):
        y = 24 + i * (bar_h + gap)
        ok = name in finite
        bar = (width - label_w - 70) * abs(value) / scale if ok else 0
        colour = "#d9822b" if ok and value == best else "#4a78a8"
        parts.append(f'<text x="0" y="{y + 12}" class="cl">{_e(name[:16])}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{bar:.1f}" height="{bar_h}" fill="{colour}"/>'
                     f'<text x="{label_w + bar + 4:.1f}" y="{y + 12}" class="cv">{_e(_fmt(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _charts(page: _Page, run: dict) -> None:
    charts = []
    for dataset in run["run"]["datasets"]:
        for metric, info in sorted(run["run"]["metrics"].items(), key=lambda kv: metric_sort_key(kv[0])):
            values = {s["model"]: parse_float(s["mean"]) for s in run["summary"]
                      if s["dataset"] == dataset and s["metric"] == metric}
            if values:
                charts.append(bar_chart(f"{metric} on {dataset}", values, info["higher_is_better"]))
    page.parts.append('<h2>Per-metric charts</h2><div class="charts">' + "".join(charts) + "</div>")


def _tile(page: _Page, label: str, path: Path, box: tuple[int, int, int], shape: tuple[int, int], note: str = "",
          zoom_px: int = TILE_PX) -> str:
    h, w = shape
    x, y, side = box
    src = _e(page.rel(path))
    s = zoom_px / side
    outline = (f'<div class="box" style="left:{100 * x / w:.3f}%;top:{100 * y / h:.3f}%;'
               f'width:{100 * side / w:.3f}%;height:{100 * side / h:.3f}%"></div>')
    return (f'<figure><figcaption>{_e(label)}</figcaption><div class="full">'
            f'<img src="{src}" alt="{_e(label)}" width="{w}" height="{h}">{outline}</div>'
            f'<div class="zoom" style="width:{zoom_px}px;height:{zoom_px}px"><img src="{src}" alt="{_e(label)} zoom" '
            f'style="width:{w * s:.1f}px;height:{h * s:.1f}px;left:{-x * s:.1f}px;top:{-y * s:.1f}px"></div>'
            f'<div class="note">{_e(note)}</div></figure>')


def _sample_grids(page: _Page, run: dict, max_samples: int, zoom_side: int) -> None:
    from .data import BenchSample, read_mask
    from .faces import face_crop_path

    per_image = {(r["model"], r["dataset"], r["sample"]): r for r in run["per_image"]}
    models = [m["model"] for m in run["models"]]
    models = list(dict.fromkeys(models))
    metric_names = list(run["run"]["metrics"])
    assets = page.run_dir / ASSETS
    page.parts.append("<h2>Samples</h2>")
    for dataset, meta in run["run"]["datasets"].items():
        shown = [m for m in models if any((m, dataset, s) in per_image for s in meta["samples"])]
        for sample_id in meta["samples"][:max_samples]:
            files = meta["inputs"][sample_id]
            sample = BenchSample(sample_id,
                                 *(Path(files[k]) if files[k] else None for k in ("degraded", "clean", "mask")))
            degraded = read_rgb(sample.degraded)
            clean = read_rgb(sample.clean) if sample.clean is not None else None
            defects = read_mask(sample)
            error = None if clean is None else np.abs(degraded.astype(np.int16) - clean).sum(axis=2).astype(np.float32)
            box = crop_box(defects, error, degraded.shape[:2], zoom_side)
            prefix = assets / dataset / sample_id
            write_image(prefix.with_name(f"{sample_id}-degraded.png"), degraded)
            tiles = [_tile(page, "degraded", prefix.with_name(f"{sample_id}-degraded.png"), box, degraded.shape[:2])]
            for model in shown:
                row = per_image.get((model, dataset, sample_id))
                path = (face_crop_path(page.run_dir, model, sample_id)
                        if meta.get("identity", {}).get("kind") == "faces"
                        else restored_path(page.run_dir, model, sample_id, meta["real"]))
                if row is None or not path.is_file():
                    continue
                note = " · ".join(f"{m} {_fmt(parse_float(row[m]))}" for m in metric_names if row.get(m, "") != "")
                tiles.append(_tile(page, model, path, box, degraded.shape[:2], note))
            if clean is not None:
                write_image(prefix.with_name(f"{sample_id}-clean.png"), clean)
                tiles.append(_tile(page, "clean", prefix.with_name(f"{sample_id}-clean.png"), box, degraded.shape[:2]))
            if defects is not None:
                write_image(prefix.with_name(f"{sample_id}-mask.png"), overlay(degraded, defects))
                tiles.append(_tile(page, f"mask ({defects.mean():.1%} px)", prefix.with_name(f"{sample_id}-mask.png"),
                                   box, degraded.shape[:2]))
            page.parts.append(f'<section class="sample"><h3>{_e(dataset)} / {_e(sample_id)}</h3>'
                              f'<div class="grid">{"".join(tiles)}</div></section>')


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{margin:0 0 .3em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child,td:last-child{text-align:left}
th{cursor:pointer;background:#eee;user-select:none}th.asc::after{content:" ▲"}th.desc::after{content:" ▼"}
.cfg{color:#777;font-size:11px}.protocol{color:#555;max-width:70em}
.charts{display:flex;flex-wrap:wrap;gap:18px}.chart text{font:11px system-ui,sans-serif}.chart .ct{font-weight:600}
.grid{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;width:224px}
figcaption{font-weight:600;font-size:12px}.full{position:relative;width:224px}
.full img{width:224px;height:auto;display:block;image-rendering:pixelated}
.box{position:absolute;border:1px solid #ff0;box-shadow:0 0 0 1px #000}
.zoom{position:relative;overflow:hidden;margin-top:4px;background:#000}
.zoom img{position:absolute;max-width:none;image-rendering:pixelated}
.note{font-size:11px;color:#555;min-height:1.2em}
#selftest{padding:4px 8px;background:#eee}#selftest[data-status=pass]{background:#d7f0d7}#selftest[data-status=fail]{background:#f6d0d0}
"""  # noqa: E501 - embedded CSS, kept byte for byte as written into report.html

SCRIPT = """
function cellValue(td,type){var v=td.getAttribute('data-v');if(v===null)v=td.textContent;
  if(type==='num'){var f=parseFloat(v);return isNaN(f)?null:f;}return v.toLowerCase();}
function sortTable(th){var table=th.closest('table'),idx=Array.prototype.indexOf.call(th.parentNode.children,th);
  var type=th.getAttribute('data-type'),asc;
  if(th.classList.contains('asc')||th.classList.contains('desc'))asc=th.classList.contains('desc');
  else asc=th.getAttribute('data-higher')!=='1';
  table.querySelectorAll('th').forEach(function(h){h.classList.remove('asc','desc');});
  th.classList.add(asc?'asc':'desc');var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
  rows.sort(function(a,b){var x=cellValue(a.cells[idx],type),y=cellValue(b.cells[idx],type);
    if(x===y)return 0;if(x===null)return 1;if(y===null)return -1;return (x<y?-1:1)*(asc?1:-1);});
  rows.forEach(function(r){body.appendChild(r);});}
document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){sortTable(th);});});
function selfTest(){var imgs=Array.prototype.slice.call(document.images);
  var bad=imgs.filter(function(i){return !(i.complete&&i.naturalWidth>0);}).map(function(i){return i.getAttribute('src');});
  var sortOk=true,checked=0;document.querySelectorAll('table.sortable').forEach(function(table){
    var th=table.querySelector('th[data-type=num]');if(!th||table.tBodies[0].rows.length<2)return;
    var idx=Array.prototype.indexOf.call(th.parentNode.children,th);th.click();
    var vals=Array.prototype.map.call(table.tBodies[0].rows,function(r){return cellValue(r.cells[idx],'num');})
      .filter(function(v){return v!==null;});
    var sign=th.classList.contains('asc')?1:-1;
    for(var k=1;k<vals.length;k++){if(sign*(vals[k]-vals[k-1])<0)sortOk=false;}checked++;});
  var el=document.getElementById('selftest'),ok=bad.length===0&&sortOk;
  el.setAttribute('data-status',ok?'pass':'fail');el.setAttribute('data-images',imgs.length);
  el.setAttribute('data-broken',bad.length);el.setAttribute('data-sorted',sortOk?'yes':'no');
  el.textContent='page check: '+(imgs.length-bad.length)+'/'+imgs.length+' images loaded'+
    (bad.length?' (broken: '+bad.join(', ')+')':'')+'; sorting '+(sortOk?'ok':'FAILED')+' on '+checked+' table(s)';}
window.addEventListener('load',selfTest);
"""  # noqa: E501 - embedded JavaScript, kept byte for byte as written into report.html


def write_report(run_dir: str | os.PathLike, max_samples: int = 12, zoom_side: int = 48) -> Path:
    """Write ``RUN_DIR/report.html`` (and its image assets under ``RUN_DIR/report/``); returns its path.

    ``max_samples``: comparison grids per dataset; ``zoom_side``: side of the zoomed crop in image px.
    """
    run_dir = Path(run_dir)
    run = rundir.load_run(run_dir)
    page = _Page(run_dir)
    env = run["environment"]
    title = f"oldphoto benchmark: {', '.join(run['run']['datasets'])}"
    unavailable = run["run"].get("unavailable_metrics") or {}
    page.parts.append(f"<h1>{_e(title)}</h1><p>Run finished {_e(run['run'].get('finished', ''))} with oldphoto "
                      f"{_e(env.get('oldphoto_version'))} (commit {_e((env.get('git_commit') or 'unknown')[:10])}) on "
                      f"{_e(env.get('cpu'))}{_e(', ' + ', '.join(env['gpus'])) if env.get('gpus') else ''}. "
                      "Click a table header to sort (first click: best first).</p>")
    if unavailable:
        page.parts.append("<p>Metrics left out: "
                          + "; ".join(f"{_e(k)} ({_e(v)})" for k, v in unavailable.items()) + "</p>")
    page.parts.append('<p id="selftest" data-status="pending">page check: pending (needs JavaScript)</p>')
    _summary_tables(page, run)
    _charts(page, run)
    _sample_grids(page, run, max_samples, zoom_side)
    document = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>\n"
                + "\n".join(page.parts) + f"\n<script>{SCRIPT}</script>\n</body></html>\n")
    path = run_dir / PAGE
    write_bytes(path, document.encode())
    return path


def chromium_command(user_data_dir: str | os.PathLike) -> list[str] | None:
    """Headless Chromium with no network side traffic and a throwaway profile; None when not installed."""
    import shutil

    binary = next((shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None)
    if binary is None:
        return None
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
            f"--user-data-dir={user_data_dir}"]


def browser_check(page: str | os.PathLike, screenshot: str | os.PathLike | None = None,
                  window: tuple[int, int] = (1280, 1600), timeout_s: float = 120.0) -> dict:
    """Open ``page`` in headless Chromium and return its self-check (``#selftest`` attributes:
    status, images, broken, sorted); with ``screenshot``, also save a PNG of the page's top.

    Raises FileNotFoundError when Chromium is not installed, RuntimeError when it fails.
    """
    import re
    import subprocess
    import tempfile

    url = Path(page).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="oldphoto-chromium-") as profile:
        base = chromium_command(profile)
        if base is None:
            raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
        dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=timeout_s)
        if dom.returncode != 0:
            raise RuntimeError(f"chromium --dump-dom exited {dom.returncode}: {dom.stderr[-2000:]}")
        if screenshot is not None:
            shot = subprocess.run([*base, f"--window-size={window[0]},{window[1]}",
                                   f"--screenshot={Path(screenshot).resolve()}", url],
                                  capture_output=True, text=True, timeout=timeout_s)
            if shot.returncode != 0 or not Path(screenshot).is_file():
                raise RuntimeError(f"chromium --screenshot exited {shot.returncode}: {shot.stderr[-2000:]}")
    tag = re.search(r'<p id="selftest"([^>]*)>([^<]*)<', dom.stdout)
    if tag is None:
        raise RuntimeError(f"{page}: no #selftest element in the DOM Chromium returned")
    result = dict(re.findall(r'data-([a-z]+)="([^"]*)"', tag.group(1)))
    result["text"] = html.unescape(tag.group(2))
    return result


__all__ = ["bar_chart", "browser_check", "chromium_command", "crop_box", "write_report"]
