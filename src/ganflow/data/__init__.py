"""Datasets: synthesis of the 1-D data, the real image sources, deterministic npz files."""
