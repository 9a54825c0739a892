"""Flags of sfm-render-synthetic (python -m sfmlearner_tf.apps.render_synthetic): one per setting of RenderRequest
and of its SyntheticConfig, with their defaults, help texts and rules."""

from __future__ import annotations

from absl import flags

from flags.config_flags import define_config_flags, register_config_validator, setting_names
from sfmlearner_tf.synthetic import RenderRequest, SyntheticConfig

_REQUEST_FIELDS = ("output_dir", "num_workers")
_CONFIG_FIELDS = setting_names(SyntheticConfig)


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validator on `flag_values`."""
    flag_of_field = {**define_config_flags(RenderRequest, flag_values, fields=_REQUEST_FIELDS),
                     **define_config_flags(SyntheticConfig, flag_values)}
    register_config_validator(tuple(flag_of_field.values()), _request, flag_of_field, flag_values)


def _request(values: dict[str, object]) -> RenderRequest:
    config = SyntheticConfig(**{name: values[name] for name in _CONFIG_FIELDS})
    return RenderRequest(config=config, **{name: values[name] for name in _REQUEST_FIELDS})


def config_from_flags(flag_values: flags.FlagValues) -> RenderRequest:
    """The render the flags describe."""
    return _request({name: flag_values[name].value for name in (*_REQUEST_FIELDS, *_CONFIG_FIELDS)})
