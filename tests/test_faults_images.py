"""Images of any bit depth, one rule (sfmlearner_tf/ops/image_files.py) for every reader of a user's images:
hand-made 16-bit, 8-bit grey, bilevel, grey + alpha, RGBA and palette files give the RGB values numpy computes
from the stored pixels, through every reader (preparation, evaluation, sfm-predict, Mask R-CNN); images without a
white level are refused in one line naming the file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from mask_rcnn_prep.show_detections import ShowConfig, show_detections
from mask_rcnn_prep.work_items import read_resized_frame
from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation.depth_predict import load_resized_image
from sfmlearner_tf.ops.image_files import read_rgb
from sfmlearner_tf.prep.frame_images import load_frame
from sfmlearner_tf.prep.frame_sources import open_frame_source

HEIGHT, WIDTH = 6, 10


def grey_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=-1).astype(np.uint8)


def hand_made(folder: Path) -> dict[str, tuple[Path, np.ndarray]]:
    """name -> (file, the RGB uint8 the rule gives, computed with numpy from the stored pixels)."""
    rng = np.random.default_rng(5)
    made = {}

    def save(name: str, image: Image.Image, expected: np.ndarray, suffix: str = ".png") -> None:
        path = folder / f"{name}{suffix}"
        image.save(path)
        made[name] = (path, expected)

    deep = rng.integers(0, 65536, (HEIGHT, WIDTH), dtype=np.uint16)
    deep[0, :4] = [0, 255, 256, 65535]  # the ends and both sides of a high-byte step
    save("grey16", Image.fromarray(deep), grey_rgb(deep >> 8))
    save("grey16_tiff", Image.fromarray(deep), grey_rgb(deep >> 8), ".tif")
    save("int32_within_16_bits", Image.fromarray(deep.astype(np.int32)), grey_rgb(deep >> 8), ".tif")
    grey = rng.integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8)
    save("grey8", Image.fromarray(grey), grey_rgb(grey))
    bits = rng.integers(0, 2, (HEIGHT, WIDTH)).astype(bool)
    save("bilevel", Image.fromarray(bits), grey_rgb(np.where(bits, 255, 0)))
    alpha = rng.integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8)
    save("grey_alpha", Image.fromarray(np.dstack([grey, alpha]), "LA"), grey_rgb(grey))
    rgba = rng.integers(0, 256, (HEIGHT, WIDTH, 4), dtype=np.uint8)
    save("rgba", Image.fromarray(rgba), rgba[..., :3])
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    indices = rng.integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8)
    image = Image.fromarray(indices, "L").convert("P")
    image.putpalette(palette.ravel().tolist())
    save("palette", image, palette[indices])
    # 16-bit colour (written by OpenCV, BGR): PIL itself keeps each channel's high byte, as the rule does for grey.
    deep_rgb = rng.integers(0, 65536, (HEIGHT, WIDTH, 3), dtype=np.uint16)
    cv2.imwrite(str(folder / "rgb16.png"), deep_rgb[..., ::-1])
    made["rgb16"] = (folder / "rgb16.png", (deep_rgb >> 8).astype(np.uint8))
    return made


def test_every_reader_gives_the_rule_s_rgb(tmp_path: Path) -> None:
    made = hand_made(tmp_path)
    with Image.open(made["grey16"][0]) as opened:
        assert opened.mode == "I;16"  # what PIL makes of a 16-bit PNG: the case that became all white
    for name, (path, expected) in made.items():
        np.testing.assert_array_equal(read_rgb(path), expected, err_msg=name)
        np.testing.assert_array_equal(load_frame(path), expected, err_msg=name)  # preparation
        np.testing.assert_array_equal(load_resized_image(path, HEIGHT, WIDTH), expected, err_msg=name)  # eval
        np.testing.assert_array_equal(read_resized_frame(path, WIDTH, HEIGHT), expected, err_msg=name)  # Mask R-CNN
        (frame_name, frame), = open_frame_source(path).frames()  # sfm-predict
        assert frame_name == name
        np.testing.assert_array_equal(frame, expected, err_msg=name)
    # OpenCV reads a 16-bit file as 8 bits the same way (high byte), so either library gives the same frame.
    np.testing.assert_array_equal(cv2.imread(str(made["grey16"][0]), cv2.IMREAD_COLOR), made["grey16"][1])


def test_old_conversion_made_16_bit_frames_white(tmp_path: Path) -> None:
    """The conversion every reader used before (PIL's convert("RGB")) clips 16-bit values at 255."""
    path, expected = hand_made(tmp_path)["grey16"]
    with Image.open(path) as image:
        old = np.asarray(image.convert("RGB"))
    values = np.asarray(Image.open(path))
    np.testing.assert_array_equal(old[..., 0], np.minimum(values, 255))  # all white but the values under 255
    assert (old == 255).mean() > 0.9 and not np.array_equal(old, expected)


class _Recorder:
    """A stand-in for the Mask R-CNN predictor: records the image it is given, finds nothing."""

    num_loaded = 0

    def __init__(self) -> None:
        self.images: list[np.ndarray] = []

    def detect_all_classes(self, images: list[np.ndarray]) -> list[object]:
        from mask_rcnn_prep.masks import Detections

        self.images.extend(images)
        return [Detections(np.zeros((0, 4), np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32),
                           np.zeros((0, HEIGHT, WIDTH), bool))]


def test_mask_rcnn_show_reads_by_the_rule(tmp_path: Path) -> None:
    path, expected = hand_made(tmp_path)["grey16"]
    recorder = _Recorder()
    listing = show_detections(ShowConfig(weights_path="unused.h5", image_path=str(path)), recorder)
    assert listing.endswith("0 instance(s)") and f"({WIDTH}x{HEIGHT})" in listing
    np.testing.assert_array_equal(recorder.images[0], expected)


@pytest.mark.parametrize(("array", "message"), [
    (np.array([[0, 70000]], np.int32), "a 32-bit integer image \\(values 0..70000\\): only 8- and 16-bit"),
    (np.array([[-5, 3]], np.int32), "a 32-bit integer image \\(values -5..3\\)"),
    (np.array([[0.5, 1.0]], np.float32), "a floating-point image \\(no defined white level\\)"),
])
def test_images_without_a_white_level_are_refused_by_name(tmp_path: Path, array: np.ndarray, message: str) -> None:
    path = tmp_path / "deep.tif"
    Image.fromarray(array).save(path)
    for read in (read_rgb, load_frame, lambda p: load_resized_image(p, 1, 2)):
        with pytest.raises(DataError, match=f"^{path}: {message}") as caught:
            read(path)
        assert "\n" not in str(caught.value) and len(str(caught.value)) < 300


def test_missing_and_corrupt_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=f"^{tmp_path / 'none.png'}: image not found$"):
        read_rgb(tmp_path / "none.png")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(DataError, match=f"^{tmp_path / 'bad.png'}: corrupt or unreadable image "):
        read_rgb(tmp_path / "bad.png")
