"""A progress line printed at a fixed interval: count, rate and ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressReporter:
    """Prints `label: done/total (rate/s, ETA ...)` at most every `every_s` seconds, and once at the end."""

    def __init__(
        self, total: int, label: str, every_s: float = 10.0, stream: TextIO | None = None, unit: str = "items"
    ) -> None:
        self.total = total
        self.label = label
        self.every_s = every_s
        self.unit = unit
        self.stream = stream or sys.stdout
        self.done = 0
        self._start = time.monotonic()
        self._last_print = -float("inf")

    def update(self, n: int = 1, extra: str = "") -> None:
        """Counts `n` more finished items and prints a line if the interval has passed."""
        self.done += n
        now = time.monotonic()
        if now - self._last_print >= self.every_s or self.done >= self.total:
            self._last_print = now
            self.stream.write(self.line(extra) + "\n")
            self.stream.flush()

    def line(self, extra: str = "") -> str:
        """The current progress line."""
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = self.done / elapsed
        remaining = (self.total - self.done) / rate if rate > 0 else float("inf")
        eta = format_duration(remaining) if remaining != float("inf") else "?"
        timing = f"{rate:.2f}/s, elapsed {format_duration(elapsed)}, ETA {eta}"
        text = f"{self.label}: {self.done}/{self.total} {self.unit} ({timing})"
        return f"{text} {extra}".rstrip()


def format_duration(seconds: float) -> str:
    """Formats seconds as H:MM:SS."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
