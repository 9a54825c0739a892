"""sfm-prepare-data's job: preparation with Mask R-CNN plugged in (boundary_source=mask_rcnn gets
mask_rcnn_prep's instance masks), then the TFDS data set if asked for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.io_utils import check_writable_folder
from sfmlearner_tf.prep.config import PrepareConfig, PrepareResult
from sfmlearner_tf.prep.mask_sources import InstanceMaskSource
from sfmlearner_tf.prep.prepare import prepare_dataset
from sfmlearner_tf.settings import check_settings, setting

_FOCAL_HELP = "video: {} in pixels of the frames as stored (the four go together; or --calib_file, --hfov_deg)."


@dataclass(frozen=True)
class PrepareRequest:
    """What sfm-prepare-data does: prepare `config`, then build the TFDS data set in `tfds_data_dir` if set. A
    video's intrinsics may be given as four numbers (`fx`, `fy`, `cx`, `cy`), which become config.video.intrinsics
    (`video_intrinsics`)."""

    config: PrepareConfig
    tfds_data_dir: str = setting("", "If set, also build the TFDS data set (sfm_prepared_samples) there once every "
                                 "sample exists.")
    fx: float | None = setting(None, _FOCAL_HELP.format("focal length x"), low=0.0, low_open=True)
    fy: float | None = setting(None, _FOCAL_HELP.format("focal length y"), low=0.0, low_open=True)
    cx: float | None = setting(None, _FOCAL_HELP.format("principal point x"), low=0.0, low_open=True)
    cy: float | None = setting(None, _FOCAL_HELP.format("principal point y"), low=0.0, low_open=True)

    def __post_init__(self) -> None:
        check_settings(self)
        if len({value is None for value in (self.fx, self.fy, self.cx, self.cy)}) > 1:
            raise ConfigError("--fx, --fy, --cx and --cy go together (or use --calib_file)", fields=("fx",))

    @property
    def video_intrinsics(self) -> tuple[float, float, float, float] | None:
        return None if self.fx is None else (self.fx, self.fy, self.cx, self.cy)


def mask_rcnn_masks(weights_path: str) -> InstanceMaskSource:
    """Mask R-CNN's instance masks of the driving classes (mask_rcnn_prep, imported only when asked for)."""
    from mask_rcnn_prep.config import MaskRcnnConfig
    from mask_rcnn_prep.mask_source import MaskRcnnInstanceMasks

    return MaskRcnnInstanceMasks(weights_path, MaskRcnnConfig())


def prepare(config: PrepareConfig, stream: TextIO | None = None) -> PrepareResult:
    """prepare_dataset with every boundary source of --boundary_source available."""
    return prepare_dataset(config, stream=stream, mask_rcnn=mask_rcnn_masks)


def prepare_request(request: PrepareRequest, stream: TextIO | None = None) -> tuple[PrepareResult, str | None]:
    """Prepares; with tfds_data_dir, then builds the TFDS data set once every sample exists. Returns the result
    and a line about the TFDS data set (None when none was built)."""
    if request.tfds_data_dir:
        check_writable_folder(request.tfds_data_dir, "--tfds_data_dir")
    result = prepare(request.config, stream)
    if not (request.tfds_data_dir and result.lists_written):
        return result, None
    from sfmlearner_tf.data.tfds_builder import build_prepared_samples

    built = build_prepared_samples(request.config.dump_root, request.tfds_data_dir)
    return result, f"TFDS data set in {request.tfds_data_dir}: {built}"
