"""docs/SECURITY.md: every requirement names tests, and every test it names exists."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"`([\w/]+\.py)::(\w+)`")


def requirement_rows() -> list[str]:
    text = (ROOT / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    section = text.split("## Requirements", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return rows[2:]  # after the header and its rule


def defined_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_requirement_names_existing_tests():
    rows = requirement_rows()
    assert rows, "docs/SECURITY.md lists requirements"
    problems = []
    for row in rows:
        references = REFERENCE.findall(row)
        if not references:
            problems.append(f"names no test: {row[:80]}")
        for path, name in references:
            file = ROOT / path
            if not file.is_file():
                problems.append(f"no such file: {path}")
            elif not name.startswith("test_") or name not in defined_functions(file):
                problems.append(f"no such test: {path}::{name}")
    assert not problems, "\n".join(problems)


def test_every_test_named_anywhere_in_the_document_exists():
    text = (ROOT / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    references = REFERENCE.findall(text)
    assert len(references) > 40
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not (ROOT / path).is_file() or name not in defined_functions(ROOT / path)
    ]
    assert missing == []
