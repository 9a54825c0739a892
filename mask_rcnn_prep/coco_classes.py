"""The 81 COCO class names (background first) in the order of matterport's `mask_rcnn_coco.h5` heads."""

from __future__ import annotations

from sfmlearner_tf.errors import ConfigError

COCO_CLASS_NAMES: tuple[str, ...] = (
    "BG", "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse",
    "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie",
    "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove",
    "skateboard", "surfboard", "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon",
    "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut",
    "cake", "chair", "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
    "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip

# Movable COCO things seen from a car: the objects whose depth edges the boundary loss is about.
DRIVING_CLASSES: tuple[str, ...] = ("person", "bicycle", "car", "motorcycle", "bus", "train", "truck")

ALL_THINGS = "all"


def class_ids_for(names: tuple[str, ...]) -> tuple[int, ...]:
    """COCO class ids of `names`; ("all",) selects the 80 thing classes. Unknown names raise ConfigError."""
    if tuple(names) == (ALL_THINGS,):
        return tuple(range(1, len(COCO_CLASS_NAMES)))
    unknown = [n for n in names if n not in COCO_CLASS_NAMES[1:]]
    if unknown:
        raise ConfigError(f"unknown COCO class name(s) {unknown}; known: {', '.join(COCO_CLASS_NAMES[1:])}")
    return tuple(COCO_CLASS_NAMES.index(n) for n in names)
