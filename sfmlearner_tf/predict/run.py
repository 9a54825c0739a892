"""predict(config): depth for every frame of an image, a folder, a glob or a video, and with a pose checkpoint
the chained camera trajectory of the sequence.

Frames are resized as the original's test scripts did: PIL LANCZOS to the depth net's size (test_kitti_depth),
PIL bilinear to the pose net's (test_kitti_pose); depth = 1 / disp1. Depth and pose run in batches. A rerun
into the same output folder reuses the depth files already written (the folder is claimed by one input,
checkpoint and size); the trajectory and the MP4 are made again.
"""

from __future__ import annotations

import json
import time
from collections import deque
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.evaluation.depth_predict import DepthPredictor, resize_rgb
from sfmlearner_tf.evaluation.pose_eval import PosePredictor
from sfmlearner_tf.io_utils import atomic_write_text, claim_output_folder
from sfmlearner_tf.models import DISP_NET_MULTIPLE
from sfmlearner_tf.models.restore import restore_depth_net, restore_pose_net
from sfmlearner_tf.predict.outputs import DepthFiles, SideBySideVideo
from sfmlearner_tf.predict.trajectory import chain_trajectory, write_trajectory
from sfmlearner_tf.prep.frame_sources import FrameSource, open_frame_source
from sfmlearner_tf.progress import ProgressReporter

DEFAULT_FPS = 10.0  # image sequences: KITTI's frame rate, for timestamps and the MP4


@dataclass(frozen=True)
class PredictConfig:
    """One prediction run. pose_ckpt_file (may equal ckpt_file: ours hold both nets) turns the trajectory on;
    pose_img_height/width default to img_height/width. fps: None = the video's own rate, else 10 (images)."""

    input: str
    output_dir: str
    ckpt_file: str
    img_height: int = 128
    img_width: int = 416
    pose_ckpt_file: str | None = None
    seq_length: int = 3
    pose_img_height: int | None = None
    pose_img_width: int | None = None
    batch_size: int = 8
    mixed_precision: bool = False
    write_video: bool = True
    fps: float | None = None
    progress_every_s: float = 10.0

    @property
    def pose_size(self) -> tuple[int, int]:
        return self.pose_img_height or self.img_height, self.pose_img_width or self.img_width


@dataclass(frozen=True)
class PredictResult:
    """What a run did: frames, wall time and rate (decoding, both nets and writing), the checkpoints read, and
    the paths of the video and trajectory files (None when not made)."""

    frames: int
    seconds: float
    frames_per_second: float
    depth_checkpoint: str
    pose_checkpoint: str | None = None
    video: str | None = None
    trajectory: str | None = None
    trajectory_plot: str | None = None


def _check(config: PredictConfig) -> None:
    sizes = {"img_height": config.img_height, "img_width": config.img_width}
    if config.pose_ckpt_file:
        sizes.update(zip(("pose_img_height", "pose_img_width"), config.pose_size))
    bad = [f"{name} {value}" for name, value in sizes.items() if value < 1 or value % DISP_NET_MULTIPLE]
    if bad:
        raise ConfigError(f"sizes must be positive multiples of {DISP_NET_MULTIPLE}: {', '.join(bad)}")
    if config.seq_length < 3 or config.seq_length % 2 == 0:
        raise ConfigError(f"seq_length must be odd and >= 3, got {config.seq_length}")
    if config.batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {config.batch_size}")


class _DepthStage:
    """Batches frames through DispNet (skipping frames whose files exist) and writes files and video frames."""

    def __init__(self, config: PredictConfig, depth_net, files: DepthFiles, video: SideBySideVideo | None) -> None:
        self.config, self.files, self.video = config, files, video
        self.predict = DepthPredictor(depth_net, config.img_height, config.img_width)
        self.pending: list[tuple[str, np.ndarray]] = []

    def add(self, name: str, frame: np.ndarray) -> None:
        self.pending.append((name, resize_rgb(frame, self.config.img_height, self.config.img_width)))
        if len(self.pending) == self.config.batch_size:
            self.flush()

    def flush(self) -> None:
        todo = [i for i, (name, _) in enumerate(self.pending) if not self.files.done(name)]
        predicted = {}
        if todo:
            depths = self.predict(np.stack([self.pending[i][1] for i in todo]))
            predicted = dict(zip(todo, depths))
        for index, (name, image) in enumerate(self.pending):
            color = self.files.save(name, predicted[index]) if index in predicted else None
            if self.video is not None:
                self.video.write(image, color if color is not None else _color_of(self.files, name))
        self.pending = []


def _color_of(files: DepthFiles, name: str) -> np.ndarray:
    """The colour image of a frame predicted by an earlier run (read back from its PNG)."""
    with Image.open(files.paths(name)[1]) as png:
        return np.asarray(png.convert("RGB"))


class _PoseStage:
    """Slides a window of seq_length frames over the sequence and batches the windows through the pose net."""

    def __init__(self, config: PredictConfig, pose_net) -> None:
        self.config = config
        self.predict = PosePredictor(pose_net, *config.pose_size, config.seq_length)
        self.window: deque[np.ndarray] = deque(maxlen=config.seq_length)
        self.pending: list[np.ndarray] = []
        self.vecs: list[np.ndarray] = []

    def add(self, frame: np.ndarray) -> None:
        height, width = self.config.pose_size
        self.window.append(resize_rgb(frame, height, width, Image.Resampling.BILINEAR))
        if len(self.window) == self.config.seq_length:
            self.pending.append(np.stack(self.window))
            if len(self.pending) == self.config.batch_size:
                self.flush()

    def flush(self) -> None:
        if self.pending:
            self.vecs.extend(self.predict(np.stack(self.pending)))
            self.pending = []


def _identity(config: PredictConfig, source: FrameSource, depth_checkpoint: str) -> dict[str, object]:
    return {"predictions_of": str(Path(depth_checkpoint).resolve()), "input": str(Path(source.spec).resolve()),
            "img_size": [config.img_height, config.img_width], "mixed_precision": config.mixed_precision}


def predict(config: PredictConfig) -> PredictResult:
    """Runs the prediction; writes depth/, disparity/, the MP4 (video input), trajectory.txt / .png (pose
    checkpoint) and predict.json under config.output_dir."""
    _check(config)
    source = open_frame_source(config.input)
    depth_net, depth_info = restore_depth_net(config.ckpt_file, config.mixed_precision)
    pose_net, pose_info = (restore_pose_net(config.pose_ckpt_file, config.seq_length - 1) if config.pose_ckpt_file
                           else (None, {}))
    out = Path(config.output_dir)
    claim_output_folder(out, _identity(config, source, str(depth_info["checkpoint"])))
    fps = config.fps or source.fps() or DEFAULT_FPS
    video_path = out / f"{source.name}_depth.mp4" if source.is_video and config.write_video else None
    progress = ProgressReporter(source.count(), f"predict {source.name}", every_s=config.progress_every_s,
                                unit="frames")
    started = time.monotonic()
    with _maybe_video(video_path, fps, config) as video:
        depth_stage = _DepthStage(config, depth_net, DepthFiles(out), video)
        pose_stage = _PoseStage(config, pose_net) if pose_net is not None else None
        frames = 0
        for name, frame in source.frames():
            depth_stage.add(name, frame)
            if pose_stage is not None:
                pose_stage.add(frame)
            frames += 1
            progress.update()
        depth_stage.flush()
        if pose_stage is not None:
            pose_stage.flush()
    seconds = time.monotonic() - started
    result = PredictResult(frames=frames, seconds=round(seconds, 3), frames_per_second=round(frames / seconds, 3),
                           depth_checkpoint=str(depth_info["checkpoint"]),
                           pose_checkpoint=str(pose_info["checkpoint"]) if pose_info else None,
                           video=str(video_path) if video_path else None)
    if pose_stage is not None:
        if not pose_stage.vecs:
            raise DataError(f"{source.spec}: {frames} frame(s), fewer than seq_length {config.seq_length}: "
                            "no trajectory")
        poses = chain_trajectory(np.stack(pose_stage.vecs))
        text_path, plot_path = write_trajectory(out, poses, np.arange(len(poses)) / fps)
        result = replace(result, trajectory=text_path, trajectory_plot=plot_path)
    atomic_write_text(out / "predict.json", json.dumps({**asdict(result), "config": asdict(config)}, indent=1))
    return result


def _maybe_video(path: Path | None, fps: float, config: PredictConfig) -> SideBySideVideo | nullcontext:
    return SideBySideVideo(path, fps, config.img_height, config.img_width) if path is not None else nullcontext()
