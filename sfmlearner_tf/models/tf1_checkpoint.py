"""Import of Zhou et al.'s TF1 checkpoints (model-190532, model-100280, ...) and restore of either kind.

TF1 names are `<scope>/<layer path>/weights|biases`; kernels have the same layout in TF1
(conv HWIO, transposed conv [kh, kw, out, in]) and Keras, so they are copied without transposing.
The released checkpoints hold no optimizer slots, only model variables and the `train_op/global_step` counter.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import trackable_object_graph_pb2

from sfmlearner_tf.errors import CheckpointError, UnreadableCheckpointError, error_summary
from sfmlearner_tf.models.disp_net import DispNet
from sfmlearner_tf.models.pose_exp_net import PoseExpNet

logger = logging.getLogger(__name__)

GLOBAL_STEP_NAMES = ("train_op/global_step", "global_step", "step/.ATTRIBUTES/VARIABLE_VALUE")
EXP_PREFIX = f"{PoseExpNet.SCOPE}/exp/"
_TF2_OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


def tf1_variable_map(model: DispNet | PoseExpNet) -> dict[str, keras.Variable]:
    """TF1 checkpoint name -> the model's variable, e.g. `depth_net/cnv1/weights` -> cnv1's kernel.

    Built from the layer structure (not from `variable.path`, which changes when the model is called inside
    another layer). Builds the model on a tiny input first if it has no variables yet.
    """
    model.ensure_built()
    mapping = {}
    for path, layer in model.named_conv_layers().items():
        mapping[f"{model.SCOPE}/{path}/weights"] = layer.kernel
        mapping[f"{model.SCOPE}/{path}/biases"] = layer.bias
    return mapping


def _open_reader(prefix: str) -> tf.train.CheckpointReader:
    try:
        return tf.train.load_checkpoint(str(prefix))
    except (tf.errors.OpError, ValueError) as error:
        raise UnreadableCheckpointError(f"{prefix}: cannot read a checkpoint there ({error_summary(error)})") from error


def check_readable(prefix: str) -> None:
    """Reads every tensor of the checkpoint at `prefix` back (TF checks each one's size and checksum), before
    anything is restored from it; UnreadableCheckpointError naming it if the index or any tensor does not read
    back (a truncated or damaged file: "Read less bytes than requested", "Checksum does not match")."""
    reader = _open_reader(prefix)
    for key in reader.get_variable_to_shape_map():
        try:
            reader.get_tensor(key)
        except (IndexError, ValueError, tf.errors.OpError) as error:
            raise UnreadableCheckpointError(f"{prefix}: the checkpoint is truncated or damaged "
                                            f"({error_summary(error)})") from error


def holds_optimizer(prefix: str) -> bool:
    """True for one of our checkpoints with the optimizer's state (a full one, not models-only)."""
    return any(key.startswith("optimizer/") for key in _open_reader(prefix).get_variable_to_shape_map())


def is_tf1_checkpoint(prefix: str) -> bool:
    """True if `prefix` is a readable checkpoint written by a TF1 Saver (name-based, no TF2 object graph)."""
    try:
        reader = _open_reader(prefix)
    except CheckpointError:
        return False
    return not reader.has_tensor(_TF2_OBJECT_GRAPH_KEY)


def _global_step(reader: tf.train.CheckpointReader) -> int | None:
    for name in GLOBAL_STEP_NAMES:
        if reader.has_tensor(name):
            return int(reader.get_tensor(name))
    return None


def _shape_text(shape) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def _hints(found: dict[str, list[int]], problems: list[str]) -> list[str]:
    """Likely causes of a mismatch that users of the original hit: a batch-norm era model, another seq_length."""
    hints = []
    if any("BatchNorm" in name for name in found):
        hints.append("it has BatchNorm variables: a pre-Aug-2017 model (e.g. model-145248, model-100892), "
                     "whose nets had batch norm and no biases; it cannot be loaded into these nets")
    pose_input = found.get(f"{PoseExpNet.SCOPE}/cnv1/weights")
    if pose_input is not None and any(p.startswith(f"{PoseExpNet.SCOPE}/cnv1/weights") for p in problems):
        frames = pose_input[2] // 3
        hints.append(f"its pose net takes {frames} frames: pass --seq_length={frames} "
                     f"(in Python: PoseExpNet(num_source={frames - 1}))")
    return hints


def _load(prefix: str, reader: tf.train.CheckpointReader, keys: dict[str, str],
          models: list[DispNet | PoseExpNet]) -> dict[str, int]:
    """Checks then assigns the models' variables; `keys` maps TF1-style names to the checkpoint's own keys."""
    if not models:
        raise ValueError("pass depth_net and/or pose_exp_net")
    shapes = reader.get_variable_to_shape_map()
    found = {name: shapes[key] for name, key in keys.items()}
    expected: dict[str, keras.Variable] = {}
    for model in models:
        expected.update(tf1_variable_map(model))
    kept_initial = [name for name in expected if name.startswith(EXP_PREFIX)]
    if kept_initial and not any(name.startswith(EXP_PREFIX) for name in found):
        logger.warning("%s has no explainability (exp) variables: the exp branch keeps its initial values", prefix)
        expected = {name: var for name, var in expected.items() if name not in kept_initial}
    else:
        kept_initial = []

    problems = []
    for name, variable in expected.items():
        want = _shape_text(variable.shape)
        if name not in found:
            problems.append(f"{name}: missing (expected shape {want})")
        elif _shape_text(found[name]) != want:
            problems.append(f"{name}: expected shape {want}, found {_shape_text(found[name])}")
    if problems:
        lines = problems + [f"hint: {hint}" for hint in _hints(found, problems)]
        raise CheckpointError(f"{prefix}: {len(problems)} variable(s) do not match the model:\n  " + "\n  ".join(lines))

    try:  # every value is read before any is assigned
        values = {name: reader.get_tensor(keys[name]) for name in expected}
    except (IndexError, ValueError, tf.errors.OpError) as error:
        raise UnreadableCheckpointError(f"{prefix}: the checkpoint is truncated or damaged "
                                        f"({error_summary(error)})") from error
    for name, variable in expected.items():
        variable.assign(values[name].astype(variable.dtype))
    info = {"loaded": len(expected), "kept_initial": len(kept_initial), "unused": len(shapes) - len(expected)}
    step = _global_step(reader)
    if step is not None:
        info["global_step"] = step
    return info


def load_tf1_checkpoint(prefix: str, depth_net: DispNet | None = None,
                        pose_exp_net: PoseExpNet | None = None) -> dict[str, int]:
    """Fills the given models from a TF1 checkpoint (prefix such as `models/model-190532`).

    Extra checkpoint variables (step counters, an exp branch the model lacks, the other net) are ignored.
    An exp branch the model has but the checkpoint lacks keeps its initial values (logged warning): fine-tuning
    a model trained without explainability with it on is legitimate. Any other missing variable or shape
    mismatch raises CheckpointError listing every offender; nothing is assigned in that case.
    Returns {"loaded": n, "kept_initial": n, "unused": n} plus "global_step" if the checkpoint has one.
    """
    reader = _open_reader(prefix)
    keys = {name: name for name in reader.get_variable_to_shape_map()}
    return _load(prefix, reader, keys, [m for m in (depth_net, pose_exp_net) if m is not None])


def _tf2_keys(reader: tf.train.CheckpointReader, models: list[DispNet | PoseExpNet]) -> dict[str, str]:
    """TF1-style name -> tensor key in one of our TF2 checkpoints, for the variables of `models` it holds.

    A TF2 key is the first path the saver met (often through the optimizer's variable list), so the
    variables are found by walking the checkpoint's object graph from the root along the models' own
    attributes (`pose_exp_net` -> `pose` -> `pred` -> `kernel`), as tf.train.Checkpoint does when restoring.
    """
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor(_TF2_OBJECT_GRAPH_KEY))

    def child(node_id: int | None, name: str) -> int | None:
        if node_id is None:
            return None
        return next((ref.node_id for ref in graph.nodes[node_id].children if ref.local_name == name), None)

    def variable_key(node_id: int | None, names: tuple[str, ...]) -> str | None:
        for name in names:
            found = child(node_id, name)
            for attribute in graph.nodes[found].attributes if found is not None else ():
                if attribute.name == "VARIABLE_VALUE":
                    return attribute.checkpoint_key
        return None

    keys = {}
    for model in models:
        for path in model.named_conv_layers():
            node: int | None = child(0, model.SCOPE)
            for part in path.split("/"):
                node = child(node, part)
            # Keras 3 keeps a Conv2D kernel in `_kernel` and a Conv2DTranspose kernel in `kernel`.
            for suffix, names in (("weights", ("kernel", "_kernel")), ("biases", ("bias",))):
                key = variable_key(node, names)
                if key is not None:
                    keys[f"{model.SCOPE}/{path}/{suffix}"] = key
    return keys


def mismatched_variables(prefix: str, models: list[DispNet | PoseExpNet]) -> list[str]:
    """TF1-style names of the models' variables that one of our TF2 checkpoints lacks or holds with another
    shape (e.g. after a changed --seq_length): checked before a full restore, which would fail half-way."""
    reader = _open_reader(prefix)
    keys, shapes = _tf2_keys(reader, models), reader.get_variable_to_shape_map()
    expected = {name: variable for model in models for name, variable in tf1_variable_map(model).items()}
    return [name for name, variable in expected.items()
            if name not in keys or _shape_text(shapes[keys[name]]) != _shape_text(variable.shape)]


def write_tf1_checkpoint(prefix: str, arrays: dict[str, np.ndarray], global_step: int | None = None) -> str:
    """Writes `arrays` (TF1 name -> value) as a TF1 checkpoint with a tf.compat.v1 graph and Saver.

    The result has the same format as the original's files (`.index`, `.data-*`, `.meta`, plus the folder's
    `checkpoint` state file); `global_step` is stored as the original's int32 `train_op/global_step`.
    Values are fed through placeholders so the graph (and the .meta file) stays small. Returns the prefix.
    """
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    values = dict(arrays)
    if global_step is not None:
        values[GLOBAL_STEP_NAMES[0]] = np.asarray(global_step, dtype=np.int32)
    graph = tf.Graph()
    with graph.as_default():
        variables, feeds, assigns = {}, {}, []
        for name, value in values.items():
            value = np.asarray(value)
            variable = tf.compat.v1.get_variable(name, shape=value.shape, dtype=tf.as_dtype(value.dtype),
                                                 initializer=tf.compat.v1.zeros_initializer())
            placeholder = tf.compat.v1.placeholder(variable.dtype.base_dtype, value.shape)
            variables[name] = variable
            feeds[placeholder] = value
            assigns.append(variable.assign(placeholder))
        saver = tf.compat.v1.train.Saver(var_list=variables)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(assigns, feed_dict=feeds)
            return saver.save(session, str(prefix))


def _checkpoints_in_directory(directory: Path) -> list[str]:
    """The checkpoints in a folder, newest first: by the trailing step number of the prefix (model-<step>,
    ckpt-<step>, model.latest-<step>), ties broken by modification time. The folder's own `*.index` files count,
    and so does its `latest/` subfolder, where our training writes the every-N-steps checkpoints beside the epoch
    ones."""
    indexes = [*directory.glob("*.index"), *(directory / "latest").glob("*.index")]
    if not indexes:
        raise CheckpointError(f"{directory}: a folder without any checkpoint (no *.index here or in latest/)")

    def order(path: Path) -> tuple[int, float]:
        match = re.search(r"(\d+)$", path.stem)
        return (int(match.group(1)) if match else -1, path.stat().st_mtime)

    return [str(path.with_suffix("")) for path in sorted(indexes, key=order, reverse=True)]


def newest_readable(directory: str | os.PathLike) -> str:
    """The newest checkpoint of a folder that reads back entirely (check_readable); newer unreadable ones are
    skipped with a warning naming them. UnreadableCheckpointError when none reads back."""
    candidates = _checkpoints_in_directory(Path(directory))
    for prefix in candidates:
        try:
            check_readable(prefix)
        except UnreadableCheckpointError as error:
            logger.warning("%s; trying the next newest checkpoint of %s", error, directory)
            continue
        return prefix
    raise UnreadableCheckpointError(f"{directory}: none of its {len(candidates)} checkpoints reads back "
                                    f"(newest {candidates[0]})")


def restore_models(path: str | os.PathLike, depth_net: DispNet | None = None,
                   pose_exp_net: PoseExpNet | None = None) -> dict[str, int | str]:
    """Fills the models from a TF1 checkpoint prefix, one of our TF2 checkpoints, or a folder of either
    (the newest that reads back is taken, see newest_readable). Our TF2 checkpoints are
    tf.train.Checkpoint(depth_net=, pose_exp_net=, optimizer=, step=, rng=) or the models-only epoch ones
    (without optimizer=); only the models (and the step, reported as "global_step") are read. Both kinds get the
    same checks, error report (TF1-style names) and exp-branch tolerance as load_tf1_checkpoint; a named prefix
    that does not read back is an UnreadableCheckpointError naming it. Returns its info dict plus
    "checkpoint": the prefix actually read."""
    path = Path(path)
    if path.is_dir():
        prefix = newest_readable(path)
    else:
        prefix = str(path)
        if not Path(f"{prefix}.index").is_file():
            raise CheckpointError(f"{path}: neither a checkpoint prefix (no {prefix}.index) nor a folder of "
                                  "checkpoints")
        check_readable(prefix)
    if is_tf1_checkpoint(prefix):
        info = load_tf1_checkpoint(prefix, depth_net=depth_net, pose_exp_net=pose_exp_net)
    else:
        reader, models = _open_reader(prefix), [m for m in (depth_net, pose_exp_net) if m is not None]
        info = _load(prefix, reader, _tf2_keys(reader, models), models)
    return {**info, "checkpoint": prefix}
