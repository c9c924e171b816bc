"""What the original article's Keras example does, reproduced to the point where it fails.

The article builds its data with ``make_classification`` (a 2-D array: samples × 20 features)
and then sizes its recurrent layer with ``input_shape=(X_train.shape[1], X_train.shape[2])``.
A 2-D array has no ``shape[2]``, so the example stops with an ``IndexError`` before any layer
exists. Recurrent layers need 3-D input: (batch, time, features).
"""

from __future__ import annotations

__all__ = ["run_original_example"]


def run_original_example() -> str:
    """Run the article's data preparation and layer sizing; return the error it raises as
    ``"ExceptionType: message"``, or ``"no error"`` if it ever stops failing."""
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    X, y = make_classification(n_samples=1000, n_features=20, n_informative=2, n_redundant=10,
                               random_state=42)
    X_train, _, _, _ = train_test_split(X, y, test_size=0.2, random_state=42)
    try:
        input_shape = (X_train.shape[1], X_train.shape[2])        # the article's sizing of GRU(20)
    except Exception as err:                                        # noqa: BLE001 - we report whatever it is
        return f"{type(err).__name__}: {err}"
    return f"no error (input_shape={input_shape})"
