"""The CLI's ``check``: file discovery, parallel analysis with a content-hash cache, output and fixes."""
from __future__ import annotations

import difflib
import gc
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Optional

from gradguard import __version__
from gradguard.analyze import analyze
from gradguard.config import Config, find_pyproject, load_pyproject
from gradguard.core.astindex import caches_released
from gradguard.core.edits import apply_edits
from gradguard.core.model import Applicability, Finding
from gradguard.core.source import SourceText
from gradguard.core.workspace import WorkspaceIndex, walk_sources
from gradguard.output import render


def discover(paths: Iterable[str], config: Config) -> list:
    out = []
    for p in paths:
        if os.path.isfile(p):
            out.append(p)  # explicit files are always checked
            continue
        if not os.path.isdir(p):
            raise FileNotFoundError(p)
        out.extend(walk_sources(p, (".py", ".ipynb"), config.is_excluded))
    return out


def read_source(path: str) -> tuple:
    """(text, cells) — cells is None for .py; notebooks are joined into one program (see notebook.py)."""
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".ipynb"):
        from gradguard.notebook import notebook_to_program

        return notebook_to_program(raw)
    return decode(raw), None


def decode(raw: bytes) -> str:
    """Decode like Python does: BOM, PEP 263 coding cookie, else UTF-8 (bad bytes replaced, not fatal)."""
    import io
    import tokenize

    try:
        enc, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError:
        enc = "utf-8"
    try:
        text = raw.decode(enc)
    except (UnicodeDecodeError, LookupError):
        text = raw.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def finding_to_json(f: Finding, path: str, source: SourceText, cells=None, with_fix: bool = True) -> dict:
    from gradguard.rules.base import DOCS_URL

    def loc(p):
        if cells is not None:
            from gradguard.notebook import program_to_cell

            cell, line = program_to_cell(cells, p.line)
            return {"row": line, "column": p.col + 1 + cells.shifts.get(p.line, 0), "cell": cell}
        return {"row": p.line, "column": p.col + 1}

    fx = f.fix if with_fix else None
    return {
        "code": f.code,
        "message": f.message,
        "severity": f.severity.value,
        "filename": path,
        "location": loc(f.start),
        "end_location": loc(f.end),
        "url": DOCS_URL.format(code=f.code),
        "explanation": f.explanation,
        "related": [_related_json(r, loc) for r in f.related],
        "fix": None
        if fx is None
        else {
            "applicability": fx.applicability.value,
            "message": fx.message,
            "edits": [{"content": e.content, "location": loc(e.start), "end_location": loc(e.end)} for e in fx.edits],
        },
    }


def _related_json(r, loc) -> dict:
    out = {"message": r.message, "location": {"row": r.start.line, "column": r.start.col + 1} if r.path else loc(r.start), "end_location": {"row": r.end.line, "column": r.end.col + 1} if r.path else loc(r.end)}
    if r.path:
        out["filename"] = _display_path(r.path)
    return out


def _display_path(path: str) -> str:
    """A path as the user would type it: relative to the working directory when under it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


_checked = 0
_workspaces: dict = {}


def workspace_for(spec) -> Optional[WorkspaceIndex]:
    """One index per worker process and workspace (roots, libraries)."""
    if spec is None:
        return None
    ws = _workspaces.get(spec)
    if ws is None:
        ws = _workspaces[spec] = WorkspaceIndex(list(spec[0]), list(spec[1]))
    return ws


def library_paths() -> list:
    """Installed packages gradguard may read base classes from (never reported on): the active virtualenv's
    site-packages ($VIRTUAL_ENV), this interpreter's, and $GRADGUARD_LIBRARY_PATHS (os.pathsep-separated)."""
    import glob
    import sysconfig

    out = []
    venv = os.environ.get("VIRTUAL_ENV")
    if venv:
        out.extend(sorted(glob.glob(os.path.join(venv, "lib", "python3*", "site-packages"))))
    extra = os.environ.get("GRADGUARD_LIBRARY_PATHS", "")
    out.extend(p for p in extra.split(os.pathsep) if p)
    purelib = sysconfig.get_paths().get("purelib")
    if purelib:
        out.append(purelib)
    seen: list = []
    for p in out:
        if os.path.isdir(p) and os.path.abspath(p) not in seen:
            seen.append(os.path.abspath(p))
    return seen


def _worker_init() -> None:
    # Worker processes live for one run: reference counting frees each file's tree (``check_file`` drops the
    # caches that tie a tree to itself), and a full collection every few hundred files catches other cycles.
    gc.disable()


def check_file(job: tuple) -> dict:
    """Worker: analyze one file, return JSON-able findings (and the fixed text when fixing)."""
    with caches_released():  # its trees are freed when done, not left to the cyclic GC
        return _check_file(job)


def _check_file(job: tuple) -> dict:
    global _checked
    _checked += 1
    if not gc.isenabled() and _checked % 200 == 0:
        gc.collect()
    path, cfg, fix_mode, spec = job
    ws = workspace_for(spec)
    if ws is not None:
        ws.trust_disk_texts = not fix_mode  # the texts analyzed are the files as read (fixing rewrites them)
        ws.stable_disk = True  # nothing writes the files while the analyses run (fixes are written after them all)
    try:
        text, cells = read_source(path)
    except (OSError, ValueError) as exc:
        return {"path": path, "error": f"cannot read: {exc}"}
    except (TypeError, AttributeError, RecursionError, MemoryError) as exc:  # e.g. a notebook whose JSON is not shaped like one
        return {"path": path, "error": f"cannot read: not a valid notebook ({type(exc).__name__})"}
    findings = analyze(text, path, cfg, workspace=ws)
    if cells is not None:
        from gradguard.notebook import merge_cell_errors

        merge_cell_errors(findings, cells, cfg)
    out = {"path": path, "findings": [finding_to_json(f, path, findings.source, cells) for f in findings.findings]}
    if findings.depends_on:
        out["depends_on"] = findings.depends_on
    if findings.foreign:
        out["foreign"] = {p: [finding_to_json(f, _display_path(p), findings.source, None) for f in fs] for p, fs in findings.foreign.items()}
    if fix_mode and cells is not None:
        try:
            nb = _fix_notebook(path, cfg, fix_mode)
        except (OSError, ValueError, AssertionError, IndexError, TypeError, AttributeError) as exc:
            out["fix_error"] = f"cannot write fixes into this notebook ({type(exc).__name__}: {exc})"
            return out
        if nb is not None:
            out.update(nb)
        return out
    if fix_mode and cells is None:
        fixed = _fix_text(text, path, cfg, fix_mode, ws)
        if fixed != text:
            out["fixed"] = fixed
            out["original"] = text
            out["remaining"] = [finding_to_json(f, path, SourceText(fixed)) for f in analyze(fixed, path, cfg, workspace=ws).findings]
    return out


def _applicable_edits(res, mode: str) -> list:
    """Per finding, the edits of its fix when ``mode`` allows it: safe fixes always, unsafe ones only in
    "unsafe" mode; findings without a fix contribute nothing."""
    out = []
    for f in res.findings:
        fx = f.fix
        if fx is None:
            continue
        if fx.applicability == Applicability.UNSAFE and mode != "unsafe":
            continue
        out.append(list(fx.edits))
    return out


def _fix_notebook(path: str, cfg: Config, mode: str) -> Optional[dict]:
    """Fixes written into the code cells' sources of an .ipynb file (every other byte kept: outputs,
    metadata, formatting). A fix whose edits span cells or touch a magic line is not applied."""
    from gradguard.notebook import apply_cell_edits, cell_sources, edits_by_cell, join_cells, merge_cell_errors, replace_sources

    with open(path, "rb") as f:
        raw = f.read()
    original = cell_sources(raw)
    current = dict(original)
    for _ in range(5):  # apply, re-analyze, until nothing applicable is left
        text, cmap = join_cells(sorted(current.items()))
        res = analyze(text, path, cfg)
        per_cell: dict = {}
        for fix_edits in _applicable_edits(res, mode):
            mapped = edits_by_cell(cmap, fix_edits)
            if mapped is None:
                continue
            for idx, es in mapped.items():
                per_cell.setdefault(idx, []).extend(es)
        changed = False
        for idx, es in per_cell.items():
            n = cmap.ids[idx]
            new = apply_cell_edits(current[n], es)
            if new != current[n]:
                current[n], changed = new, True
        if not changed:
            break
    changed_cells = {n: t for n, t in current.items() if t != original[n]}
    if not changed_cells:
        return None
    new_raw = replace_sources(raw, changed_cells)
    text, cmap = join_cells(sorted(current.items()))
    res = merge_cell_errors(analyze(text, path, cfg), cmap, cfg)
    diff = "".join(
        "".join(difflib.unified_diff(original[n].splitlines(True), current[n].splitlines(True), f"{path}:cell {n}", f"{path}:cell {n}"))
        for n in sorted(changed_cells)
    )
    return {
        "fixed": new_raw.decode("utf-8"),
        "original": raw.decode("utf-8"),
        "diff": diff if diff.endswith("\n") or not diff else diff + "\n",
        "remaining": [finding_to_json(f, path, res.source, cmap) for f in res.findings],
    }


def _fix_text(text: str, path: str, cfg: Config, mode: str, ws=None) -> str:
    for _ in range(5):  # apply, re-analyze, until nothing applicable is left
        res = analyze(text, path, cfg, workspace=ws)
        edits = [e for fix_edits in _applicable_edits(res, mode) for e in fix_edits]
        if not edits:
            break
        new = apply_edits(res.source, edits)
        if new == text:
            break
        text = new
    return text


_FINGERPRINT: Optional[str] = None


def _code_fingerprint() -> str:
    """Changes whenever gradguard's own code changes (rules added or edited), so the cache never
    serves results of older rules."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        import gradguard

        root = os.path.dirname(os.path.abspath(gradguard.__file__))
        parts = []
        for d, _, files in os.walk(root):
            for f in sorted(files):
                if f.endswith(".py"):
                    st = os.stat(os.path.join(d, f))
                    parts.append(f"{os.path.relpath(os.path.join(d, f), root)}:{st.st_size}:{st.st_mtime_ns}")
        _FINGERPRINT = hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()
    return _FINGERPRINT


def _cache_key(path: str, cfg: Config, fix_mode, salt: str = "") -> Optional[str]:
    """The file's content, the configuration, gradguard's code and ``salt`` (the workspace: its roots and its
    set of files, so a file created or deleted re-resolves every import). What a cached result's cross-file
    findings also depend on (the files it was linked from) is checked against their digests when loading."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    h = hashlib.sha256()
    h.update(__version__.encode())
    h.update(_code_fingerprint().encode())
    h.update(salt.encode())
    h.update(repr((cfg.select, cfg.ignore, sorted(cfg.severity.items()), sorted(cfg.per_file_ignores.items()), os.path.abspath(path), fix_mode)).encode())
    h.update(data)
    return h.hexdigest()


class UsageError(Exception):
    """A command-line value gradguard cannot honor (exit 2)."""


def run_check(args) -> int:
    try:
        cfg = _load_config(args)
    except UsageError as exc:
        print(f"gradguard: error: {exc}", file=sys.stderr)
        return 2
    for problem in cfg.problems:
        print(f"gradguard: warning: {problem}", file=sys.stderr)
    try:
        files = discover(args.paths, cfg)
    except FileNotFoundError as exc:
        print(f"gradguard: error: no such file or directory: {exc}", file=sys.stderr)
        return 2
    fix_mode = None
    if args.fix or args.diff:
        fix_mode = "unsafe" if args.unsafe_fixes else "safe"
    cache_dir = None if args.no_cache else os.path.join(os.getcwd(), ".gradguard_cache", __version__)
    spec = None if getattr(args, "no_workspace", False) else (tuple(os.path.abspath(p) for p in args.paths), tuple(library_paths()))
    ws = workspace_for(spec)
    if ws is not None:
        ws.forget_stamps()  # (an index kept from an earlier run in this process: files may have changed since)
        for message in _workspace_messages(ws):
            print(f"gradguard: warning: {message}", file=sys.stderr)
    salt = "" if ws is None else hashlib.sha256(repr((spec, ws.files())).encode()).hexdigest()
    results: dict = {}
    todo = []
    keys = {}
    for p in files:
        key = _cache_key(p, cfg, fix_mode, salt) if cache_dir and not fix_mode else None
        if key and cache_dir:
            keys[p] = key
            cp = os.path.join(cache_dir, key[:2], key + ".json")
            try:
                with open(cp, encoding="utf-8") as f:
                    cached = json.load(f)
                if ws is None or all(ws.digest(d) == digest for d, digest in cached.get("depends_on", {}).items()):
                    results[p] = cached
                    continue
            except (OSError, ValueError, AttributeError):
                pass
        todo.append(p)
    jobs = [(p, cfg, fix_mode, spec) for p in todo]
    workers = args.jobs or os.cpu_count() or 1
    if len(jobs) <= 2 or workers == 1:
        done = [check_file(j) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as ex:
            done = list(ex.map(check_file, jobs, chunksize=max(1, min(32, len(jobs) // (workers * 8) or 1))))
    for r in done:
        results[r["path"]] = r
        key = keys.get(r["path"])
        if key and cache_dir and "error" not in r:
            try:
                d = os.path.join(cache_dir, key[:2])
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, key + ".json"), "w", encoding="utf-8") as f:
                    json.dump(r, f)
            except OSError:
                pass
    ordered = [results[p] for p in files if p in results]
    _merge_foreign(ordered)
    errors = [r for r in ordered if "error" in r]
    for r in errors:
        print(f"gradguard: error: {r['path']}: {r['error']}", file=sys.stderr)
    fix_errors = [r for r in ordered if "fix_error" in r]
    for r in fix_errors:
        print(f"gradguard: error: {r['path']}: {r['fix_error']}", file=sys.stderr)
    fixed_count = 0
    if fix_mode:
        _apply_foreign_fixes(ordered, fix_mode)
        for r in ordered:
            if "fixed" not in r:
                continue
            if args.diff:
                if "diff" in r:  # a notebook: the changed cells' sources
                    sys.stdout.write(r["diff"])
                else:
                    sys.stdout.write("".join(difflib.unified_diff(r["original"].splitlines(True), r["fixed"].splitlines(True), r["path"], r["path"])))
            else:
                with open(r["path"], "w", encoding="utf-8", newline="") as f:
                    f.write(r["fixed"])
            fixed_count += sum(1 for _ in r["findings"]) - len(r["remaining"])
            r["findings"] = r["remaining"]
    findings = [{k: v for k, v in f.items() if k != "_from"} for r in ordered for f in r.get("findings", [])]
    if not args.diff:
        sys.stdout.write(render(findings, args.output_format, fixed=fixed_count, files=len(files)))
    if errors or fix_errors:
        return 2
    if args.exit_zero:
        return 0
    if args.diff:
        return 1 if fixed_count else 0
    return 1 if findings else 0


def _workspace_messages(ws: WorkspaceIndex) -> list:
    ws.files()
    return list(ws.messages)


def _merge_foreign(ordered: list) -> None:
    """Findings one file's program places in another checked file join that file's findings (once)."""
    by_abs = {os.path.abspath(r["path"]): r for r in ordered}
    for r in ordered:
        for target, found in r.get("foreign", {}).items():
            home = by_abs.get(os.path.abspath(target))
            if home is None or "error" in home:
                continue  # not among the files checked
            have = {(f["code"], f["location"]["row"], f["location"]["column"]) for f in home.get("findings", [])}
            for f in found:
                k = (f["code"], f["location"]["row"], f["location"]["column"])
                if k not in have:
                    have.add(k)
                    home.setdefault("findings", []).append(dict(f, filename=home["path"], _from=r["path"]))
    for r in ordered:
        if r.get("findings"):
            r["findings"].sort(key=lambda f: (f["location"]["row"], f["location"]["column"], f["code"]))


def _apply_foreign_fixes(ordered: list, mode: str) -> None:
    """``--fix`` for findings another file's program placed in a checked file (the `.detach()` in model.py
    that starves what train.py trains): applied to that file when its own fixes left it unchanged (their
    positions are the file's as read); otherwise they stay reported."""
    import ast

    from gradguard.core.model import Edit
    from gradguard.core.source import Pos

    for r in ordered:
        foreign = [f for f in r.get("findings", []) if f.get("_from")]
        if not foreign:
            continue
        usable = [f for f in foreign if f.get("fix") and (f["fix"]["applicability"] == "safe" or mode == "unsafe")]
        if "fixed" in r or r["path"].endswith(".ipynb") or not usable:
            if "remaining" in r:
                have = {(f["code"], f["location"]["row"], f["location"]["column"]) for f in r["remaining"]}
                r["remaining"].extend(f for f in foreign if (f["code"], f["location"]["row"], f["location"]["column"]) not in have)
            continue
        try:
            text, _ = read_source(r["path"])
        except (OSError, ValueError):
            continue
        src = SourceText(text, r["path"])
        edits = [
            Edit(Pos(e["location"]["row"], e["location"]["column"] - 1), Pos(e["end_location"]["row"], e["end_location"]["column"] - 1), e["content"])
            for f in usable
            for e in f["fix"]["edits"]
        ]
        new = apply_edits(src, edits)
        try:
            ast.parse(new)
        except (SyntaxError, ValueError):
            continue
        if new != text:
            r["fixed"], r["original"] = new, text
            r["remaining"] = [f for f in r["findings"] if f not in usable]


def _load_config(args) -> Config:
    path = args.config or find_pyproject(args.paths[0] if args.paths else ".")
    cfg = load_pyproject(path) if path else Config()
    # the flags are strict (a typo must not silently run every rule); pyproject.toml stays lenient
    if args.select is not None:
        cfg.select = _codes_flag("--select", args.select) or None
    if args.ignore is not None:
        cfg.ignore = cfg.ignore + _codes_flag("--ignore", args.ignore)
    return cfg


def _codes_flag(flag: str, value: str) -> list:
    from gradguard.rules import ALL_CODES

    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    if not codes:
        raise UsageError(f"{flag} needs rule codes or prefixes, e.g. {flag} GG201,GG3")
    out = []
    for code in codes:
        if code == "ALL":
            code = "GG"
        if not any(c.startswith(code) for c in ALL_CODES):
            raise UsageError(f"{flag}: unknown rule code {code!r}: no rule code starts with it (see `gradguard rule --all`)")
        out.append(code)
    return out
