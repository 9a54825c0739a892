"""What sfm-predict makes from the depth files once every frame has one: the metric scale and the point clouds
(a second pass over the input for the colours, which are the frames resized as for the depth net)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sfmlearner_tf.evaluation.depth_predict import resize_rgb
from sfmlearner_tf.predict.intrinsics import Camera
from sfmlearner_tf.predict.metric_scale import (
    MetricOptions,
    ScaleEstimate,
    fit_ground,
    scale_from_plane_fits,
    scale_from_speed,
)
from sfmlearner_tf.predict.outputs import CloudFiles, DepthFiles, input_digest
from sfmlearner_tf.predict.point_cloud import CloudOptions, frame_cloud, transform_points, voxel_filter, write_ply
from sfmlearner_tf.prep.frame_sources import FrameSource
from sfmlearner_tf.progress import ProgressReporter

FUSED_CLOUD_NAME = "cloud_fused.ply"


def estimate_scale(options: MetricOptions, out_dir: str | os.PathLike, names: Sequence[str], camera: Camera | None,
                   poses: np.ndarray | None, fps: float, progress_every_s: float = 10.0) -> ScaleEstimate | None:
    """The metric scale the options ask for (None when neither camera_height nor speed is set): the road plane
    of every frame's depth file (needs the camera) or the trajectory's mean step (needs the poses)."""
    if options.speed is not None and poses is not None:
        return scale_from_speed(poses, fps, options.speed)
    if options.camera_height is None or camera is None:
        return None
    depth_files = DepthFiles(out_dir)
    progress = ProgressReporter(len(names), "road plane", every_s=progress_every_s, unit="frames")
    fits = []
    for name in names:
        fits.append(fit_ground(np.load(depth_files.paths(name)[0]), camera.network_intrinsics, options))
        progress.update()
    return scale_from_plane_fits(fits, options.camera_height)


def write_clouds(options: CloudOptions, source: FrameSource, out_dir: str | os.PathLike, camera: Camera,
                 estimate: ScaleEstimate | None, poses: np.ndarray | None,
                 progress_every_s: float = 10.0) -> tuple[Path | None, Path | None]:
    """<out>/clouds/<name>.ply (options.per_frame; a frame's cloud made from the same frame is kept) and
    <out>/cloud_fused.ply (options.fused; needs `poses`, camera-to-first-camera per frame), in metres when
    `estimate` is given, else in the network's units. Returns the folder and the fused file (None if not made)."""
    out_dir = Path(out_dir)
    scale = estimate.scale if estimate is not None else 1.0
    intrinsics = camera.network_intrinsics
    units = (f"metres (depth x {scale:.6g}, scale from the {estimate.method.replace('_', ' ')})" if estimate
             else "the network's (up to scale)")
    files = CloudFiles(out_dir, {"format": options.ply_format, "max_depth": options.max_depth,
                                 "intrinsics": intrinsics.tolist(), "scale": scale}) if options.per_frame else None
    depth_files = DepthFiles(out_dir)
    height, width = camera.network_size
    fused: list[tuple[np.ndarray, np.ndarray]] = []
    progress = ProgressReporter(source.count(), "point clouds", every_s=progress_every_s, unit="frames")
    for index, (name, frame) in enumerate(source.frames()):
        progress.update()
        image = resize_rgb(frame, height, width)
        digest = input_digest(image)
        per_frame = files is not None and not files.done(name, digest)
        if not (per_frame or options.fused):
            continue
        depth = np.load(depth_files.paths(name)[0]) * np.float32(scale)
        if per_frame:
            files.save(name, *frame_cloud(depth, image, intrinsics, options.max_depth),
                       comment=f"sfm-predict frame {name}, camera axes (x right, y down, z forward), units {units}",
                       digest=digest)
        if options.fused:
            points, colors = frame_cloud(depth, image, intrinsics, options.max_depth, options.stride)
            pose = poses[index].copy()
            pose[:3, 3] *= scale
            fused.append((transform_points(points, pose), colors))
    fused_path = None
    if options.fused:
        fused_path = out_dir / FUSED_CLOUD_NAME
        points, colors = voxel_filter(np.concatenate([p for p, _ in fused]), np.concatenate([c for _, c in fused]),
                                      options.voxel_size)
        write_ply(fused_path, points, colors, options.ply_format,
                  comment=f"sfm-predict: {len(fused)} frames in the first camera's axes, pixel stride "
                          f"{options.stride}, voxel {options.voxel_size:g}, units {units}")
    return (files.folder if files is not None else None), fused_path
