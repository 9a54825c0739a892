"""Reproducible speed and memory measurements; each script prints JSON lines (`python -m benchmarks.run_all` runs
the whole performance table). TensorFlow's C++ log lines are silenced unless TF_CPP_MIN_LOG_LEVEL is set."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
