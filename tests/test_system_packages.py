"""`make test` on a machine without the system packages stops in seconds with one message that
names what is missing and the command that installs it, before the venv and before any test.

The machine without them is simulated with a PATH that holds only the basic tools (no Chromium,
no TeX, no fontconfig, no sudo), and the user is made a real non-root one with setpriv."""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASIC_TOOLS = ("bash", "sh", "env", "make", "id", "awk", "tr", "paste", "grep", "cat", "rm", "mkdir", "test")


def _bare_machine(tmp_path: Path) -> tuple[Path, dict]:
    """A copy of the Makefile and the script, and an environment whose PATH has only basic tools."""
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "Makefile", project / "Makefile")
    shutil.copy(ROOT / "scripts" / "system-packages", project / "scripts" / "system-packages")
    (project / "requirements.lock").write_text("")
    (project / "pyproject.toml").write_text("")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in BASIC_TOOLS:
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    for path in (tmp_path, project, project / "scripts", bin_dir):
        path.chmod(0o755)
    return project, {"PATH": str(bin_dir), "HOME": str(tmp_path), "LANG": "C.UTF-8"}


def _as_nobody(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is needed to run as a non-root user")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]


@pytest.fixture
def open_tmp():
    """A temporary folder the unprivileged user can enter (pytest's own sits in a 0700 folder)."""
    with tempfile.TemporaryDirectory(prefix="grubook-bare-") as folder:
        yield Path(folder)


def test_make_test_without_system_packages_stops_in_seconds_with_one_message(open_tmp):
    project, env = _bare_machine(open_tmp)
    start = time.monotonic()
    out = subprocess.run(_as_nobody([shutil.which("make"), "-s", "test"]), cwd=project, env=env,
                         capture_output=True, text=True, timeout=60)
    seconds = time.monotonic() - start
    assert out.returncode != 0
    assert seconds < 10, seconds
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out.stderr
    message = errors[0]
    for package in ("chromium", "texlive-xetex", "latexmk", "poppler-utils", "fonts-freefont-otf"):
        assert package in message, (package, message)
    assert "run: sudo apt-get install -y --no-install-recommends" in message
    # Nothing after the check ran: no venv was created, no test started.
    assert not (project / ".venv").exists()


def test_the_check_passes_where_everything_is_installed():
    out = subprocess.run(["bash", str(ROOT / "scripts" / "system-packages"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_ci_installs_through_the_same_script():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/system-packages --install" in ci
    assert "apt-get" not in ci.replace("scripts/system-packages", "")
    makefile = (ROOT / "Makefile").read_text()
    assert "test: system-packages" in makefile
