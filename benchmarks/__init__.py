"""Reproducible speed and memory measurements; each script prints JSON lines (`python -m benchmarks.run_all` runs
the whole performance table). TensorFlow's own log lines stay out of the output, through the programs' filter
(sfmlearner_tf/quiet.py), unless TF_CPP_MIN_LOG_LEVEL is set: then TensorFlow's level applies."""

import os

if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
    from sfmlearner_tf.quiet import quiet_tensorflow

    quiet_tensorflow()
