"""Notebooks: the code cells of a notebook are analyzed as one program, in order; positions map back
to (cell, line). IPython magics and shell escapes become comments so the program parses."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_MAGIC = re.compile(r"^(\s*)([%!]|\?\w|\w+\?$)")


def sanitize_cell(text: str) -> str:
    out = []
    in_cell_magic = text.lstrip().startswith("%%")
    for line in text.splitlines(keepends=True):
        if in_cell_magic or _MAGIC.match(line):
            body = line.rstrip("\r\n")
            ending = line[len(body) :]
            indent = body[: len(body) - len(body.lstrip())]
            out.append(f"{indent}# {body.lstrip()}{ending}")
        else:
            out.append(line)
    return "".join(out)


@dataclass
class CellMap:
    """Program line (1-based) -> (cell index, line within the cell, 1-based)."""

    starts: list = field(default_factory=list)  # first program line of each cell
    ids: list = field(default_factory=list)  # cell identifiers (URIs or indices)

    def to_cell(self, line: int) -> tuple:
        idx = 0
        for i, s in enumerate(self.starts):
            if s <= line:
                idx = i
            else:
                break
        return idx, line - self.starts[idx] + 1 if self.starts else line

    def to_program(self, cell_index: int, line: int) -> int:
        return self.starts[cell_index] + line - 1


def join_cells(cells: list) -> tuple:
    """cells: [(id, text)] -> (program text, CellMap)."""
    parts, cmap, line = [], CellMap(), 1
    for cid, text in cells:
        text = sanitize_cell(text)
        if text and not text.endswith("\n"):
            text += "\n"
        cmap.starts.append(line)
        cmap.ids.append(cid)
        parts.append(text)
        line += text.count("\n")
    return "".join(parts), cmap


def notebook_to_program(raw: bytes) -> tuple:
    """An .ipynb file -> (program text, CellMap over its code cells, ids = 1-based cell numbers)."""
    try:
        nb = json.loads(raw.decode("utf-8", errors="replace"))
        cells = nb.get("cells", []) if isinstance(nb, dict) else []
    except ValueError as exc:
        raise ValueError(f"not a valid notebook: {exc}") from exc
    code = []
    for i, c in enumerate(cells, 1):
        if not isinstance(c, dict) or c.get("cell_type") != "code":
            continue
        src = c.get("source", "")
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        if not isinstance(src, str):
            continue
        code.append((i, src))
    return join_cells(code)


def program_to_cell(cmap: CellMap, line: int) -> tuple:
    idx, cell_line = cmap.to_cell(line)
    return cmap.ids[idx] if cmap.ids else 1, cell_line
