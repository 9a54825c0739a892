"""Flags of the Mask R-CNN boundary program (sfm-mask-rcnn-prep / python -m sfmlearner_tf.apps.mask_rcnn_prep):
one per setting of BoundaryJobConfig, ShowConfig and MaskRcnnConfig (some renamed: --weights, --image,
--min_confidence, --max_instances), with their defaults, help texts and rules; `--mode` picks the config.

`define_flags(flag_values)` defines them (the entry point has run_program call it on absl's FLAGS; tests use
their own FlagValues). Importing this module defines nothing, as for every program's flags.
"""

from __future__ import annotations

from absl import flags

from flags.config_flags import define_config_flags, register_config_validator, setting_names
from mask_rcnn_prep.boundary_job import JOB_MODES, BoundaryJobConfig
from mask_rcnn_prep.config import MaskRcnnConfig
from mask_rcnn_prep.show_detections import ShowConfig
from sfmlearner_tf.errors import ConfigError

_JOB_FIELDS = tuple(name for name in setting_names(BoundaryJobConfig) if name != "mode")
_SHOW_FIELDS = ("image_path", "keep_only")
_MODEL_FIELDS = setting_names(MaskRcnnConfig)
_RENAMED = {"weights_path": "weights", "image_path": "image", "detection_min_confidence": "min_confidence",
            "detection_max_instances": "max_instances"}
_FLAGS = ("mode", *(_RENAMED.get(name, name) for name in (*_JOB_FIELDS, *_SHOW_FIELDS, *_MODEL_FIELDS)))


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validator on `flag_values`."""
    flags.DEFINE_enum("mode", "dataset", [*JOB_MODES, "show"], "dataset: boundary panels of a prepared data set; "
                      "drive: boundary PNGs of a KITTI drive; show: print the detections on one --image (checks that "
                      "the weights loaded)", flag_values=flag_values)
    flag_of_field = {**define_config_flags(BoundaryJobConfig, flag_values, fields=_JOB_FIELDS, flag_names=_RENAMED),
                     **define_config_flags(ShowConfig, flag_values, fields=_SHOW_FIELDS, flag_names=_RENAMED),
                     **define_config_flags(MaskRcnnConfig, flag_values, flag_names=_RENAMED, prefix="model.")}
    register_config_validator(_FLAGS, _config, {**flag_of_field, "mode": "mode"}, flag_values)


def _config(values: dict[str, object]) -> BoundaryJobConfig | ShowConfig:
    """The boundary job's config, or the show mode's, from flag values."""
    field_values = {name: values[_RENAMED.get(name, name)] for name in (*_JOB_FIELDS, *_SHOW_FIELDS, *_MODEL_FIELDS)}
    try:
        model = MaskRcnnConfig(**{name: field_values[name] for name in _MODEL_FIELDS}
                               | {"keep_classes": tuple(field_values["keep_classes"])})
    except ConfigError as error:
        raise ConfigError(str(error), fields=tuple(f"model.{name}" for name in error.fields)) from None
    if values["mode"] == "show":
        return ShowConfig(weights_path=field_values["weights_path"], inspect_dir=field_values["inspect_dir"],
                          model=model, **{name: field_values[name] for name in _SHOW_FIELDS})
    return BoundaryJobConfig(mode=values["mode"], model=model, **{name: field_values[name] for name in _JOB_FIELDS})


def config_from_flags(flag_values: flags.FlagValues) -> BoundaryJobConfig | ShowConfig:
    """The boundary job's config, or the show mode's."""
    return _config({name: flag_values[name].value for name in _FLAGS})
