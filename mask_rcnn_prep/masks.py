"""From the network's normalised detections and 28x28 mask probabilities back to the original image:
pixel boxes and full-size boolean instance masks (matterport's `unmold_detections` / `unmold_mask`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mask_rcnn_prep.bilinear import resize_bilinear
from mask_rcnn_prep.box_utils import denorm_boxes, norm_boxes
from mask_rcnn_prep.molding import ResizePlan


@dataclass(frozen=True)
class Detections:
    """Instances found in one image: boxes int32 [K, 4] (y1, x1, y2, x2; y2, x2 exclusive), class ids int32 [K],
    scores float32 [K], masks bool [K, H, W] at the original image size."""

    boxes: np.ndarray
    class_ids: np.ndarray
    scores: np.ndarray
    masks: np.ndarray

    def select(self, keep: np.ndarray) -> Detections:
        """The detections where `keep` (bool [K]) is true."""
        return Detections(self.boxes[keep], self.class_ids[keep], self.scores[keep], self.masks[keep])


def paste_mask(mask: np.ndarray, box: np.ndarray, image_hw: tuple[int, int], threshold: float) -> np.ndarray:
    """A [28, 28] probability mask resized to its pixel box and thresholded (>= threshold), placed into an
    all-false [H, W] image: matterport's unmold_mask, whose bilinear resize counts the outside of the mask as 0
    (bilinear.py), so a mask that touches its box's edge is thinned there when the box is larger than 28."""
    y1, x1, y2, x2 = (int(v) for v in box)
    resized = resize_bilinear(mask.astype(np.float32), y2 - y1, x2 - x1)
    full = np.zeros(image_hw, dtype=bool)
    full[y1:y2, x1:x2] = resized >= threshold
    return full


def unmold_detections(detections: np.ndarray, masks: np.ndarray, plan: ResizePlan, image_hw: tuple[int, int],
                      mask_threshold: float) -> Detections:
    """One image's network output (detections [D, 6], masks [D, 28, 28]) -> Detections in original pixels.

    Boxes are mapped from the padded input through the image window; zero rows (padding) and boxes of zero
    area after rounding are dropped, as in matterport.
    """
    count = int(np.sum(detections[:, 4] > 0))  # detections are packed first, class ids >= 1
    detections, masks = detections[:count], masks[:count]
    window = norm_boxes(np.array(plan.window), plan.padded_hw)
    shift = np.array([window[0], window[1], window[0], window[1]], dtype=np.float32)
    size = np.array([window[2] - window[0], window[3] - window[1]] * 2, dtype=np.float32)
    boxes = denorm_boxes((detections[:, :4] - shift) / size, image_hw)
    nonempty = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) > 0
    boxes, detections, masks = boxes[nonempty], detections[nonempty], masks[nonempty]
    full = [paste_mask(m, b, image_hw, mask_threshold) for m, b in zip(masks, boxes)]
    return Detections(
        boxes=boxes.astype(np.int32),
        class_ids=detections[:, 4].astype(np.int32),
        scores=detections[:, 5].astype(np.float32),
        masks=np.stack(full) if full else np.zeros((0, *image_hw), dtype=bool),
    )
