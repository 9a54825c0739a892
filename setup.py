"""Packaging for sfmlearner-tf: SfMLearner in TensorFlow 2 / Keras 3 with a Mask R-CNN boundary loss."""

from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="sfmlearner-tf",
    version="0.1.0",
    description=(
        "Unsupervised monocular depth and ego-motion (SfMLearner, Zhou et al. 2017) in TensorFlow 2 / "
        "Keras 3, with the Mask R-CNN object-boundary loss of 'Deep Structure From Motion'."
    ),
    long_description=(Path(__file__).parent / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["sfmlearner_tf*", "mask_rcnn_prep*", "flags*"]),
    py_modules=["run_train", "run_eval"],
    package_data={"flags": ["presets/*.cfg", "sweeps/*.json"]},
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.0",
        "numpy>=1.26",
        "pillow>=10.0",
        "opencv-python-headless>=4.8",
        "absl-py>=2.0",
        "tensorflow-datasets>=4.9",
        "h5py>=3.10",
        # tensorflow-datasets imports it, but current etils releases no longer pull it in.
        "importlib_resources>=6.0",
    ],
    extras_require={"dev": ["pytest>=8.0", "pytest-xdist>=3.5", "ruff>=0.5", "hypothesis>=6.100"]},
    entry_points={
        "console_scripts": [
            "sfm-train=run_train:main",
            "sfm-eval=run_eval:main",
            "sfm-render-synthetic=sfmlearner_tf.apps.render_synthetic:main",
            "sfm-prepare-data=sfmlearner_tf.apps.prepare_data:main",
            "sfm-demo=sfmlearner_tf.apps.demo:main",
            "sfm-mask-rcnn-prep=sfmlearner_tf.apps.mask_rcnn_prep:main",
            "sfm-predict=sfmlearner_tf.apps.predict:main",
            "sfm-export=sfmlearner_tf.apps.export:main",
            "sfm-sweep=sfmlearner_tf.apps.sweep:main",
        ]
    },
)
