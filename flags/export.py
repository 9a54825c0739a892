"""Flags of sfm-export (sfmlearner_tf.apps.export): one per setting of ExportRequest; the sizes and the pose
net's shape default to the checkpoint's run record unless given."""

from __future__ import annotations

from absl import flags

from flags.config_flags import define_config_flags, register_config_validator, setting_names, values_with_record
from sfmlearner_tf.tasks.export import ExportRequest

_NAMES = setting_names(ExportRequest)


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validator on `flag_values`."""
    flag_of_field = define_config_flags(ExportRequest, flag_values)
    register_config_validator(_NAMES, lambda values: ExportRequest(**values), flag_of_field, flag_values)


def request_and_notes_from_flags(flag_values: flags.FlagValues) -> tuple[ExportRequest, list[str]]:
    """The export request, sizes and nets' shapes from the checkpoint's run record unless given."""
    values, note = values_with_record(flag_values, _NAMES, flag_values.ckpt_file,
                                      ("img_height", "img_width", "seq_length", "do_exp"))
    return ExportRequest(**values), [note]
