"""Reproducible speed and memory measurements; each script prints one JSON line."""
