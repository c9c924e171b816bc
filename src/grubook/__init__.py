"""grubook: the tested code behind GRU Book.

Modules (each one room for one kind of change):

- ``reference``  the from-scratch NumPy GRU (forward, backward, weight conversion, parameter counts)
- ``checks``     the equivalence and gradient checks the tests and the math chapter run
- ``layers``     the article's equations as a Keras cell (``ArticleGRUCell``), chrono initialisation
- ``cells``      one step of SimpleRNN, LSTM and GRU side by side, for the concepts chapter
- ``tasks``      data: synthetic tasks and the offline real data sets
- ``text``       the offline text corpus (Python's own standard library), n-gram baseline, sampling
- ``forecasting`` the sunspot series, statsmodels baselines, the GRU forecaster, MASE
- ``models``     Keras model builders for SimpleRNN / LSTM / GRU
- ``training``   seeded, compiled training loops and metrics
- ``runs``       one training run of each kind the experiments repeat
- ``analysis``   gradient flow and gate traces of trained models
- ``units``      each experiment's units of work (one run each) and the functions workers execute
- ``parallel``   fan units out to a Dask cluster (local or remote) and collect their outputs
- ``params``     experiment parameter validation
- ``results``    the results JSON: writing (atomic), sealing, verified reading, provenance, comparison
- ``runner``     ``python -m grubook reproduce|status|check``: papermill over experiments/, safely
- ``bench``      ``python -m grubook bench``: serial against parallel execution
- ``article``    the original article's example, run to the point where it fails
- ``published``  published accuracies the experiments are compared with
- ``stats``      intervals: Student-t, paired differences, ratios of timings, Wilson and Newcombe
- ``claims``     the article's claims and the rules that judge them
- ``plots``, ``diagrams``  figures drawn from results files, cell diagrams
- ``book``       helpers the book pages use to read results and glue numbers
- ``sphinx_offline_math``, ``sphinx_dependencies``  Sphinx extensions of the book build
"""

import os as _os

# Before TensorFlow is first imported anywhere: Keras on TensorFlow, C++ log noise off.
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
