"""``gradguard check | rule | graph | explain | serve``: the same rules as the language server, ruff-like."""
from __future__ import annotations

import argparse
import sys
from typing import Optional

from gradguard import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="gradguard", description="Find PyTorch code whose gradients silently stop flowing.")
    parser.add_argument("--version", action="version", version=f"gradguard {__version__}")
    sub = parser.add_subparsers(dest="command")

    check = sub.add_parser("check", help="check files and directories")
    check.add_argument("paths", nargs="*", default=["."])
    check.add_argument("--output-format", choices=["text", "json", "sarif", "github"], default="text")
    check.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    check.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
    check.add_argument("--diff", action="store_true", help="print the fixes as a unified diff instead of writing")
    check.add_argument("--select", help="comma-separated rule codes or prefixes")
    check.add_argument("--ignore", help="comma-separated rule codes or prefixes")
    check.add_argument("--config", help="path to a pyproject.toml")
    check.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    check.add_argument("--jobs", "-j", type=int, default=0, help="worker processes (default: all cores)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--no-workspace", action="store_true", help="analyze each file alone (no cross-file analysis)")

    rule = sub.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code", nargs="?")
    rule.add_argument("--all", action="store_true")

    graph = sub.add_parser("graph", help="print the gradient flow of a file: what each loss trains and where paths are cut")
    graph.add_argument("file")
    graph.add_argument("--format", choices=["json", "mermaid", "dot", "markdown"], default="json")

    explain = sub.add_parser("explain", help="explain the finding or .grad read on FILE:LINE")
    explain.add_argument("location", metavar="FILE:LINE")

    sub.add_parser("serve", help="run the language server on stdio")

    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_ERROR if exc.code not in (0, None) else EXIT_CLEAN
    try:
        if args.command == "check":
            from gradguard.runner import run_check

            return run_check(args)
        if args.command == "rule":
            return _rule(args)
        if args.command == "graph":
            return _graph(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "serve":
            from gradguard.lsp.server import serve

            serve()
            return EXIT_CLEAN
    except KeyboardInterrupt:
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    parser.print_help()
    return EXIT_ERROR


def _rule(args) -> int:
    from gradguard.rules import ALL_RULES, META_CODES, RULES_BY_CODE
    from gradguard.rules.base import doc_sections

    if args.all or not args.code:
        for r in ALL_RULES:
            print(f"{r.code}  {r.name:36} {r.severity.value:8} {r.summary}")
        for code, name in META_CODES.items():
            print(f"{code}  {name}")
        return EXIT_CLEAN
    code = args.code.upper()
    r = RULES_BY_CODE.get(code)
    if r is None:
        if code in META_CODES:
            print(f"# {code} {META_CODES[code]}\n")
            return EXIT_CLEAN
        print(f"gradguard: unknown rule code {args.code!r} (try `gradguard rule --all`)", file=sys.stderr)
        return EXIT_ERROR
    print(doc_sections(r))
    return EXIT_CLEAN


def _load(path: str):
    """(analysis, cells, None) of a .py file or a notebook (``cells``: the notebook's ``CellMap``, None for
    .py), or (None, None, error message)."""
    import ast
    import os

    from gradguard.analyze import analyze
    from gradguard.config import find_pyproject, load_pyproject
    from gradguard.runner import read_source

    try:
        text, cells = read_source(path)
    except OSError as exc:
        return None, None, f"cannot read {path}: {exc.strerror or exc}"
    except ValueError as exc:
        return None, None, f"cannot read {path}: {exc}"
    except (TypeError, AttributeError, RecursionError, MemoryError) as exc:  # a notebook whose JSON is not shaped like one
        return None, None, f"cannot read {path}: not a valid notebook ({type(exc).__name__})"
    pp = find_pyproject(os.path.abspath(path))
    cfg = load_pyproject(pp) if pp else None
    analysis = analyze(text, path, cfg)
    if analysis.facts is None:
        try:
            ast.parse(text)
        except SyntaxError as exc:
            if cells is not None and exc.lineno:
                idx, line = cells.to_cell(exc.lineno)
                return None, None, f"{path}:{cells.labels[idx]}:{line}: does not parse: {exc.msg}"
            return None, None, f"{path}:{exc.lineno}: does not parse: {exc.msg}"
        return None, None, f"{path}: not analyzed"
    return analysis, cells, None


def _graph(args) -> int:
    from gradguard.flowmap import build, render

    analysis, cells, err = _load(args.file)
    if err:
        print(f"gradguard: {err}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(render(build(analysis.facts, analysis.findings), args.file, args.format, cells))
    return EXIT_CLEAN


def _explain(args) -> int:
    import re

    from gradguard.flowmap import explain

    loc = args.location
    m = re.match(r"^(?P<path>.+\.ipynb):(?:cell\s*)?(?P<cell>\d+):(?P<line>\d+)$", loc)
    if m is None:
        path, sep, line = loc.rpartition(":")
        if not sep or not path or not line.isdigit():
            print(f"gradguard: expected FILE:LINE (NOTEBOOK:CELL:LINE for a notebook), got {loc!r}", file=sys.stderr)
            return EXIT_ERROR
        if path.endswith(".ipynb"):
            print(f"gradguard: for a notebook give the cell and the line in it: {path}:CELL:LINE (cells counted from 1, as in the file)", file=sys.stderr)
            return EXIT_ERROR
        cell = None
    else:
        path, cell, line = m.group("path"), int(m.group("cell")), m.group("line")
    analysis, cells, err = _load(path)
    if err:
        print(f"gradguard: {err}", file=sys.stderr)
        return EXIT_ERROR
    where = f"{path}:{line}"
    program_line = int(line)
    if cells is not None and cell is not None:
        where = f"{path}:cell {cell}:{line}"
        if cell not in cells.ids:
            print(f"gradguard: {path} has no code cell {cell}", file=sys.stderr)
            return EXIT_ERROR
        idx = cells.ids.index(cell)
        program_line = cells.to_program(idx, int(line))
        end = cells.starts[idx + 1] if idx + 1 < len(cells.starts) else analysis.source.text.count("\n") + 1
        if not 1 <= program_line < max(end, cells.starts[idx] + 1):
            print(f"gradguard: cell {cell} of {path} has no line {line}", file=sys.stderr)
            return EXIT_ERROR
    text = explain(analysis.facts, analysis.findings, program_line, path, cells)
    if text is None:
        print(f"{where}: no finding, .grad read or backward() on this line")
        return EXIT_FINDINGS
    sys.stdout.write(text)
    return EXIT_CLEAN
