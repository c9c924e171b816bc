"""Results files: their layout and sealing (``files``), a typed view by quantity (``view``), and CI's
comparison of a re-run with them (``compare``)."""
