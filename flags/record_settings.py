"""Settings from a checkpoint's run record, for the programs that load a model (sfm-eval, sfm-predict,
sfm-export): a flag the user gives wins; a flag left at its default takes the record's value."""

from __future__ import annotations

from absl import flags

from sfmlearner_tf.run_record import load_run_record, tf1_pose_frames

# flag name -> RunRecord attribute
RECORD_FLAGS = {"img_height": "img_height", "img_width": "img_width", "seq_length": "seq_length",
                "mixed_precision": "mixed_precision", "do_exp": "do_exp"}


def settings_from_record(flag_values: flags.FlagValues, checkpoint: str | None, names: tuple[str, ...],
                         label: str = "model") -> tuple[dict[str, object], str]:
    """Values of the flags `names` (keys of RECORD_FLAGS): the flag's where given on the command line, else the
    checkpoint's run record's, else the flag's default. A TF1 checkpoint without a record gives its pose net's
    frame count as seq_length. Returns the values and a one-line note saying what was taken from where
    ("" when nothing came from a record)."""
    values = {name: flag_values[name].value for name in names}
    record, path = load_run_record(checkpoint)
    given = [name for name in names if flag_values[name].present]
    if record is None:
        frames = tf1_pose_frames(checkpoint) if checkpoint and "seq_length" in names else None
        if frames is None or "seq_length" in given:
            return values, ""
        values["seq_length"] = frames
        return values, f"{label}: seq_length={frames} from the TF1 checkpoint's pose net ({checkpoint})"
    taken = [name for name in names if name not in given]
    for name in taken:
        values[name] = getattr(record, RECORD_FLAGS[name])
    parts = [f"{label}: run record {path} ({record.describe()})"]
    if taken:
        parts.append("using " + ", ".join(f"{name}={values[name]}" for name in taken))
    if given:
        parts.append("flags given win: " + ", ".join(f"--{name}={values[name]}" for name in given))
    return values, "; ".join(parts)
