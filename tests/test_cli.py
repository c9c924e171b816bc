"""The command line refuses bad input with one line that names the problem, before any work, and
never writes the committed results by accident."""

import json
import shutil
import subprocess
import sys

import pytest

from grubook.results.files import RESULTS_DIR


def grubook(*args, prefix=(), timeout=300):
    return subprocess.run([*prefix, sys.executable, "-m", "grubook", *args], capture_output=True, text=True,
                          timeout=timeout)


def assert_one_line_error(proc, pattern, code=2):
    import re

    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert re.search(pattern, lines[-1]), lines


def committed_state():
    return {p.name: p.stat().st_mtime_ns for p in RESULTS_DIR.iterdir()}


def test_set_without_results_dir_never_replaces_the_committed_results():
    before = committed_state()
    proc = grubook("reproduce", "seed_example", "--set", "epochs=3")
    assert_one_line_error(proc, r"results made with --set are not written into the committed results .*"
                                r"pass --results-dir DIR")
    assert committed_state() == before


@pytest.mark.parametrize("make,message", [
    (lambda tmp: (tmp / "a-file").write_text("x") and tmp / "a-file", r"--results-dir .*a-file is a file"),
    (lambda tmp: (tmp / "a-file").write_text("x") and tmp / "a-file" / "sub",
     r"--results-dir .*a-file/sub is under a file"),
    (lambda tmp: "/proc/grubook-results", r"--results-dir /proc/grubook-results cannot be written"),
], ids=["is-a-file", "under-a-file", "cannot-be-created"])
def test_a_results_dir_that_cannot_hold_results_is_refused(tmp_path, make, message):
    proc = grubook("reproduce", "seed_example", "--quick", "--results-dir", str(make(tmp_path)))
    assert_one_line_error(proc, message)


@pytest.mark.parametrize("value,message", [
    ("units=1000000000000", r"'units' must be an integer in \[1, 4096\], got 1000000000000"),
    ("epochs=1e309", r"'epochs' must be an integer in \[1, 100000\], got inf"),
    ("epochs=" + "-" * 5000 + "1", r"--set epochs: value is nested too deeply to read"),     # RecursionError
    ("epochs=" + "+" * 9000 + "1", r"--set epochs: value is nested too deeply to read"),     # MemoryError
    ("seeds=" + "[" * 5000 + "]" * 5000, r"'seeds' must be .*, got '\[\[\[\[.{0,80}$"),          # shortened
    ("seeds=" + "[0, " * 20000 + "0" + "]" * 20000, r"value is .* characters long; at most 10000"),
], ids=["huge-int", "infinity", "recursion", "memory", "too-many-brackets", "huge-text"])
def test_absurd_set_values_get_one_line(tmp_path, value, message):
    proc = grubook("reproduce", "seed_example", "--set", value, "--results-dir", str(tmp_path))
    assert_one_line_error(proc, message)
    assert list(tmp_path.iterdir()) == []


def test_status_shows_every_row_and_names_a_corrupt_file_and_leftovers(tmp_path):
    for path in RESULTS_DIR.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "long_range.json").write_text((tmp_path / "long_range.json").read_text()[:1000])
    (tmp_path / ".staging-seed_example-abc").mkdir()
    proc = grubook("status", "--results-dir", str(tmp_path))
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    out = proc.stdout
    for name in ("seed_example", "long_range", "real_sequences", "efficiency", "overfitting"):
        assert name in out
    assert "corrupt" in out and f"{tmp_path / 'long_range.json'}: not valid JSON" in out
    assert f"leftover of an interrupted run: {tmp_path / '.staging-seed_example-abc'}" in out


def test_check_fails_in_seconds_on_a_corrupt_committed_file(tmp_path):
    for path in RESULTS_DIR.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    data = json.loads((tmp_path / "overfitting.json").read_text())
    data["aggregates"]["none.gap"]["mean"] = 0.5
    (tmp_path / "overfitting.json").write_text(json.dumps(data))
    proc = grubook("check", "--results-dir", str(tmp_path), timeout=60)
    assert_one_line_error(proc, rf"{tmp_path / 'overfitting.json'}: content does not match its seal "
                                r"\(first difference: aggregates\.none\.gap\)")


def test_no_loopback_gives_a_clear_error_instead_of_a_kernel_timeout(tmp_path):
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot create a network namespace here (unshare -n)")
    proc = grubook("reproduce", "seed_example", "--quick", "--results-dir", str(tmp_path),
                   prefix=("unshare", "-n"), timeout=120)
    assert_one_line_error(proc, r"cannot open a socket on 127\.0\.0\.1 \(loopback\)")


def test_drift_refuses_an_unknown_experiment_in_one_line_before_any_work():
    from grubook.verdicts.drift import PERTURBED_RESULTS_DIR

    before = sorted(PERTURBED_RESULTS_DIR.glob("*")) if PERTURBED_RESULTS_DIR.is_dir() else []
    proc = grubook("drift", "no_such_experiment")
    assert_one_line_error(proc, r"unknown experiment 'no_such_experiment'")
    after = sorted(PERTURBED_RESULTS_DIR.glob("*")) if PERTURBED_RESULTS_DIR.is_dir() else []
    assert after == before


def test_a_perturbed_run_never_goes_into_the_committed_results():
    before = committed_state()
    proc = grubook("reproduce", "seed_example", prefix=("env", "GRUBOOK_PERTURB_ULP=1"))
    assert_one_line_error(proc, r"GRUBOOK_PERTURB_ULP is set: runs with perturbed initial weights never go into")
    proc = grubook("reproduce", "seed_example", "--results-dir", "/tmp/never", prefix=("env", "GRUBOOK_PERTURB_ULP=x"))
    assert_one_line_error(proc, r"GRUBOOK_PERTURB_ULP must be a whole number of ulps from 0 to 1000, got 'x'")
    assert committed_state() == before
