"""A typed view of one results file: metrics by quantity and coordinates, never by hand-built names.

A metric's name in a results file (``GRU.T400.test_mse``) is built from its quantity
(``test_mse``) and its coordinates (``cell="GRU", T=400``) by the experiment's **schema**, a
template per quantity (``"{cell}.T{T}.test_mse"``) that the file carries. :class:`MetricNames`
builds and parses names from it, and :class:`Results` reads through it::

    res = Results(load("long_range"))
    res.per_seed("steps_to_solve", cell="GRU", T=400)     # one value per seed (None where missing)
    res.mean("test_accuracy", dataset="digits", cell="LSTM")
    res.value("params", cell="GRU")                       # a metric that does not depend on a seed
    res.coordinates("T", quantity="solved")               # the lengths that have a solve flag

Nothing outside this module and an experiment's assembly builds a metric name, so a name scheme
changes in one place.
"""

from __future__ import annotations

import re
import string

__all__ = ["MetricNames", "Results", "SchemaError"]


class SchemaError(KeyError):
    """A quantity or coordinates that the experiment's schema does not have."""

    def __str__(self):
        return str(self.args[0])


class MetricNames:
    """Metric names from ``{quantity: template}``; a template's fields are its coordinates."""

    def __init__(self, templates: dict[str, str]):
        self.templates = dict(templates)
        self.fields = {q: tuple(f for _, f, _, _ in string.Formatter().parse(t) if f) for q, t in templates.items()}
        self._patterns = [(q, re.compile("^" + "".join(
            re.escape(literal) + (f"(?P<{field}>.+?)" if field else "")
            for literal, field, _, _ in string.Formatter().parse(t)) + "$")) for q, t in templates.items()]

    def name(self, quantity: str, **coordinates) -> str:
        """The metric's name; every field of the quantity's template must be given, and no other."""
        if quantity not in self.templates:
            raise SchemaError(f"no quantity {quantity!r}; the schema has {', '.join(self.templates)}")
        wanted = set(self.fields[quantity])
        if set(coordinates) != wanted:
            raise SchemaError(f"{quantity!r} takes the coordinates {sorted(wanted)}, got {sorted(coordinates)}")
        return self.templates[quantity].format(**coordinates)

    def parse(self, name: str) -> tuple[str, dict] | None:
        """(quantity, coordinates) of a metric name, numbers as ints; None if no template fits.

        Where several templates fit ("{kind}" also reads "train.low"), the most specific one wins:
        the one with the most literal characters ("{kind}.low")."""
        fits = [(quantity, match) for quantity, pattern in self._patterns if (match := pattern.match(name))]
        if not fits:
            return None
        quantity, match = max(fits, key=lambda fit: len(self.templates[fit[0]]) - sum(
            len(field) + 2 for field in self.fields[fit[0]]))
        return quantity, {k: int(v) if v.isdigit() else v for k, v in match.groupdict().items()}


class Results:
    """One results file (a dict from ``results.files.load`` or ``read``), read by quantity."""

    def __init__(self, payload: dict):
        self.payload = payload
        self.experiment: str = payload["experiment"]
        self.parameters: dict = payload["parameters"]
        self.seeds: list = payload["seeds"]
        self.data: dict = payload.get("data", {})
        self.provenance: dict = payload.get("provenance") or {}
        self.names = MetricNames(payload.get("schema", {}))

    def __getitem__(self, field: str):
        return self.payload[field]

    def get(self, field: str, default=None):
        """A top-level field of the file, as ``dict.get`` would give it."""
        return self.payload.get(field, default)

    def key(self, quantity: str, **coordinates) -> str:
        return self.names.name(quantity, **coordinates)

    def has(self, quantity: str, **coordinates) -> bool:
        name = self.key(quantity, **coordinates)
        return name in self.payload["aggregates"] or name in self.payload["metrics"]

    def per_seed(self, quantity: str, **coordinates) -> list:
        """The metric's value for every seed, in the order of ``seeds`` (None where missing)."""
        name = self.key(quantity, **coordinates)
        if name not in self.payload["aggregates"]:
            raise SchemaError(f"{self.experiment} has no per-seed metric {name!r}")
        return [run["metrics"].get(name) for run in self.payload["per_seed"]]

    def present(self, quantity: str, **coordinates) -> list[float]:
        """The values that are not missing."""
        return [v for v in self.per_seed(quantity, **coordinates) if v is not None]

    def mean(self, quantity: str, **coordinates) -> float | None:
        """Mean over seeds (of the present values) or, for a seedless metric, its value."""
        name = self.key(quantity, **coordinates)
        if name in self.payload["aggregates"]:
            return self.payload["aggregates"][name]["mean"]
        return self.value(quantity, **coordinates)

    def std(self, quantity: str, **coordinates) -> float | None:
        return self.payload["aggregates"][self.key(quantity, **coordinates)]["std"]

    def value(self, quantity: str, **coordinates):
        """A metric that does not depend on a seed."""
        name = self.key(quantity, **coordinates)
        if name not in self.payload["metrics"]:
            raise SchemaError(f"{self.experiment} has no seedless metric {name!r}")
        return self.payload["metrics"][name]

    def count(self, quantity: str, **coordinates) -> tuple[int, int]:
        """(how many seeds have a true flag, how many have the flag at all) for a 0/1 metric."""
        values = self.present(quantity, **coordinates)
        return int(round(sum(values))), len(values)

    def coordinates(self, field: str, *, quantity: str | None = None, **fixed) -> list:
        """The values ``field`` takes among the metrics (of ``quantity``, with the ``fixed``
        coordinates), in first-seen order: the lengths, cells or data sets an experiment ran."""
        seen = []
        for name in list(self.payload["aggregates"]) + list(self.payload["metrics"]):
            parsed = self.names.parse(name)
            if not parsed or (quantity and parsed[0] != quantity):
                continue
            coords = parsed[1]
            if field in coords and all(coords.get(k) == v for k, v in fixed.items()) and coords[field] not in seen:
                seen.append(coords[field])
        return seen

    def tolerance(self, quantity: str, **coordinates) -> dict | None:
        return self.payload["tolerances"].get(self.key(quantity, **coordinates))
