"""Command line: ``python -m grubook reproduce|status|check``.

    python -m grubook reproduce [NAME ...] [--quick] [--set KEY=VALUE ...] [--results-dir DIR]
    python -m grubook status
    python -m grubook check [NAME ...]      re-run into a temporary folder and compare with the committed results
"""

from __future__ import annotations

import argparse
import ast
import sys
import tempfile
from pathlib import Path


def _parse_override(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set takes KEY=VALUE, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw                                     # a bare word is a string
    return key.strip(), value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grubook", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run experiments through papermill and write their results")
    rep.add_argument("names", nargs="*", help="experiments to run (default: all)")
    rep.add_argument("--quick", action="store_true", help="small settings (about 2 minutes in all); "
                     "results go to _build/results-quick unless --results-dir is given")
    rep.add_argument("--set", dest="overrides", type=_parse_override, action="append", default=[],
                     metavar="KEY=VALUE", help="override a notebook parameter, e.g. --set epochs=5 "
                     "or --set 'seeds=[0,1]' (with one experiment name)")
    rep.add_argument("--results-dir", type=Path, default=None)
    rep.add_argument("--experiments-dir", type=Path, default=None, help=argparse.SUPPRESS)
    sub.add_parser("status", help="which committed results are stale")
    chk = sub.add_parser("check", help="re-run experiments and compare with the committed results")
    chk.add_argument("names", nargs="*")
    args = parser.parse_args(argv)

    from . import params as P
    from .runner import ExperimentFailed, reproduce, status

    try:
        if args.command == "reproduce":
            if args.overrides and len(args.names) != 1:
                parser.error("--set needs exactly one experiment name (parameters differ between experiments)")
            extra = {"experiments_dir": args.experiments_dir} if args.experiments_dir else {}
            results = reproduce(args.names or None, quick=args.quick, overrides=dict(args.overrides),
                                results_dir=args.results_dir, **extra)
            for name, res in results.items():
                print(f"{name}: {res['provenance']['wall_seconds']:.1f} s")
            return 0
        if args.command == "status":
            rows = status()
            print(f"{'experiment':<16} {'status':<8} {'wall s':>8}  inputs_sha256")
            for r in rows:
                wall = f"{r['wall_seconds']:.1f}" if r["wall_seconds"] is not None else "-"
                print(f"{r['experiment']:<16} {r['status']:<8} {wall:>8}  {(r['inputs_sha256'] or '-')[:16]}")
            return 0 if all(r["status"] == "fresh" for r in rows) else 3
        if args.command == "check":
            from .results import RESULTS_DIR, compare, format_comparison, load

            with tempfile.TemporaryDirectory(prefix="grubook-check-") as tmp:
                new = reproduce(args.names or None, results_dir=Path(tmp))
                failed = False
                for name, res in new.items():
                    rows = compare(load(name, RESULTS_DIR), res)
                    print(format_comparison(name, rows, only_failures=False))
                    failed |= not all(r["ok"] for r in rows)
            return 1 if failed else 0
    except (P.ParameterError, P.UnknownExperimentError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ExperimentFailed as err:
        print(f"error: {err}", file=sys.stderr)
        return 130 if "interrupted" in err.cause else 1
    except KeyboardInterrupt:
        print("error: interrupted; results were left untouched", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
