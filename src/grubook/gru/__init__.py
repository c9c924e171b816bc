"""The GRU itself: the from-scratch NumPy reference, its equivalence checks, the article's equations as a
Keras cell, and one step of each cell side by side."""
