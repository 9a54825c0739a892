"""Mask R-CNN's custom pieces against independent numpy computations and hand-worked numbers."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from mask_rcnn_prep.anchors import level_anchors, pyramid_anchors
from mask_rcnn_prep.box_utils import apply_box_deltas, clip_boxes, denorm_boxes, norm_boxes
from mask_rcnn_prep.coco_classes import COCO_CLASS_NAMES, class_ids_for
from mask_rcnn_prep.config import MaskRcnnConfig
from mask_rcnn_prep.detection import per_class_nms, refine_detections
from mask_rcnn_prep.heads import MaskHead, RoiDistributed
from mask_rcnn_prep.masks import unmold_detections
from mask_rcnn_prep.molding import mold_image, resize_plan
from mask_rcnn_prep.proposal import ProposalLayer
from mask_rcnn_prep.roi_align import PyramidRoiAlign, roi_levels
from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.ops.boundary import boundary_from_instance_masks

# ---------------------------------------------------------------- numpy references


def np_apply_deltas(boxes, deltas):
    h = boxes[:, 2] - boxes[:, 0]
    w = boxes[:, 3] - boxes[:, 1]
    cy = boxes[:, 0] + h / 2 + deltas[:, 0] * h
    cx = boxes[:, 1] + w / 2 + deltas[:, 1] * w
    h = h * np.exp(deltas[:, 2])
    w = w * np.exp(deltas[:, 3])
    return np.stack([cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2], axis=1)


def np_iou(box, boxes):
    y1 = np.maximum(box[0], boxes[:, 0])
    x1 = np.maximum(box[1], boxes[:, 1])
    y2 = np.minimum(box[2], boxes[:, 2])
    x2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(y2 - y1, 0, None) * np.clip(x2 - x1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    # TF's NMS counts the overlap with an empty (zero-area) box as 0.
    return np.divide(inter, union, out=np.zeros_like(union), where=union > 0)


def np_greedy_nms(boxes, scores, threshold, max_out):
    order = list(np.argsort(-scores, kind="stable"))
    keep = []
    while order and len(keep) < max_out:
        best = order.pop(0)
        keep.append(best)
        order = [i for i in order if np_iou(boxes[best], boxes[[i]])[0] <= threshold]
    return np.array(keep, dtype=np.int64)


def np_crop_and_resize(image, box, size):
    """Bilinear crop of one [H, W, C] map: sample (i, j) at y1*(H-1) + i*(y2-y1)*(H-1)/(size-1); 0 outside."""
    height, width = image.shape[:2]
    out = np.zeros((size, size, image.shape[2]), dtype=np.float64)
    for i in range(size):
        y = box[0] * (height - 1) + i * (box[2] - box[0]) * (height - 1) / (size - 1)
        for j in range(size):
            x = box[1] * (width - 1) + j * (box[3] - box[1]) * (width - 1) / (size - 1)
            if not (0 <= y <= height - 1 and 0 <= x <= width - 1):
                continue
            y0, x0 = int(np.floor(y)), int(np.floor(x))
            y1, x1 = min(y0 + 1, height - 1), min(x0 + 1, width - 1)
            dy, dx = y - y0, x - x0
            top = image[y0, x0] * (1 - dx) + image[y0, x1] * dx
            bottom = image[y1, x0] * (1 - dx) + image[y1, x1] * dx
            out[i, j] = top * (1 - dy) + bottom * dy
    return out


def random_boxes(rng, count, low=0.0, high=1.0, min_size=0.05):
    y1 = rng.uniform(low, high - min_size, count)
    x1 = rng.uniform(low, high - min_size, count)
    y2 = np.minimum(y1 + rng.uniform(min_size, 0.5, count), high)
    x2 = np.minimum(x1 + rng.uniform(min_size, 0.5, count), high)
    return np.stack([y1, x1, y2, x2], axis=1).astype(np.float32)


# ---------------------------------------------------------------- classes and config


def test_coco_classes_and_driving_defaults():
    assert len(COCO_CLASS_NAMES) == 81 and COCO_CLASS_NAMES[0] == "BG"
    assert COCO_CLASS_NAMES[1:9] == ("person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck")
    assert MaskRcnnConfig().keep_class_ids == (1, 2, 3, 4, 6, 7, 8)
    assert class_ids_for(("all",)) == tuple(range(1, 81))
    with pytest.raises(ConfigError, match="unicorn"):
        MaskRcnnConfig(keep_classes=("car", "unicorn"))


# ---------------------------------------------------------------- anchors


def test_level_anchors_hand_computed():
    anchors = level_anchors(tf.constant([2, 3]), 8.0, (0.5, 1.0, 2.0), stride=4, anchor_stride=1).numpy()
    s = np.sqrt(2.0)
    assert anchors.shape == (18, 4)
    np.testing.assert_allclose(anchors[0], [-4 * s, -2 * s, 4 * s, 2 * s], rtol=1e-6)  # (y0, x0), ratio 0.5
    np.testing.assert_allclose(anchors[1], [-4, -4, 4, 4], rtol=1e-6)  # ratio 1
    np.testing.assert_allclose(anchors[2], [-2 * s, -4 * s, 2 * s, 4 * s], rtol=1e-6)  # ratio 2
    np.testing.assert_allclose(anchors[3], [-4 * s, 4 - 2 * s, 4 * s, 4 + 2 * s], rtol=1e-6)  # x = 4
    np.testing.assert_allclose(anchors[9], [4 - 4 * s, -2 * s, 4 + 4 * s, 2 * s], rtol=1e-6)  # y = 4
    np.testing.assert_allclose(anchors[17], [4 - 2 * s, 8 - 4 * s, 4 + 2 * s, 8 + 4 * s], rtol=1e-6)


def test_pyramid_anchors_count_and_normalisation():
    anchors = pyramid_anchors(tf.constant([64, 64]), MaskRcnnConfig()).numpy()
    assert anchors.shape == (3 * (16 * 16 + 8 * 8 + 4 * 4 + 2 * 2 + 1), 4)
    half_h, half_w = 16 * np.sqrt(2.0), 8 * np.sqrt(2.0)  # scale 32, ratio 0.5, centre (0, 0)
    np.testing.assert_allclose(anchors[0], [-half_h / 63, -half_w / 63, (half_h - 1) / 63, (half_w - 1) / 63],
                               rtol=1e-5)
    # The last anchor: level P6 (stride 64, scale 512), position (0, 0), ratio 2.
    np.testing.assert_allclose(anchors[-1], [-128 * np.sqrt(2.0) / 63, -256 * np.sqrt(2.0) / 63,
                                             (128 * np.sqrt(2.0) - 1) / 63, (256 * np.sqrt(2.0) - 1) / 63], rtol=1e-5)


# ---------------------------------------------------------------- boxes


def test_apply_box_deltas_hand_example_and_clip():
    box = tf.constant([[10.0, 20.0, 30.0, 60.0]])
    refined = apply_box_deltas(box, tf.constant([[0.1, -0.2, np.log(2.0), 0.0]], tf.float32)).numpy()
    np.testing.assert_allclose(refined, [[2.0, 12.0, 42.0, 52.0]], rtol=1e-6)
    clipped = clip_boxes(tf.constant(refined), tf.constant([5.0, 0.0, 40.0, 50.0])).numpy()
    np.testing.assert_allclose(clipped, [[5.0, 12.0, 40.0, 50.0]])


def test_norm_denorm_boxes():
    boxes = np.array([[0, 0, 128, 416], [10, 20, 50, 120]])
    normed = norm_boxes(boxes, (128, 416))
    np.testing.assert_allclose(normed[0], [0, 0, 1, 1])
    np.testing.assert_allclose(normed[1], [10 / 127, 20 / 415, 49 / 127, 119 / 415], rtol=1e-6)
    np.testing.assert_array_equal(denorm_boxes(normed, (128, 416)), boxes)


# ---------------------------------------------------------------- NMS, proposals, detections


def test_per_class_nms_matches_numpy_greedy():
    rng = np.random.default_rng(1)
    boxes = random_boxes(rng, 60)
    scores = rng.uniform(0, 1, 60).astype(np.float32)
    classes = rng.integers(1, 4, 60).astype(np.int32)
    kept = per_class_nms(tf.constant(boxes), tf.constant(scores), tf.constant(classes), 100, 0.3).numpy()
    expected = np.concatenate([np.flatnonzero(classes == c)[np_greedy_nms(boxes[classes == c], scores[classes == c],
                                                                           0.3, 100)] for c in (1, 2, 3)])
    np.testing.assert_array_equal(kept, np.sort(expected))
    assert 5 < len(kept) < 60  # NMS actually removed boxes and kept several


def test_proposal_layer_matches_numpy():
    rng = np.random.default_rng(2)
    config = dataclasses.replace(MaskRcnnConfig(), pre_nms_limit=30, post_nms_rois=12)
    anchors = random_boxes(rng, 50, -0.1, 1.1)
    logits = rng.normal(size=(2, 50, 2)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    deltas = rng.normal(0, 1, (2, 50, 4)).astype(np.float32)
    got = ProposalLayer(config)(tf.constant(probs), tf.constant(deltas), tf.constant(anchors)).numpy()
    for b in range(2):
        order = np.argsort(-probs[b, :, 1])[:30]
        boxes = np.clip(np_apply_deltas(anchors[order], deltas[b, order] * [0.1, 0.1, 0.2, 0.2]), 0.0, 1.0)
        keep = np_greedy_nms(boxes, probs[b, order, 1], 0.7, 12)
        expected = np.zeros((12, 4))
        expected[: len(keep)] = boxes[keep]
        np.testing.assert_allclose(got[b], expected, atol=1e-5)


def test_refine_detections_matches_numpy():
    rng = np.random.default_rng(3)
    config = dataclasses.replace(MaskRcnnConfig(), detection_min_confidence=0.3, detection_max_instances=8)
    count, classes = 40, 5
    rois = random_boxes(rng, count)
    logits = rng.normal(0, 2, (count, classes)).astype(np.float32)
    probs = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(np.float32)
    deltas = rng.normal(0, 1, (count, classes, 4)).astype(np.float32)
    window = np.array([0.05, 0.1, 0.9, 0.95], np.float32)
    got = refine_detections(tf.constant(rois), tf.constant(probs), tf.constant(deltas), tf.constant(window),
                            config).numpy()

    ids = probs.argmax(1)
    scores = probs[np.arange(count), ids]
    refined = np_apply_deltas(rois, deltas[np.arange(count), ids] * [0.1, 0.1, 0.2, 0.2])
    refined = np.clip(refined, np.tile(window[:2], 2), np.tile(window[2:], 2))
    candidates = np.flatnonzero((ids > 0) & (scores >= 0.3))
    kept = []
    for c in np.unique(ids[candidates]):
        members = candidates[ids[candidates] == c]
        kept += list(members[np_greedy_nms(refined[members], scores[members], 0.3, 8)])
    kept = np.array(sorted(kept))
    kept = kept[np.argsort(-scores[kept], kind="stable")][:8]
    assert len(kept) == 8  # the max-instances cut is exercised
    np.testing.assert_allclose(got[:, :4], refined[kept], atol=1e-5)
    np.testing.assert_array_equal(got[:, 4], ids[kept])
    np.testing.assert_allclose(got[:, 5], scores[kept], rtol=1e-6)


def test_refine_detections_pads_with_zero_rows():
    config = dataclasses.replace(MaskRcnnConfig(), detection_max_instances=5)
    probs = np.array([[0.1, 0.9], [0.95, 0.05], [0.2, 0.8]], np.float32)  # roi 1 is background
    rois = np.array([[0.1, 0.1, 0.3, 0.3], [0.5, 0.5, 0.6, 0.6], [0.6, 0.6, 0.9, 0.9]], np.float32)
    got = refine_detections(tf.constant(rois), tf.constant(probs), tf.zeros([3, 2, 4]), tf.constant([0.0, 0, 1, 1]),
                            config).numpy()
    np.testing.assert_allclose(got[0], [0.1, 0.1, 0.3, 0.3, 1, 0.9], rtol=1e-6)
    np.testing.assert_allclose(got[1], [0.6, 0.6, 0.9, 0.9, 1, 0.8], rtol=1e-6)
    np.testing.assert_array_equal(got[2:], 0.0)


# ---------------------------------------------------------------- ROIAlign


def test_roi_levels_formula():
    rng = np.random.default_rng(4)
    boxes = random_boxes(rng, 200, min_size=0.01)
    area = 1024.0 * 1024.0
    h, w = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    expected = np.clip(4 + np.round(np.log2(np.sqrt(h * w) / (224.0 / 1024.0))), 2, 5)
    got = roi_levels(tf.constant(boxes), tf.constant(area)).numpy()
    np.testing.assert_array_equal(got, expected)
    assert set(got) == {2, 3, 4, 5}
    assert roi_levels(tf.zeros([1, 4]), tf.constant(area)).numpy()[0] == 2  # padding boxes


def test_pyramid_roi_align_matches_numpy_bilinear_crops():
    rng = np.random.default_rng(5)
    maps = [rng.normal(size=(2, s, s, 3)).astype(np.float32) for s in (32, 16, 8, 4)]
    boxes = random_boxes(rng, 2 * 9, min_size=0.02).reshape(2, 9, 4)
    boxes[0, 0] = [-0.1, -0.1, 0.5, 0.5]  # partly outside: zero extrapolation
    crops = PyramidRoiAlign(4)(tf.constant(boxes), tf.constant([128, 128]), [tf.constant(m) for m in maps]).numpy()
    assert crops.shape == (2, 9, 4, 4, 3)
    for b in range(2):
        for n in range(9):
            y1, x1, y2, x2 = boxes[b, n]
            level = int(np.clip(4 + np.round(np.log2(np.sqrt((y2 - y1) * (x2 - x1)) / (224 / 128))), 2, 5))
            np.testing.assert_allclose(crops[b, n], np_crop_and_resize(maps[level - 2][b], boxes[b, n], 4),
                                       atol=1e-4)


# ---------------------------------------------------------------- heads


def test_roi_distributed_applies_inner_layer_per_roi():
    rng = np.random.default_rng(6)
    dense = keras.layers.Dense(3)
    wrapper = RoiDistributed(dense, name="mrcnn_class_logits")
    x = rng.normal(size=(2, 5, 4)).astype(np.float32)
    got = wrapper(tf.constant(x)).numpy()
    kernel, bias = (v.numpy() for v in dense.weights)
    np.testing.assert_allclose(got, x @ kernel + bias, rtol=1e-5, atol=1e-6)
    assert wrapper.name == "mrcnn_class_logits"


def test_mask_head_returns_each_detections_own_class():
    head = MaskHead(num_classes=4, pool_size=14)
    maps = [tf.ones([1, s, s, 256]) for s in (16, 8, 4, 2)]
    boxes = tf.constant([[[0.1, 0.1, 0.6, 0.6], [0.2, 0.3, 0.4, 0.9], [0.0, 0.0, 1.0, 1.0]]])
    head(boxes, tf.zeros([1, 3], tf.int32), tf.constant([64, 64]), maps)  # build
    kernel, bias = head.mask.inner.weights
    kernel.assign(np.zeros(kernel.shape, np.float32))
    bias.assign(np.log(np.array([0.1, 0.2, 0.3, 0.4]) / (1 - np.array([0.1, 0.2, 0.3, 0.4]))).astype(np.float32))
    masks = head(boxes, tf.constant([[2, 0, 3]]), tf.constant([64, 64]), maps).numpy()
    assert masks.shape == (1, 3, 28, 28)
    np.testing.assert_allclose(masks[0, :, 5, 7], [0.3, 0.1, 0.4], rtol=1e-5)


# ---------------------------------------------------------------- molding and unmolding


def test_resize_plans_for_a_416x128_frame():
    square = resize_plan(128, 416, MaskRcnnConfig())
    assert square.scale == pytest.approx(1024 / 416)
    assert square.resized_hw == (315, 1024) and square.padded_hw == (1024, 1024)
    assert square.window == (354, 0, 669, 1024)
    cheap = resize_plan(128, 416, MaskRcnnConfig(resize_mode="pad64", image_min_dim=256))
    assert cheap.resized_hw == (256, 832) and cheap.padded_hw == (256, 832) and cheap.window == (0, 0, 256, 832)
    native = resize_plan(128, 416, MaskRcnnConfig(resize_mode="pad64", image_min_dim=0))
    assert native.padded_hw == (128, 448) and native.window == (0, 16, 128, 432)


def test_mold_image_pads_and_subtracts_the_mean():
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (128, 416, 3), dtype=np.uint8)
    config = MaskRcnnConfig(resize_mode="pad64", image_min_dim=0)
    molded, _ = mold_image(image, config)
    mean = np.array([123.7, 116.8, 103.9], np.float32)
    np.testing.assert_allclose(molded[:, 16:432], image - mean, rtol=1e-6)
    np.testing.assert_allclose(molded[:, :16], np.broadcast_to(-mean, (128, 16, 3)))
    square, _ = mold_image(image, MaskRcnnConfig())
    assert square.shape == (1024, 1024, 3)
    np.testing.assert_allclose(square[:354], np.broadcast_to(-mean, (354, 1024, 3)))
    np.testing.assert_allclose(square[354:669].mean() + mean.mean(), image.mean(), atol=1.0)


def test_unmold_detections_maps_boxes_back_through_the_window():
    config = MaskRcnnConfig(resize_mode="pad64", image_min_dim=0)
    plan = resize_plan(128, 416, config)  # padded 128x448, window x 16..432
    detections = np.zeros((4, 6), np.float32)
    detections[0, :4] = norm_boxes(np.array([[10, 26, 50, 126]]), plan.padded_hw)[0]
    detections[0, 4:] = [3, 0.9]
    detections[1, :4] = norm_boxes(np.array([[20, 30, 20, 40]]), plan.padded_hw)[0]  # zero height: dropped
    detections[1, 4:] = [1, 0.8]
    masks = np.ones((4, 28, 28), np.float32)
    result = unmold_detections(detections, masks, plan, (128, 416), 0.5)
    np.testing.assert_array_equal(result.boxes, [[10, 10, 50, 110]])
    np.testing.assert_array_equal(result.class_ids, [3])
    assert result.masks.shape == (1, 128, 416) and result.masks.dtype == bool
    assert result.masks.sum() == 40 * 100 and result.masks[0, 10:50, 10:110].all()


# ---------------------------------------------------------------- boundary of true instance masks


def np_sobel_boundary(masks):
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64)
    best = np.zeros(masks.shape[1:])
    for mask in masks:
        padded = np.pad(mask.astype(np.float64), 1)
        gx = np.zeros(mask.shape)
        gy = np.zeros(mask.shape)
        for dy in range(3):
            for dx in range(3):
                window = padded[dy : dy + mask.shape[0], dx : dx + mask.shape[1]]
                gx += kx[dy, dx] * window
                gy += kx.T[dy, dx] * window
        best = np.maximum(best, np.hypot(gx, gy))
    return np.round(np.clip(best / 4.0, 0, 1) * 255).astype(np.uint8)


def test_boundary_of_synthetic_instance_masks_matches_numpy_sobel(synthetic_root):
    paths = sorted(synthetic_root.glob("kitti_raw/*/*/instances_02/data/*.png"))[:3]
    assert paths
    checked = 0
    for path in paths:
        ids = np.asarray(Image.open(path)).astype(np.int64)
        masks = np.stack([ids == i for i in np.unique(ids) if i != 0])
        got = boundary_from_instance_masks(masks)
        np.testing.assert_array_equal(got, np_sobel_boundary(masks))
        checked += int((got == 255).sum() > 0)
    assert checked == len(paths)  # every frame has objects with edges


def test_bad_inputs_name_the_file(tmp_path):
    from mask_rcnn_prep.work_items import dataset_items, drive_items
    from sfmlearner_tf.errors import DataError

    with pytest.raises(DataError, match=r"neither train\.txt nor val\.txt"):
        dataset_items(tmp_path, 3, 416)
    (tmp_path / "train.txt").write_text("drive_02 0000000001\nbroken line here\n")
    with pytest.raises(DataError, match=r"train\.txt:2: expected '<folder> <frame>'"):
        dataset_items(tmp_path, 3, 416)
    (tmp_path / "train.txt").write_text("drive_02 0000000001\n")
    item = dataset_items(tmp_path, 3, 416)[0]
    with pytest.raises(DataError, match=r"0000000001\.jpg: sample image not found"):
        item.read_image()
    with pytest.raises(DataError, match="no PNG frames found"):
        drive_items(tmp_path, tmp_path / "out", "02", 416, 128)
    with pytest.raises(DataError, match=r"expected an RGB image \[H, W, 3\]"):
        mold_image(np.zeros((128, 416), np.uint8), MaskRcnnConfig())
