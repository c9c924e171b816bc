"""The experiments: one module each, holding its parameters, jobs, assembly, tolerances and findings.

:mod:`grubook.experiments.spec` says what a module declares. Each module's notebook,
``experiments/<name>.md``, is its page in the book: parameters, one call to
:func:`grubook.experiments.spec.run`, its figures and its findings.
"""

from __future__ import annotations

import importlib

from .spec import UnknownExperimentError

__all__ = ["NAMES", "get", "check_names"]

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
