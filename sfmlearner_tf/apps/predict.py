"""sfm-predict: depth for your own images or video, the camera trajectory with a pose checkpoint, point clouds and
a metric scale with the camera's intrinsics (flags: flags/predict.py)."""

from __future__ import annotations

from absl import flags

from flags import predict as predict_flags
from sfmlearner_tf.apps import run_program
from sfmlearner_tf.io_utils import output_locks


def _predict(flag_values: flags.FlagValues) -> None:
    from sfmlearner_tf.predict import predict

    config, notes = predict_flags.config_and_notes_from_flags(flag_values)
    for note in filter(None, notes):
        print(f"sfm-predict: {note}", flush=True)
    with output_locks("sfm-predict", [(config.output_dir, "folder", "--output_dir")]):
        result = predict(config)
    for note in result.notes:
        print(f"sfm-predict: {note}", flush=True)
    print(f"sfm-predict: {result.frames} frames in {result.seconds:.1f} s ({result.frames_per_second:.2f} frames/s, "
          f"depth model {result.depth_checkpoint}) -> {config.output_dir}", flush=True)
    for label, path in (("video", result.video), ("trajectory", result.trajectory),
                        ("trajectory plot", result.trajectory_plot), ("metric depth and trajectory", result.metric_dir),
                        ("point clouds", result.clouds_dir), ("fused point cloud", result.fused_cloud)):
        if path:
            print(f"sfm-predict: {label}: {path}", flush=True)


def main() -> None:
    """Console-script entry point (sfm-predict)."""
    run_program("sfm-predict", predict_flags.define_flags, _predict)


if __name__ == "__main__":
    main()
