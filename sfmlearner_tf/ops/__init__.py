"""Primitives shared by every layer: the original's TF1-faithful resizes and the boundary image of instance masks."""
