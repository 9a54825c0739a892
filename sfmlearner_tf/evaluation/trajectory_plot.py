"""Top views of camera trajectories (sfm-predict's trajectory, sfm-eval's true and predicted ones), drawn with
OpenCV: x (right) across, z (forward) up, one scale for both axes and all trajectories."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

START_COLOUR, END_COLOUR = (44, 160, 44), (214, 39, 40)
_FONT, _FONT_SCALE, _LEGEND_GAP = cv2.FONT_HERSHEY_SIMPLEX, 0.45, 22


def top_view(tracks: Sequence[tuple[np.ndarray, tuple[int, int, int], int]], caption: str,
             legend: Sequence[tuple[str, tuple[int, int, int]]], unit: str, size: int = 640,
             margin: int = 48) -> np.ndarray:
    """RGB uint8 [size, size, 3]: each track ([N, 3|4, 4] poses, RGB colour, line width) as a line in the
    order given (a wider one first stays visible under the next), its start in green and end in red; `caption`
    and the drawing's width in `unit` at the top, the coloured `legend` labels at the bottom."""
    canvas = np.full((size, size, 3), 255, np.uint8)
    xz_tracks = [np.asarray(poses)[:, [0, 2], 3] for poses, _, _ in tracks]
    every = np.concatenate(xz_tracks)
    low, high = every.min(axis=0), every.max(axis=0)
    span = max(float((high - low).max()), 1e-9)
    scale = (size - 2 * margin) / span
    centre = (low + high) / 2
    pixel_tracks = []
    for xz, (_, colour, width) in zip(xz_tracks, tracks):
        points = np.stack([size / 2 + (xz[:, 0] - centre[0]) * scale, size / 2 - (xz[:, 1] - centre[1]) * scale], 1)
        pixels = np.round(points).astype(np.int32)
        cv2.polylines(canvas, [pixels.reshape(-1, 1, 2)], False, colour, width, cv2.LINE_AA)
        pixel_tracks.append(pixels)
    for pixels in pixel_tracks:
        cv2.circle(canvas, tuple(int(v) for v in pixels[0]), 6, START_COLOUR, -1, cv2.LINE_AA)
        cv2.circle(canvas, tuple(int(v) for v in pixels[-1]), 6, END_COLOUR, -1, cv2.LINE_AA)
    cv2.putText(canvas, f"{caption}; width {span:.3g} {unit}", (8, 20), _FONT, _FONT_SCALE, (0, 0, 0), 1,
                cv2.LINE_AA)
    x = 8
    for label, colour in legend:
        cv2.putText(canvas, label, (x, size - 12), _FONT, _FONT_SCALE, colour, 1, cv2.LINE_AA)
        x += cv2.getTextSize(label, _FONT, _FONT_SCALE, 1)[0][0] + _LEGEND_GAP
    return canvas
