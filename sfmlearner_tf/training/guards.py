"""Run guards: stop on a non-finite loss (naming the step), and turn Ctrl-C / SIGTERM into a clean stop."""

from __future__ import annotations

import contextlib
import math
import signal
import threading
from collections.abc import Iterator, Mapping
from types import FrameType, TracebackType

from sfmlearner_tf.errors import SfmLearnerError


class NonFiniteLossError(SfmLearnerError):
    """The loss (or the gradient norm) became NaN or Inf; nothing is saved after it."""


def check_finite(step: int, values: Mapping[str, float], keys: tuple[str, ...], newest_checkpoint: str | None) -> None:
    """Raises NonFiniteLossError naming `step` and every non-finite value among `keys` (the original's
    check_numerics on the loss, extended to the gradient norm so that no NaN update is ever saved). The message
    says what is on disk: `newest_checkpoint` (from before the failure), or that no checkpoint exists yet."""
    bad = {key: values[key] for key in keys if not math.isfinite(values[key])}
    if bad:
        listed = ", ".join(f"{key}={value}" for key, value in bad.items())
        if newest_checkpoint is None:
            kept = "no checkpoint exists yet (the run failed before its first save)"
        else:
            kept = f"the newest checkpoint, {newest_checkpoint}, is from before the failure"
        raise NonFiniteLossError(f"non-finite training values at step {step}: {listed}; stopped without saving, "
                                 f"{kept}")


class GracefulStop:
    """Context manager: SIGINT and SIGTERM set `signum` instead of killing the process, so the loop can finish
    its step, save a checkpoint and return. A second signal is a hard stop (the previous handler's action, e.g.
    KeyboardInterrupt), except while `saving()`: then it is only recorded, so that the save completes and the
    previous checkpoint is never left half-replaced. Outside the main thread signals cannot be caught; then it
    is inert."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}
        self._saving = False

    @property
    def requested(self) -> bool:
        """True once a stop signal arrived."""
        return self.signum is not None

    @contextlib.contextmanager
    def saving(self) -> Iterator[None]:
        """Within this block every signal is only recorded (the loop stops once the block is done)."""
        self._saving = True
        try:
            yield
        finally:
            self._saving = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        if first or self._saving:
            return
        self._restore_handlers()  # a second signal outside a save: let the previous handler act on it
        signal.raise_signal(signum)

    def _restore_handlers(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._restore_handlers()
