"""Benchmarks of the ganflow pipeline (run from the repository root; see benchmarks/README.md)."""
