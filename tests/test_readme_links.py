"""Every in-page link of the README and docs/ (`[text](#anchor)`) names a heading that exists, with GitHub's
anchor rule (lower case, punctuation dropped, spaces to hyphens): a section removed by an edit is caught."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def github_anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_anchor_rule_by_hand() -> None:
    assert github_anchor("Fine-tuning from Zhou et al.'s checkpoints") == "fine-tuning-from-zhou-et-als-checkpoints"
    assert github_anchor("Reduced precision: bfloat16 on the CPU") == "reduced-precision-bfloat16-on-the-cpu"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_in_page_links_name_existing_headings(document: Path) -> None:
    text = document.read_text()
    anchors = {github_anchor(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}
    missing = sorted(set(re.findall(r"\]\(#([^)]+)\)", text)) - anchors)
    assert not missing, f"{document.name}: links to missing sections {missing}"
