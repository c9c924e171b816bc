"""The experiments: one module each, holding its parameters, jobs, assembly, tolerances and findings.

:mod:`grubook.experiments.spec` says what a module declares. Each module's notebook,
``experiments/<name>.md``, is its page in the book: parameters, one call to
:func:`grubook.experiments.spec.run`, its figures and its findings.
"""

from __future__ import annotations

import importlib

from .spec import UnknownExperimentError

__all__ = ["NAMES", "get", "check_names", "machine_bound"]

# In the order the book lists them.
NAMES = ("seed_example", "long_range", "real_sequences", "efficiency", "counting", "article_layer", "chrono",
         "seq2seq", "char_lm", "forecasting", "overfitting")


def check_names(names) -> list[str]:
    """Return the names, or raise UnknownExperimentError naming the bad one and the known ones."""
    for name in names:
        if name not in NAMES:
            raise UnknownExperimentError(f"unknown experiment {name!r}; known experiments: {', '.join(NAMES)}")
    return list(names)


def get(name: str):
    """An experiment's module."""
    check_names([name])
    return importlib.import_module(f"{__name__}.{name}")


def machine_bound(results: dict) -> set[str]:
    """The compared metrics of an experiment's results that are properties of the hardware (its
    module's ``MACHINE_BOUND`` quantities, such as a speed ratio): a re-run on another machine
    measures them anew instead of reproducing them (:func:`grubook.results.compare.compare`)."""
    from ..results.view import MetricNames

    quantities = set(getattr(get(results["experiment"]), "MACHINE_BOUND", ()))
    names = MetricNames(results["schema"])
    return {name for name in results["tolerances"] if (names.parse(name) or ("",))[0] in quantities}
