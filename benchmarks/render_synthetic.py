"""Speed of the synthetic renderer: median seconds per frame (camera image + depth + instances, and the lidar
scan) on one core at a chosen resolution; prints one JSON line."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_utils import emit
from sfmlearner_tf.synthetic import SyntheticConfig
from sfmlearner_tf.synthetic.dataset import _write_calibration
from sfmlearner_tf.synthetic.drive import make_drive
from sfmlearner_tf.synthetic.layout import Layout
from sfmlearner_tf.synthetic.render import render_camera_frame
from sfmlearner_tf.synthetic.rig import read_rig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--width", type=int, default=1242)
    parser.add_argument("--height", type=int, default=375)
    parser.add_argument("--frames", type=int, default=5)
    args = parser.parse_args()
    config = SyntheticConfig(num_drives=1, num_frames=max(args.frames, 3), width=args.width, height=args.height)
    with tempfile.TemporaryDirectory() as tmp:
        layout = Layout(Path(tmp), config.date)
        _write_calibration(layout, config)
        drive = make_drive(config, read_rig(layout.raw_date_dir), 0)
    camera_s, total_s = [], []
    for frame in range(args.frames):
        start = time.perf_counter()
        pose = drive.trajectory.road_from_imu(drive.times[frame:frame + 1])[0] @ drive.rig.imu_from_cam2
        render_camera_frame(drive.scene, drive.textures, pose, drive.rig.intrinsics, config.width, config.height)
        camera_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        drive.render_frame(frame)
        total_s.append(time.perf_counter() - start)
    emit("render_synthetic", resolution=f"{config.width}x{config.height}", frames=args.frames,
         median_s_per_frame_camera=round(float(np.median(camera_s)), 3),
         median_s_per_frame_camera_and_lidar=round(float(np.median(total_s)), 3),
         threads="1 process, numpy single-threaded ops")


if __name__ == "__main__":
    main()
