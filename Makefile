# GRU Book. Two commands matter:
#   make book   build the HTML book into _build/html, and its Chinese edition into _build/html/zh_CN
#               (pages executed once, warnings are errors)
#   make test   the whole test suite (which also builds the book and re-runs every experiment)
# Both create .venv from requirements.lock first when it is missing or out of date; `make test` first
# checks (and, as root or with sudo, installs) the system packages the browser and PDF tests need.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.grubook-installed
KERNEL := grubook

# Quiet TensorFlow's C++ start-up chatter and make hashing repeatable.
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# PDF of the whole book (_build/latex/grubook.pdf) with Jupyter Book's LaTeX builder and XeLaTeX from
# Debian's TeX Live, offline (README lists the packages), then the Chinese edition's PDF (xeCJK and
# Noto CJK). Copies go next to the HTML book, whose front pages link them.
.PHONY: pdf
pdf: $(STAMP)
	@command -v latexmk >/dev/null 2>&1 && command -v xelatex >/dev/null 2>&1 || { \
	  rm -f _build/latex/grubook.pdf _build/html/grubook.pdf; \
	  echo "error: make pdf needs latexmk and xelatex (TeX Live): install texlive-xetex latexmk and the rest of the list with \`bash scripts/system-packages --install\` (README: Two commands)" >&2; \
	  exit 2; }
	@$(PY) -m grubook status --book
	$(VENV)/bin/jupyter-book build . --builder pdflatex -W -n --keep-going
	mkdir -p _build/html && cp _build/latex/grubook.pdf _build/html/grubook.pdf
	$(PY) -m grubook.presentation.editions pdf     # the Chinese PDF: _build/html/grubook-zh_CN.pdf

.PHONY: book catalogs test test-fast reproduce reproduce-quick drift status bench lock clean venv lab system-packages

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	# The kernel spec goes inside the venv (--sys-prefix), never into ~/.local.
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (grubook)" >/dev/null
	# JupyterLab (in the venv only) opens the MyST .md chapters and experiments as notebooks on a double click.
	mkdir -p $(VENV)/share/jupyter/lab/settings
	printf '%s\n' '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}}}' \
		> $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $(STAMP)

# One line and exit 2 when the results the book reads are not fresh (or are edited, corrupt, missing).
book: $(STAMP)
	@$(PY) -m grubook status --book
	$(VENV)/bin/jupyter-book build . --builder html -W -n --keep-going
	$(PY) -m grubook.presentation.editions build

# The Chinese edition's catalogs (book/locale/zh_CN) brought up to date with the English sources:
# new paragraphs come in untranslated, changed ones fuzzy; translate them, then `make book`.
catalogs: $(STAMP)
	$(PY) -m grubook.presentation.editions catalogs

# The system packages come first, so a machine without them learns it in seconds, not after the venv.
test: system-packages $(STAMP)
	$(PY) -m pytest -m "not quick_tier"

system-packages:
	@bash scripts/system-packages --install

# JupyterLab from the venv, on this machine only (127.0.0.1), opened at the book's folder: the
# chapters (book/*.md) and experiments (experiments/*.md) open as notebooks on the grubook kernel.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/book

# No book build, no full re-run: the unit tests, and every experiment with its --quick settings into a
# temporary folder with every experiment page rendered from those results (a few minutes).
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not reproduce and not browser"

# Units run on a local Dask cluster (one single-threaded worker per core). WORKERS=N sizes it;
# SCHEDULER=tcp://host:8786 (or GRUBOOK_SCHEDULER) uses an existing cluster instead.
REPRODUCE_OPTIONS := $(if $(SCHEDULER),--scheduler $(SCHEDULER),$(if $(WORKERS),--workers $(WORKERS))) $(if $(NO_CACHE),--no-cache)

reproduce: $(STAMP)
	$(PY) -m grubook reproduce $(REPRODUCE_OPTIONS) $(EXPERIMENTS)

# The same runs with every initial weight moved by one ulp, into experiments/results-perturbed (re-run drift).
drift: $(STAMP)
	$(PY) -m grubook drift $(if $(SCHEDULER),--scheduler $(SCHEDULER),$(if $(WORKERS),--workers $(WORKERS))) $(EXPERIMENTS)

reproduce-quick: $(STAMP)
	$(PY) -m grubook reproduce --quick $(REPRODUCE_OPTIONS) $(EXPERIMENTS)

status: $(STAMP)
	$(PY) -m grubook status

# Serial (one process, default threads) against the local cluster, on the quick suite.
bench: $(STAMP)
	$(PY) -m grubook bench $(if $(WORKERS),--workers $(WORKERS))

# Re-resolve every transitive version from pyproject.toml's direct dependencies.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check .
	( echo "# Generated by 'make lock' from pyproject.toml with Python $$(.lock-venv/bin/python -c 'import platform; print(platform.python_version())'). Do not edit."; \
	  .lock-venv/bin/python -m pip freeze --exclude grubook | sed -e 's/+cpu$$//' ) > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf _build
