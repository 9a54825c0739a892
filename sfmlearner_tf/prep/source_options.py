"""Options of the data sets prepared from the user's own footage (`video`) and from Cityscapes (`cityscapes`),
kept apart from PrepareConfig's KITTI fields. Defaults: the original's treatment where it had one."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.prep.camera_calib import MAX_PINHOLE_HFOV_DEG
from sfmlearner_tf.settings import check_settings, setting

CROP_MODES = ("resize", "center")
CITYSCAPES_SAMPLE_GAP = 2          # every second frame, to match KITTI's 10 Hz (Cityscapes records 17 Hz)
CITYSCAPES_KEEP_FRACTION = 0.75    # the bottom 25 % (the car's hood and logo) is cut after resizing
CITYSCAPES_RESIZE_HEIGHT = 171     # the original's --img_height for Cityscapes: 171 rows, 128 after the cut


@dataclass(frozen=True)
class VideoOptions:
    """dataset_name=video: a video file or a folder of frames (dataset_dir) of one camera.

    intrinsics: (fx, fy, cx, cy) of the frames as stored, or calib_file (see prep/camera_calib.py) with
    calib_name choosing a labelled line, or hfov_deg (horizontal field of view, degrees: a guess of K with the
    principal point at the centre, camera_calib.intrinsics_from_hfov).
    frame_step: keep every N-th frame. min_flow: static-frame threshold in
    pixels of a 416-wide frame (0 keeps all): a frame whose median optical flow from the last kept frame is
    below it is dropped, before neighbours are chosen, as the original drops KITTI's static frames.
    crop: "resize" scales the whole frame to the training size (as the original does for KITTI; the aspect
    ratio may change), "center" first cuts the widest centred window with the training aspect ratio.
    crop_bottom: fraction of rows cut off the bottom first (a car's hood). sequence_name: the output folder
    (default: the video's or folder's name).
    """

    intrinsics: tuple[float, float, float, float] | None = None
    calib_file: str = setting("", "video: calibration file instead of --fx/--fy/--cx/--cy: 4 numbers (fx fy cx cy), "
                              "9 (K row by row) or 12 (a KITTI-style 3x4 P); an optional 'label:' per line.")
    calib_name: str = setting("", "video: the label of the line to use in a calibration file with several (e.g. "
                              "P_rect_02 in KITTI's calib_cam_to_cam.txt, P2 in calib.txt).")
    hfov_deg: float | None = setting(None, "video: no calibration? The horizontal field of view in degrees instead "
                                     "of --fx/--fy/--cx/--cy or --calib_file: fx = fy = (W/2)/tan(hfov/2), principal "
                                     "point at the frame's centre (W/2, H/2); a guess, so depth and motion are only "
                                     "as right as it is.", low=0.0, low_open=True, high=MAX_PINHOLE_HFOV_DEG)
    frame_step: int = setting(1, "video: keep every N-th frame (30 fps footage: 3 gives KITTI's 10 Hz).", low=1)
    min_flow: float = setting(1.0, "video: drop a frame whose median optical flow from the last kept frame is below "
                              "this many pixels (of a 416-wide frame) (static frames); 0 keeps all.", low=0.0)
    crop: str = setting("resize", "video: resize = scale the whole frame to the training size (as for KITTI); "
                        "center = cut the widest centred window of the training aspect first.", choices=CROP_MODES)
    crop_bottom: float = setting(0.0, "video: fraction of rows cut off the bottom first (a car's hood).", low=0.0,
                                 high=0.9)
    sequence_name: str = setting("", "video: output folder name (default: the video's or folder's name).")

    def __post_init__(self) -> None:
        check_settings(self)
        if self.intrinsics is not None and not all(math.isfinite(v) and v > 0 for v in self.intrinsics):
            raise ConfigError(f"VideoOptions.intrinsics must be four finite numbers > 0, got {self.intrinsics}",
                              fields=("intrinsics",))
        ways = sum((self.intrinsics is not None, bool(self.calib_file), self.hfov_deg is not None))
        if ways > 1:
            raise ConfigError("--fx/--fy/--cx/--cy, --calib_file and --hfov_deg are three ways to give the "
                              "intrinsics: use one", fields=("calib_file", "hfov_deg"))


@dataclass(frozen=True)
class CityscapesOptions:
    """dataset_name=cityscapes: leftImg8bit_sequence/<split> frames and camera/<split> intrinsics; sample_gap
    frames between the frames of a sample (the original's 2)."""

    split: str = setting("train", "cityscapes: leftImg8bit_sequence/<split>.")
    sample_gap: int = setting(CITYSCAPES_SAMPLE_GAP, "cityscapes: frames between the frames of a sample (2, the "
                              "original's: Cityscapes' 17 Hz near KITTI's 10 Hz).", low=1)

    def __post_init__(self) -> None:
        check_settings(self)
