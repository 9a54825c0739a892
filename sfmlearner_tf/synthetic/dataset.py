"""render_dataset: writes the synthetic drives in the KITTI raw and odometry layouts, with splits and a manifest.

Resumable: a frame whose four rendered files (image, velodyne, depth, instances) exist and are whole (cheap
checks: images decode, sizes fit) is not rendered again (every file is written atomically); manifest.json records
the config, and a different config in an existing folder is refused. Frames can be rendered by several processes
(spawned, so a parent that has TensorFlow loaded is safe).
"""

from __future__ import annotations

import filecmp
import json
import multiprocessing
import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfmlearner_tf import __version__
from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.io_utils import (
    LOCK_NAME,
    atomic_path,
    atomic_save_image,
    atomic_save_npy,
    atomic_write_bytes,
    atomic_write_text,
    check_writable_folder,
    image_is_whole,
    npy_is_whole,
    remove_temp_files,
)
from sfmlearner_tf.prep.kitti_io import VELODYNE_POINT_BYTES
from sfmlearner_tf.progress import ProgressReporter
from sfmlearner_tf.synthetic import rig as rig_module
from sfmlearner_tf.synthetic.config import FRAME_INTERVAL_S, SyntheticConfig
from sfmlearner_tf.synthetic.drive import Drive, make_drive
from sfmlearner_tf.synthetic.layout import (
    Layout,
    drive_name,
    odometry_times,
    pose_lines,
    raw_timestamps,
    sequence_name,
)
from sfmlearner_tf.synthetic.oxts import format_packet

MANIFEST_VERSION = 1
PENDING_CONFIG = ".synthetic_config.json"  # the config of a render in progress (removed when manifest.json is written)


@dataclass(frozen=True)
class SyntheticManifest:
    """What a rendered folder holds (the parsed manifest.json)."""

    root: Path
    config: SyntheticConfig
    date: str
    drives: tuple[str, ...]  # `<date>_drive_<dddd>_sync`, in order
    test_drives: tuple[str, ...]
    sequences: dict[str, str]  # drive -> odometry sequence
    static_frames: dict[str, tuple[int, ...]]
    intrinsics: np.ndarray  # 3x3 of image_02 (= P_rect_02[:, :3])

    @property
    def layout(self) -> Layout:
        """The folder layout of this data set (paths of drives, sequences, splits)."""
        return Layout(self.root, self.date)

    @property
    def train_drives(self) -> tuple[str, ...]:
        return tuple(d for d in self.drives if d not in self.test_drives)

    def to_json(self) -> str:
        body = {
            "format_version": MANIFEST_VERSION,
            "generator": f"sfmlearner_tf {__version__}",
            "config": self.config.to_dict(),
            "date": self.date,
            "image_size": [self.config.width, self.config.height],
            "frame_interval_s": FRAME_INTERVAL_S,
            "intrinsics": np.round(self.intrinsics, 9).tolist(),
            "drives": [{"name": d, "sequence": self.sequences[d], "split": "test" if d in self.test_drives else "train",
                        "num_frames": self.config.num_frames, "static_frames": list(self.static_frames[d])}
                       for d in self.drives],
        }
        return json.dumps(body, indent=2) + "\n"

    @classmethod
    def load(cls, root: str | os.PathLike) -> SyntheticManifest:
        """Reads `<root>/manifest.json`."""
        path = Path(root) / "manifest.json"
        if not path.is_file():
            raise DataError(f"{path}: file not found (not a rendered synthetic data set?)")
        try:
            body = json.loads(path.read_text())
            config = SyntheticConfig.from_dict(body["config"])
            drives = body["drives"]
            return cls(root=Path(root), config=config, date=body["date"],
                       drives=tuple(d["name"] for d in drives),
                       test_drives=tuple(d["name"] for d in drives if d["split"] == "test"),
                       sequences={d["name"]: d["sequence"] for d in drives},
                       static_frames={d["name"]: tuple(d["static_frames"]) for d in drives},
                       intrinsics=np.array(body["intrinsics"], dtype=np.float64))
        except (ValueError, KeyError, TypeError, ConfigError) as exc:
            raise DataError(f"{path}: malformed manifest ({exc})") from exc


def render_dataset(out_dir: str | os.PathLike, config: SyntheticConfig, num_workers: int = 1,
                   progress_every_s: float = 10.0) -> SyntheticManifest:
    """Renders (or completes) the data set described by `config` under `out_dir` and returns its manifest."""
    check_writable_folder(out_dir, "--output_dir")
    layout = Layout(Path(out_dir), config.date)
    _check_existing(layout, config)
    _write_calibration(layout, config)
    rig = rig_module.read_rig(layout.raw_date_dir)
    drives = [make_drive(config, rig, index) for index in range(config.num_drives)]
    manifest = _manifest(layout, config, drives, rig)
    _render_frames(layout, config, num_workers, progress_every_s)
    for drive in drives:
        _write_drive_texts(layout, drive)
        _write_odometry(layout, drive, rig)
    _write_splits(layout, manifest, drives)
    atomic_write_text(layout.manifest_path, manifest.to_json())
    (layout.root / PENDING_CONFIG).unlink(missing_ok=True)
    return manifest


def _check_existing(layout: Layout, config: SyntheticConfig) -> None:
    path = layout.manifest_path
    if path.is_file():
        existing = SyntheticManifest.load(layout.root)
        if existing.config != config:
            raise ConfigError(f"{path}: folder holds a data set rendered with a different config "
                              f"({existing.config}); render into a new folder")
    elif layout.root.is_dir() and any(path.name != LOCK_NAME for path in layout.root.iterdir()):  # a lock is no data
        pending = layout.root / PENDING_CONFIG
        if not pending.is_file() or _read_pending_config(pending) != config:
            raise ConfigError(f"{layout.root}: folder is not empty and holds no synthetic data set of this config")
        return
    layout.root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(layout.root / PENDING_CONFIG, json.dumps(config.to_dict(), indent=2) + "\n")


def _read_pending_config(path: Path) -> SyntheticConfig:
    try:
        return SyntheticConfig.from_dict(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError, ConfigError) as exc:
        raise DataError(f"{path}: damaged record of the render in progress ({exc}); it cannot tell which config the "
                        "frames in this folder belong to: render into a new folder") from exc


def _write_calibration(layout: Layout, config: SyntheticConfig) -> None:
    date_dir = layout.raw_date_dir
    atomic_write_text(date_dir / "calib_cam_to_cam.txt", rig_module.cam_to_cam_text(config.width, config.height))
    atomic_write_text(date_dir / "calib_velo_to_cam.txt", rig_module.velo_to_cam_text())
    atomic_write_text(date_dir / "calib_imu_to_velo.txt", rig_module.imu_to_velo_text())


def _manifest(layout: Layout, config: SyntheticConfig, drives: list[Drive], rig: rig_module.Rig) -> SyntheticManifest:
    names = tuple(drive_name(config.date, d.index) for d in drives)
    return SyntheticManifest(
        root=layout.root, config=config, date=config.date, drives=names,
        test_drives=names[len(names) - config.num_test_drives:],
        sequences={name: sequence_name(i) for i, name in enumerate(names)},
        static_frames={name: tuple(d.static_frames()) for name, d in zip(names, drives)},
        intrinsics=rig.intrinsics)


def _frame_is_rendered(files: dict[str, Path], config: SyntheticConfig) -> bool:
    """Cheap checks that a frame's four files are whole: both PNGs decode to the image size, the depth .npy loads
    with that shape, the velodyne scan is a non-empty whole number of points. A file truncated or damaged since
    the render fails them and the frame is rendered again (a scan cut at a point boundary is not detected)."""
    size = (config.width, config.height)
    scan_bytes = files["velodyne"].stat().st_size if files["velodyne"].is_file() else 0
    return (image_is_whole(files["image"], size) and image_is_whole(files["instances"], size)
            and npy_is_whole(files["depth"], (config.height, config.width))
            and scan_bytes > 0 and scan_bytes % VELODYNE_POINT_BYTES == 0)


def _pending_frames(layout: Layout, config: SyntheticConfig) -> list[tuple[int, int]]:
    return [(d, f) for d in range(config.num_drives) for f in range(config.num_frames)
            if not _frame_is_rendered(layout.frame_files(d, f), config)]


def _render_frames(layout: Layout, config: SyntheticConfig, num_workers: int, progress_every_s: float) -> None:
    pending = _pending_frames(layout, config)
    if not pending:
        return
    progress = ProgressReporter(len(pending), "render_synthetic", every_s=progress_every_s, unit="frames")
    chunks = _chunks(pending, max(1, num_workers) * 4)
    jobs = [(str(layout.root), config.to_dict(), chunk) for chunk in chunks]
    if num_workers <= 1:
        for job in jobs:
            progress.update(_render_chunk(job))
        return
    try:
        with multiprocessing.get_context("spawn").Pool(num_workers, initializer=_quiet_worker) as pool:
            for count in pool.imap_unordered(_render_chunk, jobs):
                progress.update(count)
    finally:  # the pool has ended its workers: a write that a signal cut short left its temporary file
        remove_temp_files(layout.root)


def _quiet_worker() -> None:
    """Pool initializer: a render worker leaves stopping to its parent. Ctrl-C is ignored (the terminal sends it
    to the workers too), and SIGTERM, which the parent's pool sends when it leaves the pool's block (done, or
    stopped by a signal or an error), keeps its default action: the kernel ends the worker at once, whichever of
    its threads it hands the signal to, and without a traceback. A Python handler can miss it: it runs only when
    the main thread next executes Python code (an idle worker blocks in a semaphore call and never does), and a
    signal that arrives as the handler is swapped back is dropped, so the parent waited for that worker forever
    (seen in CI, both ways). What a killed worker leaves, a temporary file, the parent removes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _chunks(pending: list[tuple[int, int]], count: int) -> list[list[tuple[int, int]]]:
    """Splits frames into about `count` chunks, each within one drive (a worker builds a drive once)."""
    size = max(1, -(-len(pending) // count))
    chunks: list[list[tuple[int, int]]] = []
    for item in pending:
        if chunks and len(chunks[-1]) < size and chunks[-1][0][0] == item[0]:
            chunks[-1].append(item)
        else:
            chunks.append([item])
    return chunks


_DRIVE_CACHE: dict[tuple[str, int], Drive] = {}


def _render_chunk(job: tuple[str, dict[str, object], list[tuple[int, int]]]) -> int:
    """Worker: renders and writes frames [(drive, frame), ...] of one drive."""
    root, config_dict, frames = job
    config = SyntheticConfig.from_dict(config_dict)
    layout = Layout(Path(root), config.date)
    drive_index = frames[0][0]
    key = (json.dumps(config_dict, sort_keys=True), drive_index)
    if key not in _DRIVE_CACHE:
        _DRIVE_CACHE.clear()
        _DRIVE_CACHE[key] = make_drive(config, rig_module.read_rig(layout.raw_date_dir), drive_index)
    drive = _DRIVE_CACHE[key]
    for _, frame in frames:
        camera, points = drive.render_frame(frame)
        files = layout.frame_files(drive_index, frame)
        atomic_save_image(files["image"], camera.image)
        atomic_save_npy(files["depth"], camera.depth)
        atomic_save_image(files["instances"], camera.instances)
        atomic_write_bytes(files["velodyne"], points.astype("<f4").tobytes())
    return len(frames)


def _write_drive_texts(layout: Layout, drive: Drive) -> None:
    """oxts packets, poses_02.txt, classes.json and KITTI's timestamps.txt files of one drive."""
    date, n = drive.config.date, drive.config.num_frames
    for frame, packet in enumerate(drive.oxts()):
        atomic_write_text(layout.frame_files(drive.index, frame)["oxts"], format_packet(packet))
    drive_dir = layout.drive_dir(drive.index)
    atomic_write_text(drive_dir / "poses_02.txt", pose_lines(drive.camera2_poses()))
    classes = {str(k): v for k, v in sorted(drive.classes.items())}
    atomic_write_text(drive_dir / "instances_02" / "classes.json", json.dumps(classes, indent=1) + "\n")
    stamps = raw_timestamps(date, drive.index, n)
    for folder in ("image_02", "oxts", "velodyne_points"):
        atomic_write_text(drive_dir / folder / "timestamps.txt", stamps)


def _write_odometry(layout: Layout, drive: Drive, rig: rig_module.Rig) -> None:
    """sequences/<dd>/{image_2, calib.txt, times.txt} and poses/<dd>.txt (rectified camera 0, first = identity)."""
    for frame in range(drive.config.num_frames):
        source, target = layout.frame_files(drive.index, frame)["image"], layout.odometry_image(drive.index, frame)
        if not (target.is_file() and filecmp.cmp(source, target, shallow=False)):
            with atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
    seq_dir = layout.sequence_dir(drive.index)
    atomic_write_text(seq_dir / "calib.txt", rig_module.odometry_calib_text(rig))
    atomic_write_text(seq_dir / "times.txt", odometry_times(drive.config.num_frames))
    poses = drive.rect0_poses()
    relative = np.linalg.inv(poses[0]) @ poses
    relative[0] = np.eye(4)  # exactly, not up to rounding
    atomic_write_text(layout.odometry_poses(drive.index), pose_lines(relative))


def _write_splits(layout: Layout, manifest: SyntheticManifest, drives: list[Drive]) -> None:
    config, date = manifest.config, manifest.date
    margin = config.test_frame_margin
    test_files = [f"{date}/{name}/image_02/data/{frame:010d}.png\n" for name in manifest.test_drives
                  for frame in range(margin, config.num_frames - margin)]
    scenes = [f"{name.removesuffix('_sync')}\n" for name in manifest.test_drives]
    static = [f"{date} {name} {frame:010d}\n" for name in manifest.drives for frame in manifest.static_frames[name]]
    splits = layout.splits_dir
    atomic_write_text(splits / "test_files_eigen.txt", "".join(test_files))
    atomic_write_text(splits / "test_scenes_eigen.txt", "".join(scenes))
    atomic_write_text(splits / "static_frames.txt", "".join(static))
    sequences = {
        "train": [manifest.sequences[d] for d in manifest.train_drives],
        "test": [manifest.sequences[d] for d in manifest.test_drives],
        "drives": {manifest.sequences[d]: d for d in manifest.drives},
    }
    atomic_write_text(splits / "odometry_sequences.json", json.dumps(sequences, indent=2) + "\n")
