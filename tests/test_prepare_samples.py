"""The sample file format: cam lines, reading samples, adding/replacing the boundary panel (post-hoc mode)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.prep.samples import append_boundary_panel, format_cam_line, read_sample, write_sample

H, W = 32, 48


def frames() -> list[np.ndarray]:
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    return [np.stack([128 + 90 * np.sin(x / 5 + i), 128 + 90 * np.cos(y / 4), 128 + 60 * np.sin((x + y) / 7)],
                     2).round().astype(np.uint8) for i in range(3)]


def test_cam_line_is_the_original_format() -> None:
    k = np.array([[241.67446, 0.0, 204.16801], [0.0, 246.28486, 59.000832], [0.0, 0.0, 1.0]])
    assert format_cam_line(k) == "241.674460,0.,204.168010,0.,246.284860,59.000832,0.,0.,1."


def test_append_then_replace_boundary_panel(tmp_path: Path) -> None:
    jpg = tmp_path / "s" / "0000000001.jpg"
    write_sample(jpg, frames(), np.eye(3))
    before, none = read_sample(jpg, 3, W)
    assert none is None
    boundary = np.zeros((H, W), np.uint8)
    boundary[8:24, 16:32] = 200
    append_boundary_panel(jpg, boundary, 3, W)
    after, got = read_sample(jpg, 3, W)
    # Re-encoding with the file's own tables: the second-generation change of the frames is smaller than the
    # first encode's error (measured on these saturated colour waves: 1.6 vs 3.2 grey levels mean).
    change = np.abs(after.astype(int) - before.astype(int))
    first_error = np.abs(before.astype(int) - np.stack(frames()).astype(int))
    assert change.mean() < 0.6 * first_error.mean() and change.max() <= first_error.max()
    assert np.abs(got.astype(int) - boundary).mean() < 6.0 and got[12:20, 20:28].min() > 180
    replacement = np.zeros((H, W), np.uint8)
    append_boundary_panel(jpg, replacement, 3, W)
    _, replaced = read_sample(jpg, 3, W)
    assert replaced.shape == (H, W) and replaced.mean() < 0.5 and replaced.max() <= 12  # chroma bleed, 1st col
    assert not list(jpg.parent.glob(".*.tmp"))


def test_bad_samples_name_the_file(tmp_path: Path) -> None:
    jpg = tmp_path / "0000000001.jpg"
    write_sample(jpg, frames(), np.eye(3))
    with pytest.raises(DataError, match=r"0000000001.jpg: width 144 matches neither"):
        read_sample(jpg, 3, W + 2)
    with pytest.raises(DataError, match=r"0000000001.jpg: boundary of shape \(3, 3\)"):
        append_boundary_panel(jpg, np.zeros((3, 3), np.uint8), 3, W)
    jpg.write_bytes(jpg.read_bytes()[:200])
    with pytest.raises(DataError, match=r"0000000001.jpg: corrupt or unreadable JPEG"):
        read_sample(jpg, 3, W)
