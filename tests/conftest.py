"""Shared fixtures: a small synthetic data set rendered once per test session, and TF settings for 2 cores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The original's split files are not ours to ship: ../shared/splits/ beside the checkout, or $SFM_SPLITS_DIR.
SHARED_SPLITS = Path(os.environ.get("SFM_SPLITS_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "splits"))


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 drives x 12 frames at 416x128 (1 held-out test drive), rendered once; read-only for tests."""
    from sfmlearner_tf.synthetic import SyntheticConfig, render_dataset

    root = tmp_path_factory.mktemp("synthetic")
    render_dataset(root, SyntheticConfig(num_drives=3, num_frames=12, width=416, height=128, seed=7,
                                         num_test_drives=1))
    return root


@pytest.fixture(scope="session")
def shared_splits() -> Path:
    """The original split files (not ours to ship), read from ../shared/splits/."""
    if not SHARED_SPLITS.is_dir():
        pytest.fail(f"{SHARED_SPLITS} not found: tests read the original split files (test_files_eigen.txt, "
                    "test_scenes_eigen.txt, static_frames.txt, ... from SfMLearner's data/kitti/) from "
                    "../shared/splits/ beside the checkout or from $SFM_SPLITS_DIR")
    return SHARED_SPLITS
