"""Run guards: stop on a non-finite loss (naming the step), and turn Ctrl-C / SIGTERM into a clean stop."""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Mapping
from types import FrameType, TracebackType

from sfmlearner_tf.errors import SfmLearnerError


class NonFiniteLossError(SfmLearnerError):
    """The loss (or the gradient norm) became NaN or Inf; nothing is saved after it."""


def check_finite(step: int, values: Mapping[str, float], keys: tuple[str, ...]) -> None:
    """Raises NonFiniteLossError naming `step` and every non-finite value among `keys` (the original's
    check_numerics on the loss, extended to the gradient norm so that no NaN update is ever saved)."""
    bad = {key: values[key] for key in keys if not math.isfinite(values[key])}
    if bad:
        listed = ", ".join(f"{key}={value}" for key, value in bad.items())
        raise NonFiniteLossError(f"non-finite training values at step {step}: {listed}; stopped without saving "
                                 "this step (the last good checkpoint is kept)")


class GracefulStop:
    """Context manager: SIGINT and SIGTERM set `signum` instead of killing the process, so the loop can finish
    its step, save a checkpoint and return. A second signal falls back to the previous handler (a hard stop).
    Outside the main thread signals cannot be caught; then it is inert."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        """True once a stop signal arrived."""
        return self.signum is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum
        signal.signal(signum, self._previous.get(signum, signal.SIG_DFL))

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
