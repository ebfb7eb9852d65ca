"""The gradient-flow map of one file: what each backpropagated loss trains, what it does not reach and
where the path is cut, and why a ``.grad`` read is None or a real gradient.

A query layer over the analysis core (``core.facts`` / ``core.flow`` / ``core.starvation``): it never
changes what the rules report, it shows the program model they report from. Used by ``gradguard graph``,
``gradguard explain``, the language server's code lenses, hovers and ``gradguard.showFlow``.

Definitions (per loss site, i.e. per ``backward()`` call or per returned loss a framework backpropagates):

- *trains*: the concrete roots (parameters, modules, ``requires_grad`` tensors) that reach the loss along a
  differentiable path, minus those the file freezes.
- *starved*: the concrete roots that reach the loss only through cuts and that something wants trained: an
  optimizer stepped after this backward (else any optimizer visible from the function) holds them, or no
  optimizer is visible and the function created them, or the loss has no gradient path at all.
  ``reported`` says whether the rules report the cut (``find_starvations``: additionally no other loss of
  the function reaches the root); an unreported starved root is still not reached by *this* loss.

A site analyzed in several flows (a training function with its callers' argument values, the *context*
flows, and on its own) is shown once; context flows are preferred (their roots are concrete) and the
roots of several contexts are united; a root one context trains and another starves is listed as starved
only when a rule reports that cut (e.g. an earlier call leaves grad mode off for the later ones).
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Optional

from gradguard.core.classes import layers_made_by_forward, self_path
from gradguard.core.facts import FileFacts
from gradguard.core.flow import UNKNOWN, BackwardSite, Cut, Event, FunctionFlow, related
from gradguard.core.starvation import display_root, find_starvations, no_path_of
from gradguard.core.torchapi import CHANGES_REQUIRES_GRAD, FORWARDS_TO_MODULE, FROZEN_BY_DEFAULT, PARAMETER_CTORS
from gradguard.core.training import params_of, stepped_optimizer

FORMATS = ("json", "mermaid", "dot", "markdown")


def concrete(root: str) -> bool:
    """A root users can recognize: not an unknown (``?``), a caller's argument (``arg:N``) or a placeholder."""
    return bool(root) and root != UNKNOWN and not root.startswith("arg:") and not root.startswith("<")


def _is_frozen(root: str, frozen: set) -> bool:
    return any(root == f or root.endswith("." + f) or root.startswith(f + ".") or ("." + f + ".") in root for f in frozen if f and f != "self")


def _covered(root: str, covered: frozenset) -> bool:
    return any(related(root, c) or root.startswith(c + ".") for c in covered)


@dataclass
class Starved:
    root: str
    cut: Cut
    reported: bool  # a finding reports this cut (no other loss of the function reaches the root)
    cuts: list = field(default_factory=list)  # every cut shown for the root (the reported ones), ``cut`` first

    @property
    def all_cuts(self) -> list:
        return self.cuts or [self.cut]

    @property
    def name(self) -> str:
        return display_root(self.root)


@dataclass
class LossFlow:
    site: BackwardSite
    flows: list  # the FunctionFlows the site was analyzed in (context flows first)
    sink: str  # source text of the sink: ``loss.backward()``, ``return loss (Lightning)``
    trains: list  # root ids, sorted
    starved: list  # of Starved, sorted by name
    optimizers: list  # names
    no_path: bool = False
    frozen: list = field(default_factory=list)  # root ids that reach the loss but have requires_grad off
    unsure: list = field(default_factory=list)  # root ids the engine sees reach the loss, where it cannot tell
    why_unsure: list = field(default_factory=list)  # why (sentences)

    @property
    def line(self) -> int:
        return self.site.line

    @property
    def function(self) -> str:
        return getattr(self.flows[0].node, "name", "<module>")


@dataclass
class FlowMap:
    facts: FileFacts
    losses: list = field(default_factory=list)

    def at_line(self, line: int) -> list:
        return [lf for lf in self.losses if lf.line == line]


# -- what the map may claim ---------------------------------------------------------------------------
_REQUIRES_GRAD = CHANGES_REQUIRES_GRAD
_DETACH_INPLACE = re.compile(r"\.detach_\(")


@dataclass
class Certainty:
    """What the file does that the flow engine does not follow, and so what the map must not claim.

    - ``changes``: (path, off) for every ``requires_grad`` change the file makes; a helper's argument
      (``def freeze(m): m.requires_grad_(False)``) is resolved through the helper's call sites.
    - ``unresolved_off`` / ``unresolved_on``: a change the map cannot name (a non-constant flag, an
      argument that is not a dotted name, ``self`` as a whole): any root may be frozen / unfrozen.
    - ``maybe``: paths set ``.requires_grad = ...`` through a helper's argument of unknown kind (on a
      module that is a plain attribute and changes nothing).
    - ``dynamic_modules``: modules put in place under computed names (``setattr(m, name, LoRA(child))``):
      what a frozen path holds at run time is unknown.
    - ``opaque``: a custom ``autograd.Function`` is applied, a tensor is detached in place (``x.detach_()``),
      or a rule reports that the program raises (an in-place change autograd detects, a freed graph):
      whether a gradient arrives depends on what the engine does not model.
    """

    changes: list = field(default_factory=list)
    maybe: list = field(default_factory=list)  # paths whose requires_grad may or may not change
    # the same for what a class's methods call ``self.<path>``, from changes made through an instance of it
    self_changes: list = field(default_factory=list)
    self_maybe: list = field(default_factory=list)
    # ``model.encoder`` changed where ``model`` is an instance of an in-file Module class: that class's own
    # ``self.encoder`` (of this instance, or of another one the map does not tell apart) may be frozen
    members: list = field(default_factory=list)
    unresolved_off: bool = False
    unresolved_on: bool = False
    dynamic_modules: bool = False
    # attributes a Module's forward (or a method it runs) sets to a new layer on every call (``self.time_mlp =
    # nn.Sequential(...)``): what the name holds after a pass is a fresh layer, with a gradient only if a backward followed
    remade: list = field(default_factory=list)
    opaque: str = ""  # why every gradient path of the file is uncertain, or ""
    # the attribute (of an in-file Module class) a root names, by root: ``model.embedding`` -> ("embedding", its known
    # parameter names, e.g. ``["weight"]``, or None); a change the class makes to ``self.embedding.weight`` is one of them
    parts: dict = field(default_factory=dict)

    def state(self, root: str) -> Optional[str]:
        """``"frozen"`` (requires_grad off: never trained), ``"unsure"`` or None (trainable)."""
        if self.unresolved_off:
            return "unsure"
        shown = display_root(root)
        path = _strip_self(shown)
        own = shown.startswith("self.")
        if self.remade and any(_is_frozen(path, {p}) for p in self.remade):
            return "unsure"
        maybe = self.maybe + self.self_maybe if own else self.maybe
        changes = self.changes + self.self_changes if own else self.changes
        attr, names = self.parts.get(shown, (None, None))
        within = (path + ".",) if attr is None else (path + ".", attr + ".")
        if any(_is_frozen(path, {p}) or p.startswith(within) for p in maybe):
            return "unsure"
        if own and any(_is_frozen(path, {p}) or p.startswith(path + ".") for p in self.members):
            return "unsure"
        covering = [(p, off) for p, off in changes if _is_frozen(path, {p})]
        inside_on = [p for p, off in changes if not off and p.startswith(within)]
        offs = [p for p, off in covering if off]
        if not offs:
            # parts of it frozen (``model.fc.weight``, ``model[0]``): whether the rest reaches the loss is
            # not known from the root alone, unless the parts frozen are every parameter it has (the ``weight`` of
            # an embedding table, frozen by ``self.embedding.weight.requires_grad = False``)
            inside_off = [p for p, off in changes if off and p.startswith(within)]
            if not inside_off:
                return None
            if names and not inside_on and not self.unresolved_on and all(any(p in (f"{w}{n}" for w in within) for p in inside_off) for n in names):
                return "frozen"
            return "unsure"
        ons = [p for p, off in covering if not off]
        frozen = True
        if ons:
            depth = lambda q: q.count(".")  # noqa: E731
            deepest = max(depth(q) for q, _ in covering)
            kinds = {off for q, off in covering if depth(q) == deepest}
            if len(kinds) != 1:
                return "unsure"
            frozen = kinds == {True}
            if not frozen:
                return None
        if inside_on or self.unresolved_on or self.dynamic_modules:
            return "unsure"  # part of it is trainable again, or may be
        return "frozen" if frozen else None


def _made_once(facts: FileFacts, node: ast.AST, attr: str) -> bool:
    """Is the assignment under an ``if`` that tests the attribute (``if self.fc is None:``): made on the first call only?"""
    cur = facts.parent(node)
    while cur is not None and not isinstance(cur, ast.ClassDef):
        if isinstance(cur, ast.If) and any(isinstance(n, ast.Attribute) and n.attr == attr for n in ast.walk(cur.test)):
            return True
        cur = facts.parent(cur)
    return False


def _member_paths(facts: FileFacts, paths: list) -> list:
    """``encoder`` for ``model.encoder`` when ``model`` was built from an in-file Module class."""
    out = []
    for p in paths:
        head, _, rest = p.partition(".")
        origin = facts.flow.root_origins.get(head)
        if rest and origin is not None and origin.cls in facts.modules.classes:
            out.append(rest)
    return out


def _strip_self(path: str) -> str:
    return path[5:] if path.startswith("self.") else path


def _dotted(node: ast.AST) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _flag(facts: FileFacts, ev: Event) -> Optional[bool]:
    """The value a ``requires_grad`` change sets, or None when it is not a constant."""
    node = ev.node
    if ev.what == "requires_grad_set":
        v = getattr(facts.statement_of(node), "value", None)
        return v.value if isinstance(v, ast.Constant) and isinstance(v.value, bool) else None
    if ev.what == "requires_grad_call" and isinstance(node, ast.Call) and ((facts.imports.qualname(node.func) or "") in FROZEN_BY_DEFAULT or (facts.imports.qualname(node.func) or "") in PARAMETER_CTORS):
        return ev.extra == "True"  # built frozen (``nn.Embedding.from_pretrained(vectors)``, ``nn.Parameter(t, requires_grad=False)``)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("freeze", "unfreeze"):
        return node.func.attr == "unfreeze"
    if not isinstance(node, ast.Call):
        return None
    arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "requires_grad"), None)
    if arg is None:
        return True
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, bool) else None


def _selective(facts: FileFacts, node: ast.AST) -> bool:
    """Is ``node`` under an ``if`` / ``while`` / ``try`` inside the innermost loop that runs it (a change made to
    some of the loop's parameters, not to all)?"""
    cur = facts.parent(node)
    tested = False
    while cur is not None and not isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        if isinstance(cur, (ast.If, ast.Try, ast.While)):
            tested = True
        if isinstance(cur, (ast.For, ast.AsyncFor)):
            return tested
        cur = facts.parent(cur)
    return False


def _resolve(facts: FileFacts, fl: FunctionFlow, root: str) -> Optional[list]:
    """The paths a changed root stands for (a helper's ``arg:N`` through every call of the helper), or None."""
    if not root or root == UNKNOWN or root == "self" or root.startswith("<"):
        return None
    if not root.startswith("arg:"):
        return [_strip_self(display_root(root))]
    head, _, rest = root.partition(".")
    fn = fl.node
    if not head[4:].isdigit() or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    i = int(head[4:])
    pname = fl.args[i] if i < len(fl.args) else None
    positional = pname is not None and pname in {a.arg for a in fn.args.posonlyargs + fn.args.args}
    # a constructor's parameters come from the calls of its class
    callee = fl.owner if fn.name == "__init__" and fl.owner else fn.name
    out = []
    for call in facts.walk(ast.Call):
        f = call.func  # type: ignore[attr-defined]
        if not ((isinstance(f, ast.Name) and f.id == callee) or (isinstance(f, ast.Attribute) and f.attr == callee)):
            continue
        args = call.args  # type: ignore[attr-defined]
        if positional and any(isinstance(a, ast.Starred) for a in args[: i + 1]):
            return None
        arg = args[i] if positional and i < len(args) else next((k.value for k in call.keywords if k.arg == pname), None)  # type: ignore[attr-defined]
        text = _dotted(arg) if arg is not None else None
        if text is None and arg is not None and fl.returns.ident == head and not fl.returns.cut:
            # ``model = freeze(Net())``: the helper hands back the object it changed, bound here to a name
            st = facts.parent(call)
            bound = _dotted(st.targets[0]) if isinstance(st, ast.Assign) and st.value is call and len(st.targets) == 1 else None
            origin = facts.flow.root_origins.get(bound or "")
            # (only for an object of a class the file defines, whose methods' ``self.<attr>`` the map can relate to it)
            if origin is not None and origin.kind in ("module", "instance") and origin.cls in facts.modules.classes:
                text = bound
        if text is None or text == "self":
            return None
        out.append(_unwrapped(facts, _strip_self(text) + ("." + rest if rest else "")))
    return out


def _unwrapped(facts: FileFacts, path: str) -> str:
    """``model.backbone`` for ``model.module.backbone`` when ``model`` is bound to an ``nn.DataParallel`` /
    ``DistributedDataParallel`` wrapper: ``.module`` is the wrapped model, whose parts the flow names without it."""
    head, _, rest = path.partition(".")
    if not (rest == "module" or rest.startswith("module.")):
        return path
    origin = facts.flow.root_origins.get(head)
    value = getattr(origin.stmt, "value", None) if origin is not None else None
    if isinstance(value, ast.Call) and (facts.imports.qualname(value.func) or "") in FORWARDS_TO_MODULE:
        return head + rest[len("module"):]
    return path


# calls that hand back all of what their receiver holds (iterated by a loop over every parameter or module)
_WHOLE_CALLS = {
    "parameters", "named_parameters", "modules", "named_modules", "children", "named_children", "values", "items",
    # (methods of a module that return the module itself)
    "eval", "train", "to", "cuda", "cpu", "float", "half", "double", "bfloat16", "requires_grad_", "type", "share_memory",
}


def _through_index(ev: Event) -> bool:
    """Does a ``requires_grad`` change reach its module through an index or a slice (``model.layers[0]``,
    ``for layer in model.layers[:2]: for p in layer.parameters(): ...``) or through what a method returns
    (``model.get_input_embeddings().weight``)? The engine names a container's elements by the container and a
    method's result by its receiver, so such a change covers only some of what that name holds."""
    node = ev.node
    if isinstance(node, ast.Attribute):
        expr: Optional[ast.AST] = node.value
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        expr = node.func.value
    else:
        return False
    for _ in range(8):
        base = expr
        while isinstance(base, (ast.Attribute, ast.Call, ast.Subscript)):
            if isinstance(base, ast.Subscript):
                return True
            if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id in ("enumerate", "list", "reversed", "iter") and base.args:
                base = base.args[0]
                continue
            if isinstance(base, ast.Call) and not (isinstance(base.func, ast.Attribute) and base.func.attr in _WHOLE_CALLS):
                return True
            base = base.func if isinstance(base, ast.Call) else base.value
        if not isinstance(base, ast.Name):
            return False
        name = base.id
        loop = next((lp for lp in reversed(ev.loops) if isinstance(lp, (ast.For, ast.AsyncFor)) and name in _target_names(lp.target)), None)
        if loop is None:
            return False
        expr = loop.iter
    return False


def _target_names(target: ast.AST) -> set:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _alias_instance_changes(facts: FileFacts, out: Certainty) -> None:
    """A change made through an instance (``freeze(model)`` -> ``model.embeddings``) is a change of what the class's
    own methods call ``self.embeddings``, where a loss computed in the class (a Hugging Face ``forward``, a
    Lightning ``training_step``) reaches it: the same path without the instance's name. When the file builds
    several instances of the class, which one a loss runs on is not known: the path may or may not change."""
    origins = facts.flow.root_origins
    instances: dict = {}
    for name, o in origins.items():
        if "." not in name and o.kind in ("module", "instance") and o.cls in facts.modules.classes:
            instances.setdefault(o.cls, []).append(name)
    explicit = {p for p, _off in out.changes}
    for changes, maybe in ((list(out.changes), False), (list(out.maybe), True)):
        for item in changes:
            path, off = (item, None) if maybe else item
            head, dot, rest = path.partition(".")
            inst = origins.get(head)
            if inst is None or inst.kind not in ("module", "instance") or inst.cls not in instances:
                continue
            # the whole instance (``model.requires_grad_(False)``): every attribute its class sets on ``self``, unless
            # changed on its own (a deeper change wins)
            cls = inst.cls or ""
            rests = [rest] if dot else [a for a in facts.modules.classes[cls].attrs if f"{head}.{a}" not in explicit]
            for r in rests:
                if maybe or len(instances[cls]) > 1:
                    out.self_maybe.append(r)
                else:
                    out.self_changes.append((r, off))


def _instance_parts(facts: FileFacts, out: Certainty) -> None:
    """``model.embedding`` where ``model`` is an instance of an in-file Module class (``self.embedding`` in a method of a
    class whose attribute ``embedding`` is assigned in that class only): the attribute, and the parameter names of what it
    holds when the file tells them all (``nn.Embedding.from_pretrained(...)``: ``weight``)."""
    from gradguard.core.paramnames import value_parameter_names

    classes = facts.modules.classes
    owners: dict = {}
    for name, info in classes.items():
        for attr in info.attr_values:
            owners.setdefault(attr, []).append(name)

    def part(cls: str, attr: str) -> tuple:
        values = classes[cls].attr_values.get(attr) or []
        names = value_parameter_names(facts.modules, facts.imports, values[0]) if len(values) == 1 else []
        return attr, (names if names and "" not in names else None)

    for name, o in facts.flow.root_origins.items():
        if "." in name or o.kind not in ("module", "instance") or o.cls not in classes:
            continue
        for attr in classes[o.cls or ""].attr_values:
            out.parts[f"{name}.{attr}"] = part(o.cls or "", attr)
    for attr, cls in owners.items():
        if len(cls) == 1:
            out.parts.setdefault(f"self.{attr}", part(cls[0], attr))


# rules whose finding means the program raises at (or before) a backward(): in-place changes autograd
# detects, graphs freed or reused, tensors that cannot require grad
RAISING = ("GG404", "GG405", "GG701", "GG702", "GG902", "GG903")


def _raising_finding(facts: FileFacts, findings: Optional[list] = None):
    """A finding of a RAISING rule: among ``findings`` (the analysis' own, when the caller has them), else
    from running those rules."""
    if findings is not None:
        return next((f for f in findings if f.code in RAISING), None)
    from gradguard.rules import RULES_BY_CODE

    text = facts.source.text
    for code in RAISING:
        rule = RULES_BY_CODE.get(code)
        if rule is None or (rule.needs and not any(t in text for t in rule.needs)):
            continue
        try:
            for f in rule.check(facts):
                if f.code in RAISING:
                    return f
        except Exception:  # a rule's bug must not cost the map; the map then claims nothing it cannot see
            return None
    return None


def _known_module(facts: FileFacts, v) -> bool:
    """``v`` is a module the file builds (``self.head = nn.Linear(...)``, ``model = Net()``), not a
    parameter reached through a module's attribute (``model.fc.weight``) or an argument."""
    ident = v.ident or ""
    if v.kind not in ("module", "instance") or not ident or ident.startswith("arg:"):
        return False
    last = ident.rsplit(".", 1)[-1]
    return any(o.kind in ("module", "instance") and (k == ident or k.endswith("." + last) or k == last) for k, o in facts.flow.root_origins.items())


def certainty(facts: FileFacts, findings: Optional[list] = None) -> Certainty:
    cached = getattr(facts, "_gradguard_certainty", None)
    if cached is not None:
        return cached
    out = Certainty()
    text = facts.source.text
    off_at: list = []  # (scope, position, path) of each requires_grad=False change the map names
    if _REQUIRES_GRAD.search(text):
        for fl in facts.flows_matching(_REQUIRES_GRAD):
            for ev in fl.events:
                if not ((ev.what == "requires_grad_set" and ev.name == "requires_grad") or ev.what == "requires_grad_call"):
                    continue
                setting = ev.what == "requires_grad_set" and ev.target is not None
                if setting and _known_module(facts, ev.target):
                    continue  # ``model.requires_grad = False`` sets a plain attribute: no parameter changes
                flag = _flag(facts, ev)
                # ``m.x.requires_grad = False`` on something not known to be a module: a parameter (frozen) or a
                # module (a plain attribute, no effect); the map cannot tell which
                ambiguous = setting and (ev.target.kind in ("module", "instance") or (ev.target.ident or "").startswith("arg:"))
                roots = set(ev.target.live) | ({ev.target.ident} if ev.target.ident else set()) if ev.target is not None else {UNKNOWN}
                for r in roots or {UNKNOWN}:
                    paths = _resolve(facts, fl, r) if flag is not None else None
                    if paths is None:
                        if flag is not True:
                            out.unresolved_off = True
                        if flag is not False:
                            out.unresolved_on = True
                        continue
                    if ambiguous and len(paths) == 1 and "." in paths[0]:
                        # ``self.embedding.weight.requires_grad = False``: a parameter the layer is known to have
                        if not out.parts:
                            _instance_parts(facts, out)
                        owner, _, last = paths[0].rpartition(".")
                        names = (out.parts.get(owner) or out.parts.get("self." + owner) or (None, None))[1]
                        ambiguous = not (names and last in names)
                    if ambiguous or (flag is False and _selective(facts, ev.node)) or _through_index(ev):
                        # (under a test inside the loop over the parameters: only those the test picks change, e.g.
                        # by name, which the map does not evaluate)
                        out.maybe.extend(paths)
                    else:
                        out.changes.extend((p, not flag) for p in paths)
                        if flag is False:
                            off_at.extend((id(fl.node), (ev.node.lineno, ev.node.col_offset), p) for p in paths)
                    out.members.extend(_member_paths(facts, paths))
        # a layer put in place of a frozen one (``model.q = LoRALinear(model.q)`` after freezing the model) has the
        # requires_grad state of the new object's parameters (new ones require grad; it may keep the old layer inside)
        # (after the freeze, in the same function: a layer built frozen, or frozen once built, is just frozen)
        if off_at:
            scopes = {scope for scope, _, _ in off_at}
            for fl in facts.flows:
                if id(fl.node) not in scopes:
                    continue
                for ev in fl.events:
                    if ev.what != "replace" or not ev.name or ev.name.startswith("arg:") or ev.name.endswith(".?") or not hasattr(ev.node, "lineno"):
                        continue
                    path = _strip_self(display_root(ev.name))
                    at = (ev.node.lineno, ev.node.col_offset)
                    if any(scope == id(fl.node) and pos < at and (_is_frozen(path, {q}) or q.startswith(path + ".")) for scope, pos, q in off_at):
                        out.maybe.append(path)
    _alias_instance_changes(facts, out)
    if (out.changes or out.maybe) and not out.parts:
        _instance_parts(facts, out)
    for _, node, t in layers_made_by_forward(facts):
        if not _made_once(facts, node, t.attr):
            out.remade.append(self_path(t))
    for node in facts.walk(ast.Call):
        f = node.func  # type: ignore[attr-defined]
        if isinstance(f, ast.Name) and f.id == "setattr" and len(node.args) == 3 and not isinstance(node.args[1], ast.Constant):  # type: ignore[attr-defined]
            out.dynamic_modules = True
        if isinstance(f, ast.Attribute) and f.attr == "apply":
            info = facts.modules.classes.get(_dotted(f.value) or "")
            if info is not None and info.is_autograd_function:
                out.opaque = f"the custom autograd.Function `{_dotted(f.value)}` computes its own gradient"
    if not out.opaque and _DETACH_INPLACE.search(text):
        out.opaque = "a tensor is detached in place (`detach_()`)"
    if not out.opaque:
        raising = _raising_finding(facts, findings)
        if raising is not None:
            out.opaque = f"{raising.code} at line {raising.start.line}: the program raises before a gradient arrives"
    facts._gradguard_certainty = out  # type: ignore[attr-defined]
    return out


# -- building --------------------------------------------------------------------------------------
def build(facts: FileFacts, findings: Optional[list] = None) -> FlowMap:
    """The map of ``facts``' file (cached on the facts object: one per analysis). ``findings``: the
    analysis' findings when the caller has them (spares running the rules whose findings mean the program
    raises)."""
    cached = getattr(facts, "_gradguard_flowmap", None)
    if cached is not None:
        return cached
    groups: dict = {}
    order: list = []
    for fl in facts.backward_flows:
        if facts.flow.is_autograd_function_method(fl.node):
            continue
        for site in fl.loss_sites:
            key = id(site.node)
            if key not in groups:
                groups[key] = []
                order.append(key)
            # a loop's later pass replaces its first: it sees what the iterations before left (values carried
            # over, grad mode a callee switched off), the state every iteration after the first runs in
            mine = [i for i, (_, f) in enumerate(groups[key]) if f is fl]
            if mine:
                groups[key][mine[0]] = (site, fl)
            else:
                groups[key].append((site, fl))
    reported: dict = {}
    for st in find_starvations(facts):
        for r in st.roots:
            reported.setdefault((id(st.site.node), r), set()).add(st.cut)
    cert = certainty(facts, findings) if order else Certainty()
    out = FlowMap(facts)
    for key in order:
        pairs = groups[key]
        ctx = [p for p in pairs if p[1].context is not None]
        use = ctx or pairs
        out.losses.append(_loss_flow(facts, use, reported, cert))
    out.losses.sort(key=lambda lf: (lf.line, getattr(lf.site.node, "col_offset", 0)))
    # a ``compute_loss`` override decides what a Trainer backpropagates: the loss a model's forward returns
    # is that one only if the override uses it (then the override's entry says so), else it never runs
    overridden = {lf.site.implicit for lf in out.losses if lf.site.implicit and lf.function == "compute_loss"}
    for lf in out.losses:
        if lf.site.implicit in overridden and lf.function != "compute_loss" and lf.trains:
            lf.unsure = sorted(set(lf.unsure) | set(lf.trains))
            lf.trains = []
            lf.why_unsure = lf.why_unsure + ["the file's `compute_loss` decides what the Trainer backpropagates; this loss is backpropagated only if it uses it"]
    facts._gradguard_flowmap = out  # type: ignore[attr-defined]
    return out


def _loss_flow(facts: FileFacts, pairs: list, reported: dict, cert: Certainty) -> LossFlow:
    site0: BackwardSite = pairs[0][0]
    live_all: set = set()
    both: set = set()  # reach the loss along a path and through a cut: the engine merged two values
    starved: dict = {}
    optimizers: list = []
    no_path = True
    for site, fl in pairs:
        live = {r for r in site.loss.live if concrete(r)}
        if not no_path_of(site):
            no_path = False
        live_all |= live
        cut_roots = {r for r, c in site.loss.cut if c.kind not in MASK_CUTS}
        both |= {r for r in live if any(related(r, c) for c in cut_roots)}
        cut_only = fl.starved(site)
        stepping = _stepped_after(fl, site)
        wanted = [o.covered for o in stepping] or [o.covered for o in facts.optimizers_for(fl)]
        for root, cuts in cut_only.items():
            if not concrete(root):
                continue
            key = (id(site.node), root)
            if key not in reported and fl.context is not None and fl.owner and "." in root and not root.startswith("self."):
                # a method walked in its caller's context names the object by the caller's name (``model.pool``); the
                # rules report its own walk's roots (``self.pool``): the same part
                alt = (id(site.node), "self." + root.split(".", 1)[1])
                key = alt if alt in reported else key
            rep = key in reported
            if not rep:
                if site.loss.live and cert.state(root) is not None:
                    continue
                if site.loss.live:
                    if wanted and not any(_covered(root, c) for c in wanted):
                        continue
                    if not wanted and not any(root == c or root.startswith(c + ".") or root.startswith(c + "[") for c in fl.created):
                        continue
            shown = sorted(reported[key] if rep else cuts, key=_cut_pos)
            old = starved.get(root)
            if old is None or (rep and not old.reported):
                starved[root] = Starved(root, shown[0], rep, shown)
            elif rep and old.reported:
                old.cuts = sorted({id(c): c for c in old.all_cuts + shown}.values(), key=_cut_pos)
                old.cut = old.cuts[0]
    for site, fl in pairs:
        for name in _optimizer_names(facts, fl, site, _stepped_after(fl, site)):
            if name not in optimizers:
                optimizers.append(name)
    trains: set = set()
    frozen: set = set()
    unsure: set = set()
    why: list = []

    def because(reason: str) -> None:
        if reason not in why:
            why.append(reason)

    for r in live_all:
        state = cert.state(r)
        if state == "frozen":
            frozen.add(r)
        elif state == "unsure" or r in both or cert.opaque:
            unsure.add(r)
            if cert.opaque:
                because(cert.opaque)
            elif state == "unsure" and cert.remade and any(_is_frozen(_strip_self(display_root(r)), {p}) for p in cert.remade):
                because("`forward` makes it anew on every call: what the name holds after a pass is a new layer, whose gradient depends on whether a backward followed")
            elif state == "unsure":
                because("its requires_grad is changed where gradguard cannot follow (a helper, a computed flag, a module replaced by name)")
            else:
                because("it reaches the loss along a path and through a cut, which gradguard cannot tell apart (a tuple of outputs, a value rebuilt from a float)")
        else:
            trains.add(r)
    grad_inputs = _grad_inputs(facts, site0)
    if grad_inputs is not None:
        # ``torch.autograd.grad(loss, inputs)`` returns gradients for ``inputs`` only and fills no ``.grad``
        trains = {r for r in trains if _among(r, grad_inputs)}
        unsure = {r for r in unsure if _among(r, grad_inputs)}
    elif isinstance(site0.node, ast.Call) and _is_autograd_grad(facts, site0.node):
        unsure |= trains
        trains = set()
        because("`torch.autograd.grad` returns gradients only for its `inputs`, which gradguard cannot name here")
    # a root trained through one context and cut in another gets a gradient from the first: keep it
    # starved only when a rule reports the cut (a call that breaks training for the calls after it)
    starved = {r: s for r, s in starved.items() if s.reported or not any(related(r, t) for t in live_all)}
    unsure -= set(starved)
    lf = LossFlow(site0, [fl for _, fl in pairs], sink_text(facts, site0), sorted(trains), sorted(starved.values(), key=lambda s: s.name), optimizers, no_path)
    lf.frozen, lf.unsure, lf.why_unsure = sorted(frozen), sorted(unsure), why if unsure else []
    return lf


def _cut_pos(c: Cut) -> tuple:
    return (getattr(c.node, "lineno", 0), getattr(c.node, "col_offset", 0))


def _is_autograd_grad(facts: FileFacts, call: ast.Call) -> bool:
    q = facts.imports.qualname(call.func) or ""
    return q == "torch.autograd.grad" or facts.text(call.func).endswith("autograd.grad")


def _grad_inputs(facts: FileFacts, site: BackwardSite) -> Optional[list]:
    """The paths of ``torch.autograd.grad``'s ``inputs`` (``model.fc.weight``; ``model.parameters()`` ->
    ``model``), or None for other sinks or inputs the map cannot name."""
    call = site.node
    if not isinstance(call, ast.Call) or not _is_autograd_grad(facts, call):
        return None
    arg = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "inputs"), None)
    elts = arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]
    out = []
    for e in elts:
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr == "parameters" and not e.args:
            e = e.func.value
        text = _dotted(e) if e is not None else None
        if text is None:
            return None
        out.append(_strip_self(text))
    return out


def _among(root: str, paths: list) -> bool:
    r = _strip_self(display_root(root))
    return any(p == r or p.startswith(r + ".") or r.startswith(p + ".") for p in paths)


# cuts that side paths take as a matter of course (a mask ``x > 0`` beside the values it selects): a root
# reaching the loss through one of them and along a path is no sign that the engine merged two values
MASK_CUTS = frozenset({"compare"})


def _stepped_after(fl: FunctionFlow, site: BackwardSite) -> list:
    """Step events after ``site`` and before the next backward of the same function (the optimizers this
    loss is meant to train), as (event, covered roots)."""
    if site.implicit or not isinstance(site.node, ast.Call):
        return []
    start = (site.node.lineno, site.node.col_offset)
    later = sorted((s.node.lineno, s.node.col_offset) for s in fl.backward_sites if (s.node.lineno, s.node.col_offset) > start)
    end = later[0] if later else (10**9, 0)
    out = []
    for ev in fl.events:
        if ev.what != "step" or not isinstance(ev.node, ast.Call):
            continue
        pos = (ev.node.lineno, ev.node.col_offset)
        if start < pos < end and ev.target is not None and ev.target.kind == "optimizer" and ev.target.params:
            out.append(_Stepping(ev, ev.target.params))
    return out


@dataclass
class _Stepping:
    event: Event
    covered: frozenset


def _optimizer_names(facts: FileFacts, fl: FunctionFlow, site: BackwardSite, stepping: list) -> list:
    names = [n for n in (stepped_optimizer(s.event) for s in stepping) if n]
    if names:
        return names
    if site.implicit:
        info = facts.modules.classes.get(fl.owner) if fl.owner else None
        if info is not None and "configure_optimizers" in info.methods:
            return ["configure_optimizers()"]
        return [f"the optimizer {site.implicit} builds"]
    if not isinstance(site.node, ast.Call):
        return []
    start = (site.node.lineno, site.node.col_offset)
    later = [n for n in (stepped_optimizer(e) for e in fl.events if isinstance(e.node, ast.Call) and (e.node.lineno, e.node.col_offset) > start) if n]
    if later:
        return later[:1]
    # steps anywhere in the function (a loop that steps before the next backward)
    anywhere = [n for n in (stepped_optimizer(e) for e in fl.events) if n]
    return list(dict.fromkeys(anywhere))


def sink_text(facts: FileFacts, site: BackwardSite) -> str:
    if site.implicit:
        if isinstance(site.stmt, ast.Return):
            return f"return {_short(facts.text(site.loss_expr) if site.loss_expr is not None else 'loss')} ({site.implicit})"
        return f"returned loss ({site.implicit})"
    return _short(facts.text(site.node))


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# -- names ------------------------------------------------------------------------------------------
def short_names(roots: list) -> list:
    """Display names for a lens: ``self.`` dropped; a first component every name shares dropped
    (``model.encoder, model.head`` -> ``encoder, head``)."""
    names = [display_root(r) for r in roots]
    names = [n[5:] if n.startswith("self.") else n for n in names]
    firsts = {n.split(".")[0] for n in names}
    if len(firsts) == 1 and all("." in n for n in names):
        names = [n.split(".", 1)[1] for n in names]
    return list(dict.fromkeys(names))


def root_line(facts: FileFacts, root: str) -> Optional[int]:
    """Where a root is created (first assignment to its last attribute), for "reveal" actions."""
    parts = display_root(root).split(".")
    last = parts[-1]
    if not re.match(r"^\w+$", last):
        return None
    text = facts.source.text
    pats = [rf"\bself\.{last}\s*(?::[^=\n]*)?=(?!=)", rf"^\s*{last}\s*(?::[^=\n]*)?=(?!=)", rf"\b{last}\s*=(?!=)"]
    if len(parts) == 1:
        pats = pats[1:]
    for p in pats:
        m = re.search(p, text, re.M)
        if m:
            return text.count("\n", 0, m.start()) + 1
    return None


# -- renderings --------------------------------------------------------------------------------------
def _at(line: int, cells=None) -> dict:
    """``{"line": L}``, or in a notebook ``{"line": line within the cell, "cell": cell number}``."""
    if cells is None or not cells.starts:
        return {"line": line}
    idx, cell_line = cells.to_cell(line)
    cid = cells.ids[idx]
    label = cells.labels[idx] if idx < len(cells.labels) else ""
    if not isinstance(cid, int) and re.fullmatch(r"cell \d+", label):
        cid = int(label[5:])  # the language server's cells are URIs: their number as the editor shows it
    return {"line": cell_line, "cell": cid}


def to_json(fm: FlowMap, path: str, cells=None) -> dict:
    """The map as JSON (1-based lines); ``cells`` (a notebook's ``CellMap``) adds ``"cell"`` beside every
    ``"line"``, which then counts from the cell's first line."""
    return {
        "file": path,
        "losses": [
            {
                **_at(lf.line, cells),
                "sink": lf.sink,
                "trains": [display_root(r) for r in lf.trains],
                "starved": [
                    {
                        "name": s.name,
                        "cut": {**_at(getattr(s.cut.node, "lineno", 0), cells), "kind": s.cut.kind},
                        "reported": s.reported,
                        **({"more_cuts": [{**_at(getattr(c.node, "lineno", 0), cells), "kind": c.kind} for c in s.all_cuts[1:]]} if len(s.all_cuts) > 1 else {}),
                    }
                    for s in lf.starved
                ],
                "frozen": [display_root(r) for r in lf.frozen],
                "unsure": [display_root(r) for r in lf.unsure],
                "optimizers": list(lf.optimizers),
            }
            for lf in fm.losses
        ],
    }


@dataclass
class Graph:
    """Nodes (id -> (label, line, kind)) and edges (a, b, label, style) shared by mermaid and dot."""

    nodes: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)


def graph(fm: FlowMap) -> Graph:
    g = Graph()
    ids: dict = {}

    def node(key, label: str, line: Optional[int], kind: str) -> str:
        if key not in ids:
            ids[key] = f"{kind[0]}{len(ids)}"
            g.nodes[ids[key]] = (label, line, kind)
        return ids[key]

    for lf in fm.losses:
        label = f"{lf.sink} · line {lf.line}"
        if lf.optimizers:
            label += " · steps " + ", ".join(lf.optimizers)
        loss = node(("loss", id(lf.site.node)), label, lf.line, "loss")
        for r in lf.trains:
            g.edges.append((node(("root", display_root(r)), display_root(r), root_line(fm.facts, r), "root"), loss, "", "trains"))
        for r in lf.unsure:
            g.edges.append((node(("root", display_root(r)), display_root(r), root_line(fm.facts, r), "root"), loss, "unsure", "unsure"))
        for r in lf.frozen:
            g.edges.append((node(("root", display_root(r)), display_root(r), root_line(fm.facts, r), "root"), loss, "frozen", "frozen"))
        for s in lf.starved:
            for cut in s.all_cuts:
                cline = getattr(cut.node, "lineno", 0)
                c = node(("cut", cline, cut.kind), f"{cut.detail or cut.kind} · line {cline}", cline, "cut")
                g.edges.append((node(("root", s.name), s.name, root_line(fm.facts, s.root), "root"), c, "", "starved"))
                edge = (c, loss, "cut", "cut")
                if edge not in g.edges:
                    g.edges.append(edge)
    return g


def _mm(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(fm: FlowMap) -> str:
    g = graph(fm)
    out = ["flowchart LR"]
    for nid, (label, _line, kind) in g.nodes.items():
        shape = {"loss": ('(["', '"])'), "cut": ('{{"', '"}}'), "root": ('["', '"]')}[kind]
        out.append(f"  {nid}{shape[0]}{_mm(label)}{shape[1]}")
    starved_roots = set()
    for a, b, _label, style in g.edges:
        if style == "trains":
            out.append(f"  {a} --> {b}")
        elif style == "starved":
            starved_roots.add(a)
            out.append(f"  {a} -.-> {b}")
        elif style in ("unsure", "frozen"):
            out.append(f"  {a} -. {style} .-> {b}")
        else:
            out.append(f"  {a} -. cut .-x {b}")
    trained = {a for a, _b, _l, s in g.edges if s == "trains"}
    out.append("  classDef trains fill:#d9f2d9,stroke:#2e7d32")
    out.append("  classDef starved fill:#fde0dc,stroke:#c62828")
    out.append("  classDef cut fill:#fff3cd,stroke:#b26a00")
    if trained:
        out.append("  class " + ",".join(sorted(trained)) + " trains")
    if starved_roots - trained:
        out.append("  class " + ",".join(sorted(starved_roots - trained)) + " starved")
    cuts = [n for n, v in g.nodes.items() if v[2] == "cut"]
    if cuts:
        out.append("  class " + ",".join(cuts) + " cut")
    if not g.nodes:
        out.append('  none["no backpropagated loss found"]')
    return "\n".join(out) + "\n"


def to_dot(fm: FlowMap) -> str:
    g = graph(fm)

    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    out = ["digraph gradflow {", "  rankdir=LR;", "  node [fontname=Helvetica];"]
    for nid, (label, _line, kind) in g.nodes.items():
        attrs = {"loss": "shape=box, style=rounded", "cut": "shape=hexagon, style=filled, fillcolor=\"#fff3cd\"", "root": "shape=box"}[kind]
        out.append(f"  {nid} [label={q(label)}, {attrs}];")
    for a, b, label, style in g.edges:
        if style == "trains":
            out.append(f"  {a} -> {b} [color=\"#2e7d32\"];")
        elif style == "starved":
            out.append(f"  {a} -> {b} [style=dashed, color=\"#c62828\"];")
        elif style in ("unsure", "frozen"):
            out.append(f"  {a} -> {b} [style=dotted, color=\"#757575\", label={q(label)}];")
        else:
            out.append(f"  {a} -> {b} [style=dashed, arrowhead=tee, label={q(label)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def to_markdown(fm: FlowMap, path: str) -> str:
    lines = [f"# Gradient flow of `{path}`", ""]
    if not fm.losses:
        lines.append("No backpropagated loss found.")
    for lf in fm.losses:
        lines.append(f"- **line {lf.line}** `{lf.sink}`: " + lens_summary(lf))
    lines += ["", "```mermaid", to_mermaid(fm).rstrip("\n"), "```", ""]
    return "\n".join(lines)


def render(fm: FlowMap, path: str, fmt: str, cells=None) -> str:
    """The map in ``fmt``; ``cells`` (a notebook's ``CellMap``): lines as cell and line within the cell."""
    if fmt == "json":
        return json.dumps(to_json(fm, path, cells), indent=2) + "\n"
    text = to_mermaid(fm) if fmt == "mermaid" else to_dot(fm) if fmt == "dot" else to_markdown(fm, path)
    return in_cells(text, cells)


def in_cells(text: str, cells=None) -> str:
    """``line N`` references of a joined notebook program as ``cell C, line L``."""
    if cells is None:
        return text
    from gradguard.notebook import cell_message

    return cell_message(cells, text)


def webview_payload(fm: FlowMap, path: str) -> dict:
    """What the VS Code webview needs: the mermaid text and the line each node reveals."""
    g = graph(fm)
    return {"file": path, "mermaid": to_mermaid(fm), "nodes": {nid: line for nid, (_l, line, _k) in g.nodes.items() if line}, "markdown": to_markdown(fm, path)}


# -- lenses ------------------------------------------------------------------------------------------
@dataclass
class LensPart:
    title: str
    line: Optional[int]  # the line to reveal (a cut), or None for the "trains" part


def lens_parts(lf: LossFlow) -> list:
    """``trains encoder, head`` and one ``not reached: memory (cut at line 40)`` per cut line."""
    parts = []
    trains = short_names(lf.trains)
    if lf.no_path:
        parts.append(LensPart("no gradient path: backward() raises", None))
    elif trains:
        parts.append(LensPart("trains " + _listed(trains, 4), None))
    elif not lf.unsure and not lf.frozen:
        parts.append(LensPart("trains no parameter of this file", None))
    if lf.unsure and not lf.no_path:
        parts.append(LensPart("may train " + _listed(short_names(lf.unsure), 3) + " (gradguard cannot tell)", None))
    if lf.frozen:
        parts.append(LensPart("frozen: " + _listed(short_names(lf.frozen), 3), None))
    by_line: dict = {}
    for s in lf.starved:
        for line in dict.fromkeys(getattr(c.node, "lineno", 0) for c in s.all_cuts):
            by_line.setdefault(line, []).append(s.root)
    for line, roots in sorted(by_line.items()):
        names = short_names(sorted(roots)) if len(by_line) > 0 else []
        shown = names[:3]
        more = f" +{len(names) - len(shown)}" if len(names) > len(shown) else ""
        parts.append(LensPart(f"not reached: {', '.join(shown)}{more} (cut at line {line})", line))
    return parts


def _listed(names: list, n: int) -> str:
    shown = names[:n]
    return ", ".join(shown) + (f" +{len(names) - len(shown)}" if len(names) > len(shown) else "")


def lens_summary(lf: LossFlow) -> str:
    text = " · ".join(p.title for p in lens_parts(lf))
    if lf.optimizers:
        text += " · steps " + ", ".join(lf.optimizers)
    return text


# -- .grad reads ---------------------------------------------------------------------------------------
@dataclass
class GradStory:
    node: ast.AST  # the ``x.grad`` Attribute
    name: str
    verdict: str  # "real" | "none" | "zero" | "unknown"
    why: str


def grad_reads_at(facts: FileFacts, line: int) -> list:
    out = []
    for node in facts.walk(ast.Attribute):
        if isinstance(node, ast.Attribute) and node.attr == "grad" and node.lineno <= line <= (node.end_lineno or node.lineno):
            out.append(node)
    return out


def _flows_with_event(facts: FileFacts, node: ast.AST) -> list:
    scope = facts.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
    flows = [c for c in facts.flow.context_flows if c.node is scope]
    flows.append(facts.flow.flow(scope))
    return [(fl, ev) for fl in flows for ev in fl.events if ev.what == "grad_read" and ev.node is node]


def _pos(n: ast.AST) -> tuple:
    return (getattr(n, "lineno", 0), getattr(n, "col_offset", 0))


def grad_story(facts: FileFacts, node: ast.AST) -> Optional[GradStory]:
    """Is ``x.grad`` None or a real gradient when this line runs, and why."""
    if not isinstance(node, ast.Attribute):
        return None
    name = facts.text(node.value)
    pairs = _flows_with_event(facts, node)
    if not pairs:
        return None
    pairs.sort(key=lambda p: p[0].context is None)  # context flows first: concrete roots
    fl, ev = pairs[0]
    v = ev.target
    if v is None:
        return GradStory(node, name, "unknown", f"gradguard cannot tell what `{name}` is here.")
    roots = {r for r in v.live if concrete(r)} | ({v.ident} if v.ident and concrete(v.ident) else set())
    sites = [s for s in fl.loss_sites if not s.implicit]
    fname = getattr(fl.node, "name", "<module>")
    if not roots:
        if any(r.startswith("arg:") or r == UNKNOWN for r in v.live | ({v.ident} if v.ident else set())):
            return GradStory(node, name, "unknown", f"`{name}` comes from outside `{fname}`; gradguard does not know what reaches it.")
        return GradStory(node, name, "none", f"`{name}` carries no gradient from any parameter or `requires_grad` tensor: its `.grad` stays None.")
    shown = ", ".join(f"`{display_root(r)}`" for r in sorted(roots)[:4])
    if not sites:
        return GradStory(node, name, "unknown", f"`{fname}` calls no backward() itself: `{name}.grad` holds what the last backward() before this call left (None if none ran, or after `zero_grad()`).")
    before = [s for s in sites if _pos(s.node) < _pos(node) or set(map(id, s.loops)) & set(map(id, ev.loops))]
    if v.kind == "tensor" and not v.leaf and v.ident is None:
        retains = [e for e in fl.events if e.what == "retain_grad" and ev.name and e.name == ev.name and _pos(e.node) < _pos(node)]
        if not retains:
            return GradStory(node, name, "none", f"`{name}` is not a leaf: it is computed from {shown}. autograd fills `.grad` only for leaf tensors (parameters, `requires_grad=True` tensors) unless `{name}.retain_grad()` is called before backward(); here it stays None (PyTorch warns when it is read).")
        first = min(_pos(e.node) for e in retains)
        if before and all(_pos(s.node) < first for s in before) and not any(set(map(id, s.loops)) & set(map(id, ev.loops)) for s in before):
            return GradStory(node, name, "none", f"`{name}` is not a leaf, and `{name}.retain_grad()` (line {first[0]}) runs only after the backward() at line {before[-1].line}: too late, `.grad` is still None.")
    if not before:
        return GradStory(node, name, "none", f"no backward() runs before this read in `{fname}`: `{name}.grad` is None here (unless an earlier call already backpropagated into it).")
    reaching = [s for s in before if any(related(r, lv) for r in roots for lv in s.loss.live)]
    if not reaching:
        s = before[-1]
        cuts = sorted({(getattr(c.node, "lineno", 0), c.detail or c.kind) for r0, c in s.loss.cut if any(related(r0, r) for r in roots)})
        if cuts:
            where = "; ".join(f"`{d}` at line {ln}" for ln, d in cuts[:3])
            return GradStory(node, name, "none", f"the loss backpropagated at line {s.line} reaches {shown} only through a cut ({where}): no gradient flows back, `{name}.grad` stays None.")
        return GradStory(node, name, "unknown", f"gradguard sees no differentiable path from {shown} to the loss backpropagated at line {s.line}; if there is none, `{name}.grad` stays None.")
    last = max(reaching, key=lambda s: _pos(s.node))
    for z in fl.events:
        if z.what != "zero_grad" or not (_pos(last.node) < _pos(z.node) < _pos(node)):
            continue
        cleared = params_of(z.target)
        if not cleared or any(related(r, c) for r in roots for c in cleared):
            return GradStory(node, name, "none", f"the loss backpropagated at line {last.line} reaches {shown}, but `zero_grad()` at line {z.node.lineno} clears it before this read (None by default, `set_to_none=True`).")
    return GradStory(node, name, "real", f"a real gradient: the loss backpropagated at line {last.line} (`{sink_text(facts, last)}`) reaches {shown} along a differentiable path.")


def grad_markdown(story: GradStory) -> str:
    head = {"real": "a real gradient at run time", "none": "**None** at run time", "zero": "zero at run time", "unknown": "unknown at run time"}[story.verdict]
    return f"**`{story.name}.grad`**: {head}\n\n{story.why}"


# -- explain -----------------------------------------------------------------------------------------
def _where(path: str, line: int, col: Optional[int], cells=None) -> str:
    """``path:line[:col]``; in a notebook ``path:cell C:line[:col]`` (as ruff prints notebook positions)."""
    tail = f":{col}" if col is not None else ""
    if cells is None or not cells.starts:
        return f"{path}:{line}{tail}"
    idx, cell_line = cells.to_cell(line)
    return f"{path}:{cells.labels[idx] if cells.labels else 'cell ' + str(cells.ids[idx])}:{cell_line}{tail}"


def explain(facts: FileFacts, findings: list, line: int, path: str, cells=None) -> Optional[str]:
    """The full story for the findings, ``.grad`` reads and backward sinks on ``line``, in text. ``cells`` (a
    notebook's ``CellMap``; ``line`` is a line of the joined program): positions and "line N" references
    are printed as cell and line within the cell (the findings' messages must still use program lines)."""
    fm = build(facts, findings)
    parts: list = []
    for f in findings:
        if not (f.start.line <= line <= f.end.line):
            continue
        block = [f"{_where(path, f.start.line, f.start.col + 1, cells)}: {f.code} {f.message}"]
        if f.explanation:
            block.append(f"  At run time: {f.explanation}")
        for r in f.related:
            block.append(f"  line {r.start.line}: {r.message}")
        for st in find_starvations(facts):
            cline = getattr(st.cut.node, "lineno", 0)
            if cline == f.start.line and (st.cut.detail or st.cut.kind) and f.code[:4] in ("GG20", "GG50", "GG30"):
                block.extend(_starvation_story(facts, fm, st))
                break
        for fx in f.fixes:
            block.append(f"  Fix ({fx.applicability.value}): {fx.message}")
        parts.append("\n".join(block))
    for node in grad_reads_at(facts, line):
        story = grad_story(facts, node)
        if story is not None:
            verdict = {"real": "a real gradient", "none": "None", "zero": "zero", "unknown": "unknown"}[story.verdict]
            parts.append(f"{_where(path, node.lineno, node.col_offset + 1, cells)}: `{story.name}.grad` is {verdict} at run time\n  {story.why.replace('`', '')}")
    for lf in fm.at_line(line):
        parts.append(_loss_story(lf, _where(path, lf.line, None, cells)))
    if not parts:
        return None
    return in_cells("\n\n".join(parts) + "\n", cells)


def _starvation_story(facts: FileFacts, fm: FlowMap, st) -> list:
    out = []
    names = ", ".join(display_root(r) for r in st.roots)
    cline = getattr(st.cut.node, "lineno", 0)
    out.append(f"  Flow: {names} -> {st.cut.detail or st.cut.kind} (line {cline}) -x-> {sink_text(facts, st.site)} (line {st.site.line})")
    for call in st.cut.via:
        how = "only as the index" if isinstance(call, ast.Subscript) else "through the call"
        out.append(f"    the cut reaches line {st.site.line} {how} at line {getattr(call, 'lineno', 0)}: {_short(facts.text(call))}")
    lf = next((x for x in fm.losses if x.site.node is st.site.node), None)
    if lf is not None:
        if lf.trains:
            out.append("  That loss trains: " + ", ".join(display_root(r) for r in lf.trains))
        if lf.optimizers:
            out.append("  Stepped by: " + ", ".join(lf.optimizers))
    if st.no_path:
        out.append("  Nothing reaches that loss differentiably: backward() raises.")
    return out


def _loss_story(lf: LossFlow, where: str) -> str:
    out = [f"{where}: {lf.sink} (in {lf.function})"]
    if lf.no_path:
        out.append("  No parameter reaches this loss differentiably: backward() raises.")
    out.append("  trains: " + (", ".join(display_root(r) for r in lf.trains) or "(no parameter gradguard is sure of)"))
    if lf.unsure:
        out.append("  may train (gradguard cannot tell): " + ", ".join(display_root(r) for r in lf.unsure))
        out.extend(f"    because {w}" for w in lf.why_unsure)
    if lf.frozen:
        out.append("  frozen (requires_grad off, never trained): " + ", ".join(display_root(r) for r in lf.frozen))
    for s in lf.starved:
        out.append(f"  not reached: {s.name} (cut by {s.cut.detail or s.cut.kind} at line {getattr(s.cut.node, 'lineno', 0)}{'' if s.reported else '; another loss may train it'})")
    if lf.optimizers:
        out.append("  optimizers: " + ", ".join(lf.optimizers))
    return "\n".join(out)
