import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(autouse=True)
def _committed_drift_after_each_test():
    """A test that runs an experiment in this process (``spec.run``) makes the process decide
    without the committed drift, as a notebook kernel that computed its own results should; the
    next test reads the committed results again, with their drift."""
    yield
    from grubook.verdicts import drift

    drift.set_current(None)


def _build_logged(what: str, command: list[str], log_name: str) -> None:
    """Run a build command in the repository; keep its output and duration in _build/<log_name>
    and fail with the output's tail if it fails."""
    log = ROOT / "_build" / log_name
    log.parent.mkdir(exist_ok=True)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log.write_text(proc.stdout + proc.stderr + f"\n[build took {seconds:.1f} s]\n")
    assert proc.returncode == 0, f"{what} failed (see {log}):\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"


@pytest.fixture(scope="session")
def built_book():
    """Build the HTML book once per test session, exactly as `make book` does, and return its folder.

    The build runs with warnings as errors; its log is kept in _build/book-build.log.
    """
    jb = Path(sys.executable).parent / "jupyter-book"
    _build_logged("book build", [str(jb), "build", str(ROOT), "--builder", "html", "-W", "-n", "--keep-going"],
                  "book-build.log")
    # The Chinese edition from the same sources and the English build's executed pages.
    _build_logged("Chinese edition build", [sys.executable, "-m", "grubook.presentation.editions", "build"],
                  "book-build-zh_CN.log")
    return ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def built_pdf(built_book):
    """Build the PDF once per test session with `make pdf` (after the HTML book, whose front page
    links the copy it leaves in _build/html) and return its path. The log is _build/pdf-build.log."""
    import shutil

    missing = [tool for tool in ("xelatex", "latexmk", "pdftotext") if shutil.which(tool) is None]
    assert not missing, (f"the PDF needs TeX Live and poppler ({', '.join(missing)} not found); "
                         "README, section 'The PDF', lists the Debian packages and .ci/run installs them")
    _build_logged("make pdf", ["make", "pdf"], "pdf-build.log")
    return ROOT / "_build" / "latex" / "grubook.pdf"


# The built book served on 127.0.0.1 and a headless Chromium, for the browser tests
# (test_browser.py, test_accessibility.py).
@pytest.fixture(scope="module")
def server(built_book):
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(built_book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def pytest_collection_modifyitems(config, items):
    """Run the experiments' full re-run (marker ``reproduce``, about 13 minutes) after everything
    else, so that a fast test's failure shows early."""
    items.sort(key=lambda item: item.get_closest_marker("reproduce") is not None)


# Seconds spent per test file (setup, call and teardown; a session fixture such as the book build
# counts in the file that first asked for it), printed at the end and kept in _build/test-durations.txt.
_SECONDS_PER_FILE: dict[str, float] = {}


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    _SECONDS_PER_FILE[path] = _SECONDS_PER_FILE.get(path, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    if not _SECONDS_PER_FILE:
        return
    rows = sorted(_SECONDS_PER_FILE.items(), key=lambda kv: -kv[1])
    lines = [f"{seconds:8.1f} s  {path}" for path, seconds in rows]
    lines.append(f"{sum(_SECONDS_PER_FILE.values()):8.1f} s  in all")
    terminalreporter.write_sep("=", "seconds per test file")
    for line in lines:
        terminalreporter.write_line(line)
    out = ROOT / "_build" / "test-durations.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
