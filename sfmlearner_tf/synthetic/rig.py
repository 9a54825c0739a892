"""The sensor rig: KITTI's calibration (2011_09_26 values) written as KITTI text files, and read back.

The renderer derives every transform from the files it wrote (read with `kitti_io`), so the calibration a user
reads is exactly the one the images, depth maps and scans were made with. Only rectified camera 2 is
rendered; its intrinsics are KITTI's P_rect_02 scaled to the chosen resolution, and its centre sits where
P_rect_02's 4th column puts it (about 6 cm left of camera 0). The unrectified entries (S, K, D, R, T) are
plausible KITTI-like values kept consistent with the rectified ones (R_rect_xx . R_xx = R_rect_00 and
R_rect_xx . T_xx = the rectified offset), but no unrectified image exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfmlearner_tf.ops.rotations import axis_rotations
from sfmlearner_tf.prep import kitti_io
from sfmlearner_tf.synthetic.config import KITTI_HEIGHT, KITTI_WIDTH

CAMERA_HEIGHT_M = 1.65
KITTI_K_RECT = np.array([[7.215377e02, 0.0, 6.095593e02], [0.0, 7.215377e02, 1.728540e02], [0.0, 0.0, 1.0]])
# 4th columns of KITTI's P_rect_00..03 (pixels); the rectified camera offsets are K^-1 of these.
KITTI_P_RECT_COLUMN = {
    0: (0.0, 0.0, 0.0),
    1: (-3.875744e02, 0.0, 0.0),
    2: (4.485728e01, 2.163791e-01, 2.745884e-03),
    3: (-3.395242e02, 2.199936e00, 2.729905e-03),
}
KITTI_R_RECT_00 = np.array([9.999239e-01, 9.837760e-03, -7.445048e-03, -9.869795e-03, 9.999421e-01, -4.278459e-03,
                            7.402527e-03, 4.351614e-03, 9.999631e-01]).reshape(3, 3)
KITTI_VELO_TO_CAM_R = np.array([7.533745e-03, -9.999714e-01, -6.166020e-04, 1.480249e-02, 7.280733e-04,
                                -9.998902e-01, 9.998621e-01, 7.523790e-03, 1.480755e-02]).reshape(3, 3)
KITTI_VELO_TO_CAM_T = np.array([-4.069766e-03, -7.631618e-02, -2.717806e-01])
KITTI_IMU_TO_VELO_R = np.array([9.999976e-01, 7.553071e-04, -2.035826e-03, -7.854027e-04, 9.998898e-01,
                                -1.482298e-02, 2.024406e-03, 1.482454e-02, 9.998881e-01]).reshape(3, 3)
KITTI_IMU_TO_VELO_T = np.array([-8.086759e-01, 3.195559e-01, -7.997231e-01])
UNRECTIFIED_SIZE = (1392, 512)
CALIB_TIME = "01-Jan-1970 00:00:00"


def _fmt(values: np.ndarray | tuple[float, ...]) -> str:
    return " ".join(f"{v:e}" for v in np.asarray(values, dtype=np.float64).ravel())


def _rotation_zyx(rx: float, ry: float, rz: float) -> np.ndarray:
    """Rz . Ry . Rx: the small per-camera rectifying rotations of the synthetic calibration."""
    rot_x, rot_y, rot_z = axis_rotations(rx, ry, rz)
    return rot_z @ rot_y @ rot_x


def rectified_intrinsics(width: int, height: int) -> np.ndarray:
    """KITTI's rectified K scaled to width x height (fx, cx by width/1242; fy, cy by height/375)."""
    scale = np.diag([width / KITTI_WIDTH, height / KITTI_HEIGHT, 1.0])
    return scale @ KITTI_K_RECT


def rectified_offsets() -> dict[int, np.ndarray]:
    """Rectified camera offsets t_xx (metres, rectified camera-0 axes): P_rect_xx = K [I | t_xx]."""
    k_inv = np.linalg.inv(KITTI_K_RECT)
    return {cam: k_inv @ np.array(col) for cam, col in KITTI_P_RECT_COLUMN.items()}


def cam_to_cam_text(width: int, height: int) -> str:
    """calib_cam_to_cam.txt for cameras 00..03 at rectified size width x height."""
    k_rect = rectified_intrinsics(width, height)
    unrect_scale = np.diag([width / KITTI_WIDTH, height / KITTI_HEIGHT, 1.0])
    lines = [f"calib_time: {CALIB_TIME}", f"corner_dist: {9.95e-02:e}"]
    for cam, offset in rectified_offsets().items():
        r_rect = _rotation_zyx(1.1e-3 * cam, -0.7e-3 * cam, 0.4e-3 * cam) @ KITTI_R_RECT_00
        rotation = np.round(np.linalg.solve(r_rect, KITTI_R_RECT_00), 12)
        translation = np.linalg.solve(r_rect, offset)
        focal = 9.8e02 + 5 * cam
        k_unrect = unrect_scale @ np.array([[focal, 0.0, 6.9e02 + cam], [0.0, focal, 2.33e02 + cam], [0.0, 0.0, 1.0]])
        size = (UNRECTIFIED_SIZE[0] * width / KITTI_WIDTH, UNRECTIFIED_SIZE[1] * height / KITTI_HEIGHT)
        projection = np.hstack([k_rect, (k_rect @ offset)[:, None]])
        lines += [
            f"S_{cam:02d}: {_fmt(size)}",
            f"K_{cam:02d}: {_fmt(k_unrect)}",
            f"D_{cam:02d}: {_fmt((-3.7e-01, 2.0e-01, 2.0e-03, 1.4e-03, -7.2e-02))}",
            f"R_{cam:02d}: {_fmt(rotation)}",
            f"T_{cam:02d}: {_fmt(translation)}",
            f"S_rect_{cam:02d}: {_fmt((width, height))}",
            f"R_rect_{cam:02d}: {_fmt(r_rect)}",
            f"P_rect_{cam:02d}: {_fmt(projection)}",
        ]
    return "\n".join(lines) + "\n"


def velo_to_cam_text() -> str:
    """calib_velo_to_cam.txt (KITTI's R, T; delta_f, delta_c zero as in KITTI)."""
    return (f"calib_time: {CALIB_TIME}\nR: {_fmt(KITTI_VELO_TO_CAM_R)}\nT: {_fmt(KITTI_VELO_TO_CAM_T)}\n"
            f"delta_f: {_fmt((0.0, 0.0))}\ndelta_c: {_fmt((0.0, 0.0))}\n")


def imu_to_velo_text() -> str:
    """calib_imu_to_velo.txt (KITTI's R, T): not used by the original code, but oxts poses need it."""
    return f"calib_time: {CALIB_TIME}\nR: {_fmt(KITTI_IMU_TO_VELO_R)}\nT: {_fmt(KITTI_IMU_TO_VELO_T)}\n"


def _homogeneous(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = np.ravel(translation)
    return matrix


@dataclass(frozen=True)
class Rig:
    """Transforms read back from a date folder's calibration files (4x4 float64 unless noted)."""

    intrinsics: np.ndarray  # 3x3, rectified camera 2 = P_rect_02[:, :3]
    projections: tuple[np.ndarray, ...]  # P_rect_00..03, 3x4
    rect0_from_velo: np.ndarray  # R_rect_00 . [R|T]: the odometry 'Tr'
    cam2_from_velo: np.ndarray  # rectified camera 2 (x right, y down, z forward)
    velo_from_imu: np.ndarray
    imu_height: float  # IMU height above the road that puts camera 2 at CAMERA_HEIGHT_M

    @property
    def imu_from_cam2(self) -> np.ndarray:
        return np.linalg.inv(self.velo_from_imu) @ np.linalg.inv(self.cam2_from_velo)

    @property
    def imu_from_rect0(self) -> np.ndarray:
        return np.linalg.inv(self.velo_from_imu) @ np.linalg.inv(self.rect0_from_velo)


def read_rig(date_dir: str | Path) -> Rig:
    """Builds the rig from `<date>/calib_{cam_to_cam,velo_to_cam,imu_to_velo}.txt` (kitti_io readers)."""
    date_dir = Path(date_dir)
    cam_path = date_dir / "calib_cam_to_cam.txt"
    cam = kitti_io.read_calib_file(cam_path)
    projections = tuple(kitti_io.calib_matrix(cam, f"P_rect_{i:02d}", (3, 4), cam_path) for i in range(4))
    r_rect = _homogeneous(kitti_io.calib_matrix(cam, "R_rect_00", (3, 3), cam_path), np.zeros(3))
    velo_path = date_dir / "calib_velo_to_cam.txt"
    velo = kitti_io.read_calib_file(velo_path)
    cam0_from_velo = _homogeneous(kitti_io.calib_matrix(velo, "R", (3, 3), velo_path),
                                  kitti_io.calib_matrix(velo, "T", (3, 1), velo_path))
    imu_path = date_dir / "calib_imu_to_velo.txt"
    imu = kitti_io.read_calib_file(imu_path)
    velo_from_imu = _homogeneous(kitti_io.calib_matrix(imu, "R", (3, 3), imu_path),
                                 kitti_io.calib_matrix(imu, "T", (3, 1), imu_path))
    k2 = projections[2][:, :3]
    cam2_offset = np.linalg.solve(k2, projections[2][:, 3])
    rect0_from_velo = r_rect @ cam0_from_velo
    cam2_from_velo = _homogeneous(np.eye(3), cam2_offset) @ rect0_from_velo
    cam2_in_imu = np.linalg.inv(velo_from_imu) @ np.linalg.inv(cam2_from_velo) @ np.array([0.0, 0.0, 0.0, 1.0])
    return Rig(intrinsics=k2, projections=projections, rect0_from_velo=rect0_from_velo,
               cam2_from_velo=cam2_from_velo, velo_from_imu=velo_from_imu,
               imu_height=CAMERA_HEIGHT_M - float(cam2_in_imu[2]))


def odometry_calib_text(rig: Rig) -> str:
    """Odometry `calib.txt`: P0..P3 and Tr (velodyne -> rectified camera 0), 12 values each."""
    lines = [f"P{i}: {_fmt(p)}" for i, p in enumerate(rig.projections)]
    lines.append(f"Tr: {_fmt(rig.rect0_from_velo[:3])}")
    return "\n".join(lines) + "\n"
