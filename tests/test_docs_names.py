"""The README and docs/ name only what exists: every repository path they quote (`sfmlearner_tf/losses.py`,
`flags/presets/*.cfg`, `tests/test_x.py::test_y`) is there, and every code name they quote (`compute_losses`,
`TrainConfig.replace()`, `sfmlearner_tf.evaluation.depth_gt`) occurs in the sources, so a function renamed or
removed by a refactor is caught in the prose too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SOURCE_DIRS = ("sfmlearner_tf", "mask_rcnn_prep", "flags", "benchmarks", "tests", ".ci")
TOP_LEVEL = ("sfmlearner_tf/", "mask_rcnn_prep/", "flags/", "benchmarks/", "tests/", "docs/", ".ci/",
             "run_train.py", "run_eval.py", "setup.py")
CODE_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?:\(\))?")
# Names of other projects that the documents quote (the original's TF1 code, the papers' terms), not ours.
OTHER_PROJECTS = {
    "resize_bilinear", "resize_area", "conv2d_transpose", "imresize", "generate_pose_snippets", "test_kitti_depth",
    "test_kitti_pose", "eval_depth", "prepare_train_data", "compute_ate", "inverse_warp", "projective_inverse_warp",
}


def _source_words() -> set[str]:
    """Every identifier-like word of the repository's code, flag files and grids (comments and strings too)."""
    files = [REPO / name for name in ("run_train.py", "run_eval.py", "setup.py")]
    for folder in SOURCE_DIRS:
        files += [p for p in (REPO / folder).rglob("*") if p.suffix in (".py", ".cfg", ".json", "") and p.is_file()]
    words: set[str] = set()
    for path in files:
        words.update(re.findall(r"[A-Za-z_]\w*", path.read_text(errors="ignore")))
    return words


def quoted(document: Path) -> list[str]:
    """The `inline code` spans of a document, outside fenced blocks."""
    text = re.sub(r"```.*?```", "", document.read_text(), flags=re.S)
    return re.findall(r"`([^`\n]+)`", text)


def missing_path(span: str) -> bool:
    """A repository path (a glob allowed; `::test` and `:line` suffixes ignored) that matches no file."""
    path = re.split(r"::|:\d", span.split()[0])[0].rstrip("/,.;")
    if not path.startswith(TOP_LEVEL) or "<" in path or "{" in path:
        return False
    return not (any(REPO.glob(path)) if "*" in path else (REPO / path).exists())


def missing_names(span: str, words: set[str]) -> list[str]:
    """The parts of a quoted code name (snake_case, dotted or called) that occur nowhere in the sources."""
    if not CODE_NAME.fullmatch(span) or not ("_" in span or "." in span or span.endswith("()")):
        return []
    if re.fullmatch(r"[\w-]+\.(py|md|cfg|json|txt|png|jpg|npy|npz|h5|ply|mp4|tflite|tar|zip|gz|bin)", span):
        return []  # a file name
    parts = span.removesuffix("()").split(".")
    return [part for part in parts if part not in words and part not in OTHER_PROJECTS]


def test_the_checks_by_hand(tmp_path: Path) -> None:
    words = {"compute_losses", "TrainConfig", "replace"}
    assert missing_names("compute_losses()", words) == []
    assert missing_names("TrainConfig.replace()", words) == []
    assert missing_names("register_divisible", words) == ["register_divisible"]
    assert missing_names("--smooth_weight=0.75", words) == []  # flags with values are not code names
    assert missing_path("sfmlearner_tf/losses.py") is False
    assert missing_path("sfmlearner_tf/no_such_module.py") is True
    assert missing_path("flags/presets/*.cfg") is False
    assert missing_path("tests/test_docs_names.py::test_the_checks_by_hand") is False


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_documents_name_only_what_exists(document: Path) -> None:
    words = _source_words()
    spans = quoted(document)
    paths = sorted({span for span in spans if missing_path(span)})
    names = sorted({f"{span} ({', '.join(missing)})" for span in spans if (missing := missing_names(span, words))})
    assert not paths and not names, f"{document.name} quotes paths that do not exist {paths} and names found in no " \
                                    f"source {names}"
