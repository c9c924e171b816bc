"""grubook: the tested code behind GRU Book.

Modules (each one room for one kind of change):

- ``reference``  the from-scratch NumPy GRU (forward, backward, weight conversion, parameter counts)
- ``tasks``      data: synthetic tasks and the offline real data sets
- ``models``     Keras model builders for SimpleRNN / LSTM / GRU
- ``training``   seeded, compiled training loops and metrics
- ``analysis``   gradient flow and gate traces of trained models
- ``params``     experiment parameter validation
- ``results``    the results JSON: writing (atomic), reading, provenance, comparison
- ``runner``     ``python -m grubook reproduce|status``: papermill over experiments/
- ``plots``      figures drawn from results files
- ``book``       helpers the book pages use to read results and glue numbers
"""

import os as _os

# Before TensorFlow is first imported anywhere: Keras on TensorFlow, C++ log noise off.
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
