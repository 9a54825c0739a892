"""The whole Mask R-CNN: Keras 2 HDF5 loading (random weights of the real names and shapes), detection, and the
boundary program end to end on small synthetic frames and a fake KITTI drive."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from absl import flags
from PIL import Image

from mask_rcnn_prep.boundary_job import BoundaryJobConfig, run_boundary_job
from mask_rcnn_prep.config import MaskRcnnConfig
from mask_rcnn_prep.h5_layout import coco_layout, random_weights, write_keras2_weights
from mask_rcnn_prep.inference import MaskRcnnPredictor
from mask_rcnn_prep.manifest import DoneManifest
from mask_rcnn_prep.show_detections import ShowConfig, show_detections
from mask_rcnn_prep.weights_h5 import load_keras2_weights
from sfmlearner_tf.errors import CheckpointError
from sfmlearner_tf.prep.samples import append_boundary_panel, read_sample, write_sample

CAR = 3
# Cheap settings for 2 CPU cores: a 416x128 frame is only padded to 448x128, 50 proposals instead of 1000,
# at most 10 detections.
TEST_CONFIG = MaskRcnnConfig(resize_mode="pad64", image_min_dim=0, post_nms_rois=50, detection_max_instances=10)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """Random weights in the COCO file's layout; every ROI is a confident 'car' with a full-box mask."""
    values = random_weights(coco_layout(), seed=0)
    logit_bias = np.zeros(81, np.float32)
    logit_bias[CAR] = 12.0
    values["mrcnn_class_logits"] = [("mrcnn_class_logits/kernel:0", np.zeros((1024, 81), np.float32)),
                                    ("mrcnn_class_logits/bias:0", logit_bias)]
    mask_bias = np.full(81, -6.0, np.float32)
    mask_bias[CAR] = 6.0
    values["mrcnn_mask"] = [("mrcnn_mask/kernel:0", np.zeros((1, 1, 256, 81), np.float32)),
                            ("mrcnn_mask/bias:0", mask_bias)]
    path = tmp_path_factory.mktemp("weights") / "mask_rcnn_coco.h5"
    write_keras2_weights(path, values)
    return path, values


@pytest.fixture(scope="module")
def predictor(weights):
    return MaskRcnnPredictor(weights[0], TEST_CONFIG)


def street_frame(seed: int) -> np.ndarray:
    """A 416x128 frame: sky, road, and a few dark boxes."""
    rng = np.random.default_rng(seed)
    frame = np.zeros((128, 416, 3), np.uint8)
    frame[:60] = (150, 180, 230)
    frame[60:] = (90, 90, 95)
    for _ in range(3):
        y, x = rng.integers(50, 90), rng.integers(0, 360)
        frame[y : y + 30, x : x + 50] = rng.integers(0, 80, 3)
    return frame


def box_boundary(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Numpy Sobel-L2 boundary (max over instances, edge magnitude 4 -> 255) of filled pixel boxes."""
    kernel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64)
    best = np.zeros(shape)
    for y1, x1, y2, x2 in boxes:
        mask = np.zeros(shape)
        mask[y1:y2, x1:x2] = 1
        padded = np.pad(mask, 1)
        gx = sum(kernel[i, j] * padded[i : i + shape[0], j : j + shape[1]] for i in range(3) for j in range(3))
        gy = sum(kernel[j, i] * padded[i : i + shape[0], j : j + shape[1]] for i in range(3) for j in range(3))
        best = np.maximum(best, np.hypot(gx, gy))
    return np.round(np.clip(best / 4, 0, 1) * 255).astype(np.uint8)


# ---------------------------------------------------------------- weights


def test_layout_has_the_coco_files_layers_and_parameter_count(predictor):
    layout = coco_layout()
    assert len(layout) == 233
    assert sum(int(np.prod(shape)) for entries in layout.values() for _, shape in entries) == 64_158_584
    assert set(predictor.model.named_layers()) == set(layout)
    assert layout["rpn_model"][2] == ("rpn_class_raw/kernel:0", (1, 1, 512, 6))
    assert predictor.num_loaded == 690


def test_loaded_variables_equal_the_file_values(predictor, weights):
    layers = predictor.model.named_layers()
    compared = 0
    for name, entries in weights[1].items():
        variables = {v.name: v for v in layers[name].weights} if name != "rpn_model" else {
            f"{inner.name}/{v.name}": v for inner in layers[name].layers for v in inner.weights}
        for weight_name, value in entries:
            key = weight_name.removesuffix(":0").split("/", 1)[1] if name != "rpn_model" else weight_name[:-2]
            np.testing.assert_array_equal(variables[key].numpy(), value)
            compared += 1
    assert compared == 690


def test_bad_file_lists_every_missing_layer_and_wrong_shape(predictor, tmp_path):
    layout = coco_layout()
    values = random_weights({"conv1": layout["conv1"], "bn_conv1": layout["bn_conv1"]})
    values["conv1"][0] = ("conv1/kernel:0", np.zeros((7, 7, 3, 32), np.float32))
    values["bn_conv1"] = values["bn_conv1"][:3]  # no moving_variance
    path = tmp_path / "broken.h5"
    write_keras2_weights(path, values)
    with pytest.raises(CheckpointError) as err:
        load_keras2_weights(predictor.model.named_layers(), path)
    message = str(err.value)
    assert str(path) in message and "233 problem(s)" in message
    assert "'conv1/kernel': file shape (7, 7, 3, 32), model expects (7, 7, 3, 64)" in message
    assert "layer 'bn_conv1' lacks weight 'moving_variance'" in message
    assert "missing layer 'rpn_model'" in message and "missing layer 'mrcnn_mask'" in message
    assert message.count("missing layer") == 231


def test_non_hdf5_and_absent_files_are_clear_errors(predictor, tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    with pytest.raises(CheckpointError, match=r"junk\.h5: cannot be read as HDF5"):
        load_keras2_weights(predictor.model.named_layers(), junk)
    with pytest.raises(CheckpointError, match=r"absent\.h5: weights file not found"):
        load_keras2_weights(predictor.model.named_layers(), tmp_path / "absent.h5")


# ---------------------------------------------------------------- detection and the program


def test_detect_gives_well_formed_full_box_car_masks(predictor):
    frames = [street_frame(1), street_frame(2)]
    results = predictor.detect(frames)
    assert len(results) == 2
    for result in results:
        count = len(result.class_ids)
        assert 0 < count <= 10
        assert result.masks.shape == (count, 128, 416) and result.masks.dtype == bool
        assert result.boxes.dtype == np.int32 and np.all(result.class_ids == CAR)
        assert np.all(result.scores >= 0.7) and np.all(np.diff(result.scores) <= 0)
        assert np.all(result.boxes[:, :2] >= 0) and np.all(result.boxes[:, 2] <= 128) and np.all(
            result.boxes[:, 3] <= 416)
        for mask, (y1, x1, y2, x2) in zip(result.masks, result.boxes):
            assert mask.sum() == (y2 - y1) * (x2 - x1) and mask[y1:y2, x1:x2].all()


def make_dump(root, frames_per_sample: list[list[np.ndarray]]):
    intrinsics = np.array([[240.0, 0, 208], [0, 240, 64], [0, 0, 1]])
    names = []
    for i, frames in enumerate(frames_per_sample):
        write_sample(root / "drive_02" / f"{i:010d}.jpg", frames, intrinsics)
        names.append(f"drive_02 {i:010d}")
    (root / "train.txt").write_text("\n".join(names[:-1]) + "\n")
    (root / "val.txt").write_text(names[-1] + "\n")


def test_dataset_mode_writes_panels_resumes_and_replaces_stale_panels(predictor, weights, tmp_path, capsys):
    dump = tmp_path / "dump"
    samples = [[street_frame(3 * i + k) for k in range(3)] for i in range(3)]
    make_dump(dump, samples)
    append_boundary_panel(dump / "drive_02" / "0000000002.jpg", np.full((128, 416), 77, np.uint8), 3, 416)  # stale
    config = BoundaryJobConfig(weights_path=str(weights[0]), input_dir=str(dump), batch_size=2,
                               inspect_dir=str(tmp_path / "inspect"), model=TEST_CONFIG)
    result = run_boundary_job(config, predictor)
    assert (result.in_shard, result.skipped, result.processed, result.with_instances) == (3, 0, 3, 3)
    for i, frames in enumerate(samples):
        jpg = dump / "drive_02" / f"{i:010d}.jpg"
        read_frames, boundary = read_sample(jpg, 3, 416)
        assert boundary is not None and boundary.shape == (128, 416) and boundary.dtype == np.uint8
        assert np.abs(read_frames.astype(int) - np.stack(frames)).mean() < 3  # frames survive the re-encode
        inspected = np.load(tmp_path / "inspect" / "drive_02" / f"{i:010d}.npz")
        expected = box_boundary(inspected["boxes"], (128, 416))
        assert np.abs(boundary.astype(int) - expected).mean() < 4  # JPEG error only
        assert (boundary > 128).sum() > 0.8 * (expected == 255).sum()
        assert (tmp_path / "inspect" / "drive_02" / f"{i:010d}_overlay.png").is_file()
        assert set(inspected["class_names"]) == {"car"}
    again = run_boundary_job(config, predictor)
    assert (again.skipped, again.processed) == (3, 0)
    shard = run_boundary_job(BoundaryJobConfig(weights_path=str(weights[0]), input_dir=str(dump), num_shards=2,
                                               shard_index=1, model=dataclasses.replace(
                                                   TEST_CONFIG, detection_min_confidence=0.5)), predictor)
    assert (shard.in_shard, shard.skipped, shard.processed) == (1, 0, 1)  # new settings: nothing counts as done
    out = capsys.readouterr().out
    assert "mask_rcnn_prep: 3/3 frames" in out and "3 skipped as already done" in out


def test_drive_mode_writes_boundary_pngs(predictor, weights, tmp_path):
    data = tmp_path / "2011_09_26_drive_0001_sync" / "image_02" / "data"
    data.mkdir(parents=True)
    for i in range(4):
        Image.fromarray(np.repeat(np.repeat(street_frame(10 + i), 2, 0), 2, 1)).save(data / f"{i:010d}.png")
    config = BoundaryJobConfig(weights_path=str(weights[0]), input_dir=str(data.parents[1]), mode="drive",
                               output_dir=str(tmp_path / "out"), num_shards=2, shard_index=0, model=TEST_CONFIG)
    result = run_boundary_job(config, predictor)
    assert (result.in_shard, result.processed) == (2, 2)
    # The KITTI-relative path of each frame, as run_eval --boundary_dir expects.
    written = sorted((tmp_path / "out" / tmp_path.name / "2011_09_26_drive_0001_sync" / "image_02" / "data"
                      ).glob("*.png"))
    assert [p.name for p in written] == ["0000000000.png", "0000000002.png"]
    boundary = np.asarray(Image.open(written[0]))
    assert boundary.shape == (128, 416) and boundary.dtype == np.uint8 and boundary.max() == 255


def test_show_mode_lists_detections(predictor, weights, tmp_path):
    image = tmp_path / "street.png"
    Image.fromarray(street_frame(5)).save(image)
    text = show_detections(ShowConfig(weights_path=str(weights[0]), image_path=str(image), model=TEST_CONFIG,
                                           inspect_dir=str(tmp_path)), predictor)
    assert (tmp_path / "street_overlay.png").is_file()
    assert "690 weights loaded" in text and " car " in text and "score 1.000" in text


# ---------------------------------------------------------------- resumability and flags (no model)


def test_manifest_merges_shards_with_the_same_fingerprint_only(tmp_path):
    first = DoneManifest(tmp_path, "abc", 0, 2)
    first.mark(["a", "b"])
    first.save()
    DoneManifest(tmp_path, "other", 1, 2).save()
    resumed = DoneManifest(tmp_path, "abc", 1, 4)
    assert resumed.done == {"a", "b"} and resumed.mine == set()
    assert DoneManifest(tmp_path, "changed", 0, 2).done == set()


def test_flags_build_the_configs_and_reject_bad_values(tmp_path):
    from flags import mask_rcnn_prep as prep_flags

    values = flags.FlagValues()
    prep_flags.define_flags(values)
    values(["prog", "--weights=w.h5", "--input_dir=d", "--num_shards=3", "--shard_index=2", "--resize_mode=pad64",
            "--image_min_dim=256", "--keep_classes=car,person"])
    config = prep_flags.config_from_flags(values)
    assert (config.num_shards, config.shard_index, config.model.image_min_dim) == (3, 2, 256)
    assert config.model.keep_class_ids == (3, 1)
    bad = flags.FlagValues()
    prep_flags.define_flags(bad)
    with pytest.raises(flags.IllegalFlagValueError, match=r"shard_index must be in \[0, num_shards="):
        bad(["prog", "--weights=w.h5", "--input_dir=d", "--num_shards=2", "--shard_index=2"])


@pytest.mark.slow
def test_default_square_resizing_through_the_mask_source(weights, tmp_path):
    """matterport's default (416x128 -> 1024x1024, 1000 proposals) through the data-prep protocol."""
    from mask_rcnn_prep.mask_source import MaskRcnnInstanceMasks

    source = MaskRcnnInstanceMasks(weights[0], MaskRcnnConfig())
    masks = source.instance_masks(street_frame(9), tmp_path / "0000000000.png")
    assert masks.dtype == bool and masks.shape[1:] == (128, 416) and 0 < masks.shape[0] <= 100
    assert masks.any(axis=(1, 2)).all()
