"""Sphinx extensions of the book build."""
