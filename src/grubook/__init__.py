"""grubook: the tested code behind GRU Book.

Rooms, each for one kind of change; arrows point one way only (``gru`` and ``data`` at the bottom,
``experiments`` above ``training``, ``execution`` and ``presentation`` on top):

- ``gru``           the GRU itself: ``reference`` (the from-scratch NumPy GRU: forward, backward,
                    weight conversion, parameter counts), ``equivalence`` (the checks against Keras
                    and PyTorch and the gradient check), ``keras_cell`` (the article's equations as
                    a Keras cell, chrono initialisation), ``cell_steps`` (one step of SimpleRNN,
                    LSTM and GRU side by side)
- ``data``          ``tasks`` (synthetic tasks and the offline real data sets), ``corpus`` (the
                    offline text corpus, n-gram baseline, sampling)
- ``training``      ``models`` (Keras builders), ``loop`` (seeded, compiled training loops),
                    ``runs`` (one training run of each kind), ``probes`` (gradient flow, gate
                    traces), ``forecasting`` (sunspots, statsmodels baselines, MASE),
                    ``article_example`` (the article's program, run to where it fails)
- ``experiments``   one module per experiment (parameters, jobs, assembly, tolerances, findings);
                    ``spec`` says what a module declares and runs it, ``common`` holds shared
                    jobs, ``published`` the published numbers experiments are compared with,
                    ``seed_example_order`` (what an order of the article's columns gives the GRU)
- ``jobs``          a job is one training run: ``run`` (Dask fan-out and the job cache),
                    ``cluster`` (the local cluster), ``cache``, ``fingerprint`` (the code a job
                    reaches, docstrings and comments left out), ``environment`` (provenance),
                    ``perturb`` (initial weights moved by one ulp, for the drift run)
- ``results``       ``files`` (the sealed JSON format: atomic writes, verified reads), ``view``
                    (metrics by quantity and coordinates), ``compare`` (CI's comparison)
- ``verdicts``      ``stats`` (intervals over seeds, test items, origins), ``decide`` (the book's one rule: an interval against a
                    named threshold), ``claims`` (the article's claims and their rules),
                    ``drift`` (each compared quantity's re-run drift, from the perturbed rerun),
                    ``comparisons`` (every comparison the book decides, by quantity)
- ``execution``     ``notebooks`` (``reproduce``: papermill over experiments/, safely),
                    ``freshness`` (``status``), ``cli`` (``python -m grubook``), ``bench``
- ``presentation``  ``glue`` (what pages read and glue), ``plots`` and ``diagrams`` (every
                    figure, one style), ``tables`` (the claims tables), ``palette`` (verdict colours)
- ``sphinxext``     the book build's Sphinx extensions: ``offline_math``, ``page_inputs``,
                    ``notebook_downloads``, ``figure_alt_text``, ``accessibility``
"""

import os as _os

# Before TensorFlow is first imported anywhere: Keras on TensorFlow, C++ log noise off.
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
