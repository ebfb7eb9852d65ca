"""The training model: which calls step an optimizer, which clear its gradients, and what it trains.

Optimizers are values of the flow engine (``Val(kind="optimizer", params=...)``): built by a
``torch.optim`` (or look-alike) constructor, returned by a helper, passed in as an argument, handed back by
``accelerator.prepare`` / ``fabric.setup``, or obtained from ``self.optimizers()`` in Lightning. A
``.step()`` event is bound to the value it is called on (``scaler.step(opt)`` to ``opt``), a
``zero_grad()`` to the optimizer or module it clears. Rules ask this module instead of reading names.
"""
from __future__ import annotations

import ast
import re
import weakref
from dataclasses import dataclass
from typing import Optional

from gradguard.core.astindex import statement_nodes, walk_nodes
from gradguard.core.flow import (
    BackwardSite,
    Event,
    FunctionFlow,
    OptimizerSite,
    Val,
    _name_of,  # one dotted-name helper for the model
    _rebase,
    configured_optimizers,
    covers,
    related,
)
from gradguard.core.order import position
from gradguard.core.torchapi import (
    COPY_FUNCTIONS,
    HF_CALLBACK_BASES,
    HF_CALLBACK_EVENTS_DURING_TRAINING,
    HF_TRAINER_BASES,
    HF_TRAINER_OPTIMIZER_BUILDERS,
    LIGHTNING_HOOKS_BEFORE_TRAINING_STEP,
    MODULE_CONTAINER_CLASSES,
    NOT_OPTIMIZER_KINDS,
    OPTIMIZER_BUILDERS,
    PARAMETER_CTORS,
    REPEATED_BY_FRAMEWORK,
    RUN_AFTER_OPTIMIZERS,
    is_module_ctor,
    is_optimizer_ctor,
)

# Only for a receiver whose value the model cannot see (an attribute set in another method, an argument
# no caller in this file passes): names that say "this is not an optimizer".
_NOT_OPTIMIZER_NAMES = ("sched", "env", "ema", "swa", "scaler", "lr_")

_MATCH: tuple = (ast.Match,) if hasattr(ast, "Match") else ()  # (Python 3.10+)


def stepped_optimizer(ev: Event) -> Optional[str]:
    """The optimizer (as source text) a ``step`` event steps, or None when it is not an optimizer step (a
    scheduler's, an environment's, an EMA's, or ``opt.step(closure)`` whose backward runs inside)."""
    if ev.what != "step" or not isinstance(ev.node, ast.Call) or not isinstance(ev.node.func, ast.Attribute):
        return None
    call = ev.node
    target = ev.target
    func = call.func
    assert isinstance(func, ast.Attribute)
    recv = _name_of(func.value) or ast.unparse(func.value)
    if call.args and ev.name is not None and ev.name == _name_of(call.args[0]):
        return ev.name  # ``scaler.step(opt)``: the event is bound to ``opt``
    if call.args or call.keywords:
        if target is not None and target.kind is None and recv.lower().endswith("scaler"):
            return _name_of(call.args[0]) if call.args else None  # a scaler the model cannot see
        return None
    if target is not None and target.kind == "optimizer":
        return recv
    if target is not None and (target.kind in NOT_OPTIMIZER_KINDS or target.kind == "scaler"):
        return None
    name = recv.split(".")[-1].lower()
    if any(h in name for h in _NOT_OPTIMIZER_NAMES):
        return None
    return recv if "opt" in name else None


def params_of(v: Optional[Val]) -> frozenset:
    if v is None:
        return frozenset()
    if v.kind == "optimizer":
        return v.params
    return frozenset(v.live) | ({v.ident} if v.ident else frozenset())


def clears_for(zero: Event, step: Event) -> Optional[bool]:
    """Does the ``zero_grad`` event clear the gradients the ``step`` event applies? True / False when the
    model knows both values, None when it cannot tell."""
    a, b = params_of(zero.target), params_of(step.target)
    if zero.name is not None and zero.name == step.name:
        return True
    if not a or not b:
        return None
    return any(related(x, y) for x in a for y in b)


def step_events(fl: FunctionFlow) -> list:
    return [e for e in fl.events if stepped_optimizer(e)]


def events_by_node(fl: FunctionFlow, what: str) -> dict:
    return {id(e.node): e for e in fl.events if e.what == what}


def _until_next_backward(fl: FunctionFlow, site: BackwardSite) -> tuple:
    """(start, end) positions: from ``site`` to the next backward() of the same function (or the end)."""
    start = position(site.node)
    later = sorted(p for p in (position(s.node) for s in fl.backward_sites) if p > start)
    return start, (later[0] if later else (10**9, 0))


# -- statement-level view (rules about the order of backward / zero_grad / step in one block) ----------
_BLOCK_FIELDS = ("body", "orelse", "finalbody")
# the node types that can own a statement list (the only ones blocks() yields for)
_BLOCK_OWNERS = tuple(
    t for t in (getattr(ast, n, None) for n in ("Module", "Interactive", "FunctionDef", "AsyncFunctionDef", "ClassDef", "For", "AsyncFor", "While", "If", "With", "AsyncWith", "Try", "TryStar", "ExceptHandler", "match_case"))
    if t is not None
)


def stmt_call(st: ast.stmt, attr: str) -> Optional[ast.Call]:
    """``x.<attr>(...)`` as a whole expression statement."""
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute) and st.value.func.attr == attr:
        return st.value
    return None


def has_backward(node: ast.AST) -> bool:
    for sub in walk_nodes(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in ("backward", "manual_backward"):
            return True
    return False


def backpropagates(facts, node: ast.AST, depth: int = 0) -> bool:
    """Does ``node`` call ``backward()`` (``loss.backward()``, ``accelerator.backward(loss)``, ``manual_backward``),
    itself or through an in-file function it calls (``backward_D(netD, real, fake)``, two calls deep)?"""
    if has_backward(node):
        return True
    if depth >= 2:
        return False
    for sub in walk_nodes(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
            fn = facts.flow.functions.get(sub.func.id)
            if fn is not None and fn is not node and backpropagates(facts, fn, depth + 1):
                return True
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and isinstance(sub.func.value, ast.Name) and sub.func.value.id == "self":
            # a method of the same class (``self.backward_d(real, fake)`` in a GAN trainer's step)
            cls = facts.enclosing(sub, (ast.ClassDef,))
            m = facts.modules.method(cls.name, sub.func.attr) if cls is not None and cls.name in facts.modules.classes else None
            if m is not None and m is not node and backpropagates(facts, m, depth + 1):
                return True
    return False


def blocks(facts):
    """Every statement list in the file, with its owner node."""
    for node in statement_nodes(facts.tree):  # ast.walk order, without indexing expressions
        if not isinstance(node, _BLOCK_OWNERS):
            continue
        for f in _BLOCK_FIELDS:
            body = getattr(node, f, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                yield node, body
        if isinstance(node, ast.Try):
            for h in node.handlers:
                yield h, h.body


def backward_blocks(facts) -> list:
    """``(owner, body, backs)`` for each statement list of the file (in ``blocks`` order) with a statement that calls
    ``backward()``: ``backs`` the positions of those statements in ``body`` (``loss.backward()`` as a statement, or an
    expression statement with a ``backward`` / ``manual_backward`` call in it). Computed once per file."""
    cached = getattr(facts, "_backward_blocks", None)
    if cached is None:
        cached = []
        for owner, body in blocks(facts):
            backs = [i for i, st in enumerate(body) if stmt_call(st, "backward") is not None or (isinstance(st, ast.Expr) and has_backward(st))]
            if backs:
                cached.append((owner, body, backs))
        facts._backward_blocks = cached
    return cached


def clears_text(facts, zcall: ast.Call, opt: str) -> bool:
    """Does ``zcall`` (``x.zero_grad()``) clear the gradients ``opt`` steps, by source text: the same
    receiver, or the model ``opt`` was built from (for values the flow model cannot see)."""
    r = facts.text(zcall.func.value) if isinstance(zcall.func, ast.Attribute) else facts.text(zcall.func)
    if r == opt:
        return True
    for node in facts.walk(ast.Assign):
        if len(node.targets) == 1 and facts.text(node.targets[0]) == opt and isinstance(node.value, ast.Call):
            q = facts.imports.qualname(node.value.func) or ""
            if q and is_optimizer_ctor(q):
                for sub in walk_nodes(node.value):
                    if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "parameters" and facts.text(sub.func.value) == r:
                        return True
    return False




class StepBinding:
    """The flow model's step and zero_grad events of a file, by call node."""

    def __init__(self, facts) -> None:
        self._facts = weakref.ref(facts)  # (the facts keep this binding: a plain reference would be a cycle)
        self.steps: dict = {}
        self.zeros: dict = {}
        self.kinds: dict = {}  # id(step call) -> the kinds of value it is called on, over every flow that runs it
        flows = list(facts.backward_flows)
        # (and helpers that step what their object keeps, called after a backward elsewhere: ``def update(self):
        # self.optimizer.step()``)
        walked = {id(fl.node) for fl in flows}
        flows += [fl for fl in facts.flows_matching(_STEP_CALL_TEXT) if id(fl.node) not in walked and fl.owner is not None]
        for fl in flows:
            for e in fl.events:
                if e.what == "step" and e.target is not None:
                    self.kinds.setdefault(id(e.node), set()).add(e.target.kind)
                # a training function analyzed with its caller's values knows what it steps: prefer that
                table = self.steps if e.what == "step" else self.zeros if e.what == "zero_grad" else None
                if table is None:
                    continue
                old = table.get(id(e.node))
                if old is None or (not params_of(old.target) and params_of(e.target)) or (_is_optimizer(e.target) and not _is_optimizer(old.target)):
                    table[id(e.node)] = e

    def optimizer(self, call: ast.Call) -> Optional[str]:
        """The optimizer a ``.step()`` call steps (source text), or None when it is not an optimizer step. A call no walk
        reached (a branch decided against) of ``self.<attr>.step()`` where the class keeps an optimizer there counts."""
        ev = self.steps.get(id(call))
        if ev is None and not call.args and not call.keywords and isinstance(call.func, ast.Attribute) and call.func.attr == "step":
            recv = call.func.value
            facts = self._facts()
            if facts is not None and isinstance(recv, ast.Attribute) and isinstance(recv.value, ast.Name) and recv.value.id == "self":
                cls = facts.enclosing(call, (ast.ClassDef,))
                held = facts.flow.training_attribute(cls.name, recv.attr) if isinstance(cls, ast.ClassDef) else None
                return f"self.{recv.attr}" if held is not None and held.kind == "optimizer" else None
        return stepped_optimizer(ev) if ev is not None else None


_STEP_CALL_TEXT = re.compile(r"\.step\(")


def _is_optimizer(v: Optional[Val]) -> bool:
    """An optimizer value whose parameters the model knows (a context flow's ``optimizer`` rather than the
    summary's ``arg:2``)."""
    return v is not None and v.kind == "optimizer" and bool(v.params)


def steps_a_scheduler(binding: StepBinding, call: ast.Call) -> bool:
    """Is ``call`` (``x.step()``) known to step a learning-rate scheduler, and nothing else, wherever it runs?"""
    kinds = binding.kinds.get(id(call), set())
    return "scheduler" in kinds and kinds <= {"scheduler", "tensor", None}


def step_binding(facts) -> StepBinding:
    cached = getattr(facts, "_step_binding", None)
    if cached is None:
        cached = StepBinding(facts)
        facts._step_binding = cached
    return cached


def clears(facts, binding: StepBinding, zcall: ast.Call, scall: ast.Call, opt: str) -> bool:
    """Does ``zcall`` clear the gradients the step ``scall`` of ``opt`` applies? By value when the model
    knows both, else by source text."""
    z, s = binding.zeros.get(id(zcall)), binding.steps.get(id(scall))
    if z is not None and s is not None:
        verdict = clears_for(z, s)
        if verdict is not None:
            return verdict
    return clears_text(facts, zcall, opt)


# -- what each loss trains and which optimizer holds it -------------------------------------------------
def stepped_after(fl: FunctionFlow, site: BackwardSite) -> list:
    """The optimizers stepped after ``site`` and before the next backward of the same function, when the
    model knows what they step: the parameters this loss is meant to train (a critic's loss trains the
    critic, not the actor whose target it computed under no_grad)."""
    if site.implicit or not isinstance(site.node, ast.Call):
        return []
    return _known_steps(fl, *_until_next_backward(fl, site))


def stepped_by_framework(facts, fl: FunctionFlow, site: BackwardSite) -> list:
    """For a loss a framework backpropagates and steps itself (a Lightning ``training_step`` under automatic
    optimization): the optimizers it steps, those built in the method it calls once to build them
    (``configure_optimizers``), when the model knows what they hold; else []."""
    if not site.implicit:
        return []
    info = facts.modules.classes.get(fl.owner or "")
    if info is not None and info.framework == "hf_model" and getattr(fl.node, "name", None) == "forward":
        return trainer_optimizers(facts, info.name)
    builder = OPTIMIZER_BUILDERS.get(info.framework or "") if info is not None else None
    if info is None or builder is None or getattr(fl.node, "name", None) != "training_step" or info.manual_optimization:
        return []
    m = facts.modules.method(info.name, builder)
    if m is None:
        return []
    built = facts.flow.flow(m)
    own = [o for o in built.optimizers if o.covered and all(concrete_param(r) for r in o.covered)]
    if own or built.optimizers:
        return own
    # built by a helper the method calls and returns (``return build_optimizer(self, cfg)``): the optimizers it returns
    got = configured_optimizers(built.returns) or ()
    return [OptimizerSite(o.origin or m, o.params, held_out=o.held_out, left_out=o.left_out, built_by=o.built_by)
            for o in got if o.params and all(concrete_param(r) for r in o.params)]


def trainer_optimizers(facts, cls: str) -> list:
    """The optimizers the Hugging Face ``Trainer`` steps on the loss of a model of the in-file class ``cls``, in terms of
    ``self``: those given to it (``Trainer(model=model, optimizers=(opt, None))``), when every Trainer of the file built
    for such a model is given one the model knows (none builds its own from every parameter, and no in-file Trainer
    subclass builds one its way); else []."""
    if "optimizer" not in facts.source.text:
        return []
    out = []
    for f in facts.flows:
        for ev in f.events:
            if ev.what != "trainer_built" or ev.target is None or ev.target.cls != cls:
                continue
            ident, opt = ev.target.ident, ev.value
            if opt is None or not ident or not all(r == ident or r.startswith(ident + ".") for r in opt.params):
                return []

            def rb(r: str, ident: str = ident) -> str:
                return "self" + r[len(ident):]

            out.append(OptimizerSite(opt.origin or ev.node, frozenset(map(rb, opt.params)), held_out=frozenset(map(rb, opt.held_out)), built_by=opt.built_by,
                                     left_out=frozenset((rb(r), n) for r, n in opt.left_out if r.startswith(ident + "."))))
    return out


def runs_after_optimizers(facts, fn: ast.AST, owner: Optional[str]) -> bool:
    """Does a framework run method ``fn`` of class ``owner`` after it built the optimizers (a Lightning hook
    during fit: ``on_train_epoch_start``, ``training_step``...)?"""
    info = facts.modules.classes.get(owner or "")
    return info is not None and bool(info.framework) and getattr(fn, "name", None) in RUN_AFTER_OPTIMIZERS.get(info.framework or "", ())


def _position_of(ev) -> tuple:
    return (ev.node.lineno, ev.node.col_offset) if hasattr(ev.node, "lineno") else (0, 0)


def _known_steps(fl: FunctionFlow, start: tuple, end: tuple) -> list:
    """The optimizers ``fl`` steps strictly between two positions whose parameter sets the model knows."""
    out = []
    for ev in fl.events:
        if ev.what != "step" or not isinstance(ev.node, ast.Call) or ev.target is None:
            continue
        pos = (ev.node.lineno, ev.node.col_offset)
        if start < pos < end and ev.target.kind == "optimizer" and ev.target.params and all(concrete_param(r) for r in ev.target.params):
            out.append(OptimizerSite(ev.target.origin or ev.node, ev.target.params, stmt=ev.stmt, held_out=ev.target.held_out, left_out=ev.target.left_out, built_by=ev.target.built_by))
    return out



def stepped_after_callers(facts, fl: FunctionFlow) -> list:
    """For a function that backpropagates and steps nothing itself (``backward_d`` of a GAN trainer): the
    optimizers its callers step right after each call (before their next backward), when every in-file call
    is followed by such steps; else []. What the loss is meant to train is decided where it is stepped."""
    fn = fl.node
    name = getattr(fn, "name", None)
    if name is None or f"{name}(" not in facts.source.text:
        return []
    method = fl.owner is not None
    out: list = []
    calls = 0
    for scope in facts.scopes_matching(re.compile(re.escape(name) + r"\s*\(")):
        if scope is fn or not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        cfl = facts.flow.flow(scope)
        for node in facts.own_nodes(scope):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if method:
                hit = isinstance(f, ast.Attribute) and f.attr == name and isinstance(f.value, ast.Name) and f.value.id == "self" and cfl.owner == fl.owner
            else:
                hit = isinstance(f, ast.Name) and f.id == name
            if not hit:
                continue
            calls += 1
            start = position(node)
            # up to the caller's next backward, its own or a helper's (``self.backward_g(...)``)
            backprops = sorted(p for p in (*(position(s.node) for s in cfl.backward_sites), *(position(c) for c in _backprop_calls(facts, scope, fl.owner))) if p > start)
            end = backprops[0] if backprops else (10**9, 0)
            steps = _known_steps(cfl, start, end)
            if not steps and backprops:
                # gradients accumulate until a step uses them: two discriminator losses backpropagated one after the
                # other, then ``optimizer_D.step()``; the first step after the call, with no zero_grad() in between
                first = min((p for p in (_position_of(ev) for ev in cfl.events if ev.what == "step") if p > start), default=None)
                if first is not None and not any(start < _position_of(ev) < first for ev in cfl.events if ev.what == "zero_grad"):
                    end = min((p for p in backprops if p > first), default=(10**9, 0))
                    steps = _known_steps(cfl, start, end)
            if not steps:
                return []  # a call not followed by a known step: what the loss trains stays open
            out.extend(steps)
    return out if calls else []


def _backprop_calls(facts, scope: ast.AST, owner: Optional[str]) -> list:
    """Calls in ``scope`` of in-file functions (or methods of ``owner`` through ``self``) that backpropagate."""
    out = []
    methods = facts.modules.classes[owner].methods if owner and owner in facts.modules.classes else {}
    for node in facts.own_nodes(scope):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        target = None
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
            target = methods.get(f.attr)
        elif isinstance(f, ast.Name):
            target = facts.flow.functions.get(f.id)
        if target is not None and facts.flow.syntax_of(target)[0]:
            out.append(node)
    return out


def concrete_param(root: str) -> bool:
    """A root an optimizer's parameter set may name: not an unknown argument or value."""
    return root != "?" and not root.startswith("arg:")


def unknown_step_after(fl: FunctionFlow, site: BackwardSite) -> bool:
    """Is an optimizer stepped after ``site`` (before the next backward) whose parameters the model does
    not know? Then which parameters this loss is meant to train is unknown."""
    if site.implicit or not isinstance(site.node, ast.Call):
        return False
    start, end = _until_next_backward(fl, site)
    for ev in fl.events:
        if ev.what != "step" or not isinstance(ev.node, ast.Call):
            continue
        pos = (ev.node.lineno, ev.node.col_offset)
        if start < pos < end and stepped_optimizer(ev) and not (ev.target is not None and ev.target.kind == "optimizer" and ev.target.params and all(concrete_param(r) for r in ev.target.params)):
            return True
    return False


def covered_by(root: str, optimizers: list) -> bool:
    """Does one of ``optimizers`` (``OptimizerSite``s) hold the parameters of ``root``? A root that names the elements of
    a container (``model.encoder[].mlp``, what ``for blk in self.encoder`` runs) is held when the parameters of an
    element by index are (``model.encoder.0.mlp.0.weight``, as a loop sorting named parameters into groups lists them)."""
    if any(any(related(root, c) or root.startswith(c + ".") for c in o.covered) for o in optimizers):
        return True
    if "[]" not in root:
        return False
    bare = _elementless(root)
    return any(any(related(bare, _elementless(c)) for c in o.covered) for o in optimizers)


def kept_as_part(facts, root: str) -> list:
    """Other names of ``root``'s parameters: a module given to the constructor of an in-file Module class that keeps it as
    a part (``model = Classifier(encoder)`` with ``self.encoder = encoder``) is ``model.encoder``, so an optimizer over
    ``model.parameters()`` holds it. The paths (``model.encoder`` + the rest of ``root``), empty when none."""
    name, _, rest = root.partition(".")
    if not name.isidentifier():
        return []
    out = []
    classes = facts.modules.classes
    for call in facts.nodes_near(ast.Call, (name,)):
        f = call.func
        info = classes.get(f.id) if isinstance(f, ast.Name) else None
        if info is None or not info.is_module or "__init__" not in info.methods:
            continue
        kept = facts.modules.kept_parameters(info.name)
        if not kept:
            continue
        init = info.methods["__init__"]
        params = [a.arg for a in [*init.args.posonlyargs, *init.args.args]][1:]
        given = [params[i] for i, a in enumerate(call.args) if i < len(params) and isinstance(a, ast.Name) and a.id == name and not any(isinstance(x, ast.Starred) for x in call.args[:i + 1])]
        given += [k.arg for k in call.keywords if k.arg and isinstance(k.value, ast.Name) and k.value.id == name]
        attrs = [attr for p in given for attr, kp in kept.items() if kp == p]
        if not attrs:
            continue
        st = facts.statement_of(call)
        targets: list = []
        if isinstance(st, ast.Assign) and len(st.targets) == 1:
            t, v = st.targets[0], st.value
            if v is call and isinstance(t, ast.Name):
                targets = [t.id]
            elif isinstance(t, ast.Tuple) and isinstance(v, ast.Tuple) and len(t.elts) == len(v.elts):
                targets = [te.id for te, ve in zip(t.elts, v.elts) if ve is call and isinstance(te, ast.Name)]
        out += [f"{t}.{a}" + (f".{rest}" if rest else "") for t in targets for a in attrs]
    return out


def _elementless(path: str) -> str:
    """``path`` without element markers and indices (``model.encoder.0.mlp.0.weight`` -> ``model.encoder.mlp.weight``)."""
    return ".".join(s for s in path.replace("[]", "").split(".") if not s.isdigit())


def concrete(root: str) -> bool:
    return root != "?" and not root.startswith("arg:") and root != "self" and not root.startswith("self.")


def trainable_origin(facts, root: str) -> Optional[ast.AST]:
    """Where the parameters of ``root`` were made, when the model knows ``root`` holds trainable parameters:
    a module built by a ``torch.nn`` constructor or an in-file Module class, ``nn.Parameter``, a tensor
    created with ``requires_grad=True``; or an attribute of such an object assigned one of those in its
    class. None when unknown (the rule stays quiet)."""
    parts = root.replace("[]", "").split(".")
    origin = facts.flow.root_origins.get(parts[0])
    if origin is None:
        return None
    if len(parts) == 1:
        if origin.leaf or (origin.kind == "module" and _module_stmt_has_params(facts, origin.stmt, parts[0])):
            return origin.stmt
        if origin.kind == "module" and origin.cls in facts.modules.classes and facts.modules.classes[origin.cls].is_module:
            return origin.stmt  # an instance of an in-file Module class, made by a helper (``model = build(cfg)``)
        return None
    if origin.kind not in ("module", "instance"):
        return None
    return attribute_origin(facts, origin.cls, parts[1:])


def attribute_origin(facts, cls: Optional[str], attrs: list) -> Optional[ast.AST]:
    """Where ``<an instance of cls>.<attrs...>`` was made, when its class assigns it one thing that certainly holds
    trainable parameters (see ``trainable_origin``); else None."""
    node: Optional[ast.AST] = None
    layer = False  # (the previous attribute is a torch layer with parameters: its ``weight`` / ``bias`` may follow)
    for k, attr in enumerate(attrs):
        if cls is None and layer and attr in ("weight", "bias") and k == len(attrs) - 1:
            return node  # (``self.fc.weight`` read directly: the layer's own parameter)
        if cls is None or cls not in facts.modules.classes:
            return None
        values = facts.modules.classes[cls].attr_values.get(attr)
        if not values or len(values) != 1 or not isinstance(values[0], ast.Call):
            return None
        call = values[0]
        node = call
        layer = False
        acls, elem = facts.modules.attr_class(cls, attr)
        if acls or elem:
            cls = acls or elem  # a submodule, or a container of one in-file class (``model.mpd[].convs``)
            continue
        if isinstance(call.func, ast.Name) and call.func.id in facts.modules.classes and facts.modules.classes[call.func.id].is_module is False:
            cls = call.func.id  # a plain object of an in-file class the Module keeps (what it holds is followed)
            continue
        q = facts.imports.qualname(call.func) or ""
        short = q.rsplit(".", 1)[-1]
        if q in PARAMETER_CTORS:
            cls = None
            continue
        if q.startswith("torch.") and any(k.arg == "requires_grad" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords):
            cls = None
            continue
        if is_module_ctor(q) and (short in _PARAMETRIC_MODULES or (short in MODULE_CONTAINER_CLASSES and _builds_parametric(facts, call))):
            cls = None
            layer = short in _PARAMETRIC_MODULES
            continue
        return None
    return node




def _builds_parametric(facts, call: ast.Call) -> bool:
    """Does a container's constructor call build a module that certainly holds parameters
    (``nn.Sequential(nn.Conv1d(...), nn.LeakyReLU())``)?"""
    for sub in walk_nodes(call):
        if sub is call or not isinstance(sub, ast.Call):
            continue
        q = facts.imports.qualname(sub.func) or ""
        if is_module_ctor(q) and q.rsplit(".", 1)[-1] in _PARAMETRIC_MODULES:
            return True
    return False


# torch.nn modules that certainly hold parameters (with the default arguments)
_PARAMETRIC_MODULES = {
    "Linear", "Bilinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
    "Embedding", "EmbeddingBag", "LayerNorm", "GroupNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "RMSNorm",
    "LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell", "MultiheadAttention", "PReLU",
    "TransformerEncoderLayer", "TransformerDecoderLayer", "Transformer", "TransformerEncoder", "TransformerDecoder",
}


def _module_stmt_has_params(facts, stmt: ast.stmt, name: str = "") -> bool:
    value = getattr(stmt, "value", None)
    targets = getattr(stmt, "targets", None) or []
    if isinstance(value, ast.Tuple) and len(targets) == 1 and isinstance(targets[0], ast.Tuple) and len(targets[0].elts) == len(value.elts):
        # ``generator, disc = Generator(), Discriminator()``: the element bound to this name
        names = [t.id if isinstance(t, ast.Name) else None for t in targets[0].elts]
        value = value.elts[names.index(name)] if name in names else None
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in ("to", "cuda", "cpu", "float", "half", "train"):
        value = value.func.value  # ``copy.deepcopy(model).to(device)``
    if not isinstance(value, ast.Call):
        return False
    q = facts.imports.qualname(value.func) or ""
    if q in COPY_FUNCTIONS:
        return True  # a copy of a module: its own parameters
    if isinstance(value.func, ast.Name) and value.func.id in facts.modules.classes:
        return bool(facts.modules.classes[value.func.id].is_module)
    short = q.rsplit(".", 1)[-1]
    # (a container is certain to hold parameters when its constructor call builds a layer that does:
    # ``nn.Sequential(nn.Linear(6, 8), nn.ReLU(), ...)``)
    return is_module_ctor(q) and (short in _PARAMETRIC_MODULES or (short in MODULE_CONTAINER_CLASSES and _builds_parametric(facts, value)))


def constructor_optimizers(facts, cls: str, ident: str = "self") -> list:
    """``(attribute, optimizer value seen through the instance named ident)`` for every optimizer the constructor of the in-file class
    ``cls`` keeps on the instance (``self.optimizer = SGD(self.model.parameters())`` in ``__init__``). Building an
    instance runs ``__init__``: those optimizers exist from the construction on, holding the parameters the model
    had then. Cached per class."""
    cache = facts.__dict__.setdefault("_constructor_optimizers", {})
    got = cache.get(cls)
    if got is None:
        got = []
        init = facts.modules.method(cls, "__init__")
        if init is not None and facts.flow.syntax_of(init)[1]:  # (it assigns an attribute from a call)
            for ev in facts.flow.flow(init).events:
                v = ev.value
                if ev.what == "attr_assign" and ev.name and v is not None and v.kind == "optimizer" and v.params and v.origin is not None and ev.target is not None and ev.target.ident == "self":
                    if all(p == "self" or p.startswith("self.") for p in v.params):
                        got.append((ev.name, v))
        cache[cls] = got
    return [(attr, _rebase(v, ident)) for attr, v in got]


def method_steps(facts, cls: str, name: str, origin: ast.AST) -> bool:
    """Does calling method ``name`` of the in-file class ``cls`` step the optimizer its constructor built at
    ``origin`` (``self.optimizer.step()`` in ``fit``)?"""
    m = facts.modules.method(cls, name)
    if m is None:
        return False
    return any(ev.what == "step" and ev.target is not None and ev.target.kind == "optimizer" and ev.target.origin is origin for ev in facts.flow.flow(m).events)


def method_rebuilds(facts, cls: str, name: str, attr: str) -> bool:
    """Does method ``name`` of ``cls`` assign ``self.<attr>`` anew, or extend or reload it (``add_param_group``,
    ``load_state_dict``)?"""
    m = facts.modules.method(cls, name)
    if m is None:
        return False
    for n in walk_nodes(m):
        if isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.value, ast.Name) and n.value.id == "self":
            if isinstance(n.ctx, ast.Store):
                return True
            parent = facts.parent(n)
            if isinstance(parent, ast.Attribute) and parent.attr in ("add_param_group", "load_state_dict"):
                return True
    return False


@dataclass
class LateUnfreeze:
    """A framework callback sets ``requires_grad`` back on for parameters that were frozen when the framework built
    its optimizer from the parameters that required grad: the optimizer never got them."""

    stmt: Optional[ast.stmt]  # what unfreezes: the ``for`` over the parameters, or the ``requires_grad_(True)`` statement
    part: str  # the unfrozen part, by the caller's name (``model.encoder``)
    frozen: Optional[ast.stmt]  # where that part was frozen, before the optimizer was built
    built: ast.Call  # the call that builds the optimizer (``trainer.train()``)
    trainer: ast.Call  # the framework object's constructor, given the model and the callback


def _requires_grad_turn(facts, ev: Event) -> Optional[bool]:
    """False / True when ``ev`` freezes / unfreezes (a constant), else None."""
    if ev.what == "requires_grad_set" and ev.name == "requires_grad":
        v = getattr(facts.statement_of(ev.node), "value", None)
        return v.value if isinstance(v, ast.Constant) and isinstance(v.value, bool) else None
    if ev.what in ("requires_grad_call", "requires_grad_via_call") and ev.extra in ("True", "False"):
        return ev.extra == "True"
    return None


def _event_roots(ev: Event) -> set:
    return (set(ev.target.live) | ({ev.target.ident} if ev.target.ident else set())) if ev.target is not None else set()


def _conditions(facts, node: ast.AST, scope: ast.AST) -> list:
    out = []
    cur = facts.parent(node)
    while cur is not None and cur is not scope:
        if isinstance(cur, (ast.If, ast.Try, ast.While, *_MATCH)):
            out.append(cur)
        cur = facts.parent(cur)
    return out


def _changing_stmt(facts, ev: Event) -> Optional[ast.stmt]:
    stmt = facts.statement_of(ev.node) or ev.stmt
    outer = facts.parent(stmt)
    if isinstance(outer, ast.For) and stmt in outer.body and ".parameters(" in ast.unparse(outer.iter):
        return outer
    return stmt


def _derives_from(facts, cls: str, bases) -> bool:
    return facts.modules.derives_from(cls, bases)


def _callback_classes(facts, expr: Optional[ast.AST]) -> list:
    """In-file Hugging Face ``TrainerCallback`` classes of a ``callbacks=[...]`` list (instances or classes)."""
    elts = expr.elts if isinstance(expr, (ast.List, ast.Tuple)) else ([expr] if expr is not None else [])
    out = []
    for e in elts:
        f = e.func if isinstance(e, ast.Call) else e
        if isinstance(f, ast.Name) and _derives_from(facts, f.id, HF_CALLBACK_BASES):
            out.append(f.id)
    return out


def _callback_constructions(facts, expr: Optional[ast.AST]) -> dict:
    """In-file ``TrainerCallback`` classes of a ``callbacks=[...]`` list that are built there (``Cb(model)``), with that call."""
    elts = expr.elts if isinstance(expr, (ast.List, ast.Tuple)) else ([expr] if expr is not None else [])
    return {e.func.id: e for e in elts if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and _derives_from(facts, e.func.id, HF_CALLBACK_BASES)}


def _constructor_kept(facts, cls: str, call: ast.Call) -> dict:
    """``{attr: root}`` for each attribute the constructor of ``cls`` keeps from a part of an argument that ``call`` passes
    as a name (``self.layers = list(model.encoder)`` with ``Cb(model)``: ``layers`` -> ``model.encoder``), when that is
    the attribute's only assignment in the class."""
    init = facts.modules.method(cls, "__init__")
    info = facts.modules.classes.get(cls)
    if init is None or info is None or any(isinstance(a, ast.Starred) for a in call.args):
        return {}
    out: dict = {}
    for ev in facts.flow.flow(init).events:
        if ev.what != "attr_assign" or ev.target is None or ev.target.ident != "self" or ev.value is None or not ev.name:
            continue
        if len(info.attr_values.get(ev.name, ())) != 1 or len(ev.value.live) != 1:
            continue
        r = next(iter(ev.value.live))
        head, dot, rest = r.partition(".")
        if not head.startswith("arg:") or not head[4:].isdigit() or int(head[4:]) >= len(call.args):
            continue
        given = call.args[int(head[4:])]
        if isinstance(given, ast.Name):
            out[ev.name] = given.id + dot + rest.replace("[]", "")
    return out


def _through_kept(root: str, kept: dict) -> Optional[str]:
    """``self.layers[]...`` -> the part of the caller's object the attribute holds (``model.encoder...``), else None."""
    if not root.startswith("self."):
        return None
    attr, sep, rest = root[5:].partition(".")
    attr = attr.split("[", 1)[0]
    if attr not in kept:
        return None
    rest = rest.replace("[]", "")
    return kept[attr] + ("." + rest if rest else "")


def _model_from_kwargs(meth: ast.FunctionDef) -> Optional[str]:
    """The ``**kwargs`` name of a callback event whose every use is ``kwargs["model"]`` / ``kwargs.get("model")``
    (the flow engine names the entries of a dict argument by the argument)."""
    kw = meth.args.kwarg.arg if meth.args.kwarg else None
    if kw is None:
        return None
    uses = {id(n) for n in walk_nodes(meth) if isinstance(n, ast.Name) and n.id == kw}
    reads = set()
    for n in walk_nodes(meth):
        key: Optional[ast.AST] = None
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id == kw:
            key, name = n.slice, n.value
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get" and isinstance(n.func.value, ast.Name) and n.func.value.id == kw and n.args:
            key, name = n.args[0], n.func.value
        if key is None:
            continue
        if not (isinstance(key, ast.Constant) and key.value == "model"):
            return None
        reads.add(id(name))
    return kw if reads and reads == uses else None


def hf_trainer_optimizer_builds(facts) -> list:
    """``(train call, model expression)`` for each ``trainer.train()`` (or ``Trainer(...).train()``) of a Hugging Face
    Trainer the file builds with a model and no optimizer of its own (no ``optimizers=`` other than ``(None, None)``,
    no in-file subclass overriding ``create_optimizer``): the Trainer builds its optimizer there, when ``train()``
    starts, from the parameters the model has then. Computed once per file."""
    cached = getattr(facts, "_hf_trainer_builds", None)
    if cached is not None:
        return cached
    out: list = []
    if "Trainer" in facts.source.text and ".train(" in facts.source.text:
        for call in facts.walk(ast.Call):
            cls = call.func.id if isinstance(call.func, ast.Name) and call.func.id in facts.modules.classes else None
            if not (facts.imports.qualname(call.func) in HF_TRAINER_BASES or (cls and facts.modules.classes[cls].framework == "hf_trainer")):
                continue
            if cls and any(facts.modules.method(cls, m) is not None for m in HF_TRAINER_OPTIMIZER_BUILDERS):
                continue
            kw = {k.arg: k.value for k in call.keywords if k.arg}
            opts = kw.get("optimizers")
            if opts is not None and not (isinstance(opts, ast.Tuple) and opts.elts and isinstance(opts.elts[0], ast.Constant) and opts.elts[0].value is None):
                continue
            model = kw.get("model") or (call.args[0] if call.args else None)
            if model is None:
                continue
            stmt = facts.statement_of(call)
            name = stmt.targets[0].id if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) else None
            scope = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
            for n in walk_nodes(scope):
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "train" and position(n) > position(call):
                    recv = n.func.value
                    if recv is call or (name is not None and isinstance(recv, ast.Name) and recv.id == name):
                        out.append((n, model))
    facts._hf_trainer_builds = out
    return out


def late_callback_unfreezes(facts) -> list:
    """The Hugging Face Trainer builds its optimizer when ``train()`` starts, from the model's parameters that
    require grad at that moment (an in-file subclass overriding ``create_optimizer``, or ``optimizers=`` given,
    builds its own). A part of the model frozen before ``train()`` (unconditionally, in the function that calls
    it) and unfrozen by one of the Trainer's callbacks in an event it runs during training (``on_epoch_begin``,
    through its ``model`` argument) gets gradients but is in no optimizer: it never changes."""
    if "TrainerCallback" not in facts.source.text or "requires_grad" not in facts.source.text:
        return []
    out: list = []
    for scope in facts.scopes_matching(re.compile(r"callbacks")):
        fl = None
        for call in facts.own_nodes(scope):
            if not isinstance(call, ast.Call):
                continue
            cls = call.func.id if isinstance(call.func, ast.Name) and call.func.id in facts.modules.classes else None
            if not (facts.imports.qualname(call.func) in HF_TRAINER_BASES or (cls and facts.modules.classes[cls].framework == "hf_trainer")):
                continue
            if cls and any(facts.modules.method(cls, m) is not None for m in HF_TRAINER_OPTIMIZER_BUILDERS):
                continue
            kw = {k.arg: k.value for k in call.keywords if k.arg}
            opts = kw.get("optimizers")
            if opts is not None and not (isinstance(opts, ast.Tuple) and all(isinstance(e, ast.Constant) and e.value is None for e in opts.elts)):
                continue
            model = kw.get("model") or (call.args[0] if call.args else None)
            if not isinstance(model, ast.Name):
                continue
            callbacks = _callback_classes(facts, kw.get("callbacks"))
            made = _callback_constructions(facts, kw.get("callbacks"))  # class -> its ``Cb(model)`` call
            stmt = facts.statement_of(call)
            name = stmt.targets[0].id if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) else None
            train = None
            for n in facts.own_nodes(scope):
                if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.lineno >= call.lineno):
                    continue
                recv = n.func.value
                if n.func.attr == "add_callback" and isinstance(recv, ast.Name) and recv.id == name and n.args:
                    callbacks += _callback_classes(facts, n.args[0])
                elif n.func.attr == "train" and (recv is call or (isinstance(recv, ast.Name) and recv.id == name)):
                    if train is None or (n.lineno, n.col_offset) < (train.lineno, train.col_offset):
                        train = n
            if train is None or not callbacks:
                continue
            fl = fl or facts.flow.flow(scope)
            train_conds = set(map(id, _conditions(facts, train, scope)))
            frozen: dict = {}  # part -> the statement that froze it (and was not undone) before train()
            for ev in fl.events:
                turn = _requires_grad_turn(facts, ev)
                if turn is None or ev.node.lineno >= train.lineno:
                    continue
                for r in _event_roots(ev):
                    if r != model.id and not r.startswith(model.id + "."):
                        continue
                    if turn is False:
                        st = _changing_stmt(facts, ev)
                        if st is not None and all(id(c) in train_conds for c in _conditions(facts, ev.node, scope)):
                            frozen.setdefault(r, st)
                    else:
                        frozen = {p: s for p, s in frozen.items() if not related(p, r)}
            # what a callback's constructor freezes through what it keeps of its arguments (``self.layers =
            # list(model.encoder)``, then ``layer.requires_grad_(False)`` for each), before ``train()``
            kept_by: dict = {}
            for cb, ctor in made.items():
                kept = _constructor_kept(facts, cb, ctor)
                kept_by[cb] = kept
                init = facts.modules.method(cb, "__init__")
                inside = isinstance(train.func, ast.Attribute) and any(n is ctor for n in walk_nodes(train.func.value))
                if init is None or not kept or (position(ctor) >= position(train) and not inside):
                    continue  # (``Trainer(..., callbacks=[Cb(model)]).train()``: built before train() runs)
                for ev in facts.flow.flow(init).events:
                    if _requires_grad_turn(facts, ev) is False:
                        for r in _event_roots(ev):
                            part = _through_kept(r, kept)
                            if part is not None and (part == model.id or part.startswith(model.id + ".")):
                                frozen.setdefault(part, facts.statement_of(ctor) or _changing_stmt(facts, ev))
            if not frozen:
                continue
            for cb in dict.fromkeys(callbacks):
                for event in HF_CALLBACK_EVENTS_DURING_TRAINING:
                    meth = facts.modules.method(cb, event)
                    if meth is None or "optimizer" in ast.unparse(meth):
                        continue  # (adds the parameters to ``kwargs["optimizer"]`` itself, perhaps)
                    mfl = facts.flow.flow(meth)
                    given = "model" if "model" in mfl.args else _model_from_kwargs(meth)
                    if given is None or given not in mfl.args:
                        if not kept_by.get(cb):
                            continue
                        given = None
                    arg = f"arg:{mfl.args.index(given)}" if given is not None else "\0"
                    for ev in mfl.events:
                        if _requires_grad_turn(facts, ev) is not True:
                            continue
                        for r in sorted(_event_roots(ev)):
                            through = _through_kept(r, kept_by.get(cb) or {})
                            if through is not None and (through == model.id or through.startswith(model.id + ".")):
                                part = through  # (``self.layers[-epoch].requires_grad_(True)``: a part of the model it kept)
                            elif r != arg and not r.startswith(arg + "."):
                                continue
                            else:
                                part = model.id + r[len(arg):]
                            hit = next((p for p in sorted(frozen) if related(p, part)), None)
                            if hit is not None:
                                shown = part if part.startswith(hit + ".") else hit
                                out.append(LateUnfreeze(_changing_stmt(facts, ev), shown, frozen[hit], train, call))
                                break
    seen: set = set()
    unique = []
    for u in out:
        if u.stmt is not None and id(u.stmt) not in seen:
            seen.add(id(u.stmt))
            unique.append(u)
    return unique




@dataclass(frozen=True)
class CallbackHook:
    """A hook of an in-file Lightning ``Callback`` that the Trainer runs before the training steps, analyzed with its
    ``pl_module`` argument as a LightningModule of the file: ``flow``'s roots ``self...`` are that module's."""

    flow: FunctionFlow
    module_cls: str  # the LightningModule class ``pl_module`` stands for
    hook: ast.AST  # the hook method


def lightning_callback_hooks(facts) -> list:
    """``CallbackHook`` for each hook in ``LIGHTNING_HOOKS_BEFORE_TRAINING_STEP`` (``on_fit_start``,
    ``on_train_epoch_start``, ...) of each in-file Lightning ``Callback`` subclass, run with ``pl_module`` (its second
    argument after ``trainer``) as each in-file LightningModule class that has a ``training_step``: the Trainer passes
    the module it fits to every callback it was given, so what the hook does to ``pl_module`` (``pl_module.freeze()``)
    it does to the module before its training steps."""
    cache = facts.__dict__.get("_callback_hooks")
    if cache is not None:
        return cache
    out: list = []
    facts.__dict__["_callback_hooks"] = out
    if "Callback" not in facts.source.text:
        return out
    modules = [c for c, info in facts.modules.classes.items() if info.framework == "lightning" and "training_step" in info.methods]
    if not modules:
        return out
    for info in facts.flow.lightning_callbacks():
        for name in LIGHTNING_HOOKS_BEFORE_TRAINING_STEP:
            hook = info.methods.get(name)
            for cls in modules:
                fl = facts.flow.callback_hook_flow(hook, info.name, cls)
                if fl is not None:
                    out.append(CallbackHook(fl, cls, hook))
    return out


# -- requires_grad state on a training loop's later iterations ---------------------------------------------------------
@dataclass
class CarriedFreeze:
    """Parameters frozen at a backward on every run of a repeated training step after the first: the step (a loop's
    body, or a function an in-file loop calls) switches them off after its backward (or switches them on only after
    the backward and off again before the next), and nothing switches them back on before the backward comes round
    again. ``requires_grad`` is read when the forward runs, so from the second run on the backward gives them no
    gradient and the optimizer stops changing them."""

    kind: str  # "carried": trainable at the first backward, left off for the next ones; "late": switched on only after it
    part: str  # the frozen part, as the loss names it (``model.features``)
    kept: tuple  # parts of it switched back on after the freeze (``model.head``)
    kept_events: tuple  # the switches that do
    event: Event  # the switch, in the repeated step's function: the freeze (carried) or the late unfreeze
    refreeze: Optional[Event]  # "late": the freeze after it, before the next backward
    backward: ast.AST  # the backward it starves (or the call of the helper that runs it)
    region: ast.AST  # the loop, or the function called in a loop
    fl: FunctionFlow


def _inside(node: ast.AST, region: ast.AST) -> bool:
    a, b = position(node), position(region)
    end = (getattr(region, "end_lineno", 0) or 0, getattr(region, "end_col_offset", 0) or 0)
    return b <= a and (a[0] < end[0] or (a[0] == end[0] and a[1] < end[1]))


def _unconditional(facts, node: ast.AST, scope: ast.AST) -> bool:
    """No ``if`` / ``while`` / ``try`` between ``node`` and ``scope`` (``for`` loops are fine: over parameters, batches)."""
    return not _conditions(facts, node, scope)


def _loss_roots(v: Val) -> set:
    return {r for r in v.live if r and r not in ("?", "<new>") and not r.startswith("arg:")}


def _backprop_items(facts, fl: FunctionFlow, region: ast.AST) -> list:
    """``(node, loss roots)`` for each backward of ``region``: ``fl``'s own, and the calls of in-file helpers that
    backpropagate (a method through ``self``: the helper's loss roots in ``self``'s terms)."""
    out = []
    seen: set = set()
    for s in fl.backward_sites:
        if s.implicit or id(s.node) in seen or not _inside(s.node, region):
            continue
        seen.add(id(s.node))
        out.append((s.node, _loss_roots(s.loss)))
    for call in _backprop_calls(facts, fl.node, fl.owner):
        if id(call) in seen or not _inside(call, region):
            continue
        seen.add(id(call))
        f = call.func
        target = None
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self" and fl.owner:
            target = facts.modules.method(fl.owner, f.attr)
        roots: set = set()
        if target is not None:
            for s in facts.flow.flow(target).backward_sites:
                roots |= {r for r in _loss_roots(s.loss) if r.startswith("self.")}
        out.append((call, roots))
    return out


def _switches(facts, fl: FunctionFlow, region: ast.AST) -> list:
    """``(event, on, roots)`` for the requires_grad switches of ``region`` whose value is known, in the order they run (a
    loop's body is walked twice by the flow: each switch once)."""
    out = []
    seen: set = set()
    partial = None
    for ev in fl.events:
        on = _requires_grad_turn(facts, ev)
        if on is None or ev.target is None or not _inside(ev.node, region):
            continue
        roots = frozenset(r.replace("[]", "") for r in _event_roots(ev) if r and r not in ("?", "<new>"))
        key = (id(ev.node), on, roots)
        if not roots or key in seen:
            continue
        seen.add(key)
        if partial is None:
            from gradguard.core.flow import per_part_branches
            partial = per_part_branches(fl.node, facts.imports)
        if id(ev.node) in partial:
            continue
        out.append((ev, on, roots))
    out.sort(key=lambda t: position(t[0].node))  # (stable: one call's switches keep their order)
    return out


def _state(part: str, switches: list, start: Optional[bool]) -> tuple:
    """(on?, deciding switch index or None, indices of later switches that turn a part of ``part`` back on)."""
    state: Optional[bool] = start
    at: Optional[int] = None
    kept: list = []
    for i, (_ev, on, roots) in enumerate(switches):
        if any(covers(r, part) for r in roots):
            state, at, kept = on, i, []
        elif on and state is False and at is not None and any(covers(w, r) and w != r for r in roots for w in switches[at][2]):
            kept.append(i)  # (a part of what the deciding freeze froze, switched back on: ``model.head`` after ``model``)
    return state, at, kept


def _repeated(facts, fn: ast.AST) -> bool:
    """Is ``fn`` (a function or method of the file) called inside a loop (``for step in range(n):
    model.optimize_parameters(...)``: each call runs it again), or a method a framework calls once a batch (Lightning's
    ``training_step``)?"""
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    owner = facts.flow.owner.get(id(fn))
    info = facts.modules.classes.get(owner or "")
    if info is not None and fn.name in REPEATED_BY_FRAMEWORK.get(info.framework or "", ()):
        return True
    for call in facts.nodes_near(ast.Call, (fn.name,)):
        f = call.func
        name = f.attr if isinstance(f, ast.Attribute) else (f.id if isinstance(f, ast.Name) else None)
        if name != fn.name:
            continue
        loop = facts.enclosing(call, (ast.For, ast.AsyncFor, ast.While))
        scope = facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        if loop is not None and (scope is None or _inside(loop, scope)):
            return True
    return False


def _entry_on(facts, fl: FunctionFlow, region: ast.AST, part: str) -> Optional[bool]:
    """Is ``part`` trainable when ``region`` starts? What ``fl`` switched before it decides (for ``self`` parts, what
    the class's constructor switched first); unknown (None) for a part of an argument nothing here switched."""
    before = []
    if part.startswith("self.") and fl.owner:
        init = facts.modules.method(fl.owner, "__init__")
        if init is not None:
            before += [(ev, on, roots) for ev, on, roots in _switches(facts, facts.flow.flow(init), init)]
    if isinstance(fl.context, ast.Call):
        # (in a caller's terms: what the caller switched before the call holds when the function starts)
        caller = facts.enclosing(fl.context, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
        before += [t for t in _switches(facts, facts.flow.flow(caller), caller) if position(t[0].node) < position(fl.context)]
    if region is not fl.node:
        before += [t for t in _switches(facts, fl, fl.node) if position(t[0].node) < position(region)]
    state, _at, _kept = _state(part, before, None)
    if state is not None:
        return state
    return None if part.startswith("arg:") else True


_REQUIRES_GRAD = re.compile(r"requires_grad")


def carried_freezes(facts) -> list:
    """Every :class:`CarriedFreeze` of the file (computed once)."""
    cached = getattr(facts, "_carried_freezes", None)
    if cached is not None:
        return cached
    out: list = []
    if facts.text_index.anywhere(_REQUIRES_GRAD):
        # only the scopes that switch requires_grad themselves or call a function of the file that does (the flow engine
        # is run for no other), with a backward or a call in them
        callers = facts.flow.requires_grad_callers()
        scopes = {id(sc): sc for sc in facts.scopes_matching(_REQUIRES_GRAD)}
        if callers is not None:
            scopes.update((id(sc), sc) for sc in facts.scopes_matching(callers))
        flows = [facts.flow.flow(sc) for sc in scopes.values()]
        # (and their flows in their callers' terms: ``train(fabric, model, ...)`` backpropagates a loss of the caller's
        # model, which its own flow sees only through an argument it knows nothing of)
        flows += [c for c in facts.flow.context_flows if id(c.node) in scopes]
        repeated: dict = {}
        for fl in flows:
            if not isinstance(fl.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                continue
            if not any(_requires_grad_turn(facts, ev) is not None for ev in fl.events):
                continue
            regions: list = [n for n in facts.own_nodes(fl.node) if isinstance(n, (ast.For, ast.AsyncFor, ast.While))]
            if id(fl.node) not in repeated:
                repeated[id(fl.node)] = _repeated(facts, fl.node)
            if repeated[id(fl.node)]:
                regions.append(fl.node)
            for region in regions:
                out.extend(_carried_in(facts, fl, region))
    seen: set = set()
    uniq = []
    for c in out:
        key = (id(c.event.node), c.part)
        if key not in seen:
            seen.add(key)
            uniq.append(c)
    facts._carried_freezes = uniq
    return uniq


def _carried_in(facts, fl: FunctionFlow, region: ast.AST) -> list:
    switches = _switches(facts, fl, region)
    if not switches:
        return []
    backs = _backprop_items(facts, fl, region)
    if not backs:
        return []
    steps = [ev for ev in fl.events if stepped_optimizer(ev) and _inside(ev.node, region)]
    if not steps:
        return []
    out = []
    for node, roots in backs:
        pos = position(node)
        before = [t for t in switches if position(t[0].node) < pos]
        for part in sorted(roots):
            first, at1, _k = _state(part, before, None)
            again, at2, kept = _state(part, switches + before, None)
            if again is not False or at2 is None:
                continue
            ev, _on, _roots = (switches + before)[at2]
            if at1 is not None:
                continue  # (frozen before the backward in the same run: every run alike, not this fact)
            if not _stepped(steps, part):
                continue
            conds = _conditions(facts, ev.node, region)
            late = [t for t in switches if t[1] and position(t[0].node) > pos and position(t[0].node) < position(ev.node) and any(covers(r, part) for r in t[2])]
            if late:
                # switched on after the backward and off again before the next: whenever the branch that does it runs (its
                # test the same on every run), the part is off at every later backward
                on_ev = late[-1][0]
                if any(not any(c is d for d in _conditions(facts, on_ev.node, region)) for c in conds) or any(_varies(facts, c, region) for c in conds):
                    continue
                out.append(CarriedFreeze("late", part, (), (), on_ev, ev, node, region, fl))
                continue
            if conds:
                continue  # (a freeze some runs make: a schedule, ``if epoch == k:``, is meant)
            if first is None and _entry_on(facts, fl, region, part) is not True:
                continue  # (frozen already when the loop starts: the freeze inside it changes nothing)
            kept_parts = tuple(sorted({r for i in kept for r in (switches + before)[i][2]}))
            out.append(CarriedFreeze("carried", part, kept_parts, tuple((switches + before)[i][0] for i in kept), ev, None, node, region, fl))
    return out


def _stepped(steps: list, part: str) -> bool:
    """Does an optimizer stepped in the loop hold ``part`` (or one the model cannot see)?"""
    for ev in steps:
        t = ev.target
        if t is not None and t.kind == "optimizer" and t.params:
            if any(related(part, p) for p in t.params):
                return True
            continue
        return True
    return False


def _varies(facts, cond: ast.AST, region: ast.AST) -> bool:
    """Can the test of ``cond`` (an ``if`` / ``while``; a ``try`` always) change from one run of ``region`` to the next: it
    reads a name the region binds (the loop's variable, a value computed in it)?"""
    test = getattr(cond, "test", None)
    if test is None:
        return True
    bound = {n.id for n in walk_nodes(region) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    if isinstance(region, (ast.For, ast.AsyncFor)):
        bound |= {n.id for n in walk_nodes(region.target) if isinstance(n, ast.Name)}
    return any(isinstance(n, ast.Name) and n.id in bound for n in walk_nodes(test))


def frozen_at_backward(facts, fl: FunctionFlow, root: str, site) -> bool:
    """Is ``root`` switched off when ``site`` (a backward of ``fl``) runs, by what ``fl`` switched before it and, for a flow in
    a caller's terms, what that caller switched before the call (``set_trainable(model.backbone, False)``, then
    ``train_epoch(model, ...)``, then an unfreeze for the next phase: frozen in the first phase's backward)?"""
    before = []
    if isinstance(fl.context, ast.Call):
        caller = facts.enclosing(fl.context, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree
        before += [t for t in _switches(facts, facts.flow.flow(caller), caller) if position(t[0].node) < position(fl.context)]
    if isinstance(fl.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        before += [t for t in _switches(facts, fl, fl.node) if position(t[0].node) < position(site.node)]
    state, _at, _kept = _state(root.replace("[]", ""), before, None)
    return state is False

