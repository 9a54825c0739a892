"""Offline preparation: readers of KITTI raw / odometry, Cityscapes and videos, and the prepared-sample format
(stacked frames, `_cam.txt` intrinsics, boundary panels, train.txt / val.txt)."""
