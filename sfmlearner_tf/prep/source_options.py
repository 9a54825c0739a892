"""Options of the data sets prepared from the user's own footage (`video`) and from Cityscapes (`cityscapes`),
kept apart from PrepareConfig's KITTI fields. Defaults: the original's treatment where it had one."""

from __future__ import annotations

from dataclasses import dataclass

CROP_MODES = ("resize", "center")
CITYSCAPES_SAMPLE_GAP = 2          # every second frame, to match KITTI's 10 Hz (Cityscapes records 17 Hz)
CITYSCAPES_KEEP_FRACTION = 0.75    # the bottom 25 % (the car's hood and logo) is cut after resizing
CITYSCAPES_RESIZE_HEIGHT = 171     # the original's --img_height for Cityscapes: 171 rows, 128 after the cut


@dataclass(frozen=True)
class VideoOptions:
    """dataset_name=video: a video file or a folder of frames (dataset_dir) of one camera.

    intrinsics: (fx, fy, cx, cy) of the frames as stored, or calib_file (see prep/camera_calib.py) with
    calib_name choosing a labelled line. frame_step: keep every N-th frame. min_flow: static-frame threshold in
    pixels of a 416-wide frame (0 keeps all): a frame whose median optical flow from the last kept frame is
    below it is dropped, before neighbours are chosen, as the original drops KITTI's static frames.
    crop: "resize" scales the whole frame to the training size (as the original does for KITTI; the aspect
    ratio may change), "center" first cuts the widest centred window with the training aspect ratio.
    crop_bottom: fraction of rows cut off the bottom first (a car's hood). sequence_name: the output folder
    (default: the video's or folder's name).
    """

    intrinsics: tuple[float, float, float, float] | None = None
    calib_file: str = ""
    calib_name: str = ""
    frame_step: int = 1
    min_flow: float = 1.0
    crop: str = "resize"
    crop_bottom: float = 0.0
    sequence_name: str = ""


@dataclass(frozen=True)
class CityscapesOptions:
    """dataset_name=cityscapes: leftImg8bit_sequence/<split> frames and camera/<split> intrinsics; sample_gap
    frames between the frames of a sample (the original's 2)."""

    split: str = "train"
    sample_gap: int = CITYSCAPES_SAMPLE_GAP
