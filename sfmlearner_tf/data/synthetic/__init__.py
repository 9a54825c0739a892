"""Procedural synthetic driving data set in the KITTI raw and odometry layouts (placeholder; being built)."""
