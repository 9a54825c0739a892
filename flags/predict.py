"""Flags of sfm-predict (sfmlearner_tf.apps.predict): one per setting of PredictConfig and of its point-cloud and
metric-scale options (renamed where a bare name would be unclear: --point_cloud, --cloud_stride, ...), with their
defaults, help texts and rules; sizes, sequence length and precision default to each checkpoint's run record."""

from __future__ import annotations

import dataclasses

from absl import flags

from flags.config_flags import define_config_flags, register_config_validator, setting_names, values_with_record
from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.predict import PredictConfig
from sfmlearner_tf.predict.metric_scale import MetricOptions
from sfmlearner_tf.predict.point_cloud import CloudOptions

_OWN = tuple(name for name in setting_names(PredictConfig) if name not in ("pose_img_height", "pose_img_width"))
_CLOUD_FLAGS = {"per_frame": "point_cloud", "fused": "fused_cloud", "ply_format": "cloud_format",
                "max_depth": "max_cloud_depth", "stride": "cloud_stride", "voxel_size": "voxel_size"}
_METRIC_FLAGS = {"camera_height": "camera_height", "speed": "speed", "ground_rows": "ground_rows",
                 "max_tilt_deg": "road_tilt_deg"}
_FLAGS = (*_OWN, *_CLOUD_FLAGS.values(), *_METRIC_FLAGS.values())


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validator on `flag_values`."""
    flag_of_field = {
        **define_config_flags(PredictConfig, flag_values, fields=_OWN),
        **define_config_flags(CloudOptions, flag_values, fields=tuple(_CLOUD_FLAGS), flag_names=_CLOUD_FLAGS,
                              prefix="cloud."),
        **define_config_flags(MetricOptions, flag_values, fields=tuple(_METRIC_FLAGS), flag_names=_METRIC_FLAGS,
                              prefix="metric.")}
    register_config_validator(_FLAGS, _config, flag_of_field, flag_values)


def _config(values: dict[str, object]) -> PredictConfig:
    """The PredictConfig of flag values (the pose net's size: the depth net's)."""
    try:
        intrinsics = tuple(float(value) for value in values["intrinsics"]) if values["intrinsics"] else None
    except ValueError:
        raise ConfigError(f"--intrinsics takes four numbers fx,fy,cx,cy, got {','.join(values['intrinsics'])}",
                          fields=("intrinsics",)) from None
    options = {}
    for prefix, make, names in (("cloud", CloudOptions, _CLOUD_FLAGS), ("metric", MetricOptions, _METRIC_FLAGS)):
        try:
            options[prefix] = make(**{name: values[flag] for name, flag in names.items()})
        except ConfigError as error:
            raise ConfigError(str(error), fields=tuple(f"{prefix}.{name}" for name in error.fields)) from None
    own = {name: values[name] for name in _OWN} | {"intrinsics": intrinsics,
                                                   "pose_ckpt_file": values["pose_ckpt_file"] or None}
    return PredictConfig(**own, **options)


def config_and_notes_from_flags(flag_values: flags.FlagValues) -> tuple[PredictConfig, list[str]]:
    """The PredictConfig of the flags, sizes and precision from the checkpoints' run records unless given, and
    notes saying what came from a record."""
    f = flag_values
    values, note_depth = values_with_record(f, _FLAGS, f.ckpt_file, ("img_height", "img_width", "mixed_precision"),
                                            "depth model")
    pose, note_pose = values_with_record(f, ("img_height", "img_width", "seq_length"), f.pose_ckpt_file or None,
                                         ("img_height", "img_width", "seq_length"), "pose model")
    config = dataclasses.replace(_config({**values, "seq_length": pose["seq_length"]}),
                                 pose_img_height=pose["img_height"], pose_img_width=pose["img_width"])
    return config, [note_depth, note_pose]
