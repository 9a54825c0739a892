"""predict(config): depth for every frame of an image, a folder, a glob or a video, with a pose checkpoint the
chained camera trajectory of the sequence, and with the camera's intrinsics point clouds and a metric scale.

Frames are resized as the original's test scripts did: PIL LANCZOS to the depth net's size (test_kitti_depth),
PIL bilinear to the pose net's (test_kitti_pose); depth = 1 / disp1. Depth and pose run in batches. A rerun
into the same output folder reuses a frame's depth files only when they were made from the same frame (each
records the digest of its network input: predict/outputs.py; the folder is claimed by one input, checkpoint and
size); the trajectory and the MP4 are made again. After the depth pass come the metric scale
(metric/: depth and trajectory in metres, scale.json, made again) and the point clouds (clouds/, resumed like
the depth files; cloud_fused.ply, made again): predict/scene_outputs.py.
"""

from __future__ import annotations

import json
import time
from collections import deque
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.evaluation.depth_predict import DepthPredictor, resize_rgb
from sfmlearner_tf.evaluation.pose_eval import PosePredictor
from sfmlearner_tf.io_utils import atomic_write_text, claim_output_folder
from sfmlearner_tf.models import DISP_NET_MULTIPLE
from sfmlearner_tf.models.restore import restore_depth_net, restore_pose_net
from sfmlearner_tf.predict.intrinsics import Camera, check_camera_options, make_camera
from sfmlearner_tf.predict.metric_scale import MetricOptions
from sfmlearner_tf.predict.outputs import DepthFiles, SideBySideVideo, input_digest, write_metric_outputs
from sfmlearner_tf.predict.point_cloud import CloudOptions
from sfmlearner_tf.predict.scene_outputs import estimate_scale, write_clouds
from sfmlearner_tf.predict.trajectory import chain_trajectory, write_trajectory
from sfmlearner_tf.prep.camera_calib import MAX_PINHOLE_HFOV_DEG
from sfmlearner_tf.prep.frame_sources import FrameSource, open_frame_source
from sfmlearner_tf.progress import ProgressReporter
from sfmlearner_tf.settings import PROGRESS_EVERY, SEQ_LENGTH, check_settings, setting

DEFAULT_FPS = 10.0  # image sequences: KITTI's frame rate, for timestamps and the MP4


@dataclass(frozen=True)
class PredictConfig:
    """One prediction run. pose_ckpt_file (may equal ckpt_file: ours hold both nets) turns the trajectory on;
    pose_img_height/width default to img_height/width. fps: None = the video's own rate, else 10 (images).
    hfov_deg or intrinsics (fx, fy, cx, cy at the input's resolution): the camera, which point clouds and the
    camera-height scale need (none given: they are refused); cloud: point clouds; metric: the metric scale."""

    input: str = setting(help="An image, a folder of images, a glob pattern (quoted) or a video file.")
    output_dir: str = setting(help="Where depth/, disparity/, the MP4, trajectory.txt/.png and predict.json go.")
    ckpt_file: str = setting(help="Depth checkpoint: Zhou et al.'s TF1 prefix (model-190532), one of ours, or a run "
                             "folder of ours (the newest checkpoint is used).")
    img_height: int = setting(128, "Depth net input height (default: the checkpoint's run record, else 128).",
                              multiple_of=DISP_NET_MULTIPLE)
    img_width: int = setting(416, "Depth net input width (default: run record, else 416).",
                             multiple_of=DISP_NET_MULTIPLE)
    pose_ckpt_file: str | None = setting(None, "Pose checkpoint (may be the same as --ckpt_file; ours hold both "
                                         "nets): adds the chained camera trajectory (TUM text and a top-view PNG). "
                                         "Empty: depth only.")
    seq_length: int = setting(3, "Frames per pose window (default: the pose checkpoint's run record, or its TF1 pose "
                              "net's input, else 3).", rule=SEQ_LENGTH)
    pose_img_height: int | None = setting(None, "Pose net input height (None: img_height).",
                                          multiple_of=DISP_NET_MULTIPLE)
    pose_img_width: int | None = setting(None, "Pose net input width (None: img_width).",
                                         multiple_of=DISP_NET_MULTIPLE)
    batch_size: int = setting(8, "Frames (depth) and windows (pose) per batch.", low=1)
    mixed_precision: bool = setting(False, "bfloat16 on a CPU / float16 on a GPU (default: the depth checkpoint's "
                                    "run record).")
    write_video: bool = setting(True, "For a video input, also write <name>_depth.mp4 (input | depth).")
    fps: float | None = setting(None, "Frame rate for trajectory timestamps and the MP4 (default: the video's, else "
                                "10).", low=0.0, low_open=True)
    progress_every_s: float = setting(10.0, "Seconds between progress lines (inf: none).", rule=PROGRESS_EVERY)
    hfov_deg: float | None = setting(None, "The camera's horizontal field of view (degrees), when its calibration is "
                                     "unknown: K at the input's resolution is fx = fy = (W/2)/tan(hfov/2), principal "
                                     "point (W/2, H/2), then scaled to the network's size. Needed (or --intrinsics) "
                                     "by the point clouds and --camera_height.", low=0.0, low_open=True,
                                     high=MAX_PINHOLE_HFOV_DEG)
    intrinsics: tuple[float, float, float, float] | None = setting(None, "fx,fy,cx,cy of the camera in pixels at the "
                                                                   "input's resolution (instead of --hfov_deg).")
    cloud: CloudOptions = field(default_factory=CloudOptions)
    metric: MetricOptions = field(default_factory=MetricOptions)

    def __post_init__(self) -> None:
        check_settings(self)
        check_camera_options(self.hfov_deg, self.intrinsics)
        wanted = {"--point_cloud": self.cloud.per_frame, "--fused_cloud": self.cloud.fused,
                  "--camera_height": self.metric.camera_height is not None}
        if any(wanted.values()) and self.hfov_deg is None and self.intrinsics is None:
            raise ConfigError(f"{' and '.join(k for k, v in wanted.items() if v)} need the camera's intrinsics: pass "
                              "--hfov_deg (its horizontal field of view, a guess) or --intrinsics=fx,fy,cx,cy (at the "
                              "input's resolution)", fields=("hfov_deg",))
        wanted = {"--fused_cloud": self.cloud.fused, "--speed": self.metric.speed is not None}
        if any(wanted.values()) and not self.pose_ckpt_file:
            raise ConfigError(f"{' and '.join(k for k, v in wanted.items() if v)} need the trajectory: pass "
                              "--pose_ckpt_file", fields=("pose_ckpt_file",))

    @property
    def pose_size(self) -> tuple[int, int]:
        return self.pose_img_height or self.img_height, self.pose_img_width or self.img_width


@dataclass(frozen=True)
class PredictResult:
    """What a run did: frames, wall time and rate (decoding, both nets and writing), frames whose depth files
    were reused (made from the same frame by an earlier run), the checkpoints read, the paths of the video,
    trajectory, metric folder and clouds (None when not made), the camera's K's (camera), the metric scale, and
    notes (K and scale in a line each, for the log)."""

    frames: int
    seconds: float
    frames_per_second: float
    depth_checkpoint: str
    depth_reused: int = 0
    pose_checkpoint: str | None = None
    video: str | None = None
    trajectory: str | None = None
    trajectory_plot: str | None = None
    camera: dict[str, object] | None = None
    scale: float | None = None
    metric_dir: str | None = None
    clouds_dir: str | None = None
    fused_cloud: str | None = None
    notes: tuple[str, ...] = ()


class _DepthStage:
    """Batches frames through DispNet (skipping frames whose files were made from the same frame) and writes
    files and video frames; `reused` counts the frames skipped."""

    def __init__(self, config: PredictConfig, depth_net, files: DepthFiles, video: SideBySideVideo | None) -> None:
        self.config, self.files, self.video = config, files, video
        self.predict = DepthPredictor(depth_net, config.img_height, config.img_width)
        self.pending: list[tuple[str, np.ndarray, str]] = []
        self.reused = 0

    def add(self, name: str, frame: np.ndarray) -> None:
        image = resize_rgb(frame, self.config.img_height, self.config.img_width)
        self.pending.append((name, image, input_digest(image)))
        if len(self.pending) == self.config.batch_size:
            self.flush()

    def flush(self) -> None:
        todo = [i for i, (name, _, digest) in enumerate(self.pending) if not self.files.done(name, digest)]
        self.reused += len(self.pending) - len(todo)
        predicted = {}
        if todo:
            depths = self.predict(np.stack([self.pending[i][1] for i in todo]))
            predicted = dict(zip(todo, depths))
        for index, (name, image, digest) in enumerate(self.pending):
            color = self.files.save(name, predicted[index], digest) if index in predicted else None
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
    checkpoint), metric/ (metric scale), clouds/ and cloud_fused.ply (point clouds) and predict.json under
    config.output_dir."""
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
        names: list[str] = []
        camera: Camera | None = None
        for name, frame in source.frames():
            camera = _camera_of(config, camera, name, frame, source.spec)
            names.append(name)
            depth_stage.add(name, frame)
            if pose_stage is not None:
                pose_stage.add(frame)
            progress.update()
        depth_stage.flush()
        if pose_stage is not None:
            pose_stage.flush()
    seconds, frames = time.monotonic() - started, len(names)
    result = PredictResult(frames=frames, seconds=round(seconds, 3), frames_per_second=round(frames / seconds, 3),
                           depth_checkpoint=str(depth_info["checkpoint"]), depth_reused=depth_stage.reused,
                           pose_checkpoint=str(pose_info["checkpoint"]) if pose_info else None,
                           video=str(video_path) if video_path else None,
                           camera=camera.record() if camera else None,
                           notes=(f"camera: {camera.describe()}",) if camera else ())
    poses, times = None, np.arange(frames) / fps
    if pose_stage is not None:
        if not pose_stage.vecs:
            raise DataError(f"{source.spec}: {frames} frame(s), fewer than seq_length {config.seq_length}: "
                            "no trajectory")
        poses = chain_trajectory(np.stack(pose_stage.vecs))
        text_path, plot_path = write_trajectory(out, poses, times)
        result = replace(result, trajectory=text_path, trajectory_plot=plot_path)
    estimate = estimate_scale(config.metric, out, names, camera, poses, fps, config.progress_every_s)
    if estimate is not None:
        result = replace(result, scale=estimate.scale, notes=(*result.notes, estimate.describe()),
                         metric_dir=str(write_metric_outputs(out, names, estimate, poses, times)))
    if config.cloud.any:
        clouds, fused = write_clouds(config.cloud, source, out, camera, estimate, poses, config.progress_every_s)
        result = replace(result, clouds_dir=clouds and str(clouds), fused_cloud=fused and str(fused))
    atomic_write_text(out / "predict.json", json.dumps({**asdict(result), "config": asdict(config)}, indent=1))
    return result


def _camera_of(config: PredictConfig, camera: Camera | None, name: str, frame: np.ndarray,
               spec: str) -> Camera | None:
    """The camera fixed by the first frame (None without hfov_deg or intrinsics); for point clouds and the road
    plane, later frames must have its size."""
    if config.hfov_deg is None and config.intrinsics is None:
        return None
    if camera is None:
        return make_camera(config.hfov_deg, config.intrinsics, frame.shape[:2], (config.img_height, config.img_width))
    if config.cloud.any or config.metric.camera_height is not None:
        camera.check_frame(name, frame, spec)
    return camera


def _maybe_video(path: Path | None, fps: float, config: PredictConfig) -> SideBySideVideo | nullcontext:
    return SideBySideVideo(path, fps, config.img_height, config.img_width) if path is not None else nullcontext()
