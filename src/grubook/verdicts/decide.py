"""A comparison decided by its 95 % interval against a named threshold.

A comparison is a 95 % interval (over seeds, test items or forecast origins: it says which) set
against a named threshold:

- **above** a threshold: it *holds* when the whole interval lies above it, *fails* when the whole
  interval lies at or below it;
- **below** a threshold: the mirror image;
- **within** ±margin (parity, two-sided): it *holds* when the whole interval lies inside the
  margin, *fails* when it lies wholly outside;
- otherwise it is *undecided*: the interval straddles the threshold and the data cannot tell.

Re-runs move every number a little: on one machine they are bit-identical, but another CPU rounds
differently. That movement, the **drift**, is measured per compared quantity
(:mod:`grubook.verdicts.drift`), not assumed. A decided comparison whose deciding bound lies within
the drift of its threshold is **borderline**: its outcome stands, because it is what these data
say, and the page shows the word "borderline" with the drift, because a re-run elsewhere could
move it.

This is the book's one rule. The claims audit (:mod:`grubook.verdicts.claims`), the experiment
pages' findings and the chapters take every "above", "below", "on par" and "indistinguishable"
from :meth:`Decision.relation` or :attr:`Decision.outcome`.
"""

from __future__ import annotations

import math

__all__ = ["HOLDS", "FAILS", "UNDECIDED", "Decision", "decide", "interval_text", "rerun_may_change"]

HOLDS, FAILS, UNDECIDED = "holds", "fails", "undecided"


def _fmt(value: float, fmt: str) -> str:
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return format(value, fmt).replace("-", "−")


def interval_text(estimate: float, low: float, high: float, fmt: str = ".3f") -> str:
    """"0.057 [0.043, 0.071]" (infinite bounds shown as ±∞, minus signs typeset)."""
    return f"{_fmt(estimate, fmt)} [{_fmt(low, fmt)}, {_fmt(high, fmt)}]"


class Decision(dict):
    """One decided comparison. Keys: label, estimate, low, high, n, covers, direction, threshold,
    threshold_name, outcome, borderline, drift, fmt (and whatever a claim adds)."""

    @property
    def outcome(self) -> str:
        return self["outcome"]

    @property
    def borderline(self) -> bool:
        return self["borderline"]

    def interval(self) -> str:
        """"7.1 [0.8, 13.4]", with "; borderline: a re-run moved it by up to ±0.9" when borderline
        (prose puts the interval right after the relation's word, so the reader sees both)."""
        text = interval_text(self["estimate"], self["low"], self["high"], self["fmt"])
        if self["borderline"]:
            text += f"; borderline: a perturbed re-run moved its bounds by up to ±{_fmt(self['drift'], self['fmt'])}"
        return text

    def rule_text(self) -> str:
        t = _fmt(self["threshold"], "g")
        return {"above": f"> {t}", "below": f"< {t}", "within": f"within ±{t}"}[self["direction"]]

    def outcome_text(self) -> str:
        """"holds", "fails", "undecided", or "holds (borderline: the re-run drift is ±0.004)"."""
        if not self["borderline"]:
            return self["outcome"]
        return f"{self['outcome']} (borderline: the measured re-run drift is ±{_fmt(self['drift'], self['fmt'])})"

    def reachable_outcomes(self) -> set[str]:
        """The outcomes a re-run could give by moving each bound by up to the drift (the corners of
        that square), this one included: more than one exactly when the comparison is borderline."""
        d, low, high = self["drift"], self["low"], self["high"]
        if not self["borderline"]:
            return {self["outcome"]}
        return {_outcome(self["direction"], min(lo, hi), max(lo, hi), self["threshold"])
                for lo, hi in [(low + a, high + b) for a in (-d, d) for b in (-d, d)]} | {self["outcome"]}

    def clearance(self) -> float:
        """How far the interval's bounds can each move before the outcome changes: the tolerance a
        re-run of this comparison gets (the CI re-run test holds every compared quantity to it),
        and the comparison is borderline when its measured drift reaches it."""
        low, high, t = self["low"], self["high"], self["threshold"]
        if self["direction"] == "below":                   # the mirror image of "above"
            low, high, t = -high, -low, -t
        if self["direction"] in ("above", "below"):
            return {HOLDS: low - t, FAILS: t - high}.get(self["outcome"], min(t - low, high - t))
        if self["outcome"] == HOLDS:
            return min(low + t, t - high)
        if self["outcome"] == FAILS:
            return low - t if low > t else -t - high
        return min(max(-t - low, high - t), t - low, high + t)

    def relation(self) -> str:
        """The word for prose about ``a − b`` (or ``a / b``) against its threshold:

        - direction above/below: "above" or "below" when the whole interval lies on one side of the
          threshold, "not above" / "not below" when it only touches it, and, undecided,
          "indistinguishable from" (threshold at no difference) or "undecided against";
        - within (parity): "on par with", "clearly above", "clearly below" (wholly outside the
          margin) or "indistinguishable from".

        Whether it is borderline is said by :meth:`interval`, which prose prints after the word.
        """
        t = self["threshold"]
        zero = t == (1.0 if self.get("kind") == "ratio" else 0.0)
        if self["direction"] == "within":
            return {HOLDS: "on par with", UNDECIDED: "indistinguishable from"}.get(
                self["outcome"], "clearly above" if self["low"] > t else "clearly below")
        if self["outcome"] == UNDECIDED:
            return "indistinguishable from" if zero else "undecided against"
        if self["low"] > t:
            return "above"
        if self["high"] < t:
            return "below"
        return "not above" if self["direction"] == "above" else "not below"

    def sentence(self) -> str:
        """"+0.010 [0.004, 0.016], within ±0.02: holds" as the claims page prints a comparison."""
        plain = interval_text(self["estimate"], self["low"], self["high"], self["fmt"])
        return f"{self['label']}: {plain}, rule {self.rule_text()}: {self.outcome_text()}"


def _outcome(direction: str, low: float, high: float, t: float) -> str:
    if direction == "above":
        return HOLDS if low > t else FAILS if high <= t else UNDECIDED
    if direction == "below":
        return HOLDS if high < t else FAILS if low >= t else UNDECIDED
    if -t <= low and high <= t:
        return HOLDS
    return FAILS if low > t or high < -t else UNDECIDED


def decide(label: str, interval, *, direction: str, threshold: float = 0.0, threshold_name: str = "",
           drift=None, covers: str = "", fmt: str = ".3f", kind: str = "difference", key: str | None = None,
           machine: str = "", drift_pool: str = "") -> Decision:
    """Decide one comparison (see the module's docstring).

    ``interval``: a dict with estimate, low, high and n (``grubook.verdicts.stats``).
    ``direction``: "above", "below" or "within" (then ``threshold`` is the margin, > 0).
    ``key``: names the compared quantity ("counting: reach LSTM − GRU"; default the label): every
    decision about the same quantity shares its drift.
    ``drift``: the measured re-run drift of this quantity, a number or a
    :class:`grubook.verdicts.drift.Drift` to look it up by ``key``; None looks it up in the drift
    measured for the committed results.
    ``covers``: what the interval is over ("5 seeds", "10 interleaved timing repeats").
    ``kind``: "difference", "ratio" or "rate" (for the prose of :meth:`Decision.relation`).
    ``machine``: for a quantity that is a property of the hardware (a speed ratio), the CPU or
    device it was measured on; empty for everything computed from learning, which any machine
    reproduces up to the drift. See :func:`rerun_may_change`.
    ``drift_pool``: names a set of quantities exposed to the same re-run noise (every GRU/LSTM
    step-time ratio) whose measured drift is pooled, in proportion to each one's size
    (:func:`grubook.verdicts.drift.pooled`).
    """
    key = key or label
    if drift is None:
        from .drift import current

        drift = current()
    if hasattr(drift, "of"):
        drift = drift.of(key)
    low, high, t = float(interval["low"]), float(interval["high"]), float(threshold)
    if direction not in ("above", "below", "within"):
        raise ValueError(f"direction must be above, below or within, got {direction!r}")
    if direction == "within" and t <= 0:
        raise ValueError(f"{label}: a parity margin must be > 0, got {t}")
    outcome = _outcome(direction, low, high, t)
    # Borderline: moving each bound by at most the drift could change the outcome, an undecided
    # one included (a re-run elsewhere could decide it). Infinite bounds stay where they are.
    drift = float(drift or 0.0)
    corners = [(low + a, high + b) for a in (-drift, drift) for b in (-drift, drift)]
    borderline = drift > 0 and any(_outcome(direction, min(lo, hi), max(lo, hi), t) != outcome
                                   for lo, hi in corners if not (math.isinf(low) or math.isinf(high)))
    return Decision(label=label, estimate=float(interval["estimate"]), low=low, high=high, n=int(interval["n"]),
                    covers=covers, direction=direction, threshold=t, threshold_name=threshold_name,
                    outcome=outcome, borderline=bool(borderline), drift=drift, fmt=fmt, kind=kind, key=key,
                    machine=machine, drift_pool=drift_pool)


def rerun_may_change(before: Decision, after: Decision) -> bool:
    """Whether a re-run's decision ``after`` may differ in outcome from the committed ``before``.

    Only two things may change an outcome: the comparison is borderline (its measured drift reaches
    its clearance), or it is a property of the hardware and the re-run measured it on other
    hardware. A speed ratio on another CPU is another measurement, not a re-run of this one: its
    kernels, its vector units and its cost of denormal arithmetic differ, and so may the ratio.
    Everything else must come out the same."""
    if before.borderline:
        return True
    return bool(before.get("machine")) and before.get("machine") != after.get("machine")
