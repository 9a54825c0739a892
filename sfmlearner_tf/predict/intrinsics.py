"""The camera of sfm-predict's input: K at the input's resolution, from the horizontal field of view or from
fx, fy, cx, cy, and K at the network's size (the frames are resized whole, no crop, so fx and cx scale with
the width and fy and cy with the height: prep.frame_images.scale_intrinsics)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.prep.camera_calib import intrinsics_from_hfov, intrinsics_matrix
from sfmlearner_tf.prep.frame_images import scale_intrinsics


def check_camera_options(hfov_deg: float | None, intrinsics: tuple[float, ...] | None) -> None:
    """At most one of the two; four numbers with positive focal lengths; a usable field of view."""
    if hfov_deg is not None and intrinsics is not None:
        raise ConfigError("--hfov_deg and --intrinsics are two ways to give the camera: use one",
                          fields=("intrinsics",))
    if intrinsics is not None:
        if len(intrinsics) != 4:
            raise ConfigError(f"--intrinsics takes four numbers fx,fy,cx,cy, got {len(intrinsics)}",
                              fields=("intrinsics",))
        intrinsics_matrix(*intrinsics)
    if hfov_deg is not None:
        intrinsics_from_hfov(hfov_deg, 2, 2)


@dataclass(frozen=True)
class Camera:
    """K of the input frames (height x width = input_size) and of the network's frames (network_size)."""

    input_size: tuple[int, int]
    network_size: tuple[int, int]
    input_intrinsics: np.ndarray
    given: str

    @property
    def network_intrinsics(self) -> np.ndarray:
        (in_h, in_w), (net_h, net_w) = self.input_size, self.network_size
        return scale_intrinsics(self.input_intrinsics, net_w / in_w, net_h / in_h)

    def check_frame(self, name: str, frame: np.ndarray, spec: str) -> None:
        """Every frame must have the first one's size (one camera, one K)."""
        if frame.shape[:2] != self.input_size:
            raise DataError(f"{spec}: frame {name} is {frame.shape[1]}x{frame.shape[0]} but the first frame is "
                            f"{self.input_size[1]}x{self.input_size[0]} (point clouds and the metric scale need "
                            "one camera, one size)")

    def describe(self) -> str:
        """K at both sizes in one line."""
        parts = []
        for (height, width), k in ((self.input_size, self.input_intrinsics),
                                   (self.network_size, self.network_intrinsics)):
            parts.append(f"{width}x{height}: fx {k[0, 0]:.3f} fy {k[1, 1]:.3f} cx {k[0, 2]:.3f} cy {k[1, 2]:.3f}")
        return f"K ({self.given}) at {parts[0]}; at the network's {parts[1]}"

    def record(self) -> dict[str, object]:
        """JSON-able: how K was given and both K's row by row."""
        return {"given": self.given, "input_size": list(self.input_size), "intrinsics": self.input_intrinsics.tolist(),
                "network_size": list(self.network_size), "network_intrinsics": self.network_intrinsics.tolist()}


def make_camera(hfov_deg: float | None, intrinsics: tuple[float, ...] | None, input_size: tuple[int, int],
                network_size: tuple[int, int]) -> Camera:
    """The Camera of input frames of input_size (height, width): from hfov_deg (fx = fy = (W/2)/tan(hfov/2),
    principal point (W/2, H/2)) or from intrinsics (fx, fy, cx, cy at the input's resolution)."""
    check_camera_options(hfov_deg, intrinsics)
    height, width = input_size
    if hfov_deg is not None:
        return Camera(input_size, network_size, intrinsics_from_hfov(hfov_deg, width, height), f"hfov {hfov_deg:g} deg")
    if intrinsics is None:
        raise ConfigError("no camera intrinsics: pass --hfov_deg or --intrinsics=fx,fy,cx,cy")
    fx, fy, cx, cy = intrinsics
    if not (0 <= cx <= width and 0 <= cy <= height):
        raise DataError(f"--intrinsics: the principal point ({cx:g}, {cy:g}) lies outside the {width}x{height} "
                        "frames: are they the intrinsics of another resolution?")
    return Camera(input_size, network_size, intrinsics_matrix(fx, fy, cx, cy),
                  "fx,fy,cx,cy " + ",".join(f"{v:g}" for v in intrinsics))
