"""Structural rules of the code base: rules share code only through the core (never one rule importing
another), and every kind of gradient cut the flow engine produces is reported by exactly one rule."""
import ast
import glob
import os

from gradguard.core.torchapi import CUT_FUNCTIONS, CUT_METHODS
from gradguard.rules import ALL_RULES
from gradguard.rules._cuts import ROUND_TRIP_METHODS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES_DIR = os.path.join(ROOT, "server", "gradguard", "rules")
FLOW = os.path.join(ROOT, "server", "gradguard", "core", "flow.py")

# Cut kinds core/flow.py creates from literals (``cut_value(v, "<kind>", ...)``, ``GradMode(False, "<kind>", ...)``
# whose mode becomes ``Cut(self.mode.kind, ...)``, ``CUT_FUNCTIONS.get(q, "rewrap")``); the rest come from the
# CUT_METHODS / CUT_FUNCTIONS tables.
FLOW_KINDS = {"data", "detach", "python", "rewrap", "no_grad", "inference", "nondiff", "cast", "compare", "zero", "item", "numpy", "dropped", "nograph", "reentrant"}
CUT_RULES = {"GG201", "GG202", "GG203", "GG501"}


def _rule_files():
    files = sorted(glob.glob(os.path.join(RULES_DIR, "gg*.py")))
    assert files, RULES_DIR
    return files


def _imported_rule_modules(path: str) -> set:
    """Names of ``gradguard.rules.gg*`` modules imported by the file at ``path`` (absolute or relative)."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            elif node.level == 1:  # inside gradguard/rules/
                base = "gradguard.rules" + (f".{node.module}" if node.module else "")
            else:
                base = ""
            mods = [base, *(f"{base}.{a.name}" for a in node.names)]
        else:
            continue
        for m in mods:
            parts = m.split(".")
            if len(parts) >= 3 and parts[:2] == ["gradguard", "rules"] and parts[2].startswith("gg"):
                out.add(parts[2])
    own = os.path.splitext(os.path.basename(path))[0]
    return out - {own}


def test_no_rule_imports_another_rule():
    offenders = {}
    for path in _rule_files():
        imported = _imported_rule_modules(path)
        if imported:
            offenders[os.path.basename(path)] = sorted(imported)
    assert not offenders, f"rules import other rules (move the shared helpers into gradguard.core): {offenders}"


def _literal(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _flow_literal_kinds() -> set:
    """Cut kinds written as string literals in core/flow.py."""
    tree = ast.parse(open(FLOW, encoding="utf-8").read(), FLOW)
    kinds = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.id if isinstance(f, ast.Name) else (f.attr if isinstance(f, ast.Attribute) else "")
        kw = {k.arg: k.value for k in node.keywords}
        if name == "cut_value":
            arg = node.args[1] if len(node.args) > 1 else kw.get("kind")
        elif name == "Cut":
            arg = node.args[0] if node.args else kw.get("kind")
        elif name == "GradMode":
            # only a disabled mode becomes a cut (``GradMode(True, "enable_grad")`` marks grad turned on)
            if node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value is True:
                continue
            arg = node.args[1] if len(node.args) > 1 else kw.get("kind")
        elif name == "get" and isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in ("CUT_METHODS", "CUT_FUNCTIONS"):
            arg = node.args[1] if len(node.args) > 1 else None
        else:
            continue
        lit = _literal(arg) if arg is not None else None
        if lit:
            kinds.add(lit)
    return kinds


def test_every_cut_kind_has_exactly_one_rule():
    flow_kinds = _flow_literal_kinds()
    assert flow_kinds <= FLOW_KINDS, f"core/flow.py creates cut kinds missing from FLOW_KINDS: {sorted(flow_kinds - FLOW_KINDS)}"
    produced = set(CUT_METHODS.values()) | set(CUT_FUNCTIONS.values()) | FLOW_KINDS | set(ROUND_TRIP_METHODS.values())

    owners = {r.code: frozenset(r.cut_kinds) for r in ALL_RULES if getattr(r, "cut_kinds", None)}
    assert set(owners) == CUT_RULES, f"rules declaring cut_kinds: {sorted(owners)}"

    claimed: dict = {}
    for code, kinds in sorted(owners.items()):
        for k in kinds:
            claimed.setdefault(k, []).append(code)
    shared = {k: codes for k, codes in claimed.items() if len(codes) > 1}
    assert not shared, f"cut kinds reported by more than one rule: {shared}"
    unowned = produced - set(claimed)
    assert not unowned, f"cut kinds no rule reports: {sorted(unowned)}"
    unknown = set(claimed) - produced
    assert not unknown, f"rules claim cut kinds the flow engine never produces: {sorted(unknown)}"
