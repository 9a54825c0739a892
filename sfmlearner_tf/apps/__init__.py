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


def run_program(name: str, define_flags: Callable[[flags.FlagValues], None],
                body: Callable[[flags.FlagValues], int | None]) -> None:
    """Defines the program's flags (`define_flags(FLAGS)`, absl's global FlagValues), parses them and runs
    `body(FLAGS)`: stray arguments are a usage error, library log lines stay out of the output unless `--verbosity` is 1
    or more, and the project's errors (a bad file, flag or checkpoint) end as one line
    `<name>: error: ...` on stderr with exit code 1 instead of a traceback; a KeyboardInterrupt (a hard stop) ends
    as `<name>: interrupted` with 130. A non-zero int returned by `body` becomes the exit code."""

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
        except KeyboardInterrupt:  # a hard stop (a second Ctrl-C): one line, the shell's code for SIGINT
            print(f"{name}: interrupted", file=sys.stderr)
            sys.exit(128 + signal.SIGINT)
        if code:
            sys.exit(code)

    define_flags(flags.FLAGS)
    app.run(_run)
