"""Inspection outputs: instance masks as .npz and an overlay PNG (masks tinted, boxes, class and score)."""

from __future__ import annotations

import io
import os

import cv2
import numpy as np

from mask_rcnn_prep.coco_classes import COCO_CLASS_NAMES
from mask_rcnn_prep.masks import Detections
from sfmlearner_tf.io_utils import atomic_save_image, atomic_write_bytes


def instance_colour(index: int) -> np.ndarray:
    """A bright, distinct RGB colour per instance (golden-ratio hue steps)."""
    hue = int((index * 0.618034 % 1.0) * 180)
    hsv = np.array([[[hue, 220, 255]]], dtype=np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def overlay_image(image: np.ndarray, detections: Detections, alpha: float = 0.5) -> np.ndarray:
    """The frame with each mask tinted in its colour, its box drawn and labelled `class score`."""
    canvas = image.astype(np.float32).copy()
    for i, mask in enumerate(detections.masks):
        canvas[mask] = (1 - alpha) * canvas[mask] + alpha * instance_colour(i)
    canvas = np.clip(np.round(canvas), 0, 255).astype(np.uint8)
    for i, (box, class_id, score) in enumerate(zip(detections.boxes, detections.class_ids, detections.scores)):
        y1, x1, y2, x2 = (int(v) for v in box)
        colour = tuple(int(c) for c in instance_colour(i))
        cv2.rectangle(canvas, (x1, y1), (x2 - 1, y2 - 1), colour, 1)
        label = f"{COCO_CLASS_NAMES[class_id]} {score:.2f}"
        cv2.putText(canvas, label, (x1, max(y1 - 2, 8)), cv2.FONT_HERSHEY_SIMPLEX, 0.3, colour, 1, cv2.LINE_AA)
    return canvas


def save_inspection(stem: str | os.PathLike, image: np.ndarray, detections: Detections) -> None:
    """Writes `<stem>.npz` (masks, boxes, class_ids, scores, class_names) and `<stem>_overlay.png`, atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, masks=detections.masks, boxes=detections.boxes, class_ids=detections.class_ids,
        scores=detections.scores, class_names=np.array([COCO_CLASS_NAMES[c] for c in detections.class_ids]),
    )
    atomic_write_bytes(f"{stem}.npz", buffer.getvalue())
    atomic_save_image(f"{stem}_overlay.png", overlay_image(image, detections))
