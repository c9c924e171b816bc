"""Command line: ``python -m grubook reproduce|status|check|bench``.

    python -m grubook reproduce [NAME ...] [--quick] [--set KEY=VALUE ...] [--results-dir DIR]
                                [--workers N | --scheduler ADDRESS] [--no-cache | --cache-dir DIR]
    python -m grubook status [--results-dir DIR] [--book]
    python -m grubook check [NAME ...] [--workers N | --scheduler ADDRESS]
    python -m grubook worker SCHEDULER_ADDRESS [DASK_WORKER_OPTIONS, e.g. --tls-ca-file ca.pem ...]
                                start `dask worker` processes for a cluster you run yourself
    python -m grubook drift [NAME ...] [--workers N | --scheduler ADDRESS]
                                rerun experiments with every initial weight moved by one ulp into
                                experiments/results-perturbed, from which the book measures re-run drift
    python -m grubook bench     the quick suite serially (one process, default threads) and on the
                                local Dask cluster; writes experiments/results/benchmark.json

Every training run is a job on a Dask cluster: by default a local one on 127.0.0.1 with one
single-threaded worker process per core; --scheduler (or $GRUBOOK_SCHEDULER) uses an existing one
instead. A job whose code, arguments and environment are unchanged comes from the job cache
(_build/cache/jobs) instead of running again; --no-cache runs everything.
"""

from __future__ import annotations

import argparse
import ast
import signal
import sys
import tempfile
from pathlib import Path


def _parse_override(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set takes KEY=VALUE, got {text!r}")
    key, raw = text.split("=", 1)
    if len(raw) > 10_000:
        raise argparse.ArgumentTypeError(f"--set {key}: value is {len(raw)} characters long; at most 10000")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw                                     # a bare word is a string
    except (RecursionError, MemoryError):
        raise argparse.ArgumentTypeError(f"--set {key}: value is nested too deeply to read") from None
    return key.strip(), value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _on_sigterm(signum, frame):
    from .notebooks import Terminated

    raise Terminated()


def _add_cluster_options(parser):
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--workers", type=_positive_int, default=None,
                       help="worker processes of the local Dask cluster (default: one per core); 1 to debug")
    group.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="use an existing Dask scheduler, e.g. tls://10.0.0.5:8786 (or set GRUBOOK_SCHEDULER)")


def retime(names, cluster: dict) -> None:
    """After ``drift``'s reruns: time each experiment with ``MACHINE_BOUND`` quantities (timings)
    ``RETIMINGS − 1`` more times, into ``{name}.retimed-{i}.json`` beside its first rerun (see
    :mod:`grubook.verdicts.drift`). Each file is written whole and then moved into place, so a run cut
    short leaves the folder as it was, except the re-timings finished before it."""
    import os

    from .. import experiments
    from ..verdicts.drift import PERTURBED_RESULTS_DIR, RETIMINGS
    from .notebooks import reproduce

    for name in [n for n in names if getattr(experiments.get(n), "MACHINE_BOUND", ())]:
        for stale in PERTURBED_RESULTS_DIR.glob(f"{name}.retimed-*.json"):     # of a larger earlier RETIMINGS
            if int(stale.stem.rpartition("-")[2]) > RETIMINGS:
                stale.unlink()
        for i in range(2, RETIMINGS + 1):
            with tempfile.TemporaryDirectory(dir=PERTURBED_RESULTS_DIR, prefix=".retiming-") as tmp:
                res = reproduce([name], results_dir=Path(tmp), cache=False, **cluster)[name]
                os.replace(Path(tmp) / f"{name}.json", PERTURBED_RESULTS_DIR / f"{name}.retimed-{i}.json")
            print(f"{name}: re-timed ({i} of {RETIMINGS}) in {res['provenance']['wall_seconds']:.1f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grubook", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run experiments through papermill and write their results")
    rep.add_argument("names", nargs="*", help="experiments to run (default: all)")
    rep.add_argument("--quick", action="store_true", help="small settings (about a minute in all); "
                     "results go to _build/results-quick unless --results-dir is given")
    rep.add_argument("--set", dest="overrides", type=_parse_override, action="append", default=[],
                     metavar="KEY=VALUE", help="override a notebook parameter, e.g. --set epochs=5 "
                     "or --set 'seeds=[0,1]' (with one experiment name and --results-dir)")
    rep.add_argument("--results-dir", type=Path, default=None)
    rep.add_argument("--experiments-dir", type=Path, default=None, help=argparse.SUPPRESS)
    _add_cluster_options(rep)
    caching = rep.add_mutually_exclusive_group()
    caching.add_argument("--no-cache", action="store_true", help="run every job, taking none from the job cache")
    caching.add_argument("--cache-dir", type=Path, default=None, help="the job cache (default: _build/cache/jobs)")
    st = sub.add_parser("status", help="which results are fresh, stale, custom, edited, corrupt or missing")
    st.add_argument("--results-dir", type=Path, default=None, help="default: experiments/results")
    st.add_argument("--book", action="store_true", help="only say, in one line, why the book cannot be built "
                    "from these results (exit 2), or nothing")
    chk = sub.add_parser("check", help="re-run experiments and compare with the committed results")
    chk.add_argument("names", nargs="*")
    chk.add_argument("--results-dir", type=Path, default=None, help="the results to compare with "
                     "(default: experiments/results)")
    _add_cluster_options(chk)
    wrk = sub.add_parser("worker", help="start Dask worker processes for a cluster you run yourself, "
                         "with one thread each and the environment the units need")
    wrk.add_argument("scheduler_address", metavar="SCHEDULER_ADDRESS", help="e.g. tls://10.0.0.5:8786")
    wrk.add_argument("dask_args", nargs=argparse.REMAINDER, help="more `dask worker` options, e.g. "
                     "--tls-ca-file ca.pem --tls-cert worker.pem --tls-key worker.key --nworkers 8 (default: one "
                     "process per core, bound to the interface that reaches the scheduler, no dashboard)")
    dft = sub.add_parser("drift", help="rerun experiments with initial weights moved by one ulp (the book "
                         "measures each comparison's re-run drift from these results)")
    dft.add_argument("names", nargs="*", help="experiments to run (default: all)")
    _add_cluster_options(dft)
    bench = sub.add_parser("bench", help="time the quick suite serially and on the local cluster")
    bench.add_argument("--workers", type=_positive_int, default=None)
    bench.add_argument("--output", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.command == "worker":
        import os

        from ..jobs.cluster import SINGLE_THREAD_ENV, SchedulerError, worker_command

        try:
            command = worker_command(args.scheduler_address, [a for a in args.dask_args if a != "--"])
        except SchedulerError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        os.execve(command[0], command, os.environ | SINGLE_THREAD_ENV | {"TF_CPP_MIN_LOG_LEVEL": "2"})

    from ..experiments import spec as P
    from ..jobs.cluster import SchedulerError
    from ..results.files import RESULTS_DIR, ResultsError
    from .freshness import status
    from .notebooks import ExperimentFailed, Terminated, leftovers, reproduce

    signal.signal(signal.SIGTERM, _on_sigterm)
    cluster = {"workers": getattr(args, "workers", None), "scheduler": getattr(args, "scheduler", None)}
    try:
        if args.command == "reproduce":
            if args.overrides and len(args.names) != 1:
                parser.error("--set needs exactly one experiment name (parameters differ between experiments)")
            extra = {"experiments_dir": args.experiments_dir} if args.experiments_dir else {}
            results = reproduce(args.names or None, quick=args.quick, overrides=dict(args.overrides),
                                results_dir=args.results_dir, cache=not args.no_cache, cache_dir=args.cache_dir,
                                **cluster, **extra)
            for name, res in results.items():
                execution = res["provenance"]["execution"] or {}
                ran, cached = execution.get("jobs_run", 0), execution.get("jobs_cached", 0)
                print(f"{name}: {res['provenance']['wall_seconds']:.1f} s, {ran} of {ran + cached} jobs run"
                      + (f" ({cached} from the cache)" if cached else ""))
            return 0
        if args.command == "drift":
            import os

            from ..jobs.perturb import PERTURB_ENV
            from ..verdicts.drift import PERTURBED_RESULTS_DIR

            os.environ[PERTURB_ENV] = "1"        # read by the job runner in every notebook's kernel
            results = reproduce(args.names or None, results_dir=PERTURBED_RESULTS_DIR, cache=False, **cluster)
            for name, res in results.items():
                print(f"{name}: {res['provenance']['wall_seconds']:.1f} s with initial weights moved by one ulp")
            retime(list(results), cluster)
            return 0
        if args.command == "status":
            if args.book:
                from ..presentation.glue import BOOK_RESULTS_DIR
                from ..sphinxext.page_inputs import ResultsNotReady, check_results

                folder = args.results_dir or BOOK_RESULTS_DIR      # what `make book` reads

                try:
                    check_results(folder)
                except ResultsNotReady as err:
                    print(f"error: {err}", file=sys.stderr)
                    return 2
                return 0
            folder = args.results_dir or RESULTS_DIR
            rows = status(results_dir=folder)
            print(f"{'experiment':<16} {'status':<8} {'wall s':>8}  fingerprint")
            for r in rows:
                wall = f"{r['wall_seconds']:.1f}" if r["wall_seconds"] is not None else "-"
                print(f"{r['experiment']:<16} {r['status']:<8} {wall:>8}  {(r['fingerprint'] or '-')[:16]}")
                for line in r["detail"]:
                    print(f"{'':<16} {line}")
            stray = leftovers(folder)
            for path in stray:
                print(f"leftover of an interrupted run: {path} (the next reproduce removes it)")
            return 0 if all(r["status"] == "fresh" for r in rows) and not stray else 3
        if args.command == "check":
            from ..experiments import machine_bound
            from ..results.compare import compare, format_comparison
            from .notebooks import preflight

            committed = preflight(args.names or None, args.results_dir or RESULTS_DIR)
            with tempfile.TemporaryDirectory(prefix="grubook-check-") as tmp:
                new = reproduce(list(committed), results_dir=Path(tmp), cache=False, **cluster)
            failed = False
            for name, res in new.items():
                rows = compare(committed[name], res, machine_bound(committed[name]))
                print(format_comparison(name, rows, only_failures=False))
                failed |= not rows or not all(r["ok"] for r in rows)
            return 1 if failed else 0
        if args.command == "bench":
            from .bench import run_benchmark

            report = run_benchmark(workers=args.workers, output=args.output)
            print(report["summary"])
            return 0
    except (P.ParameterError, P.UnknownExperimentError, FileNotFoundError, ResultsError, OSError,
            SchedulerError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ExperimentFailed as err:
        from .notebooks import _log_path

        print(f"error: {err} Kernel and worker messages: {_log_path()}", file=sys.stderr)
        if "terminated" in err.cause:
            return 143
        return 130 if "interrupted" in err.cause else 1
    except KeyboardInterrupt:
        print("error: interrupted; results were left untouched", file=sys.stderr)
        return 130
    except Terminated:
        print("error: terminated (SIGTERM); results were left untouched", file=sys.stderr)
        return 143
    except MemoryError:
        print("error: out of memory; a parameter is probably far too large", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
