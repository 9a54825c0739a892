"""Keeps TensorFlow's own log lines out of a program's output unless `--verbosity=1` (or more) asks for them.

TensorFlow's C++ side writes lines such as `I0000 00:00:1796249544.318529  7371 port.cc:153] oneDNN custom
operations are on ...` straight to file descriptor 2, many of them before its logging is initialised, so
TF_CPP_MIN_LOG_LEVEL does not stop them. The only dependable filter sits on the descriptor itself: before
TensorFlow is imported, a forked child process takes over the real stderr and the program's fd 2 becomes a pipe
to it; the child forwards every line except TensorFlow's C++ log records. Being a separate process, it still
forwards everything written before a crash. Fatal (`F...`) records always pass. On the Python side the
`tensorflow` logger shows errors only and Keras' and TensorFlow's warnings are ignored (`quiet_tensorflow`);
absl's INFO lines go once the flags are parsed (`quiet_absl`), since parsing sets absl's level.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import signal
import sys
import time
import warnings

from absl import logging as absl_logging

# `<I|W|E><MMDD> <hh:mm:ss.micro> <thread> <file>.cc:<line>] `: the C++ record prefix (absl/glog style).
# Python's absl lines name a `.py` file and pass, so the project's own warnings stay visible.
NATIVE_RECORD = re.compile(rb"^[IWE]\d{4} \d\d:\d\d:\d+(\.\d+)?\s+\d+ \S+\.(cc|cpp|h):\d+\] ")
# Lines TensorFlow's C++ side writes without that prefix.
NATIVE_EXTRA = re.compile(rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
                          rb"|To enable the following instructions: .*rebuild TensorFlow)")
# Set in the environment once the filter runs, so that worker processes (which inherit fd 2) do not add another.
FILTER_ENV = "SFMLEARNER_TF_LOG_FILTER"
# At exit, how long the program waits for the filter to forward the last lines (a process that outlives the
# program and still holds fd 2 would otherwise keep it waiting).
DRAIN_TIMEOUT_S = 5.0
# Python warnings from these packages are TensorFlow's and Keras' own chatter, not the program's.
LIBRARY_WARNINGS = r"(keras|tensorflow|tf_keras|tensorflow_datasets)(\.|$)"


def requested_verbosity(argv: list[str]) -> int:
    """The value of absl's `--verbosity`/`-v` on the command line (0 if absent or unreadable; a flagfile is not
    read, since this runs before the flags are parsed)."""
    value = None
    for index, arg in enumerate(argv):
        name, equals, text = arg.partition("=")
        if name in ("--verbosity", "-verbosity", "--v", "-v"):
            value = text if equals else (argv[index + 1] if index + 1 < len(argv) else None)
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def is_native_log_line(line: bytes) -> bool:
    """True for one of TensorFlow's C++ log lines (INFO, WARNING or ERROR), which the filter drops."""
    return bool(NATIVE_RECORD.match(line) or NATIVE_EXTRA.match(line))


def _dropped(line: bytes, after_record: bool) -> bool:
    """A TensorFlow C++ log line, or a tab-indented continuation of one (a failed op's `[[{{node ...}}]]` line)."""
    return is_native_log_line(line) or (after_record and line.startswith(b"\t"))


def _forward(source: int, target: int) -> None:
    """The child's loop: copies `source` to `target` line by line, without TensorFlow's C++ lines, until EOF."""
    pending, dropping = b"", False
    while True:
        chunk = os.read(source, 65536)
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        kept = bytearray()
        for line in lines:
            dropping = _dropped(line, dropping)
            if not dropping:
                kept += line + b"\n"
        if kept:
            _write_all(target, bytes(kept))
    if pending and not _dropped(pending, dropping):
        _write_all(target, pending)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def install_native_log_filter() -> None:
    """Routes fd 2 through a forked filter process (see the module docstring). Call before TensorFlow is
    imported; does nothing if a filter already runs (in this process or a parent) or fd 2 is not open."""
    if os.environ.get(FILTER_ENV):
        return
    try:
        real_stderr = os.dup(2)
    except OSError:
        return
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the filter: it outlives nothing but the pipe, and a Ctrl-C or SIGTERM is for the program
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.close(write_end)
        try:
            _forward(read_end, real_stderr)
        finally:
            os._exit(0)
    os.close(read_end)
    os.dup2(write_end, 2)
    os.close(write_end)
    os.environ[FILTER_ENV] = "1"

    def drain() -> None:
        """At exit: hand fd 2 back and let the filter forward what is left before the program returns."""
        sys.stderr.flush()
        os.dup2(real_stderr, 2)
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while os.waitpid(pid, os.WNOHANG) == (0, 0) and time.monotonic() < deadline:
            time.sleep(0.01)

    atexit.register(drain)


def quiet_tensorflow() -> None:
    """Before TensorFlow is imported: the C++ log filter, TensorFlow's Python logger to errors only, and no
    Python warnings attributed to Keras or TensorFlow modules (the project's own warnings still show)."""
    install_native_log_filter()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=LIBRARY_WARNINGS)


def one_line_warnings(program: str) -> None:
    """The project's warnings as `<program>: warning: <message>` lines, without Python's file, line number and
    source line (which read like a crash)."""
    warnings.formatwarning = lambda message, *args, **kwargs: f"{program}: warning: {message}\n"


def quiet_absl() -> None:
    """After the flags are parsed: absl's Python logging to warnings, so the project's warnings show and
    library INFO lines (e.g. the SavedModel writer's) do not."""
    absl_logging.set_verbosity(absl_logging.WARNING)
