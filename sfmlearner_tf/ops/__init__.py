"""Primitives shared by every layer: the original's TF1-faithful resizes, the boundary image of instance masks and
the numeric precision policy."""
