"""Helpers the test modules share (imported as `helpers`; the tests folder is on sys.path under pytest):

* a tiny KITTI-raw stand-in whose velodyne points come from known pixel depths (`build_mini_raw`),
* a textured training batch with sources shifted by known pixels (`make_batch`) and a small TrainConfig for it,
* prepared samples of random texture for a toy training run (`write_dataset`, `TOY_FLAGS`),
* the frames of a synthetic drive and an MP4 of them (`drive_frames`, `write_mp4`),
* a PLY reader and a per-pixel back-projection, to check point clouds (`read_ply`, `loop_back_projection`),
* the original's variable table, transcribed from its nets.py (`ORIGINAL_LAYERS`, `spec_variables`).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import tensorflow as tf
from PIL import Image

from sfmlearner_tf.prep.samples import write_sample
from sfmlearner_tf.training import TrainConfig

# --- a tiny KITTI raw drive -------------------------------------------------------------------------------------

DATE, DRIVE = "2011_09_26", "2011_09_26_drive_0002_sync"
MINI_H, MINI_W, FOCAL = 32, 48, 40.0
# velodyne (x forward, y left, z up) -> camera (x right, y down, z forward): velodyne x equals camera z.
VELO_TO_CAM = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])


def _write_calib(date_dir: Path) -> np.ndarray:
    p_rect = np.array([[FOCAL, 0, MINI_W / 2, 0], [0, FOCAL, MINI_H / 2, 0], [0, 0, 1, 0]], dtype=np.float64)
    matrix = " ".join(f"{v:.12e}" for v in p_rect.ravel())
    identity = " ".join(f"{v:.1f}" for v in np.eye(3).ravel())
    (date_dir / "calib_cam_to_cam.txt").write_text(
        f"calib_time: 09-Jan-2012 13:57:47\nR_rect_00: {identity}\nP_rect_00: {matrix}\nP_rect_02: {matrix}\n")
    rotation = " ".join(f"{v:.1f}" for v in VELO_TO_CAM.ravel())
    (date_dir / "calib_velo_to_cam.txt").write_text(f"calib_time: x\nR: {rotation}\nT: 0.0 0.0 0.0\n")
    return p_rect


def mini_dense_depth(height: int = MINI_H, width: int = MINI_W) -> np.ndarray:
    """Two fronto-parallel planes (10 m left, 20 m right) and a 6 m box: piecewise constant z-depth."""
    depth = np.full((height, width), 10.0, np.float32)
    depth[:, width // 2:] = 20.0
    depth[8:20, 6:16] = 6.0
    return depth


def mini_sample_pixels(depth: np.ndarray) -> list[tuple[int, int]]:
    """Pixels (row, col) whose 3x3 neighbourhood has one depth (so a one-pixel shift keeps the value)."""
    pixels = []
    for row in range(2, depth.shape[0] - 1, 3):
        for col in range(2, depth.shape[1] - 1, 3):
            patch = depth[row - 1:row + 2, col - 1:col + 2]
            if patch.min() == patch.max():
                pixels.append((row, col))
    return pixels


def build_mini_raw(root: Path, num_frames: int = 2) -> Path:
    """<root>/kitti_raw with one drive of `num_frames` frames, dense depth, instances and a test list."""
    raw = root / "kitti_raw"
    drive = raw / DATE / DRIVE
    for sub in ("image_02/data", "velodyne_points/data", "depth_02/data", "instances_02/data"):
        (drive / sub).mkdir(parents=True, exist_ok=True)
    p_rect = _write_calib(raw / DATE)
    depth = mini_dense_depth()
    instances = np.zeros(depth.shape, np.uint16)
    instances[8:20, 6:16] = 1
    k_inv = np.linalg.inv(p_rect[:, :3])
    lines = []
    rng = np.random.default_rng(0)
    for frame in range(num_frames):
        name = f"{frame:010d}"
        image = rng.integers(0, 255, (MINI_H, MINI_W, 3), dtype=np.uint8)
        Image.fromarray(image).save(drive / "image_02" / "data" / f"{name}.png")
        np.save(drive / "depth_02" / "data" / f"{name}.npy", depth)
        Image.fromarray(instances).save(drive / "instances_02" / "data" / f"{name}.png")
        points = []
        for row, col in mini_sample_pixels(depth):
            cam = depth[row, col] * (k_inv @ np.array([col, row, 1.0]))  # 0-based pixel centre
            points.append([*(VELO_TO_CAM.T @ cam), 0.5])
        points.append([-3.0, 0.0, 0.0, 0.5])  # behind the car: dropped
        np.asarray(points, np.float32).tofile(drive / "velodyne_points" / "data" / f"{name}.bin")
        lines.append(f"{DATE}/{DRIVE}/image_02/data/{name}.png")
    (raw / "test_files_eigen.txt").write_text("\n".join(lines) + "\n")
    return raw


# --- a training batch and a small run --------------------------------------------------------------------

HEIGHT, WIDTH = 32, 64


def make_batch(batch: int = 2, height: int = HEIGHT, width: int = WIDTH, seed: int = 0, shift: int = 1,
               boundary: bool = False) -> dict[str, tf.Tensor]:
    """A textured target with sources shifted by +-shift pixels, and per-scale intrinsics (f = width)."""
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, (batch, height, width + 2 * shift, 3), dtype=np.uint8)
    k = np.array([[width, 0, width / 2], [0, width, height / 2], [0, 0, 1]], np.float32)
    scales = np.stack([k / np.array([[2.0**s], [2.0**s], [1.0]], np.float32) for s in range(4)])
    out = {"tgt_image": tf.constant(texture[:, :, shift:shift + width]),
           "src_image_stack": tf.constant(np.concatenate([texture[:, :, :width], texture[:, :, 2 * shift:]], -1)),
           "intrinsics": tf.constant(np.broadcast_to(scales, (batch, 4, 3, 3)).copy())}
    if boundary:
        edges = np.zeros((batch, height, width, 1), np.float32)
        edges[:, :, width // 2] = 1.0
        out["boundary"] = tf.constant(edges)
    return out


# The trainer RNG (each (re)start draws the data seed from it) and the count of saves differ by design.
EXCLUDED = ("rng/", "save_counter/")


def config_for(checkpoint_dir: Path, **changes: object) -> TrainConfig:
    settings = {"img_height": HEIGHT, "img_width": WIDTH, "batch_size": 2, "summary_freq": 2,
                "save_latest_freq": 2, "checkpoint_dir": str(checkpoint_dir), "progress_every_s": 0.0, **changes}
    return TrainConfig.from_settings(**settings)


def fixed_data() -> tf.data.Dataset:
    return tf.data.Dataset.from_tensors(make_batch(seed=4)).repeat()


def checkpoint_tensors(prefix: str) -> dict[str, np.ndarray]:
    """Every saved value but EXCLUDED."""
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if not name.startswith(EXCLUDED) and "OBJECT_GRAPH" not in name}


# --- the original's variable table --------------------------------------------------------------------------

# the original's variable table, transcribed: (scope path, weights shape, kind) for a 3-frame model with
# explainability.
# Biases have the layer's output channels: the last weights dim for conv, dim 2 for conv2d_transpose.
C, T = "conv", "deconv"
ORIGINAL_LAYERS = [
    ("depth_net/cnv1", (7, 7, 3, 32), C), ("depth_net/cnv1b", (7, 7, 32, 32), C),
    ("depth_net/cnv2", (5, 5, 32, 64), C), ("depth_net/cnv2b", (5, 5, 64, 64), C),
    ("depth_net/cnv3", (3, 3, 64, 128), C), ("depth_net/cnv3b", (3, 3, 128, 128), C),
    ("depth_net/cnv4", (3, 3, 128, 256), C), ("depth_net/cnv4b", (3, 3, 256, 256), C),
    ("depth_net/cnv5", (3, 3, 256, 512), C), ("depth_net/cnv5b", (3, 3, 512, 512), C),
    ("depth_net/cnv6", (3, 3, 512, 512), C), ("depth_net/cnv6b", (3, 3, 512, 512), C),
    ("depth_net/cnv7", (3, 3, 512, 512), C), ("depth_net/cnv7b", (3, 3, 512, 512), C),
    ("depth_net/upcnv7", (3, 3, 512, 512), T), ("depth_net/icnv7", (3, 3, 1024, 512), C),
    ("depth_net/upcnv6", (3, 3, 512, 512), T), ("depth_net/icnv6", (3, 3, 1024, 512), C),
    ("depth_net/upcnv5", (3, 3, 256, 512), T), ("depth_net/icnv5", (3, 3, 512, 256), C),
    ("depth_net/upcnv4", (3, 3, 128, 256), T), ("depth_net/icnv4", (3, 3, 256, 128), C),
    ("depth_net/disp4", (3, 3, 128, 1), C),
    ("depth_net/upcnv3", (3, 3, 64, 128), T), ("depth_net/icnv3", (3, 3, 129, 64), C),
    ("depth_net/disp3", (3, 3, 64, 1), C),
    ("depth_net/upcnv2", (3, 3, 32, 64), T), ("depth_net/icnv2", (3, 3, 65, 32), C),
    ("depth_net/disp2", (3, 3, 32, 1), C),
    ("depth_net/upcnv1", (3, 3, 16, 32), T), ("depth_net/icnv1", (3, 3, 17, 16), C),
    ("depth_net/disp1", (3, 3, 16, 1), C),
    ("pose_exp_net/cnv1", (7, 7, 9, 16), C), ("pose_exp_net/cnv2", (5, 5, 16, 32), C),
    ("pose_exp_net/cnv3", (3, 3, 32, 64), C), ("pose_exp_net/cnv4", (3, 3, 64, 128), C),
    ("pose_exp_net/cnv5", (3, 3, 128, 256), C),
    ("pose_exp_net/pose/cnv6", (3, 3, 256, 256), C), ("pose_exp_net/pose/cnv7", (3, 3, 256, 256), C),
    ("pose_exp_net/pose/pred", (1, 1, 256, 12), C),
    ("pose_exp_net/exp/upcnv5", (3, 3, 256, 256), T), ("pose_exp_net/exp/upcnv4", (3, 3, 128, 256), T),
    ("pose_exp_net/exp/mask4", (3, 3, 128, 4), C), ("pose_exp_net/exp/upcnv3", (3, 3, 64, 128), T),
    ("pose_exp_net/exp/mask3", (3, 3, 64, 4), C), ("pose_exp_net/exp/upcnv2", (5, 5, 32, 64), T),
    ("pose_exp_net/exp/mask2", (5, 5, 32, 4), C), ("pose_exp_net/exp/upcnv1", (7, 7, 16, 32), T),
    ("pose_exp_net/exp/mask1", (7, 7, 16, 4), C),
]


def spec_variables() -> list[tuple[str, tuple[int, ...]]]:
    """The 98 (TF1 name, shape) rows of the original's table, in table order."""
    rows = []
    for scope, shape, kind in ORIGINAL_LAYERS:
        rows += [(f"{scope}/weights", shape), (f"{scope}/biases", (shape[3] if kind == C else shape[2],))]
    return rows


# --- prepared samples for a toy training run ------------------------------------------------------------------

TOY_FLAGS = (f"--img_height={HEIGHT}", f"--img_width={WIDTH}", "--batch_size=2", "--progress_every_s=0")


def write_dataset(root: Path, count: int = 6) -> Path:
    """`count` prepared 3-frame samples of random texture (the pipeline's format)."""
    rng = np.random.default_rng(0)
    k = np.array([[WIDTH, 0.0, WIDTH / 2], [0.0, WIDTH, HEIGHT / 2], [0.0, 0.0, 1.0]])
    for i in range(count):
        frames = [rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8) for _ in range(3)]
        write_sample(root / "drive" / f"{i:06d}.jpg", frames, k)
    (root / "train.txt").write_text("".join(f"drive {i:06d}\n" for i in range(count)))
    return root


# --- a drive of the synthetic data set as a video -------------------------------------------------------------

SYNTHETIC_DRIVE = "1970_01_01/1970_01_01_drive_0001_sync"


def drive_frames(synthetic_root: Path) -> list[Path]:
    return sorted((synthetic_root / "kitti_raw" / SYNTHETIC_DRIVE / "image_02" / "data").glob("*.png"))


def write_mp4(frames: list[Path], path: Path) -> Path:
    first = cv2.imread(str(frames[0]))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (first.shape[1], first.shape[0]))
    for frame in frames:
        writer.write(cv2.imread(str(frame)))
    writer.release()
    return path


# --- point clouds, read back ---------------------------------------------------------------------------------

def read_ply(path: Path) -> tuple[str, list[str], np.ndarray, np.ndarray]:
    """(format, comments, points [N, 3] float32, colours [N, 3] uint8) of a vertex-only PLY file with the
    properties x y z (float) red green blue (uchar), read without the library's code."""
    data = Path(path).read_bytes()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    lines = data[:end].decode("ascii").splitlines()
    assert lines[0] == "ply"
    fmt = lines[1].split()[1]
    comments = [line[len("comment "):] for line in lines if line.startswith("comment ")]
    count = int(next(line for line in lines if line.startswith("element vertex")).split()[2])
    properties = [tuple(line.split()[1:]) for line in lines if line.startswith("property")]
    assert properties == [("float", "x"), ("float", "y"), ("float", "z"), ("uchar", "red"), ("uchar", "green"),
                          ("uchar", "blue")]
    if fmt == "binary_little_endian":
        body = np.frombuffer(data[end:], dtype=np.dtype("<f4, <f4, <f4, u1, u1, u1"))
        assert len(body) == count
        points = np.stack([body[f"f{i}"] for i in range(3)], axis=1)
        colors = np.stack([body[f"f{i}"] for i in range(3, 6)], axis=1)
    else:
        assert fmt == "ascii"
        rows = [line.split() for line in data[end:].decode("ascii").splitlines()]
        assert len(rows) == count and all(len(row) == 6 for row in rows)
        points = np.array([[float(v) for v in row[:3]] for row in rows], dtype=np.float32).reshape(-1, 3)
        colors = np.array([[int(v) for v in row[3:]] for row in rows], dtype=np.uint8).reshape(-1, 3)
    return fmt, comments, points, colors


def loop_back_projection(depth: np.ndarray, image: np.ndarray, k: np.ndarray,
                         max_depth: float | None, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Pixel by pixel: X = (u - cx) z / fx, Y = (v - cy) z / fy, Z = z for z > 0 (and <= max_depth)."""
    points, colors = [], []
    for v in range(0, depth.shape[0], stride):
        for u in range(0, depth.shape[1], stride):
            z = float(depth[v, u])
            if z > 0 and np.isfinite(z) and (max_depth is None or z <= max_depth):
                points.append([(u - k[0, 2]) * z / k[0, 0], (v - k[1, 2]) * z / k[1, 1], z])
                colors.append(image[v, u])
    return np.array(points, np.float32).reshape(-1, 3), np.array(colors, np.uint8).reshape(-1, 3)
