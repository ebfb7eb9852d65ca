"""Notebooks: the code cells of a notebook are analyzed as one program, in order; positions map back
to (cell, line within the cell).

- IPython magics and shell escapes (``%time``, ``!pip``, ``obj?``) that start a logical line become
  ``pass`` statements with the same indentation (a comment would leave a block whose only statement is a
  magic empty); a cell magic (``%%capture``, ``%%bash``...) turns its whole cell into comments, except the
  magics whose body is Python (``%%time``, ``%%capture``...), whose first line alone becomes a comment.
  IPython's assignment forms (``files = !ls``, ``t = %timeit -o f()``) become ``files = None``: the name holds the
  output, no tensor. Every line keeps its place: the program has exactly the lines of the cells.
- Jupyter runs cells one by one, so a cell that does not parse on its own is reported there (GG001 at the
  cell's own line) and left out of the program (its lines become comments); the other cells are analyzed.
- Cells are numbered as in the ``.ipynb`` file and in VS Code's "Cell N of M": 1-based, counting every
  cell (markdown and raw cells too).
- ``apply_cell_edits``/``replace_sources`` write fixes back into the cells of the JSON file, leaving every
  other byte of the file as it was (outputs, metadata, formatting).
"""
from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Optional

# ``name = !cmd`` / ``name = %magic ...`` (IPython's assignment forms; one plain name or a dotted / tuple target)
_ASSIGN_MAGIC = re.compile(r"^([ \t]*)([A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*)[ \t]*=[ \t]*[!%](?![=%])")
# (also IPython's wildcard search, ``torch.*Tensor?``, which it runs as ``%psearch``)
_MAGIC = re.compile(r"^(\s*)([%!]|\?\w|[\w*][\w.*]*\?\??\s*$)")
_CELL_MAGIC = re.compile(r"^\s*%%(\w+)")
# cell magics whose body is ordinary Python run by IPython
PYTHON_BODY_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}


@dataclass
class CellError:
    """A code cell that does not parse on its own (0-based index into CellMap.ids; 1-based line, 0-based column)."""

    index: int
    line: int
    col: int
    end_col: int
    message: str


@dataclass
class CellMap:
    """Program line (1-based) -> (cell index, line within the cell, 1-based)."""

    starts: list = field(default_factory=list)  # first program line of each cell
    ids: list = field(default_factory=list)  # cell identifiers (URIs or 1-based cell numbers)
    errors: list = field(default_factory=list)  # CellError for each cell that does not parse
    rewritten: set = field(default_factory=set)  # program lines that differ from the cell's own text
    labels: list = field(default_factory=list)  # what the user calls each cell in messages ("cell 3")
    # program line -> columns IPython's leading-indent cleanup removed from it (a cell whose first line is indented runs
    # with that indent stripped from every line that starts with it): a column of the program is this many to the left
    shifts: dict = field(default_factory=dict)

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


def _scan_state(line: str, state: dict) -> None:
    """Advance a tiny lexer over one physical line: open brackets, open triple-quoted string, backslash
    continuation (enough to know whether the next line starts a logical line)."""
    i, n = 0, len(line)
    quote = state.get("quote")
    while i < n:
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
            i += 1
            continue
        if ch == "#":
            break
        if ch in "\"'":
            q = line[i : i + 3] if line[i : i + 3] in ('"""', "'''") else ch
            quote = q
            i += len(q)
            continue
        if ch in "([{":
            state["depth"] += 1
        elif ch in ")]}":
            state["depth"] = max(0, state["depth"] - 1)
        i += 1
    if quote is not None and len(quote) == 1:
        quote = None  # an unterminated one-line string: a syntax error the parser reports
    state["quote"] = quote
    body = line.rstrip("\r\n")
    state["continued"] = quote is None and body.endswith("\\") and not body.lstrip().startswith("#")


def _split(text: str) -> list:
    return text.splitlines(keepends=True)


def sanitize_cell(text: str) -> str:
    """The cell as Python: same number of lines, every non-magic line unchanged."""
    return "".join(_sanitize_lines(text)[0])


def _sanitize_lines(text: str) -> tuple:
    """(lines, indices of rewritten lines)."""
    lines = _split(text)
    out, rewritten = [], set()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    m = _CELL_MAGIC.match(lines[first]) if first is not None else None
    if m is not None and first is not None:
        python_body = m.group(1) in PYTHON_BODY_CELL_MAGICS
        for i, line in enumerate(lines):
            if i == first or (not python_body and line.strip()):
                out.append(_comment(line))
                rewritten.add(i)
            else:
                out.append(line)
        if python_body:
            rest, more = _sanitize_lines("".join(lines[first + 1 :]))
            return out[: first + 1] + rest, rewritten | {first + 1 + j for j in more}
        return out, rewritten
    state = {"depth": 0, "quote": None, "continued": False}
    in_magic = False  # on a line that continues a magic (``!pip install a \``): IPython joins it to the magic
    for i, line in enumerate(lines):
        if in_magic:
            body = line.rstrip("\r\n")
            out.append(_comment(line))
            rewritten.add(i)
            in_magic = body.endswith("\\")
            state["continued"] = in_magic
            continue
        starts_logical = state["depth"] == 0 and state["quote"] is None and not state["continued"]
        am = _ASSIGN_MAGIC.match(line) if starts_logical else None
        if am is not None:
            # ``files = !ls``, ``t = %timeit -o f()``: IPython assigns the shell's or the magic's output (a list of lines,
            # a result object): the name holds a value that is no tensor
            body = line.rstrip("\r\n")
            out.append(f"{am.group(1)}{am.group(2)} = None{line[len(body):]}")
            rewritten.add(i)
            in_magic = body.endswith("\\")
            continue
        if starts_logical and _MAGIC.match(line):
            body = line.rstrip("\r\n")
            indent = body[: len(body) - len(body.lstrip())]
            out.append(f"{indent}pass{line[len(body):]}")
            rewritten.add(i)
            in_magic = body.endswith("\\")  # a magic continued on the next line
            continue
        out.append(line)
        _scan_state(line, state)
    return out, rewritten


_INDENT = re.compile(r"[ \t]+")


def leading_indent(text: str) -> tuple:
    """IPython's ``leading_indent`` cleanup: when a cell's first non-blank line is indented, that indentation is removed
    from every line that starts with it before the cell is compiled (a cell whose lines all start with a space runs).
    -> (text, {0-based line index: characters removed})."""
    lines = _split(text)
    first = next((ln for ln in lines if ln.strip()), None)
    m = _INDENT.match(first) if first is not None else None
    if m is None:
        return text, {}
    prefix = m.group(0)
    n = len(prefix)
    out, stripped = [], {}
    for i, ln in enumerate(lines):
        if ln.startswith(prefix):
            out.append(ln[n:])
            stripped[i] = n
        else:
            out.append(ln)
    return "".join(out), stripped


def _comment(line: str) -> str:
    body = line.rstrip("\r\n")
    return f"# {body.lstrip()}{line[len(body):]}" if body.strip() else line


def _cell_error(text: str) -> Optional[tuple]:
    """(line, col, end_col, message) when the (sanitized) cell does not parse on its own."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<cell>", "exec", ast.PyCF_ONLY_AST | getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0), dont_inherit=True)
        return None
    except SyntaxError as exc:
        lines = _split(text) or [""]
        line = max(1, min(exc.lineno or 1, len(lines)))
        body = lines[line - 1].rstrip("\r\n")
        col = min(max((exc.offset or 1) - 1, 0), len(body))
        end = col + 1 if col < len(body) else col
        return line, col, end, f"syntax error: {exc.msg}"
    except (ValueError, MemoryError, RecursionError) as exc:
        return 1, 0, 0, f"cannot parse: {exc}" if isinstance(exc, ValueError) else "cannot parse: the cell is too deeply nested"


def join_cells(cells: list, labels: Optional[list] = None) -> tuple:
    """cells: [(id, text)] -> (program text, CellMap). ``labels``: the cells' names in messages (default:
    "cell <id>" for numeric ids, "cell <position among the code cells>" otherwise)."""
    parts, cmap, line = [], CellMap(), 1
    for k, (cid, text) in enumerate(cells):
        cmap.labels.append(labels[k] if labels is not None else f"cell {cid if isinstance(cid, int) else k + 1}")
        text, stripped = leading_indent(text)
        lines, rewritten = _sanitize_lines(text)
        text = "".join(lines)
        if text and not text.endswith("\n"):
            text += "\n"
        err = _cell_error(text)
        if err is not None:
            cmap.errors.append(CellError(len(cmap.ids), *err))
            text = "".join(_comment(ln) for ln in _split(text))
            rewritten = set(range(text.count("\n")))
        cmap.starts.append(line)
        cmap.shifts.update((line + i, n) for i, n in stripped.items())
        cmap.ids.append(cid)
        cmap.rewritten.update(line + i for i in rewritten)
        parts.append(text)
        line += text.count("\n")
    return "".join(parts), cmap


def cell_error_findings(cmap: CellMap, config=None) -> list:
    """GG001 findings (program coordinates) for the cells that do not parse on their own."""
    from gradguard.analyze import SYNTAX_CODE
    from gradguard.core.model import Finding, Severity
    from gradguard.core.source import Pos

    out = []
    for e in cmap.errors:
        line = cmap.starts[e.index] + e.line - 1
        label = cmap.labels[e.index]
        message = _LINE_REF.sub(f"{label}, \\1 \\2", e.message)  # the error's line numbers count from the cell's first line
        sev = config.severity_for(SYNTAX_CODE, Severity.ERROR) if config is not None else Severity.ERROR
        out.append(Finding(SYNTAX_CODE, f"{message} (this cell is not analyzed until it parses)", Pos(line, e.col), Pos(line, e.end_col), sev))
    return out


_LINE_REF = re.compile(r"\b(line) (\d+)\b")


def cell_message(cmap: CellMap, message: str) -> str:
    """A message about the joined program with its "line N" references made "cell C, line L"."""

    def repl(m: re.Match) -> str:
        line = int(m.group(2))
        if not cmap.starts or line < 1:
            return m.group(0)
        idx, cell_line = cmap.to_cell(line)
        return f"{cmap.labels[idx]}, {m.group(1)} {cell_line}"

    return _LINE_REF.sub(repl, message)


def merge_cell_errors(analysis: Any, cmap: Optional[CellMap], config=None) -> Any:
    """Findings of an analysis of the joined program as a notebook user reads them (in place; returns the
    analysis): line references in messages name the cell, and each cell that does not parse on its own
    gets its GG001 there."""
    if cmap is None:
        return analysis
    import dataclasses

    if cmap.shifts:
        analysis.source.col_shift = cmap.shifts  # (columns the user sees: the cells' own, indent and all)

    for f in analysis.findings:
        f.message = cell_message(cmap, f.message)
        if f.related:
            f.related = [dataclasses.replace(r, message=cell_message(cmap, r.message)) for r in f.related]
    if cmap.errors and (config is None or config.enable):
        from gradguard.core.model import Finding

        analysis.findings = sorted(list(analysis.findings) + cell_error_findings(cmap, config), key=Finding.sort_key)
    return analysis


def _python_code_cell(c: Any) -> bool:
    """A code cell the kernel runs as Python: not one its metadata gives another language (VS Code keeps
    ``metadata.vscode.languageId``: ``shellscript``, ``plaintext``, ``markdown`` cells of a Python notebook are
    never parsed as Python)."""
    if not isinstance(c, dict) or c.get("cell_type") != "code":
        return False
    meta = c.get("metadata")
    vscode = meta.get("vscode") if isinstance(meta, dict) else None
    lang = vscode.get("languageId") if isinstance(vscode, dict) else None
    return python_language(lang)


def python_language(lang: Any) -> bool:
    """Is a cell of language ``lang`` (a language id; none given: the notebook's, Python) run as Python?"""
    return not isinstance(lang, str) or not lang or lang.lower() in ("python", "python3", "ipython")


def _cell_source(c: Any) -> Optional[str]:
    src = c.get("source", "")
    if isinstance(src, list):
        src = "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else None


def notebook_to_program(raw: bytes) -> tuple:
    """An .ipynb file -> (program text, CellMap over its code cells, ids = 1-based cell numbers)."""
    try:
        nb = json.loads(raw.decode("utf-8", errors="replace"))
        cells = nb.get("cells", []) if isinstance(nb, dict) else []
    except ValueError as exc:
        raise ValueError(f"not a valid notebook: {exc}") from exc
    code = []
    for i, c in enumerate(cells, 1):
        if not _python_code_cell(c):
            continue
        src = _cell_source(c)
        if src is None:
            continue
        code.append((i, src))
    return join_cells(code)


def program_to_cell(cmap: CellMap, line: int) -> tuple:
    idx, cell_line = cmap.to_cell(line)
    return cmap.ids[idx] if cmap.ids else 1, cell_line


# -- writing fixes back ---------------------------------------------------------------------------
def cell_sources(raw: bytes) -> dict:
    """1-based cell number -> source text, for the code cells of an .ipynb file."""
    nb = json.loads(raw.decode("utf-8"))
    out = {}
    for i, c in enumerate(nb.get("cells", []), 1):
        if _python_code_cell(c):
            src = _cell_source(c)
            if src is not None:
                out[i] = src
    return out


def edits_by_cell(cmap: CellMap, edits: list) -> Optional[dict]:
    """Program edits -> {cell index: [(start line, start col, end line, end col, content)]} in cell
    coordinates, or None when an edit spans cells or touches a rewritten (magic) line."""
    out: dict = {}
    for e in edits:
        last = e.end.line - 1 if e.end.col == 0 and e.end.line > e.start.line else e.end.line
        i0, l0 = cmap.to_cell(e.start.line)
        i1, _ = cmap.to_cell(max(last, e.start.line))
        if i0 != i1 or any(ln in cmap.rewritten for ln in range(e.start.line, max(last, e.start.line) + 1)):
            return None
        if cmap.shifts and not shift_safe(cmap, e):
            return None
        sh = cmap.shifts.get
        out.setdefault(i0, []).append((l0, e.start.col + sh(e.start.line, 0), e.end.line - cmap.starts[i0] + 1, e.end.col + sh(e.end.line, 0), e.content))
    return out


def shift_safe(cmap: CellMap, e: Any) -> bool:
    """Can program edit ``e`` be written into a cell IPython dedents? Only text within lines (new lines would lack the
    cell's indent), and not ending at the start of the next line (the end of a line the edit takes whole)."""
    touched = range(e.start.line, e.end.line + 1)
    if not any(ln in cmap.shifts for ln in touched):
        return True
    return "\n" not in e.content and e.start.line == e.end.line


def apply_cell_edits(text: str, edits: list) -> str:
    """Apply [(start line, start col, end line, end col, content)] (1-based lines, character columns) to a
    cell's text; overlapping edits after the first are skipped."""
    had_newline = text.endswith("\n") or not text
    work = text if had_newline else text + "\n"
    starts = [0]
    for ln in _split(work):
        starts.append(starts[-1] + len(ln))

    def offset(line: int, col: int) -> int:
        if line - 1 >= len(starts) - 1:
            return len(work)
        return min(starts[line - 1] + col, starts[line])

    spans = sorted((offset(a, b), offset(c, d), content) for a, b, c, d, content in edits)
    out, pos, last_end = [], 0, -1
    for a, b, content in spans:
        if a < last_end:
            continue
        out.append(work[pos:a])
        out.append(content)
        pos = last_end = b
    out.append(work[pos:])
    new = "".join(out)
    if not had_newline and new.endswith("\n"):
        new = new[:-1]
    return new


def _source_spans(text: str) -> dict:
    """1-based cell number -> (start, end) of its "source" value in the notebook's JSON text."""
    dec = json.JSONDecoder()
    ws = re.compile(r"[ \t\r\n]*")

    def skip(i: int) -> int:
        m = ws.match(text, i)
        return m.end() if m else i

    def value_end(i: int) -> int:
        return dec.raw_decode(text, i)[1]

    def members(i: int):
        """Yield (key, value start) of the object starting at text[i] == '{', and finally its end."""
        assert text[i] == "{"
        i = skip(i + 1)
        if text[i] == "}":
            return i + 1
        while True:
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            i = skip(i)
            assert text[i] == ":"
            i = skip(i + 1)
            end = yield key, i
            i = skip(end)
            if text[i] == "}":
                return i + 1
            assert text[i] == ","
            i = skip(i + 1)

    spans: dict = {}
    top = members(skip(0))
    try:
        key, i = next(top)
        while True:
            if key == "cells":
                j = skip(i)
                assert text[j] == "["
                j = skip(j + 1)
                n = 0
                while text[j] != "]":
                    n += 1
                    if text[j] == "{":
                        cell = members(j)
                        try:
                            ck, ci = next(cell)
                            while True:
                                end = value_end(ci)
                                if ck == "source":
                                    spans[n] = (ci, end)
                                ck, ci = cell.send(end)
                        except StopIteration as stop:
                            j = stop.value
                    else:
                        j = value_end(j)
                    j = skip(j)
                    if text[j] == ",":
                        j = skip(j + 1)
                end = j + 1
            else:
                end = value_end(i)
            key, i = top.send(end)
    except StopIteration:
        pass
    return spans


def replace_sources(raw: bytes, new_sources: dict) -> bytes:
    """The notebook file with the "source" of the given cells (1-based cell number -> text) replaced, in the
    style the file already uses (a list of lines or one string, its indentation); every other byte kept."""
    text = raw.decode("utf-8")
    spans = _source_spans(text)
    ascii_only = all(ord(ch) < 128 for ch in text)
    out, pos = [], 0
    for n in sorted(new_sources):
        if n not in spans:
            raise ValueError(f"cell {n} has no source in the notebook")
        a, b = spans[n]
        old = text[a:b]
        out.append(text[pos:a])
        out.append(_format_source(old, new_sources[n], ensure_ascii=ascii_only))
        pos = b
    out.append(text[pos:])
    return "".join(out).encode("utf-8")


def _format_source(old: str, new: str, ensure_ascii: bool) -> str:
    def s(x: str) -> str:
        return json.dumps(x, ensure_ascii=ensure_ascii)

    if not old.startswith("["):
        return s(new)
    lines = _split(new)
    if not lines:
        return "[]"
    m = re.match(r"\[(\s*)", old)
    lead = m.group(1) if m else ""
    if "\n" not in lead:  # a one-line list
        return "[" + ", ".join(s(ln) for ln in lines) + "]"
    close = re.search(r"(\s*)\]$", old)
    tail = close.group(1) if close else "\n"
    return "[" + lead + ("," + lead).join(s(ln) for ln in lines) + tail + "]"
