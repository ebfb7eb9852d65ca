"""The workspace: every Python file under the roots, summarized once, and the linker that makes one program of
a file and the definitions it imports from the rest of the workspace.

Real projects keep the model in ``model.py``, its layers in a package, the training loop in ``train.py``. The
single-file model cannot see that ``Net`` is an ``nn.Module`` or that its ``forward`` detaches the encoder
``train.py`` trains. Rather than teach every rule about files, the linker builds one program: the file being
analyzed, unchanged line for line, followed by the top-level definitions (classes, functions, constants) it
imports from workspace files, transitively, each copied whole with the imports those definitions use. The
import statements that were resolved are replaced by ``pass`` on their first line, so the imported names are
the definitions themselves. Every fact the program model learns (Module-ness through bases, registered
parameters, what ``forward`` does, helpers' summaries, optimizers, sinks) then holds across files, and a
finding inside a copied definition is mapped back to its own file and line (columns never change: whole lines
are copied).

Nothing here imports or runs the code it reads. Bounded: files (``MAX_FILES``), linked lines per program
(``LINK_BUDGET``), depth of re-export chains; directories that are environments or build output are skipped;
symlinked directories are not followed.
"""
from __future__ import annotations

import ast
import hashlib
import os
import re
import threading
import warnings
from dataclasses import dataclass, field
from typing import Optional

from gradguard.core.astindex import forget_index, statements_of_type
from gradguard.core.source import split_lines

SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "env", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".gradguard_cache", "build", "dist", "site-packages", ".eggs"}
MAX_FILES = int(os.environ.get("GRADGUARD_MAX_WORKSPACE_FILES", "") or 20_000)
LINK_BUDGET = 4_000  # lines of other files copied into one program
SMALL_DEFINITION = 40  # lines: a file that does not train copies, besides its bases, only definitions this small
MAX_FILE_BYTES = 2_000_000  # larger files are not summarized (generated code, data)
_MAX_CHAIN = 8

# a file that trains (or reads gradients) gets every imported definition linked; any other file only the base
# classes of its own classes (enough to know they are Modules, cheap)
TRAINING_MARKERS = tuple(
    re.compile(p)
    for p in (r"\.backward\(", r"autograd\.grad\(", r"optim\.[A-Z]\w*\(", r"\.grad\b(?!_)", r"training_step", r"compute_loss", r"Trainer\(", r"\.fit\(")
)  # one pattern each: a literal prefix each is searched fast, an alternation is not
_MARKER_TOKENS = ("backward(", "autograd.grad(", "optim.", ".grad", "training_step", "compute_loss", "Trainer(", ".fit(")


def trains(text: str) -> bool:
    """Does the file train or read gradients (a cheap substring gate before the regex)?"""
    return any(t in text for t in _MARKER_TOKENS) and any(p.search(text) for p in TRAINING_MARKERS)


_IDENT = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def is_env_dir(path: str) -> bool:
    """A virtualenv / conda env inside the workspace (``pyvenv.cfg`` or ``conda-meta``): never project code."""
    return os.path.isfile(os.path.join(path, "pyvenv.cfg")) or os.path.isdir(os.path.join(path, "conda-meta"))


def walk_sources(root: str, suffixes: tuple, excluded=None):
    """Files under ``root`` ending in ``suffixes``, sorted, skipping environments, build output, hidden and
    ``excluded(path)`` directories and files; regular files only (reading a FIFO blocks forever); symlinked
    directories are not followed (no loops)."""
    for d, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(
            x for x in dirs if x not in SKIP_DIRS and not x.startswith(".") and not is_env_dir(os.path.join(d, x)) and not (excluded and excluded(os.path.join(d, x)))
        )
        for f in sorted(files):
            if f.endswith(suffixes):
                full = os.path.join(d, f)
                if not (excluded and excluded(full)) and os.path.isfile(full):
                    yield full


@dataclass(frozen=True)
class Definition:
    name: str
    start: int  # 1-based first line (decorators included)
    end: int  # 1-based last line
    bases: tuple = ()  # the names class bases start from (``nn`` of ``nn.Module``)
    header_end: int = 0  # a class: the last line of its header (decorators, ``class X(Base):``); 0: one line


@dataclass(frozen=True)
class ImportBinding:
    """One name an import statement binds: ``from .layers import Block`` -> ("Block", ".layers", "Block", 1)."""

    local: str
    module: Optional[str]  # dotted, without the leading dots of a relative import
    name: Optional[str]  # None for ``import a.b``
    level: int
    start: int
    end: int
    col: int
    qualname: Optional[str]  # what the single-file model calls it (absolute imports only)


@dataclass
class FileSummary:
    path: str
    digest: str
    defs: dict = field(default_factory=dict)  # top-level name -> Definition
    imports: list = field(default_factory=list)  # top-level ImportBinding
    trains: bool = False
    error: Optional[str] = None


def _digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def summarize(path: str, text: str, tree: Optional[ast.Module] = None) -> FileSummary:
    """Top-level definitions and imports of one file (never raises: a file that does not parse has none).
    ``tree``: the file's tree when the caller parsed it already."""
    s = FileSummary(path, _digest(text.encode("utf-8", "surrogatepass")))
    s.trains = trains(text)
    if tree is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(text)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            s.error = f"{type(exc).__name__}: {exc}"
            return s
    for st in tree.body:
        if isinstance(st, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([st.lineno, *(d.lineno for d in st.decorator_list)])
            bases = tuple(r for r in (_root_name(b) for b in st.bases) if r) if isinstance(st, ast.ClassDef) else ()
            body_start = min([st.body[0].lineno, *(d.lineno for d in getattr(st.body[0], "decorator_list", []))]) if st.body else st.lineno
            header_end = body_start - 1 if isinstance(st, ast.ClassDef) and body_start > st.lineno else 0
            s.defs[st.name] = Definition(st.name, start, st.end_lineno or st.lineno, bases, header_end)
        elif isinstance(st, (ast.Assign, ast.AnnAssign)) and st.value is not None:
            targets = st.targets if isinstance(st, ast.Assign) else [st.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if len(names) == len(targets):
                for n in names:
                    s.defs[n] = Definition(n, st.lineno, st.end_lineno or st.lineno)
        elif isinstance(st, (ast.Import, ast.ImportFrom)):
            s.imports.extend(_bindings(st))
    return s


_DEF_LINE = re.compile(r"(?:async\s+def|def|class)\s+([A-Za-z_]\w*)")
_ASSIGN_LINE = re.compile(r"([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)")
_CONTINUES = ("else", "elif", "except", "finally", ")", "]", "}", "#", "\"", "'")


def scan(path: str, text: str) -> FileSummary:
    """``summarize`` without parsing the whole file: top-level statements start at column 0, so the file is cut
    there, and only import statements and class headers are parsed (small snippets). Cheaper than ``ast.parse``
    on files that are only imported from. A span a string or bracket at column 0 cuts short makes a copied
    definition that does not parse, and the program falls back to the file alone (see ``analyze._link``)."""
    s = FileSummary(path, _digest(text.encode("utf-8", "surrogatepass")))
    s.trains = trains(text)
    lines = split_lines(text)
    starts: list = []  # (line index, first char) of top-level statements
    decorated = -1
    for i, ln in enumerate(lines):
        c = ln[:1]
        if not c or c in " \t\r\n\x0c" or ln.startswith(_CONTINUES):
            continue
        if c == "@":
            if decorated < 0:
                decorated = i
            continue
        starts.append((decorated if decorated >= 0 else i, i))
        decorated = -1
    for k, (first, head) in enumerate(starts):
        nxt = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        last = nxt - 1
        while last > head and (not lines[last].strip() or lines[last].lstrip().startswith("#")):
            last -= 1
        ln = lines[head]
        m = _DEF_LINE.match(ln)
        if m:
            name = m.group(1)
            bases: tuple = ()
            header_end = 0
            if ln.startswith("class"):
                bases, header_end = _class_header(lines, head, last)
            s.defs[name] = Definition(name, first + 1, last + 1, bases, header_end)
        elif ln.startswith(("import ", "from ")):
            try:
                snippet = ast.parse("".join(lines[head : last + 1]))
            except (SyntaxError, ValueError):
                continue
            ast.increment_lineno(snippet, head)
            for st in snippet.body:
                if isinstance(st, (ast.Import, ast.ImportFrom)):
                    s.imports.extend(_bindings(st))
        else:
            m = _ASSIGN_LINE.match(ln)
            if m and m.group(1) not in ("if", "for", "while", "with", "try", "return", "print", "assert", "del"):
                s.defs[m.group(1)] = Definition(m.group(1), head + 1, last + 1)
    return s


def _class_header(lines: list, head: int, last: int) -> tuple:
    """(root names of the bases, last line of the header, 0 for a one-line class) of the class at ``head``."""
    for end in range(head, min(last, head + 20) + 1):
        snippet = "".join(lines[head : end + 1])
        try:
            tree = ast.parse(snippet.rstrip() + "\n    pass\n" if snippet.rstrip().endswith(":") else snippet)
        except (SyntaxError, ValueError):
            continue
        cls = tree.body[0] if tree.body and isinstance(tree.body[0], ast.ClassDef) else None
        if cls is None:
            return (), 0
        bases = tuple(r for r in (_root_name(b) for b in cls.bases) if r)
        one_line = not snippet.rstrip().endswith(":")
        return bases, 0 if one_line or end == last else end + 1
    return (), 0


def _root_name(expr: ast.AST) -> Optional[str]:
    """``nn`` for ``nn.Module``, ``Base`` for ``Base``: the name a base class expression starts from."""
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else None


def _bindings(st: ast.stmt) -> list:
    out = []
    end = st.end_lineno or st.lineno
    if isinstance(st, ast.Import):
        for a in st.names:
            local = a.asname or a.name.split(".")[0]
            q = a.name if a.asname else a.name.split(".")[0]
            out.append(ImportBinding(local, a.name, None, 0, st.lineno, end, st.col_offset, q))
    elif isinstance(st, ast.ImportFrom):
        for a in st.names:
            if a.name == "*":
                out.append(ImportBinding("*", st.module, "*", st.level, st.lineno, end, st.col_offset, None))
                continue
            qn: Optional[str] = f"{st.module}.{a.name}" if st.module and st.level == 0 else None
            out.append(ImportBinding(a.asname or a.name, st.module, a.name, st.level, st.lineno, end, st.col_offset, qn))
    return out


@dataclass
class Linked:
    """One program: the file's text (same lines) followed by the definitions it imports."""

    text: str
    own_lines: int  # lines 1..own_lines are the file itself
    origin: list  # for each copied line (own_lines+1 ...): (path, original line)
    files: dict  # path -> digest of every file the program copies from
    changed_lines: frozenset  # own lines rewritten (resolved imports): no fix may touch them
    library: frozenset = frozenset()  # copied files that are installed packages (never reported on)
    rewritten: tuple = ()  # the file's import statements (nodes of its tree) that were replaced by ``pass``
    copied: str = ""  # the text after the file's own lines

    def program_tree(self, tree: ast.Module) -> ast.Module:
        """The program's tree from the file's own ``tree`` (changed in place: no second parse of the file):
        resolved imports become ``pass``, the copied definitions are parsed and appended, lines shifted."""
        gone = {id(st) for st in self.rewritten}
        if gone:
            for node in [tree, *statements_of_type(tree, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.Try, ast.With, ast.For, ast.While))]:
                for name in ("body", "orelse", "finalbody"):
                    block = getattr(node, name, None)
                    if isinstance(block, list) and any(id(st) in gone for st in block):
                        setattr(node, name, [_pass_like(st) if id(st) in gone else st for st in block])
                for h in getattr(node, "handlers", []) or []:
                    if any(id(st) in gone for st in h.body):
                        h.body = [_pass_like(st) if id(st) in gone else st for st in h.body]
        copied = ast.parse("\n" * self.own_lines + self.copied)  # numbered in place (cheaper than shifting every node)
        tree.body.extend(copied.body)
        forget_index(tree)  # statement lists cached while linking describe the file alone
        return tree

    def locate(self, line: int) -> Optional[tuple]:
        """(path, line) of a copied line; None for the file's own lines."""
        if line <= self.own_lines:
            return None
        i = line - self.own_lines - 1
        return self.origin[i] if 0 <= i < len(self.origin) else None


class WorkspaceIndex:
    """Files under ``roots`` (plus read-only ``library_paths``, e.g. site-packages, for base classes only),
    summarized on demand and cached by content. Thread-safe. ``overlays``: path -> text of open documents."""

    def __init__(self, roots: list, library_paths: Optional[list] = None, max_files: int = MAX_FILES) -> None:
        self.roots = [os.path.abspath(r) for r in roots if r]
        self.library_paths = [os.path.abspath(p) for p in (library_paths or []) if p and os.path.isdir(p)]
        self.max_files = max_files
        self.overlays: dict = {}
        self.trust_disk_texts = False  # see note()
        self._summaries: dict = {}  # path -> (stamp, FileSummary)
        self._lines: dict = {}  # path -> (stamp, lines): files linking copies from
        self._links: dict = {}  # path -> (key, stamps of the files consulted, rewritten positions, copied part)
        self._modules: dict = {}  # (module, importing directory, level) -> file or None
        self._library: dict = {}  # path -> is it in an installed package
        self._refs: dict = {}  # (path, name, line) -> (stamp, names a definition's text uses)
        self._tls = threading.local()  # .consulted: files whose summaries a link read (path -> stamp)
        self._files: Optional[list] = None
        self._file_set: set = set()
        self._search: Optional[list] = None
        self._lock = threading.RLock()
        self.truncated = False
        self.messages: list = []

    # -- files ------------------------------------------------------------------------------------
    def files(self) -> list:
        """Every Python file of the workspace (bounded by ``max_files``; ``truncated`` then says so)."""
        with self._lock:
            if self._files is None:
                self._files = self._discover()
                self._file_set = set(self._files)
            return self._files

    def _discover(self) -> list:
        out: list = []
        for root in self.roots:
            if os.path.isfile(root):
                if root.endswith(".py"):
                    out.append(root)
                continue
            for full in walk_sources(root, (".py",)):
                out.append(full)
                if len(out) >= self.max_files:
                    self.truncated = True
                    self.messages.append(
                        f"workspace has more than {self.max_files} Python files: cross-file analysis covers the first {self.max_files} (set GRADGUARD_MAX_WORKSPACE_FILES to raise the bound)"
                    )
                    return out
        return out

    def contains(self, path: str) -> bool:
        self.files()
        return os.path.abspath(path) in self._file_set or any(_under(os.path.abspath(path), r) for r in self.roots)

    def invalidate(self, path: Optional[str] = None) -> None:
        """Forget a file's summary (changed on disk), or everything (files created / deleted)."""
        with self._lock:
            self._links.clear()  # a file created or changed may resolve an import differently
            if path is None:
                self._modules.clear()
                self._summaries.clear()
                self._files = None
                self._search = None
            else:
                self._summaries.pop(os.path.abspath(path), None)

    def set_overlay(self, path: str, text: Optional[str]) -> None:
        with self._lock:
            path = os.path.abspath(path)
            if text is None:
                self.overlays.pop(path, None)
            else:
                self.overlays[path] = text
            self._summaries.pop(path, None)

    # -- reading --------------------------------------------------------------------------------------
    def text_of(self, path: str) -> Optional[str]:
        with self._lock:
            if path in self.overlays:
                return self.overlays[path]
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_FILE_BYTES + 1)
        except OSError:
            return None  # deleted mid-index, unreadable: not part of any program
        if len(raw) > MAX_FILE_BYTES:
            return None
        from gradguard.runner import decode

        return decode(raw)

    def lines_of(self, path: str) -> Optional[list]:
        """The file's lines (kept ends), cached while its stamp holds (linking copies from them each keystroke)."""
        path = os.path.abspath(path)
        stamp = self._stamp(path)
        with self._lock:
            got = self._lines.get(path)
            if got is not None and got[0] == stamp:
                return got[1]
        text = self.text_of(path)
        if text is None:
            return None
        lines = split_lines(text)
        with self._lock:
            if len(self._lines) > 256:
                self._lines.clear()
            self._lines[path] = (stamp, lines)
        return lines

    def cached_link(self, path: str, key: tuple) -> Optional[tuple]:
        """(rewritten import positions, copied part) linked for ``path`` with the same ``key``, while every file it
        copied from (and every file it may resolve) is unchanged; None otherwise."""
        with self._lock:
            got = self._links.get(path)
        if got is None or got[0] != key:
            return None
        _, stamps, positions, copy = got
        if any(self._stamp(p) != st for p, st in stamps.items()):
            return None
        return positions, copy

    def remember_link(self, path: str, key: tuple, positions: set, copy: Optional[tuple], stamps: dict) -> None:
        with self._lock:
            if len(self._links) > 64:
                self._links.clear()
            self._links[path] = (key, stamps, frozenset(positions), copy)

    def refs_of(self, path: str, d: Definition) -> set:
        """Every identifier not after a dot in a definition's text (cached with the file's lines)."""
        stamp = self._stamp(path)
        key = (path, d.name, d.start)
        with self._lock:
            got = self._refs.get(key)
            if got is not None and got[0] == stamp:
                return got[1]
        lines = self.lines_of(path)
        names = set(_IDENT.findall("".join(lines[d.start - 1 : d.end]))) if lines is not None else set()
        with self._lock:
            if len(self._refs) > 50_000:
                self._refs.clear()
            self._refs[key] = (stamp, names)
        return names

    def digest(self, path: str) -> Optional[str]:
        """Content digest of a file as the linker read it (None: gone or unreadable)."""
        text = self.text_of(os.path.abspath(path))
        return None if text is None else _digest(text.encode("utf-8", "surrogatepass"))

    def summary(self, path: str) -> Optional[FileSummary]:
        path = os.path.abspath(path)
        stamp = self._stamp(path)
        consulted = getattr(self._tls, "consulted", None)
        if consulted is not None:
            consulted[path] = stamp
        if stamp is None:
            return None
        with self._lock:
            got = self._summaries.get(path)
            if got is not None and got[0] == stamp:
                return got[1]
        text = self.text_of(path)
        if text is None:
            return None
        s = scan(path, text)  # a file only imported from: its top-level statements, not a full parse
        with self._lock:
            self._summaries[path] = (stamp, s)
        return s

    def note(self, path: str, text: str, tree: ast.Module) -> None:
        """A file was just parsed for its own analysis: keep its summary (no second parse when another file
        imports it). Only for the text the index would read: an open document's, or, when the caller says files
        are analyzed as read (``trust_disk_texts``: the CLI without --fix), the file on disk."""
        path = os.path.abspath(path)
        if not path.endswith(".py"):
            return
        with self._lock:
            overlay = self.overlays.get(path)
        if overlay is None and not self.trust_disk_texts:
            return
        if overlay is not None and overlay != text:
            return
        stamp = self._stamp(path)
        if stamp is None:
            return
        s = summarize(path, text, tree)
        with self._lock:
            if path not in self._summaries or self._summaries[path][0] != stamp:
                self._summaries[path] = (stamp, s)

    def _stamp(self, path: str):
        with self._lock:
            if path in self.overlays:
                return ("overlay", id(self.overlays[path]), len(self.overlays[path]))
        seen = getattr(self._tls, "stamps", None)  # one stat per file per link
        if seen is not None and path in seen:
            return seen[path]
        try:
            st = os.stat(path)
            stamp: Optional[tuple] = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if seen is not None:
            seen[path] = stamp
        return stamp

    # -- module resolution ------------------------------------------------------------------------------
    def search_roots(self) -> list:
        """Where absolute imports are looked up: each workspace root, its ``src/``, and every directory that
        holds a top-level package of the workspace (a parent without ``__init__.py``); then the libraries."""
        with self._lock:
            if self._search is not None:
                return self._search
        roots: list = []
        for r in self.roots:
            base = r if os.path.isdir(r) else os.path.dirname(r)
            for cand in (base, os.path.join(base, "src")):
                if os.path.isdir(cand) and cand not in roots:
                    roots.append(cand)
        for f in self.files():
            d = os.path.dirname(f)
            while os.path.isfile(os.path.join(d, "__init__.py")):
                d = os.path.dirname(d)
            if d not in roots:
                roots.append(d)
        roots.extend(p for p in self.library_paths if p not in roots)
        with self._lock:
            self._search = roots
        return roots

    def module_file(self, module: str, from_path: Optional[str] = None, level: int = 0) -> Optional[str]:
        """The file of ``module`` (``a.b`` -> ``a/b.py`` or ``a/b/__init__.py``), absolute or relative to
        ``from_path``; None when it is not in the workspace or the libraries searched."""
        base = os.path.dirname(os.path.abspath(from_path)) if level and from_path else None
        key = (module, base, level)
        try:
            return self._modules[key]
        except KeyError:
            pass
        got = self._module_file(module, base, level)
        with self._lock:
            if len(self._modules) > 100_000:
                self._modules.clear()
            self._modules[key] = got
        return got

    def _module_file(self, module: str, base: Optional[str], level: int) -> Optional[str]:
        parts = module.split(".") if module else []
        if level:
            if not base:
                return None
            for _ in range(level - 1):
                base = os.path.dirname(base)
            return _module_at(base, parts)
        if not parts or parts[0] in ("torch", "__future__"):
            return None  # torch's API is known from the table, never read
        for root in self.search_roots():
            got = _module_at(root, parts)
            if got is not None:
                return got
        return None

    def is_library(self, path: str) -> bool:
        got = self._library.get(path)
        if got is None:
            got = self._library[path] = any(_under(path, p) for p in self.library_paths)
        return got

    def resolve(self, binding: ImportBinding, from_path: str, depth: int = 0) -> Optional[tuple]:
        """The definition an import binds: (path, Definition), following re-exports (``__init__``), or None."""
        if binding.name is None or binding.name == "*" or depth > _MAX_CHAIN:
            return None
        target = self.module_file(binding.module or "", from_path, binding.level)
        if target is None:
            return None
        return self.find(target, binding.name, depth)

    def find(self, path: str, name: str, depth: int = 0) -> Optional[tuple]:
        s = self.summary(path)
        if s is None or depth > _MAX_CHAIN:
            return None
        d = s.defs.get(name)
        if d is not None:
            return (s.path, d)
        for b in s.imports:
            if b.local == name or b.local == "*":
                got = self.resolve(ImportBinding(name, b.module, name if b.local == "*" else b.name, b.level, b.start, b.end, b.col, None), path, depth + 1)
                if got is not None:
                    return got
        return None

    def dependencies(self, path: str) -> set:
        """Workspace files ``path`` imports from (one level)."""
        s = self.summary(path)
        out: set = set()
        if s is None:
            return out
        for b in s.imports:
            target = self.module_file(b.module or "", path, b.level) if (b.module or b.level) else None
            if target is not None and not self.is_library(target):
                out.add(target)
        return out

    def importers(self, path: str) -> list:
        """Workspace files that import ``path`` (directly)."""
        path = os.path.abspath(path)
        return [f for f in self.files() if f != path and path in self.dependencies(f)]

    # -- linking ----------------------------------------------------------------------------------
    def link(self, path: str, text: str, tree: Optional[ast.Module] = None) -> Optional[Linked]:
        """One program of ``text`` (the file at ``path``) and the workspace definitions it imports; None when
        it imports nothing the workspace defines (the file is its own program)."""
        self._tls.consulted = {}
        self._tls.stamps = {}
        try:
            return _Linker(self, os.path.abspath(path), text, tree).run()
        finally:
            self._tls.consulted = None
            self._tls.stamps = None


def _under(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False


def _module_at(base: str, parts: list) -> Optional[str]:
    d = os.path.join(base, *parts) if parts else base
    if parts and os.path.isfile(d + ".py"):
        return d + ".py"
    init = os.path.join(d, "__init__.py")
    if os.path.isfile(init):
        return init
    return None


class _Linker:
    def __init__(self, index: WorkspaceIndex, path: str, text: str, tree: Optional[ast.Module]) -> None:
        self.index = index
        self.path = path
        self.text = text
        self.tree = tree
        self.budget = LINK_BUDGET
        self.stubs: set = set()  # (path, name) of classes copied as their header only
        self._head: Optional[list] = None
        self._trial_size = 0

    def run(self) -> Optional[Linked]:
        tree = self.tree
        if tree is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tree = ast.parse(self.text)
            except (SyntaxError, ValueError, MemoryError, RecursionError):
                return None
        own_names: dict = {}
        for st in tree.body:
            if isinstance(st, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                own_names[st.name] = ("own",)
            elif isinstance(st, (ast.Assign, ast.AnnAssign)):
                for t in st.targets if isinstance(st, ast.Assign) else [st.target]:
                    if isinstance(t, ast.Name):
                        own_names[t.id] = ("own",)
        training = trains(self.text)
        found = statements_of_type(tree, (ast.ClassDef, ast.Import, ast.ImportFrom))
        wanted_bases = {b.id for st in found if isinstance(st, ast.ClassDef) for b in st.bases if isinstance(b, ast.Name)}
        statements = [st for st in found if isinstance(st, ast.ImportFrom)]
        if not training and not wanted_bases:
            return None
        # what linking depends on in this file: its imports, own names, bases, whether it trains (typing inside a
        # function changes none of them: the copied part is reused while the files it comes from are unchanged)
        key = (
            training,
            tuple(sorted(own_names)),
            tuple(sorted(wanted_bases)),
            tuple((st.lineno, st.end_lineno, st.col_offset, st.end_col_offset, st.module, st.level, tuple((a.name, a.asname) for a in st.names)) for st in statements),
        )
        cached = self.index.cached_link(self.path, key)
        if cached is not None:
            positions, copy = cached
            if copy is None:
                return None
            return self._assemble([st for st in statements if (st.lineno, st.col_offset) in positions], copy)
        taken: dict = dict(own_names)
        # names the file's other imports bind keep their meaning
        for node in found:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for b in _bindings(node):
                    taken.setdefault(b.local, ("import", b.qualname))
        chosen: dict = {}  # (path, name) -> Definition, in order
        chosen_size = 0  # lines the chosen definitions copy
        imports_needed: dict = {}  # path -> set of local names whose import lines to copy
        rewritten: list = []
        for st in statements:
            bindings = _bindings(st)
            if not bindings or any(b.name == "*" for b in bindings):
                continue
            if not training and not any(b.local in wanted_bases for b in bindings):
                continue
            resolved: list = []
            for b in bindings:
                got = self.index.resolve(b, self.path)
                if got is None:
                    resolved.append(None)
                    continue
                if b.local != got[1].name:  # ``import X as Y``: the copied definition would be named X
                    resolved.append(None)
                    continue
                if not training and b.local not in wanted_bases and got[1].end - got[1].start >= SMALL_DEFINITION:
                    resolved.append(None)  # a file that does not train needs its bases; other large names stay unknown
                    continue
                resolved.append(got)
            if not any(resolved):
                continue
            trial_taken = dict(taken)
            for b, got in zip(bindings, resolved):
                if got is not None:
                    trial_taken[b.local] = ("def", got[0], got[1].name)
            trial_chosen = dict(chosen)
            self._trial_size = chosen_size
            trial_imports = {k: set(v) for k, v in imports_needed.items()}
            ok = True
            for got in resolved:
                if got is None:
                    continue
                if not self._close(got[0], got[1], trial_taken, trial_chosen, trial_imports, full=training):
                    ok = False
                    break
            if not ok or _shares_line(st, self.head_lines(st.end_lineno or st.lineno)):
                continue
            if self._trial_size > self.budget:
                continue
            chosen_size = self._trial_size
            taken, chosen, imports_needed = trial_taken, trial_chosen, trial_imports
            # names of the statement that did not resolve stay unknown (as an unresolved import would)
            rewritten.append(st)
        copy = self._copy(chosen, imports_needed) if chosen else None
        self.index.remember_link(self.path, key, {(st.lineno, st.col_offset) for st in rewritten}, copy, dict(self.index._tls.consulted or {}))
        if copy is None:
            return None
        return self._assemble(rewritten, copy)

    def _close(self, path: str, d: Definition, taken: dict, chosen: dict, imports_needed: dict, full: bool) -> bool:
        """Add ``d`` (from ``path``) and what it needs; False on a name clash."""
        key = (path, d.name)
        if key in chosen:
            return True
        chosen[key] = d
        full = full and not self.index.is_library(path)  # a library class: only its base chain
        if not full and d.header_end:
            self.stubs.add(key)  # its header and `pass`: what it is (its bases), not what it does
        self._trial_size += self._size(key, d)
        if self._trial_size > self.budget:
            return False  # past the budget: this import stays unresolved (no need to follow the rest)
        s = self.index.summary(path)
        if s is None:
            return False
        names = self.refs(path, d) if full else set(d.bases)
        for n in sorted(names):
            if n == d.name:
                continue
            local = s.defs.get(n)
            if local is not None:
                if not self._claim(taken, n, ("def", path, n)):
                    return False
                if not self._close(path, local, taken, chosen, imports_needed, full):
                    return False
                continue
            for b in s.imports:
                if b.local != n:
                    continue
                got = self.index.resolve(b, path) if b.name and b.local == b.name else None
                if got is not None and (not self.index.is_library(got[0]) or not full or n in d.bases):
                    if not self._claim(taken, n, ("def", got[0], got[1].name)):
                        return False
                    if not self._close(got[0], got[1], taken, chosen, imports_needed, full):
                        return False
                else:  # an outside import (torch, numpy, ...): copy its line, unless the name means something else here
                    if not self._claim(taken, n, ("import", b.qualname)):
                        return False
                    imports_needed.setdefault(path, set()).add(n)
                break
        return True

    def head_lines(self, upto: int) -> list:
        """The file's first ``upto`` lines (imports sit near the top: the rest is never split)."""
        if self._head is None or len(self._head) < upto:
            if "\r" in self.text:
                self._head = [ln.rstrip("\r\n") for ln in split_lines(self.text)]
            else:
                self._head = self.text.split("\n", upto)[:upto]
        return self._head

    def _size(self, key: tuple, d: Definition) -> int:
        return d.header_end - d.start + 2 if key in self.stubs else d.end - d.start + 1

    def refs(self, path: str, d: Definition) -> set:
        """The names a linked definition may use: every identifier in its text not after a dot (a superset of
        the names it loads; only names the file defines or imports matter), read from the text, not a tree."""
        return self.index.refs_of(path, d)

    @staticmethod
    def _claim(taken: dict, name: str, meaning: tuple) -> bool:
        have = taken.get(name)
        if have is None:
            taken[name] = meaning
            return True
        return have == meaning

    def _assemble(self, rewritten: list, copy: tuple) -> Linked:
        copied, origin, files, library = copy
        text = self.text
        last = max((st.end_lineno or st.lineno for st in rewritten), default=0)
        if "\r" in text or not text:
            lines = split_lines(text)
            rest = ""
            own_total = len(lines)
        else:  # only the lines up to the last rewritten import are split; the rest is counted
            lines = [ln + "\n" for ln in text.split("\n", last)]
            rest = lines.pop()[:-1] if len(lines) > last else ""
            own_total = len(lines) + rest.count("\n") + (1 if rest and not rest.endswith("\n") else 0)
        if rest and not rest.endswith("\n"):
            rest += "\n"
        elif not rest and lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += "\n"
        changed = set()
        for st in rewritten:
            first = st.lineno
            line = lines[first - 1]
            indent = line[: len(line) - len(line.lstrip())]
            lines[first - 1] = indent + "pass\n"
            changed.add(first)
            for ln in range(first + 1, (st.end_lineno or first) + 1):
                lines[ln - 1] = "\n"
                changed.add(ln)
        return Linked("".join(lines) + rest + copied, own_total, origin, files, frozenset(changed), library, tuple(rewritten), copied)

    def _copy(self, chosen: dict, imports_needed: dict) -> tuple:
        """(copied text, origin of each copied line, digests of the files copied from, library files)."""
        out: list = []
        origin: list = []
        files: dict = {}
        by_file: dict = {}
        stubs: dict = {}
        for (p, name), d in chosen.items():
            if (p, name) in self.stubs:
                stubs.setdefault(p, []).append(d)
                by_file.setdefault(p, [])
            else:
                by_file.setdefault(p, []).append((d.start, d.end))
        for p in imports_needed:
            by_file.setdefault(p, [])
        for p, spans in by_file.items():
            s = self.index.summary(p)
            flines = self.index.lines_of(p)
            if s is None or flines is None:
                continue
            files[p] = s.digest
            for b in s.imports:
                if b.local in imports_needed.get(p, ()) and b.level == 0:
                    spans.append((b.start, b.end))
            merged: list = []
            for a, z in sorted(set(spans)):
                if merged and a <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], z))
                else:
                    merged.append((a, z))
            blocks = [(a, z, False) for a, z in merged] + [(d.start, d.header_end, True) for d in stubs.get(p, [])]
            for a, z, stub in sorted(blocks):
                for ln in range(a, z + 1):
                    if ln - 1 < len(flines):
                        t = flines[ln - 1]
                        out.append(t if t.endswith(("\n", "\r")) else t + "\n")
                        origin.append((p, ln))
                if stub:
                    out.append("    pass\n")
                    origin.append((p, z))
        library = frozenset(p for p in files if self.index.is_library(p))
        return ("".join(out), origin, files, library)


def _pass_like(st: ast.stmt) -> ast.Pass:
    return ast.Pass(lineno=st.lineno, col_offset=st.col_offset, end_lineno=st.lineno, end_col_offset=st.col_offset + 4)


def _shares_line(st: ast.stmt, lines: list) -> bool:
    """Another statement on the import's lines (``from m import A; x = 1``): not rewritten."""
    first, last = st.lineno, st.end_lineno or st.lineno
    if first - 1 >= len(lines) or last - 1 >= len(lines):
        return True
    before = lines[first - 1][: st.col_offset]
    after = lines[last - 1][st.end_col_offset or 0 :]
    return bool(before.strip()) or bool(after.strip().split("#", 1)[0].strip())
