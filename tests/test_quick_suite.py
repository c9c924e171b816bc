"""The middle test tier (`make test-fast`): every experiment runs with its --quick settings into a
temporary folder, then every experiment page is rendered from those results exactly as the book
renders it, so each experiment's assembly, findings and figures run in minutes, not only in the
15-minute full reproduction."""

import os
import subprocess
import sys

import pytest

from grubook import experiments
from grubook.execution.notebooks import reproduce
from grubook.experiments.spec import RENDER_ENV
from grubook.results.files import EXPERIMENTS_DIR, RESULTS_DIR
from grubook.results.view import Results
from grubook.verdicts.claims import CLAIMS, audit


# The middle tier, for `make test-fast`. The full `make test` leaves it out: there every experiment
# re-runs at its full settings (test_reproduce) and every page renders in the book build.
quick_tier = pytest.mark.quick_tier


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quick")
    results = reproduce(list(experiments.NAMES), quick=True, results_dir=folder, progress=False,
                        cache_dir=tmp_path_factory.mktemp("cache"))
    return folder, {name: Results(res) for name, res in results.items()}


@quick_tier
def test_every_experiment_assembles_with_its_quick_settings(quick):
    _, results = quick
    assert set(results) == set(experiments.NAMES)
    for name, res in results.items():
        assert res.seeds and res.provenance["fingerprint"]["jobs"], name
        findings = experiments.get(name).findings(res)
        assert findings.startswith("**Findings.**") and "nan" not in findings, (name, findings)


@quick_tier
def test_the_claims_audit_reads_quick_results(quick):
    _, results = quick
    rows = audit(results)
    assert len(rows) == len(CLAIMS) and all(row["verdict"] for row in rows)


@quick_tier
@pytest.mark.parametrize("name", experiments.NAMES)
def test_every_experiment_page_renders_from_quick_results(quick, name, tmp_path):
    """The page is the experiment's notebook, executed as the book executes it: from the results,
    without training."""
    import jupytext

    folder, _ = quick
    source = tmp_path / f"{name}.ipynb"
    jupytext.write(jupytext.read(EXPERIMENTS_DIR / f"{name}.md"), source, fmt="ipynb")
    proc = subprocess.run([sys.executable, "-m", "papermill", str(source), str(tmp_path / "out.ipynb"), "-k", "grubook",
                           "--cwd", str(tmp_path)], capture_output=True, text=True, timeout=600,
                          env=os.environ | {RENDER_ENV: str(folder)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    executed = (tmp_path / "out.ipynb").read_text()
    assert "image/png" in executed, f"{name}: no figure"


def _pngs(notebook_text: str):
    import base64
    import io
    import json

    import matplotlib.image

    for cell in json.loads(notebook_text)["cells"]:
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                yield matplotlib.image.imread(io.BytesIO(base64.b64decode(output["data"]["image/png"])), format="png")


def test_a_changed_plotting_detail_reaches_the_experiment_page_without_training(tmp_path):
    """Experiment pages are drawn from the results when the book builds, so a change to the
    plotting code shows on the page with no re-run. Here the GRU's colour becomes pure green in a
    cell put before the page's own: the page's figures show it, and nothing trains (the page is
    rendered from the committed results, as the book build renders it)."""
    import jupytext
    import numpy as np
    from nbformat.v4 import new_code_cell

    folder = RESULTS_DIR
    notebook = jupytext.read(EXPERIMENTS_DIR / "long_range.md")
    notebook.cells.insert(0, new_code_cell('from grubook.presentation import plots\nplots.CELL_COLORS["GRU"] = "#00ff00"'))
    source = tmp_path / "long_range.ipynb"
    jupytext.write(notebook, source, fmt="ipynb")
    proc = subprocess.run([sys.executable, "-m", "papermill", str(source), str(tmp_path / "out.ipynb"), "-k", "grubook",
                           "--cwd", str(tmp_path)], capture_output=True, text=True, timeout=600,
                          env=os.environ | {RENDER_ENV: str(folder), "GRUBOOK_CACHE": "off"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    images = list(_pngs((tmp_path / "out.ipynb").read_text()))
    assert images

    def green(image):
        rgb = image[..., :3]
        return bool(np.any((rgb[..., 1] > 0.95) & (rgb[..., 0] < 0.05) & (rgb[..., 2] < 0.05)))

    assert any(green(image) for image in images), "the changed colour does not reach the page"
