"""The training input pipeline: tf.data over prepared samples (or their TFDS build), augmentation, intrinsics."""
