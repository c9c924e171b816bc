"""Statistics and verdicts: intervals, the one decision rule, the claims audit."""
