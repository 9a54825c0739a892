"""sfm-mask-rcnn-prep (also `python -m sfmlearner_tf.apps.mask_rcnn_prep`): boundary images of prepared samples from
Mask R-CNN instance masks, or detections drawn on images (flags: flags/mask_rcnn_prep.py)."""

from __future__ import annotations

from sfmlearner_tf.apps import run_program  # first: it quiets TensorFlow before anything imports it

# isort: split
from absl import flags

from flags import mask_rcnn_prep as prep_flags
from mask_rcnn_prep.boundary_job import run_boundary_job
from mask_rcnn_prep.show_detections import ShowConfig, show_detections
from sfmlearner_tf.io_utils import output_locks


def _prep(flag_values: flags.FlagValues) -> None:
    config = prep_flags.config_from_flags(flag_values)
    if isinstance(config, ShowConfig):
        with output_locks("sfm-mask-rcnn-prep", [(config.inspect_dir, "folder", "--inspect_dir")]):
            print(show_detections(config))
        return
    written = ((config.output_dir, "folder", "--output_dir") if config.mode == "drive"
               else (config.input_dir, "folder", "--input_dir"))  # dataset mode: panels beside the samples
    with output_locks("sfm-mask-rcnn-prep", [written, (config.inspect_dir, "folder", "--inspect_dir")]):
        run_boundary_job(config)


def main() -> None:
    """Console script `sfm-mask-rcnn-prep`."""
    run_program("sfm-mask-rcnn-prep", prep_flags.define_flags, _prep)


if __name__ == "__main__":
    main()
