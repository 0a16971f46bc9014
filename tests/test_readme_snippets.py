"""The README's Python snippets of the streaming section run as written (in a folder holding photos/)."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from tests.conftest import write_photo_tree

README = Path(__file__).resolve().parents[1] / "README.md"


def section_snippets(heading: str) -> list[str]:
    text = README.read_text()
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return re.findall(r"```python\n(.*?)```", text[start:end], re.S)


def test_the_streaming_snippet(tmp_path, monkeypatch):
    write_photo_tree(tmp_path / "photos", 6, classes=2)
    monkeypatch.chdir(tmp_path)
    snippets = section_snippets("## Large data sets")
    assert len(snippets) == 1
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(snippets[0], "README.md", "exec"), {})
    assert out.getvalue().splitlines() == ["(4, 3, 224, 224) (4,)", "6 ['class_0', 'class_1']"]
    assert (tmp_path / "train.rec").is_file() and (tmp_path / "train.idx").is_file()
