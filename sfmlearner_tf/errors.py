"""Error types with messages that name the offending file, variable or flag, and the summary of a TensorFlow error
that such a message quotes."""

import re


class SfmLearnerError(Exception):
    """Base class of the project's errors."""


class DataError(SfmLearnerError):
    """A data file is missing, corrupt or malformed (the message names the file and the problem)."""


class CheckpointError(SfmLearnerError):
    """A checkpoint is missing or does not match the model (the message lists every offending variable)."""


class UnreadableCheckpointError(CheckpointError):
    """A checkpoint's files do not read back (truncated, damaged): an older checkpoint may be used instead."""


class ConfigError(SfmLearnerError):
    """A configuration value is out of range or inconsistent with another one. `fields` names the offending
    fields as dotted paths from the config that raised it (e.g. "loss.smooth_weight"), so that a program can
    name the flag that set them."""

    def __init__(self, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields


# TensorFlow's additions to an error message that locate it (graph nodes, the Python lines that built them, the
# iterator's stages, the op) rather than say what went wrong.
_TF_NOISE = re.compile(
    r"\[\[(?:\{\{[^}]*\}\})+\]\]|\{\{[^}]*\}\}|\[Op:[^\]]*\].*$|Graph execution error: "
    r"|Detected at node \S+ defined at \(most recent call last\): (?:File \"[^\"]*\", line \d+, in \S+ )*"
    r"|Error in user-defined function passed to \S+ transformation with iterator: \S+?: ")
_ASSERTION = "assertion failed: "


def error_summary(error: BaseException, limit: int = 200) -> str:
    """A TensorFlow (or OS) error as one line of at most `limit` characters, for the messages of our own errors.

    TF's tags and locations are dropped (node names, the traceback of where a graph node was built, the iterator's
    stages, the `[Op:...]` suffix); a failed tf.debugging.Assert is reduced to its items without their brackets
    (our assertions give the message and the file name first, values last), and what is left is cut at `limit`:
    tensor values can run to tens of thousands of characters."""
    text = getattr(error, "message", None)
    if not isinstance(text, str):  # tf.errors.OpError has .message; an OSError its strerror
        text = getattr(error, "strerror", None) or str(error)
    text = " ".join(_TF_NOISE.sub(" ", " ".join(text.split())).split())
    if _ASSERTION in text:
        text, count = text.split(_ASSERTION, 1)[1].replace("][", "] ["), 1
        while count:  # innermost brackets first: a matrix prints as [[a b] [c d]]
            text, count = re.subn(r"\[([^\[\]]*)\]", r"\1", text)
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
