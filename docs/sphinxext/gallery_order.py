"""Order the gallery as ``examples/README.txt`` lists it: a reading order.

sphinx-gallery instantiates the key with the gallery's source folder and
sorts the example file names by it. Examples the README does not list come
last, by file name (``tests/test_examples.py`` checks that none is missing).
"""

from __future__ import annotations

import re
from pathlib import Path

_LISTED = re.compile(r"sphx_glr_auto_examples_(plot_\w+\.py)")


def reading_order(src_dir: str | Path) -> list[str]:
    """Example file names in the order the gallery README cites them."""
    readme = Path(src_dir) / "README.txt"
    if not readme.is_file():
        return []
    return list(dict.fromkeys(_LISTED.findall(readme.read_text(encoding="utf-8"))))


class ReadingOrder:
    """Sort key: position in the README's list, then file name."""

    def __init__(self, src_dir: str | Path) -> None:
        self.order = reading_order(src_dir)

    def __call__(self, filename: str) -> tuple[int, str]:
        name = Path(filename).name
        rank = self.order.index(name) if name in self.order else len(self.order)
        return rank, name

    def __repr__(self) -> str:  # sphinx-gallery records the key in its config
        return f"{type(self).__name__}()"
