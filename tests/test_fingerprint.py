"""Freshness by meaning: a docstring or a comment never makes a result stale; a change to one job
function's code makes exactly the jobs that reach it stale, `status` names them and the file, and
`reproduce` re-runs exactly those, taking the others from the job cache."""

import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from grubook import experiments
from grubook.execution import freshness
from grubook.jobs.fingerprint import PACKAGE_ROOT, CodeIndex
from grubook.results.files import RESULTS_DIR, load

ROOT = PACKAGE_ROOT.parents[1]


def _edit_docstrings(text: str) -> str:
    """Append " (edited)" inside every string that stands alone as a statement (docstrings), found
    with the tokenizer so that quotes inside strings cannot mislead it."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    ends = []
    previous = tokenize.NEWLINE
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if (token.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                                                          tokenize.NL, tokenize.ENCODING)
                and token.string.lstrip("rbuRBU").startswith(('"""', "'''"))):
            ends.append(starts[token.end[0] - 1] + token.end[1] - 3)
        if token.type not in (tokenize.COMMENT, tokenize.NL):
            previous = token.type
    for end in reversed(ends):
        text = text[:end] + " (edited)" + text[end:]
    return text


def edit_every_docstring_and_comment(package: Path) -> int:
    """Append a word to every docstring and a comment to every function of every module; returns
    how many files changed."""
    changed = 0
    for path in package.rglob("*.py"):
        text = path.read_text()
        new = _edit_docstrings(text)
        new = re.sub(r"^(\s*)(def \w+\(.*\):)$", r"\1# a comment a reader added\n\1\2", new, flags=re.M)
        new += "\n# a closing comment\n"
        if new != text:
            path.write_text(new)
            changed += 1
    return changed


@pytest.fixture
def package_copy(tmp_path):
    copy = tmp_path / "grubook"
    shutil.copytree(PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_docstrings_and_comments_change_no_digest(package_copy):
    before = CodeIndex(PACKAGE_ROOT)
    assert edit_every_docstring_and_comment(package_copy) >= 40
    after = CodeIndex(package_copy)
    assert set(after.definitions) == set(before.definitions)
    assert {q: d.digest for q, d in after.definitions.items()} == {q: d.digest for q, d in before.definitions.items()}


def test_a_docstring_or_comment_edit_in_any_input_module_leaves_every_result_fresh(package_copy):
    edit_every_docstring_and_comment(package_copy)
    index = CodeIndex(package_copy)
    for name in experiments.NAMES:
        assert freshness.stale_jobs(load(name, RESULTS_DIR), index=index) == {}, name


def test_a_code_change_marks_only_the_jobs_that_reach_it(package_copy):
    path = package_copy / "training" / "forecasting.py"
    text = path.read_text()
    path.write_text(text.replace("def seasonal_naive(s: Setup) -> np.ndarray:\n",
                                 "def seasonal_naive(s: Setup) -> np.ndarray:\n    assert s is not None\n", 1))
    why = freshness.stale_jobs(load("forecasting", RESULTS_DIR), index=CodeIndex(package_copy))
    assert why == {"jobs": {"baselines": ["grubook/training/forecasting.py"]}}, why
    lines = freshness.describe(why, 7)
    assert lines == ["1 of 7 jobs reach changed code:", "  baselines: changed in grubook/training/forecasting.py"]
    # The adding problem's jobs do not reach the sunspot baselines.
    assert freshness.stale_jobs(load("long_range", RESULTS_DIR), index=CodeIndex(package_copy)) == {}


def test_no_job_can_read_a_docstring_or_its_own_source():
    """Docstrings are outside every fingerprint; that is only safe while no job reads one."""
    index = CodeIndex()
    for name in experiments.NAMES:
        fp = load(name, RESULTS_DIR)["provenance"]["fingerprint"]
        for function, reach in fp["reach"].items():
            for q in reach:
                module, _, definition = q.partition(":")
                source = index.modules[module].path.read_text()
                if definition == "<toplevel>":
                    continue
                node_text = "\n".join(__import__("ast").unparse(n) for n in index.modules[module].nodes[definition])
                assert not re.search(r"getsource|getdoc|__doc__", node_text), (function, q)


@pytest.mark.slow
def test_reproduce_reruns_exactly_the_jobs_a_code_change_reaches(tmp_path):
    """On a copy of the package: run forecasting (quick), change one job function, run again."""
    src = tmp_path / "src"
    shutil.copytree(PACKAGE_ROOT, src / "grubook", ignore=shutil.ignore_patterns("__pycache__"))
    # The copy's repository root is tmp_path (grubook finds it from its own location): the
    # experiment notebooks go there too.
    (tmp_path / "experiments").mkdir()
    for notebook in (ROOT / "experiments").glob("*.md"):
        shutil.copy(notebook, tmp_path / "experiments" / notebook.name)
    env = os.environ | {"PYTHONPATH": str(src)}
    command = [sys.executable, "-m", "grubook", "reproduce", "forecasting", "--quick", "--results-dir",
               str(tmp_path / "results"), "--cache-dir", str(tmp_path / "cache")]

    def run():
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout

    assert "2 of 2 jobs run" in run()
    path = src / "grubook" / "training" / "forecasting.py"
    path.write_text(path.read_text().replace("def seasonal_naive(s: Setup) -> np.ndarray:\n",
                                             "def seasonal_naive(s: Setup) -> np.ndarray:\n    assert s is not None\n", 1))
    status = subprocess.run([sys.executable, "-m", "grubook", "status", "--results-dir", str(tmp_path / "results")],
                            env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path).stdout
    assert "baselines: changed in grubook/training/forecasting.py" in status, status
    assert "1 of 2 jobs run (1 from the cache)" in run()
    assert "0 of 2 jobs run (2 from the cache)" in run()
