"""docs/SECURITY.md names, for each requirement, a test that exists."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`([\w/]+\.py)::(\w+)`")


def test_every_test_named_in_security_md_exists():
    text = (ROOT / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    references = REFERENCE.findall(text)
    assert len(references) > 40
    missing = []
    for path, name in references:
        file = ROOT / path
        defined = set()
        if file.exists():
            tree = ast.parse(file.read_text(encoding="utf-8"))
            defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        if name not in defined:
            missing.append(f"{path}::{name}")
    assert missing == []
