"""sfmlearner-tf: SfMLearner (Zhou et al., CVPR 2017) in TensorFlow 2 / Keras 3, with the boundary loss of
"Deep Structure From Motion" (Mask R-CNN object boundaries)."""

__version__ = "0.1.0"
