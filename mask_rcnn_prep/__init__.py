"""Mask R-CNN (matterport's Keras implementation, COCO weights) on Keras 3: inference, HDF5 weight loading,
and the program that writes object-boundary panels for the boundary loss."""

from mask_rcnn_prep.config import MaskRcnnConfig

__all__ = ["MaskRcnnConfig"]
