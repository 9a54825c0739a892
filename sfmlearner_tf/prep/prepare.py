"""Sample preparation, the driver (the original's prepare_train_data.py, plus the seed paper's boundary panel).

Each sample: the seq_length frames around a target resized to img_width x img_height with PIL bilinear (what
`scipy.misc.imresize` did), stacked side by side, saved as a quality-75 JPEG, plus `_cam.txt` with K of the
resized target (fx, cx scaled by W_out/W_in, fy, cy by H_out/H_in). Then train.txt / val.txt from what exists
in the dump root, each sample going to val with probability 0.1 under `np.random.seed(8964)`.

Sharded (sample i belongs to shard i % num_shards) and resumable (finished samples are skipped; every file is
written atomically; a sample whose files were truncated or damaged since is not finished and is written again).
The lists are written by whichever run finds every planned sample present, so the result does not depend on the
sharding. The original iterated `os.listdir`/`glob` order for the val draw, which is
filesystem-dependent; folders and frames are sorted here so that the draw is reproducible.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.prep.config import PrepareConfig, PrepareResult
from sfmlearner_tf.prep.mask_sources import InstanceMaskSource, MaskRcnnFactory, make_mask_source
from sfmlearner_tf.prep.planning import plan_samples, shard_of
from sfmlearner_tf.prep.sample_writer import SampleWriter, claim_dump_root
from sfmlearner_tf.prep.samples import cam_path_for
from sfmlearner_tf.prep.split_lists import write_split_lists
from sfmlearner_tf.prep.video_prepare import prepare_video
from sfmlearner_tf.progress import ProgressReporter


def prepare_dataset(config: PrepareConfig, mask_source: InstanceMaskSource | None = None,
                    stream: TextIO | None = None, mask_rcnn: MaskRcnnFactory | None = None) -> PrepareResult:
    """Prepares this shard's samples (skipping finished ones), then the lists if every planned sample exists.

    `mask_source` overrides the one named by config.boundary_source (tests, notebooks); `mask_rcnn` builds the
    Mask R-CNN source of boundary_source=mask_rcnn (sfmlearner_tf/tasks/prepare.py passes mask_rcnn_prep's).
    A video (dataset_name=video) is prepared in one ordered pass by prep/video_prepare.py.
    """
    if config.dataset_name == "video":
        return prepare_video(config, mask_source, stream, mask_rcnn)
    samples, loader = plan_samples(config)
    if not samples:
        raise DataError(f"{config.dataset_dir}: no training samples found for {config.dataset_name}")
    if mask_source is None:
        mask_source = make_mask_source(config.effective_boundary_source, config.mask_rcnn_weights, mask_rcnn)
    claim_dump_root(config)
    mine = shard_of(samples, config.shard_index, config.num_shards)
    writer = SampleWriter(config, loader, mask_source)
    progress = ProgressReporter(len(mine), f"prepare shard {config.shard_index}/{config.num_shards}",
                                stream=stream, unit="samples")
    written = 0
    with ThreadPoolExecutor(max(1, config.num_threads)) as pool:
        for was_written in pool.map(writer, mine):
            written += int(was_written)
            progress.update()
    dump_root = Path(config.dump_root)
    missing = sum(not cam_path_for(dump_root / spec.relative_jpg).is_file() for spec in samples)
    num_train = num_val = 0
    if missing == 0:
        num_train, num_val = write_split_lists(dump_root, config.val_fraction, config.split_seed)
    print(f"prepare: {written} written, {len(mine) - written} already done in this shard; "
          + (f"train.txt {num_train}, val.txt {num_val}" if missing == 0
             else f"{missing} samples of other shards missing, lists not written yet"),
          file=progress.stream, flush=True)
    return PrepareResult(len(samples), len(mine), written, len(mine) - written, missing == 0, num_train, num_val)
