"""Presentation: figures and tables drawn from results, glue for the book's pages."""
