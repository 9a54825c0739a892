"""The run's full configuration beside its checkpoints (`<checkpoint_dir>/run_config.json`), and the rule a
resume follows: settings that change what is trained (RESUMABLE_CHANGES lists the others) must be those of the
saved run, unless --allow_config_change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.io_utils import atomic_write_text
from sfmlearner_tf.training.config import RESUMABLE_CHANGES, SETTING_PATHS, TrainConfig

RUN_CONFIG_NAME = "run_config.json"
CONFIG_FORMAT = 1
_MISSING = object()


def write_run_config(checkpoint_dir: str | os.PathLike, config: TrainConfig) -> Path:
    """Writes <checkpoint_dir>/run_config.json atomically (replacing an earlier one) and returns its path."""
    path = Path(checkpoint_dir) / RUN_CONFIG_NAME
    atomic_write_text(path, json.dumps({"format": CONFIG_FORMAT, **config.to_dict()}, indent=1, sort_keys=True) + "\n")
    return path


def read_run_config(checkpoint_dir: str | os.PathLike) -> dict | None:
    """The saved configuration of the run in `checkpoint_dir` as a dict, or None when it has none (a run of an
    older version); a malformed file is a DataError naming it."""
    path = Path(checkpoint_dir) / RUN_CONFIG_NAME
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable run configuration ({exc})") from exc
    if not isinstance(saved, dict):
        raise DataError(f"{path}: run configuration is not a JSON object")
    return saved


def changed_settings(saved: dict, config: TrainConfig) -> list[tuple[str, object, object]]:
    """(setting, saved value, new value) for each setting that differs. A setting the saved file lacks was added
    after the file was written, so that run had the setting's default (every new setting defaults to the old
    behaviour): it is compared as that default, so that e.g. a recipe switch turned on for an old run is caught."""
    changes = []
    defaults = TrainConfig()
    for name, path in SETTING_PATHS.items():
        old: object = saved
        for part in path.split("."):
            old = old.get(part, _MISSING) if isinstance(old, dict) else _MISSING
        if old is _MISSING:
            old = json.loads(json.dumps(defaults.setting(name)))
        new = json.loads(json.dumps(config.setting(name)))  # compare as saved (tuples as lists)
        if old != new:
            changes.append((name, old, new))
    return changes


def check_resume(config: TrainConfig, way_on: str = "pass --allow_config_change to go on with them") -> str:
    """Compares the run with the saved one in its checkpoint_dir. Raises ConfigError listing the changed settings
    that matter (old -> new) unless config.allow_config_change, saying `way_on` (the calling program's way past
    it); then returns a note listing them ("" if none). Changes of RESUMABLE_CHANGES pass silently (the start
    line shows the steps and any learning rate override)."""
    saved = read_run_config(config.checkpoint_dir)
    if saved is None:
        return ""
    changes = changed_settings(saved, config)
    matter = [change for change in changes if change[0] not in RESUMABLE_CHANGES]
    if matter and not config.allow_config_change:
        raise ConfigError(f"{Path(config.checkpoint_dir) / RUN_CONFIG_NAME}: resuming with changed settings "
                          f"{_describe(matter)}; {way_on}, or resume with the saved ones")
    return f"going on with changed settings {_describe(matter)} (--allow_config_change)" if matter else ""


def _describe(changes: list[tuple[str, object, object]]) -> str:
    return ", ".join(f"--{name} {old!r} -> {new!r}" for name, old, new in changes)

