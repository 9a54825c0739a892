"""docs/QUIRKS.md: every module, function and test it names exists; and the quirks no other test file checks
(the max_steps off-by-one, the explainability switch, the batch-wide augmentation draw, the test-time resize)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from sfmlearner_tf.data.augmentation import random_scale_and_crop
from sfmlearner_tf.evaluation.depth_predict import load_resized_image
from sfmlearner_tf.training.config import TrainConfig

REPO = Path(__file__).resolve().parents[1]
QUIRKS = (REPO / "docs" / "QUIRKS.md").read_text()
TEST_REFS = sorted(set(re.findall(r"tests/(\w+\.py)::(\w+)", QUIRKS)))
CODE_REFS = sorted(set(re.findall(r"`((?:sfmlearner_tf|mask_rcnn_prep)[\w.]*):([\w.]+)`", QUIRKS)))


def test_the_page_names_tests_and_code() -> None:
    assert len(TEST_REFS) >= 40 and len(CODE_REFS) >= 30, (len(TEST_REFS), len(CODE_REFS))


@pytest.mark.parametrize(("file", "name"), TEST_REFS)
def test_named_test_exists(file: str, name: str) -> None:
    tree = ast.parse((REPO / "tests" / file).read_text())
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert name in names, f"docs/QUIRKS.md names tests/{file}::{name}, which does not exist"


@pytest.mark.parametrize(("module", "path"), CODE_REFS)
def test_named_code_exists(module: str, path: str) -> None:
    target = importlib.import_module(module)
    for part in path.split("."):
        assert hasattr(target, part), f"docs/QUIRKS.md names {module}:{path}, which does not exist"
        target = getattr(target, part)


def test_max_steps_runs_one_step_less_unless_the_last_is_included() -> None:
    assert TrainConfig.from_settings(max_steps=5).last_step == 4  # range(1, 5): steps 1, 2, 3, 4
    assert TrainConfig.from_settings(max_steps=5, include_last_step=True).last_step == 5


def test_explainability_branch_only_with_a_positive_weight() -> None:
    assert (TrainConfig().loss.do_exp, TrainConfig.from_settings(explain_reg_weight=0.2).loss.do_exp) == (False, True)


def test_augmentation_draw_is_shared_by_the_batch() -> None:
    """Four copies of one image and K come out identical (one scale and crop for all), while other seeds draw
    other scales (so identical copies are not a coincidence of one draw)."""
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (1, 32, 48, 3)).astype(np.float32)
    k = np.array([[[40.0, 0, 24], [0, 40, 16], [0, 0, 1]]], np.float32)
    fx_seen = set()
    for seed in range(4):
        images, intrinsics = random_scale_and_crop(tf.constant(np.repeat(image, 4, 0)), tf.constant(np.repeat(k, 4, 0)),
                                                   tf.constant([seed, 7]))
        images, intrinsics = images.numpy(), intrinsics.numpy()
        for copy in range(1, 4):
            np.testing.assert_array_equal(images[copy], images[0])
            np.testing.assert_array_equal(intrinsics[copy], intrinsics[0])
        assert 40.0 <= intrinsics[0, 0, 0] < 40.0 * 1.15
        fx_seen.add(float(intrinsics[0, 0, 0]))
    assert len(fx_seen) == 4


def test_depth_test_images_are_resized_with_lanczos(tmp_path: Path) -> None:
    """The depth test images go through PIL's LANCZOS filter (the original's ANTIALIAS), not bilinear."""
    rng = np.random.default_rng(1)
    path = tmp_path / "frame.png"
    Image.fromarray(rng.integers(0, 256, (75, 250, 3), dtype=np.uint8)).save(path)
    with Image.open(path) as raw:
        lanczos = np.asarray(raw.convert("RGB").resize((96, 32), Image.Resampling.LANCZOS))
        bilinear = np.asarray(raw.convert("RGB").resize((96, 32), Image.Resampling.BILINEAR))
    loaded = load_resized_image(path, 32, 96)
    np.testing.assert_array_equal(loaded, lanczos)
    assert np.abs(loaded.astype(int) - bilinear).max() > 10
