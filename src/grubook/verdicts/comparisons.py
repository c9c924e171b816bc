"""Every comparison the book decides, by the key of its compared quantity.

The claims audit's comparisons and each experiment page's (``comparisons(res, drift)`` of the
experiment's module) together. The drift measurement decides them all on the committed results
and on the perturbed rerun; the tests check that one quantity gets one interval wherever the book
decides it.
"""

from __future__ import annotations

__all__ = ["every_comparison", "every_decision", "by_source"]


def by_source(results_by_experiment: dict, drift=None) -> dict[str, list]:
    """{"claims" or experiment name: [Decision, ...]} for the experiments present (claims whose
    experiments are missing are left out)."""
    from .. import experiments
    from .claims import CLAIMS, page_comparisons

    found = {"claims": []}
    for _, judge in CLAIMS:
        try:
            found["claims"] += judge(results_by_experiment, drift)["comparisons"]
        except KeyError:
            if set(experiments.NAMES) <= set(results_by_experiment):
                raise                      # every experiment is there: a real error, not a missing one
            continue                       # an experiment this claim reads is not in the set
    for name, res in results_by_experiment.items():
        if hasattr(experiments.get(name), "comparisons"):
            found[name] = list(page_comparisons(name, res, drift).values())
    return found


def every_comparison(results_by_experiment: dict, drift=None) -> dict:
    """{key: Decision} over the claims audit and every experiment page."""
    return {c["key"]: c for decisions in by_source(results_by_experiment, drift).values() for c in decisions}


def every_decision(results_by_experiment: dict, drift=None) -> dict:
    """{(key, direction, threshold): Decision}: every distinct decision, so that one quantity
    decided against several thresholds (a page's "> 0" and a claim's parity) keeps each."""
    return {(c["key"], c["direction"], c["threshold"]): c
            for decisions in by_source(results_by_experiment, drift).values() for c in decisions}
