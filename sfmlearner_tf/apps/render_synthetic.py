"""Renders the synthetic driving data set: python -m sfmlearner_tf.apps.render_synthetic --output_dir=DIR."""

from __future__ import annotations

import time

from absl import flags

from flags import render_synthetic as render_flags
from sfmlearner_tf.apps import run_program
from sfmlearner_tf.io_utils import output_locks


def _render(flag_values: flags.FlagValues) -> None:
    from sfmlearner_tf.synthetic import render_dataset

    request = render_flags.config_from_flags(flag_values)
    config = request.config
    start = time.monotonic()
    with output_locks("sfm-render-synthetic", [(request.output_dir, "folder", "--output_dir")]):
        manifest = render_dataset(request.output_dir, config, num_workers=request.num_workers)
    print(f"render_synthetic: {len(manifest.drives)} drives x {config.num_frames} frames at "
          f"{config.width}x{config.height} in {time.monotonic() - start:.1f} s -> {manifest.root}")


def main() -> None:
    """Console-script entry point (sfm-render-synthetic)."""
    run_program("sfm-render-synthetic", render_flags.define_flags, _render)


if __name__ == "__main__":
    main()
