"""GG811 parameter-in-two-groups: two parameter groups of one optimizer, each selected from the same model's
``named_parameters()`` by a name filter, both select some parameter: ``torch.optim`` raises."""
from __future__ import annotations

import ast
from typing import Optional

from gradguard.core.model import Severity
from gradguard.core.paramnames import Unknown, evaluate_name_test, model_class, module_constants, parameter_names, single_binding, truth
from gradguard.core.torchapi import is_optimizer_ctor
from gradguard.rules.base import Example, Rule


class ParameterInTwoGroups(Rule):
    code = "GG811"
    name = "parameter-in-two-groups"
    summary = (
        "Two parameter groups selected from `named_parameters()` by name filters both select a parameter (`\"weight\" in n` "
        "and `\"norm\" in n` both take `norm.weight`): the optimizer raises `some parameters appear in more than one parameter group`."
    )
    severity = Severity.ERROR
    needs = ("named_parameters",)
    docs = """
## What it does
Finds an optimizer built from parameter groups (`[{"params": decay, ...}, {"params": no_decay, ...}]`, also returned by
a helper) whose parameter lists are comprehensions over the same model's `named_parameters()` filtered by name
(`[p for n, p in model.named_parameters() if "weight" in n]`), works out the parameter names of the model's class from
its constructor (its layers, `nn.Sequential`s, `nn.Parameter`s and in-file submodules; `torch.nn` layers by the names
they register, e.g. `attn.in_proj_weight`, `norm.weight`), and flags the filter of a later group that selects a
parameter an earlier group's filter selected too. Filters are evaluated when they are made of `in` / `==` tests,
`startswith` / `endswith`, `any(k in n for k in KEYS)` over a constant tuple, `not`, `and` and `or`; anything else
keeps it silent.

## Why is this bad?
`torch.optim` refuses a parameter in two groups: building the optimizer raises `ValueError: some parameters appear in
more than one parameter group`. The usual cause is a weight-decay split whose two filters are not complements (the
norm layers' weights contain both "weight" and "norm").

## Example
```python
decay = [p for n, p in model.named_parameters() if "weight" in n]
no_decay = [p for n, p in model.named_parameters() if "bias" in n or "norm" in n]
```

## Use instead
```python
no_decay = [p for n, p in model.named_parameters() if "bias" in n or "norm" in n]
decay = [p for n, p in model.named_parameters() if not ("bias" in n or "norm" in n)]
```

## Fix safety
No fix is offered: which group a parameter belongs to is for the author to decide.
"""
    examples = (
        Example(
            name="weight-decay-split-selects-norm-weights-twice",
            code="""import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 8)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.norm(self.proj(x)))


def param_groups(model, wd):
    decay = [p for n, p in model.named_parameters() if "weight" in n]
    no_decay = [p for n, p in model.named_parameters() if n.endswith(".bias") or "norm" in n]
    return [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]


def main():
    model = Net()
    optimizer = torch.optim.AdamW(param_groups(model, 0.05), lr=1e-3)
    model(torch.randn(3, 4)).sum().backward()
    optimizer.step()
    return {"model": model}
""",
            expect={"error": "some parameters appear in more than one parameter group"},
            lines=(18,),
            fixable=False,
        ),
        Example(
            bad=False,
            name="weight-decay-split-by-complementary-filters",
            code="""import torch
import torch.nn as nn

NO_DECAY = ("bias", "norm")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 8)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.norm(self.proj(x)))


def main():
    model = Net()
    decay = [p for n, p in model.named_parameters() if not any(k in n for k in NO_DECAY)]
    no_decay = [p for n, p in model.named_parameters() if any(k in n for k in NO_DECAY)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)
    before = model.head.weight.detach().clone()
    model(torch.randn(3, 4)).sum().backward()
    optimizer.step()
    return {"model": model}, {"changed": not torch.equal(before, model.head.weight)}
""",
            expect={"facts": {"changed": True}, "grad_ok": ["model.head.weight", "model.norm.weight"]},
        ),
    )

    def check(self, facts):
        # the calls the test below keeps: the optimizer constructions (found from the statements whose lines can spell
        # one) and those in decorators (above their statement's lines); not in ``ast.walk`` order
        ctors = {id(n): n for n in (*facts.optimizer_constructions, *facts.decorator_calls) if is_optimizer_ctor(facts.imports.qualname(n.func) or "")}
        if not ctors:
            return
        consts = module_constants(facts.tree)
        # one construction needs no order; several are taken in ``ast.walk`` order (which one a finding that two of
        # them report at the same place keeps depends on it)
        for call in list(ctors.values()) if len(ctors) == 1 else facts.walk(ast.Call):
            if not is_optimizer_ctor(facts.imports.qualname(call.func) or ""):
                continue
            given = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "params"), None)
            found = _groups(facts, given, facts.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)) or facts.tree)
            if found is None:
                continue
            scope, comps = found
            receivers = {facts.text(c.generators[0].iter.func.value) for c in comps}
            if len(comps) < 2 or len(receivers) != 1:
                continue
            cls = model_class(facts, comps[0].generators[0].iter.func.value, scope)
            if cls is None:
                continue
            names = parameter_names(facts.modules, facts.imports, cls)
            if not names:
                continue
            picked: list = []
            for comp in comps:
                var = comp.generators[0].target.elts[0].id
                try:
                    chosen = {n for n in names if all(truth(evaluate_name_test(c, var, n, consts)) for c in comp.generators[0].ifs)}
                except Unknown:
                    chosen = None
                picked.append(chosen)
            for j in range(1, len(comps)):
                if picked[j] is None:
                    continue
                both = next((sorted(picked[i] & picked[j]) for i in range(j) if picked[i] is not None and picked[i] & picked[j]), None)
                if not both:
                    continue
                first = next(i for i in range(j) if picked[i] is not None and picked[i] & picked[j])
                shown = ", ".join(f"`{n}`" for n in both[:3]) + (f" and {len(both) - 3} more" if len(both) > 3 else "")
                yield self.finding(
                    facts,
                    comps[j],
                    f"this group's filter selects {shown}, which an earlier group of the same optimizer also selects (line "
                    f"{comps[first].lineno}): building the optimizer raises `ValueError: some parameters appear in more than one parameter group`",
                    related=[(comps[first], "the earlier group selects them too"), (call, "the optimizer built from both groups")],
                    explanation="`torch.optim` accepts each parameter in one group only. Make the filters complements (select the "
                    "second group with `not` of the first's test), or build one group from the parameters the other does not hold.",
                )
                break


def _groups(facts, given: Optional[ast.AST], scope: ast.AST) -> Optional[tuple]:
    """``(scope, [comprehension of each group's params])`` for a list of group dicts given to an optimizer: the list
    itself, or what the in-file helper it calls returns (a list literal); None when not of that shape."""
    if isinstance(given, ast.Call) and isinstance(given.func, ast.Name) and isinstance(facts.flow.functions.get(given.func.id), (ast.FunctionDef, ast.AsyncFunctionDef)):
        fn = facts.flow.functions[given.func.id]
        rets = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
        if len(rets) != 1 or rets[0].value is None:
            return None
        given, scope = rets[0].value, fn
    if isinstance(given, ast.Name):
        given = single_binding(scope, given.id)
    if not isinstance(given, ast.List) or len(given.elts) < 2:
        return None
    comps = []
    for g in given.elts:
        if not isinstance(g, ast.Dict):
            return None
        params: Optional[ast.AST] = next((v for k, v in zip(g.keys, g.values) if isinstance(k, ast.Constant) and k.value == "params"), None)
        if isinstance(params, ast.Name):
            params = single_binding(scope, params.id)
        if not _name_filtered(params):
            return None
        comps.append(params)
    return scope, comps


def _name_filtered(node) -> bool:
    """``[p for n, p in X.named_parameters() if <test>]``."""
    if not isinstance(node, (ast.ListComp, ast.GeneratorExp)) or len(node.generators) != 1:
        return False
    gen = node.generators[0]
    it, tgt = gen.iter, gen.target
    return (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "named_parameters" and not it.args and not it.keywords
            and isinstance(tgt, ast.Tuple) and len(tgt.elts) == 2 and all(isinstance(e, ast.Name) for e in tgt.elts)
            and isinstance(node.elt, ast.Name) and node.elt.id == getattr(tgt.elts[1], "id", None) and bool(gen.ifs) and not gen.is_async)
