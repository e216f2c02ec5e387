"""The claims study's rules: evidence orientation, verdicts, each claim on fabricated measurements,
claims.md rendering and the CLI's argument errors (the study itself is run by `oldphoto study claims`)."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from oldphoto.benchmark import claims, study
from oldphoto.benchmark.claims import Evidence
from oldphoto.benchmark.intervals import Bootstrap
from oldphoto.cli import main

HIGHER = {"psnr": True, "ssim": True, "lpips": False, "wasserstein": False, "psnr-defects": True,
          "ssim-defects": True, "lpips-defects": False, "psnr-outside": True, "ssim-outside": True,
          "lpips-outside": False}


def diff(model, reference, metric, difference, low, high, p=0.01):
    return {"model": model, "reference": reference, "dataset": "d", "metric": metric, "n": "280",
            "difference": str(difference), "ci_low": str(low), "ci_high": str(high), "p_value": str(p)}


def fake_run(differences, failed=()):
    models = {d["model"] for d in differences} | {d["reference"] for d in differences} | set(failed)
    return {"run": {"metrics": {m: {"higher_is_better": h} for m, h in HIGHER.items()}},
            "differences": differences,
            "summary": [{"metric": d["metric"]} for d in differences],
            "models": [{"model": m, "status": "failed" if m in failed else "ok",
                        "error": "boom at /somewhere" if m in failed else ""} for m in sorted(models)]}


# --- evidence and verdicts -------------------------------------------------------------------------

def test_evidence_is_oriented_to_the_claimed_winner():
    flipped = Evidence.from_difference(diff("classical", "bopbtl", "psnr", -1.0, -2.0, -0.5), "x", True,
                                       winner_is_model=False)
    assert (flipped.difference, flipped.ci_low, flipped.ci_high) == (1.0, 0.5, 2.0) and flipped.outcome() == "better"
    lpips = Evidence.from_difference(diff("a", "b", "lpips", -0.05, -0.08, -0.02), "x", False, winner_is_model=True)
    assert lpips.outcome() == "better" and lpips.advantage() == (0.02, 0.08)
    assert Evidence("x", "psnr", 0.1, -0.2, 0.4, True).outcome() == "tie"
    assert Evidence("x", "psnr", -1.0, -1.5, -0.5, True).outcome() == "worse"
    assert Evidence("x", "psnr", float("nan"), float("nan"), float("nan"), True).outcome() == "tie"


@pytest.mark.parametrize("low, high, outcome", [(-0.4, 0.0, "better"), (-0.9, -0.6, "worse"), (-0.7, 0.1, "tie")])
def test_matching_within_a_margin(low, high, outcome):
    assert Evidence("x", "psnr", (low + high) / 2, low, high, True, margin=0.5).outcome() == outcome


def test_verdicts():
    better, tie, worse = (Evidence("x", "psnr", d, d - 0.1, d + 0.1, True) for d in (1.0, 0.0, -1.0))
    assert claims.verdict([better, better]) == claims.SUPPORTED
    assert claims.verdict([better, tie]) == claims.INCONCLUSIVE
    assert claims.verdict([better, tie, worse]) == claims.NOT_SUPPORTED
    assert claims.verdict([]) == claims.UNAVAILABLE
    assert claims.combine(claims.SUPPORTED, claims.INCONCLUSIVE) == claims.INCONCLUSIVE
    assert claims.combine(claims.UNAVAILABLE, claims.NOT_SUPPORTED) == claims.NOT_SUPPORTED
    assert claims.combine(claims.SUPPORTED, claims.SUPPORTED) == claims.SUPPORTED
    assert better.cell() == "+1 [+0.9, +1.1] ✓"  # no p-value: none shown


# --- the claims on fabricated measurements ---------------------------------------------------------

def test_claim_a_needs_every_baseline_beaten():
    rows = [diff(b, "bopbtl", m, -1.0 if HIGHER[m] else 1.0, *((-2, -0.5) if HIGHER[m] else (0.5, 2)))
            for b in ("input", "classical") for m in ("psnr", "ssim", "lpips", "wasserstein")]
    assert study.claim_a(fake_run(rows), ["input", "classical"]).verdict == claims.SUPPORTED
    rows[0] = diff("input", "bopbtl", "psnr", 1.0, 0.5, 2.0)  # input better on PSNR
    claim = study.claim_a(fake_run(rows), ["input", "classical"])
    assert (claim.verdict == claims.NOT_SUPPORTED
            and "| `bopbtl` − `input` | -1 [-2, -0.5] ✗ p 0.01 |" in "\n".join(claim.body))
    failed = study.claim_a(fake_run(rows, failed=["bopbtl"]), ["input", "classical"])
    assert failed.verdict == claims.UNAVAILABLE and "boom" in failed.why


def test_claim_b_uses_only_the_defect_regions():
    inside = [diff("bopbtl-pnl", "bopbtl-local", m, 0.5 if HIGHER[m] else -0.5,
                   *((0.2, 0.8) if HIGHER[m] else (-0.8, -0.2)))
              for m in study.DEFECTS]
    outside = [diff("bopbtl-pnl", "bopbtl-local", m, -3.0 if HIGHER[m] else 3.0, *((-4, -2) if HIGHER[m] else (2, 4)))
               for m in study.OUTSIDE]
    claim = study.claim_b(fake_run(inside + outside))
    assert claim.verdict == claims.SUPPORTED and "outside (context)" in "\n".join(claim.body)


@pytest.mark.parametrize("work, expected", [(0.3, claims.SUPPORTED), (0.95, claims.NOT_SUPPORTED)])
def test_claim_c_needs_matching_quality_and_less_memory(work, expected):
    rows = [diff("bopbtl-pnl", "bopbtl", m, 0.0, -0.005, 0.005) for m in study.PAIRED]
    gib = 2 ** 30
    memory = {"patch-attention": {"megapixels": 1.0, "peak_bytes": int((1 + work) * gib), "baseline_bytes": gib,
                                  "total_s": 20.0},
              "partial-nonlocal": {"megapixels": 1.0, "peak_bytes": 2 * gib, "baseline_bytes": gib, "total_s": 30.0}}
    claim = study.claim_c(fake_run(rows), memory)
    assert (claim.verdict == expected
            and f"ratio patch attention / partial nonlocal: {work:.2f}" in "\n".join(claim.body))
    memory["partial-nonlocal"] = {"megapixels": 1.0, "branch": "partial-nonlocal", "error": "timed out"}
    assert study.claim_c(fake_run(rows), memory).verdict == claims.UNAVAILABLE


def gap_row(model, gap, draws=None, error=""):
    return {"model": model, "gap": gap, "ci_low": gap - 0.1, "ci_high": gap + 0.1, "n_real": 8, "n_synthetic": 280,
            "error": error, "draws": draws}


def test_claim_d_says_why_it_is_unavailable():
    claim = study.claim_d([gap_row("bopbtl", 0.46), gap_row("bopbtl-ae", float("nan"), error="no shipped mapping")],
                          Bootstrap())
    assert claim.verdict == claims.UNAVAILABLE and "`bopbtl-ae`: no shipped mapping" in claim.why
    draws = np.linspace(0.4, 0.5, 50)
    supported = study.claim_d([gap_row("bopbtl", 0.45, draws), gap_row("bopbtl-ae", 1.2, draws + 0.7)],
                              Bootstrap())
    assert supported.verdict == claims.SUPPORTED


def test_claim_e_decides_on_feature_distances_only():
    pairs = [{"preset": "bopbtl-paper", "other": "bopbtl-code", "statistic": s, "difference": d, "ci_low": d - 1,
              "ci_high": d - 0.5} for s, d in (("kid-vgg16", -0.2), ("fd-vgg16", -3.0), ("nps", 5.0))]
    rows = [{"preset": p, "statistic": s, "unit": "", "distance": 1.0, "ci_low": 0.5, "ci_high": 1.5}
            for p in study.PRESETS for s in ("kid-vgg16", "fd-vgg16", "nps")]
    claim = study.claim_e(rows, pairs, {"fid": "no weights at /root/x", "kid": "no weights at /root/x"})
    assert claim.verdict == claims.SUPPORTED  # nps favours bopbtl-code but is not a feature distance
    assert "Left out: fid, kid (no weights at /root/x)." in claim.body


def test_render_lists_every_verdict():
    claim = claims.Claim("a", "A beats B", claims.SUPPORTED, "rule text", ["| t |"])
    text = claims.render([claim], ["preamble"])
    assert text.startswith("# Claims study\n\npreamble\n") and "| (a) A beats B | supported |" in text
    assert "**Verdict: supported**" in text and "Rule: rule text" in text and text.endswith("\n")


# --- CLI -------------------------------------------------------------------------------------------

def test_cli_rejects_unknown_baselines(tmp_path):
    res = CliRunner().invoke(main, ["study", "claims", "--real", str(tmp_path), "--out", str(tmp_path / "out"),
                                    "--baselines", "input,nope"])
    assert res.exit_code == 1 and "unknown model(s) ['nope']" in res.output
    assert not (tmp_path / "out").exists()
