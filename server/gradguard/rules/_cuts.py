"""Shared reporting for the rules built on GradientFlow cuts (GG201, GG202, GG203, GG501)."""
from __future__ import annotations

import ast
from collections.abc import Iterable

from gradguard.core.astindex import walk_nodes
from gradguard.core.facts import FileFacts
from gradguard.core.model import Finding, Severity
from gradguard.core.modules import self_factor
from gradguard.core.starvation import Starvation, display_root, find_starvations, switched_on_by
from gradguard.core.torchapi import CUT_METHODS
from gradguard.fixes import fix, replace_node

# the tensor methods that leave torch for NumPy or Python (each is its own cut kind in CUT_METHODS)
ROUND_TRIP_METHODS = {m: k for m, k in CUT_METHODS.items() if k in ("numpy", "item", "tolist")}


def effective_cut(facts: FileFacts, st: Starvation) -> tuple:
    """(kind, node): a ``.detach()`` that only feeds ``.cpu().numpy()`` / ``.item()`` is a round trip."""
    return effective_cut_of(facts, st.cut.kind, st.cut.node)


def sole_cut(st: Starvation, kinds) -> bool:
    """Are ``st``'s cut and the other cuts of ``kinds`` (each reported with its own fix by the same rule) all
    that stands between its roots and the loss? Not when the same roots also reach the loss only through a cut
    of another kind (a custom Function returning None for them): removing these restores nothing."""
    roots = set(st.roots)
    # (gradients taken without a graph, ``torch.autograd.grad(loss, x_adv)`` of an attack, are another path only when they
    # are all there is: beside a cut of the direct path they are the attack's own, made on purpose, and removing the direct
    # path's cut restores the gradient)
    others = [c for r, c in st.site.loss.cut if r in roots and c.node is not st.cut.node and c.kind not in kinds]
    return all(c.kind == "nograph" for c in others) and (not others or st.cut.kind != "nograph")


def other_cuts_where(st: Starvation, kinds, facts: FileFacts | None = None) -> str:
    """`` (line 12, 30)``: the lines of the cuts of other kinds that also stand between ``st``'s roots and the loss (with
    ``facts``: for a cut a flag argument turns on, the line of that argument; none for one a flag leaves off)."""
    roots = set(st.roots)
    lines = set()
    for r, c in st.site.loss.cut:
        if r not in roots or c.node is st.cut.node or c.kind in kinds or not hasattr(c.node, "lineno") or (c.kind == "nograph" and st.cut.kind != "nograph"):
            continue
        switch = switched_on_by(facts, c) if facts is not None and c.via else None
        if switch is not None and switch[1] is None:
            continue
        lines.add(switch[1].lineno if switch is not None else c.node.lineno)
    others = sorted(lines)
    return f" (line {', '.join(str(n) for n in others)})" if others else ""


def loss_label(facts: FileFacts, st: Starvation) -> str:
    return st.site.label


def roots_label(roots: list) -> str:
    names = [f"`{display_root(r)}`" for r in roots[:4]]
    more = f" and {len(roots) - 4} more" if len(roots) > 4 else ""
    return ", ".join(names) + more


def related_for(facts: FileFacts, st: Starvation) -> list:
    rel: list = []
    for call in st.cut.via:
        if isinstance(call, ast.Subscript):
            rel.append((call, "the cut value reaches the loss only as this index (an index carries no gradient)"))
        else:
            rel.append((call, "the cut value reaches the loss through this call"))
    # the cut value wrapped again into a new leaf (``torch.tensor(value, requires_grad=True)``): that is what silenced
    # "element 0 of tensors does not require grad", and it goes with the cut
    # (also in the helper the cut value came through: ``return torch.tensor(coords, requires_grad=True)``)
    flows = [st.flow, *(f for f in (*facts.flow.all_flows(), *facts.flow.context_flows) if f is not st.flow)] if st.cut.via else [st.flow]
    wrapped: set = set()
    for fl in flows:
        for ev in fl.events:
            if ev.what == "leaf_ctor" and ev.value is not None and ev.node is not st.cut.node and id(ev.node) not in wrapped and any(c.node is st.cut.node for _, c in ev.value.cut):
                wrapped.add(id(ev.node))
                rel.append((ev.node, "wrapped again here as a new leaf: backward() runs without an error, but reaches only that leaf"))
    rel.extend(_uses_of_bound_copy(facts, st.cut.node) if st.cut.kind in ("detach", "data") else [])
    made = _frozen_zero_factor_made(facts, st.cut.node) if st.cut.kind == "zero" else None
    if made is not None:
        rel.append((made, "made here: all zeros, and frozen (`requires_grad=False`); nothing in the file changes it"))
    rel.append((st.site.node, f"{st.site.implicit} backpropagates this loss" if st.site.implicit else "backward() through the loss here"))
    return rel


def _uses_of_bound_copy(facts: FileFacts, node: ast.AST) -> list:
    """``u_hat_detached = u_hat.detach()`` read in several places of its function: each read (up to three), since the
    line to change may be one of them (the copy meant for one use, taken by another that feeds the loss)."""
    st = facts.parent(node)
    if not (isinstance(st, ast.Assign) and st.value is node and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)):
        return []
    name = st.targets[0].id
    fn = facts.enclosing(st, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    reads = [n for n in walk_nodes(fn) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) and n.lineno > st.lineno]
    if len(reads) < 2:
        return []
    return [(n, f"the detached copy `{name}` is used here") for n in sorted(reads, key=lambda n: (n.lineno, n.col_offset))[:3]]


def _frozen_zero_factor_made(facts: FileFacts, node: ast.AST):
    """The ``nn.Parameter(torch.zeros(...), requires_grad=False)`` call a product's factor ``self.<attr>`` was made by."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.MatMult))):
        return None
    cls = facts.enclosing(node, (ast.ClassDef,))
    info = facts.modules.classes.get(cls.name) if isinstance(cls, ast.ClassDef) else None
    if info is None:
        return None
    for e in (node.left, node.right):
        attr = self_factor(e)
        if attr is not None and attr in info.attr_values and facts.modules.frozen_zero_parameter(info.name, attr, facts.tree, facts.own_text):
            return info.attr_values[attr][0]
    return None


def _test_text(facts: FileFacts, test: ast.If) -> str:
    """``if self.current_epoch < self.warmup_epochs`` (the test of the ``if``, when short), else ""."""
    text = facts.text(test.test)
    return f"if {text}" if len(text) <= 60 and "\n" not in text else ""


def branch_message(facts: FileFacts, st: Starvation, what: str) -> tuple:
    """(message, bound): the finding for a cut that leaves the loss without a gradient path on one branch only
    (``st.branch``): the ``if`` without ``else`` that adds the only terms with a path, or the branch that binds the
    loss to a cut value; ``bound`` labels that branch as related information."""
    assert st.branch is not None
    test, first = st.branch
    shown = f" (`{_test_text(facts, test)}`)" if _test_text(facts, test) else ""
    gets = "gets" if len(st.roots) == 1 else "get"
    if first is test:  # (the ``if`` adds the only terms with a path; without an ``else``)
        return (f"{what} leaves {loss_label(facts, st)} with no gradient path whenever the `if` at line {test.lineno}{shown} does not run: "
                f"backward() then raises, and {roots_label(st.roots)} {gets} no gradient",
                "the only terms with a gradient path are added here, when the test is true")
    return (f"{what} leaves {loss_label(facts, st)} with no gradient path on the branch at line {first.lineno}{shown}: backward() raises whenever "
            f"that branch runs, and {roots_label(st.roots)} {gets} no gradient there",
            "the loss is bound here when this branch runs")


def _switched_on_finding(rule, facts: FileFacts, st: Starvation, switch: tuple, what: str, node: ast.AST) -> Finding:
    """The cut runs only when a flag parameter is true, and this call turns it on (core.starvation.switched_on_by): the
    finding goes on the argument, where the fix goes (leave the flag at its default), with the cut as related information."""
    call, arg, flag = switch
    kw = next((k for k in call.keywords if k.value is arg), None)
    shown = facts.text(kw) if kw is not None else f"`{flag}`={facts.text(arg)}"
    fn = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    where = f"in `{fn.name}`" if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) else ""
    others = "" if sole_cut(st, {st.cut.kind}) else f"; the other paths are cut too{other_cuts_where(st, {st.cut.kind}, facts)}"
    message = (f"`{shown}` turns on the {what} at line {getattr(node, 'lineno', 0)} {where}, which cuts "
               f"{'the only' if not others else 'one'} gradient path from {roots_label(st.roots)} to {loss_label(facts, st)}{others}: "
               f"{'it gets' if len(st.roots) == 1 else 'they get'} no gradient")
    explanation = (f"The cut runs only when `{flag}` is true, and this call passes it: the loss backpropagated here reaches "
                   f"{roots_label(st.roots)} only through the cut. Leave the flag at its default in the call that computes this loss "
                   "(keep it where a loss must not train them).")
    fixes = [lambda: fix(f"Leave `{flag}` off in this call (pass False)", replace_node(facts, arg, "False"), unsafe=True)]
    return rule.finding(facts, kw if kw is not None else arg, message, severity=rule.severity,
                        related=[(node, f"the cut `{flag}` turns on"), *related_for(facts, st)], fixes=fixes, explanation=explanation)


def cut_findings(rule, facts: FileFacts, kinds: set[str] | frozenset[str], describe, fixes_for=None, skip: frozenset | set = frozenset(), related_extra=None) -> Iterable[Finding]:
    """Yield one finding per cut site of ``kinds`` that starves trained parameters (but the cut nodes in ``skip``);
    ``related_extra(kind, node)`` adds the rule's own related locations (where its fix goes, when elsewhere)."""
    seen = set(skip)
    for st in find_starvations(facts):
        kind, node = effective_cut(facts, st)
        if kind not in kinds:
            continue
        switch = switched_on_by(facts, st.cut) if st.branch is None else None
        key = id(switch[1]) if switch is not None else id(node)
        if key in seen or id(node) in skip:
            continue
        seen.add(key)
        what = describe(kind, node, st)
        if switch is not None:
            yield _switched_on_finding(rule, facts, st, switch, what, node)
            continue
        if st.branch is not None:
            test, first = st.branch
            message, bound = branch_message(facts, st, what)
            if first is test:  # (the ``if`` adds the only terms with a path; without an ``else``)
                explanation = (
                    "Only the terms the `if` adds give the loss a gradient path: when its test is false (a warm-up phase before "
                    "an adversarial term starts), `backward()` raises `RuntimeError: element 0 of tensors does not require grad "
                    "and does not have a grad_fn`."
                )
            else:
                explanation = (
                    "The loss is bound on one branch of an `if` to a value with no gradient path: when that branch runs, `backward()` "
                    "raises `RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn`."
                )
            severity = Severity.WARNING  # (whether the branch runs depends on values the analysis does not know)
            fixes = fixes_for(kind, node, st) if fixes_for else []
            span = kind in ("detach", "data", "numpy", "item", "tolist", "cast") or (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and facts.imports.qualname(node.func) is None)
            related = [(first, bound), *related_for(facts, st), *(related_extra(kind, node) if related_extra else ())]
            yield rule.finding(facts, node, message, severity=severity, related=related, fixes=fixes, explanation=explanation, method_span=span)
            continue
        if st.unused_input:
            message = (f"{what} cuts the only gradient path from {roots_label(st.roots)} to the outputs of `torch.autograd.grad` at line "
                       f"{st.site.line}, which {'is' if len(st.roots) == 1 else 'are'} among its inputs: the call raises")
            severity = Severity.ERROR
            explanation = (
                "`torch.autograd.grad(outputs, inputs)` raises `RuntimeError: One of the differentiated Tensors appears to not have "
                f"been used in the graph` when an input does not reach the outputs: {roots_label(st.roots)} reach them only through "
                "this cut (pass `allow_unused=True` only if a None gradient is really meant)."
            )
        elif st.no_path:
            message = f"{what} leaves {loss_label(facts, st)} with no gradient path: backward() raises and {roots_label(st.roots)} {'gets' if len(st.roots) == 1 else 'get'} no gradient"
            severity = Severity.ERROR
            explanation = (
                f"At run time the loss does not require grad, so `backward()` raises "
                f"`RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn`; "
                f"{roots_label(st.roots)} never receive a gradient."
            )
        elif not sole_cut(st, kinds):
            # the same parameters also reach the loss through a cut of another kind (reported by its own rule)
            where = other_cuts_where(st, kinds, facts)
            message = (f"{what} cuts one gradient path from {roots_label(st.roots)} to {loss_label(facts, st)}; the other paths are cut too"
                       f"{where}: {'it gets' if len(st.roots) == 1 else 'they get'} no gradient")
            severity = rule.severity
            explanation = (
                f"`backward()` runs, but every path from {roots_label(st.roots)} to the loss is cut, this one among them, so their "
                f"`.grad` stays None (or zero); each cut must go for them to train."
            )
        else:
            message = f"{what} cuts the only gradient path from {roots_label(st.roots)} to {loss_label(facts, st)}: {'it gets' if len(st.roots) == 1 else 'they get'} no gradient"
            severity = rule.severity
            explanation = (
                f"`backward()` runs, but {roots_label(st.roots)} reach the loss only through this cut, so their "
                f"`.grad` stays None (or zero) and the optimizer never changes them."
            )
        fixes = fixes_for(kind, node, st) if fixes_for else []
        span = kind in ("detach", "data", "numpy", "item", "tolist", "cast") or (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and facts.imports.qualname(node.func) is None)
        related = [*related_for(facts, st), *(related_extra(kind, node) if related_extra else ())]
        yield rule.finding(facts, node, message, severity=severity, related=related, fixes=fixes, explanation=explanation, method_span=span)


# the cuts after which GG202 reports a dead loss term (GG203 reports those of CONSTANT_TERM_CUTS itself). A term a
# ``.detach()`` / ``.data`` leaves constant while its parameters train through the other terms is not reported: such a
# stop-gradient is usually meant (SAC's temperature loss on detached log-probabilities), unless it feeds NumPy
LEFT_TORCH_CUTS = frozenset({"detach", "data", "numpy", "item", "tolist", "python", "rewrap"})


def dead_term_findings(rule, facts: FileFacts, describe, fix_builder=None) -> Iterable[Finding]:
    """A term of a backpropagated loss left without any gradient path by a cut of ``rule.cut_kinds`` (a ``.detach()``
    that only feeds ``.numpy()`` counts as the round trip: the first cut of the term decides), while the other term trains: the term is a constant of
    the loss (core.deadterms). ``describe(kind, node)``: how the message names the cut; ``fix_builder(dead_term, kind,
    node)``: the fixes, if any. Warnings: the parameters may still train through the other terms, but this objective
    is never optimized."""
    from gradguard.core.deadterms import dead_terms

    seen: set = set()
    for dt in dead_terms(facts, LEFT_TORCH_CUTS):
        kind, node = effective_cut_of(facts, dt.cut.kind, dt.cut.node)
        if kind not in rule.cut_kinds or id(node) in seen:
            continue
        seen.add(id(node))
        term = " ".join(facts.text(dt.term).split())
        term = term if len(term) <= 40 else term[:37] + "..."
        yield rule.finding(
            facts,
            node,
            f"{describe(kind, node)} leaves the term `{term}` of the loss backpropagated at line {dt.site.node.lineno} without a "
            "gradient path: it is a constant of that loss, adds nothing to any gradient, and its objective is never optimized "
            "(only the other terms train)",
            severity=Severity.WARNING,
            related=[(dt.event.node, "the constant term is added to the loss here"), (dt.site.node, "backward() through the loss here")],
            fixes=fix_builder(dt, kind, node) if fix_builder is not None else [],
            explanation="A loss term computed through `.detach()`, `.data`, `.item()`, `.numpy()` / `torch.tensor(...)` has no "
            "`grad_fn`: `backward()` treats it as a constant, so the model trains on the other terms only. Compute the term "
            "with torch ops on the tensors that carry the graph, or drop it from the loss if it is only for logging.",
        )


def effective_cut_of(facts: FileFacts, kind: str, node: ast.AST) -> tuple:
    """(kind, node): a ``.detach()`` that only feeds ``.cpu().numpy()`` / ``.item()`` is a round trip."""
    if kind in ("detach", "data"):
        cur = node
        while True:
            parent = facts.parent(cur)
            if isinstance(parent, ast.Attribute) and parent.value is cur:
                call = facts.parent(parent)
                if isinstance(call, ast.Call) and call.func is parent:
                    if parent.attr in ROUND_TRIP_METHODS:
                        return ROUND_TRIP_METHODS[parent.attr], call
                    if parent.attr in ("cpu", "clone", "contiguous", "float", "double", "to"):
                        cur = call
                        continue
            break
    return kind, node
