"""sfm-prepare-data --dataset_name=cityscapes on a small Cityscapes-layout tree written here: the original's sample
gap of 2, the 171-row resize and bottom crop to 128 rows, and K scaled by 416/2048 and 171/1024 (by hand)."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.prep.cityscapes import CityscapesLoader
from sfmlearner_tf.prep.config import PrepareConfig
from sfmlearner_tf.prep.prepare import prepare_dataset
from sfmlearner_tf.prep.samples import read_sample
from sfmlearner_tf.prep.source_options import CityscapesOptions

REPO = Path(__file__).resolve().parents[1]
# aachen_000000_000019's intrinsics in Cityscapes' camera_trainvaltest.zip.
INTRINSIC = {"fx": 2262.52, "fy": 2265.3017905988554, "u0": 1096.98, "v0": 513.137}
SNIPPETS = {("aachen", "000000"): range(15, 22), ("aachen", "000001"): range(0, 3), ("bochum", "000004"): range(0, 5)}


@cache
def _gradients(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    return (np.arange(width) * 255 // width).astype(np.uint8), (np.arange(height) * 255 // height).astype(np.uint8)


def frame_image(seed: int, height: int = 1024, width: int = 2048) -> np.ndarray:
    """A smooth image (PNG-friendly) that differs per frame: gradients plus a bright bottom band (the 'hood')."""
    across, down = _gradients(height, width)
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = across + np.uint8(seed * 20 % 256)  # wraps around, as uint8 does
    image[..., 1] = down[:, np.newaxis]
    image[..., 2] = seed * 37 % 256
    image[int(height * 0.8):] = 250
    return image


@pytest.fixture(scope="module")
def cityscapes_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cityscapes")
    for (city, seq), numbers in SNIPPETS.items():
        image_dir = root / "leftImg8bit_sequence" / "train" / city
        camera_dir = root / "camera" / "train" / city
        image_dir.mkdir(parents=True, exist_ok=True)
        camera_dir.mkdir(parents=True, exist_ok=True)
        for number in numbers:
            Image.fromarray(frame_image(number)).save(image_dir / f"{city}_{seq}_{number:06d}_leftImg8bit.png",
                                                      compress_level=1)
        camera = {"extrinsic": {"baseline": 0.209313}, "intrinsic": INTRINSIC}
        (camera_dir / f"{city}_{seq}_000019_camera.json").write_text(json.dumps(camera))
    return root


def test_samples_are_two_frames_apart_within_a_snippet(cityscapes_root: Path) -> None:
    samples = CityscapesLoader(cityscapes_root).samples(3)
    got = [tuple(frame.frame_id for frame in sample.frames) for sample in samples]
    assert got == [("aachen_000000_000015", "aachen_000000_000017", "aachen_000000_000019"),
                   ("aachen_000000_000016", "aachen_000000_000018", "aachen_000000_000020"),
                   ("aachen_000000_000017", "aachen_000000_000019", "aachen_000000_000021"),
                   ("bochum_000004_000000", "bochum_000004_000002", "bochum_000004_000004")]
    assert [s.relative_jpg for s in samples][-1] == "bochum/bochum_000004_000002.jpg"
    assert CityscapesLoader(cityscapes_root).samples(5) == []  # 5 frames 2 apart span 9: no snippet is long enough


def test_the_program_with_the_originals_sizes(cityscapes_root: Path, tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "sfmlearner_tf.apps.prepare_data", "--dataset_name=cityscapes",
         f"--dataset_dir={cityscapes_root}", f"--dump_root={tmp_path}", "--num_threads=2"],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    jpg = tmp_path / "aachen" / "aachen_000000_000018.jpg"
    with Image.open(jpg) as image:
        assert image.size == (3 * 416, 128)  # 171 rows after the resize, int(171 * 0.75) = 128 kept
    # By hand: 2048x1024 -> 416x171 gives zoom_x = 416 / 2048 = 0.203125 and zoom_y = 171 / 1024 = 0.1669921875.
    fx, cx = 2262.52 * 0.203125, 1096.98 * 0.203125
    fy, cy = 2265.3017905988554 * 0.1669921875, 513.137 * 0.1669921875
    assert (fx, cx, fy, cy) == pytest.approx((459.574375, 222.8240625, 378.28770136, 85.68987012))
    assert (tmp_path / "aachen" / "aachen_000000_000018_cam.txt").read_text() == (
        "%f,0.,%f,0.,%f,%f,0.,0.,1." % (fx, cx, fy, cy))  # noqa: UP031
    frames, _ = read_sample(jpg, 3, 416)
    for panel, number in zip(frames, (16, 18, 20)):
        resized = np.asarray(Image.fromarray(frame_image(number)).resize((416, 171), Image.Resampling.BILINEAR))
        assert np.abs(panel.astype(np.float32) - resized[:128]).mean() < 2.0
    # The hood band (from row 0.8 x 171 = 136.8 of the resized frame, blurred over a few rows) is cut off.
    assert resized[140:].min() == 250 and frames[1][120:].mean() < 240
    listed = sorted((tmp_path / "train.txt").read_text().splitlines() + (tmp_path / "val.txt").read_text().splitlines())
    assert listed == ["aachen aachen_000000_000017", "aachen aachen_000000_000018", "aachen aachen_000000_000019",
                      "bochum bochum_000004_000002"]


def test_missing_or_broken_camera_files_are_named(cityscapes_root: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="leftImg8bit_sequence/val: Cityscapes frame folder not found"):
        prepare_dataset(PrepareConfig(dataset_name="cityscapes", dataset_dir=str(cityscapes_root),
                                      dump_root=str(tmp_path), img_height=171,
                                      cityscapes=CityscapesOptions(split="val")))
    broken = tmp_path / "broken"
    for path in cityscapes_root.rglob("*"):
        target = broken / path.relative_to(cityscapes_root)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.suffix == ".json" and "bochum" in path.name:
            target.write_text('{"intrinsic": {"fx": 1}}')
        elif path.suffix == ".png" and "bochum" in path.name:
            target.symlink_to(path)
    loader = CityscapesLoader(broken)
    with pytest.raises(DataError, match=r"bochum_000004_000019_camera.json: not a Cityscapes camera file"):
        loader.intrinsics(loader.samples(3)[0].target)
