"""The paper's claims as testable rules: evidence (a paired difference with its interval) -> a verdict.

Every piece of evidence is a difference ``winner - loser`` where the claim names the winner (e.g.
``bopbtl - classical`` on PSNR), with its 95% bootstrap interval and, for per-image metrics, the
Wilcoxon p-value. Oriented by the metric's direction, its interval says the claimed winner is
``better`` (interval on the good side of 0, or of ``-margin`` for a "matches" claim), ``worse``
(interval on the bad side) or neither (``tie``: this n cannot tell).

Verdicts: ``supported`` (every piece says the claim), ``not supported`` (a piece says the opposite),
``inconclusive at this n`` (neither), ``unavailable`` (the evidence could not be measured; the
reason is given). :func:`render` writes the Markdown of ``leaderboard/claims.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive at this n"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Evidence:
    """``winner - loser`` on ``metric`` (metric units) with its interval; ``margin``: how much worse
    the winner may be and still "match" (0 for a "beats" claim)."""

    label: str
    metric: str
    difference: float
    ci_low: float
    ci_high: float
    higher_is_better: bool
    n: int | str = ""
    p_value: float = math.nan
    margin: float = 0.0

    @classmethod
    def from_difference(cls, row: dict, label: str, higher_is_better: bool, winner_is_model: bool,
                        margin: float = 0.0) -> Evidence:
        """From a ``differences.csv`` row (``model - reference``): as is when the claimed winner is
        the row's model, negated (interval flipped) when it is the reference."""
        sign = 1.0 if winner_is_model else -1.0
        low, high = sign * _float(row["ci_low"]), sign * _float(row["ci_high"])
        return cls(label, row["metric"], sign * _float(row["difference"]), min(low, high), max(low, high),
                   higher_is_better, row.get("n", ""), _float(row.get("p_value", "")), margin)

    def advantage(self) -> tuple[float, float]:
        """The interval of how much better the winner is (positive = better, whatever the direction)."""
        return (self.ci_low, self.ci_high) if self.higher_is_better else (-self.ci_high, -self.ci_low)

    def outcome(self) -> str:
        """"better", "worse" or "tie" (see the module notes); "tie" when the interval is NaN."""
        low, high = self.advantage()
        if low > -self.margin:
            return "better"
        if high < -self.margin:
            return "worse"
        return "tie"

    def cell(self) -> str:
        """``+0.53 [+0.21, +0.88] ✓ p 0.002``: the difference, its interval, the outcome mark."""
        if math.isnan(self.difference):
            return "–"
        mark = {"better": "✓", "worse": "✗", "tie": "~"}[self.outcome()]
        p = f" p {self.p_value:.2g}" if not math.isnan(self.p_value) else ""
        return f"{self.difference:+.4g} [{self.ci_low:+.4g}, {self.ci_high:+.4g}] {mark}{p}"


def _float(text) -> float:
    return float(text) if text not in ("", None) else math.nan


def verdict(evidence: list[Evidence]) -> str:
    """The verdict of a claim all of whose ``evidence`` must come out ``better``."""
    if not evidence:
        return UNAVAILABLE
    outcomes = {e.outcome() for e in evidence}
    if "worse" in outcomes:
        return NOT_SUPPORTED
    return SUPPORTED if outcomes == {"better"} else INCONCLUSIVE


def combine(*verdicts: str) -> str:
    """All parts of a claim must hold: not supported if one is not, unavailable if one could not be
    measured, inconclusive if one is, else supported."""
    for v in (NOT_SUPPORTED, UNAVAILABLE, INCONCLUSIVE):
        if v in verdicts:
            return v
    return SUPPORTED


@dataclass
class Claim:
    """One claim: its statement, verdict, a Markdown body (evidence tables, notes) and the rule used."""

    key: str
    statement: str
    verdict: str
    rule: str
    body: list[str] = field(default_factory=list)
    why: str = ""

    def lines(self) -> list[str]:
        why = f" — {self.why}" if self.why else ""
        return [f"## ({self.key}) {self.statement}", "", f"**Verdict: {self.verdict}**{why}", "", *self.body,
                "", f"Rule: {self.rule}", ""]


def evidence_table(rows: dict[str, list[Evidence]], metrics: list[str], first: str) -> list[str]:
    """A Markdown table: one row per key of ``rows`` (labelled in column ``first``), one column per metric."""
    header = [first, *metrics]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for label, evidence in rows.items():
        by_metric = {e.metric: e for e in evidence}
        cells = [label, *(by_metric[m].cell() if m in by_metric else "–" for m in metrics)]
        out.append("| " + " | ".join(cells) + " |")
    return out


def render(claims: list[Claim], preamble: list[str]) -> str:
    """The Markdown of claims.md: the preamble, a verdict summary table, then each claim."""
    out = ["# Claims study", "", *preamble, "", "| claim | verdict |", "|---|---|"]
    out += [f"| ({c.key}) {c.statement} | {c.verdict} |" for c in claims]
    out += ["", "Cells: `winner - loser` in metric units, [95% bootstrap interval], ✓ the claimed winner is better "
            "(interval on its side of 0), ✗ worse, ~ this n cannot tell; p: two-sided Wilcoxon signed-rank "
            "(per-image metrics only).", ""]
    for claim in claims:
        out += claim.lines()
    return "\n".join(out).rstrip() + "\n"
