"""Blocks of a document written by a script: the text between ``<!-- generated: NAME -->`` and
``<!-- end generated: NAME -->``. The scripts of research/ fill them (``fill``) and the tests check them (``stale``),
so a table in the docs is always what the committed results say."""

from __future__ import annotations

import re


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- generated: {re.escape(name)} -->\n)(.*?)(<!-- end generated: {re.escape(name)} -->)", re.S)


def fill(document: str, blocks: dict[str, str]) -> str:
    """The document with each named block's text replaced; a block the document lacks is an error."""
    for name, text in blocks.items():
        pattern = _pattern(name)
        if not pattern.search(document):
            raise SystemExit(f"the document has no <!-- generated: {name} --> ... <!-- end generated: {name} --> block")
        document = pattern.sub(lambda m, text=text: m.group(1) + text + "\n" + m.group(3), document)
    return document


def stale(document: str, blocks: dict[str, str]) -> list[str]:
    """The names of the blocks whose text in the document is not the given one (or that it lacks)."""
    return [name for name, text in blocks.items() if (m := _pattern(name).search(document)) is None or m.group(2) != text + "\n"]


def write_or_check(document_path, blocks: dict[str, str], check: bool, command: str) -> int:
    """Fill the document's blocks, or (``check``) say which are stale and return 1."""
    text = document_path.read_text()
    if check:
        bad = stale(text, blocks)
        if bad:
            print(f"{document_path}: stale generated blocks: {', '.join(bad)} (run: {command})")
            return 1
        print(f"{document_path}: the generated blocks match the results")
        return 0
    document_path.write_text(fill(text, blocks))
    print(f"wrote {', '.join(blocks)} into {document_path}")
    return 0
