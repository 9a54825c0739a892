"""The tf.data input pipeline: unpacking order, intrinsics, the augmentation's geometry (a bright dot projected
from a known 3D point), the boundary path, determinism, and errors naming the file. Tiny samples written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from sfmlearner_tf.data.augmentation import scale_and_crop
from sfmlearner_tf.data.pipeline import PipelineConfig, check_dataset, flip_sample, make_dataset, steps_per_epoch
from sfmlearner_tf.errors import DataError
from sfmlearner_tf.prep.samples import write_sample

H, W = 32, 64
K = np.array([[50.0, 0.0, 31.5], [0.0, 48.0, 15.25], [0.0, 0.0, 1.0]])
POINT = np.array([0.4, -0.3, 10.0])  # camera coordinates of the dot (projects near the centre)


def project(k: np.ndarray, point: np.ndarray) -> np.ndarray:
    uvw = k @ point
    return uvw[:2] / uvw[2]


def dot_image(uv: np.ndarray, sigma: float = 1.6) -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    blob = 230.0 * np.exp(-((x - uv[0]) ** 2 + (y - uv[1]) ** 2) / (2 * sigma**2))
    return np.repeat(blob[..., None], 3, axis=2).round().astype(np.uint8)


def centroid(image: np.ndarray) -> np.ndarray:
    weights = image.astype(np.float64)
    weights = np.where(weights > 0.1 * weights.max(), weights, 0.0)
    y, x = np.mgrid[0: image.shape[0], 0: image.shape[1]]
    return np.array([(weights * x).sum(), (weights * y).sum()]) / weights.sum()


def write_dataset(root: Path, count: int, seq_length: int = 3, boundary: bool = False,
                  frames_fn=None) -> Path:
    names = []
    for i in range(count):
        frames = frames_fn(i) if frames_fn else [np.full((H, W, 3), 20 + 40 * j + i, np.uint8)
                                                 for j in range(seq_length)]
        panel = frames[len(frames) // 2][..., 0] if boundary else None
        write_sample(root / "seq_02" / f"{i:010d}.jpg", frames, K, panel)
        names.append(f"seq_02 {i:010d}\n")
    (root / "train.txt").write_text("".join(names))
    return root


def config_for(root: Path, **overrides: object) -> PipelineConfig:
    settings = dict(dataset_dir=str(root), batch_size=2, img_height=H, img_width=W, seq_length=3,
                    shuffle=False, augment=False, num_parallel_calls=2)
    settings.update(overrides)
    return PipelineConfig(**settings)


def first_batch(config: PipelineConfig) -> dict[str, np.ndarray]:
    return {key: value.numpy() for key, value in next(iter(make_dataset(config))).items()}


def test_unpack_order_and_multiscale_intrinsics(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, 4, seq_length=5)
    batch = first_batch(config_for(root, seq_length=5))
    assert batch["tgt_image"].dtype == np.uint8 and batch["tgt_image"].shape == (2, H, W, 3)
    # Sample i, frame j is filled with 20 + 40 j + i; the target is frame 2, sources 0, 1, 3, 4 on channels.
    np.testing.assert_allclose(batch["tgt_image"][1].mean(), 20 + 80 + 1, atol=1)
    src_means = batch["src_image_stack"][0].reshape(-1, 4, 3).mean(axis=(0, 2))
    np.testing.assert_allclose(src_means, [20, 60, 140, 180], atol=1)
    assert batch["intrinsics"].shape == (2, 4, 3, 3)
    for s in range(4):
        want = K / 2**s
        want[2, 2] = 1.0
        np.testing.assert_allclose(batch["intrinsics"][0, s], want, rtol=1e-6)
    assert steps_per_epoch(config_for(root, seq_length=5, batch_size=3)) == 1


@pytest.mark.parametrize(("sx", "sy"), [(1.0, 1.0), (1.1234, 1.0271), (1.149, 1.08)])
def test_scale_and_crop_projection_exact_and_original(sx: float, sy: float) -> None:
    uv = project(K, POINT)
    images = tf.constant(dot_image(uv)[None].astype(np.float32))
    seed = tf.constant([3, 4], tf.int64)
    for exact in (False, True):
        out, k_new = scale_and_crop(images, tf.constant(K[None], tf.float32), tf.constant(sx), tf.constant(sy),
                                    seed, exact=exact)
        got = centroid(out.numpy()[0, ..., 0])
        predicted = project(k_new.numpy()[0].astype(np.float64), POINT)
        if exact:
            np.testing.assert_allclose(got, predicted, atol=0.03)
        else:
            # The original's K: off by (r - s) u + (r - 1) / 2 with r the realised scale int(n s) / n.
            r = np.array([int(np.float32(W) * np.float32(sx)) / W, int(np.float32(H) * np.float32(sy)) / H])
            quirk = (r - [sx, sy]) * uv + (r - 1) / 2
            np.testing.assert_allclose(got, predicted + quirk, atol=0.03)
            assert np.all(np.abs(got - predicted) < 1.0)


def test_pipeline_augmentation_keeps_dot_on_projection_and_boundary_aligned(tmp_path: Path) -> None:
    uv = project(K, POINT)
    root = write_dataset(tmp_path, 4, boundary=True, frames_fn=lambda i: [dot_image(uv)] * 3)
    config = config_for(root, augment=True, with_boundary=True, exact_intrinsics=True, batch_size=1)
    seen_scales = set()
    for batch in make_dataset(config):
        k_new = batch["intrinsics"].numpy()[0, 0].astype(np.float64)
        seen_scales.add(round(k_new[0, 0] / K[0, 0], 4))
        got = centroid(batch["tgt_image"].numpy()[0, ..., 0])
        np.testing.assert_allclose(got, project(k_new, POINT), atol=0.08)  # uint8 truncation and JPEG
        boundary = batch["boundary"].numpy()[0, ..., 0]
        assert boundary.dtype == np.float32 and boundary.min() >= 0.0 and boundary.max() <= 1.0
        np.testing.assert_allclose(centroid(boundary), got, atol=0.05)
        quarter = project(batch["intrinsics"].numpy()[0, 2].astype(np.float64), POINT)
        np.testing.assert_allclose(quarter, project(k_new, POINT) / 4, rtol=1e-5)
    assert len(seen_scales) >= 2 and all(1.0 <= s < 1.15 for s in seen_scales)  # realised int(64 s)/64


def test_flip_mirrors_images_boundary_and_principal_point(tmp_path: Path) -> None:
    """A flipped sample shows the dot where the mirrored point (-X, Y, Z) projects through the flipped K."""
    uv = project(K, POINT)
    root = write_dataset(tmp_path, 8, boundary=True, frames_fn=lambda i: [dot_image(uv)] * 3)
    config = config_for(root, augment=True, flip=True, with_boundary=True, exact_intrinsics=True, batch_size=1)
    flipped = 0
    for batch in make_dataset(config):
        k_new = batch["intrinsics"].numpy()[0, 0].astype(np.float64)
        got = centroid(batch["tgt_image"].numpy()[0, ..., 0])
        mirrored = np.array([-POINT[0], POINT[1], POINT[2]])
        is_flipped = abs(got[0] - project(k_new, POINT)[0]) > 1.0
        flipped += is_flipped
        np.testing.assert_allclose(got, project(k_new, mirrored if is_flipped else POINT), atol=0.08)
        np.testing.assert_allclose(centroid(batch["boundary"].numpy()[0, ..., 0]), got, atol=0.05)
    assert 0 < flipped < 8  # both outcomes drawn (8 draws at p = 1/2)


def test_flip_sample_moves_cx_to_w_minus_1_minus_cx() -> None:
    image = np.arange(2 * 5 * 3, dtype=np.uint8).reshape(2, 5, 3)
    sample = {"tgt_image": image, "src_image_stack": np.concatenate([image, image], -1), "intrinsics": K.astype(
        np.float32)}
    out = {key: value.numpy() for key, value in flip_sample(sample, tf.constant(True)).items()}
    np.testing.assert_array_equal(out["tgt_image"], image[:, ::-1])
    np.testing.assert_allclose(out["intrinsics"][0, 2], 5 - 1 - K[0, 2])
    np.testing.assert_allclose(np.delete(out["intrinsics"].ravel(), 2), np.delete(K.ravel(), 2))
    kept = flip_sample(sample, tf.constant(False))
    np.testing.assert_array_equal(kept["tgt_image"].numpy(), image)


def test_per_sample_augment_draws_a_scale_per_sample(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, 8)
    per_batch = first_batch(config_for(root, augment=True, batch_size=8))["intrinsics"][:, 0, 0, 0]
    per_sample = first_batch(config_for(root, augment=True, per_sample_augment=True, batch_size=8)
                             )["intrinsics"][:, 0, 0, 0]
    assert len(set(per_batch.round(5))) == 1  # the original: one draw shared by the batch
    assert len(set(per_sample.round(5))) == 8
    assert np.all((per_sample >= K[0, 0]) & (per_sample < 1.15 * K[0, 0]))


def test_flip_and_per_sample_augment_act_only_with_augment(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, 4)
    plain = first_batch(config_for(root))
    switched = first_batch(config_for(root, flip=True, per_sample_augment=True))
    for key in plain:
        np.testing.assert_array_equal(plain[key], switched[key])


def test_same_seed_same_batches_and_panel_ignored_without_boundary(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, 6, boundary=True)
    config = config_for(root, augment=True, shuffle=True, seed=5)
    first = [b["tgt_image"].numpy() for b in make_dataset(config)]
    again = [b["tgt_image"].numpy() for b in make_dataset(config)]
    other = [b["tgt_image"].numpy() for b in make_dataset(config_for(root, augment=True, shuffle=True, seed=6))]
    assert len(first) == 3
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))
    repeated = [b["tgt_image"].numpy() for b in make_dataset(config).repeat(2)]
    assert any(not np.array_equal(a, b) for a, b in zip(repeated[:3], repeated[3:]))  # reshuffled, redrawn


def error_text(config: PipelineConfig) -> str:
    with pytest.raises(tf.errors.OpError) as info:
        for _ in make_dataset(config):
            pass
    return str(info.value)


def test_corrupt_jpeg_is_reported_with_its_path(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, 4)
    bad = root / "seq_02" / "0000000002.jpg"
    data = bytearray(bad.read_bytes())
    data[2:40] = b"\x00" * 38  # destroy the header segments
    bad.write_bytes(bytes(data))
    message = error_text(config_for(root))
    assert "corrupt JPEG" in message and str(bad) in message


def test_wrong_width_and_missing_panel_are_reported_with_path(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, 2)
    message = error_text(config_for(root, img_width=W // 2))
    assert str(root / "seq_02" / "0000000000.jpg") in message and "width" in message
    message = error_text(config_for(root, with_boundary=True))
    assert "no boundary panel" in message and "0000000000.jpg" in message
    with pytest.raises(DataError, match=r"0000000000.jpg: sample has no boundary panel"):
        check_dataset(config_for(root, with_boundary=True))
    with pytest.raises(DataError, match=r"0000000000.jpg: width 192 matches neither"):
        check_dataset(config_for(root, img_width=W - 1))


def test_missing_list_and_bad_cam_file_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"train.txt: sample list not found"):
        check_dataset(config_for(tmp_path))
    root = write_dataset(tmp_path, 2)
    cam = root / "seq_02" / "0000000001_cam.txt"
    cam.write_text("50.0,0.,31.5,0.,48.0")
    message = error_text(config_for(root))
    assert "malformed camera file" in message and str(cam) in message
    (root / "seq_02" / "0000000000_cam.txt").unlink()
    with pytest.raises(DataError, match=r"0000000000_cam.txt: camera file not found"):
        check_dataset(config_for(root))
