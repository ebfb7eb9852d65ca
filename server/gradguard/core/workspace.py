"""The workspace: every Python file under the roots, summarized once, and the linker that makes one program of
a file and the definitions it imports from the rest of the workspace.

Real projects keep the model in ``model.py``, its layers in a package, the training loop in ``train.py``. The
single-file model cannot see that ``Net`` is an ``nn.Module`` or that its ``forward`` detaches the encoder
``train.py`` trains. Rather than teach every rule about files, the linker builds one program: the file being
analyzed, unchanged line for line, followed by the top-level definitions (classes, functions, constants) it
imports from workspace files, transitively, each copied whole with the imports those definitions use. The
import statements that were resolved are replaced by ``pass`` on their first line, so the imported names are
the definitions themselves.

Every import shape binds a definition under some name, and the program gives each linked definition one name:
``from m import Net as Model`` copies ``Net`` as ``Model`` (the name the file binds); ``mn.Net`` /
``models.net.Net`` / ``class Net(mb.Base)`` through a module the file imports (``import models.net as mn``,
``from models import net``, ``import models.net``) become, in the program's tree only, one name at the chain's
place: the definition's own name when the program has it free, else the dotted name itself (never an identifier
the code binds); ``from m import *`` binds the names the file uses that ``m`` surely exports (its ``__all__`` as
running the module would build it, when that can be read: literals, ``+``, ``+=``, ``.extend``, another module's
``__all__``; else its public names; a name an ``__all__`` that cannot be read whole may bind is not guessed),
definitions and the module's own outside imports alike. Copied definitions that call a linked definition by
another name (an alias, a module attribute) are renamed in the tree the same way (see ``_State``), and so is a
copied definition's name that the program has for something else (the file's own ``class Block`` while
``model.py``'s ``Net`` uses ``model.py``'s ``Block``: that one is ``model.Block`` in the program); no line's text
changes. A name the file binds twice differently, or defines itself, is not linked. Where a module binds a name
more than once at top level (``from .a import *`` then ``from .b import *`` in an ``__init__``, a definition after
an import), the last binding wins, as running it would; an import a later star import may rebind is not linked.
Modules are
found as CPython's path finder finds them on the search path (``search_roots``): in each directory a regular
package, then a module, else a namespace package portion (PEP 420, a directory without ``__init__.py``: portions
on several roots make one package, and a package or module anywhere on the path wins over them; a relative
import inside a namespace package looks in every portion, as its ``__path__`` does).

Every fact the program model learns (Module-ness through bases, registered parameters, what ``forward`` does,
helpers' summaries, optimizers, sinks) then holds across files, and a finding inside a copied definition is
mapped back to its own file and line (columns never change: whole lines are copied).

Nothing here imports or runs the code it reads. Bounded: files (``MAX_FILES``), linked lines per program
(``LINK_BUDGET``), depth of re-export chains; directories that are environments or build output are skipped;
symlinked directories are not followed.
"""
from __future__ import annotations

import ast
import bisect
import hashlib
import itertools
import os
import re
import threading
import warnings
from dataclasses import dataclass, field
from typing import Optional

from gradguard.core.astindex import forget_index, new_epoch, own_expressions, statements, statements_of_type, walk_nodes, word_starts
from gradguard.core.source import split_lines
from gradguard.core.torchapi import framework_modeled

SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "env", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".gradguard_cache", "build", "dist", "site-packages", ".eggs"}
MAX_FILES = int(os.environ.get("GRADGUARD_MAX_WORKSPACE_FILES", "") or 20_000)
LINK_BUDGET = 2_000  # lines of other files copied into one program
SMALL_DEFINITION = 40  # lines: a file that does not train copies, besides its bases, only definitions this small
MAX_FILE_BYTES = 2_000_000  # larger files are not summarized (generated code, data)
_MAX_CHAIN = 8

# a file that trains (or reads gradients) gets every imported definition linked; any other file only the base
# classes of its own classes (enough to know they are Modules, cheap). Only markers in code count (``trains_in_code``)
TRAINING_MARKERS = tuple(
    re.compile(p)
    for p in (r"\.backward\(", r"autograd\.grad\(", r"optim\.[A-Z]\w*\(", r"\.grad\b(?!_)", r"training_step", r"compute_loss", r"Trainer\(", r"\.fit\(")
)  # one pattern each: a literal prefix each is searched fast, an alternation is not
# (literal every match of the marker holds, the marker's regex or None when a match is exactly that literal)
_MARKER_TESTS = ((".backward(", None), ("autograd.grad(", None), ("optim.", TRAINING_MARKERS[2]), (".grad", TRAINING_MARKERS[3]), ("training_step", None), ("compute_loss", None), ("Trainer(", None), (".fit(", None))


_last_trains: tuple = ("", False)  # (text, trains(text)) of the last call: a file is summarized, then linked


def trains(text: str) -> bool:
    """Does the file train or read gradients (a cheap substring gate before the regex)?"""
    global _last_trains
    last = _last_trains
    if last[0] is text:
        return last[1]
    # each marker only where its literal part is in the text (a plain substring test, much cheaper than a regex
    # search over the whole text); a marker that is all literal is that test
    got = any(t in text and (p is None or p.search(text) is not None) for t, p in _MARKER_TESTS)
    _last_trains = (text, got)
    return got


def trains_in_code(text: str, tree: ast.Module) -> bool:
    """``trains(text)`` counting only the markers that are code: one inside a string literal or a comment (a
    docstring's ``trainer.fit(model)``, ``# then loss.backward()``) never runs, so it does not make the file
    train. ``tree`` is ``text``'s. Decides how much the linker copies (see ``_Linker.run``)."""
    if not trains(text):
        return False
    if text.startswith("\ufeff"):
        text = "\x0c" + text[1:]  # as the file is parsed: the tree's line 1 columns count one byte for it
    lines = split_lines(text)
    starts = list(itertools.accumulate((len(ln) for ln in lines), initial=0))

    def code_at(offset: int) -> bool:
        i = bisect.bisect_right(starts, offset) - 1
        line = lines[i]
        col = offset - starts[i]
        if _string_at(tree, (i + 1, len(line[:col].encode("utf-8", "surrogatepass"))), False):
            return False
        h = line.find("#", 0, col)
        while h != -1:
            if not _string_at(tree, (i + 1, len(line[:h].encode("utf-8", "surrogatepass"))), True):
                return False  # after the ``#`` that starts the line's comment
            h = line.find("#", h + 1, col)
        return True

    for lit, pat in _MARKER_TESTS:
        if lit not in text:
            continue
        if pat is None:
            k = text.find(lit)
            while k != -1:
                if code_at(k):
                    return True
                k = text.find(lit, k + 1)
        else:
            for m in pat.finditer(text):
                if code_at(m.start()):
                    return True
    return False


def _string_at(tree: ast.AST, at: tuple, fstring: bool) -> bool:
    """Is the place ``at`` (line, UTF-8 column) inside a string literal of ``tree``? Inside an f-string: ``fstring``
    (what its braces hold is code). Descends only into the nodes whose span holds the place."""
    todo = [tree]
    while todo:
        node = todo.pop()
        for c in ast.iter_child_nodes(node):
            line = getattr(c, "lineno", None)
            end = getattr(c, "end_lineno", None)
            if line is not None and end is not None:
                first = (line, getattr(c, "col_offset", 0))
                decorators = getattr(c, "decorator_list", None)
                if decorators:
                    first = min(first, (decorators[0].lineno, 0))
                if at < first or (end, getattr(c, "end_col_offset", 0)) <= at:
                    continue
                if isinstance(c, ast.JoinedStr):
                    return fstring
                if isinstance(c, ast.Constant):
                    return isinstance(c.value, (str, bytes))
            todo.append(c)
    return False


_IDENT = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def chains_in(text: str, roots) -> set:
    """Every dotted name ``r.a(.b...)`` in ``text`` rooted at one of ``roots``, spaces around the dots removed."""
    pat = re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(r) for r in sorted(roots)) + r")(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)+")
    return {re.sub(r"[ \t]+", "", m) for m in pat.findall(text)}


def dotted(expr: ast.AST) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return ".".join(reversed(parts))


def is_env_dir(path: str) -> bool:
    """A virtualenv / conda env inside the workspace (``pyvenv.cfg`` or ``conda-meta``): never project code."""
    return os.path.isfile(os.path.join(path, "pyvenv.cfg")) or os.path.isdir(os.path.join(path, "conda-meta"))


def _template_name(name: str) -> bool:
    """A cookiecutter / copier / Jinja template's file or directory (``{{cookiecutter.name}}``): its ``.py`` files are
    rendered into a program before anything runs them, not Python themselves."""
    return "{{" in name and "}}" in name


def walk_sources(root: str, suffixes: tuple, excluded=None):
    """Files under ``root`` ending in ``suffixes``, sorted, skipping environments, build output, hidden and
    ``excluded(path)`` directories and files; regular files only (reading a FIFO blocks forever); symlinked
    directories are not followed (no loops)."""
    for d, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(
            x for x in dirs if x not in SKIP_DIRS and not x.startswith(".") and not _template_name(x) and not is_env_dir(os.path.join(d, x)) and not (excluded and excluded(os.path.join(d, x)))
        )
        for f in sorted(files):
            if f.endswith(suffixes) and not _template_name(f):
                full = os.path.join(d, f)
                if not (excluded and excluded(full)) and os.path.isfile(full):
                    yield full


# (Summaries make these by the hundred thousand. A frozen dataclass's generated ``__init__`` sets each field through
# ``object.__setattr__``, about twice as slow as filling ``__dict__``; the classes are otherwise the same
# frozen dataclasses: fields, equality, hash, repr, and no assignment afterwards.)


@dataclass(frozen=True, init=False)
class Definition:
    name: str
    start: int  # 1-based first line (decorators included)
    end: int  # 1-based last line
    bases: tuple = ()  # the names class bases start from (``nn`` of ``nn.Module``)
    header_end: int = 0  # a class: the last line of its header (decorators, ``class X(Base):``); 0: one line

    def __init__(self, name: str, start: int, end: int, bases: tuple = (), header_end: int = 0) -> None:
        d = self.__dict__
        d["name"], d["start"], d["end"], d["bases"], d["header_end"] = name, start, end, bases, header_end


@dataclass(frozen=True, init=False)
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

    def __init__(self, local: str, module: Optional[str], name: Optional[str], level: int, start: int, end: int, col: int, qualname: Optional[str]) -> None:
        d = self.__dict__
        d["local"], d["module"], d["name"], d["level"], d["start"], d["end"], d["col"], d["qualname"] = local, module, name, level, start, end, col, qualname


@dataclass
class FileSummary:
    path: str
    digest: str
    defs: dict = field(default_factory=dict)  # top-level name -> Definition
    imports: list = field(default_factory=list)  # top-level ImportBinding
    trains: bool = False
    error: Optional[str] = None
    exported: Optional[frozenset] = None  # names ``__all__`` surely holds (read on first use, see WorkspaceIndex.exports)
    exported_exact: bool = True  # ... and no other (False: ``__all__`` may hold names it cannot read)
    exported_read: bool = False
    _first_imports: Optional[dict] = field(default=None, repr=False, compare=False)
    _linkable: Optional[dict] = field(default=None, repr=False, compare=False)

    def first_import(self, name: str) -> Optional[ImportBinding]:
        """The first top-level import binding ``name`` (the one a linked definition's use of it follows)."""
        got = self._first_imports
        if got is None:
            got = {}
            for b in self.imports:
                got.setdefault(b.local, b)
            self._first_imports = got
        return got.get(name)

    def linkable(self, names: set) -> list:
        """``sorted(names)`` restricted to what the file defines or imports at top level: the only names of a
        definition's text that linking follows (every other identifier is a local, a builtin, a keyword).
        Kept per ``names`` object (``WorkspaceIndex.refs_of`` keeps one set per definition and version)."""
        memo = self._linkable
        if memo is None:
            memo = self._linkable = {}
        got = memo.get(id(names))
        if got is not None and got[0] is names:
            return got[1]
        self.first_import("")  # (builds the table of imported names)
        imported = self._first_imports or {}
        out = sorted(n for n in names if n in self.defs or n in imported)
        memo[id(names)] = (names, out)  # (the set is held: its id is not reused while the entry lives)
        return out


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
    in_string = _inside_triple_quotes(lines)
    for i, ln in enumerate(lines):
        c = ln[:1]
        if not c or c in " \t\r\n\x0c" or ln.startswith(_CONTINUES) or in_string[i]:
            continue  # (also the lines of a triple-quoted string that runs on at column 0: a docstring, a template)
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
                snippet = ast.parse("\n" * head + "".join(lines[head : last + 1]))  # numbered in place (no walk to shift them)
            except (SyntaxError, ValueError):
                continue
            for st in snippet.body:
                if isinstance(st, (ast.Import, ast.ImportFrom)):
                    s.imports.extend(_bindings(st))
        else:
            m = _ASSIGN_LINE.match(ln)
            if m and m.group(1) not in ("if", "for", "while", "with", "try", "return", "print", "assert", "del"):
                s.defs[m.group(1)] = Definition(m.group(1), head + 1, last + 1)
    return s


def _inside_triple_quotes(lines: list) -> list:
    """For each line, does it begin inside a triple-quoted string opened on an earlier line? (Quotes after a ``#`` that
    comes first on a line are a comment's; a triple quote inside a one-line string is not told apart: rare.)"""
    out = []
    state: Optional[str] = None
    for ln in lines:
        out.append(state is not None)
        j = 0
        while True:
            if state is None:
                k = min((x for x in (ln.find('"""', j), ln.find("'''", j)) if x != -1), default=-1)
                if k == -1:
                    break
                h = ln.find("#", j)
                if h != -1 and h < k:
                    break
                state, j = ln[k : k + 3], k + 3
            else:
                k = ln.find(state, j)
                if k == -1:
                    break
                state, j = None, k + 3
    return out


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
    # path -> {name or dotted name that file uses -> program name}: copied definitions whose program name is not
    # the one their file uses (``from m import Net as Model``: ``Net`` is ``Model``; ``mb.Base`` is ``Base``)
    renames: dict = field(default_factory=dict)
    chains: dict = field(default_factory=dict)  # the file's own dotted names of linked definitions (``mn.Net``)
    # path -> names that file's copied import lines bind under another program name (in ``renames``): ``import
    # config`` in model.py while the analyzed file has a ``config`` of its own binds ``model.config`` instead
    rebound: dict = field(default_factory=dict)

    def program_tree(self, tree: ast.Module) -> ast.Module:
        """The program's tree from the file's own ``tree`` (changed in place: no second parse of the file):
        resolved imports become ``pass``, the copied definitions are parsed and appended, lines shifted."""
        new_epoch()  # walks kept while linking describe the tree before these changes (also when one fails)
        gone = {id(st) for st in self.rewritten}
        if gone:
            _replace_gone(tree, gone, sorted(st.lineno for st in self.rewritten))
        if self.chains:  # ``mn.Net`` -> the class's program name, at the same place (the text is unchanged)
            # only the statements whose lines spell a chain's module name can hold one
            own = self.text[: len(self.text) - len(self.copied)]
            spelled = _lines_spelling(own, {c.split(".", 1)[0] for c in self.chains})
            for st in tree.body:
                if spelled is None or _any_between(spelled, _first_line(st), st.end_lineno or st.lineno):
                    _rename(st, self.chains, spelled)
        copied = ast.parse("\n" * self.own_lines + self.copied)  # numbered in place (cheaper than shifting every node)
        if self.renames:
            # only the statements whose lines spell a name to rename can hold one (most copied definitions hold none)
            spelled = _lines_spelling(self.copied, {n.split(".", 1)[0] for names in self.renames.values() for n in names})
            if spelled is not None:
                spelled = [ln + self.own_lines for ln in spelled]
            for st in copied.body:
                at = self.locate(st.lineno)
                names = self.renames.get(at[0]) if at is not None else None
                if names:
                    if isinstance(st, (ast.Import, ast.ImportFrom)) and at is not None and at[0] in self.rebound:
                        _rebind(st, names, self.rebound[at[0]])
                    if spelled is None or _any_between(spelled, st.lineno, (st.end_lineno or st.lineno)):
                        _rename(st, names, spelled)
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
        # the files on disk do not change while this is set (a CLI run: fixes are written after every analysis): each
        # file is stat-ed once (``_stamp``), not once per link; ``forget_stamps`` at the start of a run
        self.stable_disk = False
        self._disk_stamps: dict = {}
        self._summaries: dict = {}  # path -> (stamp, FileSummary)
        self._lines: dict = {}  # path -> (stamp, lines): files linking copies from
        self._links: dict = {}  # path -> (key, stamps of the files consulted, rewritten positions, copied part)
        self._modules: dict = {}  # (module, importing directory, level) -> file or None
        self._specs: dict = {}  # dotted name as a tuple -> what an absolute import of it finds (see _spec)
        self._extensions: dict = {}  # directory -> {module name: compiled extension file} (see extensions_in)
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
            self._disk_stamps = {}
            if path is None or os.path.basename(path) == "__init__.py" or _EXTENSION.match(os.path.basename(path)):  # (``extend_path`` in a package)
                self._modules.clear()
                self._specs.clear()
                self._extensions.clear()
            if path is None:
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
        path = _abspath(path)
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

    def chains_of(self, path: str, d: Definition, root: str, header_only: bool = False) -> set:
        """The dotted names ``root.a.b`` a definition's text uses (``mb.Base`` with ``import models.base as mb``);
        only its header (decorators and ``class X(...):``) when ``header_only``."""
        lines = self.lines_of(path)
        if lines is None:
            return set()
        end = (d.header_end or d.start) if header_only else d.end
        return chains_in("".join(lines[d.start - 1 : end]), (root,))

    def digest(self, path: str) -> Optional[str]:
        """Content digest of a file as the linker read it (None: gone or unreadable)."""
        text = self.text_of(os.path.abspath(path))
        return None if text is None else _digest(text.encode("utf-8", "surrogatepass"))

    def summary(self, path: str) -> Optional[FileSummary]:
        path = _abspath(path)
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
        with self._lock:
            got = self._summaries.get(path)
        if got is not None and got[0] == stamp:
            return  # summarized already (another file imported it first): that summary is kept
        # (the same summary the index makes of a file it did not see analyzed: which files a worker happened to analyze
        # first must not change what another file's program is)
        s = scan(path, text)
        with self._lock:
            if path not in self._summaries or self._summaries[path][0] != stamp:
                self._summaries[path] = (stamp, s)

    def forget_stamps(self) -> None:
        """Files may have changed on disk since the last run (see ``stable_disk``)."""
        self._disk_stamps = {}

    def _stamp(self, path: str):
        with self._lock:
            if path in self.overlays:
                return ("overlay", id(self.overlays[path]), len(self.overlays[path]))
        seen = self._disk_stamps if self.stable_disk else getattr(self._tls, "stamps", None)  # one stat per file per link (or run)
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
        """The file of ``module`` (``a.b`` -> ``a/b/__init__.py`` or ``a/b.py``, as CPython finds it: see
        ``_find_in``), absolute or relative to ``from_path``; None when it is not in the workspace or the
        libraries searched, or is a namespace package (no file)."""
        base = os.path.dirname(_abspath(from_path)) if level and from_path else None
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
        parts = tuple(module.split(".")) if module else ()
        if level:
            if not base:
                return None
            for _ in range(level - 1):
                base = os.path.dirname(base)
            if not parts:
                init = os.path.join(base, "__init__.py")
                return init if os.path.isfile(init) else None
            got = self._spec_in(self._package_dirs(base), parts)
            return _source(got[0]) if got is not None else None
        if not parts or parts[0] in ("torch", "__future__"):
            return None  # torch's API is known from the table, never read
        got = self._spec(parts)
        return _source(got[0]) if got is not None else None

    def _package_dirs(self, base: str) -> list:
        """Where a relative import from the package in directory ``base`` looks (its ``__path__``): ``base`` for a
        regular package; for a portion of a namespace package (no ``__init__.py``), every portion of that package
        on the search path (``ns/`` at the root and ``src/ns/`` are one package ``ns``: ``from . import b`` in
        ``ns/a.py`` finds ``src/ns/b.py``). The package's name is ``base`` below the nearest workspace root (or its
        ``src/``, or a library directory) that holds it."""
        if os.path.isfile(os.path.join(base, "__init__.py")) or "__init__" in self.extensions_in(base):
            return [base]
        top = None
        for r in self._explicit_roots():
            if r != base and _under(base, r) and (top is None or len(r) > len(top)):
                top = r
        if top is None:
            return [base]
        parts = tuple(os.path.relpath(base, top).split(os.sep))
        if not all(p.isidentifier() for p in parts):
            return [base]
        got = self._spec(parts)
        if got is None or got[0] is not None or not got[1] or base not in got[1]:
            return [base]  # not the namespace package the search path finds under that name: its own directory
        return list(got[1])

    def _explicit_roots(self) -> list:
        """The workspace roots, their ``src/``, and the library directories (where a package's name starts)."""
        out: list = []
        for r in self.roots:
            b = r if os.path.isdir(r) else os.path.dirname(r)
            out.extend(c for c in (b, os.path.join(b, "src")) if os.path.isdir(c))
        return out + self.library_paths

    def _spec(self, parts: tuple) -> Optional[tuple]:
        """What ``import a.b.c`` finds, as CPython's path finder does: (file or None, the package's search
        locations or None for a plain module); None when nothing is found. Cached per dotted name."""
        with self._lock:
            if parts in self._specs:
                return self._specs[parts]
        if len(parts) == 1:
            got = _find_in(self.search_roots(), parts[0], self)
        else:
            parent = self._spec(parts[:-1])
            got = _find_in(parent[1], parts[-1], self) if parent is not None and parent[1] else None
        with self._lock:
            if len(self._specs) > 100_000:
                self._specs.clear()
            self._specs[parts] = got
        return got

    def _spec_in(self, dirs: list, parts: tuple) -> Optional[tuple]:
        got: Optional[tuple] = None
        for i, part in enumerate(parts):
            got = _find_in(dirs, part, self)
            if got is None or (got[1] is None and i < len(parts) - 1):
                return None  # not there, or a plain module where a package must be
            dirs = got[1]
        return got

    def extensions_in(self, d: str) -> dict:
        """{module name: file} of the compiled extension modules in directory ``d`` (``x.so``, ``x.pyd``,
        ``x.cpython-312-x86_64-linux-gnu.so``, ``x.abi3.so``, ``x.cp312-win_amd64.pyd``): one listing per directory,
        kept until the next invalidation. Any interpreter's tag counts: the interpreter that runs the project is not
        known, and an extension is opaque (nothing is read from it), so taking one never invents a finding."""
        with self._lock:
            got = self._extensions.get(d)
        if got is not None:
            return got
        got = {}
        try:
            with os.scandir(d) as it:
                for e in it:
                    m = _EXTENSION.match(e.name)
                    if m and m.group(1) not in got:
                        got[m.group(1)] = os.path.join(d, e.name)
        except OSError:
            pass
        with self._lock:
            if len(self._extensions) > 100_000:
                self._extensions.clear()
            self._extensions[d] = got
        return got

    def is_library(self, path: str) -> bool:
        got = self._library.get(path)
        if got is None:
            got = self._library[path] = any(_under(path, p) for p in self.library_paths)
        return got

    def resolve(self, binding: ImportBinding, from_path: str, depth: int = 0) -> Optional[tuple]:
        """The definition an import binds: (path, Definition), following re-exports (``__init__``), or None."""
        if binding.name is None or binding.name == "*" or depth > _MAX_CHAIN:
            return None
        if not binding.level and binding.module and framework_modeled(f"{binding.module}.{binding.name}"):
            return None  # known from the API table, whose meaning a copy would lose
        target = self.module_file(binding.module or "", from_path, binding.level)
        if target is None:
            return None
        return self.find(target, binding.name, depth)

    def find(self, path: str, name: str, depth: int = 0) -> Optional[tuple]:
        """The definition ``name`` is at the end of the module at ``path``: (path, Definition), following
        re-exports; None when it is not a workspace definition (unbound, a module, an outside import, or not
        known surely)."""
        got = self._find(path, name, depth)
        return got if isinstance(got, tuple) else None

    def _find(self, path: str, name: str, depth: int = 0):
        """As ``find``, telling apart ``UNBOUND`` (the module binds no ``name``: an earlier binding, or a star
        import elsewhere, may) from None (bound to something else, or not surely). The module's top-level bindings
        of ``name`` are taken as running it would: the last one wins (a definition, an assignment, ``from m import
        name``, or a ``from m import *`` that binds it, ``__all__`` honored); a star import that does not bind it
        leaves the earlier ones."""
        s = self.summary(path)
        if s is None or depth > _MAX_CHAIN:
            return None
        d = s.defs.get(name)
        if d is None and s.first_import(name) is None and s.first_import("*") is None:
            return _UNBOUND  # (the common case: one look-up)
        bindings: list = [(b.start, 1, b) for b in s.imports if b.local == name or b.local == "*"]
        if d is not None:
            bindings.append((d.start, 0, d))
        for _, _, b in sorted(bindings, key=lambda x: (x[0], x[1]), reverse=True):
            if isinstance(b, Definition):
                return (s.path, b)
            if b.local == name:
                if b.name is None:
                    return None  # a module, not a definition
                got = self.resolve(ImportBinding(name, b.module, b.name, b.level, b.start, b.end, b.col, None), path, depth + 1)
                return got  # (None: an outside import, or a module)
            target = self.module_file(b.module or "", path, b.level)
            if target is None or target == path:
                continue  # a star import of an outside module (torch, numpy) is not read: taken to bind nothing here
            if not self.exports_name(target, name):
                if self.may_export(target, name) and self._find(target, name, depth + 1) is not _UNBOUND:
                    return None  # an ``__all__`` not read whole may bind it: not guessed
                continue
            got = self._find(target, name, depth + 1)
            if got is _UNBOUND:
                continue  # the star import binds no ``name``: the earlier bindings stand
            return got
        return _UNBOUND

    def exports(self, path: str, depth: int = 0) -> Optional[frozenset]:
        """The names ``from <module> import *`` surely binds when the module has an ``__all__``; None: it has
        none (every public name). ``__all__`` is read from the module's top-level statements in order, as
        running them would build it: a list/tuple of strings, ``+``, ``+=``, ``.extend``/``.append``/
        ``.insert``/``.remove`` of strings, ``sorted``/``list``/``tuple``, another workspace module's
        ``__all__`` (``layers.__all__``, ``from .layers import __all__ as a``). What cannot be read (a
        computed list, a change under ``if``/``try``, any other use) is never guessed: the names read before an
        addition that cannot be read stay sure (``exports_exact`` then says more may be bound), and after
        anything that could remove a name none is sure."""
        s = self.summary(path)
        if s is None:
            return None
        if not s.exported_read:
            s.exported_read = True  # (a cycle of ``__all__`` references reads as unknown, see below)
            s.exported, s.exported_exact = None, False
            got = self._read_all(path, s, depth) if depth <= _MAX_CHAIN else (frozenset(), False)
            s.exported, s.exported_exact = got if got is not None else (None, True)
        return s.exported

    def exports_exact(self, path: str) -> bool:
        """Does ``exports`` name every name the star import binds (False: ``__all__`` may hold more)?"""
        self.exports(path)
        s = self.summary(path)
        return s is None or s.exported_exact

    def _read_all(self, path: str, s: FileSummary, depth: int) -> Optional[tuple]:
        """(sure names, exact) of the module's ``__all__``, None when it has none (see ``exports``)."""
        text = self.text_of(path)
        if text is None or "__all__" not in text:
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(text)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return (frozenset(), False)
        return _AllReader(self, path, s, depth).read(tree, text)

    def exports_name(self, path: str, name: str) -> bool:
        """Does ``from <module at path> import *`` surely bind ``name`` (if the module has it)?"""
        names = self.exports(path)
        return name in names if names is not None else not name.startswith("_")

    def may_export(self, path: str, name: str) -> bool:
        """May ``from <module at path> import *`` bind ``name`` (if the module has it): surely, or through an
        ``__all__`` that is not read whole?"""
        return self.exports_name(path, name) or not self.exports_exact(path)

    def module_of(self, b: ImportBinding, from_path: str) -> Optional[tuple]:
        """(module, level) when the import binds a module of the workspace (or of the libraries) to its local
        name: ``import a.b`` (``a``), ``import a.b as m``, ``from a import b`` with ``a/b.py``; else None."""
        if b.name == "*":
            return None
        if b.name is None:
            q = b.qualname or b.module or ""
            if self.module_file(q, from_path, 0) is not None or self.module_file(b.module or "", from_path, 0) is not None:
                return (q, 0)
            return None
        sub = f"{b.module}.{b.name}" if b.module else b.name
        if self.module_file(sub, from_path, b.level) is not None:
            return (sub, b.level)
        return None

    def resolve_chain(self, module: str, level: int, from_path: str, attrs: list) -> Optional[tuple]:
        """The definition ``<module>.<attrs...>`` names: (path, Definition, how many attrs it took), following
        submodules (``models.net.Net``) and re-exports; None when it is not a workspace definition."""
        cur = module
        for i, a in enumerate(attrs[:_MAX_CHAIN]):
            if not level and cur and framework_modeled(f"{cur}.{a}"):
                return None  # known from the API table (see ``resolve``)
            f = self.module_file(cur, from_path, level) if (cur or level) else None
            if f is not None:
                got = self.find(f, a)
                if got is not None:
                    return (got[0], got[1], i + 1)
            cur = f"{cur}.{a}" if cur else a
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
            if b.name and b.name != "*":  # ``from pkg import module``
                sub = self.module_file(f"{b.module}.{b.name}" if b.module else b.name, path, b.level)
                if sub is not None and not self.is_library(sub):
                    out.add(sub)
        return out

    def dependents(self, path: str, limit: int = 200) -> list:
        """Workspace files whose programs may place findings in ``path``: its importers, and the files that
        train among their importers, their importers' importers and so on (``layers.py`` <- ``model.py`` <-
        ``train.py``: the training loop that shows a layer's bug is two imports away; a file further away that
        does not train links only base classes and small definitions, see ``trains``), nearest first, at most
        ``limit`` of them."""
        path = os.path.abspath(path)
        rev: dict = {}
        for f in self.files():
            for d in self.dependencies(f):
                if d != f:
                    rev.setdefault(d, []).append(f)
        out: list = []
        seen = {path}
        frontier = [path]
        while frontier and len(out) < limit:
            nxt = []
            for p in frontier:
                for f in rev.get(p, ()):
                    if f not in seen:
                        seen.add(f)
                        nxt.append(f)
            nxt.sort()
            if frontier != [path]:
                nxt_out = []
                for f in nxt:
                    s = self.summary(f)
                    if s is not None and s.trains:
                        nxt_out.append(f)
            else:
                nxt_out = nxt
            out.extend(nxt_out[: limit - len(out)])
            frontier = nxt
        return out

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


_UNBOUND = object()  # see WorkspaceIndex._find
_ABSPATHS: dict = {}


def _abspath(path: str) -> str:
    """``os.path.abspath(path)``, kept for absolute paths (then a function of the path alone: linking asks for the
    same few files' paths thousands of times)."""
    got = _ABSPATHS.get(path)
    if got is None:
        got = os.path.abspath(path)
        if os.path.isabs(path):
            if len(_ABSPATHS) > 100_000:
                _ABSPATHS.clear()
            _ABSPATHS[path] = got
    return got


def _under(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False


_EXTENSION = re.compile(r"([A-Za-z_]\w*)(?:\.(?:cpython-\d[^.]*|abi3|cp\d[^.]*|pypy\d[^.]*))?\.(?:so|pyd)$")


def _source(path: Optional[str]) -> Optional[str]:
    """``path`` when it is a source file the workspace reads; None for a compiled extension (opaque)."""
    return None if path is None or not path.endswith(".py") else path


def _find_in(dirs, name: str, index: Optional[WorkspaceIndex] = None) -> Optional[tuple]:
    """Module ``name`` in the directories ``dirs`` (a search path, or a package's locations), as CPython's
    path finder looks: in each directory, a regular package (``name/__init__`` with an extension or a source
    suffix) first, then a module: a compiled extension (``name.so``, ``name.cpython-312-x86_64-linux-gnu.so``,
    ``name.pyd``, ...) before ``name.py``, in importlib's suffix order; else the directory ``name/`` is a portion
    of a namespace package (PEP 420) and the search goes on; the first package or module wins over every portion,
    earlier on the path or not. Returns (file, locations): (``__init__.py``, its directory) for a regular package
    (with ``pkgutil.extend_path`` / ``declare_namespace`` in it, every directory ``name/`` of ``dirs``),
    (``name.py``, None) for a module, (None, the portions) for a namespace package; an extension's file (opaque:
    ``module_file`` answers None for it); None when there is none."""
    portions: list = []
    for d in dirs:
        p = os.path.join(d, name)
        init = os.path.join(p, "__init__.py")
        if index is not None and os.path.isdir(p) and "__init__" in index.extensions_in(p):
            return (index.extensions_in(p)["__init__"], [p])  # a compiled package: its submodules are still files
        if os.path.isfile(init):
            locations = [p]
            text = index.text_of(init) if index is not None else None
            if text is not None and ("extend_path" in text or "declare_namespace" in text):  # a pre-PEP 420 namespace package
                locations += [q for q in (os.path.join(e, name) for e in dirs) if q != p and os.path.isdir(q) and q not in locations]
            return (init, locations)
        ext = index.extensions_in(d).get(name) if index is not None else None
        if ext is not None:
            return (ext, None)  # importlib tries the extension suffixes before ``.py``
        if os.path.isfile(p + ".py"):
            return (p + ".py", None)
        if os.path.isdir(p) and p not in portions:
            portions.append(p)
    return (None, portions) if portions else None


class _AllReader:
    """Reads a module's ``__all__`` from its tree, statement by statement (see ``WorkspaceIndex.exports``)."""

    _ADD = ("extend", "append", "insert")

    def __init__(self, index: WorkspaceIndex, path: str, s: FileSummary, depth: int) -> None:
        self.index = index
        self.path = path
        self.s = s
        self.depth = depth
        self.sure: set = set()
        self.exact = True
        self.present = False
        self.aliases: dict = {}  # local name -> the module file whose ``__all__`` it is (``from .a import __all__ as x``)
        self.modules: dict = {}  # local name -> module file (``from . import layers``, ``import pkg.layers as layers``)

    def read(self, tree: ast.Module, text: Optional[str] = None) -> Optional[tuple]:
        spelled = _lines_spelling(text, {"__all__"}) if text is not None else None
        for st in tree.body:
            if isinstance(st, (ast.Import, ast.ImportFrom)):
                self._imports(st)
                got = self._imported_all(st)
                if any((a.asname or a.name) == "__all__" for a in st.names):
                    self._set(got)
            elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if _may_spell(spelled, st) and _mentions_all([*st.decorator_list, st.args, *([st.returns] if st.returns else [])]):
                    self._unknown()  # (a body runs when called, not on import)
            elif isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in st.targets):
                if all(isinstance(t, ast.Name) for t in st.targets):
                    self._set(self._value(st.value))
                else:
                    self._unknown()
            elif isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name) and st.target.id == "__all__":
                if st.value is not None:  # (``__all__: list`` alone binds nothing)
                    self._set(self._value(st.value))
            elif isinstance(st, ast.AugAssign) and isinstance(st.target, ast.Name) and st.target.id == "__all__":
                self._add(self._value(st.value) if isinstance(st.op, ast.Add) else None, removes=not isinstance(st.op, ast.Add))
            elif isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and self._on_all(st.value.func) is not None:
                self._method(st.value)
            elif _may_spell(spelled, st) and _mentions_all([st]):
                # under ``if``/``try``/``for``/``with``, or any other use: additions only make the rest unsure
                adds_only = all(self._is_addition(n) for n in _uses_of_all(st))
                if adds_only and self.present:
                    self.exact = False
                else:
                    self._unknown()
        return (frozenset(self.sure), self.exact) if self.present else None

    # -- what a statement does to ``__all__``
    def _set(self, value: Optional[tuple]) -> None:
        self.present = True
        self.sure, self.exact = (set(value[0]), value[1]) if value is not None else (set(), False)

    def _add(self, value: Optional[tuple], removes: bool = False) -> None:
        if removes or not self.present:
            self._unknown()
        elif value is None:
            self.exact = False
        else:
            self.sure |= value[0]
            self.exact = self.exact and value[1]

    def _unknown(self) -> None:
        self.present = True
        self.sure, self.exact = set(), False

    def _method(self, call: ast.Call) -> None:
        attr = self._on_all(call.func)
        args = call.args
        if call.keywords or any(isinstance(a, ast.Starred) for a in args):
            self._unknown()
        elif attr == "extend" and len(args) == 1:
            self._add(self._value(args[0]))
        elif attr in ("append", "insert") and len(args) == (1 if attr == "append" else 2):
            self._add(self._strings([args[-1]]))
        elif attr in ("sort", "reverse") and not args:
            pass
        elif attr == "remove" and len(args) == 1 and self._strings(args) is not None and self.present:
            self.sure -= self._strings(args)[0]  # type: ignore[index]
        else:
            self._unknown()  # pop, clear, ...

    @staticmethod
    def _on_all(func: ast.AST) -> Optional[str]:
        """``extend`` for ``__all__.extend``; None for anything else."""
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "__all__":
            return func.attr
        return None

    def _is_addition(self, node: ast.AST) -> bool:
        """One use of ``__all__`` (see ``_uses_of_all``) that can only add names."""
        if isinstance(node, ast.AugAssign):
            return isinstance(node.op, ast.Add)
        return isinstance(node, ast.Call) and self._on_all(node.func) in self._ADD

    # -- values
    def _value(self, expr: ast.AST) -> Optional[tuple]:
        """(sure names, exact) of an expression that builds a list of names; None when it cannot be read. A
        part that cannot be read (an element, an operand) leaves the rest sure and the whole not exact."""
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            sure: set = set()
            exact = True
            for e in expr.elts:
                got = self._value(e.value) if isinstance(e, ast.Starred) else self._strings([e])
                if got is None:
                    exact = False
                    continue
                sure |= got[0]
                exact = exact and got[1]
            return (sure, exact)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.BitOr)):
            a, b = self._value(expr.left) or (set(), False), self._value(expr.right) or (set(), False)
            return (a[0] | b[0], a[1] and b[1])
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in ("sorted", "list", "tuple", "set") and len(expr.args) == 1 and not expr.keywords:
            return self._value(expr.args[0])
        if isinstance(expr, ast.Name):
            if expr.id == "__all__":
                return (set(self.sure), self.exact) if self.present else None
            f = self.aliases.get(expr.id)
            return self._of_module(f) if f is not None else None
        if isinstance(expr, ast.Attribute) and expr.attr == "__all__" and isinstance(expr.value, ast.Name):
            f = self.modules.get(expr.value.id)
            return self._of_module(f) if f is not None else None
        return None

    @staticmethod
    def _strings(exprs: list) -> Optional[tuple]:
        if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in exprs):
            return ({e.value for e in exprs}, True)
        return None

    def _of_module(self, f: str) -> Optional[tuple]:
        names = self.index.exports(f, self.depth + 1)
        if names is None:
            return None  # a module without ``__all__``: its public names, not listed here
        return (set(names), self.index.exports_exact(f))

    # -- modules the file binds
    def _imports(self, st: ast.stmt) -> None:
        for b in _bindings(st):
            if b.local == "*":
                # importing a submodule binds it in its package (``from .layers import *`` in ``__init__``)
                if b.level == 1 and b.module and "." not in b.module and os.path.basename(self.path) == "__init__.py":
                    f = self.index.module_file(b.module, self.path, 1)
                    if f is not None:
                        self.modules.setdefault(b.module, f)
                continue
            if b.name == "__all__":
                continue
            self.modules.pop(b.local, None)
            self.aliases.pop(b.local, None)
            mod = self.index.module_of(b, self.path)  # (``import a.b`` binds ``a``: its module)
            if mod is not None:
                f = self.index.module_file(mod[0], self.path, mod[1])
                if f is not None:
                    self.modules[b.local] = f
            if b.level == 1 and b.module and "." not in b.module and b.name is not None and os.path.basename(self.path) == "__init__.py":
                f = self.index.module_file(b.module, self.path, 1)
                if f is not None:
                    self.modules.setdefault(b.module, f)

    def _imported_all(self, st: ast.stmt) -> Optional[tuple]:
        """Registers ``from m import __all__ as x``; the value an import binding ``__all__`` itself gives it."""
        got: Optional[tuple] = None
        for b in _bindings(st):
            if b.name == "__all__":
                f = self.index.module_file(b.module or "", self.path, b.level)
                if b.local == "__all__":
                    got = self._of_module(f) if f is not None else None
                elif f is not None:
                    self.aliases[b.local] = f
        return got


def _qualified(path: str, name: str):
    """``name`` qualified by more and more of its file's module path: ``model.Block``, ``pkg.model.Block``, ...
    (the last, the whole path, is one file's own)."""
    parts = [p for p in os.path.normpath(path).split(os.sep) if p]
    if parts and parts[-1].endswith(".py"):
        parts[-1] = parts[-1][:-3]
    if len(parts) > 1 and parts[-1] == "__init__":
        parts.pop()
    for k in range(1, len(parts) + 1):
        yield ".".join([*parts[-k:], name])


def _uses_of_all(st: ast.stmt) -> list:
    """The nodes of ``st`` that use ``__all__``: an augmented assignment to it, a call of one of its methods,
    else the name itself."""
    out: list = []
    skip: set = set()
    for n in walk_nodes(st):
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id == "__all__":
            out.append(n)
            skip.add(id(n.target))
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == "__all__":
            out.append(n)
            skip.add(id(n.func.value))
    out.extend(n for n in walk_nodes(st) if isinstance(n, ast.Name) and n.id == "__all__" and id(n) not in skip)
    return out


def _mentions_all(nodes: list) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "__all__" for x in nodes for n in walk_nodes(x))


def _may_spell(lines: Optional[list], st: ast.stmt) -> bool:
    """May ``st`` (from its first decorator to its end) spell a name of ``lines`` (see ``_lines_spelling``; None: any)?"""
    return lines is None or _any_between(lines, _first_line(st), st.end_lineno or st.lineno)


class _State:
    """What one program links so far; copied whole for each import tried (an import that fails leaves no trace).

    ``pnames``: (path, name) -> the name the definition has in the program: the name the analyzed file binds
    (``Model`` for ``from m import Net as Model``), else its own name, else the dotted name the file uses
    (``mn.Net``: never an identifier the program binds otherwise). ``renames``: path -> {what that file calls a
    linked definition (``Net``, ``B``, ``mb.Base``) -> its program name}, applied to the copied definitions of
    that file; ``chains``: the same for the analyzed file's dotted names (``mn.Net``), its only rewrite."""

    __slots__ = ("taken", "chosen", "imports_needed", "pnames", "renames", "chains", "size", "pending", "rebound")

    def __init__(self, taken: dict) -> None:
        self.taken = taken
        self.chosen: dict = {}  # (path, name) -> Definition, in order
        self.imports_needed: dict = {}  # path -> set of local names whose import lines to copy
        self.pnames: dict = {}
        self.renames: dict = {}
        self.rebound: dict = {}  # path -> names of its outside imports renamed (see Linked.rebound)
        self.chains: dict = {}
        self.size = 0  # lines the chosen definitions copy
        self.pending: list = []  # links made after the rest, if they fit (see _Linker._settle)

    def adopt(self, other: _State) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(other, name))

    def copy(self) -> _State:
        c = _State(dict(self.taken))
        c.chosen = dict(self.chosen)
        c.imports_needed = {k: set(v) for k, v in self.imports_needed.items()}
        c.pnames = dict(self.pnames)
        c.renames = {k: dict(v) for k, v in self.renames.items()}
        c.rebound = {k: set(v) for k, v in self.rebound.items()}
        c.chains = dict(self.chains)
        c.size = self.size
        c.pending = list(self.pending)
        return c


class _Linker:
    def __init__(self, index: WorkspaceIndex, path: str, text: str, tree: Optional[ast.Module]) -> None:
        self.index = index
        self.path = path
        self.text = text
        self.tree = tree
        self.budget = LINK_BUDGET
        self.stubs: set = set()  # (path, name) of classes copied as their header only
        self._head: Optional[list] = None

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
        training = trains_in_code(self.text, tree)  # (a marker in a docstring or comment does not make it train)
        found = statements_of_type(tree, (ast.ClassDef, ast.Import, ast.ImportFrom))
        wanted_bases = {b.id for st in found if isinstance(st, ast.ClassDef) for b in st.bases if isinstance(b, ast.Name)}
        wanted_chains = {c for st in found if isinstance(st, ast.ClassDef) for c in (dotted(b) for b in st.bases if isinstance(b, ast.Attribute)) if c}
        statements = [st for st in found if isinstance(st, ast.ImportFrom)]
        if not training and not wanted_bases and not wanted_chains:
            return None
        top = {id(st) for st in tree.body}
        imports = [st for st in found if isinstance(st, (ast.Import, ast.ImportFrom))]
        of = [(node, _bindings(node)) for node in imports]
        bound: dict = {}  # local name -> what the file's imports of it import (two different ones: not linked)
        for _, bds in of:
            for bd in bds:
                bound.setdefault(bd.local, set()).add(bd.qualname if bd.name is None else (bd.module, bd.name, bd.level))
        chain_roots = {c.split(".", 1)[0] for c in wanted_chains}
        # modules the file binds at top level (``import models.net as mn``, ``from models import net``): the
        # dotted names the file uses through them; and names ``from m import *`` may bind
        roots: dict = {}
        stars: list = []
        for node, bds in of:
            if id(node) not in top:
                continue
            for bd in bds:
                if bd.local == "*":
                    target = self.index.module_file(bd.module or "", self.path, bd.level)
                    if target is not None:
                        stars.append((node, target))
                elif len(bound[bd.local]) == 1 and bd.local not in own_names and (training or bd.local in chain_roots):
                    mod = self.index.module_of(bd, self.path)
                    if mod is not None and bd.name is not None and self.index.resolve(bd, self.path) is not None:
                        mod = None  # ``from pkg import x``: the package's own ``x`` first, the submodule only without one
                    # an installed package's module: only for a base class (``class Net(timm.layers.Mlp)``)
                    if mod is not None and (bd.local in chain_roots or not self._library_module(mod)):
                        roots[bd.local] = mod
        chains = sorted(chains_in(self.text, roots) if training else {c for c in wanted_chains if c.split(".", 1)[0] in roots}) if roots else []
        if chains:  # a module name rebound anywhere (a parameter, a loop variable, an assignment) is not rewritten
            rebound = _rebound(tree, self.text, {c.split(".", 1)[0] for c in chains})
            chains = [c for c in chains if c.split(".", 1)[0] not in rebound]
        star_names = sorted(n for n in ((set(_IDENT.findall(self.text)) if training else wanted_bases) - own_names.keys() - bound.keys())) if stars else []
        # what linking depends on in this file: its imports, own names, bases, whether it trains, the dotted names
        # and (with a star import) the names it uses (typing inside a function changes none of them: the copied
        # part is reused while the files it comes from are unchanged)
        key = (
            training,
            tuple(sorted(own_names)),
            tuple(sorted(wanted_bases)),
            tuple(sorted(wanted_chains)),
            tuple((st.lineno, st.end_lineno, st.col_offset, st.end_col_offset, getattr(st, "module", None), getattr(st, "level", 0), tuple((a.name, a.asname) for a in st.names)) for st in imports),
            tuple(chains),
            tuple(star_names),
        )
        cached = self.index.cached_link(self.path, key)
        if cached is not None:
            positions, copy = cached
            if copy is None:
                return None
            return self._assemble([st for st in statements if (st.lineno, st.col_offset) in positions], copy)
        taken: dict = dict(own_names)
        # names the file's other imports bind keep their meaning
        for _, bds in of:
            for bd in bds:
                taken.setdefault(bd.local, ("import", bd.qualname))
        state = _State(taken)
        rewritten: list = []
        bindings_of = {id(node): bds for node, bds in of}  # (the statements are among the imports: read once)
        for st in statements:
            bindings = bindings_of[id(st)]
            if not bindings or any(b.name == "*" for b in bindings):
                continue
            if not training and not any(b.local in wanted_bases for b in bindings):
                continue
            if any(not b.level and b.module and b.name and framework_modeled(f"{b.module}.{b.name}") for b in bindings):
                continue  # the statement stays whole: rewriting it would unbind the names the API table knows
            resolved: list = []
            for b in bindings:
                if b.local in own_names:  # the file defines the name itself (as the module docstring says: not linked)
                    resolved.append(None)
                    continue
                if stars and id(st) in top and self._star_rebinds(stars, st, b.local):
                    resolved.append(None)  # a later ``from m import *`` binds it (last wins): not this import's
                    continue
                got = self.index.resolve(b, self.path) if len(bound[b.local]) == 1 or self._same_everywhere(b.local, of) else None
                if got is None:
                    resolved.append(None)
                    continue
                if not training and b.local not in wanted_bases and got[1].end - got[1].start >= SMALL_DEFINITION:
                    resolved.append(None)  # a file that does not train needs its bases; other large names stay unknown
                    continue
                resolved.append(got)
            if not any(resolved):
                continue
            trial = state.copy()
            for b, got in zip(bindings, resolved):
                if got is not None:  # the name this file binds is the definition's name in the program
                    trial.taken[b.local] = ("def", got[0], got[1].name)
            ok = True
            for b, got in zip(bindings, resolved):
                if got is None:
                    continue
                if not self._close(trial, got[0], got[1], b.local, full=training):
                    ok = False
                    break
            if not ok or _shares_line(st, self.head_lines(st.end_lineno or st.lineno)):
                continue
            if trial.size > self.budget:
                continue
            state = trial
            # names of the statement that did not resolve stay unknown (as an unresolved import would)
            rewritten.append(st)
        # ``mn.Net``: the module's definition, under its own name when the program has it free (the import stays:
        # dotted names that do not resolve keep their qualified names)
        for c in chains:
            parts = c.split(".")
            module, level = roots[parts[0]]
            got = self.index.resolve_chain(module, level, self.path, parts[1:])
            if got is None:
                continue
            c = ".".join(parts[: 1 + got[2]])
            if c in state.chains or (self.index.is_library(got[0]) and c not in wanted_chains) or (not training and c not in wanted_chains):
                continue
            trial = state.copy()
            pname = self._pname(trial, got[0], got[1], None, c)
            if pname is None:
                continue
            trial.chains[c] = pname
            if self._close(trial, got[0], got[1], pname, full=training) and trial.size <= self.budget:
                state = trial
        if stars:
            state = self._link_stars(state, stars, star_names, training)
        self._settle(state)
        copy = self._copy(state) if state.chosen or state.imports_needed else None
        self.index.remember_link(self.path, key, {(st.lineno, st.col_offset) for st in rewritten}, copy, dict(self.index._tls.consulted or {}))
        if copy is None:
            return None
        return self._assemble(rewritten, copy)

    def _star_rebinds(self, stars: list, st: ast.stmt, name: str) -> bool:
        """Does a top-level ``from m import *`` after the import ``st`` (maybe) bind ``name``?"""
        return any(
            node.lineno > st.lineno and self.index.may_export(target, name) and self.index._find(target, name) is not _UNBOUND
            for node, target in stars
        )

    def _same_everywhere(self, name: str, of: list) -> bool:
        """Do all the file's imports of ``name`` (``try: from .a import X`` / ``except: from a import X``, or one
        per function) bind the same definition? A name two imports bind differently is not guessed."""
        got = {self.index.resolve(b, self.path) for _, bds in of for b in bds if b.local == name}
        return len(got) == 1 and None not in got

    def _link_stars(self, state: _State, stars: list, names: list, training: bool) -> _State:
        """``from m import *``: each name the file uses that a star import binds, surely (see
        ``WorkspaceIndex.exports``), the last one of them when several do (as running the file would bind it): a
        definition, or an outside import of the module (its line copied). The statement stays: the single-file
        model never reads star imports."""
        for n in names:
            if n in state.taken:
                continue
            providers: list = []
            for _, target in stars:  # (in the file's order: the last that binds ``n`` wins, as running it would)
                sure = self.index.exports_name(target, n)
                if not sure and not self.index.may_export(target, n):
                    continue
                got = self.index._find(target, n)
                if got is _UNBOUND:
                    continue  # the module has no such name
                s = self.index.summary(target)
                b = next((b for b in reversed(s.imports if s is not None else []) if b.local == n), None) if got is None else None
                if not sure or (got is None and b is None):
                    providers.append(("unsure", None))  # an ``__all__`` not read whole may bind it, or bound past what is read
                elif got is not None:
                    providers.append(("def", got))
                else:
                    providers.append(("import", (target, b)))
            if not providers or providers[-1][0] == "unsure":
                continue  # bound by no star import, or the last that may bind it is not sure: not guessed
            kind, what = providers[-1]
            trial = state.copy()
            if kind == "def":
                if not self._close(trial, what[0], what[1], n, full=training) or trial.size > self.budget:
                    continue
            else:
                target, b = what
                if b.level != 0 or b.name == "*" or not self._claim(trial.taken, n, ("import", b.qualname)):
                    continue
                trial.imports_needed.setdefault(target, set()).add(n)
            state = trial
        return state

    def _library_module(self, mod: tuple) -> bool:
        f = self.index.module_file(mod[0], self.path, 0) if not mod[1] else None
        return f is not None and self.index.is_library(f)

    def _pname(self, st: _State, path: str, d: Definition, spelled: Optional[str], chain: Optional[str] = None) -> Optional[str]:
        """The program name of ``d`` (from ``path``) reached by a name ``spelled`` or a dotted name ``chain``: the
        one it has already, else ``spelled``, else its own name, else the dotted name, else its name qualified by
        its module (``model.Block``, ``models.model.Block``, ...: the analyzed file defines or imports a
        ``Block`` of its own), the first free in the program. A dotted name is never an identifier the code
        binds, and only the trees are renamed (see ``_State``): no line's text changes."""
        have = st.pnames.get((path, d.name))
        if have is not None:
            return have
        mine = ("def", path, d.name)
        for cand in itertools.chain((spelled, d.name, chain), _qualified(path, d.name)):
            if cand is not None and st.taken.get(cand, mine) == mine:
                return cand
        return None

    def _close(self, st: _State, path: str, d: Definition, pname: str, full: bool) -> bool:
        """Add ``d`` (from ``path``) under the program name ``pname``, and what it needs; False on a name clash."""
        key = (path, d.name)
        have = st.pnames.get(key)
        if have is not None:
            return have == pname
        if not self._claim(st.taken, pname, ("def", path, d.name)):
            return False
        st.pnames[key] = pname
        if pname != d.name:
            st.renames.setdefault(path, {})[d.name] = pname
        st.chosen[key] = d
        full = full and not self.index.is_library(path)  # a library class: only its base chain
        if not full and d.header_end:
            self.stubs.add(key)  # its header and `pass`: what it is (its bases), not what it does
        st.size += self._size(key, d)
        if st.size > self.budget:
            return False  # past the budget: this import stays unresolved (no need to follow the rest)
        s = self.index.summary(path)
        if s is None:
            return False
        names = self.refs(path, d) if full else set(d.bases)
        for n in s.linkable(names):
            if n == d.name:
                continue
            local = s.defs.get(n)
            if local is not None:
                if not self._use(st, path, n, (path, local), full):
                    return False
                continue
            b = s.first_import(n)
            if b is not None:  # (only the first import of the name counts)
                got = self.index.resolve(b, path) if b.name else None
                if got is not None and (not self.index.is_library(got[0]) or not full or n in d.bases):
                    if b.name == n or st.taken.get(n) == ("def", got[0], got[1].name):  # as the program has it already
                        if not self._use(st, path, n, got, full):
                            return False
                        continue
                    # ``from m import X as n``: its line is copied (as an outside import), and X linked when it fits
                    st.pending.append(("alias", path, n, got, full))
                else:
                    mod = self.index.module_of(b, path) if got is None else None
                    if mod is not None:  # a module of the workspace: the definitions ``n.X`` names, when they fit
                        st.pending.append(("chains", path, d, n, mod, full))
                # an outside import (torch, numpy, ...) or a module: its line is copied; when the program has the
                # name for something else (the analyzed file's own ``config``), the copied line binds another name
                # (in the tree only), as Python binds each file's import in that file's namespace
                if not self._claim(st.taken, n, ("import", b.qualname)) and not self._rebind(st, path, n, ("import", b.qualname)):
                    return False
                st.imports_needed.setdefault(path, set()).add(n)
        return True

    def _rebind(self, st: _State, path: str, n: str, meaning: tuple) -> bool:
        """``path``'s import of ``n`` under another program name: its name qualified by its module
        (``model.config``, ``pkg.model.config``, ...: never an identifier the code binds), the first free."""
        here = st.renames.get(path, {})
        if n in here:
            return n in st.rebound.get(path, ()) and st.taken.get(here[n]) == meaning
        for cand in _qualified(path, n):
            if self._claim(st.taken, cand, meaning):
                st.renames.setdefault(path, {})[n] = cand
                st.rebound.setdefault(path, set()).add(n)
                return True
        return False

    def _settle(self, st: _State) -> None:
        """Links the copied definitions' aliases and module names ask for, each if it fits in what is left of the
        budget (the file's own imports first); one that does not stays an outside import (its line is copied)."""
        while st.pending:
            item = st.pending.pop(0)
            trial = st.copy()
            if item[0] == "alias":
                _, path, n, got, full = item
                ok = self._use(trial, path, n, got, full)
            else:
                _, path, d, n, mod, full = item
                ok = self._link_chains(trial, path, d, n, mod, full)
            if ok and trial.size <= self.budget:
                st.adopt(trial)

    def _link_chains(self, st: _State, path: str, d: Definition, n: str, mod: tuple, full: bool) -> bool:
        """The definitions ``n.X`` (``n`` a module ``path`` imports) names in ``d``'s text (its header only for a
        class linked for its bases, or for an installed package's module)."""
        for c in sorted(self.index.chains_of(path, d, n, header_only=not full or self._library_module(mod))):
            parts = c.split(".")
            to = self.index.resolve_chain(mod[0], mod[1], path, parts[1:])
            if to is None or (self.index.is_library(to[0]) and full and c not in self.index.chains_of(path, d, n, header_only=True)):
                continue  # an installed package's class: only as a base
            c = ".".join(parts[: 1 + to[2]])
            pn = self._pname(st, to[0], to[1], None, c)
            if pn is None or st.renames.get(path, {}).get(c, pn) != pn:
                return False
            if pn != c:
                st.renames.setdefault(path, {})[c] = pn
            if not self._close(st, to[0], to[1], pn, full):
                return False
        return True

    def _use(self, st: _State, region: str, n: str, got: tuple, full: bool) -> bool:
        """A copied definition of ``region`` names ``n``, which is ``got`` there: link it, under ``n`` if it can
        be (else that file's ``n`` is renamed to the definition's program name)."""
        pname = self._pname(st, got[0], got[1], n)
        if pname is None:
            return False
        here = st.renames.get(region, {})
        if here.get(n, pname) != pname:
            return False
        if pname != n:
            st.renames.setdefault(region, {})[n] = pname
        return self._close(st, got[0], got[1], pname, full)

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
        copied, origin, files, library, renames, chains, rebound = copy
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
        return Linked("".join(lines) + rest + copied, own_total, origin, files, frozenset(changed), library, tuple(rewritten), copied, renames, chains, rebound)

    def _copy(self, state: _State) -> tuple:
        """(copied text, origin of each copied line, digests of the files copied from, library files, renames,
        the analyzed file's dotted names)."""
        chosen, imports_needed = state.chosen, state.imports_needed
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
                chunk = flines[a - 1 : z] if a >= 1 else [flines[ln - 1] for ln in range(a, z + 1) if ln - 1 < len(flines)]
                if chunk:
                    out.extend(chunk)
                    if not chunk[-1].endswith(("\n", "\r")):  # (only a file's last line can lack its end)
                        out[-1] += "\n"
                    origin.extend(zip(itertools.repeat(p), range(a, a + len(chunk))))
                if stub:
                    out.append("    pass\n")
                    origin.append((p, z))
        library = frozenset(p for p in files if self.index.is_library(p))
        renames = {p: m for p, m in state.renames.items() if m and p in files}
        rebound = {p: frozenset(m) for p, m in state.rebound.items() if m and p in files}
        return ("".join(out), origin, files, library, renames, dict(state.chains), rebound)


def _rename(root: ast.AST, names: dict, spelled: Optional[list] = None) -> None:
    """Rename in place: a definition named in ``names``, ``Name`` nodes, and dotted chains (``mb.Base``, replaced
    by one ``Name`` at the chain's place). Iterative (deep trees). ``spelled`` (sorted line numbers, see
    ``_lines_spelling``): of the statements nested in ``root``, only those whose lines are among them are looked at
    (a name, or a chain's first part, is spelled on the lines of the statement whose expression holds it, from its
    first decorator on, and a statement's lines hold its nested statements' lines); None: every statement."""
    if isinstance(root, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and root.name in names:
        root.name = names[root.name]
    stack = [root]
    stmt = ast.stmt
    while stack:
        node = stack.pop()
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, v in enumerate(value):
                    if isinstance(v, ast.AST):
                        if spelled is not None and isinstance(v, stmt) and not _any_between(spelled, _first_line(v), v.end_lineno or v.lineno):
                            continue  # nothing to rename in it
                        r = _renamed(v, names)
                        if r is None:
                            stack.append(v)
                        elif r is not v:
                            value[i] = r
            elif isinstance(value, ast.AST):
                r = _renamed(value, names)
                if r is None:
                    stack.append(value)
                elif r is not value:
                    setattr(node, name, r)


def _first_line(st: ast.stmt) -> int:
    """The first line of a statement's text: its first decorator's, for a decorated definition."""
    decorators = getattr(st, "decorator_list", None)
    return min(st.lineno, *(d.lineno for d in decorators)) if decorators else st.lineno


_GONE_OWNERS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.Try, ast.With, ast.For, ast.While)


def _replace_gone(tree: ast.Module, gone: set, lines: list) -> None:
    """The statements ``gone`` (rewritten imports, on the sorted ``lines``) become ``pass`` in the module's body and
    in the blocks of the statements of ``_GONE_OWNERS`` anywhere in the tree (the same as looking at every such
    statement: only those whose lines hold a rewritten import can hold one in a block)."""
    todo: list = [tree]
    while todo:
        node = todo.pop()
        if node is tree or isinstance(node, _GONE_OWNERS):
            for name in ("body", "orelse", "finalbody"):
                block = getattr(node, name, None)
                if isinstance(block, list) and any(id(st) in gone for st in block):
                    setattr(node, name, [_pass_like(st) if id(st) in gone else st for st in block])
            for h in getattr(node, "handlers", []) or []:
                if any(id(st) in gone for st in h.body):
                    h.body = [_pass_like(st) if id(st) in gone else st for st in h.body]
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(node, name, None)
            if not block:
                continue
            for ch in block:
                first = getattr(ch, "lineno", None)
                if first is None:  # a match case: its body's lines
                    body = getattr(ch, "body", None) or []
                    if body and _any_between(lines, body[0].lineno, body[-1].end_lineno or body[-1].lineno):
                        todo.append(ch)
                elif isinstance(ch, (ast.stmt, ast.excepthandler)) and _any_between(lines, first, ch.end_lineno or first):
                    todo.append(ch)


_NON_ASCII_CHAR = re.compile(r"[^\x00-\x7f]")


def _lines_spelling(text: str, words: set) -> Optional[list]:
    """The sorted line numbers (1-based) of ``text``'s lines holding one of ``words`` as a whole word, or a non-ASCII
    character (Python reads identifiers NFKC-normalized: one may be spelled otherwise than the tree has it); None when
    the text cannot tell (a lone ``\r`` ends a line for Python)."""
    if not words or "\r" in text:
        return None
    # (the starts of ``\b(?:w1|w2|...)\b|[^\x00-\x7f]``'s matches are on the same lines: a word is found whole with
    # ``str.find``, and a non-ASCII character inside a word is on its line)
    at = word_starts(text, words)
    if not text.isascii():
        at = sorted({*at, *(m.start() for m in _NON_ASCII_CHAR.finditer(text))})
    out: list = []
    line, prev = 1, 0
    for i in at:
        line += text.count("\n", prev, i)
        prev = i
        if not out or out[-1] != line:
            out.append(line)
    return out


def _any_between(lines: list, first: int, last: int) -> bool:
    i = bisect.bisect_left(lines, first)
    return i < len(lines) and lines[i] <= last


def _rebind(st: ast.stmt, names: dict, rebound: frozenset) -> None:
    """A copied import statement binds each name of ``rebound`` under its program name (``names``):
    ``import config`` -> ``import config as model.config``; ``import a.b`` (which binds ``a``) -> ``import a as
    <name>``; ``from m import x`` -> ``from m import x as <name>``."""
    for a in st.names:  # type: ignore[attr-defined]
        local = a.asname or (a.name if isinstance(st, ast.ImportFrom) else a.name.split(".")[0])
        if local in rebound and local in names:
            if isinstance(st, ast.Import) and not a.asname:
                a.name = local
            a.asname = names[local]


def _renamed(node: ast.AST, names: dict) -> Optional[ast.AST]:
    """The node to put in place of ``node`` (itself when renamed in place), None when its children are to be
    looked at."""
    if isinstance(node, ast.Name):
        new = names.get(node.id)
        if new is not None:
            node.id = new
        return node
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):  # ``mn.X = ...`` sets the module's X: left alone
        d = dotted(node)
        new = names.get(d) if d is not None else None
        if new is not None:
            return ast.Name(id=new, ctx=node.ctx, lineno=node.lineno, col_offset=node.col_offset, end_lineno=node.end_lineno, end_col_offset=node.end_col_offset)
    return None


def _rebound(tree: ast.Module, text: str, names: set) -> set:
    """Which of ``names`` the file binds anywhere other than by an import: a parameter, or a ``Name`` stored
    or deleted (an assignment, a loop or ``with`` target, a comprehension variable...). Only the statements
    whose lines hold one of the words are walked, each without its nested statements (those are looked at on
    their own): the same answer as walking every node, without walking every node."""
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(names)) + r")\b")
    hits = [m.start() for m in pattern.finditer(text)]
    if not hits:
        return set()
    if "\r" in text:  # line breaks as Python counts them
        starts = list(itertools.accumulate(len(ln) for ln in split_lines(text)))
        hit_lines = sorted({bisect.bisect_right(starts, h) + 1 for h in hits})
    else:
        hit_lines = []
        line, at = 1, 0
        for h in hits:
            line += text.count("\n", at, h)
            at = h
            if not hit_lines or hit_lines[-1] != line:
                hit_lines.append(line)
    out: set = set()
    for st in statements(tree):
        i = bisect.bisect_left(hit_lines, st.lineno)
        if i == len(hit_lines) or hit_lines[i] > (st.end_lineno or st.lineno):
            continue
        for top in own_expressions(st):
            for n in walk_nodes(top):
                if isinstance(n, ast.arg):
                    if n.arg in names:
                        out.add(n.arg)
                elif isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load) and n.id in names:
                    out.add(n.id)
    return out


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
