"""TFDS builder for prepared samples (the folder written by sfm-prepare-data), so that the samples can be built into
a TFDS data set and read with `tfds.load`, offline.

    sfm-prepare-data ... --tfds_data_dir=<tfds_dir>          # or build_prepared_samples(dump_root, tfds_dir)
    tfds build sfmlearner_tf/data/tfds_builder.py --manual_dir=<dump_root> --data_dir=<tfds_dir>
    tfds.load("sfm_prepared_samples", data_dir=<tfds_dir>)   # after `import sfmlearner_tf.data.tfds_builder`

(The `tfds` command of tensorflow-datasets 4.9.10 imports apache_beam at start-up, so it needs
`pip install apache-beam`; the two other ways do not.)

Each record holds the stacked JPEG exactly as prepared (bytes copied, not re-encoded; with its boundary panel if
it has one), its 3x3 K from `_cam.txt` and the id `<folder> <frame>`. Splits are train.txt and val.txt.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import tensorflow as tf
import tensorflow_datasets as tfds

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.prep.samples import cam_path_for, read_cam_file
from sfmlearner_tf.prep.split_lists import read_split_list

BUILDER_NAME = "sfm_prepared_samples"


class SfmPreparedSamples(tfds.core.GeneratorBasedBuilder):
    """Stacked SfMLearner samples [t-(L-1)/2 .. t+(L-1)/2 (| boundary)] with their intrinsics."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict[str, str]] = {"1.0.0": "Stacked samples, optional boundary panel."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Pass the dump root of sfm-prepare-data (the folder holding train.txt, val.txt and the sample folders) "
        "as --manual_dir."
    )

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(None, None, 3), encoding_format="jpeg"),
                "intrinsics": tfds.features.Tensor(shape=(3, 3), dtype=tf.float32),
                "sample_id": tfds.features.Text(),
            }),
            supervised_keys=None,
            description=__doc__,
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict:
        root = Path(dl_manager.manual_dir)
        return {split: self._generate_examples(root, split) for split in ("train", "val")
                if (root / f"{split}.txt").is_file()}

    def _generate_examples(self, root: Path, split: str):
        for folder, frame in read_split_list(root, split):
            jpg = root / folder / f"{frame}.jpg"
            if not jpg.is_file():
                raise DataError(f"{jpg}: sample listed in {split}.txt not found")
            sample_id = f"{folder} {frame}"
            yield sample_id, {"image": jpg, "intrinsics": read_cam_file(cam_path_for(jpg)), "sample_id": sample_id}


def build_prepared_samples(dump_root: str, data_dir: str) -> dict[str, int]:
    """Builds (or finds already built) the TFDS data set of a dump root; returns the records per split."""
    builder = SfmPreparedSamples(data_dir=data_dir)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=dump_root))
    return {name: split.num_examples for name, split in builder.info.splits.items()}


def _builder(data_dir: str) -> SfmPreparedSamples:
    builder = SfmPreparedSamples(data_dir=data_dir)
    if not builder.is_prepared():
        raise DataError(f"{data_dir}: no built {BUILDER_NAME} data set (run `tfds build "
                        f"sfmlearner_tf/data/tfds_builder.py --manual_dir=<dump_root> --data_dir={data_dir}`)")
    return builder


def prepared_split_size(data_dir: str, split: str) -> int:
    """Number of records of a split of the built data set."""
    builder = _builder(data_dir)
    if split not in builder.info.splits:
        raise DataError(f"{data_dir}: {BUILDER_NAME} has no split {split!r}")
    return builder.info.splits[split].num_examples


def load_prepared_records(data_dir: str, split: str, shuffle_files: bool, seed: int) -> tf.data.Dataset:
    """Records with the JPEG left encoded ("image" = bytes), for the pipeline's own checked decode."""
    prepared_split_size(data_dir, split)
    read_config = tfds.ReadConfig(shuffle_seed=seed)
    return _builder(data_dir).as_dataset(split=split, shuffle_files=shuffle_files, read_config=read_config,
                                         decoders={"image": tfds.decode.SkipDecoding()})
