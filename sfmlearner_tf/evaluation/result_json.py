"""Evaluation results as JSON that every parser reads: a non-finite number (e.g. a metric over no pixels) is
written as null, since NaN and Infinity are not JSON, though Python's json writes them unless told not to."""

from __future__ import annotations

import json
import math

import numpy as np


def finite_or_null(value: object) -> object:
    """`value` with every non-finite float (NumPy's too) inside dicts, lists and tuples replaced by None."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_null(item) for item in value]
    return value


def result_json(result: dict) -> str:
    """The JSON text of an evaluation result (indented; strict: it cannot hold NaN or Infinity)."""
    return json.dumps(finite_or_null(result), indent=1, allow_nan=False)
