"""Execution: the experiment notebooks through papermill, the freshness of results, the command line
and the benchmark."""
