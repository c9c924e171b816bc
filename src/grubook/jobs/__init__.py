"""Jobs: every training run is one job. Where jobs run (a local or remote Dask cluster), the cache of
their outputs, and the fingerprints of code and environment that key it."""
