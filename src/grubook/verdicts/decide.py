"""A comparison decided by its 95 % interval against a named threshold.

A comparison is a 95 % interval (over seeds, test items or forecast origins: it says which) set
against a named threshold:

- **above** a threshold: it *holds* when the whole interval lies above it, *fails* when the whole
  interval lies at or below it;
- **below** a threshold: the mirror image;
- **within** ±margin (parity, two-sided): it *holds* when the whole interval lies inside the
  margin, *fails* when it lies wholly outside;
- otherwise it is *undecided*: the interval straddles the threshold and the data cannot tell.

A decided comparison can carry a re-run ``drift``: when its deciding bound lies within that drift
of the threshold it is **borderline**, its outcome stands (it is what these data say) and the page
shows the word with the drift.

The experiment pages' findings take their words ("above", "below", "on par", "cannot be told
apart") from :meth:`Decision.relation`. The claims audit (``grubook.verdicts.claims``) and the
chapters' own comparisons still use their older rules; moving them onto this one is the next step.
"""

from __future__ import annotations

import math

__all__ = ["HOLDS", "FAILS", "UNDECIDED", "Decision", "decide", "interval_text"]

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
        return interval_text(self["estimate"], self["low"], self["high"], self["fmt"])

    def rule_text(self) -> str:
        t = _fmt(self["threshold"], self["fmt"] if self["threshold"] else "g")
        return {"above": f"> {t}", "below": f"< {t}", "within": f"within ±{t}"}[self["direction"]]

    def outcome_text(self) -> str:
        """"holds", "fails", "undecided", or "holds (borderline: the re-run drift is ±0.004)"."""
        if not self["borderline"]:
            return self["outcome"]
        return f"{self['outcome']} (borderline: the measured re-run drift is ±{_fmt(self['drift'], self['fmt'])})"

    def relation(self) -> str:
        """The word for prose about ``a − b`` (or ``a / b``) against its threshold:

        - direction above/below, threshold at no difference: "above", "below" or "cannot be told
          apart from" (undecided);
        - within (parity): "on par with", "clearly above", "clearly below" (wholly outside the
          margin) or "cannot be told apart from";
        a borderline decision adds " (borderline)".
        """
        zero = self["threshold"] == (1.0 if self.get("kind") == "ratio" else 0.0)
        if self["direction"] == "within":
            word = {HOLDS: "on par with", UNDECIDED: "cannot be told apart from"}.get(
                self["outcome"], "clearly above" if self["low"] > self["threshold"] else "clearly below")
        elif self["outcome"] == UNDECIDED:
            word = "cannot be told apart from" if zero else "undecided against"
        elif self["direction"] == "above":
            word = "above" if self["outcome"] == HOLDS else "not above"
        else:
            word = "below" if self["outcome"] == HOLDS else "not below"
        return word + (" (borderline)" if self["borderline"] else "")

    def sentence(self) -> str:
        """"+0.010 [0.004, 0.016], within ±0.02: holds" as the claims page prints a comparison."""
        return f"{self['label']}: {self.interval()}, rule {self.rule_text()}: {self.outcome_text()}"


def decide(label: str, interval, *, direction: str, threshold: float = 0.0, threshold_name: str = "",
           drift: float = 0.0, covers: str = "", fmt: str = ".3f", kind: str = "difference") -> Decision:
    """Decide one comparison (see the module's docstring).

    ``interval``: a dict with estimate, low, high and n (``grubook.verdicts.stats``).
    ``direction``: "above", "below" or "within" (then ``threshold`` is the margin, > 0).
    ``drift``: the measured re-run drift of this compared quantity.
    ``covers``: what the interval is over ("5 seeds", "5 seeds × 1,029 test series").
    ``kind``: "difference", "ratio" or "rate" (for the prose of :meth:`Decision.relation`).
    """
    low, high, t = float(interval["low"]), float(interval["high"]), float(threshold)
    if direction == "above":
        outcome = HOLDS if low > t else FAILS if high <= t else UNDECIDED
        bound = low if outcome == HOLDS else high
        margin = abs(bound - t)
    elif direction == "below":
        outcome = HOLDS if high < t else FAILS if low >= t else UNDECIDED
        bound = high if outcome == HOLDS else low
        margin = abs(bound - t)
    elif direction == "within":
        if t <= 0:
            raise ValueError(f"{label}: a parity margin must be > 0, got {t}")
        if -t <= low and high <= t:
            outcome, margin = HOLDS, min(low + t, t - high)
        elif low > t or high < -t:
            outcome, margin = FAILS, (low - t) if low > t else (-t - high)
        else:
            outcome, margin = UNDECIDED, math.inf
    else:
        raise ValueError(f"direction must be above, below or within, got {direction!r}")
    borderline = outcome != UNDECIDED and margin <= drift
    return Decision(label=label, estimate=float(interval["estimate"]), low=low, high=high, n=int(interval["n"]),
                    covers=covers, direction=direction, threshold=t, threshold_name=threshold_name,
                    outcome=outcome, borderline=bool(borderline), drift=float(drift), fmt=fmt, kind=kind)
