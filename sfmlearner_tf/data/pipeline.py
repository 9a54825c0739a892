"""The tf.data training input (the original's DataLoader), from the folder of prepared samples or
from the TFDS data set built from it.

Per sample: read the stacked JPEG and its K (from `_cam.txt`, or the TFDS record; K checked by the camera-file
rule of prep/samples.py), decode to RGB (a greyscale JPEG replicated to R = G = B, the same rule as the start-up
check; in parallel, with a checked decode that names the file when the JPEG is corrupt), check the width, split
into target, sources (channel-stacked: the frames before the target, then those after it) and the optional
boundary panel.
Per batch (drop remainder): the original's augmentation with one draw shared by the batch (the boundary goes
through the same scale and crop), images cast back to uint8 by truncation, then K at 4 scales.
Opt-in (with augment; both off by default): `flip` mirrors each sample left-right with probability 1/2, and
`per_sample_augment` draws the scale and crop per sample instead of per batch (as the PyTorch port does both).
One pass over the split per iteration; the trainer repeats it (each repetition reshuffles and redraws).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import tensorflow as tf

from sfmlearner_tf.data.augmentation import multi_scale_intrinsics, random_scale_and_crop
from sfmlearner_tf.errors import DataError, error_summary
from sfmlearner_tf.prep.samples import (
    CAM_LINE_PATTERN,
    CAM_RULE,
    JPEG_SIGNATURE,
    cam_entries_valid,
    cam_path_for,
    decoded_sample_size,
    panel_count,
    read_cam_file,
)
from sfmlearner_tf.prep.split_lists import read_split_list
from sfmlearner_tf.settings import SEQ_LENGTH, check_settings, setting

SOURCES = ("folder", "tfds")


@dataclass(frozen=True)
class PipelineConfig:
    """Input pipeline settings. source "folder" reads `<dataset_dir>/<split>.txt`; "tfds" reads the TFDS data set
    (tfds_builder.PreparedSamples) from tfds_data_dir. tfds_shuffle_buffer bounds the shuffle of TFDS records
    (the folder source shuffles the whole file list, as the original). exact_intrinsics fixes the original's
    K update in the augmentation (see augmentation.py; off by default for faithfulness). The target is the middle
    frame, so seq_length is odd."""

    dataset_dir: str = setting("", "Folder of prepared samples (train.txt, <folder>/<id>.jpg).")
    batch_size: int = setting(4, "Global batch size (split over replicas).", low=1)
    img_height: int = setting(128, "Image height.", low=1)
    img_width: int = setting(416, "Image width.", low=1)
    seq_length: int = setting(3, "Frames per sample (odd, target in the middle).", rule=SEQ_LENGTH)
    num_scales: int = setting(4, "Scales whose intrinsics a sample carries.", low=1)
    with_boundary: bool = False
    augment: bool = setting(True, "Random scale and crop, as the original.")
    flip: bool = setting(False, "With augment: flip each sample left-right with probability 1/2 (cx -> W - 1 - cx).",
                         needs="augment")
    per_sample_augment: bool = setting(False, "With augment: draw the scale and crop per sample (the original: per "
                                       "batch).", needs="augment")
    shuffle: bool = True
    seed: int = setting(8964, "Seed of the data order and augmentation.", low=0)
    split: str = "train"
    source: str = setting("folder", "Prepared folder or the TFDS builder.", choices=SOURCES)
    tfds_data_dir: str = setting("", "TFDS data_dir with data_source=tfds.", needs="source=tfds")
    tfds_shuffle_buffer: int = setting(4096, "Shuffle buffer of TFDS records.", low=1,
                                       needs="source=tfds")
    exact_intrinsics: bool = False
    num_parallel_calls: int = tf.data.AUTOTUNE

    def __post_init__(self) -> None:
        check_settings(self)

    @property
    def num_source(self) -> int:
        """Source frames per sample (the target is the middle frame)."""
        return self.seq_length - 1


def _fail(message: str, name: tf.Tensor, *details: tf.Tensor) -> tf.Operation:
    """An assertion that always fails at run time, carrying the sample's name (usable inside tf.data)."""
    return tf.debugging.Assert(tf.strings.length(name) < 0, [message, name, *details])


def _checked_intrinsics(intrinsics: tf.Tensor, name: tf.Tensor) -> tf.Tensor:
    """K [3, 3] after an assertion of the camera-file rule (prep.samples.cam_entries_valid, the one read_cam_file
    applies), naming the file: a focal length of 0 fails here, not as a matrix inverse inside the train step."""
    values = tf.reshape(intrinsics, [9])
    with tf.control_dependencies([tf.debugging.Assert(tf.reduce_all(cam_entries_valid(values)),
                                                      [f"camera file breaks the rule ({CAM_RULE}):", name,
                                                       "values", values], summarize=9)]):
        return tf.identity(intrinsics)


def _parse_cam(text: tf.Tensor, cam_path: tf.Tensor) -> tf.Tensor:
    valid = tf.strings.regex_full_match(text, CAM_LINE_PATTERN)
    with tf.control_dependencies([tf.debugging.Assert(valid, [f"malformed camera file (need {CAM_RULE}):",
                                                              cam_path])]):
        values = tf.strings.to_number(tf.strings.split(tf.strings.strip(text), ","), tf.float32)
    return _checked_intrinsics(tf.reshape(values, [3, 3]), cam_path)


def _read_folder_sample(jpg_path: tf.Tensor, cam_path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    return jpg_path, tf.io.read_file(jpg_path), _parse_cam(tf.io.read_file(cam_path), cam_path)


def checked_decode(name: tf.Tensor, contents: tf.Tensor, intrinsics: tf.Tensor) -> tf.data.Dataset:
    """A one-element dataset with the decoded JPEG, or a failure naming the sample when it cannot be decoded.

    tf.io.decode_jpeg's own error does not say which file failed; the decode runs in a nested dataset whose error
    is swallowed (`ignore_errors`), and an empty result falls through to an assertion carrying `name`. Bytes that
    are no JPEG (JPEG_SIGNATURE, the start-up check's rule) are refused first: decode_jpeg would decode a PNG.
    """
    is_jpeg = tf.equal(tf.strings.substr(contents, 0, len(JPEG_SIGNATURE)), JPEG_SIGNATURE)
    with tf.control_dependencies([tf.debugging.Assert(is_jpeg, ["not a JPEG:", name])]):
        contents = tf.identity(contents)
    decoded = tf.data.Dataset.from_tensors((name, contents, intrinsics)).map(
        lambda n, c, k: (n, tf.io.decode_jpeg(c, channels=3), k)).ignore_errors()

    def fail(n: tf.Tensor, k: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        with tf.control_dependencies([_fail("corrupt JPEG (cannot be decoded):", n)]):
            return tf.identity(n), tf.zeros([0, 0, 3], tf.uint8), k

    return decoded.concatenate(tf.data.Dataset.from_tensors((name, intrinsics)).map(fail)).take(1)


class _Unpacker:
    """Checks a decoded sample's size and splits it into target, source stack and boundary."""

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config

    def __call__(self, name: tf.Tensor, image: tf.Tensor, intrinsics: tf.Tensor) -> dict[str, tf.Tensor]:
        c = self.config
        height, width = tf.shape(image)[0], tf.shape(image)[1]
        frames_w, panel_w = c.seq_length * c.img_width, (c.seq_length + 1) * c.img_width
        size_ok = tf.logical_and(tf.equal(height, c.img_height),
                                 tf.logical_or(tf.equal(width, frames_w), tf.equal(width, panel_w)))
        checks = [tf.debugging.Assert(size_ok, [f"sample size must be {c.img_height} x {frames_w} or x {panel_w} "
                                                "(check --img_height/--img_width/--seq_length):", name,
                                                "height", height, "width", width])]
        if c.with_boundary:
            checks.append(tf.debugging.Assert(tf.equal(width, panel_w),
                                              ["sample has no boundary panel (with_boundary is on):", name]))
        with tf.control_dependencies(checks):
            image = tf.identity(image)
        panels = [image[:, i * c.img_width:(i + 1) * c.img_width, :] for i in range(c.seq_length + c.with_boundary)]
        target_index = (c.seq_length - 1) // 2
        sources = panels[:target_index] + panels[target_index + 1: c.seq_length]
        sample = {
            "tgt_image": tf.ensure_shape(panels[target_index], [c.img_height, c.img_width, 3]),
            "src_image_stack": tf.ensure_shape(tf.concat(sources, axis=2),
                                               [c.img_height, c.img_width, 3 * (c.seq_length - 1)]),
            "intrinsics": tf.ensure_shape(intrinsics, [3, 3]),
        }
        if c.with_boundary:
            grey = tf.reduce_mean(tf.cast(panels[c.seq_length], tf.float32), axis=2, keepdims=True)
            sample["boundary"] = tf.ensure_shape(grey / 255.0, [c.img_height, c.img_width, 1])
        return sample


def _augment(batch: dict[str, tf.Tensor], seed: tf.Tensor, exact: bool) -> dict[str, tf.Tensor]:
    """Scale and crop target, sources and boundary jointly; images back to uint8 by truncation."""
    parts = [tf.cast(batch["tgt_image"], tf.float32), tf.cast(batch["src_image_stack"], tf.float32)]
    if "boundary" in batch:
        parts.append(batch["boundary"])
    channels = [p.shape[-1] for p in parts]
    stacked, intrinsics = random_scale_and_crop(tf.concat(parts, axis=3), batch["intrinsics"], seed, exact)
    split = tf.split(stacked, channels, axis=3)
    out = {"tgt_image": tf.cast(split[0], tf.uint8), "src_image_stack": tf.cast(split[1], tf.uint8),
           "intrinsics": intrinsics}
    if "boundary" in batch:
        out["boundary"] = split[2]
    return out


def flip_sample(sample: dict[str, tf.Tensor], flip: tf.Tensor) -> dict[str, tf.Tensor]:
    """The sample mirrored left-right where the bool `flip` holds: every image [H, W, C] reversed along the width
    and the principal point moved to cx' = W - 1 - cx (pixel centres at 0..W-1), so that a point mirrored across
    the camera's optical axis projects to the mirrored pixel."""
    out = {key: tf.where(flip, tf.reverse(value, axis=[1]), value) for key, value in sample.items()
           if key != "intrinsics"}
    intrinsics = sample["intrinsics"]
    width = tf.cast(tf.shape(sample["tgt_image"])[1], tf.float32)
    mirrored = tf.tensor_scatter_nd_update(intrinsics, [[0, 2]], [width - 1.0 - intrinsics[0, 2]])
    out["intrinsics"] = tf.where(flip, mirrored, intrinsics)
    return out


def _augment_sample(sample: dict[str, tf.Tensor], seed: tf.Tensor, config: PipelineConfig) -> dict[str, tf.Tensor]:
    """The opt-in per-sample augmentation: a flip (probability 1/2) and/or the original's scale and crop drawn for
    this sample alone, from the stateless `seed` [2]."""
    flip_seed, scale_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    if config.flip:
        sample = flip_sample(sample, tf.random.stateless_uniform([], flip_seed) < 0.5)
    if config.per_sample_augment:
        batch = _augment({key: value[tf.newaxis] for key, value in sample.items()}, scale_seed,
                         config.exact_intrinsics)
        sample = {key: value[0] for key, value in batch.items()}
    return sample


def _folder_records(config: PipelineConfig) -> tf.data.Dataset:
    root = Path(config.dataset_dir)
    entries = read_split_list(root, config.split)
    jpgs = [str(root / folder / f"{frame}.jpg") for folder, frame in entries]
    cams = [str(cam_path_for(path)) for path in jpgs]
    paths = tf.data.Dataset.from_tensor_slices((jpgs, cams))
    if config.shuffle:
        paths = paths.shuffle(len(jpgs), seed=config.seed, reshuffle_each_iteration=True)
    return paths.map(_read_folder_sample, num_parallel_calls=config.num_parallel_calls)


def _tfds_records(config: PipelineConfig) -> tf.data.Dataset:
    from sfmlearner_tf.data.tfds_builder import load_prepared_records

    records = load_prepared_records(config.tfds_data_dir, config.split, shuffle_files=config.shuffle, seed=config.seed)
    if config.shuffle:
        records = records.shuffle(config.tfds_shuffle_buffer, seed=config.seed, reshuffle_each_iteration=True)
    return records.map(lambda r: (r["sample_id"], r["image"], _checked_intrinsics(r["intrinsics"], r["sample_id"])))


def _records(config: PipelineConfig) -> tf.data.Dataset:
    """(name, JPEG bytes, checked K) per sample of the split, in the configured order."""
    return _folder_records(config) if config.source == "folder" else _tfds_records(config)


def _samples(records: tf.data.Dataset, config: PipelineConfig) -> tf.data.Dataset:
    """Records decoded, checked and unpacked into the pipeline's per-sample dicts (before any augmentation)."""
    samples = records.interleave(checked_decode, cycle_length=4, block_length=1,
                                 num_parallel_calls=config.num_parallel_calls, deterministic=True)
    return samples.map(_Unpacker(config), num_parallel_calls=config.num_parallel_calls)


def make_dataset(config: PipelineConfig) -> tf.data.Dataset:
    """One epoch of batches: uint8 "tgt_image" [B,H,W,3], "src_image_stack" [B,H,W,3(L-1)], float32
    "intrinsics" [B,num_scales,3,3] and, with_boundary, float32 "boundary" [B,H,W,1] in [0, 1]."""
    samples = _samples(_records(config), config)
    if config.augment and (config.flip or config.per_sample_augment):
        # A stream of its own (second key seed + 1), so that no draw is shared with the per-batch augmentation.
        draws = tf.data.Dataset.random(seed=config.seed, rerandomize_each_iteration=True)
        samples = tf.data.Dataset.zip(samples, draws).map(
            lambda sample, r: _augment_sample(sample, tf.stack([r, tf.constant(config.seed + 1, tf.int64)]), config),
            num_parallel_calls=config.num_parallel_calls)
    batches = samples.batch(config.batch_size, drop_remainder=True)
    if config.augment and not config.per_sample_augment:
        draws = tf.data.Dataset.random(seed=config.seed, rerandomize_each_iteration=True)
        batches = tf.data.Dataset.zip(batches, draws).map(
            lambda batch, r: _augment(batch, tf.stack([r, tf.constant(config.seed, tf.int64)]),
                                      config.exact_intrinsics),
            num_parallel_calls=config.num_parallel_calls)

    def scale_intrinsics(batch: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return {**batch, "intrinsics": multi_scale_intrinsics(batch["intrinsics"], config.num_scales)}

    return batches.map(scale_intrinsics).prefetch(tf.data.AUTOTUNE)


def num_samples(config: PipelineConfig) -> int:
    """Samples in the configured split."""
    if config.source == "tfds":
        from sfmlearner_tf.data.tfds_builder import prepared_split_size

        return prepared_split_size(config.tfds_data_dir, config.split)
    return len(read_split_list(config.dataset_dir, config.split))


def steps_per_epoch(config: PipelineConfig) -> int:
    """Batches per pass over the split (remainder dropped), as the original's N // batch_size."""
    return num_samples(config) // config.batch_size


def check_dataset(config: PipelineConfig) -> None:
    """Cheap start-up check: the list exists and is well-formed, and its first sample has a cam file and a JPEG
    that obey the sample format's rules (prep/samples.py: the camera rule, a JPEG that decodes in full to RGB, grey
    included) and the right size (with a boundary panel if with_boundary); then the first sample goes through the
    graph that reads every sample mid-run, so that the start-up check passes nothing the graph refuses (PIL decodes
    a few damaged JPEGs that libjpeg refuses). Raises DataError naming the file. Later samples are checked by the
    same graph as they are read."""
    if config.source == "tfds":
        if num_samples(config) < config.batch_size:
            raise DataError(f"{config.tfds_data_dir}: TFDS split {config.split!r} has fewer samples than one batch")
    else:
        _check_first_sample(config)
    first = replace(config, shuffle=False)
    try:
        next(iter(_samples(_records(first).take(1), first)))
    except tf.errors.OpError as error:
        raise DataError(error_summary(error)) from error


def _check_first_sample(config: PipelineConfig) -> None:
    """The first listed sample of the folder by the Python readers (their messages say the most)."""
    entries = read_split_list(config.dataset_dir, config.split)
    if len(entries) < config.batch_size:
        raise DataError(f"{Path(config.dataset_dir) / (config.split + '.txt')}: {len(entries)} samples, fewer than "
                        f"one batch of {config.batch_size}")
    folder, frame = entries[0]
    jpg = Path(config.dataset_dir) / folder / f"{frame}.jpg"
    read_cam_file(cam_path_for(jpg))
    width, height = decoded_sample_size(jpg)
    if height != config.img_height:
        raise DataError(f"{jpg}: sample height {height} differs from img_height {config.img_height}")
    panels = panel_count(width, config.seq_length, config.img_width, jpg)
    if config.with_boundary and panels == config.seq_length:
        raise DataError(f"{jpg}: sample has no boundary panel but with_boundary is on "
                        "(prepare with --boundary_source, or run the Mask R-CNN boundary program)")
