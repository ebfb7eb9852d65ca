"""Code lenses above backward sinks, the ``gradguard.showFlow`` command and the flow parts of hovers,
all computed from a snapshot's analysis (the flow map is cached on the analysis' facts)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from lsprotocol import types as lsp

from gradguard.core.source import Pos
from gradguard.flowmap import (
    LensPart,
    build,
    grad_markdown,
    grad_reads_at,
    grad_story,
    in_cells,
    lens_parts,
    render,
    short_names,
    sink_text,
    webview_payload,
)

SHOW_FLOW = "gradguard.showFlow"  # server command: the flow map as text (markdown / mermaid / dot / json / webview)
REVEAL_LINE = "gradguard.revealLine"  # client command (VS Code): reveal [uri, 0-based line]
FORMATS = ("markdown", "mermaid", "dot", "json", "webview")


def _path(uri: str) -> str:
    from urllib.parse import unquote, urlparse

    return unquote(urlparse(uri).path) if uri.startswith("file://") else uri


def code_lenses(snap, uri: str, enc: str) -> list:
    """The lenses of ``uri`` (a document, or one cell of a notebook snapshot), cached on the snapshot."""
    cache = snap.lenses if getattr(snap, "lenses", None) is not None else {}
    if uri in cache:
        return cache[uri]
    out: list = []
    facts = snap.analysis.facts
    if facts is not None:
        src = snap.analysis.source
        cells = snap.cells
        off, cell_idx = 0, None
        if cells is not None:
            if uri not in cells.ids:
                return []
            cell_idx = cells.ids.index(uri)
            off = cells.starts[cell_idx] - 1
        linked = getattr(snap.analysis, "linked", None)  # a program with definitions copied from other files
        for lf in build(facts, snap.analysis.findings).losses:
            node = lf.site.node
            if cells is not None and cells.to_cell(lf.line)[0] != cell_idx:
                continue
            if linked is not None and lf.line > linked.own_lines:
                continue  # a loss inside a definition of another file: that file's lenses show it
            start = facts.start(node)
            rng = _range(src, start, enc, off)
            for part in lens_parts(lf):
                if cells is not None:
                    part = LensPart(in_cells(part.title, cells), part.line)
                if linked is not None:
                    from gradguard.core.crossfile import relines

                    part = LensPart(relines(part.title, linked, None, _path(uri)), part.line)
                if part.line is None:
                    cmd = lsp.Command(title=part.title, command=SHOW_FLOW, arguments=[uri, "markdown", lf.line - 1 - off])
                elif linked is not None and linked.locate(part.line) is not None:
                    other, other_line = linked.locate(part.line)  # the cut is in another file: reveal it there
                    cmd = lsp.Command(title=part.title, command=REVEAL_LINE, arguments=[Path(other).as_uri(), other_line - 1])
                else:
                    target_uri, target_off = uri, off
                    if cells is not None:
                        i = cells.to_cell(part.line)[0]
                        target_uri, target_off = cells.ids[i], cells.starts[i] - 1
                    cmd = lsp.Command(title=part.title, command=REVEAL_LINE, arguments=[target_uri, part.line - 1 - target_off])
                out.append(lsp.CodeLens(range=rng, command=cmd))
    cache[uri] = out
    if getattr(snap, "lenses", None) is None:
        try:
            snap.lenses = cache
        except AttributeError:
            pass
    return out


def _range(src, start: Pos, enc: str, off: int) -> lsp.Range:
    from gradguard.lsp import convert

    return convert.range_of(src, start, start, enc, off)


def show_flow(snap, fmt: str, path: str) -> Any:
    facts = snap.analysis.facts
    name = os.path.basename(path) if path else "file"
    if facts is None:
        return {"error": "the file does not parse"} if fmt in ("json", "webview") else "The file does not parse: no flow to show.\n"
    fm = build(facts, snap.analysis.findings)
    if fmt == "webview":
        return webview_payload(fm, name)
    if fmt == "json":
        import json

        return json.loads(render(fm, name, "json", snap.cells))
    return render(fm, name, fmt, snap.cells)


def grad_hover(analysis, pos: Pos) -> Optional[str]:
    """Markdown for a ``.grad`` read under ``pos``: None or a real gradient at run time, and why."""
    facts = analysis.facts
    if facts is None or ".grad" not in analysis.source.text:
        return None
    for node in grad_reads_at(facts, pos.line):
        a, b = facts.start(node), facts.end(node)
        if a <= pos <= b:
            story = grad_story(facts, node)
            if story is not None:
                return grad_markdown(story)
    return None


def starvation_flow_markdown(analysis, finding) -> Optional[str]:
    """For a finding on a cut that starves parameters: the path the editor does not show (roots, cut, the
    calls it travels through, the loss), what that loss still trains, and what steps it."""
    facts = analysis.facts
    if facts is None:
        return None
    from gradguard.core.starvation import display_root, find_starvations

    fm = build(facts, analysis.findings)
    for st in find_starvations(facts):
        line = getattr(st.cut.node, "lineno", None)
        if line != finding.start.line:
            continue
        roots = ", ".join(f"`{display_root(r)}`" for r in st.roots[:4])
        via = [getattr(c, "lineno", 0) for c in st.cut.via]
        text = f"**Flow:** {roots} → `{st.cut.detail or st.cut.kind}` (line {line})"
        if via:
            text += " → calls at line" + ("s " if len(via) > 1 else " ") + ", ".join(str(v) for v in via)
        text += f" ⤫ `{sink_text(facts, st.site)}` (line {st.site.line})"
        lf = next((x for x in fm.losses if x.site.node is st.site.node), None)
        if lf is not None:
            if lf.trains:
                text += "\n\nThat loss trains " + ", ".join(f"`{n}`" for n in short_names(lf.trains)[:6])
                if lf.optimizers:
                    text += "; stepped by " + ", ".join(f"`{o}`" for o in lf.optimizers)
            elif lf.optimizers:
                text += "\n\nStepped by " + ", ".join(f"`{o}`" for o in lf.optimizers)
        return text
    return None


def name_flow_markdown(analysis, pos: Pos) -> Optional[str]:
    """For a name under ``pos`` that is (or holds) a gradient root of the flow map: which losses it reaches,
    which it does not (and where it is cut), and what steps it."""
    import ast

    from gradguard.core.starvation import display_root

    facts = analysis.facts
    if facts is None:
        return None
    fm = build(facts, analysis.findings)
    if not fm.losses:
        return None
    name = None
    for node in facts.walk(ast.Name):
        if isinstance(node, ast.Name) and node.lineno == pos.line and facts.start(node) <= pos <= facts.end(node):
            name = node.id
            break
    if name is None:
        return None

    def mine(root: str) -> bool:
        d = display_root(root)
        return d == name or d.startswith(name + ".")

    lines = []
    for lf in fm.losses:
        trained = [r for r in lf.trains if mine(r)]
        starved = [s for s in lf.starved if mine(s.root)]
        unsure = [r for r in lf.unsure if mine(r)]
        frozen = [r for r in lf.frozen if mine(r)]
        if not trained and not starved and not unsure and not frozen:
            continue
        where = f"the loss at line {lf.line} (`{lf.sink}`)"
        if trained:
            steps = f"; stepped by {', '.join(f'`{o}`' for o in lf.optimizers)}" if lf.optimizers else ""
            lines.append(f"- trained by {where}: {', '.join(f'`{display_root(r)}`' for r in trained[:6])}{steps}")
        if unsure:
            lines.append(f"- may reach {where}: {', '.join(f'`{display_root(r)}`' for r in unsure[:6])} (gradguard cannot tell whether a gradient arrives)")
        if frozen:
            lines.append(f"- reaches {where} but is frozen (`requires_grad` off, never trained): {', '.join(f'`{display_root(r)}`' for r in frozen[:6])}")
        for s in starved[:4]:
            lines.append(f"- `{s.name}` does not reach {where}: cut by `{s.cut.detail or s.cut.kind}` at line {getattr(s.cut.node, 'lineno', 0)}")
    if not lines:
        return None
    return f"**Gradient flow of `{name}`**\n\n" + "\n".join(lines)
