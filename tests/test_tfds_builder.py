"""The TFDS builder of prepared samples: build offline, tfds.load, and the pipeline's "tfds" source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow_datasets as tfds

from sfmlearner_tf.data.pipeline import PipelineConfig, check_dataset, make_dataset, steps_per_epoch
from sfmlearner_tf.data.tfds_builder import BUILDER_NAME, SfmPreparedSamples
from sfmlearner_tf.errors import DataError
from sfmlearner_tf.prep.samples import write_sample

H, W = 16, 32
K = np.array([[30.0, 0.0, 15.5], [0.0, 29.0, 7.25], [0.0, 0.0, 1.0]])


def scaled_k(factor: float) -> np.ndarray:
    k = K * factor
    k[2, 2] = 1.0
    return k


def build(tmp_path: Path) -> tuple[Path, Path]:
    dump, data_dir = tmp_path / "dump", tmp_path / "tfds"
    for i in range(5):
        frames = [np.full((H, W, 3), 30 * j + 7 * i, np.uint8) for j in range(3)]
        write_sample(dump / "seq_02" / f"{i:010d}.jpg", frames, scaled_k(1 + i), np.full((H, W), 10 * i, np.uint8))
    (dump / "train.txt").write_text("".join(f"seq_02 {i:010d}\n" for i in range(4)))
    (dump / "val.txt").write_text("seq_02 0000000004\n")
    SfmPreparedSamples(data_dir=str(data_dir)).download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(dump)))
    return dump, data_dir


def test_build_load_and_pipeline_source(tmp_path: Path) -> None:
    dump, data_dir = build(tmp_path)
    val = list(tfds.load(BUILDER_NAME, split="val", data_dir=str(data_dir)).as_numpy_iterator())
    assert len(val) == 1 and val[0]["sample_id"] == b"seq_02 0000000004"
    assert val[0]["image"].shape == (H, 4 * W, 3)
    np.testing.assert_allclose(val[0]["intrinsics"], scaled_k(5), rtol=1e-6)
    common = dict(dataset_dir=str(dump), batch_size=2, img_height=H, img_width=W, shuffle=False, augment=False,
                  with_boundary=True)
    from_folder = list(make_dataset(PipelineConfig(**common)))
    tfds_config = PipelineConfig(**common, source="tfds", tfds_data_dir=str(data_dir))
    check_dataset(tfds_config)
    assert steps_per_epoch(tfds_config) == 2
    from_tfds = list(make_dataset(tfds_config))
    assert len(from_tfds) == len(from_folder) == 2
    # TFDS may order records differently: compare as sets of (intrinsics fx, target image).
    def keyed(batches):
        return {float(b["intrinsics"][i, 0, 0, 0]): (b["tgt_image"][i].numpy(), b["boundary"][i].numpy())
                for b in batches for i in range(2)}
    folder_items, tfds_items = keyed(from_folder), keyed(from_tfds)
    assert sorted(folder_items) == sorted(tfds_items) == [30.0, 60.0, 90.0, 120.0]
    for fx, (image, boundary) in folder_items.items():
        np.testing.assert_array_equal(tfds_items[fx][0], image)  # the same JPEG bytes, decoded the same way
        np.testing.assert_array_equal(tfds_items[fx][1], boundary)


def test_unbuilt_data_dir_is_named(tmp_path: Path) -> None:
    config = PipelineConfig(dataset_dir="", source="tfds", tfds_data_dir=str(tmp_path / "nothing"))
    with pytest.raises(DataError, match=r"nothing: no built sfm_prepared_samples"):
        check_dataset(config)
