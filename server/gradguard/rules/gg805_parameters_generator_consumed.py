"""GG805 parameters-generator-consumed: ``params = model.parameters()`` iterated before it reaches the optimizer."""
from __future__ import annotations

import ast
import re
from typing import Optional, cast

from gradguard.core.model import Applicability, Severity
from gradguard.core.order import mutually_exclusive, position
from gradguard.core.torchapi import is_optimizer_ctor
from gradguard.fixes import fix, replace_node
from gradguard.rules.base import Example, Rule

_GENERATORS = ("parameters", "named_parameters")
_BOUND = re.compile(r"=\s*[\w.\[\]]+\.(?:named_)?parameters\([^)\n]*\)\s*(?:#[^\n]*)?$", re.M)  # `name = m.parameters()`
# other one-shot iterators a parameter list may be made into: ``filter(...)``, ``map(...)``, ``iter(...)``, a
# generator expression, or a helper that returns one of them
_ONE_SHOT_HINT = re.compile(r"\b(?:filter|map|iter|chain)\(|\(\s*\w+\s+for\s|return\s+[\w.\[\]]+\.(?:named_)?parameters\(")
# its branches, the ones the regex engine finds fast first (``\b`` before an alternation is tried at every position)
_ONE_SHOT_PARTS = (re.compile(r"\(\s*\w+\s+for\s"), re.compile(r"return\s+[\w.\[\]]+\.(?:named_)?parameters\("), re.compile(r"\b(?:filter|map|iter|chain)\("))
_ONE_SHOT_BUILTINS = {"filter", "map", "iter", "zip", "reversed", "enumerate"}
_RETURNS_ONE_SHOT = re.compile(r"return\s+(?:[\w.\[\]]+\.(?:named_)?parameters\(|(?:itertools\.)?(?:filter|map|iter|zip|reversed|enumerate|chain)\(|\()")
_OPTIMIZER_HINT = re.compile(r"optim|Adam|SGD|RMSprop|Adagrad|Adadelta|LBFGS|Lion|Lamb|Optimizer")
_CONSUMERS = {"sum", "list", "tuple", "sorted", "set", "max", "min", "map", "filter", "enumerate", "zip", "dict", "any", "all", "frozenset"}
_TORCH_CONSUMERS = ("clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters")


class ParametersGeneratorConsumed(Rule):
    code = "GG805"
    name = "parameters-generator-consumed"
    summary = "`model.parameters()` is a one-shot generator: iterating it first leaves the optimizer an empty parameter list."
    severity = Severity.ERROR
    needs = ("parameters(",)
    fix_applicability = Applicability.SAFE
    docs = """
## What it does
Flags `params = model.parameters()` (or `named_parameters()`, or another one-shot iterator: `filter(...)`,
`map(...)`, `iter(...)`, a generator expression, a helper returning one of them) bound to a name that is
iterated (a `for` loop, a comprehension, `sum(...)`, `list(...)`, `clip_grad_norm_(...)`, a helper that
iterates its argument) and afterwards given to an
optimizer. An optimizer built from the iterator consumes it too: a second optimizer built from the same name gets
nothing, also when the iterator is kept on an object (`self.trainable = filter(...)` in `__init__`, given to the optimizer
the constructor builds, and again to the optimizer another method rebuilds to decay the learning rate). A parameter
group list bound to a name first (`paras = [{"params": gen, "lr": ...}]`, then `Adam(paras)`) counts as given to the
optimizer.

## Why is this bad?
`Module.parameters()` returns a generator, which can be iterated only once. After counting or
inspecting the parameters, the generator is exhausted: the optimizer receives nothing and raises
`ValueError: optimizer got an empty parameter list` (or, after a partial `any(...)`, silently misses
parameters).

## Example
```python
params = model.parameters()
print(sum(p.numel() for p in params))
optimizer = torch.optim.Adam(params)
```

## Use instead
```python
params = list(model.parameters())
```

## Fix safety
Materializing the generator with `list(...)` is safe: a list iterates the same parameters, as often as
needed, and every optimizer accepts it. The fix is not offered when the name is also used with `next()`.
"""
    examples = (
        Example(
            name="filtered-parameters-kept-on-the-trainer-and-given-to-each-rebuilt-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Finetuner:
    def __init__(self, model, lr=1e-2):
        self.model = model
        model[0].requires_grad_(False)
        self.trainable = filter(lambda p: p.requires_grad, model.parameters())
        self.opt = torch.optim.SGD(self.trainable, lr=lr)

    def restart(self, lr):
        # a fresh optimizer (and its state) at each stage, with a smaller learning rate
        self.opt = torch.optim.SGD(self.trainable, lr=lr)

    def fit(self, batches, stages=(1e-2, 1e-3)):
        for lr in stages:
            self.restart(lr)
            for x, y in batches:
                loss = F.mse_loss(self.model(x), y)
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    batches = [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(2)]
    Finetuner(model).fit(batches)
    return {"model": model}
""",
            lines=(10,),
            expect={"error": "empty parameter list"},
            fixed_expect={"grad_ok": ["model.2.weight", "model.2.bias"]},
        ),
        Example(
            name="filtered-parameters-kept-as-a-list-for-each-rebuilt-optimizer",
            code="""import torch
import torch.nn as nn
import torch.nn.functional as F


class Finetuner:
    def __init__(self, model, lr=1e-2):
        self.model = model
        model[0].requires_grad_(False)
        self.trainable = list(filter(lambda p: p.requires_grad, model.parameters()))
        self.opt = torch.optim.SGD(self.trainable, lr=lr)

    def restart(self, lr):
        # a fresh optimizer (and its state) at each stage, with a smaller learning rate
        self.opt = torch.optim.SGD(self.trainable, lr=lr)

    def fit(self, batches, stages=(1e-2, 1e-3)):
        for lr in stages:
            self.restart(lr)
            for x, y in batches:
                loss = F.mse_loss(self.model(x), y)
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    batches = [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(2)]
    Finetuner(model).fit(batches)
    return {"model": model}
""",
            bad=False,
            expect={"grad_ok": ["model.2.weight", "model.2.bias"]},
        ),
        Example(
            name="count-then-optimize",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 1))
    weights = net.parameters()
    total = 0
    for w in weights:
        total += w.numel()
    opt = torch.optim.SGD(weights, lr=0.1)
    net(torch.randn(3, 5)).pow(2).mean().backward()
    opt.step()
    return {"net": net}, {"total": total}
""",
            lines=(8,),
            expect={"error": "optimizer got an empty parameter list"},
        ),
        Example(
            name="trainable-filter-in-dict-group",
            code="""import torch
from torch import nn


def main():
    torch.manual_seed(0)
    enc = nn.Linear(4, 4)
    w0 = enc.weight.detach().clone()
    ps = enc.parameters()
    n_trainable = len([p for p in ps if p.requires_grad])
    opt = torch.optim.Adam([{"params": ps, "lr": 1e-3}])
    enc(torch.randn(2, 4)).sum().backward()
    opt.step()
    return {"enc": enc}, {"n": n_trainable, "enc_changed": not torch.equal(w0, enc.weight.detach())}
""",
            lines=(9,),
            expect={"grad_ok": ["enc.weight"], "facts": {"enc_changed": False}},
        ),
        Example(
            name="helper-filter-counted-by-helper",
            code="""import torch
import torch.nn as nn


def trainable_parameters(model):
    return filter(lambda p: p.requires_grad, model.parameters())


def count_parameters(params):
    return sum(p.numel() for p in params)


def configure_optimizer(model, log):
    params = trainable_parameters(model)
    log["n_trainable"] = count_parameters(params)
    return torch.optim.Adam(params, lr=1e-2)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    log = {}
    opt = configure_optimizer(model, log)
    opt.zero_grad()
    model(torch.randn(5, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            lines=(14,),
            expect={"error": "optimizer got an empty parameter list"},
        ),
        Example(
            name="helper-chains-parameters-and-freezes-the-embedding",
            code="""import itertools

import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, tokens):
        return self.head(self.embed(tokens).mean(1))


def trainable_parameters(model):
    model.embed.weight.requires_grad_(False)
    return itertools.chain(model.head.parameters())


def main():
    torch.manual_seed(0)
    model = Tagger()
    params = trainable_parameters(model)
    n_trainable = sum(p.numel() for p in params)
    opt = torch.optim.AdamW(params, lr=1e-2)
    for _ in range(2):
        opt.zero_grad()
        model(torch.randint(0, 20, (4, 5))).pow(2).mean().backward()
        opt.step()
    return {"model": model}
""",
            lines=(25,),
            expect={"error": "optimizer got an empty parameter list"},
        ),
        Example(
            bad=False,
            name="helper-filter-materialized",
            code="""import torch
import torch.nn as nn


def trainable_parameters(model):
    return [p for p in model.parameters() if p.requires_grad]


def count_parameters(params):
    return sum(p.numel() for p in params)


def configure_optimizer(model, log):
    params = trainable_parameters(model)
    log["n_trainable"] = count_parameters(params)
    return torch.optim.Adam(params, lr=1e-2)


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    log = {}
    opt = configure_optimizer(model, log)
    opt.zero_grad()
    model(torch.randn(5, 4)).pow(2).mean().backward()
    opt.step()
    return {"model": model}
""",
            expect={"grad_ok": ["model.0.weight", "model.2.weight"]},
        ),
        Example(
            bad=False,
            name="list-or-fresh-call",
            code="""import torch
import torch.nn as nn


def main():
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    params = list(net.parameters())
    n1 = sum(p.numel() for p in params)
    gen = net.parameters()
    n2 = sum(p.numel() for p in net.parameters())
    opt = torch.optim.SGD(params, lr=0.1)
    opt2 = torch.optim.SGD(gen, lr=0.1)
    net(torch.randn(4, 3)).sum().backward()
    opt.step()
    return {"net": net}, {"same": n1 == n2}
""",
            expect={"grad_ok": ["net.weight"], "facts": {"same": True}},
        ),
    )

    def check(self, facts):
        text = facts.source.text
        if not _BOUND.search(text) and not any(p.search(text) for p in _ONE_SHOT_PARTS[:2]) and not facts.text_index.anywhere(_ONE_SHOT_PARTS[2]):
            return  # no `name = x.parameters()` binding nor other one-shot iterator: nothing can be consumed twice
        # only scopes that bind a one-shot iterator (directly or from a helper returning one) and build an optimizer
        helpers = [
            fn.name
            for fn in facts.scopes_matching(_RETURNS_ONE_SHOT)
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and facts.flow.functions.get(fn.name) is fn and _one_shot(facts, ast.Call(func=ast.Name(id=fn.name, ctx=ast.Load()), args=[], keywords=[]))
        ]
        binds = re.compile("|".join([_BOUND.pattern, _ONE_SHOT_HINT.pattern, *(rf"\b{re.escape(h)}\(" for h in helpers)]), re.M)
        for scope in facts.scopes_matching(_OPTIMIZER_HINT, binds):  # (the optimizer hint first: found in one pass over the file)
            gens = []
            names: dict = {}
            for node in facts.own_nodes(scope):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    v = node.value
                    names.setdefault(node.targets[0].id, []).append(node)
                    if _one_shot(facts, v):
                        gens.append(node)
                elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.target, ast.Name):
                    names.setdefault(node.target.id, []).append(node.target)
            for assign in gens:
                name = cast(ast.Name, assign.targets[0]).id  # gens only holds ``<name> = <params generator>``
                later_binds = [b for b in names.get(name, []) if b is not assign and position(b) > position(assign)]
                limit = min((position(b) for b in later_binds), default=(10**9, 0))
                uses = [n for n in facts.own_nodes(scope) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) and position(assign) < position(n) < limit]
                consumers, opt_uses, has_next = [], [], False
                for u in uses:
                    kind = self._use_kind(facts, u)
                    if kind == "consume":
                        consumers.append(u)
                    elif kind == "optimizer":
                        opt_uses.append(u)
                    elif kind == "next":
                        has_next = True
                for o in opt_uses:
                    # (an optimizer built from it before consumes it too: a second optimizer gets nothing)
                    before = [c for c in sorted([*consumers, *opt_uses], key=position) if position(c) < position(o) and not mutually_exclusive(facts, c, o)]
                    if not before:
                        continue
                    c = before[0]
                    opt_call = self._opt_call(facts, o)
                    fixes = []
                    if not has_next:
                        v = assign.value
                        fixes.append(lambda v=v: fix("Materialize with `list(...)`", replace_node(facts, v, f"list({facts.text(v)})")))
                    yield self.finding(
                        facts,
                        assign.value,
                        f"`{name}` is a one-shot generator: it is consumed on line {c.lineno} before it reaches the optimizer, which then gets no parameters",
                        related=[(c, f"`{name}` is exhausted here"), (opt_call or o, "the optimizer receives an exhausted generator")],
                        fixes=fixes,
                        explanation="`Module.parameters()` returns a generator; once iterated it yields nothing, so the optimizer raises `ValueError: optimizer got an empty parameter list` or silently misses parameters.",
                    )
                    break
        if "self." in text:
            yield from self._attribute_generators(facts)

    def _attribute_generators(self, facts):
        """``self.<attr> = <one-shot iterator>`` in a class's ``__init__`` (``filter(lambda p: ..., model.parameters())``),
        consumed there (by the optimizer the constructor builds, a loop, ``list(...)``) and given again to an optimizer
        in another method of the class (an optimizer rebuilt each epoch to decay the learning rate): that optimizer gets
        nothing from it."""
        for info in facts.modules.classes.values():
            init = info.methods.get("__init__")
            if init is None:
                continue
            for node in facts.own_nodes(init):
                if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute)
                        and isinstance(node.targets[0].value, ast.Name) and node.targets[0].value.id == "self" and _one_shot(facts, node.value)):
                    continue
                attr = node.targets[0].attr
                uses: dict = {}
                rebound = False
                for name, m in info.methods.items():
                    for n in facts.own_nodes(m):
                        if isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.value, ast.Name) and n.value.id == "self":
                            if isinstance(n.ctx, ast.Store) and n is not node.targets[0]:
                                rebound = True
                            elif isinstance(n.ctx, ast.Load):
                                uses.setdefault(name, []).append(n)
                if rebound:
                    continue
                first = [u for u in uses.get("__init__", []) if position(u) > position(node) and self._use_kind(facts, u) in ("consume", "optimizer")]
                if not first:
                    continue
                later = [u for name, us in uses.items() if name != "__init__" for u in us if self._use_kind(facts, u) == "optimizer"]
                if not later:
                    continue
                o = min(later, key=position)
                c = min(first, key=position)
                yield self.finding(
                    facts,
                    node.value,
                    f"`self.{attr}` is a one-shot iterator: it is consumed on line {c.lineno} in `__init__`, and the optimizer built from it "
                    f"again on line {o.lineno} gets none of its parameters",
                    related=[(c, f"`self.{attr}` is exhausted here"), (self._opt_call(facts, o) or o, "this optimizer receives the exhausted iterator")],
                    fixes=[_materialize(facts, node.value)],
                    explanation="A `filter(...)`, `map(...)` or `parameters()` generator yields its items once; an optimizer built from it "
                    "afterwards gets an empty parameter group (no error when other groups have parameters): those parameters stop training.",
                )

    @staticmethod
    def _use_kind(facts, u: ast.AST) -> Optional[str]:
        p = facts.parent(u)
        if isinstance(p, (ast.For, ast.AsyncFor)) and p.iter is u:
            return "consume"
        if isinstance(p, ast.comprehension) and p.iter is u:
            return "consume"
        if isinstance(p, ast.Starred):
            return "consume"
        if isinstance(p, ast.Call) and u in p.args:
            f = p.func
            if isinstance(f, ast.Name) and f.id == "next":
                return "next"
            if isinstance(f, ast.Name) and f.id in _CONSUMERS and f.id not in facts.flow.functions:
                return "consume"
            if isinstance(f, ast.Name) and f.id in facts.flow.functions and _consumes_param(facts, facts.flow.functions[f.id], p.args.index(u)):
                return "consume"  # a helper that iterates what it is given (``count_parameters(params)``)
            q = facts.imports.qualname(f) or ""
            if q.startswith("torch.") and q.rsplit(".", 1)[-1] in _TORCH_CONSUMERS:
                return "consume"
            if q and is_optimizer_ctor(q) and p.args and p.args[0] is u:
                return "optimizer"
        if isinstance(p, ast.keyword) and p.arg == "params":
            call = facts.parent(p)
            q = facts.imports.qualname(call.func) or "" if isinstance(call, ast.Call) else ""
            if q and is_optimizer_ctor(q):
                return "optimizer"
        if isinstance(p, ast.Dict):
            for k, v in zip(p.keys, p.values):
                if v is u and isinstance(k, ast.Constant) and k.value == "params":
                    cur = facts.parent(p)
                    while isinstance(cur, (ast.List, ast.Tuple)):
                        cur = facts.parent(cur)
                    if isinstance(cur, ast.Call):
                        q = facts.imports.qualname(cur.func) or ""
                        if q and is_optimizer_ctor(q):
                            return "optimizer"
                    elif isinstance(cur, ast.Assign) and len(cur.targets) == 1 and isinstance(cur.targets[0], ast.Name):
                        # ``paras = [{"params": gen, "lr": ...}, ...]`` then ``Adam(paras)`` in the same function
                        name = cur.targets[0].id
                        scope = facts.enclosing(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) or facts.tree
                        for n in facts.own_nodes(scope):
                            if isinstance(n, ast.Call) and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == name and position(n) > position(cur):
                                q = facts.imports.qualname(n.func) or ""
                                if q and is_optimizer_ctor(q):
                                    return "optimizer"
        return None

    @staticmethod
    def _opt_call(facts, u):
        cur = facts.parent(u)
        while cur is not None and not isinstance(cur, ast.Call):
            cur = facts.parent(cur)
        return cur


def _materialize(facts, v: ast.AST):
    return lambda: fix("Materialize with `list(...)`", replace_node(facts, v, f"list({facts.text(v)})"))


def _one_shot(facts, v: ast.AST, depth: int = 0) -> bool:
    """Is ``v`` an iterator that yields its items once: ``m.parameters()`` / ``named_parameters()``, ``filter``,
    ``map``, ``iter``, ``zip``, ``reversed``, ``enumerate``, ``itertools.chain``, a generator expression, or a
    call of an in-file function every ``return`` of which is one of these?"""
    if isinstance(v, ast.GeneratorExp):
        return True
    if not isinstance(v, ast.Call):
        return False
    f = v.func
    if isinstance(f, ast.Attribute) and f.attr in _GENERATORS:
        return True
    if isinstance(f, ast.Name):
        if f.id in facts.flow.functions:
            if depth >= 2:
                return False
            values = facts.return_values(facts.flow.functions[f.id])
            return values is not None and all(_one_shot(facts, v, depth + 1) for v in values)
        if f.id in _ONE_SHOT_BUILTINS and facts.imports.qualname(f) is None:
            return True
    q = facts.imports.qualname(f) or ""
    return q in ("itertools.chain", "itertools.chain.from_iterable")


def _consumes_param(facts, fn: ast.AST, index: int) -> bool:
    """Does the in-file function ``fn`` iterate its ``index``-th positional parameter (a ``for`` loop, a
    comprehension, ``sum``/``list``/... of it) and never rebind it?"""
    args = fn.args  # type: ignore[attr-defined]
    names = [a.arg for a in [*args.posonlyargs, *args.args]]
    if index >= len(names):
        return False
    name = names[index]
    if any(b.kind != "param" for b in facts.semantic.bindings(fn, name)):
        return False
    for n in facts.own_nodes(fn):
        if isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(n.iter, ast.Name) and n.iter.id == name:
            return True
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in _CONSUMERS and n.func.id not in facts.flow.functions:
            if any(isinstance(a, ast.Name) and a.id == name for a in n.args):
                return True
    return False
