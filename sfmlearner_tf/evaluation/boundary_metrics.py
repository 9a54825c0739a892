"""Depth-boundary quality, beyond the original protocol: what the seed paper claims to improve (sharper depth at
object edges), measured two ways.

1. Depth-boundary errors (DBE) in the style of the iBims-1 benchmark (Koch et al., ECCV-W 2018), where a dense
   true depth exists (synthetic drives). All maps are taken at the prediction's resolution (true depth and
   instance ids resized with nearest neighbour).
   * True edges: a 4-neighbour pixel pair is an edge when its inverse depths (sky = 0) differ by more than
     `disparity_jump` (default 0.01 1/m; planes give far smaller steps) or when the pair lies on two different
     instances; the nearer pixel of the pair is marked.
   * Predicted edges: the predicted depth (or disparity, `edge_domain`) is min-max normalised to [0, 1],
     smoothed with a Gaussian of sigma sqrt(2) (radius 6), and passed through Canny (OpenCV, L2 gradient) with
     thresholds 0.1 and 0.2 on the 3x3 Sobel magnitude of the normalised map: iBims-1's parameters.
   * Accuracy = mean distance (px) from each predicted edge pixel within `max_dist` (10 px) of a true edge to
     the nearest true edge; completeness = mean over true edge pixels of the distance to the nearest predicted
     edge, truncated at `max_dist`. Lower is better; no predicted edge near a true one gives max_dist for both;
     an image without true edges is skipped (NaN).
2. Edge sharpness (any data set with object boundaries, e.g. KITTI with Mask R-CNN boundary panels): the mean
   first-order gradient magnitude of the predicted disparity on boundary pixels divided by its mean elsewhere.
   Scale-free; larger means the disparity changes more at object boundaries than inside regions.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from sfmlearner_tf.ops.boundary import boundary_from_instance_masks

CANNY_SIGMA = math.sqrt(2.0)
CANNY_LOW, CANNY_HIGH = 0.1, 0.2
SOBEL_FIXED_POINT = 1024.0  # cv2.Canny takes int16 derivatives: normalised Sobel values times this factor


def _pair_edges(near_first: np.ndarray, differ: np.ndarray, axis: int) -> np.ndarray:
    """Marks, for neighbour pairs along `axis` that differ, the first pixel where near_first else the second."""
    edges = np.zeros(tuple(s + (1 if i == axis else 0) for i, s in enumerate(differ.shape)), dtype=bool)
    first = [slice(None), slice(None)]
    second = [slice(None), slice(None)]
    first[axis], second[axis] = slice(0, -1), slice(1, None)
    edges[tuple(first)] |= differ & near_first
    edges[tuple(second)] |= differ & ~near_first
    return edges


def true_depth_edges(depth: np.ndarray, instances: np.ndarray | None = None,
                     disparity_jump: float = 0.01) -> np.ndarray:
    """Edges of a dense true depth map (0 = sky) and, optionally, of an instance id map: bool [H, W]."""
    depth = np.asarray(depth, dtype=np.float64)
    inverse = np.divide(1.0, depth, out=np.zeros_like(depth), where=depth > 0)
    edges = np.zeros(depth.shape, dtype=bool)
    for axis in (0, 1):
        a = inverse[:-1] if axis == 0 else inverse[:, :-1]
        b = inverse[1:] if axis == 0 else inverse[:, 1:]
        differ = np.abs(a - b) > disparity_jump
        if instances is not None:
            ids_a = instances[:-1] if axis == 0 else instances[:, :-1]
            ids_b = instances[1:] if axis == 0 else instances[:, 1:]
            differ |= ids_a != ids_b
        edges |= _pair_edges(a >= b, differ, axis)
    return edges


def _fixed_point(derivative: np.ndarray) -> np.ndarray:
    return np.clip(np.round(derivative * SOBEL_FIXED_POINT), -32768, 32767).astype(np.int16)


def predicted_depth_edges(pred_depth: np.ndarray, edge_domain: str = "depth") -> np.ndarray:
    """Canny edges (bool [H, W]) of the min-max normalised predicted depth or disparity (iBims-1 parameters)."""
    values = np.asarray(pred_depth, dtype=np.float64)
    if edge_domain == "disparity":
        values = 1.0 / values
    elif edge_domain != "depth":
        raise ValueError(f"edge_domain must be 'depth' or 'disparity', got {edge_domain!r}")
    span = values.max() - values.min()
    if span <= 0:
        return np.zeros(values.shape, dtype=bool)
    normalised = ((values - values.min()) / span).astype(np.float32)
    radius = int(4.0 * CANNY_SIGMA + 0.5)
    smoothed = cv2.GaussianBlur(normalised, (2 * radius + 1, 2 * radius + 1), CANNY_SIGMA,
                                borderType=cv2.BORDER_REFLECT)
    dx = cv2.Sobel(smoothed, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    dy = cv2.Sobel(smoothed, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    edges = cv2.Canny(_fixed_point(dx), _fixed_point(dy), CANNY_LOW * SOBEL_FIXED_POINT, CANNY_HIGH * SOBEL_FIXED_POINT,
                      L2gradient=True)
    return edges > 0


def distance_to(edges: np.ndarray) -> np.ndarray:
    """Euclidean distance (px) of every pixel to the nearest True pixel of `edges` (exact transform)."""
    return cv2.distanceTransform(np.where(edges, 0, 1).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def depth_boundary_errors(true_edges: np.ndarray, pred_edges: np.ndarray, max_dist: float = 10.0,
                          ) -> tuple[float, float]:
    """(accuracy, completeness) in pixels, as defined in the module docstring."""
    if not true_edges.any():
        return math.nan, math.nan
    to_true = distance_to(true_edges)
    near = pred_edges & (to_true < max_dist)
    if not near.any():
        return max_dist, max_dist
    accuracy = float(to_true[near].mean())
    completeness = float(np.minimum(distance_to(pred_edges)[true_edges], max_dist).mean())
    return accuracy, completeness


def resize_nearest(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a label or depth map to (height, width)."""
    if array.shape[:2] == tuple(shape):
        return array
    source = array.astype(np.float32) if array.dtype == np.float64 else array
    return cv2.resize(source, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


def image_boundary_errors(pred_depth: np.ndarray, true_depth: np.ndarray, instances: np.ndarray | None,
                          edge_domain: str = "depth", max_dist: float = 10.0, disparity_jump: float = 0.01,
                          ) -> tuple[float, float]:
    """DBE accuracy and completeness of one predicted depth map against a dense true depth (+ instance ids)."""
    shape = pred_depth.shape
    ids = None if instances is None else resize_nearest(instances.astype(np.int32), shape)
    true_edges = true_depth_edges(resize_nearest(true_depth, shape), ids, disparity_jump)
    return depth_boundary_errors(true_edges, predicted_depth_edges(pred_depth, edge_domain), max_dist)


def disparity_gradient_magnitude(disparity: np.ndarray) -> np.ndarray:
    """First-order gradient magnitude of a disparity map (forward differences, 0 on the last row/column)."""
    disparity = np.asarray(disparity, dtype=np.float64)
    gx = np.zeros_like(disparity)
    gy = np.zeros_like(disparity)
    gx[:, :-1] = disparity[:, 1:] - disparity[:, :-1]
    gy[:-1, :] = disparity[1:, :] - disparity[:-1, :]
    return np.sqrt(gx * gx + gy * gy)


def edge_sharpness_ratio(pred_depth: np.ndarray, boundary: np.ndarray, threshold: float = 0.5) -> float:
    """mean |grad disparity| on boundary pixels / mean elsewhere; boundary in [0, 1] (or uint8 0..255), resized
    to the prediction with nearest neighbour; NaN without boundary pixels."""
    boundary = np.asarray(boundary)
    scale = 255.0 if boundary.dtype == np.uint8 else 1.0
    on_boundary = resize_nearest(boundary, pred_depth.shape).astype(np.float64) / scale >= threshold
    if not on_boundary.any() or on_boundary.all():
        return math.nan
    gradient = disparity_gradient_magnitude(1.0 / np.asarray(pred_depth, dtype=np.float64))
    elsewhere = gradient[~on_boundary].mean()
    return float(gradient[on_boundary].mean() / elsewhere) if elsewhere > 0 else math.nan


def boundary_from_instances(instances: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Boundary image (uint8) of an instance id map taken at `shape` (nearest resize first, as training sees it)."""
    return boundary_from_instance_masks(resize_nearest(instances.astype(np.int32), shape))
