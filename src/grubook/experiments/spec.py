"""What every experiment module declares, and the one way an experiment runs.

An experiment is one module of :mod:`grubook.experiments` holding everything that is its own:

- ``PARAMETERS``: ``{name: Parameter(default, rule, quick=..., note=...)}``, declared once. The
  notebook's cell tagged ``parameters`` repeats the defaults for papermill, and a test checks the
  two agree; ``--quick`` takes the ``quick`` values. An optional ``cross_check(P)`` returns
  ``(parameter, value, what it must be)`` for a combination that cannot work, or None.
- ``plan(P)``: its jobs (:class:`grubook.jobs.run.Job`), one training run each, and the module-level
  job functions they call.
- ``SCHEMA``: ``{quantity: metric-name template}`` (:mod:`grubook.results.view`), and
  ``assemble(done, P)``, which turns the jobs' outputs into an :class:`Assembly`: per-seed and
  seedless metrics by quantity and coordinates, and the data the figures need.
- ``TOLERANCES``: per quantity, ``{"abs": x}`` or ``{"rel": r}`` (how far CI lets a re-run move it),
  a string (why it is not compared), or a function of the coordinates returning either.
- ``findings(res)``: the paragraph of findings its page shows, from its results.

:func:`run` is all a notebook calls: validate the parameters, run the jobs (from the cache where
their fingerprint is unchanged), assemble, write the results file, return a view of it. While the
book builds (``$GRUBOOK_RENDER_RESULTS`` set by ``grubook.sphinxext.page_inputs``) it trains
nothing and returns the sealed results the page is rendered from instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..gru.reference import CELL_NAMES

__all__ = ["ParameterError", "UnknownExperimentError", "Parameter", "Rule", "Assembly", "EXECUTION_PARAMETERS",
           "RENDER_ENV", "parameters_of", "defaults", "validate", "collect", "scientific", "run", "count_jobs", "fingerprints",
           "int_at_least", "number_in", "list_of", "subset_of", "SEEDS", "CELLS", "UNITS", "EPOCHS", "BATCH",
           "PATIENCE", "LENGTHS", "BUDGET"]

RENDER_ENV = "GRUBOOK_RENDER_RESULTS"      # set while the book builds: the folder pages render from


class ParameterError(ValueError):
    """A parameter value outside what its experiment accepts."""


class UnknownExperimentError(ValueError):
    """An experiment name that does not exist."""


@dataclass(frozen=True)
class Rule:
    allowed: str                                  # human description, shown in errors
    ok: Callable[[Any], bool]


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def int_at_least(low: int, high: int | None = None) -> Rule:
    """An integer >= low and, where an upper bound keeps absurd values from exhausting memory
    or time, <= high."""
    if high is None:
        return Rule(f"an integer >= {low}", lambda v: _is_int(v) and v >= low)
    return Rule(f"an integer in [{low}, {high}]", lambda v: _is_int(v) and low <= v <= high)


def number_in(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Rule:
    lo, hi = ("(" if low_open else "["), (")" if high_open else "]")

    def ok(v):
        if not _is_number(v):
            return False
        return (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    return Rule(f"a number in {lo}{low}, {high}{hi}", ok)


def list_of(rule: Rule, *, min_len: int = 1, max_len: int = 1000, unique: bool = True) -> Rule:
    def ok(v):
        return (isinstance(v, (list, tuple)) and min_len <= len(v) <= max_len and all(rule.ok(x) for x in v)
                and (not unique or len(set(v)) == len(v)))
    return Rule(f"a list of {min_len} to {max_len} distinct values, each {rule.allowed}", ok)


def subset_of(choices: tuple[str, ...]) -> Rule:
    def ok(v):
        return isinstance(v, (list, tuple)) and len(v) >= 1 and len(set(v)) == len(v) and all(x in choices for x in v)
    return Rule(f"a non-empty list of distinct names from {list(choices)}", ok)


SEEDS = list_of(int_at_least(0, 2**31 - 1))
CELLS = subset_of(CELL_NAMES)
UNITS = int_at_least(1, 4096)
EPOCHS = int_at_least(1, 100_000)
BATCH = int_at_least(1, 65_536)
PATIENCE = int_at_least(1, 100_000)
LENGTHS = list_of(int_at_least(2, 100_000))
BUDGET = int_at_least(10, 10**8)



_SAME = object()


@dataclass(frozen=True)
class Parameter:
    """One parameter of an experiment: its default, what is allowed, its ``--quick`` value (the
    default if not given) and the comment shown beside it in the notebook."""

    default: Any
    rule: Rule
    quick: Any = _SAME
    note: str = ""

    def quick_value(self):
        return self.default if self.quick is _SAME else self.quick


# Where results go and where jobs run: execution settings, not part of what a result depends on.
EXECUTION = {
    "results_dir": Parameter(None, Rule("None or a folder path (string)",
                                        lambda v: v is None or (isinstance(v, str) and v != "")),
                             note="None: _build/results-papermill (the runner passes its own folder)"),
    "scheduler": Parameter(None, Rule("None (a local Dask cluster), 'serial' or a Dask scheduler address such as "
                                      "'tls://host:8786'", lambda v: v is None or (isinstance(v, str) and v != "")),
                           note="None: a local Dask cluster; or a scheduler address, or \"serial\""),
}
EXECUTION_PARAMETERS = tuple(EXECUTION)


def _module(experiment):
    from . import get

    return get(experiment) if isinstance(experiment, str) else experiment


def parameters_of(experiment) -> dict[str, Parameter]:
    """Every parameter of an experiment (a name or its module), the execution settings last."""
    return dict(_module(experiment).PARAMETERS) | EXECUTION


def defaults(experiment, *, quick: bool = False) -> dict:
    """The default parameters (or the ``--quick`` ones) of an experiment, execution settings included."""
    return {name: (p.quick_value() if quick else p.default) for name, p in parameters_of(experiment).items()}


def _short(value, limit: int = 60) -> str:
    """repr() of a value, cut to ``limit`` characters so an absurd value still gives a one-line error."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def validate(experiment, params: dict) -> dict:
    """Check every parameter of an experiment; raise ParameterError naming the first bad one.

    Unknown parameter names and missing ones are errors too, and so is a combination the
    experiment cannot run (its ``cross_check``). Returns the params unchanged.
    """
    module = _module(experiment)
    name = module.__name__.rpartition(".")[2]
    rules = parameters_of(module)
    unknown = sorted(set(params) - set(rules))
    if unknown:
        raise ParameterError(f"{name}: unknown parameter {unknown[0]!r}; parameters are: {', '.join(rules)}")
    missing = sorted(set(rules) - set(params))
    if missing:
        raise ParameterError(f"{name}: parameter {missing[0]!r} is missing")
    for key, parameter in rules.items():
        if not parameter.rule.ok(params[key]):
            raise ParameterError(f"{name}: parameter {key!r} must be {parameter.rule.allowed}, "
                                 f"got {_short(params[key])}")
    cross = getattr(module, "cross_check", None)
    if cross and (problem := cross(params)):
        key, value, allowed = problem
        raise ParameterError(f"{name}: parameter {key!r} must be {allowed}, got {_short(value)}")
    return params


def collect(experiment, namespace: dict) -> dict:
    """Pick an experiment's parameters out of a notebook's namespace and validate them."""
    module = _module(experiment)
    names = parameters_of(module)
    missing = [n for n in names if n not in namespace]
    if missing:
        raise ParameterError(f"{module.__name__.rpartition('.')[2]}: parameter {missing[0]!r} is missing")
    return validate(module, {n: namespace[n] for n in names})


def scientific(parameters: dict) -> dict:
    """The parameters a result depends on: all but where results go and where jobs run."""
    return {k: v for k, v in parameters.items() if k not in EXECUTION_PARAMETERS}


# --------------------------------------------------------------------------- assembling results


class Assembly:
    """An experiment's metrics by quantity and coordinates, as ``assemble`` builds them::

        out = Assembly(SCHEMA, P["seeds"])
        out.seed(seed, "solved", 1.0, cell="GRU", T=400)     # a per-seed metric
        out.metric("params", 3504, cell="GRU")               # a seedless one
        out.data["curves"] = ...                             # what the figures are drawn from
    """

    def __init__(self, schema: dict, seeds):
        from ..results.view import MetricNames

        self.schema, self.names = dict(schema), MetricNames(schema)
        self.seeds = list(seeds)
        self.per_seed = {seed: {} for seed in self.seeds}
        self.metrics: dict = {}
        self.data: dict = {}

    def seed(self, seed, quantity: str, value, **coordinates) -> None:
        self.per_seed[seed][self.names.name(quantity, **coordinates)] = value

    def metric(self, quantity: str, value, **coordinates) -> None:
        self.metrics[self.names.name(quantity, **coordinates)] = value


def _tolerances(module, assembly: Assembly) -> tuple[dict, dict]:
    """Each metric's tolerance or the reason it is not compared, from the module's ``TOLERANCES``."""
    tolerances, not_compared = {}, {}
    names = {n for metrics in assembly.per_seed.values() for n in metrics} | set(assembly.metrics)
    for name in sorted(names):
        quantity, coordinates = assembly.names.parse(name)
        policy = module.TOLERANCES[quantity]
        if callable(policy):
            policy = policy(**coordinates)
        if isinstance(policy, str):
            not_compared[name] = policy
        else:
            tolerances[name] = policy
    return tolerances, not_compared


def payload_of(module, assembly: Assembly, parameters: dict) -> dict:
    """The content of an experiment's results file (without provenance and seal)."""
    from ..results.files import make_payload

    tolerances, not_compared = _tolerances(module, assembly)
    return make_payload(module.__name__.rpartition(".")[2], parameters=parameters, seeds=assembly.seeds,
                        schema=assembly.schema,
                        per_seed=[{"seed": s, "metrics": assembly.per_seed[s]} for s in assembly.seeds],
                        metrics=assembly.metrics, tolerances=tolerances, not_compared=not_compared,
                        data=assembly.data)


# What turns job outputs into a results file, besides the experiment's own module: part of every
# experiment's fingerprint.
ASSEMBLY_CODE = ("grubook.experiments.spec:payload_of",)


def fingerprints(module, parameters: dict, jobs, keys: dict[str, str]) -> dict:
    """What an experiment's results depend on, as recorded in their provenance:

    ``jobs`` (each job's key), ``functions`` (each job's function), ``reach`` (per job function,
    the definitions it reaches), ``assembly`` (the definitions that turn outputs into the file),
    ``code`` (the digest of every definition named), ``environment`` and ``experiment``, one
    digest over all of it and the scientific parameters. ``execution.freshness`` compares them
    with the current sources to say which jobs are stale and which file made them so."""
    from ..jobs.environment import fingerprint as environment
    from ..jobs.fingerprint import code_index, digest, qualname_of

    index = code_index()
    name = module.__name__
    functions = {job.name: qualname_of(job.function) for job in jobs}
    reach = {q: sorted(index.reachable(q)) for q in sorted(set(functions.values()))}
    assembly = set(ASSEMBLY_CODE) | {f"{name}:{d}" for d in ("assemble", "SCHEMA", "TOLERANCES")}
    assembly = sorted(set().union(*(index.reachable(q) for q in assembly)))
    named = set(assembly).union(*map(set, reach.values()))
    env = environment()
    return {"experiment": digest({"jobs": keys, "assembly": index.fingerprint(assembly), "parameters": parameters,
                                  "environment": env}),
            "environment": env, "jobs": dict(keys), "functions": functions, "reach": reach, "assembly": assembly,
            "code": index.digests(named)}


# --------------------------------------------------------------------------- running


def count_jobs(experiment, parameters: dict) -> int:
    """How many jobs a run of the experiment has (for progress bars), later stages included."""
    module = _module(experiment)
    later = module.plan_next(parameters, None) if hasattr(module, "plan_next") else []
    return len(module.plan(parameters)) + len(later)


def _merge_records(first: dict, second: dict) -> dict:
    """One execution record for a run in stages: the jobs of both, the cluster of the stage that ran any."""
    merged = (second if second["scheduler"] != "cache" else first) | {"jobs": first["jobs"] | second["jobs"]}
    merged["jobs_run"] = first["jobs_run"] + second["jobs_run"]
    merged["jobs_cached"] = first["jobs_cached"] + second["jobs_cached"]
    return merged


def run(experiment, namespace: dict):
    """Run an experiment from a notebook's namespace (``run(long_range, globals())``) and return
    a view (:class:`grubook.results.view.Results`) of the results file it wrote.

    While the book builds, it returns the sealed results the page is rendered from instead, and
    trains nothing.
    """
    from ..jobs.cache import cache_from_environment
    from ..jobs.run import job_keys, run_jobs
    from ..results.files import PAPERMILL_RESULTS_DIR, RESULTS_DIR, load, read, write_json_atomic
    from ..results.view import Results

    module = _module(experiment)
    name = module.__name__.rpartition(".")[2]
    if os.environ.get(RENDER_ENV):
        return Results(load(name, Path(os.environ[RENDER_ENV])))
    P = collect(module, namespace)
    results_dir = Path(P["results_dir"]) if P["results_dir"] is not None else PAPERMILL_RESULTS_DIR
    if results_dir.resolve() == RESULTS_DIR.resolve():
        raise ParameterError(f"{name}: notebooks do not write the committed results in {RESULTS_DIR}; run "
                             f"`python -m grubook reproduce {name}`, or pass another results_dir")
    cache, jobs, keys, done, execution = cache_from_environment(), [], {}, {}, None
    stage = module.plan(P)
    while stage:                     # a later stage (plan_next) may depend on the outputs of earlier ones
        stage_keys = job_keys(stage)
        outputs, record = run_jobs(name, stage, scheduler=P["scheduler"], cache=cache, keys=stage_keys)
        jobs, keys, done = jobs + stage, keys | stage_keys, done | outputs
        execution = record if execution is None else _merge_records(execution, record)
        stage = module.plan_next(P, done) if hasattr(module, "plan_next") else []
    payload = payload_of(module, module.assemble(done, P), scientific(P))
    # The runner moves these two into the provenance and seals the file.
    payload["execution"] = execution
    payload["fingerprint"] = fingerprints(module, scientific(P), jobs, keys)
    # The drift the book measured belongs to the committed results, which this run does not
    # read (they may even be stale): its findings are decided without one.
    from ..verdicts import drift

    drift.set_current(drift.Drift(source="not measured for results this run computed"))
    return Results(read(write_json_atomic(results_dir / f"{name}.json", payload)))
