"""Which cuts actually starve parameters that a backward pass and an optimizer want trained.

A root is *starved* at a backward site when it reaches the loss only through cuts. It is reported when
(a) the loss has no gradient path at all (backward() raises), or (b) an optimizer steps that root, or
(c) no optimizer is visible and the root was created in the function that calls backward() (for a tensor,
when something may want its gradient: see ``leaf_wanted``); and never
when the same root reaches any other backpropagated loss of that function (GAN / stop-gradient designs).
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Optional

from gradguard.core.astindex import statements_of_type, walk_nodes
from gradguard.core.facts import FileFacts
from gradguard.core.flow import UNKNOWN, BackwardSite, Cut, FunctionFlow, configured_branches, per_part_branches, resolve_getters
from gradguard.core.torchapi import (
    CHANGES_REQUIRES_GRAD,
    MODULE_WRAPPERS,
    PARAMETER_CTORS,
    PARAMETERLESS_MODULE_BASES,
    WRAPPED_MODULE_ATTRS,
    is_module_ctor,
)
from gradguard.core.training import covered_by, stepped_after, stepped_after_callers, unknown_step_after


@dataclass
class Starvation:
    cut: Cut
    roots: list  # starved root ids
    site: BackwardSite
    flow: FunctionFlow
    no_path: bool  # the loss has no gradient path left: backward() raises
    covered_by_optimizer: bool = False
    # (the ``if``, the branch's first statement): the loss has no gradient path only when this branch of an ``if`` runs
    branch: Optional[tuple] = None
    # the roots are inputs ``torch.autograd.grad`` is asked for (without ``allow_unused=True``) that its outputs do not
    # reach: the call raises
    unused_input: bool = False


def _covered(root: str, optimizers: list) -> bool:
    return covered_by(root, optimizers)


def _created(root: str, fl: FunctionFlow) -> bool:
    return any(root == c or root.startswith(c + ".") or root.startswith(c + "[") for c in fl.created)


def frozen_paths(facts: FileFacts) -> set:
    """Attribute paths (``target_encoder``, ``model.backbone``) whose parameters the file sets to
    ``requires_grad=False``: nothing wants them trained, so a cut in front of them starves nothing."""
    cached = getattr(facts, "_frozen_paths", None)
    if cached is not None:
        return cached
    out: set = set()
    on: set = set()
    classes: dict = {}  # frozen path -> the in-file class of the module frozen whole there
    replaced: set = set()  # parts the same code swaps for new layers (``blk.qkv = LoRALinear(blk.qkv)``)
    swaps: list = []  # (path, flow, order) of each new layer put in
    freezes: list = []  # (path, flow, order) of each freeze
    if facts.text_index.anywhere(CHANGES_REQUIRES_GRAD):  # (its hits are what flows_matching reads next)
        flows = list(facts.flows_matching(_TOUCHES_REQUIRES_GRAD))
        # and their callers: a helper's change is an event at its call (``requires_grad_via_call``)
        # (a constructor is called by its class's name)
        helpers = sorted({(facts.flow.owner.get(id(fl.node)) or fl.node.name) if fl.node.name == "__init__" else fl.node.name for fl in flows if isinstance(fl.node, (ast.FunctionDef, ast.AsyncFunctionDef))})
        if helpers:
            seen = {id(fl) for fl in flows}
            calls = re.compile(r"\b(?:" + "|".join(re.escape(h) for h in helpers) + r")\(")
            flows += [fl for fl in facts.flows_matching(calls) if id(fl) not in seen]
        for fl in flows:
            partial_ids = None  # (read only for an event that changes requires_grad: most flows have none)
            for ev in fl.events:
                if ev.what == "replace" and ev.name:
                    replaced.add(ev.name[5:] if ev.name.startswith("self.") else ev.name)
                    if ev.value is not None and ev.value.kind == "module":
                        swaps.append((ev.name[5:] if ev.name.startswith("self.") else ev.name, fl, _order(ev)))
                setting = ev.what == "requires_grad_set" and ev.name == "requires_grad"
                call = ev.what in ("requires_grad_call", "requires_grad_via_call")  # (a helper's change, at its call)
                if not (setting or call):
                    continue
                if partial_ids is None:
                    partial_ids = per_part_branches(fl.node, facts.imports)
                    configured = configured_branches(fl, facts.imports) - _run_at_every_construction(facts, fl.node)
                if id(ev.node) in partial_ids:
                    continue  # (a freeze of some parts only: ``if not isinstance(m, LoRAAdapter):`` over ``modules()``)
                off = (setting and _constant(ev.node, facts) is False) or (call and ev.extra == "False")
                back_on = (setting and _constant(ev.node, facts) is not False) or (call and ev.extra != "False")
                if off and id(ev.node) in configured:
                    continue  # (``if not train_text_encoder: text_encoder.requires_grad_(False)``: frozen in some configurations only)
                if (off or back_on) and ev.target is not None:
                    for r in set(ev.target.live) | ({ev.target.ident} if ev.target.ident else set()):
                        path = r[5:] if r.startswith("self.") else (_kept_as(facts, fl, r) or r)
                        (out if off else on).add(path)
                        if off:
                            freezes.append((path, fl, _order(ev)))
                        if off:  # (the module itself, or each of its parameters in a loop over ``model.parameters()``)
                            origin = facts.flow.root_origins.get(r) if "." not in r else None
                            cls = ev.target.cls if r == ev.target.ident and ev.target.kind == "module" else (origin.cls if origin is not None and origin.kind == "module" else None)
                            if cls:
                                classes[path] = cls
    # a parameter a Module class makes frozen (``self.pos_embed = nn.Parameter(table, requires_grad=False)``, its one
    # assignment): a fixed table, not a part being trained
    if "requires_grad=False" in facts.source.text:
        for info in facts.modules.classes.values():
            for attr, values in info.attr_values.items():
                v = values[0] if len(values) == 1 else None
                if isinstance(v, ast.Call) and (facts.imports.qualname(v.func) or "") in PARAMETER_CTORS and any(
                        k.arg == "requires_grad" and isinstance(k.value, ast.Constant) and k.value.value is False for k in v.keywords):
                    out.add(attr)
    # a part unfrozen again (fine-tuning the head after freezing the model) is wanted trained; the rest of a module
    # frozen whole and then partly unfrozen (``for p in model.parameters(): p.requires_grad = False``, then the same
    # with ``True`` over ``model.head``) stays frozen: its other parts, where its in-file class tells them
    # a part put into a frozen module after the freeze, in the same function (``unet.requires_grad_(False)``, then
    # ``unet.mid = LoRAConv(unet.mid)``): a new layer, whose parameters require grad; the module's other parts stay frozen
    refilled: dict = {}
    for f, ffl, forder in freezes:
        for r, rfl, rorder in swaps:
            if rfl is ffl and rorder > forder and "." in r and r.startswith(f + "."):
                refilled.setdefault(f, set()).add(r[len(f) + 1:].split(".", 1)[0])
    if refilled:
        narrowed: set = set()
        for f in out:
            parts = refilled.get(f)
            if parts is None:
                narrowed.add(f)
                continue
            narrowed.update(f"{f}.{a}" for a in _class_parts(facts, classes.get(f)) if a not in parts)
        out = narrowed
    kept: set = set()
    for f in out:
        related_on = [u for u in on if is_frozen(u, {f}) or is_frozen(f, {u})]
        if not related_on:
            kept.add(f)
            continue
        if any(is_frozen(f, {u}) or u.endswith("." + f) for u in related_on):
            continue  # (unfrozen whole again, also under a longer name: ``pl_module.backbone``)
        if any(is_frozen(r, {f}) for r in replaced if "." in r) or "arg:" in f or facts.modules.swaps_layers():
            continue  # (new layers put inside it may be made after the freeze: which parts stay frozen is not known)
        for a in _class_parts(facts, classes.get(f)):
            part = f"{f}.{a}"
            if not any(is_frozen(u, {part}) or is_frozen(part, {u}) for u in related_on):
                kept.add(part)
    out = kept
    facts._frozen_paths = out  # type: ignore[attr-defined]
    return out


_TOUCHES_REQUIRES_GRAD = CHANGES_REQUIRES_GRAD


def _order(ev) -> tuple:
    """Where an event runs in its function, in source order; for an event at a helper's call, also where in the helper
    (``inject_lora(unet)`` freezing at its line 41 and swapping a layer at 42)."""
    node = ev.node
    inner = int(ev.extra) if ev.what == "replace" and ev.extra and str(ev.extra).isdigit() else getattr(ev.origin, "lineno", 0) if ev.origin is not None else 0
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0), inner)


def _run_at_every_construction(facts: FileFacts, fn: ast.AST) -> frozenset:
    """Ids of the nodes of a constructor (``__init__``) inside ``if flag:`` / ``if not flag:`` on one of its parameters
    that every construction of the class in this file runs: each call ``Cls(...)`` passes the same constant for ``flag``
    or leaves it to its constant default (``KeywordSpotter()`` with ``freeze_encoder=True``). Empty when the class is
    not built in this file, or a call passes ``*args`` / ``**kwargs``."""
    if not isinstance(fn, ast.FunctionDef) or fn.name != "__init__" or "if " not in facts.source.text:
        return frozenset()
    cls = facts.flow.owner.get(id(fn))
    if not cls:
        return frozenset()
    params = [a.arg for a in fn.args.args[1:]]
    defaults = dict(zip(params[len(params) - len(fn.args.defaults):], fn.args.defaults)) if fn.args.defaults else {}
    defaults.update({a.arg: d for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults) if d is not None})
    calls: list = [c for c in facts.walk(ast.Call) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == cls]
    if not calls or any(any(isinstance(a, ast.Starred) for a in c.args) or any(k.arg is None for k in c.keywords) for c in calls):
        return frozenset()
    out: set = set()
    for branch in statements_of_type(fn, (ast.If,)):
        test, negated = branch.test, False
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test, negated = test.operand, True
        if not isinstance(test, ast.Name) or test.id not in params or any(
                isinstance(n, ast.Name) and n.id == test.id and isinstance(n.ctx, ast.Store) for n in ast.walk(fn)):
            continue
        values = set()
        for c in calls:
            i = params.index(test.id)
            given = c.args[i] if i < len(c.args) else next((k.value for k in c.keywords if k.arg == test.id), defaults.get(test.id))
            if not isinstance(given, ast.Constant):
                break
            values.add(bool(given.value) != negated)
        else:
            if len(values) == 1:
                for part in (branch.body if values.pop() else branch.orelse):
                    out.update(id(n) for n in ast.walk(part))
    return frozenset(out)


def _kept_as(facts: FileFacts, fl, root: str) -> Optional[str]:
    """``arg:N`` (or a part of it) in a Module class's ``__init__`` that keeps that argument as ``self.<attr>``
    (``self.base = base.requires_grad_(False)``, ``self.base = base``): the same object under the instance's path
    (``base``, ``base.weight``), named like ``frozen_paths``; else None."""
    head, dot, rest = root.partition(".")
    fn = fl.node
    if not head.startswith("arg:") or not head[4:].isdigit() or getattr(fn, "name", None) != "__init__":
        return None
    info = facts.modules.classes.get(facts.flow.owner.get(id(fn)) or "")
    params = [a.arg for a in fn.args.args[1:]] if isinstance(fn, ast.FunctionDef) else []
    i = int(head[4:])
    if info is None or not info.is_module or i >= len(params):
        return None
    name = params[i]
    for attr, values in info.attr_values.items():
        if len(values) != 1:
            continue
        v = values[0]
        while isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr in ("requires_grad_", "eval", "train", "to", "cpu", "cuda"):
            v = v.func.value
        if isinstance(v, ast.Name) and v.id == name:
            return attr + dot + rest
    return None


def _class_parts(facts: FileFacts, cls: Optional[str]) -> set:
    """Every ``self.<attr>`` the in-file Module class ``cls`` and its in-file bases assign (its parts, and settings that
    hold no parameter); empty when a base is not in the file (it may register parts the file does not show)."""
    out: set = set()
    seen: set = set()
    todo = [cls] if cls else []
    while todo:
        c = todo.pop()
        info = facts.modules.classes.get(c) if c not in seen else None
        if info is None:
            continue
        seen.add(c)
        out |= info.attrs
        outside = [b for b in info.base_names if b not in facts.modules.classes]
        if any(b not in PARAMETERLESS_MODULE_BASES for b in outside):
            return set()  # (a base that may register parts of its own; framework bases that hold none are fine)
        todo += [b for b in info.base_names if b in facts.modules.classes]
    return out

_EVAL_CALL = re.compile(r"\.(?:eval\(\s*\)|train\(\s*(?:False|mode\s*=\s*False)\s*\))")
# functions that evaluate, sample or export: a part put in evaluation mode there is not being held fixed for training
_EVALUATION_FUNCTION = re.compile(r"val|test|eval|predict|infer|sampl|generat|export|visuali|log|metric|score|bench", re.IGNORECASE)


def eval_paths(facts: FileFacts) -> set:
    """Attribute paths (``target_encoder``, ``model.backbone``) of parts of a model the file puts in evaluation mode
    (``self.target_encoder.eval()``, ``model.backbone.train(False)``) outside evaluation code (a function named for
    validation, testing, sampling..., or a ``no_grad`` / ``inference_mode`` block): the program holds that part fixed
    while it trains the rest (a linear probe's backbone, a frozen teacher). The whole model (``model.eval()``) is not a
    part. Named like ``frozen_paths``."""
    cached = getattr(facts, "_eval_paths", None)
    if cached is not None:
        return cached
    out: set = set()
    if _EVAL_CALL.search(facts.source.text):
        # every call that can count names ``eval`` or ``train`` as its attribute: in an ASCII text (an attribute's name
        # is spelled there as the tree has it) it sits in a statement whose lines hold that word, or in a decorator; the
        # order of the calls does not matter, nor a call seen twice (a set of paths). Every call of the file otherwise.
        calls: Iterable[Any] = (
            [*facts.nodes_near(ast.Call, ("eval", "train")), *facts.decorator_calls] if facts.source.text.isascii() else facts.walk(ast.Call)
        )
        for node in calls:
            f = node.func
            if not (isinstance(f, ast.Attribute) and f.attr in ("eval", "train") and isinstance(f.value, ast.Attribute)):
                continue
            if f.attr == "eval" and (node.args or node.keywords):
                continue
            if f.attr == "train":
                flag = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "mode"), None)
                if not (isinstance(flag, ast.Constant) and flag.value is False):
                    continue
            path = _attr_path(f.value)
            if path is None or path == "self":
                continue
            if _in_evaluation_code(facts, node):
                continue
            out.add(path[5:] if path.startswith("self.") else path)
    facts._eval_paths = out  # type: ignore[attr-defined]
    return out


def _attr_path(node: ast.AST):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or not parts:
        return None
    return ".".join([node.id, *reversed(parts)])


def _in_evaluation_code(facts: FileFacts, node: ast.AST) -> bool:
    cur = facts.parent(node)
    while cur is not None:
        if isinstance(cur, (ast.With, ast.AsyncWith)) and any(re.search(r"no_grad|inference_mode", ast.unparse(i.context_expr)) for i in cur.items):
            return True
        if isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef)) and _EVALUATION_FUNCTION.search(cur.name):
            return True
        cur = facts.parent(cur)
    return False


def hand_set_paths(facts: FileFacts) -> set:
    """Attribute paths (``target``, ``model.target_network``) whose parameters the program writes by hand, outside
    autograd, from values that are not gradients: an EMA / Polyak-averaged / copied target network. The program
    sets them itself, so a cut in front of them (the target's forward under ``no_grad``) starves nothing, even
    when an optimizer over ``model.parameters()`` holds them (it skips parameters without a gradient)."""
    cached = getattr(facts, "_hand_set_paths", None)
    if cached is not None:
        return cached
    out: set = set()
    from gradguard.core.flow import HAND_WRITE_WORDS, hand_written_roots

    if HAND_WRITE_WORDS.search(facts.source.text):

        for fl in [*facts.flows, *facts.flow.context_flows]:
            for ev in fl.events:
                for r in hand_written_roots(ev, fl.node):
                    if not r.startswith("arg:") and r not in ("self", "?"):
                        out.add(r[5:] if r.startswith("self.") else r)
    facts._hand_set_paths = out  # type: ignore[attr-defined]
    return out


@dataclass
class HelperFreeze:
    """A helper's requires_grad change seen at a call: ``freeze_backbone(model)`` whose body runs
    ``for p in model.parameters(): p.requires_grad = False`` changes ``model`` where it is called."""

    node: ast.AST  # the call (what runs, in the caller's order)
    report: ast.AST  # the statement in the helper that changes requires_grad
    event: object  # the helper's event
    root: str  # the caller's path the change applies to


def helper_freezes(facts: FileFacts, restructuring: bool = False) -> list:
    """(caller flow, HelperFreeze) for every call of a module-level function whose flow changes requires_grad on
    what an argument holds (its roots ``arg:N...``), with the argument's dotted path substituted. ``restructuring``:
    also helpers that put new layers into what they froze (their new layers require grad; the rest stays frozen)."""
    key = "_helper_freezes_all" if restructuring else "_helper_freezes"
    cached = getattr(facts, key, None)
    if cached is not None:
        return cached
    out: list = []
    setattr(facts, key, out)
    helpers: dict = {}
    for fl in facts.flows_matching(_TOUCHES_REQUIRES_GRAD):
        fn = fl.node
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn not in facts.tree.body:
            continue
        evs = [ev for ev in fl.events if ev.what in ("requires_grad_set", "requires_grad_call") and ev.target is not None and any(r.startswith("arg:") for r in ev.target.live)]
        if evs and (restructuring or not _restructures(fn)):
            helpers[fn.name] = (fn, evs)
    if not helpers:
        return out
    for call in facts.walk(ast.Call):
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.func.id not in helpers:
            continue
        fn, evs = helpers[call.func.id]
        params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
        scope = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
        caller = facts.flow.flow(scope)
        for ev in evs:
            for r in ev.target.live:
                if not r.startswith("arg:"):
                    continue
                head, _, rest = r[4:].partition(".")
                if not head.isdigit():
                    continue
                i = int(head)
                arg = call.args[i] if i < len(call.args) else next((k.value for k in call.keywords if i < len(params) and k.arg == params[i]), None)
                path = _dotted(arg)
                if not path and i < len(params) and _returns_param(facts, fn, params[i]):
                    # ``model = prepare(Net())``: the helper returns what it froze, bound here to a name
                    st = facts.parent(call)
                    if isinstance(st, ast.Assign) and st.value is call and len(st.targets) == 1:
                        path = _dotted(st.targets[0])
                if path:
                    path = _unwrapped(facts, scope, path)
                    origin = facts.flow.root_origins.get(path.split(".")[0])
                    rest = resolve_getters(facts.flow, origin.cls if origin is not None and "." not in path else None, rest) if rest else rest
                    out.append((caller, HelperFreeze(call, ev.node, ev, path + ("." + rest if rest else ""))))
    return out


def _returns_param(facts: FileFacts, fn: ast.AST, name: str) -> bool:
    """Does every ``return`` of ``fn`` (at least one) return its parameter ``name`` itself?"""
    values = facts.return_values(fn)
    return values is not None and all(isinstance(v, ast.Name) and v.id == name for v in values)


_ADDS_PARTS = {"setattr", "add_module", "register_module", "register_parameter", "register_buffer", "apply"}


def _restructures(fn: ast.AST) -> bool:
    """Does the helper also add or replace parts (``setattr(module, name, LoRALinear(child))``, ``m.head =
    nn.Linear(...)``, ``add_module``)? Then what it leaves trainable is not what it froze: not summarized."""
    for n in walk_nodes(fn):
        if isinstance(n, ast.Call):
            f = n.func
            name = f.attr if isinstance(f, ast.Attribute) else (f.id if isinstance(f, ast.Name) else "")
            if name in _ADDS_PARTS:
                return True
        elif isinstance(n, (ast.Assign, ast.AnnAssign)) and isinstance(n.value, ast.Call):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            if any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in targets):
                return True
    return False


def _unwrapped(facts: FileFacts, scope: ast.AST, path: str) -> str:
    """``model.module`` -> ``model`` when ``model`` is bound (once, in ``scope`` or at the top level) to a module wrapper
    (``nn.DataParallel(net)``, DDP, ``torch.compile``): the wrapped module's parameters are the wrapper's, and the flow
    engine names them through the wrapper."""
    head, _, rest = path.partition(".")
    first, _, tail = rest.partition(".")
    if first not in WRAPPED_MODULE_ATTRS:
        return path
    for where in (scope, facts.tree):
        values = facts.semantic.assigned_values(where, head)
        if values:
            if len(values) == 1 and isinstance(values[0], ast.Call) and (facts.imports.qualname(values[0].func) or "") in MODULE_WRAPPERS:
                return head + ("." + tail if tail else "")
            return path
    return path


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([node.id, *reversed(parts)])


def _constant(target_node, facts: FileFacts):
    stmt = facts.statement_of(target_node)
    v = getattr(stmt, "value", None)
    return v.value if isinstance(v, ast.Constant) else None


def is_frozen(root: str, frozen: set, inner: bool = True) -> bool:
    """Is the parameter root ``root`` (``model.encoder.0``) under one of the ``frozen`` paths (``frozen_paths``):
    the path itself, a part of it (``model.encoder`` frozen), or the same part reached by a longer name
    (``self.encoder`` frozen as ``encoder``); ``inner``: also a path in its middle (``a.encoder.b``)."""
    own = root.startswith("self.")
    if own:  # (``frozen_paths`` names a class's own parts without ``self.``)
        root = root[5:]
    # (a class's own part frozen in its constructor, ``self.encoder``, is that part of every instance: ``model.encoder.0``;
    # and an instance's part frozen by a script, ``model.embed``, is the class's ``self.embed`` when the class's method
    # is what a framework runs for it)
    rest = root.split(".", 1)[1] if "." in root else ""
    return any(root == f or root.endswith("." + f) or root.startswith(f + ".") or (inner and ("." + f + ".") in root)
               or (rest and "." not in f and rest.startswith(f + "."))
               or (own and "." in f and not f.startswith("arg:") and (root == f.split(".", 1)[1] or root.startswith(f.split(".", 1)[1] + ".")))
               for f in frozen if f and f != "self")


# Cuts after which the value still has a ``grad_fn`` (its gradient is zero, or a custom Function returns None
# for the input): the loss still requires grad and backward() runs; only the gradients are lost.
GRAD_FN_KEPT = frozenset({"zero", "dropped"})


def no_path_of(site: BackwardSite) -> bool:
    """Does the loss have no gradient path at all, so that backward() raises? Not when a cut that keeps a
    ``grad_fn`` (``round``, ``sign``, a custom Function's None gradient) reaches it."""
    return not site.loss.live and not any(c.kind in GRAD_FN_KEPT for _r, c in site.loss.cut)


def _runs_only_when_requiring_grad(facts: FileFacts, node: ast.AST, scope: ast.AST) -> bool:
    """Is ``node`` in the body of an ``if`` whose test requires ``<something>.requires_grad`` (alone or in an
    ``and``)?"""
    child, cur = node, facts.parent(node)
    while cur is not None and cur is not scope:
        if isinstance(cur, ast.If) and any(x is child for x in cur.body):
            tests = cur.test.values if isinstance(cur.test, ast.BoolOp) and isinstance(cur.test.op, ast.And) else [cur.test]
            if any(isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in tests):
                return True
        child, cur = cur, facts.parent(cur)
    return False


def find_starvations(facts: FileFacts) -> list[Starvation]:
    cache = getattr(facts, "_starvations", None)
    if cache is not None:
        return cache
    out: list[Starvation] = []
    for fl in facts.backward_flows:
        if not fl.loss_sites:
            continue
        if facts.flow.is_autograd_function_method(fl.node):
            continue
        optimizers = facts.optimizers_for(fl)
        for site in fl.loss_sites:
            if site.dead_branch is not None and not no_path_of(site):
                out.extend(_dead_branch_starvations(facts, fl, site))
            starved = fl.starved(site)
            if not starved:
                continue
            if no_path_of(site) and _runs_only_when_requiring_grad(facts, site.node, fl.node):
                continue  # ``if loss.requires_grad: loss.backward()``: never raises, skipped by design
            stepping = stepped_after(fl, site) or (stepped_after_callers(facts, fl) if not site.implicit else [])
            if not stepping and not no_path_of(site) and unknown_step_after(fl, site):
                continue  # an optimizer the model cannot see is stepped: what this loss trains is unknown
            wanted = stepping if stepping else optimizers
            no_path = no_path_of(site)
            # ``torch.autograd.grad(outputs, inputs)`` raises for an input its outputs do not reach (unless told
            # ``allow_unused=True``): an input cut off is an error whether or not an optimizer holds it
            unused = site.wrt is not None and not no_path and _unused_raises(site.node)
            by_cut: dict = {}
            for root, cuts in sorted(starved.items()):  # sorted: the same findings, in the same order, on every run
                if not no_path and (is_frozen(root, frozen_paths(facts)) or is_frozen(root, hand_set_paths(facts))):
                    continue
                if plain_object_data(facts, fl, root) or _data_container(facts, fl, root):
                    continue
                if not no_path and _data_attribute(facts, fl, root, wanted):
                    continue
                if not no_path and not unused:
                    if fl.live_anywhere(root):
                        continue
                    covered = _covered(root, wanted)
                    if wanted and not covered:
                        continue
                    if not wanted and not (_created(root, fl) and _gradient_observed(facts, fl, root)):
                        continue
                for c in sorted(cuts, key=cut_order):
                    if c.via and _switched_off(facts, c):
                        continue  # (``if detach:`` in a callee, left off by a call on this path: the cut does not run here)
                    by_cut.setdefault(c, []).append(root)
            if no_path and len(by_cut) > 1:
                # the loss has no gradient path, and several cuts stand between it and the parameters: a cut in front of
                # frozen parts only (the real images' features under no_grad through a frozen critic) is not why; the
                # others are (``.data`` on the generated images' features)
                frozen = frozen_paths(facts)
                live = {c: [r for r in roots if not is_frozen(r, frozen)] for c, roots in by_cut.items() if not all(is_frozen(r, frozen) for r in roots)}
                if live:
                    by_cut = live
            for c, roots in by_cut.items():
                out.append(Starvation(c, sorted(set(roots)), site, fl, no_path, _covered(roots[0], optimizers), unused_input=unused))
    facts._starvations = out  # type: ignore[attr-defined]
    return out


def _unused_raises(call: ast.AST) -> bool:
    """Does this ``torch.autograd.grad(...)`` call raise for an input its outputs do not reach: ``allow_unused`` (and
    ``materialize_grads``, which implies it) not given, or given as the literal False?"""
    if not isinstance(call, ast.Call) or not isinstance(call.func, (ast.Attribute, ast.Name)):
        return False
    name = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id
    if name != "grad":
        return False  # (``autograd.backward(..., inputs=...)`` accumulates None for an unreached input: no error)
    for k in call.keywords:
        if k.arg in ("allow_unused", "materialize_grads") and not (isinstance(k.value, ast.Constant) and k.value.value is False):
            return False
        if k.arg is None:
            return False  # (``**kwargs``: not known)
    return len(call.args) < 6  # (``allow_unused`` given by position)


def _dead_branch_starvations(facts: FileFacts, fl, site) -> list:
    """The loss backpropagated at ``site`` was bound, on one branch of an ``if``, to a value whose every path to the
    parameters it came from is cut (``if self.current_epoch < warmup: loss = hist_loss(pred, target)`` built on
    ``torch.histc``): whenever that branch runs, backward() raises. One per cut, over the roots it starves that are
    not frozen on purpose (a frozen part is GG604's)."""
    if _runs_only_when_requiring_grad(facts, site.node, fl.node):
        return []
    test, first, dead = site.dead_branch
    cur = facts.parent(site.node)
    while cur is not None and cur is not fl.node:
        if isinstance(cur, (ast.If, ast.IfExp)) and not (cur.lineno <= test.lineno <= (cur.end_lineno or cur.lineno)):
            return []  # (``if phase == "train": loss.backward()``: the backward may run only where the loss has a path)
        cur = facts.parent(cur)
    frozen = frozen_paths(facts)
    by_cut: dict = {}
    for root, c in sorted(dead.cut, key=lambda rc: (rc[0], cut_order(rc[1]))):
        if root == UNKNOWN or root.startswith("arg:") or is_frozen(root, frozen) or plain_object_data(facts, fl, root):
            continue
        by_cut.setdefault(c, []).append(root)
    return [Starvation(c, sorted(set(roots)), site, fl, True, False, branch=(test, first)) for c, roots in sorted(by_cut.items(), key=lambda cr: cut_order(cr[0]))]


def _gradient_observed(facts: FileFacts, fl, root: str) -> bool:
    """Without an optimizer in view, may anything see the gradient of ``root``, a root the function made? A tensor
    the function makes with ``requires_grad=True`` (a unit test's input copied for comparison) whose ``.grad`` is
    never read, which the function does not return or store, in a file that builds no optimizer, has nothing that
    wants its gradient: a cut in front of it starves nothing. Modules, and anything else, count as observed."""
    base = root.replace("[]", "").split(".")[0]
    origin = facts.flow.root_origins.get(base)
    if origin is None or origin.kind != "tensor" or "." in root:
        return True
    return leaf_wanted(facts, fl.node, base)


def leaf_wanted(facts: FileFacts, scope: ast.AST, name: str, elements: bool = False) -> bool:
    """May anything want the tensor the local ``name`` of ``scope`` holds to be a leaf that gets ``.grad``? Yes when
    the file builds an optimizer, when ``scope`` reads ``name.grad``, returns or yields it, or stores it in an
    attribute or a container; no for a tensor only used as a value (a unit test's ``requires_grad=True`` input that
    is copied for comparison and never has its gradient read). No when ``scope`` sets ``name.grad`` itself
    (``x1.grad = torch.cat([c.grad for c in chunks])``): the function computes that gradient by hand."""
    if any(isinstance(n, ast.Attribute) and n.attr == "grad" and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name) and n.value.id == name
           for n in walk_nodes(scope)):
        return False
    if facts.optimizer_constructions:
        return True
    if elements:
        # ``deltas = [x.requires_grad_().to(dev) for x in xs]``: the elements are read as ``deltas[i]`` or through a name
        # iterating over the list; ``retain_grad()`` on them keeps their ``.grad`` (each gets one anyway)
        aliases = _element_names(scope, name)
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "retain_grad" and _is_element(n.func.value, name, aliases)
               for n in walk_nodes(scope)):
            return False
        if any(isinstance(n, ast.Attribute) and n.attr == "grad" and _is_element(n.value, name, aliases) for n in walk_nodes(scope)):
            return True
    for n in _same_name_nodes(scope, name):
        if isinstance(n, ast.Attribute) and n.attr == "grad" and isinstance(n.value, ast.Name) and n.value.id == name:
            return True
        if isinstance(n, (ast.Return, ast.Yield)) and n.value is not None and any(isinstance(m, ast.Name) and m.id == name for m in walk_nodes(n.value)):
            return True
        if isinstance(n, ast.Assign) and any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in n.targets) and any(isinstance(m, ast.Name) and m.id == name for m in walk_nodes(n.value)):
            return True
    return False


def _element_names(scope: ast.AST, name: str) -> set:
    """Names bound to the elements of the list ``name`` by a loop or comprehension over it (``for d in deltas``,
    ``for a, d in zip(xs, deltas)``)."""
    out = set()
    for n in walk_nodes(scope):
        if isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)):
            it, target = n.iter, n.target
            if isinstance(it, ast.Name) and it.id == name and isinstance(target, ast.Name):
                out.add(target.id)
            elif isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "zip" and isinstance(target, ast.Tuple):
                for a, t in zip(it.args, target.elts):
                    if isinstance(a, ast.Name) and a.id == name and isinstance(t, ast.Name):
                        out.add(t.id)
    return out


def _is_element(node: ast.AST, name: str, aliases: set) -> bool:
    return (isinstance(node, ast.Name) and node.id in aliases) or (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == name)


def _same_name_nodes(scope: ast.AST, name: str):
    """The nodes of ``scope`` where ``name`` means the scope's own variable: not inside a nested function that binds
    ``name`` itself (its parameter or a local of that name: ``def forward(ctx, x, table): return x * table``)."""
    stack = [scope]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and _binds(child, name):
                continue
            stack.append(child)


def _binds(fn: ast.AST, name: str) -> bool:
    a = fn.args  # type: ignore[attr-defined]
    if any(p.arg == name for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, *(x for x in (a.vararg, a.kwarg) if x is not None))):
        return True
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in walk_nodes(fn))


def plain_object_data(facts: FileFacts, fl, root: str) -> bool:
    """Is ``root`` (``self.sampler.examples``) data a plain object computes itself (a replay buffer of a sampler the
    module holds, ``self.sampler = Sampler(...)``), reached from the class whose method ``fl`` is? Not a parameter:
    nothing it holds is trained (``ModuleIndex.plain_attr_is_data``)."""
    parts = root.replace("[]", "").split(".")
    modules = facts.flow.modules
    cls: Optional[str]
    if len(parts) >= 2 and parts[0] != "self":
        # ``trainer.center`` of ``trainer = DinoTrainer(...)``, an object of an in-file plain class made here
        origin = facts.flow.root_origins.get(parts[0])
        if origin is None or origin.kind not in ("instance", "module") or not origin.cls:
            return False
        cls = origin.cls
        parts = ["self", *parts[1:]]
        if len(parts) == 2:
            return modules.plain_attr_is_data(cls, parts[1])
    else:
        if len(parts) < 2 or parts[0] != "self":
            return False
        cls = facts.flow.owner.get(id(fl.node))
        if len(parts) == 2:
            # ``self.loader`` of a plain object (a trainer, a checker) that builds it itself
            return cls is not None and modules.plain_attr_is_data(cls, parts[1])
    for i, part in enumerate(parts[1:-1], start=1):
        if cls is None:
            return False
        plain = modules.attr_plain_class(cls, part)
        if plain is not None:
            return modules.plain_attr_is_data(plain, parts[i + 1])
        cls = modules.attr_class(cls, part)[0]
    return False


_CONTAINER_METHODS = frozenset({"pop", "popleft", "copy", "get", "values", "items", "keys"})
_EMPTY_CONTAINER_CALLS = frozenset({"list", "dict", "set", "deque", "collections.deque", "OrderedDict", "collections.OrderedDict", "defaultdict", "collections.defaultdict"})


def _data_container(facts: FileFacts, fl, root: str) -> bool:
    """Is ``root`` (``self.data``) a plain Python container the object starts empty and fills (a rollout or replay
    buffer: ``self.data = []``, ``self.data.append(transition)``), nothing put into it being built as a layer or a
    Parameter? A list is no parameter: ``Module.__setattr__`` registers none of what it holds, so a cut in front of it
    (the transitions re-wrapped with ``torch.tensor``) starves nothing (a plain list of layers is GG302's)."""
    parts = root.replace("[]", "").split(".")
    if len(parts) == 3 and parts[2] in _CONTAINER_METHODS:
        parts = parts[:2]  # (``self.data.pop()``: an entry of the container)
    if len(parts) != 2:
        return False
    if parts[0] == "self":
        cls = facts.flow.owner.get(id(fl.node))
    else:
        origin = facts.flow.root_origins.get(parts[0])
        cls = origin.cls if origin is not None and origin.kind in ("instance", "module") else None
    info = facts.modules.classes.get(cls or "")
    if info is None:
        return False
    attr = parts[1]
    values = facts.modules.assigned_values(info.name, attr)
    qual = facts.imports.qualname

    def empty(v: ast.AST) -> bool:
        if isinstance(v, (ast.List, ast.Tuple, ast.Set)):
            return not v.elts
        if isinstance(v, ast.Dict):
            return not v.keys
        return isinstance(v, ast.Call) and not v.args and (facts.text(v.func) in _EMPTY_CONTAINER_CALLS or (qual(v.func) or "") in _EMPTY_CONTAINER_CALLS)

    if not values or not all(empty(v) for v in values):
        return False
    for m in info.methods.values():
        for n in walk_nodes(m):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "extend", "insert", "appendleft") \
                    and isinstance(n.func.value, ast.Attribute) and n.func.value.attr == attr:
                for a in n.args:
                    if any(isinstance(x, ast.Call) and (is_module_ctor(qual(x.func) or "") or (qual(x.func) or "") in PARAMETER_CTORS) for x in walk_nodes(a)):
                        return False
    return True


def _data_attribute(facts: FileFacts, fl, root: str, wanted: list) -> bool:
    """Is ``root`` (``self.queue``, ``model.queue``) a plain data tensor of a module, wanted by an optimizer
    only through the module (``self.parameters()``), which never yields it (``ModuleModel.never_parameter``)? An
    optimizer handed the tensor itself still wants it."""
    parts = root.replace("[]", "").split(".")
    if len(parts) < 2 or any(root == c for o in wanted for c in o.covered):
        return False
    if parts[0] == "self":
        cls = facts.flow.owner.get(id(fl.node))
    else:
        origin = facts.flow.root_origins.get(parts[0])
        cls = origin.cls if origin is not None and origin.kind in ("module", "instance") else None
    modules = facts.flow.modules
    for part in parts[1:-1]:
        if cls is None:
            return False
        cls = modules.attr_class(cls, part)[0]
    return cls is not None and modules.never_parameter(cls, parts[-1])


def cut_order(c: Cut) -> tuple:
    # one cut reached along several paths: the path with the most calls and indexes on it first (the one a report shows)
    return (getattr(c.node, "lineno", 0), getattr(c.node, "col_offset", 0), c.kind, c.detail or "", -len(c.via), tuple((getattr(v, "lineno", 0), getattr(v, "col_offset", 0)) for v in c.via))


def display_root(root: str) -> str:
    """A root id as the user wrote it: ``model.blocks[].attn`` -> ``model.blocks.attn``; ``model@54`` (a new object
    bound to a name an older one had) -> ``model``."""
    return re.sub(r"@\d+", "", root.replace("[", "").replace("]", ""))


_FALSE_DEFAULTS = (False, None, 0)


def _flag_default(fn: ast.AST, name: str) -> Optional[int]:
    """The position of parameter ``name`` of ``fn`` (counting ``self``) when it defaults to a false constant
    (``detach=False``): a flag a caller turns on; None otherwise (no such parameter, no default, another default)."""
    args = fn.args  # type: ignore[attr-defined]
    positional = [*args.posonlyargs, *args.args]
    for i, a in enumerate(positional):
        if a.arg == name:
            k = i - (len(positional) - len(args.defaults))
            d = args.defaults[k] if k >= 0 else None
            return i if isinstance(d, ast.Constant) and d.value in _FALSE_DEFAULTS and not isinstance(d.value, float) else None
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        if a.arg == name:
            return -1 if isinstance(d, ast.Constant) and d.value in _FALSE_DEFAULTS else None
    return None


def switched_on_by(facts: FileFacts, cut: Cut) -> Optional[tuple]:
    """(call, argument, flag): a cut that runs only when a flag parameter of its function is true (``if detach:
    h = h.detach()`` in a ``forward(self, x, detach=False)``), turned on by a call on the way to the loss that passes
    a true constant for it, directly or through the flag parameters of the functions in between
    (``critic(obs, act, detach_encoder=True)`` whose ``forward`` calls ``self.encoder(obs, detach=detach_encoder)``).
    That call, not the cut, is what to change: other calls leave the flag off. ``(call, None, flag)`` when a call on the way
    leaves the flag at its default or passes a false constant (the cut does not run on this path); None when no call
    decides it. Cached per cut on ``facts`` (find_starvations and the rules reporting the cut ask for it)."""
    cache = facts.__dict__.setdefault("_switched_on_by", {})
    if cut not in cache:
        cache[cut] = _switched_on_by(facts, cut)
    return cache[cut]


def _switched_on_by(facts: FileFacts, cut: Cut) -> Optional[tuple]:
    node = cut.node
    fn = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    flag = None
    cur: Optional[ast.AST] = node
    while cur is not None and cur is not fn:
        par = facts.parent(cur)
        if isinstance(par, (ast.If, ast.IfExp)) and isinstance(par.test, ast.Name) and (cur in par.body if isinstance(par, ast.If) else cur is par.body):
            flag = par.test.id
            break
        cur = par
    if flag is None:
        return None
    for call in cut.via:
        pos = _flag_default(fn, flag)
        if pos is None or not isinstance(call, ast.Call):
            return None
        arg = next((k.value for k in call.keywords if k.arg == flag), None)
        if arg is None and pos >= 0:
            method = bool(fn.args.args) and fn.args.args[0].arg in ("self", "cls") and isinstance(facts.parent(fn), ast.ClassDef)
            i = pos - 1 if method else pos
            if 0 <= i < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: i + 1]):
                arg = call.args[i]
        if arg is None or (isinstance(arg, ast.Constant) and arg.value in _FALSE_DEFAULTS):
            return call, None, flag  # (the flag is off at this call: the cut does not run on this path)
        if isinstance(arg, ast.Constant) and arg.value is True:
            return call, arg, flag
        caller = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        if not (isinstance(arg, ast.Name) and isinstance(caller, (ast.FunctionDef, ast.AsyncFunctionDef))):
            return None
        fn, flag = caller, arg.id
    return None


def _switched_off(facts: FileFacts, cut: Cut) -> bool:
    switch = switched_on_by(facts, cut)
    return switch is not None and switch[1] is None
