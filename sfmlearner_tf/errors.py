"""Error types with messages that name the offending file, variable or flag."""


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
