"""A trained model leaving the project: DispNet as a SavedModel (serving signature, any image size) or a
TensorFlow Lite flatbuffer (float32 or float16 weights), and both nets back to a TF1 checkpoint for the
original code."""

from sfmlearner_tf.export.savedmodel import export_savedmodel, serving_depth
from sfmlearner_tf.export.tf1 import export_tf1_checkpoint
from sfmlearner_tf.export.tflite import TfliteDepth, convert_to_tflite

__all__ = ["TfliteDepth", "convert_to_tflite", "export_savedmodel", "export_tf1_checkpoint", "serving_depth"]
