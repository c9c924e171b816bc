"""The setup a newcomer relies on: consistent dependency lists, a full lock, the kernel in the venv."""

import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pyproject_requirements():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {canonicalize_name(r.name): r for r in map(Requirement, data["project"]["dependencies"])}


def conda_pip_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    reqs = [Requirement(line) for line in pip_section if not line.startswith("-e")]
    return {canonicalize_name(r.name): r for r in reqs}


def lock_pins():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"lock line is not an exact pin: {line!r}"
        pins[canonicalize_name(req.name)] = specs[0].version
    return pins


def test_environment_yml_lists_the_same_direct_dependencies_as_pyproject():
    ours, conda = pyproject_requirements(), conda_pip_requirements()
    assert set(ours) == set(conda), (
        f"only in pyproject.toml: {sorted(set(ours) - set(conda))}; "
        f"only in environment.yml: {sorted(set(conda) - set(ours))}"
    )
    differing = {n: (str(ours[n].specifier), str(conda[n].specifier))
                 for n in ours if ours[n].specifier != conda[n].specifier}
    assert not differing, f"version ranges differ (pyproject, environment.yml): {differing}"


def test_jupyter_book_is_pinned_below_2():
    spec = pyproject_requirements()["jupyter-book"].specifier
    assert "1.0.4.post1" in spec and not spec.contains("2.0.0")


def test_lock_pins_every_direct_dependency_within_its_range():
    pins = lock_pins()
    for name, req in pyproject_requirements().items():
        assert name in pins, f"{name} is a direct dependency but requirements.lock does not pin it"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's {req.specifier}"
        )


def test_installed_environment_matches_the_lock():
    from importlib.metadata import PackageNotFoundError, version

    mismatched = {}
    for name, pinned in lock_pins().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            mismatched[name] = (pinned, None)
            continue
        if installed.split("+")[0] != pinned:      # a local build tag such as +cpu is the same release
            mismatched[name] = (pinned, installed)
    assert not mismatched, f"(locked, installed): {mismatched}; run `make venv` again"


def test_kernel_is_registered_inside_the_venv_not_in_home():
    if sys.prefix == sys.base_prefix:
        pytest.skip("not running inside a virtual environment")
    spec = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "grubook" / "kernel.json"
    assert spec.is_file(), f"kernel spec missing at {spec}; run `make venv`"
    import json

    argv = json.loads(spec.read_text())["argv"]
    # The kernel must start the venv's interpreter (not resolved: the venv's python is a symlink).
    assert Path(argv[0]).absolute().parent == Path(sys.prefix).absolute() / "bin", argv
    assert not (Path.home() / ".local/share/jupyter/kernels/grubook").exists()
