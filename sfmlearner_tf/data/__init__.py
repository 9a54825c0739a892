"""Data: KITTI readers, the synthetic drive generator, sample preparation and the tf.data pipeline."""
