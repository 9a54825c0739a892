"""Renders the synthetic driving data set: python -m sfmlearner_tf.apps.render_synthetic --output_dir=DIR."""

from __future__ import annotations

import time

from flags import render_synthetic as render_flags
from sfmlearner_tf.apps import run_program


def _render() -> None:
    from sfmlearner_tf.synthetic import render_dataset

    config = render_flags.config_from_flags()
    start = time.monotonic()
    manifest = render_dataset(render_flags.FLAGS.output_dir, config, num_workers=render_flags.FLAGS.num_workers)
    print(f"render_synthetic: {len(manifest.drives)} drives x {config.num_frames} frames at "
          f"{config.width}x{config.height} in {time.monotonic() - start:.1f} s -> {manifest.root}")


def main() -> None:
    """Console-script entry point (sfm-render-synthetic)."""
    run_program("sfm-render-synthetic", _render)


if __name__ == "__main__":
    main()
