"""Benchmarks of the real-time promise (`python -m bench all`); see BENCHMARKS.md."""
