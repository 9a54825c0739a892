"""Thin entry points. `run_program` is the wrapper they share around absl's app.run.

Importing this package means a program is starting: unless the command line has `--verbosity=1` or more, it
keeps TensorFlow's own log lines and warnings out of the output (sfmlearner_tf/quiet.py), which has to happen
before anything imports TensorFlow; a program's module therefore imports `sfmlearner_tf.apps` first.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

from absl import app, flags

from sfmlearner_tf.errors import SfmLearnerError
from sfmlearner_tf.quiet import one_line_warnings, quiet_absl, quiet_tensorflow, requested_verbosity

if requested_verbosity(sys.argv[1:]) < 1:
    quiet_tensorflow()


class _Terminated(BaseException):
    """Raised in the main thread by SIGTERM while a program runs: it unwinds the program like Ctrl-C does, so
    `finally` blocks and context managers remove temporary files and release locks. A BaseException, so that no
    `except Exception` takes it for an error."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated(signum)


def run_program(name: str, define_flags: Callable[[flags.FlagValues], None],
                body: Callable[[flags.FlagValues], int | None]) -> None:
    """Defines the program's flags (`define_flags(FLAGS)`, absl's global FlagValues), parses them and runs
    `body(FLAGS)`: stray arguments are a usage error, library log lines stay out of the output unless `--verbosity` is 1
    or more, and the project's errors (a bad file, flag or checkpoint) end as one line
    `<name>: error: ...` on stderr with exit code 1 instead of a traceback. Signals end every program the same
    way: SIGTERM (unless the program was started with it ignored) unwinds it, cleaning up on the way, and ends as
    `<name>: terminated (SIGTERM)` with 143; a KeyboardInterrupt (Ctrl-C, or a second one where training turns
    the first into a clean stop) ends as `<name>: interrupted` with 130. Training handles both signals itself
    while it runs (training/guards.py: GracefulStop saves first) and hands them back here afterwards. A non-zero
    int returned by `body` becomes the exit code."""

    def _run(argv: list[str]) -> None:
        if len(argv) > 1:
            raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
        if flags.FLAGS.verbosity < 1:
            quiet_absl()
        one_line_warnings(name)
        try:
            code = body(flags.FLAGS)
        except SfmLearnerError as error:
            print(f"{name}: error: {error}", file=sys.stderr)
            sys.exit(1)
        if code:
            sys.exit(code)

    catch_sigterm = signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN
    if catch_sigterm:
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        define_flags(flags.FLAGS)
        app.run(_run)
    except _Terminated:
        print(f"{name}: terminated (SIGTERM)", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM)
    except KeyboardInterrupt:  # Ctrl-C, or a hard stop (a second one in training): one line, the shell's code
        print(f"{name}: interrupted", file=sys.stderr)
        sys.exit(128 + signal.SIGINT)
    finally:  # once the program is done, a SIGTERM during the interpreter's exit ends it silently, as before
        if catch_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
