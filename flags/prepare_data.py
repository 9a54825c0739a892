"""Flags of sfm-prepare-data (sfmlearner_tf.apps.prepare_data): one per setting of PrepareConfig, of its video and
Cityscapes options and of PrepareRequest (the TFDS folder, a video's --fx/--fy/--cx/--cy), with their defaults,
help texts and rules. Names follow the original's prepare_train_data.py where it had them."""

from __future__ import annotations

from absl import flags

from flags.config_flags import define_config_flags, register_config_validator, setting_names
from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.prep.config import PrepareConfig
from sfmlearner_tf.prep.source_options import CITYSCAPES_RESIZE_HEIGHT, CityscapesOptions, VideoOptions
from sfmlearner_tf.tasks.prepare import PrepareRequest

_CONFIG = setting_names(PrepareConfig)
_VIDEO = setting_names(VideoOptions)
_CITYSCAPES = setting_names(CityscapesOptions)
_CITYSCAPES_FLAGS = {"split": "cityscapes_split"}
_REQUEST = setting_names(PrepareRequest)
_FLAGS = (*_CONFIG, *_VIDEO, *(_CITYSCAPES_FLAGS.get(name, name) for name in _CITYSCAPES), *_REQUEST)


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validator on `flag_values`."""
    flag_of_field = {**define_config_flags(PrepareConfig, flag_values, prefix="config."),
                     **define_config_flags(VideoOptions, flag_values, prefix="config.video."),
                     **define_config_flags(CityscapesOptions, flag_values, prefix="config.cityscapes.",
                                           flag_names=_CITYSCAPES_FLAGS),
                     **define_config_flags(PrepareRequest, flag_values)}
    register_config_validator(_FLAGS, _request, flag_of_field, flag_values)


def _request(values: dict[str, object]) -> PrepareRequest:
    """The request of flag values; a ConfigError names its fields by their path from the request."""
    request = {name: values[name] for name in _REQUEST}
    intrinsics = None if None in (request["fx"], request["fy"], request["cx"], request["cy"]) else tuple(
        request[name] for name in ("fx", "fy", "cx", "cy"))
    video = _built("config.video.", VideoOptions, intrinsics=intrinsics, **{name: values[name] for name in _VIDEO})
    cityscapes = _built("config.cityscapes.", CityscapesOptions,
                        **{name: values[_CITYSCAPES_FLAGS.get(name, name)] for name in _CITYSCAPES})
    config = _built("config.", PrepareConfig, video=video, cityscapes=cityscapes,
                    **{name: tuple(value) if isinstance(value, list) else value
                       for name, value in ((name, values[name]) for name in _CONFIG)})
    return PrepareRequest(config=config, **request)


def _built(prefix: str, make: type, **fields: object) -> object:
    """make(**fields), its ConfigError's fields prefixed with their path from the request."""
    try:
        return make(**fields)
    except ConfigError as error:
        raise ConfigError(str(error), fields=tuple(f"{prefix}{name}" for name in error.fields)) from None


def config_from_flags(flag_values: flags.FlagValues) -> PrepareRequest:
    """The preparation described by the parsed flags (cityscapes without --img_height: the original's 171, 128
    rows after the bottom crop)."""
    values = {name: flag_values[name].value for name in _FLAGS}
    if values["dataset_name"] == "cityscapes" and not flag_values["img_height"].present:
        values["img_height"] = CITYSCAPES_RESIZE_HEIGHT
    return _request(values)
