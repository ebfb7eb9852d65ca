"""Cross-file answers from jedi, on demand only (hover), never on the diagnostic path.

jedi resolves imports, classes and base classes across the workspace without running project code,
but a query costs 0.1-10 s and a reused Script degrades, so every query gets a fresh Script, a time
limit, and a cache keyed by file contents. The question we ask most: "is this class an nn.Module?".
"""
from __future__ import annotations

import ast
import hashlib
import os
import threading
from dataclasses import dataclass
from typing import Optional

from gradguard.core.astindex import walk_nodes
from gradguard.core.imports import Imports
from gradguard.core.torchapi import MODULE_BASE, is_module_ctor


def default_timeout() -> Optional[float]:
    """Seconds a hover waits for jedi: env GRADGUARD_RESOLVE_TIMEOUT (0: wait for the answer, as the
    tests do so that they never race a clock), default 3."""
    raw = os.environ.get("GRADGUARD_RESOLVE_TIMEOUT", "")
    try:
        value = float(raw) if raw else 3.0
    except ValueError:
        value = 3.0
    return None if value <= 0 else value


@dataclass(frozen=True)
class ClassAnswer:
    full_name: str
    path: Optional[str]
    is_module: Optional[bool]  # None: could not tell
    chain: tuple = ()  # base classes followed to the answer


class Resolver:
    def __init__(self, root: Optional[str] = None, timeout: Optional[float] = -1.0, max_depth: int = 6) -> None:
        """``timeout``: seconds per query (None: no limit; default: ``default_timeout()``)."""
        self.root = root
        self.timeout = default_timeout() if timeout is not None and timeout < 0 else timeout
        self.max_depth = max_depth
        self._cache: dict = {}
        self._lock = threading.Lock()

    # -- public -----------------------------------------------------------------------------------
    def class_at(self, text: str, path: Optional[str], line: int, col: int) -> Optional[ClassAnswer]:
        """The class named at (1-based line, 0-based character column), resolved across files."""
        key = (hashlib.sha1(text.encode("utf-8", "replace")).hexdigest(), path, line, col)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        result: list = []

        def work():
            try:
                answer = self._class_at(text, path, line, col, 0, ())
            except Exception:  # jedi can fail in many ways on odd code: no answer is the answer
                answer = None
            result.append(answer)
            with self._lock:  # also when it comes after the time limit: the next hover gets it at once
                self._cache[key] = answer

        t = threading.Thread(target=work, name="gradguard-jedi", daemon=True)
        t.start()
        t.join(self.timeout)
        return result[0] if result else None  # too slow this time: nothing cached, the next hover asks again

    # -- internals --------------------------------------------------------------------------------
    def _script(self, text: str, path: Optional[str]):
        import jedi  # lazy: importing jedi costs ~100 ms and tens of MB

        jedi.settings.auto_import_modules = []  # never import anything to answer a query
        project = jedi.Project(self.root, load_unsafe_extensions=False) if self.root else None
        return jedi.Script(text, path=path, project=project)

    def _class_at(self, text: str, path: Optional[str], line: int, col: int, depth: int, chain: tuple) -> Optional[ClassAnswer]:
        names = self._script(text, path).goto(line, col, follow_imports=True)
        names = [n for n in names if n.type == "class"]
        if not names:
            return None
        n = names[0]
        full = n.full_name or n.name
        if full in MODULE_BASE or (full and is_module_ctor(full)):
            return ClassAnswer(full, str(n.module_path) if n.module_path else None, True, chain + (full,))
        if n.module_path is None or depth >= self.max_depth:
            return ClassAnswer(full, None, None, chain + (full,))
        try:
            src = n.module_path.read_text(encoding="utf-8", errors="replace")
            tree = ast.parse(src)
        except (OSError, SyntaxError, ValueError):
            return ClassAnswer(full, str(n.module_path), None, chain + (full,))
        imports = Imports(tree)
        cls = _find_class(tree, n.name, n.line)
        if cls is None:
            return ClassAnswer(full, str(n.module_path), None, chain + (full,))
        verdict: Optional[bool] = False
        for b in cls.bases:
            q = imports.qualname(b)
            if q and (q in MODULE_BASE or is_module_ctor(q)):
                return ClassAnswer(full, str(n.module_path), True, chain + (full, q))
            if isinstance(b, (ast.Name, ast.Attribute)):
                pos_line, pos_col = b.end_lineno or b.lineno, max((b.end_col_offset or 1) - 1, 0)
                sub = self._class_at(src, str(n.module_path), pos_line, pos_col, depth + 1, chain + (full,))
                if sub is not None and sub.is_module:
                    return ClassAnswer(full, str(n.module_path), True, sub.chain)
                if sub is None or sub.is_module is None:
                    verdict = None
        return ClassAnswer(full, str(n.module_path), verdict, chain + (full,))


def _find_class(tree: ast.AST, name: str, line: Optional[int]) -> Optional[ast.ClassDef]:
    best = None
    for node in walk_nodes(tree):
        if isinstance(node, ast.ClassDef) and node.name == name:
            if line is None or node.lineno == line:
                return node
            best = best or node
    return best
