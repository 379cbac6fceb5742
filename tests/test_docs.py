"""The documentation's Python examples run as written: every python block of the pages below."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [
    "README.md",
    "docs/torch.md",
    "docs/flax.md",
    "docs/cross-framework.md",
    "docs/choosing.md",
    "docs/initializers.md",
    "docs/spec.md",
]
BLOCKS = [
    (doc, i, block)
    for doc in DOCS
    for i, block in enumerate(re.findall(r"```python\n(.*?)```", (ROOT / doc).read_text(), re.S))
]


def test_every_guide_has_examples() -> None:
    assert {doc for doc, _, _ in BLOCKS} == set(DOCS)


@pytest.mark.parametrize(("doc", "index", "block"), BLOCKS, ids=[f"{d}#{i}" for d, i, _ in BLOCKS])
def test_code_block_runs(doc: str, index: int, block: str) -> None:
    exec(compile(block, f"{doc} (python block {index})", "exec"), {"__name__": "__docs__"})
